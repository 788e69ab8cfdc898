/*
 * agentflow-node: one member of the mesh.  Reads its configuration (flags,
 * AGENTFLOW_* environment, optional config file), takes its identity from
 * its certificate, opens its data directory, serves the Mesh service over
 * mutual TLS, finds its peers through the signal(s) and its stored list,
 * links to them, and serves the local API.  SIGINT/SIGTERM leave the
 * signal and the mesh gracefully.  Only this file exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <mbedtls/pk.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "certs_file.h"
#include "clock.h"
#include "collector.h"
#include "config_file.h"
#include "discovery.h"
#include "api_auth.h"
#include "feed.h"
#include "hostport.h"
#include "links.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "opts.h"
#include "rng.h"
#include "store.h"
#include "sync.h"
#include "text.h"
#include "transport.h"
#include "trust.h"
#include "wall_timer.h"
#include "web.h"
#include "work.h"
#include "ws.h"
#include "xalloc.h"

#define OPT(field) offsetof(struct node_config, field)
/* How soon peers hear of a link that went up or down. */
#define LINK_STATUS_MS	250
#define STATUS_PHASES	2	/* see status_phase() */

static const struct opt options[] = {
	{ "config", OPT_STRING, OPT(config), NULL, 0, 0,
	  "configuration file of \"flag-name = value\" lines (flags and environment win)" },
	{ "data-dir", OPT_STRING, OPT(data_dir), "./agentflow-data", 0, 0,
	  "directory for the node's database" },
	{ "ca", OPT_STRING, OPT(ca), NULL, 0, 0, "mesh CA certificate (PEM; required)" },
	{ "crl", OPT_STRING, OPT(crl), NULL, 0, 0,
	  "CRL of the mesh CA (PEM or DER): links of revoked peers are refused "
	  "and closed; re-read when the file changes" },
	{ "cert", OPT_STRING, OPT(cert), NULL, 0, 0,
	  "this node's certificate (PEM; required): its CN is the node id" },
	{ "key", OPT_STRING, OPT(key), NULL, 0, 0, "this node's private key (PEM; required)" },
	{ "listen", OPT_STRING, OPT(listen), "0.0.0.0:50051", 0, 0,
	  "address of the mesh (gRPC, mutual TLS) service; port 0 picks one" },
	{ "advertise", OPT_STRING, OPT(advertise), "", 0, 0,
	  "comma-separated HOST:PORTs peers should dial (empty: the address the "
	  "signal sees, with the --listen port)" },
	{ "labels", OPT_STRING, OPT(labels), "", 0, 0,
	  "comma-separated KEY=VALUE labels, e.g. role=storage,site=home" },
	{ "signal", OPT_STRING, OPT(signal), "", 0, 0,
	  "comma-separated signal URLs (http:// or https://); empty: stored peers only" },
	{ "signal-ca", OPT_STRING, OPT(signal_ca), NULL, 0, 0,
	  "CA bundle to verify https:// signals (default: the system's CAs)" },
	{ "api", OPT_STRING, OPT(api), "127.0.0.1:8080", 0, 0,
	  "address of the local HTTP API; port 0 picks one" },
	{ "max-links", OPT_INT, OPT(max_links), "0", 0, 1024,
	  "link to at most this many peers (ring neighbours); 0: to every peer. "
	  "The rest of the mesh is reached through forwarding" },
	{ "ping-ms", OPT_INT, OPT(ping_ms), "5000", 100, 60000,
	  "application ping period on each link (RTT)" },
	{ "dead-ms", OPT_INT, OPT(dead_ms), "10000", 1000, 3600000,
	  "a peer unreachable this long is marked dead" },
	{ "keepalive-ms", OPT_INT, OPT(keepalive_ms), "5000", 100, 60000,
	  "HTTP/2 keepalive on links (a link silent for three status periods is "
	  "closed anyway)" },
	{ "status-ms", OPT_INT, OPT(status_ms), "1000", 100, 3600000,
	  "how often the node samples and broadcasts its status" },
	{ "events-kept", OPT_INT, OPT(events_kept), "100000", 100, 100000000,
	  "events the local log keeps (oldest dropped first)" },
	{ "log-level", OPT_STRING, OPT(log_level), "info", 0, 0,
	  "debug, info, warn or error" },
	{ "tasks", OPT_STRING, OPT(tasks), "", 0, 0,
	  "JSON file of the tasks this node may run: {name: {command: [argv], cwd, "
	  "env, timeout_s, retries, retry_backoff_ms, concurrency, allow_args}}" },
	{ "alerts", OPT_STRING, OPT(alerts), "", 0, 0,
	  "JSON file of alert rules (empty: the defaults; see README)" },
	{ "allow-adhoc", OPT_BOOL, OPT(allow_adhoc), "0", 0, 1,
	  "run ad-hoc command lines sent by the mesh (off: only named tasks)" },
	{ "max-running", OPT_INT, OPT(max_running), "4", 1, 1024,
	  "tasks running at once on this node (more wait queued)" },
	{ "command-timeout-ms", OPT_INT, OPT(command_timeout_ms), "30000", 100,
	  3600000, "how long a command waits for each node's answer when it has "
	  "no deadline" },
	{ "token-read", OPT_STRING, OPT(token_read), "", 0, 0,
	  "API read-only token (none given: tokens.json in the data directory, "
	  "generated on first start)" },
	{ "token-read-next", OPT_STRING, OPT(token_read_next), "", 0, 0,
	  "second read-only token, for rotation" },
	{ "token-write", OPT_STRING, OPT(token_write), "", 0, 0,
	  "API read-write token" },
	{ "token-write-next", OPT_STRING, OPT(token_write_next), "", 0, 0,
	  "second read-write token, for rotation" },
	{ "web-root", OPT_STRING, OPT(web_root), "", 0, 0,
	  "directory of the built dashboard (frontend/dist); empty: found next "
	  "to the binary, or none" },
	{ "write-rate", OPT_INT, OPT(write_rate), "20", 1, 100000,
	  "API writes per second allowed per token (bursts of twice that)" },
	{ "allow-origins", OPT_STRING, OPT(allow_origins), "", 0, 0,
	  "comma-separated origins, e.g. http://nas.local:8080, whose pages may "
	  "open the live feed: the dashboard reached by a name rather than an "
	  "address (names are refused otherwise, against DNS rebinding)" },
};

