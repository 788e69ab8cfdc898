/*
 * The JSON views of sync's state for the API (sync_json.h): an origin's
 * cursor, NodeInfo and decoded status, the counters, and event log rows.
 * Read-only: nothing here changes the sync.
 */
#include "sync_json.h"
#include "sync_schedules.h"
#include "sync_services.h"
#include "sync_workflows.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "json_bytes.h"
#include "json_id.h"
#include "mesh_names.h"
#include "sync_priv.h"
#include "work_json.h"

static json_t *
status_json(const Agentflow__Mesh__V1__NodeStatus *st)
{
	json_t *links = json_array(), *members = json_array();

	for (size_t i = 0; i < st->n_links; i++) {
		const Agentflow__Mesh__V1__LinkInfo *l = st->links[i];
		json_array_append_new(links, json_pack("{s:s, s:s, s:f, s:I}",
		    "peer", l->peer, "state", mesh_names_link_state(l->state),
		    "rtt_ms", (double)l->rtt_us / 1000.0,
		    "since_ms", (json_int_t)l->since_ms));
	}
	for (size_t i = 0; i < st->n_members; i++) {
		const Agentflow__Mesh__V1__MemberInfo *m = st->members[i];
		json_array_append_new(members, json_pack("{s:s, s:s, s:I, s:b}",
		    "node_id", m->node_id,
		    "state", mesh_names_member_state(m->state),
		    "last_seen_ms", (json_int_t)m->last_seen_ms, "direct", m->direct));
	}
	return json_pack("{s:f, s:i, s:I, s:I, s:[f,f,f], s:I, s:I, s:I, s:I, s:f, s:f,"
	    " s:I, s:I, s:o, s:o, s:b, s:b, s:I, s:I}",
	    "cpu_percent", st->cpu_percent, "cpu_count", (int)st->cpu_count,
	    "mem_used_bytes", (json_int_t)st->mem_used_bytes,
	    "mem_total_bytes", (json_int_t)st->mem_total_bytes,
	    "load", st->load1, st->load5, st->load15,
	    "disk_used_bytes", (json_int_t)st->disk_used_bytes,
	    "disk_total_bytes", (json_int_t)st->disk_total_bytes,
	    "net_rx_bytes", (json_int_t)st->net_rx_bytes,
	    "net_tx_bytes", (json_int_t)st->net_tx_bytes,
	    "net_rx_bytes_per_s", st->net_rx_bytes_per_s,
	    "net_tx_bytes_per_s", st->net_tx_bytes_per_s,
	    "uptime_s", (json_int_t)st->uptime_s,
	    "process_uptime_s", (json_int_t)st->process_uptime_s,
	    "links", links, "members", members,
	    "frozen", st->frozen, "signal_reachable", st->signal_reachable,
	    "idle_ms", (json_int_t)st->idle_ms, "watch_ms", (json_int_t)st->watch_ms);
}

static json_t *
info_json(const Agentflow__Mesh__V1__NodeInfo *in)
{
	json_t *addrs = json_array(), *labels = json_object();

	for (size_t i = 0; i < in->n_addresses; i++)
		json_array_append_new(addrs, json_string(in->addresses[i]));
	for (size_t i = 0; i < in->n_labels; i++)
		json_object_set_new(labels, in->labels[i]->key,
		    json_string(in->labels[i]->value));
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:I}", "node_id", in->node_id,
	    "incarnation", json_id_new(in->incarnation), "version", in->version,
	    "addresses", addrs, "labels", labels,
	    "started_ms", (json_int_t)in->started_ms);
}

static json_t *
origin_json(const struct origin *o, int with_status)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:b}", "node_id",
	    o->id, "incarnation", json_id_new(o->incarnation), "seq",
	    json_id_new(o->seq), "status_ms", (json_int_t)o->status_ms,
	    "updated_ms", (json_int_t)o->updated_ms,
	    "seen_ms", (json_int_t)o->seen_ms, "idle_ms", (json_int_t)o->idle_ms,
	    "left", o->left);
	Agentflow__Mesh__V1__NodeStatus *st = o->status && with_status ?
	    agentflow__mesh__v1__node_status__unpack(NULL, o->status_len, o->status) : NULL;
	Agentflow__Mesh__V1__NodeInfo *in = o->info ?
	    agentflow__mesh__v1__node_info__unpack(NULL, o->info_len, o->info) : NULL;

	/* Events skipped on a relayed snapshot, still asked for. */
	if (o->hole_lo != 0)
		json_object_set_new(j, "missing", json_pack("{s:o, s:o}", "from",
		    json_id_new(o->hole_lo), "to", json_id_new(o->hole_hi)));
	json_object_set_new(j, "status", st ? status_json(st) : json_null());
	json_object_set_new(j, "info", in ? info_json(in) : json_null());
	if (st != NULL)
		agentflow__mesh__v1__node_status__free_unpacked(st, NULL);
	if (in != NULL)
		agentflow__mesh__v1__node_info__free_unpacked(in, NULL);
	return j;
}

