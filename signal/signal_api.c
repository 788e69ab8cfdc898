/*
 * HTTP API of the signal (see signal/API.md and signal_api.h).
 *
 * A request goes: rate limit (per source address) → route table (404/405)
 * → handler.  A register request is checked cheapest first and only
 * changes state once everything passed: size, signature header, JSON,
 * fields, timestamp, certificate (chain, validity, CRL, identity),
 * signature, nonce, table capacity.  Every refusal is counted by reason and
 * answered with API.md's JSON error; none of them touches the table.
 */
#include "signal_api.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http_json.h"
#include "http_guard.h"
#include "log.h"
#include "node_id.h"
#include "nonce_cache.h"
#include "prom.h"
#include "ratelimit.h"
#include "rng.h"
#include "signal_metrics.h"
#include "signal_register.h"
#include "signal_table.h"
#include "signed_request.h"
#include "trust.h"
#include "workq.h"
#include "ws_policy.h"
#include "xalloc.h"

#define RATE_KEYS_MAX	65536
#define NONCES_MAX	200000
#define MAX_PENDING_VERIFY 1024

/*
 * The CRL in force, as bytes, for the verification threads: the loop
 * thread alone watches the file and publishes each CRL it accepted here;
 * a worker installs a newer version into its own trust before its next
 * job, so every thread refuses exactly what the loop thread's CRL says.
 */
struct crl_share {
	pthread_mutex_t	 lock;
	uint64_t	 version;
	unsigned char	*data;
	size_t		 len;
};

struct verifier {
	struct trust		*trust;
	uint64_t		 version;
	struct crl_share	*share;
};

struct signal_api {
	const struct signal_config	*cfg;
	struct event_base		*base;
	struct trust			*trust;
	struct signal_table		*table;
	struct nonce_cache		*nonces;
	struct ratelimit		*rate;
	struct rng			*rng;
	struct workq			*verifiers;
	struct crl_share		 crl;
	struct event			*sweep_ev;
	struct signal_metrics		 metrics;
	uint64_t			 started_ms;
	uint64_t			 last_slow_sweep_ms;
	char				 boot_id[17];
	struct http_guard		*guard;		/* borrowed */

	/* The rendered peer list, shared by every response that sends it. */
	struct peers_body		*peers;
	uint64_t			 peers_rev;
	uint64_t			 peers_gen;
	uint64_t			 peers_built_ms;
};

/*
 * A rendered peer list.  Responses reference it instead of copying it (a
 * list of 10,000 nodes is ~2.5 MB, and after a membership change every
 * node asks), so it is freed when the last response using it is sent.
 */
struct peers_body {
	unsigned	refs;
	size_t		len;
	char		data[];
};

/* How stale last_seen values in a served list may be (API.md). */
#define PEERS_LAST_SEEN_STALE_MS 1000

typedef void (*route_fn)(struct signal_api *, struct evhttp_request *,
    const char *ip);

