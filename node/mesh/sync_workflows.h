/*
 * The mesh's view of workflows: every node keeps the latest
 * WorkflowUpdate of every workflow each origin coordinates, so that any
 * node lists the whole mesh's workflows and draws any one of them (GET
 * /api/workflows, the dashboard).  A workflow's coordinator is the origin
 * of its events (and of the snapshot that carried it): no member speaks
 * for another's workflows.  In memory only, bounded per origin
 * (SYNC_WORKFLOWS_MAX, the oldest final ones dropped first), forgotten
 * with the origin; the coordinator keeps the full records
 * (node/work/workflows.h).  Taken as sync_jobs.h takes jobs.
 *
 * Loop thread only.  Returned JSON is a new reference.
 */
#ifndef AGENTFLOW_SYNC_WORKFLOWS_H
#define AGENTFLOW_SYNC_WORKFLOWS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct sync;

#define SYNC_WORKFLOWS_MAX	256	/* workflows kept per origin */
/* Of ours per snapshot: 8 of at most 64 KiB beside 256 jobs and 128
 * schedules keep our own state's frame within FRAME_CODEC_MAX_FRAME (a
 * receiver takes up to FRAME_CODEC_MAX_WORKFLOWS). */
#define SYNC_WORKFLOWS_SNAPSHOT	8

/*
 * One of our workflows changed: emits u as a WorkflowUpdate event and
 * keeps it as ours.  u is copied.  Returns the seq, or 0 when u breaks
 * mesh.proto's bounds (logged, not sent) or cannot be queued.
 */
uint64_t sync_emit_workflow(struct sync *,
    const Agentflow__Mesh__V1__WorkflowUpdate *u);
/* One of ours from before this life: kept for our snapshots, not sent. */
void sync_workflows_seed(struct sync *,
    const Agentflow__Mesh__V1__WorkflowUpdate *u);

/* Workflows other origins coordinate, as summaries with "remote": true
 * and "coordinator", newest created first, filtered by state (NULL:
 * any); at most limit (0: all). */
json_t *sync_workflows_list(const struct sync *, const char *state,
    unsigned limit);
/* The summary of workflow id another origin coordinates, with its steps,
 * or NULL: none, or two origins name that id at one epoch.  After a
 * takeover several origins name one workflow: here and in the list, the
 * highest epoch is the workflow (workflows_takeover.h). */
json_t *sync_workflows_get(const struct sync *, const char *id);
/* The highest epoch another origin holds for workflow id, that origin in
 * origin; 0: none holds it. */
uint64_t sync_workflows_epoch(const struct sync *, const char *id,
    char *origin, size_t len);
/* The workflows other origins coordinate that are not final (the highest
 * epoch of each, as sync_workflows_get shows it), each with "handover",
 * its handover_json, when it has one. */
json_t *sync_workflows_open(const struct sync *);
/* qsort order of workflow summaries (json_t *): newest created_ms first. */
int sync_workflows_newer(const void *, const void *);
/* How many workflows of other origins the view holds. */
size_t sync_workflows_count(const struct sync *);

/* A WorkflowUpdate as the API shows a workflow (coordinator: its origin). */
json_t *sync_workflow_json(const char *coordinator,
    const Agentflow__Mesh__V1__WorkflowUpdate *u);

#endif
