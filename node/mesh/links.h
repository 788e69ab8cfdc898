/*
 * Links: one mutual-TLS Link stream per pair of nodes.
 *
 * With max_links K, a node dials only its K nearest neighbours on a ring of
 * all known node ids (alternately the next and the previous one), a rule
 * every node computes alike, so the links are symmetric and the graph stays
 * connected; the rest of the mesh is reached through forwarding (sync.c).
 * It also keeps the links of peers that pick it under their own limit,
 * which their Hello states (one without a limit picks everyone), so both
 * ends agree even when their limits differ.  A link closed soon after it
 * came up does not reset the redial backoff.
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
struct trust;
struct origin_keys;

struct links_config {
	const char	*self_id;
	uint64_t	 incarnation;
	json_t		*addresses;	/* our advertised addresses (borrowed) */
	json_t		*labels;	/* our labels (borrowed) */
	long		 ping_ms;	/* application ping period */
	long		 dead_ms;	/* unreachable this long: suspect → dead */
	long		 silence_ms;	/* an up link silent this long is closed (0: never) */
	long		 hello_ms;	/* a stream without the peer's Hello this
					 * long is closed (0: never) */
	long		 max_links;	/* 0: link to every peer; else at most this many dialed */
	struct trust	*trust;		/* CA + CRL: refuses revoked peers; may be NULL */
	/* Our OriginKey goes in our Hello's NodeInfo (borrowed); may be NULL. */
	struct origin_keys *keys;
};

/* What the layer above (state sync) hears from the links; all optional. */
struct links_hooks {
	/* Fills our Hello's cursors: *out points to an array of n cursors,
	 * borrowed until the Hello is encoded.  Returns n. */
	size_t	(*cursors)(Agentflow__Mesh__V1__Cursor ***out, void *arg);
	/* A link came up; hello is the peer's, valid during the call. */
	void	(*up)(const char *peer_id, const Agentflow__Mesh__V1__Hello *hello,
		    void *arg);
	/* A link went up or down. */
	void	(*changed)(void *arg);
	/* Every frame other than Hello/Ping/Pong/Leave on an up link. */
	void	(*frame)(const char *peer_id,
		    const Agentflow__Mesh__V1__Frame *frame, void *arg);
	/* Dialing peer_id failed several times in a row: its address may
	 * have changed, ask the signal again. */
	void	(*stale_address)(const char *peer_id, void *arg);
	/* Whether a route over other nodes leads to peer_id (routing.h's
	 * next hop).  Such a peer is reported alive (not direct) though our
	 * own link to it is down or never wanted under max_links.  NULL: no
	 * routes, our links alone say. */
	int	(*reachable)(const char *peer_id, void *arg);
	void	*arg;
	/* The up link to peer_id sent most of what was queued on it
	 * (transport.h, drained()): bulk held back may go now. */
	void	(*drained)(const char *peer_id, void *arg);
	/* What we hold, summed up for our Pings (sync_entropy.c); 0 says
	 * nothing. */
	uint64_t (*digest)(void *arg);
	/* peer_id's Ping said what it holds (a non-zero digest). */
	void	(*peer_digest)(const char *peer_id, uint64_t digest, void *arg);
};

struct links *links_new(struct event_base *, struct transport *, struct rng *,
    const struct links_config *, const struct links_hooks *);

/* Sends an encoded frame to one peer's up link.  Returns -1 when there is
 * no up link or its queue is full (the link is then reset: the peer will
 * resync from a snapshot). */
int links_send_raw(struct links *, const char *peer_id, const uint8_t *buf,
    size_t len);
/* The same for bulk (a catch-up's history): it goes behind every frame
 * links_send_raw() queues to the peer (transport_send_bulk()). */
int links_send_bulk(struct links *, const char *peer_id, const uint8_t *buf,
    size_t len);
/* Encodes f and sends it as links_send_raw does; -1 too when the peer
 * did not list the feature f's body needs (links_peer_speaks). */
int links_send_frame(struct links *, const char *peer_id,
    const Agentflow__Mesh__V1__Frame *);
/* Sends an encoded frame on every up link; returns how many took it. */
size_t links_broadcast_raw(struct links *, const uint8_t *buf, size_t len);
/* 1 while a peer whose Hello did not list feature has its link up. */
int links_up_without(const struct links *, const char *feature);
/* 1 if the peer's last Hello listed feature (mesh_features.h; NULL: a
 * body every version speaks), 0 if not or the peer is unknown. */
int links_peer_speaks(const struct links *, const char *peer_id,
    const char *feature);
/* The peer's member state as text ("alive"...), or NULL if unknown: our
 * link's view, alive while a route leads to it (hooks.reachable). */
