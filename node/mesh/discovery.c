/*
 * Signal clients (see discovery.h).
 *
 * One struct sigcli per URL, with at most one request in flight and one
 * timer for the next step.  States and what moves them, all in reply_cb
 * (the answer to the request sigcli_step, timer_cb or discovery_leave
 * sent):
 *
 *   from          answer                                  to
 *   UNREGISTERED  register 200 with a token               REGISTERED
 *   UNREGISTERED  register 200 with a token, while we     UNREGISTERED: the
 *                 advertise no address and the signal       observed address is
 *                 reported one we do not hold yet           adopted, and every
 *                                                           signal gets a new
 *                                                           registration
 *   REGISTERED    our addresses changed since this        UNREGISTERED, and
 *                 signal's registration (adopted from       registers at once
 *                 another signal's answer)                  (sigcli_step)
 *   REGISTERED    heartbeat or peers 401 (signal          UNREGISTERED, and
 *                 restarted, or we were evicted)            registers at once
 *   REGISTERED    leave (discovery_leave): any answer,    UNREGISTERED, for
 *                 or none                                   good (no retry)
 *   any           no answer, 429 or 5xx; a heartbeat or   same state, retried
 *                 peers refusal other than 401              after backoff
 *   UNREGISTERED  register refused (any other status,     UNREGISTERED,
 *                 or no token)                              retried after ~30 s
 *
 * Backoff starts at 1 s, doubles up to 30 s, with ±25 % jitter so a mesh
 * restarted together does not hammer the signal in step.  A refusal of the
 * registration itself (bad certificate...) is retried at the slowest pace
 * and logged with the signal's message.
 *
 * Every signal holds the same addresses for us: --advertise, or else the
 * addresses the signals saw (each with our real mesh port, at most
 * MAX_ADDRESSES).  A registration carries the generation of the address
 * set it sent (addr_gen); a signal registered with an older set registers
 * again, so no signal lists us without an address while another has one.
 */
#include "discovery.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http_client.h"
#include "log.h"
#include "rng.h"
#include "signed_request.h"
#include "xalloc.h"

#define BACKOFF_MIN_MS		1000
#define BACKOFF_MAX_MS		30000
#define REQUEST_TIMEOUT_S	10
#define MAX_ADDRESSES		8	/* the signal's limit (API.md) */

enum sig_state { SIG_UNREGISTERED, SIG_REGISTERED };
enum sig_req { REQ_NONE, REQ_REGISTER, REQ_HEARTBEAT, REQ_PEERS, REQ_LEAVE };

struct sigcli {
	struct discovery		*d;
	char				*url;
	struct http_client		 http;
	struct event			*timer;
	enum sig_state			 state;
	enum sig_req			 busy;
	char				 token[65];
	unsigned			 reg_gen;	/* addr_gen of our registration */
	char				 etag[96];
	int64_t				 generation;	/* of the list we hold */
	int64_t				 seen_generation;	/* from heartbeats */
	long				 heartbeat_ms;
	long				 backoff_ms;
	int				 reachable;
	char				 observed[64];
	char				 last_error[256];
	const char			*req_error;	/* why the last request failed */
	uint64_t			 last_ok_ms;
	json_t				*peers;		/* last list, or NULL */
	int64_t				 offset_ms;	/* its clock minus ours */
	int				 has_offset;	/* it sent a Date */
};

struct discovery {
	struct event_base		*base;
	struct evdns_base		*dns;
	char				*node_id;
	char				*cert_pem;
	mbedtls_pk_context		*key;
	struct rng			*rng;
	json_t				*addresses;	/* what we register */
	unsigned			 addr_gen;	/* changes with addresses */
	int				 advertised;	/* --advertise given: never adopt */
	json_t				*labels;
	int				 mesh_port;
	struct sigcli			*clients;
	size_t				 n;
	struct discovery_callbacks	 cb;
	void				*arg;
};

static void sigcli_step(struct sigcli *);