static void refuse(struct signal_api *, struct evhttp_request *,
    enum signal_refusal, const char *ip, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
refuse(struct signal_api *api, struct evhttp_request *req,
    enum signal_refusal why, const char *ip, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api->metrics.refusals[why]++;
	log_event(LOG_INFO, "request refused", "{s:s, s:s, s:s, s:s, s:s}",
	    "error", signal_refusal_code(why), "reason", msg, "ip", ip,
	    "method", http_method_str(req), "path", evhttp_request_get_uri(req));
	http_reply_error(req, signal_refusal_status(why),
	    signal_refusal_code(why), "%s", msg);
}

/* The address a node is seen from: the connection's source, or with
 * --trust-proxy the last X-Forwarded-For entry when it is an IP. */
static void
observed_address(const struct signal_api *api, struct evhttp_request *req,
    const char *ip, char *out, size_t outlen)
{
	const char *xff, *last;
	char buf[64];
	unsigned char a[16];
	size_t len;

	if (out != ip)
		snprintf(out, outlen, "%s", ip);
	if (!api->cfg->trust_proxy)
		return;
	xff = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Forwarded-For");
	if (xff == NULL)
		return;
	last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ')
		last++;
	len = strcspn(last, " ");
	if (len == 0 || len >= sizeof(buf))
		return;
	memcpy(buf, last, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1)
		snprintf(out, outlen, "%s", buf);
}

static const enum signal_refusal trust_refusal[] = {
	[TRUST_BAD_CERT] = REFUSE_BAD_CERTIFICATE,
	[TRUST_EXPIRED] = REFUSE_CERTIFICATE_EXPIRED,
	[TRUST_REVOKED] = REFUSE_CERTIFICATE_REVOKED,
	[TRUST_IDENTITY_MISMATCH] = REFUSE_IDENTITY_MISMATCH,
};

/*
 * A registration between its cheap checks (loop thread) and its
 * signature checks (a worker, with its own trust copy).  The job owns
 * copies of everything the worker reads.
 */
struct reg_job {
	struct signal_api	*api;
	struct evhttp_request	*req;
	json_t			*body;		/* parsed; f points into it */
	struct signal_reg_fields f;
	char			*raw;		/* the exact signed bytes */
	size_t			 len;
	char			 sig[SIGNED_REQUEST_SIG_MAX + 1];
	char			 ip[64];
	/* Results, written by the worker. */
	enum trust_result	 tr;
	int			 sig_ok;
	char			 fingerprint[72];
	unsigned char		 serial[32];
	size_t			 serial_len;
	char			 detail[512];
};

static void
reg_job_free(struct reg_job *j)
{
	json_decref(j->body);
	free(j->raw);
	free(j);
}

/* Worker thread: the two ECDSA verifications (~1.5 ms each with mbedTLS). */
static void
verifier_sync_crl(struct verifier *v)
{
	unsigned char *copy = NULL;
	size_t len = 0;
	uint64_t version;
	char err[256];

	pthread_mutex_lock(&v->share->lock);
	version = v->share->version;
	if (version != v->version && v->share->data != NULL) {
		len = v->share->len;
		copy = xmalloc(len);
		memcpy(copy, v->share->data, len);
	}
	pthread_mutex_unlock(&v->share->lock);
	if (copy == NULL)
		return;
	/* The loop thread parsed these very bytes already. */
	if (trust_set_crl(v->trust, copy, len, err, sizeof(err)) == 0)
		v->version = version;
	free(copy);
}

static void
register_verify_work(void *thread_ctx, void *arg)
{
	struct reg_job *j = arg;
	struct verifier *v = thread_ctx;
	mbedtls_x509_crt chain;

	verifier_sync_crl(v);
	j->tr = trust_verify_pem(v->trust, j->f.cert, j->f.cert_len, j->f.node_id,
	    &chain, j->fingerprint, j->detail, sizeof(j->detail));
	if (j->tr != TRUST_OK)
		return;
	j->sig_ok = signed_request_verify(&chain.pk, j->raw, j->len, j->sig) == 0;
	if (chain.serial.len <= sizeof(j->serial)) {
		memcpy(j->serial, chain.serial.p, chain.serial.len);
		j->serial_len = chain.serial.len;
	}
	mbedtls_x509_crt_free(&chain);
}

/* Loop thread: everything that reads or changes state. */
static void
register_done(void *arg, int cancelled)
{
	struct reg_job *j = arg;
	struct signal_api *api = j->api;
	const struct signal_config *cfg = api->cfg;
	struct evhttp_request *req = j->req;
	struct signal_reg_fields *f = &j->f;
	struct signal_reg reg;
	json_t *empty_arr = NULL, *empty_obj = NULL;
	char token[SIGNAL_TOKEN_HEX + 1], observed[64];
	uint64_t now_ms = clock_wall_ms();

	if (cancelled)
		goto out;
	if (j->tr != TRUST_OK) {
		refuse(api, req, trust_refusal[j->tr], j->ip, "%s", j->detail);
		goto out;
	}
	if (!j->sig_ok) {
		refuse(api, req, REFUSE_BAD_SIGNATURE, j->ip, "signature in %s does "
		    "not verify against the certificate's public key over the "
		    "exact body bytes (base64 DER ECDSA-SHA256 expected)",
		    SIGNED_REQUEST_HEADER);
		goto out;
	}
	if (nonce_cache_check_and_add(api->nonces, f->node_id, f->nonce,
	    now_ms + 2000u * (uint64_t)cfg->skew_s)) {
		refuse(api, req, REFUSE_REPLAYED_NONCE, j->ip, "nonce was already "
		    "used by %s; every registration needs a fresh one", f->node_id);
		goto out;
	}
	if (rng_hex(api->rng, token, SIGNAL_TOKEN_HEX / 2) != 0) {
		http_reply_error(req, 500, "internal", "random source failed");
		goto out;
	}
	/* The dispatcher already resolved the observed address into ip. */
	snprintf(observed, sizeof(observed), "%s", j->ip);
	reg.node_id = f->node_id;
	reg.addresses = f->addresses ? f->addresses : (empty_arr = json_array());
	reg.labels = f->labels ? f->labels : (empty_obj = json_object());
	reg.version = f->version;
	reg.observed = observed;
	reg.fingerprint = j->fingerprint;
	reg.serial = j->serial;
	reg.serial_len = j->serial_len;
	if (signal_table_register(api->table, &reg, token, now_ms) != 0) {
		refuse(api, req, REFUSE_TABLE_FULL, j->ip, "the signal holds its "
		    "limit of %ld nodes", cfg->max_nodes);
		goto out;
	}
	api->metrics.registrations++;
	log_event(LOG_INFO, "node registered", "{s:s, s:s, s:s, s:I}", "node",
	    f->node_id, "ip", j->ip, "observed", observed, "generation",
	    (json_int_t)signal_table_generation(api->table));
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:I, s:I, s:s, s:I}",
	    "node_id", f->node_id, "token", token, "ttl_s", (json_int_t)cfg->ttl_s,
	    "heartbeat_s", (json_int_t)cfg->heartbeat_s, "observed_address",
	    observed, "generation", (json_int_t)signal_table_generation(api->table)));
