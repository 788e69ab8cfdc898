/*
 * Unit tests of node/store/store_jobs.c against a real database in a
 * private temporary directory: jobs by id, by key and by filter; the open
 * ones (restart recovery); history order; the executor's runs by job, key
 * and undelivered; fences; and trimming only what is old and settled.
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
#include "store_jobs.h"
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
	if (tmpdir_make(f->root, sizeof(f->root), "test_store_jobs") != 0 ||
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

/* The "id" (or "job_id") of each row, joined by spaces. */
static const char *
ids(json_t *rows, char *buf, size_t len)
{
	json_t *r;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(rows, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		if (id == NULL)
			id = json_string_value(json_object_get(r, "job_id"));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
		    id);
	}
	json_decref(rows);
	return buf;
}

static void
put_job(struct store *st, const char *id, const char *state, const char *task,
    const char *key, int64_t t)
{
	char text[256];

	snprintf(text, sizeof(text), "{\"id\": \"%s\", \"state\": \"%s\"}", id,
	    state);
	assert_int_equal(store_job_put(st, id, state, task, key, t, text), 0);
}

static void
test_jobs_by_id_key_and_filter(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	json_t *a;

	put_job(f->st, "j1", "queued", "t", "k1", 10);
	put_job(f->st, "j2", "succeeded", "t", NULL, 20);
	put_job(f->st, "j3", "running", "u", NULL, 30);
	put_job(f->st, "j1", "dispatched", "t", "k1", 40);	/* replaced */
	a = json_array();
	assert_int_equal(store_job_get(f->st, "j1", NULL, collect, a), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0),
	    "state")), "dispatched");
	json_decref(a);
	a = json_array();
	assert_int_equal(store_job_get(f->st, NULL, "k1", collect, a), 1);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j1");
	a = json_array();
	assert_int_equal(store_job_get(f->st, NULL, "nokey", collect, a), 0);
	assert_int_equal(store_job_get(f->st, "j9", NULL, collect, a), 0);
	json_decref(a);
	/* A second job under the same key is refused by the table. */
	assert_int_equal(store_job_put(f->st, "j4", "queued", "t", "k1", 50,
	    "{}"), -1);
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, NULL, NULL, 0, collect, a), 0);
	/* Newest submitted first: an update keeps a job's place. */
	assert_string_equal(ids(a, buf, sizeof(buf)), "j3 j2 j1");
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, NULL, "t", 1, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j2");
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, "succeeded", NULL, 0, collect,
	    a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j2");
	a = json_array();
	assert_int_equal(store_jobs_open(f->st, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j1 j3");
}

/* A fanned-out job's children (a "parent" in the record) are left out of
 * the top-level list, whatever the other filters. */
static void
test_query_top_leaves_children_out(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	json_t *a;

	assert_int_equal(store_job_put(f->st, "p", "running", "t", NULL, 10,
	    "{\"id\": \"p\", \"children\": [{\"id\": \"p.1\"}]}"), 0);
	assert_int_equal(store_job_put(f->st, "p.1", "running", "t", NULL, 10,
	    "{\"id\": \"p.1\", \"parent\": \"p\"}"), 0);
	put_job(f->st, "j", "running", "t", NULL, 20);
	a = json_array();
	assert_int_equal(store_jobs_query_top(f->st, NULL, NULL, 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j p");
	a = json_array();
	assert_int_equal(store_jobs_query_top(f->st, "running", "t", 1, collect,
	    a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j");
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, "running", NULL, 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "j p.1 p");
}

/* A fan-out's parent and children are written all or nothing, and a
 * failed part never takes a surrounding batch's rows with it. */
static void
test_atomic_part_of_a_batch(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	json_t *a;

	assert_int_equal(store_atomic_begin(f->st), 0);
	put_job(f->st, "dropped", "queued", "t", NULL, 10);
	assert_int_equal(store_atomic_end(f->st, 0), -1);
	assert_int_equal(store_atomic_begin(f->st), 0);
	put_job(f->st, "kept", "queued", "t", NULL, 10);
	assert_int_equal(store_atomic_end(f->st, 1), 0);
	assert_int_equal(store_batch_begin(f->st), 0);
	put_job(f->st, "batch", "queued", "t", NULL, 20);
	assert_int_equal(store_atomic_begin(f->st), 0);
	put_job(f->st, "part", "queued", "t", NULL, 30);
	assert_int_equal(store_atomic_end(f->st, 0), -1);
	assert_int_equal(store_batch_end(f->st), 0);
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, NULL, NULL, 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "batch kept");
}

static void
test_history_fences_and_trim(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	json_t *a;

	put_job(f->st, "old", "failed", "t", NULL, 100);
	put_job(f->st, "new", "succeeded", "t", NULL, 5000);
	put_job(f->st, "open", "queued", "t", NULL, 100);
	assert_int_equal(store_job_history_add(f->st, "old", 1,
	    "{\"id\": \"h1\"}"), 0);
	assert_int_equal(store_job_history_add(f->st, "old", 2,
	    "{\"id\": \"h2\"}"), 0);
	assert_int_equal(store_job_history_add(f->st, "new", 3,
	    "{\"id\": \"h3\"}"), 0);
	a = json_array();
	assert_int_equal(store_job_history(f->st, "old", collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "h1 h2");
	assert_int_equal(store_job_fence_put(f->st, "old", "node-2", 1), 0);
	assert_int_equal(store_job_fence_put(f->st, "new", "node-2", 1), 0);
	assert_int_equal(store_job_fence_put(f->st, "new", "node-2", 2), 0);
	a = json_array();
	assert_int_equal(store_job_fences(f->st, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1),
	    "epoch")), 2);
	json_decref(a);
	/* The answer to the epoch 1 fence arrives after epoch 2 replaced
	 * it: the newer fence is still to send. */
	assert_int_equal(store_job_fence_del(f->st, "new", "node-2", 1), 0);
	a = json_array();
	assert_int_equal(store_job_fences(f->st, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);
	assert_int_equal(store_job_fence_del(f->st, "new", "node-2", 2), 0);
	a = json_array();
	assert_int_equal(store_job_fences(f->st, collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);

	/* Trim at 1000: the old final job goes with its history and fence;
	 * the open one (however old) and the new one stay. */
	assert_int_equal(store_jobs_trim(f->st, 1000), 0);
	a = json_array();
	assert_int_equal(store_jobs_query(f->st, NULL, NULL, 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "open new");
	a = json_array();
	assert_int_equal(store_job_history(f->st, "old", collect, a), 0);
	assert_int_equal(json_array_size(a), 0);
	assert_int_equal(store_job_history(f->st, "new", collect, a), 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	a = json_array();
	assert_int_equal(store_job_fences(f->st, collect, a), 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

static void
put_run(struct store *st, const char *job, uint64_t epoch, const char *key,
    const char *state, int delivered, int64_t t)
{
	char text[256];

	snprintf(text, sizeof(text), "{\"job_id\": \"%s\", \"epoch\": %llu}", job,
	    (unsigned long long)epoch);
	assert_int_equal(store_job_run_put(st, job, epoch, "node-1", key, state,
	    delivered, t, text), 0);
}

static void
test_runs(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	json_t *a;

	put_run(f->st, "jb", 2, "k", "running", 0, 10);
	put_run(f->st, "jb", 1, "k", "fenced", 1, 10);
	put_run(f->st, "ja", 1, "k", "succeeded", 0, 10);
	put_run(f->st, "jc", 1, NULL, "failed", 1, 10);
	a = json_array();
	assert_int_equal(store_job_runs(f->st, "jb", NULL, 0, collect, a), 0);
	assert_int_equal(json_array_size(a), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0),
	    "epoch")), 1);
	json_decref(a);
	a = json_array();
	assert_int_equal(store_job_runs(f->st, NULL, "k", 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "ja jb jb");
	a = json_array();
	assert_int_equal(store_job_runs(f->st, NULL, NULL, 1, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "ja jb");
	a = json_array();
	assert_int_equal(store_job_runs_in(f->st, "running", collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "jb");
	/* Only delivered runs are trimmed: a result still held stays. */
	assert_int_equal(store_jobs_trim(f->st, 100), 0);
	a = json_array();
	assert_int_equal(store_job_runs(f->st, NULL, NULL, 0, collect, a), 0);
	assert_string_equal(ids(a, buf, sizeof(buf)), "ja jb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_by_id_key_and_filter,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_fences_and_trim, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_top_leaves_children_out,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_part_of_a_batch, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
