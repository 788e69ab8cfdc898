/*
 * Forgetting a node (agentflow forget, POST /api/nodes/{id}/forget, and
 * pruning after --prune-after): the node leaves the links' peer table and
 * the stored peers (so it is not redialled), and sync's origin state, the
 * stored remote state and the routing table (so no view lists it).  The
 * parts remember the life they forgot, so a peer or a signal that has not
 * forgotten it yet cannot bring it back; the node itself coming back
 * (registering again, linking, a new incarnation) is a new member.
 * What was forgotten is kept in the store too (store_forget_node), so a
 * restart remembers it (forget_load).
 *
 * Loop thread only, like the links and the sync it works on.
 */
#ifndef AGENTFLOW_FORGET_H
#define AGENTFLOW_FORGET_H

#include <stddef.h>
#include <stdint.h>

struct links;
struct sync;

enum forget_result {
	FORGET_DONE,		/* it was known and is forgotten */
	FORGET_UNKNOWN,		/* nothing of it was known (still remembered as forgotten) */
	FORGET_LINKED,		/* our link to it is up: nothing done */
	FORGET_SELF,		/* our own id: nothing done */
	FORGET_NOT_STORED,	/* forgotten in memory, but the store failed
				 * (store_error says why): a restart may
				 * bring it back */
};

/*
 * 1 when our own view says node id is dead or left, so it may be
 * forgotten: no link of ours is up to it, and it left (a Leave we
 * received) or it is silent for dead_ms (links and sync) with no route
 * to it.  The rule /api/cluster/status's "dead" follows; a forget_node
 * command from elsewhere is refused here unless it holds.
 */
int forget_may(struct links *, struct sync *, const char *id,
    uint64_t dead_ms);

/*
 * Tombstones (links.c, sync_forget.c): a map of id to a heap value that
 * starts with a uint64_t, the wall ms of the forget.  Returns id's value
 * in *m (the map made if NULL), a new zeroed one of size bytes if it held
 * none; before adding one, drops the oldest while the map holds
 * FORGET_TOMBSTONES_MAX or more (logged with what, e.g. "peer"), so
 * forgetting cannot grow it without bound.  The map owns the value.
 */
#define FORGET_TOMBSTONES_MAX	1024
struct hmap;
void *forget_tombstone_put(struct hmap **m, const char *id, size_t size,
    const char *what);

/* Forgets node id (see above); self_id is ours. */
enum forget_result forget_node(struct links *, struct sync *,
    const char *self_id, const char *id);

/* At start: the nodes forgotten before (the store's) into the links' and
 * the sync's tombstones.  -1 with store_error() if it cannot read them. */
struct store;
int forget_load(struct links *, struct sync *, struct store *);

/*
 * Pruning: forgets every node neither the links nor the sync heard from
 * for silent_ms or more (no link up, no frame, no event or snapshot of
 * it), calling pruned (may be NULL) with each id after it is forgotten.
 * Returns how many were.
 */
size_t forget_prune(struct links *, struct sync *, const char *self_id,
    uint64_t silent_ms, void (*pruned)(const char *id, void *arg), void *arg);

#endif
