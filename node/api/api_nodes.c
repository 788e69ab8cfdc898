/*
 * POST /api/nodes/{id}/forget (admin role): drops a dead or left node
 * from every node's view.  This node checks the node is dead or left as
 * /api/cluster/status shows it (409 otherwise, 404 if no view holds it),
 * forgets it itself, then tells every other node with a forget_node
 * command to "all" (forget.h says what each drops).  A store that cannot
 * record the forget answers 500 with its reason, and the others are not
 * told.  Audited as node.forget with its outcome.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "api_priv.h"
#include "audit.h"
#include "commands.h"
#include "forget.h"
#include "http_json.h"
#include "node.h"
#include "node_id.h"
#include "store.h"

#define FORGET_SUFFIX	"/forget"

/* The node's member state as /api/cluster/status shows it (copied into
 * out), or -1 when no view of ours holds it. */
static int
member_of(struct node *n, const char *id, char *out, size_t outlen)
{
	json_t *st = api_cluster_status(n, 0), *r;
	size_t i;
	int found = -1;

	json_array_foreach(json_object_get(st, "remote"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "node_id")), id) == 0) {
			snprintf(out, outlen, "%s", json_string_value(
			    json_object_get(r, "member")));
			found = 0;
		}
	json_decref(st);
	return found;
}

static void
refuse(const struct api_call *call, const char *id, int status,
    const char *code, const char *outcome, const char *msg)
{
	api_audit(call, "node.forget", outcome, json_pack("{s:s}", "node", id));
	http_reply_error(call->req, status, code, "%s", msg);
}

void
api_nodes_post(const struct api_call *call)
{
	struct node *n = call->n;
	const char *slash = strchr(call->arg, '/');
	struct commands_request cr = { 0 };
	char id[NODE_ID_MAX + 1], member[32], msg[640], cid[64], err[256];
	const char *code;
	json_t *target, *args;
	int dup, issued;

	if (slash == NULL || strcmp(slash, FORGET_SUFFIX) != 0) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/nodes/%.128s", call->arg);
		return;
	}
	if (!node_id_valid(call->arg, (size_t)(slash - call->arg))) {
		http_reply_error(call->req, 400, "invalid_field", "not a node id: "
		    "%.*s", (int)(slash - call->arg) > 64 ? 64 :
		    (int)(slash - call->arg), call->arg);
		return;
	}
	snprintf(id, sizeof(id), "%.*s", (int)(slash - call->arg), call->arg);
	if (n->frozen) {
		snprintf(msg, sizeof(msg), "%s is frozen (read-only mode): "
		    "forgetting a node is refused until an unfreeze", n->id);
		refuse(call, id, 423, "frozen", "refused", msg);
		return;
	}
	if (strcmp(id, n->id) == 0) {
		refuse(call, id, 409, "conflict", "refused", "a node cannot forget "
		    "itself");
		return;
	}
	if (member_of(n, id, member, sizeof(member)) != 0) {
		snprintf(msg, sizeof(msg), "no node %s is known here", id);
		refuse(call, id, 404, "not_found", "not_found", msg);
		return;
	}
	if (strcmp(member, "dead") != 0 && strcmp(member, "left") != 0) {
		snprintf(msg, sizeof(msg), "%s is %s: only a dead or left node can be "
		    "forgotten (a node is dead --dead-ms after it was last heard "
		    "from)", id, member);
		refuse(call, id, 409, "conflict", "refused", msg);
		return;
	}
	switch (forget_node(n->links, n->sync, n->id, id)) {
	case FORGET_LINKED:
		snprintf(msg, sizeof(msg), "%s has just linked to %s: it is alive",
		    n->id, id);
		refuse(call, id, 409, "conflict", "refused", msg);
		return;
	case FORGET_NOT_STORED:
		/* Not told to the others: the user retries once the store
		 * works, and every node forgets it then. */
		snprintf(msg, sizeof(msg), "%s forgot %s until it restarts, but "
		    "cannot store it: %s", n->id, id, store_error(n->store));
		refuse(call, id, 500, "internal", "error", msg);
		return;
	default:
		break;
	}
	/* Every other node forgets it too; we already have (ours answers
	 * "forgotten": false). */
	target = json_string("all");
	args = json_pack("{s:s}", "node", id);
	cr.target = target;
	cr.type = "forget_node";
	cr.args = args;
	cr.principal = call->principal;
	issued = commands_issue(n->commands, &cr, cid, sizeof(cid), &dup, &code,
	    err, sizeof(err)) == 0;
	api_audit(call, "node.forget", "ok", json_pack("{s:s, s:s, s:s?}", "node", id, "member", member,
	    "command_id", issued ? cid : NULL));
	http_reply_json(call->req, 200, json_pack("{s:s, s:b, s:s, s:s?, s:s?}",
	    "node", id, "forgotten", 1, "member", member, "command_id",
	    issued ? cid : NULL, "warning", issued ? NULL : err));
	json_decref(args);
	json_decref(target);
}
