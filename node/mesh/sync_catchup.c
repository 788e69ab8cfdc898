/*
 * Catching a peer up (sync_priv.h): which origins it lacks, then the
 * events it missed replayed from our log where the log still covers them
 * (one incarnation, not too far behind, no trimmed rows), else snapshots
 * of those origins: their cursor, NodeInfo, latest status, recent tasks
 * and open alerts.
 *
 * Our own pending events are flushed first, so neither a replay nor a
 * snapshot's cursor runs ahead of what the peer can receive after it.
 */
#include "sync_opaque.h"
#include "sync_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hmap.h"
#include "store.h"
#include "store_work.h"
#include "work_json.h"
#include "xalloc.h"

/* --- snapshots -------------------------------------------------------------- */

/*
 * An origin's recent tasks and open alerts for its snapshot, read back
 * from the store; the messages point into rows until work_rows_clear.
 */
struct work_rows {
	json_t				 *rows;
	Agentflow__Mesh__V1__TaskUpdate	 *tasks, **tptrs;
	Agentflow__Mesh__V1__Alert	 *alerts, **aptrs;
};

static int
collect_row(void *arg, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	if (j != NULL)
		json_array_append_new(arg, j);
	return 0;
}

static void
work_rows_fill(struct sync *s, const char *origin, struct work_rows *w,
    Agentflow__Mesh__V1__OriginState *st)
{
	static const char *const open_states[] = { "firing", "acknowledged" };
	struct store_task_query q = { origin, NULL, NULL, SNAPSHOT_TASKS };
	json_t *tasks = json_array(), *alerts = json_array(), *j;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->rows = json_pack("[o, o]", tasks, alerts);
	store_tasks_query(s->store, &q, collect_row, tasks);
	for (i = 0; i < 2; i++)
		store_alerts_query(s->store, origin, open_states[i],
		    SNAPSHOT_ALERTS / 2, collect_row, alerts);
	w->tasks = xcalloc(json_array_size(tasks) + 1, sizeof(*w->tasks));
	w->tptrs = xcalloc(json_array_size(tasks) + 1, sizeof(*w->tptrs));
	json_array_foreach(tasks, i, j) {
		work_json_to_task(j, &w->tasks[i]);
		w->tptrs[i] = &w->tasks[i];
	}
	w->alerts = xcalloc(json_array_size(alerts) + 1, sizeof(*w->alerts));
	w->aptrs = xcalloc(json_array_size(alerts) + 1, sizeof(*w->aptrs));
	json_array_foreach(alerts, i, j) {
		work_json_to_alert(j, &w->alerts[i]);
		w->aptrs[i] = &w->alerts[i];
	}
	st->n_tasks = json_array_size(tasks);
	st->tasks = w->tptrs;
	st->n_alerts = json_array_size(alerts);
	st->alerts = w->aptrs;
}

static void
work_rows_clear(struct work_rows *w)
{
	json_decref(w->rows);
	free(w->tasks);
	free(w->tptrs);
	free(w->alerts);
	free(w->aptrs);
}

/* Fills st (whose cursor, info and status the caller frees) from o. */
static void
origin_state(const struct origin *o, Agentflow__Mesh__V1__OriginState *st,
    Agentflow__Mesh__V1__Cursor *cur)
{
	agentflow__mesh__v1__origin_state__init(st);
	agentflow__mesh__v1__cursor__init(cur);
	cur->origin = (char *)o->id;
	cur->incarnation = o->incarnation;
	cur->seq = o->seq;
	st->cursor = cur;
	st->info = o->info ? agentflow__mesh__v1__node_info__unpack(NULL,
	    o->info_len, o->info) : NULL;
	st->status = o->status ? agentflow__mesh__v1__node_status__unpack(NULL,
	    o->status_len, o->status) : NULL;
	st->status_ms = o->status_ms;
	st->left = o->left;
}

static void
origin_state_clear(Agentflow__Mesh__V1__OriginState *st)
{
	if (st->info != NULL)
		agentflow__mesh__v1__node_info__free_unpacked(st->info, NULL);
	if (st->status != NULL)
		agentflow__mesh__v1__node_status__free_unpacked(st->status, NULL);
}

