/*
 * Catching a peer up (sync_priv.h): which origins it lacks, then the
 * events it missed replayed from our log, from its cursor or, when it
 * holds nothing of the origin's current life, from seq 1: every event our
 * log still keeps (--events-kept), whoever sent it to us.  What the log no
 * longer has (trimmed rows, a hole where we healed by snapshot, more than
 * one catch-up may queue on the link) goes as a snapshot of the origin:
 * its cursor, NodeInfo, latest status, recent tasks and open alerts; a
 * snapshot whose cursor sits just before the events kept, when they
 * follow it.  Towards a peer that speaks "sparse_statuses", a status a
 * later one supersedes is left out (NodeStatus.statuses_from).
 *
 * Our own pending events are flushed first, so neither a replay nor a
 * snapshot's cursor runs ahead of what the peer can receive after it.
 *
 * A long catch-up goes in turns paced by the link (see "Pacing" below):
 * each queues a bounded amount of history, the next waits until the link
 * has sent it (drained()), so history never fills the link's queue and a
 * node that missed a lot rejoins at link speed without a reset.
 *
 * Invariant: a catch-up's later turns (a rest, at most one per peer) go
 * only to the link they began on (links_link_generation); a link that
 * went down drops its rest, and a new link starts from its own Hello.
 */
#include "sync.h"
#include "sync_opaque.h"
#include "sync_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "hmap.h"
#include "links.h"
#include "mesh_features.h"
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

static Agentflow__Mesh__V1__Event *event_from_row(const struct store_event *);

/* How the checks of one walk of the log went, marked in the log after
 * the walk (store_event_mark: not inside it). */
#define MARKS_MAX	256	/* a walk's rows: READ_ROWS at most */
struct marks {
	uint64_t	seq[MARKS_MAX];
	int		unchecked[MARKS_MAX];
	size_t		n;
	int		no_key;		/* a row's key is not known now */
};

/*
 * A row of the log as the Event we hand on: NULL when it cannot be
 * rebuilt, or when it was taken unchecked from its origin and its
 * signature does not hold now (sync_vouch_recheck, once: the mark in the
 * log keeps the verdict): its next hop would strike us for it.
 */
static Agentflow__Mesh__V1__Event *
event_handed_on(struct sync *s, const struct store_event *row,
    struct marks *m)
{
	Agentflow__Mesh__V1__Event *e;
	enum origin_keys_verdict v;
	int mark;

	if (row->unchecked == STORE_EVENT_FORGED)
		return NULL;
	if ((e = event_from_row(row)) == NULL || !row->unchecked)
		return e;
	v = sync_vouch_recheck(s, NULL, e);
	if ((mark = sync_vouch_mark(v)) >= 0 && m->n < MARKS_MAX) {
		m->seq[m->n] = row->seq;
		m->unchecked[m->n++] = mark;
	}
	if (v == ORIGIN_KEYS_UNKNOWN)
		m->no_key = 1;
	if (v == ORIGIN_KEYS_VALID)
		return e;
	agentflow__mesh__v1__event__free_unpacked(e, NULL);
	return NULL;
}

/* Marks what one walk of o's log checked; asks peer (not NULL) for o's
 * key when a row's was not known. */
static void
marks_apply(struct sync *s, const struct origin *o, struct marks *m,
    const char *peer)
{
	for (size_t i = 0; i < m->n; i++)
		(void)store_event_mark(s->store, o->id, o->incarnation,
		    m->seq[i], m->unchecked[i]);
	if (m->no_key && peer != NULL)
		sync_ask_key(s, peer, o->id);
	m->n = 0;
	m->no_key = 0;
}

/* Keeps the first row as a proof event (sync_vouch.c). */
struct proof_pick {
	struct sync			*s;
	struct marks			*marks;
	Agentflow__Mesh__V1__Event	*e;
	uint64_t			 incarnation;
	uint64_t			 max_seq;	/* 0: any */
};

