/*
 * The dashboard's WebSocket feed (ws.h, node/api/WS.md).  evhttp parses the
 * upgrade request; ws_hub_accept has it checked (ws_policy.c, then the
 * node's authoriser and the client limit) and then takes the
 * connection's bufferevent over (shared/notes/websocket-on-evhttp.md), and
 * wslay does the RFC 6455 framing from there on.
 *
 * Invariants:
 *  - A client is on exactly one list: hub->live (state below DEAD) or
 *    hub->dead.  Only live clients count against max_clients.
 *  - A client is freed only by reap_cb (a deferred event), by
 *    conn_close_cb (evhttp_free at shutdown) or by ws_hub_free, never from
 *    a callback of its own: client_kill only marks it and moves it.
 *  - A published message is serialized once into a refcounted ws_msg.  A
 *    client holds references in its queue and hands a message to wslay
 *    (which copies it) only while its output buffer plus wslay's queue
 *    stay below OUT_HIGH.  So a slow client costs references rather than
 *    copies, and messages it skips or drops are always whole frames.
 *  - wslay's send callback never blocks (it appends to the output
 *    evbuffer), so after every wslay_event_send the wslay queue is empty
 *    unless writing is disabled.  A client's backlog is its queued bytes
 *    plus wslay's queue plus the output evbuffer.
 *
 * Client states:
 *
 *   state    entered by                          left by
 *   OPEN     client_new (hello + snapshot sent)  publish_one: backlog > soft
 *                                                  -> BEHIND
 *   BEHIND   publish_one (queue dropped,         refill: output drained
 *            messages skipped)                     -> OPEN (fresh snapshot)
 *   CLOSING  client_close (we queued a Close),   client_pump: Close sent,
 *            client_pump (peer's Close, 1009 or    reading done, output
 *            protocol error from wslay)            drained -> DEAD
 *   DEAD     client_kill (also on EOF, errors,   reap_cb, conn_close_cb,
 *            write timeout)                        ws_hub_free free it
 *
 * OPEN and BEHIND may also go to CLOSING or DEAD directly; nothing leaves
 * DEAD.  CLOSING and DEAD hold no queued messages.
 */
#include "ws.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <wslay/wslay.h>

#include "check.h"
#include "http_json.h"
#include "log.h"
#include "ws_policy.h"
#include "xalloc.h"

/* Messages move from a client's queue to wslay while the output buffer
 * (plus wslay's queue) holds less than OUT_HIGH; the write callback runs
 * again once the output has drained to OUT_LOW. */
#define OUT_HIGH	(64 * 1024)
#define OUT_LOW		(16 * 1024)
/* SO_SNDBUF of a client's socket. */
#define KERNEL_SNDBUF	(128 * 1024)
/* After we sent a Close, how long the peer has to answer it. */
#define CLOSE_WAIT_S	5

struct ws_msg {
	unsigned	 refs;
	size_t		 len;
	uint8_t		 data[];
};

enum ws_state { WS_OPEN, WS_BEHIND, WS_CLOSING, WS_DEAD };

struct ws_client {
	TAILQ_ENTRY(ws_client)	 entry;
	struct ws_hub		*hub;
	struct evhttp_connection *evcon;
	struct bufferevent	*bev;
	wslay_event_context_ptr	 ws;
	enum ws_state		 state;
	enum ws_role		 role;
	/* Ring of messages not yet handed to wslay. */
	struct ws_msg		**q;
	size_t			 qcap, qhead, qlen, qbytes;
	char			 peer[INET6_ADDRSTRLEN];
};
TAILQ_HEAD(ws_clients, ws_client);

struct ws_hub {
	struct event_base	*base;
	struct ws_hub_config	 cfg;
	struct ws_clients	 live, dead;
	size_t			 nlive;
	struct event		*reap, *ping;
	uint64_t		 accepted, refused, closed_slow, snapshots;
	uint64_t		 messages_out, bytes_out;
};

static void client_pump(struct ws_client *);

/* Messages. */