out:
	json_decref(empty_arr);
	json_decref(empty_obj);
	reg_job_free(j);
}

static void
register_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	const struct signal_config *cfg = api->cfg;
	struct reg_job *j;
	enum signal_refusal why;
	json_error_t jerr;
	json_t *body;
	const char *raw, *sig;
	char msg[512];
	size_t len;
	int64_t skew;

	raw = http_body(req, &len);
	if (len > (size_t)cfg->max_body) {
		refuse(api, req, REFUSE_BODY_TOO_LARGE, ip,
		    "body is %zu bytes, the limit is %ld", len, cfg->max_body);
		return;
	}
	sig = evhttp_find_header(evhttp_request_get_input_headers(req),
	    SIGNED_REQUEST_HEADER);
	if (sig == NULL || sig[0] == '\0') {
		refuse(api, req, REFUSE_MISSING_SIGNATURE, ip,
		    "registration must be signed: header %s is missing",
		    SIGNED_REQUEST_HEADER);
		return;
	}
	if (raw == NULL || (body = json_loadb(raw, len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		refuse(api, req, REFUSE_BAD_JSON, ip, "body is not valid JSON: %s "
		    "(line %d, column %d)", raw == NULL ? "empty body" : jerr.text,
		    raw == NULL ? 0 : jerr.line, raw == NULL ? 0 : jerr.column);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->body = body;
	if (!json_is_object(body)) {
		refuse(api, req, REFUSE_BAD_JSON, ip, "body must be a JSON object");
		reg_job_free(j);
		return;
	}
	if (signal_register_parse(cfg, body, &j->f, &why, msg, sizeof(msg)) != 0) {
		refuse(api, req, why, ip, "%s", msg);
		reg_job_free(j);
		return;
	}
	skew = (int64_t)j->f.timestamp - (int64_t)(clock_wall_ms() / 1000);
	if (skew > cfg->skew_s || skew < -cfg->skew_s) {
		refuse(api, req, REFUSE_STALE_TIMESTAMP, ip, "timestamp is %" PRId64
		    " s away from the signal's clock; at most %ld s allowed",
		    skew, cfg->skew_s);
		reg_job_free(j);
		return;
	}
	if (workq_pending(api->verifiers) >= MAX_PENDING_VERIFY) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		refuse(api, req, REFUSE_BUSY, ip, "%d registrations are already "
		    "being verified; retry in a second", MAX_PENDING_VERIFY);
		reg_job_free(j);
		return;
	}
	j->api = api;
	j->req = req;
	j->raw = xmalloc(len);
	memcpy(j->raw, raw, len);
	j->len = len;
	/* An over-long signature stays empty and fails verification, after
	 * the certificate checks that come first. */
	if (strlen(sig) <= SIGNED_REQUEST_SIG_MAX)
		snprintf(j->sig, sizeof(j->sig), "%s", sig);
	snprintf(j->ip, sizeof(j->ip), "%s", ip);
	/* evhttp keeps the request until we answer, even if the client goes. */
	workq_submit(api->verifiers, j, register_verify_work, register_done);
}

/* Node id of the request's bearer token, or NULL after refusing it. */
static const char *
authenticate(struct signal_api *api, struct evhttp_request *req, const char *ip,
    int touch)
{
	const char *token = http_bearer(req), *id;

	if (token == NULL) {
		refuse(api, req, REFUSE_UNKNOWN_TOKEN, ip,
		    "missing \"Authorization: Bearer <token>\"; register first");
		return NULL;
	}
	if (strlen(token) != SIGNAL_TOKEN_HEX ||
	    (id = signal_table_lookup_token(api->table, token, clock_wall_ms(),
	    touch)) == NULL) {
		refuse(api, req, REFUSE_UNKNOWN_TOKEN, ip,
		    "session token is unknown or expired; register again");
		return NULL;
	}
	return id;
}

static int
body_within_limit(struct signal_api *api, struct evhttp_request *req,
    const char *ip)
{
	size_t len;

	http_body(req, &len);
	if (len <= (size_t)api->cfg->max_body)
		return 1;
	refuse(api, req, REFUSE_BODY_TOO_LARGE, ip,
	    "body is %zu bytes, the limit is %ld", len, api->cfg->max_body);
	return 0;
}

static void
heartbeat_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	const char *id;

	if (!body_within_limit(api, req, ip) ||
	    (id = authenticate(api, req, ip, 1)) == NULL)
		return;
	api->metrics.heartbeats++;
	log_event(LOG_DEBUG, "heartbeat", "{s:s}", "node", id);
	http_reply_json(req, 200, json_pack("{s:I, s:I}",
	    "ttl_s", (json_int_t)api->cfg->ttl_s,
	    "generation", (json_int_t)signal_table_generation(api->table)));
}

