/*
 * Unit tests of node/mesh/sync.c without links, on a real store in a private
 * temporary directory: events applied in order with duplicates dropped,
 * the bound on how many origins a node keeps (sync_origin.c), so a peer naming ever
 * new node ids cannot grow its memory, its database or the graph every
 * batch is forwarded over; NodeInfo travelling in statuses; and a peer's
 * Hello that holds a newer life of ours moving us to an incarnation above
 * it (sync_incarnation.c); and, with real origin keys on in-memory
 * certificates, a relayed snapshot that moves a cursor past events we
 * never got keeping them wanted (sync_vouch.c): before that fix only a
 * replay carried them, and it was dropped as duplicates; and schedules
 * (sync_schedules.c): of each, the newest definition and the newest fire
 * win, apart, whatever order they come in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame_codec.h"
#include "mesh_signed.h"
#include "origin_keys.h"
#include "pki.h"
#include "rng.h"
#include "routing.h"
#include "store.h"
#include "clock.h"
#include "sync.h"
#include "sync_jobs.h"
#include "sync_schedules.h"
#include "sync_silences.h"
#include "sync_json.h"
#include "sync_priv.h"
#include "tmpdir.h"
#include "trust.h"

#include "sync_fixture.h"

/* One user event of origin (incarnation 1, seq). */
static void
deliver(struct fixture *f, const char *origin, uint64_t seq)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;

	u.name = "ev";
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	e.user = &u;
	deliver_event(f, &e, origin, seq);
}

static json_int_t
counter(struct fixture *f, const char *name)
{
	return number(sync_json_counters(f->sync), name);
}

static json_int_t
seq_of(struct fixture *f, const char *origin)
{
	json_t *o = sync_json_origin(f->sync, origin, 1);
	json_int_t seq;

	assert_non_null(o);
	seq = json_integer_value(json_object_get(o, "seq"));
	json_decref(o);
	return seq;
}

static void
test_in_order_and_duplicates(void **state)
{
	struct fixture *f = *state;
	json_t *o;

	deliver(f, "n1", 1);
	deliver(f, "n1", 2);
	deliver(f, "n1", 2);		/* again */
	deliver(f, "n1", 1);		/* older */
	assert_int_equal(counter(f, "events_in"), 2);
	assert_int_equal(counter(f, "duplicates"), 2);
	o = sync_json_origin(f->sync, "n1", 1);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 2);
	json_decref(o);
	/* one that comes early is held, not applied, and not yet a gap
	 * (the ones before it are most likely on their way) */
	deliver(f, "n1", 5);
	deliver(f, "n1", 5);		/* again: held once */
	assert_int_equal(counter(f, "gaps"), 0);
	assert_int_equal(counter(f, "early_held"), 1);
	assert_int_equal(seq_of(f, "n1"), 2);
	/* they come: the held one follows them, in order */
	deliver(f, "n1", 3);
	assert_int_equal(seq_of(f, "n1"), 3);
	deliver(f, "n1", 4);
	assert_int_equal(seq_of(f, "n1"), 5);
	assert_int_equal(counter(f, "early_applied"), 1);
	assert_int_equal(counter(f, "events_in"), 5);
	assert_int_equal(counter(f, "gaps"), 0);
	deliver(f, "n1", 5);		/* then a copy is a duplicate */
	assert_int_equal(counter(f, "duplicates"), 3);
	/* too far ahead to wait for: a gap at once */
	deliver(f, "n1", 500);
	assert_int_equal(counter(f, "gaps"), 1);
	/* held, and what it follows never comes: a gap after a moment,
	 * and the held one let go (the answer to the ask brings it) */
	deliver(f, "n1", 8);
	assert_int_equal(counter(f, "early_held"), 2);
	usleep(600 * 1000);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(counter(f, "gaps"), 2);
	deliver(f, "n1", 6);
	deliver(f, "n1", 7);
	assert_int_equal(seq_of(f, "n1"), 7);
	assert_int_equal(counter(f, "early_applied"), 1);
}

/* The digest sums every life we hold; asks come on the second ping in a
 * row that differs, then 2, then every 4 pings, and start over once a
 * ping agrees. */
static void
test_digest_and_asks(void **state)
{
	struct fixture *f = *state;
	uint64_t base = sync_digest(f->sync), d;
	int asks[40], n = 0;

	assert_int_not_equal(base, 0);
	deliver(f, "n1", 1);
	deliver(f, "n1", 2);
	deliver(f, "n2", 1);
	d = sync_digest(f->sync);
	assert_int_equal(d, base ^ sync_digest_of("n1", 1, 2) ^
	    sync_digest_of("n2", 1, 1));
	deliver(f, "n1", 3);
	assert_int_equal(sync_digest(f->sync), d ^ sync_digest_of("n1", 1, 2) ^
	    sync_digest_of("n1", 1, 3));
	d = sync_digest(f->sync);
	sync_peer_digest(f->sync, "n1", d);
	assert_int_equal(counter(f, "entropy_asks"), 0);
	for (int i = 1; i <= 40; i++) {
		json_int_t before = counter(f, "entropy_asks");
		sync_peer_digest(f->sync, "n1", d ^ 1);
		if (counter(f, "entropy_asks") > before)
			asks[n++] = i;
	}
	assert_int_equal(n, 11);
	assert_int_equal(asks[0], 2);
	assert_int_equal(asks[1], 4);
	for (int i = 2; i < n; i++)
		assert_int_equal(asks[i], 4 * i);
	/* Another peer has its own run; one that agrees starts ours over. */
	sync_peer_digest(f->sync, "n2", d ^ 1);
	sync_peer_digest(f->sync, "n2", d ^ 1);
	assert_int_equal(counter(f, "entropy_asks"), 12);
	sync_peer_digest(f->sync, "n1", d);
	sync_peer_digest(f->sync, "n1", d ^ 1);
	assert_int_equal(counter(f, "entropy_asks"), 12);
	sync_peer_digest(f->sync, "n1", d ^ 1);
	assert_int_equal(counter(f, "entropy_asks"), 13);
	/* 0 says nothing. */
	sync_peer_digest(f->sync, "n1", 0);
	sync_peer_digest(f->sync, "n1", 0);
	assert_int_equal(counter(f, "entropy_asks"), 13);
	/* A neighbour whose digest still moves (a burst on its way) is
	 * asked two pings later. */
	for (uint64_t i = 0; i < 3; i++)
		sync_peer_digest(f->sync, "n3", d ^ (2 + i));
	assert_int_equal(counter(f, "entropy_asks"), 13);
	sync_peer_digest(f->sync, "n3", d ^ 5);
	assert_int_equal(counter(f, "entropy_asks"), 14);
}

static void
test_origins_are_bounded(void **state)
{
	struct fixture *f = *state;
	char id[32];
	json_t *remote;
	const int extra = 50;

	for (int i = 0; i < FRAME_CODEC_MAX_NODES + extra; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		deliver(f, id, 1);
	}
	remote = sync_json_remote(f->sync, 1);
	/* ourselves plus FRAME_CODEC_MAX_NODES - 1 others */
	assert_int_equal(json_array_size(remote), FRAME_CODEC_MAX_NODES - 1);
	json_decref(remote);
	assert_int_equal(counter(f, "refused_origins"), extra + 1);
	assert_int_equal(counter(f, "events_in"), FRAME_CODEC_MAX_NODES - 1);
	/* the ones it keeps still work */
	deliver(f, "o0", 2);
	assert_int_equal(counter(f, "events_in"), FRAME_CODEC_MAX_NODES);
	/* and its own events still go out */
	assert_int_not_equal(sync_emit_user(f->sync, "mine", "x", 1, id,
	    sizeof(id)), 0);
}

/* Forgetting: a life we held is remembered, so its late events are
 * ignored; an id we never held leaves nothing behind (no tombstone), so
 * forgetting made-up ids cannot grow memory, and the node is welcome. */
static void
test_forget_remembers_only_known_lives(void **state)
{
	struct fixture *f = *state;
	uint64_t inc;

	deliver(f, "n1", 1);
	assert_int_equal(sync_forget(f->sync, "n1", &inc), 1);
	assert_true(inc == 1);
	deliver(f, "n1", 2);		/* late, of the life forgotten */
	assert_int_equal(counter(f, "events_in"), 1);
	assert_null(sync_json_origin(f->sync, "n1", 1));
	assert_int_equal(sync_forget(f->sync, "n9", &inc), 0);
	assert_true(inc == 0);
	deliver(f, "n9", 1);
	assert_int_equal(counter(f, "events_in"), 2);
	assert_int_equal(sync_left(f->sync, "n9"), 0);
	assert_int_equal(sync_forget(f->sync, "self", &inc), -1);
}

/* A life forgotten before a restart (forget_load gives it back): its
 * events are still ignored, a later life is welcome, and a restore of
 * "none held" or of ourselves remembers nothing. */
static void
test_restored_tombstone_refuses_the_old_life(void **state)
{
	struct fixture *f = *state;

	sync_forgotten_restore(f->sync, "n1", 1000, 1);
	sync_forgotten_restore(f->sync, "n2", 1000, 0);
	sync_forgotten_restore(f->sync, "self", 1000, 5);
	deliver(f, "n1", 1);		/* the life forgotten */
	assert_int_equal(counter(f, "events_in"), 0);
	assert_null(sync_json_origin(f->sync, "n1", 1));
	deliver(f, "n2", 1);
	assert_int_equal(counter(f, "events_in"), 1);
	assert_non_null(sync_store(f->sync));
}

/* A peer's Hello holding (incarnation, seq) for us. */
static void
hello_seeing_us(struct fixture *f, uint64_t incarnation, uint64_t seq)
{
	Agentflow__Mesh__V1__Hello h = AGENTFLOW__MESH__V1__HELLO__INIT;
	Agentflow__Mesh__V1__Cursor c = AGENTFLOW__MESH__V1__CURSOR__INIT, *cp = &c;

	c.origin = "self";
	c.incarnation = incarnation;
	c.seq = seq;
	h.n_cursors = 1;
	h.cursors = &cp;
	sync_link_up("peer", &h, f->sync);
}

static void
reborn_cb(uint64_t incarnation, void *arg)
{
	*(uint64_t *)arg = incarnation;
}

static uint64_t
stored_incarnation(struct fixture *f)
{
	char buf[32];

	if (store_meta_get(f->st, "incarnation", buf, sizeof(buf)) != 1)
		return 0;
	return strtoull(buf, NULL, 10);
}

