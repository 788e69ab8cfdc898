/*
 * The mesh's view of services: every node keeps the latest ServiceUpdate
 * of every service each origin runs, so that any node lists the whole
 * mesh's services (GET /api/services, the dashboard).  The node that runs
 * a service is the origin of its events (and of the snapshot that
 * carried it): no member speaks for another's services.  In memory only,
 * forgotten with the origin; the node keeps the definitions
 * (node/work/services.h, whose supervisor calls sync_emit_service).
 *
 * A receiver keeps, per (origin, name), the update with the newest
 * updated_ms.  A removed update is kept as a tombstone that no list or
 * count shows, so an older word arriving later (a relayed event, a
 * snapshot overtaken by live events) cannot bring the service back; a
 * tombstone is the first thing dropped when an origin's list is full
 * (SYNC_SERVICES_MAX), and a new word of that name replaces it.
 *
 * Loop thread only.  Returned JSON is a new reference.
 */
#ifndef AGENTFLOW_SYNC_SERVICES_H
#define AGENTFLOW_SYNC_SERVICES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct sync;

/*
 * Services kept per origin, tombstones included, and of ours per
 * snapshot: FRAME_CODEC_MAX_SERVICES, so our snapshot carries every one
 * of ours (live ones first, then the newest removals).  128 of at most
 * FRAME_CODEC_MAX_SERVICE_BYTES (4 KiB) is 512 KiB of our own state's
 * frame; docs/architecture.md ("Budgets") adds up the rest.
 */
#define SYNC_SERVICES_MAX	128

/*
 * One of our services changed: emits u as a ServiceUpdate event and keeps
 * it as ours (our snapshots carry it), replacing the last of that name; a
 * removed one stays as ours only as a tombstone (listed nowhere).  u is
 * copied.  Returns the seq, or 0 when u breaks mesh.proto's bounds
 * (logged, not sent: a bad event would make its whole batch unencodable)
 * or cannot be queued.
 */
uint64_t sync_emit_service(struct sync *,
    const Agentflow__Mesh__V1__ServiceUpdate *u);
/* One of ours from before this life (reloaded at start): kept for our
 * snapshots, not sent.  u is copied; one breaking the bounds is skipped. */
void sync_services_seed(struct sync *,
    const Agentflow__Mesh__V1__ServiceUpdate *u);

/*
 * Every origin's services, ours included, as sync_service_json shows
 * them, sorted by name then node; only those named name and on node
 * (NULL: any).
 */
json_t *sync_services_list(const struct sync *, const char *name,
    const char *node);
/* How many services (not removed) the view holds, ours included. */
size_t sync_services_count(const struct sync *);

/*
 * A ServiceUpdate as the API shows a service on node: {node, name,
 * desired, state, pid, started_ms, restarts, last_exit: {code, signal} or
 * null, next_attempt_ms, updated_ms, reason, endpoints: [{name, protocol,
 * port, tags}], task_id, version}; pid, times, reason, task_id and
 * version null when 0 or empty; "removed": true only on a removal.
 */
json_t *sync_service_json(const char *node,
    const Agentflow__Mesh__V1__ServiceUpdate *u);

#endif
