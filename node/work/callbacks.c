/*
 * Job result callbacks (see callbacks.h).
 *
 * Each pending callback has one timer.  It fires for the next attempt,
 * and again (made active at once) when an attempt's answer is in: evhttp
 * may not free a connection from inside that connection's callback, so
 * the answer is noted there and handled on the next turn of the loop.
 */
#include "callbacks.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "http_client.h"
#include "log.h"
#include "rng.h"
#include "store.h"
#include "store_callbacks.h"
#include "xalloc.h"

#define HISTORY_MAX	100	/* attempts kept in a callback's history */

struct callbacks {
	struct event_base	*base;
	struct callbacks_config	 cfg;
	struct hmap		*pending;	/* job id → struct item */
	uint64_t		 attempts, delivered, failed;
};

struct item {
	struct callbacks	*cbs;
	char			*job_id, *url, *secret, *body;
	size_t			 len;
	int64_t			 deadline_ms, next_ms;
	int			 attempts;
	json_t			*history;
	struct event		*timer;
	struct http_client	 http;		/* while an attempt is in flight */
	int			 answered;	/* its answer is in: status, why */
	int			 status;	/* HTTP status; 0: none */
	char			 why[96];
	uint64_t		 started_mono;
};

static void attempt(struct item *);

int
callbacks_sign(const char *secret, int64_t timestamp_ms, const char *body,
    size_t len, char *out, size_t outlen)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	unsigned char mac[32];
	char ts[24];
	int rc;

	if (outlen < 7 + 64 + 1)
		return -1;
	snprintf(ts, sizeof(ts), "%lld.", (long long)timestamp_ms);
	mbedtls_md_init(&ctx);
	rc = mbedtls_md_setup(&ctx, md, 1) != 0 ||
	    mbedtls_md_hmac_starts(&ctx, (const unsigned char *)secret,
	    strlen(secret)) != 0 ||
	    mbedtls_md_hmac_update(&ctx, (const unsigned char *)ts,
	    strlen(ts)) != 0 ||
	    mbedtls_md_hmac_update(&ctx, (const unsigned char *)body, len) != 0 ||
	    mbedtls_md_hmac_finish(&ctx, mac) != 0 ? -1 : 0;
	mbedtls_md_free(&ctx);
	if (rc != 0)
		return -1;
	memcpy(out, "sha256=", 7);
	for (size_t i = 0; i < sizeof(mac); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
	return 0;
}

int
callbacks_check(const char *url, const char *secret, char *err, size_t errlen)
{
	size_t n = secret != NULL ? strlen(secret) : 0;

	if (url == NULL || http_client_url_check(url, "callback URL", err,
	    errlen) != 0) {
		if (url == NULL)
			snprintf(err, errlen, "callback URL missing");
		return -1;
	}
	if (n == 0 || n > CALLBACK_SECRET_MAX) {
		snprintf(err, errlen, "callback secret: 1-%d bytes",
		    CALLBACK_SECRET_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)secret[i] < 0x20 || secret[i] == 0x7f) {
			snprintf(err, errlen, "callback secret: no control "
			    "characters");
			return -1;
		}
	return 0;
}

static void
item_free(struct item *it)
{
	if (it->timer != NULL)
		event_free(it->timer);
	http_client_close(&it->http);
	json_decref(it->history);
	free(it->job_id);
	free(it->url);
	free(it->secret);
	free(it->body);
	free(it);
}

/* Writes it's state, attempts, next time and history. */
static void
persist(struct item *it, const char *state)
{
	char *history = json_dumps(it->history, JSON_COMPACT);
	struct store_callback c = {
		.job_id = it->job_id, .state = state, .attempts = it->attempts,
		.next_ms = it->next_ms, .history = history,
	};

	if (store_callback_update(it->cbs->cfg.store, &c) != 0)
		log_event(LOG_WARN, "callback not recorded", "{s:s, s:s}",
		    "job", it->job_id, "error", store_error(it->cbs->cfg.store));
	free(history);
}