static struct ws_msg *
msg_new(const json_t *j)
{
	size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	size_t len = json_dumpb(j, NULL, 0, flags);
	struct ws_msg *m;

	if (len == 0)
		return NULL;
	m = xmalloc(sizeof(*m) + len);
	m->refs = 1;
	m->len = json_dumpb(j, (char *)m->data, len, flags);
	CHECK(m->len == len);
	return m;
}

static void
msg_unref(struct ws_msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

static void
queue_push(struct ws_client *c, struct ws_msg *m)
{
	if (c->qlen == c->qcap) {
		size_t ncap = c->qcap ? c->qcap * 2 : 16;
		struct ws_msg **nq = xcalloc(ncap, sizeof(*nq));

		for (size_t i = 0; i < c->qlen; i++)
			nq[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qcap = ncap;
		c->qhead = 0;
	}
	m->refs++;
	c->q[(c->qhead + c->qlen) % c->qcap] = m;
	c->qlen++;
	c->qbytes += m->len;
}

static struct ws_msg *
queue_pop(struct ws_client *c)
{
	struct ws_msg *m;

	if (c->qlen == 0)
		return NULL;
	m = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	c->qbytes -= m->len;
	return m;
}

static void
queue_drop(struct ws_client *c)
{
	struct ws_msg *m;

	while ((m = queue_pop(c)) != NULL)
		msg_unref(m);
}

/* Clients: lifetime. */

static size_t
backlog(const struct ws_client *c)
{
	return c->qbytes + wslay_event_get_queued_msg_length(c->ws) +
	    evbuffer_get_length(bufferevent_get_output(c->bev));
}

static void
check_client(const struct ws_client *c)
{
	CHECK(c->state <= WS_DEAD);
	CHECK(c->qlen == 0 || c->state < WS_CLOSING);
	CHECK(c->qlen <= c->qcap);
	(void)c;
}

/* Frees what the session owns; the connection is the caller's business. */
static void
session_free(struct ws_client *c)
{
	queue_drop(c);
	free(c->q);
	wslay_event_context_free(c->ws);
	free(c);
}

static void
unlink_client(struct ws_client *c)
{
	struct ws_hub *hub = c->hub;

	if (c->state == WS_DEAD) {
		TAILQ_REMOVE(&hub->dead, c, entry);
	} else {
		TAILQ_REMOVE(&hub->live, c, entry);
		hub->nlive--;
	}
}

/* Frees the client and its connection (closing the socket).  Not from the
 * client's own callbacks. */
static void
client_destroy(struct ws_client *c)
{
	unlink_client(c);
	evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	evhttp_connection_free(c->evcon);
	session_free(c);
}

/* Marks the client dead; reap_cb frees it on the next loop pass. */
static void
client_kill(struct ws_client *c, const char *why)
{
	struct ws_hub *hub = c->hub;

	if (c->state == WS_DEAD)
		return;
	if (why != NULL)
		log_event(LOG_INFO, "websocket client dropped", "{s:s, s:s}",
		    "peer", c->peer, "reason", why);
	queue_drop(c);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	TAILQ_REMOVE(&hub->live, c, entry);
	hub->nlive--;
	c->state = WS_DEAD;
	TAILQ_INSERT_TAIL(&hub->dead, c, entry);
	event_active(hub->reap, 0, 0);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_hub *hub = arg;
	struct ws_client *c;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&hub->dead)) != NULL)
		client_destroy(c);
}

/* evhttp_free is freeing the connection (shutdown): free the session, but
 * leave the connection and its bufferevent alone. */
static void
conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct ws_client *c = arg;

	(void)evcon;
	unlink_client(c);
	session_free(c);
}

/* Enters CLOSING: no more messages; wait for the peer's Close, bounded. */
static void
enter_closing(struct ws_client *c)
{
	struct timeval rd = { CLOSE_WAIT_S, 0 };
	struct timeval wr = { c->hub->cfg.idle_s, 0 };

	if (c->state >= WS_CLOSING)
		return;
	queue_drop(c);
	c->state = WS_CLOSING;
	if (rd.tv_sec > wr.tv_sec)
		rd.tv_sec = wr.tv_sec;
	bufferevent_set_timeouts(c->bev, &rd, &wr);
}

