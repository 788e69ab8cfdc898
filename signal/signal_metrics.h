/*
 * The signal's counters and the refusal table: every error code the API
 * can answer with, its HTTP status, and how often it was given.  Rendered
 * as Prometheus text for /metrics.
 */
#ifndef AGENTFLOW_SIGNAL_METRICS_H
#define AGENTFLOW_SIGNAL_METRICS_H

#include <event2/buffer.h>
#include <stdint.h>

enum signal_refusal {
	REFUSE_BAD_JSON,
	REFUSE_INVALID_FIELD,
	REFUSE_TOO_MANY_ADDRESSES,
	REFUSE_TOO_MANY_LABELS,
	REFUSE_MISSING_SIGNATURE,
	REFUSE_BAD_SIGNATURE,
	REFUSE_STALE_TIMESTAMP,
	REFUSE_REPLAYED_NONCE,
	REFUSE_UNKNOWN_TOKEN,
	REFUSE_BAD_CERTIFICATE,
	REFUSE_CERTIFICATE_EXPIRED,
	REFUSE_CERTIFICATE_REVOKED,
	REFUSE_IDENTITY_MISMATCH,
	REFUSE_NOT_FOUND,
	REFUSE_METHOD_NOT_ALLOWED,
	REFUSE_BODY_TOO_LARGE,
	REFUSE_RATE_LIMITED,
	REFUSE_TABLE_FULL,
	REFUSE_BUSY,
	REFUSE_NOT_IMPLEMENTED,
	REFUSE_COUNT
};

/* The error code string and HTTP status of each refusal (API.md). */
const char *signal_refusal_code(enum signal_refusal);
int signal_refusal_status(enum signal_refusal);

struct signal_metrics {
	uint64_t	registrations;
	uint64_t	heartbeats;
	uint64_t	leaves;
	uint64_t	evictions;
	uint64_t	lists_200;
	uint64_t	lists_304;
	uint64_t	requests;
	uint64_t	refusals[REFUSE_COUNT];
};

/* Gauges sampled at render time. */
struct signal_gauges {
	uint64_t	nodes;
	uint64_t	nonces;
	uint64_t	rate_keys;
	uint64_t	generation;
	double		uptime_s;
	uint64_t	conns_cut;	/* http_guard.h */
	uint64_t	conns_refused;
};

void signal_metrics_render(const struct signal_metrics *, const struct signal_gauges *,
    struct evbuffer *out);

#endif
