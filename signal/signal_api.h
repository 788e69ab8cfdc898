/*
 * The signal's HTTP API (signal/API.md): routes, request validation,
 * registration verification, and the periodic sweep (TTL eviction, nonce
 * expiry, rate-limit table, CRL reload).  Runs entirely on the loop thread.
 */
#ifndef AGENTFLOW_SIGNAL_API_H
#define AGENTFLOW_SIGNAL_API_H

#include <event2/event.h>
#include <event2/http.h>

struct trust;

struct signal_config {
	const char	*listen;
	const char	*ca;
	const char	*crl;
	const char	*tls_cert;
	const char	*tls_key;
	const char	*log_level;
	int		 plain_http;
	int		 trust_proxy;
	long		 ttl_s;
	long		 heartbeat_s;
	long		 sweep_ms;
	long		 max_nodes;
	long		 max_body;
	long		 max_addresses;
	long		 max_labels;
	long		 rate;
	long		 burst;
	long		 skew_s;
	long		 verify_threads;
};

struct signal_api;

/* Takes ownership of trust.  Registers its routes on http as the generic
 * callback.  Returns NULL (err filled) on start-up failure. */
struct signal_api *signal_api_new(struct event_base *, struct evhttp *,
    const struct signal_config *, struct trust *, char *err, size_t errlen);
/* Call before evhttp_free(): registrations still being verified hold
 * requests of that evhttp. */
void signal_api_free(struct signal_api *);

#endif
