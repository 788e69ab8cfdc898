/*
 * The issuer's dispatcher (jobs.h): each tick (500 ms, and at once after
 * a submit) it walks the open jobs and
 *  - expires a queued or dispatched job past its deadline;
 *  - sends back to the queue, with its node fenced, an "any" job whose
 *    node is dead by --dead-ms (or marks it lost when at_most_once);
 *  - sends each queued job whose node is reachable a JOB_RUN command
 *    (commands.h) carrying (job id, epoch), and reads the answer;
 *  - sends the fences still pending to the nodes that are reachable;
 *  - and does none of the moves of a job its gate holds (jobs_set_gate).
 *
 * A job whose JOB_RUN went unanswered (timeout, unreachable) keeps its
 * node and epoch: the copy may have arrived, and the executor answers a
 * repeated (job, epoch) with what it recorded, so sending it again never
 * runs it twice.  Only a dead node makes an "any" job move, and then with
 * epoch + 1.
 */
#include "jobs.h"
#include "jobs_priv.h"
#include "jobs_hooks.h"

#include <stdio.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "commands.h"
#include "hmap.h"
#include "log.h"
#include "node.h"
#include "routing.h"
#include "store.h"
#include "store_jobs.h"
#include "sync.h"

#define RETRY_MS	1000	/* after an unanswered or refused dispatch, */
#define RETRY_MAX_MS	60000	/* doubled up to this while unanswered */
#define FROZEN_RETRY_MS	2000

/* --- what the dispatcher knows of the nodes ----------------------------------- */

/* id → {"member", "frozen", "cpu", "ours"}: member state as the API shows
 * it, and how many of our jobs are dispatched or running there. */
static json_t *
view_new(struct jobs *js)
{
	struct node *n = js->n;
	json_t *st = api_cluster_status(n, 1), *v = json_object(), *r, *s;
	const char *id;
	size_t i;

	s = json_object_get(json_object_get(json_object_get(st, "local"),
	    "state"), "status");
	json_object_set_new(v, n->id, json_pack("{s:s, s:b, s:f, s:i}", "member",
	    "alive", "frozen", n->frozen, "cpu",
	    json_number_value(json_object_get(s, "cpu_percent")), "ours", 0));
	json_array_foreach(json_object_get(st, "remote"), i, r) {
		id = json_string_value(json_object_get(r, "node_id"));
		s = json_object_get(r, "status");
		if (id == NULL || strcmp(id, n->id) == 0)
			continue;
		json_object_set_new(v, id, json_pack("{s:O, s:b, s:f, s:i}",
		    "member", json_object_get(r, "member"), "frozen",
		    json_is_true(json_object_get(s, "frozen")), "cpu",
		    json_number_value(json_object_get(s, "cpu_percent")), "ours", 0));
	}
	json_decref(st);
	return v;
}

static int
count_ours(const char *key, void *value, void *arg)
{
	struct job *j = value;
	const char *node = json_string_value(json_object_get(j->rec, "node"));
	json_t *o = json_object_get(arg, node != NULL ? node : "");

	(void)key;
	if (o != NULL && !j->final && (j->state == JOBS_DISPATCHED ||
	    j->state == JOBS_RUNNING))
		json_object_set_new(o, "ours", json_integer(
		    json_integer_value(json_object_get(o, "ours")) + 1));
	return 0;
}

static int
member_is(const json_t *view, const char *node, const char *state)
{
	const char *m = json_string_value(json_object_get(
	    json_object_get(view, node), "member"));

	return m != NULL && strcmp(m, state) == 0;
}

/* Dead by --dead-ms, or gone: the job will not run there. */
static int
node_dead(const json_t *view, const char *node)
{
	return member_is(view, node, "dead") || member_is(view, node, "left");
}