static int
proof_row(void *arg, const struct store_event *row)
{
	struct proof_pick *p = arg;

	if (p->e != NULL || row->sig_len == 0 ||
	    row->incarnation != p->incarnation ||
	    (p->max_seq != 0 && row->seq > p->max_seq))
		return 0;
	p->e = event_handed_on(p->s, row, p->marks);
	return p->e != NULL;
}

/*
 * The proof of another origin's state at (o's life, seq), from our log:
 * the first of its signed events at or after seq (its cursor cannot run
 * past what the origin emitted), and its newest status up to seq.
 */
static void
origin_proof(struct sync *s, const struct origin *o, uint64_t seq,
    Agentflow__Mesh__V1__OriginState *st)
{
	struct marks m = { .n = 0 };
	struct proof_pick head = { s, &m, NULL, o->incarnation, 0 };
	struct proof_pick status = { s, &m, NULL, o->incarnation, seq };
	struct store_event_query q = { 0 };

	st->proof = xcalloc(FRAME_CODEC_MAX_PROOF, sizeof(*st->proof));
	store_events_after(s->store, o->id, o->incarnation, seq > 0 ? seq - 1 : 0,
	    1, proof_row, &head);
	marks_apply(s, o, &m, NULL);
	q.origin = o->id;
	q.kind = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	q.limit = 1;
	q.newest = 1;
	/* The status we show, as its origin signed it; else the log's. */
	if (o->status != NULL && o->status_sig_len > 0 && o->status_seq <= seq &&
	    o->status_seq > 0) {
		Agentflow__Mesh__V1__Event *e = xcalloc(1, sizeof(*e));
		agentflow__mesh__v1__event__init(e);
		e->status = agentflow__mesh__v1__node_status__unpack(NULL,
		    o->status_len, o->status);
		if (e->status == NULL)
			free(e);
		else {
			e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
			e->origin = xstrdup(o->id);
			e->incarnation = o->incarnation;
			e->seq = o->status_seq;
			e->time_ms = o->status_ms;
			e->hop_limit = HOP_LIMIT;
			e->signature.data = xmalloc(o->status_sig_len);
			memcpy(e->signature.data, o->status_sig, o->status_sig_len);
			e->signature.len = o->status_sig_len;
			status.e = e;
		}
	}
	if (status.e == NULL)
		store_events_query(s->store, &q, proof_row, &status);
	marks_apply(s, o, &m, NULL);
	if (head.e != NULL)
		st->proof[st->n_proof++] = head.e;
	if (status.e != NULL && (head.e == NULL || status.e->seq != head.e->seq))
		st->proof[st->n_proof++] = status.e;
	else if (status.e != NULL)
		agentflow__mesh__v1__event__free_unpacked(status.e, NULL);
}

/*
 * Fills st (whose cursor, info, status and proof the caller frees) from o,
 * its cursor at seq: o's own, or an older one when the events after it
 * follow the snapshot as a replay.  Another origin's state carries the
 * proof its receiver needs.
 */
static void
origin_state(struct sync *s, const struct origin *o, uint64_t seq,
    Agentflow__Mesh__V1__OriginState *st, Agentflow__Mesh__V1__Cursor *cur)
{
	agentflow__mesh__v1__origin_state__init(st);
	agentflow__mesh__v1__cursor__init(cur);
	cur->origin = (char *)o->id;
	cur->incarnation = o->incarnation;
	cur->seq = seq;
	st->cursor = cur;
	st->info = o->info ? agentflow__mesh__v1__node_info__unpack(NULL,
	    o->info_len, o->info) : NULL;
	st->status = o->status ? agentflow__mesh__v1__node_status__unpack(NULL,
	    o->status_len, o->status) : NULL;
	st->status_ms = o->status_ms;
	st->left = o->left;
	if (o != s->self)
		origin_proof(s, o, seq, st);
}