/* Queues a Close; the caller pumps. */
static void
client_close(struct ws_client *c, uint16_t code, const char *reason)
{
	if (c->state >= WS_CLOSING)
		return;
	/* NO_MORE_MSG when a Close is already queued: that one goes. */
	(void)wslay_event_queue_close(c->ws, code, (const uint8_t *)reason,
	    strlen(reason));
	enter_closing(c);
}

/* Clients: output. */

/* Closes a client whose backlog would pass the hard bound (1008). */
static int
too_slow(struct ws_client *c, size_t more)
{
	struct ws_hub *hub = c->hub;
	size_t b = backlog(c) + more;

	if (b <= hub->cfg.hard_backlog)
		return 0;
	hub->closed_slow++;
	log_event(LOG_WARN, "websocket client too slow", "{s:s, s:I}",
	    "peer", c->peer, "backlog", (json_int_t)b);
	client_close(c, WSLAY_CODE_POLICY_VIOLATION, "too slow");
	return 1;
}

/* Queues j (stolen) to wslay, or closes the client when it would pass the
 * hard bound (then 0 too: the client is handled). */
static int
send_json(struct ws_client *c, json_t *j)
{
	struct ws_msg *m = msg_new(j);
	struct wslay_event_msg wm;
	int r;

	json_decref(j);
	if (m == NULL)
		return -1;
	if (too_slow(c, m->len)) {
		msg_unref(m);
		return 0;
	}
	wm.opcode = WSLAY_TEXT_FRAME;
	wm.msg = m->data;
	wm.msg_length = m->len;
	r = wslay_event_queue_msg(c->ws, &wm);
	msg_unref(m);
	if (r != 0)
		return -1;
	c->hub->messages_out++;
	return 0;
}

/* {"type": type, ...fields of obj} (obj stolen; NULL: none). */
static json_t *
typed(const char *type, json_t *obj)
{
	json_t *j = json_pack("{s:s}", "type", type);

	if (obj != NULL) {
		json_object_del(obj, "type");
		json_object_update(j, obj);
		json_decref(obj);
	}
	return j;
}

static int
send_snapshot(struct ws_client *c)
{
	struct ws_hub *hub = c->hub;
	json_t *s = hub->cfg.snapshot != NULL ? hub->cfg.snapshot(hub->cfg.arg) :
	    json_object();

	CHECK(c->qlen == 0);
	if (s == NULL || !json_is_object(s)) {
		json_decref(s);
		log_warnx("websocket snapshot: the node could not build one");
		return -1;
	}
	hub->snapshots++;
	return send_json(c, typed("snapshot", s));
}

/* Hands queued messages to wslay while the output has room; a client
 * that was behind and has drained gets its fresh snapshot here. */
static void
refill(struct ws_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct wslay_event_msg wm;
	struct ws_msg *m;

	while (c->qlen > 0 && evbuffer_get_length(out) +
	    wslay_event_get_queued_msg_length(c->ws) < OUT_HIGH) {
		m = queue_pop(c);
		wm.opcode = WSLAY_TEXT_FRAME;
		wm.msg = m->data;
		wm.msg_length = m->len;
		if (wslay_event_queue_msg(c->ws, &wm) == 0)
			c->hub->messages_out++;
		msg_unref(m);
	}
	if (c->state == WS_BEHIND && backlog(c) <= OUT_LOW) {
		c->state = WS_OPEN;
		if (send_snapshot(c) != 0)
			client_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR,
			    "no snapshot");
	}
}

/*
 * Moves the client on after anything happened to it: feeds wslay, sends,
 * notices a Close either way, and kills the client once the Close
 * handshake is over and its output has drained.
 */
static void
client_pump(struct ws_client *c)
{
	if (c->state == WS_DEAD)
		return;
	if (c->state < WS_CLOSING)
		refill(c);
	if (wslay_event_send(c->ws) != 0) {
		client_kill(c, "websocket send failed");
		return;
	}
	if (!wslay_event_get_read_enabled(c->ws) ||
	    !wslay_event_get_write_enabled(c->ws))
		enter_closing(c);
	if (c->state == WS_CLOSING && !wslay_event_want_read(c->ws) &&
	    !wslay_event_want_write(c->ws) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_kill(c, NULL);
	check_client(c);
}

/* Clients: input. */

static void
cmsg_ping(struct ws_client *c, const json_t *msg)
{
	(void)msg;
	if (send_json(c, typed("pong", NULL)) != 0)
		client_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR, "");
}

