/*
 * A schedule's definition, checked whole before it is stored: every
 * error at once, each with the path to the bad field (as workflows'
 * definitions are, workflow_spec.h).  Pure functions, no node: the unit
 * tests drive them directly, the API answers with them.
 *
 *   {
 *     "name": "nightly-backup",        1-63 of [A-Za-z0-9._-]
 *     "cron": "0 2 * * *",             cron.h: five fields, a macro or
 *                                      "@every DURATION"
 *     "tz": "Europe/Berlin",           optional, "UTC" by default
 *     "job": {"task": "backup",        what POST /api/jobs takes, but
 *             "to": "any", ...},       "key" (the schedule sets it);
 *     or "workflow": {                 or what POST /api/workflows
 *       "definition": {...},           takes, run by the fire's owner
 *       "set": {"k": "v"}},            as its coordinator
 *     "misfire": "skip",               or "run_once": a fire time missed
 *     "grace": "1h",                   (a restart, a heal) runs once late
 *                                      within grace (default 1h)
 *     "overlap": "skip",               the last fire's job not final:
 *                                      "skip" this fire, "queue" it (at
 *                                      most one waits) or "allow" it
 *     "paused": false                  optional
 *   }
 */
#ifndef AGENTFLOW_SCHEDULE_SPEC_H
#define AGENTFLOW_SCHEDULE_SPEC_H

#include <jansson.h>

/* A definition as stored travels in one ScheduleUpdate (mesh.proto):
 * its compact JSON is at most this many bytes. */
#define SCHEDULE_SPEC_MAX	8192
#define SCHEDULE_GRACE_DEFAULT_MS	(3600LL * 1000)
#define SCHEDULE_GRACE_MAX_S	(7L * 24 * 3600)

enum schedule_misfire { SCHEDULE_MISFIRE_SKIP, SCHEDULE_MISFIRE_RUN_ONCE };
enum schedule_overlap {
	SCHEDULE_OVERLAP_SKIP,
	SCHEDULE_OVERLAP_QUEUE,
	SCHEDULE_OVERLAP_ALLOW
};

/*
 * Checks def; tasks (may be NULL: not checked) is an object whose keys
 * are the task names a job may name.  Returns the definition as stored
 * (new reference): {name, cron, tz, job | workflow, misfire: "skip" |
 * "run_once",
 * grace_ms, overlap, paused}; or NULL with *errors an array of {path,
 * error} (new reference).
 */
json_t *schedule_spec_check(const json_t *def, const json_t *tasks,
    json_t **errors);

/* A stored definition's policies (def as schedule_spec_check returns). */
enum schedule_misfire schedule_spec_misfire(const json_t *def);
enum schedule_overlap schedule_spec_overlap(const json_t *def);

#endif