static void
origin_state_clear(Agentflow__Mesh__V1__OriginState *st)
{
	if (st->info != NULL)
		agentflow__mesh__v1__node_info__free_unpacked(st->info, NULL);
	if (st->status != NULL)
		agentflow__mesh__v1__node_status__free_unpacked(st->status, NULL);
	for (size_t i = 0; i < st->n_proof; i++)
		agentflow__mesh__v1__event__free_unpacked(st->proof[i], NULL);
	free(st->proof);
	free(st->jobs);
	free(st->workflows);
	free(st->schedules);
	free(st->silences);
	free(st->services);
	free(st->artifacts);
}

/* An origin to snapshot, and the seq its cursor gives. */
struct snap_item {
	struct origin	*o;
	uint64_t	 seq;
};

/* Sends snapshots of the origins list[0..n) to peer. */
static void
send_snapshot(struct sync *s, const char *peer, const struct snap_item *list,
    size_t n, uint64_t request_id)
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
			/* Our own state, with our jobs, workflows,
			 * schedules and services, goes in a frame of its
			 * own: together with others' it could pass the
			 * frame's bound (docs/architecture.md, "Budgets"). */
			if (list[i].o == s->self && k > 0)
				break;
			origin_state(s, list[i].o, list[i].seq, &states[k], &curs[k]);
			work_rows_fill(s, list[i].o->id, &rows[k], &states[k]);
			/* Jobs only go from their issuer: a receiver takes
			 * no others' (sync_vouch.c). */
			if (list[i].o == s->self) {
				sync_jobs_fill(s, s->self_id, &states[k]);
				sync_workflows_fill(s, s->self_id, &states[k]);
				sync_schedules_fill(s, &states[k]);
				sync_silences_fill(s, &states[k]);
				sync_services_fill(s, &states[k]);
				sync_artifacts_fill(s, &states[k]);
				ptrs[k] = &states[k];
				k++, i++;
				break;
			}
			ptrs[k] = &states[k];
		}
		snap.n_origins = k;
		snap.origins = ptrs;
		snap.request_id = request_id;
		snap.last = i >= n;
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
		f.snapshot = &snap;
		sync_send_history(s, peer, &f);
		for (size_t j = 0; j < k; j++) {
			origin_state_clear(&states[j]);
			work_rows_clear(&rows[j]);
		}
	} while (i < n);
	s->snapshots_sent++;
}