const char *links_member(const struct links *, const char *peer_id);
/* Fills a NodeStatus's links and members from our view (arrays allocated
 * with xcalloc; free with links_status_free).  Links lists our
 * neighbours only: a peer we do not link to by design under max_links has
 * no link to report, only a member state. */
void links_fill_status(const struct links *, Agentflow__Mesh__V1__NodeStatus *);
void links_status_free(Agentflow__Mesh__V1__NodeStatus *);
/* Sends Leave on every up link; the streams close right after. */
void links_leave(struct links *, const char *reason);
void links_free(struct links *);

/* Peers as the signal lists them (API.md peer objects); unknown ones are
 * added and dialed, known ones get their addresses refreshed.  Peers
 * missing from the list are kept: the mesh outlives the signal. */
void links_set_peers(struct links *, json_t *peers);

/* Our incarnation as the next Hellos and Leaves carry it (after sync
 * moved to a new one, sync_set_reborn). */
void links_set_incarnation(struct links *, uint64_t incarnation);

/* Re-checks every open link against the trust's CRL (after it was
 * reloaded) and closes those of revoked peers. */
void links_recheck(struct links *);

/* The transport's callbacks, forwarded by the node. */
void links_stream_opened(struct links *, struct transport_stream *);
void links_stream_message(struct links *, struct transport_stream *,
    const uint8_t *buf, size_t len);
void links_stream_closed(struct links *, struct transport_stream *,
    const char *reason);
void links_stream_drained(struct links *, struct transport_stream *);

/* [{peer, state, member, direction, address, rtt_ms, since_ms,
 *   last_seen_ms, reconnects, last_error}] (new reference). */
json_t *links_status(const struct links *);
/* Number of links up. */
size_t links_up(const struct links *);
/* Times our loop stalled past a second (a tick that late): the links'
 * silence then counts from the stall's end. */
uint64_t links_stalls(const struct links *);
/* A number that changes whenever a link goes up or down. */
uint64_t links_up_generation(const struct links *);
/* A number naming peer_id's up link: never the same for two links (one
 * that went down and came back has another), 0 while none is up.  What a
 * catch-up pending for a peer checks it still goes to the same link. */
uint64_t links_link_generation(const struct links *, const char *peer_id);
/* 1 if the link to peer_id is up. */
int links_is_up(const struct links *, const char *peer_id);
/* Bytes queued to peer_id and not yet sent (0 when its link is not up). */
/* The freeze or unfreeze command our Hellos carry from now on (Hello.freeze):
 * packed, copied; NULL: none. */
void links_set_freeze(struct links *, const uint8_t *packed, size_t len);

/* Closes the up link to peer_id (why goes to the log); it is dialed
 * again with backoff like any closed link.  0, or -1 when none is up. */
int links_drop(struct links *, const char *peer_id, const char *why);
size_t links_queued(const struct links *, const char *peer_id);
/* Calls fn for each peer with an up link. */
void links_foreach_up(const struct links *, void (*fn)(const char *peer_id,
    void *arg), void *arg);

/*
 * Forgets a peer (agentflow forget, pruning): it leaves the peer table, its
 * dial stops, and signal entries for it are ignored until it heartbeats
 * or registers again (links_forgotten).  *signal_ms receives the signal's
 * clock at the forget as estimated (what links_forgotten_restore takes
 * back after a restart).  Returns 1, 0 if it was not known (no tombstone
 * is made for it), or -1 when its link is up (nothing is done).  At most
 * FORGET_TOMBSTONES_MAX tombstones are kept: the oldest goes first.
 */
int links_forget(struct links *, const char *peer_id, int64_t *signal_ms);
/* A tombstone remembered from before a restart (forget_load): at, our wall
 * ms of the forget; signal_ms as links_forget gave it. */
void links_forgotten_restore(struct links *, const char *peer_id,
    uint64_t at, int64_t signal_ms);
/* Whether a peer-list entry (API.md peer object) names a node we forgot
 * that has not heartbeated or registered since, by the signal's clock;
 * links_set_peers skips those. */
int links_forgotten(const struct links *, const char *peer_id,
    const json_t *entry);
/* The signal's clock minus ours, in ms (discovery_signal_offset): what
 * links_forget adds to our clock to date a forget as the signal would. */
void links_set_signal_offset(struct links *, int64_t offset_ms);
/* 1 when we have no link to peer_id and heard nothing from it for ms or
 * more (the dead clock: from its last frame, or from when we learnt of a
 * peer never reached), or do not know it; else 0. */
int links_silent(const struct links *, const char *peer_id, uint64_t ms);
/* Calls fn for every peer we know; fn must not forget one. */
void links_foreach_peer(const struct links *, void (*fn)(const char *peer_id,
    void *arg), void *arg);

#endif
