/*
 * Taking a workflow over (workflows_takeover.h): the turn that finds the
 * workflows of coordinators gone and takes the ones this node owns, the
 * gate on moving without a majority, and stepping down.
 */
#include "workflows.h"
#include "workflows_priv.h"
#include "workflows_takeover.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "jobs.h"
#include "jobs_spec.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "quorum.h"
#include "store.h"
#include "store_workflows.h"
#include "sync_workflows.h"
#include "workflow_spec.h"
#include "workflow_state.h"

#define TURN_MS		1000

/* --- the handover's definition ------------------------------------------- */

static int
is_int(const json_t *o, const char *k, json_int_t max)
{
	const json_t *v = json_object_get(o, k);

	return v == NULL || (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= max);
}

static int
step_check(const json_t *st, const json_t *names, size_t i, char *err,
    size_t errlen)
{
	const char *name = json_string_value(json_object_get(st, "name"));
	const char *kind = json_string_value(json_object_get(st, "kind"));
	const json_t *needs = json_object_get(st, "needs"), *v;
	size_t j;

	if (name == NULL || !node_id_valid(name, strlen(name)) ||
	    strlen(name) > 63 || kind == NULL || (strcmp(kind, "job") != 0 &&
	    strcmp(kind, "approval") != 0)) {
		snprintf(err, errlen, "steps[%zu]: name and kind", i);
		return -1;
	}
	if (!json_is_array(needs) || json_array_size(needs) >
	    WORKFLOW_NEEDS_MAX) {
		snprintf(err, errlen, "steps[%zu].needs", i);
		return -1;
	}
	json_array_foreach(needs, j, v)
		if (!json_is_string(v) || json_object_get(names,
		    json_string_value(v)) == NULL) {
			snprintf(err, errlen, "steps[%zu].needs[%zu]", i, j);
			return -1;
		}
	if (strcmp(kind, "job") == 0 && !json_is_object(json_object_get(st,
	    "job"))) {
		snprintf(err, errlen, "steps[%zu].job", i);
		return -1;
	}
	if (!is_int(st, "retries", WORKFLOW_RETRIES_MAX) ||
	    !is_int(st, "backoff_ms", INT64_MAX / 4) ||
	    !is_int(st, "timeout_ms", INT64_MAX / 4)) {
		snprintf(err, errlen, "steps[%zu]: retries, backoff_ms, timeout_ms",
		    i);
		return -1;
	}
	return 0;
}

int
workflows_takeover_check(const json_t *def, char *err, size_t errlen)
{
	const json_t *steps = json_object_get(def, "steps"), *st, *v;
	const json_t *params = json_object_get(def, "params");
	const char *of = json_string_value(json_object_get(def, "on_failure"));
	const char *name = json_string_value(json_object_get(def, "name"));
	json_t *names;
	const char *k;
	size_t i;
	int rc = 0;

	if (!json_is_object(def) || name == NULL || !json_is_array(steps) ||
	    json_array_size(steps) == 0 || json_array_size(steps) >
	    WORKFLOW_STEPS_MAX) {
		snprintf(err, errlen, "no definition: name and 1-%d steps",
		    WORKFLOW_STEPS_MAX);
		return -1;
	}
	if (of == NULL || (strcmp(of, "stop") != 0 && strcmp(of,
	    "continue") != 0) || !is_int(def, "budget_ms", INT64_MAX / 4)) {
		snprintf(err, errlen, "on_failure or budget_ms");
		return -1;
	}
	if (params != NULL && !json_is_object(params)) {
		snprintf(err, errlen, "params: an object");
		return -1;
	}
	json_object_foreach((json_t *)params, k, v)
		if (!json_is_string(v)) {
			snprintf(err, errlen, "params.%.63s: text", k);
			return -1;
		}
	names = json_object();
	json_array_foreach(steps, i, st)
		if (json_is_string(json_object_get(st, "name")))
			json_object_set(names, json_string_value(json_object_get(st,
			    "name")), json_true());
	if (json_object_size(names) != json_array_size(steps)) {
		snprintf(err, errlen, "steps: names missing or repeated");
		rc = -1;
	}
	json_array_foreach(steps, i, st)
		if (rc == 0 && step_check(st, names, i, err, errlen) != 0)
			rc = -1;
	json_decref(names);
	return rc;
}

/* --- taking one over ------------------------------------------------------ */

/* Our row of workflow id, whoever coordinates it now (new reference), or
 * NULL. */
static int
row_cb(void *arg, const char *text)
{
	json_t **out = arg;

	json_decref(*out);
	*out = json_loads(text, 0, NULL);
	return 0;
}

static json_t *
row_of(struct workflows *ws, const char *id)
{
	json_t *row = NULL;

	store_workflow_get(ws->n->store, id, row_cb, &row);
	return row;
}

