/*
 * The audit's routes: GET /api/audit lists records with filters, from this
 * node's log or — ?node= another node — from that node's, fetched over the
 * mesh with an audit_query command (the answer has the same shape either
 * way: {"node", "records", "truncated"}); GET /api/audit/verify checks this
 * node's hash chain (audit.h).  And api_audit, how every route records
 * what its caller did.
 */
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"
#include "audit.h"
#include "commands.h"
#include "http_json.h"
#include "mesh_names.h"
#include "node.h"
#include "principal.h"

#define LIST_MAX	10000
#define LIST_DEFAULT	1000
#define FIELD_MAX	128
#define REMOTE_WAIT_MS	15000

void
api_audit(const struct api_call *call, const char *action, const char *result,
    json_t *details)
{
	const struct principal *p = call->principal;

	if (p != NULL && p->token_id[0] != '\0') {
		if (details == NULL)
			details = json_object();
		json_object_set_new(details, "token_id", json_string(p->token_id));
	}
	audit_record(call->n->audit, action, p != NULL ? p->name : "",
	    result, details);
}

/* The HTTP status of a remote node's non-ok answer. */
static const struct {
	const char	*status;
	int		 http;
} remote_status[] = {
	{ "unreachable", 502 }, { "timeout", 504 }, { "refused", 403 },
	{ "unsupported", 501 }, { "invalid", 400 }, { "not_found", 404 },
};

void
api_remote_answer(struct evhttp_request *req, const char *id, json_t *rec,
    const char *key)
{
	json_t *res = json_array_get(json_object_get(rec, "results"), 0);
	json_t *body = json_object_get(res, "body");
	const char *st = json_string_value(json_object_get(res, "status"));
	const char *node = json_string_value(json_object_get(res, "node"));
	const char *why = json_string_value(json_object_get(res, "error"));
	int http = 502;

	if (rec == NULL)
		http_reply_error(req, 404, "not_found", "command %s is gone", id);
	else if (st == NULL)
		http_reply_error(req, 504, "timeout", "no answer to %s yet", id);
	else if (strcmp(st, "ok") == 0 && json_is_object(body) &&
	    json_is_array(json_object_get(body, key)))
		http_reply_json(req, 200, json_incref(body));
	else {
		for (size_t i = 0; i < sizeof(remote_status) /
		    sizeof(remote_status[0]); i++)
			if (strcmp(st, remote_status[i].status) == 0)
				http = remote_status[i].http;
		http_reply_error(req, http, st, "%s: %s", node ? node : "?",
		    why ? why : "no answer in its result");
	}
	json_decref(rec);
}

void
api_remote_ask(const struct api_call *call, const char *node,
    const char *type, json_t *args, api_reply_fn reply)
{
	struct commands_request cr = { 0 };
	json_t *target = json_string(node);
	const char *code = "invalid";
	char id[64], err[512];
	int dup;

	cr.target = target;
	cr.type = type;
	cr.args = args;
	cr.principal = call->principal;
	cr.deadline_ms = REMOTE_WAIT_MS;
	if (api_unknown_node(call->n, target, err, sizeof(err)))
		http_reply_error(call->req, 404, "unknown_node", "%s", err);
	else if (commands_issue(call->n->commands, &cr, id, sizeof(id), &dup, &code,
	    err, sizeof(err)) != 0)
		http_reply_error(call->req, strcmp(code, "no_target") == 0 ? 404 :
		    400, code, "%s", err);
	else
		api_work_wait(call, id, commands_get(call->n->commands, id),
		    REMOTE_WAIT_MS + 1000, reply);
	json_decref(target);
}

static void
remote_reply(struct evhttp_request *req, const char *id, json_t *rec)
{
	api_remote_answer(req, id, rec, "records");
}

/* Asks node for its records over the mesh; answered by remote_reply. */
static void
remote_list(const struct api_call *call, const char *node,
    const struct audit_query *q)
{
	json_t *args = json_pack("{s:s*, s:s*, s:I, s:i}", "action", q->action,
	    "actor", q->actor, "since_ms", (json_int_t)q->since_ms, "limit",
	    (int)q->limit);

	api_remote_ask(call, node, "audit_query", args, remote_reply);
	json_decref(args);
}

/* A text filter: absent, or 1-FIELD_MAX bytes. */
static int
param_text(struct evhttp_request *req, const struct evkeyvalq *q,
    const char *name, const char **out)
{
	const char *v = evhttp_find_header(q, name);

	if (v != NULL && (v[0] == '\0' || strlen(v) > FIELD_MAX)) {
		http_reply_error(req, 400, "invalid_field", "%s: 1-%d bytes", name,
		    FIELD_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

void
api_audit_list(const struct api_call *call)
{
	struct evkeyvalq q;
	struct audit_query aq = { 0 };
	long long since = 0, limit = LIST_DEFAULT;
	const char *node = NULL;
	char err[256];
	json_t *out;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_node(call->req, &q, "node", &node) != 0 ||
	    api_param_int(call->req, &q, "since", 0, INT64_MAX, &since) != 0 ||
	    api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0 ||
	    param_text(call->req, &q, "action", &aq.action) != 0 ||
	    param_text(call->req, &q, "actor", &aq.actor) != 0)
		goto out;
	aq.since_ms = since;
	aq.limit = (unsigned)limit;
	if (node != NULL && strcmp(node, call->n->id) != 0) {
		remote_list(call, node, &aq);
		goto out;
	}
	if ((out = audit_query_json(call->n->audit, &aq, err, sizeof(err))) == NULL)
		http_reply_error(call->req, 500, "internal", "%s", err);
	else
		http_reply_json(call->req, 200, out);
out:
	evhttp_clear_headers(&q);
}

void
api_audit_verify(const struct api_call *call)
{
	http_reply_json(call->req, 200, audit_verify_json(call->n->audit));
}
