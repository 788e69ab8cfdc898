/*
 * Discovery: the node's side of the signal API (signal/API.md).
 *
 * For every signal URL (http:// or https://; https goes through a
 * tls_tunnel) a client registers with a signed request, heartbeats at the
 * interval the signal gives, lists peers when the generation moved (with
 * If-None-Match), registers again on 401, and backs off with jitter while
 * the signal is unreachable.  Every signal is given the same addresses
 * (--advertise, or each address a signal saw with our mesh port).  The
 * union of all signals' lists, one entry per node (one with addresses
 * first, then the newest registration), is handed to the node, which
 * keeps using the last one while every signal is down.
 */
#ifndef AGENTFLOW_DISCOVERY_H
#define AGENTFLOW_DISCOVERY_H

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <mbedtls/pk.h>
#include <stddef.h>
#include <stdint.h>

struct discovery;
struct rng;

struct discovery_config {
	const char		*node_id;
	const char		*cert_pem;	/* sent with every registration */
	mbedtls_pk_context	*key;		/* signs registrations */
	struct rng		*rng;
	json_t			*addresses;	/* advertised "host:port"s; empty: observed addresses + mesh_port */
	json_t			*labels;	/* object of strings */
	int			 mesh_port;
	const char		*signal_ca;	/* verifies https:// signals; NULL: the system's CAs */
	const char *const	*urls;
	size_t			 nurls;
};

struct discovery_callbacks {
	/* The union of all signals' peer lists changed: an array of API.md
	 * peer objects, borrowed for the call (ourselves included). */
	void	(*peers)(json_t *peers, void *arg);
	/* A signal became reachable (1) or unreachable (0). */
	void	(*reachability)(const char *url, int reachable, void *arg);
};

/* Everything in cfg is copied or referenced (JSON) except key and rng,
 * which must outlive the discovery.  Starts registering at once.  NULL
 * with a message in err for a bad URL or TLS set-up failure. */
struct discovery *discovery_new(struct event_base *, struct evdns_base *,
    const struct discovery_config *, const struct discovery_callbacks *,
    void *arg, char *err, size_t errlen);
/* Sends a graceful leave to every signal where registered (not waited for). */
void discovery_leave(struct discovery *);
/* 1 while a leave is still waiting for its answer (run the loop, bounded). */
int discovery_leaving(const struct discovery *);
void discovery_free(struct discovery *);

/* Fetches the peer list again at the next heartbeat, whatever the
 * generation says (a peer's address seems stale). */
void discovery_refresh(struct discovery *);

/* 1 if at least one signal answered its last request. */
int discovery_reachable(const struct discovery *);
/* The signal's clock minus ours in ms, from the Date of its replies: the
 * largest over the signals (the one running furthest ahead), so a time
 * after it is after it for every signal.  -1 while no signal sent one. */
int discovery_signal_offset(const struct discovery *, int64_t *offset_ms);
/* [{url, reachable, registered, observed_address, generation, last_error,
 *   last_ok_ms}] (new reference). */
json_t *discovery_status(const struct discovery *);

#endif
