/*
 * Signed requests: ECDSA P-256 with SHA-256 over the exact bytes of an HTTP
 * body, carried base64-encoded (DER signature) in X-AgentFlow-Signature.
 * This is what `openssl dgst -sha256 -sign key.pem body | base64 -w0` makes,
 * so any implementation can produce it (see signal/API.md).
 */
#ifndef AGENTFLOW_SIGNED_REQUEST_H
#define AGENTFLOW_SIGNED_REQUEST_H

#include <mbedtls/pk.h>
#include <stddef.h>

#define SIGNED_REQUEST_HEADER "X-AgentFlow-Signature"
/* base64 of a DER ECDSA P-256 signature (<= 72 bytes) fits in 97 + NUL. */
#define SIGNED_REQUEST_SIG_MAX 128

struct rng;

/* Signs body with key; writes the base64 signature (NUL-terminated) into
 * out.  Returns 0, or -1 on failure. */
int signed_request_sign(mbedtls_pk_context *key, struct rng *rng,
    const void *body, size_t len, char *out, size_t outlen);

/* Verifies a base64 signature over body against pub.  Returns 0 when it
 * verifies, -1 when the signature is malformed or does not verify. */
int signed_request_verify(mbedtls_pk_context *pub, const void *body, size_t len,
    const char *sig_b64);

#endif