/*
 * A step as the taker stores it, from the old coordinator's view of it
 * (vs) and its handover (hs).  A step it had running goes back to
 * retrying, due now, one attempt and try back, to be submitted again
 * under the same attempt's key, to the node it ran on when that node is
 * alive (else where its placement finds one: it runs again).
 */
static json_t *
taken_step(const struct quorum *q, const json_t *def, const json_t *vs,
    const json_t *hs, size_t idx, uint64_t now)
{
	const char *state = json_string_value(json_object_get(vs, "state"));
	json_int_t attempt = json_integer_value(json_object_get(vs, "attempt"));
	json_int_t tries = json_integer_value(json_object_get(hs, "tries"));
	json_t *s = json_pack("{s:O, s:i, s:s, s:I, s:I, s:O, s:O, s:O}",
	    "name", json_object_get(def, "name"), "idx", (int)idx, "state",
	    state, "attempt", attempt, "tries", tries, "node",
	    json_object_get(vs, "node"), "started_ms", json_object_get(vs,
	    "started_ms"), "finished_ms", json_object_get(vs, "finished_ms"));

	if (json_is_null(json_object_get(s, "started_ms")))
		json_object_set_new(s, "started_ms", json_integer(0));
	if (json_is_null(json_object_get(s, "finished_ms")))
		json_object_set_new(s, "finished_ms", json_integer(0));
	if (json_object_get(vs, "approved_by") != NULL)
		json_object_set(s, "approved_by", json_object_get(vs,
		    "approved_by"));
	if (strcmp(state, "succeeded") == 0)
		json_object_set(s, "result", json_object_get(hs, "result"));
	if (strcmp(state, "running") == 0 || strcmp(state, "retrying") == 0) {
		if (strcmp(state, "running") == 0) {
			json_object_set_new(s, "attempt", json_integer(attempt > 0 ?
			    attempt - 1 : 0));
			json_object_set_new(s, "tries", json_integer(tries > 0 ?
			    tries - 1 : 0));
			if (quorum_alive(q, json_string_value(json_object_get(vs,
			    "node"))))
				json_object_set(s, "reattach", json_object_get(vs,
				    "node"));
		}
		json_object_set_new(s, "state", json_string("retrying"));
		json_object_set_new(s, "next_retry_ms", json_integer(
		    (json_int_t)now));
	}
	return s;
}

/* The workflow (the mesh's view of it, vw) taken over: 0, or -1 with err
 * (nothing stored). */
static int
take(struct workflows *ws, const struct quorum *q, const json_t *vw, char *err,
    size_t errlen)
{
	const char *id = json_string_value(json_object_get(vw, "id"));
	const char *from = json_string_value(json_object_get(vw, "coordinator"));
	const char *state = json_string_value(json_object_get(vw, "state"));
	const json_t *vsteps = json_object_get(vw, "steps"), *dsteps;
	json_int_t epoch = json_integer_value(json_object_get(vw, "epoch")) + 1;
	uint64_t now = clock_wall_ms();
	json_t *h, *def, *row, *steps, *hist, *ds, *vs;
	size_t i;
	int rc = -1;

	h = json_loads(json_string_value(json_object_get(vw, "handover")), 0,
	    NULL);
	def = json_object_get(h, "definition");
	dsteps = json_object_get(def, "steps");
	if (h == NULL) {
		snprintf(err, errlen, "no handover (an older version, or too "
		    "big for an update)");
		goto out;
	}
	if (workflows_takeover_check(def, err, errlen) != 0)
		goto out;
	if (state == NULL || (strcmp(state, "pending") != 0 && strcmp(state,
	    "running") != 0 && strcmp(state, "paused") != 0)) {
		snprintf(err, errlen, "state %.32s", state ? state : "?");
		goto out;
	}
	if (json_array_size(vsteps) != json_array_size(dsteps)) {
		snprintf(err, errlen, "%zu steps seen, %zu defined",
		    json_array_size(vsteps), json_array_size(dsteps));
		goto out;
	}
	steps = json_array();
	json_array_foreach(dsteps, i, ds) {
		vs = json_array_get(vsteps, i);
		if (!json_equal(json_object_get(vs, "name"), json_object_get(ds,
		    "name")) || workflow_step_state_parse(json_string_value(
		    json_object_get(vs, "state"))) < 0) {
			snprintf(err, errlen, "step %zu: name or state", i);
			json_decref(steps);
			goto out;
		}
		json_array_append_new(steps, taken_step(q, ds, vs, json_object_get(
		    json_object_get(h, "steps"), json_string_value(
		    json_object_get(ds, "name"))), i, now));
	}
	row = json_pack("{s:s, s:O, s:O, s:o, s:O, s:s, s:s, s:I, s:I, s:I, "
	    "s:I, s:i, s:s}", "id", id, "name", json_object_get(def, "name"),
	    "definition", def, "params", json_object_get(def, "params") ?
	    json_incref(json_object_get(def, "params")) : json_object(),
	    "principal", json_object_get(vw, "principal"), "state", state,
	    "coordinator", ws->n->id, "coordinator_epoch", epoch,
	    "budget_deadline_ms", json_integer_value(json_object_get(h,
	    "budget_deadline_ms")), "created_ms", json_integer_value(
	    json_object_get(vw, "created_ms")), "updated_ms", (json_int_t)now,
	    "finished_ms", 0, "reason", "taken over");
	hist = json_pack("[{s:I, s:s, s:s, s:s, s:I}]", "time_ms",
	    (json_int_t)now, "event", "taken over", "from", from,
	    "coordinator", ws->n->id, "epoch", epoch);
	if (row == NULL || store_workflow_write(ws->n->store, id, row, steps,
	    hist) != 0)
		snprintf(err, errlen, "cannot store it: %s", row == NULL ?
		    "a field is missing" : store_error(ws->n->store));
	else
		rc = 0;
	json_decref(hist);
	json_decref(row);
	json_decref(steps);
out:
	json_decref(h);
	return rc;
}

