/*
 * The node's local HTTP API (evhttp; default 127.0.0.1:8080): JSON under
 * /api/, /healthz and Prometheus /metrics.  Every route but /healthz needs
 * a token (api_auth.h); POSTs need a write token.
 */
#ifndef AGENTFLOW_API_H
#define AGENTFLOW_API_H

#include <event2/http.h>

struct api;
struct node;

/* Registers the routes as http's generic callback; node must outlive it,
 * and it must outlive http's requests (free http first). */
struct api *api_new(struct evhttp *, struct node *);
void api_free(struct api *);
/* A command record changed: answers the requests waiting on it. */
void api_command_changed(struct api *, const char *id);

#endif
