/*
 * The node's /metrics (metrics.h).  Every value is read when scraped:
 * the subsystems keep their own counters, this file only names them.
 */
#include "metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"
#include "commands.h"
#include "discovery.h"
#include "frame_codec.h"
#include "http_guard.h"
#include "callbacks.h"
#include "clock.h"
#include "jobs.h"
#include "jobs_metrics.h"
#include "services.h"
#include "status_pace.h"
#include "sync.h"
#include "alerts.h"
#include "artifacts.h"
#include "rollouts.h"
#include "notify.h"
#include "silences.h"
#include "sync_silences.h"
#include "links.h"
#include "node.h"
#include "mesh_names.h"
#include "node_id.h"
#include "prom.h"
#include "prom_process.h"
#include "sync_jobs.h"
#include "sync_json.h"
#include "tasks.h"
#include "transport.h"
#include "ws.h"

/* A counter of a JSON object of counters (0 when absent). */
static int64_t
num(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static void
transport_metrics(struct prom *p, struct node *n)
{
	struct transport_stats ts;

	transport_stats(n->transport, &ts);
	prom_family(p, "agentflow_node_link_bytes_total", "counter",
	    "Frame bytes over all links, by direction.");
	prom_sample(p, "direction=\"in\"", (int64_t)ts.bytes_in);
	prom_sample(p, "direction=\"out\"", (int64_t)ts.bytes_out);
	prom_family(p, "agentflow_node_link_frames_total", "counter",
	    "Frames over all links, by direction.");
	prom_sample(p, "direction=\"in\"", (int64_t)ts.messages_in);
	prom_sample(p, "direction=\"out\"", (int64_t)ts.messages_out);
	prom_metric(p, "agentflow_node_link_queue_bytes", "gauge",
	    "Bytes waiting to be sent on all links.", (int64_t)ts.queued_bytes);
	prom_metric(p, "agentflow_node_streams", "gauge",
	    "Link streams open (including ones handshaking).", (int64_t)ts.streams);
}

/* Which sampled statuses went out (status_pace.h). */
static void
status_metrics(struct prom *p, struct node *n)
{
	if (n->status_pace == NULL)
		return;
	prom_family(p, "agentflow_node_statuses_total", "counter",
	    "Status samples: sent to the mesh, or held (nothing changed and "
	    "no dashboard open anywhere).");
	prom_sample(p, "outcome=\"sent\"", (int64_t)status_pace_sent(n->status_pace));
	prom_sample(p, "outcome=\"held\"", (int64_t)status_pace_held(n->status_pace));
	prom_family(p, "agentflow_node_status_changes_total", "counter",
	    "Status samples whose shape changed against the last one sent, by "
	    "part: links (a neighbour's link up or down), members (a member's "
	    "state, direct or relayed), other (freeze, signal, info).");
	prom_sample(p, "part=\"links\"", (int64_t)status_pace_changed(
	    n->status_pace, PACE_LINKS));
	prom_sample(p, "part=\"members\"", (int64_t)status_pace_changed(
	    n->status_pace, PACE_MEMBERS));
	prom_sample(p, "part=\"other\"", (int64_t)status_pace_changed(
	    n->status_pace, PACE_REST));
	prom_metric(p, "agentflow_node_status_watched", "gauge",
	    "1 while a dashboard is open here or a node said one is open there: "
	    "statuses go out at every sample.", (n->ws != NULL &&
	    ws_hub_clients(n->ws) > 0) || sync_watched(n->sync));
}

/* What peers handed us that its origin did not vouch for (sync_vouch.c). */
static void
vouch_metrics(struct prom *p, struct node *n)
{
	static const char *const what[] = { "forged", "unknown_key", "revoked",
	    "keys_refused", "states_refused", "work_ignored" };
	json_t *v = sync_json_vouch(n->sync);
	char label[64];

	prom_family(p, "agentflow_node_unvouched_total", "counter",
	    "Data refused because its origin did not sign it, by why.");
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		snprintf(label, sizeof(label), "why=\"%s\"", what[i]);
		prom_sample(p, label, num(v, what[i]));
	}
	prom_metric(p, "agentflow_node_forger_links_closed_total", "counter",
	    "Links closed because the peer kept handing us unsigned data.",
	    num(v, "links_closed"));
	prom_family(p, "agentflow_node_event_holes_total", "counter",
	    "Events a relayed snapshot moved the cursor past: holes opened, "
	    "events that filled them later, holes no peer could fill.");
	prom_sample(p, "what=\"opened\"", num(v, "holes_opened"));
	prom_sample(p, "what=\"filled\"", num(v, "hole_events"));
	prom_sample(p, "what=\"abandoned\"", num(v, "holes_abandoned"));
	prom_family(p, "agentflow_node_signature_checks_deferred_total",
	    "counter", "Events taken straight from their origin on its link's "
	    "certificate, their signature not checked (taken); those checked "
	    "later, before they were handed on to another node (checked).");
	prom_sample(p, "what=\"taken\"", num(v, "unchecked"));
	prom_sample(p, "what=\"checked\"", num(v, "rechecked"));
	json_decref(v);
}

