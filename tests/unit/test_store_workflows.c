/*
 * Unit tests of node/store/store_workflows.c against a real database in
 * a private temporary directory: a workflow, its steps and its history
 * written in one transaction and read back (also after a reopen), with
 * JSON values kept as values; the list newest first and by state; the
 * open ones (restart recovery); and a write that fails leaves nothing.
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
#include "store_workflows.h"
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
	if (tmpdir_make(f->root, sizeof(f->root), "test_store_workflows") != 0 ||
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

static int
collect(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	json_array_append_new(arg, v);
	return 0;
}

static json_t *
workflow(const char *id, const char *state, int64_t created)
{
	return json_pack("{s:s, s:s, s:{s:s, s:[]}, s:{s:s}, s:s, s:s, s:s, "
	    "s:I, s:I, s:I, s:I, s:I}", "id", id, "name", "nightly",
	    "definition", "name", "nightly", "steps", "params", "dest", "/srv",
	    "principal", "alice", "state", state, "coordinator", "node-1",
	    "coordinator_epoch", (json_int_t)1, "budget_deadline_ms",
	    (json_int_t)9000, "created_ms", (json_int_t)created, "updated_ms",
	    (json_int_t)created, "finished_ms", (json_int_t)0);
}

static json_t *
step(const char *name, int idx, const char *state)
{
	return json_pack("{s:s, s:i, s:s, s:i, s:i}", "name", name, "idx", idx,
	    "state", state, "attempt", 0, "tries", 0);
}

static void
write_all(struct store *st)
{
	json_t *wf = workflow("w1", "running", 100);
	json_t *steps = json_pack("[o, o]", step("backup", 0, "pending"),
	    step("verify", 1, "pending"));
	json_t *h = json_pack("[{s:I, s:s}]", "time_ms", (json_int_t)100,
	    "event", "submitted");

	assert_int_equal(store_workflow_write(st, "w1", wf, steps, h), 0);
	json_decref(steps);
	json_decref(h);
	/* A step moves: its job and result stored with the transition. */
	steps = json_pack("[{s:s, s:i, s:s, s:i, s:i, s:s, s:s, s:I, s:I, "
	    "s:{s:s, s:[i, i]}, s:s, s:s}]", "name", "backup", "idx", 0, "state",
	    "succeeded", "attempt", 1, "tries", 1, "job_id", "jabc", "node",
	    "node-2", "started_ms", (json_int_t)110, "finished_ms",
	    (json_int_t)150, "result", "path", "/srv/a.tar", "sizes", 1, 2,
	    "approved_by", "bob", "comment", "fine");
	h = json_pack("[{s:I, s:s, s:s}]", "time_ms", (json_int_t)150, "event",
	    "step", "step", "backup");
	assert_int_equal(store_workflow_write(st, "w1", NULL, steps, h), 0);
	json_decref(steps);
	json_decref(h);
	json_decref(wf);
}

static void
check_read_back(struct store *st)
{
	json_t *rows = json_array(), *s;

	assert_int_equal(store_workflow_get(st, "w1", collect, rows), 1);
	assert_int_equal(store_workflow_get(st, "nope", collect, rows), 0);
	s = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(s, "state")),
	    "running");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    s, "params"), "dest")), "/srv");
	assert_true(json_is_array(json_object_get(json_object_get(s,
	    "definition"), "steps")));
	assert_int_equal(json_integer_value(json_object_get(s,
	    "coordinator_epoch")), 1);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "budget_deadline_ms")), 9000);
	assert_true(json_is_null(json_object_get(s, "reason")));
	json_array_clear(rows);

	assert_int_equal(store_workflow_steps(st, "w1", collect, rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	s = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(s, "name")),
	    "backup");
	assert_string_equal(json_string_value(json_object_get(s, "state")),
	    "succeeded");
	assert_string_equal(json_string_value(json_object_get(s, "job_id")),
	    "jabc");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    s, "result"), "path")), "/srv/a.tar");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(
	    json_object_get(s, "result"), "sizes"), 1)), 2);
	assert_string_equal(json_string_value(json_object_get(s,
	    "approved_by")), "bob");
	s = json_array_get(rows, 1);
	assert_string_equal(json_string_value(json_object_get(s, "state")),
	    "pending");
	assert_true(json_is_null(json_object_get(s, "job_id")));
	assert_true(json_is_null(json_object_get(s, "result")));
	json_array_clear(rows);

	assert_int_equal(store_workflow_history(st, "w1", collect, rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 1), "step")), "backup");
	json_decref(rows);
}

