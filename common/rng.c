/* CTR_DRBG wrapper (see rng.h). */
#include "rng.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"

struct rng {
	mbedtls_entropy_context		entropy;
	mbedtls_ctr_drbg_context	drbg;
};

struct rng *
rng_new(const char *personalization)
{
	struct rng *r = xcalloc(1, sizeof(*r));

	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
	    (const unsigned char *)personalization, strlen(personalization)) != 0) {
		rng_free(r);
		return NULL;
	}
	return r;
}

void
rng_free(struct rng *r)
{
	if (r == NULL)
		return;
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
	free(r);
}

int
rng_bytes(struct rng *r, void *buf, size_t n)
{
	return mbedtls_ctr_drbg_random(&r->drbg, buf, n) == 0 ? 0 : -1;
}

int
rng_hex(struct rng *r, char *out, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];

	if (n > sizeof(b) || rng_bytes(r, b, n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

long
rng_jitter(struct rng *r, long ms)
{
	uint16_t x = 0;

	rng_bytes(r, &x, sizeof(x));
	/* ms * [0.75, 1.25) */
	return ms * 3 / 4 + (long)((double)ms / 2 * (double)x / 65536.0);
}

int
rng_mbedtls(void *p_rng, unsigned char *buf, size_t n)
{
	struct rng *r = p_rng;

	return mbedtls_ctr_drbg_random(&r->drbg, buf, n);
}
