/*
 * The local API's work routes: commands (issue, follow, long-poll), tasks
 * and their logs, alerts, and this node's definitions (the audit's are
 * api_audit.c).
 *
 * A request may wait for a command (?wait_ms=N): it is parked as a waiter
 * until the command's record gains a result beyond what the client has
 * seen (?results=K) or finishes, or until N ms pass.  A waiter whose
 * client goes away is dropped by the connection's close callback, which
 * evhttp calls before it frees the request.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "alerts.h"
#include "api.h"
#include "audit.h"
#include "api_priv.h"
#include "command_exec.h"
#include "commands.h"
#include "freeze.h"
#include "http_json.h"
#include "json_check.h"
#include "links.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "notify.h"
#include "store.h"
#include "routing.h"
#include "store_work.h"
#include "sync.h"
#include "tasks.h"
#include "text.h"
#include "work_json.h"
#include "xalloc.h"

#define WAIT_MAX_MS	600000
#define WAITERS_MAX	256
#define LIST_MAX	10000
#define LIST_DEFAULT	1000
#define SNAPSHOT_ITEMS	500	/* tasks, alerts, events in a feed snapshot */
#define SNAPSHOT_COMMANDS 50
#define SNAPSHOT_FRAME	128	/* bytes of a snapshot besides its parts */

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;
	struct api_work		*w;
	struct evhttp_request	*req;
	struct evhttp_connection *conn;
	char			 id[64];
	size_t			 seen;		/* results the client has */
	api_reply_fn		 reply;		/* how the record is answered */
	struct event		*timer;
};

struct api_work {
	struct node		*n;
	TAILQ_HEAD(, waiter)	 waiters;
	size_t			 nwaiters;
};

struct api_work *
api_work_new(struct node *n)
{
	struct api_work *w = xcalloc(1, sizeof(*w));

	w->n = n;
	TAILQ_INIT(&w->waiters);
	return w;
}

static void
waiter_free(struct waiter *wt)
{
	TAILQ_REMOVE(&wt->w->waiters, wt, entry);
	wt->w->nwaiters--;
	if (wt->conn != NULL)
		evhttp_connection_set_closecb(wt->conn, NULL, NULL);
	event_free(wt->timer);
	free(wt);
}

void
api_work_free(struct api_work *w)
{
	struct waiter *wt;

	if (w == NULL)
		return;
	while ((wt = TAILQ_FIRST(&w->waiters)) != NULL) {
		struct evhttp_request *req = wt->req;
		waiter_free(wt);
		http_reply_error(req, 503, "shutting_down", "the node is stopping");
	}
	free(w);
}

/* The record with the status code that fits its state. */
static void
reply_record(struct evhttp_request *req, json_t *rec, int duplicate)
{
	const char *state = json_string_value(json_object_get(rec, "state"));

	if (duplicate)
		json_object_set_new(rec, "duplicate", json_true());
	http_reply_json(req, state != NULL && strcmp(state, "pending") == 0 ?
	    202 : 200, rec);
}

static int
ready(const json_t *rec, size_t seen)
{
	const char *state = json_string_value(json_object_get(rec, "state"));

	return state == NULL || strcmp(state, "pending") != 0 ||
	    json_array_size(json_object_get(rec, "results")) > seen;
}

/*
 * Answers a waiter with the record (NULL: gone).  The waiter is unhooked
 * first: replying may close the connection, and its close callback must
 * then find nothing of ours.
 */
static void
waiter_reply(struct waiter *wt, json_t *rec)
{
	struct evhttp_request *req = wt->req;
	api_reply_fn reply = wt->reply;
	char id[sizeof(wt->id)];

	snprintf(id, sizeof(id), "%s", wt->id);
	waiter_free(wt);
	if (reply != NULL)
		reply(req, id, rec);
	else if (rec != NULL)
		reply_record(req, rec, 0);
	else
		http_reply_error(req, 404, "not_found", "no command %s", id);
}

static void
waiter_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *wt = arg;

	(void)fd;
	(void)what;
	waiter_reply(wt, commands_get(wt->w->n->commands, wt->id));
}

static void
waiter_gone_cb(struct evhttp_connection *conn, void *arg)
{
	struct waiter *wt = arg;

	(void)conn;
	wt->conn = NULL;	/* closing: leave its callbacks alone */
	waiter_free(wt);
}