static void
test_written_is_read_back_after_reopen(void **state)
{
	struct fixture *f = *state;
	char err[512];

	write_all(f->st);
	check_read_back(f->st);
	store_close(f->st);
	f->st = store_open(f->root, err, sizeof(err));
	assert_non_null(f->st);
	check_read_back(f->st);
}

static void
test_list_and_open(void **state)
{
	struct fixture *f = *state;
	json_t *rows = json_array(), *wf, *steps;
	const char *ids[] = { "w1", "w2", "w3", "w4" };
	const char *states[] = { "running", "succeeded", "failed", "paused" };

	for (int i = 0; i < 4; i++) {
		wf = workflow(ids[i], states[i], 100 + i);
		/* w3 failed with a step still running: its coordinator still
		 * has to hear the end of it. */
		steps = json_pack("[o]", step("a", 0, i == 2 ? "running" :
		    "succeeded"));
		assert_int_equal(store_workflow_write(f->st, ids[i], wf, steps,
		    NULL), 0);
		json_decref(steps);
		json_decref(wf);
	}
	assert_int_equal(store_workflows_query(f->st, NULL, 0, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 0), "id")), "w4");
	json_array_clear(rows);
	assert_int_equal(store_workflows_query(f->st, NULL, 2, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	json_array_clear(rows);
	assert_int_equal(store_workflows_query(f->st, "failed", 0, collect,
	    rows), 0);
	assert_int_equal(json_array_size(rows), 1);
	json_array_clear(rows);
	assert_int_equal(store_workflows_open(f->st, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 0), "id")), "w1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 1), "id")), "w3");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 2), "id")), "w4");
	json_decref(rows);
}

static void
test_a_failed_write_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	json_t *wf = workflow("w9", "running", 5), *rows = json_array();
	/* The second step has no state: NOT NULL fails, the whole write
	 * goes, the workflow row with it. */
	json_t *steps = json_pack("[o, {s:s, s:i}]", step("a", 0, "pending"),
	    "name", "b", "idx", 1);

	assert_int_equal(store_workflow_write(f->st, "w9", wf, steps, NULL), -1);
	assert_int_equal(store_workflow_get(f->st, "w9", collect, rows), 0);
	assert_int_equal(store_workflow_steps(f->st, "w9", collect, rows), 0);
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);
	json_decref(steps);
	json_decref(wf);
}

static void
test_trim_drops_only_old_done_ones(void **state)
{
	struct fixture *f = *state;
	json_t *rows = json_array(), *wf, *steps, *h;
	const char *ids[] = { "old-done", "old-running", "new-done" };
	const char *states[] = { "succeeded", "running", "failed" };
	int64_t updated[] = { 100, 100, 900 };
	uint64_t gone = 9;

	for (int i = 0; i < 3; i++) {
		wf = workflow(ids[i], states[i], updated[i]);
		steps = json_pack("[o]", step("a", 0, "succeeded"));
		h = json_pack("[{s:I, s:s}]", "time_ms", (json_int_t)updated[i],
		    "event", "submitted");
		assert_int_equal(store_workflow_write(f->st, ids[i], wf, steps, h),
		    0);
		json_decref(h);
		json_decref(steps);
		json_decref(wf);
	}
	assert_int_equal(store_workflows_trim(f->st, 500, "node-1", &gone), 0);
	assert_int_equal(gone, 1);
	assert_int_equal(store_workflows_query(f->st, NULL, 0, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	json_array_clear(rows);
	assert_int_equal(store_workflow_steps(f->st, "old-done", collect, rows),
	    0);
	assert_int_equal(store_workflow_history(f->st, "old-done", collect,
	    rows), 0);
	assert_int_equal(json_array_size(rows), 0);
	assert_int_equal(store_workflow_steps(f->st, "old-running", collect,
	    rows), 0);
	assert_int_equal(store_workflow_history(f->st, "new-done", collect,
	    rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	/* Another node took old-running over: the row left is history. */
	assert_int_equal(store_workflows_trim(f->st, 500, "node-2", &gone), 0);
	assert_int_equal(gone, 1);
	json_array_clear(rows);
	assert_int_equal(store_workflows_query(f->st, NULL, 0, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 1);
	json_decref(rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_written_is_read_back_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_failed_write_leaves_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim_drops_only_old_done_ones,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
