/*
 * Fanned-out jobs on the issuer: a job submitted to "all" or to a label
 * selector ("KEY=VALUE,...", the selector syntax commands use) becomes a
 * PARENT with one CHILD per matching node, resolved at submit among the
 * nodes known here (this one included when it matches).  Each child is an
 * ordinary named-node job (jobs.h: durable, store-and-forward, epochs,
 * fences, deadline, at_most_once, grant) with the id PARENT.N (N from 1,
 * in node order) and "parent" in its record; the parent's record lists
 * {id, node} of its children.  The parent is never dispatched: it is
 * "running" from the submit while any child is open, then final by
 * fanout_summary.h (succeeded when every child did, else failed with the
 * children counted in its reason), or cancelled by request (which
 * cancels every open child).  Its history notes each child's end; its
 * idempotency key and callback are its own (children have none).
 *
 * A selector that a node whose labels are not known here yet could match
 * is refused (503 labels_unknown) even when others match: a fan-out never
 * reaches a silently smaller set.  Nothing is stored on a refusal; the
 * parent and all its children are stored in one transaction.
 *
 * For jobs*.c only (hooks of jobs.c); loop thread.
 */
#ifndef AGENTFLOW_JOBS_FANOUT_H
#define AGENTFLOW_JOBS_FANOUT_H

#include <jansson.h>
#include <stddef.h>

#include "principal.h"

struct job;
struct jobs;
struct routing;

/* At most this many children: more is refused (400). */
#define JOBS_FANOUT_MAX		1000

/*
 * jobs_submit's fan-out: rec is a checked and stamped job (id, issuer,
 * submitted_ms, absolute deadline_ms) with "fanout"; its reference is
 * taken.  Resolves its nodes and stores parent and children: 0 (rec is
 * the parent's record, open), or the HTTP status to answer with err set
 * (404 no node matches, 503 labels unknown, 400 too many, 413 too large
 * as a child travels, 500 not stored), rec freed.
 */
int jobs_fanout_store(struct jobs *, json_t *rec, const struct principal *,
    char *err, size_t errlen);

/* The node ids "to" ("all" or "KEY=VALUE,...") resolves to among the
 * nodes routing knows (new reference), or NULL with *status (400 bad or
 * too many, 404 none matches, 503 labels unknown: see above) and err. */
json_t *jobs_fanout_nodes(struct routing *, const json_t *to, int *status,
    char *err, size_t errlen);

/* 1 when rec is a fanned-out job's parent. */
int jobs_fanout_is_parent(const json_t *rec);

/* jobs_set_state's hook once j is final: for a child, its parent notes it
 * and ends when every child has. */
void jobs_fanout_child_final(struct jobs *, struct job *j);
/* jobs_cancel's hook once j is cancelled: for a parent, cancels its open
 * children. */
void jobs_fanout_cancel(struct jobs *, struct job *j,
    const struct principal *);
/* After the open jobs are reloaded: a parent whose children all ended
 * while it was not told (a crash between the two writes) ends now. */
void jobs_fanout_reload(struct jobs *);
/* jobs_get's hook: each child's state, node, epoch, exit code and reason
 * as they are now, into a parent's record (a copy). */
void jobs_fanout_show(struct jobs *, json_t *rec);

#endif
