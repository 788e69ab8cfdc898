/*
 * The jobs routes (jobs.h): POST /api/jobs submits (write role), GET
 * /api/jobs lists (a fanned-out job's children only with ?children=1),
 * GET /api/jobs/{id} shows one with its history (and children), POST
 * /api/jobs/{id}/cancel cancels.  A job's record is served by its issuer;
 * every other node lists it and shows its summary from the mesh's view
 * (sync_jobs.h: `issuer`, `remote: true`, no payload, result or history).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api_priv.h"
#include "http_json.h"
#include "jobs.h"
#include "jobs_spec.h"
#include "node.h"
#include "node_id.h"
#include "sync_jobs.h"
#include "xalloc.h"

#define LIST_DEFAULT	100
#define LIST_MAX	1000

void
api_jobs_post(const struct api_call *call)
{
	json_t *body, *rec;
	char id[64] = "", err[512] = "";
	int status;

	if ((body = http_body_json(call->req)) == NULL)
		return;
	status = jobs_submit(call->n->jobs, body, call->principal, id, sizeof(id),
	    err, sizeof(err));
	json_decref(body);
	switch (status) {
	case 202:
		/* A fanned-out job answers its children (jobs_fanout.h). */
		rec = jobs_get(call->n->jobs, id);
		http_reply_json(call->req, 202, json_pack("{s:s, s:O?, s:O?}", "id",
		    id, "state", json_object_get(rec, "state"), "children",
		    json_object_get(rec, "children")));
		json_decref(rec);
		break;
	case 200:
		http_reply_json(call->req, 200, json_pack("{s:s, s:b}", "id", id,
		    "duplicate", 1));
		break;
	case 409:
		http_reply_json(call->req, 409, json_pack("{s:s, s:s, s:s}", "error",
		    err, "message", err, "job", id));
		break;
	default:
		http_reply_error(call->req, status, status == 500 ? "internal" :
		    status == 413 ? "too_large" : status == 404 ? "no_target" :
		    status == 503 ? "labels_unknown" : "invalid_field", "%s", err);
	}
}

/*
 * Our jobs (as before the mesh's view) and the ones other issuers told
 * the mesh of, newest submitted first, at most limit; issuer (NULL: any)
 * keeps one issuer's.
 */
static json_t *
mesh_list(const struct api_call *call, const char *state, const char *task,
    const char *issuer, unsigned limit, int children)
{
	json_t *local = NULL, *remote = NULL, *out = json_array(), **v;
	size_t n, i;

	if (issuer == NULL || strcmp(issuer, call->n->id) == 0)
		local = jobs_list(call->n->jobs, state, task, limit, children);
	if (call->n->sync != NULL && (issuer == NULL ||
	    strcmp(issuer, call->n->id) != 0))
		remote = sync_jobs_list(call->n->sync, state, task, 0);
	n = json_array_size(local) + json_array_size(remote);
	v = xcalloc(n + 1, sizeof(*v));
	n = 0;
	for (i = 0; i < json_array_size(local); i++)
		v[n++] = json_array_get(local, i);
	for (i = 0; i < json_array_size(remote); i++) {
		json_t *j = json_array_get(remote, i);
		const char *parent = json_string_value(json_object_get(j,
		    "parent"));
		/* A fanned-out job's children, as for ours: on request. */
		if (!children && parent != NULL && parent[0] != '\0')
			continue;
		if (issuer == NULL || strcmp(issuer, json_string_value(
		    json_object_get(j, "issuer"))) == 0)
			v[n++] = j;
	}
	qsort(v, n, sizeof(*v), sync_jobs_newer);
	for (i = 0; i < n && i < limit; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(local);
	json_decref(remote);
	return out;
}

void
api_jobs_list(const struct api_call *call)
{
	struct evkeyvalq q;
	long long limit = LIST_DEFAULT, children = 0;
	const char *state;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_int(call->req, &q, "limit", 1, LIST_MAX, &limit) != 0 ||
	    api_param_int(call->req, &q, "children", 0, 1, &children) != 0)
		goto out;
	state = evhttp_find_header(&q, "state");
	if (state != NULL && jobs_state_parse(state) < 0) {
		http_reply_error(call->req, 400, "invalid_field", "state: one of "
		    "queued, dispatched, running, succeeded, failed, cancelled, "
		    "expired, lost");
		goto out;
	}
	http_reply_json(call->req, 200, json_pack("{s:o}", "jobs",
	    mesh_list(call, state, evhttp_find_header(&q, "task"),
	    evhttp_find_header(&q, "issuer"), (unsigned)limit,
	    (int)children)));
out:
	evhttp_clear_headers(&q);
}

void
api_jobs_get(const struct api_call *call)
{
	struct evkeyvalq q;
	const char *issuer = NULL;
	json_t *rec = NULL, *issuers = NULL;

	if (api_query(call->req, &q) != 0)
		return;
	if (!node_id_valid(call->arg, strlen(call->arg))) {
		http_reply_error(call->req, 400, "invalid_field", "not a job id: "
		    "%.64s", call->arg);
		goto out;
	}
	if (api_param_node(call->req, &q, "issuer", &issuer) != 0)
		goto out;
	if (issuer == NULL || strcmp(issuer, call->n->id) == 0)
		rec = jobs_get(call->n->jobs, call->arg);
	if (rec == NULL && call->n->sync != NULL && (issuer == NULL ||
	    strcmp(issuer, call->n->id) != 0))
		rec = sync_jobs_get(call->n->sync, call->arg, issuer, &issuers);
	if (rec == NULL && issuers != NULL)
		http_reply_json(call->req, 409, json_pack("{s:s, s:s+++, s:O}",
		    "error", "ambiguous", "message", "several issuers name job ",
		    call->arg, ": ask again with ?issuer=", "", "issuers",
		    issuers));
	else if (rec == NULL)
		http_reply_error(call->req, 404, "not_found", "no job %s issued by "
		    "%s or known from the mesh (a job is served by its issuer)",
		    call->arg, issuer != NULL ? issuer : call->n->id);
	else
		http_reply_json(call->req, 200, rec);
out:
	json_decref(issuers);
	evhttp_clear_headers(&q);
}

/* POST /api/jobs/{id}/cancel */
void
api_jobs_post_id(const struct api_call *call)
{
	char id[64], verb[16], err[512];
	int status;

	if (strcmp(call->arg, "replay") == 0) {
		api_jobs_replay_batch(call);
		return;
	}
	if (sscanf(call->arg, "%63[^/]/%15s", id, verb) == 2 &&
	    strcmp(verb, "replay") == 0 && node_id_valid(id, strlen(id))) {
		api_jobs_replay(call, id);
		return;
	}
	if (sscanf(call->arg, "%63[^/]/%15s", id, verb) != 2 ||
	    strcmp(verb, "cancel") != 0 || !node_id_valid(id, strlen(id))) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/jobs/%.64s (POST /api/jobs/{id}/cancel)", call->arg);
		return;
	}
	status = jobs_cancel(call->n->jobs, id, call->principal, err, sizeof(err));
	if (status != 200) {
		http_reply_error(call->req, status, status == 404 ? "not_found" :
		    "conflict", "%s", err);
		return;
	}
	http_reply_json(call->req, 200, json_pack("{s:s, s:s}", "id", id,
	    "state", "cancelled"));
}
