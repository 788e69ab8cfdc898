/*
 * Unit tests of node/store/store_work.c, each in a private temporary data
 * directory: tasks filtered and ordered, log lines after a sequence,
 * alerts by state, a command's idempotency key, the at-most-once record
 * and its stored result, the audit log's filters, and retention that keeps
 * running tasks and the audit log; and running tasks' process groups
 * (store_runs.c), recorded, replaced, forgotten and kept across a reopen.
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

#include "store.h"
#include "store_runs.h"
#include "store_work.h"
#include "tmpdir.h"

struct fixture {
	char		 root[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->root, sizeof(f->root), "test_store_work") != 0 ||
	    (f->st = store_open(f->root, err, sizeof(err))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	store_close(f->st);
	rc = tmpdir_remove(f->root);
	free(f);
	return rc;
}

/* Collects each row's JSON into an array. */
static int
collect(void *arg, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	json_array_append_new(arg, j);
	return 0;
}

static const char *
field(json_t *a, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(a, i), key));
}

static void
put_task(struct store *st, const char *node, const char *id, const char *state,
    int64_t t)
{
	char json[256];

	snprintf(json, sizeof(json), "{\"node\":\"%s\",\"task_id\":\"%s\","
	    "\"state\":\"%s\"}", node, id, state);
	assert_int_equal(store_task_put(st, node, id, "job", state, t, json), 0);
}

