/*
 * Schedules: jobs submitted at cron times (cron.h) by whichever node owns
 * each fire time, with no node in charge.
 *
 * Every node holds every schedule (the mesh's view, sync_schedules.h,
 * kept in the store across restarts) and computes each one's fire times.
 * A fire time F is owned by one node: the highest rendezvous hash of
 * (schedule, F, node id) over the members this node sees alive (itself
 * included).  A node fires F only when it is that owner AND it sees a
 * majority of the known members (those that have not left) alive, so
 * the minority side of a partition never fires; it must have seen that
 * majority for SCHEDULES_SETTLE_MS (after a start or a heal, what the
 * others fired meanwhile arrives first).  The fire is jobs_submit
 * on the owner with the idempotency key "schedule:NAME:F": two nodes that
 * both believe they own F (views differ for a moment) send the same key,
 * and the executor runs a key once (job_runs.c).
 *
 * A fire time whose owner (as a node saw it when the time came) then
 * goes out of sight is not taken over: seen from here a crash and a
 * partition look alike, and that owner may have fired it unseen.
 *
 * A fire time stays due until the mesh's last fire of its schedule
 * reaches it (someone handled it) or it is too late: SCHEDULES_LATE_MS
 * for misfire "skip" (a late owner's takeover stays on time; a restart
 * after longer skips it), the grace for "run_once" (then only the latest
 * missed time runs, once).  A later fire time replaces an earlier one
 * still due.  Overlap, when the last fire's job is not final and its
 * issuer is alive: "skip" records the fire as skipped, "queue" keeps it
 * waiting on the owner (at most one; it runs when that job ends), "allow"
 * fires.  Every handled fire (time, job, node, outcome) goes to every
 * node; the firing node follows its job's state into the outcome.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SCHEDULES_H
#define AGENTFLOW_SCHEDULES_H

#include <jansson.h>
#include <stdint.h>

#include "principal.h"

struct node;
struct schedules;

#define SCHEDULES_LATE_MS	10000LL	/* "skip": this late is on time */
#define SCHEDULES_SETTLE_MS	3000LL	/* a majority in sight this long first */
#define SCHEDULES_TICK_MS	250

/* Loads the stored schedules into the mesh's view and starts firing. */
struct schedules *schedules_new(struct node *);
/* NULL: no-op. */
void schedules_free(struct schedules *);

/*
 * Adds or replaces the schedule defined by def (schedule_spec.h; task
 * names checked against this node's tasks) for principal p.  201 (new)
 * or 200 (replaced) with *out the schedule as schedules_get shows it;
 * 400 with *out the array of {path, error}, nothing stored; 507 when the
 * mesh holds SYNC_SCHEDULES_MAX already, 500 when it cannot be stored
 * (*out {error}).
 */
int schedules_put(struct schedules *, const json_t *def,
    const struct principal *p, json_t **out);
/* Every schedule (tombstones left out), by name (new reference). */
json_t *schedules_list(struct schedules *);
/* One schedule {name, cron, tz, job, misfire, grace_ms, overlap, paused,
 * updated_ms, author, principal (who made this definition; absent when
 * nobody is named: sync_schedules_principal), next_fire_ms, last_fire:
 * {fire_ms, job, node, outcome, updated_ms} | null}, or NULL: none (new
 * reference). */
json_t *schedules_get(struct schedules *, const char *name);
/* Deletes (a tombstone) or pauses / resumes name for principal p (NULL:
 * nobody named; its name travels in the update): 200, or 404. */
int schedules_delete(struct schedules *, const char *name,
    const struct principal *p);
int schedules_pause(struct schedules *, const char *name, int paused,
    const struct principal *p);

#endif
