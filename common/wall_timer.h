/*
 * A periodic timer that fires on the multiples of its period on the wall
 * clock (every whole second for 1000 ms), like Telegraf's round_interval.
 *
 * Why: every node samples, pings and persists on the same boundaries, so
 * a node's periodic work and the statuses its peers send it arrive
 * together and are handled in a few turns of the loop (one wakeup, one
 * SQLite commit) instead of one wakeup each at random phases.  Clocks that
 * disagree only lose the saving, never correctness: nothing relies on the
 * alignment.
 */
#ifndef AGENTFLOW_WALL_TIMER_H
#define AGENTFLOW_WALL_TIMER_H

#include <stdint.h>

struct event_base;
struct wall_timer;

/* fn(arg) runs every period_ms (> 0) at offset_ms past each multiple of
 * it, first at the next such time at least a quarter period away. */
struct wall_timer *wall_timer_new(struct event_base *, uint64_t period_ms,
    uint64_t offset_ms, void (*fn)(void *), void *arg);
/* Runs fn within delay_ms if the next run is later than that; the runs
 * after it are on the boundaries again. */
void wall_timer_soon(struct wall_timer *, uint64_t delay_ms);
void wall_timer_free(struct wall_timer *);

/* Milliseconds from now_ms (wall) to the next multiple of period_ms plus
 * offset_ms that is at least period_ms / 4 away. */
uint64_t wall_timer_delay(uint64_t now_ms, uint64_t period_ms,
    uint64_t offset_ms);

#endif
