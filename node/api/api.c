/*
 * Local API routes (see api.h).  One table of {method, path, handler}
 * for every route, this file's and api_work.c's; the handlers build JSON
 * from the subsystems' status functions.  /metrics is metrics.c's.
 */
#include "api.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include "api_auth.h"
#include "api_priv.h"
#include "audit.h"
#include "clock.h"
#include "commands.h"
#include "discovery.h"
#include "http_guard.h"
#include "http_json.h"
#include "json_bytes.h"
#include "json_id.h"
#include "links.h"
#include "log.h"
#include "mesh_names.h"
#include "metrics.h"
#include "node.h"
#include "node_id.h"
#include "store.h"
#include "sync.h"
#include "sync_json.h"
#include "tasks.h"
#include "ratelimit.h"
#include "routing.h"
#include "transport.h"
#include "web.h"
#include "ws.h"
#include "xalloc.h"

static json_t *
signal_status(const struct node *n)
{
	if (n->discovery == NULL)
		return json_pack("{s:b, s:[]}", "reachable", 0, "signals");
	return json_pack("{s:b, s:o}", "reachable", discovery_reachable(n->discovery),
	    "signals", discovery_status(n->discovery));
}

static void
healthz_cb(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	const char *arg = call->arg;
	(void)arg;
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:o, s:s, s:I}",
	    "status", "ok", "node_id", n->id, "incarnation",
	    json_id_new(n->incarnation), "version", AGENTFLOW_VERSION, "uptime_s",
	    (json_int_t)((clock_mono_ms() - n->started_ms) / 1000)));
}

/*
 * A remote node as the API shows it: its synced state, our link to it, and
 * its member state.  With a direct link up, or a Leave received, the link
 * says it.  Otherwise how recently its events reached us does: alive
 * while the link-state graph has a route to it and its last event is
 * within three idle status periods (--status-idle-ms: at rest statuses
 * are that far apart), or with no link of ours ever, within three status
 * periods; then suspect until the dead timeout, then dead.  A node whose
 * link to us is down and that no other node links to either is what our
 * link says (suspect, then dead), at once, though its last events are
 * recent.  The path is "relayed" only for an alive node with a route.
 */
static json_t *
remote_json(struct node *n, json_t *origin, json_t *link)
{
	json_t *r = json_incref(origin);	/* ours: sync_json_remote made it */
	const char *lstate = json_string_value(json_object_get(link, "state"));
	const char *lmember = json_string_value(json_object_get(link, "member"));
	uint64_t updated = (uint64_t)json_integer_value(json_object_get(r, "updated_ms"));
	uint64_t seen = (uint64_t)json_integer_value(json_object_get(r, "seen_ms"));
	/* Its last event, or the last sample at which a route led to it
	 * (sync_note_routes): at rest its last event may be an idle period
	 * old, and a route lost a moment ago is a moment of silence. */
	uint64_t heard = seen > updated ? seen : updated;
	uint64_t now = clock_wall_ms(), age = now > heard ? now - heard : 0;
	uint64_t last = now > updated ? now - updated : 0;
	/* Three status periods; with a route, three of the origin's idle
	 * periods, since at rest it sends one that often (status_pace.h).
	 * An older origin (no idle_ms) sends every second. */
	uint64_t fresh = 3 * (uint64_t)n->cfg->status_ms;
	uint64_t idle = (uint64_t)json_integer_value(json_object_get(r, "idle_ms"));
	uint64_t fresh_routed = 3 * (idle > (uint64_t)n->cfg->status_ms ? idle :
	    (uint64_t)n->cfg->status_ms);
	const char *member, *id = json_string_value(json_object_get(r, "node_id"));
	int direct = lstate != NULL && strcmp(lstate, "up") == 0, routed;
	char hop[NODE_ID_MAX + 1];

	if (fresh < 3000)
		fresh = 3000;
	if (fresh_routed < fresh)
		fresh_routed = fresh;
	routed = !direct && id != NULL &&
	    routing_next_hop(sync_routing(n->sync), id, hop,
	    sizeof(hop)) == 0;
	if (direct || (lmember != NULL && strcmp(lmember, "left") == 0))
		member = lmember;
	else if (json_is_true(json_object_get(r, "left")))
		member = "left";
	else if (updated != 0 && routed && last <= fresh_routed)
		member = "alive";
	else if (updated != 0 && age <= fresh && lmember == NULL)
		member = "alive";
	else if (updated != 0 && age <= fresh)
		member = lmember;	/* cut off: our link's view */
	else if (updated != 0 && age <= (uint64_t)n->cfg->dead_ms)
		member = "suspect";
	else
		member = lmember != NULL ? lmember : "dead";
	json_object_set_new(r, "member", json_string(member));
	json_object_set_new(r, "path", json_string(direct ? "direct" :
	    routed && strcmp(member, "alive") == 0 ? "relayed" : "none"));
	/* The neighbour a relayed node's traffic goes through. */
	json_object_set_new(r, "via", routed && strcmp(member, "alive") == 0 ?
	    json_string(hop) : json_null());
	json_object_set(r, "link", link ? link : json_null());
	return r;
}

