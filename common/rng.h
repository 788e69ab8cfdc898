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
/* The f_rng/p_rng pair mbedTLS calls take. */
int rng_mbedtls(void *p_rng, unsigned char *buf, size_t n);

#endif