static void
leave_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	const char *id;
	char node[NODE_ID_MAX + 1];

	if (!body_within_limit(api, req, ip) ||
	    (id = authenticate(api, req, ip, 0)) == NULL)
		return;
	snprintf(node, sizeof(node), "%s", id);
	signal_table_leave(api->table, http_bearer(req));
	api->metrics.leaves++;
	log_event(LOG_INFO, "node left", "{s:s, s:s}", "node", node, "ip", ip);
	http_reply_json(req, 200, json_pack("{s:s, s:b}", "node_id", node,
	    "left", 1));
}

static void
peers_body_unref(const void *data, size_t len, void *arg)
{
	struct peers_body *pb = arg;

	(void)data;
	(void)len;
	if (pb != NULL && --pb->refs == 0)
		free(pb);
}

/* The current list: re-rendered when membership changed, or when only
 * last_seen values moved and the rendering is older than the bound. */
static struct peers_body *
peers_current(struct signal_api *api)
{
	uint64_t gen = signal_table_generation(api->table);
	uint64_t rev = signal_table_revision(api->table), now = clock_mono_ms();
	struct evbuffer *tmp;
	struct peers_body *pb;

	if (api->peers != NULL && (api->peers_rev == rev ||
	    (api->peers_gen == gen &&
	    now - api->peers_built_ms < PEERS_LAST_SEEN_STALE_MS)))
		return api->peers;
	tmp = evbuffer_new();
	evbuffer_add_printf(tmp, "{\"generation\":%" PRIu64 ",\"peers\":", gen);
	signal_table_peers_render(api->table, tmp);
	evbuffer_add(tmp, "}\n", 2);
	pb = xmalloc(sizeof(*pb) + evbuffer_get_length(tmp));
	pb->refs = 1;
	pb->len = evbuffer_get_length(tmp);
	evbuffer_remove(tmp, pb->data, pb->len);
	evbuffer_free(tmp);
	peers_body_unref(NULL, 0, api->peers);
	api->peers = pb;
	api->peers_rev = rev;
	api->peers_gen = gen;
	api->peers_built_ms = now;
	return pb;
}

