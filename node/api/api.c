/*
 * Local API routes (see api.h).  One table of {path, handler}; the
 * handlers build JSON from the subsystems' status functions.
 */
#include "api.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <string.h>
#include <sys/queue.h>

#include "api_auth.h"
#include "api_priv.h"
#include "audit.h"
#include "clock.h"
#include "commands.h"
#include "discovery.h"
#include "http_json.h"
#include "links.h"
#include "log.h"
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
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:I, s:s, s:I}",
	    "status", "ok", "node_id", n->id, "incarnation",
	    (json_int_t)n->incarnation, "version", AGENTFLOW_VERSION, "uptime_s",
	    (json_int_t)((clock_mono_ms() - n->started_ms) / 1000)));
}

/*
 * A remote node as the API shows it: its synced state, our link to it, and
 * its member state.  With a direct link up, or a Leave received, the link
 * says it.  Otherwise how recently its events reached us does (alive
 * within three status periods, suspect until the dead timeout, then dead),
 * as long as the link-state graph still has a route to it: a node whose
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
	uint64_t now = clock_wall_ms(), age = now > updated ? now - updated : 0;
	uint64_t fresh = 3 * (uint64_t)n->cfg->status_ms;
	const char *member, *id = json_string_value(json_object_get(r, "node_id"));
	int direct = lstate != NULL && strcmp(lstate, "up") == 0, routed;
	char hop[NODE_ID_MAX + 1];

	if (fresh < 3000)
		fresh = 3000;
	routed = !direct && id != NULL &&
	    routing_next_hop(sync_routing(n->sync), id, hop,
	    sizeof(hop)) == 0;
	if (direct || (lmember != NULL && strcmp(lmember, "left") == 0))
		member = lmember;
	else if (json_is_true(json_object_get(r, "left")))
		member = "left";
	else if (updated != 0 && age <= fresh && (routed || lmember == NULL))
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
	return json_pack("{s:{s:s, s:I, s:s, s:O, s:O, s:I, s:o, s:o, s:o}, s:o}",
	    "local", "node_id", n->id, "incarnation", (json_int_t)n->incarnation,
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

struct event_list {
	json_t	*events;
};

json_t *
api_event_json(const struct store_event *ev)
{
	json_t *body = sync_json_event_body(ev->origin, ev->kind, ev->body, ev->body_len);

	return json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:o}",
	    "origin", ev->origin, "incarnation", (json_int_t)ev->incarnation,
	    "seq", (json_int_t)ev->seq, "kind", sync_json_kind_name(ev->kind),
	    "time_ms", (json_int_t)ev->time_ms,
	    "received_ms", (json_int_t)ev->received_ms,
	    "body", body ? body : json_null());
}

static int
event_row_cb(void *arg, const struct store_event *ev)
{
	struct event_list *el = arg;

	json_array_append_new(el->events, api_event_json(ev));
	return 0;
}

json_t *
api_recent_events(struct node *n, unsigned limit)
{
	struct store_event_query sq = { 0 };
	struct event_list el = { json_array() };

	sq.limit = limit;
	sq.newest = 1;
	/* Statuses every second from every node would crowd out the rest;
	 * the latest of each is in the cluster view. */
	sq.not_kind = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	if (store_events_query(n->store, &sq, event_row_cb, &el) < 0)
		log_event(LOG_WARN, "cannot read the event log", "{s:s}", "error",
		    store_error(n->store));
	return el.events;
}

