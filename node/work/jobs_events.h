/*
 * Our jobs as the mesh sees them (node/mesh/sync_jobs.h): every change of
 * a job this node issued goes out as a JobUpdate event, the summary every
 * node lists; a start seeds our snapshots with the jobs of earlier lives.
 * A job's record is jobs.c's JSON; this only reads it.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_JOBS_EVENTS_H
#define AGENTFLOW_JOBS_EVENTS_H

#include <jansson.h>

struct node;

/* The job whose record is rec (borrowed) changed: tells the mesh. */
void jobs_events_changed(struct node *, const json_t *rec);
/* Our open jobs and our most recent ones from the store, for our
 * snapshots (at start). */
void jobs_events_seed(struct node *);

#endif
