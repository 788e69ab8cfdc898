/*
 * Unit tests of node/host/status_pace.c: a status goes out the first
 * time, when someone watches, when anything but a measured figure changed
 * and for PACE_SETTLE_MS after, when the mesh's graph moved, when memory
 * or disk moved past its threshold and when the last one is idle_ms old;
 * measured figures that wander alone (CPU by any amount) are held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "status_pace.h"

#define GIB	(1024ull * 1024 * 1024)

struct fixture {
	Agentflow__Mesh__V1__NodeStatus st;
	Agentflow__Mesh__V1__LinkInfo link, *links[1];
	Agentflow__Mesh__V1__MemberInfo member, *members[1];
};

static void
fixture_init(struct fixture *f)
{
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__LinkInfo l = AGENTFLOW__MESH__V1__LINK_INFO__INIT;
	Agentflow__Mesh__V1__MemberInfo m = AGENTFLOW__MESH__V1__MEMBER_INFO__INIT;

	f->st = st;
	f->link = l;
	f->member = m;
	f->link.peer = "node-2";
	f->link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
	f->link.rtt_us = 300;
	f->link.since_ms = 1000;
	f->member.node_id = "node-2";
	f->member.state = AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_ALIVE;
	f->member.last_seen_ms = 5000;
	f->member.direct = 1;
	f->links[0] = &f->link;
	f->members[0] = &f->member;
	f->st.links = f->links;
	f->st.n_links = 1;
	f->st.members = f->members;
	f->st.n_members = 1;
	f->st.cpu_percent = 10;
	f->st.mem_total_bytes = 8 * GIB;
	f->st.mem_used_bytes = 2 * GIB;
	f->st.disk_total_bytes = 100 * GIB;
	f->st.disk_used_bytes = 40 * GIB;
	f->st.uptime_s = 100;
}

/* Figures that wander every sample hold it; idle_ms sends one anyway. */
static void
test_figures_alone_are_held(void **state)
{
	struct status_pace *p = status_pace_new(30000, PACE_SETTLE_MS);
	struct fixture f;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, 1000), 1);	/* the first */
	for (uint64_t t = 2000; t < 6000; t += 1000)		/* settling */
		assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	for (uint64_t t = 6000; t < 35000; t += 1000) {
		f.st.cpu_percent = (double)(t % 7) * 15;	/* 0 to 90 */
		f.st.mem_used_bytes += 1024 * 1024;
		f.st.load1 = (double)t / 10000;
		f.st.uptime_s++;
		f.st.process_uptime_s++;
		f.st.net_rx_bytes += 12345;
		f.st.net_rx_bytes_per_s = (double)t;
		f.link.rtt_us = 300 + t % 500;
		f.member.last_seen_ms = t;
		assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 0);
	}
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, 35000), 1);	/* idle_ms */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, 36000), 0);
	assert_int_equal(status_pace_sent(p), 6);
	assert_int_equal(status_pace_held(p), 30);
	status_pace_free(p);
}

#define LONG	1000000		/* an idle_ms the tests below never reach */
#define STEP	10000		/* samples apart, past PACE_SETTLE_MS */

/* Someone watching: every sample goes out. */
/* A link that is not up being dialled again and again (down, connecting,
 * down: its state and since_ms move) is no change; its coming up is. */
static void
test_dials_are_no_change(void **state)
{
	struct status_pace *p = status_pace_new(30000, PACE_SETTLE_MS);
	struct fixture f;
	uint64_t t = 1000;

	(void)state;
	fixture_init(&f);
	f.link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	t += PACE_SETTLE_MS + 1000;
	for (int i = 0; i < 10; i++, t += 1000) {
		f.link.state = i % 2 ?
		    AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN :
		    AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_CONNECTING;
		f.link.since_ms = t;
		assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 0);
	}
	f.link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	status_pace_free(p);
}

/* A relayed member's state (our graph's word) is no change, coming or
 * going; a linked member's is.  Each change is counted by part. */
