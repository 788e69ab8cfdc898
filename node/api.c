/*
 * Local API routes (see api.h).  One table of {path, handler}; the
 * handlers build JSON from the subsystems' status functions.
 */
#include "api.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <string.h>

#include "clock.h"
#include "discovery.h"
#include "http_json.h"
#include "links.h"
#include "node.h"

static json_t *
signal_status(const struct node *n)
{
	if (n->discovery == NULL)
		return json_pack("{s:b, s:[]}", "reachable", 0, "signals");
	return json_pack("{s:b, s:o}", "reachable", discovery_reachable(n->discovery),
	    "signals", discovery_status(n->discovery));
}

static void
healthz_cb(struct evhttp_request *req, struct node *n)
{
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:I, s:s, s:I}",
	    "status", "ok", "node_id", n->id, "incarnation",
	    (json_int_t)n->incarnation, "version", AGENTFLOW_VERSION, "uptime_s",
	    (json_int_t)((clock_mono_ms() - n->started_ms) / 1000)));
}

static void
cluster_status_cb(struct evhttp_request *req, struct node *n)
{
	json_t *links = links_status(n->links), *remote = json_array(), *l;
	size_t i;

	/* Until state sync carries remote status, a remote node is what our
	 * link to it shows. */
	json_array_foreach(links, i, l) {
		json_array_append_new(remote, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}",
		    "node_id", json_object_get(l, "peer"),
		    "member", json_object_get(l, "member"),
		    "link", json_object_get(l, "state"),
		    "rtt_ms", json_object_get(l, "rtt_ms"),
		    "last_seen_ms", json_object_get(l, "last_seen_ms"),
		    "incarnation", json_object_get(l, "incarnation")));
	}
	http_reply_json(req, 200, json_pack(
	    "{s:{s:s, s:I, s:s, s:O, s:O, s:I, s:o, s:o}, s:o}",
	    "local", "node_id", n->id, "incarnation", (json_int_t)n->incarnation,
	    "version", AGENTFLOW_VERSION, "addresses", n->addresses,
	    "labels", n->labels, "started_ms", (json_int_t)n->started_ms,
	    "signal", signal_status(n), "links", links,
	    "remote", remote));
}

static void
metrics_cb(struct evhttp_request *req, struct node *n)
{
	struct evbuffer *buf = evbuffer_new();
	json_t *links = links_status(n->links), *l;
	json_int_t reconnects = 0;
	size_t i;

	json_array_foreach(links, i, l)
		reconnects += json_integer_value(json_object_get(l, "reconnects"));
	json_decref(links);
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
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static const struct {
	const char	*path;
	void		(*fn)(struct evhttp_request *, struct node *);
} routes[] = {
	{ "/healthz",			healthz_cb },
	{ "/metrics",			metrics_cb },
	{ "/api/cluster/status",	cluster_status_cb },
};

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (path == NULL)
		path = "";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
			evhttp_add_header(evhttp_request_get_output_headers(req),
			    "Allow", "GET");
			http_reply_error(req, 405, "method_not_allowed",
			    "%s is not allowed on %s; allowed: GET",
			    http_method_str(req), path);
			return;
		}
		routes[i].fn(req, arg);
		return;
	}
	http_reply_error(req, 404, "not_found", "no such endpoint: %.128s", path);
}

void
api_attach(struct evhttp *http, struct node *n)
{
	evhttp_set_gencb(http, dispatch_cb, n);
}
