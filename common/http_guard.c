/*
 * Deadlines and per-address caps for evhttp (http_guard.h).
 *
 * evhttp 2.1 tells nobody when it accepts or frees a connection, so the
 * guard keeps its own record of each one, found by evhttp's descriptor:
 *  - bevcb (a connection is being set up) queues a record and activates
 *    two deferred events, one before the inner bevcb runs and one after,
 *    so they run in the same loop pass, around tls_server's takeover and
 *    before any read: addr_cb reads the client's address from the real
 *    socket (and refuses the connection past the cap), ident_cb then
 *    notes what evhttp's descriptor is (device and inode: after a TLS
 *    takeover it is one end of a socketpair).
 *  - A record is alive while that descriptor still is what ident_cb saw:
 *    once evhttp closes it, fstat fails or shows another file.  Dead
 *    records are dropped when found (every sweep, every count).
 *
 * Record states:
 *   state     entered by                     left by
 *   NEW       bevcb                          ident_cb -> WAITING (or freed)
 *   WAITING   ident_cb, complete_cb          http_guard_request -> BUSY;
 *             (the response went out)          sweep_cb past header_ms: cut
 *   BUSY      http_guard_request             complete_cb -> WAITING
 * A record whose descriptor is gone is freed in any state but NEW.
 */
#include "http_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check.h"
#include "clock.h"
#include "log.h"
#include "wall_timer.h"
#include "xalloc.h"

#define SWEEP_MS	1000

enum guard_state { G_NEW, G_WAITING, G_BUSY };

struct guard_conn {
	TAILQ_ENTRY(guard_conn)	 entry;
	struct http_guard	*g;
	struct bufferevent	*bev;		/* held until ident_cb */
	struct event		*addr_ev, *ident_ev;
	enum guard_state	 state;
	evutil_socket_t		 fd;
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 since_ms;	/* accepted, or last response */
	char			 addr[INET6_ADDRSTRLEN];
};
TAILQ_HEAD(guard_conns, guard_conn);

struct http_guard {
	struct event_base	*base;
	struct http_guard_config cfg;
	http_guard_bevcb	 inner;
	void			*inner_arg;
	struct guard_conns	 conns;
	struct wall_timer	*sweep;	/* SWEEP_MS on the wall grid */
	uint64_t		 cut, refused;
};

static void
conn_free(struct guard_conn *c)
{
	TAILQ_REMOVE(&c->g->conns, c, entry);
	if (c->bev != NULL)
		bufferevent_decref(c->bev);
	if (c->addr_ev != NULL)
		event_free(c->addr_ev);
	if (c->ident_ev != NULL)
		event_free(c->ident_ev);
	free(c);
}

/* 1 while evhttp's descriptor is still the one ident_cb saw. */
static int
conn_alive(const struct guard_conn *c)
{
	struct stat st;

	if (c->state == G_NEW)
		return 1;
	return fstat(c->fd, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino;
}

/* Closes the connection under evhttp; it frees it on the EOF it reads. */
static void
conn_cut(struct guard_conn *c, const char *why)
{
	log_event(LOG_INFO, "connection closed", "{s:s, s:s, s:s}", "server",
	    c->g->cfg.name, "peer", c->addr, "reason", why);
	(void)shutdown(c->fd, SHUT_RDWR);
	conn_free(c);
}

static struct guard_conn *
conn_find(struct http_guard *g, evutil_socket_t fd)
{
	struct guard_conn *c, *next;

	for (c = TAILQ_FIRST(&g->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == G_NEW || c->fd != fd)
			continue;
		if (conn_alive(c))
			return c;
		conn_free(c);
	}
	return NULL;
}

/* Live connections from addr besides self. */
static long
count_from(struct http_guard *g, const char *addr, const struct guard_conn *self)
{
	struct guard_conn *c, *next;
	long n = 0;

	for (c = TAILQ_FIRST(&g->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c == self || strcmp(c->addr, addr) != 0)
			continue;
		if (!conn_alive(c)) {
			conn_free(c);
			continue;
		}
		n++;
	}
	return n;
}

static void
peer_addr(evutil_socket_t fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)outlen);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out,
		    (socklen_t)outlen);
}

