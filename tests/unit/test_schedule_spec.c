/*
 * Unit tests of node/work/schedule_spec.c: a schedule's definition
 * checked whole (every error at once, each with its path: a bad cron, a
 * bad zone, an unknown task, a bad policy), defaults filled in, and a
 * definition too large to travel refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule_spec.h"

static json_t *
check(const char *text, json_t **errs)
{
	json_error_t e;
	json_t *def = json_loads(text, 0, &e), *tasks, *out;

	if (def == NULL)
		fail_msg("test JSON: %s: %s", e.text, text);
	tasks = json_pack("{s:{}, s:{}}", "backup", "marker");
	out = schedule_spec_check(def, tasks, errs);
	json_decref(def);
	json_decref(tasks);
	return out;
}

static int
has_error(const json_t *errs, const char *path, const char *what)
{
	size_t i;
	json_t *v;

	json_array_foreach(errs, i, v)
		if (strcmp(json_string_value(json_object_get(v, "path")), path) ==
		    0 && strstr(json_string_value(json_object_get(v, "error")),
		    what) != NULL)
			return 1;
	return 0;
}

static void
test_defaults(void **state)
{
	json_t *errs, *s = check("{\"name\": \"nightly\", \"cron\": \"0 2 * * *\","
	    " \"job\": {\"task\": \"backup\", \"to\": \"any\"}}", &errs);

	(void)state;
	assert_non_null(s);
	assert_null(errs);
	assert_string_equal(json_string_value(json_object_get(s, "tz")), "UTC");
	assert_string_equal(json_string_value(json_object_get(s, "misfire")),
	    "skip");
	assert_string_equal(json_string_value(json_object_get(s, "overlap")),
	    "skip");
	assert_int_equal(json_integer_value(json_object_get(s, "grace_ms")),
	    SCHEDULE_GRACE_DEFAULT_MS);
	assert_false(json_is_true(json_object_get(s, "paused")));
	assert_int_equal(schedule_spec_misfire(s), SCHEDULE_MISFIRE_SKIP);
	json_decref(s);
}

static void
test_policies(void **state)
{
	json_t *errs, *s = check("{\"name\": \"n\", \"cron\": \"@every 2s\","
	    " \"tz\": \"Europe/Berlin\", \"misfire\": \"run-once\", \"grace\":"
	    " \"10m\", \"overlap\": \"queue\", \"paused\": true, \"job\":"
	    " {\"task\": \"marker\", \"to\": \"node-1\", \"payload\": {\"a\": 1}}}",
	    &errs);

	(void)state;
	assert_non_null(s);
	assert_int_equal(schedule_spec_misfire(s), SCHEDULE_MISFIRE_RUN_ONCE);
	assert_int_equal(schedule_spec_overlap(s), SCHEDULE_OVERLAP_QUEUE);
	assert_int_equal(json_integer_value(json_object_get(s, "grace_ms")),
	    600000);
	assert_true(json_is_true(json_object_get(s, "paused")));
	json_decref(s);
}

static void
test_every_error(void **state)
{
	json_t *errs = NULL, *s = check("{\"name\": \"bad name!\", \"cron\":"
	    " \"61 * * * *\", \"tz\": \"Mars/Olympus\", \"misfire\": \"later\","
	    " \"overlap\": \"both\", \"grace\": \"forever\", \"paused\": 1,"
	    " \"colour\": \"red\", \"job\": {\"task\": \"nope\", \"to\": \"any\","
	    " \"key\": \"k\"}}", &errs);

	(void)state;
	assert_null(s);
	assert_true(has_error(errs, "name", "1-63"));
	assert_true(has_error(errs, "cron", "minute"));
	assert_true(has_error(errs, "tz", "no such zone"));
	assert_true(has_error(errs, "misfire", "run_once"));
	assert_true(has_error(errs, "overlap", "queue"));
	assert_true(has_error(errs, "grace", "duration"));
	assert_true(has_error(errs, "paused", "true or false"));
	assert_true(has_error(errs, "colour", "not a field"));
	assert_true(has_error(errs, "job.key", "set by the schedule"));
	assert_true(has_error(errs, "job.task", "no task named"));
	assert_int_equal(json_array_size(errs), 10);
	json_decref(errs);
	s = check("{\"name\": \"n\", \"cron\": \"* * *\", \"job\": {\"task\":"
	    " \"nope\", \"to\": \"any\"}}", &errs);
	assert_null(s);
	assert_true(has_error(errs, "job.task", "no task named \"nope\""));
	assert_true(has_error(errs, "cron", "3 fields"));
	json_decref(errs);
	s = check("{\"name\": \"n\", \"cron\": \"@daily\"}", &errs);
	assert_true(has_error(errs, "job", "required"));
	json_decref(errs);
	s = check("[1]", &errs);
	assert_null(s);
	assert_true(has_error(errs, "", "object"));
	json_decref(errs);
}

static void
test_job_errors(void **state)
{
	json_t *errs = NULL, *s = check("{\"name\": \"n\", \"cron\": \"@daily\","
	    " \"job\": {\"task\": \"backup\", \"to\": \"any\", \"deadline_ms\": -1}}",
	    &errs);

	(void)state;
	assert_null(s);
	assert_true(has_error(errs, "job.deadline_ms", "deadline_ms"));
	json_decref(errs);
}

static void
test_too_large(void **state)
{
	char *big = malloc(SCHEDULE_SPEC_MAX + 200), *text;
	json_t *errs = NULL, *s;

	(void)state;
	memset(big, 'x', SCHEDULE_SPEC_MAX);
	big[SCHEDULE_SPEC_MAX] = '\0';
	text = malloc(SCHEDULE_SPEC_MAX + 400);
	snprintf(text, SCHEDULE_SPEC_MAX + 400, "{\"name\": \"n\", \"cron\":"
	    " \"@daily\", \"job\": {\"task\": \"backup\", \"to\": \"any\","
	    " \"payload\": \"%s\"}}", big);
	s = check(text, &errs);
	assert_null(s);
	assert_true(has_error(errs, "job.payload", "bytes"));
	json_decref(errs);
	free(big);
	free(text);
}

/* A workflow in place of the job: stored as given, its definition's
 * errors under workflow.definition, never both a job and a workflow. */
