/*
 * Unit tests of node/work/workflow_state.c: every state's name round
 * trips, and the allowed moves are exactly the header's tables (each
 * table written out again here as pairs, every other pair refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "workflow_state.h"

static void
test_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < WF_NSTATES; s++)
		assert_int_equal(workflow_state_parse(workflow_state_name(
		    (enum workflow_state)s)), s);
	for (int s = 0; s < WFS_NSTATES; s++)
		assert_int_equal(workflow_step_state_parse(
		    workflow_step_state_name((enum workflow_step_state)s)), s);
	assert_string_equal(workflow_state_name(WF_BUDGET_EXCEEDED),
	    "budget-exceeded");
	assert_string_equal(workflow_step_state_name(WFS_WAITING_APPROVAL),
	    "waiting-approval");
	assert_null(workflow_state_name(WF_NSTATES));
	assert_null(workflow_step_state_name((enum workflow_step_state)-1));
	assert_int_equal(workflow_state_parse("Running"), -1);
	assert_int_equal(workflow_state_parse(""), -1);
	assert_int_equal(workflow_state_parse(NULL), -1);
	assert_int_equal(workflow_step_state_parse("budget-exceeded"), -1);
}

static int
listed(const int (*pairs)[2], size_t n, int from, int to)
{
	for (size_t i = 0; i < n; i++)
		if (pairs[i][0] == from && pairs[i][1] == to)
			return 1;
	return 0;
}

static void
test_workflow_moves_are_the_table(void **state)
{
	static const int ok[][2] = {
		{ WF_PENDING, WF_RUNNING }, { WF_PENDING, WF_CANCELLED },
		{ WF_RUNNING, WF_PAUSED }, { WF_RUNNING, WF_SUCCEEDED },
		{ WF_RUNNING, WF_FAILED }, { WF_RUNNING, WF_CANCELLED },
		{ WF_RUNNING, WF_BUDGET_EXCEEDED },
		{ WF_PAUSED, WF_RUNNING }, { WF_PAUSED, WF_SUCCEEDED },
		{ WF_PAUSED, WF_FAILED }, { WF_PAUSED, WF_CANCELLED },
		{ WF_PAUSED, WF_BUDGET_EXCEEDED },
		{ WF_FAILED, WF_RUNNING }, { WF_CANCELLED, WF_RUNNING },
		{ WF_BUDGET_EXCEEDED, WF_RUNNING },
	};
	size_t n = sizeof(ok) / sizeof(ok[0]);

	(void)state;
	for (int f = -1; f <= WF_NSTATES; f++)
		for (int t = -1; t <= WF_NSTATES; t++)
			assert_int_equal(workflow_state_may((enum workflow_state)f,
			    (enum workflow_state)t), listed(ok, n, f, t));
	assert_true(workflow_state_done(WF_SUCCEEDED));
	assert_true(workflow_state_done(WF_BUDGET_EXCEEDED));
	assert_false(workflow_state_done(WF_PAUSED));
	assert_false(workflow_state_done(WF_PENDING));
}

static void
test_step_moves_are_the_table(void **state)
{
	static const int ok[][2] = {
		{ WFS_PENDING, WFS_RUNNING }, { WFS_PENDING, WFS_WAITING_APPROVAL },
		{ WFS_PENDING, WFS_FAILED },
		{ WFS_PENDING, WFS_SKIPPED }, { WFS_PENDING, WFS_CANCELLED },
		{ WFS_RUNNING, WFS_SUCCEEDED }, { WFS_RUNNING, WFS_RETRYING },
		{ WFS_RUNNING, WFS_FAILED }, { WFS_RUNNING, WFS_CANCELLED },
		{ WFS_RETRYING, WFS_RUNNING }, { WFS_RETRYING, WFS_FAILED },
		{ WFS_RETRYING, WFS_CANCELLED },
		{ WFS_WAITING_APPROVAL, WFS_SUCCEEDED },
		{ WFS_WAITING_APPROVAL, WFS_FAILED },
		{ WFS_WAITING_APPROVAL, WFS_CANCELLED },
		{ WFS_FAILED, WFS_PENDING }, { WFS_CANCELLED, WFS_PENDING },
		{ WFS_SKIPPED, WFS_PENDING },
	};
	size_t n = sizeof(ok) / sizeof(ok[0]);

	(void)state;
	for (int f = -1; f <= WFS_NSTATES; f++)
		for (int t = -1; t <= WFS_NSTATES; t++)
			assert_int_equal(workflow_step_state_may(
			    (enum workflow_step_state)f,
			    (enum workflow_step_state)t), listed(ok, n, f, t));
	/* A succeeded step is kept by a retry: it never moves. */
	for (int t = 0; t < WFS_NSTATES; t++)
		assert_false(workflow_step_state_may(WFS_SUCCEEDED,
		    (enum workflow_step_state)t));
	assert_true(workflow_step_state_done(WFS_SKIPPED));
	assert_false(workflow_step_state_done(WFS_RETRYING));
	assert_false(workflow_step_state_done(WFS_WAITING_APPROVAL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_workflow_moves_are_the_table),
		cmocka_unit_test(test_step_moves_are_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