static void
test_a_newer_life_of_ours_moves_us_above_it(void **state)
{
	struct fixture *f = *state;
	char err[64];
	uint64_t reborn = 0;

	sync_set_reborn(f->sync, reborn_cb, &reborn);
	/* this life as the peer knows it (a link that came back): no move */
	hello_seeing_us(f, 1, 0);
	assert_int_equal(sync_emit_user(f->sync, "a", "", 0, err, sizeof(err)), 1);
	assert_int_equal(sync_emit_user(f->sync, "b", "", 0, err, sizeof(err)), 2);
	hello_seeing_us(f, 1, 2);
	hello_seeing_us(f, 1, 1);
	assert_true(reborn == 0);
	/* our incarnation with more events than we emitted: another life */
	hello_seeing_us(f, 1, 3);
	assert_true(reborn == 2);
	assert_true(stored_incarnation(f) == 2);	/* persisted */
	assert_int_equal(sync_emit_user(f->sync, "c", "", 0, err, sizeof(err)), 1);
	/* once per run: a second claim, even a higher one, is ignored, so two
	 * processes sharing an identity cannot bump each other for ever */
	hello_seeing_us(f, 7, 1);
	assert_true(reborn == 2);
	assert_true(stored_incarnation(f) == 2);
	assert_int_equal(sync_emit_user(f->sync, "d", "", 0, err, sizeof(err)), 2);
}

/* A forged cursor cannot push the counter far, or to its limit. */
static void
test_a_claim_far_above_us_is_ignored(void **state)
{
	struct fixture *f = *state;
	char err[64];
	uint64_t reborn = 0;

	sync_set_reborn(f->sync, reborn_cb, &reborn);
	hello_seeing_us(f, UINT64_MAX, 1);
	hello_seeing_us(f, (uint64_t)1 << 62, 1);
	hello_seeing_us(f, ((uint64_t)1 << 20) + 2, 1);
	assert_true(reborn == 0);
	assert_true(stored_incarnation(f) == 0);	/* nothing written */
	assert_int_equal(sync_emit_user(f->sync, "a", "", 0, err, sizeof(err)), 1);
	/* within the bound it still moves */
	hello_seeing_us(f, ((uint64_t)1 << 20) + 1, 1);
	assert_true(reborn == ((uint64_t)1 << 20) + 2);
	assert_true(stored_incarnation(f) == ((uint64_t)1 << 20) + 2);
}

/* Whether each of our logged statuses carries a NodeInfo, as "10..." */
static int
status_info_row(void *arg, const struct store_event *row)
{
	Agentflow__Mesh__V1__NodeStatus *st =
	    agentflow__mesh__v1__node_status__unpack(NULL, row->body_len, row->body);

	assert_non_null(st);
	strcat(arg, st->info != NULL ? "1" : "0");
	if (st->info != NULL)
		assert_string_equal(st->info->node_id, "self");
	agentflow__mesh__v1__node_status__free_unpacked(st, NULL);
	return 0;
}

/* Our first status carries our NodeInfo, the next ones do not. */
static void
test_first_status_carries_info(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	char seen[8] = "";

	for (int i = 0; i < 3; i++) {
		assert_int_equal(sync_emit_status(f->sync, &st), (uint64_t)i + 1);
		assert_null(st.info);	/* the caller's status is left alone */
	}
	event_base_loop(f->base, EVLOOP_NONBLOCK);	/* the flush */
	assert_int_equal(store_events_after(f->st, "self", 1, 0, 10,
	    status_info_row, seen), 0);
	assert_string_equal(seen, "100");
}

/* A status of an origin we have no link to, with its NodeInfo: its labels
 * are known and selectors find it. */
static void
test_relayed_info(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__NodeInfo in = AGENTFLOW__MESH__V1__NODE_INFO__INIT;
	Agentflow__Mesh__V1__Label l = AGENTFLOW__MESH__V1__LABEL__INIT, *lp = &l;
	json_t *o, *match = json_pack("{s:s}", "role", "backup"), *sel;

	deliver(f, "far", 1);		/* its events, not its info yet */
	sel = routing_unlabelled(sync_routing(f->sync));
	assert_string_equal(json_string_value(json_array_get(sel, 0)), "far");
	json_decref(sel);
	l.key = "role";
	l.value = "backup";
	in.node_id = "far";
	in.incarnation = 1;
	in.version = "9.9";
	in.n_labels = 1;
	in.labels = &lp;
	st.info = &in;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &st;
	deliver_event(f, &e, "far", 2);
	o = sync_json_origin(f->sync, "far", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(o, "info"), "labels"), "role")), "backup");
	json_decref(o);
	sel = routing_select(sync_routing(f->sync), match);
	assert_int_equal(json_array_size(sel), 1);
	assert_string_equal(json_string_value(json_array_get(sel, 0)), "far");
	json_decref(sel);
	json_decref(match);
	/* A later status without it keeps what we know. */
	st.info = NULL;
	deliver_event(f, &e, "far", 3);
	o = sync_json_origin(f->sync, "far", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    o, "info"), "version")), "9.9");
	json_decref(o);
}

/* n1's user event seq, signed, from peer. */
static void
n1_deliver(struct fixture *f, const char *peer, uint64_t seq)
{
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;

	n1_event(f, &e, &u, seq);
	send_batch(f, peer, &e);
}

/* p's snapshot of n1 at (1, seq), its proof n1's event proof_seq. */
static void
relayed_snapshot(struct fixture *f, uint64_t seq, uint64_t proof_seq)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Snapshot snap = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	Agentflow__Mesh__V1__OriginState st = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	Agentflow__Mesh__V1__OriginState *stp = &st;
	Agentflow__Mesh__V1__Cursor c = AGENTFLOW__MESH__V1__CURSOR__INIT;
	Agentflow__Mesh__V1__Event e, *ep = &e;
	Agentflow__Mesh__V1__UserEvent u;

	n1_event(f, &e, &u, proof_seq);
	c.origin = "n1";
	c.incarnation = 1;
	c.seq = seq;
	st.cursor = &c;
	st.n_proof = 1;
	st.proof = &ep;
	snap.n_origins = 1;
	snap.origins = &stp;
	snap.last = 1;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	fr.snapshot = &snap;
	sync_frame("p", &fr, f->sync);
}

static int
count_row(void *arg, const struct store_event *row)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

/* How many of n1's events (life 1) after seq our log holds, up to 100. */
static int
logged_after(struct fixture *f, uint64_t seq)
{
	int n = 0;

	assert_true(store_events_after(f->st, "n1", 1, seq, 100, count_row,
	    &n) >= 0);
	return n;
}

static json_int_t
vouch_count(struct fixture *f, const char *name)
{
	return number(sync_json_vouch(f->sync), name);
}

static json_t *
n1_origin(struct fixture *f)
{
	json_t *o = sync_json_origin(f->sync, "n1", 0);

	assert_non_null(o);
	return o;
}

/* n1's cursor is seq, with [from, to] still wanted (from 0: none). */
static void
assert_n1(struct fixture *f, uint64_t seq, uint64_t from, uint64_t to)
{
	json_t *o = n1_origin(f), *m = json_object_get(o, "missing");

	assert_int_equal(json_integer_value(json_object_get(o, "seq")), seq);
	if (from == 0)
		assert_null(m);
	else {
		assert_int_equal(json_integer_value(json_object_get(m, "from")),
		    from);
		assert_int_equal(json_integer_value(json_object_get(m, "to")), to);
	}
	json_decref(o);
}

/*
 * Straight from n1, whose key we hold, a user event is taken on its
 * link's word: its signature is not checked (counted "unchecked"), and
 * the log says so, so that it is checked before it is handed on
 * (sync_vouch_recheck): a bad one then is refused and counted forged, a
 * good one passes.  The same bad event relayed is refused at once, and a
 * status straight from n1 is always checked (its signature is the proof
 * our snapshots carry).
 */
static void
test_an_origins_own_event_is_checked_when_handed_on(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;
	Agentflow__Mesh__V1__NodeStatus ns = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	int flags[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

	n1_key_status(f);
	assert_int_equal(vouch_count(f, "unchecked"), 0);
	n1_deliver(f, "n1", 2);			/* good, from n1 */
	n1_event(f, &e, &u, 3);
	u.name = "changed after signing";	/* bad, from n1 */
	send_batch(f, "n1", &e);
	assert_n1(f, 3, 0, 0);
	assert_int_equal(vouch_count(f, "unchecked"), 2);
	assert_int_equal(vouch_count(f, "forged"), 0);
	assert_int_equal(store_events_after(f->st, "n1", 1, 0, 0, unchecked_row,
	    flags), 0);
	assert_int_equal(flags[1], 0);		/* its status: checked */
	assert_int_equal(flags[2], 1);
	assert_int_equal(flags[3], 1);

	/* Before either is handed on. */
	assert_int_equal(sync_vouch_recheck(f->sync, NULL, &e),
	    ORIGIN_KEYS_FORGED);
	assert_int_equal(vouch_count(f, "forged"), 1);
	u.name = "ev";
	n1_sign(f, &e, &u.base);
	assert_int_equal(sync_vouch_recheck(f->sync, NULL, &e),
	    ORIGIN_KEYS_VALID);
	assert_int_equal(vouch_count(f, "forged"), 1);
	assert_int_equal(vouch_count(f, "rechecked"), 2);

	/* The same lie relayed: refused, nothing taken. */
	n1_event(f, &e, &u, 4);
	u.name = "changed after signing";
	send_batch(f, "p", &e);
	assert_n1(f, 3, 0, 0);
	assert_int_equal(vouch_count(f, "forged"), 2);

	/* A status of n1's with a bad signature, from n1: refused. */
	agentflow__mesh__v1__event__init(&e);
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &ns;
	e.seq = 4;
	n1_sign(f, &e, &ns.base);
	ns.cpu_percent = 99;
	send_batch(f, "n1", &e);
	assert_n1(f, 3, 0, 0);
	assert_int_equal(vouch_count(f, "forged"), 3);
	assert_int_equal(vouch_count(f, "unchecked"), 2);
}

/* q asks us for n1's events after (1, seq). */
static void
ask_replay(struct fixture *f, const char *peer, uint64_t seq)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__SnapshotRequest rq =
	    AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	Agentflow__Mesh__V1__Cursor c = AGENTFLOW__MESH__V1__CURSOR__INIT,
	    *cp = &c;
	char *origin = "n1";

	c.origin = "n1";
	c.incarnation = 1;
	c.seq = seq;
	rq.n_origins = 1;
	rq.origins = &origin;
	rq.n_cursors = 1;
	rq.cursors = &cp;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	fr.snapshot_request = &rq;
	sync_frame(peer, &fr, f->sync);
}

