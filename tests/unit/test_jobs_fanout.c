/*
 * Unit tests of the pure parts of fanned-out jobs: the summary of a
 * parent's children (common/fanout_summary.c: the parent's state, its
 * reason and the CLI's exit status, with their precedence) and what
 * jobs_spec_parse keeps of "to": "all" and "to": "KEY=VALUE,...".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "fanout_summary.h"
#include "jobs_spec.h"

/* The summary of children in the given states (NULL-terminated). */
static struct fanout_summary
summary(const char *const *states)
{
	struct fanout_summary s = { 0 };

	for (; *states != NULL; states++)
		fanout_summary_add(&s, **states == '\0' ? NULL : *states);
	return s;
}

static void
test_all_succeeded(void **state)
{
	const char *const st[] = { "succeeded", "succeeded", "succeeded", NULL };
	struct fanout_summary s = summary(st);
	char reason[128];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "succeeded");
	assert_string_equal(reason, "");
	assert_int_equal(fanout_summary_exit(&s), 0);
}

static void
test_open_child_keeps_it_running(void **state)
{
	/* "" stands for a child with no state yet (just submitted). */
	const char *const st[] = { "succeeded", "failed", "running", NULL };
	const char *const fresh[] = { "", "succeeded", NULL };
	const char *const odd[] = { "succeeded", "weird", NULL };
	struct fanout_summary s = summary(st);
	char reason[128];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "running");
	assert_int_equal(fanout_summary_exit(&s), -1);
	s = summary(fresh);
	assert_string_equal(fanout_summary_state(&s, NULL, 0), "running");
	/* An unknown state is not taken for an end. */
	s = summary(odd);
	assert_string_equal(fanout_summary_state(&s, NULL, 0), "running");
}

static void
test_reason_counts_the_children(void **state)
{
	const char *const st[] = { "succeeded", "failed", "lost", "failed",
	    "succeeded", NULL };
	const char *const lost[] = { "succeeded", "lost", NULL };
	const char *const mixed[] = { "cancelled", "expired", "succeeded", NULL };
	struct fanout_summary s = summary(st);
	char reason[128], tiny[8];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "failed");
	assert_string_equal(reason, "2 of 5 failed, 1 lost");
	s = summary(lost);
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "failed");
	assert_string_equal(reason, "1 of 2 lost");
	s = summary(mixed);
	fanout_summary_state(&s, reason, sizeof(reason));
	assert_string_equal(reason, "1 of 3 cancelled, 1 expired");
	/* A short buffer: cut, still terminated. */
	fanout_summary_state(&s, tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
}

static void
test_exit_precedence(void **state)
{
	/* A failure beats a timeout; a cancel counts as a failure. */
	const char *const fail_and_lost[] = { "failed", "lost", NULL };
	const char *const expired[] = { "succeeded", "expired", NULL };
	const char *const lost[] = { "lost", NULL };
	const char *const cancelled[] = { "cancelled", "expired", NULL };
	struct fanout_summary s;

	(void)state;
	s = summary(fail_and_lost);
	assert_int_equal(fanout_summary_exit(&s), 1);
	s = summary(expired);
	assert_int_equal(fanout_summary_exit(&s), FANOUT_EXIT_EXPIRED);
	s = summary(lost);
	assert_int_equal(fanout_summary_exit(&s), FANOUT_EXIT_EXPIRED);
	s = summary(cancelled);
	assert_int_equal(fanout_summary_exit(&s), 1);
}

static void
test_spec_keeps_the_placement(void **state)
{
	json_t *body, *j;
	char err[256];
	int st;

	(void)state;
	body = json_pack("{s:s, s:s}", "task", "t", "to", "all");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "fanout")));
	assert_null(json_object_get(j, "selector"));
	assert_null(json_object_get(j, "node"));
	assert_string_equal(json_string_value(json_object_get(j, "to")), "all");
	json_decref(j);
	json_decref(body);
	body = json_pack("{s:s, s:s}", "task", "t", "to", "role=db,zone=a");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "fanout")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "selector"), "zone")), "a");
	json_decref(j);
	json_decref(body);
	/* "any:" is still one node, never a fan-out. */
	body = json_pack("{s:s, s:s}", "task", "t", "to", "any:role=db");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_null(json_object_get(j, "fanout"));
	json_decref(j);
	json_decref(body);
	body = json_pack("{s:s, s:s}", "task", "t", "to", "role=db,=x");
	assert_null(jobs_spec_parse(body, &st, err, sizeof(err)));
	assert_int_equal(st, 400);
	assert_non_null(strstr(err, "selector"));
	json_decref(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_succeeded),
		cmocka_unit_test(test_open_child_keeps_it_running),
		cmocka_unit_test(test_reason_counts_the_children),
		cmocka_unit_test(test_exit_precedence),
		cmocka_unit_test(test_spec_keeps_the_placement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