void
api_work_changed(struct api_work *w, const char *id)
{
	struct waiter *wt, *next;
	json_t *rec = NULL;

	for (wt = TAILQ_FIRST(&w->waiters); wt != NULL; wt = next) {
		next = TAILQ_NEXT(wt, entry);
		if (strcmp(wt->id, id) != 0)
			continue;
		if (rec == NULL && (rec = commands_get(w->n->commands, id)) == NULL)
			return;
		if (!ready(rec, wt->seen))
			continue;
		waiter_reply(wt, json_deep_copy(rec));
	}
	json_decref(rec);
}

/* Replies now, or parks the request until the record moves on. */
static void
answer_or_wait(const struct api_call *call, const char *id, json_t *rec,
    size_t seen, long wait_ms, int duplicate, api_reply_fn reply)
{
	struct api_work *w = call->api->work;
	struct waiter *wt;

	if (wait_ms <= 0 || ready(rec, seen) || w->nwaiters >= WAITERS_MAX) {
		if (reply != NULL)
			reply(call->req, id, rec);
		else
			reply_record(call->req, rec, duplicate);
		return;
	}
	json_decref(rec);
	wt = xcalloc(1, sizeof(*wt));
	wt->w = w;
	wt->req = call->req;
	wt->conn = evhttp_request_get_connection(call->req);
	snprintf(wt->id, sizeof(wt->id), "%s", id);
	wt->seen = seen;
	wt->reply = reply;
	struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
	wt->timer = evtimer_new(call->n->base, waiter_timeout_cb, wt);
	evtimer_add(wt->timer, &tv);
	if (wt->conn != NULL)
		evhttp_connection_set_closecb(wt->conn, waiter_gone_cb, wt);
	TAILQ_INSERT_TAIL(&w->waiters, wt, entry);
	w->nwaiters++;
}

void
api_work_wait(const struct api_call *call, const char *id, json_t *rec,
    long wait_ms, api_reply_fn reply)
{
	answer_or_wait(call, id, rec, (size_t)-1 >> 1, wait_ms, 0, reply);
}

/* --- lists ---------------------------------------------------------------------- */