/* What a client may send (WS.md, "Client → server"); the rest is
 * ignored. */
static const struct {
	const char	*type;
	void		(*fn)(struct ws_client *, const json_t *);
} client_msgs[] = {
	{ "ping", cmsg_ping },
};

static void
on_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
    void *arg)
{
	struct ws_client *c = arg;
	const char *type;
	json_t *j;

	(void)ctx;
	if (a->opcode != WSLAY_TEXT_FRAME || c->state >= WS_CLOSING)
		return;
	/* A client filling our output with pongs is as slow as any other. */
	if (too_slow(c, 0))
		return;
	if ((j = json_loadb((const char *)a->msg, a->msg_length, 0, NULL)) == NULL)
		return;
	if ((type = json_string_value(json_object_get(j, "type"))) != NULL) {
		for (size_t i = 0; i < sizeof(client_msgs) / sizeof(client_msgs[0]);
		    i++) {
			if (strcmp(type, client_msgs[i].type) == 0) {
				client_msgs[i].fn(c, j);
				break;
			}
		}
	}
	json_decref(j);
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *arg)
{
	struct ws_client *c = arg;
	int n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);

	(void)flags;
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct ws_client *c = arg;

	(void)flags;
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	c->hub->bytes_out += len;
	return (ssize_t)len;
}

static void
client_read(struct ws_client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	if (c->state == WS_DEAD)
		return;
	if (wslay_event_want_read(c->ws)) {
		if (wslay_event_recv(c->ws) != 0) {
			client_kill(c, "websocket receive failed");
			return;
		}
	}
	/* Whatever follows a Close, or arrives after reading stopped. */
	if (!wslay_event_want_read(c->ws))
		evbuffer_drain(in, evbuffer_get_length(in));
	client_pump(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_read(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	client_pump(arg);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ws_client *c = arg;

	(void)bev;
	if (!(what & BEV_EVENT_TIMEOUT)) {
		client_kill(c, (what & BEV_EVENT_EOF) ? NULL : "connection error");
		return;
	}
	/* Output pending and none of it moved for idle_s: stalled. */
	if (what & BEV_EVENT_WRITING) {
		client_kill(c, "write timeout");
		return;
	}
	if (c->state == WS_CLOSING) {
		client_kill(c, NULL);
		return;
	}
	/* Silent through several pings. */
	client_close(c, WSLAY_CODE_GOING_AWAY, "idle");
	wslay_event_shutdown_read(c->ws);
	client_pump(c);
}

static void
ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ws_hub *hub = arg;
	struct ws_client *c, *next;
	struct wslay_event_msg wm = { WSLAY_PING, NULL, 0 };

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&hub->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state >= WS_CLOSING)
			continue;
		(void)wslay_event_queue_msg(c->ws, &wm);
		client_pump(c);
	}
}

/* The upgrade. */

static void
refuse(struct ws_hub *hub, struct evhttp_request *req, enum ws_refusal why)
{
	const struct ws_refusal_answer *a = ws_policy_answer(why);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char peer[INET6_ADDRSTRLEN];

	hub->refused++;
	http_peer_ip(req, peer, sizeof(peer));
	log_event(LOG_DEBUG, "websocket upgrade refused", "{s:s, s:i, s:s}",
	    "peer", peer, "status", a->status, "error", a->code);
	if (a->header != NULL)
		evhttp_add_header(out, a->header, a->value);
	evhttp_add_header(out, "Connection", "close");
	http_reply_error(req, a->status, a->code, "%s", a->message);
}

