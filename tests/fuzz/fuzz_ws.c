/*
 * fuzz_ws: what a WebSocket client sends the node's /ws (node/api/ws.c), from
 * the upgrade request through wslay's framing to the messages the hub
 * reads, on the hub as the node configures it (default max_message,
 * backlogs, timeouts) and a real evhttp on 127.0.0.1 (port 0), as
 * tests/unit/test_ws.c sets them up.  A pure entry point is impractical:
 * the hub takes the connection's bufferevent over from evhttp.
 *
 * Input: a mode byte, then bytes for one connection.  Mode bit 0 clear:
 * a fixed valid upgrade (read token as a subprotocol) is sent first and
 * the rest are the client's frames (clients mask theirs; the seeds do).
 * Bit 0 set: the rest is all of it, request included, so the fuzzer can
 * reach ws_hub_accept's checks (method, headers, key, Origin, offer,
 * token).
 *
 * Per input, bounded: connect, write everything while running the loop
 * and draining what the server sends, run until neither side moves, close,
 * and run until the hub holds no client.  Invariant: after the client has
 * gone, the hub holds none (nothing leaks a connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "fuzz_util.h"
#include "ws.h"
#include "../unit/ws_fake_auth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROUNDS	2000	/* loop passes per input, whatever happens */

static const char upgrade[] =
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: agentflow.v1, token." READ_TOKEN "\r\n"
    "\r\n";

static struct event_base *base;
static struct evhttp *http;
static struct ws_hub *hub;
static struct sockaddr_in addr;

static json_t *
hello_fn(void *arg)
{
	(void)arg;
	return json_pack("{s:s, s:s, s:b}", "node", "fuzz-self", "version",
	    "0.1.0", "frozen", 0);
}

static json_t *
snapshot_fn(void *arg)
{
	(void)arg;
	return json_pack("{s:{}, s:[], s:[], s:[], s:[]}", "cluster", "tasks",
	    "alerts", "events", "commands");
}

static void
ws_route(struct evhttp_request *req, void *arg)
{
	ws_hub_accept(arg, req);
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
	exit(1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ws_hub_config cfg = { 0 };
	struct evhttp_bound_socket *bound;
	socklen_t sl = sizeof(addr);

	(void)argc;
	(void)argv;
	fuzz_log_init();
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL)
		fail("event_base_new");
	evhttp_set_timeout(http, 30);
	evhttp_set_max_headers_size(http, 16384);
	cfg.authorize = ws_fake_authorize;
	cfg.hello = hello_fn;
	cfg.snapshot = snapshot_fn;
	if ((hub = ws_hub_new(base, &cfg)) == NULL)
		fail("ws_hub_new");
	evhttp_set_cb(http, "/ws", ws_route, hub);
	if ((bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0)) == NULL)
		fail("evhttp_bind_socket");
	if (getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&addr, &sl) != 0)
		fail("getsockname");
	return 0;
}

/* Reads and drops what the server sent: 1 if anything came, -1 on EOF. */
static int
drain(int fd)
{
	uint8_t buf[65536];
	int got = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got = 1;
	if (n == 0 || (errno != EAGAIN && errno != ENOTCONN && errno != EINTR))
		return -1;
	return got;
}

/* Writes what it can: 1 if anything went, -1 when the server is gone. */
static int
feed(int fd, const uint8_t **p, size_t *len)
{
	ssize_t n;

	if (*len == 0)
		return 0;
	n = send(fd, *p, *len, MSG_NOSIGNAL);
	if (n > 0) {
		*p += n;
		*len -= (size_t)n;
		return 1;
	}
	return errno == EAGAIN || errno == ENOTCONN || errno == EINTR ? 0 : -1;
}

static void
talk(const uint8_t *head, size_t headlen, const uint8_t *body, size_t bodylen)
{
	int fd, quiet = 0, eof = 0, r;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fail("socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 &&
	    errno != EINPROGRESS)
		fail("connect");
	for (int round = 0; round < MAX_ROUNDS && !eof && quiet < 3; round++) {
		int moved = 0;

		if ((r = feed(fd, &head, &headlen)) < 0)
			eof = 1;
		moved |= r > 0;
		if (headlen == 0 && !eof) {
			if ((r = feed(fd, &body, &bodylen)) < 0)
				eof = 1;
			moved |= r > 0;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		if ((r = drain(fd)) < 0)
			eof = 1;
		moved |= r > 0;
		if (moved || headlen > 0 || bodylen > 0)
			quiet = 0;
		else
			quiet++;
		if (!moved && !eof)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	close(fd);
	/* The hub sees the EOF and reaps the client (a deferred event). */
	for (int round = 0; round < MAX_ROUNDS && ws_hub_clients(hub) > 0; round++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (round > 10)
			poll(NULL, 0, 1);
	}
	if (ws_hub_clients(hub) > 0) {
		fprintf(stderr, "fuzz: the hub kept a client after it closed\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		talk(data + 1, size - 1, NULL, 0);
	else
		talk((const uint8_t *)upgrade, sizeof(upgrade) - 1, data + 1,
		    size - 1);
	return 0;
}
