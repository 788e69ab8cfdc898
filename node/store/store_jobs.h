/*
 * Durable jobs in the node's database (the jobs, job_history and
 * job_runs tables, one migration of store.c).  Each row keeps its record
 * as JSON text (the shape jobs.c and job_runs.c define) plus the columns
 * the queries select on.  Conventions as in store.h: 0 on success, -1
 * with store_error() set; callbacks get JSON text valid during the call
 * only, must not call into the store, and stop the walk by returning
 * non-zero.
 */
#ifndef AGENTFLOW_STORE_JOBS_H
#define AGENTFLOW_STORE_JOBS_H

#include <stdint.h>

struct store;

typedef int (*store_jobs_cb)(void *arg, const char *json);

/* --- the issuer's side -------------------------------------------------- */

/* Inserts or replaces a job (key may be NULL). */
int store_job_put(struct store *, const char *id, const char *state,
    const char *task, const char *key, int64_t updated_ms, const char *json);
/* One job by id, or by idempotency key (id NULL): 1 found (cb called),
 * 0 not, -1 on an error. */
int store_job_get(struct store *, const char *id, const char *key,
    store_jobs_cb, void *arg);
/* Jobs newest first, filtered by state and task (NULL: any); limit 0: all. */
int store_jobs_query(struct store *, const char *state, const char *task,
    unsigned limit, store_jobs_cb, void *arg);
/* As store_jobs_query, without the children of fanned-out jobs (records
 * with a "parent": jobs_fanout.h). */
int store_jobs_query_top(struct store *, const char *state, const char *task,
    unsigned limit, store_jobs_cb, void *arg);
/* Jobs not in a final state, oldest first (restart recovery). */
int store_jobs_open(struct store *, store_jobs_cb, void *arg);
/* Appends an entry to a job's history. */
int store_job_history_add(struct store *, const char *job_id, int64_t time_ms,
    const char *json);
/* A job's history, oldest first. */
int store_job_history(struct store *, const char *job_id, store_jobs_cb,
    void *arg);

/* A fence to send: (job, node, epoch), replacing one for (job, node). */
int store_job_fence_put(struct store *, const char *job_id, const char *node,
    uint64_t epoch);
/* The node answered the fence of that epoch (a newer one stays). */
int store_job_fence_del(struct store *, const char *job_id, const char *node,
    uint64_t epoch);
/* Every fence still to send, as {"job_id", "node", "epoch"}. */
int store_job_fences(struct store *, store_jobs_cb, void *arg);

/* --- the executor's side ------------------------------------------------ */

/* Inserts or replaces the run (job_id, epoch); key may be NULL. */
int store_job_run_put(struct store *, const char *job_id, uint64_t epoch,
    const char *issuer, const char *key, const char *state, int delivered,
    int64_t updated_ms, const char *json);
/* Runs of a job (job_id), of an idempotency key (key), or every run whose
 * result the issuer has not taken (undelivered), in (job, epoch) order. */
int store_job_runs(struct store *, const char *job_id, const char *key,
    int undelivered, store_jobs_cb, void *arg);
/* Runs recorded in state (restart recovery). */
int store_job_runs_in(struct store *, const char *state, store_jobs_cb,
    void *arg);

/* Drops what is older than before_ms and settled: final jobs and their
 * history, fences, and runs whose result the issuer has (a run's key is
 * remembered as long as its row). */
int store_jobs_trim(struct store *, int64_t before_ms);
/* The same, and how many jobs went in *removed (agentflow purge). */
int store_jobs_purge(struct store *, int64_t before_ms, uint64_t *removed);

#endif