struct behind {
	struct sync			*s;
	Agentflow__Mesh__V1__Cursor *const *cursors;	/* the peer's; NULL: */
	size_t				 ncursors;	/* every origin */
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
	if (b->cursors != NULL) {
		for (i = 0; i < b->ncursors; i++) {
			const Agentflow__Mesh__V1__Cursor *c = b->cursors[i];
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
sync_catchup_behind(struct sync *s,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors,
    const char *const *want, size_t nwant, struct origin **list)
{
	struct behind b = { s, cursors, ncursors, want, nwant, list, 0 };

	hmap_sweep(s->origins, collect_behind, &b);
	return b.n;
}

/* --- catching a peer up: replayed events, snapshots where the log lacks them --- */

/*
 * Pacing.  One turn of a catch-up queues at most TURN_BYTES of history on
 * the link (replayed events, their bodies and a little framing each, and
 * HOLE_COST per snapshot), a quarter of the link's 8 MiB queue, and a turn
 * starts only while the link holds at most TURN_START_BYTES: history never
 * takes more than 3 MiB of the queue, so live events always find room and
 * go out behind at most that much.  The next turn waits for the link's
 * drained() (transport.h: the queue fell back to 1 MiB), so a catch-up
 * runs at the link's pace; RESUME_MS is only the fallback when drained()
 * cannot come (a turn that queued less than the mark).  The log is read
 * READ_ROWS rows at a time, never a whole turn's worth at once, and sent
 * in frames of RUN_BYTES at most, all of it queued behind live frames
 * (sync_send_history()): a live event waits for at most one such frame.
 */
#define TURN_BYTES		(2u * 1024 * 1024)
#define TURN_START_BYTES	(1u * 1024 * 1024)
#define RESUME_MS		250
#define READ_ROWS		256
_Static_assert(READ_ROWS <= MARKS_MAX, "a walk's marks fit");
#define RUN_BYTES		(256u * 1024)	/* one EventBatch of history */
#define ROW_OVERHEAD		64
#define HOLE_COST		(16u * 1024)
#define SPARSE			"sparse_statuses"	/* mesh_features.h */

/*
 * One read of the log: a run of events that follow on, oldest first.
 * Towards a peer that takes a status past the statuses it lacks
 * (feature "sparse_statuses"), a status that a later one supersedes
 * (NodeStatus.statuses_from) is left out: the run then skips seqs.
 */
struct replay {
	struct sync			 *s;
	struct marks			  marks;
	uint64_t			  next;		/* seq the peer expects next */
	uint64_t			  at;		/* the peer's cursor after the run */
	int				  opened;	/* the run opens after a hole */
	Agentflow__Mesh__V1__Event	**batch;	/* the run, READ_ROWS at most */
	size_t				  n;
	size_t				  bytes;	/* charged for the run */
	size_t				  budget;	/* left of the turn before it */
	int				  full;		/* the next row did not fit */
	int				  broken;	/* a row we cannot rebuild */
	int				  sparse;	/* statuses may be left out */
	/* A status that follows the run, kept back while a later status
	 * may supersede it. */
	Agentflow__Mesh__V1__Event	 *held;
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
	case AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED:
		e->token_revoked = agentflow__mesh__v1__token_revoked__unpack(NULL,
		    len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_JOB:
		e->job = agentflow__mesh__v1__job_update__unpack(NULL, len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE:
		e->schedule = agentflow__mesh__v1__schedule_update__unpack(NULL,
		    len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW:
		e->workflow = agentflow__mesh__v1__workflow_update__unpack(NULL,
		    len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE:
		e->service = agentflow__mesh__v1__service_update__unpack(NULL,
		    len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE:
		e->silence = agentflow__mesh__v1__silence_update__unpack(NULL,
		    len, b);
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT:
		e->artifact = agentflow__mesh__v1__artifact_update__unpack(NULL,
		    len, b);
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
	/* Its origin's signature, in e's own copy (freed with e). */
	if (row->sig_len == FRAME_CODEC_SIGNATURE) {
		e->signature.data = xmalloc(row->sig_len);
		memcpy(e->signature.data, row->sig, row->sig_len);
		e->signature.len = row->sig_len;
	}
	return e;
}

/* Whether peer takes a status past the statuses it lacks. */
static int
sparse_peer(const struct sync *s, const char *peer)
{
	return s->links != NULL && mesh_features_index(SPARSE) >= 0 &&
	    links_peer_speaks(s->links, peer, SPARSE);
}

/* Puts the status kept back at the run's end. */
static void
run_add_held(struct replay *r)
{
	if (r->held == NULL)
		return;
	r->batch[r->n++] = r->held;
	r->at = r->held->seq;
	r->held = NULL;
}

/* Whether e follows what the peer holds at seq: the next one, or a status
 * past statuses only (sync_statuses_between) towards a peer that takes it. */
static int
follows(const struct replay *r, const Agentflow__Mesh__V1__Event *e,
    uint64_t seq)
{
	return e->seq == seq + 1 ||
	    (r->sparse && e->seq > seq && sync_statuses_between(e, seq));
}

/*
 * Takes one row into the run, charged to the turn: stops (1) at a hole
 * (the next read starts there), when the row does not fit the budget,
 * and when the run is a full batch.  A status towards a sparse peer is
 * kept back (r->held) until the next row says whether it is superseded.
 * A row left out stays charged: a turn reads no more of the log than when
 * every row went out.
 */
static int
replay_row(void *arg, const struct store_event *row)
{
	struct replay *r = arg;
	size_t cost = row->body_len + ROW_OVERHEAD;
	int empty = r->n == 0 && r->held == NULL;
	int hole = empty && row->seq != r->at + 1;
	Agentflow__Mesh__V1__Event *e;

	if (!empty && row->seq != (r->held ? r->held->seq : r->at) + 1 &&
	    (!r->sparse || row->kind != AGENTFLOW__MESH__V1__EVENT__KIND_STATUS))
		return 1;	/* a hole: the next read opens there */
	if (r->bytes + cost + (hole ? HOLE_COST : 0) > r->budget) {
		r->full = 1;
		return 1;
	}
	/* The log changed under us, or a row we may not hand on: the
	 * peer gets a snapshot instead. */
	if ((e = event_handed_on(r->s, row, &r->marks)) == NULL) {
		r->broken = 1;
		return 1;
	}
	if (r->held != NULL && follows(r, e, r->at) &&
	    e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS) {
		/* e supersedes the status kept back: that one is left out. */
		agentflow__mesh__v1__event__free_unpacked(r->held, NULL);
		r->held = NULL;
		r->s->statuses_left_out++;
	} else if (r->held != NULL && follows(r, e, r->held->seq)) {
		run_add_held(r);
	} else if (r->held != NULL || (!empty && !follows(r, e, r->at))) {
		agentflow__mesh__v1__event__free_unpacked(e, NULL);
		return 1;	/* a hole: the next read opens there */
	}
	if (hole && !follows(r, e, r->at)) {
		r->opened = 1;	/* a snapshot puts the peer just before it */
		r->at = e->seq - 1;
		r->bytes += HOLE_COST;
	}
	r->bytes += cost;
	if (r->sparse && e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS)
		r->held = e;
	else {
		r->batch[r->n++] = e;
		r->at = e->seq;
	}
	return r->n >= READ_ROWS || r->bytes >= RUN_BYTES;
}

/* What a replay of one origin came to. */
enum replay_end {
	REPLAY_DONE,		/* the peer holds all of it */
	REPLAY_MORE,		/* out of budget: it goes on in a later turn */
	REPLAY_SNAPSHOT		/* the log lacks the newest: snapshot it */
};

/*
 * Catches peer up on origin o from *from (what it holds of o's life): the
 * events our log keeps after it, oldest first as far as *budget goes,
 * read and sent a run at a time, each run that does not follow on opened
 * by a snapshot whose cursor sits just before it, so the peer takes the
 * state now and then every event still kept.  *from becomes what it
 * holds after.  A snapshot's own store reads happen between reads of the
 * log, never inside one.
 */
static enum replay_end
replay(struct sync *s, const char *peer, const struct origin *o, uint64_t *from,
    size_t *budget)
{
	struct replay r;
	int fresh = *budget == TURN_BYTES, first = 1;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.next = *from + 1;
	r.sparse = sparse_peer(s, peer);
	r.batch = xcalloc(READ_ROWS, sizeof(*r.batch));
	while (!r.broken && r.next <= o->seq) {
		uint64_t left = o->seq - r.next + 1, open_at;
		r.n = 0;
		r.bytes = 0;
		r.budget = *budget;
		r.at = r.next - 1;
		r.opened = 0;
		if (store_events_after(s->store, o->id, o->incarnation, r.next - 1,
		    left < READ_ROWS ? (unsigned)left : READ_ROWS, replay_row,
		    &r) < 0)
			r.broken = 1;
		marks_apply(s, o, &r.marks, peer);
		run_add_held(&r);
		if (r.n == 0)
			break;
		open_at = r.batch[0]->seq - 1;
		if (r.opened) {
			struct snap_item at = { (struct origin *)o, open_at };
			send_snapshot(s, peer, &at, 1, 0);
		} else if (first && *from > 0 && o != s->self) {
			/*
			 * Another origin's events replayed from where the
			 * peer is: its state at that cursor goes first, which
			 * moves nothing there but carries the origin's
			 * NodeInfo and key, so a peer that restarted (keys
			 * are not kept) can check the signatures that follow.
			 */
			struct snap_item at = { (struct origin *)o, *from };
			send_snapshot(s, peer, &at, 1, 0);
		}
		first = 0;
		if (sync_send_events(s, peer, r.batch, r.n, 1) != 0)
			r.broken = 1;
		s->replayed += r.n;
		for (size_t i = 0; i < r.n; i++)
			agentflow__mesh__v1__event__free_unpacked(r.batch[i], NULL);
		r.next = r.at + 1;
		*budget -= r.bytes;
		if (r.full)
			break;
	}
	free(r.batch);
	if (r.broken)
		return REPLAY_SNAPSHOT;
	*from = r.next - 1;
	if (*from == o->seq)
		return REPLAY_DONE;
	if (r.full)	/* a row larger than a whole turn: snapshot instead */
		return fresh && *budget == TURN_BYTES ? REPLAY_SNAPSHOT :
		    REPLAY_MORE;
	return REPLAY_SNAPSHOT;
}

/* --- turns of a catch-up too long for one -------------------------------------- */

static const struct timeval resume_later = { 0, RESUME_MS * 1000 };
static const struct timeval resume_now = { 0, 0 };

/* The rest of a catch-up: the peer's cursors for the origins still to do. */
struct catchup_rest {
	struct sync			 *s;
	char				 *peer;
	Agentflow__Mesh__V1__Cursor	 *curs;
	Agentflow__Mesh__V1__Cursor	**ptrs;
	size_t				  n;
	struct event			 *ev;
	struct catchup_rest		 *next;
	uint64_t			  link;	/* links_link_generation when made */
};

uint64_t
sync_link_of(const struct sync *s, const char *peer)
{
	return s->links != NULL ? links_link_generation(s->links, peer) : 0;
}

/* Whether the link to peer has room for a turn of history now. */
static int
turn_room(const struct sync *s, const char *peer)
{
	return s->links == NULL ||
	    links_queued(s->links, peer) <= TURN_START_BYTES;
}

static void
rest_free(struct catchup_rest *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->curs[i].origin);
	free(r->curs);
	free(r->ptrs);
	free(r->peer);
	if (r->ev != NULL)
		event_free(r->ev);
	free(r);
}

static void
rest_add(struct catchup_rest *r, const struct origin *o, uint64_t seq)
{
	Agentflow__Mesh__V1__Cursor *c = &r->curs[r->n];

	agentflow__mesh__v1__cursor__init(c);
	c->origin = xstrdup(o->id);
	c->incarnation = o->incarnation;
	c->seq = seq;
	r->ptrs[r->n++] = c;
}

/* Takes peer's pending rest out of s's list (NULL: none). */
static struct catchup_rest *
rest_take(struct sync *s, const char *peer)
{
	struct catchup_rest **p, *r;

	for (p = &s->catchup_rests; *p != NULL; p = &(*p)->next)
		if (strcmp((*p)->peer, peer) == 0) {
			r = *p;
			*p = r->next;
			return r;
		}
	return NULL;
}

int
sync_catchup_busy(const struct sync *s, const char *peer)
{
	uint64_t link = sync_link_of(s, peer);

	if (!turn_room(s, peer))
		return 1;
	for (const struct catchup_rest *r = s->catchup_rests; r != NULL;
	    r = r->next)
		if (r->link != 0 && r->link == link && strcmp(r->peer, peer) == 0)
			return 1;
	return 0;
}

/*
 * Carries into r the cursors of old, a rest the catch-up of list[0..n)
 * with cursors[0..ncursors) replaces, for the origins that catch-up says
 * nothing of (a request that named others): those go on where old was.
 */
static void
rest_carry(struct catchup_rest *r, const struct catchup_rest *old,
    struct origin *const *list, size_t n,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors)
{
	for (size_t i = 0; i < old->n; i++) {
		const Agentflow__Mesh__V1__Cursor *c = &old->curs[i];
		size_t j = 0, k = 0;
		while (j < n && strcmp(list[j]->id, c->origin) != 0)
			j++;
		while (k < ncursors && strcmp(cursors[k]->origin, c->origin) != 0)
			k++;
		if (j < n || k < ncursors)
			continue;
		agentflow__mesh__v1__cursor__init(&r->curs[r->n]);
		r->curs[r->n].origin = xstrdup(c->origin);
		r->curs[r->n].incarnation = c->incarnation;
		r->curs[r->n].seq = c->seq;
		r->ptrs[r->n] = &r->curs[r->n];
		r->n++;
	}
}

static void
rest_cb(evutil_socket_t fd, short what, void *arg)
{
	struct catchup_rest *r = arg;
	struct sync *s = r->s;

	(void)fd;
	(void)what;
	if (!turn_room(s, r->peer)) {
		/* The last turn is still on its way: drained() wakes us. */
		evtimer_add(r->ev, &resume_later);
		return;
	}
	(void)rest_take(s, r->peer);	/* r: the only one of its peer */
	/* Only to the link it was made for: one that went down drops it,
	 * and a new link's own Hello says where the peer is now. */
	if (r->link != 0 && r->link == sync_link_of(s, r->peer)) {
		struct origin **list = xcalloc(hmap_count(s->origins) + 1,
		    sizeof(*list));
		const char **ids = xcalloc(r->n + 1, sizeof(*ids));
		size_t n;
		for (size_t i = 0; i < r->n; i++)
			ids[i] = r->curs[i].origin;
		n = sync_catchup_behind(s, NULL, 0, ids, r->n, list);
		if (n > 0)
			sync_catchup_send(s, r->peer, list, n, r->ptrs, r->n, 0);
		free(ids);
		free(list);
	}
	rest_free(r);
}

/*
 * The links' drained hook (sync.h): the link to peer sent most of what it
 * held, so peer's rest goes on at the next pass of the loop (not from
 * within the transport's callback, and never freeing the rest there).
 */
void
sync_link_drained(const char *peer, void *arg)
{
	struct sync *s = arg;

	for (struct catchup_rest *r = s->catchup_rests; r != NULL; r = r->next)
		if (strcmp(r->peer, peer) == 0) {
			evtimer_add(r->ev, &resume_now);
			return;
		}
}

void
sync_catchup_free(struct sync *s)
{
	while (s->catchup_rests != NULL) {
		struct catchup_rest *r = s->catchup_rests;
		s->catchup_rests = r->next;
		rest_free(r);
	}
}

void
sync_catchup_jobs(struct sync *s, const char *peer)
{
	struct snap_item at = { s->self, 0 };

	if (sync_jobs_held(s, s->self_id) > 0 ||
	    sync_workflows_held(s, s->self_id) > 0 ||
	    sync_services_held(s, s->self_id) > 0 ||
	    sync_artifacts_held(s, s->self_id) > 0 ||
	    (s->schedules != NULL && hmap_count(s->schedules) > 0) ||
	    sync_silences_held(s) > 0)
		send_snapshot(s, peer, &at, 1, 0);
}

/* What the peer misses of one origin. */
struct lag {
	struct origin	*o;
	uint64_t	 from;		/* the seq of o's life it holds */
	int		 replayable;	/* our log may have what follows */
};

static void
lag_of(struct lag *g, struct origin *o,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors)
{
	const Agentflow__Mesh__V1__Cursor *c = NULL;

	for (size_t j = 0; j < ncursors && c == NULL; j++)
		if (strcmp(cursors[j]->origin, o->id) == 0)
			c = cursors[j];
	g->o = o;
	g->from = 0;
	/* A peer that holds none of this life starts from its seq 0. */
	if (c != NULL && c->incarnation == o->incarnation)
		g->from = c->seq;
	g->replayable = (c == NULL || c->incarnation <= o->incarnation) &&
	    g->from < o->seq;
}

/* Fewest events missing first (a snapshot only: none); then by id, so
 * the order is the same on every turn. */
static int
lag_cmp(const void *a, const void *b)
{
	const struct lag *x = a, *y = b;
	uint64_t nx = x->replayable ? x->o->seq - x->from : 0;
	uint64_t ny = y->replayable ? y->o->seq - y->from : 0;

	if (nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x->o->id, y->o->id);
}

void
sync_catchup_send(struct sync *s, const char *peer, struct origin **list, size_t n,
    Agentflow__Mesh__V1__Cursor **cursors, size_t ncursors, uint64_t request_id)
{
	struct snap_item *snap = xcalloc(n + 1, sizeof(*snap));
	struct catchup_rest *rest = xcalloc(1, sizeof(*rest));
	/* At most one rest per peer: this catch-up replaces the pending one,
	 * so two chains never replay at once (a link flap, a request). */
	struct catchup_rest *old = rest_take(s, peer);
	struct lag *lags = xcalloc(n + 1, sizeof(*lags));
	size_t nsnap = 0, budget, most = n + (old ? old->n : 0);

	rest->curs = xcalloc(most + 1, sizeof(*rest->curs));
	rest->ptrs = xcalloc(most + 1, sizeof(*rest->ptrs));
	sync_flush(s);	/* our own pending events are in the log first */
	for (size_t i = 0; i < n; i++)
		lag_of(&lags[i], list[i], cursors, ncursors);
	/* The origins missing least first: one origin's long history does
	 * not hold back the others' (the sender's own live events among
	 * them), which the peer could not apply until their gaps close. */
	qsort(lags, n, sizeof(*lags), lag_cmp);
	/* A link still busy with the last turn (a request came meanwhile)
	 * takes no history now: all of it waits for drained(). */
	budget = turn_room(s, peer) ? TURN_BYTES : 0;
	for (size_t i = 0; i < n; i++) {
		struct origin *o = lags[i].o;
		enum replay_end end = REPLAY_SNAPSHOT;
		uint64_t from = lags[i].from;
		if (lags[i].replayable)
			end = budget < HOLE_COST ? REPLAY_MORE :
			    replay(s, peer, o, &from, &budget);
		/* Snapshots on link-up are paced like events: one the turn
		 * has no room for waits (a request's answer goes now). */
		if (end == REPLAY_SNAPSHOT && lags[i].replayable &&
		    request_id == 0 && budget < HOLE_COST)
			end = REPLAY_MORE;
		if (end == REPLAY_MORE)
			rest_add(rest, o, from);
		/* A request that names the origin (request_id) also wants its
		 * snapshot, the NodeInfo with it, when the peer misses nothing. */
		else if (end == REPLAY_SNAPSHOT ||
		    (end == REPLAY_DONE && request_id != 0)) {
			snap[nsnap].o = o;
			snap[nsnap++].seq = o->seq;
			budget = budget > HOLE_COST ? budget - HOLE_COST : 0;
		}
	}
	free(lags);
	if (nsnap > 0 || request_id != 0)
		send_snapshot(s, peer, snap, nsnap, request_id);
	free(snap);
	/* A rest of this link goes on (a request named other origins); one
	 * of a link since gone holds stale cursors and is dropped. */
	if (old != NULL) {
		if (old->link != 0 && old->link == sync_link_of(s, peer))
			rest_carry(rest, old, list, n, cursors, ncursors);
		rest_free(old);
	}
	/* No rest without an up link to go on with. */
	if (rest->n == 0 || (rest->link = sync_link_of(s, peer)) == 0) {
		rest_free(rest);
		return;
	}
	rest->s = s;
	rest->peer = xstrdup(peer);
	rest->ev = evtimer_new(s->base, rest_cb, rest);
	rest->next = s->catchup_rests;
	s->catchup_rests = rest;
	/* A turn that left the queue low (it queued little) goes on at the
	 * next pass; else drained() wakes it, the timer only a fallback. */
	evtimer_add(rest->ev, turn_room(s, peer) ? &resume_now : &resume_later);
}
