/*
 * The node's Prometheus /metrics: the build and the process (as the
 * signal's), links (and each peer's link and round trip), events, commands,
 * tasks and the live feed, as counters, gauges and two histograms (event
 * propagation delay, command latency) read from the subsystems at render
 * time (text by common/prom.c, as the signal's).
 */
#ifndef AGENTFLOW_METRICS_H
#define AGENTFLOW_METRICS_H

#include <event2/buffer.h>

struct api_call;
struct node;

/* Appends the node's metrics to out (borrowed). */
void metrics_render(struct node *, struct evbuffer *out);
/* GET /metrics. */
void metrics_get(const struct api_call *);

#endif