/* n1's plain status seq, saying only statuses came from `from`, signed
 * as saying `signed_from` (equal: a good signature), from peer. */
static void
n1_status_from(struct fixture *f, const char *peer, uint64_t seq,
    uint64_t from, uint64_t signed_from)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__NodeStatus ns = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &ns;
	e.seq = seq;
	ns.statuses_from = signed_from;
	n1_sign(f, &e, &ns.base);
	ns.statuses_from = from;
	send_batch(f, peer, &e);
}

/*
 * A status whose origin signed that only statuses came since our cursor
 * is taken past the statuses we lack (a catch-up left them out); one that
 * says less, or that its origin did not sign, is not.
 */
static void
test_a_status_is_taken_past_statuses_on_its_origins_word(void **state)
{
	struct fixture *f = *state;

	n1_key_status(f);
	n1_deliver(f, "n1", 2);
	assert_n1(f, 2, 0, 0);
	/* relayed: 3..5 were statuses, 6 says so */
	n1_status_from(f, "p", 6, 3, 3);
	assert_n1(f, 6, 0, 0);
	assert_int_equal(counter(f, "statuses_past"), 1);
	assert_int_equal(counter(f, "gaps"), 0);
	/* one that says only 8..10 were: 7 is not known to be a status */
	n1_status_from(f, "p", 10, 8, 8);
	assert_n1(f, 6, 0, 0);
	/* the relay's lie: signed as 8, sent as 7 */
	n1_status_from(f, "p", 11, 7, 8);
	assert_n1(f, 6, 0, 0);
	assert_int_equal(vouch_count(f, "forged"), 1);
	/* the origin's own word, straight from it */
	n1_status_from(f, "n1", 12, 7, 7);
	assert_n1(f, 12, 0, 0);
	assert_int_equal(counter(f, "statuses_past"), 2);
	/* a word past its own seq says nothing: 20 says 21.. */
	n1_status_from(f, "p", 20, 21, 21);
	assert_n1(f, 12, 0, 0);
	/* a status that follows on needs no word: 13 */
	n1_status_from(f, "p", 13, 0, 0);
	assert_n1(f, 13, 0, 0);
	assert_int_equal(counter(f, "statuses_past"), 2);
	/* and the event after a skip follows on: 14 */
	n1_deliver(f, "p", 14);
	assert_n1(f, 14, 0, 0);
	/* a status that came before the event it follows is held, then
	 * taken with it: 17 says 16.. were statuses, 15 comes after it */
	n1_status_from(f, "p", 17, 16, 16);
	assert_n1(f, 14, 0, 0);
	n1_deliver(f, "p", 15);
	assert_n1(f, 17, 0, 0);
	assert_int_equal(counter(f, "statuses_past"), 3);
	assert_int_equal(counter(f, "gaps"), 0);
}

/* A hole a relayed snapshot opened closes when a sparse replay fills it:
 * the statuses it leaves out are not wanted. */
static void
test_a_sparse_replay_closes_a_hole(void **state)
{
	struct fixture *f = *state;

	n1_key_status(f);
	n1_deliver(f, "n1", 2);
	relayed_snapshot(f, 9, 9);
	assert_n1(f, 9, 3, 8);
	n1_deliver(f, "p", 3);
	assert_n1(f, 9, 4, 8);
	/* 4 and 5 were statuses, 6 says so */
	n1_status_from(f, "p", 6, 4, 4);
	assert_n1(f, 9, 7, 8);
	/* one whose word does not reach the hole's start does not move it */
	n1_status_from(f, "p", 8, 8, 8);
	assert_n1(f, 9, 7, 8);
	n1_deliver(f, "p", 7);
	assert_n1(f, 9, 8, 8);
	n1_status_from(f, "p", 8, 8, 8);
	assert_n1(f, 9, 0, 0);
}

/*
 * A replay from our log hands n1's events taken unchecked on only once
 * their signature holds: of good 2, bad 3 and good 4 (all from n1), a
 * peer that asks after 1 is replayed 2 alone, the replay ending at 3 in a
 * snapshot of n1 at 4, whose proof, 4, is checked too.  The log keeps
 * each verdict: asked again, nothing is checked again and the lie is not
 * counted twice.
 */
static void
test_a_replay_checks_what_was_taken_unchecked(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;
	int flags[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };

	n1_key_status(f);
	n1_deliver(f, "n1", 2);
	n1_event(f, &e, &u, 3);
	u.name = "changed after signing";
	send_batch(f, "n1", &e);
	n1_deliver(f, "n1", 4);
	assert_n1(f, 4, 0, 0);
	assert_int_equal(vouch_count(f, "unchecked"), 3);
	event_base_loop(f->base, EVLOOP_NONBLOCK);	/* commits the batch */

	ask_replay(f, "q", 1);
	assert_int_equal(counter(f, "replayed"), 1);
	assert_int_equal(vouch_count(f, "forged"), 1);
	assert_int_equal(vouch_count(f, "rechecked"), 3);
	assert_int_equal(store_events_after(f->st, "n1", 1, 0, 0, unchecked_row,
	    flags), 0);
	assert_int_equal(flags[2], 0);
	assert_int_equal(flags[3], STORE_EVENT_FORGED);
	assert_int_equal(flags[4], 0);

	ask_replay(f, "q", 1);
	assert_int_equal(counter(f, "replayed"), 2);
	assert_int_equal(vouch_count(f, "forged"), 1);
	assert_int_equal(vouch_count(f, "rechecked"), 3);
}

static void
test_a_relayed_snapshot_keeps_the_events_it_skips(void **state)
{
	struct fixture *f = *state;

	/* n1 itself: its first status carries its key, then an event */
	n1_key_status(f);
	n1_deliver(f, "n1", 2);
	assert_n1(f, 2, 0, 0);

	/* p, a relay, snapshots n1 at 5 with n1's signed event 5: 3 and 4
	 * are still wanted; 5, which vouches for the cursor, is held */
	relayed_snapshot(f, 5, 5);
	assert_n1(f, 5, 3, 4);
	assert_int_equal(vouch_count(f, "holes_opened"), 1);
	assert_int_equal(logged_after(f, 2), 1);

	/* the replay brings 3 and 4: taken, though below the cursor */
	n1_deliver(f, "p", 3);
	n1_deliver(f, "p", 4);
	assert_int_equal(logged_after(f, 2), 3);
	assert_int_equal(vouch_count(f, "hole_events"), 2);
	assert_n1(f, 5, 0, 0);
	/* then they are duplicates again; and the live flow goes on */
	n1_deliver(f, "p", 4);
	assert_int_equal(vouch_count(f, "hole_events"), 2);
	n1_deliver(f, "n1", 6);
	assert_int_equal(logged_after(f, 2), 4);

	/* a snapshot whose proof lies after its cursor (a replay's run
	 * follows it): the cursor's own seq is wanted too */
	relayed_snapshot(f, 8, 9);
	assert_n1(f, 8, 7, 8);
	/* an event outside the hole and below the cursor stays a duplicate */
	n1_deliver(f, "p", 6);
	assert_int_equal(vouch_count(f, "hole_events"), 2);
	/* one out of order is taken, and asked again: the hole shrinks
	 * from its start */
	n1_deliver(f, "p", 8);
	n1_deliver(f, "p", 7);
	assert_int_equal(vouch_count(f, "hole_events"), 4);
	assert_n1(f, 8, 8, 8);
	n1_deliver(f, "p", 8);
	assert_n1(f, 8, 0, 0);
	assert_int_equal(logged_after(f, 2), 6);

	/* without a signed event at or past its cursor: nothing moves */
	relayed_snapshot(f, 20, 12);
	assert_n1(f, 8, 0, 0);
}

/* --- the mesh's view of jobs (sync_jobs.c) ----------------------------- */

static void
job_init(Agentflow__Mesh__V1__JobUpdate *u, const char *id, const char *state,
    uint64_t updated_ms)
{
	agentflow__mesh__v1__job_update__init(u);
	u->job_id = (char *)id;
	u->state = (char *)state;
	u->task = "backup";
	u->to = "any";
	u->updated_ms = updated_ms;
	u->submitted_ms = updated_ms;
}

/* Origin's job event (incarnation 1, seq) straight from the origin. */
static void
deliver_job(struct fixture *f, const char *origin, uint64_t seq,
    Agentflow__Mesh__V1__JobUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	e.job = u;
	deliver_event(f, &e, origin, seq);
}

/* peer's snapshot of origin at (1, seq) with jobs v[0..n). */
static void
snapshot_jobs(struct fixture *f, const char *peer, const char *origin,
    uint64_t seq, Agentflow__Mesh__V1__JobUpdate **v, size_t n)
{
	Agentflow__Mesh__V1__OriginState st = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;

	st.n_jobs = n;
	st.jobs = v;
	send_snapshot_of(f, peer, origin, seq, &st);
}

/* The view's summary of job id: its field k as a string ("" if none). */
static const char *
job_field(struct fixture *f, const char *id, const char *k, json_t **hold)
{
	const char *v;

	json_decref(*hold);
	*hold = sync_jobs_get(f->sync, id, NULL, NULL);
	v = json_string_value(json_object_get(*hold, k));
	return v != NULL ? v : "";
}