json_t *
api_cluster_status(struct node *n, int with_status)
{
	json_t *links = links_status(n->links), *remote = json_array(), *origins,
	    *byid = json_object(), *l, *o, *self;
	const char *id;
	size_t i;

	json_array_foreach(links, i, l)
		json_object_set(byid, json_string_value(json_object_get(l, "peer")), l);
	origins = sync_json_remote(n->sync, with_status);
	json_array_foreach(origins, i, o) {
		id = json_string_value(json_object_get(o, "node_id"));
		json_array_append_new(remote, remote_json(n, o, json_object_get(byid, id)));
		json_object_del(byid, id);
	}
	/* Peers we link to but hold no state of yet. */
	json_object_foreach(byid, id, l) {
		const char *ls = json_string_value(json_object_get(l, "state"));
		json_array_append_new(remote, json_pack("{s:s, s:s, s:O, s:n, s:n, s:s}",
		    "node_id", id, "member", json_string_value(json_object_get(l, "member")),
		    "link", l, "status", "info", "path", ls != NULL &&
		    strcmp(ls, "up") == 0 ? "direct" : "none"));
	}
	json_decref(origins);
	json_decref(byid);
	if ((self = sync_json_origin(n->sync, n->id, with_status)) == NULL)
		self = json_null();
	return json_pack("{s:{s:s, s:o, s:s, s:O, s:O, s:I, s:o, s:o, s:o}, s:o}",
	    "local", "node_id", n->id, "incarnation", json_id_new(n->incarnation),
	    "version", AGENTFLOW_VERSION, "addresses", n->addresses,
	    "labels", n->labels, "started_ms", (json_int_t)n->started_ms,
	    "signal", signal_status(n), "links", links,
	    "state", self,
	    "remote", remote);
}

static void
cluster_status_cb(const struct api_call *call)
{
	http_reply_json(call->req, 200, api_cluster_status(call->n, 1));
}

static void
node_cb(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	const char *id = call->arg;
	json_t *o, *links, *l;
	size_t i;

	if (!node_id_valid(id, strlen(id))) {
		http_reply_error(req, 400, "invalid_field", "not a node id: %.64s", id);
		return;
	}
	if ((o = sync_json_origin(n->sync, id, 1)) == NULL) {
		http_reply_error(req, 404, "not_found", "no state of node %s is known "
		    "here", id);
		return;
	}
	links = links_status(n->links);
	json_array_foreach(links, i, l)
		if (strcmp(json_string_value(json_object_get(l, "peer")), id) == 0)
			json_object_set(o, "link", l);
	json_decref(links);
	json_object_set_new(o, "local", json_boolean(strcmp(id, n->id) == 0));
	http_reply_json(req, 200, o);
}

