/*
 * Unit tests of node/work/callbacks.c against a real HTTP receiver on
 * 127.0.0.1 in the same loop: signed deliveries, retries until a 2xx,
 * a receiver that is down at first, a wrong secret, a restart that goes
 * on where it was, and requests refused before anything is stored.  The
 * receiver checks each signature with its own HMAC (mbedTLS), not with
 * callbacks_sign.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "clock.h"
#include "rng.h"
#include "store.h"
#include "tmpdir.h"

#define SECRET	"s3cret-shared-with-the-receiver"
#define BODY	"{\"job\":\"j-1\",\"state\":\"succeeded\",\"exit_code\":0}"

struct receiver {
	struct evhttp	*http;
	int		 port;
	const char	*secret;	/* what it checks signatures with */
	int		 refuse_first;	/* answers 503 to the first n */
	int		 requests, good_signatures, accepted;
	char		 last_body[256];
	char		 last_job[64];
};

struct fix {
	char			 dir[64];
	struct event_base	*base;
	struct store		*store;
	struct rng		*rng;
	struct callbacks	*cbs;
	struct receiver		 rx;
	int			 hook_calls;
	char			 last_state[16];
};

/* The receiver's own check: hex HMAC-SHA256(secret, ts "." body). */
static int
signature_ok(const char *secret, const char *ts, const char *body,
    size_t len, const char *header)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char mac[32];
	char hex[65], *msg;
	size_t tl = strlen(ts);

	if (header == NULL || strncmp(header, "sha256=", 7) != 0)
		return 0;
	msg = malloc(tl + 1 + len);
	memcpy(msg, ts, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, body, len);
	mbedtls_md_hmac(md, (const unsigned char *)secret, strlen(secret),
	    (const unsigned char *)msg, tl + 1 + len, mac);
	free(msg);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return strcmp(hex, header + 7) == 0;
}

static void
receive(struct evhttp_request *req, void *arg)
{
	struct receiver *rx = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *ts = evhttp_find_header(h, CALLBACK_HEADER_TIMESTAMP);
	const char *job = evhttp_find_header(h, "X-AgentFlow-Job");
	char body[256] = "";
	int good;

	rx->requests++;
	if (len < sizeof(body))
		evbuffer_copyout(in, body, len);
	good = ts != NULL && len < sizeof(body) && signature_ok(rx->secret, ts,
	    body, len, evhttp_find_header(h, CALLBACK_HEADER_SIGNATURE)) &&
	    llabs(strtoll(ts, NULL, 10) - (long long)clock_wall_ms()) < 60000;
	if (!good) {
		evhttp_send_reply(req, 401, "Bad signature", NULL);
		return;
	}
	rx->good_signatures++;
	if (rx->requests <= rx->refuse_first) {
		evhttp_send_reply(req, 503, "Busy", NULL);
		return;
	}
	rx->accepted++;
	snprintf(rx->last_body, sizeof(rx->last_body), "%s", body);
	snprintf(rx->last_job, sizeof(rx->last_job), "%s", job ? job : "");
	evhttp_send_reply(req, 204, "No Content", NULL);
}

