/*
 * Artifacts: .tar.gz and .zip files this node holds by their SHA-256, for
 * services to run from (service_spec.h's "artifact").
 *
 * An artifact comes in one of two ways, both into the same part file
 * (ARTIFACT_DIR/<hex>.part, hashed as it grows) and out of it only when
 * its SHA-256 is its name:
 *   - uploaded through the API in pieces of at most 1 MiB
 *     (`agentflow artifact add FILE`), resumable from the bytes held;
 *   - fetched from a peer that holds it, over our link to it
 *     (artifact_fetch.c): ranges asked a window at a time, answered
 *     behind every live frame, resumed where the part file ends, moved to
 *     another holder when one does not answer, and refused (part file
 *     removed, reported, another holder tried) when the bytes are not the
 *     artifact.
 * Held ones are told to the mesh (ArtifactUpdate events; the mesh's view
 * is sync_artifacts.h).  A service that names one is started in its
 * unpacked directory, ARTIFACT_DIR/unpacked/<hex>, made once by
 * artifact_unpack.h on a worker thread (links out of the directory and
 * ".." refused).
 *
 *   part file   event                           next
 *   ----------  ------------------------------  --------------------
 *   (none)      upload at 0, or a fetch starts  growing
 *   growing     bytes at its end                growing
 *   growing     its size reached, hash matches  held (event sent)
 *   growing     its size reached, mismatch      (none), refused
 *   held        delete (no service uses it)     (none) (event sent)
 *
 * Loop thread only (but the unpacking, on its worker).
 */
#ifndef AGENTFLOW_ARTIFACTS_H
#define AGENTFLOW_ARTIFACTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct node;
struct artifacts;

/* One upload's piece at most (the API's body limit). */
#define ARTIFACTS_PIECE_MAX	(1u << 20)

/* Opens DATA_DIR/artifacts (made when missing), tells the sync view what
 * it holds.  NULL with err when the directory cannot be made. */
struct artifacts *artifacts_new(struct node *, char *err, size_t errlen);
/* Stops fetches and the worker.  NULL: no-op. */
void artifacts_free(struct artifacts *);

/*
 * A piece of an upload (PUT /api/artifacts/ID?name=&size=&offset=).
 * Returns an HTTP status and sets *out (new reference):
 *   200 {artifact, received}: taken, more to come;
 *   201 the artifact's row (artifacts_list_json's): complete and checked;
 *   200 the row too when the artifact is already held (nothing written);
 *   400 {error}: a bad id, name or size, or the bytes were not the
 *       artifact (the part file is removed);
 *   409 {error, offset}: offset is not where the part file ends;
 *   413 {error}: size over --artifact-max-mib;
 *   500 {error}: the disk failed.
 */
int artifacts_upload(struct artifacts *, const char *id, const char *name,
    uint64_t size, uint64_t offset, const void *data, size_t len,
    json_t **out);
/* Removes a held artifact here (tells the mesh): 200 {artifact, deleted},
 * 404 not held, 409 {error} a service here names it. */
int artifacts_delete(struct artifacts *, const char *id, json_t **out);
/* {artifacts: the mesh's view (sync_artifacts_list), fetches: [{artifact,
 * node, from, bytes, size, started_ms, error}]} (new reference). */
json_t *artifacts_list_json(const struct artifacts *);
/* Counters for /metrics: {held, held_bytes, fetched_bytes, served_bytes,
 * fetches_ok, fetches_refused, fetches_failed} (new reference). */
json_t *artifacts_counters(const struct artifacts *);

enum artifacts_ready {
	ARTIFACTS_READY,	/* unpacked: *dir set */
	ARTIFACTS_WAIT,		/* fetching or unpacking: ask again later */
	ARTIFACTS_REFUSED,	/* it cannot be unpacked (why says) */
};

/*
 * What a service that names id may do now.  READY sets *dir (valid until
 * artifacts_free).  WAIT starts what is missing (a fetch, the unpacking)
 * and says in why what it waits for; the services hear of the change
 * (services_artifact) when it is done or refused.  why may be NULL.
 */
enum artifacts_ready artifacts_ready(struct artifacts *, const char *id,
    const char **dir, char *why, size_t whylen);

/* An ArtifactRequest or ArtifactChunk frame from peer. */
void artifacts_frame(struct artifacts *, const char *peer,
    const Agentflow__Mesh__V1__Frame *);

#endif
