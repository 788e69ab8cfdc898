/*
 * Unit tests of node/work/cron.c: fields, lists, ranges, steps and names;
 * Vixie's day-of-month/day-of-week rule; the macros and @every; errors
 * that name their field; next fire times in a zone across both DST
 * changes (a time that does not exist is skipped, one that happens twice
 * fires once).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

/* Unix ms of a UTC date-time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi };

	return (int64_t)timegm(&tm) * 1000;
}

static int64_t
next(const char *expr, const char *tz, int64_t after)
{
	char err[256] = "";
	struct cron *c = cron_parse(expr, tz, err, sizeof(err));
	int64_t t;

	if (c == NULL)
		fail_msg("%s: %s", expr, err);
	t = cron_next(c, after);
	cron_free(c);
	return t;
}

/* The error cron_parse gives (expects one). */
static void
refused(const char *expr, const char *tz, const char *what)
{
	char err[256] = "";
	struct cron *c = cron_parse(expr, tz, err, sizeof(err));

	if (c != NULL)
		fail_msg("\"%s\" was taken", expr);
	if (strstr(err, what) == NULL)
		fail_msg("\"%s\": \"%s\" does not say \"%s\"", expr, err, what);
}

static void
test_fields(void **state)
{
	int64_t t = utc(2026, 3, 4, 10, 7);	/* a Wednesday */

	(void)state;
	assert_int_equal(next("* * * * *", NULL, t), t + 60000);
	assert_int_equal(next("*/15 * * * *", NULL, t), utc(2026, 3, 4, 10, 15));
	assert_int_equal(next("5,40 * * * *", "UTC", t), utc(2026, 3, 4, 10, 40));
	assert_int_equal(next("0 9-17/4 * * *", NULL, t), utc(2026, 3, 4, 13, 0));
	assert_int_equal(next("0 2 * * *", NULL, t), utc(2026, 3, 5, 2, 0));
	assert_int_equal(next("0 0 1 jan *", NULL, t), utc(2027, 1, 1, 0, 0));
	assert_int_equal(next("0 0 * * sat", NULL, t), utc(2026, 3, 7, 0, 0));
	assert_int_equal(next("0 0 * * 7", NULL, t), utc(2026, 3, 8, 0, 0));
	assert_int_equal(next("0 0 * * MON-FRI", NULL, t), utc(2026, 3, 5, 0, 0));
	assert_int_equal(next("30 1 29 feb *", NULL, t), utc(2028, 2, 29, 1, 30));
	/* Strictly after: a fire time is not its own next. */
	assert_int_equal(next("0 2 * * *", NULL, utc(2026, 3, 5, 2, 0)),
	    utc(2026, 3, 6, 2, 0));
	assert_int_equal(next("0 0 30 2 *", NULL, t), -1);
}

static void
test_vixie_or(void **state)
{
	int64_t t = utc(2026, 3, 4, 10, 7);

	(void)state;
	/* Both restricted: the 13th OR a Friday (6 March is a Friday). */
	assert_int_equal(next("0 0 13 * fri", NULL, t), utc(2026, 3, 6, 0, 0));
	/* One starts with '*': both must match (a Friday, any day). */
	assert_int_equal(next("0 0 * * fri", NULL, t), utc(2026, 3, 6, 0, 0));
	assert_int_equal(next("0 0 13 * *", NULL, t), utc(2026, 3, 13, 0, 0));
	/* "*\/2" starts with '*': the 13th AND an even weekday (a
	 * Saturday, 13 June). */
	assert_int_equal(next("0 0 13 * */2", NULL, t), utc(2026, 6, 13, 0, 0));
}

