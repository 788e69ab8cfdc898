/*
 * Giving the heap's free memory back to the OS (issue 21).
 *
 * Forming a mesh (snapshots, replays) leaves the malloc arenas holding
 * free memory that the steady state never uses again: at 50 nodes and 6
 * links, 6.9 of a node's 12.3 MB of arenas, and malloc_trim(0) gave
 * 2.7-3.6 MiB back (bench/propagation/README.md).  The node asks once a
 * minute; a trim happens only when private memory grew by
 * HEAP_TRIM_GROWTH since the last one (a trim every minute cost an idle
 * node about 0.02 % of a core more), so a node at rest never trims.
 */
#ifndef AGENTFLOW_HEAP_TRIM_H
#define AGENTFLOW_HEAP_TRIM_H

#define HEAP_TRIM_GROWTH	(2L * 1024 * 1024)

/* Our private resident pages (statm: resident - shared), or -1. */
long heap_trim_private_pages(void);

/* Trims when our private pages grew by HEAP_TRIM_GROWTH since *at (the
 * count after the last trim, or at start), and sets *at to the count
 * after it; a count below *at becomes *at.  1 when it trimmed. */
int heap_trim_tick(long *at);

#endif