/* Listens on port (0: any free one). */
static void
rx_start(struct fix *f, int port)
{
	struct evhttp_bound_socket *s;
	evutil_socket_t fd;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	f->rx.http = evhttp_new(f->base);
	evhttp_set_gencb(f->rx.http, receive, &f->rx);
	s = evhttp_bind_socket_with_handle(f->rx.http, "127.0.0.1",
	    (unsigned short)port);
	assert_non_null(s);
	fd = evhttp_bound_socket_get_fd(s);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	f->rx.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
rx_stop(struct fix *f)
{
	if (f->rx.http != NULL)
		evhttp_free(f->rx.http);
	f->rx.http = NULL;
}

static void
attempted(const char *job_id, const json_t *entry, const char *state,
    void *arg)
{
	struct fix *f = arg;

	(void)job_id;
	assert_true(json_is_object(entry));
	f->hook_calls++;
	snprintf(f->last_state, sizeof(f->last_state), "%s", state);
}

static void
cbs_open(struct fix *f)
{
	struct callbacks_config cfg = {
		.store = f->store, .rng = f->rng, .base_ms = 40, .cap_ms = 160,
		.timeout_s = 2, .attempted = attempted, .arg = f,
	};
	char err[256];

	f->cbs = callbacks_new(f->base, &cfg, err, sizeof(err));
	assert_non_null(f->cbs);
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char err[256], data[96];

	assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "af-callbacks"), 0);
	snprintf(data, sizeof(data), "%s/data", f->dir);
	f->base = event_base_new();
	f->store = store_open(data, err, sizeof(err));
	assert_non_null(f->store);
	f->rng = rng_new("test_callbacks");
	f->rx.secret = SECRET;
	cbs_open(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	callbacks_free(f->cbs);
	rx_stop(f);
	store_close(f->store);
	rng_free(f->rng);
	event_base_free(f->base);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void
loop_break(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Runs the loop until job's callback is no longer pending, or limit_ms. */
static json_t *
run_until_done(struct fix *f, const char *job, int limit_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)limit_ms;
	struct event *tick = evtimer_new(f->base, loop_break, f->base);
	json_t *c = NULL;

	while (clock_mono_ms() < end) {
		event_add(tick, &(struct timeval){ 0, 20 * 1000 });
		event_base_dispatch(f->base);
		json_decref(c);
		c = callbacks_get(f->cbs, job);
		if (c != NULL && strcmp(json_string_value(json_object_get(c,
		    "state")), "pending") != 0)
			break;
	}
	event_free(tick);
	return c;
}

static void
add(struct fix *f, const char *job, int64_t deadline_in_ms)
{
	char url[96], err[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/agentflow?x=1",
	    f->rx.port);
	assert_int_equal(callbacks_add(f->cbs, job, url, SECRET, BODY,
	    strlen(BODY), (int64_t)clock_wall_ms() + deadline_in_ms, err,
	    sizeof(err)), 0);
}

static void
test_delivered_after_refusals(void **state)
{
	struct fix *f = *state;
	json_t *c, *h;

	f->rx.refuse_first = 3;
	rx_start(f, 0);
	add(f, "j-1", 30000);
	c = run_until_done(f, "j-1", 10000);
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "delivered");
	/* Three refusals, then one acknowledged delivery, every one signed. */
	assert_int_equal(f->rx.requests, 4);
	assert_int_equal(f->rx.good_signatures, 4);
	assert_int_equal(f->rx.accepted, 1);
	assert_string_equal(f->rx.last_body, BODY);
	assert_string_equal(f->rx.last_job, "j-1");
	h = json_object_get(c, "history");
	assert_int_equal(json_array_size(h), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(h,
	    0), "outcome")), "refused: HTTP 503");
	assert_string_equal(json_string_value(json_object_get(json_array_get(h,
	    3), "outcome")), "delivered: HTTP 204");
	assert_null(json_object_get(c, "secret"));
	assert_int_equal(f->hook_calls, 4);
	assert_string_equal(f->last_state, "delivered");
	json_decref(c);
}

static void
test_receiver_down_at_first(void **state)
{
	struct fix *f = *state;
	json_t *c, *h;
	int port;

	/* A port that was free a moment ago: nothing listens there yet. */
	rx_start(f, 0);
	port = f->rx.port;
	rx_stop(f);
	add(f, "j-2", 30000);
	json_decref(run_until_done(f, "j-2", 400));
	assert_true(f->hook_calls >= 2);
	assert_string_equal(f->last_state, "pending");
	rx_start(f, port);
	c = run_until_done(f, "j-2", 10000);
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "delivered");
	assert_int_equal(f->rx.accepted, 1);
	h = json_object_get(c, "history");
	assert_true(json_array_size(h) >= 3);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(h, 0), "outcome")), "no answer"));
	json_decref(c);
}

static void
test_wrong_secret_fails_at_deadline(void **state)
{
	struct fix *f = *state;
	json_t *c;

	f->rx.secret = "not-the-submitters-secret";
	rx_start(f, 0);
	add(f, "j-3", 500);
	c = run_until_done(f, "j-3", 5000);
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "failed");
	assert_true(f->rx.requests >= 2);
	assert_int_equal(f->rx.good_signatures, 0);
	assert_int_equal(f->rx.accepted, 0);
	assert_string_equal(f->last_state, "failed");
	json_decref(c);
}

static void
test_restart_goes_on(void **state)
{
	struct fix *f = *state;
	json_t *c;
	int port;

	rx_start(f, 0);
	port = f->rx.port;
	rx_stop(f);
	add(f, "j-4", 30000);
	json_decref(run_until_done(f, "j-4", 200));
	/* The node stops with the callback pending, and starts again. */
	callbacks_free(f->cbs);
	cbs_open(f);
	rx_start(f, port);
	c = run_until_done(f, "j-4", 10000);
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "delivered");
	assert_int_equal(f->rx.accepted, 1);
	assert_true(json_integer_value(json_object_get(c, "attempts")) >= 2);
	json_decref(c);
}