/* The answer to an attempt is in (it->answered): record it, then retry,
 * or finish delivered or failed. */
static void
answered(struct item *it)
{
	struct callbacks *cbs = it->cbs;
	int64_t now = (int64_t)clock_wall_ms();
	uint64_t delay = 0;
	const char *state;
	json_t *entry;
	char outcome[128];
	int shift;

	http_client_close(&it->http);
	it->answered = 0;
	if (it->status >= 200 && it->status <= 299)
		snprintf(outcome, sizeof(outcome), "delivered: HTTP %d",
		    it->status);
	else if (it->status > 0)
		snprintf(outcome, sizeof(outcome), "refused: HTTP %d", it->status);
	else
		snprintf(outcome, sizeof(outcome), "no answer: %s", it->why);
	entry = json_pack("{s:i, s:I, s:I, s:s, s:i}", "n", it->attempts,
	    "at_ms", (json_int_t)now, "ms",
	    (json_int_t)(clock_mono_ms() - it->started_mono), "outcome", outcome,
	    "status", it->status);
	if (json_array_size(it->history) >= HISTORY_MAX)
		json_array_remove(it->history, 0);
	json_array_append(it->history, entry);
	if (it->status >= 200 && it->status <= 299) {
		state = "delivered";
		cbs->delivered++;
	} else {
		shift = it->attempts - 1 < 20 ? it->attempts - 1 : 20;
		delay = cbs->cfg.base_ms << shift;
		if (delay > cbs->cfg.cap_ms)
			delay = cbs->cfg.cap_ms;
		delay = (uint64_t)rng_jitter(cbs->cfg.rng, (long)delay);
		it->next_ms = now + (int64_t)delay;
		if (it->next_ms > it->deadline_ms) {
			state = "failed";
			cbs->failed++;
		} else
			state = "pending";
	}
	persist(it, state);
	log_event(strcmp(state, "failed") == 0 ? LOG_WARN : LOG_INFO,
	    "callback attempt", "{s:s, s:i, s:s, s:s}", "job", it->job_id,
	    "attempt", it->attempts, "outcome", outcome, "state", state);
	if (cbs->cfg.attempted != NULL)
		cbs->cfg.attempted(it->job_id, entry, state, cbs->cfg.arg);
	json_decref(entry);
	if (strcmp(state, "pending") != 0) {
		item_free(hmap_del(cbs->pending, it->job_id));
		return;
	}
	event_add(it->timer, &(struct timeval){ (time_t)(delay / 1000),
	    (suseconds_t)(delay % 1000) * 1000 });
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct item *it = arg;

	(void)fd;
	(void)what;
	if (it->answered)
		answered(it);
	else
		attempt(it);
}

static void
error_cb(enum evhttp_request_error e, void *arg)
{
	struct item *it = arg;

	snprintf(it->why, sizeof(it->why), "%s", http_client_error_text(e));
}

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct item *it = arg;

	it->status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (it->status == 0 && it->why[0] == '\0')
		snprintf(it->why, sizeof(it->why), "connection refused or closed");
	it->answered = 1;
	event_active(it->timer, EV_TIMEOUT, 0);
}

