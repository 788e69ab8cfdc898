/*
 * Services: long-running processes this node keeps in their desired
 * state (definitions: service_spec.h).
 *
 * Each service has a desired state, running or stopped, set from
 * anywhere in the mesh (the API here, or a "service" command from
 * another node) and kept in SQLite, so a node that restarts brings its
 * running services back at once, before any link is up.  The actual
 * state is reconciled towards it and every change goes out as a
 * ServiceUpdate event, so every node and dashboard sees every service.
 *
 * A service's process is a task run of its own definition (tasks.h's
 * tasks_service): its own process group, its output as the run's log
 * lines, the guardian that ends it with a node that dies, and the
 * leftover check at the next start.  It is not queued work: it starts
 * whatever --max-running says.
 *
 *   state        event                                 next
 *   -----------  ------------------------------------  ------------
 *   stopped      desired running, not frozen, not      starting
 *                settled (reconcile)
 *   starting     the run started, no checks            running
 *   starting     (with checks) every check passing     healthy
 *   (up)         one check failing                     unhealthy
 *   unhealthy    none failing, not all passing yet     starting
 *   unhealthy    every check passing                   healthy
 *   (live)       desired stopped                       stopping
 *   (live)       restart                               stopping, then
 *                                                      starting
 *   (live)       a restart:true check unhealthy        stopping, then
 *                                                      as an exit
 *   (live)       the process exited, restart policy    backing-off
 *                allows it (always; on-failure and it
 *                failed)
 *   (live)       exited, policy says no more (never;   stopped,
 *                on-failure and it succeeded)          settled
 *   (live)       exited, budget spent (mode fail)      failed, settled
 *   stopping     the process ended                     stopped
 *   backing-off  the delay is over                     starting
 *   backing-off  desired stopped                       stopped
 *   failed       start or restart (a new budget)       starting
 *   any          frozen: nothing starts; freeze        (as above)
 *                --stop stops the processes as tasks
 *
 * "Settled": the policy put it there; reconcile leaves it until someone
 * starts it again or its definition changes.
 *
 * A node that stops kills its services' processes (SIGKILL, as it does
 * its tasks); they start again when it starts.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SERVICES_H
#define AGENTFLOW_SERVICES_H

#include <jansson.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct node;
struct services;

/* Loads the stored services and --services (cfg->services; a file's
 * definition replaces a stored one of the same name, its desired state
 * kept), and starts what should run (deferred).  NULL with err when the
 * file is unreadable or invalid (every error named). */
struct services *services_new(struct node *, char *err, size_t errlen);
/* Forgets every service (their processes end with the tasks').  NULL:
 * no-op.  Call before tasks_free. */
void services_free(struct services *);

/* tasks' hooks, for the runs that are services' processes. */
void services_task(struct services *, const Agentflow__Mesh__V1__TaskUpdate *);
void services_task_group(struct services *, const char *task_id, int pgid,
    int running);
/* Frozen: nothing starts; unfrozen: reconcile. */
void services_set_frozen(struct services *, int frozen);

/*
 * The API's and the "service" command's calls.  Each returns an HTTP
 * status and sets *out (a new reference): the service as
 * services_get shows it, or {"error": text} (and for 400 from
 * services_put, {"error", "errors": [{path, error}]}).
 *   services_put: 201 new, 200 replaced, 400 invalid (nothing changed),
 *                 403 the node takes no command lines from outside
 *                 (no --allow-adhoc), 409 being removed, 507 too many
 *                 services.
 *   services_action: "start", "stop", "restart": 200, 404 no such
 *                 service, 409 frozen (start, restart), 400 bad action.
 *   services_delete: 200 (stopping it first), 404.
 */
int services_put(struct services *, const char *name, const json_t *def,
    json_t **out);
int services_action(struct services *, const char *name, const char *action,
    json_t **out);
int services_delete(struct services *, const char *name, json_t **out);

/* This node's service name as JSON: {name, definition, desired, state,
 * pid, started_ms, restarts, last_exit, next_attempt_ms, reason, task_id,
 * version, checks: [...]}, or NULL. */
json_t *services_get(const struct services *, const char *name);
/* Every service of this node, by name. */
json_t *services_local(const struct services *);
/* The artifact id is ready, refused or fetched (artifacts.h): the
 * services waiting for it try again. */
void services_artifact(struct services *, const char *id);
/* The name of a service here that names artifact id, or NULL. */
const char *services_artifact_user(const struct services *, const char *id);

/* Counters for /metrics: {services, running, healthy, restarts}. */
json_t *services_counters(const struct services *);

#endif
