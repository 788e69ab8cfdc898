/*
 * The event log's retention by shares: the log keeps at most keep events
 * and keep_bytes bytes of event bodies, and when it holds more, each
 * origin is held to a fair share of both (max-min: an origin using less
 * than an equal share keeps all of it, what it leaves is shared among the
 * others), its oldest events (by arrival) deleted first.  So one origin's
 * flood trims that origin's own history: this node's own events and every
 * quiet origin's keep what they have.  Every origin keeps at least its
 * newest event, so the log may run over by one event per origin.
 *
 * The log's other readers (catch-up,
 * /api/events) already treat an origin's missing early events as "the log
 * no longer has them".
 */
#ifndef AGENTFLOW_STORE_TRIM_H
#define AGENTFLOW_STORE_TRIM_H

#include <stddef.h>
#include <stdint.h>

struct store;

/*
 * Trims as above.  *deleted (may be NULL) receives the rows removed.
 * 0, or -1 (store_error says why; what was deleted stays deleted).
 */
int store_events_trim_shares(struct store *, uint64_t keep,
    uint64_t keep_bytes, uint64_t *deleted);

/*
 * The share cap of n usages under a budget (max-min fairness): the
 * largest c with sum(min(use[i], c)) <= budget, or UINT64_MAX when the
 * whole fits.  use is reordered (sorted).  Pure; exported for the tests.
 */
uint64_t store_trim_cap(uint64_t *use, size_t n, uint64_t budget);

#endif
