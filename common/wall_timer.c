/* Periodic timers on wall-clock boundaries (wall_timer.h). */
#include "wall_timer.h"

#include <event2/event.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

struct wall_timer {
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
arm(struct wall_timer *t, uint64_t delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000),
	    (suseconds_t)(delay_ms % 1000) * 1000 };

	t->due_ms = clock_mono_ms() + delay_ms;
	event_add(t->ev, &tv);
}

static void
fire(evutil_socket_t fd, short what, void *arg)
{
	struct wall_timer *t = arg;

	(void)fd;
	(void)what;
	/* Armed before fn runs, so fn may call wall_timer_soon. */
	arm(t, wall_timer_delay(clock_wall_ms(), t->period_ms, t->offset_ms));
	t->fn(t->arg);
}

struct wall_timer *
wall_timer_new(struct event_base *base, uint64_t period_ms,
    uint64_t offset_ms, void (*fn)(void *), void *arg)
{
	struct wall_timer *t = xcalloc(1, sizeof(*t));

	if (period_ms == 0)
		fatalx("wall_timer: zero period");
	t->period_ms = period_ms;
	t->offset_ms = offset_ms;
	t->fn = fn;
	t->arg = arg;
	if ((t->ev = event_new(base, -1, 0, fire, t)) == NULL)
		fatalx("wall_timer: cannot create an event");
	arm(t, wall_timer_delay(clock_wall_ms(), period_ms, offset_ms));
	return t;
}

void
wall_timer_soon(struct wall_timer *t, uint64_t delay_ms)
{
	if (t->due_ms > clock_mono_ms() + delay_ms)
		arm(t, delay_ms);
}

void
wall_timer_free(struct wall_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}