static void
test_jobs_from_their_issuer_only(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__JobUpdate u, w, *snap[1] = { &w };
	json_t *hold = NULL, *l;
	uint64_t inc;

	job_init(&u, "j1", "running", 100);
	u.node = "n2";
	deliver_job(f, "n1", 1, &u);
	assert_string_equal(job_field(f, "j1", "issuer", &hold), "n1");
	assert_string_equal(job_field(f, "j1", "state", &hold), "running");
	assert_true(json_is_true(json_object_get(hold, "remote")));
	assert_true(json_is_null(json_object_get(hold, "exit_code")));

	/* n2 cannot speak for n1: its event in n1's name is not taken. */
	job_init(&w, "jforged", "succeeded", 200);
	{
		Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
		e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
		e.job = &w;
		e.origin = "n1";
		e.incarnation = 1;
		e.seq = 2;
		e.hop_limit = 8;
		send_batch(f, "n2", &e);
	}
	assert_null(sync_jobs_get(f->sync, "jforged", NULL, NULL));
	/* ... nor by a snapshot of n1's state that it hands over. */
	snapshot_jobs(f, "n2", "n1", 50, snap, 1);
	assert_null(sync_jobs_get(f->sync, "jforged", NULL, NULL));
	assert_int_equal(number(sync_json_vouch(f->sync), "work_ignored"), 1);
	assert_int_equal(sync_jobs_count(f->sync), 1);

	/* The issuer's next word replaces its last. */
	u.state = "failed";
	u.exited = 1;
	u.exit_code = 3;
	u.updated_ms = 300;
	u.finished_ms = 300;
	deliver_job(f, "n1", 2, &u);
	assert_string_equal(job_field(f, "j1", "state", &hold), "failed");
	assert_int_equal(json_integer_value(json_object_get(hold, "exit_code")),
	    3);
	assert_int_equal(sync_jobs_count(f->sync), 1);

	/* Filters: state and task. */
	l = sync_jobs_list(f->sync, "failed", "backup", 10);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = sync_jobs_list(f->sync, "running", NULL, 10);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);

	/* The issuer's own snapshot is merged, news or not (link-up's at
	 * cursor 0 carries its earlier lives' jobs); the newer word wins. */
	job_init(&w, "j5", "queued", 400);
	snapshot_jobs(f, "n1", "n1", 0, snap, 1);
	assert_string_equal(job_field(f, "j5", "issuer", &hold), "n1");
	assert_string_equal(job_field(f, "j1", "state", &hold), "failed");
	job_init(&w, "j1", "running", 250);
	snapshot_jobs(f, "n1", "n1", 10, snap, 1);
	assert_string_equal(job_field(f, "j1", "state", &hold), "failed");
	assert_int_equal(sync_jobs_count(f->sync), 2);

	/* Ours are not the mesh's view's to list (the API lists them). */
	job_init(&u, "jours", "queued", 500);
	assert_int_not_equal(sync_emit_job(f->sync, &u), 0);
	assert_null(sync_jobs_get(f->sync, "jours", NULL, NULL));
	/* One outside the wire's bounds is not emitted at all. */
	u.state = "Not A State";
	assert_int_equal(sync_emit_job(f->sync, &u), 0);

	/* Forgetting the issuer forgets its jobs. */
	assert_int_equal(sync_forget(f->sync, "n1", &inc), 1);
	assert_null(sync_jobs_get(f->sync, "j5", NULL, NULL));
	assert_int_equal(sync_jobs_count(f->sync), 0);
	json_decref(hold);
}

/* A member may copy another's job id: a lookup by id alone then names
 * both issuers instead of showing the newest word as the job. */
static void
test_jobs_one_id_two_issuers(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__JobUpdate a, b;
	json_t *j, *issuers = NULL;

	job_init(&a, "j1", "running", 100);
	deliver_job(f, "n1", 1, &a);
	job_init(&b, "j1", "succeeded", 999999);
	deliver_job(f, "n2", 1, &b);
	assert_null(sync_jobs_get(f->sync, "j1", NULL, &issuers));
	assert_int_equal(json_array_size(issuers), 2);
	json_decref(issuers);
	j = sync_jobs_get(f->sync, "j1", "n1", NULL);
	assert_string_equal(json_string_value(json_object_get(j, "state")),
	    "running");
	json_decref(j);
	j = sync_jobs_get(f->sync, "j1", "n2", NULL);
	assert_string_equal(json_string_value(json_object_get(j, "issuer")), "n2");
	json_decref(j);
	assert_null(sync_jobs_get(f->sync, "j1", "n3", NULL));
}

static void
test_jobs_bounded_oldest_final_first(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__JobUpdate *u, **v, extra;
	char (*ids)[16];
	json_t *hold = NULL;

	u = calloc(SYNC_JOBS_MAX, sizeof(*u));
	v = calloc(SYNC_JOBS_MAX, sizeof(*v));
	ids = calloc(SYNC_JOBS_MAX, sizeof(*ids));
	assert_non_null(u);
	assert_non_null(v);
	assert_non_null(ids);
	/* A full list: job 0 the oldest open, job 1 a final one. */
	for (size_t i = 0; i < SYNC_JOBS_MAX; i++) {
		snprintf(ids[i], sizeof(ids[i]), "j%zu", i);
		job_init(&u[i], ids[i], "running", 1000 + i);
		v[i] = &u[i];
	}
	u[1].state = "succeeded";
	u[1].finished_ms = 1001;
	snapshot_jobs(f, "n1", "n1", 1, v, SYNC_JOBS_MAX);
	assert_int_equal(sync_jobs_count(f->sync), SYNC_JOBS_MAX);

	/* One more: the final one goes, though job 0 is older. */
	job_init(&extra, "jnew", "queued", 5000);
	deliver_job(f, "n1", 2, &extra);
	assert_int_equal(sync_jobs_count(f->sync), SYNC_JOBS_MAX);
	assert_null(sync_jobs_get(f->sync, "j1", NULL, NULL));
	assert_string_equal(job_field(f, "j0", "state", &hold), "running");
	/* None final left: the oldest goes. */
	job_init(&extra, "jnewer", "queued", 6000);
	deliver_job(f, "n1", 3, &extra);
	assert_int_equal(sync_jobs_count(f->sync), SYNC_JOBS_MAX);
	assert_null(sync_jobs_get(f->sync, "j0", NULL, NULL));
	assert_non_null(job_field(f, "jnewer", "id", &hold));
	assert_string_equal(job_field(f, "jnewer", "id", &hold), "jnewer");
	json_decref(hold);
	free(ids);
	free(v);
	free(u);
}

/* With keys: n1's signed job event relayed by p is n1's; one in n1's name
 * that n1 did not sign so is refused (forged) and listed nowhere. */
static void
test_relayed_jobs_need_the_issuers_signature(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__JobUpdate u;
	json_t *hold = NULL;

	n1_key_status(f);

	job_init(&u, "j1", "queued", 100);
	agentflow__mesh__v1__event__init(&e);
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	e.job = &u;
	e.seq = 2;
	n1_sign(f, &e, &u.base);
	send_batch(f, "p", &e);
	assert_string_equal(job_field(f, "j1", "issuer", &hold), "n1");

	/* Signed by n1, then changed by the relay: refused. */
	e.seq = 3;
	u.updated_ms = 200;
	n1_sign(f, &e, &u.base);
	u.state = "succeeded";
	send_batch(f, "p", &e);
	assert_string_equal(job_field(f, "j1", "state", &hold), "queued");
	assert_int_equal(vouch_count(f, "forged"), 1);
	json_decref(hold);
}

/* --- schedules (sync_schedules.c): the newest word on each half wins ------- */

static int schedule_hooked;

static void
schedule_hook(const Agentflow__Mesh__V1__ScheduleUpdate *u, void *arg)
{
	(void)u;
	(void)arg;
	schedule_hooked++;
}

static void
test_schedules_newest_wins(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__ScheduleUpdate u =
	    AGENTFLOW__MESH__V1__SCHEDULE_UPDATE__INIT;
	const Agentflow__Mesh__V1__ScheduleUpdate *h;

	schedule_hooked = 0;
	sync_set_schedule_hook(f->sync, schedule_hook, NULL);
	u.name = "s";
	u.spec_json = "{\"v\":\"a\"}";
	u.updated_ms = 100;
	u.author = "self";
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	assert_int_equal(sync_emit_schedule(f->sync, &u), 0);	/* as new */
	/* An older definition from n1 changes nothing. */
	u.spec_json = "{\"v\":\"b\"}";
	u.updated_ms = 50;
	u.author = "n1";
	schedule_from(f, 1, &u);
	assert_string_equal(sync_schedules_get(f->sync, "s")->spec_json,
	    "{\"v\":\"a\"}");
	assert_int_equal(schedule_hooked, 0);
	/* A newer one wins, and the store's owner hears of it. */
	u.spec_json = "{\"v\":\"c\"}";
	u.updated_ms = 200;
	schedule_from(f, 2, &u);
	assert_string_equal(sync_schedules_get(f->sync, "s")->spec_json,
	    "{\"v\":\"c\"}");
	assert_int_equal(schedule_hooked, 1);
	/* The same time: the greater author wins ("a" < "n1"). */
	u.spec_json = "{\"v\":\"d\"}";
	u.author = "a";
	schedule_from(f, 3, &u);
	assert_string_equal(sync_schedules_get(f->sync, "s")->spec_json,
	    "{\"v\":\"c\"}");
	/* A fire is ordered apart: ours with an old definition keeps the
	 * newer definition and takes the fire. */
	u.spec_json = "{\"v\":\"a\"}";
	u.updated_ms = 100;
	u.author = "self";
	u.fire_ms = 1000;
	u.fire_job = "j1";
	u.fire_node = "self";
	u.fire_outcome = "queued";
	u.fire_updated_ms = 5;
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	h = sync_schedules_get(f->sync, "s");
	assert_string_equal(h->spec_json, "{\"v\":\"c\"}");
	assert_int_equal(h->fire_ms, 1000);
	/* An older fire from n1 is dropped; the same fire's later outcome
	 * is taken. */
	u.updated_ms = 200;
	u.author = "n1";
	u.spec_json = "{\"v\":\"c\"}";
	u.fire_ms = 900;
	u.fire_outcome = "skipped";
	schedule_from(f, 4, &u);
	assert_string_equal(sync_schedules_get(f->sync, "s")->fire_outcome,
	    "queued");
	u.fire_ms = 1000;
	u.fire_updated_ms = 6;
	u.fire_outcome = "succeeded";
	schedule_from(f, 5, &u);
	assert_string_equal(sync_schedules_get(f->sync, "s")->fire_outcome,
	    "succeeded");
	/* A newer tombstone deletes; the fire stays. */
	u.spec_json = "";
	u.deleted = 1;
	u.updated_ms = 300;
	schedule_from(f, 6, &u);
	h = sync_schedules_get(f->sync, "s");
	assert_true(h->deleted);
	assert_int_equal(h->fire_ms, 1000);
	/* A deletion is kept, and not counted among the live ones. */
	assert_int_equal(sync_schedules_count(f->sync), 0);
	/* A word dated a year ahead of our clock is refused whole: it would
	 * hold the schedule still. */
	u.spec_json = "{\"v\":\"d\"}";
	u.deleted = 0;
	u.updated_ms = clock_wall_ms() + 365ULL * 24 * 3600 * 1000;
	u.fire_ms = 2000;
	schedule_from(f, 7, &u);
	h = sync_schedules_get(f->sync, "s");
	assert_true(h->deleted);
	assert_int_equal(h->fire_ms, 1000);
	sync_set_schedule_hook(f->sync, NULL, NULL);
}