/* Sends snapshots of origins (NULL-terminated ids... as an array) to peer. */
static void
send_snapshot(struct sync *s, const char *peer, struct origin **list, size_t n,
    uint64_t request_id)
{
	Agentflow__Mesh__V1__OriginState states[SNAPSHOT_CHUNK], *ptrs[SNAPSHOT_CHUNK];
	Agentflow__Mesh__V1__Cursor curs[SNAPSHOT_CHUNK];
	struct work_rows rows[SNAPSHOT_CHUNK];
	size_t i = 0;

	/* Our own events still pending go first, so the snapshot's cursor
	 * never runs ahead of what the peer can receive after it. */
	sync_flush(s);
	do {
		Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
		Agentflow__Mesh__V1__Snapshot snap = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
		size_t k = 0;
		for (; k < SNAPSHOT_CHUNK && i < n; k++, i++) {
			origin_state(list[i], &states[k], &curs[k]);
			work_rows_fill(s, list[i]->id, &rows[k], &states[k]);
			ptrs[k] = &states[k];
		}
		snap.n_origins = k;
		snap.origins = ptrs;
		snap.request_id = request_id;
		snap.last = i >= n;
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
		f.snapshot = &snap;
		sync_send_frame(s, peer, &f);
		for (size_t j = 0; j < k; j++) {
			origin_state_clear(&states[j]);
			work_rows_clear(&rows[j]);
		}
	} while (i < n);
	s->snapshots_sent++;
}

struct behind {
	struct sync			*s;
	const Agentflow__Mesh__V1__Hello *hello;	/* NULL: every origin */
	const char *const		*want;		/* requested ids, or NULL */
	size_t				 nwant;
	struct origin			**list;
	size_t				 n;
};

/* Collects the origins the peer lacks (or asked for). */
static int
collect_behind(const char *id, void *value, void *arg)
{
	struct behind *b = arg;
	struct origin *o = value;
	size_t i;

	if (o->incarnation == 0)
		return 0;		/* nothing known of it yet */
	if (b->want != NULL && b->nwant > 0) {
		for (i = 0; i < b->nwant; i++)
			if (strcmp(b->want[i], id) == 0)
				break;
		if (i == b->nwant)
			return 0;
	}
	if (b->hello != NULL) {
		for (i = 0; i < b->hello->n_cursors; i++) {
			const Agentflow__Mesh__V1__Cursor *c = b->hello->cursors[i];
			if (strcmp(c->origin, id) != 0)
				continue;
			if (c->incarnation > o->incarnation ||
			    (c->incarnation == o->incarnation && c->seq >= o->seq))
				return 0;	/* it is not behind */
			break;
		}
	}
	b->list[b->n++] = o;
	return 0;
}

size_t
sync_catchup_behind(struct sync *s, const Agentflow__Mesh__V1__Hello *hello,
    const char *const *want, size_t nwant, struct origin **list)
{
	struct behind b = { s, hello, want, nwant, list, 0 };

	hmap_sweep(s->origins, collect_behind, &b);
	return b.n;
}

/* --- catching a peer up: replayed events, else snapshots ---------------------- */

struct replay {
	struct sync			 *s;
	const char			 *peer;
	uint64_t			  next;		/* seq expected next */
	Agentflow__Mesh__V1__Event	**batch;
	size_t				  n;
	size_t				  bytes;
	int				  broken;
};

