/*
 * The quiet reads' audit rate (node/work/audit_rate.c): a row per key an
 * hour, keys apart by principal, origin, type and action, and a bounded
 * table that forgets the key written longest ago.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "audit_rate.h"

#define HOUR	AUDIT_RATE_WINDOW_MS
#define T0	1000000ULL

/* The row of a history_query (type 14) from n1 executed here. */
static int
executed(struct audit_rate *r, const char *who, uint64_t now_ms)
{
	return audit_rate_admit(r, who, "n1", 14, "command.executed", now_ms);
}

static void
test_once_an_hour_per_key(void **state)
{
	struct audit_rate *r = audit_rate_new(AUDIT_RATE_KEYS, HOUR);

	(void)state;
	assert_int_equal(executed(r, "alice", T0), 1);
	/* a minute later, and the last millisecond of the hour: not again */
	assert_int_equal(executed(r, "alice", T0 + 60000), 0);
	assert_int_equal(executed(r, "alice", T0 + HOUR - 1), 0);
	/* another principal, origin, type or action is a key of its own */
	assert_int_equal(executed(r, "bob", T0 + 1), 1);
	assert_int_equal(audit_rate_admit(r, "alice", "n2", 14,
	    "command.executed", T0 + 1), 1);
	assert_int_equal(audit_rate_admit(r, "alice", "n1", 13,
	    "command.executed", T0 + 1), 1);
	assert_int_equal(audit_rate_admit(r, "alice", "n1", 14,
	    "command.issued", T0 + 1), 1);
	/* NULL reads as empty */
	assert_int_equal(audit_rate_admit(r, NULL, NULL, 14, NULL, T0), 1);
	assert_int_equal(audit_rate_admit(r, "", "", 14, "", T0 + 5), 0);
	/* an hour on: written again, and the hour starts from then */
	assert_int_equal(executed(r, "alice", T0 + HOUR), 1);
	assert_int_equal(executed(r, "alice", T0 + HOUR + 60000), 0);
	/* a clock before the row's time (cannot be for a monotonic one):
	 * written rather than lost */
	assert_int_equal(executed(r, "alice", T0), 1);
	audit_rate_free(r);
}

static void
test_bounded_the_oldest_makes_room(void **state)
{
	struct audit_rate *r = audit_rate_new(AUDIT_RATE_KEYS, HOUR);
	char who[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(who, sizeof(who), "p%d", i);
		assert_int_equal(executed(r, who, T0 + (uint64_t)i), 1);
		assert_true(audit_rate_count(r) <= AUDIT_RATE_KEYS);
	}
	assert_int_equal(audit_rate_count(r), AUDIT_RATE_KEYS);
	/* the newest 256 are held; p0, written longest ago, was forgotten */
	assert_int_equal(executed(r, "p999", T0 + 2000), 0);
	assert_int_equal(executed(r, "p744", T0 + 2000), 0);
	assert_int_equal(executed(r, "p0", T0 + 2000), 1);
	/* p0 took the room of the oldest then held, p744 */
	assert_int_equal(executed(r, "p745", T0 + 2001), 0);
	assert_int_equal(executed(r, "p744", T0 + 2002), 1);
	assert_int_equal(audit_rate_count(r), AUDIT_RATE_KEYS);
	audit_rate_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_an_hour_per_key),
		cmocka_unit_test(test_bounded_the_oldest_makes_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