/*
 * Who made a definition moves with it (principal, principal_ms and
 * principal_author), and is named only for the definition principal_ms
 * dates and principal_author's node made: a version without the fields
 * keeps the previous ones as unknown fields when it changes the
 * definition, or takes another node's of the same time, so its word
 * names alice for a change she did not make.
 */
static void
test_schedules_principal_of_its_definition(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__ScheduleUpdate u =
	    AGENTFLOW__MESH__V1__SCHEDULE_UPDATE__INIT;
	const Agentflow__Mesh__V1__ScheduleUpdate *h;

	u.name = "p";
	u.spec_json = "{\"v\":\"a\"}";
	u.updated_ms = 100;
	u.author = "self";
	u.principal = "alice";
	u.principal_ms = 100;
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	assert_string_equal(sync_schedules_principal(sync_schedules_get(
	    f->sync, "p")), "alice");
	/* n1, an older version, pauses it: alice's pair rides along */
	u.spec_json = "{\"v\":\"a\",\"paused\":true}";
	u.updated_ms = 200;
	u.author = "n1";
	schedule_from(f, 1, &u);
	h = sync_schedules_get(f->sync, "p");
	assert_int_equal(h->updated_ms, 200);
	assert_string_equal(h->principal, "alice");
	assert_string_equal(sync_schedules_principal(h), "");
	/* its fire keeps the definition, and so who made it */
	u.fire_ms = 1000;
	u.fire_outcome = "queued";
	u.fire_updated_ms = 1;
	schedule_from(f, 2, &u);
	h = sync_schedules_get(f->sync, "p");
	assert_int_equal(h->fire_ms, 1000);
	assert_string_equal(sync_schedules_principal(h), "");
	/* bob's newer definition names him, and a fire of ours on the
	 * definition before (alice's) takes nothing of hers */
	u.spec_json = "{\"v\":\"b\"}";
	u.updated_ms = 300;
	u.principal = "bob";
	u.principal_ms = 300;
	schedule_from(f, 3, &u);
	u.spec_json = "{\"v\":\"a\"}";
	u.updated_ms = 100;
	u.author = "self";
	u.principal = "alice";
	u.principal_ms = 100;
	u.fire_ms = 2000;
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	h = sync_schedules_get(f->sync, "p");
	assert_int_equal(h->fire_ms, 2000);
	assert_string_equal(h->spec_json, "{\"v\":\"b\"}");
	assert_string_equal(sync_schedules_principal(h), "bob");
	/* The tie: bob's definition of 300 was n1's; n2's change of the same
	 * time, as a version without these fields merges it over bob's
	 * (his principal, principal_ms and principal_author kept with the
	 * new author), names nobody. */
	u.spec_json = "{\"v\":\"c\"}";
	u.updated_ms = 300;
	u.author = "n2";
	u.principal = "bob";
	u.principal_ms = 300;
	u.principal_author = sync_schedules_author_digest("n1");
	u.fire_ms = 0;
	schedule_from(f, 4, &u);
	h = sync_schedules_get(f->sync, "p");
	assert_string_equal(h->spec_json, "{\"v\":\"c\"}");
	assert_string_equal(sync_schedules_principal(h), "");
	/* carol's change of the same time made on n3 names her */
	u.spec_json = "{\"v\":\"d\"}";
	u.author = "n3";
	u.principal = "carol";
	u.principal_author = sync_schedules_author_digest("n3");
	schedule_from(f, 5, &u);
	assert_string_equal(sync_schedules_principal(sync_schedules_get(
	    f->sync, "p")), "carol");
	u.author = "self";
	u.principal_author = 0;
	/* a definition with nobody named (principal_ms 0) names nobody */
	u.spec_json = "";
	u.deleted = 1;
	u.updated_ms = 400;
	u.principal = "carol";
	u.principal_ms = 0;
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	assert_string_equal(sync_schedules_principal(sync_schedules_get(
	    f->sync, "p")), "");
}

/* --- silences (sync_silences.c): a removal wins; a bad word is dropped - */

static int silence_hooked, silence_checked;

static int
silence_check(const Agentflow__Mesh__V1__SilenceUpdate *u, void *arg)
{
	(void)arg;
	silence_checked++;
	return strcmp(u->spec_json, "bad") == 0 ? -1 : 0;
}

static void
silence_changed(const Agentflow__Mesh__V1__SilenceUpdate *u, void *arg)
{
	(void)u;
	(void)arg;
	silence_hooked++;
}

static void
silence_from(struct fixture *f, uint64_t seq,
    Agentflow__Mesh__V1__SilenceUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
	e.silence = u;
	deliver_event(f, &e, "n1", seq);
}

static void
test_silences_removal_wins(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u =
	    AGENTFLOW__MESH__V1__SILENCE_UPDATE__INIT;
	uint64_t now = clock_wall_ms();

	silence_hooked = silence_checked = 0;
	sync_set_silence_hooks(f->sync, silence_check, silence_changed, NULL);
	/* n1's silence, checked then taken, the owner told */
	u.id = "sil-1-a";
	u.spec_json = "{}";
	u.updated_ms = now;
	u.author = "n1";
	u.ends_ms = now + 3600000;
	silence_from(f, 1, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-1-a"));
	assert_int_equal(silence_checked, 1);
	assert_int_equal(silence_hooked, 1);
	/* a bad one is dropped and counted; the next event still goes in */
	u.id = "sil-2-a";
	u.spec_json = "bad";
	silence_from(f, 2, &u);
	assert_null(sync_silences_get(f->sync, "sil-2-a"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	/* our removal, even dated before the silence (clocks differ), wins */
	u.id = "sil-1-a";
	u.spec_json = "";
	u.deleted = 1;
	u.updated_ms = now - 1000;
	u.author = "self";
	assert_int_equal(sync_emit_silence(f->sync, &u), 1);
	assert_true(sync_silences_get(f->sync, "sil-1-a")->deleted);
	/* the silence again (a late snapshot) changes nothing */
	u.spec_json = "{}";
	u.deleted = 0;
	u.updated_ms = now;
	u.author = "n1";
	silence_from(f, 3, &u);
	assert_true(sync_silences_get(f->sync, "sil-1-a")->deleted);
	assert_int_equal(silence_hooked, 1);
	/* of two removals the newer: n1's later one is taken */
	u.spec_json = "";
	u.deleted = 1;
	u.updated_ms = now + 5;
	silence_from(f, 4, &u);
	assert_string_equal(sync_silences_get(f->sync, "sil-1-a")->author, "n1");
	assert_int_equal(silence_hooked, 2);
	/* one that has ended is not kept; one dated a year ahead is refused */
	u.id = "sil-3-a";
	u.spec_json = "{}";
	u.deleted = 0;
	u.ends_ms = now - 1;
	silence_from(f, 5, &u);
	assert_null(sync_silences_get(f->sync, "sil-3-a"));
	u.ends_ms = now + 3600000;
	u.updated_ms = now + 365ULL * 24 * 3600 * 1000;
	silence_from(f, 6, &u);
	assert_null(sync_silences_get(f->sync, "sil-3-a"));
	assert_int_equal(sync_silences_refused(f->sync), 2);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* n1's word on id: a silence when !deleted, a removal else. */
static void
silence_word(Agentflow__Mesh__V1__SilenceUpdate *u, const char *id,
    int deleted, uint64_t updated_ms, uint64_t ends_ms)
{
	agentflow__mesh__v1__silence_update__init(u);
	u->id = (char *)id;
	u->spec_json = deleted ? "" : "{}";
	u->deleted = deleted;
	u->updated_ms = updated_ms;
	u->author = "n1";
	u->ends_ms = ends_ms;
}

/* Events of nodes n2..n9, each in its own order (seq). */
struct senders {
	uint64_t	seq[10];
};

/* u as node k's event, its author node k. */
static void
silence_by(struct fixture *f, struct senders *w, int k,
    Agentflow__Mesh__V1__SilenceUpdate *u)
{
	static const char *const names[] = { "n0", "n1", "n2", "n3", "n4",
	    "n5", "n6", "n7", "n8", "n9" };
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	u->author = (char *)names[k];
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
	e.silence = u;
	deliver_event(f, &e, names[k], ++w->seq[k]);
}

/* Node k's n words sil-<i>-<tail> (i from 0; removals when deleted),
 * made at now, the i-th ending at ends_ms + i * step. */
static void
words_by(struct fixture *f, struct senders *w, int k, int n,
    const char *tail, int deleted, uint64_t now, uint64_t ends_ms,
    uint64_t step)
{
	Agentflow__Mesh__V1__SilenceUpdate u;
	char id[64];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "sil-%d-%.31s", i, tail);
		silence_word(&u, id, deleted, now, ends_ms + (uint64_t)i * step);
		silence_by(f, w, k, &u);
	}
}

/* n words sil-<i>-<tail> of author (removals when deleted), made at now
 * and ending at ends_ms, as our store gives them at start. */
static void
seeded(struct fixture *f, int n, const char *tail, const char *author,
    int deleted, uint64_t now, uint64_t ends_ms)
{
	Agentflow__Mesh__V1__SilenceUpdate u;
	char id[64];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "sil-%d-%.31s", i, tail);
		silence_word(&u, id, deleted, now, ends_ms);
		u.author = (char *)author;
		sync_silences_seed(f->sync, &u);
	}
}

/* v[0..n) in one snapshot of origin (its cursor at seq). */
static void
silences_in_snapshot(struct fixture *f, const char *origin, uint64_t seq,
    Agentflow__Mesh__V1__SilenceUpdate **v, size_t n)
{
	Agentflow__Mesh__V1__OriginState st =
	    AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;

	st.n_silences = n;
	st.silences = v;
	send_snapshot_of(f, origin, origin, seq, &st);
}

/* A snapshot's claims: n words sil-<i>-<tail> of author (removals when
 * deleted), ending at ends_ms; ids hold their ids, v points at them. */
struct claims {
	Agentflow__Mesh__V1__SilenceUpdate	 u[20], *v[20];
	char					 ids[20][32];
};

static void
claims_init(struct claims *c, size_t n, const char *tail,
    const char *author, int deleted, uint64_t now, uint64_t ends_ms)
{
	assert_true(n <= 20);
	for (size_t i = 0; i < n; i++) {
		snprintf(c->ids[i], sizeof(c->ids[i]), "sil-%zu-%s", i, tail);
		silence_word(&c->u[i], c->ids[i], deleted, now, ends_ms);
		c->u[i].author = (char *)author;
		c->v[i] = &c->u[i];
	}
}

/* How many of the ids sil-<from..to>-<tail> the view holds removed by
 * author. */
