/*
 * State sync (see sync.h).
 *
 * Per origin we hold a cursor (incarnation, seq), its NodeInfo and latest
 * NodeStatus as packed protobuf, and whether it left.  An incoming event
 * of origin O with (inc, seq) against our cursor (I, S):
 *
 *   inc < I                  stale: dropped
 *   inc > I, seq == 1        a new incarnation from its start: applied
 *   inc > I, seq > 1         we missed its start: snapshot of O requested
 *   inc == I, seq <= S       duplicate: dropped
 *   inc == I, seq == S + 1   applied
 *   inc == I, seq > S + 1    gap: snapshot of O requested, unless a status
 *                            whose origin says only statuses came since
 *                            S + 1 (NodeStatus.statuses_from): applied
 *
 * A snapshot replaces an origin's state when its cursor is newer than ours.
 * Every applied event, ours too, is logged here (sync_log_event_row);
 * received ones share one store transaction per turn of the loop.
 *
 * Invariant: the own origin's cursor is (our incarnation, last seq
 * emitted); nothing received ever changes it (our own echoes are dropped).
 *
 * Our own events (numbered, signed, batched, sent) are sync_emit.c's, the
 * table of origins and what routing learns from it sync_origin.c's.
 * Catching a peer up (replays and snapshots) is in sync_catchup.c,
 * handing applied events on (forwarding) in sync_forward.c, the API's
 * JSON views in sync_json.c; the link-state graph and label selection
 * are routing.c's, fed from statuses and NodeInfos (sync_origin.c).
 */
#include "sync.h"
#include "sync_opaque.h"
#include "sync_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "links.h"
#include "log.h"
#include "mesh_names.h"
#include "node_info.h"
#include "routing.h"
#include "store.h"
#include "store_work.h"
#include "wall_timer.h"
#include "work_json.h"
#include "xalloc.h"

/* A gap in an origin whose events arrived in order this recently is not
 * asked for: its history is on its way (a catch-up). */
#define GAP_QUIET_MS		500

/* A task update or an alert of origin into its table (ours and others'). */
static void
index_json(struct sync *s, const char *origin, json_t *j, int kind,
    const void *msg, uint64_t time_ms)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	int rc = -1;

	if (text == NULL) {
		json_decref(j);
		return;
	}
	if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_TASK) {
		const Agentflow__Mesh__V1__TaskUpdate *t = msg;
		rc = store_task_put(s->store, origin, t->task_id, t->name,
		    mesh_names_task_state(t->state), (int64_t)time_ms, text);
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_LOG) {
		const Agentflow__Mesh__V1__TaskLog *l = msg;
		rc = store_task_log_put(s->store, origin, l->task_id, l->line_seq,
		    (int64_t)time_ms, text);
	} else if (kind == AGENTFLOW__MESH__V1__EVENT__KIND_ALERT) {
		const Agentflow__Mesh__V1__Alert *a = msg;
		rc = store_alert_put(s->store, origin, a->alert_id,
		    mesh_names_alert_state(a->state), (int64_t)time_ms, text);
	}
	if (rc != 0)
		log_event(LOG_WARN, "cannot index a work event", "{s:s}", "error",
		    store_error(s->store));
	free(text);
	json_decref(j);
}

/*
 * Task updates, log lines and alerts also go to their own tables, where
 * the API looks them up by node and id.
 */
static void
index_work(struct sync *s, const Agentflow__Mesh__V1__Event *e)
{
	switch (e->kind_case) {
	case AGENTFLOW__MESH__V1__EVENT__KIND_TASK:
		index_json(s, e->origin, work_json_task(e->origin, e->task),
		    e->kind_case, e->task, e->time_ms);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_LOG:
		index_json(s, e->origin, work_json_log(e->origin, e->time_ms, e->log),
		    e->kind_case, e->log, e->time_ms);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ALERT:
		index_json(s, e->origin, work_json_alert(e->origin, e->alert),
		    e->kind_case, e->alert, e->time_ms);
		break;
	default:
		break;
	}
}

/*
 * Appends an applied event to the log (ours and others').  The body is
 * the event's kind message packed; packed/len pass it when the caller
 * already has it (a received status was just packed for the origin).
 */
