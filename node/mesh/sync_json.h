/*
 * The JSON views of sync's state, for the API and the dashboard.
 */
#ifndef AGENTFLOW_SYNC_JSON_H
#define AGENTFLOW_SYNC_JSON_H

#include <jansson.h>
#include <stddef.h>

struct prom_hist;
struct sync;

/* One origin's state as JSON (new reference), or NULL if unknown:
 * {node_id, incarnation, seq, info, status, status_ms, updated_ms, left};
 * status is null unless with_status (decoding it is most of the work). */
json_t *sync_json_origin(const struct sync *, const char *id, int with_status);
/* Every origin but ourselves, as an array of the above. */
json_t *sync_json_remote(const struct sync *, int with_status);
/* Counters: events_in, events_out, duplicates, gaps, snapshots_sent,
 * snapshots_received, snapshot_requests, replayed (events sent from the log
 * to catch a peer up), pending. */
json_t *sync_json_counters(const struct sync *);
/* Event propagation delay, origin's time → applied here, in seconds
 * (valid while the sync lives; for /metrics). */
const struct prom_hist *sync_json_delay(const struct sync *);

/* An event log row (the store's body for kind) of origin as JSON, or NULL. */
json_t *sync_json_event_body(const char *origin, int kind, const void *body,
    size_t len);

/* What sync refused because its origin did not vouch for it (sync_vouch.c):
 * {forged, unknown_key, revoked, keys_refused, states_refused,
 * work_ignored, links_closed}.  New reference. */
json_t *sync_json_vouch(const struct sync *);

#endif