json_t *
sync_json_origin(const struct sync *s, const char *id, int with_status)
{
	const struct origin *o = hmap_get(s->origins, id);

	return o != NULL && o->incarnation != 0 ? origin_json(o, with_status) :
	    NULL;
}

struct remote_list {
	const struct sync	*s;
	json_t			*a;
	int			 with_status;
};

static int
remote_one(const char *id, void *value, void *arg)
{
	struct remote_list *rl = arg;
	const struct origin *o = value;

	(void)id;
	if (o != rl->s->self && o->incarnation != 0)
		json_array_append_new(rl->a, origin_json(o, rl->with_status));
	return 0;
}

json_t *
sync_json_remote(const struct sync *s, int with_status)
{
	struct remote_list rl = { s, json_array(), with_status };

	hmap_sweep(s->origins, remote_one, &rl);
	return rl.a;
}

const struct prom_hist *
sync_json_delay(const struct sync *s)
{
	return &s->delay;
}

json_t *
sync_json_counters(const struct sync *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "statuses_left_out", (json_int_t)s->statuses_left_out,
	    "statuses_past", (json_int_t)s->statuses_past,
	    "offers_ignored", (json_int_t)s->offers_ignored,
	    "pulled", (json_int_t)s->pulled,
	    "pull_deferred", (json_int_t)s->pull_deferred,
	    "early_held", (json_int_t)s->early_held,
	    "early_applied", (json_int_t)s->early_applied,
	    "refused_origins", (json_int_t)s->refused_origins,
	    "entropy_asks", (json_int_t)s->entropy_asks,
	    "entropy_busy", (json_int_t)s->entropy_busy,
	    "forwarded", (json_int_t)s->forwarded,
	    "replayed", (json_int_t)s->replayed,
	    "events_in", (json_int_t)s->events_in,
	    "events_out", (json_int_t)s->events_out,
	    "duplicates", (json_int_t)s->duplicates, "gaps", (json_int_t)s->gaps,
	    "snapshots_sent", (json_int_t)s->snapshots_sent,
	    "snapshots_received", (json_int_t)s->snapshots_received,
	    "snapshot_requests", (json_int_t)s->snapshot_requests,
	    "pending", (json_int_t)s->npending);
}

json_t *
sync_json_vouch(const struct sync *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}",
	    "forged", (json_int_t)s->vouch.forged,
	    "unknown_key", (json_int_t)s->vouch.unknown_key,
	    "revoked", (json_int_t)s->vouch.revoked,
	    "keys_refused", (json_int_t)s->vouch.keys_refused,
	    "states_refused", (json_int_t)s->vouch.states_refused,
	    "work_ignored", (json_int_t)s->vouch.work_ignored,
	    "links_closed", (json_int_t)s->vouch.links_closed,
	    "holes_opened", (json_int_t)s->vouch.holes_opened,
	    "hole_events", (json_int_t)s->vouch.hole_events,
	    "holes_abandoned", (json_int_t)s->vouch.holes_abandoned,
	    "unchecked", (json_int_t)s->vouch.unchecked,
	    "rechecked", (json_int_t)s->vouch.rechecked);
}

/*
 * Copies keys (NULL-terminated) of an update's definition (spec_json,
 * JSON text; empty when deleted) into its event body j, those the
 * definition has as a string or a boolean: what the
 * timeline's row says (a schedule paused, who added a silence) without
 * the whole definition in every event.  A definition that does not parse
 * adds nothing: the codec bounds it, the API that wrote it checked it.
 */
static void
spec_copy(json_t *j, const char *spec_json, const char *const keys[])
{
	json_t *spec, *v;

	if (j == NULL || spec_json == NULL || spec_json[0] == '\0')
		return;
	spec = json_loads(spec_json, JSON_REJECT_DUPLICATES, NULL);
	for (size_t i = 0; keys[i] != NULL; i++)
		if ((v = json_object_get(spec, keys[i])) != NULL &&
		    (json_is_string(v) || json_is_boolean(v)))
			json_object_set(j, keys[i], v);
	json_decref(spec);
}

/* What of their definitions schedule and silence events show. */
static const char *const schedule_keys[] = { "paused", NULL };
static const char *const silence_keys[] = { "created_by", "comment", NULL };