static void
test_tasks_filtered_newest_first(void **state)
{
	struct fixture *f = *state;
	struct store_task_query q = { 0 };
	json_t *a = json_array();

	put_task(f->st, "n1", "t1-1", "succeeded", 100);
	put_task(f->st, "n1", "t1-2", "running", 300);
	put_task(f->st, "n2", "t1-1", "failed", 200);
	/* an update replaces the row: one row per (node, task) */
	put_task(f->st, "n1", "t1-1", "failed", 400);
	assert_int_equal(store_tasks_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(field(a, 0, "task_id"), "t1-1");
	assert_string_equal(field(a, 0, "node"), "n1");
	assert_string_equal(field(a, 0, "state"), "failed");
	assert_string_equal(field(a, 1, "task_id"), "t1-2");
	json_array_clear(a);

	q.state = "failed";
	assert_int_equal(store_tasks_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	json_array_clear(a);
	q.node = "n2";
	assert_int_equal(store_tasks_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(field(a, 0, "node"), "n2");
	json_array_clear(a);
	q.state = NULL;
	q.node = NULL;
	q.limit = 1;
	assert_int_equal(store_tasks_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
}

static void
test_log_lines_after_a_sequence(void **state)
{
	struct fixture *f = *state;
	json_t *a = json_array();
	char json[64];

	for (int i = 5; i >= 1; i--) {		/* out of order on purpose */
		snprintf(json, sizeof(json), "{\"line_seq\":%d}", i);
		assert_int_equal(store_task_log_put(f->st, "n1", "t1-1", (uint64_t)i,
		    i, json), 0);
	}
	/* a redelivered line keeps the first text */
	assert_int_equal(store_task_log_put(f->st, "n1", "t1-1", 3, 3,
	    "{\"line_seq\":3,\"again\":true}"), 0);
	assert_int_equal(store_task_logs(f->st, "n1", "t1-1", 2, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(
		    json_array_get(a, i), "line_seq")), (json_int_t)i + 3);
	assert_null(json_object_get(json_array_get(a, 0), "again"));
	json_array_clear(a);
	assert_int_equal(store_task_logs(f->st, "n1", "t1-1", 0, 2, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	json_array_clear(a);
	assert_int_equal(store_task_logs(f->st, "n2", "t1-1", 0, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

static void
test_alerts_by_state(void **state)
{
	struct fixture *f = *state;
	json_t *a = json_array();

	assert_int_equal(store_alert_put(f->st, "n1", "a1-1", "firing", 1,
	    "{\"alert_id\":\"a1-1\",\"state\":\"firing\"}"), 0);
	assert_int_equal(store_alert_put(f->st, "n2", "a1-1", "resolved", 2,
	    "{\"alert_id\":\"a1-1\",\"state\":\"resolved\"}"), 0);
	assert_int_equal(store_alerts_query(f->st, NULL, "firing", 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_array_clear(a);
	assert_int_equal(store_alerts_query(f->st, NULL, NULL, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(field(a, 0, "state"), "resolved");	/* newest first */
	json_decref(a);
	/* the body must be JSON: the schema refuses anything else */
	assert_int_equal(store_alert_put(f->st, "n1", "a1-2", "firing", 3,
	    "not json"), -1);
	assert_non_null(strstr(store_error(f->st), "storing an alert"));
}

static void
test_commands_and_idempotency_keys(void **state)
{
	struct fixture *f = *state;
	json_t *a = json_array();
	char id[64] = "";

	assert_int_equal(store_command_put(f->st, "c1", "deploy-1", 10,
	    "{\"id\":\"c1\",\"state\":\"pending\"}"), 0);
	assert_int_equal(store_command_by_key(f->st, "deploy-1", id, sizeof(id)), 1);
	assert_string_equal(id, "c1");
	assert_int_equal(store_command_by_key(f->st, "other", id, sizeof(id)), 0);
	/* the record is replaced as it moves on; the key stays its own */
	assert_int_equal(store_command_put(f->st, "c1", "deploy-1", 10,
	    "{\"id\":\"c1\",\"state\":\"done\"}"), 0);
	assert_int_equal(store_command_get(f->st, "c1", collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(field(a, 0, "state"), "done");
	json_array_clear(a);
	/* another command cannot take a used key */
	assert_int_equal(store_command_put(f->st, "c2", "deploy-1", 11, "{}"), -1);
	assert_int_equal(store_command_put(f->st, "c3", NULL, 12,
	    "{\"id\":\"c3\"}"), 0);
	assert_int_equal(store_commands_list(f->st, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(field(a, 0, "id"), "c3");
	json_decref(a);
}

static int
copy_blob(void *arg, const void *blob, size_t len)
{
	memcpy(arg, blob, len);
	((char *)arg)[len] = '\0';
	return 0;
}

static void
test_at_most_once_record(void **state)
{
	struct fixture *f = *state;
	char got[32] = "";
	int fresh = -1;

	assert_int_equal(store_command_seen(f->st, "c1", "n1", 5, &fresh), 0);
	assert_int_equal(fresh, 1);
	assert_int_equal(store_command_result_get(f->st, "c1", copy_blob, got), 0);
	assert_int_equal(store_command_seen(f->st, "c1", "n1", 6, &fresh), 0);
	assert_int_equal(fresh, 0);
	assert_int_equal(store_command_result(f->st, "c1", "result", 6), 0);
	assert_int_equal(store_command_result_get(f->st, "c1", copy_blob, got), 1);
	assert_string_equal(got, "result");
	assert_int_equal(store_command_seen(f->st, "c2", "n1", 7, &fresh), 0);
	assert_int_equal(fresh, 1);
}

static void
test_audit_filters(void **state)
{
	struct fixture *f = *state;
	struct store_audit_query q = { 0 };
	json_t *a = json_array();
	int64_t seq = 0;

	assert_int_equal(store_audit_append(f->st, 100, "n1", "command.issued",
	    "{\"n\":1}", &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(store_audit_append(f->st, 200, "n1", "auth.failed",
	    "{\"n\":2}", NULL), 0);
	assert_int_equal(store_audit_append(f->st, 300, "n2", "command.issued",
	    "{\"n\":3}", &seq), 0);
	assert_int_equal(seq, 3);
	q.action = "command.issued";
	assert_int_equal(store_audit_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0),
	    "n")), 1);			/* oldest first */
	json_array_clear(a);
	q.action = NULL;
	q.since_ms = 150;
	q.node = "n1";
	assert_int_equal(store_audit_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_array_clear(a);
	/* a limit keeps the newest, still shown oldest first */
	memset(&q, 0, sizeof(q));
	q.limit = 2;
	assert_int_equal(store_audit_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0),
	    "n")), 2);
	json_decref(a);
}

static void
test_trim_keeps_running_tasks_and_the_audit_log(void **state)
{
	struct fixture *f = *state;
	struct store_task_query q = { 0 };
	struct store_audit_query aq = { 0 };
	json_t *a = json_array();
	char id[16];

	put_task(f->st, "n1", "run-1", "running", 1);		/* oldest, but running */
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "done-%d", i);
		put_task(f->st, "n1", id, "succeeded", 10 + i);
		assert_int_equal(store_task_log_put(f->st, "n1", id, 1, 10 + i,
		    "{}"), 0);
	}
	assert_int_equal(store_audit_append(f->st, 1, "n1", "old", "{}", NULL), 0);
	assert_int_equal(store_command_put(f->st, "c-old", NULL, 1, "{}"), 0);
	assert_int_equal(store_work_trim(f->st, 3, 1000, 100, 1000), 0);
	assert_int_equal(store_tasks_query(f->st, &q, collect, a), 0);
	assert_int_equal(json_array_size(a), 3);
	{
		int running = 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			running += strcmp(field(a, i, "task_id"), "run-1") == 0;
		assert_int_equal(running, 1);	/* kept although oldest */
	}
	json_array_clear(a);
	/* logs of trimmed tasks went with them */
	assert_int_equal(store_task_logs(f->st, "n1", "done-0", 0, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 0);
	assert_int_equal(store_task_logs(f->st, "n1", "done-4", 0, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_array_clear(a);
	assert_int_equal(store_command_get(f->st, "c-old", collect, a), 0);
	assert_int_equal(json_array_size(a), 0);
	assert_int_equal(store_audit_query(f->st, &aq, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
}

/* ---- running tasks' process groups (store_runs.c) ---- */

/* "task:pgid:ticks:boot," for each row, in order. */
static int
collect_run(void *arg, const struct store_run *r)
{
	char *out = arg;
	size_t off = strlen(out);

	snprintf(out + off, 512 - off, "%s:%lld:%llu:%s,", r->task_id,
	    (long long)r->pgid, (unsigned long long)r->start_ticks, r->boot_id);
	return 0;
}

static void
listed(struct store *st, const char *want)
{
	char out[512] = "";

	assert_int_equal(store_runs_list(st, collect_run, out), 0);
	assert_string_equal(out, want);
}

static void
test_runs_put_replace_del(void **state)
{
	struct fixture *f = *state;
	struct store_run a = { "t1-1", 100, 5000, "boot-a", 10 };
	struct store_run b = { "t1-2", 200, UINT64_MAX, "boot-a", 20 };
	char err[512];

	listed(f->st, "");
	assert_int_equal(store_runs_put(f->st, &a), 0);
	assert_int_equal(store_runs_put(f->st, &b), 0);
	listed(f->st, "t1-1:100:5000:boot-a,t1-2:200:18446744073709551615:boot-a,");
	/* The next attempt of a task replaces its earlier group. */
	a.pgid = 101;
	a.start_ticks = 6000;
	a.started_ms = 30;
	assert_int_equal(store_runs_put(f->st, &a), 0);
	listed(f->st, "t1-2:200:18446744073709551615:boot-a,t1-1:101:6000:boot-a,");
	assert_int_equal(store_runs_del(f->st, "t1-2"), 0);
	assert_int_equal(store_runs_del(f->st, "unknown"), 0);
	listed(f->st, "t1-1:101:6000:boot-a,");
	/* What a crash leaves is there at the next open. */
	store_close(f->st);
	assert_non_null(f->st = store_open(f->root, err, sizeof(err)));
	listed(f->st, "t1-1:101:6000:boot-a,");
	assert_int_equal(store_runs_clear(f->st), 0);
	listed(f->st, "");
}

static int
stop_at_first(void *arg, const struct store_run *r)
{
	(void)r;
	(*(int *)arg)++;
	return 7;
}

static void
test_runs_callback_stops(void **state)
{
	struct fixture *f = *state;
	struct store_run a = { "t1-1", 100, 1, "b", 1 }, b = { "t1-2", 200, 2,
	    "b", 2 };
	int calls = 0;

	assert_int_equal(store_runs_put(f->st, &a), 0);
	assert_int_equal(store_runs_put(f->st, &b), 0);
	assert_int_equal(store_runs_list(f->st, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);
	/* The statement was reset: the next walk sees both. */
	listed(f->st, "t1-1:100:1:b,t1-2:200:2:b,");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tasks_filtered_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_after_a_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_by_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands_and_idempotency_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_most_once_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim_keeps_running_tasks_and_the_audit_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_put_replace_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_callback_stops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