/* Makes the next attempt; its answer comes to reply_cb. */
static void
attempt(struct item *it)
{
	struct callbacks *cbs = it->cbs;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char err[256] = "cannot sign the delivery", sig[80], ts[24], n[16];
	char hostport[300];
	int64_t now = (int64_t)clock_wall_ms();

	it->attempts++;
	cbs->attempts++;
	it->status = 0;
	it->why[0] = '\0';
	it->started_mono = clock_mono_ms();
	if (http_client_open(&it->http, cbs->base, cbs->cfg.dns, it->url,
	    "callback URL", cbs->cfg.ca_path, cbs->cfg.timeout_s, err,
	    sizeof(err)) != 0 || callbacks_sign(it->secret, now, it->body,
	    it->len, sig, sizeof(sig)) != 0) {
		snprintf(it->why, sizeof(it->why), "%.90s", err);
		it->answered = 1;
		event_active(it->timer, EV_TIMEOUT, 0);
		return;
	}
	req = evhttp_request_new(reply_cb, it);
	evhttp_request_set_error_cb(req, error_cb);
	h = evhttp_request_get_output_headers(req);
	http_client_hostport(&it->http, hostport, sizeof(hostport));
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	snprintf(n, sizeof(n), "%d", it->attempts);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "agentflow-node/" AGENTFLOW_VERSION);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-AgentFlow-Job", it->job_id);
	evhttp_add_header(h, "X-AgentFlow-Attempt", n);
	evhttp_add_header(h, CALLBACK_HEADER_TIMESTAMP, ts);
	evhttp_add_header(h, CALLBACK_HEADER_SIGNATURE, sig);
	evbuffer_add(evhttp_request_get_output_buffer(req), it->body, it->len);
	if (evhttp_make_request(it->http.evcon, req, EVHTTP_REQ_POST,
	    it->http.path) != 0) {
		/* evhttp has freed req. */
		snprintf(it->why, sizeof(it->why), "request not sent");
		it->answered = 1;
		event_active(it->timer, EV_TIMEOUT, 0);
	}
}

/* Puts a pending callback in memory and schedules its next attempt. */
static void
track(struct callbacks *cbs, const struct store_callback *c)
{
	struct item *it = xcalloc(1, sizeof(*it)), *old;
	int64_t wait = c->next_ms - (int64_t)clock_wall_ms();

	it->cbs = cbs;
	it->job_id = xstrdup(c->job_id);
	it->url = xstrdup(c->url);
	it->secret = xstrdup(c->secret);
	it->body = xmalloc(c->body_len + 1);
	memcpy(it->body, c->body, c->body_len);
	it->body[c->body_len] = '\0';
	it->len = c->body_len;
	it->deadline_ms = c->deadline_ms;
	it->next_ms = c->next_ms;
	it->attempts = c->attempts;
	it->history = json_loads(c->history, 0, NULL);
	if (!json_is_array(it->history)) {
		json_decref(it->history);
		it->history = json_array();
	}
	it->timer = evtimer_new(cbs->base, timer_cb, it);
	if (wait < 0)
		wait = 0;
	/* One item per job: a second would leave the first's timer armed. */
	if ((old = hmap_put(cbs->pending, it->job_id, it)) != NULL)
		item_free(old);
	event_add(it->timer, &(struct timeval){ (time_t)(wait / 1000),
	    (suseconds_t)(wait % 1000) * 1000 });
}

static int
resume_one(void *arg, const struct store_callback *c)
{
	track(arg, c);
	return 0;
}

struct callbacks *
callbacks_new(struct event_base *base, const struct callbacks_config *cfg,
    char *err, size_t errlen)
{
	struct callbacks *cbs = xcalloc(1, sizeof(*cbs));

	cbs->base = base;
	cbs->cfg = *cfg;
	if (cbs->cfg.base_ms == 0)
		cbs->cfg.base_ms = 1000;
	if (cbs->cfg.cap_ms == 0)
		cbs->cfg.cap_ms = 300000;
	if (cbs->cfg.timeout_s == 0)
		cbs->cfg.timeout_s = 10;
	cbs->pending = hmap_new();
	if (store_callbacks_each(cfg->store, "pending", NULL, resume_one,
	    cbs) != 0) {
		snprintf(err, errlen, "reading callbacks: %s",
		    store_error(cfg->store));
		callbacks_free(cbs);
		return NULL;
	}
	return cbs;
}

static int
free_item(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	item_free(value);
	return 1;
}

void
callbacks_free(struct callbacks *cbs)
{
	if (cbs == NULL)
		return;
	hmap_sweep(cbs->pending, free_item, NULL);
	hmap_free(cbs->pending);
	free(cbs);
}

