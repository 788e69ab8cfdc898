/*
 * Unit tests of node/api/ws.c: a real evhttp server on 127.0.0.1 (port 0) and
 * a real event_base in this process, and minimal RFC 6455 test clients
 * over plain nonblocking TCP sockets, written here (test code only: they
 * send masked frames and read the server's unmasked ones).  The loop is
 * driven in bounded EVLOOP_NONBLOCK steps interleaved with client I/O,
 * every wait bounded by the wall clock.  Assertions are on what a
 * dashboard would observe: HTTP answers, frames, close codes, EOF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "ws.h"
#include "ws_fake_auth.h"

#define WAIT_MS		5000	/* for things that take milliseconds */
#define SAMPLE_KEY	"dGhlIHNhbXBsZSBub25jZQ=="	/* RFC 6455 1.3 */
#define SAMPLE_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define OP_TEXT		0x1
#define OP_CLOSE	0x8
#define OP_PING		0x9
#define OP_PONG		0xa

struct fx {
	struct event_base	*base;
	struct evhttp		*http;
	struct ws_hub		*hub;
	int			 port;
	int			 snapshots;	/* snapshot() calls */
	size_t			 snapshot_pad;
};

struct tc {
	int		 fd;
	uint8_t		*buf;
	size_t		 len, cap;
	int		 eof;
};

struct frame {
	int		 op;
	char		*data;		/* NUL-terminated */
	size_t		 len;
};

/* Fixture. */

static json_t *
hello_fn(void *arg)
{
	(void)arg;
	return json_pack("{s:s, s:s, s:b}", "node", "node-1", "version", "0.1.0",
	    "frozen", 0);
}

static json_t *
snapshot_fn(void *arg)
{
	struct fx *f = arg;
	json_t *s = json_pack("{s:i, s:{}, s:[], s:[], s:[], s:[]}", "n",
	    ++f->snapshots, "cluster", "tasks", "alerts", "events", "commands");

	if (f->snapshot_pad > 0) {
		char *pad = malloc(f->snapshot_pad + 1);

		memset(pad, 'p', f->snapshot_pad);
		pad[f->snapshot_pad] = '\0';
		json_object_set_new(s, "pad", json_string(pad));
		free(pad);
	}
	return s;
}

static void
ws_route(struct evhttp_request *req, void *arg)
{
	struct fx *f = arg;

	ws_hub_accept(f->hub, req);
}

static void
fx_start(struct fx *f, const struct ws_hub_config *over)
{
	struct ws_hub_config cfg = { 0 };
	struct evhttp_bound_socket *bound;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(f, 0, sizeof(*f));
	if (over != NULL)
		cfg = *over;
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->http = evhttp_new(f->base));
	evhttp_set_timeout(f->http, 30);
	evhttp_set_max_headers_size(f->http, 16384);
	cfg.authorize = ws_fake_authorize;
	cfg.hello = hello_fn;
	cfg.snapshot = snapshot_fn;
	cfg.arg = f;
	assert_non_null(f->hub = ws_hub_new(f->base, &cfg));
	evhttp_set_cb(f->http, "/ws", ws_route, f);
	bound = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	assert_non_null(bound);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &sl), 0);
	f->port = ntohs(sin.sin_port);
}

static void
fx_stop(struct fx *f)
{
	ws_hub_free(f->hub);
	if (f->http != NULL)
		evhttp_free(f->http);
	event_base_free(f->base);
}

static void
pump(struct fx *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* Runs the loop for ms milliseconds. */
static void
pump_for(struct fx *f, unsigned ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (clock_mono_ms() < end) {
		pump(f);
		poll(NULL, 0, 1);
	}
}

/* Test client. */

static struct tc *
tc_new(struct fx *f, int rcvbuf)
{
	struct tc *c = calloc(1, sizeof(*c));
	struct sockaddr_in sin = { .sin_family = AF_INET };

	assert_non_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	sin.sin_port = htons((uint16_t)f->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		assert_int_equal(errno, EINPROGRESS);
	return c;
}

static void
tc_free(struct tc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static void
tc_send(struct fx *f, struct tc *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t end = clock_mono_ms() + WAIT_MS;
	ssize_t n;

	while (len > 0) {
		assert_true(clock_mono_ms() < end);
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(errno == EAGAIN || errno == ENOTCONN);
		pump(f);
		poll(NULL, 0, 1);
	}
}

/* Reads what the socket has; 1 when something arrived. */
static int
tc_fill(struct tc *c)
{
	ssize_t n;
	int got = 0;

	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
			assert_non_null(c->buf);
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			got = 1;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != ENOTCONN))
			c->eof = 1;
		return got;
	}
}

