/* Refusal table and Prometheus rendering (see signal_metrics.h). */
#include "signal_metrics.h"

#include <inttypes.h>

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

static void
metric(struct evbuffer *out, const char *name, const char *type,
    const char *help, uint64_t v)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
	    name, help, name, type, name, v);
}

void
signal_metrics_render(const struct signal_metrics *m, const struct signal_gauges *g,
    struct evbuffer *out)
{
	metric(out, "agentflow_signal_nodes", "gauge", "Registered nodes.", g->nodes);
	metric(out, "agentflow_signal_generation", "gauge",
	    "Peer list generation.", g->generation);
	metric(out, "agentflow_signal_nonces", "gauge",
	    "Registration nonces remembered for replay protection.", g->nonces);
	metric(out, "agentflow_signal_rate_limit_keys", "gauge",
	    "Source addresses with a live rate-limit bucket.", g->rate_keys);
	evbuffer_add_printf(out, "# HELP agentflow_signal_uptime_seconds Seconds since start.\n"
	    "# TYPE agentflow_signal_uptime_seconds gauge\n"
	    "agentflow_signal_uptime_seconds %.3f\n", g->uptime_s);
	metric(out, "agentflow_signal_requests_total", "counter",
	    "HTTP requests received.", m->requests);
	metric(out, "agentflow_signal_registrations_total", "counter",
	    "Accepted registrations.", m->registrations);
	metric(out, "agentflow_signal_heartbeats_total", "counter",
	    "Accepted heartbeats.", m->heartbeats);
	metric(out, "agentflow_signal_leaves_total", "counter",
	    "Graceful leaves.", m->leaves);
	metric(out, "agentflow_signal_evictions_total", "counter",
	    "Nodes evicted after missing heartbeats for the TTL.", m->evictions);
	evbuffer_add_printf(out,
	    "# HELP agentflow_signal_list_requests_total Peer list requests by result.\n"
	    "# TYPE agentflow_signal_list_requests_total counter\n"
	    "agentflow_signal_list_requests_total{result=\"200\"} %" PRIu64 "\n"
	    "agentflow_signal_list_requests_total{result=\"304\"} %" PRIu64 "\n",
	    m->lists_200, m->lists_304);
	evbuffer_add_printf(out,
	    "# HELP agentflow_signal_refusals_total Refused requests by reason.\n"
	    "# TYPE agentflow_signal_refusals_total counter\n");
	for (int i = 0; i < REFUSE_COUNT; i++)
		evbuffer_add_printf(out,
		    "agentflow_signal_refusals_total{reason=\"%s\"} %" PRIu64 "\n",
		    refusals[i].code, m->refusals[i]);
}
