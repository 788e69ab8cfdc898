/*
 * Signed API tokens on a node (see tokens.h).
 *
 * Invariants: `verdicts` maps the hex SHA-256 of a token's text to its
 * decoded claims and whether its signature verified; it holds at most
 * VERDICTS_MAX entries (full: emptied, so a flood of distinct junk costs
 * the flooder, not our memory).  A verdict is only cached when the
 * issuer's certificate was at hand: an unknown issuer may become known.
 * `revoked` holds the ids of every token revoked here, as the store does.
 */
#include "tokens.h"

#include <mbedtls/sha256.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hmap.h"
#include "log.h"
#include "rng.h"
#include "store.h"
#include "store_tokens.h"
#include "xalloc.h"

#define VERDICTS_MAX	4096

struct verdict {
	struct token_claims	 c;
	int			 signed_ok;
	int			 key_ok;	/* no seed part, or its key is pk */
};

struct tokens {
	struct tokens_config	 cfg;
	struct hmap		*verdicts;	/* sha256 hex → struct verdict */
	struct hmap		*revoked;	/* "iss/id" → (void *)1 */
};

/* The revocation key: a node revokes only the tokens it issued. */
static void
revoked_key(const char *iss, const char *id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", iss, id);
}

static int
load_revoked_cb(void *arg, const struct store_token *t)
{
	struct tokens *tk = arg;
	char key[160];

	if (t->revoked_ms != 0) {
		revoked_key(t->iss, t->id, key, sizeof(key));
		hmap_put(tk->revoked, key, (void *)1);
	}
	return 0;
}

struct tokens *
tokens_new(const struct tokens_config *cfg, char *err, size_t errlen)
{
	struct tokens *tk = xcalloc(1, sizeof(*tk));

	tk->cfg = *cfg;
	tk->verdicts = hmap_new();
	tk->revoked = hmap_new();
	if (store_tokens_list(cfg->store, load_revoked_cb, tk) != 0) {
		snprintf(err, errlen, "cannot read the issued API tokens: %s",
		    store_error(cfg->store));
		tokens_free(tk);
		return NULL;
	}
	return tk;
}

static int
drop_verdict(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
	return 1;
}

void
tokens_free(struct tokens *tk)
{
	if (tk == NULL)
		return;
	hmap_sweep(tk->verdicts, drop_verdict, NULL);
	hmap_free(tk->verdicts);
	hmap_free(tk->revoked);
	free(tk);
}

static void
hash_hex(const char *text, char out[65])
{
	unsigned char h[32];

	mbedtls_sha256_ret((const unsigned char *)text, strlen(text), h, 0);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* "2026-12-04T19:00:00Z" */
static void
utc(int64_t ms, char *out, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, len,
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, len, "%lld ms", (long long)ms);
}

/* Whether text's seed part (if any) is the key its pk claims: a holder
 * who swapped it would sign proofs no node accepts, so say it here. */
static int
key_matches(const char *text, const struct token_claims *c)
{
	unsigned char seed[TOKEN_KEY_BYTES], pk[crypto_sign_PUBLICKEYBYTES],
	    sk[crypto_sign_SECRETKEYBYTES];
	int ok;

	if (token_seed(text, seed) != 0)
		return 1;
	ok = c->has_pk && crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
	    sodium_memcmp(pk, c->pk, sizeof(pk)) == 0;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	return ok;
}

/* The cached verdict of text, or a new one (NULL: unknown issuer, why
 * set). */
static const struct verdict *
verdict_of(struct tokens *tk, const char *text, char *why, size_t whylen)
{
	struct verdict v, *cached;
	const mbedtls_x509_crt *crt;
	char key[65];

	hash_hex(text, key);
	if ((cached = hmap_get(tk->verdicts, key)) != NULL)
		return cached;
	if (token_decode(text, &v.c, why, whylen) != 0)
		return NULL;
	crt = tk->cfg.cert_of != NULL ? tk->cfg.cert_of(v.c.iss,
	    tk->cfg.cert_arg) : NULL;
	if (crt == NULL) {
		snprintf(why, whylen, "token issuer unknown: no certificate of "
		    "node %s is known here", v.c.iss);
		return NULL;
	}
	v.signed_ok = token_verify(text, crt) == 0;
	v.key_ok = key_matches(text, &v.c);
	if (hmap_count(tk->verdicts) >= VERDICTS_MAX)
		hmap_sweep(tk->verdicts, drop_verdict, NULL);
	cached = xmalloc(sizeof(*cached));
	*cached = v;
	hmap_put(tk->verdicts, key, cached);
	return cached;
}