static void
tc_consume(struct tc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Sends the raw request text. */
static void
tc_request(struct fx *f, struct tc *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
tc_request(struct fx *f, struct tc *c, const char *fmt, ...)
{
	char req[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	tc_send(f, c, req, (size_t)n);
}

/* Waits for the response head; returns the status, the head into head. */
static int
tc_response(struct fx *f, struct tc *c, char *head, size_t headlen)
{
	uint64_t end = clock_mono_ms() + WAIT_MS;
	uint8_t *e = NULL;
	size_t n;
	int status;

	for (;;) {
		assert_true(clock_mono_ms() < end);
		pump(f);
		tc_fill(c);
		if (c->len > 0 && (e = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL)
			break;
		assert_false(c->eof);
		poll(NULL, 0, 1);
	}
	n = (size_t)(e - c->buf) + 4;
	assert_true(n < headlen);
	memcpy(head, c->buf, n);
	head[n] = '\0';
	tc_consume(c, n);
	assert_int_equal(sscanf(head, "HTTP/1.1 %d", &status), 1);
	return status;
}

/* Waits for the server to close the connection. */
static void
tc_wait_eof(struct fx *f, struct tc *c)
{
	uint64_t end = clock_mono_ms() + WAIT_MS;

	while (!c->eof) {
		assert_true(clock_mono_ms() < end);
		pump(f);
		tc_fill(c);
		poll(NULL, 0, 1);
	}
}

static void
tc_send_frame(struct fx *f, struct tc *c, int op, const void *data, size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t *fr = malloc(len + 14);
	size_t h = 0;

	assert_non_null(fr);
	fr[h++] = (uint8_t)(0x80 | op);
	if (len < 126) {
		fr[h++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		fr[h++] = 0x80 | 126;
		fr[h++] = (uint8_t)(len >> 8);
		fr[h++] = (uint8_t)len;
	} else {
		fr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			fr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(fr + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < len; i++)
		fr[h + i] = ((const uint8_t *)data)[i] ^ mask[i % 4];
	tc_send(f, c, fr, h + len);
	free(fr);
}

static void
tc_send_close(struct fx *f, struct tc *c, uint16_t code)
{
	uint8_t p[2] = { (uint8_t)(code >> 8), (uint8_t)code };

	tc_send_frame(f, c, OP_CLOSE, p, 2);
}

/* 1 when a whole frame is buffered: its header and payload lengths. */
static int
frame_ready(const struct tc *c, size_t *hdr, size_t *plen)
{
	const uint8_t *b = c->buf;
	size_t h = 2, l;

	if (c->len < 2)
		return 0;
	assert_int_equal(b[1] & 0x80, 0);	/* servers do not mask */
	l = b[1] & 0x7f;
	if (l == 126) {
		h = 4;
		if (c->len < h)
			return 0;
		l = ((size_t)b[2] << 8) | b[3];
	} else if (l == 127) {
		h = 10;
		if (c->len < h)
			return 0;
		l = 0;
		for (int i = 0; i < 8; i++)
			l = (l << 8) | b[2 + i];
	}
	if (c->len < h + l)
		return 0;
	*hdr = h;
	*plen = l;
	return 1;
}

/* The next frame within ms; -1 at EOF or timeout. */
static int
tc_frame(struct fx *f, struct tc *c, struct frame *fr, unsigned ms)
{
	uint64_t end = clock_mono_ms() + ms;
	size_t h, l;

	memset(fr, 0, sizeof(*fr));
	for (;;) {
		if (frame_ready(c, &h, &l))
			break;
		if (c->eof || clock_mono_ms() >= end)
			return -1;
		pump(f);
		if (!tc_fill(c))
			poll(NULL, 0, 1);
	}
	assert_int_equal(c->buf[0] & 0x80, 0x80);	/* no fragments */
	fr->op = c->buf[0] & 0x0f;
	fr->len = l;
	fr->data = malloc(l + 1);
	assert_non_null(fr->data);
	memcpy(fr->data, c->buf + h, l);
	fr->data[l] = '\0';
	tc_consume(c, h + l);
	return 0;
}

/* The next text message (server pings skipped), parsed. */
static json_t *
tc_json(struct fx *f, struct tc *c)
{
	struct frame fr;
	json_t *j;

	for (;;) {
		assert_int_equal(tc_frame(f, c, &fr, WAIT_MS), 0);
		if (fr.op != OP_PING)
			break;
		free(fr.data);
	}
	assert_int_equal(fr.op, OP_TEXT);
	j = json_loadb(fr.data, fr.len, 0, NULL);
	free(fr.data);
	assert_non_null(j);
	return j;
}

static const char *
jtype(const json_t *j)
{
	return json_string_value(json_object_get(j, "type"));
}

/* Reads a Close frame (skipping anything else) and returns its code. */
static int
tc_close_code(struct fx *f, struct tc *c)
{
	struct frame fr;
	int code;

	for (;;) {
		assert_int_equal(tc_frame(f, c, &fr, WAIT_MS), 0);
		if (fr.op == OP_CLOSE)
			break;
		free(fr.data);
	}
	assert_true(fr.len >= 2);
	code = ((uint8_t)fr.data[0] << 8) | (uint8_t)fr.data[1];
	free(fr.data);
	return code;
}

/* A standard upgrade with extra header lines (each ending in \r\n). */
static void
tc_upgrade(struct fx *f, struct tc *c, const char *path, const char *extra)
{
	tc_request(f, c, "GET %s HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "%s\r\n", path, f->port, extra);
}

/* Connects with the read token as a subprotocol, checks 101, hello and
 * snapshot. */
static struct tc *
tc_open(struct fx *f, int rcvbuf)
{
	struct tc *c = tc_new(f, rcvbuf);
	char head[4096];
	json_t *j;

	tc_upgrade(f, c, "/ws",
	    "Sec-WebSocket-Protocol: agentflow.v1, token." READ_TOKEN "\r\n");
	assert_int_equal(tc_response(f, c, head, sizeof(head)), 101);
	j = tc_json(f, c);
	assert_string_equal(jtype(j), "hello");
	json_decref(j);
	j = tc_json(f, c);
	assert_string_equal(jtype(j), "snapshot");
	json_decref(j);
	return c;
}

/* The status a raw request gets; the server must close afterwards. */
static int
refusal(struct fx *f, char *head, size_t headlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
refusal(struct fx *f, char *head, size_t headlen, const char *fmt, ...)
{
	struct tc *c = tc_new(f, 0);
	char req[4096];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	tc_send(f, c, req, strlen(req));
	status = tc_response(f, c, head, headlen);
	assert_non_null(strcasestr(head, "Connection: close"));
	tc_wait_eof(f, c);
	tc_free(c);
	return status;
}

static void
publish(struct fx *f, int seq, size_t pad)
{
	json_t *m = json_pack("{s:s, s:i}", "type", "event", "seq", seq);

	if (pad > 0) {
		char *p = malloc(pad + 1);

		memset(p, 'x', pad);
		p[pad] = '\0';
		json_object_set_new(m, "pad", json_string(p));
		free(p);
	}
	ws_hub_publish(f->hub, m);
	json_decref(m);
}

static json_int_t
counter(struct fx *f, const char *name)
{
	json_t *c = ws_hub_counters(f->hub);
	json_int_t v = json_integer_value(json_object_get(c, name));

	json_decref(c);
	return v;
}

/* Pumps until the hub has n clients. */
static void
wait_clients(struct fx *f, size_t n, unsigned ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (ws_hub_clients(f->hub) != n) {
		assert_true(clock_mono_ms() < end);
		pump(f);
		poll(NULL, 0, 1);
	}
}

/* Tests. */

static void
test_subprotocol_token(void **state)
{
	struct fx f;
	struct tc *c;
	char head[4096];
	json_t *j;

	(void)state;
	fx_start(&f, NULL);
	c = tc_new(&f, 0);
	tc_upgrade(&f, c, "/ws", "Origin: http://localhost:5173\r\n"
	    "Sec-WebSocket-Protocol: agentflow.v1, token." READ_TOKEN "\r\n");
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	assert_non_null(strstr(head, "Sec-WebSocket-Accept: " SAMPLE_ACCEPT "\r\n"));
	assert_non_null(strstr(head, "Sec-WebSocket-Protocol: agentflow.v1\r\n"));
	assert_non_null(strcasestr(head, "Upgrade: websocket\r\n"));
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "hello");
	assert_string_equal(json_string_value(json_object_get(j, "role")), "read");
	assert_string_equal(json_string_value(json_object_get(j, "node")), "node-1");
	assert_string_equal(json_string_value(json_object_get(j, "version")), "0.1.0");
	assert_true(json_is_false(json_object_get(j, "frozen")));
	json_decref(j);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "snapshot");
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 1);
	assert_true(json_is_object(json_object_get(j, "cluster")));
	assert_true(json_is_array(json_object_get(j, "tasks")));
	json_decref(j);
	assert_int_equal(ws_hub_clients(f.hub), 1);
	assert_int_equal(counter(&f, "accepted"), 1);
	assert_int_equal(counter(&f, "snapshots"), 1);
	tc_free(c);
	wait_clients(&f, 0, WAIT_MS);
	fx_stop(&f);
}

static void
test_query_token(void **state)
{
	struct fx f;
	struct tc *c;
	char head[4096];
	json_t *j;

	(void)state;
	fx_start(&f, NULL);
	c = tc_new(&f, 0);
	tc_upgrade(&f, c, "/ws?token=" WRITE_TOKEN, "");
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	assert_null(strcasestr(head, "Sec-WebSocket-Protocol"));
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "hello");
	assert_string_equal(json_string_value(json_object_get(j, "role")), "write");
	json_decref(j);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "snapshot");
	json_decref(j);
	tc_free(c);
	fx_stop(&f);
}

static void
test_refusals(void **state)
{
	struct fx f;
	char head[4096];
	const char *std = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\n";

	(void)state;
	fx_start(&f, NULL);
	/* No token, a wrong one, a token in an unknown place. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%sSec-WebSocket-Key: " SAMPLE_KEY "\r\n\r\n", std),
	    401);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%sSec-WebSocket-Key: " SAMPLE_KEY "\r\n"
	    "Sec-WebSocket-Protocol: agentflow.v1, token.wrong-token-0123456789\r\n"
	    "\r\n", std), 401);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token=nope"
	    " HTTP/1.1\r\nHost: 127.0.0.1\r\n%sSec-WebSocket-Key: " SAMPLE_KEY
	    "\r\n\r\n", std), 401);
	/* A token offered without our subprotocol: the client would fail on
	 * any answer. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n%sSec-WebSocket-Key: " SAMPLE_KEY "\r\n"
	    "Sec-WebSocket-Protocol: token." READ_TOKEN "\r\n\r\n", std), 400);
	/* Bad keys. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
	    "Sec-WebSocket-Key: abc\r\n\r\n", std), 400);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", std), 400);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", std), 400);
	/* No Upgrade; Upgrade without Connection: Upgrade. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " SAMPLE_KEY
	    "\r\n\r\n"), 400);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	    "Connection: keep-alive\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n\r\n"), 400);
	/* Version 8: refused, naming the version we speak. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n\r\n"), 400);
	assert_non_null(strcasestr(head, "Sec-WebSocket-Version: 13\r\n"));
	/* Not a GET. */
	assert_int_equal(refusal(&f, head, sizeof(head), "POST /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n%s"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n\r\n", std), 405);
	assert_int_equal(counter(&f, "refused"), 11);
	assert_int_equal(counter(&f, "accepted"), 0);
	assert_int_equal(ws_hub_clients(f.hub), 0);
	fx_stop(&f);
}

static void
test_origin(void **state)
{
	struct fx f;
	struct tc *c;
	char head[4096], extra[256];
	const char *std = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " SAMPLE_KEY "\r\n";

	(void)state;
	fx_start(&f, NULL);
	/* A foreign page. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
	    "Origin: http://evil.example\r\n\r\n", f.port, std), 403);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
	    "Origin: null\r\n\r\n", f.port, std), 403);
	/* Same host, other port: another origin. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 192.0.2.1:%d\r\n%s"
	    "Origin: http://192.0.2.1:1\r\n\r\n", f.port, std), 403);
	/* DNS rebinding: Origin and Host agree, but name a host by a name. */
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: evil.example:%d\r\n%s"
	    "Origin: http://evil.example:%d\r\n\r\n", f.port, std, f.port), 403);

	/* The node's own page by address, and loopback dev servers. */
	snprintf(extra, sizeof(extra), "Origin: http://127.0.0.1:%d\r\n", f.port);
	c = tc_new(&f, 0);
	tc_upgrade(&f, c, "/ws?token=" READ_TOKEN, extra);
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	tc_free(c);
	c = tc_new(&f, 0);
	tc_request(&f, c, "GET /ws?token=" READ_TOKEN " HTTP/1.1\r\n"
	    "Host: 192.0.2.1:%d\r\n%sOrigin: http://192.0.2.1:%d\r\n\r\n",
	    f.port, std, f.port);
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	tc_free(c);
	c = tc_new(&f, 0);
	tc_upgrade(&f, c, "/ws?token=" READ_TOKEN, "Origin: http://[::1]:5173\r\n");
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	tc_free(c);
	c = tc_new(&f, 0);
	tc_upgrade(&f, c, "/ws?token=" READ_TOKEN, "Origin: http://localhost\r\n");
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	tc_free(c);
	fx_stop(&f);
}

static void
test_publish_order(void **state)
{
	struct fx f;
	struct tc *a, *b;
	json_t *j;
	int i;

	(void)state;
	fx_start(&f, NULL);
	a = tc_open(&f, 0);
	b = tc_open(&f, 0);
	for (i = 0; i < 200; i++)
		publish(&f, i, (size_t)(i % 7) * 100);
	for (i = 0; i < 200; i++) {
		j = tc_json(&f, a);
		assert_string_equal(jtype(j), "event");
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
		j = tc_json(&f, b);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
	}
	assert_int_equal(counter(&f, "messages_out"), 2 * (2 + 200));
	assert_true(counter(&f, "bytes_out") > 0);
	tc_free(a);
	tc_free(b);
	fx_stop(&f);
}

static void
test_ping(void **state)
{
	struct fx f;
	struct tc *c;
	struct frame fr;
	json_t *j;

	(void)state;
	fx_start(&f, NULL);
	c = tc_open(&f, 0);
	tc_send_frame(&f, c, OP_PING, "abc", 3);
	assert_int_equal(tc_frame(&f, c, &fr, WAIT_MS), 0);
	assert_int_equal(fr.op, OP_PONG);
	assert_int_equal(fr.len, 3);
	assert_memory_equal(fr.data, "abc", 3);
	free(fr.data);
	tc_send_frame(&f, c, OP_TEXT, "{\"type\":\"ping\"}", 15);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "pong");
	json_decref(j);
	/* Anything else is ignored. */
	tc_send_frame(&f, c, OP_TEXT, "{\"type\":\"nonsense\"}", 19);
	tc_send_frame(&f, c, OP_TEXT, "not json", 8);
	tc_send_frame(&f, c, 0x2, "\x01\x02", 2);
	tc_send_frame(&f, c, OP_TEXT, "{\"type\":\"ping\"}", 15);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "pong");
	json_decref(j);
	assert_int_equal(ws_hub_clients(f.hub), 1);
	tc_free(c);
	fx_stop(&f);
}

/* Frames right behind the request, in the same segment. */
static void
test_pipelined_frame(void **state)
{
	static const uint8_t ping[] = { 0x81, 0x80 | 15, 0, 0, 0, 0,
	    '{', '"', 't', 'y', 'p', 'e', '"', ':', '"', 'p', 'i', 'n', 'g', '"',
	    '}' };
	struct fx f;
	struct tc *c;
	char head[4096], req[1024];
	json_t *j;
	int n;

	(void)state;
	fx_start(&f, NULL);
	c = tc_new(&f, 0);
	n = snprintf(req, sizeof(req), "GET /ws?token=" READ_TOKEN " HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " SAMPLE_KEY "\r\n"
	    "\r\n");
	memcpy(req + n, ping, sizeof(ping));
	tc_send(&f, c, req, (size_t)n + sizeof(ping));
	assert_int_equal(tc_response(&f, c, head, sizeof(head)), 101);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "hello");
	json_decref(j);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "snapshot");
	json_decref(j);
	j = tc_json(&f, c);
	assert_string_equal(jtype(j), "pong");
	json_decref(j);
	tc_free(c);
	fx_stop(&f);
}