static void
takeover(struct ws_hub *hub, struct evhttp_request *req,
    const struct ws_verdict *v, enum ws_role role)
{
	static const struct wslay_event_callbacks cbs = {
		.recv_callback = recv_cb,
		.send_callback = send_cb,
		.on_msg_recv_callback = on_msg_cb,
	};
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct timeval idle = { hub->cfg.idle_s, 0 };
	struct ws_client *c = xcalloc(1, sizeof(*c));
	int sndbuf = KERNEL_SNDBUF;
	json_t *hello;

	c->hub = hub;
	c->evcon = evcon;
	c->bev = bev;
	c->role = role;
	c->state = WS_OPEN;
	http_peer_ip(req, c->peer, sizeof(c->peer));
	if (wslay_event_context_server_init(&c->ws, &cbs, c) != 0)
		fatalx("websocket: out of memory");
	wslay_event_config_set_max_recv_msg_length(c->ws, hub->cfg.max_message);

	/* From here on the connection is ours; evhttp must not see another
	 * event on it (its read callback would exit the process). */
	evhttp_connection_set_closecb(evcon, conn_close_cb, c);
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, 0);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
	bufferevent_set_timeouts(bev, &idle, &idle);
	/* The kernel's buffer is backlog too, but out of our sight: keep it
	 * small next to hard_backlog (Linux doubles what it is given). */
	(void)setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF, &sndbuf,
	    sizeof(sndbuf));
	evbuffer_add_printf(bufferevent_get_output(bev),
	    "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n"
	    "%s\r\n", v->accept,
	    v->protocols ? "Sec-WebSocket-Protocol: " WS_POLICY_PROTOCOL "\r\n" :
	    "");
	TAILQ_INSERT_TAIL(&hub->live, c, entry);
	hub->nlive++;
	hub->accepted++;
	log_event(LOG_INFO, "websocket client connected", "{s:s, s:s, s:i}",
	    "peer", c->peer, "role", role == WS_ROLE_WRITE ? "write" : "read",
	    "clients", (int)hub->nlive);

	hello = hub->cfg.hello != NULL ? hub->cfg.hello(hub->cfg.arg) :
	    json_object();
	if (hello == NULL || !json_is_object(hello)) {
		json_decref(hello);
		hello = json_object();
	}
	json_object_set_new(hello, "role",
	    json_string(role == WS_ROLE_WRITE ? "write" : "read"));
	if (send_json(c, typed("hello", hello)) != 0 || send_snapshot(c) != 0)
		client_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR, "no snapshot");

	bufferevent_enable(bev, EV_READ | EV_WRITE);
	/* Frames sent right behind the request are already buffered; no read
	 * event will come for them. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		client_read(c);
	else
		client_pump(c);
}

void
ws_hub_accept(struct ws_hub *hub, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct ws_verdict v;
	enum ws_role role = WS_ROLE_NONE;

	ws_policy_check(evhttp_request_get_command(req),
	    evhttp_request_get_input_headers(req),
	    uri != NULL ? evhttp_uri_get_query(uri) : NULL, hub->cfg.allow_origins,
	    &v);
	if (v.refusal == WS_ACCEPT && v.token[0] != '\0')
		role = hub->cfg.authorize(hub->cfg.auth_arg, v.token);
	explicit_bzero(v.token, sizeof(v.token));
	if (v.refusal == WS_ACCEPT && role == WS_ROLE_NONE)
		v.refusal = WS_REFUSE_TOKEN;
	if (v.refusal == WS_ACCEPT && hub->nlive >= hub->cfg.max_clients)
		v.refusal = WS_REFUSE_BUSY;
	if (v.refusal != WS_ACCEPT) {
		refuse(hub, req, v.refusal);
		return;
	}
	takeover(hub, req, &v, role);
}

/* The hub. */

struct ws_hub *
ws_hub_new(struct event_base *base, const struct ws_hub_config *cfg)
{
	struct ws_hub *hub = xcalloc(1, sizeof(*hub));
	struct timeval tv;

	CHECK(cfg->authorize != NULL);
	hub->base = base;
	hub->cfg = *cfg;
	if (hub->cfg.max_clients == 0)
		hub->cfg.max_clients = 256;
	if (hub->cfg.max_message == 0)
		hub->cfg.max_message = 64 * 1024;
	if (hub->cfg.soft_backlog == 0)
		hub->cfg.soft_backlog = 1024 * 1024;
	if (hub->cfg.hard_backlog == 0)
		hub->cfg.hard_backlog = 4 * 1024 * 1024;
	if (hub->cfg.ping_s <= 0)
		hub->cfg.ping_s = 20;
	if (hub->cfg.idle_s <= 0)
		hub->cfg.idle_s = 60;
	TAILQ_INIT(&hub->live);
	TAILQ_INIT(&hub->dead);
	hub->reap = event_new(base, -1, 0, reap_cb, hub);
	hub->ping = event_new(base, -1, EV_PERSIST, ping_cb, hub);
	if (hub->reap == NULL || hub->ping == NULL)
		fatalx("websocket: cannot create events");
	tv.tv_sec = hub->cfg.ping_s;
	tv.tv_usec = 0;
	event_add(hub->ping, &tv);
	return hub;
}

