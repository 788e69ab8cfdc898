/*
 * State sync: numbered events and snapshots over the links.
 *
 * Every node numbers what it emits (origin, incarnation, seq).  A receiver
 * applies an origin's events in order, drops duplicates, and on a gap or a
 * new incarnation asks the sender for a snapshot of that origin.  When a
 * link comes up both sides have sent Hello with their cursors; each answers
 * with snapshots of what the other lacks.  The latest state of every origin
 * (its NodeInfo and NodeStatus) is kept in memory and persisted, and every
 * event is appended to the store's event log.
 */
#ifndef AGENTFLOW_SYNC_H
#define AGENTFLOW_SYNC_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct links;
struct routing;
struct store;
struct sync;

struct sync_config {
	const char	*self_id;
	uint64_t	 incarnation;
	json_t		*addresses;	/* our NodeInfo (borrowed) */
	json_t		*labels;
	struct store	*store;
	struct links	*links;		/* may be set later with sync_set_links */
	uint64_t	 events_kept;	/* retention of the event log */
	uint64_t	 events_bytes;	/* ... in bytes of bodies (0: 256 MiB) */
	/* Signs our events, checks relayed ones (borrowed; outlives the
	 * sync).  NULL: nothing signed, only events straight from their
	 * origin taken (unit tests). */
	struct origin_keys *keys;
};

struct sync *sync_new(struct event_base *, const struct sync_config *);
/*
 * Called for every event as it is logged: ours when its batch goes out,
 * others' as they are applied.  row is the event's log row (valid during
 * the call).  NULL fn: none.
 */
struct store_event;
void sync_set_applied(struct sync *, void (*fn)(const struct store_event *row,
    void *arg), void *arg);
void sync_set_links(struct sync *, struct links *);
/*
 * Called when a peer told us of a newer life of ours and we moved to a
 * new incarnation above it (already persisted): whoever stamps our
 * incarnation elsewhere takes the new one.  NULL fn: none.
 */
void sync_set_reborn(struct sync *, void (*fn)(uint64_t incarnation,
    void *arg), void *arg);
/* Flushes pending events and persists dirty state. */
void sync_free(struct sync *);

/* The links' hooks (struct links_hooks), arg = the struct sync. */
size_t sync_cursors(Agentflow__Mesh__V1__Cursor ***out, void *arg);
void sync_link_up(const char *peer, const Agentflow__Mesh__V1__Hello *, void *arg);
void sync_frame(const char *peer, const Agentflow__Mesh__V1__Frame *, void *arg);
/* The link to peer sent what was queued on it: its catch-up goes on. */
void sync_link_drained(const char *peer, void *arg);
/*
 * sync_entropy.c.  What we hold summed up for our Pings: the XOR over
 * every origin we hold a life of of sync_digest_of(id, incarnation,
 * seq), never 0 (0 when s is NULL).  A neighbour's digest (Ping.digest):
 * when it differs from ours on two pings in a row we ask it for what we
 * lack, then less and less often while they differ.
 */
uint64_t sync_digest(struct sync *);
uint64_t sync_digest_of(const char *id, uint64_t incarnation, uint64_t seq);
void sync_peer_digest(struct sync *, const char *peer, uint64_t digest);

/* A status's watch lease is bounded to this (status.watch_ms). */
#define SYNC_WATCH_MAX_MS	60000
/* The lease an older node's status (no idle_ms) starts: it sends one a
 * second, so it renews it while it is in the mesh. */
#define SYNC_OLD_LEASE_MS	5000
/* 1 while a node other than us said, in a status received within its
 * watch_ms, that a dashboard is open on it, or an older node's status
 * came within SYNC_OLD_LEASE_MS (status_pace.h). */
int sync_watched(struct sync *);
/* Notes, in each origin's seen_ms (the API's seen_ms), that a route
 * leads to it now: called each status sample, it is when a node at rest
 * was last alive, though its last event may be a whole idle period old. */
void sync_note_routes(struct sync *);
/* 1 while our NodeInfo waits for our next status (a new life, a change). */
int sync_info_unsent(const struct sync *);
/* Emits our own node status (copied).  Returns the seq, 0 on failure. */
uint64_t sync_emit_status(struct sync *, const Agentflow__Mesh__V1__NodeStatus *);
/* Emits a user event: name 1-128 bytes without control characters,
 * payload at most 64 KiB.  Returns the seq, or 0 with a message in err. */
uint64_t sync_emit_user(struct sync *, const char *name, const void *payload,
    size_t len, char *err, size_t errlen);

/* Our task updates, task log lines and alerts: seq, or 0 on failure. */
uint64_t sync_emit_task(struct sync *, const Agentflow__Mesh__V1__TaskUpdate *);
uint64_t sync_emit_log(struct sync *, const Agentflow__Mesh__V1__TaskLog *);
uint64_t sync_emit_alert(struct sync *, const Agentflow__Mesh__V1__Alert *);
/* That we revoked a signed API token we issued (id: token.h's syntax). */
uint64_t sync_emit_token_revoked(struct sync *, const char *token_id);
/* Called when another origin's TokenRevoked is applied: the token id it
 * issued and revoked.  NULL fn: none. */
void sync_set_token_revoked(struct sync *, void (*fn)(const char *origin,
    const char *token_id, void *arg), void *arg);
/* Numbers and queues an event the caller built, of any kind (a test
 * build's extra kind too: one this build cannot apply goes out, unlogged);
 * the seq it got, 0 if it could not be queued. */
uint64_t sync_emit_event(struct sync *, Agentflow__Mesh__V1__Event *);

/*
 * sync_forget.c.  Forgets a node in memory: its origin state and its
 * routing entry (forget.c clears the store).  Snapshots and events of the
 * life forgotten are ignored afterwards, a later incarnation is welcome.
 * Returns 1 if we held its state (*incarnation: the highest life
 * forgotten), 0 if not (the rest is still done, but nothing is
 * remembered; *incarnation 0), -1 for our own id.  At most
 * FORGET_TOMBSTONES_MAX lives are remembered: the oldest goes first.
 */
int sync_forget(struct sync *, const char *id, uint64_t *incarnation);
/* A life forgotten before a restart (forget_load); at is the wall ms of
 * the forget.  Incarnation 0 (none held) remembers nothing. */
void sync_forgotten_restore(struct sync *, const char *id, uint64_t at,
    uint64_t incarnation);
/* The store the sync persists into (borrowed, lives as long as the node). */
struct store *sync_store(struct sync *);
/* 1 when origin id sent a Leave (its state says it left), 0 otherwise. */
int sync_left(const struct sync *, const char *id);
/* 1 when no event or snapshot of origin id reached us, and no route led
 * to it at a status sample (sync_note_routes), for ms or more (or we hold
 * none of it); 0 otherwise, and always for ourselves. */
int sync_silent(const struct sync *, const char *id, uint64_t ms);
/* Calls fn with the id of every origin we hold but ourselves; fn must not
 * forget one (collect the ids first). */
void sync_foreach_origin(const struct sync *, void (*fn)(const char *id,
    void *arg), void *arg);

/*
 * The routing table sync feeds from statuses and NodeInfos (routing.h):
 * next hops and label selection for commands.  Owned by the sync, valid
 * until sync_free.
 */
struct routing *sync_routing(struct sync *);
/* How many origins we hold (ourselves included). */
size_t sync_origins(const struct sync *);

#endif