static void
test_oversized_message(void **state)
{
	struct ws_hub_config cfg = { .max_message = 1024 };
	struct fx f;
	struct tc *c;
	char big[2000];

	(void)state;
	fx_start(&f, &cfg);
	c = tc_open(&f, 0);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	tc_send_frame(&f, c, OP_TEXT, big, sizeof(big));
	assert_int_equal(tc_close_code(&f, c), 1009);
	tc_wait_eof(&f, c);
	wait_clients(&f, 0, WAIT_MS);
	tc_free(c);
	fx_stop(&f);
}

static void
test_max_clients(void **state)
{
	struct ws_hub_config cfg = { .max_clients = 2 };
	struct fx f;
	struct tc *a, *b, *c;
	char head[4096];

	(void)state;
	fx_start(&f, &cfg);
	a = tc_open(&f, 0);
	b = tc_open(&f, 0);
	assert_int_equal(refusal(&f, head, sizeof(head), "GET /ws?token="
	    READ_TOKEN " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n\r\n"), 503);
	/* A place frees up once one has gone. */
	tc_send_close(&f, a, 1000);
	assert_int_equal(tc_close_code(&f, a), 1000);
	tc_wait_eof(&f, a);
	wait_clients(&f, 1, WAIT_MS);
	c = tc_open(&f, 0);
	assert_int_equal(ws_hub_clients(f.hub), 2);
	tc_free(a);
	tc_free(b);
	tc_free(c);
	fx_stop(&f);
}

