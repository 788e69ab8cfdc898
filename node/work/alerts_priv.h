/*
 * For alerts.c and alerts_rules.c only: a rule as parsed from --alerts
 * (or the defaults), the metrics a rule may watch, and the parsing
 * functions alerts.c calls.  Callers outside node/work/alerts*.c use
 * alerts.h.
 */
#ifndef AGENTFLOW_ALERTS_PRIV_H
#define AGENTFLOW_ALERTS_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_codec.h"
#include "mesh.pb-c.h"
#include "node_id.h"

#define NAME_MAX_LEN	FRAME_CODEC_MAX_NAME

enum rule_kind { RULE_METRIC, RULE_TASK_FAILED, RULE_PEER_UNREACHABLE,
	RULE_SERVICE_UNHEALTHY };
enum metric { METRIC_CPU, METRIC_MEM, METRIC_DISK, METRIC_LOAD1 };
#define METRICS_N	(METRIC_LOAD1 + 1)

/* The metrics a rule may watch, with what its alerts are about; indexed
 * by enum metric. */
struct alerts_metric {
	const char	*name;
	const char	*subject;
	uint32_t	 for_s;		/* default */
	int		 digits;	/* shown after the point, for people */
};
extern const struct alerts_metric alerts_rules_metrics[METRICS_N];

struct rule {
	char				 name[NODE_ID_MAX + 1];
	enum rule_kind			 kind;
	enum metric			 metric;	/* RULE_METRIC */
	bool				 below;		/* RULE_METRIC: else above */
	double				 threshold;	/* RULE_METRIC */
	uint32_t			 for_s;		/* RULE_METRIC, RULE_PEER_UNREACHABLE */
	Agentflow__Mesh__V1__AlertSeverity severity;
	/* RULE_TASK_FAILED's task, RULE_SERVICE_UNHEALTHY's service
	 * filter, or NULL */
	char				*task;
};

/*
 * Parses rules (a JSON array; NULL: alerts_default_rules()) into a new
 * array of *nrules rules, owned by the caller (alerts_rules_free).  NULL
 * with err set (when err is not NULL) naming the rule and the field.
 */
struct rule *alerts_rules_parse(const json_t *rules, size_t *nrules,
    char *err, size_t errlen);
/* Frees rules[0..n) and the array. */
void alerts_rules_free(struct rule *rules, size_t n);
/* rules[0..n) as the API shows them (new reference). */
json_t *alerts_rules_dump(const struct rule *rules, size_t n);

#endif