static void
schedule(struct sigcli *c, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

static void
set_reachable(struct sigcli *c, int reachable)
{
	if (reachable)
		c->last_ok_ms = clock_wall_ms();
	if (c->reachable == reachable)
		return;
	c->reachable = reachable;
	log_event(reachable ? LOG_INFO : LOG_WARN,
	    reachable ? "signal reachable" : "signal unreachable",
	    "{s:s, s:s}", "url", c->url, "error", c->last_error);
	if (c->d->cb.reachability != NULL)
		c->d->cb.reachability(c->url, reachable, c->d->arg);
}

/* No answer, or one we cannot use: retry later, slower each time. */
static void
failed(struct sigcli *c, long delay_ms)
{
	if (delay_ms == 0) {
		delay_ms = c->backoff_ms;
		c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS : c->backoff_ms * 2;
	}
	schedule(c, rng_jitter(c->d->rng, delay_ms));
}

/*
 * Whether a signal's entry for a node beats the one we hold from another:
 * one with an address beats one without (a signal that has not had the
 * node's registration with its address yet), then the newer registration,
 * then the newer heartbeat.
 */
static int
entry_better(json_t *p, json_t *old)
{
	int pa = json_array_size(json_object_get(p, "addresses")) > 0;
	int oa = json_array_size(json_object_get(old, "addresses")) > 0;
	json_int_t pr = json_integer_value(json_object_get(p, "registered_at"));
	json_int_t or = json_integer_value(json_object_get(old, "registered_at"));

	if (pa != oa)
		return pa;
	if (pr != or)
		return pr > or;
	return json_integer_value(json_object_get(p, "last_seen")) >
	    json_integer_value(json_object_get(old, "last_seen"));
}

/* The union of every signal's list, one entry per node (entry_better). */
static void
publish_peers(struct discovery *d)
{
	json_t *byid = json_object(), *all = json_array(), *p, *old;
	const char *id;
	size_t i, k;

	for (k = 0; k < d->n; k++) {
		json_array_foreach(d->clients[k].peers, i, p) {
			id = json_string_value(json_object_get(p, "node_id"));
			if (id == NULL)
				continue;
			old = json_object_get(byid, id);
			if (old == NULL || entry_better(p, old))
				json_object_set(byid, id, p);
		}
	}
	json_object_foreach(byid, id, p)
		json_array_append(all, p);
	if (d->cb.peers != NULL)
		d->cb.peers(all, d->arg);
	json_decref(all);
	json_decref(byid);
}

/*
 * A signal saw us at c->observed: with no --advertise, that address on our
 * mesh port is one peers may dial, and every signal should list it.
 * Returns 1 when it is new (addr_gen moved; each signal registers again as
 * sigcli_step finds its registration older).
 */
static int
adopt_observed(struct sigcli *c)
{
	struct discovery *d = c->d;
	char addr[96];
	size_t i;
	json_t *v;

	if (d->advertised || c->observed[0] == '\0' || d->mesh_port <= 0)
		return 0;
	snprintf(addr, sizeof(addr), strchr(c->observed, ':') ? "[%s]:%d" :
	    "%s:%d", c->observed, d->mesh_port);
	json_array_foreach(d->addresses, i, v)
		if (strcmp(json_string_value(v), addr) == 0)
			return 0;
	if (json_array_size(d->addresses) >= MAX_ADDRESSES)
		return 0;
	json_array_append_new(d->addresses, json_string(addr));
	d->addr_gen++;
	/* Hence a second "registered" line with each signal at every start. */
	log_event(LOG_INFO, "advertising the address a signal saw; registering "
	    "again with every signal", "{s:s, s:s}", "address", addr, "url",
	    c->url);
	return 1;
}

/* Every idle signal registered with an older address set registers now;
 * a busy one does when its answer comes (sigcli_step). */
static void
reregister_all(struct discovery *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct sigcli *c = &d->clients[i];
		if (c->busy != REQ_NONE || c->reg_gen == d->addr_gen)
			continue;
		evtimer_del(c->timer);
		sigcli_step(c);
	}
}

static const char *
error_message(json_t *body)
{
	const char *m = json_string_value(json_object_get(body, "message"));

	return m != NULL ? m : "(no message)";
}

/*
 * The signal's clock minus ours from a reply's Date header (RFC 7231's
 * IMF-fixdate, whole seconds): the header's second plus half of it, so
 * the error is at most half a second plus the reply's flight.  Unset when
 * there is no such header.
 */
