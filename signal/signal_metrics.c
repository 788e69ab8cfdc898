/* Refusal table and Prometheus rendering (see signal_metrics.h). */
#include "signal_metrics.h"

#include <stdio.h>

#include "prom.h"
#include "prom_process.h"

static const struct {
	const char	*code;
	int		 status;
} refusals[REFUSE_COUNT] = {
	[REFUSE_BAD_JSON] =		{ "bad_json", 400 },
	[REFUSE_INVALID_FIELD] =	{ "invalid_field", 400 },
	[REFUSE_TOO_MANY_ADDRESSES] =	{ "too_many_addresses", 400 },
	[REFUSE_TOO_MANY_LABELS] =	{ "too_many_labels", 400 },
	[REFUSE_MISSING_SIGNATURE] =	{ "missing_signature", 401 },
	[REFUSE_BAD_SIGNATURE] =	{ "bad_signature", 401 },
	[REFUSE_STALE_TIMESTAMP] =	{ "stale_timestamp", 401 },
	[REFUSE_REPLAYED_NONCE] =	{ "replayed_nonce", 401 },
	[REFUSE_UNKNOWN_TOKEN] =	{ "unknown_token", 401 },
	[REFUSE_BAD_CERTIFICATE] =	{ "bad_certificate", 403 },
	[REFUSE_CERTIFICATE_EXPIRED] =	{ "certificate_expired", 403 },
	[REFUSE_CERTIFICATE_REVOKED] =	{ "certificate_revoked", 403 },
	[REFUSE_IDENTITY_MISMATCH] =	{ "identity_mismatch", 403 },
	[REFUSE_NOT_FOUND] =		{ "not_found", 404 },
	[REFUSE_METHOD_NOT_ALLOWED] =	{ "method_not_allowed", 405 },
	[REFUSE_BODY_TOO_LARGE] =	{ "body_too_large", 413 },
	[REFUSE_RATE_LIMITED] =		{ "rate_limited", 429 },
	[REFUSE_TABLE_FULL] =		{ "table_full", 503 },
	[REFUSE_BUSY] =			{ "busy", 503 },
	[REFUSE_NOT_IMPLEMENTED] =	{ "not_implemented", 501 },
};

const char *
signal_refusal_code(enum signal_refusal r)
{
	return refusals[r].code;
}

int
signal_refusal_status(enum signal_refusal r)
{
	return refusals[r].status;
}

void
signal_metrics_render(const struct signal_metrics *m, const struct signal_gauges *g,
    struct evbuffer *out)
{
	struct prom p;

	prom_init(&p, out);
	prom_build_info(&p, AGENTFLOW_VERSION);
	prom_process_render(&p);
	prom_metric(&p, "agentflow_signal_nodes", "gauge", "Registered nodes.",
	    (int64_t)g->nodes);
	prom_metric(&p, "agentflow_signal_generation", "gauge",
	    "Peer list generation.", (int64_t)g->generation);
	prom_metric(&p, "agentflow_signal_nonces", "gauge",
	    "Registration nonces remembered for replay protection.",
	    (int64_t)g->nonces);
	prom_metric(&p, "agentflow_signal_rate_limit_keys", "gauge",
	    "Source addresses with a live rate-limit bucket.", (int64_t)g->rate_keys);
	prom_family(&p, "agentflow_signal_uptime_seconds", "gauge",
	    "Seconds since start.");
	prom_sample_fixed3(&p, NULL, g->uptime_s);
	prom_metric(&p, "agentflow_signal_requests_total", "counter",
	    "HTTP requests received.", (int64_t)m->requests);
	prom_metric(&p, "agentflow_signal_registrations_total", "counter",
	    "Accepted registrations.", (int64_t)m->registrations);
	prom_metric(&p, "agentflow_signal_heartbeats_total", "counter",
	    "Accepted heartbeats.", (int64_t)m->heartbeats);
	prom_metric(&p, "agentflow_signal_leaves_total", "counter",
	    "Graceful leaves.", (int64_t)m->leaves);
	prom_metric(&p, "agentflow_signal_evictions_total", "counter",
	    "Nodes evicted after missing heartbeats for the TTL.",
	    (int64_t)m->evictions);
	prom_metric(&p, "agentflow_signal_connections_cut_total", "counter",
	    "Connections closed for a request not received in time.",
	    (int64_t)g->conns_cut);
	prom_metric(&p, "agentflow_signal_connections_refused_total", "counter",
	    "Connections closed: too many from one address.",
	    (int64_t)g->conns_refused);
	prom_family(&p, "agentflow_signal_list_requests_total", "counter",
	    "Peer list requests by result.");
	prom_sample(&p, "result=\"200\"", (int64_t)m->lists_200);
	prom_sample(&p, "result=\"304\"", (int64_t)m->lists_304);
	prom_family(&p, "agentflow_signal_refusals_total", "counter",
	    "Refused requests by reason.");
	for (int i = 0; i < REFUSE_COUNT; i++) {
		char label[64];

		snprintf(label, sizeof(label), "reason=\"%s\"", refusals[i].code);
		prom_sample(&p, label, (int64_t)m->refusals[i]);
	}
}