static void
test_client_close(void **state)
{
	struct fx f;
	struct tc *c;

	(void)state;
	fx_start(&f, NULL);
	c = tc_open(&f, 0);
	tc_send_close(&f, c, 1000);
	assert_int_equal(tc_close_code(&f, c), 1000);
	tc_wait_eof(&f, c);
	wait_clients(&f, 0, WAIT_MS);
	/* Published to nobody. */
	publish(&f, 1, 0);
	assert_int_equal(counter(&f, "messages_out"), 2);
	tc_free(c);
	fx_stop(&f);
}

/*
 * A client that stops reading (tiny receive buffer) crosses the soft
 * backlog: it skips messages, and once it reads again it gets a fresh
 * snapshot and then everything after it.  A fast client meanwhile gets
 * every message.
 */
static void
test_slow_client_soft(void **state)
{
	struct ws_hub_config cfg = { .soft_backlog = 64 * 1024,
	    .hard_backlog = 64 * 1024 * 1024 };
	struct fx f;
	struct tc *fast, *slow;
	json_t *j;
	int i, n = 3000, seq, last = -1, skipped = 0, snap = 0, after_snap = 0;

	(void)state;
	fx_start(&f, &cfg);
	fast = tc_open(&f, 0);
	slow = tc_open(&f, 4096);
	for (i = 0; i < n; i++) {
		publish(&f, i, 1024);
		pump(&f);
		tc_fill(fast);
	}
	for (i = 0; i < n; i++) {
		j = tc_json(&f, fast);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
	}
	/*
	 * The slow one, read until it is quiet: events in order, and a gap
	 * only right after a snapshot.  The kernel's send buffer (autotuned)
	 * may let it catch up and fall behind more than once.
	 */
	for (;;) {
		struct frame fr;

		if (tc_frame(&f, slow, &fr, 500) != 0)
			break;
		if (fr.op == OP_PING) {
			/* The hub's keepalive, when reading took that long. */
			free(fr.data);
			continue;
		}
		assert_int_equal(fr.op, OP_TEXT);
		j = json_loadb(fr.data, fr.len, 0, NULL);
		free(fr.data);
		assert_non_null(j);
		if (strcmp(jtype(j), "snapshot") == 0) {
			snap++;
			after_snap = 1;
		} else {
			seq = (int)json_integer_value(json_object_get(j, "seq"));
			assert_true(seq > last);
			if (!after_snap)
				assert_int_equal(seq, last + 1);
			skipped += seq - last - 1;
			last = seq;
			after_snap = 0;
		}
		json_decref(j);
	}
	assert_false(slow->eof);
	assert_true(snap >= 1);
	skipped += n - 1 - last;
	assert_true(skipped > 0);
	assert_int_equal(counter(&f, "snapshots"), 2 + snap);
	for (i = n; i < n + 50; i++)
		publish(&f, i, 10);
	for (i = n; i < n + 50; i++) {
		j = tc_json(&f, slow);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
		j = tc_json(&f, fast);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
	}
	assert_int_equal(counter(&f, "closed_slow"), 0);
	assert_int_equal(ws_hub_clients(f.hub), 2);
	print_message("slow client skipped %d of %d messages, %d snapshots\n",
	    skipped, n, snap);
	tc_free(fast);
	tc_free(slow);
	fx_stop(&f);
}

