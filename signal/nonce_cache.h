/*
 * Replay protection for signed registrations: remembers (node id, nonce)
 * pairs until their timestamp can no longer pass the skew check, so a
 * captured request cannot be replayed while it would still be fresh.
 * Bounded: at max entries the oldest are dropped first (they are the
 * closest to expiry anyway) and the drop is counted.
 */
#ifndef AGENTFLOW_NONCE_CACHE_H
#define AGENTFLOW_NONCE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct nonce_cache;

struct nonce_cache *nonce_cache_new(size_t max_entries);
void nonce_cache_free(struct nonce_cache *);
/* Returns 1 if (id, nonce) was already seen (a replay), else records it with
 * the given expiry and returns 0. */
int nonce_cache_check_and_add(struct nonce_cache *, const char *id,
    const char *nonce, uint64_t expires_ms);
/* Forgets entries whose expiry is before now_ms. */
void nonce_cache_expire(struct nonce_cache *, uint64_t now_ms);
size_t nonce_cache_count(const struct nonce_cache *);

#endif
