/*
 * A cryptographic random source: mbedTLS CTR_DRBG seeded from
 * the platform entropy.  Not locked: one struct rng per thread.
 */
#ifndef AGENTFLOW_RNG_H
#define AGENTFLOW_RNG_H

#include <stddef.h>

struct rng;

/* NULL if the entropy source fails (a start-up error). */
struct rng *rng_new(const char *personalization);
void rng_free(struct rng *);
/* 0 on success. */
int rng_bytes(struct rng *, void *buf, size_t n);
/* Writes 2*n lowercase hex chars of fresh randomness plus a NUL into out. */
int rng_hex(struct rng *, char *out, size_t n);
/*
 * ms scaled by a uniform random factor in [0.75, 1.25), for retry and
 * redial delays that must not fall into step across the mesh.  For
 * ms > 0 the result is at least ms * 3 / 4 (integer division) and less
 * than ms * 5 / 4.  Should the source fail, the factor is 0.75.
 */
long rng_jitter(struct rng *, long ms);
/* The f_rng/p_rng pair mbedTLS calls take. */
int rng_mbedtls(void *p_rng, unsigned char *buf, size_t n);

#endif