static int
append_json(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

static void
reply_list(struct evhttp_request *req, struct node *n, const char *key,
    json_t *list, int rc)
{
	if (rc < 0) {
		json_decref(list);
		http_reply_error(req, 500, "internal", "cannot read %s: %s", key,
		    store_error(n->store));
		return;
	}
	http_reply_json(req, 200, json_pack("{s:o}", key, list));
}

/* --- commands ------------------------------------------------------------------- */

/* The least role that may issue a command type here: the executor's
 * (command_exec_role), at least the route's write. */
static enum principal_role
command_role(int type)
{
	enum principal_role r = command_exec_role(type);

	return r > PRINCIPAL_WRITE ? r : PRINCIPAL_WRITE;
}

/* A command the issuing node refused before it left: who asked for what,
 * the args' hash, and why not. */
static void
audit_refused(const struct api_call *call, const struct commands_request *cr,
    const char *code, const char *why)
{
	char *text = cr->args != NULL ? json_dumps(cr->args, JSON_COMPACT) : NULL;

	api_audit(call, "command.refused", code,
	    json_pack("{s:s?, s:O?, s:O?, s:o, s:s}", "type", cr->type, "target",
	    cr->target, "args", cr->args, "args_sha256", audit_sha256_json(text,
	    text != NULL ? strlen(text) : 0), "error", why));
	free(text);
}

struct closest {
	const char	*want;
	char		 best[NODE_ID_MAX + 1];
	size_t		 dist;
	int		 found;
};

static void
closest_one(const char *id, void *arg)
{
	struct closest *c = arg;
	size_t d = text_edit_distance(c->want, id);

	if (d == 0)
		c->found = 1;
	else if (d < c->dist) {
		c->dist = d;
		snprintf(c->best, sizeof(c->best), "%s", id);
	}
}

/*
 * A target that names one node no node here has heard of (api_priv.h): 1 with a
 * message that offers the closest name ("no node named nod-2 (did you
 * mean node-2?)"), so a typo is not taken for a node that is down.  A
 * node that is down, dead or left is known, and its command goes on to
 * answer that.
 */
int
api_unknown_node(struct node *n, const json_t *target, char *err,
    size_t errlen)
{
	const char *id = json_string_value(target);
	struct closest c = { id, "", SIZE_MAX, 0 };
	char hop[NODE_ID_MAX + 1];

	/* Known: us, a peer we link to or dial (even with no state of it
	 * yet), a node the link-state graph routes to, an origin we hold. */
	if (id == NULL || strchr(id, '=') != NULL || strcmp(id, "all") == 0 ||
	    !node_id_valid(id, strlen(id)) || strcmp(id, n->id) == 0 ||
	    (n->links != NULL && links_member(n->links, id) != NULL) ||
	    (n->sync != NULL && routing_next_hop(sync_routing(n->sync), id, hop,
	    sizeof(hop)) == 0) || n->sync == NULL)
		return 0;
	closest_one(n->id, &c);
	sync_foreach_origin(n->sync, closest_one, &c);
	if (c.found)
		return 0;
	if (c.best[0] != '\0' && c.dist <= (strlen(id) > 6 ? strlen(id) / 3 : 2))
		snprintf(err, errlen, "no node named %s (did you mean %s?)", id,
		    c.best);
	else
		snprintf(err, errlen, "no node named %s: no node here has heard "
		    "of it (agentflow status lists the nodes)", id);
	return 1;
}

void
api_work_commands_post(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	struct commands_request cr = { 0 };
	json_t *body, *rec, *epoched = NULL;
	const char *code = "invalid";
	char id[64], err[512], what[96];
	long wait_ms = 0;
	int dup, type, status;

	if ((body = http_body_json(req)) == NULL)
		return;
	if (!json_is_object(body)) {
		http_reply_error(req, 400, "bad_json", "body must be a JSON object "
		    "{target, type, args?, idempotency_key?, deadline_ms?, wait_ms?}");
		goto out;
	}
	if (api_command_fields(body, &cr, &wait_ms, err, sizeof(err)) != 0) {
		http_reply_error(req, 400, "invalid_field", "%s", err);
		goto out;
	}
	cr.principal = call->principal;
	type = mesh_names_command_type_parse(cr.type);
	snprintf(what, sizeof(what), "a %s command", cr.type ? cr.type : "");
	if (api_require_role(call, command_role(type), what) != 0)
		goto out;
	/* Forgetting goes through the nodes route, which checks the node is
	 * dead or left here first. */
	if (type == MESH_COMMAND_TYPE(JOB_RUN) ||
	    type == MESH_COMMAND_TYPE(JOB_RESULT) ||
	    type == MESH_COMMAND_TYPE(JOB_FENCE)) {
		http_reply_error(req, 400, "invalid_field", "type: %s is the jobs "
		    "module's own; submit jobs with POST /api/jobs", cr.type);
		goto out;
	}
	if (type == MESH_COMMAND_TYPE(FORGET_NODE)) {
		http_reply_error(req, 400, "invalid_field", "type: forget_node is "
		    "issued by POST /api/nodes/{id}/forget (it checks the node is "
		    "dead or left), not here");
		goto out;
	}
	if (n->frozen && type != 0 && !command_exec_allowed_frozen(type)) {
		snprintf(err, sizeof(err), "%s is frozen (read-only mode): %s is "
		    "refused until an unfreeze", n->id, cr.type);
		audit_refused(call, &cr, "frozen", err);
		http_reply_error(req, 423, "frozen", "%s", err);
		goto out;
	}
	/* A freeze or unfreeze moves the mesh's freeze state one epoch on
	 * (freeze.h): the destinations apply it only above theirs. */
	if ((type == MESH_COMMAND_TYPE(FREEZE) ||
	    type == MESH_COMMAND_TYPE(UNFREEZE)) &&
	    (cr.args == NULL || json_is_object(cr.args))) {
		epoched = cr.args != NULL ? json_deep_copy(cr.args) : json_object();
		json_object_set_new(epoched, "epoch",
		    json_integer((json_int_t)freeze_next_epoch(n)));
		cr.args = epoched;
	}
	/* A repeat of a keyed command is the commands module's to answer
	 * (with the first one's id), whatever happened to its node since. */
	if (cr.idempotency_key == NULL && api_unknown_node(n, cr.target, err,
	    sizeof(err))) {
		audit_refused(call, &cr, "unknown_node", err);
		http_reply_error(req, 404, "unknown_node", "%s", err);
		goto out;
	}
	if (commands_issue(n->commands, &cr, id, sizeof(id), &dup, &code, err,
	    sizeof(err)) != 0) {
		status = strcmp(code, "too_large") == 0 ? 413 :
		    strcmp(code, "no_target") == 0 ? 404 :
		    strcmp(code, "labels_unknown") == 0 ? 503 : 400;
		audit_refused(call, &cr, code, err);
		http_reply_error(req, status, code, "%s", err);
		goto out;
	}
	/* Ours to number from too, a destination or not (applied here
	 * already when it is one). */
	if (epoched != NULL)
		freeze_issued(n, (uint64_t)json_integer_value(json_object_get(
		    epoched, "epoch")));
	if ((rec = commands_get(n->commands, id)) == NULL) {
		http_reply_error(req, 500, "internal", "command %s was issued but "
		    "its record cannot be read", id);
		goto out;
	}
	/* Wait for every result: seen = number of destinations - 1 would
	 * wake at the last one; waiting on "done" is simpler to state. */
	answer_or_wait(call, id, rec, (size_t)-1 >> 1, dup ? 0 : wait_ms, dup,
	    NULL);
out:
	json_decref(epoched);
	json_decref(body);
}

int
api_command_fields(const json_t *body, struct commands_request *cr,
    long *wait_ms, char *err, size_t errlen)
{
	json_t *v;
	json_int_t x;

	cr->target = json_object_get(body, "target");
	cr->type = json_string_value(json_object_get(body, "type"));
	cr->args = json_object_get(body, "args");
	if ((v = json_object_get(body, "idempotency_key")) != NULL &&
	    (cr->idempotency_key = json_string_value(v)) == NULL) {
		snprintf(err, errlen, "idempotency_key: a string is required");
		return -1;
	}
	if ((v = json_object_get(body, "deadline_ms")) != NULL) {
		if (!json_check_int(v, 1, 86400000, &x)) {
			snprintf(err, errlen, "deadline_ms: milliseconds from "
			    "now, 1-86400000");
			return -1;
		}
		cr->deadline_ms = (uint64_t)x;
	}
	if ((v = json_object_get(body, "wait_ms")) != NULL) {
		if (!json_check_int(v, 0, WAIT_MAX_MS, &x)) {
			snprintf(err, errlen, "wait_ms: 0-%d", WAIT_MAX_MS);
			return -1;
		}
		*wait_ms = (long)x;
	}
	return 0;
}

void
api_work_commands_list(const struct api_call *call)
{
	struct evkeyvalq q;
	long long limit = 100;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) == 0)
		http_reply_json(call->req, 200, json_pack("{s:o}", "commands",
		    commands_list(call->n->commands, (unsigned)limit)));
	evhttp_clear_headers(&q);
}