static void
test_relayed_members_are_no_change(void **state)
{
	struct status_pace *p = status_pace_new(30000, PACE_SETTLE_MS);
	Agentflow__Mesh__V1__MemberInfo far = AGENTFLOW__MESH__V1__MEMBER_INFO__INIT;
	Agentflow__Mesh__V1__MemberInfo *two[2];
	struct fixture f;
	uint64_t t = 1000;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	t += PACE_SETTLE_MS + 1000;
	far.node_id = "node-9";
	far.direct = 0;
	two[0] = &f.member;
	two[1] = &far;
	f.st.members = two;
	for (int i = 0; i < 10; i++, t += 1000) {
		far.state = i % 2 ?
		    AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_ALIVE :
		    AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_SUSPECT;
		f.st.n_members = i % 3 ? 2 : 1;	/* known, then not */
		assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 0);
	}
	assert_int_equal(status_pace_changed(p, PACE_MEMBERS), 0);
	f.member.state = AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_SUSPECT;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	assert_int_equal(status_pace_changed(p, PACE_MEMBERS), 1);
	assert_int_equal(status_pace_changed(p, PACE_LINKS), 0);
	f.link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
	f.member.direct = 0;		/* the link went down: both parts */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += 1000), 1);
	assert_int_equal(status_pace_changed(p, PACE_LINKS), 1);
	assert_int_equal(status_pace_changed(p, PACE_MEMBERS), 2);
	assert_int_equal(status_pace_changed(p, PACE_REST), 0);
	status_pace_free(p);
}

static void
test_watched_sends_every_sample(void **state)
{
	struct status_pace *p = status_pace_new(LONG, PACE_SETTLE_MS);
	struct fixture f;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, STEP), 1);
	for (uint64_t t = 2 * STEP; t < 6 * STEP; t += STEP)
		assert_int_equal(status_pace_due(p, &f.st, 1, 7, t), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, 6 * STEP), 0);
	status_pace_free(p);
}

/* Anything a peer acts on goes out at the next sample, once settled. */
static void
test_changes_go_out_at_once(void **state)
{
	struct status_pace *p = status_pace_new(LONG, PACE_SETTLE_MS);
	struct fixture f;
	uint64_t t = STEP;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 0);
	f.member.state = AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_SUSPECT;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.st.frozen = 1;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.st.signal_reachable = 1;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.st.n_links = 0;		/* a link gone from the table */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.st.watch_ms = 5000;		/* a dashboard opened here */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 0);
	status_pace_free(p);
}

/* After a change, ours or the graph's, every sample goes out for
 * PACE_SETTLE_MS; then it rests again. */
static void
test_settling_after_a_change(void **state)
{
	struct status_pace *p = status_pace_new(LONG, PACE_SETTLE_MS);
	struct fixture f;
	uint64_t t = 100000;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	t += STEP;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 0);
	assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 1); /* graph */
	for (uint64_t end = t + PACE_SETTLE_MS; t + 1000 < end; )
		assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 0);
	f.link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
	assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 1); /* ours */
	for (uint64_t end = t + PACE_SETTLE_MS; t + 1000 < end; )
		assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += 1000), 0);
	assert_int_equal(status_pace_due(p, &f.st, 0, 8, t += PACE_SETTLE_MS), 0);
	status_pace_free(p);
}

/* Memory or disk that moved far goes out; the threshold counts from the
 * last one sent, so a slow drift goes out once it adds up.  CPU never
 * does alone. */
static void
test_figures_past_threshold(void **state)
{
	struct status_pace *p = status_pace_new(LONG, PACE_SETTLE_MS);
	struct fixture f;
	uint64_t t = STEP;

	(void)state;
	fixture_init(&f);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	f.st.cpu_percent = 100;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 0);
	f.st.mem_used_bytes += GIB / 2;		/* 6.25 % of 8 GiB */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 0);
	f.st.mem_used_bytes += GIB / 2;		/* 12.5 % since the last */
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 0);
	f.st.disk_used_bytes += 11 * GIB;
	assert_int_equal(status_pace_due(p, &f.st, 0, 7, t += STEP), 1);
	status_pace_free(p);
}

/* idle_ms 0: every sample, as before pacing. */
static void
test_idle_zero_sends_all(void **state)
{
	struct status_pace *p = status_pace_new(0, PACE_SETTLE_MS);
	struct fixture f;

	(void)state;
	fixture_init(&f);
	for (uint64_t t = 1000; t < 5000; t += 1000)
		assert_int_equal(status_pace_due(p, &f.st, 0, 7, t), 1);
	status_pace_free(NULL);
	status_pace_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_figures_alone_are_held),
		cmocka_unit_test(test_dials_are_no_change),
		cmocka_unit_test(test_relayed_members_are_no_change),
		cmocka_unit_test(test_watched_sends_every_sample),
		cmocka_unit_test(test_changes_go_out_at_once),
		cmocka_unit_test(test_settling_after_a_change),
		cmocka_unit_test(test_figures_past_threshold),
		cmocka_unit_test(test_idle_zero_sends_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
