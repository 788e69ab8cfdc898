/*
 * For sync.c's siblings only (sync_emit.c: our own events; sync_origin.c:
 * the table of origins; sync_catchup.c: catching a peer up;
 * sync_forward.c: handing events on; sync_json.c: the API's views): the
 * state sync keeps per origin and the sending primitives they share.
 * Callers outside node/mesh/sync*.c use sync.h.
 */
#ifndef AGENTFLOW_SYNC_PRIV_H
#define AGENTFLOW_SYNC_PRIV_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "frame_codec.h"
#include "mesh.pb-c.h"
#include "origin_keys.h"
#include "prom.h"

struct catchup_rest;
struct hmap;
struct links;
struct routing;
struct sync_view;
struct store;
struct store_event;
struct wall_timer;


#define BATCH_MAX_EVENTS	FRAME_CODEC_MAX_EVENTS
#define BATCH_MAX_BYTES		(2u * 1024 * 1024)
#define SNAPSHOT_CHUNK		64
#define SNAPSHOT_TASKS		20	/* an origin's most recent: 64 origins of them fit a frame */
#define SNAPSHOT_ALERTS		16	/* open ones, likewise */
#define PERSIST_PERIOD_MS	2000
#define TRIM_PERIOD_MS		60000
#define USER_PAYLOAD_MAX	65536
#define NAME_MAX_LEN		128
#define HOP_LIMIT		8
#define ORIGINS_MAX		FRAME_CODEC_MAX_NODES

struct origin {
	char		 id[64];
	uint64_t	 incarnation;
	uint64_t	 seq;
	uint8_t		*info;		/* packed NodeInfo, or NULL */
	size_t		 info_len;
	uint8_t		*status;	/* packed NodeStatus, or NULL */
	size_t		 status_len;
	uint64_t	 status_ms;
	uint64_t	 status_seq;	/* the event that carried it, and */
	uint8_t		 status_sig[FRAME_CODEC_SIGNATURE];	/* its signature */
	size_t		 status_sig_len;			/* (0: none kept) */
	uint64_t	 updated_ms;	/* wall clock of our last change */
	int		 left;
	int		 dirty;		/* to persist */
	uint64_t	 requested_ms;	/* snapshot asked for, at */
	uint64_t	 inorder_ms;	/* an event applied in order, at */
	uint64_t	 info_asked_ms;	/* its NodeInfo asked for, at */
	uint64_t	 watch_until;	/* mono: every sample of ours goes out
					 * until (sync_watched) */
	uint32_t	 idle_ms;	/* its last status's (status_pace.h) */
	uint64_t	 seen_ms;	/* wall: a route led to it, last
					 * (sync_note_routes) */
	/*
	 * Events of this life at or below seq we still want: a relayed
	 * snapshot moved the cursor past them (sync_vouch.c).  hole_lo 0:
	 * none.  Not persisted: a restart gives the hole up.
	 */
	uint64_t	 hole_lo, hole_hi;
	uint64_t	 hole_asked_ms;	/* mono */
	unsigned	 hole_asks;	/* asks since it last shrank */
	/* Events of this life that came before the one they follow,
	 * held a moment (sync_early.c); NULL: none. */
	struct early_set *early;
};

