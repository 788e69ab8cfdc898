/*
 * Signed API tokens on a node: minting them for named principals
 * (POST /api/tokens), checking the ones requests carry, listing and
 * revoking those issued here.  The text format is common/token.h's.
 *
 * A token is good when its signature verifies against its issuer's
 * certificate (found through cert_of: ours for our own tokens; a node
 * whose certificate is not at hand is an unknown issuer), it has not
 * expired, and it is not revoked here.
 *
 * An issuer's certificate changes (a new one at a restart): a token names
 * the one that signed it (its kid), and every certificate of an issuer
 * learnt here (tokens_learn_cert: each origin key's, and ours) is kept in
 * the store, so a token minted under the old one keeps working on every
 * node, and after their restarts, until the old certificate was last
 * current here TOKEN_TTL_MAX_MS ago (no token of it can be alive then),
 * it expires, or the CRL revokes it ("token issuer's certificate
 * revoked", checked on every use).  Signature verdicts are cached by
 * the SHA-256 of the text (an ECDSA verify costs about a millisecond, a
 * lookup a microsecond); expiry and revocation are checked on every use.
 * Issued tokens and revocations are kept in the store (store_tokens.h),
 * never the token text.  Loop thread only.
 */
#ifndef AGENTFLOW_TOKENS_H
#define AGENTFLOW_TOKENS_H

#include <jansson.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stddef.h>
#include <stdint.h>

#include "principal.h"
#include "token.h"

struct rng;
struct store;
struct trust;
struct tokens;

/* The certificate of node_id (borrowed; valid until the next call), or
 * NULL when none is known here. */
typedef const mbedtls_x509_crt *(*tokens_cert_fn)(const char *node_id,
    void *arg);

struct tokens_config {
	const char		*self_id;	/* the iss of tokens minted here */
	struct store		*store;
	mbedtls_pk_context	*key;		/* signs; NULL: cannot issue */
	struct rng		*rng;
	tokens_cert_fn		 cert_of;	/* NULL: no issuer is known */
	void			*cert_arg;
	struct trust		*trust;		/* its CRL; NULL: none */
};

/* Everything borrowed must outlive the tokens.  NULL with err when the
 * store's revocations cannot be read. */
struct tokens *tokens_new(const struct tokens_config *, char *err,
    size_t errlen);
void tokens_free(struct tokens *);

/*
 * Checks a signed token at now_ms (Unix ms): 0 with the principal in *p,
 * or -1 with why it is refused in why ("token expired at ...", "token
 * revoked", "token signature invalid", "token issuer unknown: ...",
 * "malformed token: ...").
 */
int tokens_check(struct tokens *, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen);
/*
 * The same for a token's claims and issuer signature without its key part
 * (a principal proof's or a job grant's): the caller checks a signature by
 * the claims' pk itself.  As a credential (tokens_check) such a text is
 * refused: it travels in every proof.
 */
int tokens_check_claims(struct tokens *, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen);

/*
 * Mints a token for name with role, living ttl_ms from now_ms, and
 * records it: 0 with its text in text and its claims in *c, or -1 with
 * err (a bad name or ttl, no key, the store failing).
 */
int tokens_issue(struct tokens *, const char *name, enum principal_role,
    int64_t ttl_ms, int64_t now_ms, char *text, size_t textlen,
    struct token_claims *c, char *err, size_t errlen);

/* The tokens issued here, newest first, as {id, name, role, iss, iat, exp,
 * expired, revoked, revoked_ms} (new reference), or NULL when the store
 * fails. */
json_t *tokens_list(struct tokens *, int64_t now_ms);

/* Another node revoked a token it issued (its TokenRevoked event): refused
 * here too from now on, and after a restart.  0, or -1 when the store
 * fails. */
int tokens_revoked_by(struct tokens *, const char *iss, const char *id,
    int64_t now_ms);

/* node_id's certificate crt was seen current at now_ms (a key it vouched
 * for was learnt, or it is ours): kept to check the tokens it signs. */
void tokens_learn_cert(struct tokens *, const char *node_id,
    const mbedtls_x509_crt *crt, int64_t now_ms);

/* Revokes id: 0 done (or already revoked), 1 no such token was issued
 * here, -1 the store failed. */
int tokens_revoke(struct tokens *, const char *id, int64_t now_ms);

#endif
