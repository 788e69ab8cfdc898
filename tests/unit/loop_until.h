/*
 * Running a unit test's event loop until something has happened: the
 * loop is woken every 20 ms so that a condition changed outside any
 * event (a process ended, a file appeared) is seen, and it gives up
 * after a bound so that a broken test fails instead of hanging.
 */
#ifndef AGENTFLOW_TEST_LOOP_UNTIL_H
#define AGENTFLOW_TEST_LOOP_UNTIL_H

#include <stdint.h>

#include <event2/event.h>

#include "clock.h"

static inline void
loop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs base until done(arg) or timeout_ms; returns done(arg), or -1 when
 * the tick cannot be made. */
static inline int
loop_until(struct event_base *base, int (*done)(void *), void *arg,
    uint64_t timeout_ms)
{
	struct timeval tv = { 0, 20000 };
	struct event *tick = event_new(base, -1, EV_PERSIST, loop_tick_cb, NULL);
	uint64_t end = clock_mono_ms() + timeout_ms;

	if (tick == NULL)
		return -1;
	event_add(tick, &tv);
	while (!done(arg) && clock_mono_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
	return done(arg);
}

#endif