struct sync {
	struct event_base		*base;
	char				*self_id;
	uint64_t			 incarnation;
	struct store			*store;
	struct links			*links;
	uint64_t			 events_kept;
	uint64_t			 events_bytes;
	uint64_t			 events_at_trim;	/* events in + ours, then */
	struct hmap			*origins;
	struct origin			*self;
	/* Own events not yet sent. */
	Agentflow__Mesh__V1__Event	**pending;
	size_t				 npending;
	size_t				 pending_bytes;
	struct event			*flush_ev;
	/* Received batches share one commit per turn of the loop. */
	struct event			*commit_ev;
	int				 commit_armed;
	struct wall_timer		*persist_timer;
	uint64_t			 last_trim_ms;
	/* Hello cursors, rebuilt on demand. */
	Agentflow__Mesh__V1__Cursor	*cursor_buf;
	Agentflow__Mesh__V1__Cursor	**cursor_ptrs;
	/* Counters. */
	uint64_t			 events_in, events_out, duplicates, gaps;
	uint64_t			 snapshots_sent, snapshots_received;
	uint64_t			 snapshot_requests;
	uint64_t			 forwarded;
	uint64_t			 replayed;
	uint64_t			 refused_origins; /* beyond ORIGINS_MAX */
	uint64_t			 entropy_asks;	/* sync_entropy.c */
	struct event			*early_ev;	/* sync_early.c */
	size_t				 early_bytes;
	uint64_t			 early_held, early_applied;
	uint64_t			 entropy_busy;	/* asks not answered: busy */
	/* Catch-ups we pull (sync_pull.c): origin id → struct fetch;
	 * NULL until the first. */
	struct hmap			*fetches;
	struct event			*pull_ev;
	uint64_t			 pulled;	/* origins asked for */
	uint64_t			 pull_deferred;	/* left to another's fetch */
	uint64_t			 offers_ignored;	/* not asked for */
	struct hmap			*entropy;	/* peer → its digests' run */
	uint64_t			 digest, digest_ms;	/* ours, at (mono) */
	/* Seconds from an event's time at its origin to its applying here
	 * (wall clocks of two hosts: skew shows, a negative counts as 0). */
	struct prom_hist		 delay;
	void				(*applied)(const struct store_event *, void *);
	void				 *applied_arg;
	/* We moved to a new incarnation (sync_incarnation.c). */
	void				(*reborn)(uint64_t incarnation, void *);
	void				 *reborn_arg;
	uint64_t			 reborn_count;
	/* The link-state graph and the labels, fed from statuses and
	 * NodeInfos; it reads our own side from the live links. */
	struct routing			*routing;
	/* Lives we forgot (sync_forget.c): id → tombstone; NULL
	 * until the first forget. */
	struct hmap			*forgotten;
	/* Our NodeInfo goes out with our next status (sync_emit_status). */
	int				 info_unsent;
	/* Our last event that is not a plain status (NodeStatus.statuses_from),
	 * and the freeze our last status said. */
	uint64_t			 kept_seq;
	int				 frozen_sent;
	uint64_t			 statuses_left_out;	/* of replays */
	uint64_t			 statuses_past;		/* taken past others */
	/* Catch-ups to go on in a later turn (sync_catchup.c). */
	struct catchup_rest		*catchup_rests;
	/* Signs ours, checks relayed ones (sync_vouch.c); may be NULL. */
	struct origin_keys		*keys;
	struct hmap			*strikes;	/* peer → struct strike */
	uint64_t			 key_asked_ms;	/* for an origin not yet known */
	int				 vouch_dropped;	/* a strike closed the link */
	void				(*token_revoked)(const char *origin,
					    const char *token_id, void *arg);
	void				 *token_revoked_arg;
	/* The mesh's view of jobs (sync_jobs.c) and workflows
	 * (sync_workflows.c): what each origin says of its own; NULL until
	 * the first. */
	struct sync_view		*jobs;
	struct sync_view		*workflows;
	struct sync_view		*services;	/* sync_services.c */
	struct sync_view		*artifacts;	/* sync_artifacts.c */
	/* The mesh's schedules (sync_schedules.c): name → the merged
	 * ScheduleUpdate; NULL until the first.  The hook hears of the
	 * changes other nodes make. */
	struct hmap			*schedules;
	void				(*schedule_hook)(
					    const Agentflow__Mesh__V1__ScheduleUpdate *,
					    void *);
	void				 *schedule_hook_arg;
	/* The mesh's silences (sync_silences.c): id → the merged
	 * SilenceUpdate and how far it is trusted; NULL until the first.
	 * silences_ours: ids another node's word claimed as ours while we
	 * held none (refused) → its end, so we give none of them again. */
	struct hmap			*silences;
	struct hmap			*silences_ours;
	int				(*silence_check)(
					    const Agentflow__Mesh__V1__SilenceUpdate *,
					    void *);
	void				(*silence_changed)(
					    const Agentflow__Mesh__V1__SilenceUpdate *,
					    void *);
	void				 *silence_hook_arg;
	uint64_t			 silences_refused;
	struct {
		uint64_t	forged;		/* bad or no signature, not from the origin */
		uint64_t	unknown_key;	/* no key known for that life yet */
		uint64_t	revoked;	/* certificate revoked or expired */
		uint64_t	keys_refused;	/* OriginKeys that did not verify */
		uint64_t	states_refused;	/* snapshot states without proof */
		uint64_t	work_ignored;	/* tasks/alerts in others' snapshots */
		uint64_t	links_closed;	/* peers closed for forgery */
		uint64_t	holes_opened;	/* cursors moved past events */
		uint64_t	hole_events;	/* events that filled them */
		uint64_t	holes_abandoned; /* asked for in vain */
		uint64_t	unchecked;	/* taken on the origin's link's word */
		uint64_t	rechecked;	/* of those, signatures checked later */
	} vouch;
};