int
jobs_node_command(struct node *n, const char *node, const char *type,
    const json_t *args, void (*done)(const char *, const json_t *, void *),
    void *arg, char *err, size_t errlen)
{
	struct commands_request cr = { 0 };
	struct principal p;
	json_t *target = json_string(node);
	const char *code;
	char cid[64];
	int dup, rc;

	jobs_node_principal(&p, n->id);
	cr.target = target;
	cr.type = type;
	cr.args = args;
	cr.principal = &p;
	cr.done = done;
	cr.done_arg = arg;
	rc = commands_issue(n->commands, &cr, cid, sizeof(cid), &dup, &code, err,
	    errlen);
	json_decref(target);
	return rc;
}

int
jobs_reachable(struct node *n, const char *node)
{
	char hop[JOB_ID_MAX];

	return strcmp(node, n->id) == 0 || routing_next_hop(
	    sync_routing(n->sync), node, hop, sizeof(hop)) == 0;
}

/*
 * Where an "any" job goes: among the present nodes its selector matches,
 * alive, not frozen and reachable, the one with the fewest of our jobs,
 * then the lowest CPU, then the lowest id (routing_select's order).
 * NULL when none may take it now (borrowed from view).
 */
static const char *
choose(struct jobs *js, const json_t *view, const struct job *j)
{
	json_t *ids = routing_select(sync_routing(js->n->sync),
	    json_object_get(j->rec, "selector")), *v, *o, *best = NULL;
	const char *id, *best_id = NULL;
	size_t i;

	json_array_foreach(ids, i, v) {
		id = json_string_value(v);
		o = json_object_get(view, id);
		if (o == NULL || !member_is(view, id, "alive") ||
		    json_is_true(json_object_get(o, "frozen")) ||
		    !jobs_reachable(js->n, id))
			continue;
		if (best == NULL || json_integer_value(json_object_get(o, "ours")) <
		    json_integer_value(json_object_get(best, "ours")) ||
		    (json_integer_value(json_object_get(o, "ours")) ==
		    json_integer_value(json_object_get(best, "ours")) &&
		    json_number_value(json_object_get(o, "cpu")) <
		    json_number_value(json_object_get(best, "cpu")))) {
			best = o;
			best_id = json_object_iter_key(json_object_iter_at(
			    (json_t *)view, id));
		}
	}
	json_decref(ids);
	return best_id;
}

/* --- dispatching ---------------------------------------------------------------- */

static uint64_t
epoch_of(const struct job *j)
{
	return (uint64_t)json_integer_value(json_object_get(j->rec, "epoch"));
}

json_t *
jobs_run_args(const json_t *rec)
{
	json_t *ep = json_object_get(rec, "epoch");

	json_t *args = json_pack("{s:O, s:O, s:O, s:O?, s:O?, s:O?, s:O, s:O?, "
	    "s:O, s:O, s:O}", "job_id", json_object_get(rec, "id"), "epoch", ep,
	    "attempt", ep, "task", json_object_get(rec, "task"), "command",
	    json_object_get(rec, "command"), "args", json_object_get(rec, "args"),
	    "payload", json_object_get(rec, "payload"), "key",
	    json_object_get(rec, "key"), "args_hash",
	    json_object_get(rec, "args_hash"), "deadline_ms",
	    json_object_get(rec, "deadline_ms"), "principal",
	    json_object_get(rec, "principal"));

	/* What the destination checks a signed token's grant against. */
	if (json_object_get(rec, "grant") != NULL) {
		json_object_set(args, "grant", json_object_get(rec, "grant"));
		json_object_set(args, "submitted_ms", json_object_get(rec,
		    "submitted_ms"));
		json_object_set(args, "to", json_object_get(rec, "to"));
	}
	return args;
}

