/*
 * Bounded inflation of one received message (decompress.h), with zlib.
 * The output grows by doubling up to max + 1 bytes; reaching max + 1 means
 * the message is over the limit, whatever its remaining input holds.
 */
#include "decompress.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FIRST_CHUNK	4096

int
decompress_message(enum decompress_format fmt, const uint8_t *in, size_t len,
    size_t max, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	z_stream zs;
	uint8_t *buf = NULL, *nbuf;
	size_t cap = 0, have = 0, want;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (len > UINT_MAX || max >= SIZE_MAX / 2) {
		snprintf(err, errlen, "message too large to inflate");
		return -1;
	}
	memset(&zs, 0, sizeof(zs));
	/* 15: the largest window; +16: a gzip header and trailer. */
	if (inflateInit2(&zs, fmt == DECOMPRESS_GZIP ? 15 + 16 : 15) != Z_OK) {
		snprintf(err, errlen, "cannot start inflating");
		return -1;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	do {
		if (have == cap) {
			if (cap > max) {
				snprintf(err, errlen, "inflates to over %zu bytes",
				    max);
				goto fail;
			}
			want = cap == 0 ? FIRST_CHUNK : cap * 2;
			if (want > max + 1)
				want = max + 1;
			if (want > UINT_MAX)
				want = UINT_MAX;
			if ((nbuf = realloc(buf, want)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = nbuf;
			cap = want;
		}
		zs.next_out = buf + have;
		zs.avail_out = (uInt)(cap - have);
		rc = inflate(&zs, Z_NO_FLUSH);
		have = cap - zs.avail_out;
		if (rc == Z_STREAM_END)
			break;
		/* There was room for output: no progress means no input. */
		if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
			snprintf(err, errlen, "compressed message cut short");
			goto fail;
		}
		if (rc != Z_OK) {
			snprintf(err, errlen, "not a valid %s stream%s%s",
			    fmt == DECOMPRESS_GZIP ? "gzip" : "deflate",
			    zs.msg != NULL ? ": " : "", zs.msg != NULL ? zs.msg : "");
			goto fail;
		}
	} while (1);
	if (have > max) {
		snprintf(err, errlen, "inflates to over %zu bytes", max);
		goto fail;
	}
	if (zs.avail_in != 0) {
		snprintf(err, errlen, "%u bytes after the compressed stream",
		    zs.avail_in);
		goto fail;
	}
	inflateEnd(&zs);
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = buf;
	*outlen = have;
	return 0;
fail:
	inflateEnd(&zs);
	free(buf);
	return -1;
}