json_t *
api_event_json(const struct store_event *ev)
{
	json_t *body = sync_json_event_body(ev->origin, ev->kind, ev->body, ev->body_len);

	return json_pack("{s:s, s:o, s:o, s:s, s:I, s:I, s:o}",
	    "origin", ev->origin, "incarnation", json_id_new(ev->incarnation),
	    "seq", json_id_new(ev->seq), "kind", mesh_names_event_kind(ev->kind),
	    "time_ms", (json_int_t)ev->time_ms,
	    "received_ms", (json_int_t)ev->received_ms,
	    "body", body ? body : json_null());
}

static int
event_row_cb(void *arg, const struct store_event *ev)
{
	json_array_append_new(arg, api_event_json(ev));
	return 0;
}

/* A row of a page of older history: a status whole whatever its size (the
 * timeline reads joins, links and freezes from statuses, and in a larger
 * mesh their members pass 8 KiB: a summary made the page useless), any
 * other event as the /ws snapshot gives it. */
static int
page_row_cb(void *arg, const struct store_event *ev)
{
	if (ev->kind == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS)
		return event_row_cb(arg, ev);
	return api_events_inline_cb(arg, ev);
}

/* The request's query into q; a query that does not parse (a name
 * without "=", a bad %-escape) answers 400 and gives -1 (q empty): read
 * as none, it would answer another question than the one asked. */
int
api_query(struct evhttp_request *req, struct evkeyvalq *q)
{
	if (http_query(req, q) == 0)
		return 0;
	http_reply_error(req, 400, "invalid_field", "query: name=value pairs "
	    "joined by & expected");
	return -1;
}

/* The node API's query parameters: out of range answers 400. */
int
api_param_int(struct evhttp_request *req, const struct evkeyvalq *q,
    const char *name, long long min, long long max, long long *out)
{
	if (http_query_int(q, name, min, max, out) >= 0)
		return 0;
	http_reply_error(req, 400, "invalid_field", "%s: an integer %lld-%lld "
	    "is required, got \"%.32s\"", name, min, max,
	    evhttp_find_header(q, name));
	return -1;
}

int
api_param_node(struct evhttp_request *req, const struct evkeyvalq *q,
    const char *name, const char **out)
{
	const char *v = evhttp_find_header(q, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!node_id_valid(v, strlen(v))) {
		http_reply_error(req, 400, "invalid_field", "%s: not a node id", name);
		return -1;
	}
	*out = v;
	return 0;
}

static void
events_get(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	struct evkeyvalq q;
	struct store_event_query sq = { 0 };
	json_t *events;
	long long num = 0, limit = 1000;
	const char *v;

	/* A query that does not parse would read as none: every event since
	 * 0, not the page asked for. */
	if (api_query(req, &q) != 0)
		goto out;
	/* since and limit keep the messages they had before the shared
	 * parameter helpers. */
	if (http_query_int(&q, "since", 0, LLONG_MAX, &num) < 0) {
		http_reply_error(req, 400, "invalid_field",
		    "since: Unix milliseconds expected, got \"%.32s\"",
		    evhttp_find_header(&q, "since"));
		goto out;
	}
	sq.since_ms = num;
	if (api_param_node(req, &q, "node", &sq.origin) != 0)
		goto out;
	if ((v = evhttp_find_header(&q, "kind")) != NULL &&
	    (sq.kind = mesh_names_event_kind_parse(v)) == 0) {
		http_reply_error(req, 400, "invalid_field", "kind: one of status, "
		    "task, log, alert, user");
		goto out;
	}
	if (http_query_int(&q, "limit", 1, 10000, &limit) < 0) {
		http_reply_error(req, 400, "invalid_field", "limit: 1-10000");
		goto out;
	}
	sq.limit = (unsigned)limit;
	/* A page of older history: the newest `limit` before `until`, so a
	 * client scrolling back asks again with its oldest event's time; an
	 * event past 8 KiB but a status comes as a summary, as in the /ws
	 * snapshot, so a page stays small whatever the mesh posted. */
	num = 0;
	if (api_param_int(req, &q, "until", 1, LLONG_MAX, &num) != 0)
		goto out;
	sq.until_ms = num;
	sq.newest = num > 0;
	events = json_array();
	if (store_events_query(n->store, &sq, sq.until_ms != 0 ?
	    page_row_cb : event_row_cb, events) != 0) {
		json_decref(events);
		http_reply_error(req, 500, "internal", "cannot read the event log: %s",
		    store_error(n->store));
		goto out;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "events", events));
