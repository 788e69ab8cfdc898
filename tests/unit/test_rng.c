/* Unit tests of common/rng.c: random bytes and jitter bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rng.h"

static void
test_hex(void **state)
{
	struct rng *r = rng_new("test_rng");
	char a[33], b[33];

	(void)state;
	assert_non_null(r);
	assert_int_equal(rng_hex(r, a, 16), 0);
	assert_int_equal(rng_hex(r, b, 16), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
	rng_free(r);
	rng_free(NULL);
}

static void
test_jitter_bounds(void **state)
{
	static const long ms[] = { 1, 4, 5, 500, 1000, 30000, 3600000 };
	struct rng *r = rng_new("test_rng");

	(void)state;
	assert_non_null(r);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		long lo = ms[i] * 3 / 4, min = -1, max = -1;

		for (int k = 0; k < 10000; k++) {
			long j = rng_jitter(r, ms[i]);

			assert_true(j >= lo);
			assert_true(j * 4 < ms[i] * 5);
			if (min < 0 || j < min)
				min = j;
			if (j > max)
				max = j;
		}
		/* Spread over the range, not stuck at one end: a draw
		 * lands in each end's tenth of it with p = 0.1, so missing
		 * one in 10000 draws does not happen. */
		if (ms[i] >= 1000) {
			assert_true(min < ms[i] * 4 / 5);
			assert_true(max > ms[i] * 6 / 5);
		}
	}
	assert_int_equal(rng_jitter(r, 0), 0);
	rng_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_jitter_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
