/*
 * The workflow coordinator (see workflows.h): submitting, the moves of a
 * loaded workflow, and the pass that advances one.
 *
 * The store is the one truth: a pass loads the workflow and its steps,
 * decides, and writes every move it made with its history in one
 * transaction (wf_save).  Nothing about a workflow lives only in memory
 * but the set of ids the tick visits, rebuilt from the store at start.
 * Invariants: a step is running exactly while it names a job; a
 * workflow is succeeded only when every step is; a done workflow
 * (workflow_state_done) has no step running.
 */
#include "workflows.h"
#include "workflows_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "check.h"
#include "clock.h"
#include "jobs.h"
#include "jobs_spec.h"
#include "log.h"
#include "node.h"
#include "rng.h"
#include "store.h"
#include "store_workflows.h"
#include "sync_workflows.h"
#include "tasks.h"
#include "text.h"
#include "workflow_spec.h"
#include "wall_timer.h"
#include "workflows_events.h"
#include "xalloc.h"

#define TICK_MS		500
#define BACKOFF_MAX_MS	(3600LL * 1000)

/* --- a loaded workflow ---------------------------------------------------- */

int
wf_load_cb(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

int
wf_ours(const struct workflows *ws, const json_t *row)
{
	const char *c = json_string_value(json_object_get(row, "coordinator"));

	return c != NULL && strcmp(c, ws->n->id) == 0;
}

struct wf *
wf_load(struct workflows *ws, const char *id)
{
	json_t *rows = json_array();
	struct wf *wf;
	int s;

	/* A workflow another node took over is its (workflows_takeover.h):
	 * the row left here is history. */
	if (store_workflow_get(ws->n->store, id, wf_load_cb, rows) != 1 ||
	    json_array_size(rows) != 1 || !wf_ours(ws, json_array_get(rows,
	    0))) {
		json_decref(rows);
		return NULL;
	}
	wf = xcalloc(1, sizeof(*wf));
	wf->row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	wf->steps = json_array();
	wf->dirty = json_array();
	wf->hist = json_array();
	if (store_workflow_steps(ws->n->store, id, wf_load_cb, wf->steps) < 0)
		log_event(LOG_ERROR, "cannot read a workflow's steps", "{s:s, s:s}",
		    "workflow", id, "error", store_error(ws->n->store));
	s = workflow_state_parse(json_string_value(json_object_get(wf->row,
	    "state")));
	wf->state = s < 0 ? WF_FAILED : (enum workflow_state)s;
	return wf;
}

void
wf_free(struct wf *wf)
{
	if (wf == NULL)
		return;
	json_decref(wf->row);
	json_decref(wf->steps);
	json_decref(wf->dirty);
	json_decref(wf->hist);
	free(wf);
}

const char *
wf_id(const struct wf *wf)
{
	return json_string_value(json_object_get(wf->row, "id"));
}

/* The invariants at the top, before a write makes them durable. */
static void
wf_check(const struct wf *wf)
{
	size_t i, ok = 0;
	json_t *s;

	json_array_foreach(wf->steps, i, s) {
		enum workflow_step_state st = wf_step_state(s);
		CHECK(st != WFS_RUNNING || json_is_string(json_object_get(s,
		    "job_id")));
		CHECK(st != WFS_RUNNING || !workflow_state_done(wf->state));
		ok += st == WFS_SUCCEEDED;
	}
	CHECK(wf->state != WF_SUCCEEDED || ok == json_array_size(wf->steps));
}


/* A fanned-out step's children's results, together (a later payload's
 * bound less room for the rest of it). */
#define CHILDREN_RESULT_MAX	(48 * 1024)

int
wf_save(struct workflows *ws, struct wf *wf)
{
	json_int_t now, prev;
	int rc;

	if (json_array_size(wf->hist) == 0 && json_array_size(wf->dirty) == 0)
		return 0;
	wf_check(wf);
	/* Never back, even when the clock is: the mesh keeps the newest. */
	now = (json_int_t)clock_wall_ms();
	prev = json_integer_value(json_object_get(wf->row, "updated_ms"));
	json_object_set_new(wf->row, "updated_ms", json_integer(now > prev ?
	    now : prev + 1));
	rc = store_workflow_write(ws->n->store, wf_id(wf), wf->row, wf->dirty,
	    wf->hist);
	if (rc != 0)
		log_event(LOG_ERROR, "cannot store a workflow's move", "{s:s, s:s}",
		    "workflow", wf_id(wf), "error", store_error(ws->n->store));
	else
		wf_publish(ws, wf, 0);	/* every stored move is a mesh event */
	json_array_clear(wf->dirty);
	json_array_clear(wf->hist);
	return rc;
}

json_t *
wf_step(const struct wf *wf, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(wf->steps, i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	return NULL;
}

const json_t *
wf_step_def(const struct wf *wf, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(wf->row,
	    "definition"), "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	return NULL;
}

enum workflow_step_state
wf_step_state(const json_t *step)
{
	int s = workflow_step_state_parse(json_string_value(json_object_get(step,
	    "state")));

	return s < 0 ? WFS_FAILED : (enum workflow_step_state)s;
}

static void
history(struct wf *wf, json_t *h)
{
	json_object_set_new(h, "time_ms", json_integer((json_int_t)
	    clock_wall_ms()));
	json_array_append_new(wf->hist, h);
}

void
wf_set(struct wf *wf, enum workflow_state to, const char *why,
    const char *who)
{
	CHECK(workflow_state_may(wf->state, to));
	history(wf, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "event", "workflow",
	    "from", workflow_state_name(wf->state), "state",
	    workflow_state_name(to), "reason", why, "principal", who));
	wf->state = to;
	json_object_set_new(wf->row, "state", json_string(
	    workflow_state_name(to)));
	json_object_set_new(wf->row, "reason", why != NULL ? json_string(why) :
	    json_null());
	json_object_set_new(wf->row, "finished_ms", json_integer(
	    workflow_state_done(to) ? (json_int_t)clock_wall_ms() : 0));
}

void
wf_step_set(struct wf *wf, json_t *step, enum workflow_step_state to,
    const char *why, const char *who)
{
	enum workflow_step_state from = wf_step_state(step);
	uint64_t now = clock_wall_ms();

	CHECK(workflow_step_state_may(from, to));
	history(wf, json_pack("{s:s, s:O, s:s, s:s, s:O, s:O?, s:s?, s:s?}",
	    "event", "step", "step", json_object_get(step, "name"), "from",
	    workflow_step_state_name(from), "state",
	    workflow_step_state_name(to), "attempt", json_object_get(step,
	    "attempt"), "job", json_object_get(step, "job_id"), "reason", why,
	    "principal", who));
	json_object_set_new(step, "state", json_string(
	    workflow_step_state_name(to)));
	if (to == WFS_RUNNING || to == WFS_WAITING_APPROVAL)
		json_object_set_new(step, "started_ms", json_integer(
		    (json_int_t)now));
	json_object_set_new(step, "finished_ms", json_integer(
	    workflow_step_state_done(to) ? (json_int_t)now : 0));
	if (to == WFS_FAILED || to == WFS_CANCELLED || to == WFS_SKIPPED ||
	    to == WFS_RETRYING)
		json_object_set_new(step, "error", why != NULL ?
		    json_string(why) : json_null());
	wf_touch(wf, step);
}

void
wf_touch(struct wf *wf, json_t *step)
{
	/* A step appears once in a save: the row as it is at the end. */
	for (size_t i = 0; i < json_array_size(wf->dirty); i++)
		if (json_array_get(wf->dirty, i) == step)
			return;
	json_array_append(wf->dirty, step);
}

void
wf_step_cancel(struct workflows *ws, struct wf *wf, json_t *step,
    const char *why, const char *who)
{
	const char *job = json_string_value(json_object_get(step, "job_id"));
	struct principal p;
	char err[256];

	if (wf_step_state(step) == WFS_RUNNING && job != NULL) {
		jobs_node_principal(&p, ws->n->id);
		if (jobs_cancel(ws->n->jobs, job, &p, err, sizeof(err)) != 200)
			log_event(LOG_INFO, "a workflow step's job not cancelled",
			    "{s:s, s:s, s:s}", "workflow", wf_id(wf), "job", job,
			    "why", err);
	}
	wf_step_set(wf, step, WFS_CANCELLED, why, who);
}

/* --- dispatching ---------------------------------------------------------- */

/* name → result of every succeeded step (new reference). */
static json_t *
results(const struct wf *wf)
{
	json_t *out = json_object(), *s;
	size_t i;

	json_array_foreach(wf->steps, i, s)
		if (wf_step_state(s) == WFS_SUCCEEDED)
			json_object_set(out, json_string_value(json_object_get(s,
			    "name")), json_object_get(s, "result") ?
			    json_object_get(s, "result") : json_null());
	return out;
}

/* The body jobs_submit takes for a job step at attempt (new reference),
 * or NULL with err: its payload cannot be rendered. */
static json_t *
job_body(const struct wf *wf, const json_t *def, int attempt, char *err,
    size_t errlen)
{
	static const char *const kept[] = { "task", "command", "args", "to",
	    "at_most_once", "deadline_ms" };
	const json_t *job = json_object_get(def, "job");
	json_t *body = json_object(), *res, *payload;
	char key[JOBS_KEY_MAX];

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (json_object_get(job, kept[i]) != NULL &&
		    !json_is_null(json_object_get(job, kept[i])))
			json_object_set(body, kept[i], json_object_get(job,
			    kept[i]));
	if (json_object_get(def, "payload") != NULL) {
		res = results(wf);
		payload = workflow_spec_render(json_object_get(def, "payload"),
		    json_object_get(wf->row, "params"), res, err, errlen);
		json_decref(res);
		if (payload == NULL) {
			json_decref(body);
			return NULL;
		}
		json_object_set_new(body, "payload", payload);
	}
	snprintf(key, sizeof(key), WF_KEY_PREFIX "%s/%s/%d", wf_id(wf),
	    json_string_value(json_object_get(def, "name")), attempt);
	json_object_set_new(body, "key", json_string(key));
	return body;
}

/*
 * Submits a job step's next attempt and moves it to running with the
 * job's id.  The key is the same for the same attempt, so a submit whose
 * move was lost to a crash answers the same job when made again.
 */
static void
dispatch(struct workflows *ws, struct wf *wf, json_t *step)
{
	const char *name = json_string_value(json_object_get(step, "name"));
	const json_t *def = wf_step_def(wf, name);
	int attempt = (int)json_integer_value(json_object_get(step, "attempt")) + 1;
	struct principal p;
	const char *reattach, *to;
	char id[64], want[64], err[512], why[600];
	json_int_t epoch;
	json_t *body;
	int status;

	if ((body = job_body(wf, def, attempt, err, sizeof(err))) == NULL) {
		snprintf(why, sizeof(why), "payload: %s", err);
		wf_step_set(wf, step, WFS_FAILED, why, NULL);
		return;
	}
	/* A taker submits the attempt the old coordinator dispatched again,
	 * to the same node: the run there answers it (workflows_takeover.h). */
	reattach = json_string_value(json_object_get(step, "reattach"));
	to = json_string_value(json_object_get(body, "to"));
	if (reattach != NULL && to != NULL && strncmp(to, "any", 3) == 0)
		json_object_set_new(body, "to", json_string(reattach));
	/* As this node: the person's token is gone once the call is over.
	 * The job's id is the step's attempt's, as its key is, and the
	 * coordinator's epoch's past the first: a node holds a job id for
	 * one issuer only. */
	jobs_node_principal(&p, ws->n->id);
	epoch = json_integer_value(json_object_get(wf->row,
	    "coordinator_epoch"));
	if (epoch > 1)
		snprintf(want, sizeof(want), "j%s-%lld-%d-e%lld", wf_id(wf),
		    (long long)json_integer_value(json_object_get(step, "idx")),
		    attempt, (long long)epoch);
	else
		snprintf(want, sizeof(want), "j%s-%lld-%d", wf_id(wf), (long long)
		    json_integer_value(json_object_get(step, "idx")), attempt);
	status = jobs_submit_id(ws->n->jobs, body, &p, want, id, sizeof(id), err,
	    sizeof(err));
	json_decref(body);
	if (status != 202 && status != 200) {
		snprintf(why, sizeof(why), "job not submitted (%d): %s", status,
		    err);
		wf_step_set(wf, step, WFS_FAILED, why, NULL);
		return;
	}
	if (status == 202)
		jobs_note(ws->n->jobs, id, "workflow", json_pack("{s:s, s:s, s:i, "
		    "s:O}", "workflow", wf_id(wf), "step", name, "attempt", attempt,
		    "submitter", json_object_get(wf->row, "principal")));
	json_object_set_new(step, "attempt", json_integer(attempt));
	json_object_set_new(step, "tries", json_integer(json_integer_value(
	    json_object_get(step, "tries")) + 1));
	json_object_set_new(step, "job_id", json_string(id));
	json_object_set_new(step, "node", json_null());
	json_object_set_new(step, "reattach", json_null());
	json_object_set_new(step, "next_retry_ms", json_integer(0));
	json_object_set_new(step, "result", json_null());
	wf_step_set(wf, step, WFS_RUNNING, status == 200 ? "re-attached to its "
	    "job" : NULL, NULL);
}

/* A running step's job, if it ended: succeeded, retrying or failed. */
/*
 * A fanned-out step's result (its job's children, jobs_fanout.h):
 * {"children": [{node, job, state, result}]}, in node order.  Results are
 * kept while the whole stays within CHILDREN_RESULT_MAX, as a later
 * payload must; past it a child has "result_omitted": true.
 */
static json_t *
children_result(struct workflows *ws, const json_t *children)
{
	json_t *out = json_array(), *c;
	size_t i, used = 0;

	json_array_foreach(children, i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *rec = id != NULL ? jobs_record(ws->n->jobs, id) : NULL;
		json_t *res = json_object_get(rec, "result");
		char *text = res != NULL ? json_dumps(res, JSON_COMPACT |
		    JSON_ENCODE_ANY) : NULL;
		json_t *e = json_pack("{s:O?, s:s?, s:O?}", "node",
		    json_object_get(c, "node"), "job", id, "state",
		    json_object_get(rec, "state"));

		if (text != NULL && used + strlen(text) <= CHILDREN_RESULT_MAX) {
			used += strlen(text);
			json_object_set(e, "result", res);
		} else if (text != NULL)
			json_object_set_new(e, "result_omitted", json_true());
		free(text);
		json_decref(rec);
		json_array_append_new(out, e);
	}
	return json_pack("{s:o}", "children", out);
}

static void
poll_job(struct workflows *ws, struct wf *wf, json_t *step)
{
	const char *job = json_string_value(json_object_get(step, "job_id"));
	const json_t *def = wf_step_def(wf, json_string_value(json_object_get(
	    step, "name")));
	json_t *rec = job != NULL ? jobs_record(ws->n->jobs, job) : NULL;
	int js = jobs_state_parse(json_string_value(json_object_get(rec,
	    "state")));
	json_int_t tries, retries, backoff;
	char why[600];

	if (rec == NULL) {
		wf_step_set(wf, step, WFS_FAILED, "its job is unknown here", NULL);
		return;
	}
	/* Where it runs, shown while it runs: stored without a move. */
	if (json_is_string(json_object_get(rec, "node")) && !json_equal(
	    json_object_get(step, "node"), json_object_get(rec, "node"))) {
		json_object_set(step, "node", json_object_get(rec, "node"));
		wf_touch(wf, step);
	}
	if (js < 0 || !jobs_state_final((enum jobs_state)js)) {
		json_decref(rec);
		return;
	}
	if (js == JOBS_SUCCEEDED) {
		if (json_is_array(json_object_get(rec, "children")))
			json_object_set_new(step, "result", children_result(ws,
			    json_object_get(rec, "children")));
		else
			json_object_set(step, "result", json_object_get(rec,
			    "result") ? json_object_get(rec, "result") :
			    json_null());
		wf_step_set(wf, step, WFS_SUCCEEDED, NULL, NULL);
		json_decref(rec);
		return;
	}
	snprintf(why, sizeof(why), "job %s %s%s%.500s", job,
	    jobs_state_name((enum jobs_state)js),
	    json_is_string(json_object_get(rec, "reason")) ? ": " : "",
	    json_is_string(json_object_get(rec, "reason")) ? json_string_value(
	    json_object_get(rec, "reason")) : "");
	json_decref(rec);
	tries = json_integer_value(json_object_get(step, "tries"));
	retries = json_integer_value(json_object_get(def, "retries"));
	if (tries <= retries) {
		/* Backoff doubles from the step's own, bounded. */
		backoff = json_integer_value(json_object_get(def, "backoff_ms"));
		for (json_int_t i = 1; i < tries && backoff < BACKOFF_MAX_MS; i++)
			backoff *= 2;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		json_object_set_new(step, "next_retry_ms", json_integer(
		    (json_int_t)clock_wall_ms() + backoff));
		wf_step_set(wf, step, WFS_RETRYING, why, NULL);
	} else
		wf_step_set(wf, step, WFS_FAILED, why, NULL);
}

/* --- the pass ------------------------------------------------------------- */

/* How many of a step's needs are in a state pred holds, and how many
 * it has. */
static size_t
needs_in(const struct wf *wf, const json_t *def, int (*pred)(
    enum workflow_step_state), size_t *total)
{
	json_t *need, *s;
	size_t i, n = 0;

	*total = json_array_size(json_object_get(def, "needs"));
	json_array_foreach(json_object_get(def, "needs"), i, need)
		if ((s = wf_step(wf, json_string_value(need))) != NULL &&
		    pred(wf_step_state(s)))
			n++;
	return n;
}

static int
is_succeeded(enum workflow_step_state s)
{
	return s == WFS_SUCCEEDED;
}

static int
is_broken(enum workflow_step_state s)
{
	return s == WFS_FAILED || s == WFS_SKIPPED || s == WFS_CANCELLED;
}

/* The first failed step's name, or NULL. */
static const char *
failed_step(const struct wf *wf)
{
	json_t *s;
	size_t i;

	json_array_foreach(wf->steps, i, s)
		if (wf_step_state(s) == WFS_FAILED)
			return json_string_value(json_object_get(s, "name"));
	return NULL;
}

static void
over_budget(struct workflows *ws, struct wf *wf)
{
	json_t *s;
	size_t i;

	json_array_foreach(wf->steps, i, s) {
		enum workflow_step_state st = wf_step_state(s);
		if (st == WFS_RUNNING || st == WFS_RETRYING ||
		    st == WFS_WAITING_APPROVAL)
			wf_step_cancel(ws, wf, s, "the workflow's budget is spent",
			    NULL);
	}
	wf_set(wf, WF_BUDGET_EXCEEDED, "the workflow's budget is spent", NULL);
	log_event(LOG_WARN, "workflow over budget", "{s:s}", "workflow",
	    wf_id(wf));
}

/* An approval nobody decided on within its timeout fails. */
static void
approvals_due(struct wf *wf)
{
	const json_t *def;
	json_int_t t;
	json_t *s;
	size_t i;

	json_array_foreach(wf->steps, i, s) {
		if (wf_step_state(s) != WFS_WAITING_APPROVAL)
			continue;
		def = wf_step_def(wf, json_string_value(json_object_get(s, "name")));
		t = json_integer_value(json_object_get(def, "timeout_ms"));
		if (t > 0 && clock_wall_ms() >= (uint64_t)(json_integer_value(
		    json_object_get(s, "started_ms")) + t))
			wf_step_set(wf, s, WFS_FAILED, "no decision within the "
			    "approval's timeout", NULL);
	}
}

/* Pending steps in the definition's order: start those whose needs all
 * succeeded; skip (continue) those a failure cut off. */
static void
start_ready(struct workflows *ws, struct wf *wf, int cont)
{
	const json_t *order = json_object_get(json_object_get(wf->row,
	    "definition"), "order"), *name, *def;
	json_t *s;
	size_t i, total;
	uint64_t now = clock_wall_ms();

	json_array_foreach(wf->steps, i, s)
		if (wf_step_state(s) == WFS_RETRYING && now >= (uint64_t)
		    json_integer_value(json_object_get(s, "next_retry_ms")))
			dispatch(ws, wf, s);
	json_array_foreach(order, i, name) {
		s = wf_step(wf, json_string_value(name));
		def = wf_step_def(wf, json_string_value(name));
		if (s == NULL || def == NULL || wf_step_state(s) != WFS_PENDING)
			continue;
		if (cont && needs_in(wf, def, is_broken, &total) > 0) {
			wf_step_set(wf, s, WFS_SKIPPED, "a step it needs did not "
			    "succeed", NULL);
			continue;
		}
		if (needs_in(wf, def, is_succeeded, &total) < total)
			continue;
		if (strcmp(json_string_value(json_object_get(def, "kind")),
		    "approval") == 0)
			wf_step_set(wf, s, WFS_WAITING_APPROVAL, NULL, NULL);
		else
			dispatch(ws, wf, s);
	}
}

/* Whether the workflow is over by its steps: succeeded, or failed with
 * nothing left that could run. */
static void
settle(struct wf *wf, int stopping)
{
	size_t i, done = 0, ok = 0, active = 0;
	json_t *s;
	char why[160];
	const char *failed = failed_step(wf);

	json_array_foreach(wf->steps, i, s) {
		enum workflow_step_state st = wf_step_state(s);
		done += workflow_step_state_done(st);
		ok += st == WFS_SUCCEEDED;
		active += st == WFS_RUNNING || st == WFS_RETRYING ||
		    st == WFS_WAITING_APPROVAL;
	}
	if (ok == json_array_size(wf->steps)) {
		wf_set(wf, WF_SUCCEEDED, NULL, NULL);
		return;
	}
	if (active > 0 || !(stopping || done == json_array_size(wf->steps)))
		return;
	snprintf(why, sizeof(why), "step %.63s failed", failed != NULL ?
	    failed : "?");
	wf_set(wf, WF_FAILED, why, NULL);
}

/* One pass over workflow id: 1 when it is done (off the tick's list). */
static int
advance(struct workflows *ws, const char *id)
{
	struct wf *wf = wf_load(ws, id);
	const char *of;
	int cont, stopping, done;
	json_int_t deadline;
	json_t *s;
	size_t i;

	if (wf == NULL)
		return 1;
	if (workflow_state_done(wf->state)) {
		wf_free(wf);
		return 1;
	}
	/* Another node took it over: ours no more.  Without a majority in
	 * sight: nothing moves, since the others may take it over. */
	if (workflows_takeover_lost(ws, wf)) {
		wf_free(wf);
		return 1;
	}
	if (!workflows_takeover_may_move(ws)) {
		wf_free(wf);
		return 0;
	}
	if (wf->state == WF_PENDING)
		wf_set(wf, WF_RUNNING, NULL, NULL);
	json_array_foreach(wf->steps, i, s)
		if (wf_step_state(s) == WFS_RUNNING)
			poll_job(ws, wf, s);
	approvals_due(wf);
	deadline = json_integer_value(json_object_get(wf->row,
	    "budget_deadline_ms"));
	of = json_string_value(json_object_get(json_object_get(wf->row,
	    "definition"), "on_failure"));
	cont = of != NULL && strcmp(of, "continue") == 0;
	stopping = !cont && failed_step(wf) != NULL;
	if (deadline > 0 && clock_wall_ms() >= (uint64_t)deadline)
		over_budget(ws, wf);
	else {
		/* Stopping: nothing new; a retry or a person waited for
		 * will not be taken. */
		json_array_foreach(wf->steps, i, s)
			if (stopping && (wf_step_state(s) == WFS_RETRYING ||
			    wf_step_state(s) == WFS_WAITING_APPROVAL))
				wf_step_set(wf, s, WFS_CANCELLED, "another step "
				    "failed (on_failure: stop)", NULL);
		if (wf->state == WF_RUNNING && !stopping)
			start_ready(ws, wf, cont);
		settle(wf, stopping);
	}
	if (workflow_state_done(wf->state))
		log_event(LOG_INFO, "workflow finished", "{s:s, s:s}", "workflow",
		    id, "state", workflow_state_name(wf->state));
	wf_save(ws, wf);
	done = workflow_state_done(wf->state);
	wf_free(wf);
	return done;
}

static void
tick_cb(void *arg)
{
	struct workflows *ws = arg;
	json_t *ids = json_array(), *v;
	const char *id;
	size_t i;

	workflows_takeover_turn(ws);
	/* A copy: a pass may add (a retry) or drop ids. */
	json_object_foreach(ws->open, id, v)
		json_array_append_new(ids, json_string(id));
	json_array_foreach(ids, i, v)
		if (advance(ws, json_string_value(v)))
			json_object_del(ws->open, json_string_value(v));
	json_decref(ids);
}

void
workflows_kick(struct workflows *ws, const char *id)
{
	json_object_set_new(ws->open, id, json_true());
	wall_timer_soon(ws->tick, 0);
}

/* A job of ours ended: a step's, if its key says so (jobs_on_final). */
static void
job_final(void *arg, const json_t *rec)
{
	struct workflows *ws = arg;
	const char *key = json_string_value(json_object_get(rec, "key"));

	if (key != NULL && strncmp(key, WF_KEY_PREFIX, strlen(WF_KEY_PREFIX)) == 0)
		wall_timer_soon(ws->tick, 0);
}

/* --- submitting and reading ----------------------------------------------- */

/*
 * The definition's job steps placed on this node whose task this node
 * does not define, added to errors as the check's are.  Only ours: the
 * mesh does not carry other nodes' task definitions, and a task unknown
 * on its node fails its step when it is dispatched.
 */
static json_t *
unknown_tasks(struct workflows *ws, const json_t *def, json_t *errors)
{
	json_t *defs = ws->n->tasks != NULL ? tasks_defs_json(ws->n->tasks) :
	    json_array(), *step, *d;
	const char *task, *to;
	char path[64], msg[160];
	size_t i, j;
	int known;

	json_array_foreach(json_object_get(def, "steps"), i, step) {
		task = json_string_value(json_object_get(step, "task"));
		to = json_string_value(json_object_get(step, "to"));
		if (task == NULL || to == NULL || strcmp(to, ws->n->id) != 0)
			continue;
		known = 0;
		json_array_foreach(defs, j, d)
			known = known || strcmp(json_string_value(json_object_get(
			    d, "name")), task) == 0;
		if (known)
			continue;
		if (errors == NULL)
			errors = json_array();
		snprintf(path, sizeof(path), "steps[%zu].task", i);
		snprintf(msg, sizeof(msg), "%.63s: no such task on %s (its "
		    "--tasks)", task, ws->n->id);
		text_sanitize(msg, strlen(msg));
		if (json_array_size(errors) < WORKFLOW_ERRORS_MAX)
			json_array_append_new(errors, json_pack("{s:s, s:s}", "path",
			    path, "error", msg));
	}
	json_decref(defs);
	return errors;
}

int
workflows_run(struct workflows *ws, const json_t *def, const json_t *set,
    const struct principal *p, char *id, size_t idlen, json_t **errors,
    char *err, size_t errlen)
{
	char hex[17];

	rng_hex(ws->n->rng, hex, (sizeof(hex) - 1) / 2);
	snprintf(id, idlen, "w%s", hex);
	return workflows_run_id(ws, def, set, p, id, errors, err, errlen);
}

int
workflows_run_id(struct workflows *ws, const json_t *def, const json_t *set,
    const struct principal *p, const char *id, json_t **errors, char *err,
    size_t errlen)
{
	json_t *wf, *row, *steps, *s, *hist;
	uint64_t now = clock_wall_ms();
	json_int_t budget;
	size_t i;
	int rc;

	*errors = NULL;
	if (store_workflow_get(ws->n->store, id, NULL, NULL) == 1)
		return 200;		/* run already, under that id */
	wf = workflow_spec_check(def, set, errors);
	if (wf != NULL)
		*errors = NULL;
	if ((*errors = unknown_tasks(ws, def, *errors)) != NULL) {
		json_decref(wf);
		return 400;
	}
	budget = json_integer_value(json_object_get(wf, "budget_ms"));
	row = json_pack("{s:s, s:O, s:O, s:O, s:s, s:s, s:s, s:i, s:I, s:I, "
	    "s:I, s:i}", "id", id, "name", json_object_get(wf, "name"),
	    "definition", wf, "params", json_object_get(wf, "params"),
	    "principal", p != NULL ? p->name : "", "state", "pending",
	    "coordinator", ws->n->id, "coordinator_epoch", 1,
	    "budget_deadline_ms", (json_int_t)(budget > 0 ? (json_int_t)now +
	    budget : 0), "created_ms", (json_int_t)now, "updated_ms",
	    (json_int_t)now, "finished_ms", 0);
	steps = json_array();
	json_array_foreach(json_object_get(wf, "steps"), i, s)
		json_array_append_new(steps, json_pack("{s:O, s:i, s:s, s:i, s:i}",
		    "name", json_object_get(s, "name"), "idx", (int)i, "state",
		    "pending", "attempt", 0, "tries", 0));
	hist = json_pack("[{s:I, s:s, s:s, s:s}]", "time_ms", (json_int_t)now,
	    "event", "submitted", "principal", p != NULL ? p->name : "",
	    "coordinator", ws->n->id);
	rc = store_workflow_write(ws->n->store, id, row, steps, hist);
	json_decref(hist);
	json_decref(steps);
	json_decref(row);
	if (rc != 0) {
		snprintf(err, errlen, "cannot store the workflow: %s",
		    store_error(ws->n->store));
		json_decref(wf);
		return 500;
	}
	audit_record(ws->n->audit, "workflow.run", p != NULL ? p->name : "",
	    "ok", json_pack("{s:s, s:O, s:i}", "workflow_id", id, "name",
	    json_object_get(wf, "name"), "steps", (int)json_array_size(
	    json_object_get(wf, "steps"))));
	log_event(LOG_INFO, "workflow submitted", "{s:s, s:O}", "workflow", id,
	    "name", json_object_get(wf, "name"));
	json_decref(wf);
	/* Its first steps now, not at the next tick. */
	json_object_set_new(ws->open, id, json_true());
	if (advance(ws, id))
		json_object_del(ws->open, id);
	return 202;
}

/* --- lifetime ------------------------------------------------------------- */

static int
reload_cb(void *arg, const char *text)
{
	struct workflows *ws = arg;
	json_t *v = json_loads(text, 0, NULL);

	if (json_is_string(json_object_get(v, "id")))
		json_object_set_new(ws->open, json_string_value(json_object_get(v,
		    "id")), json_true());
	json_decref(v);
	return 0;
}

/* Our newest workflows of earlier lives, for our snapshots (read whole
 * first: a store callback must not call into the store). */
static void
seed(struct workflows *ws)
{
	json_t *rows = json_array(), *r;
	size_t i;

	if (store_workflows_query(ws->n->store, NULL, SYNC_WORKFLOWS_SNAPSHOT,
	    wf_load_cb, rows) < 0)
		log_event(LOG_WARN, "cannot read our workflows for the mesh",
		    "{s:s}", "error", store_error(ws->n->store));
	json_array_foreach(rows, i, r) {
		const char *id = json_string_value(json_object_get(r, "id"));
		struct wf *wf = id != NULL ? wf_load(ws, id) : NULL;

		if (wf != NULL)
			wf_publish(ws, wf, 1);
		wf_free(wf);
	}
	json_decref(rows);
}

struct workflows *
workflows_new(struct node *n)
{
	struct workflows *ws = xcalloc(1, sizeof(*ws));

	ws->n = n;
	ws->open = json_object();
	ws->untakeable = json_object();
	if (store_workflows_open(n->store, reload_cb, ws) < 0)
		log_event(LOG_ERROR, "cannot read the open workflows", "{s:s}",
		    "error", store_error(n->store));
	else if (json_object_size(ws->open) > 0)
		log_event(LOG_INFO, "open workflows reloaded", "{s:i}", "count",
		    (int)json_object_size(ws->open));
	seed(ws);
	ws->tick = wall_timer_new(n->base, TICK_MS, 0, tick_cb, ws);
	if (n->jobs != NULL) {
		jobs_on_final(n->jobs, job_final, ws);
		jobs_set_gate(n->jobs, workflows_takeover_gate, ws);
	}
	return ws;
}

void
workflows_free(struct workflows *ws)
{
	if (ws == NULL)
		return;
	if (ws->n->jobs != NULL) {
		jobs_on_final(ws->n->jobs, NULL, NULL);
		jobs_set_gate(ws->n->jobs, NULL, NULL);
	}
	wall_timer_free(ws->tick);
	json_decref(ws->open);
	json_decref(ws->untakeable);
	free(ws);
}
