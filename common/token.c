/*
 * Signed API tokens (see token.h).  Decoding refuses anything but exactly
 * the six claims (seven with pk) with their types and bounds, so a token
 * that decodes is safe to print, store and compare.
 */
#include "token.h"

#include <errno.h>
#include <jansson.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "rng.h"

#define PAYLOAD_MAX	600	/* decoded JSON */
#define SIG_MAX		MBEDTLS_PK_SIGNATURE_MAX_SIZE
#define KEY_B64_LEN	43	/* 32 bytes in base64url without padding */

bool
token_name_valid(const char *s, size_t len)
{
	return len >= 1 && len <= PRINCIPAL_NAME_MAX && strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "._@-") >= len;
}

bool
token_id_valid(const char *s, size_t len)
{
	return len >= 1 && len <= PRINCIPAL_TOKEN_ID_MAX &&
	    strspn(s, "0123456789abcdef") >= len;
}

bool
token_is_signed(const char *text)
{
	return text != NULL && strncmp(text, TOKEN_PREFIX,
	    strlen(TOKEN_PREFIX)) == 0;
}

int
token_ttl_parse(const char *s, int64_t *ms)
{
	static const struct {
		char	 unit;
		int64_t	 ms;
	} units[] = { { 's', 1000 }, { 'm', 60000 }, { 'h', 3600000 },
	    { 'd', 86400000 } };
	char *end;
	long long v;
	int64_t mult = 1000;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v <= 0 || v > TOKEN_TTL_MAX_MS / 1000)
		return -1;
	if (*end != '\0') {
		mult = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (end[0] == units[i].unit && end[1] == '\0')
				mult = units[i].ms;
	}
	if (mult == 0 || v * mult > TOKEN_TTL_MAX_MS)
		return -1;
	*ms = v * mult;
	return 0;
}

/* --- base64url ------------------------------------------------------------ */

static int
b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen,
    size_t *olen)
{
	size_t n = 0;

	if (mbedtls_base64_encode((unsigned char *)out, outlen, &n, in, len) != 0)
		return -1;
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	*olen = n;
	return 0;
}

static int
b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen,
    size_t *olen)
{
	char buf[TOKEN_TEXT_MAX + 4];
	size_t n;

	if (len == 0 || len > TOKEN_TEXT_MAX || len % 4 == 1 ||
	    strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") < len)
		return -1;
	for (n = 0; n < len; n++)
		buf[n] = in[n] == '-' ? '+' : in[n] == '_' ? '/' : in[n];
	while (n % 4 != 0)
		buf[n++] = '=';
	return mbedtls_base64_decode(out, outlen, olen, (unsigned char *)buf,
	    n) == 0 ? 0 : -1;
}

/* --- mint, decode, verify ------------------------------------------------- */

void
token_kid(const unsigned char *der, size_t len, char *kid)
{
	unsigned char h[32];

	mbedtls_sha256_ret(der, len, h, 0);
	for (size_t i = 0; i < TOKEN_KID_LEN / 2; i++)
		snprintf(kid + 2 * i, 3, "%02x", h[i]);
}

static int
claims_valid(const struct token_claims *c)
{
	return (c->kid[0] == '\0' || (strlen(c->kid) == TOKEN_KID_LEN &&
	    strspn(c->kid, "0123456789abcdef") == TOKEN_KID_LEN)) &&
	    token_id_valid(c->id, strlen(c->id)) &&
	    token_name_valid(c->name, strlen(c->name)) &&
	    c->role >= PRINCIPAL_READ && c->role <= PRINCIPAL_ADMIN &&
	    node_id_valid(c->iss, strlen(c->iss)) && c->iat_ms >= 0 &&
	    c->exp_ms > c->iat_ms;
}

static int
hash_signed_part(const char *text, size_t len, unsigned char hash[32])
{
	return mbedtls_sha256_ret((const unsigned char *)text, len, hash, 0);
}

int
token_mint(const struct token_claims *c, const unsigned char *seed,
    mbedtls_pk_context *key, struct rng *rng, char *out, size_t outlen)
{
	unsigned char hash[32], sig[SIG_MAX];
	size_t plen = strlen(TOKEN_PREFIX), n, siglen = 0;
	char pk[KEY_B64_LEN + 4];
	json_t *j;
	char *payload;
	int rc = -1;

	if (!claims_valid(c) || outlen < plen + 1 || (c->has_pk && seed == NULL))
		return -1;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", c->id, "name",
	    c->name, "role", principal_role_name(c->role), "iss", c->iss, "iat",
	    (json_int_t)c->iat_ms, "exp", (json_int_t)c->exp_ms);
	if (c->has_pk) {
		if (b64url_encode(c->pk, sizeof(c->pk), pk, sizeof(pk), &n) != 0) {
			json_decref(j);
			return -1;
		}
		json_object_set_new(j, "pk", json_string(pk));
	}
	if (c->kid[0] != '\0')
		json_object_set_new(j, "kid", json_string(c->kid));
	payload = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (payload == NULL)
		return -1;
	memcpy(out, TOKEN_PREFIX, plen);
	if (b64url_encode((unsigned char *)payload, strlen(payload), out + plen,
	    outlen - plen, &n) != 0)
		goto out;
	plen += n;
	if (hash_signed_part(out, plen, hash) != 0 ||
	    mbedtls_pk_sign(key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
	    &siglen, rng_mbedtls, rng) != 0 || plen + 2 > outlen)
		goto out;
	out[plen++] = '.';
	if (b64url_encode(sig, siglen, out + plen, outlen - plen, &n) != 0)
		goto out;
	plen += n;
	if (c->has_pk) {
		if (plen + 2 > outlen)
			goto out;
		out[plen++] = '.';
		if (b64url_encode(seed, TOKEN_KEY_BYTES, out + plen,
		    outlen - plen, &n) != 0)
			goto out;
		plen += n;
	}
	rc = plen < TOKEN_TEXT_MAX ? 0 : -1;
out:
	free(payload);
	return rc;
}

