/*
 * Tests of common/cmd_table.c: the row named by argv[1] runs with its own
 * entry and argv shifted by one, getopt starts afresh for it, help lists
 * every row between the table's head and tail, and a missing or unknown
 * command is a usage error (2); __man runs no row.
 */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_table.h"

static const struct cmd_entry *ran;
static int ran_argc;
static char *ran_arg0;

static int
record(const struct cmd_entry *e, int argc, char **argv)
{
	ran = e;
	ran_argc = argc;
	ran_arg0 = argv[0];
	return 7;
}

/* Parses -x with getopt, as a row's exec would. */
static int
with_flag(const struct cmd_entry *e, int argc, char **argv)
{
	int c, n = 0;

	(void)e;
	while ((c = getopt(argc, argv, "x")) != -1)
		n += c == 'x';
	return n;
}

static const struct cmd_entry entries[] = {
	{ "one", "A", 1, 1, NULL, record, "the first", NULL },
	{ "two", NULL, 0, -1, NULL, record, "the second", "data" },
	{ "flag", NULL, 0, 0, NULL, with_flag, "counts -x", NULL },
};

static const struct cmd_table table = {
	"tool", "HEAD\n", "TAIL\n", entries,
	sizeof(entries) / sizeof(entries[0]),
};

static void
test_dispatch(void **state)
{
	char *argv[] = { "tool", "two", "z", NULL };

	(void)state;
	ran = NULL;
	assert_int_equal(cmd_table_main(&table, 3, argv), 7);
	assert_ptr_equal(ran, &entries[1]);
	assert_int_equal(ran_argc, 2);
	assert_string_equal(ran_arg0, "two");
	assert_string_equal(ran->data, "data");
}

static void
test_getopt_reset(void **state)
{
	char *a1[] = { "tool", "flag", "-x", "-x", NULL };
	char *a2[] = { "tool", "flag", "-x", NULL };

	(void)state;
	assert_int_equal(cmd_table_main(&table, 4, a1), 2);
	/* A second run in the same process starts over. */
	assert_int_equal(cmd_table_main(&table, 3, a2), 1);
}

static void
test_usage(void **state)
{
	char buf[512] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	cmd_table_usage(&table, f);
	fclose(f);
	assert_string_equal(buf, "HEAD\n  one      the first\n"
	    "  two      the second\n  flag     counts -x\nTAIL\n");
}

static void
test_usage_errors(void **state)
{
	char *none[] = { "tool", NULL };
	char *bad[] = { "tool", "three", NULL };
	char *help[] = { "tool", "help", NULL };
	char *dash[] = { "tool", "-h", NULL };

	(void)state;
	ran = NULL;
	assert_int_equal(cmd_table_main(&table, 1, none), CMD_TABLE_EXIT_USAGE);
	assert_int_equal(cmd_table_main(&table, 2, bad), CMD_TABLE_EXIT_USAGE);
	assert_int_equal(cmd_table_main(&table, 2, help), 0);
	assert_int_equal(cmd_table_main(&table, 2, dash), 0);
	assert_null(ran);
}

/* __man prints the rows for a manual page and runs none of them. */
static void
test_man(void **state)
{
	char *man[] = { "tool", "__man", NULL };

	(void)state;
	ran = NULL;
	assert_int_equal(cmd_table_main(&table, 2, man), 0);
	assert_null(ran);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_getopt_reset),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_man),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