void
api_work_command(const struct api_call *call)
{
	struct evkeyvalq q;
	long long wait_ms = 0, seen = -1;
	json_t *rec;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_int(call->req, &q, "wait_ms", 0, WAIT_MAX_MS, &wait_ms) != 0 ||
	    api_param_int(call->req, &q, "results", 0, 1000000, &seen) != 0)
		goto out;
	if (!node_id_valid(call->arg, strlen(call->arg))) {
		http_reply_error(call->req, 400, "invalid_field", "not a command id");
		goto out;
	}
	if ((rec = commands_get(call->n->commands, call->arg)) == NULL) {
		http_reply_error(call->req, 404, "not_found", "no command %s was "
		    "issued on this node", call->arg);
		goto out;
	}
	/* Without ?results=, wait for the end. */
	answer_or_wait(call, call->arg, rec, seen < 0 ? (size_t)-1 >> 1 :
	    (size_t)seen, (long)wait_ms, 0, NULL);
out:
	evhttp_clear_headers(&q);
}

/* --- tasks, alerts -------------------------------------------------------- */

void
api_work_tasks(const struct api_call *call)
{
	struct evkeyvalq q;
	struct store_task_query tq = { 0 };
	long long limit = LIST_DEFAULT;
	json_t *list;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_node(call->req, &q, "node", &tq.node) != 0 ||
	    api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0)
		goto out;
	tq.state = evhttp_find_header(&q, "state");
	if (tq.state != NULL && mesh_names_task_state_parse(tq.state) == 0) {
		http_reply_error(call->req, 400, "invalid_field", "state: one of "
		    "queued, running, succeeded, failed, cancelled, timed-out, "
		    "retrying");
		goto out;
	}
	tq.limit = (unsigned)limit;
	list = json_array();
	reply_list(call->req, call->n, "tasks", list,
	    store_tasks_query(call->n->store, &tq, append_json, list));
out:
	evhttp_clear_headers(&q);
}

