/*
 * Keyed token buckets: `rate` requests per second with bursts of `burst`,
 * per key (a source address, an API token).  The table is bounded: idle
 * buckets (full again) are dropped by ratelimit_sweep, and when the table is
 * at its bound a new key is refused rather than growing memory.
 */
#ifndef AGENTFLOW_RATELIMIT_H
#define AGENTFLOW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* rate 0 disables limiting (every call is allowed). */
struct ratelimit *ratelimit_new(double rate, double burst, size_t max_keys);
void ratelimit_free(struct ratelimit *);
/* Takes one token for key at now_ms.  Returns 1 if allowed, 0 if not; when
 * refused, *retry_after_s (if non-NULL) says when one will be available. */
int ratelimit_take(struct ratelimit *, const char *key, uint64_t now_ms,
    unsigned *retry_after_s);
/* Drops buckets that have refilled completely. */
void ratelimit_sweep(struct ratelimit *, uint64_t now_ms);
size_t ratelimit_count(const struct ratelimit *);

#endif