/* Tells the mesh at once: the taker's epoch is what stops the others. */
static void
announce(struct workflows *ws, const char *id)
{
	struct wf *wf = wf_load(ws, id);

	if (wf != NULL)
		wf_publish(ws, wf, 0);
	wf_free(wf);
	json_object_set_new(ws->open, id, json_true());
}

static void
consider(struct workflows *ws, struct quorum *q, const json_t *vw,
    uint64_t now)
{
	const char *id = json_string_value(json_object_get(vw, "id"));
	const char *from = json_string_value(json_object_get(vw, "coordinator"));
	json_int_t epoch = json_integer_value(json_object_get(vw, "epoch"));
	uint64_t heard = quorum_heard_ms(q, from);
	const char *owner;
	json_t *mine;
	char key[96], err[256];

	if (id == NULL || from == NULL || quorum_alive(q, from) || heard == 0 ||
	    now < heard || now - heard < (uint64_t)ws->n->cfg->
	    workflow_takeover_ms)
		return;
	snprintf(key, sizeof(key), "workflow/%s", id);
	if ((owner = quorum_owner(q, key)) == NULL || strcmp(owner,
	    ws->n->id) != 0)
		return;
	/* Ours already at this epoch or later (taken, or stepped down from
	 * a later one). */
	mine = row_of(ws, id);
	if (mine != NULL && json_integer_value(json_object_get(mine,
	    "coordinator_epoch")) > epoch) {
		json_decref(mine);
		return;
	}
	json_decref(mine);
	if (json_object_get(ws->untakeable, id) != NULL)
		return;
	if (take(ws, q, vw, err, sizeof(err)) != 0) {
		log_event(LOG_WARN, "cannot take a workflow over", "{s:s, s:s, "
		    "s:s}", "workflow", id, "coordinator", from, "error", err);
		json_object_set_new(ws->untakeable, id, json_true());
		return;
	}
	log_event(LOG_INFO, "workflow taken over", "{s:s, s:s, s:I, s:I}",
	    "workflow", id, "from", from, "epoch", epoch + 1, "silent_ms",
	    (json_int_t)(now - heard));
	audit_record(ws->n->audit, "workflow.takeover", "", "ok", json_pack(
	    "{s:s, s:s, s:I}", "workflow_id", id, "from", from, "epoch",
	    epoch + 1));
	announce(ws, id);
}

void
workflows_takeover_turn(struct workflows *ws)
{
	struct quorum q = { 0 };
	uint64_t now = clock_mono_ms();
	json_t *open, *vw;
	size_t i;

	if (ws->turn_ms != 0 && now - ws->turn_ms < TURN_MS)
		return;
	ws->turn_ms = now;
	quorum_build(ws->n, &q);
	ws->alone = q.known <= 1;
	if (!quorum_majority(&q)) {
		if (ws->majority_since_ms != 0)
			log_event(LOG_INFO, "workflows wait: no majority of the "
			    "members in sight", "{s:i, s:i}", "alive",
			    (int)json_array_size(q.alive), "known", (int)q.known);
		ws->majority_since_ms = 0;
	} else if (ws->majority_since_ms == 0)
		ws->majority_since_ms = now;
	if (ws->majority_since_ms != 0 && now - ws->majority_since_ms >=
	    WORKFLOWS_SETTLE_MS && ws->n->sync != NULL) {
		open = sync_workflows_open(ws->n->sync);
		json_array_foreach(open, i, vw)
			consider(ws, &q, vw, clock_wall_ms());
		json_decref(open);
	}
	quorum_clear(&q);
}