static void
event_metrics(struct prom *p, struct node *n)
{
	json_t *c = sync_json_counters(n->sync);

	/* direction is the way an event went, outcome what became of it:
	 * a duplicate is an event in that changed nothing. */
	prom_family(p, "agentflow_node_events_total", "counter",
	    "Events by direction (in, out) and outcome (applied, duplicate; "
	    "sent for ours).");
	prom_sample(p, "direction=\"in\",outcome=\"applied\"",
	    num(c, "events_in"));
	prom_sample(p, "direction=\"in\",outcome=\"duplicate\"",
	    num(c, "duplicates"));
	prom_sample(p, "direction=\"out\",outcome=\"sent\"",
	    num(c, "events_out"));
	prom_metric(p, "agentflow_node_forwarded_total", "counter",
	    "Events forwarded to neighbours that cannot reach their origin "
	    "directly.", num(c, "forwarded"));
	prom_metric(p, "agentflow_node_gaps_total", "counter",
	    "Gaps or new incarnations that needed a snapshot.", num(c, "gaps"));
	prom_family(p, "agentflow_node_early_events_total", "counter",
	    "Events that came before the one they follow: held a moment, and "
	    "applied in order when it came (the rest were gaps).");
	prom_sample(p, "outcome=\"held\"", num(c, "early_held"));
	prom_sample(p, "outcome=\"applied\"", num(c, "early_applied"));
	prom_family(p, "agentflow_node_snapshots_total", "counter",
	    "Snapshot frames by direction (out: sent, in: received).");
	prom_sample(p, "direction=\"in\"", num(c, "snapshots_received"));
	prom_sample(p, "direction=\"out\"", num(c, "snapshots_sent"));
	prom_family(p, "agentflow_node_entropy_asks_total", "counter",
	    "Anti-entropy asks: sent (a neighbour's digest of what it holds "
	    "differed from ours on two pings in a row, four while its own "
	    "digest still moved), or received and not "
	    "answered because that neighbour's catch-up was still going on.");
	prom_sample(p, "direction=\"out\",outcome=\"sent\"", num(c, "entropy_asks"));
	prom_sample(p, "direction=\"in\",outcome=\"busy\"", num(c, "entropy_busy"));
	prom_family(p, "agentflow_node_catchup_pulls_total", "counter",
	    "Origins a new link's Hello held more of: asked of that peer, "
	    "or left to the neighbour already sending them (pulled catch-ups).");
	prom_sample(p, "outcome=\"asked\"", num(c, "pulled"));
	prom_sample(p, "outcome=\"deferred\"", num(c, "pull_deferred"));
	prom_metric(p, "agentflow_node_offers_ignored_total", "counter",
	    "Offers (answers to anti-entropy asks) that answered no ask of ours: "
	    "not taken.", num(c, "offers_ignored"));
	prom_metric(p, "agentflow_node_replayed_total", "counter",
	    "Events sent from the log to catch a peer up.", num(c, "replayed"));
	prom_metric(p, "agentflow_node_replay_statuses_left_out_total", "counter",
	    "Statuses a catch-up from this node's log left out: a later status "
	    "of the same origin superseded them (NodeStatus.statuses_from).",
	    num(c, "statuses_left_out"));
	prom_metric(p, "agentflow_node_statuses_taken_past_total", "counter",
	    "Statuses taken though this node lacked the events before them, on "
	    "their origin's signed word that those were statuses only.",
	    num(c, "statuses_past"));
	prom_metric(p, "agentflow_node_events_pending", "gauge",
	    "Own events waiting to be sent.", num(c, "pending"));
	json_decref(c);
	prom_histogram(p, "agentflow_node_event_delay_seconds",
	    "Seconds from an event's time at its origin to its applying here "
	    "(the two hosts' clocks: skew shows; a catch-up is late by design).",
	    sync_json_delay(n->sync));
	vouch_metrics(p, n);
}

