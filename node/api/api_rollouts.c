/*
 * The rollout routes (rollouts.h, docs/services.md "Rollouts"):
 *
 *   POST /api/rollouts                  start one (write): 201 the
 *                                       rollout, 400 {error:
 *                                       "invalid_rollout", errors:
 *                                       [{path, error}]}, 409 one of
 *                                       that service is under way
 *   GET  /api/rollouts[?service=NAME]   the rollouts run here, newest
 *                                       first
 *   GET  /api/rollouts/ID               one
 *   POST /api/rollouts/ID/pause         (write); resume, abort likewise
 *
 * Starting and every action are audited with the caller.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_priv.h"
#include "http_json.h"
#include "node.h"
#include "rollouts.h"
#include "service_spec.h"

/* An id as rollouts make them: ro-DIGITS-HEX, at most 39 bytes. */
static int
id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < 4 || n > 39 || strncmp(id, "ro-", 3) != 0)
		return 0;
	for (size_t i = 3; i < n; i++)
		if (strchr("0123456789abcdef-", id[i]) == NULL)
			return 0;
	return 1;
}

static void
reply(const struct api_call *call, int status, json_t *out)
{
	if (status == 200 || status == 201)
		http_reply_json(call->req, status, out);
	else if (status == 400 && json_object_get(out, "errors") != NULL) {
		http_reply_json(call->req, 400, json_pack("{s:s, s:s, s:O}",
		    "error", "invalid_rollout", "message", "the rollout is not "
		    "valid", "errors", json_object_get(out, "errors")));
		json_decref(out);
	} else {
		http_reply_error(call->req, status, status == 404 ? "not_found" :
		    status == 409 ? "conflict" : status == 507 ? "too_many" :
		    "invalid_field", "%s", json_string_value(json_object_get(out,
		    "error")));
		json_decref(out);
	}
}

void
api_rollouts_post(const struct api_call *call)
{
	json_t *body, *out = NULL;
	int status;

	if (api_frozen(call) || (body = http_body_json(call->req)) == NULL)
		return;		/* answered */
	status = rollouts_start(call->n->rollouts, body, call->principal, &out);
	if (status == 201) {	/* what was checked, not what was sent */
		json_t *nodes = json_array(), *x;
		size_t i;

		json_array_foreach(json_object_get(out, "nodes"), i, x)
			json_array_append(nodes, json_object_get(x, "node"));
		api_audit(call, "rollout.start", "ok", json_pack("{s:O, s:O,"
		    " s:o}", "service", json_object_get(out, "service"),
		    "rollout", json_object_get(out, "id"), "nodes", nodes));
	} else
		api_audit(call, "rollout.start", "refused", json_pack("{s:i}",
		    "status", status));
	reply(call, status, out);
	json_decref(body);
}

void
api_rollouts_list(const struct api_call *call)
{
	struct evkeyvalq q;
	const char *service;

	if (api_query(call->req, &q) != 0)
		return;
	service = evhttp_find_header(&q, "service");
	if (service != NULL && !service_name_valid(service))
		http_reply_error(call->req, 400, "invalid_field", "service: not a "
		    "service name (1-63 of [A-Za-z0-9_-])");
	else
		http_reply_json(call->req, 200, json_pack("{s:o}", "rollouts",
		    rollouts_list(call->n->rollouts, service)));
	evhttp_clear_headers(&q);
}

void
api_rollouts_get(const struct api_call *call)
{
	json_t *r = id_ok(call->arg) ? rollouts_get(call->n->rollouts,
	    call->arg) : NULL;

	if (r == NULL)
		http_reply_error(call->req, 404, "not_found", "no rollout %.40s "
		    "on this node (a rollout is kept by the node that runs it)",
		    call->arg);
	else
		http_reply_json(call->req, 200, r);
}

/* POST /api/rollouts/ID/{pause,resume,abort} */
void
api_rollouts_post_id(const struct api_call *call)
{
	char id[48], verb[16], action[32];
	json_t *out = NULL;
	int status;

	if (sscanf(call->arg, "%47[^/]/%15s", id, verb) != 2 || !id_ok(id) ||
	    (strcmp(verb, "pause") != 0 && strcmp(verb, "resume") != 0 &&
	    strcmp(verb, "abort") != 0)) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/rollouts/%.64s (POST /api/rollouts/ID/pause, "
		    "/resume or /abort)", call->arg);
		return;
	}
	/* Pause and abort only change less: taken while frozen. */
	if (strcmp(verb, "resume") == 0 && api_frozen(call))
		return;
	status = rollouts_action(call->n->rollouts, id, verb, &out);
	snprintf(action, sizeof(action), "rollout.%s", verb);
	if (status != 404)
		api_audit(call, action, status == 200 ? "ok" : "refused",
		    json_pack("{s:s}", "rollout", id));
	reply(call, status, out);
}
