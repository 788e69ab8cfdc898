/*
 * The schedule routes (schedules.h):
 *
 *   GET    /api/schedules              every schedule, each with
 *                                      next_fire_ms and last_fire
 *   POST   /api/schedules              add or replace (write): 201 new,
 *                                      200 replaced, 400 {error:
 *                                      "invalid_schedule", errors: [{path,
 *                                      error}, ...]} with nothing stored
 *   GET    /api/schedules/NAME
 *   DELETE /api/schedules/NAME         (write)
 *   POST   /api/schedules/NAME/pause   (write), .../resume
 *
 * Any node answers: every node holds every schedule.  Changes are
 * audited with the caller.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "api_priv.h"
#include "http_json.h"
#include "node.h"
#include "node_id.h"
#include "schedules.h"

static int
name_ok(const struct api_call *call, const char *name)
{
	if (node_id_valid(name, strlen(name)))
		return 1;
	http_reply_error(call->req, 400, "invalid_field", "not a schedule name: "
	    "%.64s", name);
	return 0;
}

void
api_schedules_list(const struct api_call *call)
{
	http_reply_json(call->req, 200, json_pack("{s:o}", "schedules",
	    schedules_list(call->n->schedules)));
}

void
api_schedules_post(const struct api_call *call)
{
	json_t *body, *out = NULL;
	char msg[64];
	int status;

	if ((body = http_body_json(call->req)) == NULL)
		return;		/* answered */
	status = schedules_put(call->n->schedules, body, call->principal, &out);
	switch (status) {
	case 200:
	case 201:
		api_audit(call, "schedule.put", status == 201 ? "created" :
		    "replaced", json_pack("{s:O}", "name", json_object_get(out,
		    "name")));
		http_reply_json(call->req, status, out);
		break;
	case 400:
		snprintf(msg, sizeof(msg), "%zu error%s in the schedule",
		    json_array_size(out), json_array_size(out) == 1 ? "" : "s");
		http_reply_json(call->req, 400, json_pack("{s:s, s:s, s:o}", "error",
		    "invalid_schedule", "message", msg, "errors", out));
		break;
	default:
		http_reply_error(call->req, status, status == 507 ? "too_many" :
		    "internal", "%s", json_string_value(json_object_get(out,
		    "error")));
		json_decref(out);
	}
	json_decref(body);
}

void
api_schedules_get(const struct api_call *call)
{
	json_t *s;

	if (!name_ok(call, call->arg))
		return;
	if ((s = schedules_get(call->n->schedules, call->arg)) == NULL) {
		http_reply_error(call->req, 404, "not_found", "no schedule named %s",
		    call->arg);
		return;
	}
	http_reply_json(call->req, 200, s);
}

void
api_schedules_delete(const struct api_call *call)
{
	int status;

	if (!name_ok(call, call->arg))
		return;
	status = schedules_delete(call->n->schedules, call->arg,
	    call->principal);
	if (status == 404) {
		http_reply_error(call->req, 404, "not_found", "no schedule named %s",
		    call->arg);
		return;
	}
	api_audit(call, "schedule.delete", status == 200 ? "ok" : "error",
	    json_pack("{s:s}", "name", call->arg));
	if (status != 200)
		http_reply_error(call->req, status, "internal", "cannot delete "
		    "schedule %s", call->arg);
	else
		http_reply_json(call->req, 200, json_pack("{s:s, s:b}", "name",
		    call->arg, "deleted", 1));
}

/* POST /api/schedules/NAME/pause and /resume */
void
api_schedules_post_name(const struct api_call *call)
{
	char name[64], verb[16];
	int status, pause;

	if (sscanf(call->arg, "%63[^/]/%15s", name, verb) != 2 ||
	    (strcmp(verb, "pause") != 0 && strcmp(verb, "resume") != 0)) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/schedules/%.64s (POST /api/schedules/NAME/pause or "
		    "/resume)", call->arg);
		return;
	}
	if (!name_ok(call, name))
		return;
	pause = strcmp(verb, "pause") == 0;
	status = schedules_pause(call->n->schedules, name, pause,
	    call->principal);
	if (status == 404) {
		http_reply_error(call->req, 404, "not_found", "no schedule named %s",
		    name);
		return;
	}
	api_audit(call, pause ? "schedule.pause" : "schedule.resume",
	    status == 200 ? "ok" : "error", json_pack("{s:s}", "name", name));
	if (status != 200)
		http_reply_error(call->req, status, "internal", "cannot change "
		    "schedule %s", name);
	else
		http_reply_json(call->req, 200, schedules_get(call->n->schedules,
		    name));
}
