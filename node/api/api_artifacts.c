/*
 * The artifact routes (artifacts.h, docs/services.md "Artifacts"):
 *
 *   GET    /api/artifacts               which node holds which artifact,
 *                                       and this node's fetches
 *   PUT    /api/artifacts/ID?name=N&size=S&offset=O
 *                                       a piece (the body, at most 1 MiB)
 *                                       of an upload (write): 200 more to
 *                                       come, 201 held, 409 {offset} send
 *                                       from there, 400 not the artifact
 *   DELETE /api/artifacts/ID            removed here (write)
 *
 * ID is "sha256:" and 64 lowercase hex digits.  Uploads and deletions
 * are audited with the caller (an upload once, when it is held).
 */
#include <jansson.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_priv.h"
#include "artifacts.h"
#include "http_json.h"
#include "node.h"
#include "text.h"

/* Answers status with out (consumed): {error: code, message, ...}. */
static void
reply(const struct api_call *call, int status, json_t *out)
{
	json_t *msg;

	if (status == 200 || status == 201) {
		http_reply_json(call->req, status, out);
		return;
	}
	msg = json_object_get(out, "error");
	json_object_set(out, "message", msg);
	json_object_set_new(out, "error", json_string(status == 404 ?
	    "not_found" : status == 409 ? "conflict" : status == 413 ?
	    "too_large" : status == 503 ? "busy" : status == 400 ?
	    "invalid_field" : "internal"));
	http_reply_json(call->req, status, out);
}

static int
available(const struct api_call *call)
{
	if (call->n->artifacts != NULL)
		return 1;
	http_reply_error(call->req, 503, "unavailable", "artifacts are not "
	    "kept on this node");
	return 0;
}

void
api_artifacts_list(const struct api_call *call)
{
	if (available(call))
		http_reply_json(call->req, 200,
		    artifacts_list_json(call->n->artifacts));
}

void
api_artifacts_put(const struct api_call *call)
{
	struct evkeyvalq q;
	long long size = 0, offset = 0;
	const char *name, *body;
	json_t *out = NULL;
	size_t len;
	int status;

	if (!available(call) || api_frozen(call))
		return;
	if (api_query(call->req, &q) != 0)
		return;
	name = evhttp_find_header(&q, "name");
	if (!text_artifact_valid(call->arg)) {
		http_reply_error(call->req, 400, "invalid_field", "the artifact "
		    "in the path: \"sha256:\" and 64 lowercase hex digits");
		goto out;
	}
	if (name == NULL || http_query_int(&q, "size", 0, INT64_MAX,
	    &size) != 1 || http_query_int(&q, "offset", 0, INT64_MAX,
	    &offset) != 1) {
		http_reply_error(call->req, 400, "invalid_field", "name, size "
		    "and offset are required: ?name=FILE&size=BYTES&offset="
		    "BYTES");
		goto out;
	}
	body = http_body(call->req, &len);
	if (len > ARTIFACTS_PIECE_MAX) {
		http_reply_error(call->req, 413, "too_large", "a piece is at "
		    "most %u bytes", ARTIFACTS_PIECE_MAX);
		goto out;
	}
	status = artifacts_upload(call->n->artifacts, call->arg, name,
	    (uint64_t)size, (uint64_t)offset, body, len, &out);
	if (status == 201 || (status == 400 && (uint64_t)offset + len ==
	    (uint64_t)size))
		api_audit(call, "artifact.add", status == 201 ? "ok" :
		    "refused", json_pack("{s:s, s:s, s:I}", "artifact",
		    call->arg, "name", name, "size", (json_int_t)size));
	reply(call, status, out);
out:
	evhttp_clear_headers(&q);
}

void
api_artifacts_delete(const struct api_call *call)
{
	json_t *out = NULL;
	int status;

	if (!available(call) || api_frozen(call))
		return;
	status = artifacts_delete(call->n->artifacts, call->arg, &out);
	if (status != 404)
		api_audit(call, "artifact.delete", status == 200 ? "ok" :
		    "refused", json_pack("{s:s}", "artifact", call->arg));
	reply(call, status, out);
}
