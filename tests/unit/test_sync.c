/*
 * Unit tests of node/mesh/sync.c without links, on a real store in a private
 * temporary directory: events applied in order with duplicates dropped,
 * the bound on how many origins a node keeps, so a peer naming ever
 * new node ids cannot grow its memory, its database or the graph every
 * batch is forwarded over; NodeInfo travelling in statuses; and a peer's
 * Hello that holds a newer life of ours moving us to an incarnation above
 * it (sync_incarnation.c).
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

#include "frame_codec.h"
#include "routing.h"
#include "store.h"
#include "sync.h"
#include "sync_json.h"
#include "tmpdir.h"

struct fixture {
	char			 dir[64];
	struct event_base	*base;
	struct store		*st;
	struct sync		*sync;
	json_t			*addresses, *labels;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sync_config c = { 0 };
	char err[256];

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->dir, sizeof(f->dir), "test_sync") != 0 ||
	    (f->st = store_open(f->dir, err, sizeof(err))) == NULL)
		return -1;
	f->base = event_base_new();
	f->addresses = json_array();
	f->labels = json_object();
	c.self_id = "self";
	c.incarnation = 1;
	c.addresses = f->addresses;
	c.labels = f->labels;
	c.store = f->st;
	f->sync = sync_new(f->base, &c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	sync_free(f->sync);
	store_close(f->st);
	event_base_free(f->base);
	json_decref(f->addresses);
	json_decref(f->labels);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

/* Event e of origin (incarnation 1, seq), its kind set by the caller, as
 * the origin itself sends it over its link (a relayed event needs the
 * origin's signature: tests/system/test_trust.py). */
static void
deliver_event(struct fixture *f, Agentflow__Mesh__V1__Event *e,
    const char *origin, uint64_t seq)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;

	e->origin = (char *)origin;
	e->incarnation = 1;
	e->seq = seq;
	e->time_ms = 1;
	e->hop_limit = 8;
	b.n_events = 1;
	b.events = &e;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	fr.events = &b;
	sync_frame(origin, &fr, f->sync);
}

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
	json_t *c = sync_json_counters(f->sync);
	json_int_t v = json_integer_value(json_object_get(c, name));

	json_decref(c);
	return v;
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
	/* a gap is not applied (the origin's state waits for the rest) */
	deliver(f, "n1", 5);
	assert_int_equal(counter(f, "gaps"), 1);
	o = sync_json_origin(f->sync, "n1", 1);
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 2);
	json_decref(o);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_order_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_origins_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_newer_life_of_ours_moves_us_above_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_claim_far_above_us_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_status_carries_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relayed_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_remembers_only_known_lives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restored_tombstone_refuses_the_old_life, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