static void
test_workflow(void **state)
{
	json_t *errs, *s = check("{\"name\": \"wf\", \"cron\": \"@daily\", "
	    "\"workflow\": {\"definition\": {\"name\": \"n\", \"steps\": "
	    "[{\"name\": \"a\", \"task\": \"backup\", \"to\": \"any\"}]}, "
	    "\"set\": {}}}", &errs);

	(void)state;
	assert_non_null(s);
	assert_null(errs);
	assert_null(json_object_get(s, "job"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(s, "workflow"), "definition"), "name")), "n");
	json_decref(s);

	s = check("{\"name\": \"wf\", \"cron\": \"@daily\", \"workflow\": "
	    "{\"definition\": {\"name\": \"n\", \"steps\": [{\"name\": \"a\", "
	    "\"task\": \"backup\", \"to\": \"any\", \"needs\": [\"zz\"]}]}, "
	    "\"extra\": 1, \"set\": []}}", &errs);
	assert_null(s);
	assert_true(has_error(errs, "workflow.extra", "not a field"));
	assert_true(has_error(errs, "workflow.set", "object"));
	assert_true(has_error(errs, "workflow.definition.steps[0].needs[0]",
	    "zz") || has_error(errs, "workflow.definition.steps[0].needs",
	    "zz"));
	json_decref(errs);

	s = check("{\"name\": \"wf\", \"cron\": \"@daily\", \"job\": "
	    "{\"task\": \"backup\", \"to\": \"any\"}, \"workflow\": {}}", &errs);
	assert_null(s);
	assert_true(has_error(errs, "workflow", "not both"));
	json_decref(errs);

	s = check("{\"name\": \"wf\", \"cron\": \"@daily\", \"workflow\": 3}",
	    &errs);
	assert_null(s);
	assert_true(has_error(errs, "workflow", "{definition, set?}"));
	json_decref(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_job_errors),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_workflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
