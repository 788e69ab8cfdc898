/* Unit tests of common/ratelimit.c: burst, refill, bounds, sweeping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

static void
test_burst_then_refused_then_refilled(void **state)
{
	struct ratelimit *rl = ratelimit_new(5, 5, 100);
	unsigned retry = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_take(rl, "10.0.0.1", 1000, NULL));
	assert_false(ratelimit_take(rl, "10.0.0.1", 1000, &retry));
	assert_int_equal(retry, 1);
	/* Another key has its own bucket. */
	assert_true(ratelimit_take(rl, "10.0.0.2", 1000, NULL));
	/* 200 ms at 5/s gives one token back. */
	assert_true(ratelimit_take(rl, "10.0.0.1", 1200, NULL));
	assert_false(ratelimit_take(rl, "10.0.0.1", 1200, NULL));
	ratelimit_free(rl);
}

static void
test_zero_rate_disables(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 1, 1);

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(rl, "k", 0, NULL));
	assert_int_equal(ratelimit_count(rl), 0);
	ratelimit_free(rl);
}

static void
test_table_is_bounded_and_swept(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 2, 2);

	(void)state;
	assert_true(ratelimit_take(rl, "a", 0, NULL));
	assert_true(ratelimit_take(rl, "b", 0, NULL));
	/* Full table, nobody idle: a third key is refused, memory stays put. */
	assert_false(ratelimit_take(rl, "c", 0, NULL));
	assert_int_equal(ratelimit_count(rl), 2);
	/* After a second both buckets are full again and get dropped. */
	assert_true(ratelimit_take(rl, "c", 1000, NULL));
	assert_int_equal(ratelimit_count(rl), 1);
	ratelimit_sweep(rl, 5000);
	assert_int_equal(ratelimit_count(rl), 0);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refused_then_refilled),
		cmocka_unit_test(test_zero_rate_disables),
		cmocka_unit_test(test_table_is_bounded_and_swept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
