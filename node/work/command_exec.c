/*
 * Command handlers on the destination node (see command_exec.h).  Each
 * checks its own arguments; a missing or mistyped field is INVALID with
 * the field named.
 */
#include "command_exec.h"
#include "freeze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "api_auth.h"
#include "audit.h"
#include "clock.h"
#include "command_sign.h"
#include "forget.h"
#include "history.h"
#include "json_id.h"
#include "job_runs.h"
#include "jobs.h"
#include "json_check.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "principal.h"
#include "store.h"
#include "store_work.h"
#include "services.h"
#include "tasks.h"

#define LOG_LIMIT_MAX	1000
#define AUDIT_LIMIT_MAX	10000
#define AUDIT_FIELD_MAX	128

typedef int (*handler_fn)(struct node *, const Agentflow__Mesh__V1__Command *,
    const json_t *, json_t **, char *, size_t);

/* A required string field of args, or NULL with err set. */
static const char *
need_string(const json_t *args, const char *field, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, field);

	if (!json_is_string(v) || json_string_length(v) == 0) {
		snprintf(err, errlen, "args.%s: a non-empty string is required", field);
		return NULL;
	}
	return json_string_value(v);
}

static int
run_task(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	struct tasks_request req = { 0 };
	char id[64];
	int st;

	req.name = json_string_value(json_object_get(args, "task"));
	req.args = json_object_get(args, "args");
	req.adhoc = json_object_get(args, "command");
	req.command_id = c->id;
	req.principal = c->principal;
	if (req.name == NULL && req.adhoc == NULL) {
		snprintf(err, errlen, "args.task: a task name (or args.command for "
		    "an ad-hoc command) is required");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (req.name != NULL && req.adhoc != NULL) {
		snprintf(err, errlen, "args: give either task or command, not both");
		return MESH_COMMAND_STATUS(INVALID);
	}
	st = tasks_run(n->tasks, &req, id, sizeof(id), err, errlen);
	if (st == MESH_COMMAND_STATUS(OK))
		*body = json_pack("{s:s, s:s}", "task_id", id, "node", n->id);
	return st;
}

static int
cancel_task(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = need_string(args, "task_id", err, errlen);
	json_t *hard = json_object_get(args, "hard");
	int st;

	(void)c;
	if (id == NULL)
		return MESH_COMMAND_STATUS(INVALID);
	if (hard != NULL && !json_is_boolean(hard)) {
		snprintf(err, errlen, "args.hard: must be true or false");
		return MESH_COMMAND_STATUS(INVALID);
	}
	st = tasks_cancel(n->tasks, id, json_is_true(hard), err, errlen);
	if (st == MESH_COMMAND_STATUS(OK))
		*body = json_pack("{s:s, s:s}", "task_id", id, "cancel",
		    json_is_true(hard) ? "hard" : "soft");
	return st;
}

static int
ack_alert(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = need_string(args, "alert_id", err, errlen);
	int st;

	if (id == NULL)
		return MESH_COMMAND_STATUS(INVALID);
	st = alerts_ack(n->alerts, id, c->principal, clock_wall_ms(), err, errlen);
	if (st == MESH_COMMAND_STATUS(OK))
		*body = json_pack("{s:s, s:s}", "alert_id", id, "state",
		    "acknowledged");
	return st;
}

static int
ping(struct node *n, const Agentflow__Mesh__V1__Command *c, const json_t *args,
    json_t **body, char *err, size_t errlen)
{
	(void)c;
	(void)args;
	(void)err;
	(void)errlen;
	*body = json_pack("{s:s, s:I, s:o}", "node", n->id, "time_ms",
	    (json_int_t)clock_wall_ms(), "incarnation", json_id_new(n->incarnation));
	return MESH_COMMAND_STATUS(OK);
}

void
command_exec_set_frozen(struct node *n, int frozen)
{
	if (store_meta_set(n->store, "frozen", frozen ? "1" : "0") != 0)
		log_event(LOG_ERROR, "cannot persist the read-only mode", "{s:s}",
		    "error", store_error(n->store));
	if (n->frozen != frozen)
		log_event(LOG_WARN, frozen ? "frozen: read-only mode on" :
		    "unfrozen: read-only mode off", NULL);
	n->frozen = frozen;
	tasks_set_frozen(n->tasks, frozen);
	services_set_frozen(n->services, frozen);
}

static int
append_line(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

static int
task_logs(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = need_string(args, "task_id", err, errlen);
	json_t *after = json_object_get(args, "after");
	json_t *limit = json_object_get(args, "limit");
	json_t *lines;

	(void)c;
	if (id == NULL)
		return MESH_COMMAND_STATUS(INVALID);
	if ((after != NULL && !json_check_int(after, 0, JSON_CHECK_INT_MAX, NULL)) ||
	    (limit != NULL && !json_check_int(limit, 1, LOG_LIMIT_MAX, NULL))) {
		snprintf(err, errlen, "args: after must be an integer >= 0 and "
		    "limit 1-%d", LOG_LIMIT_MAX);
		return MESH_COMMAND_STATUS(INVALID);
	}
	lines = json_array();
	if (store_task_logs(n->store, n->id, id, (uint64_t)json_integer_value(after),
	    limit ? (unsigned)json_integer_value(limit) : LOG_LIMIT_MAX,
	    append_line, lines) < 0) {
		snprintf(err, errlen, "cannot read the log: %s", store_error(n->store));
		json_decref(lines);
		return MESH_COMMAND_STATUS(ERROR);
	}
	*body = json_pack("{s:s, s:o}", "task_id", id, "lines", lines);
	return MESH_COMMAND_STATUS(OK);
}

/* Drops a dead or left node from this node's view (forget.h).  Whoever
 * issued it, our own view must say the node is dead or left (no link up,
 * silent for --dead-ms and no route, or left): a node alive for us, even
 * through a relay, is kept. */
static int
forget(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *id = need_string(args, "node", err, errlen);
	enum forget_result r;

	(void)c;
	if (id == NULL)
		return MESH_COMMAND_STATUS(INVALID);
	if (!node_id_valid(id, strlen(id))) {
		snprintf(err, errlen, "args.node: not a node id");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (strcmp(id, n->id) != 0 && !forget_may(n->links, n->sync, id,
	    (uint64_t)n->cfg->dead_ms)) {
		snprintf(err, errlen, "%s still sees %s (linked, relayed or heard "
		    "from within --dead-ms): only a dead or left node is "
		    "forgotten", n->id, id);
		return MESH_COMMAND_STATUS(REFUSED);
	}
	r = forget_node(n->links, n->sync, n->id, id);
	if (r == FORGET_SELF || r == FORGET_LINKED) {
		snprintf(err, errlen, r == FORGET_SELF ? "%s cannot forget itself" :
		    "%s has a link up to %s: it is alive", n->id, id);
		return MESH_COMMAND_STATUS(REFUSED);
	}
	/* Not an OK: the issuer sees this node may bring it back on a
	 * restart, and retries once the store works. */
	if (r == FORGET_NOT_STORED) {
		snprintf(err, errlen, "%s forgot %s until it restarts, but cannot "
		    "store it: %s", n->id, id, store_error(n->store));
		return MESH_COMMAND_STATUS(ERROR);
	}
	*body = json_pack("{s:s, s:b}", "node", id, "forgotten", r == FORGET_DONE);
	return MESH_COMMAND_STATUS(OK);
}

/* This node's audit records for another node's `audit --node`: a read. */
static int
audit_query(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	struct audit_query q = { 0 };
	json_t *since = json_object_get(args, "since_ms");
	json_t *limit = json_object_get(args, "limit");
	json_t *action = json_object_get(args, "action");
	json_t *actor = json_object_get(args, "actor");

	(void)c;
	if ((action != NULL && (!json_is_string(action) ||
	    json_string_length(action) > AUDIT_FIELD_MAX)) ||
	    (actor != NULL && (!json_is_string(actor) ||
	    json_string_length(actor) > AUDIT_FIELD_MAX)) ||
	    (since != NULL && !json_check_int(since, 0, JSON_CHECK_INT_MAX, NULL)) ||
	    (limit != NULL && !json_check_int(limit, 1, AUDIT_LIMIT_MAX, NULL))) {
		snprintf(err, errlen, "args: action and actor strings of at most "
		    "%d bytes, since_ms >= 0, limit 1-%d", AUDIT_FIELD_MAX,
		    AUDIT_LIMIT_MAX);
		return MESH_COMMAND_STATUS(INVALID);
	}
	q.action = json_string_value(action);
	q.actor = json_string_value(actor);
	q.since_ms = since != NULL ? json_integer_value(since) : 0;
	q.limit = limit != NULL ? (unsigned)json_integer_value(limit) :
	    AUDIT_LIMIT_MAX;
	/* The answer's envelope fits in the rest of the frame's payload. */
	q.max_bytes = AUDIT_QUERY_MAX_BYTES;
	if ((*body = audit_query_json(n->audit, &q, err, errlen)) == NULL)
		return MESH_COMMAND_STATUS(ERROR);
	return MESH_COMMAND_STATUS(OK);
}

/* This node's metric history for another node's GET /api/history?node=:
 * a read, bounded to fit in a result (history.h). */
static int
history_command(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	json_t *from = json_object_get(args, "from_ms");
	json_t *to = json_object_get(args, "to_ms");
	json_t *points = json_object_get(args, "points");

	(void)c;
	if (!json_check_int(from, 0, JSON_CHECK_INT_MAX, NULL) ||
	    !json_check_int(to, json_integer_value(from), JSON_CHECK_INT_MAX,
	    NULL) || !json_check_int(points, 1, HISTORY_POINTS_MAX, NULL)) {
		snprintf(err, errlen, "args: from_ms >= 0, to_ms >= from_ms, "
		    "points 1-%d", HISTORY_POINTS_MAX);
		return MESH_COMMAND_STATUS(INVALID);
	}
	*body = history_query(n->history, json_integer_value(from),
	    json_integer_value(to), (size_t)json_integer_value(points),
	    HISTORY_QUERY_MAX_BYTES);
	json_object_set_new(*body, "node", json_string(n->id));
	return MESH_COMMAND_STATUS(OK);
}

static int
job_run(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	return job_runs_run(n->job_runs, c, args, body, err, errlen);
}

static int
job_result(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	return jobs_result_command(n->jobs, c, args, body, err, errlen);
}

static int
job_fence(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	return job_runs_fence(n->job_runs, c, args, body, err, errlen);
}

/* A service on this node (services.h): the API's answer as the body. */
static int
service(struct node *n, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	const char *name = need_string(args, "name", err, errlen), *action;
	json_t *out = NULL, *errors;
	int status;

	(void)c;
	if (name == NULL || (action = need_string(args, "action", err,
	    errlen)) == NULL)
		return MESH_COMMAND_STATUS(INVALID);
	if (n->services == NULL) {
		snprintf(err, errlen, "services are not running on %s", n->id);
		return MESH_COMMAND_STATUS(ERROR);
	}
	if (strcmp(action, "get") == 0) {	/* a rollout's previous version */
		if ((out = services_get(n->services, name)) != NULL) {
			/* What a rollout goes back to, not the checks'
			 * histories: the answer must fit 64 KiB. */
			*body = json_pack("{s:O, s:O, s:O, s:O}", "name",
			    json_object_get(out, "name"), "definition",
			    json_object_get(out, "definition"), "desired",
			    json_object_get(out, "desired"), "version",
			    json_object_get(out, "version"));
			json_decref(out);
			return MESH_COMMAND_STATUS(OK);
		}
		snprintf(err, errlen, "no service %s on %s", name, n->id);
		return MESH_COMMAND_STATUS(NOT_FOUND);
	}
	if (n->frozen && strcmp(action, "stop") != 0) {
		snprintf(err, errlen, "%s is frozen: only stop is taken", n->id);
		return MESH_COMMAND_STATUS(REFUSED);
	}
	if (strcmp(action, "put") == 0)
		status = services_put(n->services, name,
		    json_object_get(args, "definition"), &out);
	else if (strcmp(action, "delete") == 0)
		status = services_delete(n->services, name, &out);
	else
		status = services_action(n->services, name, action, &out);
	if (status == 200 || status == 201) {
		*body = out;
		return MESH_COMMAND_STATUS(OK);
	}
	errors = json_object_get(out, "errors");
	if (errors != NULL) {
		char *e = json_dumps(errors, JSON_COMPACT);

		snprintf(err, errlen, "%s: %s", json_string_value(
		    json_object_get(out, "error")), e);
		free(e);
	} else
		snprintf(err, errlen, "%s", json_string_value(json_object_get(out,
		    "error")));
	json_decref(out);
	return status == 404 ? MESH_COMMAND_STATUS(NOT_FOUND) :
	    status == 409 || status == 403 ? MESH_COMMAND_STATUS(REFUSED) :
	    status == 400 ? MESH_COMMAND_STATUS(INVALID) :
	    MESH_COMMAND_STATUS(ERROR);
}

/* Each type's handler, whether it runs while frozen, the least role
 * that may issue it (command_exec_role), and whether it is quiet: a read
 * with no effect but its answer, which the audit records once an hour
 * per principal and origin node when it goes well (command_exec_quiet,
 * audit_rate.h).  Only history_query is: a node page open on a remote
 * node asks it every minute, and sixty rows an hour of the same read say
 * no more than one.  audit_query, ping and task_logs are a person's
 * deliberate look and are audited every time. */
static const struct handler {
	int			 type;
	handler_fn		 fn;
	int			 when_frozen;
	enum principal_role	 role;
	int			 quiet;
} handlers[] = {
	{ MESH_COMMAND_TYPE(RUN_TASK), run_task, 0, PRINCIPAL_WRITE, 0 },
	{ MESH_COMMAND_TYPE(CANCEL_TASK), cancel_task, 1, PRINCIPAL_WRITE, 0 },
	{ MESH_COMMAND_TYPE(ACK_ALERT), ack_alert, 0, PRINCIPAL_WRITE, 0 },
	{ MESH_COMMAND_TYPE(PING), ping, 1, PRINCIPAL_READ, 0 },
	{ MESH_COMMAND_TYPE(FREEZE), freeze_command, 1, PRINCIPAL_ADMIN, 0 },
	{ MESH_COMMAND_TYPE(UNFREEZE), freeze_command, 1, PRINCIPAL_ADMIN, 0 },
	{ MESH_COMMAND_TYPE(TASK_LOGS), task_logs, 1, PRINCIPAL_READ, 0 },
	{ MESH_COMMAND_TYPE(FORGET_NODE), forget, 0, PRINCIPAL_ADMIN, 0 },
	{ MESH_COMMAND_TYPE(AUDIT_QUERY), audit_query, 1, PRINCIPAL_READ, 0 },
	{ MESH_COMMAND_TYPE(HISTORY_QUERY), history_command, 1, PRINCIPAL_READ,
	    1 },
	/* A frozen node takes no new run (the job stays queued at its
	 * issuer); results and fences still flow.  RESULT and FENCE are
	 * node-internal: their handlers refuse a named principal. */
	{ MESH_COMMAND_TYPE(JOB_RUN), job_run, 0, PRINCIPAL_WRITE, 0 },
	{ MESH_COMMAND_TYPE(JOB_RESULT), job_result, 1, PRINCIPAL_ADMIN, 0 },
	{ MESH_COMMAND_TYPE(JOB_FENCE), job_fence, 1, PRINCIPAL_ADMIN, 0 },
	/* Stop is taken while frozen (the handler refuses the rest). */
	{ MESH_COMMAND_TYPE(SERVICE), service, 1, PRINCIPAL_WRITE, 0 },
};

/* The row of a type; NULL for one not known here. */
static const struct handler *
handler_of(int type)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type)
			return &handlers[i];
	return NULL;
}

int
command_exec_quiet(int type)
{
	const struct handler *h = handler_of(type);

	return h != NULL && h->quiet;
}

int
command_exec_allowed_frozen(int type)
{
	const struct handler *h = handler_of(type);

	return h != NULL && h->when_frozen;
}

enum principal_role
command_exec_role(int type)
{
	const struct handler *h = handler_of(type);

	return h != NULL ? h->role : PRINCIPAL_NONE;
}

/*
 * The role the issuer's principal held, as the command carries it
 * (Command.role, under the issuing node's signature, command_sign.h; a
 * signed token's principal was held to its proof's role before, by
 * command_exec_principal);
 * PRINCIPAL_NONE when it carries none: a node's own command (a prune) or
 * one from a node before roles, not checked.  A role this version does
 * not know is refused by the caller.
 */
static enum principal_role
role_held(const Agentflow__Mesh__V1__Command *c)
{
	return c->role != NULL && c->role[0] != '\0' ?
	    principal_role_parse(c->role) : PRINCIPAL_NONE;
}

int
command_exec_principal(void *arg, const Agentflow__Mesh__V1__Command *c,
    char *err, size_t errlen)
{
	struct node *n = arg;
	int proved;

	return command_sign_check_principal(n->auth != NULL ?
	    api_auth_tokens(n->auth) : NULL, c, command_exec_role((int)c->type),
	    (int64_t)clock_wall_ms(), &proved, err, errlen);
}

int
command_exec(void *arg, const Agentflow__Mesh__V1__Command *c,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	struct node *n = arg;
	enum principal_role held;

	*body = NULL;
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (handlers[i].type != (int)c->type)
			continue;
		held = role_held(c);
		if (held == PRINCIPAL_NONE && c->role != NULL &&
		    c->role[0] != '\0') {
			snprintf(err, errlen, "role \"%.16s\" is not a role", c->role);
			return MESH_COMMAND_STATUS(REFUSED);
		}
		if (held != PRINCIPAL_NONE && held < handlers[i].role) {
			snprintf(err, errlen, "%s needs the %s role; %s holds the %s "
			    "role", mesh_names_command_type(c->type),
			    principal_role_name(handlers[i].role), c->principal,
			    principal_role_name(held));
			return MESH_COMMAND_STATUS(REFUSED);
		}
		if (n->frozen && !handlers[i].when_frozen) {
			snprintf(err, errlen, "%s is frozen (read-only mode)", n->id);
			*body = json_pack("{s:b}", "frozen", 1);
			return MESH_COMMAND_STATUS(REFUSED);
		}
		return handlers[i].fn(n, c, args, body, err, errlen);
	}
	snprintf(err, errlen, "command type %d is not known to %s", (int)c->type,
	    n->id);
	return MESH_COMMAND_STATUS(UNSUPPORTED);
}
