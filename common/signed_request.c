/* Body signatures (see signed_request.h). */
#include "signed_request.h"

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <string.h>

#include "rng.h"

int
signed_request_sign(mbedtls_pk_context *key, struct rng *rng, const void *body,
    size_t len, char *out, size_t outlen)
{
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t siglen = 0, olen = 0;

	if (mbedtls_sha256_ret(body, len, hash, 0) != 0)
		return -1;
	if (mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
	    &siglen, rng_mbedtls, rng) != 0)
		return -1;
	if (mbedtls_base64_encode((unsigned char *)out, outlen, &olen, sig,
	    siglen) != 0)
		return -1;
	return 0;
}

int
signed_request_verify(mbedtls_pk_context *pub, const void *body, size_t len,
    const char *sig_b64)
{
	unsigned char hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t b64len, siglen = 0;

	if (sig_b64 == NULL)
		return -1;
	b64len = strlen(sig_b64);
	if (b64len == 0 || b64len > SIGNED_REQUEST_SIG_MAX)
		return -1;
	if (mbedtls_base64_decode(sig, sizeof(sig), &siglen,
	    (const unsigned char *)sig_b64, b64len) != 0 || siglen == 0)
		return -1;
	if (!mbedtls_pk_can_do(pub, MBEDTLS_PK_ECDSA))
		return -1;
	if (mbedtls_sha256_ret(body, len, hash, 0) != 0)
		return -1;
	return mbedtls_pk_verify(pub, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
	    siglen) == 0 ? 0 : -1;
}