json_t *
sync_json_event_body(const char *origin, int kind, const void *body, size_t len)
{
	json_t *j = NULL;

	if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS) {
		Agentflow__Mesh__V1__NodeStatus *st =
		    agentflow__mesh__v1__node_status__unpack(NULL, len, body);
		if (st != NULL) {
			j = status_json(st);
			agentflow__mesh__v1__node_status__free_unpacked(st, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_TASK) {
		Agentflow__Mesh__V1__TaskUpdate *t =
		    agentflow__mesh__v1__task_update__unpack(NULL, len, body);
		if (t != NULL) {
			j = work_json_task(origin, t);
			agentflow__mesh__v1__task_update__free_unpacked(t, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_LOG) {
		Agentflow__Mesh__V1__TaskLog *l =
		    agentflow__mesh__v1__task_log__unpack(NULL, len, body);
		if (l != NULL) {
			j = work_json_log(origin, 0, l);
			json_object_del(j, "time_ms");
			agentflow__mesh__v1__task_log__free_unpacked(l, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_ALERT) {
		Agentflow__Mesh__V1__Alert *a =
		    agentflow__mesh__v1__alert__unpack(NULL, len, body);
		if (a != NULL) {
			j = work_json_alert(origin, a);
			agentflow__mesh__v1__alert__free_unpacked(a, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_USER) {
		Agentflow__Mesh__V1__UserEvent *u =
		    agentflow__mesh__v1__user_event__unpack(NULL, len, body);
		if (u != NULL) {
			/* Payloads are bytes: text when they are valid UTF-8,
			 * else null with the bytes in base64 beside it. */
			json_t *p = json_stringn((const char *)u->payload.data,
			    u->payload.len);
			j = json_pack("{s:s, s:o, s:I}", "name", u->name,
			    "payload", p ? p : json_null(),
			    "payload_bytes", (json_int_t)u->payload.len);
			if (p == NULL)
				json_object_set_new(j, "payload_b64", json_b64_new(
				    u->payload.data, u->payload.len));
			agentflow__mesh__v1__user_event__free_unpacked(u, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_JOB) {
		Agentflow__Mesh__V1__JobUpdate *u =
		    agentflow__mesh__v1__job_update__unpack(NULL, len, body);
		if (u != NULL) {
			j = work_json_job(origin, u);
			agentflow__mesh__v1__job_update__free_unpacked(u, NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW) {
		Agentflow__Mesh__V1__WorkflowUpdate *u =
		    agentflow__mesh__v1__workflow_update__unpack(NULL, len, body);
		if (u != NULL) {
			j = sync_workflow_json(origin, u);
			agentflow__mesh__v1__workflow_update__free_unpacked(u,
			    NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE) {
		Agentflow__Mesh__V1__ScheduleUpdate *u =
		    agentflow__mesh__v1__schedule_update__unpack(NULL, len, body);
		const char *by;

		if (u != NULL) {
			j = json_pack("{s:s, s:b, s:I, s:s, s:I, s:s, s:s, "
			    "s:I}", "name", u->name, "deleted", u->deleted,
			    "updated_ms", (json_int_t)u->updated_ms, "author",
			    u->author, "fire_ms", (json_int_t)u->fire_ms,
			    "fire_outcome", u->fire_outcome, "fire_job",
			    u->fire_job, "fire_updated_ms",
			    (json_int_t)u->fire_updated_ms);
			by = sync_schedules_principal(u);
			if (by[0] != '\0')
				json_object_set_new(j, "principal",
				    json_string(by));
			spec_copy(j, u->spec_json, schedule_keys);
			agentflow__mesh__v1__schedule_update__free_unpacked(u,
			    NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE) {
		Agentflow__Mesh__V1__SilenceUpdate *u =
		    agentflow__mesh__v1__silence_update__unpack(NULL, len, body);
		if (u != NULL) {
			j = json_pack("{s:s, s:b, s:I, s:s, s:I}", "id", u->id,
			    "deleted", u->deleted, "updated_ms",
			    (json_int_t)u->updated_ms, "author", u->author,
			    "ends_ms", (json_int_t)u->ends_ms);
			spec_copy(j, u->spec_json, silence_keys);
			if (u->principal != NULL && u->principal[0] != '\0')
				json_object_set_new(j, "principal",
				    json_string(u->principal));
			agentflow__mesh__v1__silence_update__free_unpacked(u,
			    NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE) {
		Agentflow__Mesh__V1__ServiceUpdate *u =
		    agentflow__mesh__v1__service_update__unpack(NULL, len, body);
		if (u != NULL) {
			j = sync_service_json(origin, u);
			agentflow__mesh__v1__service_update__free_unpacked(u,
			    NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT) {
		Agentflow__Mesh__V1__ArtifactUpdate *u =
		    agentflow__mesh__v1__artifact_update__unpack(NULL, len, body);
		if (u != NULL) {
			j = json_pack("{s:s, s:s, s:I, s:b}", "artifact",
			    u->artifact, "name", u->name, "size",
			    (json_int_t)u->size, "removed", u->removed);
			agentflow__mesh__v1__artifact_update__free_unpacked(u,
			    NULL);
		}
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED) {
		Agentflow__Mesh__V1__TokenRevoked *t =
		    agentflow__mesh__v1__token_revoked__unpack(NULL, len, body);
		if (t != NULL) {
			j = json_pack("{s:s}", "token_id", t->token_id);
			agentflow__mesh__v1__token_revoked__free_unpacked(t, NULL);
		}
	}
	return j;
}
