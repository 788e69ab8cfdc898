/*
 * Tests of node/mesh/decompress.c: messages compressed with zlib as gRPC
 * does (gzip, deflate) inflate intact up to the bound and not a byte past
 * it; cut, trailing, mislabelled and garbage input are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "decompress.h"

/* Compresses len bytes of in as gzip (or zlib "deflate"); caller frees. */
static uint8_t *
squeeze(const uint8_t *in, size_t len, int gzip, size_t *outlen)
{
	z_stream zs;
	uint8_t *out;
	size_t cap = compressBound((uLong)len) + 64;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, gzip ? 31 : 15, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	out = malloc(cap);
	assert_non_null(out);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

static void
expect_refused(enum decompress_format fmt, const uint8_t *in, size_t len,
    size_t max, const char *why)
{
	uint8_t *out = (void *)1;
	size_t outlen = 1;
	char err[128] = "";

	assert_int_equal(decompress_message(fmt, in, len, max, &out, &outlen,
	    err, sizeof(err)), -1);
	assert_null(out);
	assert_int_equal(outlen, 0);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, why);
}

static void
test_roundtrip_both_formats(void **state)
{
	static uint8_t text[100000];
	uint8_t *z, *out;
	size_t zlen, outlen;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 7 + i / 300);
	for (int gzip = 0; gzip <= 1; gzip++) {
		enum decompress_format fmt = gzip ? DECOMPRESS_GZIP :
		    DECOMPRESS_DEFLATE;

		z = squeeze(text, sizeof(text), gzip, &zlen);
		assert_int_equal(decompress_message(fmt, z, zlen, sizeof(text),
		    &out, &outlen, err, sizeof(err)), 0);
		assert_int_equal(outlen, sizeof(text));
		assert_memory_equal(out, text, outlen);
		free(out);
		/* One byte under the size: refused. */
		expect_refused(fmt, z, zlen, sizeof(text) - 1, "inflates to over");
		/* The other format's header. */
		expect_refused(gzip ? DECOMPRESS_DEFLATE : DECOMPRESS_GZIP, z,
		    zlen, sizeof(text), "not a valid");
		/* Cut short, and with a byte after its end. */
		expect_refused(fmt, z, zlen - 3, sizeof(text), "");
		z = realloc(z, zlen + 1);
		assert_non_null(z);
		z[zlen] = 0;
		expect_refused(fmt, z, zlen + 1, sizeof(text), "after");
		free(z);
	}
}

static void
test_empty_and_garbage(void **state)
{
	static const uint8_t garbage[] = "this is not compressed at all";
	uint8_t *z, *out;
	size_t zlen, outlen;
	char err[128];

	(void)state;
	z = squeeze(NULL, 0, 1, &zlen);
	assert_int_equal(decompress_message(DECOMPRESS_GZIP, z, zlen, 0, &out,
	    &outlen, err, sizeof(err)), 0);
	assert_non_null(out);
	assert_int_equal(outlen, 0);
	free(out);
	free(z);
	expect_refused(DECOMPRESS_GZIP, garbage, sizeof(garbage), 1000,
	    "not a valid gzip");
	expect_refused(DECOMPRESS_DEFLATE, garbage, 0, 1000, "cut short");
}

/* 64 MiB of zeros (64 KiB compressed) against a 1 MiB bound. */
static void
test_bomb_stops_at_bound(void **state)
{
	size_t len = 64u * 1024 * 1024, zlen;
	uint8_t *zeros = calloc(1, len), *z;

	(void)state;
	assert_non_null(zeros);
	z = squeeze(zeros, len, 1, &zlen);
	free(zeros);
	assert_true(zlen < len / 500);
	expect_refused(DECOMPRESS_GZIP, z, zlen, 1024 * 1024,
	    "inflates to over 1048576 bytes");
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_both_formats),
		cmocka_unit_test(test_empty_and_garbage),
		cmocka_unit_test(test_bomb_stops_at_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
