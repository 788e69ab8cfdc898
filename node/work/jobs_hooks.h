/*
 * For jobs*.c only: what jobs.c and jobs_dispatch.c call at a few points
 * of a job's life, kept in their own files (jobs_lost.c, jobs_metrics.c,
 * jobs_story.c) so the record keeping and the dispatcher stay as they
 * are.  Loop thread only, like the rest of the issuer's side.
 */
#ifndef AGENTFLOW_JOBS_HOOKS_H
#define AGENTFLOW_JOBS_HOOKS_H

#include <jansson.h>
#include <stdint.h>

#include "jobs_metrics.h"
#include "jobs_priv.h"

/*
 * Lost at the deadline (jobs_lost.c): a job still dispatched or running
 * at its deadline on a node that is not reachable (no route, or dead or
 * left by --dead-ms) will not be heard of in time: it becomes "lost",
 * its reason naming the node and when it was last heard from, and that
 * node is fenced (its result, if it ever comes, is recorded as a fenced
 * run).  On a reachable node a started run goes on past the deadline:
 * the deadline bounds when a run may start (the executor refuses a
 * JOB_RUN past it), not how long it runs (the task's own timeout does).
 * 1 when j became lost (the dispatcher leaves it then).
 */
int jobs_lost_at_deadline(struct jobs *, struct job *, const json_t *view,
    uint64_t now);

/*
 * Per-task counters (jobs_metrics.c): the counter c of job record rec's
 * task goes up; at most JOBS_METRICS_TASKS task names are told apart, the
 * others count as "(other)".  Ad-hoc jobs count as "(ad-hoc)".
 */
void jobs_task_count(struct jobs *, enum jobs_counter c, const json_t *rec);
/* The same for job_id's task (its record in memory or in the store). */
void jobs_task_count_id(struct jobs *, enum jobs_counter c,
    const char *job_id);
/* The counter of final state s (succeeded, ...), none for another. */
void jobs_task_count_final(struct jobs *, enum jobs_state s,
    const json_t *rec);

/*
 * The executor's record in a job's story (jobs_story.c).  A dispatch's
 * JOB_RUN command id is kept in the record ("run_commands": {epoch: id})
 * as it is sent; the executor's TaskUpdate events carry that id.
 */
void jobs_story_sent(struct jobs *, struct job *, const char *command_id);
/*
 * Adds to rec's "history" (GET /api/jobs/ID) the executor's own entries
 * for each run it learnt of ({time_ms, event: "queued" | "started" |
 * "finished", by: EXECUTOR, source: "executor", node, epoch, task_id,
 * attempt, ...}) from the tasks the executors broadcast, and sorts the
 * whole history by time (stable: the issuer's order among equal times).
 * Computed at read, never stored.
 */
void jobs_story_merge(struct jobs *, json_t *rec);

#endif
