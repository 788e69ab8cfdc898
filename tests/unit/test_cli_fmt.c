/*
 * Unit tests of cli/cli_fmt.c's duration, the uptime `agentflow nodes`
 * and `service ls` print: seconds under a minute, minutes under an hour,
 * then hours and minutes, then days and hours, and "-" for none; each
 * boundary on both sides, and the largest a node could report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "cli_fmt.h"

static void
test_duration_for_people(void **state)
{
	static const struct {
		long long	 s;
		const char	*want;
	} cases[] = {
		{ -1, "-" }, { LLONG_MIN, "-" },
		{ 0, "0s" }, { 1, "1s" }, { 59, "59s" },
		{ 60, "1m" }, { 61, "1m" }, { 3599, "59m" },
		{ 3600, "1h0m" }, { 11040, "3h4m" }, { 86399, "23h59m" },
		{ 86400, "1d0h" }, { 2 * 86400 + 3 * 3600 + 59, "2d3h" },
		{ 400LL * 86400 + 23 * 3600, "400d23h" },
		{ LLONG_MAX, "106751991167300d15h" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(cli_fmt_duration(cases[i].s, buf,
		    sizeof(buf)), cases[i].want);
}

/* A buffer too small is cut, never overrun, and still a string. */
static void
test_duration_cut_to_the_buffer(void **state)
{
	char buf[4];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(cli_fmt_duration(11040, buf, sizeof(buf)), "3h4");
}

static int
status_of(const char *doc)
{
	json_t *o = json_loads(doc, 0, NULL);
	int st;

	assert_non_null(o);
	st = cli_fmt_exit_status(o);
	json_decref(o);
	return st;
}

/* What run (on one node), wait and submit --wait exit with. */
static void
test_exit_status_of_a_final_job_or_task(void **state)
{
	(void)state;
	assert_int_equal(status_of("{\"state\": \"succeeded\", \"exit_code\": 0}"), 0);
	assert_int_equal(status_of("{\"state\": \"failed\", \"exit_code\": 3}"), 3);
	/* its own 124 stays its own */
	assert_int_equal(status_of("{\"state\": \"failed\", \"exit_code\": 124}"), 124);
	/* failed though it exited 0 (e.g. its health): still a failure */
	assert_int_equal(status_of("{\"state\": \"failed\", \"exit_code\": 0}"), 1);
	assert_int_equal(status_of("{\"state\": \"failed\"}"), 1);
	assert_int_equal(status_of("{\"state\": \"failed\", \"term_signal\": 9}"), 137);
	assert_int_equal(status_of("{\"state\": \"cancelled\", \"term_signal\": 15}"), 143);
	assert_int_equal(status_of("{\"state\": \"cancelled\"}"), 1);
	/* a signal number no signal has is no 128 + it */
	assert_int_equal(status_of("{\"state\": \"failed\", \"term_signal\": 200}"), 1);
	assert_int_equal(status_of("{\"state\": \"failed\", \"exit_code\": 300}"), 1);
	assert_int_equal(status_of("{\"state\": \"timed-out\"}"), CLI_EXIT_EXPIRED);
	assert_int_equal(status_of("{\"state\": \"expired\"}"), CLI_EXIT_EXPIRED);
	assert_int_equal(status_of("{\"state\": \"lost\"}"), CLI_EXIT_EXPIRED);
	assert_int_equal(status_of("{}"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_for_people),
		cmocka_unit_test(test_duration_cut_to_the_buffer),
		cmocka_unit_test(test_exit_status_of_a_final_job_or_task),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
