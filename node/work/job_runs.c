/*
 * The runs this node holds for jobs (see job_runs.h).  A run's row in
 * job_runs is the truth; memory holds only what a live process needs
 * (task id → run) and the sender's backoff.  Every change is written
 * before it is acted on or answered.
 */
#include "job_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "jobs.h"
#include "jobs_spec.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "store.h"
#include "store_jobs.h"
#include "tasks.h"
#include "wall_timer.h"
#include "xalloc.h"

#define SEND_TICK_MS	1000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS	30000
#define RUN_KEY_MAX	96

/* The sender's state of one undelivered result. */
struct sending {
	uint64_t	 next_ms;
	uint64_t	 backoff_ms;
	int		 inflight;
};

struct job_runs {
	struct node	*n;
	struct hmap	*bytask;	/* task id → "job/epoch" (owned string) */
	struct hmap	*results;	/* task id → json_t {result, why} */
	struct hmap	*sending;	/* "job/epoch" → struct sending */
	struct wall_timer *tick;	/* SEND_TICK_MS; soon: one pass now */
};

static void
run_key(char *buf, size_t len, const char *job_id, uint64_t epoch)
{
	snprintf(buf, len, "%s/%llu", job_id, (unsigned long long)epoch);
}

static uint64_t
epoch_of(const json_t *row)
{
	return (uint64_t)json_integer_value(json_object_get(row, "epoch"));
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A field that is there and not null, or NULL. */
static const json_t *
given(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_null(v) ? NULL : v;
}

/* --- rows ------------------------------------------------------------------- */

static int
append_cb(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

/* Runs of a job, or of a key (new reference; empty on an error, logged). */
static json_t *
rows(struct job_runs *jr, const char *job_id, const char *key, int undelivered)
{
	json_t *a = json_array();

	if (store_job_runs(jr->n->store, job_id, key, undelivered, append_cb,
	    a) < 0)
		log_event(LOG_ERROR, "cannot read job runs", "{s:s}", "error",
		    store_error(jr->n->store));
	return a;
}

static int
put(struct job_runs *jr, json_t *row)
{
	char *text;
	int rc;

	json_object_set_new(row, "updated_ms",
	    json_integer((json_int_t)clock_wall_ms()));
	text = json_dumps(row, JSON_COMPACT);
	if ((rc = store_job_run_put(jr->n->store, str(row, "job_id"),
	    epoch_of(row), str(row, "issuer"), str(row, "key"),
	    str(row, "state"), json_is_true(json_object_get(row, "delivered")),
	    (int64_t)clock_wall_ms(), text)) != 0)
		log_event(LOG_ERROR, "cannot store a job run", "{s:s, s:s}", "job",
		    str(row, "job_id"), "error", store_error(jr->n->store));
	free(text);
	return rc;
}

static int
row_final(const json_t *row)
{
	const char *s = str(row, "state");

	return s != NULL && strcmp(s, "running") != 0;
}

/* What a JOB_RUN is answered with for a recorded run (new reference). */
static json_t *
answer(const json_t *row)
{
	json_t *b = json_pack("{s:O, s:O?, s:O?, s:b}", "state",
	    json_object_get(row, "state"), "task_id",
	    json_object_get(row, "task_id"), "reason",
	    json_object_get(row, "reason"), "recorded", 1);

	if (json_object_get(row, "alias_of") != NULL)
		json_object_set(b, "duplicate_of", json_object_get(
		    json_object_get(row, "alias_of"), "job_id"));
	return b;
}

static int
is_fenced(const json_t *row)
{
	const char *s = str(row, "state");

	return s != NULL && strcmp(s, "fenced") == 0;
}

/* Whether r is an alias waiting on run (its job, under its issuer: an
 * alias recorded before issuers were kept names the job only). */
static int
waits_on(const json_t *r, const json_t *run)
{
	const json_t *of = json_object_get(r, "alias_of");

	return of != NULL && !row_final(r) && str(of, "job_id") != NULL &&
	    strcmp(str(of, "job_id"), str(run, "job_id")) == 0 &&
	    (str(of, "issuer") == NULL || (str(run, "issuer") != NULL &&
	    strcmp(str(of, "issuer"), str(run, "issuer")) == 0));
}

/*
 * The runs waiting as aliases on a run that will not end with a result
 * of its job here (its issuer fenced it) fail, saying why: their issuers
 * have an answer instead of a job running forever.
 */
static void
release_aliases(struct job_runs *jr, const json_t *row)
{
	json_t *krows, *r;
	char why[256];
	size_t i;

	if (str(row, "key") == NULL)
		return;
	snprintf(why, sizeof(why), "the run it waited for (job %s epoch %llu, "
	    "same key) was fenced: submit it again", str(row, "job_id"),
	    (unsigned long long)epoch_of(row));
	krows = rows(jr, NULL, str(row, "key"), 0);
	json_array_foreach(krows, i, r) {
		if (!waits_on(r, row))
			continue;
		json_object_set_new(r, "state", json_string("failed"));
		json_object_set_new(r, "reason", json_string(why));
		json_object_set_new(r, "finished_ms",
		    json_integer((json_int_t)clock_wall_ms()));
		put(jr, r);
		wall_timer_soon(jr->tick, 0);
	}
	json_decref(krows);
}

/* A run of an older epoch, or one its issuer fenced: stopped, final,
 * never sent as a result.  release: no newer epoch of its job follows
 * here, so the aliases waiting on it are released. */
static void
fence_row(struct job_runs *jr, json_t *row, const char *why, int release)
{
	char msg[256];
	const char *task = str(row, "task_id");

	if (str(row, "state") != NULL && strcmp(str(row, "state"), "running") == 0 &&
	    task != NULL)
		(void)tasks_cancel(jr->n->tasks, task, 1, msg, sizeof(msg));
	json_object_set_new(row, "state", json_string("fenced"));
	json_object_set_new(row, "reason", json_string(why));
	json_object_set_new(row, "delivered", json_true());
	put(jr, row);
	log_event(LOG_INFO, "job run fenced", "{s:s, s:I, s:s}", "job",
	    str(row, "job_id"), "epoch", (json_int_t)epoch_of(row), "why", why);
	if (release)
		release_aliases(jr, row);
}

/*
 * Runs are the issuer's: job ids are the issuer's names, and another
 * peer naming the same id must not reach them.  The rows of job_id held
 * for issuer (new reference), the newest epoch among them in *newest (0:
 * none), and in *other the row at epoch held for another issuer, if any
 * (the table's key is (job, epoch); borrowed from *all, which the caller
 * frees).
 */
static json_t *
issuer_rows(struct job_runs *jr, const char *job_id, const char *issuer,
    uint64_t epoch, json_t **all, uint64_t *newest, json_t **other)
{
	json_t *mine = json_array(), *r;
	size_t i;

	*all = rows(jr, job_id, NULL, 0);
	*newest = 0;
	*other = NULL;
	json_array_foreach(*all, i, r) {
		if (str(r, "issuer") == NULL || strcmp(str(r, "issuer"),
		    issuer) != 0) {
			if (epoch_of(r) == epoch)
				*other = r;
			continue;
		}
		json_array_append(mine, r);
		if (epoch_of(r) > *newest)
			*newest = epoch_of(r);
	}
	return mine;
}

static int
epoch_refused(const char *id, uint64_t epoch, uint64_t newest, char *err,
    size_t errlen)
{
	if (jobs_epoch_ok(epoch, newest))
		return 0;
	snprintf(err, errlen, "args.epoch: %llu for job %s is out of bounds (at "
	    "most %llu, and %llu above the newest held, %llu)",
	    (unsigned long long)epoch, id, (unsigned long long)JOBS_EPOCH_MAX,
	    (unsigned long long)JOBS_EPOCH_AHEAD, (unsigned long long)newest);
	return 1;
}

/* --- JOB_RUN ---------------------------------------------------------------- */

static int
check_run_args(const json_t *args, char *err, size_t errlen)
{
	const char *id = str(args, "job_id");
	json_t *ep = json_object_get(args, "epoch"), *p;

	if (id == NULL || !node_id_valid(id, strlen(id))) {
		snprintf(err, errlen, "args.job_id: an id is required");
		return -1;
	}
	if (!json_is_integer(ep) || json_integer_value(ep) < 1) {
		snprintf(err, errlen, "args.epoch: an integer >= 1 is required");
		return -1;
	}
	p = json_object_get(args, "payload");
	if (p != NULL && !json_is_null(p) && (!json_is_string(p) ||
	    json_string_length(p) > JOBS_PAYLOAD_MAX)) {
		snprintf(err, errlen, "args.payload: JSON text of at most %d bytes",
		    JOBS_PAYLOAD_MAX);
		return -1;
	}
	if (!json_is_string(json_object_get(args, "args_hash"))) {
		snprintf(err, errlen, "args.args_hash: required");
		return -1;
	}
	/* What runs is what was hashed (and granted, job_grant.h). */
	p = jobs_spec_args_hash(args);
	if (!json_equal(p, json_object_get(args, "args_hash"))) {
		json_decref(p);
		snprintf(err, errlen, "args.args_hash: does not match the job's "
		    "task, command, args and payload");
		return -1;
	}
	json_decref(p);
	return 0;
}

/* The first job under the same key (another job id), or NULL; borrowed
 * from krows. */
static json_t *
first_of_key(json_t *krows, const char *job_id)
{
	json_t *r, *first = NULL;
	size_t i;

	json_array_foreach(krows, i, r) {
		/* A fenced run gives no result: not one to wait on. */
		if (strcmp(str(r, "job_id"), job_id) == 0 ||
		    json_object_get(r, "alias_of") != NULL ||
		    json_is_true(json_object_get(r, "marker")) || is_fenced(r))
			continue;
		if (first == NULL || json_integer_value(json_object_get(r,
		    "received_ms")) < json_integer_value(json_object_get(first,
		    "received_ms")))
			first = r;
	}
	/* Its newest epoch (under its issuer) holds its result. */
	json_array_foreach(krows, i, r)
		if (first != NULL && strcmp(str(r, "job_id"),
		    str(first, "job_id")) == 0 && epoch_of(r) > epoch_of(first) &&
		    strcmp(str(r, "issuer"), str(first, "issuer")) == 0 &&
		    json_object_get(r, "alias_of") == NULL && !is_fenced(r))
			first = r;
	return first;
}

/* The result fields a run hands on (to an alias, to the issuer). */
static const char *const result_fields[] = { "state", "exit_code",
    "term_signal", "result", "why_no_result", "reason", "started_ms",
    "finished_ms", "task_id" };

static void
copy_result(json_t *to, const json_t *from)
{
	for (size_t i = 0; i < sizeof(result_fields) / sizeof(result_fields[0]);
	    i++)
		if (json_object_get(from, result_fields[i]) != NULL)
			json_object_set(to, result_fields[i],
			    json_object_get(from, result_fields[i]));
}

int
job_runs_run(struct job_runs *jr, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	struct tasks_request req = { 0 };
	struct tasks_job job = { 0 };
	const char *id, *key, *payload;
	json_t *all, *other, *held, *r, *row, *krows, *first;
	char task_id[64], rk[RUN_KEY_MAX];
	uint64_t epoch, newest;
	size_t i;
	int st;

	if (check_run_args(args, err, errlen) != 0)
		return MESH_COMMAND_STATUS(INVALID);
	id = str(args, "job_id");
	epoch = (uint64_t)json_integer_value(json_object_get(args, "epoch"));
	key = str(args, "key");
	held = issuer_rows(jr, id, c->origin, epoch, &all, &newest, &other);
	if (epoch_refused(id, epoch, newest, err, errlen) ||
	    (other != NULL && !json_is_true(json_object_get(other, "marker")))) {
		if (other != NULL)
			snprintf(err, errlen, "job %s epoch %llu is held on %s for "
			    "another issuer", id, (unsigned long long)epoch,
			    jr->n->id);
		json_decref(held);
		json_decref(all);
		return MESH_COMMAND_STATUS(REFUSED);
	}
	/* Another issuer's marker only keeps its own late JOB_RUN out; this
	 * row, under another issuer, still does. */
	json_decref(all);
	json_array_foreach(held, i, r) {
		if (epoch_of(r) == epoch) {
			*body = answer(r);
			json_decref(held);
			return MESH_COMMAND_STATUS(OK);
		}
		if (epoch_of(r) > epoch) {
			snprintf(err, errlen, "fenced: job %s epoch %llu is older "
			    "than epoch %llu held on %s", id,
			    (unsigned long long)epoch,
			    (unsigned long long)epoch_of(r), jr->n->id);
			*body = json_pack("{s:b}", "fenced", 1);
			json_decref(held);
			return MESH_COMMAND_STATUS(REFUSED);
		}
	}
	/* A newer lease: what an older one still runs here stops. */
	json_array_foreach(held, i, r)
		if (!row_final(r))
			fence_row(jr, r, "a newer epoch arrived", 0);
	json_decref(held);
	if ((uint64_t)json_integer_value(json_object_get(args, "deadline_ms")) <
	    clock_wall_ms() && json_integer_value(json_object_get(args,
	    "deadline_ms")) != 0) {
		snprintf(err, errlen, "job %s: deadline passed before it reached "
		    "%s", id, jr->n->id);
		return MESH_COMMAND_STATUS(REFUSED);
	}
	row = json_pack("{s:s, s:I, s:O?, s:s, s:O?, s:O, s:O?, s:O?, s:s, s:I,"
	    " s:b}", "job_id", id, "epoch", (json_int_t)epoch, "attempt",
	    json_object_get(args, "attempt"), "issuer", c->origin, "key",
	    json_object_get(args, "key"), "args_hash",
	    json_object_get(args, "args_hash"), "task",
	    json_object_get(args, "task"), "principal",
	    json_object_get(args, "principal"), "state", "running",
	    "received_ms", (json_int_t)clock_wall_ms(), "delivered", 0);
	if (key != NULL) {
		krows = rows(jr, NULL, key, 0);
		if ((first = first_of_key(krows, id)) != NULL) {
			if (!json_equal(json_object_get(first, "args_hash"),
			    json_object_get(args, "args_hash"))) {
				snprintf(err, errlen, "idempotency key used for "
				    "other arguments (job %s)", str(first, "job_id"));
				*body = json_pack("{s:O}", "conflict",
				    json_object_get(first, "job_id"));
				json_decref(krows);
				json_decref(row);
				return MESH_COMMAND_STATUS(REFUSED);
			}
			/* The same job through another issuer: not run again. */
			json_object_set_new(row, "alias_of", json_pack("{s:O, s:O, "
			    "s:O}", "job_id", json_object_get(first, "job_id"), "epoch",
			    json_object_get(first, "epoch"), "issuer",
			    json_object_get(first, "issuer")));
			if (row_final(first))
				copy_result(row, first);
			put(jr, row);
			*body = answer(row);
			json_decref(krows);
			json_decref(row);
			return MESH_COMMAND_STATUS(OK);
		}
		json_decref(krows);
	}
	/* Recorded before anything starts. */
	if (put(jr, row) != 0) {
		snprintf(err, errlen, "cannot record the run: %s",
		    store_error(jr->n->store));
		json_decref(row);
		return MESH_COMMAND_STATUS(ERROR);
	}
	payload = str(args, "payload");
	job.job_id = id;
	job.epoch = epoch;
	job.attempt = (uint32_t)json_integer_value(json_object_get(args,
	    "attempt"));
	job.payload = payload;
	job.payload_len = payload != NULL ? strlen(payload) : 0;
	req.name = str(args, "task");
	req.args = given(args, "args");
	req.adhoc = given(args, "command");
	req.command_id = c->id;
	req.principal = str(args, "principal");
	req.job = &job;
	st = tasks_run(jr->n->tasks, &req, task_id, sizeof(task_id), err, errlen);
	if (st != MESH_COMMAND_STATUS(OK)) {
		/* Final at once; the issuer has it as a result, like any. */
		json_object_set_new(row, "state", json_string("failed"));
		json_object_set_new(row, "reason", json_string(err));
		json_object_set_new(row, "finished_ms",
		    json_integer((json_int_t)clock_wall_ms()));
		err[0] = '\0';
	} else {
		json_object_set_new(row, "task_id", json_string(task_id));
		json_object_set_new(row, "started_ms",
		    json_integer((json_int_t)clock_wall_ms()));
		run_key(rk, sizeof(rk), id, epoch);
		free(hmap_put(jr->bytask, task_id, xstrdup(rk)));
	}
	put(jr, row);
	*body = answer(row);
	json_decref(row);
	if (st != MESH_COMMAND_STATUS(OK))
		wall_timer_soon(jr->tick, 0);
	return MESH_COMMAND_STATUS(OK);
}

/* --- JOB_FENCE -------------------------------------------------------------- */

int
job_runs_fence(struct job_runs *jr, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = str(args, "job_id");
	json_t *ep = json_object_get(args, "epoch"), *all, *other, *held, *r;
	json_t *marker;
	uint64_t epoch, newest;
	int stopped = 0;
	size_t i;

	if (!jobs_from_node(c->principal, c->origin)) {
		snprintf(err, errlen, "job_fence is node-internal");
		return MESH_COMMAND_STATUS(REFUSED);
	}
	if (id == NULL || !node_id_valid(id, strlen(id)) ||
	    !json_is_integer(ep) || json_integer_value(ep) < 1) {
		snprintf(err, errlen, "args: job_id and epoch >= 1 are required");
		return MESH_COMMAND_STATUS(INVALID);
	}
	epoch = (uint64_t)json_integer_value(ep);
	held = issuer_rows(jr, id, c->origin, epoch, &all, &newest, &other);
	if (epoch_refused(id, epoch, newest, err, errlen)) {
		json_decref(held);
		json_decref(all);
		return MESH_COMMAND_STATUS(INVALID);
	}
	json_array_foreach(held, i, r) {
		if (epoch_of(r) <= epoch && !is_fenced(r)) {
			stopped += !row_final(r);
			fence_row(jr, r, "fenced by the issuer", 1);
		}
	}
	/* Nothing of that epoch yet: a late JOB_RUN of it is refused.  Not
	 * over another issuer's row of that (job, epoch). */
	if (newest < epoch && other == NULL) {
		marker = json_pack("{s:s, s:I, s:s, s:s, s:b, s:b, s:s}", "job_id",
		    id, "epoch", (json_int_t)epoch, "issuer", c->origin, "state",
		    "fenced", "delivered", 1, "marker", 1, "reason",
		    "fenced before it arrived");
		put(jr, marker);
		json_decref(marker);
	}
	json_decref(held);
	json_decref(all);
	*body = json_pack("{s:s, s:I, s:i}", "job_id", id, "epoch",
	    (json_int_t)epoch, "stopped", stopped);
	return MESH_COMMAND_STATUS(OK);
}

/* --- the end of a run ---------------------------------------------------------- */

void
job_runs_task_result(struct job_runs *jr, const char *task_id,
    const char *result, size_t len, const char *why)
{
	json_t *r = result != NULL ? json_loadb(result, len, JSON_DECODE_ANY,
	    NULL) : NULL;

	if (hmap_get(jr->bytask, task_id) == NULL) {
		json_decref(r);
		return;
	}
	if (r != NULL && len > JOBS_RESULT_MAX) {
		json_decref(r);
		r = NULL;
		why = "result over 63488 bytes (the most a result command carries)";
	}
	json_decref(hmap_put(jr->results, task_id, json_pack("{s:o, s:s?}",
	    "result", r != NULL ? r : json_null(), "why", why)));
}

static const char *
run_state(Agentflow__Mesh__V1__TaskState s)
{
	switch (s) {
	case MESH_TASK_STATE(SUCCEEDED): return "succeeded";
	case MESH_TASK_STATE(CANCELLED): return "cancelled";
	default: return "failed";
	}
}

/* Hands a finished run's result to the runs that are its aliases. */
static void
to_aliases(struct job_runs *jr, const json_t *row)
{
	json_t *krows, *r;
	size_t i;

	if (str(row, "key") == NULL)
		return;
	krows = rows(jr, NULL, str(row, "key"), 0);
	json_array_foreach(krows, i, r) {
		if (!waits_on(r, row))
			continue;
		copy_result(r, row);
		put(jr, r);
	}
	json_decref(krows);
}

void
job_runs_task_update(struct job_runs *jr,
    const Agentflow__Mesh__V1__TaskUpdate *t)
{
	char *rk;
	json_t *held, *r, *row = NULL, *res;
	const char *slash;
	char job_id[RUN_KEY_MAX];
	size_t i;

	if (t->state != MESH_TASK_STATE(SUCCEEDED) &&
	    t->state != MESH_TASK_STATE(FAILED) &&
	    t->state != MESH_TASK_STATE(CANCELLED) &&
	    t->state != MESH_TASK_STATE(TIMED_OUT))
		return;
	if ((rk = hmap_del(jr->bytask, t->task_id)) == NULL)
		return;
	res = hmap_del(jr->results, t->task_id);
	slash = strrchr(rk, '/');
	snprintf(job_id, sizeof(job_id), "%.*s", (int)(slash - rk), rk);
	held = rows(jr, job_id, NULL, 0);
	json_array_foreach(held, i, r)
		if (epoch_of(r) == strtoull(slash + 1, NULL, 10))
			row = r;
	if (row != NULL) {
		json_object_set_new(row, "exit_code", json_integer(t->exit_code));
		json_object_set_new(row, "term_signal", json_integer(t->term_signal));
		json_object_set_new(row, "finished_ms",
		    json_integer((json_int_t)t->finished_ms));
		json_object_set(row, "result", res != NULL ?
		    json_object_get(res, "result") : json_null());
		if (res != NULL && json_is_string(json_object_get(res, "why")))
			json_object_set(row, "why_no_result",
			    json_object_get(res, "why"));
		if (strcmp(str(row, "state"), "fenced") != 0) {
			json_object_set_new(row, "state",
			    json_string(run_state(t->state)));
			if (t->reason != NULL && t->reason[0] != '\0')
				json_object_set_new(row, "reason",
				    json_string(t->reason));
			to_aliases(jr, row);
		}
		put(jr, row);
		wall_timer_soon(jr->tick, 0);
	}
	json_decref(held);
	json_decref(res);
	free(rk);
}

/* --- sending results ------------------------------------------------------------- */

static void
sent_done(const char *cid, const json_t *crec, void *arg)
{
	struct job_runs *jr = arg;
	const json_t *args = json_object_get(crec, "args");
	json_t *res = json_array_get(json_object_get(crec, "results"), 0);
	json_t *body = json_object_get(res, "body"), *held, *r;
	const char *status = json_string_value(json_object_get(res, "status"));
	const char *id = str(args, "job_id");
	uint64_t epoch = epoch_of(args);
	char rk[RUN_KEY_MAX];
	struct sending *s;
	size_t i;

	(void)cid;
	if (id == NULL)
		return;
	run_key(rk, sizeof(rk), id, epoch);
	if ((s = hmap_get(jr->sending, rk)) != NULL)
		s->inflight = 0;
	if (status == NULL || strcmp(status, "ok") != 0) {
		if (s != NULL) {
			s->next_ms = clock_wall_ms() + s->backoff_ms;
			s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : s->backoff_ms * 2;
		}
		return;
	}
	held = rows(jr, id, NULL, 0);
	json_array_foreach(held, i, r) {
		if (epoch_of(r) != epoch)
			continue;
		json_object_set_new(r, "delivered", json_true());
		if (json_is_true(json_object_get(body, "fenced")))
			json_object_set_new(r, "fenced", json_true());
		put(jr, r);
	}
	json_decref(held);
	free(hmap_del(jr->sending, rk));
}

static void
send_result(struct job_runs *jr, const json_t *row)
{
	struct sending *s;
	json_t *args;
	char rk[RUN_KEY_MAX], err[512];

	run_key(rk, sizeof(rk), str(row, "job_id"), epoch_of(row));
	if ((s = hmap_get(jr->sending, rk)) == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->backoff_ms = BACKOFF_FIRST_MS;
		hmap_put(jr->sending, rk, s);
	}
	if (s->inflight || clock_wall_ms() < s->next_ms ||
	    !jobs_reachable(jr->n, str(row, "issuer")))
		return;
	args = json_pack("{s:O, s:O}", "job_id", json_object_get(row, "job_id"),
	    "epoch", json_object_get(row, "epoch"));
	copy_result(args, row);
	s->inflight = 1;
	if (jobs_node_command(jr->n, str(row, "issuer"), "job_result", args,
	    sent_done, jr, err, sizeof(err)) != 0) {
		s->inflight = 0;
		s->next_ms = clock_wall_ms() + s->backoff_ms;
		log_event(LOG_WARN, "cannot send a job result", "{s:s, s:s}",
		    "job", str(row, "job_id"), "error", err);
	}
	json_decref(args);
}

static void
tick_cb(void *arg)
{
	struct job_runs *jr = arg;
	json_t *pending, *r;
	size_t i;

	if (jr->n->commands == NULL)
		return;
	pending = rows(jr, NULL, NULL, 1);
	json_array_foreach(pending, i, r)
		if (row_final(r) && strcmp(str(r, "state"), "fenced") != 0)
			send_result(jr, r);
	json_decref(pending);
}

/* --- lifetime ------------------------------------------------------------------- */

static int
settle(struct job_runs *jr)
{
	json_t *held = json_array(), *r;
	size_t i;
	int n = 0;

	if (store_job_runs_in(jr->n->store, "running", append_cb, held) < 0)
		log_event(LOG_ERROR, "cannot read job runs", "{s:s}", "error",
		    store_error(jr->n->store));
	json_array_foreach(held, i, r) {
		/* An alias waits for its first job, which settles itself. */
		if (json_object_get(r, "alias_of") != NULL)
			continue;
		json_object_set_new(r, "state", json_string("failed"));
		json_object_set_new(r, "reason", json_string("node restarted"));
		json_object_set_new(r, "finished_ms",
		    json_integer((json_int_t)clock_wall_ms()));
		put(jr, r);
		to_aliases(jr, r);
		n++;
	}
	json_decref(held);
	return n;
}

struct job_runs *
job_runs_new(struct node *n)
{
	struct job_runs *jr = xcalloc(1, sizeof(*jr));
	int settled;

	jr->n = n;
	jr->bytask = hmap_new();
	jr->results = hmap_new();
	jr->sending = hmap_new();
	if ((settled = settle(jr)) > 0)
		log_event(LOG_WARN, "job runs interrupted by the restart reported "
		    "failed", "{s:i}", "count", settled);
	jr->tick = wall_timer_new(n->base, SEND_TICK_MS, 0, tick_cb, jr);
	return jr;
}

static int
free_value(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
	return 1;
}

static int
free_json(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	json_decref(value);
	return 1;
}

void
job_runs_free(struct job_runs *jr)
{
	if (jr == NULL)
		return;
	wall_timer_free(jr->tick);
	hmap_sweep(jr->bytask, free_value, NULL);
	hmap_sweep(jr->results, free_json, NULL);
	hmap_sweep(jr->sending, free_value, NULL);
	hmap_free(jr->bytask);
	hmap_free(jr->results);
	hmap_free(jr->sending);
	free(jr);
}