static const char usage[] =
    "usage: agentflow-node --ca FILE --cert FILE --key FILE [options]\n\n"
    "One member of the AgentFlow mesh.";

/* "a,b,c" → ["a","b","c"], empty items skipped. */
static json_t *
split_list(const char *s)
{
	json_t *a = json_array();
	const char *cursor = s, *item;
	size_t n;

	while (opts_list_next(&cursor, &item, &n))
		if (n > 0)
			json_array_append_new(a, json_stringn(item, n));
	return a;
}

/*
 * "role=db,site=home" → {"role": "db", "site": "home"}, or NULL with err
 * naming the bad label: a label the wire or the signal would refuse must
 * stop the node at start, not fail every registration after it.
 */
static json_t *
parse_labels(const char *s, char *err, size_t errlen)
{
	json_t *labels = json_object();
	struct text_kv kv;
	int rc;

	while ((rc = text_kv_next(&s, &kv)) != 0) {
		if (rc < 0 || !text_label_key_valid(kv.key, kv.key_len) ||
		    !text_label_value_valid(kv.value, kv.value_len)) {
			snprintf(err, errlen, "--labels: \"%.*s\" is not a label: "
			    "KEY=VALUE, the key 1-%d of [A-Za-z0-9._/-], the value "
			    "at most %d bytes of text without control characters",
			    (int)kv.item_len, kv.item, TEXT_LABEL_KEY_MAX,
			    TEXT_LABEL_VALUE_MAX);
			json_decref(labels);
			return NULL;
		}
		json_object_setn_new(labels, kv.key, kv.key_len,
		    json_stringn(kv.value, kv.value_len));
	}
	return labels;
}

/* --- glue between subsystems ---------------------------------------------- */

static void
t_opened(struct transport_stream *ts, void *arg)
{
	links_stream_opened(((struct node *)arg)->links, ts);
}

static void
t_message(struct transport_stream *ts, const uint8_t *buf, size_t len, void *arg)
{
	links_stream_message(((struct node *)arg)->links, ts, buf, len);
}

static void
t_closed(struct transport_stream *ts, const char *reason, void *arg)
{
	struct node *n = arg;

	if (n->links != NULL)
		links_stream_closed(n->links, ts, reason);
}

/* The signal's list: dial who is new, and remember it for a restart while
 * the signal is down. */
