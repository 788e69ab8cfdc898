/*
 * Unit tests of the pure parts of node/work/jobs_replay.c and
 * jobs_metrics.c: what a replay copies from the first job (and what it
 * never copies), the check of a batch request (every refusal names its
 * field), and the bound on the task names the per-task counters keep.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "jobs_hooks.h"
#include "jobs_replay.h"
#include "jobs_spec.h"

static void
test_replay_body_copies_the_job_not_its_key_or_callback(void **state)
{
	json_t *rec = json_pack("{s:s, s:s, s:[s], s:s, s:s, s:s, s:b, s:I, "
	    "s:I, s:{s:s}, s:s, s:s, s:I}", "id", "jabc", "task", "report",
	    "args", "-v", "to", "any:role=worker", "payload", "{\"x\":[1,2]}",
	    "key", "k1", "at_most_once", 1, "submitted_ms", (json_int_t)1000,
	    "deadline_ms", (json_int_t)61000, "callback", "url", "http://x/",
	    "state", "failed", "principal", "alice", "epoch", (json_int_t)3);
	json_t *body = jobs_replay_body(rec), *want;
	int status;
	char err[256];

	(void)state;
	want = json_pack("{s:s, s:[s], s:s, s:b, s:{s:[i, i]}, s:I}", "task",
	    "report", "args", "-v", "to", "any:role=worker", "at_most_once", 1,
	    "payload", "x", 1, 2, "deadline_ms", (json_int_t)60000);
	assert_true(json_equal(body, want));
	/* What a submit takes as it is: the same arguments' hash. */
	json_t *a = jobs_spec_parse(body, &status, err, sizeof(err));
	assert_non_null(a);
	json_decref(a);
	json_decref(want);
	json_decref(body);
	/* An ad-hoc job, no payload, a deadline out of bounds: the default. */
	json_object_del(rec, "task");
	json_object_del(rec, "args");
	json_object_set_new(rec, "command", json_pack("[s, s]", "/bin/echo",
	    "hi"));
	json_object_set_new(rec, "payload", json_null());
	json_object_set_new(rec, "deadline_ms", json_integer(500));
	body = jobs_replay_body(rec);
	assert_null(json_object_get(body, "task"));
	assert_null(json_object_get(body, "payload"));
	assert_null(json_object_get(body, "key"));
	assert_int_equal(json_array_size(json_object_get(body, "command")), 2);
	assert_int_equal(json_integer_value(json_object_get(body,
	    "deadline_ms")), JOBS_DEADLINE_DEFAULT_MS);
	json_decref(body);
	json_decref(rec);
}

static void
refused(const char *req_text, const char *field)
{
	json_t *req = json_loads(req_text, JSON_DECODE_ANY, NULL);
	char err[256] = "";

	assert_non_null(req);
	assert_int_equal(jobs_replay_check(req, err, sizeof(err)), -1);
	if (strstr(err, field) == NULL)
		fail_msg("%s: \"%s\" does not name %s", req_text, err, field);
	json_decref(req);
}

static void
test_batch_check(void **state)
{
	json_t *ok = json_pack("{s:[s, s, s, s], s:I, s:s, s:s, s:b, s:b}",
	    "states", "failed", "cancelled", "lost", "expired", "since_ms",
	    (json_int_t)0, "task", "report", "node", "node-2", "dry_run", 1,
	    "again", 0);
	json_t *empty = json_object();
	char err[256];

	(void)state;
	assert_int_equal(jobs_replay_check(ok, err, sizeof(err)), 0);
	assert_int_equal(jobs_replay_check(empty, err, sizeof(err)), 0);
	json_decref(ok);
	json_decref(empty);
	refused("[]", "body");
	refused("{\"states\": []}", "states");
	refused("{\"states\": \"failed\"}", "states");
	refused("{\"states\": [\"succeeded\"]}", "states");
	refused("{\"states\": [\"running\"]}", "states");
	refused("{\"states\": [1]}", "states");
	refused("{\"states\": [\"failed\", \"failed\", \"lost\", \"lost\", "
	    "\"expired\"]}", "states");
	refused("{\"since_ms\": -1}", "since_ms");
	refused("{\"since_ms\": \"1h\"}", "since_ms");
	refused("{\"task\": \"a b\"}", "task");
	refused("{\"task\": 7}", "task");
	refused("{\"node\": \"\"}", "node");
	refused("{\"dry_run\": 1}", "dry_run");
	refused("{\"again\": \"yes\"}", "again");
	refused("{\"limit\": 5}", "limit");
}

static void
test_task_counters_are_bounded(void **state)
{
	struct jobs js;
	json_t *rec, *c;
	char name[16];

	(void)state;
	memset(&js, 0, sizeof(js));
	for (int i = 0; i < JOBS_METRICS_TASKS + 10; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		rec = json_pack("{s:s}", "task", name);
		jobs_task_count(&js, JC_SUBMITTED, rec);
		jobs_task_count_final(&js, JOBS_FAILED, rec);
		jobs_task_count_final(&js, JOBS_QUEUED, rec);	/* none */
		json_decref(rec);
	}
	rec = json_object();		/* ad-hoc */
	jobs_task_count(&js, JC_DISPATCHED, rec);
	json_decref(rec);
	c = jobs_task_counters(&js);
	/* 64 names, "(other)" for the rest, ad-hoc among the rest too. */
	assert_int_equal(json_object_size(c), JOBS_METRICS_TASKS + 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
	    "t0"), "submitted")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
	    "t0"), "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
	    "t0"), "lost")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
	    "(other)"), "submitted")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c,
	    "(other)"), "dispatched")), 1);
	assert_null(json_object_get(c, "t64"));
	json_decref(c);
	json_decref(js.by_task);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_body_copies_the_job_not_its_key_or_callback),
		cmocka_unit_test(test_batch_check),
		cmocka_unit_test(test_task_counters_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