static void
test_macros(void **state)
{
	int64_t t = utc(2026, 3, 4, 10, 7);

	(void)state;
	assert_int_equal(next("@hourly", NULL, t), utc(2026, 3, 4, 11, 0));
	assert_int_equal(next("@daily", NULL, t), utc(2026, 3, 5, 0, 0));
	assert_int_equal(next("@weekly", NULL, t), utc(2026, 3, 8, 0, 0));
	assert_int_equal(next("@monthly", NULL, t), utc(2026, 4, 1, 0, 0));
	assert_int_equal(next("@yearly", NULL, t), utc(2027, 1, 1, 0, 0));
	assert_int_equal(next("@every 2s", NULL, 1001), 2000);
	assert_int_equal(next("@every 2s", NULL, 2000), 4000);
	assert_int_equal(next("@every 5m", "Europe/Berlin", t + 1),
	    t - 2 * 60000 + 5 * 60000);
}

static void
test_errors(void **state)
{
	(void)state;
	refused("61 * * * *", NULL, "minute");
	refused("* 24 * * *", NULL, "hour");
	refused("* * 0 * *", NULL, "day of month");
	refused("* * * 13 *", NULL, "month");
	refused("* * * foo *", NULL, "month");
	refused("* * * * 8", NULL, "day of week");
	refused("* * * * mon-", NULL, "day of week");
	refused("*/0 * * * *", NULL, "minute: step");
	refused("5-1 * * * *", NULL, "backwards");
	refused("* * * *", NULL, "4 fields");
	refused("* * * * * *", NULL, "6 fields");
	refused("@often", NULL, "unknown macro");
	refused("@every 0s", NULL, "@every");
	refused("@every soon", NULL, "@every");
	refused("", NULL, "cron");
	refused("* * * * *", "Mars/Olympus", "tz");
	refused("* * * * *", "../etc/passwd", "tz");
	assert_true(cron_tz_valid("UTC"));
	assert_true(cron_tz_valid("Europe/Berlin"));
	assert_false(cron_tz_valid("/etc/passwd"));
}

/* Europe/Berlin: CET (+1) to CEST (+2) at 02:00 local on 29 March 2026;
 * back at 03:00 local on 25 October 2026. */
static void
test_dst_spring(void **state)
{
	(void)state;
	/* 02:30 does not exist on 29 March: skipped, the next is 30 March. */
	assert_int_equal(next("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0)),
	    utc(2026, 3, 30, 0, 30));
	/* 01:30 CET is 00:30 UTC, 03:30 CEST is 01:30 UTC. */
	assert_int_equal(next("30 1 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0)),
	    utc(2026, 3, 29, 0, 30));
	assert_int_equal(next("30 3 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0)),
	    utc(2026, 3, 29, 1, 30));
	/* Hourly through the gap: 01:00 CET, then 03:00 CEST. */
	assert_int_equal(next("0 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 0)),
	    utc(2026, 3, 29, 1, 0));
}

static void
test_dst_autumn(void **state)
{
	int64_t first = utc(2026, 10, 25, 0, 30);	/* 02:30 CEST */

	(void)state;
	/* 02:30 happens twice on 25 October: it fires at the first. */
	assert_int_equal(next("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12, 0)),
	    first);
	/* ... and once: after it, the next is the 26th at 02:30 CET. */
	assert_int_equal(next("30 2 * * *", "Europe/Berlin", first),
	    utc(2026, 10, 26, 1, 30));
	/* Even from between the two occurrences. */
	assert_int_equal(next("30 2 * * *", "Europe/Berlin", first + 30 * 60000),
	    utc(2026, 10, 26, 1, 30));
	/* New York: 01:30 twice on 1 November 2026 (EDT -4, then EST -5). */
	assert_int_equal(next("30 1 * * *", "America/New_York",
	    utc(2026, 10, 31, 12, 0)), utc(2026, 11, 1, 5, 30));
	/* The zone is put back: UTC answers stay UTC. */
	assert_int_equal(next("0 2 * * *", NULL, utc(2026, 10, 24, 12, 0)),
	    utc(2026, 10, 25, 2, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_vixie_or),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dst_spring),
		cmocka_unit_test(test_dst_autumn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
