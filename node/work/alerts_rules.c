/*
 * Alert rules (alerts_priv.h): the JSON array of --alerts, or the default
 * rules, parsed and checked rule by rule at start-up (names unique, one
 * of "metric" or "on", the keys each kind takes), and shown back to the
 * API.  The rules are fixed once parsed; alerts.c applies them.
 */
#include "alerts_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "json_check.h"
#include "mesh_names.h"
#include "text.h"
#include "xalloc.h"

#define RULES_MAX	64
#define FOR_S_MAX	86400
#define PEER_FOR_S_DEFAULT	60

/* The metrics a rule may watch, with what its alerts are about. */
const struct alerts_metric alerts_rules_metrics[METRICS_N] = {
	[METRIC_CPU] =	 { "cpu_percent", "cpu", 60, 1 },
	[METRIC_MEM] =	 { "mem_percent", "memory", 60, 1 },
	[METRIC_DISK] =	 { "disk_percent", "disk", 0, 1 },
	[METRIC_LOAD1] = { "load1", "load", 60, 2 },
};

/* The events an "on" rule may watch. */
static const struct {
	const char	*name;
	enum rule_kind	 kind;
} events[] = {
	{ "task_failed", RULE_TASK_FAILED },
	{ "peer_unreachable", RULE_PEER_UNREACHABLE },
	{ "service_unhealthy", RULE_SERVICE_UNHEALTHY },
};

/* ------------------------------------------------------------------ */
/* Parsing */

static void __attribute__((format(printf, 5, 6)))
rule_err(char *err, size_t errlen, size_t i, const char *name,
    const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (name != NULL)
		snprintf(err, errlen, "alert rule %zu (\"%s\"): %s", i, name,
		    detail);
	else
		snprintf(err, errlen, "alert rule %zu: %s", i, detail);
}

static const char *const rule_keys[] = {
	"name", "metric", "on", "above", "below", "for_s", "severity", "task",
	"service",
};

/* Parses rule i of the array into r; -1 with err set when it is invalid. */
static int
rule_parse(struct rule *r, const json_t *j, size_t i,
    const struct rule *prev, char *err, size_t errlen)
{
	const json_t *name, *metric, *on, *above, *below, *for_s, *sev, *task;
	const json_t *service;
	const json_t *thr;
	const char *key, *n;
	char shown[48];
	size_t k;

	if (!json_is_object(j)) {
		rule_err(err, errlen, i, NULL, "must be an object");
		return -1;
	}
	name = json_object_get(j, "name");
	if (!json_is_string(name) || !node_id_valid(json_string_value(name),
	    json_string_length(name))) {
		rule_err(err, errlen, i, NULL, "\"name\" must be 1-%d of "
		    "[A-Za-z0-9._-] starting with a letter or digit",
		    NODE_ID_MAX);
		return -1;
	}
	n = json_string_value(name);
	for (k = 0; k < i; k++)
		if (strcmp(prev[k].name, n) == 0) {
			rule_err(err, errlen, i, n,
			    "\"name\" repeats rule %zu", k);
			return -1;
		}
	snprintf(r->name, sizeof(r->name), "%s", n);
	if ((key = json_check_keys(j, rule_keys, sizeof(rule_keys) /
	    sizeof(rule_keys[0]))) != NULL) {
		text_copy(shown, sizeof(shown), key, true);
		rule_err(err, errlen, i, n, "unknown key \"%s\"", shown);
		return -1;
	}

	metric = json_object_get(j, "metric");
	on = json_object_get(j, "on");
	above = json_object_get(j, "above");
	below = json_object_get(j, "below");
	for_s = json_object_get(j, "for_s");
	sev = json_object_get(j, "severity");
	task = json_object_get(j, "task");
	service = json_object_get(j, "service");
	if ((metric == NULL) == (on == NULL)) {
		rule_err(err, errlen, i, n,
		    "exactly one of \"metric\" and \"on\" is required");
		return -1;
	}

	if (metric != NULL) {
		int m = JSON_CHECK_ENUM(metric, alerts_rules_metrics);

		r->kind = RULE_METRIC;
		if (m < 0) {
			rule_err(err, errlen, i, n, "\"metric\" must be one of "
			    "cpu_percent, mem_percent, disk_percent, load1");
			return -1;
		}
		r->metric = (enum metric)m;
		if ((above == NULL) == (below == NULL)) {
			rule_err(err, errlen, i, n,
			    "exactly one of \"above\" and \"below\" is required");
			return -1;
		}
		r->below = below != NULL;
		thr = r->below ? below : above;
		if (!json_is_number(thr) || !isfinite(json_number_value(thr))) {
			rule_err(err, errlen, i, n, "\"%s\" must be a number",
			    r->below ? "below" : "above");
			return -1;
		}
		r->threshold = json_number_value(thr);
		r->for_s = alerts_rules_metrics[r->metric].for_s;
		if (task != NULL || service != NULL) {
			rule_err(err, errlen, i, n, "\"%s\" applies only to "
			    "\"on\": \"%s\"", task != NULL ? "task" : "service",
			    task != NULL ? "task_failed" : "service_unhealthy");
			return -1;
		}
	} else {
		int e = JSON_CHECK_ENUM(on, events);

		if (e < 0) {
			rule_err(err, errlen, i, n, "\"on\" must be one of "
			    "task_failed, peer_unreachable, service_unhealthy");
			return -1;
		}
		r->kind = events[e].kind;
		if (above != NULL || below != NULL) {
			rule_err(err, errlen, i, n, "\"%s\" applies only to "
			    "metric rules", above != NULL ? "above" : "below");
			return -1;
		}
		if ((r->kind == RULE_TASK_FAILED ||
		    r->kind == RULE_SERVICE_UNHEALTHY) && for_s != NULL) {
			rule_err(err, errlen, i, n, "\"for_s\" does not apply "
			    "to \"on\": \"%s\"", events[e].name);
			return -1;
		}
		if (r->kind != RULE_SERVICE_UNHEALTHY && service != NULL) {
			rule_err(err, errlen, i, n, "\"service\" applies only "
			    "to \"on\": \"service_unhealthy\"");
			return -1;
		}
		if (service != NULL) {
			if (!json_check_text(service, 1, 63, true)) {
				rule_err(err, errlen, i, n, "\"service\" must "
				    "be a service name");
				return -1;
			}
			r->task = xstrdup(json_string_value(service));
		}
		if (r->kind != RULE_TASK_FAILED && task != NULL) {
			rule_err(err, errlen, i, n, "\"task\" applies only to "
			    "\"on\": \"task_failed\"");
			return -1;
		}
		if (r->kind == RULE_PEER_UNREACHABLE)
			r->for_s = PEER_FOR_S_DEFAULT;
		if (task != NULL) {
			if (!json_check_text(task, 1, NAME_MAX_LEN, true)) {
				rule_err(err, errlen, i, n, "\"task\" must be "
				    "a task name (1-%d bytes of text without "
				    "control characters)", NAME_MAX_LEN);
				return -1;
			}
			r->task = xstrdup(json_string_value(task));
		}
	}

	if (for_s != NULL) {
		json_int_t secs;

		if (!json_check_int(for_s, 0, FOR_S_MAX, &secs)) {
			rule_err(err, errlen, i, n, "\"for_s\" must be an "
			    "integer 0-%d", FOR_S_MAX);
			return -1;
		}
		r->for_s = (uint32_t)secs;
	}
	r->severity = MESH_ALERT_SEVERITY(WARNING);
	if (sev != NULL) {
		int level = mesh_names_alert_severity_parse(
		    json_string_value(sev));

		if (level == 0) {
			rule_err(err, errlen, i, n, "\"severity\" must be one "
			    "of info, warning, critical");
			return -1;
		}
		r->severity = (Agentflow__Mesh__V1__AlertSeverity)level;
	}
	return 0;
}