out:
	evhttp_clear_headers(&q);
}

void
api_event_payload(const json_t *payload, const char **raw, size_t *len,
    char **text)
{
	*text = NULL;
	if (payload == NULL || json_is_null(payload)) {
		*raw = "";
		*len = 0;
	} else if (json_is_string(payload)) {
		*raw = json_string_value(payload);
		*len = json_string_length(payload);
	} else {
		*text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
		*raw = *text ? *text : "";
		*len = strlen(*raw);
	}
}

static void
events_post(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	json_t *body, *payload, *b64;
	const char *raw, *name;
	char *text = NULL, err[256];
	unsigned char *bytes = NULL;
	size_t plen;
	uint64_t seq;

	if ((body = http_body_json(req)) == NULL)
		return;
	name = json_string_value(json_object_get(body, "name"));
	payload = json_object_get(body, "payload");
	b64 = json_object_get(body, "payload_b64");
	if (!json_is_object(body) || name == NULL ||
	    (b64 != NULL && payload != NULL)) {
		http_reply_error(req, 400, "invalid_field",
		    "expected {\"name\": string, \"payload\": string or JSON} or "
		    "{\"name\": string, \"payload_b64\": base64 of the bytes}");
		json_decref(body);
		return;
	}
	/* Bytes that are not text come as base64; the body limit bounds them. */
	if (b64 != NULL) {
		if (json_b64_get(b64, 1 << 20, &bytes, &plen) != 0) {
			http_reply_error(req, 400, "invalid_field",
			    "payload_b64: not a base64 string");
			json_decref(body);
			return;
		}
		raw = (const char *)bytes;
	} else
		api_event_payload(payload, &raw, &plen, &text);
	if (n->frozen) {
		http_reply_error(req, 423, "frozen", "%s is frozen (read-only "
		    "mode): writes are refused until an unfreeze", n->id);
		json_decref(body);
		free(text);
		free(bytes);
		return;
	}
	seq = sync_emit_user(n->sync, name, raw, plen, err, sizeof(err));
	api_audit(call, "api.event", seq ? "ok" : "invalid",
	    json_pack("{s:s, s:I, s:o}", "name", name, "bytes", (json_int_t)plen,
	    "payload_sha256", audit_sha256_json(raw, plen)));
	if (seq == 0)
		http_reply_error(req, plen > 65536 ? 413 : 400,
		    plen > 65536 ? "payload_too_large" : "invalid_field", "%s", err);
	else
		http_reply_json(req, 200, json_pack("{s:s, s:o, s:o}", "origin", n->id,
		    "incarnation", json_id_new(n->incarnation), "seq",
		    json_id_new(seq)));
	free(text);
	free(bytes);
	json_decref(body);
}

static void
ws_cb(const struct api_call *call)
{
	if (call->n->ws == NULL) {
		http_reply_error(call->req, 503, "unavailable", "no live feed here");
		return;
	}
	ws_hub_accept(call->n->ws, call->req);
}

/*
 * Routes: one row per method and path.  A path is exact, or a prefix whose
 * remainder is the handler's argument.  A path's rows, in table order, make
 * its Allow header.  Each row names the least role that may call it
 * (PRINCIPAL_NONE: open, no token): read for every GET, write for the
 * POSTs that change work, admin for forget and tokens.  Freeze and
 * unfreeze are commands: api_work.c asks admin of those types.
 */