/* What newer peers sent that this version skipped (frame_codec.h). */
static void
skip_metrics(struct prom *p)
{
	char label[64];

	prom_family(p, "agentflow_node_skipped_total", "counter",
	    "Parts of received frames this version does not know, skipped.");
	for (int i = 0; i < FRAME_CODEC_SKIP_N; i++) {
		snprintf(label, sizeof(label), "what=\"%s\"",
		    frame_codec_skip_name((enum frame_codec_skip)i));
		prom_sample(p, label,
		    (int64_t)frame_codec_skipped((enum frame_codec_skip)i));
	}
}

/*
 * One series per peer links_status lists: the peers this node links to
 * or would (under --max-links its ring neighbours only).  A peer is known
 * by a CA-signed certificate or the signals' lists; the series stop at
 * FRAME_CODEC_MAX_NODES all the same, the mesh's own bound on members.
 * Node ids are [A-Za-z0-9._-] (node_id.h): nothing a label value must
 * escape.
 */
static void
peer_metrics(struct prom *p, json_t *links)
{
	json_t *l, *rtt;
	char label[NODE_ID_MAX + 16];
	size_t i;

	prom_family(p, "agentflow_node_peer_link_up", "gauge",
	    "Whether the link to the peer is up.");
	json_array_foreach(links, i, l) {
		if (i >= FRAME_CODEC_MAX_NODES)
			break;
		snprintf(label, sizeof(label), "peer=\"%s\"",
		    json_string_value(json_object_get(l, "peer")));
		prom_sample(p, label, strcmp(json_string_value(json_object_get(l,
		    "state")), "up") == 0);
	}
	prom_family(p, "agentflow_node_peer_rtt_seconds", "gauge",
	    "The last application ping's round trip to the peer (links up "
	    "with a ping answered only).");
	json_array_foreach(links, i, l) {
		if (i >= FRAME_CODEC_MAX_NODES)
			break;
		if (!json_is_number(rtt = json_object_get(l, "rtt_ms")))
			continue;
		snprintf(label, sizeof(label), "peer=\"%s\"",
		    json_string_value(json_object_get(l, "peer")));
		prom_sample_double(p, label, json_number_value(rtt) / 1000.0);
	}
}

static void
link_metrics(struct prom *p, struct node *n)
{
	json_t *links = links_status(n->links), *l;
	int64_t reconnects = 0;
	size_t i;

	json_array_foreach(links, i, l)
		reconnects += num(l, "reconnects");
	peer_metrics(p, links);
	json_decref(links);
	prom_metric(p, "agentflow_node_links_up", "gauge", "Links in state up.",
	    (int64_t)links_up(n->links));
	prom_metric(p, "agentflow_node_reconnects_total", "counter",
	    "Links lost and re-established.", reconnects);
	prom_metric(p, "agentflow_node_loop_stalls_total", "counter",
	    "Times the node's loop ran a second or more late (an overloaded "
	    "host): links' silence counts from the stall's end.",
	    (int64_t)links_stalls(n->links));
	prom_metric(p, "agentflow_node_signal_reachable", "gauge",
	    "Whether a signal answered lately.",
	    n->discovery ? discovery_reachable(n->discovery) : 0);
}

