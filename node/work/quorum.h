/*
 * Who this node sees, for the work no single node may do twice: the
 * alive members (this node included), how many members are known (every
 * member not left), whether the alive ones are a majority of those, and
 * the rendezvous owner of a key among the alive ones.  Schedules choose
 * a fire time's owner with it (schedules_fire.c) and workflows their
 * taker (workflows_takeover.c): every node scores a (key, node) alike,
 * so nodes that see the same members pick the same owner.
 *
 * Built from the API's view of the cluster (api_cluster_status), once
 * per turn, on demand.  Loop thread only.
 */
#ifndef AGENTFLOW_QUORUM_H
#define AGENTFLOW_QUORUM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct node;

struct quorum {
	json_t	*alive;		/* sorted ids, this node's too; NULL until built */
	json_t	*state;		/* id → member state ("alive", "dead"...) */
	json_t	*heard;		/* id → wall ms of its latest event here */
	size_t	 known;		/* members not left, this node included */
};

/* Builds q (zeroed, or already built: then a no-op). */
void quorum_build(struct node *, struct quorum *);
void quorum_clear(struct quorum *);

int quorum_alive(const struct quorum *, const char *id);
/* More than half the known members are alive. */
int quorum_majority(const struct quorum *);
/* The latest moment id may have been alive as this node knows it (wall
 * ms): its latest event, or the status sample after the last one at
 * which a route led to it (it may be just ahead of now); 0: never. */
uint64_t quorum_heard_ms(const struct quorum *, const char *id);
/* The alive member with the highest score for key (the first id in
 * order on a tie), borrowed from q; NULL: none alive. */
const char *quorum_owner(const struct quorum *, const char *key);

/*
 * An owner that does not move the moment a member drops out of sight.
 * Two nodes notice a cut at times up to a link check apart, and a node
 * that has not noticed yet still acts as the owner: the other side must
 * not pick a new owner until the first has surely noticed.  seen (the
 * caller's, kept across turns: id -> wall ms this node last saw it
 * alive) is updated from q by quorum_seen_note; the candidates of
 * quorum_owner_held are the members alive and those not left seen alive
 * within hold_ms, so the owner may be a member out of sight: then nobody
 * here acts for the key.  A member that left said it stopped: it is no
 * candidate at once.
 */
void quorum_seen_note(json_t *seen, const struct quorum *, int64_t now,
    int64_t hold_ms);
const char *quorum_owner_held(const struct quorum *, const json_t *seen,
    const char *key, int64_t now, int64_t hold_ms);

#endif