/* Past the hard backlog: Close 1008, while the fast client gets all. */
static void
test_slow_client_hard(void **state)
{
	struct ws_hub_config cfg = { .soft_backlog = 64 * 1024,
	    .hard_backlog = 256 * 1024 };
	struct fx f;
	struct tc *fast, *slow;
	json_t *j;
	int i;

	(void)state;
	fx_start(&f, &cfg);
	fast = tc_open(&f, 0);
	slow = tc_open(&f, 4096);
	publish(&f, 0, 3 * 1024 * 1024);
	j = tc_json(&f, fast);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 0);
	json_decref(j);
	for (i = 1; i < 20; i++) {
		publish(&f, i, 100);
		j = tc_json(&f, fast);
		assert_int_equal(json_integer_value(json_object_get(j, "seq")), i);
		json_decref(j);
	}
	assert_int_equal(counter(&f, "closed_slow"), 1);
	/* Reading again, the slow one finds what was in flight, then 1008. */
	assert_int_equal(tc_close_code(&f, slow), 1008);
	tc_send_close(&f, slow, 1008);
	tc_wait_eof(&f, slow);
	wait_clients(&f, 1, WAIT_MS);
	publish(&f, 20, 0);
	j = tc_json(&f, fast);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 20);
	json_decref(j);
	tc_free(fast);
	tc_free(slow);
	fx_stop(&f);
}

