/*
 * Durable jobs, the executor's side: the runs this node holds for jobs
 * issued anywhere in the mesh (jobs.h is the issuer's side).
 *
 * A JOB_RUN is recorded in SQLite (job_runs: job, epoch, issuer, key,
 * args hash) before its task starts.  A repeat of the same (job, epoch)
 * answers what was recorded; an epoch older than one held is refused
 * "fenced"; a newer one fences (stops) the older run still going.  The
 * same idempotency key under another job with the same args hash is not
 * run again: it becomes an alias that gets the first job's result; with
 * another hash it is refused, naming the first job.
 *
 * When a run ends its result ({state, exit_code, term_signal, result
 * JSON, started/finished}) is recorded and sent to the issuer as a
 * JOB_RESULT command, again whenever the issuer is reachable and has not
 * answered (with backoff), across restarts of either node: the result is
 * held here until the issuer has it.  A run still recorded running when
 * the node starts ended with the node: it is reported failed "node
 * restarted".
 *
 *   run state   entered by                       left by
 *   running     job_runs_run (recorded, task     the task's last update →
 *               started)                         succeeded | failed |
 *                                                cancelled; JOB_FENCE or
 *                                                a newer epoch → fenced
 *   fenced      job_runs_fence, a newer epoch    (final; its task is
 *                                                cancelled, never sent)
 *   others      final; "delivered" once the issuer answered
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_JOB_RUNS_H
#define AGENTFLOW_JOB_RUNS_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"

struct job_runs;
struct node;

/* Settles runs a previous life left running and starts the sender. */
struct job_runs *job_runs_new(struct node *);
void job_runs_free(struct job_runs *);

/* The JOB_RUN and JOB_FENCE command handlers (command_exec.c). */
int job_runs_run(struct job_runs *, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);
int job_runs_fence(struct job_runs *, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);

/* The task runner's hooks (work.c): a job's result file, then the
 * task's updates (only the final one matters here). */
void job_runs_task_result(struct job_runs *, const char *task_id,
    const char *result, size_t len, const char *why_no_result);
void job_runs_task_update(struct job_runs *,
    const Agentflow__Mesh__V1__TaskUpdate *);

#endif