void
sync_log_event_row(struct sync *s, const Agentflow__Mesh__V1__Event *e,
    const void *packed, size_t packed_len, int unchecked)
{
	struct store_event row = { 0 };
	size_t len = packed_len;
	void *buf = NULL;
	int added = 0, kind = (int)e->kind_case;

	/* A newer kind is kept as it came, and replayed as such. */
	if (packed == NULL && sync_vouch_body(e, &kind, &packed, &len, &buf) != 0)
		return;
	row.origin = e->origin;
	row.incarnation = e->incarnation;
	row.seq = e->seq;
	row.kind = kind;
	row.time_ms = (int64_t)e->time_ms;
	row.received_ms = (int64_t)clock_wall_ms();
	row.body = packed;
	row.body_len = len;
	row.sig = e->signature.len > 0 ? e->signature.data : NULL;
	row.sig_len = e->signature.len;
	row.unchecked = unchecked;
	if (store_event_append(s->store, &row, &added) != 0)
		log_event(LOG_WARN, "cannot log event", "{s:s}", "error",
		    store_error(s->store));
	else if (added) {
		index_work(s, e);
		if (unchecked)
			s->vouch.unchecked++;
	}
	if (added && s->applied != NULL)
		s->applied(&row, s->applied_arg);
	free(buf);
}

/* --- sending ---------------------------------------------------------------- */

static int
send_frame(struct sync *s, const char *peer, const Agentflow__Mesh__V1__Frame *f,
    int history)
{
	struct frame_codec_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (s->links == NULL)
		return -1;
	if (frame_codec_encode(f, &buf, &len, &err) != FRAME_CODEC_OK) {
		log_event(LOG_ERROR, "cannot encode frame", "{s:s}", "error", err.detail);
		return -1;
	}
	if (peer == NULL)
		rc = (int)links_broadcast_raw(s->links, buf, len);
	else
		rc = history ? links_send_bulk(s->links, peer, buf, len) :
		    links_send_raw(s->links, peer, buf, len);
	free(buf);
	return rc;
}

int
sync_send_frame(struct sync *s, const char *peer, const Agentflow__Mesh__V1__Frame *f)
{
	return send_frame(s, peer, f, 0);
}

int
sync_send_history(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Frame *f)
{
	return send_frame(s, peer, f, peer != NULL);
}

int
sync_send_events(struct sync *s, const char *peer,
    Agentflow__Mesh__V1__Event **events, size_t n, int history)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch batch = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;

	batch.n_events = n;
	batch.events = events;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &batch;
	return send_frame(s, peer, &f, history && peer != NULL);
}

static void
commit_received(struct sync *s)
{
	s->commit_armed = 0;
	if (store_batch_end(s->store) != 0)
		log_event(LOG_WARN, "cannot log received events", "{s:s}",
		    "error", store_error(s->store));
}

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit_received(arg);
}

void
sync_link_up(const char *peer, const Agentflow__Mesh__V1__Hello *h, void *arg)
{
	struct sync *s = arg;
	struct origin *o = sync_origin_get(s, peer);
	struct origin **list;
	size_t n;

	sync_incarnation_check(s, peer, h);
	if (h->info != NULL && h->info->key != NULL)
		sync_vouch_learn(s, peer, peer, h->info->key);
	/* What the peer says about itself is its NodeInfo. */
	if (h->info != NULL && o != NULL) {
		sync_origin_set_info(s, o, h->info);
		o->left = 0;
		sync_origin_set_present(s, o);
	}
	sync_catchup_jobs(s, peer);
	list = xcalloc(hmap_count(s->origins) + 1, sizeof(*list));
	/* A peer that pulls asks for what it lacks (sync_pull.c); one that
	 * does not (an older version) is sent it. */
	n = sync_pulls(s, peer) ? 0 : sync_catchup_behind(s, h->cursors,
	    h->n_cursors, NULL, 0, list);
	/* Even with nothing behind: it replaces a catch-up the peer's last
	 * link left pending (its cursors are stale now). */
	sync_catchup_send(s, peer, list, n, h->cursors, h->n_cursors, 0);
	free(list);
	if (sync_pulls(s, peer))
		sync_pull(s, peer, h->cursors, h->n_cursors);
}

static int
newer(const struct origin *o, uint64_t inc, uint64_t seq)
{
	return inc > o->incarnation || (inc == o->incarnation && seq > o->seq);
}