/* The answer to a JOB_RUN (commands.h's done hook). */
static void
run_done(const char *cid, const json_t *crec, void *arg)
{
	struct jobs *js = arg;
	const json_t *args = json_object_get(crec, "args");
	const char *id = json_string_value(json_object_get(args, "job_id"));
	json_t *res = json_array_get(json_object_get(crec, "results"), 0);
	const char *status = json_string_value(json_object_get(res, "status"));
	const char *error = json_string_value(json_object_get(res, "error"));
	json_t *body = json_object_get(res, "body");
	const char *state = json_string_value(json_object_get(body, "state"));
	struct job *j = id != NULL ? hmap_get(js->open, id) : NULL;
	int s;

	(void)cid;
	if (j == NULL || j->final || (uint64_t)json_integer_value(
	    json_object_get(args, "epoch")) != epoch_of(j))
		return;
	j->inflight = 0;
	/* The lease moved on (its node died meanwhile): a stale answer. */
	if (!json_is_string(json_object_get(j->rec, "node")) ||
	    !json_equal(json_object_get(j->rec, "node"),
	    json_object_get(res, "node")))
		return;
	if (status == NULL || strcmp(status, "timeout") == 0 ||
	    strcmp(status, "unreachable") == 0) {
		/* Maybe delivered: the same node and epoch again, later, and
		 * less often while it stays unanswered (each try is two
		 * history entries). */
		j->retry_ms = j->retry_ms == 0 ? RETRY_MS : j->retry_ms * 2 >
		    RETRY_MAX_MS ? RETRY_MAX_MS : j->retry_ms * 2;
		j->next_ms = clock_wall_ms() + j->retry_ms;
		if (j->state == JOBS_DISPATCHED)
			jobs_set_state(js, j, JOBS_QUEUED, error != NULL ? error :
			    "no answer to the dispatch", NULL);
		return;
	}
	j->retry_ms = 0;
	if (strcmp(status, "ok") == 0) {
		s = jobs_state_parse(state);
		if (json_is_string(json_object_get(body, "duplicate_of")))
			jobs_history(js, j->id, "duplicate", json_pack("{s:O, s:O}",
			    "of", json_object_get(body, "duplicate_of"), "node",
			    json_object_get(res, "node")));
		if (s == JOBS_RUNNING && j->state == JOBS_DISPATCHED) {
			json_object_set(j->rec, "task_id",
			    json_object_get(body, "task_id"));
			jobs_set_state(js, j, JOBS_RUNNING, NULL, json_pack("{s:O?}",
			    "task_id", json_object_get(body, "task_id")));
		}
		/* A run that had ended (or never started) before this answer:
		 * its result comes as a JOB_RESULT, from the record. */
		return;
	}
	/* Said in the body (command_exec.c), not guessed from the text: a
	 * reason that merely mentions "frozen" is a failure. */
	if (strcmp(status, "refused") == 0 &&
	    json_is_true(json_object_get(body, "frozen"))) {
		/* Not a failure: it stays queued until the node unfreezes. */
		j->next_ms = clock_wall_ms() + FROZEN_RETRY_MS;
		jobs_set_state(js, j, JOBS_QUEUED, error, NULL);
		return;
	}
	if (json_is_string(json_object_get(body, "conflict")))
		json_object_set(j->rec, "conflict_with",
		    json_object_get(body, "conflict"));
	jobs_set_state(js, j, JOBS_FAILED, error != NULL ? error : status,
	    json_pack("{s:s}", "status", status));
}