static void
peers_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct peers_body *pb;
	struct evbuffer *buf;
	const char *inm;
	char etag[64];

	if (authenticate(api, req, ip, 1) == NULL)
		return;
	snprintf(etag, sizeof(etag), "\"%s-%" PRIu64 "\"", api->boot_id,
	    signal_table_generation(api->table));
	evhttp_add_header(out, "ETag", etag);
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		api->metrics.lists_304++;
		http_reply_json(req, 304, NULL);
		return;
	}
	pb = peers_current(api);
	pb->refs++;
	buf = evbuffer_new();
	evbuffer_add_reference(buf, pb->data, pb->len, peers_body_unref, pb);
	api->metrics.lists_200++;
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	http_reply(req, 200, buf);
	evbuffer_free(buf);
}

static void
healthz_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	(void)ip;
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:I, s:I}",
	    "status", "ok", "version", AGENTFLOW_VERSION,
	    "nodes", (json_int_t)signal_table_count(api->table),
	    "uptime_s", (json_int_t)((clock_mono_ms() - api->started_ms) / 1000)));
}

static void
metrics_cb(struct signal_api *api, struct evhttp_request *req, const char *ip)
{
	struct signal_gauges g = {
		.nodes = signal_table_count(api->table),
		.nonces = nonce_cache_count(api->nonces),
		.rate_keys = ratelimit_count(api->rate),
		.generation = signal_table_generation(api->table),
		.uptime_s = (double)(clock_mono_ms() - api->started_ms) / 1000.0,
		.conns_cut = api->guard ? http_guard_cut(api->guard) : 0,
		.conns_refused = api->guard ? http_guard_refused(api->guard) : 0,
	};
	struct evbuffer *buf = evbuffer_new();

	(void)ip;
	signal_metrics_render(&api->metrics, &g, buf);
	prom_reply(req, buf);
	evbuffer_free(buf);
}

static const struct route {
	const char		*path;
	enum evhttp_cmd_type	 method;
	route_fn		 fn;
	const char		*allow;		/* every method of this path */
} routes[] = {
	{ "/v1/register",	EVHTTP_REQ_POST,	register_cb,	"POST, DELETE" },
	{ "/v1/register",	EVHTTP_REQ_DELETE,	leave_cb,	"POST, DELETE" },
	{ "/v1/heartbeat",	EVHTTP_REQ_POST,	heartbeat_cb,	"POST" },
	{ "/v1/peers",		EVHTTP_REQ_GET,		peers_cb,	"GET" },
	{ "/healthz",		EVHTTP_REQ_GET,		healthz_cb,	"GET" },
	{ "/metrics",		EVHTTP_REQ_GET,		metrics_cb,	"GET" },
};

/*
 * CORS (--cors-origins): a listed Origin gets Access-Control-Allow-Origin
 * on every answer, and its preflight (OPTIONS with
 * Access-Control-Request-Method on a known path) is answered 204 with the
 * path's methods.  Any other origin, or none, gets no CORS header, so a
 * browser keeps other sites' pages out; a preflight from it falls through
 * to 405 like any OPTIONS.  Returns 1 when it answered.
 */