static void
apply_snapshot(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Snapshot *snap)
{
	s->snapshots_received++;
	for (size_t i = 0; i < snap->n_origins; i++) {
		const Agentflow__Mesh__V1__OriginState *st = snap->origins[i];
		const Agentflow__Mesh__V1__Cursor *c = st->cursor;
		struct sync_vouched v;
		struct origin *o;

		if (c == NULL || strcmp(c->origin, s->self_id) == 0 ||
		    sync_forgotten(s, c->origin, c->incarnation))
			continue;
		/* Only what the origin vouches for (sync_vouch.c). */
		sync_vouch_state(s, peer, st, &v);
		if (!v.cursor && v.info == NULL)
			continue;
		o = sync_origin_get(s, c->origin);
		if (o == NULL)
			continue;
		/* Its jobs, news or not: what it says at link-up of jobs of
		 * its earlier lives rides a snapshot at cursor 0. */
		if (v.work)
			sync_work_merge(s, o->id, st);
		if (!v.cursor || !newer(o, c->incarnation, c->seq)) {
			/* Not news, but it may know what we do not (info_heal). */
			if (o->info == NULL && v.info != NULL &&
			    (c->incarnation == o->incarnation || o->incarnation == 0))
				sync_origin_set_info(s, o, v.info);
			continue;
		}
		/*
		 * Another peer's word on a life we follow: the events we
		 * skip stay wanted (sync_vouch.c), and the one at the cursor,
		 * which vouches for it, is ours from now on.
		 */
		if (!v.work && c->incarnation == o->incarnation &&
		    o->incarnation != 0) {
			if (v.at != NULL)
				sync_log_event_row(s, v.at, NULL, 0, 0);
			sync_vouch_hole_open(s, o, o->seq + 1,
			    v.at != NULL ? c->seq - 1 : c->seq);
		}
		o->incarnation = c->incarnation;
		o->seq = c->seq;
		if (v.info != NULL)
			sync_origin_set_info(s, o, v.info);
		if (v.status != NULL)
			sync_origin_set_status(s, o, v.status, v.status_ms,
			    v.status_seq, v.status_sig);
		if (v.work)
			o->left = st->left;
		sync_origin_set_present(s, o);
		o->updated_ms = clock_wall_ms();
		o->requested_ms = 0;
		o->dirty = 1;
		/* Work the events before the cursor carried (we missed them). */
		for (size_t k = 0; v.work && k < st->n_tasks; k++)
			index_json(s, o->id, work_json_task(o->id, st->tasks[k]),
			    AGENTFLOW__MESH__V1__EVENT__KIND_TASK, st->tasks[k],
			    work_task_time(st->tasks[k]));
		for (size_t k = 0; v.work && k < st->n_alerts; k++)
			index_json(s, o->id, work_json_alert(o->id, st->alerts[k]),
			    AGENTFLOW__MESH__V1__EVENT__KIND_ALERT, st->alerts[k],
			    st->alerts[k]->acked_ms > st->alerts[k]->fired_ms ?
			    st->alerts[k]->acked_ms : st->alerts[k]->fired_ms);
		log_event(LOG_DEBUG, "snapshot applied", "{s:s, s:s, s:I, s:I}",
		    "origin", o->id, "from", peer, "incarnation",
		    (json_int_t)o->incarnation, "seq", (json_int_t)o->seq);
		sync_ask_hole(s, peer, o);
	}
}

static void
answer_request(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__SnapshotRequest *r)
{
	/* No origin named, cursors given: an anti-entropy ask
	 * (sync_entropy.c), for what the requester lacks only.  Not while
	 * its catch-up goes on: the ask's cursors are behind what is on its
	 * way, and a second replay of a new node's whole history from them
	 * was most of what a forming 100-node mesh did; the next ask, once
	 * that ended, finds what is still missing. */
	int lacks = r->n_origins == 0 && r->n_cursors > 0;
	/* Only what the requester lacks, unless it asks for snapshots too
	 * (request_id): a pull (sync_pull.c) or a gap's ask that crossed
	 * events on their way is answered with nothing, not a snapshot. */
	int only_behind = lacks || r->request_id == 0;
	struct origin **list;
	size_t n;

	if (lacks && sync_pulls(s, peer)) {
		sync_pull_offer(s, peer, r->cursors, r->n_cursors);
		return;
	}
	if (lacks && sync_catchup_busy(s, peer)) {
		s->entropy_busy++;
		return;
	}
	list = xcalloc(hmap_count(s->origins) + 1, sizeof(*list));
	n = sync_catchup_behind(s, only_behind ? r->cursors : NULL,
	    only_behind ? r->n_cursors : 0, (const char *const *)r->origins,
	    r->n_origins, list);

	/* Never its own life: one above its own that we hold (a restored
	 * backup's) is its Hello's business (sync_incarnation.c), and its
	 * own events replayed to it are dropped as echoes. */
	for (size_t i = 0; lacks && i < n; i++)
		if (strcmp(list[i]->id, peer) == 0)
			list[i--] = list[--n];

	sync_catchup_send(s, peer, list, n, r->cursors, r->n_cursors,
	    r->request_id);
	free(list);
}

