/*
 * The node's local HTTP API (evhttp; default 127.0.0.1:8080): JSON under
 * /api/, /healthz and Prometheus /metrics.  Every route but /healthz needs
 * a token (api_auth.h) of the role its row in api.c's table names.
 */
#ifndef AGENTFLOW_API_H
#define AGENTFLOW_API_H

#include <event2/http.h>

#include <jansson.h>
#include <stddef.h>

struct api;
struct node;
struct store_event;

/* Registers the routes as http's generic callback; node must outlive it,
 * and it must outlive http's requests (free http first). */
struct api *api_new(struct evhttp *, struct node *);
void api_free(struct api *);
/* A command record changed: answers the requests waiting on it. */
void api_command_changed(struct api *, const char *id);

/* What the routes answer, for the live feed (new references): the body of
 * GET /api/cluster/status (every node's status null unless with_status:
 * the feed's per-second view leaves them out); one event as GET /api/events
 * shows it; the newest events but statuses, oldest first; the feed's
 * snapshot {cluster, tasks, alerts, events, commands} (node/api/WS.md). */
json_t *api_cluster_status(struct node *, int with_status);
json_t *api_event_json(const struct store_event *);
json_t *api_snapshot(struct node *);
/* The newest events but statuses (at most limit), oldest first, an event
 * whose JSON passes 8 KiB as a summary {origin, incarnation, seq, kind,
 * time_ms, received_ms, body: null, summarized, body_bytes (its body as
 * stored), url}, the
 * older ones left out (*truncated set) past budget bytes (api_events.c). */
json_t *api_events_bounded(struct node *, unsigned limit, size_t budget,
    int *truncated);
/* A store_events_query callback appending each event to the JSON array
 * arg as api_events_bounded gives it: whole, or past 8 KiB a summary. */
int api_events_inline_cb(void *arg, const struct store_event *ev);

#endif
