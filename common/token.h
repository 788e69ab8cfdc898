/*
 * Signed API tokens, the codec: compact text
 * "af1.<payload>.<signature>[.<seed>]", every part base64url without
 * padding.  The payload is the compact JSON object {id, name, role, iss,
 * iat, exp[, pk][, kid]} (iat and exp in Unix ms, iss the issuing node's
 * id, pk the token's own Ed25519 public key, kid the signing
 * certificate's: the first 16 hex digits of its DER's SHA-256, so a
 * verifier picks the right one of an issuer's certificates across a
 * rotation); the signature is ECDSA P-256 with
 * SHA-256, DER, by the issuing node's TLS key over the prefix and the
 * payload, so any tool that signs like `openssl dgst -sha256 -sign` can
 * check one.  A token with pk ends with the 32-byte Ed25519 seed of that
 * key: the holder's secret, never signed nor sent over the mesh; a node
 * that serves the holder signs the commands it issues for them with it
 * (Command.principal_proof, command_sign.h).  Tokens minted before pk
 * (six claims, three parts) still decode: they prove nothing to another
 * node.
 *
 * Pure: no clock, no store.  A refused token leaves its claims zeroed.  What a token may do (expiry, revocation,
 * which certificate an issuer has) is node/api/tokens.c's.
 */
#ifndef AGENTFLOW_TOKEN_H
#define AGENTFLOW_TOKEN_H

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node_id.h"
#include "principal.h"

#define TOKEN_PREFIX	"af1."
#define TOKEN_TEXT_MAX	1024	/* longer text is not a token */
#define TOKEN_TTL_MAX_MS	(30LL * 24 * 3600 * 1000)	/* 30 days */
#define TOKEN_KEY_BYTES	32	/* an Ed25519 public key, and its seed */
#define TOKEN_SIG_MAX	80	/* a DER ECDSA P-256 signature */
#define TOKEN_KID_LEN	16	/* hex digits */

struct rng;

struct token_claims {
	char			 id[PRINCIPAL_TOKEN_ID_MAX + 1];	/* hex */
	char			 name[PRINCIPAL_NAME_MAX + 1];
	enum principal_role	 role;
	char			 iss[NODE_ID_MAX + 1];
	int64_t			 iat_ms, exp_ms;
	int			 has_pk;	/* pk is set */
	unsigned char		 pk[TOKEN_KEY_BYTES];
	char			 kid[TOKEN_KID_LEN + 1];	/* "": none */
};

/* The kid of a certificate (its DER) into kid (TOKEN_KID_LEN + 1). */
void token_kid(const unsigned char *der, size_t len, char *kid);

/* What a principal proof carries of a token (Command.principal_proof):
 * its payload part as text and its issuer's signature, raw.  Plain data. */
struct token_parts {
	char			 claims[TOKEN_TEXT_MAX];	/* NUL-terminated */
	size_t			 claims_len;
	unsigned char		 issuer_sig[TOKEN_SIG_MAX];
	size_t			 issuer_sig_len;
};

/* Whether s[0..len) is a principal's name: 1-64 of [A-Za-z0-9._@-]. */
bool token_name_valid(const char *s, size_t len);
/* Whether s[0..len) is a token id: 1-32 lowercase hex digits. */
bool token_id_valid(const char *s, size_t len);
/* Whether text has the signed tokens' prefix (else: a static token). */
bool token_is_signed(const char *text);

/*
 * A time to live: "90s", "30m", "8h", "7d" or plain seconds, 1 s up to
 * TOKEN_TTL_MAX_MS, into *ms.  -1 for anything else.
 */
int token_ttl_parse(const char *s, int64_t *ms);

/* Mints c's token, signed with key, into out (NUL-terminated): 0, or -1
 * when c is not valid, the key cannot sign or out is too small.  When
 * c->has_pk, seed (TOKEN_KEY_BYTES, pk's) is appended as the last part. */
int token_mint(const struct token_claims *c, const unsigned char *seed,
    mbedtls_pk_context *key, struct rng *rng, char *out, size_t outlen);

/* The seed part of text into seed (TOKEN_KEY_BYTES): 0, or -1 when text
 * has none. */
int token_seed(const char *text, unsigned char *seed);

/* The payload and issuer signature of text: 0, or -1 if malformed. */
int token_parts(const char *text, struct token_parts *p);

/* The token text a principal proof's parts make ("af1.claims.sig", no
 * seed) into out: 0, or -1 when malformed or out is too small. */
int token_from_parts(const void *claims, size_t claims_len,
    const void *issuer_sig, size_t sig_len, char *out, size_t outlen);

/* The claims of text, checked for shape but not signature: 0, or -1 with
 * err saying what is malformed. */
int token_decode(const char *text, struct token_claims *c, char *err,
    size_t errlen);

/* 0 when text's signature verifies against issuer's public key, -1 when
 * it does not (or text is malformed). */
int token_verify(const char *text, const mbedtls_x509_crt *issuer);

#endif