static void
d_peers(json_t *peers, void *arg)
{
	struct node *n = arg;
	struct store_peer *rows = xcalloc(json_array_size(peers) + 1, sizeof(*rows));
	char **texts = xcalloc(2 * json_array_size(peers) + 1, sizeof(*texts));
	json_t *p;
	size_t i, k = 0;

	links_set_peers(n->links, peers);
	json_array_foreach(peers, i, p) {
		const char *id = json_string_value(json_object_get(p, "node_id"));
		if (id == NULL || strcmp(id, n->id) == 0)
			continue;
		rows[k].node_id = id;
		rows[k].addresses = texts[2 * k] = json_dumps(
		    json_object_get(p, "addresses"), JSON_COMPACT);
		rows[k].labels = texts[2 * k + 1] = json_dumps(
		    json_object_get(p, "labels"), JSON_COMPACT);
		rows[k].observed_address = json_string_value(
		    json_object_get(p, "observed_address"));
		rows[k].cert_fingerprint = json_string_value(
		    json_object_get(p, "cert_fingerprint"));
		rows[k].last_seen_ms = json_integer_value(
		    json_object_get(p, "last_seen"));
		k++;
	}
	if (store_peers_replace(n->store, rows, k) != 0)
		log_event(LOG_WARN, "cannot store the peer list", "{s:s}", "error",
		    store_error(n->store));
	for (i = 0; i < 2 * k; i++)
		free(texts[i]);
	free(texts);
	free(rows);
}

static int
stored_peer_cb(void *arg, const struct store_peer *sp)
{
	json_t *list = arg;
	json_t *addrs = sp->addresses ? json_loads(sp->addresses, 0, NULL) : NULL;

	json_array_append_new(list, json_pack("{s:s, s:o, s:s}", "node_id",
	    sp->node_id, "addresses", json_is_array(addrs) ? addrs : json_array(),
	    "observed_address", sp->observed_address ? sp->observed_address : ""));
	if (addrs != NULL && !json_is_array(addrs))
		json_decref(addrs);
	return 0;
}

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_event(LOG_INFO, "shutting down", "{s:i}", "signal", (int)sig);
	event_base_loopbreak(arg);
}

/* While leaving: stop as soon as the signals answered (bounded by main). */
static void
leave_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	if (n->discovery == NULL || !discovery_leaving(n->discovery))
		event_base_loopbreak(n->base);
}

/*
 * Where in each status period this node samples: one of STATUS_PHASES
 * slots, by a hash of its id.  All nodes on one boundary would let a node
 * take its peers' statuses in one wakeup, but would also make every
 * node busy at the same moment; a few slots keep most of the saving
 * (a node wakes for a group of statuses, not for each) with a shorter
 * burst in each.
 */
static uint64_t
status_phase(const char *id, uint64_t period_ms)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return (h % STATUS_PHASES) * (period_ms / STATUS_PHASES);
}

/* Samples our resources and our view of the mesh, and broadcasts it. */
static void
status_cb(void *arg)
{
	struct node *n = arg;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	collector_sample(n->collector, &st);
	links_fill_status(n->links, &st);
	st.process_uptime_s = (clock_mono_ms() - n->started_ms) / 1000;
	st.signal_reachable = n->discovery != NULL &&
	    discovery_reachable(n->discovery);
	work_status(n, &st);
	sync_emit_status(n->sync, &st);
	links_status_free(&st);
}

/* Hooks of the links: state sync's, and asking the signal again for a
 * peer we keep failing to reach. */
static size_t
h_cursors(Agentflow__Mesh__V1__Cursor ***out, void *arg)
{
	return sync_cursors(out, ((struct node *)arg)->sync);
}

static void
h_up(const char *peer, const Agentflow__Mesh__V1__Hello *h, void *arg)
{
	sync_link_up(peer, h, ((struct node *)arg)->sync);
}

/*
 * A link went up or down: our peers route by the links in our status, so
 * they hear of it within LINK_STATUS_MS rather than at the next sample
 * (which may be minutes away with a long --status-ms).
 */
static void
h_changed(void *arg)
{
	struct node *n = arg;

	if (n->status_timer != NULL)
		wall_timer_soon(n->status_timer, LINK_STATUS_MS);
}

static void
h_frame(const char *peer, const Agentflow__Mesh__V1__Frame *f, void *arg)
{
	work_frame(arg, peer, f);
}

static void
stale_address(const char *peer, void *arg)
{
	struct node *n = arg;

	log_event(LOG_INFO, "cannot reach peer; asking the signal for its "
	    "address again", "{s:s}", "peer", peer);
	discovery_refresh(n->discovery);
}