/* A client that keeps sending but never reads stalls its output: the
 * write timeout ends it. */
static void
test_stalled_client(void **state)
{
	struct ws_hub_config cfg = { .idle_s = 1 };
	struct fx f;
	struct tc *slow;
	uint64_t end;

	(void)state;
	fx_start(&f, &cfg);
	slow = tc_open(&f, 4096);
	publish(&f, 0, 2 * 1024 * 1024);
	end = clock_mono_ms() + WAIT_MS;
	while (ws_hub_clients(f.hub) > 0) {
		assert_true(clock_mono_ms() < end);
		tc_send_frame(&f, slow, OP_PING, "", 0);
		pump_for(&f, 100);
	}
	/* It gets the end of the connection, not the rest of the message. */
	tc_wait_eof(&f, slow);
	tc_free(slow);
	fx_stop(&f);
}

/* The server pings; a client that never answers is closed as idle. */
static void
test_ping_and_idle(void **state)
{
	struct ws_hub_config cfg = { .ping_s = 1, .idle_s = 2 };
	struct fx f;
	struct tc *c;
	struct frame fr;

	(void)state;
	fx_start(&f, &cfg);
	c = tc_open(&f, 0);
	assert_int_equal(tc_frame(&f, c, &fr, 3000), 0);
	assert_int_equal(fr.op, OP_PING);
	free(fr.data);
	assert_int_equal(tc_close_code(&f, c), 1001);
	tc_wait_eof(&f, c);
	wait_clients(&f, 0, WAIT_MS);
	tc_free(c);
	fx_stop(&f);
}

