/*
 * Durable jobs on the issuer: the records, the API's operations on them
 * and the results the executors send back (see jobs.h; the dispatcher is
 * jobs_dispatch.c).
 *
 * A job's record is JSON, stored whole in the jobs table at every change
 * (a change is rare: a handful per job), with its history appended to
 * job_history: every transition with its time, node, epoch and reason.
 * Invariants: a job is in jobs->open exactly while it is not final
 * (swept by the next tick once final); its record's "epoch" only grows;
 * it holds a result only in a final state, from the node and epoch of its
 * last dispatch.
 */
#include "jobs.h"
#include "jobs_priv.h"
#include "jobs_hooks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "callbacks.h"
#include "check.h"
#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "job_grant.h"
#include "jobs_events.h"
#include "jobs_fanout.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "rng.h"
#include "store.h"
#include "store_jobs.h"
#include "wall_timer.h"
#include "xalloc.h"

#define TICK_MS		500
#define LIST_MAX	1000

static const char *const counter_names[JC_COUNT] = {
	"submitted", "dispatched", "redispatched", "fenced", "lost",
	"succeeded", "failed", "expired", "cancelled",
};

/* --- records ---------------------------------------------------------------- */

int
jobs_persist(struct jobs *js, struct job *j)
{
	const char *task = json_string_value(json_object_get(j->rec, "task"));
	char *text;
	int rc;

	json_object_set_new(j->rec, "updated_ms",
	    json_integer((json_int_t)clock_wall_ms()));
	text = json_dumps(j->rec, JSON_COMPACT);
	if ((rc = store_job_put(js->n->store, j->id, jobs_state_name(j->state),
	    task != NULL ? task : "(ad-hoc)",
	    json_string_value(json_object_get(j->rec, "key")),
	    (int64_t)clock_wall_ms(), text)) != 0)
		log_event(LOG_ERROR, "cannot store a job", "{s:s, s:s}", "job",
		    j->id, "error", store_error(js->n->store));
	else
		jobs_events_changed(js->n, j->rec);	/* every node lists it */
	free(text);
	return rc;
}

void
jobs_history(struct jobs *js, const char *job_id, const char *event,
    json_t *extra)
{
	json_t *h = extra != NULL ? extra : json_object();
	uint64_t now = clock_wall_ms();
	char *text;

	json_object_set_new(h, "time_ms", json_integer((json_int_t)now));
	json_object_set_new(h, "event", json_string(event));
	json_object_set_new(h, "by", json_string(js->n->id));
	text = json_dumps(h, JSON_COMPACT);
	if (store_job_history_add(js->n->store, job_id, (int64_t)now, text) != 0)
		log_event(LOG_ERROR, "cannot store a job's history", "{s:s, s:s}",
		    "job", job_id, "error", store_error(js->n->store));
	free(text);
	json_decref(h);
}

static void
count_final(struct jobs *js, enum jobs_state s)
{
	switch (s) {
	case JOBS_SUCCEEDED: js->count[JC_SUCCEEDED]++; break;
	case JOBS_FAILED: js->count[JC_FAILED]++; break;
	case JOBS_EXPIRED: js->count[JC_EXPIRED]++; break;
	case JOBS_LOST: js->count[JC_LOST]++; break;
	case JOBS_CANCELLED: js->count[JC_CANCELLED]++; break;
	default: break;
	}
}

/*
 * A final job's result to its callback, if it has one (callbacks.h): what
 * GET /api/jobs/ID says of the outcome, without the history.
 */
static void
fire_callback(struct jobs *js, struct job *j)
{
	static const char *const fields[] = { "id", "issuer", "principal",
	    "state", "reason", "task", "command", "to", "node", "epoch",
	    "exit_code", "term_signal", "result", "why_no_result",
	    "submitted_ms", "finished_ms", "key", "children" };
	json_t *body;
	char *text;

	if (js->n->callbacks == NULL ||
	    json_object_get(j->rec, "callback") == NULL)
		return;
	body = json_object();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (json_object_get(j->rec, fields[i]) != NULL)
			json_object_set(body, fields[i],
			    json_object_get(j->rec, fields[i]));
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL || callbacks_fire(js->n->callbacks, j->id, text,
	    strlen(text)) != 0)
		log_event(LOG_WARN, "job callback not fired", "{s:s}", "job",
		    j->id);
	free(text);
	json_decref(body);
}