static void
dispatch(struct jobs *js, struct job *j, const char *node)
{
	struct commands_request cr = { 0 };
	struct principal p = { .role = PRINCIPAL_WRITE };
	json_t *target = json_string(node), *args;
	const char *code;
	char cid[64], err[512];
	int dup;

	if (!json_is_string(json_object_get(j->rec, "node")) || epoch_of(j) == 0) {
		/* A new lease: a new epoch. */
		json_object_set_new(j->rec, "epoch", json_integer(
		    (json_int_t)epoch_of(j) + 1));
		json_object_set_new(j->rec, "node", json_string(node));
		js->count[epoch_of(j) > 1 ? JC_REDISPATCHED : JC_DISPATCHED]++;
		jobs_task_count(js, epoch_of(j) > 1 ? JC_REDISPATCHED :
		    JC_DISPATCHED, j->rec);
	}
	json_object_set_new(j->rec, "attempt", json_integer((json_int_t)epoch_of(j)));
	args = jobs_run_args(j->rec);
	snprintf(p.name, sizeof(p.name), "%s",
	    json_string_value(json_object_get(j->rec, "principal")));
	cr.target = target;
	cr.type = "job_run";
	cr.args = args;
	cr.principal = &p;
	cr.done = run_done;
	cr.done_arg = js;
	jobs_set_state(js, j, JOBS_DISPATCHED, NULL, NULL);
	j->inflight = 1;
	if (commands_issue(js->n->commands, &cr, cid, sizeof(cid), &dup, &code,
	    err, sizeof(err)) != 0) {
		/* The node is not known yet: still queued, try later. */
		j->inflight = 0;
		j->next_ms = clock_wall_ms() + RETRY_MS;
		if (!j->final && j->state == JOBS_DISPATCHED)
			jobs_set_state(js, j, JOBS_QUEUED, err, NULL);
	} else
		jobs_story_sent(js, j, cid);
	json_decref(args);
	json_decref(target);
}

/* The lease of an "any" job on a dead node ends: lost, or queued for a
 * new node with the old one fenced. */
static void
node_died(struct jobs *js, struct job *j, const char *dead)
{
	char why[160], node[JOB_ID_MAX];

	/* A copy: the record's string goes when "node" is cleared. */
	snprintf(node, sizeof(node), "%s", dead);
	snprintf(why, sizeof(why), "node %s is dead", node);
	log_event(LOG_WARN, "job's node is dead", "{s:s, s:s, s:b}", "job", j->id,
	    "node", node, "at_most_once",
	    json_is_true(json_object_get(j->rec, "at_most_once")));
	/* Fenced either way: the node may come back with the run going. */
	jobs_fence_add(js, j->id, node, epoch_of(j));
	if (json_is_true(json_object_get(j->rec, "at_most_once"))) {
		jobs_set_state(js, j, JOBS_LOST, why, NULL);
		return;
	}
	json_object_set_new(j->rec, "node", json_null());
	j->inflight = 0;
	if (j->state != JOBS_QUEUED)
		jobs_set_state(js, j, JOBS_QUEUED, why, json_pack("{s:s}", "node",
		    node));
	else
		jobs_persist(js, j);
}

/* Held by its owner (jobs_set_gate): neither sent nor placed again.
 * Asked only when the dispatcher would do one of those. */
static int
held(struct jobs *js, const struct job *j)
{
	return js->gate_fn != NULL && !js->gate_fn(js->gate_arg, j->rec);
}

struct tick {
	struct jobs	*js;
	json_t		*view;
	uint64_t	 now;
};

static int
tick_job(const char *key, void *value, void *arg)
{
	struct tick *t = arg;
	struct jobs *js = t->js;
	struct job *j = value;
	const char *node = json_string_value(json_object_get(j->rec, "node"));
	int any = json_is_true(json_object_get(j->rec, "any"));

	(void)key;
	if (j->final)
		return 0;
	if (jobs_lost_at_deadline(js, j, t->view, t->now))
		return 0;
	if ((j->state == JOBS_QUEUED || j->state == JOBS_DISPATCHED) &&
	    t->now > (uint64_t)json_integer_value(json_object_get(j->rec,
	    "deadline_ms"))) {
		if (node != NULL && epoch_of(j) > 0)
			jobs_fence_add(js, j->id, node, epoch_of(j));
		jobs_set_state(js, j, JOBS_EXPIRED, "deadline passed before it ran",
		    NULL);
		return 0;
	}
	if (any && node != NULL && epoch_of(j) > 0 && node_dead(t->view, node)) {
		if (held(js, j))
			return 0;
		node_died(js, j, node);
		if (j->final)
			return 0;
		node = NULL;
	}
	if (j->state != JOBS_QUEUED || j->inflight || t->now < j->next_ms)
		return 0;
	if (node == NULL && any) {
		/* Never a second node for an at-most-once job. */
		if (epoch_of(j) > 0 &&
		    json_is_true(json_object_get(j->rec, "at_most_once")))
			return 0;
		node = choose(js, t->view, j);
	}
	/* A frozen node would refuse it: wait for the unfreeze quietly. */
	if (node == NULL || !jobs_reachable(js->n, node) ||
	    json_is_true(json_object_get(json_object_get(t->view, node),
	    "frozen")) || held(js, j))
		return 0;
	dispatch(js, j, node);
	/* Counted at once: the next job of the same tick sees it. */
	count_ours(NULL, j, t->view);
	return 0;
}

