/*
 * The node's local HTTP API (evhttp; default 127.0.0.1:8080): JSON under
 * /api/, /healthz and Prometheus /metrics.  Reads the node's subsystems;
 * changes nothing yet.
 */
#ifndef AGENTFLOW_API_H
#define AGENTFLOW_API_H

#include <event2/http.h>

struct node;

/* Registers the routes as http's generic callback; node must outlive it. */
void api_attach(struct evhttp *, struct node *);

#endif