static void
test_refused_before_stored(void **state)
{
	struct fix *f = *state;
	char err[256], big[CALLBACK_BODY_MAX + 2];
	int64_t later = (int64_t)clock_wall_ms() + 60000;

	assert_int_equal(callbacks_add(f->cbs, "j-5", "ftp://127.0.0.1/x", SECRET,
	    BODY, strlen(BODY), later, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "callback URL"));
	assert_int_equal(callbacks_add(f->cbs, "j-5", "http://u:p@127.0.0.1/x",
	    SECRET, BODY, strlen(BODY), later, err, sizeof(err)), -1);
	assert_int_equal(callbacks_add(f->cbs, "j-5", "http://127.0.0.1:9/x", "",
	    BODY, strlen(BODY), later, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "secret"));
	assert_int_equal(callbacks_add(f->cbs, "j-5", "http://127.0.0.1:9/x",
	    "a\nb", BODY, strlen(BODY), later, err, sizeof(err)), -1);
	memset(big, 'x', sizeof(big));
	assert_int_equal(callbacks_add(f->cbs, "j-5", "http://127.0.0.1:9/x",
	    SECRET, big, sizeof(big), later, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "over"));
	assert_null(callbacks_get(f->cbs, "j-5"));
	/* One callback per job. */
	assert_int_equal(callbacks_add(f->cbs, "j-6", "http://127.0.0.1:9/x",
	    SECRET, BODY, strlen(BODY), later, err, sizeof(err)), 0);
	assert_int_equal(callbacks_add(f->cbs, "j-6", "http://127.0.0.1:9/y",
	    SECRET, BODY, strlen(BODY), later, err, sizeof(err)), -1);
}

static void
test_waits_for_the_job_then_fires(void **state)
{
	struct fix *f = *state;
	char url[96], err[256];
	json_t *c;

	rx_start(f, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/done", f->rx.port);
	assert_int_equal(callbacks_wait(f->cbs, "j-7", url, SECRET, 30000, err,
	    sizeof(err)), 0);
	json_decref(run_until_done(f, "j-7", 200));
	c = callbacks_get(f->cbs, "j-7");
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "waiting");
	json_decref(c);
	assert_int_equal(f->rx.requests, 0);
	/* The node restarts before the job ends: the URL and secret stay. */
	callbacks_free(f->cbs);
	cbs_open(f);
	assert_int_equal(callbacks_fire(f->cbs, "j-7", BODY, strlen(BODY)), 0);
	c = run_until_done(f, "j-7", 10000);
	assert_string_equal(json_string_value(json_object_get(c, "state")),
	    "delivered");
	json_decref(c);
	assert_int_equal(f->rx.accepted, 1);
	assert_string_equal(f->rx.last_body, BODY);
	/* Fired once: a second firing, or one for no callback, is refused. */
	assert_int_equal(callbacks_fire(f->cbs, "j-7", BODY, strlen(BODY)), -1);
	assert_int_equal(callbacks_fire(f->cbs, "j-8", BODY, strlen(BODY)), -1);
	assert_int_equal(callbacks_wait(f->cbs, "j-9", "gopher://x", SECRET, 0,
	    err, sizeof(err)), -1);
}

static void
test_sign_known_answer(void **state)
{
	char sig[80];

	(void)state;
	/* HMAC-SHA256("key", "1.{}"), as `printf '1.{}' | openssl dgst
	 * -sha256 -hmac key` prints it. */
	assert_int_equal(callbacks_sign("key", 1, "{}", 2, sig, sizeof(sig)), 0);
	assert_string_equal(sig, "sha256=1ba6b8171186efc613e8bcc0cbdab274"
	    "8f24984d7c5a84faa2637afa0e40d224");
	assert_true(signature_ok("key", "1", "{}", 2, sig));
	assert_false(signature_ok("other", "1", "{}", 2, sig));
	assert_int_equal(callbacks_sign("key", 1, "{}", 2, sig, 10), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_known_answer),
		cmocka_unit_test_setup_teardown(test_delivered_after_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiver_down_at_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_secret_fails_at_deadline,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_goes_on, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_before_stored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_the_job_then_fires,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