/* Commands, tasks and the live feed. */
static void
work_metrics(struct prom *p, struct node *n)
{
	static const struct {
		const char	*what;
		const char	*key;
	} commands[] = {
		{ "issued", "issued" },
		{ "executed", "executed" },
		{ "duplicate", "duplicates" },
		{ "forwarded", "forwarded" },
		{ "unreachable", "unreachable" },
		{ "timeout", "timeouts" },
		{ "retransmitted", "retransmitted" },
		{ "forged", "forged" },			/* not signed by its origin */
		{ "forged_result", "forged_results" },	/* nor by the node it names */
	};
	json_t *c = n->commands ? commands_counters(n->commands) : json_object();
	json_t *w = n->ws ? ws_hub_counters(n->ws) : json_object();
	char label[64];

	prom_family(p, "agentflow_node_commands_total", "counter",
	    "Commands by what happened here.");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		snprintf(label, sizeof(label), "what=\"%s\"", commands[i].what);
		prom_sample(p, label, num(c, commands[i].key));
	}
	prom_metric(p, "agentflow_node_commands_pending", "gauge",
	    "Commands issued here waiting for answers.", num(c, "active"));
	prom_histogram(p, "agentflow_node_command_latency_seconds",
	    "Seconds from issuing a command here to a destination's answer "
	    "(timeouts are counted in agentflow_node_commands_total).",
	    n->commands ? commands_latency(n->commands) : NULL);
	prom_metric(p, "agentflow_node_tasks_active", "gauge",
	    "Tasks queued, running or retrying here.",
	    n->tasks ? (int64_t)tasks_active(n->tasks) : 0);
	prom_metric(p, "agentflow_node_frozen", "gauge",
	    "Whether read-only mode is on.", n->frozen);
	prom_metric(p, "agentflow_node_ws_clients", "gauge",
	    "Dashboard WebSocket clients connected.", num(w, "clients"));
	prom_metric(p, "agentflow_node_ws_closed_slow_total", "counter",
	    "Clients closed for falling too far behind.", num(w, "closed_slow"));
	prom_metric(p, "agentflow_node_ws_backlog_max_bytes", "gauge",
	    "The largest backlog of a dashboard client now.",
	    num(w, "backlog_max"));
	prom_metric(p, "agentflow_node_api_cut_total", "counter",
	    "API connections closed for a request not received in time.",
	    n->http_guard ? (int64_t)http_guard_cut(n->http_guard) : 0);
	prom_metric(p, "agentflow_node_api_refused_total", "counter",
	    "API connections closed: too many from one address.",
	    n->http_guard ? (int64_t)http_guard_refused(n->http_guard) : 0);
	json_decref(c);
	json_decref(w);
}

/* The same counters by task (jobs_metrics.h): names are bounded there
 * and made of [A-Za-z0-9._-()], nothing a label value must escape. */
static void
job_task_metrics(struct prom *p, struct node *n, const char *const *what,
    size_t nwhat)
{
	json_t *c = n->jobs != NULL ? jobs_task_counters(n->jobs) : NULL, *t;
	const char *task;
	char label[160];

	json_object_foreach(c, task, t)
		for (size_t i = 0; i < nwhat; i++) {
			snprintf(label, sizeof(label), "what=\"%s\",task=\"%s\"",
			    what[i], task);
			prom_sample(p, label, num(t, what[i]));
		}
	json_decref(c);
}

/* Jobs issued here (jobs.h): what happened to them, and the open ones. */
static void
job_metrics(struct prom *p, struct node *n)
{
	static const char *const what[] = { "submitted", "dispatched",
	    "redispatched", "fenced", "lost", "succeeded", "failed", "expired",
	    "cancelled" };
	json_t *c = n->jobs ? jobs_counters(n->jobs) : json_object();
	char label[64];

	prom_family(p, "agentflow_node_jobs_total", "counter",
	    "Jobs issued here by what happened to them.");
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		snprintf(label, sizeof(label), "what=\"%s\"", what[i]);
		prom_sample(p, label, num(c, what[i]));
	}
	job_task_metrics(p, n, what, sizeof(what) / sizeof(what[0]));
	prom_metric(p, "agentflow_node_jobs_queued", "gauge",
	    "Jobs issued here waiting for their node (the queue's depth).",
	    num(c, "queued"));
	prom_metric(p, "agentflow_node_jobs_open", "gauge",
	    "Jobs issued here not final yet (queued, dispatched, running).",
	    num(c, "open"));
	json_decref(c);
	prom_metric(p, "agentflow_node_mesh_jobs", "gauge",
	    "Other issuers' jobs this node lists (sync_jobs.h: at most 1024 "
	    "per issuer).", (int64_t)sync_jobs_count(n->sync));
	c = n->callbacks ? callbacks_counters(n->callbacks) : json_object();
	prom_family(p, "agentflow_node_job_callbacks_total", "counter",
	    "Job result callback attempts, and callbacks delivered or given up.");
	prom_sample(p, "what=\"attempt\"", num(c, "attempts"));
	prom_sample(p, "what=\"delivered\"", num(c, "delivered"));
	prom_sample(p, "what=\"failed\"", num(c, "failed"));
	prom_metric(p, "agentflow_node_job_callbacks_pending", "gauge",
	    "Job result callbacks being retried.", num(c, "pending"));
	json_decref(c);
}