/*
 * Whether e, of the life held at seq, is a status that its origin says
 * follows only statuses since then (NodeStatus.statuses_from), and so is
 * taken though the statuses between are not (sync.c).
 */
int sync_statuses_between(const Agentflow__Mesh__V1__Event *e, uint64_t seq);
/* The same rule for a status's statuses_from alone (sync_early.c keeps
 * that of the statuses it holds). */
int sync_statuses_since(uint64_t statuses_from, uint64_t seq);
/* Applies e as peer hands it (sync.c): 1 when new, *unchecked as taken. */
int sync_apply_event(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Event *e, int *unchecked);
/*
 * sync.c.  Appends an applied event, ours or another's, to the log (and
 * task updates, log lines and alerts to their tables), telling the
 * applied hook when the row is new.  The body is e's kind message packed;
 * packed and packed_len (borrowed) pass it when the caller has it already,
 * NULL to pack it here.  unchecked: taken on its origin's link's word.
 */
void sync_log_event_row(struct sync *, const Agentflow__Mesh__V1__Event *e,
    const void *packed, size_t packed_len, int unchecked);

/*
 * sync_origin.c.  The origin of id, made (empty, cursor 0) if we hold
 * none; NULL, counted, when ORIGINS_MAX are held already.  Owned by the
 * table, valid until forgotten (sync_forget) or sync_free.
 */
struct origin *sync_origin_get(struct sync *, const char *id);
/*
 * o's new status (copied, with its seq and signature, sig NULL: none),
 * its up links into routing's graph, its watch lease, and its NodeInfo
 * when it carries one (sync_origin_set_info).
 */
void sync_origin_set_status(struct sync *, struct origin *o,
    const Agentflow__Mesh__V1__NodeStatus *st, uint64_t time_ms,
    uint64_t seq, const ProtobufCBinaryData *sig);
/* o's NodeInfo (copied), its labels into routing for selectors. */
void sync_origin_set_info(struct sync *, struct origin *o,
    const Agentflow__Mesh__V1__NodeInfo *in);
/* Tells routing whether o is present (a life known, not left); call after
 * either changes. */
void sync_origin_set_present(struct sync *, const struct origin *o);
/* Frees o and what it owns (its held early events too); the caller has
 * taken it out of s->origins or is freeing them all. */
void sync_origin_free(struct sync *, struct origin *);
/* Frees every origin and what it holds (sync_free); the table stays. */
void sync_origin_free_all(struct sync *);

/* sync_forward.c: events[0..n) handed on, as from handed them to us. */
void sync_forward(struct sync *, const char *from,
    Agentflow__Mesh__V1__Event **events, const int8_t *unchecked, size_t n);
/* fresh[0..*nfresh) handed on, then origin's held events applied, in order. */
void sync_forward_held(struct sync *, const char *peer, const char *origin,
    Agentflow__Mesh__V1__Event **fresh, int8_t *unchecked, size_t *nfresh);

/*
 * sync_vouch.c.  An event's kind and body as the log stores them (and
 * its signature covers): *packed points into e or into *buf, which the
 * caller frees.  0, or -1 for an event with no body.
 */
int sync_vouch_body(const Agentflow__Mesh__V1__Event *e, int *kind,
    const void **packed, size_t *len, void **buf);
/* Signs our event e, its signature in sig (ORIGIN_KEYS_SIGNATURE bytes,
 * which must outlive e's use); unsigned without keys. */
void sync_vouch_sign(struct sync *, Agentflow__Mesh__V1__Event *e, uint8_t *sig);
/*
 * Whether e's origin vouches for it as peer hands it to us (counted, and
 * a strike against peer when forged).  With unchecked not NULL, an event
 * other than a status straight from its origin, whose key for that life
 * we hold in good standing, is taken on its link's word, its signature
 * not checked (*unchecked set to 1): sync_vouch_recheck before it is
 * handed on.
 */
enum origin_keys_verdict sync_vouch_event(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Event *e, int *unchecked);
/* Checks the signature of an event taken unchecked, before it is handed
 * on: VALID when it holds; FORGED counted, and a strike against from
 * (its origin's link) when not NULL; UNKNOWN or REVOKED when no key for
 * its life is known or in good standing now. */