/* --- fences -------------------------------------------------------------------- */

static void
fence_done(const char *cid, const json_t *crec, void *arg)
{
	struct jobs *js = arg;
	const json_t *args = json_object_get(crec, "args");
	const char *id = json_string_value(json_object_get(args, "job_id"));
	json_t *res = json_array_get(json_object_get(crec, "results"), 0), *f;
	const char *node = json_string_value(json_object_get(res, "node"));
	const char *status = json_string_value(json_object_get(res, "status"));
	char key[2 * JOB_ID_MAX + 2];
	size_t i;

	(void)cid;
	if (id == NULL || node == NULL)
		return;
	snprintf(key, sizeof(key), "%s/%s", id, node);
	json_object_del(js->fencing, key);
	if (status == NULL || strcmp(status, "ok") != 0)
		return;
	json_array_foreach(js->fences, i, f)
		if (strcmp(json_string_value(json_object_get(f, "job_id")), id) ==
		    0 && strcmp(json_string_value(json_object_get(f, "node")),
		    node) == 0 && json_equal(json_object_get(f, "epoch"),
		    json_object_get(args, "epoch"))) {
			json_array_remove(js->fences, i);
			break;
		}
	if (store_job_fence_del(js->n->store, id, node, (uint64_t)
	    json_integer_value(json_object_get(args, "epoch"))) != 0)
		log_event(LOG_WARN, "cannot remove a job fence", "{s:s}", "error",
		    store_error(js->n->store));
	/* The old run is recorded fenced on its node: it never answers for
	 * the job (a result it still sends is refused, jobs_result_command). */
	jobs_history(js, id, "fenced", json_pack("{s:s, s:O?, s:O?, s:s}", "node",
	    node, "epoch", json_object_get(args, "epoch"), "stopped",
	    json_object_get(json_object_get(res, "body"), "stopped"), "why",
	    "fence delivered"));
}

static void
send_fences(struct jobs *js)
{
	const char *id, *node;
	char err[512], key[2 * JOB_ID_MAX + 2];
	json_t *f, *args;
	size_t i;

	json_array_foreach(js->fences, i, f) {
		id = json_string_value(json_object_get(f, "job_id"));
		node = json_string_value(json_object_get(f, "node"));
		if (id == NULL || node == NULL || !jobs_reachable(js->n, node))
			continue;
		snprintf(key, sizeof(key), "%s/%s", id, node);
		if (json_object_get(js->fencing, key) != NULL)
			continue;
		json_object_set_new(js->fencing, key, json_true());
		args = json_pack("{s:s, s:O}", "job_id", id, "epoch",
		    json_object_get(f, "epoch"));
		if (jobs_node_command(js->n, node, "job_fence", args, fence_done,
		    js, err, sizeof(err)) != 0)
			json_object_del(js->fencing, key);
		json_decref(args);
	}
}

void
jobs_dispatch_tick(struct jobs *js)
{
	struct tick t = { js, NULL, clock_wall_ms() };

	if (js->n->commands == NULL)
		return;
	if (hmap_count(js->open) > 0) {
		t.view = view_new(js);
		hmap_sweep(js->open, count_ours, t.view);
		hmap_sweep(js->open, tick_job, &t);
		json_decref(t.view);
	}
	if (json_array_size(js->fences) > 0)
		send_fences(js);
}