/* Re-reads the CRL when its file changed and closes revoked peers' links. */
static void
crl_cb(void *arg)
{
	struct node *n = arg;
	char err[256];

	switch (trust_reload_crl(n->trust, err, sizeof(err))) {
	case 1:
		log_event(LOG_INFO, "CRL reloaded; checking links", "{s:s}", "path",
		    n->cfg->crl);
		links_recheck(n->links);
		break;
	case -1:
		log_event(LOG_WARN, "CRL reload failed; keeping the previous one",
		    "{s:s}", "error", err);
		break;
	}
}

/*
 * Tells local tools (the agentflow CLI) where our API is: DATA_DIR/api.json,
 * replaced atomically at every start.
 */
static void
write_api_file(const char *dir, const char *host, int port)
{
	char path[4096], tmp[4200];
	json_t *j = json_pack("{s:s, s:i, s:i}", "address", host, "port", port,
	    "pid", (int)getpid());
	FILE *f;

	snprintf(path, sizeof(path), "%s/api.json", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int ok = 0;

	if ((f = fopen(tmp, "w")) != NULL) {
		ok = json_dumpf(j, f, JSON_COMPACT) == 0;
		ok = fclose(f) == 0 && ok;
		ok = ok && rename(tmp, path) == 0;
	}
	if (!ok)
		log_event(LOG_WARN, "cannot write the API address file", "{s:s, s:s}",
		    "path", path, "error", strerror(errno));
	json_decref(j);
}

/* --- start, run, stop ------------------------------------------------------ */

struct pems {
	char	*ca, *cert, *key;
};

static int
load_identity(struct node *n, struct pems *pem, mbedtls_pk_context *key,
    char *err, size_t errlen)
{
	const struct node_config *cfg = n->cfg;
	struct trust *trust;
	mbedtls_x509_crt crt;
	char detail[256];
	size_t len;
	int rc;

	if ((pem->ca = certs_file_read(cfg->ca, NULL, err, errlen)) == NULL ||
	    (pem->cert = certs_file_read(cfg->cert, &len, err, errlen)) == NULL ||
	    (pem->key = certs_file_read(cfg->key, NULL, err, errlen)) == NULL)
		return -1;
	mbedtls_x509_crt_init(&crt);
	rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem->cert, len + 1);
	if (rc != 0 || trust_cert_identity(&crt, n->id, sizeof(n->id)) != 0 ||
	    !node_id_valid(n->id, strlen(n->id))) {
		mbedtls_x509_crt_free(&crt);
		snprintf(err, errlen, "%s carries no node identity (a CN that is "
		    "also a DNS SAN); issue it with `agentflow certs issue`", cfg->cert);
		return -1;
	}
	mbedtls_x509_crt_free(&crt);
	if ((trust = trust_new(cfg->ca, NULL, err, errlen)) == NULL)
		return -1;
	if (trust_verify_pem(trust, pem->cert, len, n->id, NULL, NULL, detail,
	    sizeof(detail)) != TRUST_OK) {
		snprintf(err, errlen, "%s: %s (CA %s)", cfg->cert, detail, cfg->ca);
		trust_free(trust);
		return -1;
	}
	trust_free(trust);
	if ((rc = mbedtls_pk_parse_key(key, (const unsigned char *)pem->key,
	    strlen(pem->key) + 1, NULL, 0)) != 0) {
		snprintf(err, errlen, "cannot parse key %s (mbedTLS -0x%04x)",
		    cfg->key, (unsigned)-rc);
		return -1;
	}
	return 0;
}