static int
cors(struct signal_api *api, struct evhttp_request *req, const char *allow)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *origin = evhttp_find_header(in, "Origin");

	if (!ws_policy_origin_listed(api->cfg->cors_origins, origin))
		return 0;
	evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
	evhttp_add_header(out, "Vary", "Origin");
	if (evhttp_request_get_command(req) != EVHTTP_REQ_OPTIONS ||
	    allow == NULL ||
	    evhttp_find_header(in, "Access-Control-Request-Method") == NULL)
		return 0;
	evhttp_add_header(out, "Access-Control-Allow-Methods", allow);
	evhttp_add_header(out, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type, X-AgentFlow-Signature");
	evhttp_add_header(out, "Access-Control-Max-Age", "600");
	http_reply(req, 204, NULL);
	return 1;
}

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	struct signal_api *api = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *allow = NULL;
	unsigned retry;
	char ip[64], hdr[16];

	http_guard_request(api->guard, req);

	api->metrics.requests++;
	http_peer_ip(req, ip, sizeof(ip));
	/* Behind a trusted proxy every request comes from the proxy: limit
	 * (and log) by the address it forwarded instead. */
	observed_address(api, req, ip, ip, sizeof(ip));
	if (!ratelimit_take(api->rate, ip, clock_mono_ms(), &retry)) {
		snprintf(hdr, sizeof(hdr), "%u", retry);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", hdr);
		refuse(api, req, REFUSE_RATE_LIMITED, ip, "more than %ld requests "
		    "per second from %s; retry in %u s", api->cfg->rate, ip, retry);
		return;
	}
	if (path == NULL)
		path = "";
	if (!http_method_known(req)) {
		http_close_after(req);
		refuse(api, req, REFUSE_NOT_IMPLEMENTED, ip, "the signal does not "
		    "implement that method; it serves GET, POST and DELETE");
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(path, routes[i].path) == 0)
			allow = routes[i].allow;
	if (cors(api, req, allow))
		return;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		if (evhttp_request_get_command(req) == routes[i].method) {
			routes[i].fn(api, req, ip);
			return;
		}
	}
	if (allow != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    allow);
		refuse(api, req, REFUSE_METHOD_NOT_ALLOWED, ip, "%s is not allowed "
		    "on %s; allowed: %s", http_method_str(req), path, allow);
		return;
	}
	refuse(api, req, REFUSE_NOT_FOUND, ip, "no such endpoint: %.128s", path);
}

static void
evicted_cb(const char *node_id, void *arg)
{
	struct signal_api *api = arg;

	api->metrics.evictions++;
	log_event(LOG_INFO, "node evicted", "{s:s, s:I}", "node", node_id,
	    "ttl_s", (json_int_t)api->cfg->ttl_s);
}

static int
serial_revoked(const unsigned char *serial, size_t len, void *arg)
{
	return trust_serial_revoked(((struct signal_api *)arg)->trust, serial, len);
}

/* A node whose certificate was just revoked loses its session: its next
 * heartbeat gets 401, and registering again is refused. */
static void
revoked_cb(const char *node_id, void *arg)
{
	struct signal_api *api = arg;

	api->metrics.evictions++;
	log_event(LOG_INFO, "node evicted: certificate revoked", "{s:s}", "node",
	    node_id);
}

