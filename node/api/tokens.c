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

#include "clock.h"
#include "hmap.h"
#include "log.h"
#include "rng.h"
#include "store.h"
#include "store_tokens.h"
#include "trust.h"
#include "xalloc.h"

#define VERDICTS_MAX	4096

struct verdict {
	struct token_claims	 c;
	int			 signed_ok;
	int			 key_ok;	/* key_matches() */
};

struct tokens {
	struct tokens_config	 cfg;
	struct hmap		*verdicts;	/* sha256 hex → struct verdict */
	struct hmap		*revoked;	/* "iss/id" → (void *)1 */
	struct hmap		*certs;		/* "iss/kid" → struct issuer_cert */
};

/* A certificate an issuer had, and when it was last current here. */
struct issuer_cert {
	mbedtls_x509_crt	 crt;
	int64_t			 last_ms;
};

#define CERTS_MAX	4096	/* 1024 nodes, a few rotations each */

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

/* Keeps der as iss's certificate kid, last current at last_ms: 0, or -1
 * when it does not parse or too many are kept. */
static int
cert_keep(struct tokens *tk, const char *iss, const char *kid,
    const unsigned char *der, size_t len, int64_t last_ms)
{
	struct issuer_cert *ic;
	char key[160];

	snprintf(key, sizeof(key), "%s/%s", iss, kid);
	if ((ic = hmap_get(tk->certs, key)) != NULL) {
		if (last_ms > ic->last_ms)
			ic->last_ms = last_ms;
		return 0;
	}
	if (hmap_count(tk->certs) >= CERTS_MAX)
		return -1;
	ic = xcalloc(1, sizeof(*ic));
	mbedtls_x509_crt_init(&ic->crt);
	if (mbedtls_x509_crt_parse_der(&ic->crt, der, len) != 0) {
		mbedtls_x509_crt_free(&ic->crt);
		free(ic);
		return -1;
	}
	ic->last_ms = last_ms;
	hmap_put(tk->certs, key, ic);
	return 0;
}

static int
load_cert_cb(void *arg, const struct store_issuer_cert *c)
{
	cert_keep(arg, c->node_id, c->kid, c->der, c->der_len, c->last_ms);
	return 0;
}

void
tokens_learn_cert(struct tokens *tk, const char *node_id,
    const mbedtls_x509_crt *crt, int64_t now_ms)
{
	struct store_issuer_cert sc;
	char kid[TOKEN_KID_LEN + 1];

	if (tk == NULL || crt == NULL || crt->raw.p == NULL)
		return;
	token_kid(crt->raw.p, crt->raw.len, kid);
	if (cert_keep(tk, node_id, kid, crt->raw.p, crt->raw.len, now_ms) != 0)
		return;
	sc = (struct store_issuer_cert){ node_id, kid, crt->raw.p, crt->raw.len,
	    now_ms };
	if (store_issuer_cert_put(tk->cfg.store, &sc) != 0)
		log_event(LOG_WARN, "cannot keep a token issuer's certificate",
		    "{s:s, s:s, s:s}", "node", node_id, "kid", kid, "error",
		    store_error(tk->cfg.store));
}