/* Artifacts held here and moved over links (artifacts.h). */
static void
artifact_metrics(struct prom *p, struct node *n)
{
	json_t *c;

	if (n->artifacts == NULL)
		return;
	c = artifacts_counters(n->artifacts);
	prom_metric(p, "agentflow_node_artifacts_held", "gauge",
	    "Artifacts this node holds, whole and checked.", num(c, "held"));
	prom_metric(p, "agentflow_node_artifacts_held_bytes", "gauge",
	    "Bytes of the artifacts this node holds.", num(c, "held_bytes"));
	prom_metric(p, "agentflow_node_artifact_fetched_bytes_total", "counter",
	    "Artifact bytes received from peers over links.",
	    num(c, "fetched_bytes"));
	prom_metric(p, "agentflow_node_artifact_served_bytes_total", "counter",
	    "Artifact bytes sent to peers over links.", num(c, "served_bytes"));
	prom_family(p, "agentflow_node_artifact_fetches_total", "counter",
	    "Artifact fetches by outcome: ok (held, hash checked), refused "
	    "(the bytes were not the artifact), failed (a holder refused, "
	    "lied about the size, or the disk failed).");
	prom_sample(p, "outcome=\"ok\"", num(c, "fetches_ok"));
	prom_sample(p, "outcome=\"refused\"", num(c, "fetches_refused"));
	prom_sample(p, "outcome=\"failed\"", num(c, "fetches_failed"));
	json_decref(c);
}

/* The rollouts this node runs (rollouts.h), by state. */
static void
rollout_metrics(struct prom *p, struct node *n)
{
	static const char *const states[] = { "running", "paused",
	    "succeeded", "failed", "aborted" };
	json_t *c;
	char label[48];

	if (n->rollouts == NULL)
		return;
	c = rollouts_counters(n->rollouts);
	prom_family(p, "agentflow_node_rollouts", "gauge",
	    "Rollouts this node runs or ran (the last 16 kept), by state.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(label, sizeof(label), "state=\"%s\"", states[i]);
		prom_sample(p, label, num(c, states[i]));
	}
	json_decref(c);
}

/* This node's alerts (alerts.h): those open by state and severity, every
 * pair always written (a gauge that is absent at 0 cannot be graphed
 * back to 0), and those each rule fired.  Rule names are the operator's
 * (at most 64, [A-Za-z0-9._-]: nothing a label value must escape), so
 * the rule label is bounded by the rules file. */
static void
alert_metrics(struct prom *p, struct node *n)
{
	static const int states[] = { MESH_ALERT_STATE(FIRING),
	    MESH_ALERT_STATE(ACKNOWLEDGED) };
	static const int severities[] = { MESH_ALERT_SEVERITY(INFO),
	    MESH_ALERT_SEVERITY(WARNING), MESH_ALERT_SEVERITY(CRITICAL) };
	const char *rule;
	uint64_t fired;
	char label[128];

	if (n->alerts == NULL)
		return;
	prom_family(p, "agentflow_node_alerts", "gauge",
	    "This node's open alerts by state (firing, acknowledged) and "
	    "severity.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		for (size_t j = 0; j < sizeof(severities) /
		    sizeof(severities[0]); j++) {
			snprintf(label, sizeof(label), "state=\"%s\",severity="
			    "\"%s\"", mesh_names_alert_state(states[i]),
			    mesh_names_alert_severity(severities[j]));
			prom_sample(p, label, (int64_t)alerts_open_count(
			    n->alerts, states[i], severities[j]));
		}
	prom_family(p, "agentflow_node_alerts_fired_total", "counter",
	    "Alerts each rule of this node fired since the node started.");
	for (size_t i = 0; (rule = alerts_rule_fired(n->alerts, i, &fired)) !=
	    NULL; i++) {
		snprintf(label, sizeof(label), "rule=\"%s\"", rule);
		prom_sample(p, label, (int64_t)fired);
	}
}

/* Notifications of this node's alerts (notify.h). */
static void
notify_metrics(struct prom *p, struct node *n)
{
	json_t *c;

	prom_metric(p, "agentflow_node_silences", "gauge",
	    "Silences active in the mesh as this node holds them (notices of "
	    "matching alerts held back).", (int64_t)silences_active(n->silences,
	    clock_wall_ms()));
	if (n->sync != NULL)
		prom_metric(p, "agentflow_node_silences_refused_total", "counter",
		    "Silences and removals from other nodes dropped: not what "
		    "the API would take, dated ahead, or no room.",
		    (int64_t)sync_silences_refused(n->sync));
	if (n->notify == NULL)
		return;
	c = notify_counters(n->notify);
	prom_family(p, "agentflow_node_notifications_total", "counter",
	    "Alert notices by outcome: delivered (a 2xx), retried (an attempt "
	    "not answered 2xx, tried again), failed (given up after 10 "
	    "attempts), dropped (too many waiting), silenced (kept back by a "
	    "silence).");
	prom_sample(p, "outcome=\"delivered\"", num(c, "delivered"));
	prom_sample(p, "outcome=\"retried\"", num(c, "retried"));
	prom_sample(p, "outcome=\"failed\"", num(c, "failed"));
	prom_sample(p, "outcome=\"dropped\"", num(c, "dropped"));
	prom_sample(p, "outcome=\"silenced\"", num(c, "silenced"));
	prom_metric(p, "agentflow_node_notifications_waiting", "gauge",
	    "Alert notices not delivered yet.", num(c, "waiting"));
	json_decref(c);
}