/* /api/tasks/{node}/{id} and /api/tasks/{node}/{id}/logs */
void
api_work_task(const struct api_call *call)
{
	struct evkeyvalq q;
	struct store_task_query tq = { 0 };
	char node[64], id[64], rest[16] = "";
	long long after = 0, limit = LIST_DEFAULT;
	json_t *list;
	int rc;

	if (api_query(call->req, &q) != 0)
		return;
	if (sscanf(call->arg, "%63[^/]/%63[^/]%15s", node, id, rest) < 2 ||
	    !node_id_valid(node, strlen(node)) || !node_id_valid(id, strlen(id)) ||
	    (rest[0] != '\0' && strcmp(rest, "/logs") != 0)) {
		http_reply_error(call->req, 404, "not_found", "expected "
		    "/api/tasks/{node}/{task_id}[/logs]");
		goto out;
	}
	if (rest[0] != '\0') {
		if (api_param_int(call->req, &q, "after", 0, INT64_MAX, &after) != 0 ||
		    api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0)
			goto out;
		list = json_array();
		rc = store_task_logs(call->n->store, node, id, (uint64_t)after,
		    (unsigned)limit, append_json, list);
		reply_list(call->req, call->n, "lines", list, rc);
		goto out;
	}
	tq.node = node;
	tq.task_id = id;
	tq.limit = 1;
	list = json_array();
	if ((rc = store_tasks_query(call->n->store, &tq, append_json, list)) < 0 ||
	    json_array_size(list) == 0) {
		json_decref(list);
		http_reply_error(call->req, rc < 0 ? 500 : 404, rc < 0 ? "internal" :
		    "not_found", "no task %s of node %s is known here", id, node);
		goto out;
	}
	http_reply_json(call->req, 200, json_incref(json_array_get(list, 0)));
	json_decref(list);
out:
	evhttp_clear_headers(&q);
}

void
api_work_alerts(const struct api_call *call)
{
	struct evkeyvalq q;
	const char *node, *state;
	long long limit = LIST_DEFAULT;
	json_t *list;
	int rc;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_node(call->req, &q, "node", &node) != 0 ||
	    api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0)
		goto out;
	state = evhttp_find_header(&q, "state");
	if (state != NULL && mesh_names_alert_state_parse(state) == 0) {
		http_reply_error(call->req, 400, "invalid_field", "state: one of "
		    "firing, acknowledged, resolved");
		goto out;
	}
	list = json_array();
	rc = store_alerts_query(call->n->store, node, state, (unsigned)limit,
	    append_json, list);
	if (rc >= 0)
		api_silences_mark(call->n, list);
	reply_list(call->req, call->n, "alerts", list, rc);
out:
	evhttp_clear_headers(&q);
}

/* GET /api/alerts/notices?alert_id=ID: what became of this node's recent
 * notices (notify.h), of one alert's or all; an empty list without
 * --notify. */
void
api_work_notices(const struct api_call *call)
{
	struct evkeyvalq q;
	const char *id;

	if (api_query(call->req, &q) != 0)
		return;
	id = evhttp_find_header(&q, "alert_id");
	if (id != NULL && !node_id_valid(id, strlen(id)))
		http_reply_error(call->req, 400, "invalid_field", "alert_id: not "
		    "an alert id");
	else
		http_reply_json(call->req, 200, json_pack("{s:s, s:b, s:o}",
		    "node", call->n->id, "channels", call->n->notify != NULL,
		    "notices", notify_notices(call->n->notify, id)));
	evhttp_clear_headers(&q);
}

void
api_work_definitions(const struct api_call *call)
{
	http_reply_json(call->req, 200, json_pack("{s:s, s:o, s:o, s:b}", "node",
	    call->n->id, "tasks", tasks_defs_json(call->n->tasks), "alert_rules",
	    alerts_rules_json(call->n->alerts), "frozen", call->n->frozen));
}

json_t *
api_snapshot(struct node *n)
{
	struct store_task_query tq = { 0 };
	json_t *tasks = json_array(), *alerts = json_array(), *snap;
	size_t budget = (size_t)n->cfg->ws_snapshot_bytes, rest;
	int truncated;

	tq.limit = SNAPSHOT_ITEMS;
	if (store_tasks_query(n->store, &tq, append_json, tasks) < 0 ||
	    store_alerts_query(n->store, NULL, NULL, SNAPSHOT_ITEMS, append_json,
	    alerts) < 0)
		log_event(LOG_WARN, "cannot read tasks or alerts for a snapshot",
		    "{s:s}", "error", store_error(n->store));
	snap = json_pack("{s:o, s:o, s:o, s:o}", "cluster",
	    api_cluster_status(n, 1), "tasks", tasks, "alerts", alerts,
	    "commands", commands_list(n->commands, SNAPSHOT_COMMANDS));
	/* The events get what the rest leaves of the budget, less room for
	 * the keys around them ("type", "events", "truncated"). */
	rest = json_dumpb(snap, NULL, 0, JSON_COMPACT) + SNAPSHOT_FRAME;
	json_object_set_new(snap, "events", api_events_bounded(n, SNAPSHOT_ITEMS,
	    budget > rest ? budget - rest : 0, &truncated));
	json_object_set_new(snap, "truncated", json_boolean(truncated));
	return snap;
}
