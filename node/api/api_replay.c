/*
 * The replay routes (jobs_replay.h), write role like a submit:
 * POST /api/jobs/{id}/replay replays one job, POST /api/jobs/replay a
 * batch.  Both are reached from api_jobs_post_id, the jobs' POST prefix
 * route.  A replay carries no callback: the first job's secret is never
 * stored, so the answer says so.
 */
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "api_priv.h"
#include "http_json.h"
#include "jobs_replay.h"
#include "node.h"

#define NO_CALLBACK	"a callback is not replayed (its secret is not " \
			"stored): submit again with --callback for one"

void
api_jobs_replay(const struct api_call *call, const char *id)
{
	char newid[64] = "", err[512] = "";
	int status;

	status = jobs_replay(call->n->jobs, id, call->principal, newid,
	    sizeof(newid), err, sizeof(err));
	if (status != 202) {
		http_reply_error(call->req, status, status == 404 ? "not_found" :
		    status == 409 ? "conflict" : status == 500 ? "internal" :
		    "invalid_field", "%s", err);
		return;
	}
	http_reply_json(call->req, 202, json_pack("{s:s, s:s, s:s, s:s}", "id",
	    newid, "state", "queued", "replay_of", id, "note", NO_CALLBACK));
}

void
api_jobs_replay_batch(const struct api_call *call)
{
	json_t *body, *out;
	char err[512] = "";
	int status;

	if ((body = http_body_json(call->req)) == NULL)
		return;		/* answered */
	out = jobs_replay_batch(call->n->jobs, body, call->principal, &status,
	    err, sizeof(err));
	json_decref(body);
	if (out == NULL) {
		http_reply_error(call->req, status, status == 500 ? "internal" :
		    "invalid_field", "%s", err);
		return;
	}
	json_object_set_new(out, "note", json_string(NO_CALLBACK));
	http_reply_json(call->req, 200, out);
}
