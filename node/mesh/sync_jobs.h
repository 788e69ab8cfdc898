/*
 * The mesh's view of durable jobs: every node keeps the latest JobUpdate
 * of every job each origin issued, so that any node lists the whole
 * mesh's jobs (GET /api/jobs, the dashboard).  A job's issuer is the
 * origin of its events (and of the snapshot that carried it): no member
 * speaks for another's jobs.  Kept in memory only, bounded per origin
 * (SYNC_JOBS_MAX, the oldest final jobs dropped first), forgotten with
 * the origin; the issuer keeps the full records (node/work/jobs.h).
 *
 * Loop thread only.  Returned JSON is a new reference.
 */
#ifndef AGENTFLOW_SYNC_JOBS_H
#define AGENTFLOW_SYNC_JOBS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct sync;

#define SYNC_JOBS_MAX		1024	/* jobs kept per origin */
#define SYNC_JOBS_SNAPSHOT	256	/* of ours per snapshot (a frame's share) */

/*
 * One of our jobs changed: emits u as a JobUpdate event and keeps it as
 * ours (our snapshots carry it).  u is copied.  Returns the seq, or 0
 * when u breaks mesh.proto's bounds (logged, not sent: a bad event would
 * make its whole batch unencodable) or cannot be queued.
 */
uint64_t sync_emit_job(struct sync *, const Agentflow__Mesh__V1__JobUpdate *u);
/* One of our jobs from before this life (reloaded at start): kept for our
 * snapshots, not emitted.  u is copied; one breaking the bounds is
 * skipped. */
void sync_jobs_seed(struct sync *, const Agentflow__Mesh__V1__JobUpdate *u);

/* Jobs other origins issued as summaries (work_json_job) with "remote":
 * true, newest submitted first (sync_jobs_newer), filtered by state and task name (NULL: any); at most limit. */
json_t *sync_jobs_list(const struct sync *, const char *state,
    const char *task, unsigned limit);
/* The summary of job id issued by another origin (issuer, or any when
 * NULL), or NULL: none, or (with *issuers set, may be NULL) more than
 * one origin names that id, since a member may copy another's. */
json_t *sync_jobs_get(const struct sync *, const char *id,
    const char *issuer, json_t **issuers);
/* qsort order of job summaries (json_t *): newest submitted_ms first. */
int sync_jobs_newer(const void *, const void *);
/* How many jobs of other origins the view holds. */
size_t sync_jobs_count(const struct sync *);

#endif
