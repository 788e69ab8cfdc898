/* Unit tests of common/wall_timer.c: where the boundaries fall, and real
 * timers on a libevent loop firing on them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>

#include "clock.h"
#include "wall_timer.h"

static void
test_delay_to_the_next_boundary(void **state)
{
	(void)state;
	/* 1000 ms period: from 12.300 s the next boundary is 13.000 s. */
	assert_int_equal(wall_timer_delay(12300, 1000, 0), 700);
	/* Exactly on a boundary: a whole period, not zero. */
	assert_int_equal(wall_timer_delay(13000, 1000, 0), 1000);
	/* Closer than a quarter period: the boundary after it. */
	assert_int_equal(wall_timer_delay(12900, 1000, 0), 1100);
	assert_int_equal(wall_timer_delay(12750, 1000, 0), 250);
	/* With an offset: the next x.500. */
	assert_int_equal(wall_timer_delay(12200, 1000, 500), 300);
	assert_int_equal(wall_timer_delay(12300, 1000, 500), 1200);
	assert_int_equal(wall_timer_delay(12600, 1000, 500), 900);
	/* An offset of a period or more wraps. */
	assert_int_equal(wall_timer_delay(12200, 1000, 1500), 300);
	/* Every answer lands on offset mod period. */
	for (uint64_t now = 1000000; now < 1003000; now += 7) {
		uint64_t d = wall_timer_delay(now, 250, 40);

		assert_true(d >= 250 / 4 && d <= 250 + 250 / 4);
		assert_int_equal((now + d) % 250, 40);
	}
}

struct fires {
	struct event_base	*base;
	uint64_t		 wall[8];
	int			 n, want;
};

static void
record(void *arg)
{
	struct fires *f = arg;

	f->wall[f->n++] = clock_wall_ms();
	if (f->n == f->want)
		event_base_loopbreak(f->base);
}

static void
give_up(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Runs the loop until f->want fires or limit_s, whichever is first. */
static void
run(struct fires *f, int limit_s)
{
	struct event *guard = evtimer_new(f->base, give_up, f->base);

	event_add(guard, &(struct timeval){ limit_s, 0 });
	event_base_dispatch(f->base);
	event_free(guard);
}

/*
 * A plain 10 ms timer beside the one under test: how late this loop ran
 * anything at all (the machine is shared; under a sanitizer and a busy
 * neighbour a process can stall for a tenth of a second).
 */
struct probe {
	struct event	*ev;
	uint64_t	 due_ms, worst_ms;
};

static void
probe_tick(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	if (now > p->due_ms && now - p->due_ms > p->worst_ms)
		p->worst_ms = now - p->due_ms;
	p->due_ms = now + 10;
	event_add(p->ev, &(struct timeval){ 0, 10 * 1000 });
}

static void
test_fires_on_boundaries(void **state)
{
	struct fires f = { .base = event_base_new(), .want = 4 };
	struct probe p = { 0 };
	struct wall_timer *t;

	(void)state;
	p.ev = evtimer_new(f.base, probe_tick, &p);
	p.due_ms = clock_mono_ms() + 10;
	event_add(p.ev, &(struct timeval){ 0, 10 * 1000 });
	t = wall_timer_new(f.base, 200, 50, record, &f);
	run(&f, 10);
	assert_int_equal(f.n, 4);
	for (int i = 0; i < f.n; i++) {
		/* On x.x50 of each 200 ms: early by no more than libevent's
		 * coarse monotonic clock can make it (a few ms), late by no
		 * more than the loop itself was (the probe) plus a margin. */
		int64_t off = (int64_t)((f.wall[i] + 200 - 50) % 200);

		if (off >= 200 - 10)
			off -= 200;	/* early */
		assert_true(off <= 40 + (int64_t)p.worst_ms);
		if (i > 0)
			assert_true(f.wall[i] - f.wall[i - 1] >= 100);
	}
	event_free(p.ev);
	wall_timer_free(t);
	event_base_free(f.base);
}

static void
test_soon_runs_early_once(void **state)
{
	struct fires f = { .base = event_base_new(), .want = 1 };
	struct wall_timer *t;
	uint64_t start;

	(void)state;
	/* A one-hour period: without soon() nothing would run here. */
	t = wall_timer_new(f.base, 3600 * 1000, 0, record, &f);
	start = clock_mono_ms();
	wall_timer_soon(t, 50);
	/* A later soon() does not push it back. */
	wall_timer_soon(t, 5000);
	run(&f, 10);
	assert_int_equal(f.n, 1);
	assert_true(clock_mono_ms() - start >= 40);
	assert_true(clock_mono_ms() - start < 4000);
	wall_timer_free(t);
	event_base_free(f.base);
}

/*
 * Timers of one period fire together: in the same turn of the loop, each
 * time.  Each callback works for 1.5 ms (a node's busy turn), so a timer armed
 * after another's callback is armed later in the turn (what libevent's
 * cached time got wrong).
 */
static int late_turn;	/* a callback ran 20 ms or more past its boundary */

static void
busy(void *arg)
{
	int *fired = arg;
	uint64_t until = clock_mono_us() + 1500;

	(*fired)++;
	if (clock_wall_ms() % 100 >= 20)
		late_turn = 1;
	while (clock_mono_us() < until)
		;
}

static void
test_one_boundary_one_turn(void **state)
{
	struct event_base *base = event_base_new();
	struct wall_timer *w[3];
	uint64_t limit = clock_mono_ms() + 10000;
	int fired[3] = { 0 }, turns = 0, skipped;

	(void)state;
	for (int i = 0; i < 3; i++) {
		w[i] = wall_timer_new(base, 100, 0, busy, &fired[i]);
		busy(&(int){ 0 });
	}
	/* Armed outside the loop, each from libevent's clock read afresh
	 * (a coarse one): their first boundary may take two turns.  From
	 * their first run on they are armed in the loop. */
	while ((fired[0] == 0 || fired[1] == 0 || fired[2] == 0) &&
	    clock_mono_ms() < limit)
		event_base_loop(base, EVLOOP_ONCE);
	fired[0] = fired[1] = fired[2] = 0;
	/* Then ten boundaries, each in one turn: after every turn the three
	 * have fired as often as each other.  A turn a fifth of a period
	 * late (a loaded host stalled us) can put one timer past the
	 * quarter-period rule and the next a boundary later, rightly:
	 * then this host cannot judge, and the test skips. */
	late_turn = 0;
	while (fired[0] < 10 && clock_mono_ms() < limit && !late_turn) {
		event_base_loop(base, EVLOOP_ONCE);
		turns++;
		assert_int_equal(fired[1], fired[0]);
		assert_int_equal(fired[2], fired[0]);
	}
	skipped = late_turn;
	for (int i = 0; i < 3; i++)
		wall_timer_free(w[i]);
	event_base_free(base);
	if (skipped)
		skip();
	assert_int_equal(fired[0], 10);
	assert_true(turns <= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_to_the_next_boundary),
		cmocka_unit_test(test_fires_on_boundaries),
		cmocka_unit_test(test_soon_runs_early_once),
		cmocka_unit_test(test_one_boundary_one_turn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