enum origin_keys_verdict sync_vouch_recheck(struct sync *, const char *from,
    const Agentflow__Mesh__V1__Event *e);
/* The log's mark (store_event_mark) for a recheck's verdict: 0 when the
 * signature held, STORE_EVENT_FORGED when not, -1 when none was checked
 * (no key, or revoked: the row stays unchecked). */
int sync_vouch_mark(enum origin_keys_verdict);
/* Learns node_id's key k as peer handed it; 0, or -1 (counted, a strike). */
int sync_vouch_learn(struct sync *, const char *peer, const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k);
/* One more item peer handed us that its origin did not sign. */
void sync_vouch_strike(struct sync *, const char *peer);
/* What of a snapshot's state of one origin we may take (borrowed from st). */
struct sync_vouched {
	int					 cursor;	/* its cursor */
	const Agentflow__Mesh__V1__NodeInfo	*info;		/* NULL: none */
	const Agentflow__Mesh__V1__NodeStatus	*status;	/* NULL: none */
	uint64_t				 status_ms;
	uint64_t				 status_seq;	/* 0: not known */
	const ProtobufCBinaryData		*status_sig;	/* NULL: none */
	int					 work;		/* its tasks, alerts */
	/* A signed event of the origin at exactly the cursor: what a
	 * relayed snapshot's cursor may stand on (NULL: none). */
	const Agentflow__Mesh__V1__Event	*at;
};
void sync_vouch_state(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__OriginState *st, struct sync_vouched *out);
void sync_vouch_free(struct sync *);
/* sync_entropy.c: the neighbours' digest runs freed. */
void sync_entropy_free(struct sync *);

/*
 * sync_early.c: an event of o's life that came before the one it
 * follows.  hold keeps a copy (1), or says there is no room or it is too
 * far ahead (0: a gap, as before); next hands the held one that follows
 * o's cursor now (the next seq, or a status past statuses only since then:
 * sync_statuses_between) (unpacked, the caller frees it; peer: who handed it to
 * us), NULL when none; forget drops o's (o forgotten or freed).  Held
 * ones whose predecessor has not come after a moment are asked for as a
 * gap and dropped.
 */
struct early_set;
int sync_early_hold(struct sync *, struct origin *o, const char *peer,
    const Agentflow__Mesh__V1__Event *e);
Agentflow__Mesh__V1__Event *sync_early_next(struct sync *, struct origin *o,
    char *peer, size_t peerlen);
void sync_early_forget(struct sync *, struct origin *o);
void sync_early_init(struct sync *);
void sync_early_free(struct sync *);

/*
 * o's hole (struct origin): opened when a relayed snapshot of its life
 * moves its cursor past [lo, hi]; hole_fill says whether an event of its
 * life at seq, at or below the cursor, is one it lacks (1: take it; the
 * hole shrinks, past the statuses a sparse replay left out when e is a
 * status taken past them: sync_statuses_between), hole_due whether to ask for it again now (at most every
 * 5 s; given up, and counted, after HOLE_ASKS asks that brought nothing).
 */
void sync_vouch_hole_open(struct sync *, struct origin *o, uint64_t lo,
    uint64_t hi);
int sync_vouch_hole_fill(struct sync *, struct origin *o,
    const Agentflow__Mesh__V1__Event *e);
int sync_vouch_hole_due(struct sync *, struct origin *o);

/* sync_emit.c.  Logs and sends our pending events now (they normally wait
 * for the next loop pass); and flush_ev's callback, which does that. */
void sync_flush(struct sync *);
void sync_flush_cb(evutil_socket_t fd, short what, void *arg);
/* f to peer, or (NULL) to every up link.  0, or -1 (no links, cannot
 * encode, link down); for a broadcast, the number of links it went to. */
int sync_send_frame(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Frame *f);
/* f to peer (not NULL) behind every live frame queued to it
 * (links_send_bulk): a catch-up's history, which never holds up what
 * happens now by more than the one message the link is sending. */
int sync_send_history(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Frame *f);
/* events (borrowed) as one EventBatch frame, like sync_send_frame, or
 * (history) like sync_send_history. */
int sync_send_events(struct sync *, const char *peer,
    Agentflow__Mesh__V1__Event **events, size_t n, int history);