static int
serve(const struct node_config *cfg)
{
	struct node n;
	struct pems pem = { NULL, NULL, NULL };
	struct event_base *base = NULL;
	struct evdns_base *dns = NULL;
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct rng *rng = NULL;
	struct event *sigint = NULL, *sigterm = NULL, *poll = NULL;
	struct wall_timer *crl_timer = NULL;
	mbedtls_pk_context key;
	json_t *signals = NULL, *stored = NULL;
	const char **urls = NULL;
	char err[512], host[256], web_root[4096];
	int rc = 1, api_port;

	memset(&n, 0, sizeof(n));
	n.cfg = cfg;
	n.started_ms = clock_mono_ms();
	mbedtls_pk_init(&key);
	if (load_identity(&n, &pem, &key, err, sizeof(err)) != 0)
		goto fail;
	n.addresses = split_list(cfg->advertise);
	if ((n.labels = parse_labels(cfg->labels, err, sizeof(err))) == NULL)
		goto fail;
	if ((n.store = store_open(cfg->data_dir, err, sizeof(err))) == NULL)
		goto fail;
	if ((n.trust = trust_new(cfg->ca, cfg->crl, err, sizeof(err))) == NULL)
		goto fail;
	if (store_next_incarnation(n.store, &n.incarnation) != 0) {
		snprintf(err, sizeof(err), "cannot start a new incarnation: %s",
		    store_error(n.store));
		goto fail;
	}
	if ((rng = rng_new("agentflow-node")) == NULL) {
		snprintf(err, sizeof(err), "cannot seed the random generator");
		goto fail;
	}
	if ((base = event_base_new()) == NULL ||
	    (dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	n.base = base;

	struct transport_config tc = {
		.listen = cfg->listen, .ca_pem = pem.ca, .cert_pem = pem.cert,
		.key_pem = pem.key, .keepalive_ms = (int)cfg->keepalive_ms,
	};
	struct transport_callbacks tcb = { t_opened, t_message, t_closed };
	if ((n.transport = transport_new(base, &tc, &tcb, &n, err, sizeof(err))) == NULL)
		goto fail;

	struct sync_config sc = {
		.self_id = n.id, .incarnation = n.incarnation,
		.addresses = n.addresses, .labels = n.labels, .store = n.store,
		.events_kept = (uint64_t)cfg->events_kept,
	};
	n.sync = sync_new(base, &sc);
	struct links_config lc = {
		.self_id = n.id, .incarnation = n.incarnation,
		.addresses = n.addresses, .labels = n.labels,
		.ping_ms = cfg->ping_ms, .dead_ms = cfg->dead_ms,
		.max_links = cfg->max_links, .trust = n.trust,
		/* Statuses arrive every status period: three missed is dead. */
		.silence_ms = 3 * cfg->status_ms < 3000 ? 3000 : 3 * cfg->status_ms,
	};
	struct links_hooks lh = { h_cursors, h_up, h_changed, h_frame,
	    stale_address, &n };
	n.links = links_new(base, n.transport, rng, &lc, &lh);
	sync_set_links(n.sync, n.links);
	n.collector = collector_new("/proc", cfg->data_dir);
	n.rng = rng;
	if (work_start(&n, err, sizeof(err)) != 0)
		goto fail;
	struct api_auth_config aac = {
		.data_dir = cfg->data_dir, .read = cfg->token_read,
		.read_next = cfg->token_read_next, .write = cfg->token_write,
		.write_next = cfg->token_write_next,
		.write_rate = (double)cfg->write_rate,
	};
	if ((n.auth = api_auth_new(&aac, rng, err, sizeof(err))) == NULL)
		goto fail;
	n.status_timer = wall_timer_new(base, (uint64_t)cfg->status_ms,
	    status_phase(n.id, (uint64_t)cfg->status_ms), status_cb, &n);
	status_cb(&n);		/* our own state exists from the start */
	crl_timer = wall_timer_new(base, 1000, 0, crl_cb, &n);
	stored = json_array();
	store_peers_load(n.store, stored_peer_cb, stored);
	if (json_array_size(stored) > 0) {
		log_event(LOG_INFO, "dialing stored peers", "{s:i}", "count",
		    (int)json_array_size(stored));
		links_set_peers(n.links, stored);
	}

	signals = split_list(cfg->signal);
	if (json_array_size(signals) > 0) {
		size_t i;
		json_t *v;
		urls = xcalloc(json_array_size(signals), sizeof(*urls));
		json_array_foreach(signals, i, v)
			urls[i] = json_string_value(v);
		struct discovery_config dc = {
			.node_id = n.id, .cert_pem = pem.cert, .key = &key, .rng = rng,
			.addresses = n.addresses, .labels = n.labels,
			.mesh_port = transport_port(n.transport),
			.signal_ca = cfg->signal_ca, .urls = urls,
			.nurls = json_array_size(signals),
		};
		struct discovery_callbacks dcb = { d_peers, NULL };
		if ((n.discovery = discovery_new(base, dns, &dc, &dcb, &n, err,
		    sizeof(err))) == NULL)
			goto fail;
	}

	if (hostport_split(cfg->api, host, sizeof(host), &api_port) != 0) {
		snprintf(err, sizeof(err), "--api \"%s\" is not HOST:PORT", cfg->api);
		goto fail;
	}
	if (ws_check_origins(cfg->allow_origins, err, sizeof(err)) != 0)
		goto fail;
	http = evhttp_new(base);
	evhttp_set_timeout(http, 30);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_max_body_size(http, 1 << 20);
	n.api = api_new(http, &n);
	if (cfg->web_root != NULL && cfg->web_root[0] != '\0')
		n.web_root = cfg->web_root;
	else
		n.web_root = web_default_root(NULL, web_root, sizeof(web_root));
	if ((n.feed = feed_new(&n)) == NULL) {
		snprintf(err, sizeof(err), "cannot start the live feed");
		goto fail;
	}
	if ((bound = evhttp_bind_socket_with_handle(http, host,
	    (unsigned short)api_port)) == NULL) {
		snprintf(err, sizeof(err), "cannot serve the API on %s: %s", cfg->api,
		    strerror(errno));
		goto fail;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl);
		api_port = ntohs(ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&ss)->sin_port :
		    ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	write_api_file(cfg->data_dir, host, api_port);
	log_event(LOG_INFO, "node started", "{s:s, s:I, s:i, s:i, s:s, s:s}",
	    "node_id", n.id, "incarnation", (json_int_t)n.incarnation,
	    "mesh_port", transport_port(n.transport), "api_port", api_port,
	    "api_address", host, "version", AGENTFLOW_VERSION);

	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);

	/* No more requests; running tasks are stopped and recorded as failed
	 * while the links can still carry that. */
	feed_free(n.feed);
	n.feed = NULL;
	evhttp_free(http);
	http = NULL;
	api_free(n.api);
	n.api = NULL;
	work_stop(&n);

	/* Leave gracefully: tell the signals and the peers, give the answers
	 * at most a second. */
	if (n.discovery != NULL)
		discovery_leave(n.discovery);
	links_leave(n.links, "shutdown");
	poll = event_new(base, -1, EV_PERSIST, leave_poll_cb, &n);
	event_add(poll, &(struct timeval){ 0, 50000 });
	event_base_loopexit(base, &(struct timeval){ 1, 0 });
	event_base_dispatch(base);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "agentflow-node: %s\n", err);
out:
	if (poll != NULL)
		event_free(poll);
	wall_timer_free(crl_timer);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	feed_free(n.feed);
	if (http != NULL)
		evhttp_free(http);
	api_free(n.api);
	work_stop(&n);
	api_auth_free(n.auth);
	discovery_free(n.discovery);
	/* The transport closes its streams into the links, then links go. */
	transport_free(n.transport);
	sync_free(n.sync);
	links_free(n.links);
	/* After the links: closing them calls h_changed. */
	wall_timer_free(n.status_timer);
	collector_free(n.collector);
	trust_free(n.trust);
	store_close(n.store);
	if (dns != NULL)
		evdns_base_free(dns, 0);
	if (base != NULL)
		event_base_free(base);
	rng_free(rng);
	mbedtls_pk_free(&key);
	json_decref(n.addresses);
	json_decref(n.labels);
	json_decref(signals);
	json_decref(stored);
	free(urls);
	free(pem.ca);
	free(pem.cert);
	free(pem.key);
	if (rc == 0)
		log_event(LOG_INFO, "stopped", NULL);
	return rc;
}