#define R	PRINCIPAL_READ
#define W	PRINCIPAL_WRITE
#define A	PRINCIPAL_ADMIN
static const struct route {
	enum evhttp_cmd_type	 method;
	const char		*path;
	int			 prefix;
	enum principal_role	 role;		/* least role; NONE: open */
	void			(*fn)(const struct api_call *);
} routes[] = {
	{ EVHTTP_REQ_GET,  "/healthz",		0, PRINCIPAL_NONE, healthz_cb },
	{ EVHTTP_REQ_GET,  "/metrics",		0, R, metrics_get },
	{ EVHTTP_REQ_GET,  "/api/cluster/status", 0, R, cluster_status_cb },
	{ EVHTTP_REQ_GET,  "/api/nodes/",	1, R, node_cb },
	{ EVHTTP_REQ_POST, "/api/nodes/",	1, A, api_nodes_post },
	{ EVHTTP_REQ_GET,  "/api/events",	0, R, events_get },
	{ EVHTTP_REQ_GET,  "/api/history",	0, R, api_history_get },
	{ EVHTTP_REQ_POST, "/api/events",	0, W, events_post },
	{ EVHTTP_REQ_GET,  "/api/commands",	0, R, api_work_commands_list },
	{ EVHTTP_REQ_POST, "/api/commands",	0, W, api_work_commands_post },
	{ EVHTTP_REQ_GET,  "/api/commands/",	1, R, api_work_command },
	{ EVHTTP_REQ_GET,  "/api/tasks",	0, R, api_work_tasks },
	{ EVHTTP_REQ_GET,  "/api/tasks/",	1, R, api_work_task },
	{ EVHTTP_REQ_GET,  "/api/alerts",	0, R, api_work_alerts },
	{ EVHTTP_REQ_GET,  "/api/alerts/notices", 0, R, api_work_notices },
	{ EVHTTP_REQ_GET,  "/api/silences",	0, R, api_silences_list },
	{ EVHTTP_REQ_POST, "/api/silences",	0, W, api_silences_post },
	{ EVHTTP_REQ_DELETE, "/api/silences/",	1, W, api_silences_delete },
	{ EVHTTP_REQ_GET,  "/api/audit",	0, R, api_audit_list },
	{ EVHTTP_REQ_GET,  "/api/audit/verify", 0, R, api_audit_verify },
	{ EVHTTP_REQ_GET,  "/api/definitions",	0, R, api_work_definitions },
	{ EVHTTP_REQ_GET,  "/api/tokens",	0, A, api_tokens_list },
	{ EVHTTP_REQ_POST, "/api/tokens",	0, A, api_tokens_issue },
	{ EVHTTP_REQ_POST, "/api/tokens/",	1, A, api_tokens_post_id },
	{ EVHTTP_REQ_POST, "/api/purge",	0, A, api_purge_post },
	{ EVHTTP_REQ_GET,  "/api/jobs",		0, R, api_jobs_list },
	{ EVHTTP_REQ_POST, "/api/jobs",		0, W, api_jobs_post },
	{ EVHTTP_REQ_GET,  "/api/jobs/",	1, R, api_jobs_get },
	{ EVHTTP_REQ_POST, "/api/jobs/",	1, W, api_jobs_post_id },
	{ EVHTTP_REQ_POST, "/api/workflows/check", 0, R, api_workflows_check },
	{ EVHTTP_REQ_GET,  "/api/events/",	1, R, api_events_one },
	{ EVHTTP_REQ_GET,  "/api/schedules",	0, R, api_schedules_list },
	{ EVHTTP_REQ_POST, "/api/schedules",	0, W, api_schedules_post },
	{ EVHTTP_REQ_GET,  "/api/schedules/",	1, R, api_schedules_get },
	{ EVHTTP_REQ_DELETE, "/api/schedules/",	1, W, api_schedules_delete },
	{ EVHTTP_REQ_POST, "/api/schedules/",	1, W, api_schedules_post_name },
	{ EVHTTP_REQ_GET,  "/api/workflows",	0, R, api_workflows_list },
	{ EVHTTP_REQ_POST, "/api/workflows",	0, W, api_workflows_post },
	{ EVHTTP_REQ_GET,  "/api/workflows/",	1, R, api_workflows_get },
	{ EVHTTP_REQ_POST, "/api/workflows/",	1, W, api_workflows_post_id },
	{ EVHTTP_REQ_GET,  "/api/services",	0, R, api_services_list },
	{ EVHTTP_REQ_GET,  "/api/services/",	1, R, api_services_get },
	{ EVHTTP_REQ_PUT,  "/api/services/",	1, W, api_services_put },
	{ EVHTTP_REQ_DELETE, "/api/services/",	1, W, api_services_delete },
	{ EVHTTP_REQ_POST, "/api/services/",	1, W, api_services_post_name },
	{ EVHTTP_REQ_GET,  "/api/discovery",	0, R, api_services_discovery },
	{ EVHTTP_REQ_GET,  "/api/artifacts",	0, R, api_artifacts_list },
	{ EVHTTP_REQ_PUT,  "/api/artifacts/",	1, W, api_artifacts_put },
	{ EVHTTP_REQ_DELETE, "/api/artifacts/",	1, W, api_artifacts_delete },
	{ EVHTTP_REQ_GET,  "/api/resolve",	0, R, api_services_resolve },
	{ EVHTTP_REQ_GET,  "/api/rollouts",	0, R, api_rollouts_list },
	{ EVHTTP_REQ_POST, "/api/rollouts",	0, W, api_rollouts_post },
	{ EVHTTP_REQ_GET,  "/api/rollouts/",	1, R, api_rollouts_get },
	{ EVHTTP_REQ_POST, "/api/rollouts/",	1, W, api_rollouts_post_id },
	/* The hub checks the token itself (also given as a subprotocol):
	 * any role reads the feed. */
	{ EVHTTP_REQ_GET,  "/ws",		0, PRINCIPAL_NONE, ws_cb },
};
#undef R
#undef W
#undef A