static void
note_clock(struct sigcli *c, struct evhttp_request *req)
{
	const char *date = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Date");
	struct tm tm;
	const char *end;
	time_t t;

	if (date == NULL)
		return;
	memset(&tm, 0, sizeof(tm));
	end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return;
	c->offset_ms = (int64_t)t * 1000 + 500 - (int64_t)clock_wall_ms();
	c->has_offset = 1;
}

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct sigcli *c = arg;
	enum sig_req kind = c->busy;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	struct evbuffer *in;
	json_t *body = NULL;
	const char *etag;

	c->busy = REQ_NONE;
	if (kind == REQ_LEAVE) {
		c->state = SIG_UNREGISTERED;
		return;
	}
	if (code == 0) {
		snprintf(c->last_error, sizeof(c->last_error), "no answer from %s: %s",
		    c->url, c->req_error != NULL ? c->req_error : "request failed");
		/* Every failure, not only the first (set_reachable's): a TLS
		 * failure logs its cause under the signal's host:port.  A
		 * warning for the first failure since an answer (the backoff
		 * is still at its start), then info: a signal down for a day
		 * would fill journalctl -p warning. */
		log_event(c->backoff_ms == BACKOFF_MIN_MS ? LOG_WARN : LOG_INFO,
		    "signal request failed", "{s:s, s:s}", "url",
		    c->url, "error", c->req_error != NULL ? c->req_error :
		    "request failed");
		set_reachable(c, 0);
		failed(c, 0);
		return;
	}
	note_clock(c, req);
	in = evhttp_request_get_input_buffer(req);
	if (evbuffer_get_length(in) > 0)
		body = json_loadb((const char *)evbuffer_pullup(in, -1),
		    evbuffer_get_length(in), 0, NULL);
	snprintf(c->last_error, sizeof(c->last_error), "%s", "");
	if (code == 401 && kind != REQ_REGISTER) {
		/* Our session is gone (signal restarted, or we were evicted). */
		set_reachable(c, 1);
		c->state = SIG_UNREGISTERED;
		c->backoff_ms = BACKOFF_MIN_MS;
		log_event(LOG_INFO, "signal session lost; registering again",
		    "{s:s}", "url", c->url);
		sigcli_step(c);
		goto out;
	}
	if (code == 429 || code >= 500) {
		snprintf(c->last_error, sizeof(c->last_error), "HTTP %d: %s", code,
		    error_message(body));
		set_reachable(c, 1);
		failed(c, 0);
		goto out;
	}
	switch (kind) {
	case REQ_REGISTER:
		if (code != 200 || !json_is_string(json_object_get(body, "token"))) {
			snprintf(c->last_error, sizeof(c->last_error),
			    "registration refused: HTTP %d: %s", code,
			    error_message(body));
			log_event(LOG_ERROR, "signal refused our registration",
			    "{s:s, s:i, s:s}", "url", c->url, "status", code,
			    "message", error_message(body));
			set_reachable(c, 1);
			failed(c, BACKOFF_MAX_MS);
			break;
		}
		set_reachable(c, 1);
		snprintf(c->token, sizeof(c->token), "%s",
		    json_string_value(json_object_get(body, "token")));
		snprintf(c->observed, sizeof(c->observed), "%s",
		    json_string_value(json_object_get(body, "observed_address")) ?
		    json_string_value(json_object_get(body, "observed_address")) : "");
		c->heartbeat_ms = 1000 * (long)json_integer_value(
		    json_object_get(body, "heartbeat_s"));
		if (c->heartbeat_ms < 1000)
			c->heartbeat_ms = 1000;
		c->seen_generation = json_integer_value(json_object_get(body,
		    "generation"));
		c->state = SIG_REGISTERED;
		c->backoff_ms = BACKOFF_MIN_MS;
		log_event(LOG_INFO, "registered with signal", "{s:s, s:s}",
		    "url", c->url, "observed_address", c->observed);
		/* Advertising nothing means "reach me where the signals saw
		 * me": sigcli_step registers again where that is news. */
		if (adopt_observed(c))
			reregister_all(c->d);
		sigcli_step(c);
		break;
	case REQ_HEARTBEAT:
		if (code != 200) {
			snprintf(c->last_error, sizeof(c->last_error),
			    "heartbeat: HTTP %d: %s", code, error_message(body));
			failed(c, 0);
			break;
		}
		set_reachable(c, 1);
		c->backoff_ms = BACKOFF_MIN_MS;
		c->seen_generation = json_integer_value(json_object_get(body,
		    "generation"));
		sigcli_step(c);
		break;
	case REQ_PEERS:
		if (code == 304) {
			set_reachable(c, 1);
			c->generation = c->seen_generation;
			schedule(c, c->heartbeat_ms);
			break;
		}
		if (code != 200 || !json_is_array(json_object_get(body, "peers"))) {
			snprintf(c->last_error, sizeof(c->last_error),
			    "peers: HTTP %d: %s", code, error_message(body));
			failed(c, 0);
			break;
		}
		set_reachable(c, 1);
		etag = evhttp_find_header(evhttp_request_get_input_headers(req), "ETag");
		snprintf(c->etag, sizeof(c->etag), "%s", etag ? etag : "");
		c->generation = json_integer_value(json_object_get(body, "generation"));
		c->seen_generation = c->generation;
		json_decref(c->peers);
		c->peers = json_incref(json_object_get(body, "peers"));
		publish_peers(c->d);
		schedule(c, c->heartbeat_ms);
		break;
	case REQ_NONE:
	case REQ_LEAVE:
		break;
	}
