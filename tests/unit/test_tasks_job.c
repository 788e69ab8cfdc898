/*
 * Unit tests of a job's run in node/work/tasks.c and tasks_job.c: real
 * /bin/sh children on a real event loop that read their job from the
 * environment and the payload file and leave a result file.  Each test
 * asserts on what the hooks hand out (the result, why it was refused,
 * the updates) and on the files the run leaves behind (none).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "loop_until.h"
#include "mesh_names.h"
#include "tasks.h"

#define WAIT_MS	15000

struct ctx {
	struct event_base	*base;
	struct tasks		*t;
	char			 dir[64];	/* a private temp dir */
	char			 runs[96];	/* run_dir inside it */
	int			 last_state;	/* of the last update */
	int			 terminal;	/* a terminal update came */
	int			 nresults;	/* job_result calls */
	int			 terminal_before_result;
	char			*result;	/* of the last call, or NULL */
	size_t			 result_len;
	char			 why[256];	/* "" when NULL */
	char			 out[4096];	/* stdout lines joined by '|' */
};

static void
on_update(const Agentflow__Mesh__V1__TaskUpdate *m, void *arg)
{
	struct ctx *c = arg;

	c->last_state = m->state;
	if (mesh_names_task_state_terminal(m->state))
		c->terminal = 1;
}

static void
on_log(const Agentflow__Mesh__V1__TaskLog *m, void *arg)
{
	struct ctx *c = arg;
	size_t off = strlen(c->out);

	if (m->stream == MESH_LOG_STREAM(STDOUT))
		snprintf(c->out + off, sizeof c->out - off, "%s%s",
		    off > 0 ? "|" : "", m->text);
}

static void
on_result(const char *task_id, const char *result, size_t len,
    const char *why, void *arg)
{
	struct ctx *c = arg;

	assert_non_null(task_id);
	c->nresults++;
	c->terminal_before_result = c->terminal;
	free(c->result);
	c->result = NULL;
	if (result != NULL) {
		assert_int_equal(strlen(result), len);
		c->result = strdup(result);
	}
	c->result_len = len;
	snprintf(c->why, sizeof c->why, "%s", why != NULL ? why : "");
}

static int
ended(void *arg)
{
	return ((struct ctx *)arg)->terminal;
}

/* Runs the loop until the run is over; its final state. */
static int
wait_end(struct ctx *c)
{
	assert_int_equal(loop_until(c->base, ended, c, WAIT_MS), 1);
	return c->last_state;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);

	assert_non_null(c);
	c->base = event_base_new();
	assert_non_null(c->base);
	snprintf(c->dir, sizeof c->dir, "/tmp/test_tasks_job.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->runs, sizeof c->runs, "%s/runs", c->dir);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	tasks_free(c->t);
	free(c->result);
	event_base_free(c->base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
	free(c);
	return 0;
}

/* Starts c->t with one task "job" running `sh -c script` (retries). */
static void
start(struct ctx *c, const char *script, int retries, const char *run_dir)
{
	struct tasks_config cfg = { .id_prefix = "n1", .run_dir = run_dir };
	struct tasks_hooks hooks = { .update = on_update, .log = on_log,
	    .arg = c, .job_result = on_result };
	char err[512];

	cfg.defs = json_pack("{s:{s:[s,s,s], s:i, s:i}}", "job", "command",
	    "/bin/sh", "-c", script, "retries", retries, "retry_backoff_ms", 10);
	c->t = tasks_new(c->base, &cfg, &hooks, err, sizeof err);
	json_decref((json_t *)cfg.defs);
	if (c->t == NULL)
		fail_msg("tasks_new: %s", err);
}

static int
run(struct ctx *c, const struct tasks_job *job, char *id, size_t idlen,
    char *msg, size_t msglen)
{
	struct tasks_request req = { .name = "job", .job = job };

	return tasks_run(c->t, &req, id, idlen, msg, msglen);
}

/* Runs a job with this payload to its end; its final state. */
static int
run_job(struct ctx *c, const char *payload)
{
	struct tasks_job job = { "job-7", 3, 2, payload,
	    payload != NULL ? strlen(payload) : 0 };
	char id[64], msg[256];

	if (run(c, &job, id, sizeof id, msg, sizeof msg) !=
	    MESH_COMMAND_STATUS(OK))
		fail_msg("tasks_run: %s", msg);
	return wait_end(c);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* ---- tests --------------------------------------------------------- */

static void
test_job_sees_its_job(void **state)
{
	struct ctx *c = *state;
	json_t *r;
	const char *dir;

	start(c, "printf '{\"id\":\"%s\",\"epoch\":%s,\"attempt\":%s,"
	    "\"task_attempt\":%s,\"payload\":%s,\"payload_file\":\"%s\","
	    "\"result_file\":\"%s\"}' \"$AGENTFLOW_JOB_ID\" "
	    "\"$AGENTFLOW_JOB_EPOCH\" \"$AGENTFLOW_JOB_ATTEMPT\" "
	    "\"$AGENTFLOW_TASK_ATTEMPT\" \"$(cat \"$AGENTFLOW_PAYLOAD_FILE\")\" "
	    "\"$AGENTFLOW_PAYLOAD_FILE\" \"$AGENTFLOW_RESULT_FILE\" "
	    "> \"$AGENTFLOW_RESULT_FILE\"; "
	    "stat -c %a \"$AGENTFLOW_PAYLOAD_FILE\" "
	    "\"$(dirname \"$AGENTFLOW_PAYLOAD_FILE\")\"", 0, c->runs);
	assert_int_equal(run_job(c, "{\"n\": [1, 2, \"three\"]}"),
	    MESH_TASK_STATE(SUCCEEDED));
	assert_int_equal(c->nresults, 1);
	/* Called before the terminal update, which can then carry it. */
	assert_false(c->terminal_before_result);
	assert_string_equal(c->why, "");
	assert_non_null(c->result);
	r = json_loads(c->result, 0, NULL);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "job-7");
	assert_int_equal(json_integer_value(json_object_get(r, "epoch")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "attempt")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "task_attempt")),
	    1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(r, "payload"), "n"), 2)), "three");
	/* Private files in a private directory under run_dir, gone now. */
	assert_string_equal(c->out, "600|700");
	dir = json_string_value(json_object_get(r, "payload_file"));
	assert_non_null(dir);
	assert_memory_equal(dir, c->runs, strlen(c->runs));
	assert_false(exists(dir));
	assert_false(exists(json_string_value(json_object_get(r,
	    "result_file"))));
	assert_true(exists(c->runs));
	json_decref(r);
}

