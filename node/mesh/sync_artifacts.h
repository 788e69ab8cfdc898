/*
 * The mesh's view of artifacts: which node holds which artifact
 * (node/work/artifacts.h), so that a node that needs one knows whom to
 * ask for it and `agentflow artifact ls` shows the whole mesh.  Each node
 * tells only its own holdings (ArtifactUpdate events, and its own
 * snapshots); a removal stays as a tombstone, dropped first when an
 * origin's list is full.  In memory only, forgotten with the origin.
 *
 * Loop thread only.  Returned JSON is a new reference.
 */
#ifndef AGENTFLOW_SYNC_ARTIFACTS_H
#define AGENTFLOW_SYNC_ARTIFACTS_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"

struct sync;

/* Artifacts kept per origin, tombstones included (FRAME_CODEC_MAX_ARTIFACTS). */
#define SYNC_ARTIFACTS_MAX	256

/* We hold u->artifact now (or no longer, u->removed): emits it as an
 * ArtifactUpdate event and keeps it as ours.  u is copied.  Returns the
 * seq, or 0 when it breaks mesh.proto's bounds (logged) or cannot go. */
uint64_t sync_emit_artifact(struct sync *,
    const Agentflow__Mesh__V1__ArtifactUpdate *u);
/* One of ours from before this life (found on disk at start): kept for
 * our snapshots, not sent. */
void sync_artifacts_seed(struct sync *,
    const Agentflow__Mesh__V1__ArtifactUpdate *u);

/*
 * [{artifact, name, size, nodes: [{node, added_ms}]}], every artifact
 * some node holds, sorted by name then artifact, each node once, sorted.
 */
json_t *sync_artifacts_list(const struct sync *);
/* Calls fn for every origin but skip (may be NULL) that holds artifact,
 * with its word on it (borrowed for the call). */
void sync_artifacts_holders(const struct sync *, const char *artifact,
    const char *skip, void (*fn)(const char *origin,
    const Agentflow__Mesh__V1__ArtifactUpdate *, void *arg), void *arg);

#endif
