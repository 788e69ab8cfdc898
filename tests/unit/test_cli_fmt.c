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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_for_people),
		cmocka_unit_test(test_duration_cut_to_the_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
