/*
 * Our workflows as the mesh sees them (node/mesh/sync_workflows.h): every
 * transition of a workflow this node coordinates goes out as a
 * WorkflowUpdate event, the summary every node lists and draws.  The
 * workflow is given as the API shows it (GET /api/workflows/{id}); this
 * only reads it.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_WORKFLOWS_EVENTS_H
#define AGENTFLOW_WORKFLOWS_EVENTS_H

#include <jansson.h>

struct node;

/* The workflow wf (borrowed; the API's JSON) changed: tells the mesh.
 * final: wf's state is final (finished_ms says so to every receiver). */
void workflows_events_changed(struct node *, const json_t *wf, int final);
/* One of ours from an earlier life, for our snapshots (at start). */
void workflows_events_seed(struct node *, const json_t *wf, int final);

#endif
