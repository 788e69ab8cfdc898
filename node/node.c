/*
 * The node's life: node_new() builds its subsystems, node_run() serves,
 * node_free() takes them down.  Every subsystem is one step of steps[]
 * below, {name, start, stop}, in the order they start; whatever stops them
 * — a step that fails, or the end of node_run() — runs the stops of the
 * steps that started in the reverse order, so there is one teardown path
 * and a part is never freed before one that still uses it.
 *
 * struct node (node.h) is filled here and only here.  What the rest of
 * the node never needs (the PEMs, the key, the DNS and HTTP bases, the
 * timers and signal events) stays in struct node_life, around it.
 *
 * Also the glue between subsystems: the signal's peer list into the links
 * and the store, the links' hooks into work and discovery, the status
 * and CRL timers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <mbedtls/pk.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"

#include "api.h"
#include "api_auth.h"
#include "audit.h"
#include "certs_file.h"
#include "clock.h"
#include "collector.h"
#include "datadir_lock.h"
#include "discovery.h"
#include "feed.h"
#include "forget.h"
#include "heap_trim.h"
#include "history.h"
#include "hostport.h"
#include "http_guard.h"
#include "http_json.h"
#include "links.h"
#include "log.h"
#include "freeze.h"
#include "mesh.h"
#include "origin_keys.h"
#include "node_id.h"
#include "rng.h"
#include "routing.h"
#include "store.h"
#include "store_history.h"
#include "status_pace.h"
#include "sync.h"
#include "text.h"
#include "tokens.h"
#include "transport.h"
#include "trust.h"
#include "wall_timer.h"
#include "web.h"
#include "work.h"
#include "ws.h"
#include "ws_policy.h"
#include "xalloc.h"

/* How soon peers hear of a link that went up or down. */
#define LINK_STATUS_MS	250
#define STATUS_PHASES	2	/* see status_phase() */
/* How long leaving waits for the signals' answers. */
#define LEAVE_MS	1000
#define TRIM_HEAP_MS	60000	/* heap_trim.h */

/* The node and what only its start and stop need. */
struct node_life {
	struct node		 n;	/* first: a struct node * is one of these */
	char			*ca_pem, *cert_pem, *key_pem;
	mbedtls_pk_context	 key;
	mbedtls_x509_crt	 crt;		/* ours: checks our API tokens */
	json_t			*signals;	/* --signal, array of URLs */
	const char		**urls;		/* into signals */
	struct evdns_base	*dns;
	struct evhttp		*http;
	struct wall_timer	*crl_timer;
	struct wall_timer	*trim_timer;	/* free heap back to the OS */
	long			 trimmed_at;	/* private pages then */
	struct wall_timer	*prune_timer;	/* --prune-after; NULL: never */
	struct event		*sigint, *sigterm;
	struct event		*sighup;	/* reloads tokens.json */
	struct datadir_lock	*lock;		/* one process per --data-dir */
	char			 web_root[4096];	/* n.web_root when found */
	size_t			 started;	/* steps[] whose start ran */
	int			 served;	/* node_run() ran: leave gracefully */
};