void
jobs_note(struct jobs *js, const char *job_id, const char *event,
    json_t *extra)
{
	jobs_history(js, job_id, event, extra);
}

void
jobs_set_state(struct jobs *js, struct job *j, enum jobs_state to,
    const char *why, json_t *extra)
{
	char clean[JOBS_REASON_MAX];
	/* A reason is often a peer's text (an executor's result or error):
	 * kept bounded and without control bytes. */
	const char *reason = why != NULL ? jobs_clean_text(why, clean,
	    sizeof(clean)) : NULL;

	CHECK(!j->final && jobs_state_may(j->state, to));
	j->state = to;
	json_object_set_new(j->rec, "state", json_string(jobs_state_name(to)));
	if (reason != NULL)
		json_object_set_new(j->rec, "reason", json_string(reason));
	if (jobs_state_final(to)) {
		j->final = 1;
		json_object_set_new(j->rec, "finished_ms",
		    json_integer((json_int_t)clock_wall_ms()));
		if (!jobs_fanout_is_parent(j->rec)) {	/* its children count */
			count_final(js, to);
			jobs_task_count_final(js, to, j->rec);
		}
		log_event(LOG_INFO, "job finished", "{s:s, s:s, s:s?}", "job",
		    j->id, "state", jobs_state_name(to), "reason", reason);
	}
	jobs_persist(js, j);
	if (j->final)
		fire_callback(js, j);
	if (j->final && js->final_fn != NULL)
		js->final_fn(js->final_arg, j->rec);
	extra = extra != NULL ? extra : json_object();
	if (reason != NULL)
		json_object_set_new(extra, "reason", json_string(reason));
	if (json_object_get(extra, "node") == NULL &&
	    json_is_string(json_object_get(j->rec, "node")))
		json_object_set(extra, "node", json_object_get(j->rec, "node"));
	json_object_set(extra, "epoch", json_object_get(j->rec, "epoch"));
	jobs_history(js, j->id, jobs_state_name(to), extra);
	if (j->final)
		jobs_fanout_child_final(js, j);
}

void
jobs_fence_add(struct jobs *js, const char *job_id, const char *node,
    uint64_t epoch)
{
	if (store_job_fence_put(js->n->store, job_id, node, epoch) != 0)
		log_event(LOG_ERROR, "cannot store a job fence", "{s:s, s:s}",
		    "job", job_id, "error", store_error(js->n->store));
	json_array_append_new(js->fences, json_pack("{s:s, s:s, s:I}", "job_id",
	    job_id, "node", node, "epoch", (json_int_t)epoch));
	jobs_history(js, job_id, "fence", json_pack("{s:s, s:I}", "node", node,
	    "epoch", (json_int_t)epoch));
}

static struct job *
job_add(struct jobs *js, json_t *rec)
{
	struct job *j = xcalloc(1, sizeof(*j));
	int s = jobs_state_parse(json_string_value(json_object_get(rec, "state")));

	snprintf(j->id, sizeof(j->id), "%s",
	    json_string_value(json_object_get(rec, "id")));
	j->rec = rec;
	j->state = s < 0 ? JOBS_QUEUED : (enum jobs_state)s;
	hmap_put(js->open, j->id, j);
	return j;
}

static void
job_free(struct job *j)
{
	json_decref(j->rec);
	free(j);
}

/* --- submitting --------------------------------------------------------------- */

/* A signed token's job carries its grant (job_grant.h): stored with it, so
 * any later dispatch proves the principal without the token. */
static void
grant(json_t *rec, const struct principal *p)
{
	struct job_grant_fields f = {
		.job_id = json_string_value(json_object_get(rec, "id")),
		.issuer = json_string_value(json_object_get(rec, "issuer")),
		.principal = p->name,
		.args_hash = json_string_value(json_object_get(rec, "args_hash")),
		.to = json_string_value(json_object_get(rec, "to")),
		.deadline_ms = json_integer_value(json_object_get(rec,
		    "deadline_ms")),
		.submitted_ms = json_integer_value(json_object_get(rec,
		    "submitted_ms")),
	};
	json_t *g = job_grant_make(p->token, &f);

	if (g != NULL)
		json_object_set_new(rec, "grant", g);
}

