/*
 * Deadlines and per-address caps for an evhttp server (the node's API, the
 * signal).  evhttp's own timeout restarts with every byte, so a client
 * sending one header byte at a time held a connection forever, and any
 * number of them from one address.  The guard
 *  - closes a connection whose request has not fully arrived header_ms
 *    after it was accepted, or after the previous response on it was sent
 *    (keep-alive), checked every second;
 *  - closes a new connection from an address that already holds
 *    per_address connections (the others keep being served);
 * and leaves alone a connection whose request is being answered, or that
 * became a WebSocket.
 *
 * It sees connections through evhttp_set_bevcb (wrapping another module's
 * bevcb, tls_server's, when given) and requests through http_guard_request,
 * which the server's request callback calls first.  It closes a connection
 * with shutdown(2) on evhttp's descriptor, so evhttp frees it as if the
 * client had left.  Loop thread only.
 */
#ifndef AGENTFLOW_HTTP_GUARD_H
#define AGENTFLOW_HTTP_GUARD_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdint.h>

struct http_guard;

struct http_guard_config {
	long		 header_ms;	/* a request's time to arrive, 0: none */
	long		 per_address;	/* connections per client address, 0: any */
	const char	*name;		/* in log lines: "api", "signal" */
};

/* The bevcb evhttp would call without the guard (NULL: a plain socket). */
typedef struct bufferevent *(*http_guard_bevcb)(struct event_base *, void *);

/*
 * Guards http from now on; call after any module that sets a bevcb
 * (tls_server_new) and pass that one as inner (NULL: none).  cfg is copied
 * (name must be static).  Free after evhttp_free.
 */
struct http_guard *http_guard_new(struct event_base *, struct evhttp *,
    const struct http_guard_config *, http_guard_bevcb inner, void *inner_arg);
void http_guard_free(struct http_guard *);

/* A request arrived whole on its connection: it is not cut until its
 * response has been sent.  Call first in the request callback. */
void http_guard_request(struct http_guard *, struct evhttp_request *);

/* Connections cut at the deadline, refused at the cap. */
uint64_t http_guard_cut(const struct http_guard *);
uint64_t http_guard_refused(const struct http_guard *);

#endif
