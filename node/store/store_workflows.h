/*
 * Workflows on their coordinator in the node's database (the workflows,
 * workflow_steps and workflow_history tables, one migration of
 * store.c).  Rows go in and come out as JSON objects whose fields are
 * the columns (below); the definition, params and a step's result are
 * JSON values, not text.  Conventions as in store.h: 0 on success, -1
 * with store_error() set; callbacks get JSON text valid during the call
 * only, must not call into the store, and stop a walk by returning
 * non-zero.
 *
 *   workflow: {id, name, definition, params, principal, state,
 *              coordinator, coordinator_epoch, budget_deadline_ms,
 *              created_ms, updated_ms, finished_ms, reason?}
 *   step:     {workflow_id, name, idx, state, attempt, tries, job_id?,
 *              node?, started_ms, finished_ms, result?, next_retry_ms,
 *              approved_by?, comment?, error?, reattach?}
 */
#ifndef AGENTFLOW_STORE_WORKFLOWS_H
#define AGENTFLOW_STORE_WORKFLOWS_H

#include <jansson.h>
#include <stdint.h>

struct store;

typedef int (*store_workflows_cb)(void *arg, const char *json);

/*
 * Writes, all or nothing in one transaction: the workflow row wf (may be
 * NULL), each step row of steps (an array, may be NULL) and each entry
 * of history (an array of objects with a time_ms, may be NULL), all of
 * workflow id.  A row is inserted or replaced whole.  Borrowed.
 */
int store_workflow_write(struct store *, const char *id, const json_t *wf,
    const json_t *steps, const json_t *history);
/* One workflow's row: 1 found (cb called unless NULL), 0 not, -1 on an
 * error. */
int store_workflow_get(struct store *, const char *id, store_workflows_cb,
    void *arg);
/* Workflows newest first, in state (NULL: any); limit 0: all. */
int store_workflows_query(struct store *, const char *state, unsigned limit,
    store_workflows_cb, void *arg);
/* Workflows a coordinator still moves: not succeeded, failed, cancelled
 * or budget-exceeded, or with a step still running (restart recovery),
 * oldest first. */
int store_workflows_open(struct store *, store_workflows_cb, void *arg);
/* A workflow's steps in their definition's order (idx). */
int store_workflow_steps(struct store *, const char *id, store_workflows_cb,
    void *arg);
/* A workflow's history, oldest first. */
int store_workflow_history(struct store *, const char *id,
    store_workflows_cb, void *arg);

/* Drops the workflows done (succeeded, failed, cancelled,
 * budget-exceeded) with no step still running, and the rows a step-down
 * left (coordinator not self), last changed before before_ms, with their
 * steps and history, all or nothing (--retain-jobs, `agentflow purge`);
 * how many went in *removed (may be NULL). */
int store_workflows_trim(struct store *, int64_t before_ms,
    const char *self, uint64_t *removed);

#endif