static void
events_get_cb(struct evhttp_request *req, struct node *n)
{
	struct evkeyvalq q;
	struct store_event_query sq = { 0 };
	struct event_list el;
	const char *v;
	char *end;
	long long num;

	sq.limit = 1000;
	evhttp_parse_query_str(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)) ?
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)) : "", &q);
	if ((v = evhttp_find_header(&q, "since")) != NULL) {
		num = strtoll(v, &end, 10);
		if (*end != '\0' || end == v || num < 0) {
			http_reply_error(req, 400, "invalid_field",
			    "since: Unix milliseconds expected, got \"%.32s\"", v);
			goto out;
		}
		sq.since_ms = num;
	}
	if ((v = evhttp_find_header(&q, "node")) != NULL) {
		if (!node_id_valid(v, strlen(v))) {
			http_reply_error(req, 400, "invalid_field", "node: not a node id");
			goto out;
		}
		sq.origin = v;
	}
	if ((v = evhttp_find_header(&q, "kind")) != NULL &&
	    (sq.kind = sync_json_kind_parse(v)) < 0) {
		http_reply_error(req, 400, "invalid_field", "kind: one of status, "
		    "task, log, alert, user");
		goto out;
	}
	if ((v = evhttp_find_header(&q, "limit")) != NULL) {
		num = strtoll(v, &end, 10);
		if (*end != '\0' || end == v || num < 1 || num > 10000) {
			http_reply_error(req, 400, "invalid_field", "limit: 1-10000");
			goto out;
		}
		sq.limit = (unsigned)num;
	}
	el.events = json_array();
	if (store_events_query(n->store, &sq, event_row_cb, &el) != 0) {
		json_decref(el.events);
		http_reply_error(req, 500, "internal", "cannot read the event log: %s",
		    store_error(n->store));
		goto out;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "events", el.events));
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
events_post_cb(struct evhttp_request *req, struct node *n, const char *principal)
{
	json_error_t jerr;
	json_t *body, *payload;
	const char *raw, *name;
	char *text = NULL, err[256];
	size_t len, plen;
	uint64_t seq;

	raw = http_body(req, &len);
	if (raw == NULL || (body = json_loadb(raw, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		http_reply_error(req, 400, "bad_json", "body is not valid JSON: %s",
		    raw == NULL ? "empty body" : jerr.text);
		return;
	}
	name = json_string_value(json_object_get(body, "name"));
	payload = json_object_get(body, "payload");
	if (!json_is_object(body) || name == NULL) {
		http_reply_error(req, 400, "invalid_field",
		    "expected {\"name\": string, \"payload\": string or JSON}");
		json_decref(body);
		return;
	}
	api_event_payload(payload, &raw, &plen, &text);
	if (n->frozen) {
		http_reply_error(req, 423, "frozen", "%s is frozen (read-only "
		    "mode): writes are refused until an unfreeze", n->id);
		json_decref(body);
		free(text);
		return;
	}
	seq = sync_emit_user(n->sync, name, raw, plen, err, sizeof(err));
	audit_record(n->audit, "api.event", principal, seq ? "ok" : "invalid",
	    json_pack("{s:s, s:I}", "name", name, "bytes", (json_int_t)plen));
	if (seq == 0)
		http_reply_error(req, plen > 65536 ? 413 : 400,
		    plen > 65536 ? "payload_too_large" : "invalid_field", "%s", err);
	else
		http_reply_json(req, 200, json_pack("{s:s, s:I, s:I}", "origin", n->id,
		    "incarnation", (json_int_t)n->incarnation, "seq", (json_int_t)seq));
	free(text);
	json_decref(body);
}

static void
events_cb(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	const char *arg = call->arg;
	(void)arg;
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST)
		events_post_cb(req, n, call->principal);
	else
		events_get_cb(req, n);
}

/* Commands, tasks and the live feed. */
static void
work_metrics(struct evbuffer *buf, struct node *n)
{
	json_t *c = n->commands ? commands_counters(n->commands) : json_object();
	json_t *w = n->ws ? ws_hub_counters(n->ws) : json_object();

#define C(k)	(int64_t)json_integer_value(json_object_get(c, k))
#define W(k)	(int64_t)json_integer_value(json_object_get(w, k))
	evbuffer_add_printf(buf,
	    "# HELP agentflow_node_commands_total Commands by what happened here.\n"
	    "# TYPE agentflow_node_commands_total counter\n"
	    "agentflow_node_commands_total{what=\"issued\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"executed\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"duplicate\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"forwarded\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"unreachable\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"timeout\"} %" PRId64 "\n"
	    "agentflow_node_commands_total{what=\"retransmitted\"} %" PRId64 "\n"
	    "# HELP agentflow_node_commands_pending Commands issued here waiting for answers.\n"
	    "# TYPE agentflow_node_commands_pending gauge\n"
	    "agentflow_node_commands_pending %" PRId64 "\n"
	    "# HELP agentflow_node_tasks_active Tasks queued, running or retrying here.\n"
	    "# TYPE agentflow_node_tasks_active gauge\n"
	    "agentflow_node_tasks_active %zu\n"
	    "# HELP agentflow_node_frozen Whether read-only mode is on.\n"
	    "# TYPE agentflow_node_frozen gauge\n"
	    "agentflow_node_frozen %d\n"
	    "# HELP agentflow_node_ws_clients Dashboard WebSocket clients connected.\n"
	    "# TYPE agentflow_node_ws_clients gauge\n"
	    "agentflow_node_ws_clients %" PRId64 "\n"
	    "# HELP agentflow_node_ws_closed_slow_total Clients closed for falling too far behind.\n"
	    "# TYPE agentflow_node_ws_closed_slow_total counter\n"
	    "agentflow_node_ws_closed_slow_total %" PRId64 "\n",
	    C("issued"), C("executed"), C("duplicates"), C("forwarded"),
	    C("unreachable"), C("timeouts"), C("retransmitted"), C("active"),
	    n->tasks ? tasks_active(n->tasks) : (size_t)0, n->frozen,
	    W("clients"), W("closed_slow"));
#undef C
#undef W
	json_decref(c);
	json_decref(w);
}

static void
metrics_cb(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	struct node *n = call->n;
	const char *arg = call->arg;
	struct evbuffer *buf = evbuffer_new();
	json_t *links = links_status(n->links), *l;
	json_int_t reconnects = 0;
	size_t i;

	json_t *c = sync_json_counters(n->sync);
	struct transport_stats ts;

	(void)arg;
	transport_stats(n->transport, &ts);
	evbuffer_add_printf(buf,
	    "# HELP agentflow_node_link_bytes_total Frame bytes over all links.\n"
	    "# TYPE agentflow_node_link_bytes_total counter\n"
	    "agentflow_node_link_bytes_total{dir=\"in\"} %" PRIu64 "\n"
	    "agentflow_node_link_bytes_total{dir=\"out\"} %" PRIu64 "\n"
	    "# HELP agentflow_node_link_frames_total Frames over all links.\n"
	    "# TYPE agentflow_node_link_frames_total counter\n"
	    "agentflow_node_link_frames_total{dir=\"in\"} %" PRIu64 "\n"
	    "agentflow_node_link_frames_total{dir=\"out\"} %" PRIu64 "\n"
	    "# HELP agentflow_node_link_queue_bytes Bytes waiting to be sent on all links.\n"
	    "# TYPE agentflow_node_link_queue_bytes gauge\n"
	    "agentflow_node_link_queue_bytes %zu\n"
	    "# HELP agentflow_node_streams Link streams open (including ones handshaking).\n"
	    "# TYPE agentflow_node_streams gauge\n"
	    "agentflow_node_streams %zu\n",
	    ts.bytes_in, ts.bytes_out, ts.messages_in, ts.messages_out,
	    ts.queued_bytes, ts.streams);
	json_array_foreach(links, i, l)
		reconnects += json_integer_value(json_object_get(l, "reconnects"));
	json_decref(links);
	evbuffer_add_printf(buf,
	    "# HELP agentflow_node_events_total Events by direction and fate.\n"
	    "# TYPE agentflow_node_events_total counter\n"
	    "agentflow_node_events_total{dir=\"in\"} %" PRId64 "\n"
	    "agentflow_node_events_total{dir=\"out\"} %" PRId64 "\n"
	    "agentflow_node_events_total{dir=\"duplicate\"} %" PRId64 "\n"
	    "# HELP agentflow_node_forwarded_total Events forwarded to neighbours that cannot reach their origin directly.\n"
	    "# TYPE agentflow_node_forwarded_total counter\n"
	    "agentflow_node_forwarded_total %" PRId64 "\n"
	    "# HELP agentflow_node_gaps_total Gaps or new incarnations that needed a snapshot.\n"
	    "# TYPE agentflow_node_gaps_total counter\n"
	    "agentflow_node_gaps_total %" PRId64 "\n"
	    "# HELP agentflow_node_snapshots_total Snapshot frames by direction.\n"
	    "# TYPE agentflow_node_snapshots_total counter\n"
	    "agentflow_node_snapshots_total{dir=\"sent\"} %" PRId64 "\n"
	    "agentflow_node_snapshots_total{dir=\"received\"} %" PRId64 "\n"
	    "# HELP agentflow_node_replayed_total Events sent from the log to catch a peer up.\n"
	    "# TYPE agentflow_node_replayed_total counter\n"
	    "agentflow_node_replayed_total %" PRId64 "\n"
	    "# HELP agentflow_node_events_pending Own events waiting to be sent.\n"
	    "# TYPE agentflow_node_events_pending gauge\n"
	    "agentflow_node_events_pending %" PRId64 "\n",
	    (int64_t)json_integer_value(json_object_get(c, "events_in")),
	    (int64_t)json_integer_value(json_object_get(c, "events_out")),
	    (int64_t)json_integer_value(json_object_get(c, "duplicates")),
	    (int64_t)json_integer_value(json_object_get(c, "forwarded")),
	    (int64_t)json_integer_value(json_object_get(c, "gaps")),
	    (int64_t)json_integer_value(json_object_get(c, "snapshots_sent")),
	    (int64_t)json_integer_value(json_object_get(c, "snapshots_received")),
	    (int64_t)json_integer_value(json_object_get(c, "replayed")),
	    (int64_t)json_integer_value(json_object_get(c, "pending")));
	json_decref(c);
	evbuffer_add_printf(buf,
	    "# HELP agentflow_node_links_up Links in state up.\n"
	    "# TYPE agentflow_node_links_up gauge\n"
	    "agentflow_node_links_up %zu\n"
	    "# HELP agentflow_node_reconnects_total Links lost and re-established.\n"
	    "# TYPE agentflow_node_reconnects_total counter\n"
	    "agentflow_node_reconnects_total %" PRId64 "\n"
	    "# HELP agentflow_node_signal_reachable Whether a signal answered lately.\n"
	    "# TYPE agentflow_node_signal_reachable gauge\n"
	    "agentflow_node_signal_reachable %d\n",
	    links_up(n->links), (int64_t)reconnects,
	    n->discovery ? discovery_reachable(n->discovery) : 0);
	work_metrics(buf, n);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
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

/* Routes: an exact path, or a prefix whose remainder is the argument. */
static const struct route {
	const char	*path;
	int		 prefix;
	int		 methods;
	void		(*fn)(const struct api_call *);
	const char	*allow;
	int		 open;		/* needs no token */
} routes[] = {
	{ "/healthz",		0, EVHTTP_REQ_GET, healthz_cb, "GET", 1 },
	{ "/metrics",		0, EVHTTP_REQ_GET, metrics_cb, "GET", 0 },
	{ "/api/cluster/status", 0, EVHTTP_REQ_GET, cluster_status_cb, "GET", 0 },
	{ "/api/nodes/",	1, EVHTTP_REQ_GET, node_cb, "GET", 0 },
	{ "/api/events",	0, EVHTTP_REQ_GET | EVHTTP_REQ_POST, events_cb,
	  "GET, POST", 0 },
	{ "/api/commands",	0, EVHTTP_REQ_GET | EVHTTP_REQ_POST,
	  api_work_commands, "GET, POST", 0 },
	{ "/api/commands/",	1, EVHTTP_REQ_GET, api_work_command, "GET", 0 },
	{ "/api/tasks",		0, EVHTTP_REQ_GET, api_work_tasks, "GET", 0 },
	{ "/api/tasks/",	1, EVHTTP_REQ_GET, api_work_task, "GET", 0 },
	{ "/api/alerts",	0, EVHTTP_REQ_GET, api_work_alerts, "GET", 0 },
	{ "/api/audit",		0, EVHTTP_REQ_GET, api_work_audit, "GET", 0 },
	{ "/api/definitions",	0, EVHTTP_REQ_GET, api_work_definitions, "GET", 0 },
	/* The hub checks the token itself (also given as a subprotocol). */
	{ "/ws",		0, EVHTTP_REQ_GET, ws_cb, "GET", 1 },
};

/* The request's token: the Authorization header, else ?token= (for
 * browsers opening a WebSocket, which cannot set headers). */
static const char *
request_token(struct evhttp_request *req, struct evkeyvalq *q)
{
	const char *t = http_bearer(req);
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	if (t != NULL)
		return t;
	if (query == NULL || evhttp_parse_query_str(query, q) != 0)
		return NULL;
	return evhttp_find_header(q, "token");
}

/*
 * Checks the token against the route: any valid token reads, a write
 * token writes (within its rate).  Refusals are answered and audited
 * (rate limited per client, so a scanner cannot flood the audit log).
 */
static int
authorize(struct api *a, struct evhttp_request *req, const char **principal)
{
	struct evkeyvalq q;
	const char *name = NULL;
	enum api_role role;
	int write = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	unsigned retry = 1;
	char ip[64], num[16];
	uint64_t now = clock_mono_ms();

	TAILQ_INIT(&q);
	role = api_auth_check(a->n->auth, request_token(req, &q), &name);
	evhttp_clear_headers(&q);
	http_peer_ip(req, ip, sizeof(ip));
	if (role == API_ROLE_NONE || (write && role != API_ROLE_WRITE)) {
		if (ratelimit_take(a->auth_audit, ip, now, NULL))
			audit_record(a->n->audit, "auth.failed", ip,
			    role == API_ROLE_NONE ? "unauthorized" : "forbidden",
			    json_pack("{s:s, s:s, s:s?}", "method", http_method_str(req),
			    "path", evhttp_request_get_uri(req), "token", name));
		if (role == API_ROLE_NONE) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "WWW-Authenticate", "Bearer realm=\"agentflow\"");
			http_reply_error(req, 401, "unauthorized", "a valid API token is "
			    "required (Authorization: Bearer TOKEN)");
		} else {
			http_reply_error(req, 403, "forbidden", "the %s token is "
			    "read-only; writes need a write token", name);
		}
		return -1;
	}
	if (write && !api_auth_write_allowed(a->n->auth, name, now, &retry)) {
		snprintf(num, sizeof(num), "%u", retry ? retry : 1);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", num);
		http_reply_error(req, 429, "rate_limited", "too many writes with the "
		    "%s token; retry in %s s", name, num);
		return -1;
	}
	snprintf(a->principal, sizeof(a->principal), "token:%s", name);
	*principal = a->principal;
	return 0;
}

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	struct api *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct api_call call = { req, a->n, a, NULL, NULL };

	if (path == NULL)
		path = "";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t plen = strlen(r->path);
		if (r->prefix ? strncmp(path, r->path, plen) != 0 || path[plen] == '\0' :
		    strcmp(path, r->path) != 0)
			continue;
		if (!(evhttp_request_get_command(req) & r->methods)) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", r->allow);
			http_reply_error(req, 405, "method_not_allowed",
			    "%s is not allowed on %s; allowed: %s",
			    http_method_str(req), path, r->allow);
			return;
		}
		if (!r->open && authorize(a, req, &call.principal) != 0)
			return;
		call.arg = r->prefix ? path + plen : NULL;
		r->fn(&call);
		return;
	}
	/* Anything else outside /api/ is the dashboard's files. */
	if (strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0 &&
	    a->n->web_root != NULL && a->n->web_root[0] != '\0' &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		web_serve(req, a->n->web_root, path);
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
