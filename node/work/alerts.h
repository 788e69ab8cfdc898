/*
 * Alerts: threshold rules over this node's own metrics and events.
 *
 * Pure logic with no timers of its own: the caller feeds every status
 * sample and task update with the time, and the rules move each alert
 *
 *   (none) → firing → acknowledged → resolved
 *               ╰──────────────────→ resolved
 *
 * A metric rule fires once its condition has held for for_s and resolves
 * when it no longer holds; a task_failed alert resolves when a later run
 * of that task succeeds; a peer_unreachable alert fires when a member has
 * not been alive for for_s and resolves when it is alive again.  Every
 * transition goes out through the emit hook, which persists and
 * broadcasts it.  At most 256 alerts are open at once (what an origin
 * snapshot carries): past that a metric or peer condition waits for room
 * and a task failure goes unalerted.
 *
 * Rules are a JSON array (NULL: the defaults, alerts_default_rules()):
 *   {"name": "cpu_high", "metric": "cpu_percent"|"mem_percent"|
 *    "disk_percent"|"load1", "above": 90 | "below": 5, "for_s": 60,
 *    "severity": "info"|"warning"|"critical"}
 *   {"name": "task_failed", "on": "task_failed", "task": "backup"?,
 *    "severity": ...}
 *   {"name": "peer_down", "on": "peer_unreachable", "for_s": 60,
 *    "severity": ...}
 *   {"name": "svc", "on": "service_unhealthy", "service": "web"?,
 *    "severity": ...}
 * Names are unique, 1-63 of [A-Za-z0-9._-] starting with a letter or a
 * digit; at most 64 rules; unknown keys are refused.  "above" fires on
 * value > X, "below" on value < X.  for_s is an integer 0-86400 and
 * defaults to 60, but to 0 for disk_percent (a full disk will not get
 * better by waiting); severity defaults to "warning".  mem_percent and
 * disk_percent are used/total * 100; a sample with a total of 0 says
 * nothing about them.  Errors name the rule by its index from 0:
 *   alert rule 2 ("cpu_high"): "above" must be a number
 *
 * Pointers handed to the hook are valid only during the call, and the
 * hook must not call back into the alerts object.
 */
#ifndef AGENTFLOW_ALERTS_H
#define AGENTFLOW_ALERTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "node_id.h"

struct alerts;

struct alerts_hooks {
	void	(*emit)(const Agentflow__Mesh__V1__Alert *, void *arg);
	void	 *arg;
};

struct alerts_config {
	const json_t	*rules;		/* NULL: defaults */
	const char	*id_prefix;	/* alert ids "<prefix>-<n>": unique per start;
					 * id syntax, <= NODE_ID_PREFIX_MAX */
};

/* NULL with err set when a rule is invalid (names the rule and field). */
struct alerts *alerts_new(const struct alerts_config *,
    const struct alerts_hooks *, char *err, size_t errlen);
/* Ids of the alerts opened from now on are "<prefix>-<n>" (the node moved
 * to a new incarnation).  -1, unchanged, when prefix is not id_prefix's
 * syntax. */
int alerts_set_id_prefix(struct alerts *, const char *prefix);
void alerts_free(struct alerts *);
/* The default rules (new reference). */
json_t *alerts_default_rules(void);

/* An alert open before a restart (firing or acknowledged), from storage:
 * a rule of the same name and subject continues it instead of opening a
 * second one; one whose rule is gone is resolved at the next sample. */
void alerts_restore(struct alerts *, const Agentflow__Mesh__V1__Alert *);

void alerts_status(struct alerts *, uint64_t now_ms,
    const Agentflow__Mesh__V1__NodeStatus *);
void alerts_task(struct alerts *, uint64_t now_ms,
    const Agentflow__Mesh__V1__TaskUpdate *);
/* A service of this node changed state (services.h's names): fires or
 * resolves its service_unhealthy alerts. */
void alerts_service(struct alerts *, uint64_t now_ms, const char *service,
    const char *state, const char *reason);
/* Acknowledges an open alert: OK, NOT_FOUND, or ERROR when it is resolved
 * (msg says so).  Returns an Agentflow__Mesh__V1__CommandStatus.
 * Acknowledging an acknowledged alert is OK and emits nothing: the first
 * acked_by stays.  The last 256 resolved alerts are remembered for the
 * ERROR; older ones are NOT_FOUND. */
int alerts_ack(struct alerts *, const char *alert_id, const char *principal,
    uint64_t now_ms, char *msg, size_t msglen);
/* The rules in force, as JSON (new reference). */
json_t *alerts_rules_json(const struct alerts *);

/* How many of this node's alerts are open in state (FIRING or
 * ACKNOWLEDGED) with severity, restored ones included: what /metrics
 * shows as agentflow_node_alerts. */
size_t alerts_open_count(const struct alerts *, int state, int severity);
/* Rule i (in the order of the rules file) and, in *fired, the alerts it
 * fired since the node started (restored ones not counted: they fired
 * in an earlier life).  NULL past the last rule; the name is valid
 * until alerts_free(). */
const char *alerts_rule_fired(const struct alerts *, size_t i,
    uint64_t *fired);

#endif