/* Before a TLS takeover: the client's address, and the cap. */
static void
addr_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	struct http_guard *g = c->g;

	(void)fd;
	(void)what;
	c->fd = bufferevent_getfd(c->bev);
	if (c->fd < 0)
		return;		/* evhttp did not take it: ident_cb frees */
	peer_addr(c->fd, c->addr, sizeof(c->addr));
	if (g->cfg.per_address > 0 && c->addr[0] != '\0' &&
	    count_from(g, c->addr, c) >= g->cfg.per_address) {
		g->refused++;
		log_event(LOG_INFO, "connection refused: too many from one address",
		    "{s:s, s:s, s:I}", "server", g->cfg.name, "peer", c->addr,
		    "limit", (json_int_t)g->cfg.per_address);
		(void)shutdown(c->fd, SHUT_RDWR);
		c->fd = -1;
	}
}

/* After a TLS takeover: what evhttp's descriptor is from now on. */
static void
ident_cb(evutil_socket_t fd, short what, void *arg)
{
	struct guard_conn *c = arg;
	struct stat st;

	(void)fd;
	(void)what;
	if (c->fd < 0 || fstat(c->fd, &st) != 0) {
		conn_free(c);
		return;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->state = G_WAITING;
	c->since_ms = clock_mono_ms();
	bufferevent_decref(c->bev);
	c->bev = NULL;
	event_free(c->addr_ev);
	event_free(c->ident_ev);
	c->addr_ev = c->ident_ev = NULL;
}

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct http_guard *g = arg;
	struct guard_conn *c = xcalloc(1, sizeof(*c));

	c->g = g;
	c->fd = -1;
	c->state = G_NEW;
	c->addr_ev = event_new(base, -1, 0, addr_cb, c);
	c->ident_ev = event_new(base, -1, 0, ident_cb, c);
	TAILQ_INSERT_TAIL(&g->conns, c, entry);
	/* Runs before the inner bevcb's own deferred takeover. */
	event_active(c->addr_ev, 0, 0);
	c->bev = g->inner != NULL ? g->inner(base, g->inner_arg) :
	    bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		conn_free(c);
		return NULL;
	}
	bufferevent_incref(c->bev);
	event_active(c->ident_ev, 0, 0);
	return c->bev;
}

static void
sweep_cb(void *arg)
{
	struct http_guard *g = arg;
	struct guard_conn *c, *next;
	uint64_t now = clock_mono_ms();

	for (c = TAILQ_FIRST(&g->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		/* Only a NEW record holds the bufferevent and its events. */
		CHECK((c->state == G_NEW) == (c->ident_ev != NULL));
		CHECK(c->state == G_NEW || (c->bev == NULL && c->fd >= 0));
		if (c->state == G_NEW)
			continue;
		if (!conn_alive(c)) {
			conn_free(c);
		} else if (c->state == G_WAITING && g->cfg.header_ms > 0 &&
		    now - c->since_ms > (uint64_t)g->cfg.header_ms) {
			g->cut++;
			conn_cut(c, "request not received in time");
		}
	}
}

static evutil_socket_t
request_fd(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ?
	    evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev != NULL ? bufferevent_getfd(bev) : -1;
}

static void
complete_cb(struct evhttp_request *req, void *arg)
{
	struct guard_conn *c = conn_find(arg, request_fd(req));

	if (c != NULL) {
		c->state = G_WAITING;
		c->since_ms = clock_mono_ms();
	}
}

void
http_guard_request(struct http_guard *g, struct evhttp_request *req)
{
	struct guard_conn *c;

	if (g == NULL || (c = conn_find(g, request_fd(req))) == NULL)
		return;
	c->state = G_BUSY;
	evhttp_request_set_on_complete_cb(req, complete_cb, g);
}

struct http_guard *
http_guard_new(struct event_base *base, struct evhttp *http,
    const struct http_guard_config *cfg, http_guard_bevcb inner, void *inner_arg)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));

	g->base = base;
	g->cfg = *cfg;
	g->inner = inner;
	g->inner_arg = inner_arg;
	TAILQ_INIT(&g->conns);
	g->sweep = wall_timer_new(base, SWEEP_MS, 0, sweep_cb, g);
	evhttp_set_bevcb(http, bevcb, g);
	return g;
}

void
http_guard_free(struct http_guard *g)
{
	struct guard_conn *c;

	if (g == NULL)
		return;
	while ((c = TAILQ_FIRST(&g->conns)) != NULL)
		conn_free(c);
	wall_timer_free(g->sweep);
	free(g);
}

uint64_t
http_guard_cut(const struct http_guard *g)
{
	return g->cut;
}

uint64_t
http_guard_refused(const struct http_guard *g)
{
	return g->refused;
}