static void
crl_publish(struct signal_api *api)
{
	size_t len;
	const unsigned char *bytes = trust_crl_bytes(api->trust, &len);
	unsigned char *copy = NULL;

	if (bytes != NULL) {
		copy = xmalloc(len);
		memcpy(copy, bytes, len);
	}
	pthread_mutex_lock(&api->crl.lock);
	free(api->crl.data);
	api->crl.data = copy;
	api->crl.len = len;
	api->crl.version++;
	pthread_mutex_unlock(&api->crl.lock);
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signal_api *api = arg;
	uint64_t now = clock_wall_ms(), mono = clock_mono_ms();
	char err[256];

	(void)fd;
	(void)what;
	signal_table_evict(api->table, now, 1000u * (uint64_t)api->cfg->ttl_s,
	    evicted_cb, api);
	nonce_cache_expire(api->nonces, now);
	/* Cheaper work, at most once a second whatever --sweep-ms says. */
	if (mono - api->last_slow_sweep_ms < 1000)
		return;
	api->last_slow_sweep_ms = mono;
	log_flush();
	ratelimit_sweep(api->rate, mono);
	switch (trust_reload_crl(api->trust, err, sizeof(err))) {
	case 1:
		crl_publish(api);
		signal_table_evict_revoked(api->table, serial_revoked, revoked_cb, api);
		log_event(LOG_INFO, "CRL reloaded", "{s:s, s:I}", "path",
		    api->cfg->crl, "version", (json_int_t)api->crl.version);
		break;
	case -1:
		log_event(LOG_WARN, "CRL reload failed; keeping the previous one",
		    "{s:s}", "error", err);
		break;
	}
}

/* Each verification thread gets its own CA and CRL: mbedTLS caches
 * per-key precomputations inside the key, which is not safe to share. */
static void *
verifier_init(int index, void *arg)
{
	struct signal_api *api = arg;
	struct verifier *v = xcalloc(1, sizeof(*v));
	char err[256];

	(void)index;
	v->share = &api->crl;
	/* Starts from the CA alone and takes the CRL from the share, so all
	 * threads hold the same bytes from the first job on. */
	if ((v->trust = trust_new(api->cfg->ca, NULL, err, sizeof(err))) == NULL) {
		free(v);
		return NULL;
	}
	v->version = (uint64_t)-1;
	return v;
}

static void
verifier_fini(void *ctx)
{
	struct verifier *v = ctx;

	trust_free(v->trust);
	free(v);
}

struct signal_api *
signal_api_new(struct event_base *base, struct evhttp *http,
    const struct signal_config *cfg, struct trust *trust, char *err,
    size_t errlen)
{
	struct signal_api *api = xcalloc(1, sizeof(*api));
	struct timeval tv;

	pthread_mutex_init(&api->crl.lock, NULL);
	api->cfg = cfg;
	api->base = base;
	api->trust = trust;
	api->table = signal_table_new((size_t)cfg->max_nodes);
	api->nonces = nonce_cache_new(NONCES_MAX);
	api->rate = ratelimit_new((double)cfg->rate, (double)cfg->burst,
	    RATE_KEYS_MAX);
	api->started_ms = clock_mono_ms();
	if ((api->rng = rng_new("agentflow-signal")) == NULL ||
	    rng_hex(api->rng, api->boot_id, 8) != 0) {
		snprintf(err, errlen, "cannot seed the random generator");
		signal_api_free(api);
		return NULL;
	}
	crl_publish(api);
	api->verifiers = workq_new(base, (int)cfg->verify_threads,
	    verifier_init, verifier_fini, api);
	if (api->verifiers == NULL) {
		snprintf(err, errlen, "cannot start %ld verification threads",
		    cfg->verify_threads);
		signal_api_free(api);
		return NULL;
	}
	api->sweep_ev = event_new(base, -1, EV_PERSIST, sweep_cb, api);
	tv.tv_sec = cfg->sweep_ms / 1000;
	tv.tv_usec = (cfg->sweep_ms % 1000) * 1000;
	event_add(api->sweep_ev, &tv);
	evhttp_set_gencb(http, dispatch_cb, api);
	return api;
}

void
signal_api_set_guard(struct signal_api *api, struct http_guard *guard)
{
	api->guard = guard;
}

void
signal_api_free(struct signal_api *api)
{
	if (api == NULL)
		return;
	/* Before evhttp_free: pending jobs reference its requests. */
	workq_free(api->verifiers);
	pthread_mutex_destroy(&api->crl.lock);
	free(api->crl.data);
	if (api->sweep_ev != NULL)
		event_free(api->sweep_ev);
	signal_table_free(api->table);
	nonce_cache_free(api->nonces);
	ratelimit_free(api->rate);
	rng_free(api->rng);
	trust_free(api->trust);
	peers_body_unref(NULL, 0, api->peers);
	free(api);
}