/* --- receiving events -------------------------------------------------------- */

/* The event's way from its origin to here, for the delay histogram. */
static void
observe_delay(struct sync *s, const Agentflow__Mesh__V1__Event *e)
{
	uint64_t now = clock_wall_ms();

	prom_hist_observe(&s->delay, now > e->time_ms ?
	    (double)(now - e->time_ms) / 1000.0 : 0.0);
}

/*
 * sync_priv.h.  Whether e, of the life we hold at seq (something of it: a
 * life's first event is never left out), is a status that its origin says
 * follows only statuses since then (NodeStatus.statuses_from): those are
 * superseded by it, so it is taken though we lack them.  Only its origin
 * can say so: a status is checked against its origin's key, or came on
 * that origin's own link.  A statuses_from past e's own seq (a liar's,
 * passed on by older relays that do not read it) says nothing here: it
 * cannot be at most seq + 1 < e->seq.
 */
int
sync_statuses_between(const Agentflow__Mesh__V1__Event *e, uint64_t seq)
{
	return e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS &&
	    sync_statuses_since(e->status->statuses_from, seq);
}

int
sync_statuses_since(uint64_t statuses_from, uint64_t seq)
{
	return seq > 0 && statuses_from != 0 && statuses_from <= seq + 1;
}

/*
 * Applies one event; returns 1 if it was new (and so may be forwarded),
 * *unchecked set when it was taken on its origin's link's word, its
 * signature not checked yet (sync_vouch_event).
 */
int
sync_apply_event(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Event *e, int *unchecked)
{
	struct origin *o;

	*unchecked = 0;
	if (strcmp(e->origin, s->self_id) == 0)
		return 0;		/* our own, echoed */
	if (sync_forgotten(s, e->origin, e->incarnation))
		return 0;		/* of a life we forgot */
	switch (sync_vouch_event(s, peer, e, unchecked)) {
	case ORIGIN_KEYS_VALID:
		break;
	case ORIGIN_KEYS_UNKNOWN:
		/* Its key comes with its NodeInfo: ask for it. */
		sync_ask_key(s, peer, e->origin);
		return 0;
	default:
		return 0;
	}
	if ((o = sync_origin_get(s, e->origin)) == NULL) {
		log_event(LOG_WARN, "too many origins; event dropped", "{s:s, s:s}",
		    "origin", e->origin, "from", peer);
		return 0;
	}
	if (e->incarnation < o->incarnation) {
		s->duplicates++;
		return 0;
	}
	if (e->incarnation > o->incarnation && e->seq != 1) {
		s->gaps++;
		sync_ask_snapshot(s, peer, o);
		return 0;
	}
	if (e->incarnation == o->incarnation && e->seq <= o->seq) {
		/* One we skipped on another's snapshot: logged and indexed,
		 * though it moves nothing (its state is older than ours). */
		if (sync_vouch_hole_fill(s, o, e)) {
			sync_log_event_row(s, e, NULL, 0, *unchecked);
			sync_work_apply(s, o->id, e);
			s->events_in++;
			o->dirty = 1;
			return 0;
		}
		s->duplicates++;
		return 0;
	}
	if (e->incarnation == o->incarnation && e->seq > o->seq + 1 &&
	    sync_statuses_between(e, o->seq)) {
		s->statuses_past++;	/* superseded: a catch-up left them out */
	} else if (e->incarnation == o->incarnation && e->seq > o->seq + 1) {
		/* Most likely the one before is on its way by another path
		 * (sync_early.c): held a moment, not asked for at once. */
		if (sync_early_hold(s, o, peer, e))
			return 0;
		s->gaps++;
		/*
		 * o's history is arriving in order (a catch-up: its frames go
		 * behind live ones, so a live event overtakes them): what this
		 * skipped comes with it.  Asking now would make the sender
		 * replay again from our cursor what it has queued already.
		 */
		if (o->inorder_ms != 0 && clock_mono_ms() - o->inorder_ms <
		    GAP_QUIET_MS)
			return 0;
		log_event(LOG_INFO, "gap in events; asking for a snapshot",
		    "{s:s, s:I, s:I, s:s}", "origin", o->id, "have",
		    (json_int_t)o->seq, "got", (json_int_t)e->seq, "from", peer);
		sync_ask_snapshot(s, peer, o);
		return 0;
	}
	if (e->incarnation != o->incarnation) {
		o->left = 0;	/* a new life */
		o->incarnation = e->incarnation;
		sync_origin_set_present(s, o);
	}
	o->seq = e->seq;
	o->updated_ms = clock_wall_ms();
	o->dirty = 1;
	o->requested_ms = 0;	/* in order again: a new gap may ask at once */
	o->inorder_ms = clock_mono_ms();
	s->events_in++;
	observe_delay(s, e);
	if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS) {
		sync_origin_set_status(s, o, e->status, e->time_ms, e->seq,
		    &e->signature);
		sync_log_event_row(s, e, o->status, o->status_len, *unchecked);
	} else
		sync_log_event_row(s, e, NULL, 0, *unchecked);
	sync_work_apply(s, o->id, e);
	sync_ask_info(s, peer, o);
	sync_ask_hole(s, peer, o);
	return 1;
}