static void
test_hub_free_with_clients(void **state)
{
	struct fx f;
	struct tc *a, *b;

	(void)state;
	fx_start(&f, NULL);
	a = tc_open(&f, 0);
	b = tc_open(&f, 0);
	publish(&f, 1, 10);
	ws_hub_free(f.hub);
	f.hub = NULL;
	for (int i = 0; i < 2; i++) {
		struct tc *c = i == 0 ? a : b;
		json_t *j = tc_json(&f, c);

		assert_int_equal(json_integer_value(json_object_get(j, "seq")), 1);
		json_decref(j);
		assert_int_equal(tc_close_code(&f, c), 1001);
		tc_wait_eof(&f, c);
	}
	tc_free(a);
	tc_free(b);
	fx_stop(&f);
}

/* evhttp_free first (the closecb path: sessions freed, connections left
 * to evhttp), then the hub. */
static void
test_evhttp_free_first(void **state)
{
	struct fx f;
	struct tc *a, *b, *c;

	(void)state;
	fx_start(&f, NULL);
	a = tc_open(&f, 0);
	b = tc_open(&f, 0);
	c = tc_open(&f, 0);
	tc_free(c);
	wait_clients(&f, 2, WAIT_MS);
	evhttp_free(f.http);
	f.http = NULL;
	assert_int_equal(ws_hub_clients(f.hub), 0);
	tc_wait_eof(&f, a);
	tc_wait_eof(&f, b);
	tc_free(a);
	tc_free(b);
	fx_stop(&f);
}