/* This node's services (services.h), by service and check: names are
 * [A-Za-z0-9_-], nothing a label value must escape. */
static void
service_metrics(struct prom *p, struct node *n)
{
	json_t *all = n->services ? services_local(n->services) : json_array();
	json_t *sv, *c;
	const char *st;
	char label[192];
	size_t i, j;

	prom_family(p, "agentflow_node_service_up", "gauge",
	    "Whether the service's process is up (starting, running, healthy, "
	    "unhealthy, stopping).");
	json_array_foreach(all, i, sv) {
		snprintf(label, sizeof(label), "service=\"%s\"",
		    json_string_value(json_object_get(sv, "name")));
		prom_sample(p, label, json_integer_value(json_object_get(sv,
		    "pid")) > 0);
	}
	prom_family(p, "agentflow_node_service_ready", "gauge",
	    "Whether the service is ready: running with no checks, or healthy.");
	json_array_foreach(all, i, sv) {
		st = json_string_value(json_object_get(sv, "state"));
		snprintf(label, sizeof(label), "service=\"%s\"",
		    json_string_value(json_object_get(sv, "name")));
		prom_sample(p, label, st != NULL && (strcmp(st, "running") == 0 ||
		    strcmp(st, "healthy") == 0));
	}
	prom_family(p, "agentflow_node_service_restarts_total", "counter",
	    "Restarts of the service since the node started.");
	json_array_foreach(all, i, sv) {
		snprintf(label, sizeof(label), "service=\"%s\"",
		    json_string_value(json_object_get(sv, "name")));
		prom_sample(p, label, num(sv, "restarts"));
	}
	prom_family(p, "agentflow_node_service_checks_total", "counter",
	    "Health-check probes by result.");
	json_array_foreach(all, i, sv)
		json_array_foreach(json_object_get(sv, "checks"), j, c) {
			snprintf(label, sizeof(label), "service=\"%s\",check=\"%s\","
			    "result=\"fail\"", json_string_value(json_object_get(sv,
			    "name")), json_string_value(json_object_get(c, "name")));
			prom_sample(p, label, num(c, "failures"));
			snprintf(label, sizeof(label), "service=\"%s\",check=\"%s\","
			    "result=\"pass\"", json_string_value(json_object_get(sv,
			    "name")), json_string_value(json_object_get(c, "name")));
			prom_sample(p, label, num(c, "probes") - num(c, "failures"));
		}
	prom_family(p, "agentflow_node_service_check_latency_ms", "gauge",
	    "The latency of the check's last probe.");
	json_array_foreach(all, i, sv)
		json_array_foreach(json_object_get(sv, "checks"), j, c) {
			snprintf(label, sizeof(label), "service=\"%s\",check=\"%s\"",
			    json_string_value(json_object_get(sv, "name")),
			    json_string_value(json_object_get(c, "name")));
			prom_sample(p, label, (int64_t)json_number_value(
			    json_object_get(json_object_get(c, "last"), "ms")));
		}
	json_decref(all);
}

void
metrics_render(struct node *n, struct evbuffer *out)
{
	struct prom p;

	prom_init(&p, out);
	prom_build_info(&p, AGENTFLOW_VERSION);
	prom_process_render(&p);
	transport_metrics(&p, n);
	status_metrics(&p, n);
	event_metrics(&p, n);
	skip_metrics(&p);
	link_metrics(&p, n);
	work_metrics(&p, n);
	job_metrics(&p, n);
	service_metrics(&p, n);
	artifact_metrics(&p, n);
	rollout_metrics(&p, n);
	alert_metrics(&p, n);
	notify_metrics(&p, n);
}

void
metrics_get(const struct api_call *call)
{
	struct evbuffer *buf = evbuffer_new();

	metrics_render(call->n, buf);
	prom_reply(call->req, buf);
	evbuffer_free(buf);
}