void
sync_frame(const char *peer, const Agentflow__Mesh__V1__Frame *f, void *arg)
{
	struct sync *s = arg;
	Agentflow__Mesh__V1__Event **fresh;
	int8_t *unchecked;
	size_t nfresh = 0;
	int taken;

	switch (f->body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS:
		fresh = xcalloc(f->events->n_events + 1, sizeof(*fresh));
		unchecked = xcalloc(f->events->n_events + 1, sizeof(*unchecked));
		/*
		 * One commit for every batch that arrived in this turn of the
		 * loop (the transport hands over all completions at once):
		 * commit_ev runs after them.  Whoever ends a batch first
		 * commits these rows too; a crash before then loses rows that
		 * our cursors (persisted in the same transaction) do not
		 * claim, so peers send them again.
		 */
		store_batch_begin(s->store);
		if (!s->commit_armed) {
			s->commit_armed = 1;
			event_active(s->commit_ev, EV_TIMEOUT, 0);
		}
		s->vouch_dropped = 0;
		for (size_t i = 0; i < f->events->n_events &&
		    !s->vouch_dropped; i++)
			if (sync_apply_event(s, peer, f->events->events[i], &taken)) {
				unchecked[nfresh] = (int8_t)taken;
				fresh[nfresh++] = f->events->events[i];
				sync_forward_held(s, peer,
				    f->events->events[i]->origin, fresh, unchecked,
				    &nfresh);
			}
		sync_forward(s, peer, fresh, unchecked, nfresh);
		free(unchecked);
		free(fresh);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT:
		apply_snapshot(s, peer, f->snapshot);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST:
		answer_request(s, peer, f->snapshot_request);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_OFFER:
		if (sync_pulls(s, peer))
			sync_pull_offered(s, peer, f->offer);
		break;
	default:
		log_event(LOG_DEBUG, "frame not handled yet", "{s:s, s:s}", "peer",
		    peer, "frame", frame_codec_body_name(f));
		break;
	}
}

/* --- the state we hold of others, from the store ------------------------- */

static int
load_remote(void *arg, const struct store_remote *r)
{
	struct sync *s = arg;
	struct origin *o;

	if (strcmp(r->origin, s->self_id) == 0)
		return 0;
	if ((o = sync_origin_get(s, r->origin)) == NULL)
		return 0;
	o->incarnation = r->incarnation;
	o->seq = r->seq;
	o->updated_ms = (uint64_t)r->updated_ms;
	sync_origin_set_present(s, o);
	if (r->status_len > 0) {
		o->status = xmalloc(r->status_len);
		memcpy(o->status, r->status, r->status_len);
		o->status_len = r->status_len;
		o->status_ms = (uint64_t)r->updated_ms;
		/* A vertex: its links come with its next status. */
		routing_set_links(s->routing, o->id, NULL, 0);
	}
	return 0;
}