static void
test_job_without_payload_or_result(void **state)
{
	struct ctx *c = *state;

	start(c, "cat \"$AGENTFLOW_PAYLOAD_FILE\"", 0, c->runs);
	assert_int_equal(run_job(c, NULL), MESH_TASK_STATE(SUCCEEDED));
	/* The payload file always parses; no result file, no reason. */
	assert_string_equal(c->out, "null");
	assert_int_equal(c->nresults, 1);
	assert_null(c->result);
	assert_string_equal(c->why, "");
}

static void
test_result_of_the_last_attempt_only(void **state)
{
	struct ctx *c = *state;

	/* The first attempt leaves a result and fails; the retry leaves
	 * none: the first attempt's must not pass for the job's. */
	start(c, "echo \"try $AGENTFLOW_TASK_ATTEMPT\"; "
	    "if [ \"$AGENTFLOW_TASK_ATTEMPT\" = 1 ]; then "
	    "echo '{\"stale\": 1}' > \"$AGENTFLOW_RESULT_FILE\"; exit 1; fi",
	    1, c->runs);
	assert_int_equal(run_job(c, "1"), MESH_TASK_STATE(SUCCEEDED));
	assert_string_equal(c->out, "try 1|try 2");
	assert_int_equal(c->nresults, 1);
	assert_null(c->result);
	assert_string_equal(c->why, "");
}

static void
test_result_bounds(void **state)
{
	struct ctx *c = *state;

	/* Exactly the bound: a JSON string of 65534 letters and its quotes. */
	start(c, "{ printf '\"'; head -c 65534 /dev/zero | tr '\\0' a; "
	    "printf '\"'; } > \"$AGENTFLOW_RESULT_FILE\"", 0, c->runs);
	assert_int_equal(run_job(c, NULL), MESH_TASK_STATE(SUCCEEDED));
	assert_non_null(c->result);
	assert_int_equal(c->result_len, 65536);
	assert_string_equal(c->why, "");
	tasks_free(c->t);
	c->terminal = 0;

	/* One byte over it. */
	start(c, "{ printf '\"'; head -c 65535 /dev/zero | tr '\\0' a; "
	    "printf '\"'; } > \"$AGENTFLOW_RESULT_FILE\"", 0, c->runs);
	assert_int_equal(run_job(c, NULL), MESH_TASK_STATE(SUCCEEDED));
	assert_null(c->result);
	assert_string_equal(c->why, "result over 65536 bytes");
}

