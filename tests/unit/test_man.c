/*
 * Tests of common/man.c: text reaches roff as written (backslashes,
 * hyphens, a line that would be a request), and a page's NAME line is
 * the summary's first clause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "man.h"

static void
test_text(void **state)
{
	char buf[256] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	man_puts(f, "--data-dir C:\\x\n.TH no\n'also no");
	man_text(f, "-abc", 2);
	fclose(f);
	assert_string_equal(buf, "\\-\\-data\\-dir C:\\ex\n\\&.TH no\n"
	    "\\&'also no\\-a");
}

static void
test_head(void **state)
{
	char buf[256] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	man_head(f, "agentflow-signal", "The rendezvous: nodes register.  More.");
	fclose(f);
	assert_string_equal(buf, ".TH \"AGENTFLOW-SIGNAL\" 1 \"\" \"agentflow "
	    AGENTFLOW_VERSION "\" \"AgentFlow\"\n.SH NAME\n"
	    "agentflow\\-signal \\- The rendezvous\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_head),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
