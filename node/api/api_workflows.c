/*
 * The workflow routes (workflow_spec.h, workflows.h):
 *
 *   POST /api/workflows/check {"definition": {...}, "set": {KEY: "v"}}
 *   POST /api/workflows       the same body: runs it (write role)
 *   GET  /api/workflows[?state=&limit=]     newest first
 *   GET  /api/workflows/ID    with its steps and history
 *   POST /api/workflows/ID/{approve,reject} {step, comment?}
 *   POST /api/workflows/ID/{pause,resume,cancel}
 *   POST /api/workflows/ID/retry {step?}
 *
 * check changes nothing and answers 200 {valid: true, workflow: the
 * definition as it would run (order, durations in ms, parameters
 * filled)}; check and run answer 400 {error: "invalid_workflow",
 * message, errors: [{path, error}, ...]} with every error at once, and
 * run stores nothing then.  A workflow is served by its coordinator, the
 * node it was submitted to.
 */
#include <jansson.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_priv.h"
#include "http_json.h"
#include "json_check.h"
#include "node.h"
#include "node_id.h"
#include "sync_workflows.h"
#include "workflow_spec.h"
#include "workflow_state.h"
#include "workflows.h"
#include "xalloc.h"

#define LIST_DEFAULT	100
#define LIST_MAX	1000

/* The body {definition, set?} (new reference), or NULL when answered. */
static json_t *
definition_body(const struct api_call *call)
{
	static const char *const known[] = { "definition", "set" };
	json_t *body = http_body_json(call->req), *set;

	if (body == NULL)
		return NULL;		/* answered */
	set = json_object_get(body, "set");
	if (!json_is_object(body) || json_object_get(body, "definition") == NULL ||
	    json_check_keys(body, known, 2) != NULL ||
	    (set != NULL && !json_is_object(set))) {
		http_reply_error(call->req, 400, "invalid_field", "body: "
		    "{\"definition\": {...}, \"set\"?: {KEY: \"value\"}}");
		json_decref(body);
		return NULL;
	}
	return body;
}

static void
reply_invalid(struct evhttp_request *req, json_t *errors)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%zu error%s in the definition",
	    json_array_size(errors), json_array_size(errors) == 1 ? "" : "s");
	http_reply_json(req, 400, json_pack("{s:s, s:s, s:o}", "error",
	    "invalid_workflow", "message", msg, "errors", errors));
}

void
api_workflows_check(const struct api_call *call)
{
	json_t *body = definition_body(call), *wf, *errors;

	if (body == NULL)
		return;
	if ((wf = workflow_spec_check(json_object_get(body, "definition"),
	    json_object_get(body, "set"), &errors)) == NULL)
		reply_invalid(call->req, errors);
	else
		http_reply_json(call->req, 200, json_pack("{s:b, s:o}", "valid", 1,
		    "workflow", wf));
	json_decref(body);
}

void
api_workflows_post(const struct api_call *call)
{
	json_t *body = definition_body(call), *errors = NULL;
	char id[64], err[512];
	int status;

	if (body == NULL)
		return;
	status = workflows_run(call->n->workflows, json_object_get(body,
	    "definition"), json_object_get(body, "set"), call->principal, id,
	    sizeof(id), &errors, err, sizeof(err));
	json_decref(body);
	if (status == 400)
		reply_invalid(call->req, errors);
	else if (status != 202)
		http_reply_error(call->req, status, "internal", "%s", err);
	else if ((body = workflows_get(call->n->workflows, id)) != NULL) {
		http_reply_json(call->req, 202, json_pack("{s:s, s:O, s:s}", "id",
		    id, "state", json_object_get(body, "state"), "coordinator",
		    call->n->id));
		json_decref(body);
	} else
		http_reply_error(call->req, 500, "internal", "workflow %s vanished",
		    id);
}

/* Ours and the mesh's (sync_workflows.h: "remote": true), newest first,
 * at most limit. */