out:
	json_decref(body);
}

static void
request_error_cb(enum evhttp_request_error e, void *arg)
{
	struct sigcli *c = arg;

	c->req_error = http_client_error_text(e);
}

static int
send_request(struct sigcli *c, enum sig_req kind, enum evhttp_cmd_type method,
    const char *path, const char *body, const char *signature)
{
	struct evhttp_request *req = evhttp_request_new(reply_cb, c);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char hostport[300], auth[96];

	c->req_error = NULL;
	evhttp_request_set_error_cb(req, request_error_cb);

	http_client_hostport(&c->http, hostport, sizeof(hostport));
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "agentflow-node/" AGENTFLOW_VERSION);
	if (c->state == SIG_REGISTERED && kind != REQ_REGISTER) {
		snprintf(auth, sizeof(auth), "Bearer %s", c->token);
		evhttp_add_header(h, "Authorization", auth);
	}
	if (kind == REQ_PEERS && c->etag[0] != '\0')
		evhttp_add_header(h, "If-None-Match", c->etag);
	if (signature != NULL)
		evhttp_add_header(h, SIGNED_REQUEST_HEADER, signature);
	if (body != NULL) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	c->busy = kind;
	if (evhttp_make_request(c->http.evcon, req, method, path) != 0) {
		c->busy = REQ_NONE;
		return -1;
	}
	return 0;
}

static void
do_register(struct sigcli *c)
{
	struct discovery *d = c->d;
	char nonce[33], sig[SIGNED_REQUEST_SIG_MAX];
	json_t *j;
	char *body;

	if (rng_hex(d->rng, nonce, 16) != 0) {
		failed(c, 0);
		return;
	}
	j = json_pack("{s:s, s:s, s:O, s:O, s:s, s:I, s:s}", "node_id", d->node_id,
	    "cert", d->cert_pem, "addresses", d->addresses, "labels", d->labels,
	    "version", AGENTFLOW_VERSION, "timestamp", (json_int_t)time(NULL),
	    "nonce", nonce);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL || signed_request_sign(d->key, d->rng, body, strlen(body),
	    sig, sizeof(sig)) != 0) {
		free(body);
		snprintf(c->last_error, sizeof(c->last_error),
		    "cannot sign the registration");
		failed(c, BACKOFF_MAX_MS);
		return;
	}
	c->etag[0] = '\0';
	c->reg_gen = d->addr_gen;
	if (send_request(c, REQ_REGISTER, EVHTTP_REQ_POST, "/v1/register", body,
	    sig) != 0)
		failed(c, 0);
	free(body);
}

/* Decides what to do next: register (again, when our addresses changed
 * since), list, or heartbeat. */
static void
sigcli_step(struct sigcli *c)
{
	if (c->busy != REQ_NONE)
		return;
	if (c->state == SIG_REGISTERED && c->reg_gen != c->d->addr_gen)
		c->state = SIG_UNREGISTERED;
	if (c->state == SIG_UNREGISTERED)
		do_register(c);
	else if (c->peers == NULL || c->seen_generation != c->generation) {
		if (send_request(c, REQ_PEERS, EVHTTP_REQ_GET, "/v1/peers", NULL,
		    NULL) != 0)
			failed(c, 0);
	} else
		schedule(c, c->heartbeat_ms);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sigcli *c = arg;

	(void)fd;
	(void)what;
	if (c->busy != REQ_NONE)
		return;
	if (c->state == SIG_REGISTERED && c->reg_gen == c->d->addr_gen) {
		if (send_request(c, REQ_HEARTBEAT, EVHTTP_REQ_POST, "/v1/heartbeat",
		    NULL, NULL) != 0)
			failed(c, 0);
	} else
		sigcli_step(c);
}