int
tokens_check(struct tokens *tk, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen)
{
	const struct verdict *v;
	unsigned char seed[TOKEN_KEY_BYTES];
	char when[32], key[160];

	memset(p, 0, sizeof(*p));
	if ((v = verdict_of(tk, text, why, whylen)) == NULL)
		return -1;
	if (!v->signed_ok) {
		snprintf(why, whylen, "token signature invalid");
		return -1;
	}
	if (!v->key_ok) {
		snprintf(why, whylen, "token key does not match its pk claim");
		return -1;
	}
	if (now_ms >= v->c.exp_ms) {
		utc(v->c.exp_ms, when, sizeof(when));
		snprintf(why, whylen, "token expired at %s", when);
		return -1;
	}
	revoked_key(v->c.iss, v->c.id, key, sizeof(key));
	if (hmap_get(tk->revoked, key) != NULL) {
		snprintf(why, whylen, "token revoked");
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", v->c.name);
	snprintf(p->token_id, sizeof(p->token_id), "%s", v->c.id);
	p->role = v->c.role;
	/* With its key: this node can prove the principal's commands. */
	if (v->c.has_pk && strlen(text) < sizeof(p->token) &&
	    token_seed(text, seed) == 0)
		snprintf(p->token, sizeof(p->token), "%s", text);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

int
tokens_issue(struct tokens *tk, const char *name, enum principal_role role,
    int64_t ttl_ms, int64_t now_ms, char *text, size_t textlen,
    struct token_claims *c, char *err, size_t errlen)
{
	unsigned char raw[PRINCIPAL_TOKEN_ID_MAX / 2], seed[TOKEN_KEY_BYTES],
	    sk[crypto_sign_SECRETKEYBYTES];
	struct store_token st;
	int minted;

	memset(c, 0, sizeof(*c));
	if (name == NULL || !token_name_valid(name, strlen(name))) {
		snprintf(err, errlen, "name: 1-%d of [A-Za-z0-9._@-]",
		    PRINCIPAL_NAME_MAX);
		return -1;
	}
	if (role == PRINCIPAL_NONE) {
		snprintf(err, errlen, "role: one of read, write, admin");
		return -1;
	}
	if (ttl_ms <= 0 || ttl_ms > TOKEN_TTL_MAX_MS) {
		snprintf(err, errlen, "ttl: 1 s to %lld days",
		    TOKEN_TTL_MAX_MS / 86400000);
		return -1;
	}
	if (tk->cfg.key == NULL || rng_bytes(tk->cfg.rng, raw, sizeof(raw)) != 0 ||
	    rng_bytes(tk->cfg.rng, seed, sizeof(seed)) != 0 ||
	    sodium_init() < 0 ||
	    crypto_sign_seed_keypair(c->pk, sk, seed) != 0) {
		snprintf(err, errlen, "this node cannot sign tokens");
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(c->id + 2 * i, 3, "%02x", raw[i]);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->iss, sizeof(c->iss), "%s", tk->cfg.self_id);
	c->role = role;
	c->iat_ms = now_ms;
	c->exp_ms = now_ms + ttl_ms;
	c->has_pk = 1;
	minted = token_mint(c, seed, tk->cfg.key, tk->cfg.rng, text, textlen);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	if (minted != 0) {
		snprintf(err, errlen, "cannot sign the token with this node's key");
		return -1;
	}
	st = (struct store_token){ c->id, c->name, principal_role_name(role),
	    c->iss, c->iat_ms, c->exp_ms, 0 };
	if (store_token_put(tk->cfg.store, &st) != 0) {
		snprintf(err, errlen, "cannot record the token: %s",
		    store_error(tk->cfg.store));
		return -1;
	}
	return 0;
}

struct list_ctx {
	json_t		*list;
	int64_t		 now;
	const char	*self;
};

static int
list_cb(void *arg, const struct store_token *t)
{
	struct list_ctx *l = arg;

	if (strcmp(t->iss, l->self) != 0)
		return 0;	/* another node's revocation, kept here */
	json_array_append_new(l->list, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I,"
	    " s:b, s:b, s:I}", "id", t->id, "name", t->name, "role", t->role,
	    "iss", t->iss, "iat", (json_int_t)t->iat_ms, "exp",
	    (json_int_t)t->exp_ms, "expired", l->now >= t->exp_ms, "revoked",
	    t->revoked_ms != 0, "revoked_ms", (json_int_t)t->revoked_ms));
	return 0;
}

json_t *
tokens_list(struct tokens *tk, int64_t now_ms)
{
	struct list_ctx l = { json_array(), now_ms, tk->cfg.self_id };

	if (store_tokens_list(tk->cfg.store, list_cb, &l) != 0) {
		json_decref(l.list);
		return NULL;
	}
	return l.list;
}

int
tokens_revoke(struct tokens *tk, const char *id, int64_t now_ms)
{
	int found;

	char key[160];

	if (store_token_revoke(tk->cfg.store, id, now_ms, &found) != 0)
		return -1;
	if (!found)
		return 1;
	revoked_key(tk->cfg.self_id, id, key, sizeof(key));
	hmap_put(tk->revoked, key, (void *)1);
	return 0;
}

int
tokens_revoked_by(struct tokens *tk, const char *iss, const char *id,
    int64_t now_ms)
{
	struct store_token t = { id, "", "", iss, 0, 0, now_ms };
	char key[160];
	int found;

	revoked_key(iss, id, key, sizeof(key));
	if (strcmp(iss, tk->cfg.self_id) == 0 || hmap_get(tk->revoked, key))
		return 0;
	/* Kept like ours, so a restart still refuses it. */
	if (store_token_put(tk->cfg.store, &t) != 0 ||
	    store_token_revoke(tk->cfg.store, id, now_ms, &found) != 0)
		return -1;
	hmap_put(tk->revoked, key, (void *)1);
	return 0;
}