/*
 * sync_jobs.c.  An origin's job update from its signed event; an
 * origin's own snapshot's jobs, merged into what we hold (the newer
 * updated_ms of a job wins); ours into
 * our snapshot's st (st->jobs to free, its elements borrowed until the
 * next change); forgetting an origin's; all of them (sync_free).
 */
void sync_jobs_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__JobUpdate *);
void sync_jobs_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__JobUpdate *const *v, size_t n);
void sync_jobs_fill(struct sync *, const char *origin,
    Agentflow__Mesh__V1__OriginState *st);
void sync_jobs_forget(struct sync *, const char *origin);
size_t sync_jobs_held(const struct sync *, const char *origin);
void sync_jobs_free(struct sync *);

/*
 * An event of ours of e's kind (its oneof set; origin and numbers are
 * filled in) within mesh.proto's bounds: 1, or 0 after logging that what
 * (the kind) named name is not sent (a bad event would make its whole
 * batch unencodable).
 */
int sync_event_fits(const struct sync *, const Agentflow__Mesh__V1__Event *e,
    const char *what, const char *name);
/* A heap copy of message m (free with its free_unpacked), or NULL. */
void *sync_message_copy(const ProtobufCMessage *m);
/* m packed into a heap buffer (the caller frees it; never NULL, one byte
 * at least), its length in *len. */
void *sync_message_pack(const ProtobufCMessage *m, size_t *len);

/* sync_workflows.c: the same for workflows and their coordinators. */
void sync_workflows_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__WorkflowUpdate *);
void sync_workflows_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__WorkflowUpdate *const *v, size_t n);
void sync_workflows_fill(struct sync *, const char *origin,
    Agentflow__Mesh__V1__OriginState *st);
void sync_workflows_forget(struct sync *, const char *origin);
size_t sync_workflows_held(const struct sync *, const char *origin);
void sync_workflows_free(struct sync *);

/*
 * sync_work.c: what origin says of its own work, in one of its events
 * (signed by it, or from it) or its own snapshot, into the views (jobs,
 * workflows, schedules, services) and the token list.
 */
void sync_work_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__Event *e);
void sync_work_merge(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__OriginState *st);

/* sync_services.c: the same for services and the origins running them
 * (fill: ours into our snapshot's st). */
void sync_services_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__ServiceUpdate *);
void sync_services_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__ServiceUpdate *const *v, size_t n);
void sync_services_fill(struct sync *, Agentflow__Mesh__V1__OriginState *st);
void sync_services_forget(struct sync *, const char *origin);
size_t sync_services_held(const struct sync *, const char *origin);
void sync_services_free(struct sync *);
/* sync_artifacts.c: the same for artifacts and the origins holding them. */
void sync_artifacts_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__ArtifactUpdate *u);
void sync_artifacts_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__ArtifactUpdate *const *v, size_t n);
void sync_artifacts_fill(struct sync *, Agentflow__Mesh__V1__OriginState *st);
void sync_artifacts_forget(struct sync *, const char *origin);
size_t sync_artifacts_held(const struct sync *, const char *origin);
void sync_artifacts_free(struct sync *);

/*
 * sync_schedules.c.  A schedule from an origin's signed event or its own
 * snapshot, merged (the hook is told of a change); every one we hold into
 * our snapshot's st (st->schedules to free, its elements borrowed until
 * the next change); all of them (sync_free).
 */
void sync_schedules_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__ScheduleUpdate *);
void sync_schedules_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__ScheduleUpdate *const *v, size_t n);
void sync_schedules_fill(struct sync *, Agentflow__Mesh__V1__OriginState *st);
void sync_schedules_free(struct sync *);

/* sync_silences.c, as sync_schedules.c above; how many ids it holds. */
void sync_silences_apply(struct sync *, const char *origin,
    const Agentflow__Mesh__V1__SilenceUpdate *);
void sync_silences_merge(struct sync *, const char *origin,
    Agentflow__Mesh__V1__SilenceUpdate *const *v, size_t n);
void sync_silences_fill(struct sync *, Agentflow__Mesh__V1__OriginState *st);
size_t sync_silences_held(const struct sync *);
void sync_silences_free(struct sync *);

/* sync_forget.c: whether a snapshot or event of origin id's incarnation
 * is of a life we forgot (and so is ignored); frees what forgets kept. */
int sync_forgotten(const struct sync *, const char *id, uint64_t incarnation);

/* The peer's up link as links_link_generation names it; 0: none
 * (sync_catchup.c). */
uint64_t sync_link_of(const struct sync *, const char *peer);

