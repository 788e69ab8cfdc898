/*
 * Durable jobs, the issuer's side: a job submitted here (POST /api/jobs,
 * `agentflow submit`) is recorded in SQLite before the answer, then sent
 * to its node as a JOB_RUN command whenever that node is reachable
 * (store-and-forward) until the job's deadline; the executor's result
 * comes back as a JOB_RESULT command and exactly one is recorded.  The
 * states and the validation of a job are jobs_spec.h's; the executor's
 * side is job_runs.h.
 *
 * Placement: a node id (the job waits for that node), "all" or
 * "KEY=VALUE,..." (one child job per matching node: jobs_fanout.h), "any" or
 * "any:KEY=VALUE,..." (the mesh picks among the matching nodes that are
 * alive and not frozen: fewest jobs of ours dispatched or running there,
 * then lowest CPU).  Each dispatch carries (job id, epoch).  When an
 * "any" job's node is dead (--dead-ms) the job goes back to the queue and
 * its next dispatch has epoch + 1; the old node gets a JOB_FENCE (stored
 * and resent until it answers) and any result it sends for the old epoch
 * is recorded as a fenced run, never as the job's result.  A job
 * submitted at_most_once is never dispatched to a second node: a dead
 * node's job is "lost".
 *
 * Loop thread only.  Everything here survives a restart of the issuer:
 * open jobs and pending fences are reloaded and dispatching resumes (the
 * executor dedupes a repeated (job, epoch)).
 */
#ifndef AGENTFLOW_JOBS_H
#define AGENTFLOW_JOBS_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"
#include "principal.h"

struct jobs;
struct node;

/* Loads the open jobs and fences and starts dispatching (a 500 ms tick). */
struct jobs *jobs_new(struct node *);
/* NULL: no-op.  Nothing is lost: what is open stays in the store. */
void jobs_free(struct jobs *);

/*
 * Submits a job (body as jobs_spec_parse takes it) for principal p (may
 * be NULL).  Returns the HTTP status to answer: 202 with the new id in
 * id; 200 with the first job's id for a key already used with the same
 * arguments; 409 with the first job's id for a key used with others;
 * 400/413 for a bad job, 500 when it cannot be stored; err says why.
 */
int jobs_submit(struct jobs *, const json_t *body, const struct principal *p,
    char *id, size_t idlen, char *err, size_t errlen);
/* jobs_submit with the new job's id given (want: a node id, never
 * random: the workflows' coordinator derives it from the step and its
 * attempt); 409 when another job holds that id. */
int jobs_submit_id(struct jobs *, const json_t *body, const struct principal *p,
    const char *want, char *id, size_t idlen, char *err, size_t errlen);
/* A job with its history (new reference), or NULL when unknown here. */
json_t *jobs_get(struct jobs *, const char *id);
/* A job's record without its history (new reference), or NULL when
 * unknown here: what a caller polling its state reads. */
json_t *jobs_record(struct jobs *, const char *id);
/* Jobs newest first, filtered by state and task name (NULL: any); the
 * children of fanned-out jobs (jobs_fanout.h) only when children is 1. */
json_t *jobs_list(struct jobs *, const char *state, const char *task,
    unsigned limit, int children);
/* Cancels a job not yet final: 200, 404 unknown, 409 final (err says). */
int jobs_cancel(struct jobs *, const char *id, const struct principal *p,
    char *err, size_t errlen);

/* Adds an entry to a job's history (event: what happened; extra: its
 * fields, reference stolen), e.g. a callback attempt. */
void jobs_note(struct jobs *, const char *job_id, const char *event,
    json_t *extra);

/* The JOB_RESULT command handler (command_exec.c). */
int jobs_result_command(struct jobs *, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);

/* A command can go to node now: it is this node, or a route leads there
 * (job_runs.c sends results only then). */
int jobs_reachable(struct node *, const char *node);

/* Issues a node-internal job command (job_result, job_fence) to node,
 * as this node (jobs_node_principal); done as commands_request's.  0, or
 * -1 with err set. */
int jobs_node_command(struct node *, const char *node, const char *type,
    const json_t *args, void (*done)(const char *id, const json_t *rec,
    void *arg), void *arg, char *err, size_t errlen);

/* fn(arg, rec) each time a job issued here becomes final (rec: its
 * record, borrowed for the call), for the workflows' coordinator
 * (workflows.h).  fn must not call into jobs: it defers what it does.
 * One listener; fn NULL removes it. */
void jobs_on_final(struct jobs *, void (*fn)(void *arg, const json_t *rec),
    void *arg);

/* fn(arg, rec) before the dispatcher moves a job issued here (sends its
 * JOB_RUN, or places it again off a dead node): 0 holds it where it is
 * for this turn.  For the workflows' coordinator: a step's job moves only
 * while this node coordinates its workflow with a majority in sight, so
 * a coordinator cut off, or taken over, sends no step anywhere
 * (workflows_takeover.h).  fn must not call into jobs.  One gate; fn NULL
 * removes it. */
void jobs_set_gate(struct jobs *, int (*fn)(void *arg, const json_t *rec),
    void *arg);

/* Counters for /metrics: {"submitted": n, ..., "queued": depth, "open":
 * not final} (new reference). */
json_t *jobs_counters(struct jobs *);

#endif