/* Splits text into its payload, signature and (NULL when none) seed
 * parts, each with its length; -1 if not a token. */
struct split {
	const char	*payload, *sig, *seed;
	size_t		 plen, siglen, seedlen;
};

static int
split(const char *text, struct split *sp)
{
	const char *dot, *dot2;

	memset(sp, 0, sizeof(*sp));
	if (!token_is_signed(text) || strlen(text) >= TOKEN_TEXT_MAX)
		return -1;
	sp->payload = text + strlen(TOKEN_PREFIX);
	if ((dot = strchr(sp->payload, '.')) == NULL)
		return -1;
	sp->plen = (size_t)(dot - sp->payload);
	sp->sig = dot + 1;
	sp->siglen = strlen(sp->sig);
	if ((dot2 = strchr(sp->sig, '.')) != NULL) {
		sp->siglen = (size_t)(dot2 - sp->sig);
		sp->seed = dot2 + 1;
		sp->seedlen = strlen(sp->seed);
		if (strchr(sp->seed, '.') != NULL || sp->seedlen != KEY_B64_LEN)
			return -1;
	}
	return 0;
}

static int
claim_str(const json_t *j, const char *key, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (s == NULL || strlen(s) >= cap)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int
token_decode(const char *text, struct token_claims *c, char *err,
    size_t errlen)
{
	unsigned char buf[PAYLOAD_MAX + 1];
	struct split sp;
	char role[16], pk[KEY_B64_LEN + 4];
	size_t n, pkn = 0;
	json_int_t iat, exp;
	json_t *j;
	int ok, kid;

	memset(c, 0, sizeof(*c));
	if (split(text, &sp) != 0) {
		snprintf(err, errlen, "malformed token: not %s<payload>.<signature>"
		    "[.<key>]", TOKEN_PREFIX);
		return -1;
	}
	if (b64url_decode(sp.payload, sp.plen, buf, PAYLOAD_MAX, &n) != 0 ||
	    sp.siglen == 0) {
		snprintf(err, errlen, "malformed token: bad base64url");
		return -1;
	}
	if ((j = json_loadb((char *)buf, n, JSON_REJECT_DUPLICATES, NULL)) == NULL) {
		snprintf(err, errlen, "malformed token: the payload is not JSON");
		return -1;
	}
	c->has_pk = json_object_get(j, "pk") != NULL;
	kid = json_object_get(j, "kid") != NULL;
	ok = json_is_object(j) &&
	    json_object_size(j) == 6u + (c->has_pk ? 1 : 0) + (kid ? 1 : 0) &&
	    (!kid || claim_str(j, "kid", c->kid, sizeof(c->kid)) == 0) &&
	    (!c->has_pk || (claim_str(j, "pk", pk, sizeof(pk)) == 0 &&
	    b64url_decode(pk, strlen(pk), c->pk, sizeof(c->pk), &pkn) == 0 &&
	    pkn == sizeof(c->pk))) &&
	    (c->has_pk || sp.seed == NULL) &&
	    claim_str(j, "id", c->id, sizeof(c->id)) == 0 &&
	    claim_str(j, "name", c->name, sizeof(c->name)) == 0 &&
	    claim_str(j, "role", role, sizeof(role)) == 0 &&
	    claim_str(j, "iss", c->iss, sizeof(c->iss)) == 0 &&
	    json_check_int(json_object_get(j, "iat"), 0, INT64_MAX, &iat) &&
	    json_check_int(json_object_get(j, "exp"), 0, INT64_MAX, &exp);
	json_decref(j);
	if (ok) {
		c->role = principal_role_parse(role);
		c->iat_ms = iat;
		c->exp_ms = exp;
	}
	if (!ok || !claims_valid(c)) {
		memset(c, 0, sizeof(*c));	/* nothing of a refused token */
		snprintf(err, errlen, "malformed token: the payload is not "
		    "{id, name, role, iss, iat, exp[, pk][, kid]} with valid values");
		return -1;
	}
	return 0;
}

int
token_verify(const char *text, const mbedtls_x509_crt *issuer)
{
	unsigned char hash[32], sig[SIG_MAX];
	struct split sp;
	size_t siglen;

	if (issuer == NULL || split(text, &sp) != 0 ||
	    b64url_decode(sp.sig, sp.siglen, sig, sizeof(sig), &siglen) != 0)
		return -1;
	if (!mbedtls_pk_can_do(&issuer->pk, MBEDTLS_PK_ECDSA))
		return -1;
	if (hash_signed_part(text, (size_t)(sp.payload + sp.plen - text),
	    hash) != 0)
		return -1;
	/* mbedTLS 2 takes the key non-const though verifying changes
	 * nothing in it. */
	return mbedtls_pk_verify((mbedtls_pk_context *)&issuer->pk,
	    MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, siglen) == 0 ? 0 : -1;
}

int
token_seed(const char *text, unsigned char *seed)
{
	struct split sp;
	size_t n;

	if (split(text, &sp) != 0 || sp.seed == NULL ||
	    b64url_decode(sp.seed, sp.seedlen, seed, TOKEN_KEY_BYTES, &n) != 0 ||
	    n != TOKEN_KEY_BYTES)
		return -1;
	return 0;
}

int
token_parts(const char *text, struct token_parts *p)
{
	struct split sp;

	memset(p, 0, sizeof(*p));
	if (split(text, &sp) != 0 || sp.plen == 0 ||
	    sp.plen >= sizeof(p->claims) || b64url_decode(sp.sig, sp.siglen,
	    p->issuer_sig, sizeof(p->issuer_sig), &p->issuer_sig_len) != 0)
		return -1;
	memcpy(p->claims, sp.payload, sp.plen);
	p->claims[sp.plen] = '\0';
	p->claims_len = sp.plen;
	return 0;
}

int
token_from_parts(const void *claims, size_t claims_len, const void *issuer_sig,
    size_t sig_len, char *out, size_t outlen)
{
	size_t plen = strlen(TOKEN_PREFIX), n;

	/* The claims are text a peer sent: only base64url reaches out. */
	if (claims_len == 0 || sig_len == 0 || sig_len > SIG_MAX ||
	    plen + claims_len + 2 > outlen || plen + claims_len + 2 > TOKEN_TEXT_MAX)
		return -1;
	for (size_t i = 0; i < claims_len; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", ((const char *)claims)[i]) == NULL ||
		    ((const char *)claims)[i] == '\0')
			return -1;
	memcpy(out, TOKEN_PREFIX, plen);
	memcpy(out + plen, claims, claims_len);
	plen += claims_len;
	out[plen++] = '.';
	if (b64url_encode(issuer_sig, sig_len, out + plen, outlen - plen,
	    &n) != 0 || plen + n >= TOKEN_TEXT_MAX)
		return -1;
	return 0;
}
