/*
 * Silences as the mesh's (silences.h ↔ node/mesh/sync_silences.h): at
 * start, every silence and removal in the store seeds the mesh's view;
 * a change made here (API) goes out as the mesh's word; another node's
 * word is checked as the API checks a new silence (silences_check) and,
 * when the mesh's view took it, kept in the store.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SILENCES_MESH_H
#define AGENTFLOW_SILENCES_MESH_H

struct node;

/* Seeds n->sync from n->silences and hooks them together (no-op when
 * either is NULL). */
void silences_mesh_start(struct node *n);
void silences_mesh_stop(struct node *n);
/* Tells the mesh of what this node now holds of silence id (added or
 * removed here). */
void silences_mesh_emit(struct node *n, const char *id);

#endif
