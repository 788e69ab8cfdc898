/*
 * Links: one mutual-TLS Link stream per pair of nodes.
 *
 * The link manager knows every peer the node has heard of (from the
 * signal, or from its stored list), dials the ones it has no link to with
 * exponential backoff and jitter, exchanges Hello on every new stream
 * (whose node id must equal the certificate identity), keeps exactly one
 * stream per pair when both sides dialed at once, measures RTT with
 * application pings, and tracks each peer's member state.
 */
#ifndef AGENTFLOW_LINKS_H
#define AGENTFLOW_LINKS_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct links;
struct transport;
struct transport_stream;
struct rng;

struct links_config {
	const char	*self_id;
	uint64_t	 incarnation;
	json_t		*addresses;	/* our advertised addresses (borrowed) */
	json_t		*labels;	/* our labels (borrowed) */
	long		 ping_ms;	/* application ping period */
	long		 dead_ms;	/* unreachable this long: suspect → dead */
};

/* Called for every frame other than Hello/Ping/Pong/Leave on an up link. */
typedef void (*links_frame_fn)(const char *peer_id,
    const Agentflow__Mesh__V1__Frame *frame, void *arg);

struct links *links_new(struct event_base *, struct transport *, struct rng *,
    const struct links_config *, links_frame_fn, void *arg);
/* Sends Leave on every up link; the streams close right after. */
void links_leave(struct links *, const char *reason);
void links_free(struct links *);

/* Peers as the signal lists them (API.md peer objects); unknown ones are
 * added and dialed, known ones get their addresses refreshed.  Peers
 * missing from the list are kept: the mesh outlives the signal. */
void links_set_peers(struct links *, json_t *peers);

/* The transport's callbacks, forwarded by the node. */
void links_stream_opened(struct links *, struct transport_stream *);
void links_stream_message(struct links *, struct transport_stream *,
    const uint8_t *buf, size_t len);
void links_stream_closed(struct links *, struct transport_stream *,
    const char *reason);

/* [{peer, state, member, direction, address, rtt_ms, since_ms,
 *   last_seen_ms, reconnects, last_error}] (new reference). */
json_t *links_status(const struct links *);
/* Number of links up. */
size_t links_up(const struct links *);

#endif
