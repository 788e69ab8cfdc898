/*
 * Signed API tokens issued by this node, in its database (the api_tokens
 * table, a migration of store.c): who each was minted for, its role, when
 * it was issued and expires, and when it was revoked (0: never).  Never the
 * token's text: a token that is lost is revoked and issued anew.
 * Conventions as in store.h: 0 on success, -1 with store_error() set.
 */
#ifndef AGENTFLOW_STORE_TOKENS_H
#define AGENTFLOW_STORE_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_token {
	const char	*id;
	const char	*name;
	const char	*role;		/* "read", "write", "admin" */
	const char	*iss;		/* the issuing node */
	int64_t		 iat_ms, exp_ms;
	int64_t		 revoked_ms;	/* 0: not revoked */
	const char	*kid;		/* the signing certificate's; "" before */
};

/* Records a token just issued (its revoked_ms is ignored: 0). */
int store_token_put(struct store *, const struct store_token *);
/* Marks id revoked at now_ms (kept as it was when already revoked); *found
 * is 1 when the token is known, 0 when not. */
int store_token_revoke(struct store *, const char *id, int64_t now_ms,
    int *found);
/* Every token, newest first; the strings are valid during the callback
 * only, which must not call into the store; non-zero from it stops. */
typedef int (*store_token_cb)(void *arg, const struct store_token *);
int store_tokens_list(struct store *, store_token_cb, void *arg);

/*
 * Issuers' certificates (DER) by node and kid, each with the last time it
 * was the node's current one (last_ms): put upserts (last_ms only grows),
 * list gives every one, prune drops those last current before before_ms.
 */
struct store_issuer_cert {
	const char		*node_id;
	const char		*kid;
	const unsigned char	*der;
	size_t			 der_len;
	int64_t			 last_ms;
};
int store_issuer_cert_put(struct store *, const struct store_issuer_cert *);
typedef int (*store_issuer_cert_cb)(void *arg, const struct store_issuer_cert *);
int store_issuer_certs_list(struct store *, store_issuer_cert_cb, void *arg);
int store_issuer_certs_prune(struct store *, int64_t before_ms);

#endif