/* One nonblocking write of what the output holds, for a client about to be
 * freed.  The bufferevent keeps its output's start frozen, so the bytes
 * are peeked and written, not drained. */
static void
flush_now(struct ws_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v[64];
	struct iovec iov[64];
	struct msghdr mh = { .msg_iov = iov };
	int n = evbuffer_peek(out, -1, NULL, v, 64);

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = v[i].iov_base;
		iov[i].iov_len = v[i].iov_len;
	}
	mh.msg_iovlen = (size_t)(n > 0 ? n : 0);
	if (n > 0)
		(void)sendmsg(bufferevent_getfd(c->bev), &mh, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
}

void
ws_hub_free(struct ws_hub *hub)
{
	struct ws_client *c;

	if (hub == NULL)
		return;
	/* Best effort: Close 1001 goes out if the socket takes it now; a
	 * client with a backlog ahead of it just sees the connection end. */
	while ((c = TAILQ_FIRST(&hub->live)) != NULL) {
		client_close(c, WSLAY_CODE_GOING_AWAY, "shutdown");
		client_pump(c);
		if (c->state == WS_DEAD)
			continue;
		flush_now(c);
		client_destroy(c);
	}
	while ((c = TAILQ_FIRST(&hub->dead)) != NULL)
		client_destroy(c);
	event_free(hub->reap);
	event_free(hub->ping);
	free(hub);
}

static void
publish_one(struct ws_client *c, struct ws_msg *m)
{
	struct ws_hub *hub = c->hub;
	size_t b;

	if (c->state >= WS_CLOSING)
		return;
	b = backlog(c);
	if (too_slow(c, 0)) {
		client_pump(c);
		return;
	}
	if (c->state == WS_BEHIND)
		return;
	if (b > hub->cfg.soft_backlog) {
		/* Those deltas are stale now: the fresh snapshot covers them. */
		queue_drop(c);
		c->state = WS_BEHIND;
		log_event(LOG_INFO, "websocket client behind", "{s:s, s:I}",
		    "peer", c->peer, "backlog", (json_int_t)b);
		client_pump(c);
		return;
	}
	queue_push(c, m);
	client_pump(c);
}

void
ws_hub_publish(struct ws_hub *hub, const json_t *msg)
{
	struct ws_client *c, *next;
	struct ws_msg *m;

	CHECK(json_is_string(json_object_get(msg, "type")));
	if (hub->nlive == 0)
		return;
	if ((m = msg_new(msg)) == NULL) {
		log_warnx("websocket publish: cannot encode a message");
		return;
	}
	for (c = TAILQ_FIRST(&hub->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		publish_one(c, m);
	}
	msg_unref(m);
}

size_t
ws_hub_clients(const struct ws_hub *hub)
{
	return hub->nlive;
}

json_t *
ws_hub_counters(const struct ws_hub *hub)
{
	const struct ws_client *c;
	size_t most = 0;

	TAILQ_FOREACH(c, &hub->live, entry)
		if (backlog(c) > most)
			most = backlog(c);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "backlog_max", (json_int_t)most,
	    "clients", (json_int_t)hub->nlive,
	    "accepted", (json_int_t)hub->accepted,
	    "refused", (json_int_t)hub->refused,
	    "closed_slow", (json_int_t)hub->closed_slow,
	    "snapshots", (json_int_t)hub->snapshots,
	    "messages_out", (json_int_t)hub->messages_out,
	    "bytes_out", (json_int_t)hub->bytes_out);
}
