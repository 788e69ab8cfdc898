/*
 * Which peers a node links to under --max-links K (links.c): the ring of
 * every known node id, sorted, on which each node picks K others by their
 * distance from it, a rule every node computes alike (integers only, so
 * nodes on any machine agree bit for bit).
 *
 * Two rules.  The near ring (every version): the next, the previous, the
 * second next, ... — K nearest neighbours, whose graph has a diameter of
 * about n / K hops: 9 at 50 nodes and K = 6, beyond the 8 hops an event
 * may be forwarded (sync_priv.h's HOP_LIMIT), so far nodes heard of
 * events only from anti-entropy.  The spread ring (Hello feature
 * "spread_ring"): the next and the previous at distances 1, b, b^2, ...
 * (m = ceil(K/2) of them, b the smallest integer with b^m >= n), a
 * lattice like Chord's fingers whose diameter at K = 6 is 4 hops at 50
 * nodes, 6 up to 100 and 8 up to 200 (tests/unit/test_ring.c).  Distances
 * past half the ring, or a K beyond what those fill, take the nearest
 * unused ones.  With K = 2 both
 * rules give the same ring.  Two nodes use the spread ring with each
 * other only when both speak it (links.c), so a mesh upgrades one node at
 * a time without links that one end keeps and the other closes.
 */
#ifndef AGENTFLOW_RING_H
#define AGENTFLOW_RING_H

#include <stddef.h>

/* Whether the node at position from of a ring of n picks position to as
 * one of its k (k >= n - 1: every other node). */
int ring_picks(size_t n, size_t from, size_t to, size_t k, int spread);

#endif