struct tokens *
tokens_new(const struct tokens_config *cfg, char *err, size_t errlen)
{
	struct tokens *tk = xcalloc(1, sizeof(*tk));
	int64_t now = (int64_t)clock_wall_ms();

	tk->cfg = *cfg;
	tk->verdicts = hmap_new();
	tk->revoked = hmap_new();
	tk->certs = hmap_new();
	/* No token of a certificate last current that long ago is alive. */
	if (store_tokens_list(cfg->store, load_revoked_cb, tk) != 0 ||
	    store_issuer_certs_prune(cfg->store, now - TOKEN_TTL_MAX_MS) != 0 ||
	    store_issuer_certs_list(cfg->store, load_cert_cb, tk) != 0) {
		snprintf(err, errlen, "cannot read the issued API tokens: %s",
		    store_error(cfg->store));
		tokens_free(tk);
		return NULL;
	}
	if (cfg->cert_of != NULL)
		tokens_learn_cert(tk, cfg->self_id, cfg->cert_of(cfg->self_id,
		    cfg->cert_arg), now);
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

static int
drop_cert(const char *key, void *value, void *arg)
{
	struct issuer_cert *ic = value;

	(void)key;
	(void)arg;
	mbedtls_x509_crt_free(&ic->crt);
	free(ic);
	return 1;
}

void
tokens_free(struct tokens *tk)
{
	if (tk == NULL)
		return;
	hmap_sweep(tk->verdicts, drop_verdict, NULL);
	hmap_free(tk->verdicts);
	if (tk->certs != NULL)
		hmap_sweep(tk->certs, drop_cert, NULL);
	hmap_free(tk->certs);
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

/*
 * Whether text's seed part is the key its pk claims: 1, 0 when it is
 * another (a holder who swapped it would sign proofs no node accepts, so
 * say it here), -1 when a token whose claims name a key comes without it.
 * The claims and the issuer's signature travel in every principal proof
 * and job grant, so any relay could rebuild the text before the key part:
 * without the key it is no credential.  A token minted without pk (an
 * older node's) has no key part to give.
 */
static int
key_matches(const char *text, const struct token_claims *c)
{
	unsigned char seed[TOKEN_KEY_BYTES], pk[crypto_sign_PUBLICKEYBYTES],
	    sk[crypto_sign_SECRETKEYBYTES];
	int ok;

	if (token_seed(text, seed) != 0)
		return c->has_pk ? -1 : 1;
	ok = c->has_pk && crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
	    sodium_memcmp(pk, c->pk, sizeof(pk)) == 0;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	return ok;
}

/*
 * The certificate that signed c: for a token that names it (kid), the
 * issuer's current one if it is that, else one kept from before; for an
 * older token, the current one.  NULL with why.
 */
static const mbedtls_x509_crt *
signer_of(struct tokens *tk, const struct token_claims *c, char *why,
    size_t whylen)
{
	const mbedtls_x509_crt *cur;
	struct issuer_cert *ic;
	char kid[TOKEN_KID_LEN + 1], key[160];

	cur = tk->cfg.cert_of != NULL ? tk->cfg.cert_of(c->iss,
	    tk->cfg.cert_arg) : NULL;
	if (c->kid[0] == '\0' && cur != NULL)
		return cur;
	if (cur != NULL) {
		token_kid(cur->raw.p, cur->raw.len, kid);
		if (strcmp(kid, c->kid) == 0)
			return cur;
	}
	snprintf(key, sizeof(key), "%s/%s", c->iss, c->kid);
	if (c->kid[0] != '\0' && (ic = hmap_get(tk->certs, key)) != NULL)
		return &ic->crt;
	if (c->kid[0] == '\0')
		snprintf(why, whylen, "token issuer unknown: no certificate of "
		    "node %s is known here", c->iss);
	else
		snprintf(why, whylen, "token issuer unknown: certificate %s of "
		    "node %s is not known here", c->kid, c->iss);
	return NULL;
}

/* Why the certificate kid of iss no longer vouches for its tokens now:
 * NULL while it does (or is not kept: the current one, checked by
 * cert_of). */
static const char *
signer_lapsed(struct tokens *tk, const struct token_claims *c, int64_t now_ms)
{
	const struct issuer_cert *ic;
	char key[160];

	snprintf(key, sizeof(key), "%s/%s", c->iss, c->kid);
	if (c->kid[0] == '\0' || (ic = hmap_get(tk->certs, key)) == NULL)
		return NULL;
	if (tk->cfg.trust != NULL && trust_serial_revoked(tk->cfg.trust,
	    ic->crt.serial.p, ic->crt.serial.len))
		return "token issuer's certificate revoked";
	if (mbedtls_x509_time_is_past(&ic->crt.valid_to))
		return "token issuer's certificate expired";
	if (now_ms > ic->last_ms + TOKEN_TTL_MAX_MS)
		return "token issuer's certificate was replaced too long ago";
	return NULL;
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
	if ((crt = signer_of(tk, &v.c, why, whylen)) == NULL)
		return NULL;
	v.signed_ok = token_verify(text, crt) == 0;
	v.key_ok = key_matches(text, &v.c);
	if (hmap_count(tk->verdicts) >= VERDICTS_MAX)
		hmap_sweep(tk->verdicts, drop_verdict, NULL);
	cached = xmalloc(sizeof(*cached));
	*cached = v;
	hmap_put(tk->verdicts, key, cached);
	return cached;
}

/* tokens_check and tokens_check_claims; need_key: a credential must
 * come with its key part (key_matches). */
static int
check(struct tokens *tk, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen, int need_key)
{
	const struct verdict *v;
	unsigned char seed[TOKEN_KEY_BYTES];
	char when[32], key[160];
	const char *lapsed;

	memset(p, 0, sizeof(*p));
	if ((v = verdict_of(tk, text, why, whylen)) == NULL)
		return -1;
	if (!v->signed_ok) {
		snprintf(why, whylen, "token signature invalid");
		return -1;
	}
	if (v->key_ok == 0 || (need_key && v->key_ok != 1)) {
		snprintf(why, whylen, "%s", v->key_ok == 0 ? "token key does not "
		    "match its pk claim" : "token key part missing (the token's "
		    "claims name a key; without it the text is no credential)");
		return -1;
	}
	if ((lapsed = signer_lapsed(tk, &v->c, now_ms)) != NULL) {
		snprintf(why, whylen, "%s", lapsed);
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
tokens_check(struct tokens *tk, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen)
{
	return check(tk, text, now_ms, p, why, whylen, 1);
}

int
tokens_check_claims(struct tokens *tk, const char *text, int64_t now_ms,
    struct principal *p, char *why, size_t whylen)
{
	return check(tk, text, now_ms, p, why, whylen, 0);
}

int
tokens_issue(struct tokens *tk, const char *name, enum principal_role role,
    int64_t ttl_ms, int64_t now_ms, char *text, size_t textlen,
    struct token_claims *c, char *err, size_t errlen)
{
	unsigned char raw[PRINCIPAL_TOKEN_ID_MAX / 2], seed[TOKEN_KEY_BYTES],
	    sk[crypto_sign_SECRETKEYBYTES];
	struct store_token st;
	const mbedtls_x509_crt *crt;
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
	if ((crt = tk->cfg.cert_of != NULL ? tk->cfg.cert_of(c->iss,
	    tk->cfg.cert_arg) : NULL) != NULL)
		token_kid(crt->raw.p, crt->raw.len, c->kid);
	minted = token_mint(c, seed, tk->cfg.key, tk->cfg.rng, text, textlen);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	if (minted != 0) {
		snprintf(err, errlen, "cannot sign the token with this node's key");
		return -1;
	}
	st = (struct store_token){ c->id, c->name, principal_role_name(role),
	    c->iss, c->iat_ms, c->exp_ms, 0, c->kid };
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
	    " s:b, s:b, s:I, s:s}", "id", t->id, "name", t->name, "role", t->role,
	    "iss", t->iss, "iat", (json_int_t)t->iat_ms, "exp",
	    (json_int_t)t->exp_ms, "expired", l->now >= t->exp_ms, "revoked",
	    t->revoked_ms != 0, "revoked_ms", (json_int_t)t->revoked_ms,
	    "kid", t->kid));
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
	struct store_token t = { id, "", "", iss, 0, 0, now_ms, "" };
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
