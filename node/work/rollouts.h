/*
 * Rollouts: a new definition of one service taken to a list of nodes a
 * few at a time, each kept only once it is healthy (docs/services.md,
 * "Rollouts").
 *
 * The node that was asked runs the rollout; every step is a signed
 * "service" command to the node it changes (get, put, start, stop,
 * delete: command_exec.c), so it works on any node the commands reach,
 * and the audit names the person who started it.  For each node, in
 * order, at most max_parallel at once:
 *
 *   state         what happens                               next
 *   ------------  -----------------------------------------  ------------
 *   pending       a slot is free and the rollout runs        updating
 *   updating      get the definition it has (the version to  (same)
 *                 go back to), put the new one, start it
 *   updating      its ServiceUpdate shows the new version    healthy
 *                 healthy (running, when it has no checks)
 *                 for min_healthy_s
 *   updating      failed, or not healthy deadline_s after    rolling_back
 *                 the put, or the rollout is aborted
 *   rolling_back  put back the definition it had and its     rolled_back
 *                 desired state (or delete a new service)
 *   updating      a command refused or undeliverable         error
 *   pending       the rollout ended first                    untouched
 *
 * The rollout succeeds when every node is healthy.  It fails at the
 * first node rolled back or in error: no further node starts, those
 * under way finish their step.  Paused, no further node starts; aborted,
 * those under way are rolled back.  One rollout of a service runs at a
 * time.  Rollouts are kept in the store's metadata (the last 16), so one
 * under way goes on after the node that runs it restarts.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_ROLLOUTS_H
#define AGENTFLOW_ROLLOUTS_H

#include <jansson.h>

struct node;
struct principal;
struct rollouts;

/* Loads the stored rollouts and goes on with those under way. */
struct rollouts *rollouts_new(struct node *);
/* NULL: no-op.  Call before the commands are freed. */
void rollouts_free(struct rollouts *);

/*
 * Starts a rollout from a request (the API's body: service, definition,
 * target or nodes, max_parallel, deadline_s, min_healthy_s) on behalf of
 * p.  Returns an HTTP status and sets *out (new reference): 201 the
 * rollout as rollouts_get shows it; 400 {error, errors?: [{path,
 * error}]}; 409 {error} one of that service is under way; 507 {error}
 * too many under way.
 */
int rollouts_start(struct rollouts *, const json_t *req,
    const struct principal *p, json_t **out);
/* "pause", "resume", "abort": 200 with the rollout, 404 unknown, 409
 * its state does not allow it, 400 no such action. */
int rollouts_action(struct rollouts *, const char *id, const char *action,
    json_t **out);
/* A rollout as JSON (new reference), or NULL. */
json_t *rollouts_get(const struct rollouts *, const char *id);
/* The rollouts, newest first; only service's when not NULL. */
json_t *rollouts_list(const struct rollouts *, const char *service);
/* How many are in each state, for /metrics: {"running": n, ...}. */
json_t *rollouts_counters(const struct rollouts *);

#endif