static int
sigcli_init(struct discovery *d, struct sigcli *c, const char *url,
    const char *ca, char *err, size_t errlen)
{
	c->d = d;
	c->url = xstrdup(url);
	c->backoff_ms = BACKOFF_MIN_MS;
	c->generation = -1;
	if (http_client_open(&c->http, d->base, d->dns, url, "signal URL", ca,
	    REQUEST_TIMEOUT_S, err, errlen) != 0)
		return -1;
	c->timer = evtimer_new(d->base, timer_cb, c);
	return 0;
}

struct discovery *
discovery_new(struct event_base *base, struct evdns_base *dns,
    const struct discovery_config *cfg, const struct discovery_callbacks *cb,
    void *arg, char *err, size_t errlen)
{
	struct discovery *d = xcalloc(1, sizeof(*d));

	d->base = base;
	d->dns = dns;
	d->node_id = xstrdup(cfg->node_id);
	d->cert_pem = xstrdup(cfg->cert_pem);
	d->key = cfg->key;
	d->rng = cfg->rng;
	d->addresses = json_deep_copy(cfg->addresses ? cfg->addresses : json_array());
	d->advertised = json_array_size(d->addresses) > 0;
	d->labels = json_deep_copy(cfg->labels ? cfg->labels : json_object());
	d->mesh_port = cfg->mesh_port;
	d->cb = *cb;
	d->arg = arg;
	d->clients = xcalloc(cfg->nurls ? cfg->nurls : 1, sizeof(*d->clients));
	for (size_t i = 0; i < cfg->nurls; i++) {
		d->n = i + 1;
		if (sigcli_init(d, &d->clients[i], cfg->urls[i], cfg->signal_ca, err,
		    errlen) != 0) {
			discovery_free(d);
			return NULL;
		}
	}
	for (size_t i = 0; i < d->n; i++)
		sigcli_step(&d->clients[i]);
	return d;
}

void
discovery_leave(struct discovery *d)
{
	for (size_t i = 0; d != NULL && i < d->n; i++) {
		struct sigcli *c = &d->clients[i];
		if (c->state != SIG_REGISTERED)
			continue;
		if (c->busy != REQ_NONE)
			continue;	/* the connection is in use; TTL evicts us */
		send_request(c, REQ_LEAVE, EVHTTP_REQ_DELETE, "/v1/register", NULL,
		    NULL);
	}
}

void
discovery_free(struct discovery *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		struct sigcli *c = &d->clients[i];
		if (c->timer != NULL)
			event_free(c->timer);
		/* Frees pending requests without calling their callbacks. */
		http_client_close(&c->http);
		json_decref(c->peers);
		free(c->url);
	}
	free(d->clients);
	json_decref(d->addresses);
	json_decref(d->labels);
	free(d->node_id);
	free(d->cert_pem);
	free(d);
}

void
discovery_refresh(struct discovery *d)
{
	for (size_t i = 0; d != NULL && i < d->n; i++) {
		d->clients[i].generation = -1;
		d->clients[i].etag[0] = '\0';
	}
}

int
discovery_leaving(const struct discovery *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->clients[i].busy == REQ_LEAVE)
			return 1;
	return 0;
}

int
discovery_reachable(const struct discovery *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->clients[i].reachable)
			return 1;
	return 0;
}

int
discovery_signal_offset(const struct discovery *d, int64_t *offset_ms)
{
	int found = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->clients[i].has_offset && (!found ||
		    d->clients[i].offset_ms > *offset_ms)) {
			*offset_ms = d->clients[i].offset_ms;
			found = 1;
		}
	return found ? 0 : -1;
}

json_t *
discovery_status(const struct discovery *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < d->n; i++) {
		const struct sigcli *c = &d->clients[i];
		json_array_append_new(a, json_pack("{s:s, s:b, s:b, s:s, s:I, s:s, s:I}",
		    "url", c->url, "reachable", c->reachable,
		    "registered", c->state == SIG_REGISTERED,
		    "observed_address", c->observed,
		    "generation", (json_int_t)c->generation,
		    "last_error", c->last_error,
		    "last_ok_ms", (json_int_t)c->last_ok_ms));
	}
	return a;
}