static int
load_one(void *arg, const char *text)
{
	json_t **out = arg;

	*out = json_loads(text, 0, NULL);
	return 0;
}

/* The stored record of a job by id or key (new reference), or NULL. */
static json_t *
stored(struct jobs *js, const char *id, const char *key)
{
	json_t *rec = NULL;

	if (store_job_get(js->n->store, id, key, load_one, &rec) != 1) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* How many bytes a JOB_RUN's args for rec take. */
static int
dispatch_size(const json_t *rec)
{
	json_t *args = jobs_run_args(rec);
	char *text = json_dumps(args, JSON_COMPACT);
	int n = text != NULL ? (int)strlen(text) : INT32_MAX;

	free(text);
	json_decref(args);
	return n;
}

int
jobs_submit(struct jobs *js, const json_t *body, const struct principal *p,
    char *id, size_t idlen, char *err, size_t errlen)
{
	return jobs_submit_id(js, body, p, NULL, id, idlen, err, errlen);
}

int
jobs_submit_id(struct jobs *js, const json_t *body, const struct principal *p,
    const char *want, char *id, size_t idlen, char *err, size_t errlen)
{
	json_t *rec, *first, *cb;
	const char *key;
	char hex[17];
	uint64_t now = clock_wall_ms();
	int status;
	struct job *j;

	if ((rec = jobs_spec_parse(body, &status, err, errlen)) == NULL)
		return status;
	key = json_string_value(json_object_get(rec, "key"));
	if (key != NULL && (first = stored(js, NULL, key)) != NULL) {
		snprintf(id, idlen, "%s",
		    json_string_value(json_object_get(first, "id")));
		status = json_equal(json_object_get(first, "args_hash"),
		    json_object_get(rec, "args_hash")) ? 200 : 409;
		if (status == 409)
			snprintf(err, errlen, "idempotency key used for other "
			    "arguments");
		json_decref(first);
		json_decref(rec);
		return status;
	}
	if (want != NULL && (first = stored(js, want, NULL)) != NULL) {
		snprintf(id, idlen, "%s", want);
		snprintf(err, errlen, "job id %s is taken", want);
		json_decref(first);
		json_decref(rec);
		return 409;
	}
	if (want != NULL)
		snprintf(id, idlen, "%s", want);
	else {
		rng_hex(js->n->rng, hex, (sizeof(hex) - 1) / 2);
		snprintf(id, idlen, "j%s", hex);
	}
	json_object_set_new(rec, "id", json_string(id));
	json_object_set_new(rec, "issuer", json_string(js->n->id));
	json_object_set_new(rec, "principal", json_string(p != NULL ?
	    p->name : ""));
	json_object_set_new(rec, "state", json_string("queued"));
	json_object_set_new(rec, "submitted_ms", json_integer((json_int_t)now));
	/* Relative in the request, absolute in the record. */
	json_object_set_new(rec, "deadline_ms", json_integer((json_int_t)now +
	    json_integer_value(json_object_get(rec, "deadline_ms"))));
	json_object_set_new(rec, "any", json_boolean(json_object_get(rec,
	    "node") == NULL));
	if (p != NULL && p->token[0] != '\0')
		grant(rec, p);
	/* What travels must fit one command (a payload near its bound with
	 * long args would not, nor with a grant): refused now, not queued
	 * until the deadline. */
	json_object_set_new(rec, "epoch", json_integer(INT64_MAX));
	if ((status = dispatch_size(rec)) > FRAME_CODEC_MAX_PAYLOAD) {
		snprintf(err, errlen, "payload and args: %d bytes as the job "
		    "travels, at most %d", status, FRAME_CODEC_MAX_PAYLOAD);
		json_decref(rec);
		return 413;
	}
	json_object_set_new(rec, "epoch", json_integer(0));
	if (json_object_get(rec, "node") == NULL)
		json_object_set_new(rec, "node", json_null());
	if (json_is_true(json_object_get(rec, "fanout"))) {
		if ((status = jobs_fanout_store(js, rec, p, err, errlen)) != 0)
			return status;
		goto stored;	/* its children are counted submitted */
	}
	j = job_add(js, rec);
	if (jobs_persist(js, j) != 0) {
		snprintf(err, errlen, "cannot store the job: %s",
		    store_error(js->n->store));
		hmap_del(js->open, j->id);
		job_free(j);
		return 500;
	}
	js->count[JC_SUBMITTED]++;
	jobs_task_count(js, JC_SUBMITTED, rec);
stored:
	if ((cb = json_object_get(body, "callback")) != NULL &&
	    (js->n->callbacks == NULL || callbacks_wait(js->n->callbacks, id,
	    json_string_value(json_object_get(cb, "url")),
	    json_string_value(json_object_get(cb, "secret")),
	    json_integer_value(json_object_get(json_object_get(rec, "callback"),
	    "deadline_ms")), err, errlen) != 0))
		log_event(LOG_ERROR, "job callback not registered", "{s:s, s:s}",
		    "job", id, "error", js->n->callbacks ? err : "no callbacks");
	jobs_history(js, id, "submitted", json_pack("{s:s, s:O}", "principal",
	    p != NULL ? p->name : "", "to", json_object_get(rec, "to")));
	audit_record(js->n->audit, "job.submitted", p != NULL ? p->name : "",
	    "ok", json_pack("{s:s, s:O, s:O?, s:O, s:O}", "job_id", id, "to",
	    json_object_get(rec, "to"), "task", json_object_get(rec, "task"),
	    "args_sha256", json_object_get(rec, "args_hash"), "at_most_once",
	    json_object_get(rec, "at_most_once")));
	log_event(LOG_INFO, "job submitted", "{s:s, s:O}", "job", id, "to",
	    json_object_get(rec, "to"));
	/* The first dispatch need not wait for the tick. */
	wall_timer_soon(js->tick, 0);
	return 202;
}

/* --- reading ------------------------------------------------------------------ */

static int
append_cb(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

json_t *
jobs_get(struct jobs *js, const char *id)
{
	json_t *rec = jobs_record(js, id), *h;

	if (rec == NULL)
		return NULL;
	h = json_array();
	store_job_history(js->n->store, id, append_cb, h);
	json_object_set_new(rec, "history", h);
	jobs_story_merge(js, rec);
	jobs_fanout_show(js, rec);
	if (js->n->callbacks != NULL && json_object_get(rec, "callback") &&
	    (h = callbacks_get(js->n->callbacks, id)) != NULL)
		json_object_set_new(rec, "callback", h);
	return rec;
}

json_t *
jobs_record(struct jobs *js, const char *id)
{
	struct job *j = hmap_get(js->open, id);
	json_t *rec = j != NULL ? json_deep_copy(j->rec) : stored(js, id, NULL);

	/* The grant's claims and issuer signature make the token's text
	 * (without its key): not for readers. */
	json_object_del(rec, "grant");
	return rec;
}

json_t *
jobs_list(struct jobs *js, const char *state, const char *task, unsigned limit,
    int children)
{
	json_t *a = json_array(), *j;
	size_t i;

	(children ? store_jobs_query : store_jobs_query_top)(js->n->store, state,
	    task, limit != 0 && limit < LIST_MAX ? limit : LIST_MAX, append_cb, a);
	/* Summaries: a payload and a result are up to 64 KiB each; the job's
	 * own page (jobs_get) has them.  The grant is never shown (jobs_get). */
	json_array_foreach(a, i, j) {
		json_object_del(j, "payload");
		json_object_del(j, "result");
		json_object_del(j, "grant");
	}
	return a;
}

int
jobs_cancel(struct jobs *js, const char *id, const struct principal *p,
    char *err, size_t errlen)
{
	struct job *j = hmap_get(js->open, id);
	json_t *rec;
	const char *node;

	if (j == NULL || j->final) {
		if ((rec = stored(js, id, NULL)) == NULL) {
			snprintf(err, errlen, "no job %s on this node (jobs are "
			    "served by their issuer)", id);
			return 404;
		}
		snprintf(err, errlen, "job %s is already %s", id,
		    json_string_value(json_object_get(rec, "state")));
		json_decref(rec);
		return 409;
	}
	node = json_string_value(json_object_get(j->rec, "node"));
	/* A run may have started, even for a queued job (a JOB_RUN whose
	 * answer was lost, or sent before a restart): stop it, and refuse
	 * its result. */
	if (node != NULL && json_integer_value(json_object_get(j->rec,
	    "epoch")) > 0)
		jobs_fence_add(js, id, node,
		    (uint64_t)json_integer_value(json_object_get(j->rec, "epoch")));
	jobs_set_state(js, j, JOBS_CANCELLED, "cancelled by request",
	    json_pack("{s:s}", "principal", p != NULL ? p->name : ""));
	audit_record(js->n->audit, "job.cancelled", p != NULL ? p->name : "",
	    "ok", json_pack("{s:s}", "job_id", id));
	jobs_fanout_cancel(js, j, p);
	return 200;
}

/* --- results ------------------------------------------------------------------ */

struct lease {
	const char	*node;
	json_int_t	 epoch;
	int		 found;
};

static int
lease_cb(void *arg, const char *text)
{
	struct lease *l = arg;
	json_t *h = json_loads(text, 0, NULL);

	if (json_is_string(json_object_get(h, "node")) &&
	    strcmp(json_string_value(json_object_get(h, "node")), l->node) == 0 &&
	    json_integer_value(json_object_get(h, "epoch")) == l->epoch &&
	    json_is_string(json_object_get(h, "event")) &&
	    strcmp(json_string_value(json_object_get(h, "event")),
	    "dispatched") == 0)
		l->found = 1;
	json_decref(h);
	return l->found;
}

/* Whether node held the job's lease of that epoch (it was dispatched
 * there): only then is its run's end the job's story. */
static int
held_lease(struct jobs *js, const char *job_id, const char *node,
    json_int_t epoch)
{
	struct lease l = { node, epoch, 0 };

	if (store_job_history(js->n->store, job_id, lease_cb, &l) < 0)
		return 0;
	return l.found;
}

/* A JOB_RESULT for a run that is not the job's: recorded (when its node
 * held a lease of the job, with its reason bounded), never taken. */
static int
fenced_run(struct jobs *js, const char *job_id, const char *origin,
    const json_t *args, json_t **body, const char *why)
{
	char reason[JOBS_REASON_MAX];

	*body = json_pack("{s:b, s:b}", "accepted", 0, "fenced", 1);
	if (!held_lease(js, job_id, origin, json_integer_value(
	    json_object_get(args, "epoch")))) {
		log_event(LOG_WARN, "job result from a node without its lease "
		    "ignored", "{s:s, s:s}", "job", job_id, "node", origin);
		return MESH_COMMAND_STATUS(OK);
	}
	js->count[JC_FENCED]++;
	jobs_task_count_id(js, JC_FENCED, job_id);
	jobs_clean_text(json_string_value(json_object_get(args, "reason")),
	    reason, sizeof(reason));
	jobs_history(js, job_id, "fenced", json_pack("{s:s, s:O, s:s?, s:s?, "
	    "s:s}", "node", origin, "epoch", json_object_get(args, "epoch"),
	    "state", jobs_state_name((enum jobs_state)jobs_state_parse(
	    json_string_value(json_object_get(args, "state")))), "reason",
	    json_is_string(json_object_get(args, "reason")) ? reason : NULL,
	    "why", why));
	log_event(LOG_INFO, "job run fenced", "{s:s, s:s, s:s}", "job", job_id,
	    "node", origin, "why", why);
	return MESH_COMMAND_STATUS(OK);
}

/* An "any" job whose node restarted mid-run goes back to the queue when
 * it may run again; 1 when it did. */
static int
requeue_restarted(struct jobs *js, struct job *j, const char *reason)
{
	if (!json_is_true(json_object_get(j->rec, "any")))
		return 0;
	if (json_is_true(json_object_get(j->rec, "at_most_once"))) {
		jobs_set_state(js, j, JOBS_LOST, reason, NULL);
		return 1;
	}
	if (clock_wall_ms() >= (uint64_t)json_integer_value(
	    json_object_get(j->rec, "deadline_ms")))
		return 0;
	jobs_set_state(js, j, JOBS_QUEUED, reason, NULL);
	json_object_set_new(j->rec, "node", json_null());
	jobs_persist(js, j);
	return 1;
}

int
jobs_result_command(struct jobs *js, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = json_string_value(json_object_get(args, "job_id"));
	const char *st = json_string_value(json_object_get(args, "state"));
	const char *reason = json_string_value(json_object_get(args, "reason"));
	json_t *ep = json_object_get(args, "epoch"), *rec;
	struct job *j;
	uint64_t epoch, cur;
	int s = jobs_state_parse(st);
	const char *node;
	static const char *const copied[] = { "exit_code", "term_signal",
	    "result", "started_ms", "task_id", "why_no_result" };

	if (!jobs_from_node(c->principal, c->origin)) {
		snprintf(err, errlen, "job_result is node-internal");
		return MESH_COMMAND_STATUS(REFUSED);
	}
	if (id == NULL || !node_id_valid(id, strlen(id)) ||
	    !json_is_integer(ep) || json_integer_value(ep) < 1 ||
	    !jobs_state_from_executor(s)) {
		/* Expired and lost are the issuer's verdicts, not a run's: taken
		 * from a peer they would be moves the state table forbids. */
		snprintf(err, errlen, "args: job_id, epoch >= 1 and a state "
		    "(succeeded, failed or cancelled) are required");
		return MESH_COMMAND_STATUS(INVALID);
	}
	epoch = (uint64_t)json_integer_value(ep);
	if ((j = hmap_get(js->open, id)) == NULL || j->final) {
		if ((rec = j != NULL ? json_incref(j->rec) : stored(js, id, NULL)) ==
		    NULL) {
			*body = json_pack("{s:b, s:b}", "accepted", 0, "unknown", 1);
			return MESH_COMMAND_STATUS(OK);
		}
		cur = (uint64_t)json_integer_value(json_object_get(rec, "epoch"));
		node = json_string_value(json_object_get(rec, "node"));
		/* The same result again (its first answer was lost). */
		if (epoch == cur && node != NULL && strcmp(node, c->origin) == 0 &&
		    json_object_get(rec, "result_from") != NULL) {
			json_decref(rec);
			*body = json_pack("{s:b, s:b}", "accepted", 1, "duplicate", 1);
			return MESH_COMMAND_STATUS(OK);
		}
		json_decref(rec);
		return fenced_run(js, id, c->origin, args, body, "the job is final");
	}
	cur = (uint64_t)json_integer_value(json_object_get(j->rec, "epoch"));
	node = json_string_value(json_object_get(j->rec, "node"));
	if (epoch != cur || node == NULL || strcmp(node, c->origin) != 0)
		return fenced_run(js, id, c->origin, args, body, epoch < cur ?
		    "an older epoch" : "not the job's current run");
	/* The run ended with its node, not by itself. */
	if (reason != NULL && (strcmp(reason, "node restarted") == 0 ||
	    strcmp(reason, "node stopped") == 0) &&
	    requeue_restarted(js, j, reason)) {
		*body = json_pack("{s:b, s:b}", "accepted", 1, "fenced", 0);
		return MESH_COMMAND_STATUS(OK);
	}
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		if (json_object_get(args, copied[i]) != NULL)
			json_object_set(j->rec, copied[i],
			    json_object_get(args, copied[i]));
	json_object_set_new(j->rec, "result_from", json_pack("{s:s, s:I}",
	    "node", c->origin, "epoch", (json_int_t)epoch));
	if (j->state == JOBS_QUEUED)	/* the answer to the dispatch was lost */
		jobs_set_state(js, j, JOBS_DISPATCHED, NULL, NULL);
	jobs_set_state(js, j, (enum jobs_state)s, reason, json_pack("{s:O?, s:O?}",
	    "exit_code", json_object_get(args, "exit_code"), "term_signal",
	    json_object_get(args, "term_signal")));
	*body = json_pack("{s:b, s:b}", "accepted", 1, "fenced", 0);
	return MESH_COMMAND_STATUS(OK);
}

/* --- lifetime ----------------------------------------------------------------- */

static int
sweep_final(const char *id, void *value, void *arg)
{
	struct job *j = value;

	(void)id;
	(void)arg;
	if (!j->final)
		return 0;
	job_free(j);
	return 1;
}

static void
tick_cb(void *arg)
{
	struct jobs *js = arg;

	hmap_sweep(js->open, sweep_final, NULL);
	jobs_dispatch_tick(js);
	hmap_sweep(js->open, sweep_final, NULL);
}

static int
load_open(void *arg, const char *text)
{
	json_t *rec = json_loads(text, 0, NULL);

	if (rec != NULL && json_is_string(json_object_get(rec, "id")))
		json_array_append_new(arg, rec);
	else
		json_decref(rec);
	return 0;
}

/* The open jobs of a previous life.  A dispatch whose answer had not come
 * is sent again (same node, same epoch: the executor answers a repeat
 * from its record); a running job waits for its result. */
static void
reload(struct jobs *js)
{
	json_t *recs = json_array(), *rec;
	struct job *j;
	size_t i;

	if (store_jobs_open(js->n->store, load_open, recs) < 0 ||
	    store_job_fences(js->n->store, append_cb, js->fences) < 0)
		log_event(LOG_ERROR, "cannot read the open jobs", "{s:s}", "error",
		    store_error(js->n->store));
	json_array_foreach(recs, i, rec) {
		j = job_add(js, json_incref(rec));
		if (j->state == JOBS_DISPATCHED)
			jobs_set_state(js, j, JOBS_QUEUED, "issuer restarted before "
			    "the dispatch was answered", NULL);
	}
	if (json_array_size(recs) > 0)
		log_event(LOG_INFO, "open jobs reloaded", "{s:i}", "count",
		    (int)json_array_size(recs));
	json_decref(recs);
	jobs_fanout_reload(js);
}

struct jobs *
jobs_new(struct node *n)
{
	struct jobs *js = xcalloc(1, sizeof(*js));

	js->n = n;
	js->open = hmap_new();
	js->fences = json_array();
	js->fencing = json_object();
	jobs_events_seed(n);
	reload(js);
	js->tick = wall_timer_new(n->base, TICK_MS, 0, tick_cb, js);
	return js;
}

static int
free_job(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	job_free(value);
	return 1;
}

void
jobs_free(struct jobs *js)
{
	if (js == NULL)
		return;
	wall_timer_free(js->tick);
	hmap_sweep(js->open, free_job, NULL);
	hmap_free(js->open);
	json_decref(js->fences);
	json_decref(js->fencing);
	json_decref(js->by_task);
	free(js);
}

static int
count_queued(const char *id, void *value, void *arg)
{
	const struct job *j = value;

	(void)id;
	if (!j->final && j->state == JOBS_QUEUED)
		(*(size_t *)arg)++;
	return 0;
}

json_t *
jobs_counters(struct jobs *js)
{
	json_t *o = json_object();
	size_t queued = 0;

	for (int i = 0; i < JC_COUNT; i++)
		json_object_set_new(o, counter_names[i],
		    json_integer((json_int_t)js->count[i]));
	/* The queue: jobs waiting for their node (or for one to match). */
	hmap_sweep(js->open, count_queued, &queued);
	json_object_set_new(o, "queued", json_integer((json_int_t)queued));
	json_object_set_new(o, "open", json_integer((json_int_t)
	    hmap_count(js->open)));
	return o;
}

/* --- for jobs_fanout.c (jobs_priv.h) ---------------------------------------- */

struct job *
jobs_open_add(struct jobs *js, json_t *rec)
{
	return job_add(js, rec);
}

void
jobs_open_drop(struct jobs *js, struct job *j)
{
	hmap_del(js->open, j->id);
	job_free(j);
}

void
jobs_grant(json_t *rec, const struct principal *p)
{
	grant(rec, p);
}

int
jobs_travel_size(const json_t *rec)
{
	return dispatch_size(rec);
}

json_t *
jobs_stored(struct jobs *js, const char *id)
{
	return stored(js, id, NULL);
}

void
jobs_on_final(struct jobs *js, void (*fn)(void *, const json_t *), void *arg)
{
	js->final_fn = fn;
	js->final_arg = arg;
}

void
jobs_set_gate(struct jobs *js, int (*fn)(void *, const json_t *), void *arg)
{
	js->gate_fn = fn;
	js->gate_arg = arg;
}