int
workflows_takeover_may_move(const struct workflows *ws)
{
	if (ws->alone)
		return 1;
	return ws->majority_since_ms != 0 && clock_mono_ms() -
	    ws->majority_since_ms >= WORKFLOWS_RESUME_MS;
}

/*
 * jobs_set_gate's: a step's job (key "wf/ID/STEP/ATTEMPT", submitted by
 * this node as itself) moves only while this node coordinates ID, no
 * other origin holds a higher epoch of it, and a majority is in sight.
 * Otherwise a coordinator cut off would place an "any" step again off a
 * node it sees dead (the far side's taker has it running there), or send
 * it out at the heal before its own turn saw the taker's epoch.
 */
int
workflows_takeover_gate(void *arg, const json_t *rec)
{
	struct workflows *ws = arg;
	const char *key = json_string_value(json_object_get(rec, "key"));
	const char *principal = json_string_value(json_object_get(rec,
	    "principal")), *end, *coord;
	char id[128], me[NODE_ID_MAX + 8], by[128];
	json_t *row;
	int go;

	snprintf(me, sizeof(me), "node:%s", ws->n->id);
	if (key == NULL || strncmp(key, WF_KEY_PREFIX, strlen(WF_KEY_PREFIX)) != 0 ||
	    principal == NULL || strcmp(principal, me) != 0 ||
	    (end = strchr(key + strlen(WF_KEY_PREFIX), '/')) == NULL ||
	    (size_t)(end - key) - strlen(WF_KEY_PREFIX) >= sizeof(id))
		return 1;
	snprintf(id, sizeof(id), "%.*s", (int)((size_t)(end - key) -
	    strlen(WF_KEY_PREFIX)), key + strlen(WF_KEY_PREFIX));
	if ((row = row_of(ws, id)) == NULL)
		return 1;		/* no workflow of that id here */
	coord = json_string_value(json_object_get(row, "coordinator"));
	go = coord != NULL && strcmp(coord, ws->n->id) == 0 &&
	    workflows_takeover_may_move(ws) && (ws->n->sync == NULL ||
	    sync_workflows_epoch(ws->n->sync, id, by, sizeof(by)) <=
	    (uint64_t)json_integer_value(json_object_get(row,
	    "coordinator_epoch")));
	json_decref(row);
	return go;
}

/* --- stepping down -------------------------------------------------------- */

int
workflows_takeover_lost(struct workflows *ws, struct wf *wf)
{
	char by[128], why[200];
	json_int_t mine = json_integer_value(json_object_get(wf->row,
	    "coordinator_epoch"));
	uint64_t theirs;
	json_t *hist, *s, *rec;
	size_t i;

	if (ws->n->sync == NULL || (theirs = sync_workflows_epoch(ws->n->sync,
	    wf_id(wf), by, sizeof(by))) <= (uint64_t)mine)
		return 0;
	/* Queued step jobs would run beside the taker's; dispatched ones
	 * answer the taker's re-submission, so they go on. */
	json_array_foreach(wf->steps, i, s) {
		const char *job = json_string_value(json_object_get(s, "job_id"));

		if (job == NULL || wf_step_state(s) != WFS_RUNNING)
			continue;
		rec = jobs_record(ws->n->jobs, job);
		if (json_is_string(json_object_get(rec, "state")) && strcmp(
		    json_string_value(json_object_get(rec, "state")),
		    "queued") == 0)
			jobs_cancel(ws->n->jobs, job, NULL, why, sizeof(why));
		json_decref(rec);
	}
	json_object_set_new(wf->row, "coordinator", json_string(by));
	json_object_set_new(wf->row, "coordinator_epoch", json_integer(
	    (json_int_t)theirs));
	hist = json_pack("[{s:I, s:s, s:s, s:I}]", "time_ms",
	    (json_int_t)clock_wall_ms(), "event", "stepped down",
	    "coordinator", by, "epoch", (json_int_t)theirs);
	/* Not through wf_save: the mesh hears of it from the taker. */
	if (store_workflow_write(ws->n->store, wf_id(wf), wf->row, NULL,
	    hist) != 0)
		log_event(LOG_ERROR, "cannot store a workflow's step-down",
		    "{s:s, s:s}", "workflow", wf_id(wf), "error",
		    store_error(ws->n->store));
	else
		log_event(LOG_WARN, "workflow taken over by another node: this "
		    "node stops coordinating it", "{s:s, s:s, s:I}", "workflow",
		    wf_id(wf), "coordinator", by, "epoch", (json_int_t)theirs);
	json_decref(hist);
	return 1;
}