struct sync *
sync_new(struct event_base *base, const struct sync_config *cfg)
{
	struct sync *s = xcalloc(1, sizeof(*s));
	struct node_info info;

	s->base = base;
	s->self_id = xstrdup(cfg->self_id);
	s->incarnation = cfg->incarnation;
	s->store = cfg->store;
	s->events_kept = cfg->events_kept ? cfg->events_kept : 100000;
	s->events_bytes = cfg->events_bytes ? cfg->events_bytes :
	    (uint64_t)256 << 20;
	s->origins = hmap_new();
	prom_hist_init(&s->delay, prom_hist_seconds, prom_hist_seconds_n);
	s->routing = routing_new(s->self_id);
	sync_set_links(s, cfg->links);
	s->keys = cfg->keys;
	s->strikes = hmap_new();
	s->entropy = hmap_new();
	s->pending = xcalloc(BATCH_MAX_EVENTS, sizeof(*s->pending));
	s->flush_ev = event_new(base, -1, 0, sync_flush_cb, s);
	s->commit_ev = event_new(base, -1, 0, commit_cb, s);
	s->persist_timer = wall_timer_new(base, PERSIST_PERIOD_MS, 0, sync_persist_cb, s);
	sync_early_init(s);
	s->last_trim_ms = clock_mono_ms();
	/* Ourselves first: the origin bound never leaves us out. */
	s->self = sync_origin_get(s, s->self_id);
	store_remote_load(s->store, load_remote, s);

	s->self->incarnation = s->incarnation;
	s->self->seq = 0;
	sync_origin_set_present(s, s->self);
	/* Our NodeInfo, as snapshots carry it. */
	node_info_init(&info, s->self_id, s->incarnation, cfg->addresses,
	    cfg->labels);
	info.msg.started_ms = clock_wall_ms();
	if (s->keys != NULL)
		info.msg.key = (Agentflow__Mesh__V1__OriginKey *)origin_keys_own(
		    s->keys, s->incarnation);
	sync_origin_set_info(s, s->self, &info.msg);
	node_info_clear(&info);
	s->info_unsent = 1;
	return s;
}

void
sync_set_reborn(struct sync *s, void (*fn)(uint64_t, void *), void *arg)
{
	s->reborn = fn;
	s->reborn_arg = arg;
}

void
sync_set_applied(struct sync *s, void (*fn)(const struct store_event *, void *),
    void *arg)
{
	s->applied = fn;
	s->applied_arg = arg;
}

void
sync_set_token_revoked(struct sync *s, void (*fn)(const char *, const char *,
    void *), void *arg)
{
	s->token_revoked = fn;
	s->token_revoked_arg = arg;
}

/* The live links as routing reads them. */
static uint64_t
live_generation(void *arg)
{
	return links_up_generation(arg);
}

static int
live_is_up(void *arg, const char *peer)
{
	return links_is_up(arg, peer);
}

static void
live_foreach_up(void *arg, void (*fn)(const char *, void *), void *fnarg)
{
	links_foreach_up(arg, fn, fnarg);
}

void
sync_set_links(struct sync *s, struct links *l)
{
	struct routing_live live = { live_generation, live_is_up,
	    live_foreach_up, l };

	s->links = l;
	routing_set_live(s->routing, l != NULL ? &live : NULL);
}

size_t
sync_origins(const struct sync *s)
{
	return hmap_count(s->origins);
}

struct routing *
sync_routing(struct sync *s)
{
	return s->routing;
}

void
sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	sync_flush(s);
	sync_catchup_free(s);
	sync_persist_all(s);
	routing_free(s->routing);
	sync_origin_free_all(s);
	sync_early_free(s);
	hmap_free(s->origins);
	sync_forget_clear(s);
	sync_jobs_free(s);
	sync_workflows_free(s);
	sync_schedules_free(s);
	sync_silences_free(s);
	sync_services_free(s);
	sync_artifacts_free(s);
	sync_vouch_free(s);
	sync_entropy_free(s);
	sync_pull_free(s);
	if (s->commit_armed)
		commit_received(s);
	event_free(s->commit_ev);
	event_free(s->flush_ev);
	wall_timer_free(s->persist_timer);
	free(s->pending);
	free(s->cursor_buf);
	free(s->cursor_ptrs);
	free(s->self_id);
	free(s);
}