json_t *
alerts_default_rules(void)
{
	return json_pack("[{s:s, s:s, s:i, s:i, s:s}, {s:s, s:s, s:i, s:i, s:s},"
	    " {s:s, s:s, s:i, s:i, s:s}, {s:s, s:s, s:s},"
	    " {s:s, s:s, s:i, s:s}, {s:s, s:s, s:s}]",
	    "name", "cpu_high", "metric", "cpu_percent", "above", 90,
	    "for_s", 60, "severity", "warning",
	    "name", "mem_high", "metric", "mem_percent", "above", 90,
	    "for_s", 60, "severity", "warning",
	    "name", "disk_full", "metric", "disk_percent", "above", 90,
	    "for_s", 0, "severity", "critical",
	    "name", "task_failed", "on", "task_failed", "severity", "warning",
	    "name", "peer_unreachable", "on", "peer_unreachable", "for_s", 60,
	    "severity", "warning",
	    "name", "service_unhealthy", "on", "service_unhealthy",
	    "severity", "warning");
}

void
alerts_rules_free(struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rules[i].task);
	free(rules);
}

struct rule *
alerts_rules_parse(const json_t *rules, size_t *nrules, char *err,
    size_t errlen)
{
	json_t *defaults = NULL;
	struct rule *parsed;
	size_t n;

	if (rules == NULL)
		rules = defaults = alerts_default_rules();
	if (!json_is_array(rules)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "alert rules: must be an array of "
			    "objects");
		json_decref(defaults);
		return NULL;
	}
	n = json_array_size(rules);
	if (n > RULES_MAX) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "alert rules: %zu rules, at most %d",
			    n, RULES_MAX);
		json_decref(defaults);
		return NULL;
	}
	parsed = xcalloc(n + 1, sizeof(*parsed));
	for (size_t i = 0; i < n; i++)
		if (rule_parse(&parsed[i], json_array_get(rules, i), i, parsed,
		    err, errlen) != 0) {
			alerts_rules_free(parsed, n);
			json_decref(defaults);
			return NULL;
		}
	json_decref(defaults);
	*nrules = n;
	return parsed;
}

/* ------------------------------------------------------------------ */
/* Showing */

json_t *
alerts_rules_dump(const struct rule *rules, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(r->name));
		switch (r->kind) {
		case RULE_METRIC:
			json_object_set_new(o, "metric",
			    json_string(alerts_rules_metrics[r->metric].name));
			json_object_set_new(o, r->below ? "below" : "above",
			    json_real(r->threshold));
			json_object_set_new(o, "for_s", json_integer(r->for_s));
			break;
		case RULE_TASK_FAILED:
			json_object_set_new(o, "on", json_string("task_failed"));
			if (r->task != NULL)
				json_object_set_new(o, "task",
				    json_string(r->task));
			break;
		case RULE_PEER_UNREACHABLE:
			json_object_set_new(o, "on",
			    json_string("peer_unreachable"));
			json_object_set_new(o, "for_s", json_integer(r->for_s));
			break;
		case RULE_SERVICE_UNHEALTHY:
			json_object_set_new(o, "on",
			    json_string("service_unhealthy"));
			if (r->task != NULL)
				json_object_set_new(o, "service",
				    json_string(r->task));
			break;
		}
		json_object_set_new(o, "severity",
		    json_string(mesh_names_alert_severity(r->severity)));
		json_array_append_new(arr, o);
	}
	return arr;
}
