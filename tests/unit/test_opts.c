/* Unit tests of common/opts.c: precedence, types, bounds, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

struct cfg {
	const char	*name;
	long		 count;
	int		 flag;
};

static const struct opt table[] = {
	{ "name", OPT_STRING, offsetof(struct cfg, name), "dflt", 0, 0, "a name" },
	{ "count", OPT_INT, offsetof(struct cfg, count), "3", 1, 10, "a count" },
	{ "flag", OPT_BOOL, offsetof(struct cfg, flag), "0", 0, 1, "a flag" },
};

static enum opts_result
parse(struct cfg *c, int argc, char **argv, char *err)
{
	memset(c, 0, sizeof(*c));
	return opts_parse(table, 3, c, argc, argv, "usage", NULL, err, 256);
}

static void
test_defaults_env_flags_precedence(void **state)
{
	struct cfg c;
	char err[256];
	char *argv0[] = { "prog", NULL };
	char *argv1[] = { "prog", "--count", "7", "--flag", NULL };

	(void)state;
	unsetenv("AGENTFLOW_NAME");
	unsetenv("AGENTFLOW_COUNT");
	assert_int_equal(parse(&c, 1, argv0, err), OPTS_OK);
	assert_string_equal(c.name, "dflt");
	assert_int_equal(c.count, 3);
	assert_int_equal(c.flag, 0);

	setenv("AGENTFLOW_NAME", "fromenv", 1);
	setenv("AGENTFLOW_COUNT", "5", 1);
	assert_int_equal(parse(&c, 4, argv1, err), OPTS_OK);
	assert_string_equal(c.name, "fromenv");
	assert_int_equal(c.count, 7);		/* flag beats env */
	assert_int_equal(c.flag, 1);
	unsetenv("AGENTFLOW_NAME");
	unsetenv("AGENTFLOW_COUNT");
}

static void
test_errors_name_the_option(void **state)
{
	struct cfg c;
	char err[256];
	char *range[] = { "prog", "--count=11", NULL };
	char *notint[] = { "prog", "--count", "x1", NULL };
	char *unknown[] = { "prog", "--bogus", NULL };
	char *extra[] = { "prog", "stray", NULL };

	(void)state;
	assert_int_equal(parse(&c, 2, range, err), OPTS_ERROR);
	assert_non_null(strstr(err, "--count"));
	assert_non_null(strstr(err, "outside [1, 10]"));
	assert_int_equal(parse(&c, 3, notint, err), OPTS_ERROR);
	assert_non_null(strstr(err, "not an integer"));
	assert_int_equal(parse(&c, 2, unknown, err), OPTS_ERROR);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(parse(&c, 2, extra, err), OPTS_ERROR);
	assert_non_null(strstr(err, "stray"));

	setenv("AGENTFLOW_FLAG", "maybe", 1);
	char *argv0[] = { "prog", NULL };
	assert_int_equal(parse(&c, 1, argv0, err), OPTS_ERROR);
	assert_non_null(strstr(err, "AGENTFLOW_FLAG"));
	unsetenv("AGENTFLOW_FLAG");
}

/* Durations: seconds bare or with a unit, bounded, anything else refused
 * with the option named. */
static void
test_durations(void **state)
{
	static const struct opt dur = { "prune-after", OPT_DURATION, 0, "7d", 0,
	    315360000, "a duration" };
	static const struct { const char *in; long want; } ok[] = {
		{ "0", 0 }, { "90", 90 }, { "90s", 90 }, { "15m", 900 },
		{ "12h", 43200 }, { "7d", 604800 }, { "2w", 1209600 },
		{ "3650d", 315360000 },
	};
	static const char *const bad[] = {
		"", "d", "-1", "+5", " 5", "5x", "5 d", "5dd", "1.5h", "3651d",
		"99999999999999999999", "9223372036854775807w",
	};
	long v;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(opts_set(&dur, &v, ok[i].in, "--prune-after", err,
		    sizeof(err)), 0);
		assert_int_equal(v, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		assert_int_equal(opts_set(&dur, &v, bad[i], "--prune-after", err,
		    sizeof(err)), -1);
		assert_int_equal(v, -1);
		assert_non_null(strstr(err, "--prune-after"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_env_flags_precedence),
		cmocka_unit_test(test_errors_name_the_option),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