static size_t
removals_of(struct fixture *f, const char *tail, int from, int to,
    const char *author)
{
	const Agentflow__Mesh__V1__SilenceUpdate *h;
	char id[32];
	size_t n = 0;

	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "sil-%d-%s", i, tail);
		h = sync_silences_get(f->sync, id);
		n += h != NULL && h->deleted && strcmp(h->author, author) == 0;
	}
	return n;
}

/* 64 silences (16 of each of four nodes) and 64 removals held; a
 * removal of a live one, then a new one: every path keeps both bounds
 * (a removal that took a silence's place used to grow the view past
 * them and abort on its CHECK). */
static void
test_silences_bounded_on_every_path(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();
	char id[32];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	for (int i = 0; i < SYNC_SILENCES_MAX; i++) {
		snprintf(id, sizeof(id), "sil-%d-a", i);
		silence_word(&u, id, 0, now, now + 3600000);
		silence_by(f, &w, 2 + i % 4, &u);
	}
	for (int i = 0; i < SYNC_SILENCE_TOMBSTONES_MAX; i++) {
		snprintf(id, sizeof(id), "sil-%d-b", i);
		/* sil-0-b ends first, though it is the oldest but one */
		silence_word(&u, id, 1, now + (i == 1 ? 0 : 1000 + (uint64_t)i),
		    now + 3600000 + (i == 0 ? 0 : 1000 + (uint64_t)i));
		silence_by(f, &w, 2 + i % 4, &u);
	}
	assert_int_equal(sync_silences_held(f->sync), 128);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	/* a removal of a live one, ending before it: the removal that ends
	 * first goes, and this one keeps the silence's end */
	silence_word(&u, "sil-0-a", 1, now, now + 60000);
	silence_by(f, &w, 3, &u);
	assert_int_equal(sync_silences_held(f->sync), 127);
	assert_true(sync_silences_get(f->sync, "sil-0-a")->deleted);
	assert_int_equal(sync_silences_get(f->sync, "sil-0-a")->ends_ms,
	    now + 3600000);
	assert_null(sync_silences_get(f->sync, "sil-0-b"));
	assert_non_null(sync_silences_get(f->sync, "sil-1-b"));
	/* a new one of n2 fits in the room the removal made; the next
	 * does not */
	silence_word(&u, "sil-new-a", 0, now, now + 3600000);
	silence_by(f, &w, 2, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-new-a"));
	silence_word(&u, "sil-more-a", 0, now, now + 3600000);
	silence_by(f, &w, 2, &u);
	assert_null(sync_silences_get(f->sync, "sil-more-a"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	assert_int_equal(sync_silences_held(f->sync), 128);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* Rule 1: an event adding a silence past its author's 16 is refused and
 * counted; a snapshot's claim of an author is not charged to it. */
static void
test_silences_an_authors_share(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct claims c;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	words_by(f, &w, 2, SYNC_SILENCE_SHARE_MAX, "a", 0, now, now + 3600000, 0);
	assert_non_null(sync_silences_get(f->sync, "sil-15-a"));
	assert_int_equal(sync_silences_refused(f->sync), 0);
	silence_word(&u, "sil-99-a", 0, now, now + 3600000);
	silence_by(f, &w, 2, &u);
	assert_null(sync_silences_get(f->sync, "sil-99-a"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	/* n3's snapshot says n4 made 20: taken, none charged to n4 */
	claims_init(&c, 20, "c", "n4", 0, now, now + 3600000);
	silences_in_snapshot(f, "n3", 1, c.v, 20);
	assert_non_null(sync_silences_get(f->sync, "sil-19-c"));
	words_by(f, &w, 4, SYNC_SILENCE_SHARE_MAX, "d", 0, now, now + 3600000, 0);
	assert_non_null(sync_silences_get(f->sync, "sil-15-d"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* A node's own words in its own snapshot are its signed word, charged
 * to its share like its events (they went uncharged: its 64 filled the
 * view and the next node's first was refused). */
static void
test_silences_own_snapshot_is_charged(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct claims c;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	claims_init(&c, 20, "e", "n5", 0, now, now + 3600000);
	silences_in_snapshot(f, "n5", 1, c.v, 20);
	assert_non_null(sync_silences_get(f->sync, "sil-15-e"));
	assert_null(sync_silences_get(f->sync, "sil-16-e"));
	assert_int_equal(sync_silences_refused(f->sync), 4);
	silence_word(&u, "sil-99-e", 0, now, now + 3600000);
	w.seq[5] = 1;	/* past the snapshot's cursor */
	silence_by(f, &w, 5, &u);
	assert_null(sync_silences_get(f->sync, "sil-99-e"));
	silence_word(&u, "sil-0-h", 0, now, now + 3600000);
	silence_by(f, &w, 2, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-0-h"));
	assert_int_equal(sync_silences_refused(f->sync), 5);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* A snapshot's claim naming n4 the author of newer removals of n3's 16
 * signed ones replaces none of them: a claim in another's name would
 * demote a signed word to a claim, the first forgotten (n9's flood then
 * forgot n3's removal and replayed the silence live).  n4's own 16
 * signed removals then forget none of n3's. */
static void
test_silences_a_claim_does_not_inherit_signed(void **state)
{
	struct fixture *f = *state;
	struct senders w = { { 0 } };
	struct claims c;
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	words_by(f, &w, 3, SYNC_SILENCE_SHARE_MAX, "a", 1, now, now + 3600000,
	    0);
	assert_int_equal(removals_of(f, "a", 0, 16, "n3"), 16);
	claims_init(&c, 16, "a", "n4", 1, now + 1, now + 3600000);
	silences_in_snapshot(f, "n9", 1, c.v, 16);
	assert_int_equal(removals_of(f, "a", 0, 16, "n3"), 16);
	words_by(f, &w, 4, SYNC_SILENCE_SHARE_MAX, "b", 1, now, now + 3600000,
	    0);
	assert_int_equal(removals_of(f, "a", 0, 16, "n3"), 16);
	assert_int_equal(removals_of(f, "b", 0, 16, "n4"), 16);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* n9 adds its 16 silences and removes them, four times over: each
 * removal keeps a live silence removed, as n3's of n2's silence does,
 * and ends last.  When they fill the removals n9's own go, not n3's
 * (that went, and n9's snapshot brought n2's silence back to life).
 * claim: first n9's snapshot names n4 the author of a newer removal of
 * the silence, which must leave n3's signed word as it was (it used to
 * demote it to a claim, the first forgotten). */
static void
flood_over_a_removal(void **state, int claim)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u, *up = &u;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms(), far = now + 80ULL * 86400 * 1000;
	char tail[8];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	silence_word(&u, "sil-0-x", 0, now, now + 3600000);
	silence_by(f, &w, 2, &u);
	silence_word(&u, "sil-0-x", 1, now, now + 3600000);
	silence_by(f, &w, 3, &u);
	if (claim) {
		silence_word(&u, "sil-0-x", 1, now + 1, now + 3600000);
		u.author = "n4";
		silences_in_snapshot(f, "n9", 1, &up, 1);
		assert_int_equal(removals_of(f, "x", 0, 1, "n3"), 1);
		w.seq[9] = 1;
	}
	for (int c = 0; c < 4; c++) {
		snprintf(tail, sizeof(tail), "m%d", c);
		words_by(f, &w, 9, SYNC_SILENCE_SHARE_MAX, tail, 0, now, far, 0);
		words_by(f, &w, 9, SYNC_SILENCE_SHARE_MAX, tail, 1, now, far, 0);
	}
	assert_int_equal(sync_silences_refused(f->sync), 0);
	assert_int_equal(removals_of(f, "x", 0, 1, "n3"), 1);
	assert_int_equal(removals_of(f, "m0", 0, 16, "n9"), 15);
	assert_int_equal(removals_of(f, "m3", 0, 16, "n9"), 16);
	/* n9 replays n2's silence in its snapshot: the removal stands */
	silence_word(&u, "sil-0-x", 0, now, now + 3600000);
	u.author = "n2";
	silences_in_snapshot(f, "n9", 100, &up, 1);
	assert_true(sync_silences_get(f->sync, "sil-0-x")->deleted);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

static void
test_silences_a_flood_pushes_out_its_own(void **state)
{
	flood_over_a_removal(state, 0);
}

static void
test_silences_a_claim_does_not_demote_signed(void **state)
{
	flood_over_a_removal(state, 1);
}

/* Words in our name that would be refused anyway (ending 200 days on,
 * past any removal's bound; the codec takes up to year 9999) are not
 * remembered as claimed: they filled that memory, and a true claim
 * after them was forgotten. */
static void
test_silences_only_takeable_claims_remembered(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate us[64], *v[64], u, *up = &u;
	uint64_t now = clock_wall_ms();
	char ids[64][32];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	for (int i = 0; i < 64; i++) {
		snprintf(ids[i], sizeof(ids[i]), "junk-%d", i);
		silence_word(&us[i], ids[i], 1, now,
		    now + 200ULL * 86400 * 1000);
		us[i].author = "self";
		v[i] = &us[i];
	}
	silences_in_snapshot(f, "n9", 1, v, 64);
	assert_int_equal(sync_silences_refused(f->sync), 64);
	assert_false(sync_silences_claimed(f->sync, "junk-0"));
	silence_word(&u, "sil-1-s", 0, now, now + 3600000);
	u.author = "self";
	silences_in_snapshot(f, "n1", 1, &up, 1);
	assert_true(sync_silences_claimed(f->sync, "sil-1-s"));
	assert_null(sync_silences_get(f->sync, "sil-1-s"));
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* A removal that goes from a snapshot's claim to its author's signed
 * word is charged to the author's share, whether the same word comes
 * signed or a newer one of the author replaces the claim: n3 keeps 16
 * signed removals of ids not live here, not 24 (its first-ending go). */
static void
test_silences_a_claim_signed_later_is_charged(void **state)
{
	struct fixture *f = *state;
	struct senders w = { { 0 } };
	struct claims c;
	uint64_t now = clock_wall_ms();
	size_t n;

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	words_by(f, &w, 3, SYNC_SILENCE_SHARE_MAX, "y", 1, now,
	    now + 3600000, 0);
	/* the same words, first claimed, then signed */
	claims_init(&c, 4, "z", "n3", 1, now, now + 7200000);
	silences_in_snapshot(f, "n9", 1, c.v, 4);
	for (int i = 0; i < 4; i++)
		silence_by(f, &w, 3, &c.u[i]);
	/* claims of n8's removals, replaced by newer ones of n3 */
	claims_init(&c, 4, "v", "n8", 1, now, now + 7200000);
	silences_in_snapshot(f, "n9", 2, c.v, 4);
	words_by(f, &w, 3, 4, "v", 1, now + 1, now + 7200000, 0);
	n = removals_of(f, "y", 0, 16, "n3") + removals_of(f, "z", 0, 4,
	    "n3") + removals_of(f, "v", 0, 4, "n3");
	assert_int_equal(n, SYNC_SILENCE_SHARE_MAX);
	assert_int_equal(removals_of(f, "y", 0, 16, "n3"), 8);
	assert_int_equal(removals_of(f, "z", 0, 4, "n3"), 4);
	assert_int_equal(removals_of(f, "v", 0, 4, "n3"), 4);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* After a restart only our own words in the store are trusted: another
 * node's are held as claims.  n4's 16 silences there (perhaps a
 * snapshot's claims) spend none of n4's share.  Another's removals there
 * are kept (claims cannot push them out, test_silences_claims_do_not_
 * push_out_the_store), so while 8 of ours and n5's 56 fill the table,
 * n3's signed removals of ids not live here are refused (as before the
 * restart's claims were trusted less); every one stored stays. */
static void
test_silences_the_store_trusts_only_ours(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	seeded(f, SYNC_SILENCE_SHARE_MAX, "f", "n4", 0, now, now + 3600000);
	silence_word(&u, "sil-0-real", 0, now, now + 3600000);
	silence_by(f, &w, 4, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-0-real"));
	seeded(f, 8, "o", "self", 1, now, now + 3600000);
	seeded(f, SYNC_SILENCE_TOMBSTONES_MAX - 8, "r", "n5", 1, now,
	    now + 3600000);
	words_by(f, &w, 3, 60, "n", 1, now, now + 3600000, 0);
	assert_int_equal(removals_of(f, "n", 0, 60, "n3"), 0);
	assert_int_equal(sync_silences_refused(f->sync), 60);
	assert_int_equal(removals_of(f, "o", 0, 8, "self"), 8);
	assert_int_equal(removals_of(f, "r", 0, SYNC_SILENCE_TOMBSTONES_MAX - 8,
	    "n5"), SYNC_SILENCE_TOMBSTONES_MAX - 8);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* A node back from a restart with 64 removals in its store, and a
 * silence live that was removed while it was down: the remover's own
 * snapshot carries the removal, its signed word, and it is taken (the
 * silence used to stay live here, as it never did on main). */
static void
test_silences_full_store_takes_the_removers_snapshot(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u, *up = &u;
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	seeded(f, SYNC_SILENCE_TOMBSTONES_MAX, "r", "n5", 1, now,
	    now + 3600000);
	silence_word(&u, "sil-0-x", 0, now, now + 3600000);
	u.author = "n2";
	sync_silences_seed(f->sync, &u);
	silence_word(&u, "sil-0-x", 1, now + 1, now + 3600000);
	u.author = "n3";
	silences_in_snapshot(f, "n3", 1, &up, 1);
	assert_true(sync_silences_get(f->sync, "sil-0-x")->deleted);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* Rule 2: a removal of a silence live here is kept over every flood of
 * other removals, though it ends first; and one author's removals of
 * ids not live here are at most 16: its 17th forgets its own, not
 * another's that ends first. */
static void
test_silences_removals_of_live_ones_are_kept(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();
	char id[32];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "sil-%d-a", i);
		silence_word(&u, id, 0, now, now + 60000);
		silence_by(f, &w, 2, &u);
		silence_word(&u, id, 1, now, now + 60000);
		silence_by(f, &w, 9, &u);
		assert_true(sync_silences_get(f->sync, id)->deleted);
	}
	/* n8's one removal of an id not held, ending before the flood's */
	silence_word(&u, "sil-1-e", 1, now, now + 120000);
	silence_by(f, &w, 8, &u);
	/* n3 removes 40 ids not held: it keeps its last 16 */
	words_by(f, &w, 3, 40, "b", 1, now, now + 3600000, 1);
	assert_int_equal(removals_of(f, "b", 0, 40, "n3"),
	    SYNC_SILENCE_SHARE_MAX);
	assert_non_null(sync_silences_get(f->sync, "sil-39-b"));
	assert_null(sync_silences_get(f->sync, "sil-0-b"));
	assert_non_null(sync_silences_get(f->sync, "sil-1-e"));
	/* n4..n7 fill the removals: the ones of live silences stay */
	for (int k = 4; k <= 7; k++) {
		snprintf(id, sizeof(id), "c%d", k);
		words_by(f, &w, k, SYNC_SILENCE_SHARE_MAX, id, 1, now,
		    now + 3600000, 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "sil-%d-a", i);
		assert_non_null(sync_silences_get(f->sync, id));
		assert_true(sync_silences_get(f->sync, id)->deleted);
	}
	assert_int_equal(sync_silences_held(f->sync),
	    SYNC_SILENCE_TOMBSTONES_MAX);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* Rules 2 and 3: a snapshot's removals are forgotten before any signed
 * one, and never push one out; ours outlast every other. */
static void
test_silences_snapshot_claims_go_first(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct claims c;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();
	char id[32];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	/* 8 of ours, ending first */
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "sil-%d-s", i);
		silence_word(&u, id, 1, now, now + 60000);
		u.author = "self";
		assert_int_equal(sync_emit_silence(f->sync, &u), 1);
	}
	/* n6's silence, live */
	silence_word(&u, "sil-0-l", 0, now, now + 3600000);
	silence_by(f, &w, 6, &u);
	/* n9's snapshot claims 10 removals of n2's, ending last */
	claims_init(&c, 10, "x", "n2", 1, now, now + 7200000);
	silences_in_snapshot(f, "n9", 1, c.v, 10);
	assert_non_null(sync_silences_get(f->sync, "sil-9-x"));
	/* n2..n5 sign 16 each: the claims go, then the first-ending one of
	 * whoever holds the most, never ours: the 56 places left are
	 * shared out, 13 to 15 each (n5 15: it held the most when its last
	 * came, so its own first went) */
	for (int k = 2; k <= 5; k++) {
		snprintf(id, sizeof(id), "c%d", k);
		words_by(f, &w, k, SYNC_SILENCE_SHARE_MAX, id, 1, now,
		    now + 3600000 + (uint64_t)k * 100, 1);
	}
	for (int i = 0; i < 10; i++)
		assert_null(sync_silences_get(f->sync, c.ids[i]));
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "sil-%d-s", i);
		assert_non_null(sync_silences_get(f->sync, id));
	}
	assert_int_equal(removals_of(f, "c2", 0, 16, "n2"), 13);
	assert_int_equal(removals_of(f, "c3", 0, 16, "n3"), 14);
	assert_int_equal(removals_of(f, "c4", 0, 16, "n4"), 14);
	assert_int_equal(removals_of(f, "c5", 0, 16, "n5"), 15);
	assert_non_null(sync_silences_get(f->sync, "sil-15-c5"));
	assert_int_equal(sync_silences_held(f->sync),
	    SYNC_SILENCE_TOMBSTONES_MAX + 1);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	/* the claims again: no room is made for them */
	silences_in_snapshot(f, "n9", 2, c.v, 10);
	for (int i = 0; i < 10; i++)
		assert_null(sync_silences_get(f->sync, c.ids[i]));
	assert_int_equal(sync_silences_refused(f->sync), 10);
	assert_int_equal(removals_of(f, "c5", 0, 16, "n5"), 15);
	/* nor for a claimed removal of a live silence; its remover's own
	 * word makes room */
	silence_word(&u, "sil-0-l", 1, now, now + 3600000);
	u.author = "n2";
	c.v[0] = &u;
	silences_in_snapshot(f, "n9", 3, c.v, 1);
	assert_false(sync_silences_get(f->sync, "sil-0-l")->deleted);
	assert_int_equal(sync_silences_refused(f->sync), 11);
	silence_by(f, &w, 7, &u);
	assert_true(sync_silences_get(f->sync, "sil-0-l")->deleted);
	assert_int_equal(removals_of(f, "c5", 0, 16, "n5"), 14);
	assert_int_equal(removals_of(f, "c2", 0, 16, "n2"), 13);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* Rule 3: a word claiming to be ours that we do not hold, from a
 * snapshot or another node's event, is refused and counted; ours
 * heard back is not. */
static void
test_silences_words_in_our_name(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u, *up = &u;
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	silence_word(&u, "sil-1-s", 0, now, now + 3600000);
	u.author = "self";
	silences_in_snapshot(f, "n1", 1, &up, 1);
	assert_null(sync_silences_get(f->sync, "sil-1-s"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	u.deleted = 1;
	u.spec_json = "";
	silences_in_snapshot(f, "n1", 2, &up, 1);
	assert_null(sync_silences_get(f->sync, "sil-1-s"));
	assert_int_equal(sync_silences_refused(f->sync), 2);
	silence_from(f, 3, &u);
	assert_null(sync_silences_get(f->sync, "sil-1-s"));
	assert_int_equal(sync_silences_refused(f->sync), 3);
	/* refused, but an id we give no more */
	assert_true(sync_silences_claimed(f->sync, "sil-1-s"));
	assert_false(sync_silences_claimed(f->sync, "sil-2-s"));
	/* ours: made here, then heard back in a snapshot */
	silence_word(&u, "sil-2-s", 0, now, now + 3600000);
	u.author = "self";
	assert_int_equal(sync_emit_silence(f->sync, &u), 1);
	silences_in_snapshot(f, "n1", 4, &up, 1);
	silence_word(&u, "sil-2-s", 1, now, now + 3600000);
	u.author = "self";
	assert_int_equal(sync_emit_silence(f->sync, &u), 1);
	silences_in_snapshot(f, "n1", 5, &up, 1);
	assert_true(sync_silences_get(f->sync, "sil-2-s")->deleted);
	assert_int_equal(sync_silences_refused(f->sync), 3);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* An event's word is its signer's; a removal is bounded (91 days: its
 * silence may have started a day ahead) and always asks the hook; the
 * removal held again is no refusal. */
/* id live from now to live_end (word seq), then removed with an end of
 * removal_end (seq + 1): what the view holds of it after. */
static const Agentflow__Mesh__V1__SilenceUpdate *
live_then_removed(struct fixture *f, Agentflow__Mesh__V1__SilenceUpdate *u,
    const char *id, uint64_t seq, uint64_t now, uint64_t live_end,
    uint64_t removal_end)
{
	silence_word(u, id, 0, now, live_end);
	silence_from(f, seq, u);
	silence_word(u, id, 1, now, removal_end);
	silence_from(f, seq + 1, u);
	return sync_silences_get(f->sync, id);
}

static void
test_silences_removals_are_checked(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u, *up = &u;
	Agentflow__Mesh__V1__OriginState st =
	    AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	const Agentflow__Mesh__V1__SilenceUpdate *w;
	uint64_t now = clock_wall_ms(), day = 86400ULL * 1000;

	silence_checked = 0;
	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	/* n1 signs a word that says n2 wrote it */
	silence_word(&u, "sil-1-a", 0, now, now + 3600000);
	u.author = "n2";
	silence_from(f, 1, &u);
	assert_null(sync_silences_get(f->sync, "sil-1-a"));
	assert_int_equal(sync_silences_refused(f->sync), 1);
	silence_word(&u, "sil-1-b", 1, now, now + 3600000);
	u.author = "n2";
	silence_from(f, 2, &u);
	assert_null(sync_silences_get(f->sync, "sil-1-b"));
	assert_int_equal(silence_checked, 0);
	/* a removal that would block an id for a year */
	silence_word(&u, "sil-1-b", 1, now, now + 365 * day);
	silence_from(f, 3, &u);
	assert_null(sync_silences_get(f->sync, "sil-1-b"));
	assert_int_equal(sync_silences_refused(f->sync), 3);
	/* a removal of an id not held asks the hook; of one held live too */
	silence_word(&u, "sil-1-b", 1, now, now + 3600000);
	u.spec_json = "bad";	/* the stub's refusal */
	silence_from(f, 4, &u);
	assert_null(sync_silences_get(f->sync, "sil-1-b"));
	assert_int_equal(silence_checked, 1);
	silence_word(&u, "sil-1-a", 0, now, now + 3600000);
	silence_from(f, 5, &u);
	assert_int_equal(silence_checked, 2);
	silence_word(&u, "sil-1-a", 1, now, now + 3600000);
	u.spec_json = "bad";
	silence_from(f, 6, &u);
	assert_int_equal(silence_checked, 3);
	assert_false(sync_silences_get(f->sync, "sil-1-a")->deleted);
	assert_int_equal(sync_silences_refused(f->sync), 5);
	/* of a silence that started a day ahead: 91 days on, taken */
	silence_word(&u, "sil-1-a", 1, now, now + 91 * day - 1);
	silence_from(f, 7, &u);
	assert_true(sync_silences_get(f->sync, "sil-1-a")->deleted);
	/* the same removal again (another path): not refused, not checked */
	u.spec_json = "bad";
	silence_from(f, 8, &u);
	assert_int_equal(silence_checked, 4);
	assert_int_equal(sync_silences_refused(f->sync), 5);
	/* a snapshot carries what its origin holds, whoever wrote it */
	silence_word(&u, "sil-2-c", 0, now, now + 3600000);
	u.author = "n3";
	st.n_silences = 1;
	st.silences = &up;
	send_snapshot_of(f, "n1", "n1", 9, &st);
	assert_non_null(sync_silences_get(f->sync, "sil-2-c"));
	assert_int_equal(sync_silences_refused(f->sync), 5);
	/* a silence that starts a day ahead and lasts 90 days, removed
	 * now: taken, to the silence's end */
	silence_word(&u, "sil-4-a", 0, now + day, now + 91 * day);
	silence_from(f, 10, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-4-a"));
	silence_word(&u, "sil-4-a", 1, now, now + 91 * day);
	silence_from(f, 11, &u);
	assert_true(sync_silences_get(f->sync, "sil-4-a")->deleted);
	assert_int_equal(sync_silences_get(f->sync, "sil-4-a")->ends_ms,
	    now + 91 * day);
	/* the removal of a live silence we hold is taken however its end
	 * lies (the remover's clock behind), and lasts as long as the
	 * silence, so the silence cannot come back after it */
	w = live_then_removed(f, &u, "sil-3-a", 12, now, now + 200 * day,
	    now + 200 * day);
	assert_true(w->deleted);
	assert_int_equal(w->ends_ms, now + 200 * day);
	w = live_then_removed(f, &u, "sil-5-a", 14, now, now + 200 * day,
	    now + 3600000);
	assert_int_equal(w->ends_ms, now + 200 * day);
	/* one past the silence's end, or of an id not held, is refused */
	w = live_then_removed(f, &u, "sil-6-a", 16, now, now + 200 * day,
	    now + 200 * day + 1);
	assert_false(w->deleted);
	silence_word(&u, "sil-7-a", 1, now, now + 91 * day + 1);
	silence_from(f, 18, &u);
	assert_null(sync_silences_get(f->sync, "sil-7-a"));
	assert_int_equal(sync_silences_refused(f->sync), 7);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}


/* Our store kept n3's 20 removals (of silences live here when they came,
 * so charged to no share); after a restart n3's own snapshot carries the
 * same 20: none is forgotten (vouched as claims of rank 0 they used to be
 * charged, and 4 went for n3's share). */
static void
test_silences_the_authors_word_vouches_the_store(void **state)
{
	struct fixture *f = *state;
	struct claims c;
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	seeded(f, 20, "k", "n3", 1, now, now + 3600000);
	claims_init(&c, 20, "k", "n3", 1, now, now + 3600000);
	silences_in_snapshot(f, "n3", 1, c.v, 20);
	assert_int_equal(removals_of(f, "k", 0, 20, "n3"), 20);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* After a restart our store's removal of another node's word is kept:
 * a member's snapshot of 64 invented removals cannot push it out and
 * then bring the silence back with its replay. */
static void
test_silences_claims_do_not_push_out_the_store(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate us[65], *v[65];
	uint64_t now = clock_wall_ms();
	char ids[65][32];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	seeded(f, 1, "x", "n3", 1, now, now + 3600000);
	for (int i = 0; i < 64; i++) {
		snprintf(ids[i], sizeof(ids[i]), "sil-%d-inv", i);
		silence_word(&us[i], ids[i], 1, now, now + 7200000);
		us[i].author = "n77";
		v[i] = &us[i];
	}
	silence_word(&us[64], "sil-0-x", 0, now, now + 3600000);
	us[64].author = "n2";
	v[64] = &us[64];
	silences_in_snapshot(f, "n9", 1, v, 65);
	assert_int_equal(removals_of(f, "x", 0, 1, "n3"), 1);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* Our store's 16 live silences of n4 are claims after a restart; n4's
 * own snapshot carries the same 16: now its signed word, they spend its
 * share, and its next 16 are refused (n4 used to hold 32). */
static void
test_silences_the_authors_word_charges_the_store(void **state)
{
	struct fixture *f = *state;
	struct claims c;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms();

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	seeded(f, SYNC_SILENCE_SHARE_MAX, "f", "n4", 0, now, now + 3600000);
	claims_init(&c, SYNC_SILENCE_SHARE_MAX, "f", "n4", 0, now,
	    now + 3600000);
	silences_in_snapshot(f, "n4", 1, c.v, SYNC_SILENCE_SHARE_MAX);
	w.seq[4] = 1;
	words_by(f, &w, 4, SYNC_SILENCE_SHARE_MAX, "g", 0, now, now + 3600000,
	    0);
	assert_int_equal(sync_silences_refused(f->sync),
	    SYNC_SILENCE_SHARE_MAX);
	assert_int_equal(sync_silences_held(f->sync), SYNC_SILENCE_SHARE_MAX);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

/* A member (n9, holding a valid certificate) fills the removals with its
 * own removals of its own silences (each of a silence live here: kept,
 * never charged to its share).  Another node's signed removal of an id
 * not held here yet still finds room, one of n9's past its share giving
 * way, so the silence it removed, coming later, is removed here too. */
static void
test_silences_a_kept_flood_yields_past_its_share(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__SilenceUpdate u;
	struct senders w = { { 0 } };
	uint64_t now = clock_wall_ms(), far = now + 80ULL * 86400 * 1000;
	char tail[8];

	sync_set_silence_hooks(f->sync, silence_check, NULL, NULL);
	for (int c = 0; c < 4; c++) {
		snprintf(tail, sizeof(tail), "m%d", c);
		words_by(f, &w, 9, SYNC_SILENCE_SHARE_MAX, tail, 0, now, far, 0);
		words_by(f, &w, 9, SYNC_SILENCE_SHARE_MAX, tail, 1, now, far, 0);
	}
	assert_int_equal(sync_silences_refused(f->sync), 0);
	assert_int_equal(sync_silences_held(f->sync),
	    SYNC_SILENCE_TOMBSTONES_MAX);
	/* n5 removes n2's sil-0-y before we hear of it */
	silence_word(&u, "sil-0-y", 1, now, now + 3600000);
	silence_by(f, &w, 5, &u);
	assert_int_equal(sync_silences_refused(f->sync), 0);
	/* n2's silence comes after: removed here as everywhere */
	silence_word(&u, "sil-0-y", 0, now - 10, now + 3600000);
	silence_by(f, &w, 2, &u);
	assert_non_null(sync_silences_get(f->sync, "sil-0-y"));
	assert_true(sync_silences_get(f->sync, "sil-0-y")->deleted);
	assert_int_equal(sync_silences_held(f->sync),
	    SYNC_SILENCE_TOMBSTONES_MAX);
	sync_set_silence_hooks(f->sync, NULL, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedules_newest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedules_principal_of_its_definition,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_origins_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_and_asks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_newer_life_of_ours_moves_us_above_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_claim_far_above_us_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_status_carries_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relayed_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_remembers_only_known_lives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_tombstone_refuses_the_old_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_relayed_snapshot_keeps_the_events_it_skips, setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(test_an_origins_own_event_is_checked_when_handed_on, setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(test_a_replay_checks_what_was_taken_unchecked, setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(test_a_status_is_taken_past_statuses_on_its_origins_word, setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(test_a_sparse_replay_closes_a_hole, setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_from_their_issuer_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_removal_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_bounded_on_every_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_removals_are_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_an_authors_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_the_authors_word_vouches_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_claims_do_not_push_out_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_the_authors_word_charges_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_a_claim_does_not_demote_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_own_snapshot_is_charged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_full_store_takes_the_removers_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_a_claim_does_not_inherit_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_a_flood_pushes_out_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_only_takeable_claims_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_a_claim_signed_later_is_charged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_the_store_trusts_only_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_removals_of_live_ones_are_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_snapshot_claims_go_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_words_in_our_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silences_a_kept_flood_yields_past_its_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_one_id_two_issuers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_bounded_oldest_final_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relayed_jobs_need_the_issuers_signature, setup_keyed, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