static json_t *
mesh_list(const struct api_call *call, const char *state, unsigned limit)
{
	json_t *all = workflows_list(call->n->workflows, state, limit);
	json_t *remote = sync_workflows_list(call->n->sync, state, limit);
	json_t **v, *out = json_array(), *ours = json_object(), *w;
	size_t n, i;

	/* One we took over is ours: the old coordinator's rows are history. */
	json_array_foreach(all, i, w)
		json_object_set(ours, json_string_value(json_object_get(w, "id")),
		    json_true());
	json_array_foreach(remote, i, w)
		if (json_object_get(ours, json_string_value(json_object_get(w,
		    "id"))) == NULL)
			json_array_append(all, w);
	json_decref(ours);
	json_decref(remote);
	n = json_array_size(all);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	qsort(v, n, sizeof(*v), sync_workflows_newer);
	for (i = 0; i < n && i < limit; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(all);
	return out;
}

void
api_workflows_list(const struct api_call *call)
{
	struct evkeyvalq q;
	long long limit = LIST_DEFAULT;
	const char *state;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0)
		goto out;
	state = evhttp_find_header(&q, "state");
	if (state != NULL && workflow_state_parse(state) < 0) {
		http_reply_error(call->req, 400, "invalid_field", "state: one of "
		    "pending, running, paused, succeeded, failed, cancelled, "
		    "budget-exceeded");
		goto out;
	}
	http_reply_json(call->req, 200, json_pack("{s:o}", "workflows",
	    mesh_list(call, state, (unsigned)limit)));
out:
	evhttp_clear_headers(&q);
}

void
api_workflows_get(const struct api_call *call)
{
	json_t *wf;

	if (!node_id_valid(call->arg, strlen(call->arg))) {
		http_reply_error(call->req, 400, "invalid_field", "not a workflow "
		    "id: %.64s", call->arg);
		return;
	}
	/* Ours, whole; else the mesh's summary (no definition, results or
	 * history: those are on its coordinator). */
	if ((wf = workflows_get(call->n->workflows, call->arg)) == NULL &&
	    (call->n->sync == NULL || (wf = sync_workflows_get(call->n->sync,
	    call->arg)) == NULL))
		http_reply_error(call->req, 404, "not_found", "no workflow %s "
		    "known on %s", call->arg, call->n->id);
	else
		http_reply_json(call->req, 200, wf);
}

/* The optional body {step?, comment?} of an action: 0, or -1 answered. */
static int
action_body(const struct api_call *call, json_t **body)
{
	static const char *const known[] = { "step", "comment" };
	struct evbuffer *in = evhttp_request_get_input_buffer(call->req);
	const json_t *step, *comment;

	*body = NULL;
	if (evbuffer_get_length(in) == 0)
		return 0;
	if ((*body = http_body_json(call->req)) == NULL)
		return -1;
	step = json_object_get(*body, "step");
	comment = json_object_get(*body, "comment");
	if (!json_is_object(*body) || json_check_keys(*body, known, 2) != NULL ||
	    (step != NULL && (!json_check_text(step, 1, 63, true) ||
	    !node_id_valid(json_string_value(step), json_string_length(step)))) ||
	    (comment != NULL && !json_check_text(comment, 0, WORKFLOWS_COMMENT_MAX,
	    true))) {
		http_reply_error(call->req, 400, "invalid_field", "body: {\"step\"?:"
		    " a step's name, \"comment\"?: text of at most %d bytes}",
		    WORKFLOWS_COMMENT_MAX);
		json_decref(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/* POST /api/workflows/{id}/{approve,reject,pause,resume,cancel,retry} */
void
api_workflows_post_id(const struct api_call *call)
{
	char id[64], verb[16], err[512];
	json_t *body;
	int status;

	if (sscanf(call->arg, "%63[^/]/%15s", id, verb) != 2 ||
	    !node_id_valid(id, strlen(id)) || strchr(call->arg + strlen(id) + 1,
	    '/') != NULL) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/workflows/%.64s (POST /api/workflows/{id}/{approve,"
		    "reject,pause,resume,cancel,retry})", call->arg);
		return;
	}
	if (action_body(call, &body) != 0)
		return;
	status = workflows_act(call->n->workflows, id, verb,
	    json_string_value(json_object_get(body, "step")),
	    json_string_value(json_object_get(body, "comment")), call->principal,
	    err, sizeof(err));
	json_decref(body);
	/* Another node's: only its coordinator moves it. */
	if (status == 404 && call->n->sync != NULL && (body =
	    sync_workflows_get(call->n->sync, id)) != NULL) {
		snprintf(err, sizeof(err), "workflow %s is coordinated by %s: "
		    "act on that node's API", id, json_string_value(
		    json_object_get(body, "coordinator")));
		json_decref(body);
		status = 409;
	}
	if (status != 200) {
		http_reply_error(call->req, status, status == 404 ? "not_found" :
		    status == 409 ? "conflict" : status == 403 ? "forbidden" :
		    status == 400 ? "invalid_field" : "internal", "%s", err);
		return;
	}
	if ((body = workflows_get(call->n->workflows, id)) == NULL) {
		http_reply_error(call->req, 500, "internal", "workflow %s vanished",
		    id);
		return;
	}
	json_object_del(body, "history");
	json_object_del(body, "definition");
	http_reply_json(call->req, 200, body);
}