/* An event of the log as the Event it was (hops reset: it starts anew). */
static Agentflow__Mesh__V1__Event *
event_from_row(const struct store_event *row)
{
	Agentflow__Mesh__V1__Event *e = xcalloc(1, sizeof(*e));
	const uint8_t *b = row->body;
	size_t len = row->body_len;

	agentflow__mesh__v1__event__init(e);
	switch (row->kind) {
	case AGENTFLOW__MESH__V1__EVENT__KIND_STATUS:
		e->status = agentflow__mesh__v1__node_status__unpack(NULL, len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TASK:
		e->task = agentflow__mesh__v1__task_update__unpack(NULL, len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_LOG:
		e->log = agentflow__mesh__v1__task_log__unpack(NULL, len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ALERT:
		e->alert = agentflow__mesh__v1__alert__unpack(NULL, len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_USER:
		e->user = agentflow__mesh__v1__user_event__unpack(NULL, len, b);
		break;
	default:	/* a newer kind, kept opaque (sync_opaque.h) */
		if (sync_opaque_event(e, row->kind, b, len) != 0) {
			free(e);
			return NULL;
		}
		break;
	}
	/* The oneof's members share one pointer: any of them tells. */
	if (e->status == NULL && e->base.n_unknown_fields == 0) {
		free(e);
		return NULL;
	}
	if (e->base.n_unknown_fields == 0)
		e->kind_case = (Agentflow__Mesh__V1__Event__KindCase)row->kind;
	e->origin = xstrdup(row->origin);
	e->incarnation = row->incarnation;
	e->seq = row->seq;
	e->time_ms = (uint64_t)row->time_ms;
	e->hop_limit = HOP_LIMIT;
	return e;
}

static void
replay_send(struct replay *r)
{
	if (r->n == 0)
		return;
	if (sync_send_events(r->s, r->peer, r->batch, r->n) != 0)
		r->broken = 1;
	r->s->replayed += r->n;
	for (size_t i = 0; i < r->n; i++)
		agentflow__mesh__v1__event__free_unpacked(r->batch[i], NULL);
	r->n = 0;
	r->bytes = 0;
}

static int
replay_row(void *arg, const struct store_event *row)
{
	struct replay *r = arg;
	Agentflow__Mesh__V1__Event *e;

	if (row->seq != r->next || (e = event_from_row(row)) == NULL) {
		r->broken = 1;		/* a hole in our own log */
		return 1;
	}
	r->batch[r->n++] = e;
	r->bytes += row->body_len + 64;
	r->next++;
	if (r->n >= BATCH_MAX_EVENTS || r->bytes >= BATCH_MAX_BYTES)
		replay_send(r);
	return r->broken;
}

/*
 * Sends peer, which holds origin o up to cursor c, the events after it
 * from our log.  1 when that caught it up; 0 when the log cannot (another
 * incarnation, too far behind, or rows trimmed): a snapshot must then.
 */
static int
replay(struct sync *s, const char *peer, const struct origin *o,
    const Agentflow__Mesh__V1__Cursor *c)
{
	struct replay r = { s, peer, c->seq + 1, NULL, 0, 0, 0 };

	if (c->incarnation != o->incarnation || c->seq >= o->seq ||
	    o->seq - c->seq > REPLAY_MAX)
		return 0;
	r.batch = xcalloc(BATCH_MAX_EVENTS, sizeof(*r.batch));
	if (store_events_after(s->store, o->id, o->incarnation, c->seq,
	    (unsigned)(o->seq - c->seq), replay_row, &r) < 0)
		r.broken = 1;
	if (!r.broken)
		replay_send(&r);
	for (size_t i = 0; i < r.n; i++)
		agentflow__mesh__v1__event__free_unpacked(r.batch[i], NULL);
	free(r.batch);
	return !r.broken && r.next == o->seq + 1;
}

void
sync_catchup_send(struct sync *s, const char *peer, struct origin **list, size_t n,
    Agentflow__Mesh__V1__Cursor **cursors, size_t ncursors, uint64_t request_id)
{
	struct origin **snap = xcalloc(n + 1, sizeof(*snap));
	size_t nsnap = 0;

	sync_flush(s);	/* our own pending events are in the log first */
	for (size_t i = 0; i < n; i++) {
		const Agentflow__Mesh__V1__Cursor *c = NULL;
		for (size_t j = 0; j < ncursors && c == NULL; j++)
			if (strcmp(cursors[j]->origin, list[i]->id) == 0)
				c = cursors[j];
		if (c == NULL || !replay(s, peer, list[i], c))
			snap[nsnap++] = list[i];
	}
	if (nsnap > 0 || request_id != 0)
		send_snapshot(s, peer, snap, nsnap, request_id);
	free(snap);
}
