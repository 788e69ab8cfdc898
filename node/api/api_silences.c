/*
 * The silence routes (silences.h):
 *
 *   GET    /api/silences        the mesh's active silences, each with the
 *                               node it was added on ("node")
 *   POST   /api/silences        add one (write): 201 {id, matchers,
 *                               starts_ms, ends_ms, comment, created_by,
 *                               node}; 400 invalid_field naming the field,
 *                               409 over_share when 16 are this node's
 *                               own, 507 too_many at 64 in all
 *   DELETE /api/silences/ID     end one, added on any node (write)
 *
 * and what GET /api/alerts adds to each open alert a silence matches:
 * "silenced": true and "silence_id".  A change made here goes to every
 * node (silences_mesh.h); it is audited here, with the caller
 * (silence.add, silence.delete).
 */
#include <jansson.h>
#include <string.h>

#include <event2/http.h>

#include "api_priv.h"
#include "clock.h"
#include "http_json.h"
#include "json_check.h"
#include "node.h"
#include "node_id.h"
#include "silences.h"
#include "silences_mesh.h"
#include "sync_json.h"

void
api_silences_list(const struct api_call *call)
{
	http_reply_json(call->req, 200, json_pack("{s:s, s:o}", "node",
	    call->n->id, "silences", silences_list(call->n->silences,
	    clock_wall_ms())));
}

void
api_silences_post(const struct api_call *call)
{
	const char *by = call->principal != NULL ? call->principal->name : "";
	json_t *body, *out;
	char err[256];
	int status;

	if ((body = http_body_json(call->req)) == NULL)
		return;		/* answered */
	status = silences_add(call->n->silences, body, by, clock_wall_ms(), &out,
	    err, sizeof(err));
	json_decref(body);
	if (status != 201) {
		if (status != 400)
			api_audit(call, "silence.add", "error", json_pack("{s:s}",
			    "error", err));
		http_reply_error(call->req, status, status == 400 ?
		    "invalid_field" : status == 507 ? "too_many" : status ==
		    409 ? "over_share" : "internal", "%s", err);
		return;
	}
	silences_mesh_emit(call->n, json_string_value(json_object_get(out,
	    "id")));
	api_audit(call, "silence.add", "ok", json_pack("{s:O, s:O, s:O, s:O}",
	    "id", json_object_get(out, "id"), "matchers", json_object_get(out,
	    "matchers"), "ends_ms", json_object_get(out, "ends_ms"), "comment",
	    json_object_get(out, "comment")));
	http_reply_json(call->req, 201, out);
}

void
api_silences_delete(const struct api_call *call)
{
	const char *id = call->arg;
	int rc;

	if (!node_id_valid(id, strlen(id))) {
		http_reply_error(call->req, 400, "invalid_field", "not a silence "
		    "id: %.64s", id);
		return;
	}
	rc = silences_remove(call->n->silences, id, call->principal != NULL ?
	    call->principal->name : NULL, clock_wall_ms());
	if (rc == 0) {
		http_reply_error(call->req, 404, "not_found", "no active silence "
		    "%s here", id);
		return;
	}
	if (rc > 0)
		silences_mesh_emit(call->n, id);
	api_audit(call, "silence.delete", rc > 0 ? "ok" : "error",
	    json_pack("{s:s}", "id", id));
	if (rc < 0)
		http_reply_error(call->req, 500, "internal", "cannot store the "
		    "silences");
	else
		http_reply_json(call->req, 200, json_pack("{s:s, s:b}", "id", id,
		    "deleted", 1));
}

/* The labels of node id as known here (borrowed from cache, which keeps
 * them for the call). */
static const json_t *
labels_of(struct node *n, json_t *cache, const char *id)
{
	json_t *o, *labels;

	if (strcmp(id, n->id) == 0)
		return n->labels;
	if ((labels = json_object_get(cache, id)) != NULL)
		return labels;
	o = sync_json_origin(n->sync, id, 0);
	labels = json_object_get(json_object_get(o, "info"), "labels");
	json_object_set_new(cache, id, json_is_object(labels) ?
	    json_incref(labels) : json_object());
	json_decref(o);
	return json_object_get(cache, id);
}

void
api_silences_mark(struct node *n, json_t *alerts)
{
	uint64_t now = clock_wall_ms();
	json_t *a, *cache;
	const char *id;
	size_t i;

	if (silences_active(n->silences, now) == 0)
		return;
	cache = json_object();
	json_array_foreach(alerts, i, a) {
		const char *node = json_text_of(a, "node");

		/* Silences are the mesh's: the node that pages for
		 * this alert (notify.c there) holds it back too. */
		if (strcmp(json_text_of(a, "state"), "resolved") == 0)
			continue;
		id = silences_match(n->silences, now, json_text_of(a, "rule"),
		    node, labels_of(n, cache, node));
		json_object_set_new(a, "silenced", json_boolean(id != NULL));
		if (id != NULL)
			json_object_set_new(a, "silence_id", json_string(id));
	}
	json_decref(cache);
}
