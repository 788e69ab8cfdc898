/*
 * The signal's HTTP API (signal/API.md): routes, request validation,
 * registration verification, and the periodic sweep (TTL eviction, nonce
 * expiry, rate-limit table, CRL reload).
 *
 * Threads: the state (table, nonces, rate limits, counters, requests) is
 * the loop thread's alone; so is TLS, whose pumps (tls_server.c) are
 * bufferevents on the same loop.  The one thing done off it is a
 * registration's two signature verifications, on a pool of
 * --verify-threads workers (common/workq.h): a job carries copies of what
 * it reads, each worker has its own trust (CA and CRL, the CRL bytes
 * shared under a mutex), and the result comes back to the loop thread,
 * which alone answers the request and changes the table.
 */
#ifndef AGENTFLOW_SIGNAL_API_H
#define AGENTFLOW_SIGNAL_API_H

#include <event2/event.h>
#include <event2/http.h>

#include "signal_config.h"

struct http_guard;
struct signal_api;
struct trust;

/* Takes ownership of trust.  Registers its routes on http as the generic
 * callback.  Returns NULL (err filled) on start-up failure. */
struct signal_api *signal_api_new(struct event_base *, struct evhttp *,
    const struct signal_config *, struct trust *, char *err, size_t errlen);
/* Every request is shown to guard (borrowed; NULL: none) first. */
void signal_api_set_guard(struct signal_api *, struct http_guard *);
/* Call before evhttp_free(): registrations still being verified hold
 * requests of that evhttp. */
void signal_api_free(struct signal_api *);

#endif