int
api_frozen(const struct api_call *call)
{
	if (!call->n->frozen)
		return 0;
	http_reply_error(call->req, 423, "frozen", "%s is frozen (read-only "
	    "mode): writes are refused until an unfreeze", call->n->id);
	return 1;
}

/* 1 when path is r's: equal, or (prefix) longer and starting with it. */
static int
route_matches(const struct route *r, const char *path)
{
	size_t plen = strlen(r->path);

	return r->prefix ? strncmp(path, r->path, plen) == 0 &&
	    path[plen] != '\0' : strcmp(path, r->path) == 0;
}

/* The request's token: the Authorization header, else ?token= (for
 * browsers opening a WebSocket, which cannot set headers). */
static const char *
request_token(struct evhttp_request *req, struct evkeyvalq *q)
{
	const char *t = http_bearer(req);

	if (t != NULL)
		return t;
	http_query(req, q);
	return evhttp_find_header(q, "token");
}

int
api_require_role(const struct api_call *call, enum principal_role need,
    const char *what)
{
	const struct principal *p = call->principal;
	char ip[64], msg[384];

	if (p != NULL && p->role >= need)
		return 0;
	http_peer_ip(call->req, ip, sizeof(ip));
	if (ratelimit_take(call->api->auth_audit, ip, clock_mono_ms(), NULL))
		audit_record(call->n->audit, "auth.failed", p ? p->name : ip,
		    "forbidden", json_pack("{s:s, s:s, s:s, s:s, s:s?}", "what", what,
		    "role_needed", principal_role_name(need), "role_held",
		    principal_role_name(p ? p->role : PRINCIPAL_NONE), "ip", ip,
		    "token_id", p && p->token_id[0] ? p->token_id : NULL));
	snprintf(msg, sizeof(msg), "%s needs the %s role; %s holds the %s role",
	    what, principal_role_name(need), p ? p->name : "this client",
	    principal_role_name(p ? p->role : PRINCIPAL_NONE));
	http_reply_json(call->req, 403, json_pack("{s:s, s:s, s:s, s:s}",
	    "error", "forbidden", "message", msg, "role_needed",
	    principal_role_name(need), "role_held",
	    principal_role_name(p ? p->role : PRINCIPAL_NONE)));
	return -1;
}

