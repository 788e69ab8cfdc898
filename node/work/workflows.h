/*
 * The workflow coordinator: the node a workflow is submitted to runs it
 * (docs/workflows.md).  A workflow's definition is checked whole
 * (workflow_spec.h) and stored with a row per step before the answer;
 * from then on every move of the workflow or a step (workflow_state.h's
 * tables, CHECKed) is written with its history entry in one transaction
 * (store_workflows.h).
 *
 * A job step is a durable job (jobs.h) submitted by this node as itself
 * ("node:<id>": a person's signed token lives only during the API call),
 * under the job id "jWORKFLOW-STEP_INDEX-ATTEMPT" and the idempotency key
 * "wf/WORKFLOW/STEP/ATTEMPT", and its job id is stored on the step before
 * the workflow moves on.  After a kill -9
 * at any point a restart either finds the job id on the step or submits
 * the same key again, which answers the same job: a step is re-attached,
 * never run twice.  Its payload is rendered (workflow_spec_render) from
 * the params and the results of the steps before it.
 *
 * The coordinator learns of results from jobs_on_final and a 500 ms
 * tick (retries after their backoff, the budget, the workflows reloaded
 * after a restart).  The people's actions (approve, reject, pause,
 * resume, cancel, retry) are workflows_act.c's.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_WORKFLOWS_H
#define AGENTFLOW_WORKFLOWS_H

#include <jansson.h>
#include <stddef.h>

#include "principal.h"

struct node;
struct workflows;

/* Reloads the workflows a previous life left moving, starts the tick. */
struct workflows *workflows_new(struct node *);
/* NULL: no-op.  Nothing is lost: the store holds every workflow. */
void workflows_free(struct workflows *);

/*
 * Checks definition def with set (KEY → "value", may be NULL) and stores
 * the workflow for principal p (may be NULL), which starts at once.
 * Returns 202 with its id; 400 with *errors the definition's errors
 * and its steps on this node naming a task not defined here (new
 * reference: [{path, error}]), nothing stored; 500 when it cannot
 * be stored (err says).
 */
int workflows_run(struct workflows *, const json_t *def, const json_t *set,
    const struct principal *p, char *id, size_t idlen, json_t **errors,
    char *err, size_t errlen);
/* The same under the caller's id (a schedule's fire: "w" and 16 hex
 * digits of its key); 200 without running anything when a workflow of
 * that id is stored here already. */
int workflows_run_id(struct workflows *, const json_t *def,
    const json_t *set, const struct principal *p, const char *id,
    json_t **errors, char *err, size_t errlen);
/* A workflow with its steps and history (new reference), or NULL. */
json_t *workflows_get(struct workflows *, const char *id);
/* Summaries newest first, in state (NULL: any); limit 0: the most. */
json_t *workflows_list(struct workflows *, const char *state, unsigned limit);

#define WORKFLOWS_COMMENT_MAX	1024	/* an approval's or rejection's */

/*
 * A person's action on workflow id (workflows_act.c): "approve" and
 * "reject" take step and comment (NULL: none), "retry" step (NULL: every
 * failed one); "pause", "resume", "cancel" neither.  p is who acts
 * (audited).  Returns 200, 400 (unknown action, missing step), 404
 * (unknown workflow or step) or 409 (the workflow's or step's state,
 * named in err).
 */
int workflows_act(struct workflows *, const char *id, const char *action,
    const char *step, const char *comment, const struct principal *p,
    char *err, size_t errlen);

#endif
