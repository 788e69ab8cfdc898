/*
 * GET /api/history: a node's own metric history (history.h), this
 * node's from its rings, another's (?node=) over the mesh with a
 * history_query command, the same shape either way: {"node",
 * "resolution", "from_ms", "to_ms", "t_ms", "series", "max",
 * "truncated"}.
 */
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <string.h>

#include "api_priv.h"
#include "clock.h"
#include "history.h"
#include "http_json.h"
#include "node.h"

#define HOUR_MS		3600000LL

static void
remote_reply(struct evhttp_request *req, const char *id, json_t *rec)
{
	api_remote_answer(req, id, rec, "t_ms");
}

void
api_history_get(const struct api_call *call)
{
	struct evkeyvalq q;
	long long now = (long long)clock_wall_ms(), to = now, from = -1;
	long long points = HISTORY_POINTS_DEFAULT;
	const char *node = NULL;
	json_t *out;

	if (api_query(call->req, &q) != 0)
		return;
	if (api_param_node(call->req, &q, "node", &node) != 0 ||
	    api_param_int(call->req, &q, "from_ms", 0, INT64_MAX, &from) != 0 ||
	    api_param_int(call->req, &q, "to_ms", 0, INT64_MAX, &to) != 0 ||
	    api_param_int(call->req, &q, "points", 1, HISTORY_POINTS_MAX,
	    &points) != 0)
		goto out;
	if (from < 0)
		from = to > HOUR_MS ? to - HOUR_MS : 0;
	if (from > to) {
		http_reply_error(call->req, 400, "invalid_field", "from_ms: %lld "
		    "is after to_ms %lld", from, to);
		goto out;
	}
	if (node != NULL && strcmp(node, call->n->id) != 0) {
		json_t *args = json_pack("{s:I, s:I, s:I}", "from_ms",
		    (json_int_t)from, "to_ms", (json_int_t)to, "points",
		    (json_int_t)points);

		api_remote_ask(call, node, "history_query", args, remote_reply);
		json_decref(args);
		goto out;
	}
	out = history_query(call->n->history, from, to, (size_t)points, 0);
	json_object_set_new(out, "node", json_string(call->n->id));
	http_reply_json(call->req, 200, out);
out:
	evhttp_clear_headers(&q);
}
