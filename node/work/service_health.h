/*
 * One health check of a service (struct service_check, service_spec.h),
 * run on the node's loop: an HTTP GET, a TCP connect or a command, every
 * interval_ms after a grace period, one probe at a time, each bounded by
 * timeout_ms.  Consecutive results make a verdict: `failures` failures in
 * a row make the check unhealthy, `successes` successes in a row healthy.
 *
 * Everything here runs on the loop thread of the event_base it was made
 * with.  Commands are started with posix_spawn (the node has gRPC's
 * threads, so no fork without exec), each in its own process group that
 * is killed whole at its timeout, and reaped by pid only.
 */
#ifndef AGENTFLOW_SERVICE_HEALTH_H
#define AGENTFLOW_SERVICE_HEALTH_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

struct service_check;
struct service_health;

/* Bytes of a result's output text, NUL excluded ("HTTP 503", "exit 1"). */
#define SERVICE_HEALTH_OUTPUT_MAX	256
/* Results kept for service_health_json's "history". */
#define SERVICE_HEALTH_HISTORY		16

/*
 * Called when the verdict changes, the first verdict after a start
 * included: healthy 1 or 0, why a line such as "HTTP 503, 3 failures in
 * a row" (valid during the call only).  It may call service_health_stop,
 * _start and _free on the check it is told about.
 */
typedef void service_health_cb(int healthy, const char *why, void *arg);

/* For metrics; all since service_health_new. */
struct service_health_counters {
	uint64_t	 probes;	/* results recorded */
	uint64_t	 failures;	/* of those, failed */
	double		 last_ms;	/* latency of the last result; 0: none */
};

/*
 * A check that does nothing until service_health_start.  c is copied (the
 * caller may free it at once); changed and arg are kept.  NULL when c
 * could not be run: no command, a zero interval, timeout or count, or an
 * HTTP path that is not a plain "/..." (service_spec.c refuses all
 * these first).
 */
struct service_health *service_health_new(struct event_base *,
    const struct service_check *c, service_health_cb *changed, void *arg);

/*
 * The service has (re)started: any probe in flight is abandoned, the
 * verdict becomes unknown, and the first probe runs grace_ms from now,
 * then one every interval_ms (start to start; a slow probe delays the
 * next, never overlaps it).
 */
void service_health_start(struct service_health *);

/*
 * No more probes: one in flight is abandoned (its connection closed, its
 * process group killed) and the verdict becomes unknown.  A killed
 * process is reaped on the loop soon after; service_health_free reaps it
 * at once.
 */
void service_health_stop(struct service_health *);

/* Stops and frees everything, NULL included.  No callback after it. */
void service_health_free(struct service_health *);

/*
 * A new object (the caller's): {"name", "type": "http" | "tcp" | "exec",
 * "running": bool, "status": "unknown" | "healthy" | "unhealthy",
 * "consecutive_successes", "consecutive_failures", "probes", "failures",
 * "last": RESULT or null, "history": [RESULT, ...] oldest first, at most
 * SERVICE_HEALTH_HISTORY}; RESULT is {"ok": bool, "ms": latency,
 * "at_ms": wall time of the result, "output": text}.
 */
json_t *service_health_json(const struct service_health *);

void service_health_counters(const struct service_health *,
    struct service_health_counters *);

#endif