/* sync_entropy.c.  Whether peer's ask may be answered with an Offer now
 * (at most one a second per peer), and whether an Offer from peer
 * answers an ask of ours (one Offer per ask, within OFFER_WAIT_MS). */
int sync_entropy_offer_due(struct sync *, const char *peer);
int sync_entropy_answered(struct sync *, const char *peer);

/*
 * sync_pull.c.  Whether the link to peer pulls its catch-ups (both ends
 * speak "pull_catchup"): then neither end pushes at link-up.  sync_pull
 * asks peer for the origins its Hello's cursors hold more of than we do,
 * those no other neighbour is sending already.
 */
int sync_pulls(const struct sync *, const char *peer);
void sync_pull(struct sync *, const char *peer,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t n);
/* Answers peer's anti-entropy ask (its cursors) with an Offer: our
 * cursors for the origins it holds less of; and takes peer's Offer, if
 * it answers an ask of ours, as sync_pull takes a Hello's cursors. */
void sync_pull_offer(struct sync *, const char *peer,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors);
void sync_pull_offered(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Offer *);
void sync_pull_free(struct sync *);
void sync_forget_clear(struct sync *);
/* Each forgotten life as a cursor past all its events (seq UINT64_MAX),
 * at most max into cur (ids borrowed from the tombstones, valid until the
 * next forget): a peer answering our cursors sends none of it.  How many. */
size_t sync_forgotten_cursors(const struct sync *,
    Agentflow__Mesh__V1__Cursor *cur, size_t max);

/*
 * sync_catchup.c.  The origins a peer lacks into list (room for every
 * origin the sync holds): those newer than its cursors[0..ncursors)
 * (NULL: every origin we know of), limited to want[0..nwant) when nwant > 0.
 * Returns how many.
 */
/* sync_catchup.c.  1 while peer's catch-up goes on (a rest of its link is
 * pending, or its link still holds a turn's worth of history). */
int sync_catchup_busy(const struct sync *, const char *peer);
size_t sync_catchup_behind(struct sync *,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors,
    const char *const *want, size_t nwant, struct origin **list);
/*
 * Catches peer up on the origins in list: with the events our log keeps
 * after its cursors (cursors; none: from seq 1), in turns of a bounded
 * size paced by the link's drained() while it stays up, with snapshots
 * for what the log lacks.  A request_id (non-zero) is answered with a snapshot
 * even when nothing is behind.
 */
void sync_catchup_send(struct sync *, const char *peer, struct origin **list,
    size_t n, Agentflow__Mesh__V1__Cursor **cursors, size_t ncursors,
    uint64_t request_id);

/*
 * Our jobs to a peer whose link just came up: a snapshot of ours at
 * cursor 0 of this life (news only to a peer holding nothing of it, and
 * followed by the catch-up's events from seq 1), which the peer merges
 * whatever it holds (sync_jobs.c).  Our jobs of earlier lives are in no
 * event of this one, and a relay hands on no one's jobs but its own.
 * Nothing when we hold none.
 */
void sync_catchup_jobs(struct sync *, const char *peer);

/* Drops the catch-ups waiting for a later turn (from sync_free). */
void sync_catchup_free(struct sync *);

/*
 * sync_incarnation.c.  Moves us to a new incarnation, persisted, when the
 * peer's Hello holds a newer life of ours than the one we run (a restored
 * backup, a copied data directory), and tells the reborn hook.  Call
 * before catching the peer up.  1 when it moved, else 0.
 */
int sync_incarnation_check(struct sync *, const char *peer,
    const Agentflow__Mesh__V1__Hello *hello);

/* sync_ask.c: asking a peer for what we miss of o, each at most so
 * often: the events after a gap (its snapshot when the log lacks them),
 * a hole's events (of o itself when linked), o's NodeInfo, or the key of
 * a life of id we lack. */
void sync_ask_snapshot(struct sync *, const char *peer, struct origin *o);
void sync_ask_hole(struct sync *, const char *peer, struct origin *o);
void sync_ask_info(struct sync *, const char *peer, struct origin *o);
void sync_ask_key(struct sync *, const char *peer, const char *id);

/* sync_persist.c: the origins changed since written to the store in one
 * commit; and the persist timer's pass (wall_timer): that, and the event
 * log trimmed every TRIM_PERIOD_MS, sooner in a flood. */
void sync_persist_all(struct sync *);
void sync_persist_cb(void *arg);

#endif