int
main(int argc, char **argv)
{
	struct node_config cfg;
	struct config_file *cf = NULL;
	enum log_level level;
	char err[512];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	switch (config_file_opts_parse(options, sizeof(options) / sizeof(options[0]),
	    &cfg, argc, argv, usage, NULL, "config", &cf, err, sizeof(err))) {
	case OPTS_HELP:
		return 0;
	case OPTS_ERROR:
		fprintf(stderr, "agentflow-node: %s (see --help)\n", err);
		return 2;
	case OPTS_OK:
		break;
	}
	if (log_level_parse(cfg.log_level, &level) != 0) {
		fprintf(stderr, "agentflow-node: --log-level: \"%s\" is not one of "
		    "debug, info, warn, error\n", cfg.log_level);
		config_file_free(cf);
		return 2;
	}
	/* An empty value (AGENTFLOW_CRL= in a container) means unset. */
	if (cfg.crl != NULL && cfg.crl[0] == '\0')
		cfg.crl = NULL;
	if (cfg.signal_ca != NULL && cfg.signal_ca[0] == '\0')
		cfg.signal_ca = NULL;
	if (cfg.ca == NULL || cfg.cert == NULL || cfg.key == NULL) {
		fprintf(stderr, "agentflow-node: --ca, --cert and --key are required "
		    "(or AGENTFLOW_CA, AGENTFLOW_CERT, AGENTFLOW_KEY)\n");
		config_file_free(cf);
		return 2;
	}
	log_init("node", level);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	rc = serve(&cfg);
	config_file_free(cf);
	return rc;
}