/* "a,b,c" → ["a","b","c"], empty items skipped. */
static json_t *
split_list(const char *s)
{
	json_t *a = json_array();
	const char *cursor = s, *item;
	size_t n;

	while (text_list_next(&cursor, &item, &n))
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
	int64_t offset;

	/* Forgets are dated by the signal's clock (links_forgotten). */
	if (n->discovery != NULL && discovery_signal_offset(n->discovery,
	    &offset) == 0)
		links_set_signal_offset(n->links, offset);
	links_set_peers(n->links, peers);
	json_array_foreach(peers, i, p) {
		const char *id = json_string_value(json_object_get(p, "node_id"));
		/* A node forgotten and not back since stays forgotten. */
		if (id == NULL || strcmp(id, n->id) == 0 ||
		    links_forgotten(n->links, id, p))
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

	/* last_seen as the signal gave it: a node forgotten and listed
	 * again since is not held back by its tombstone (links_forgotten). */
	json_array_append_new(list, json_pack("{s:s, s:o, s:s, s:I}", "node_id",
	    sp->node_id, "addresses", json_is_array(addrs) ? addrs : json_array(),
	    "observed_address", sp->observed_address ? sp->observed_address : "",
	    "last_seen", (json_int_t)sp->last_seen_ms));
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

/* While leaving: stop as soon as the signals answered (bounded by LEAVE_MS). */
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

static long
clamp_ms(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * How long a link may be silent before it is closed.  At rest only pings
 * flow (a peer of this version paces its statuses whatever our
 * --status-idle-ms is): each side pings every ping_ms, so two periods
 * and a second without a frame is a peer dead or frozen.  An older peer
 * sends a status every second, and gets ours as often (SYNC_OLD_LEASE_MS).
 */
static long
silence_ms(const struct node_config *cfg)
{
	long ms = 2 * cfg->ping_ms + 1000;

	return ms < 3000 ? 3000 : ms;
}

/* Stores a minute of our history, and forgets those older than the
 * minute ring holds. */
static void
history_persist(struct node *n, const struct history_point *p)
{
	json_t *j = history_point_json(p);
	char *body = json_dumps(j, JSON_COMPACT);

	if (store_history_put(n->store, p->t_ms, body, p->t_ms -
	    (int64_t)HISTORY_MINUTES_N * HISTORY_MINUTE_MS) != 0)
		log_event(LOG_WARN, "cannot store the metric history", "{s:s}",
		    "error", store_error(n->store));
	free(body);
	json_decref(j);
}

/* A sample into our history; a minute it closes into the store (so at
 * most one write a minute). */
static void
history_note(struct node *n, const Agentflow__Mesh__V1__NodeStatus *st)
{
	double v[HISTORY_NSERIES] = { 0 };

	v[HISTORY_CPU] = st->cpu_percent;
	if (st->mem_total_bytes > 0)
		v[HISTORY_MEM] = 100.0 * (double)st->mem_used_bytes /
		    (double)st->mem_total_bytes;
	if (st->disk_total_bytes > 0)
		v[HISTORY_DISK] = 100.0 * (double)st->disk_used_bytes /
		    (double)st->disk_total_bytes;
	v[HISTORY_LOAD1] = st->load1;
	v[HISTORY_NET_RX] = st->net_rx_bytes_per_s;
	v[HISTORY_NET_TX] = st->net_tx_bytes_per_s;
	if (history_add(n->history, (int64_t)clock_wall_ms(), v) == 1)
		history_persist(n, history_last_minute(n->history));
}

/*
 * Samples our resources and our view of the mesh; broadcasts it when
 * someone watches or it changed (status_pace.h).
 */
static void
status_cb(void *arg)
{
	struct node *n = arg;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	collector_sample(n->collector, &st);
	history_note(n, &st);
	links_fill_status(n->links, &st);
	st.process_uptime_s = (clock_mono_ms() - n->started_ms) / 1000;
	st.signal_reachable = n->discovery != NULL &&
	    discovery_reachable(n->discovery);
	work_status(n, &st);
	sync_note_routes(n->sync);
	/* We pace: one at least this often (status_pace.h).  0, every
	 * sample: said as an older node says it, so every node sends every
	 * sample while we are in the mesh, as before pacing. */
	st.idle_ms = (uint32_t)n->cfg->status_idle_ms;
	/* Our lease, renewed by every status while a dashboard is open
	 * here: three samples, and never under 5 s. */
	n->status_watching = n->ws != NULL && ws_hub_clients(n->ws) > 0;
	if (n->status_watching)
		st.watch_ms = (uint32_t)clamp_ms(3 * n->cfg->status_ms, 5000,
		    SYNC_WATCH_MAX_MS);
	/* An older peer linked to us (its Hello lacks paced_status) closes
	 * a link silent for three seconds: it gets every sample from the
	 * link's first, before any status of its own could say so. */
	if (status_pace_due(n->status_pace, &st, st.watch_ms != 0 ||
	    sync_watched(n->sync) || sync_info_unsent(n->sync) ||
	    links_up_without(n->links, "paced_status"),
	    sync_origins(n->sync) <= PACE_GRAPH_NODES ?
	    routing_generation(sync_routing(n->sync)) : 0, clock_mono_ms()))
		sync_emit_status(n->sync, &st);
	links_status_free(&st);
}

/* Once when the first dashboard connects, not at each snapshot a slow
 * client is sent again; a quarter second later, as for a link change, so
 * that the sample's rates cover a window worth reading. */
void
node_status_soon(struct node *n)
{
	if (n->status_timer != NULL && !n->status_watching)
		wall_timer_soon(n->status_timer, LINK_STATUS_MS);
}

/*
 * A link went up or down: our peers route by the links in our status, so
 * they hear of it within LINK_STATUS_MS rather than at the next sample
 * (which may be minutes away with a long --status-ms).
 */
static void
link_changed(void *arg)
{
	struct node *n = arg;

	if (n->status_timer != NULL)
		wall_timer_soon(n->status_timer, LINK_STATUS_MS);
}

/* Commands to work, the rest to state sync (work_frame). */
static void
link_frame(const char *peer, const Agentflow__Mesh__V1__Frame *f, void *arg)
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

/*
 * A peer knew a newer life of ours (a restored backup, a copied data
 * directory): sync and the links moved to a new incarnation above it.
 * Our ids and API answers take it, and our status goes out at once as
 * the new life's first event.
 */
/* A peer's Hello: the mesh's freeze state it holds, before its catch-up. */
static void
link_hello(const char *peer, const Agentflow__Mesh__V1__Hello *h, void *arg)
{
	freeze_hello(arg, peer, h);
}

static void
reborn(uint64_t incarnation, void *arg)
{
	struct node *n = arg;

	n->incarnation = incarnation;
	work_set_incarnation(n);
	if (n->status_timer != NULL)
		wall_timer_soon(n->status_timer, 0);
}

/* Re-reads the CRL when its file changed and closes revoked peers' links. */
static void
crl_cb(void *arg)
{
	struct node *n = arg;
	char err[256];

	log_flush();	/* summaries of lines held back (log.h) */
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

/* --- the steps, in the order they start ------------------------------------ */

/* The PEMs and key of --ca/--cert/--key; the node id is the cert's CN. */
static int
identity_start(struct node_life *l, char *err, size_t errlen)
{
	const struct node_config *cfg = l->n.cfg;
	struct trust *trust;
	mbedtls_x509_crt *crt = &l->crt;
	char detail[256];
	size_t len;
	int rc;

	mbedtls_pk_init(&l->key);
	mbedtls_x509_crt_init(&l->crt);
	if ((l->ca_pem = certs_file_read(cfg->ca, NULL, err, errlen)) == NULL ||
	    (l->cert_pem = certs_file_read(cfg->cert, &len, err, errlen)) == NULL ||
	    (l->key_pem = certs_file_read(cfg->key, NULL, err, errlen)) == NULL)
		return -1;
	rc = mbedtls_x509_crt_parse(crt, (const unsigned char *)l->cert_pem,
	    len + 1);
	if (rc != 0 || trust_cert_identity(crt, l->n.id, sizeof(l->n.id)) != 0 ||
	    !node_id_valid(l->n.id, strlen(l->n.id))) {
		snprintf(err, errlen, "%s carries no node identity (a CN that is "
		    "also a DNS SAN); issue it with `agentflow certs issue`", cfg->cert);
		return -1;
	}
	if ((trust = trust_new(cfg->ca, NULL, err, errlen)) == NULL)
		return -1;
	if (trust_verify_pem(trust, l->cert_pem, len, l->n.id, NULL, NULL, detail,
	    sizeof(detail)) != TRUST_OK) {
		snprintf(err, errlen, "%s: %s (CA %s)", cfg->cert, detail, cfg->ca);
		trust_free(trust);
		return -1;
	}
	trust_free(trust);
	if ((rc = mbedtls_pk_parse_key(&l->key, (const unsigned char *)l->key_pem,
	    strlen(l->key_pem) + 1, NULL, 0)) != 0) {
		snprintf(err, errlen, "cannot parse key %s (mbedTLS -0x%04x)",
		    cfg->key, (unsigned)-rc);
		return -1;
	}
	return 0;
}

static void
identity_stop(struct node_life *l)
{
	mbedtls_pk_free(&l->key);
	mbedtls_x509_crt_free(&l->crt);
	free(l->ca_pem);
	free(l->cert_pem);
	free(l->key_pem);
}

/* --advertise and --labels, as our NodeInfo carries them. */
static int
profile_start(struct node_life *l, char *err, size_t errlen)
{
	l->n.addresses = split_list(l->n.cfg->advertise);
	l->n.labels = parse_labels(l->n.cfg->labels, err, errlen);
	return l->n.labels != NULL ? 0 : -1;
}

static void
profile_stop(struct node_life *l)
{
	json_decref(l->n.addresses);
	json_decref(l->n.labels);
}

/* Before anything reads or writes the data directory or binds a port:
 * a second node on it must change nothing. */
static int
lock_start(struct node_life *l, char *err, size_t errlen)
{
	l->lock = datadir_lock_take(l->n.cfg->data_dir, err, errlen);
	return l->lock != NULL ? 0 : -1;
}

static void
lock_stop(struct node_life *l)
{
	datadir_lock_release(l->lock);
	l->lock = NULL;
}

static int
store_start(struct node_life *l, char *err, size_t errlen)
{
	l->n.store = store_open(l->n.cfg->data_dir, err, errlen);
	return l->n.store != NULL ? 0 : -1;
}

static void
store_stop(struct node_life *l)
{
	store_close(l->n.store);
}

/* The CA and CRL the links check peers against. */
static int
trust_start(struct node_life *l, char *err, size_t errlen)
{
	l->n.trust = trust_new(l->n.cfg->ca, l->n.cfg->crl, err, errlen);
	return l->n.trust != NULL ? 0 : -1;
}

static void
trust_stop(struct node_life *l)
{
	trust_free(l->n.trust);
}

static int
incarnation_start(struct node_life *l, char *err, size_t errlen)
{
	if (store_next_incarnation(l->n.store, &l->n.incarnation) != 0) {
		snprintf(err, errlen, "cannot start a new incarnation: %s",
		    store_error(l->n.store));
		return -1;
	}
	return 0;
}

static int
rng_start(struct node_life *l, char *err, size_t errlen)
{
	if ((l->n.rng = rng_new("agentflow-node")) == NULL) {
		snprintf(err, errlen, "cannot seed the random generator");
		return -1;
	}
	return 0;
}

static void
rng_stop(struct node_life *l)
{
	rng_free(l->n.rng);
}

static int
loop_start(struct node_life *l, char *err, size_t errlen)
{
	if ((l->n.base = event_base_new()) == NULL ||
	    (l->dns = evdns_base_new(l->n.base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	l->n.dns = l->dns;
	return 0;
}

static void
loop_stop(struct node_life *l)
{
	if (l->dns != NULL)
		evdns_base_free(l->dns, 0);
	if (l->n.base != NULL)
		event_base_free(l->n.base);
}

/* Transport, links and sync (mesh.h), the links' hooks into this node. */
static int
mesh_start(struct node_life *l, char *err, size_t errlen)
{
	struct node *n = &l->n;
	const struct node_config *cfg = n->cfg;
	struct mesh_config mc = {
		.self_id = n->id, .incarnation = n->incarnation,
		.addresses = n->addresses, .labels = n->labels,
		.transport = { .listen = cfg->listen, .ca_pem = l->ca_pem,
		    .cert_pem = l->cert_pem, .key_pem = l->key_pem,
		    .keepalive_ms = (int)cfg->keepalive_ms },
		.rng = n->rng, .trust = n->trust,
		.ping_ms = cfg->ping_ms, .dead_ms = cfg->dead_ms,
		.max_links = cfg->max_links,
		.silence_ms = silence_ms(cfg),
		.hello_ms = cfg->hello_timeout_ms,
		.store = n->store, .events_kept = (uint64_t)cfg->events_kept,
		.events_bytes = (uint64_t)cfg->events_kept_mib << 20,
	};
	struct mesh_hooks mh = { link_changed, link_frame, stale_address, n,
	    NULL, NULL, reborn, link_hello };

	if ((n->mesh = mesh_new(n->base, &mc, &mh, err, errlen)) == NULL)
		return -1;
	n->transport = mesh_transport(n->mesh);
	n->links = mesh_links(n->mesh);
	n->sync = mesh_sync(n->mesh);
	return 0;
}

static void
mesh_stop(struct node_life *l)
{
	mesh_free(l->n.mesh);
	l->n.mesh = NULL;
	l->n.transport = NULL;
	l->n.links = NULL;
	l->n.sync = NULL;
}

static int
collector_start(struct node_life *l, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	l->n.collector = collector_new("/proc", l->n.cfg->data_dir);
	return 0;
}

static void
collector_stop(struct node_life *l)
{
	collector_free(l->n.collector);
}

static int
history_restore_row(void *arg, const char *body)
{
	struct history_point p;
	json_t *j = json_loads(body, 0, NULL);

	/* A row that does not read is skipped, not fatal: it is a chart. */
	if (history_point_from_json(j, &p) != 0 || history_restore(arg, &p) != 0)
		log_event(LOG_WARN, "skipping a stored minute of history", "{s:s}",
		    "body", body);
	json_decref(j);
	return 0;
}

/* Our history, with the minutes stored by our last run. */
static int
history_start(struct node_life *l, char *err, size_t errlen)
{
	struct node *n = &l->n;

	(void)err;
	(void)errlen;
	n->history = history_new();
	if (store_history_load(n->store, (int64_t)clock_wall_ms() -
	    (int64_t)HISTORY_MINUTES_N * HISTORY_MINUTE_MS, history_restore_row,
	    n->history) != 0)
		log_event(LOG_WARN, "cannot read the metric history", "{s:s}",
		    "error", store_error(n->store));
	return 0;
}

/* The minute in progress is stored too: the next run resumes it. */
static void
history_stop(struct node_life *l)
{
	struct history_point p;

	if (l->n.history != NULL && history_current(l->n.history, &p))
		history_persist(&l->n, &p);
	history_free(l->n.history);
	l->n.history = NULL;
}

/* Registration with the --signal URLs, if any, and their peer lists. */
static int
discovery_start(struct node_life *l, char *err, size_t errlen)
{
	struct node *n = &l->n;
	size_t i;
	json_t *v;

	l->signals = split_list(n->cfg->signal);
	if (json_array_size(l->signals) == 0)
		return 0;
	l->urls = xcalloc(json_array_size(l->signals), sizeof(*l->urls));
	json_array_foreach(l->signals, i, v)
		l->urls[i] = json_string_value(v);
	struct discovery_config dc = {
		.node_id = n->id, .cert_pem = l->cert_pem, .key = &l->key,
		.rng = n->rng, .addresses = n->addresses, .labels = n->labels,
		.mesh_port = transport_port(n->transport),
		.signal_ca = n->cfg->signal_ca, .urls = l->urls,
		.nurls = json_array_size(l->signals),
	};
	struct discovery_callbacks dcb = { d_peers, NULL };
	n->discovery = discovery_new(n->base, l->dns, &dc, &dcb, n, err, errlen);
	return n->discovery != NULL ? 0 : -1;
}

static void
discovery_stop(struct node_life *l)
{
	discovery_free(l->n.discovery);
	l->n.discovery = NULL;
	free(l->urls);
	json_decref(l->signals);
}

/* The heap trimmed when it grew (heap_trim.h). */
static void
trim_cb(void *arg)
{
	struct node_life *l = arg;

	(void)heap_trim_tick(&l->trimmed_at);
}

/* Our status every --status-ms; the CRL file checked and the log's
 * summaries flushed every second; the heap checked for a trim every
 * minute. */
static int
timers_start(struct node_life *l, char *err, size_t errlen)
{
	struct node *n = &l->n;
	uint64_t period = (uint64_t)n->cfg->status_ms;

	(void)err;
	(void)errlen;
	n->status_pace = status_pace_new((uint64_t)n->cfg->status_idle_ms,
	    (uint64_t)clamp_ms(3 * n->cfg->status_ms, 5000, 3600000));
	n->status_timer = wall_timer_new(n->base, period,
	    status_phase(n->id, period), status_cb, n);
	l->crl_timer = wall_timer_new(n->base, 1000, 0, crl_cb, n);
	l->trimmed_at = heap_trim_private_pages();
	l->trim_timer = wall_timer_new(n->base, TRIM_HEAP_MS, 0, trim_cb, l);
	return 0;
}

static void
timers_stop(struct node_life *l)
{
	wall_timer_free(l->crl_timer);
	wall_timer_free(l->trim_timer);
	wall_timer_free(l->n.status_timer);
	/* Links closed later still call link_changed. */
	l->n.status_timer = NULL;
	status_pace_free(l->n.status_pace);
	l->n.status_pace = NULL;
}

/* --- pruning: dead nodes forgotten after --prune-after ----------------------- */

static void
pruned_cb(const char *id, void *arg)
{
	struct node *n = arg;
	char actor[80];

	snprintf(actor, sizeof(actor), "node:%s", n->id);
	log_event(LOG_INFO, "dead node pruned", "{s:s, s:I}", "node", id,
	    "prune_after_s", (json_int_t)n->cfg->prune_after_s);
	audit_record(n->audit, "node.pruned", actor, "ok",
	    json_pack("{s:s}", "node", id));
}

static void
prune_cb(void *arg)
{
	struct node *n = arg;

	/* A frozen node changes nothing; a node with no link up at all is
	 * cut off itself (its own network is down), so everyone looks dead. */
	if (n->frozen || links_up(n->links) == 0)
		return;
	/* Dead is silent for --dead-ms; pruned, dead for --prune-after. */
	forget_prune(n->links, n->sync, n->id, (uint64_t)n->cfg->dead_ms +
	    (uint64_t)n->cfg->prune_after_s * 1000, pruned_cb, n);
}

static int
prune_start(struct node_life *l, char *err, size_t errlen)
{
	uint64_t period = (uint64_t)l->n.cfg->prune_after_s * 1000 / 4;

	(void)err;
	(void)errlen;
	if (l->n.cfg->prune_after_s <= 0)
		return 0;
	period = period < 500 ? 500 : period > 60000 ? 60000 : period;
	l->prune_timer = wall_timer_new(l->n.base, period, 0, prune_cb, &l->n);
	return 0;
}

static void
prune_stop(struct node_life *l)
{
	wall_timer_free(l->prune_timer);
	l->prune_timer = NULL;
}

/* SIGHUP: tokens.json again, now; running tasks are not touched. */
static void
reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	char err[512];

	(void)fd;
	(void)what;
	if (n->auth != NULL)
		api_auth_reload(n->auth, err, sizeof(err));
}

/* SIGINT and SIGTERM end node_run(), and cut leaving short; SIGHUP reloads
 * the API tokens. */
static int
signals_start(struct node_life *l, char *err, size_t errlen)
{
	struct event_base *base = l->n.base;

	(void)err;
	(void)errlen;
	l->sigint = evsignal_new(base, SIGINT, stop_cb, base);
	l->sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	l->sighup = evsignal_new(base, SIGHUP, reload_cb, &l->n);
	event_add(l->sigint, NULL);
	event_add(l->sigterm, NULL);
	event_add(l->sighup, NULL);
	return 0;
}

static void
signals_stop(struct node_life *l)
{
	if (l->sigint != NULL)
		event_free(l->sigint);
	if (l->sigterm != NULL)
		event_free(l->sigterm);
	if (l->sighup != NULL)
		event_free(l->sighup);
}

/*
 * Only after node_run(), once the API and the work are down: tell the
 * signals and the peers we leave, and give their answers at most
 * LEAVE_MS.  Everything after this step in steps[] has stopped, everything
 * before it still runs.
 */
static void
leave_stop(struct node_life *l)
{
	struct node *n = &l->n;
	struct event *poll;

	if (!l->served)
		return;
	if (n->discovery != NULL)
		discovery_leave(n->discovery);
	links_leave(n->links, "shutdown");
	poll = event_new(n->base, -1, EV_PERSIST, leave_poll_cb, n);
	event_add(poll, &(struct timeval){ 0, 50000 });
	event_base_loopexit(n->base, &(struct timeval){ LEAVE_MS / 1000, 0 });
	event_base_dispatch(n->base);
	event_free(poll);
}

/* Tasks, commands, alerts, audit (work.h). */
static int
work_step_start(struct node_life *l, char *err, size_t errlen)
{
	return work_start(&l->n, err, errlen);
}

/* Running tasks are stopped and recorded as failed while the links can
 * still carry that. */
static void
work_step_stop(struct node_life *l)
{
	work_stop(&l->n);
}

/*
 * The certificate of a signed token's issuer: ours, or the one that
 * vouched for that node's origin key (every node's reaches every node in
 * its NodeInfo, origin_keys.h); NULL (issuer unknown) before it did.
 */
static const mbedtls_x509_crt *
cert_of(const char *node_id, void *arg)
{
	struct node_life *l = arg;

	if (strcmp(node_id, l->n.id) == 0)
		return &l->crt;
	return l->n.mesh != NULL ?
	    origin_keys_cert(mesh_origin_keys(l->n.mesh), node_id) : NULL;
}

/* Another node revoked a token it issued: refused here too. */
static void
token_revoked(const char *origin, const char *token_id, void *arg)
{
	struct node *n = arg;
	struct tokens *tk = n->auth != NULL ? api_auth_tokens(n->auth) : NULL;

	if (tk == NULL)
		return;
	if (tokens_revoked_by(tk, origin, token_id,
	    (int64_t)clock_wall_ms()) != 0)
		log_event(LOG_WARN, "cannot record another node's token "
		    "revocation", "{s:s, s:s, s:s}", "issuer", origin, "id",
		    token_id, "error", store_error(n->store));
	else
		log_event(LOG_INFO, "token revoked by its issuer", "{s:s, s:s}",
		    "issuer", origin, "id", token_id);
}

/* A node's certificate vouched for its key: kept for its tokens. */
static void
issuer_learned(void *arg, const char *node_id, const mbedtls_x509_crt *crt)
{
	struct node *n = arg;

	tokens_learn_cert(n->auth != NULL ? api_auth_tokens(n->auth) : NULL,
	    node_id, crt, (int64_t)clock_wall_ms());
}

static int
auth_start(struct node_life *l, char *err, size_t errlen)
{
	const struct node_config *cfg = l->n.cfg;
	struct tokens_config tc = {
		.self_id = l->n.id, .store = l->n.store, .key = &l->key,
		.rng = l->n.rng, .cert_of = cert_of, .cert_arg = l,
		.trust = l->n.trust,
	};
	struct api_auth_config aac = {
		.data_dir = cfg->data_dir, .read = cfg->token_read,
		.read_next = cfg->token_read_next, .write = cfg->token_write,
		.write_next = cfg->token_write_next,
		.admin = cfg->token_admin, .admin_next = cfg->token_admin_next,
		.write_rate = (double)cfg->write_rate, .signed_tokens = &tc,
	};

	l->n.auth = api_auth_new(&aac, l->n.rng, err, errlen);
	if (l->n.auth == NULL)
		return -1;
	if (l->n.sync != NULL)
		sync_set_token_revoked(l->n.sync, token_revoked, &l->n);
	if (l->n.mesh != NULL)
		origin_keys_set_learned(mesh_origin_keys(l->n.mesh),
		    issuer_learned, &l->n);
	return 0;
}

static void
auth_stop(struct node_life *l)
{
	if (l->n.sync != NULL)
		sync_set_token_revoked(l->n.sync, NULL, NULL);
	if (l->n.mesh != NULL)
		origin_keys_set_learned(mesh_origin_keys(l->n.mesh), NULL, NULL);
	api_auth_free(l->n.auth);
	l->n.auth = NULL;
}

/* Our own state exists from the start, work included. */
static int
first_status_start(struct node_life *l, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	status_cb(&l->n);
	return 0;
}

/* The peers we knew last time, dialed without waiting for a signal. */
static int
stored_peers_start(struct node_life *l, char *err, size_t errlen)
{
	json_t *stored = json_array();

	(void)err;
	(void)errlen;
	store_peers_load(l->n.store, stored_peer_cb, stored);
	if (json_array_size(stored) > 0) {
		log_event(LOG_INFO, "dialing stored peers", "{s:i}", "count",
		    (int)json_array_size(stored));
		links_set_peers(l->n.links, stored);
	}
	json_decref(stored);
	return 0;
}

/* The local HTTP API, the dashboard and its live feed on --api. */
static int
api_start(struct node_life *l, char *err, size_t errlen)
{
	struct node *n = &l->n;
	const struct node_config *cfg = n->cfg;
	struct evhttp_bound_socket *bound;
	struct http_guard_config gc = { cfg->header_timeout_ms,
	    cfg->max_per_address, "api" };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256];
	int port;

	if (hostport_split(cfg->api, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "--api \"%s\" is not HOST:PORT", cfg->api);
		return -1;
	}
	if (ws_policy_check_origins(cfg->allow_origins, err, errlen) != 0)
		return -1;
	l->http = evhttp_new(n->base);
	n->http_guard = http_guard_new(n->base, l->http, &gc, NULL, NULL);
	evhttp_set_timeout(l->http, 30);
	evhttp_set_max_headers_size(l->http, 16384);
	/* Bigger bodies get libevent's own 413 in HTML (docs/api.md). */
	evhttp_set_max_body_size(l->http, 1 << 20);
	http_allow_every_method(l->http);
	n->api = api_new(l->http, n);
	if (cfg->web_root != NULL && cfg->web_root[0] != '\0')
		n->web_root = cfg->web_root;
	else
		n->web_root = web_default_root(NULL, l->web_root,
		    sizeof(l->web_root));
	if ((n->feed = feed_new(n)) == NULL) {
		snprintf(err, errlen, "cannot start the live feed");
		return -1;
	}
	if ((bound = evhttp_bind_socket_with_handle(l->http, host,
	    (unsigned short)port)) == NULL) {
		snprintf(err, errlen, "cannot serve the API on %s: %s", cfg->api,
		    strerror(errno));
		return -1;
	}
	getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &sl);
	port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	write_api_file(cfg->data_dir, host, port);
	log_event(LOG_INFO, "node started", "{s:s, s:I, s:i, s:i, s:s, s:s}",
	    "node_id", n->id, "incarnation", (json_int_t)n->incarnation,
	    "mesh_port", transport_port(n->transport), "api_port", port,
	    "api_address", host, "version", AGENTFLOW_VERSION);
	return 0;
}

/* No more requests. */
static void
api_stop(struct node_life *l)
{
	feed_free(l->n.feed);
	l->n.feed = NULL;
	if (l->http != NULL)
		evhttp_free(l->http);
	l->http = NULL;
	http_guard_free(l->n.http_guard);
	l->n.http_guard = NULL;
	api_free(l->n.api);
	l->n.api = NULL;
}

static const struct step {
	const char	*name;
	int		(*start)(struct node_life *, char *err, size_t errlen);
	void		(*stop)(struct node_life *);	/* NULL: nothing to undo */
} steps[] = {
	{ "identity",		identity_start,		identity_stop },
	{ "profile",		profile_start,		profile_stop },
	{ "lock",		lock_start,		lock_stop },
	{ "store",		store_start,		store_stop },
	{ "trust",		trust_start,		trust_stop },
	{ "incarnation",	incarnation_start,	NULL },
	{ "rng",		rng_start,		rng_stop },
	{ "loop",		loop_start,		loop_stop },
	{ "mesh",		mesh_start,		mesh_stop },
	{ "collector",		collector_start,	collector_stop },
	{ "history",		history_start,		history_stop },
	{ "discovery",		discovery_start,	discovery_stop },
	{ "timers",		timers_start,		timers_stop },
	{ "signals",		signals_start,		signals_stop },
	{ "leave",		NULL,			leave_stop },
	{ "work",		work_step_start,	work_step_stop },
	{ "auth",		auth_start,		auth_stop },
	{ "prune",		prune_start,		prune_stop },
	{ "first status",	first_status_start,	NULL },
	{ "stored peers",	stored_peers_start,	NULL },
	{ "api",		api_start,		api_stop },
};
#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

/* --- start, run, stop ------------------------------------------------------ */

/* Stops every step that started, last first.  A step whose start failed
 * counts as started: its stop frees what it got that far. */
static void
unwind(struct node_life *l)
{
	while (l->started > 0) {
		const struct step *s = &steps[--l->started];

		if (s->stop != NULL)
			s->stop(l);
	}
}

struct node *
node_new(const struct node_config *cfg, char *err, size_t errlen)
{
	struct node_life *l = xcalloc(1, sizeof(*l));

	l->n.cfg = cfg;
	l->n.started_ms = clock_mono_ms();
	for (size_t i = 0; i < NSTEPS; i++) {
		l->started = i + 1;
		log_event(LOG_DEBUG, "starting", "{s:s}", "step", steps[i].name);
		if (steps[i].start != NULL && steps[i].start(l, err, errlen) != 0) {
			unwind(l);
			free(l);
			return NULL;
		}
	}
	return &l->n;
}

void
node_run(struct node *n)
{
	struct node_life *l = (struct node_life *)n;

	l->served = 1;
	event_base_dispatch(n->base);
}

void
node_free(struct node *n)
{
	struct node_life *l = (struct node_life *)n;

	if (n == NULL)
		return;
	unwind(l);
	free(l);
}