int
callbacks_add(struct callbacks *cbs, const char *job_id, const char *url,
    const char *secret, const char *body, size_t len, int64_t deadline_ms,
    char *err, size_t errlen)
{
	struct store_callback c = {
		.job_id = job_id, .url = url, .secret = secret, .body = body,
		.body_len = len, .deadline_ms = deadline_ms,
		.next_ms = (int64_t)clock_wall_ms(), .state = "pending",
		.history = "[]",
	};

	if (callbacks_check(url, secret, err, errlen) != 0)
		return -1;
	if (len > CALLBACK_BODY_MAX) {
		snprintf(err, errlen, "callback body over %d bytes",
		    CALLBACK_BODY_MAX);
		return -1;
	}
	if (store_callback_put(cbs->cfg.store, &c) != 0) {
		snprintf(err, errlen, "job %s: callback not recorded (one per "
		    "job): %s", job_id, store_error(cbs->cfg.store));
		return -1;
	}
	track(cbs, &c);
	return 0;
}

int
callbacks_wait(struct callbacks *cbs, const char *job_id, const char *url,
    const char *secret, int64_t after_ms, char *err, size_t errlen)
{
	struct store_callback c = {
		.job_id = job_id, .url = url, .secret = secret, .body = "",
		.body_len = 0, .deadline_ms = after_ms > 0 ? after_ms :
		    24LL * 3600 * 1000, .next_ms = 0, .state = "waiting",
		.history = "[]",
	};

	if (callbacks_check(url, secret, err, errlen) != 0)
		return -1;
	if (store_callback_put(cbs->cfg.store, &c) != 0) {
		snprintf(err, errlen, "job %s: callback not recorded (one per "
		    "job): %s", job_id, store_error(cbs->cfg.store));
		return -1;
	}
	return 0;
}

struct waiting {
	const char	*job_id;
	int64_t		 after_ms;
	int		 found;
};

static int
waiting_one(void *arg, const struct store_callback *c)
{
	struct waiting *w = arg;

	w->after_ms = c->deadline_ms;
	w->found = 1;
	return 1;
}

int
callbacks_fire(struct callbacks *cbs, const char *job_id, const char *body,
    size_t len)
{
	struct waiting w = { job_id, 0, 0 };
	int64_t now = (int64_t)clock_wall_ms();
	int found;

	if (len > CALLBACK_BODY_MAX || store_callbacks_each(cbs->cfg.store,
	    "waiting", job_id, waiting_one, &w) != 0 || !w.found)
		return -1;
	if (store_callback_fire(cbs->cfg.store, job_id, body, len,
	    now + w.after_ms, now, &found) != 0 || !found)
		return -1;
	store_callbacks_each(cbs->cfg.store, "pending", job_id, resume_one, cbs);
	return 0;
}

static int
get_one(void *arg, const struct store_callback *c)
{
	json_t **out = arg;
	json_t *history = json_loads(c->history, 0, NULL);

	*out = json_pack("{s:s, s:s, s:i, s:I, s:I, s:o}", "url", c->url,
	    "state", c->state, "attempts", c->attempts, "next_ms",
	    (json_int_t)c->next_ms, "deadline_ms", (json_int_t)c->deadline_ms,
	    "history", history != NULL ? history : json_array());
	return 1;
}

json_t *
callbacks_get(struct callbacks *cbs, const char *job_id)
{
	json_t *out = NULL;

	if (store_callbacks_each(cbs->cfg.store, NULL, job_id, get_one,
	    &out) != 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *
callbacks_counters(const struct callbacks *cbs)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "attempts",
	    (json_int_t)cbs->attempts, "delivered", (json_int_t)cbs->delivered,
	    "failed", (json_int_t)cbs->failed, "pending",
	    (json_int_t)hmap_count(cbs->pending));
}