/* Heap per connected client, as glibc counts it (0 under ASan). */
static void
test_memory_per_client(void **state)
{
	enum { N = 100 };
	struct ws_hub_config cfg = { .max_clients = N };
	struct fx f;
	struct tc *c[N];
	struct mallinfo2 before, after;
	char head[4096];
	json_t *j;

	(void)state;
	fx_start(&f, &cfg);
	for (int i = 0; i < N; i++) {
		c[i] = tc_new(&f, 0);
		c[i]->cap = 1 << 16;
		c[i]->buf = malloc(c[i]->cap + 65536);
		c[i]->cap += 65536;
	}
	pump_for(&f, 10);
	before = mallinfo2();
	for (int i = 0; i < N; i++)
		tc_upgrade(&f, c[i], "/ws?token=" READ_TOKEN, "");
	for (int i = 0; i < N; i++) {
		assert_int_equal(tc_response(&f, c[i], head, sizeof(head)), 101);
		for (int k = 0; k < 2; k++) {
			j = tc_json(&f, c[i]);
			json_decref(j);
		}
	}
	pump_for(&f, 10);
	after = mallinfo2();
	assert_int_equal(ws_hub_clients(f.hub), N);
	if (after.uordblks > before.uordblks)
		print_message("heap per client: %zu bytes\n",
		    (after.uordblks - before.uordblks) / N);
	for (int i = 0; i < N; i++)
		tc_free(c[i]);
	wait_clients(&f, 0, WAIT_MS);
	fx_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subprotocol_token),
		cmocka_unit_test(test_query_token),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_publish_order),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_pipelined_frame),
		cmocka_unit_test(test_oversized_message),
		cmocka_unit_test(test_max_clients),
		cmocka_unit_test(test_client_close),
		cmocka_unit_test(test_slow_client_soft),
		cmocka_unit_test(test_slow_client_hard),
		cmocka_unit_test(test_stalled_client),
		cmocka_unit_test(test_ping_and_idle),
		cmocka_unit_test(test_hub_free_with_clients),
		cmocka_unit_test(test_evhttp_free_first),
		cmocka_unit_test(test_memory_per_client),
	};

	log_init("test_ws", LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