/*
 * Who the request is, checked against the route's role: a refusal is
 * answered (401 with why the token is refused, 403 naming the role
 * needed and the role held) and audited (rate limited per client, so a
 * scanner cannot flood the audit log); writes are rate limited per token.
 */
static int
authorize(struct api *a, struct api_call *call, const struct route *r,
    const char *path)
{
	struct evhttp_request *req = call->req;
	struct evkeyvalq q;
	enum principal_role role;
	unsigned retry = 1;
	char ip[64], num[16], why[256], what[200];
	uint64_t now = clock_mono_ms();

	TAILQ_INIT(&q);
	role = api_auth_check(a->n->auth, request_token(req, &q), &a->principal,
	    why, sizeof(why));
	evhttp_clear_headers(&q);
	if (role == PRINCIPAL_NONE) {
		http_peer_ip(req, ip, sizeof(ip));
		if (ratelimit_take(a->auth_audit, ip, now, NULL))
			audit_record(a->n->audit, "auth.failed", ip, "unauthorized",
			    json_pack("{s:s, s:s, s:s}", "method", http_method_str(req),
			    "path", evhttp_request_get_uri(req), "reason", why));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"agentflow\"");
		http_reply_error(req, 401, "unauthorized", "%s", why);
		return -1;
	}
	call->principal = &a->principal;
	snprintf(what, sizeof(what), "%s %.160s", http_method_str(req), path);
	if (api_require_role(call, r->role, what) != 0)
		return -1;
	if (r->role >= PRINCIPAL_WRITE && !api_auth_write_allowed(a->n->auth,
	    &a->principal, now, &retry)) {
		snprintf(num, sizeof(num), "%u", retry ? retry : 1);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", num);
		http_reply_error(req, 429, "rate_limited", "too many writes by "
		    "%s; retry in %s s", a->principal.name, num);
		return -1;
	}
	return 0;
}

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct api_call call = { req, a->n, a, NULL, NULL };
	const struct route *hit = NULL;
	char allow[64] = "";

	http_guard_request(a->n->http_guard, req);
	if (path == NULL)
		path = "";
	if (!http_method_known(req)) {
		http_close_after(req);
		http_reply_error(req, 501, "not_implemented", "this API does not "
		    "implement that method; it serves GET, POST and DELETE");
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_matches(&routes[i], path))
			continue;
		if (hit == NULL && routes[i].method == evhttp_request_get_command(req))
			hit = &routes[i];
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
		    allow[0] != '\0' ? ", " : "", http_method_name(routes[i].method));
	}
	if (hit == NULL && allow[0] != '\0') {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    allow);
		http_reply_error(req, 405, "method_not_allowed",
		    "%s is not allowed on %s; allowed: %s", http_method_str(req), path,
		    allow);
		return;
	}
	if (hit != NULL) {
		if (hit->role != PRINCIPAL_NONE && authorize(a, &call, hit,
		    path) != 0)
			return;
		call.arg = hit->prefix ? path + strlen(hit->path) : NULL;
		hit->fn(&call);
		return;
	}
	/* Anything else outside /api/ is the dashboard's files, read only. */
	if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0 &&
	    a->n->web_root != NULL && a->n->web_root[0] != '\0') {
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
			web_serve(req, a->n->web_root, path);
			return;
		}
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    "GET");
		http_reply_error(req, 405, "method_not_allowed", "%s is not allowed "
		    "on the dashboard's files; allowed: GET", http_method_str(req));
		return;
	}
	http_reply_error(req, 404, "not_found", "no such endpoint: %.128s", path);
}

struct api *
api_new(struct evhttp *http, struct node *n)
{
	struct api *a = xcalloc(1, sizeof(*a));

	a->n = n;
	a->auth_audit = ratelimit_new(1, 10, 1024);
	a->work = api_work_new(n);
	evhttp_set_gencb(http, dispatch_cb, a);
	return a;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	api_work_free(a->work);
	ratelimit_free(a->auth_audit);
	free(a);
}

void
api_command_changed(struct api *a, const char *id)
{
	api_work_changed(a->work, id);
}
