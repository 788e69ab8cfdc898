/* Periodic timers on wall-clock boundaries (wall_timer.h). */
#include "wall_timer.h"

#include <event2/event.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

struct wall_timer {
	struct event_base *base;
	struct event	*ev;
	uint64_t	 period_ms;
	uint64_t	 offset_ms;
	uint64_t	 due_ms;	/* monotonic */
	void		(*fn)(void *);
	void		*arg;
};

uint64_t
wall_timer_delay(uint64_t now_ms, uint64_t period_ms, uint64_t offset_ms)
{
	uint64_t d = period_ms - (now_ms + period_ms - offset_ms % period_ms) %
	    period_ms;

	if (d < period_ms / 4)
		d += period_ms;
	return d;
}

static void
arm_us(struct wall_timer *t, uint64_t delay_us)
{
	struct timeval tv = { (time_t)(delay_us / 1000000),
	    (suseconds_t)(delay_us % 1000000) };

	t->due_ms = clock_mono_ms() + delay_us / 1000;
	event_add(t->ev, &tv);
}

/*
 * Arms t for its next boundary (wall_timer_delay) as libevent's clock
 * has it.  libevent adds a timeout to the time its loop last woke, which
 * lags by what the turn has run so far, and reads a coarse monotonic
 * clock (a jiffy, 1-4 ms); a delay computed from our own clock, in whole
 * milliseconds at that, put the timers of one boundary milliseconds
 * apart, fired in two or three wakeups, not one.  The wall time libevent
 * derives from its cached clock, refreshed (event_base_gettimeofday_
 * cached), turns a boundary into the same instant of that clock for
 * every timer.
 */
static void
arm_grid(struct wall_timer *t)
{
	struct timeval tv;
	uint64_t now_us;

	event_base_update_cache_time(t->base);
	if (event_base_gettimeofday_cached(t->base, &tv) != 0)
		now_us = clock_wall_ms() * 1000;
	else
		now_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	arm_us(t, wall_timer_delay(now_us / 1000, t->period_ms,
	    t->offset_ms) * 1000 - now_us % 1000);
}

static void
fire(evutil_socket_t fd, short what, void *arg)
{
	struct wall_timer *t = arg;

	(void)fd;
	(void)what;
	/* Armed before fn runs, so fn may call wall_timer_soon. */
	arm_grid(t);
	t->fn(t->arg);
}

struct wall_timer *
wall_timer_new(struct event_base *base, uint64_t period_ms,
    uint64_t offset_ms, void (*fn)(void *), void *arg)
{
	struct wall_timer *t = xcalloc(1, sizeof(*t));

	if (period_ms == 0)
		fatalx("wall_timer: zero period");
	t->base = base;
	t->period_ms = period_ms;
	t->offset_ms = offset_ms;
	t->fn = fn;
	t->arg = arg;
	if ((t->ev = event_new(base, -1, 0, fire, t)) == NULL)
		fatalx("wall_timer: cannot create an event");
	arm_grid(t);
	return t;
}

void
wall_timer_soon(struct wall_timer *t, uint64_t delay_ms)
{
	if (t->due_ms > clock_mono_ms() + delay_ms) {
		event_base_update_cache_time(t->base);
		arm_us(t, delay_ms * 1000);
	}
}

void
wall_timer_free(struct wall_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}