static void
test_result_refused(void **state)
{
	static const struct {
		const char	*script;
		const char	*why;
	} cases[] = {
		{ "echo 'not json' > \"$AGENTFLOW_RESULT_FILE\"",
		  "result is not JSON" },
		{ ": > \"$AGENTFLOW_RESULT_FILE\"", "result is not JSON" },
		{ "printf '\"a\\000b\"' > \"$AGENTFLOW_RESULT_FILE\"",
		  "result is not JSON" },
		/* A FIFO would block the loop at the open. */
		{ "mkfifo \"$AGENTFLOW_RESULT_FILE\"",
		  "result is not a regular file" },
		{ "ln -s /etc/hostname \"$AGENTFLOW_RESULT_FILE\"",
		  "result is not a regular file" },
		{ "mkdir \"$AGENTFLOW_RESULT_FILE\"",
		  "result is not a regular file" },
	};
	struct ctx *c = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		start(c, cases[i].script, 0, c->runs);
		c->terminal = 0;
		c->nresults = 0;
		assert_int_equal(run_job(c, NULL), MESH_TASK_STATE(SUCCEEDED));
		assert_int_equal(c->nresults, 1);
		assert_null(c->result);
		assert_string_equal(c->why, cases[i].why);
		tasks_free(c->t);
		c->t = NULL;
	}
}

static void
test_bad_jobs_refused(void **state)
{
	struct ctx *c = *state;
	struct tasks_job ok = { "job-1", 1, 1, NULL, 0 }, j;
	char id[64], msg[256], *big;
	size_t n = 65537;

	start(c, "true", 0, c->runs);
	j = ok;
	j.job_id = "bad/id";
	assert_int_equal(run(c, &j, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(msg, "job id is not an id");
	j = ok;
	j.epoch = 0;
	assert_int_equal(run(c, &j, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(msg, "job epoch and attempt start at 1");
	j = ok;
	j.attempt = 0;
	assert_int_equal(run(c, &j, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	j = ok;
	j.payload = "{\"a\":";
	j.payload_len = strlen(j.payload);
	assert_int_equal(run(c, &j, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(msg, "payload is not JSON");
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	big[0] = '"';
	big[n - 1] = '"';
	big[n] = '\0';
	j = ok;
	j.payload = big;
	j.payload_len = n;
	assert_int_equal(run(c, &j, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(msg, "payload over 65536 bytes");
	free(big);
	/* Nothing was queued by any of them. */
	assert_int_equal(tasks_active(c->t), 0);
	assert_false(c->terminal);
	assert_int_equal(c->last_state, 0);
	tasks_free(c->t);

	/* A node without a run directory runs no jobs. */
	start(c, "true", 0, NULL);
	assert_int_equal(run(c, &ok, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(msg, "this node runs no jobs (no run directory)");
}

static void
test_non_job_run_unchanged(void **state)
{
	struct ctx *c = *state;
	struct tasks_request req = { .name = "job" };
	char id[64], msg[256];

	/* The node's own job variables (it may itself run under a job)
	 * never reach a run. */
	assert_int_equal(setenv("AGENTFLOW_JOB_ID", "outer", 1), 0);
	assert_int_equal(setenv("AGENTFLOW_RESULT_FILE", "/tmp/x", 1), 0);
	start(c, "echo \"[${AGENTFLOW_JOB_ID-unset}]"
	    "[${AGENTFLOW_RESULT_FILE-unset}][${AGENTFLOW_TASK_ATTEMPT-unset}]\"",
	    0, c->runs);
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	assert_int_equal(wait_end(c), MESH_TASK_STATE(SUCCEEDED));
	assert_string_equal(c->out, "[unset][unset][unset]");
	assert_int_equal(c->nresults, 0);
	unsetenv("AGENTFLOW_JOB_ID");
	unsetenv("AGENTFLOW_RESULT_FILE");
}

static void
test_stale_run_dirs_removed(void **state)
{
	struct ctx *c = *state;
	char path[256];
	FILE *f;

	assert_int_equal(mkdir(c->runs, 0700), 0);
	snprintf(path, sizeof path, "%s/t1-9", c->runs);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/t1-9/result.json", c->runs);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	start(c, "true", 0, c->runs);
	assert_false(exists(path));
	snprintf(path, sizeof path, "%s/t1-9", c->runs);
	assert_false(exists(path));
	assert_true(exists(c->runs));
}

static void
test_cancelled_queued_job_reports(void **state)
{
	struct ctx *c = *state;
	struct tasks_job job = { "job-2", 1, 1, NULL, 0 };
	char id[64], msg[256];

	/* Cancelled before it started: the hook still hears the end (no
	 * result), so the job is never left waiting. */
	start(c, "true", 0, c->runs);
	assert_int_equal(run(c, &job, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	assert_int_equal(tasks_cancel(c->t, id, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	assert_int_equal(c->last_state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(c->nresults, 1);
	assert_null(c->result);
	assert_string_equal(c->why, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_job_sees_its_job),
		T(test_job_without_payload_or_result),
		T(test_result_of_the_last_attempt_only),
		T(test_result_bounds),
		T(test_result_refused),
		T(test_bad_jobs_refused),
		T(test_non_job_run_unchanged),
		T(test_stale_run_dirs_removed),
		T(test_cancelled_queued_job_reports),
#undef T
	};

	log_init("test_tasks_job", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
