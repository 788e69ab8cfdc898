/*
 * Origin keys (origin_keys.h): our per-incarnation Ed25519 key and its
 * OriginKey statement, and the keys of other nodes, each checked against
 * its certificate once.
 */
#include "origin_keys.h"

#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "mesh_signed.h"
#include "rng.h"
#include "trust.h"
#include "xalloc.h"

#define LIVES		2	/* incarnations kept per node */
/* New keys taken per node a minute: a node has one per start; more is a
 * member making us verify certificates in a loop. */
#define LEARN_MAX	8
#define LEARN_WINDOW_MS	60000

/* The keys of one node's latest lives, newest first. */
struct known {
	uint64_t		 incarnation[LIVES];
	uint8_t			 pub[LIVES][crypto_sign_PUBLICKEYBYTES];
	mbedtls_x509_crt	 cert[LIVES];	/* the leaf that vouched for each */
	uint64_t		 window_ms;	/* new keys learnt since, and */
	unsigned		 learnt;	/* how many (LEARN_MAX a minute) */
};

struct origin_keys {
	char				*self_id;
	struct rng			*rng;
	struct trust			*trust;
	mbedtls_pk_context		 key;		/* certificate's key */
	uint8_t				*cert_der;
	size_t				 cert_len;
	uint8_t				 pub[crypto_sign_PUBLICKEYBYTES];
	uint8_t				 sec[crypto_sign_SECRETKEYBYTES];
	Agentflow__Mesh__V1__OriginKey	 own;
	uint8_t				 own_sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	struct hmap			*known;
	origin_keys_learned_fn		 learned;
	void				*learned_arg;
};

static const char *const verdict_names[] = {
	[ORIGIN_KEYS_VALID] = "valid",
	[ORIGIN_KEYS_FORGED] = "forged",
	[ORIGIN_KEYS_UNKNOWN] = "unknown_key",
	[ORIGIN_KEYS_REVOKED] = "revoked",
};

const char *
origin_keys_verdict_name(enum origin_keys_verdict v)
{
	return (unsigned)v < sizeof(verdict_names) / sizeof(*verdict_names) ?
	    verdict_names[v] : "unknown";
}

struct origin_keys *
origin_keys_new(const struct origin_keys_config *cfg, char *err, size_t errlen)
{
	struct origin_keys *ok;
	mbedtls_x509_crt crt;
	int rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return NULL;
	}
	ok = xcalloc(1, sizeof(*ok));
	ok->self_id = xstrdup(cfg->self_id);
	ok->rng = cfg->rng;
	ok->trust = cfg->trust;
	ok->known = hmap_new();
	mbedtls_pk_init(&ok->key);
	mbedtls_x509_crt_init(&crt);
	rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cfg->cert_pem,
	    strlen(cfg->cert_pem) + 1);
	if (rc != 0 || crt.raw.len == 0 || crt.raw.len > FRAME_CODEC_MAX_CERT) {
		snprintf(err, errlen, "our certificate cannot vouch for our "
		    "events (not PEM, or over %u bytes)", FRAME_CODEC_MAX_CERT);
		mbedtls_x509_crt_free(&crt);
		origin_keys_free(ok);
		return NULL;
	}
	ok->cert_der = xmalloc(crt.raw.len);
	memcpy(ok->cert_der, crt.raw.p, crt.raw.len);
	ok->cert_len = crt.raw.len;
	mbedtls_x509_crt_free(&crt);
	if (mbedtls_pk_parse_key(&ok->key, (const unsigned char *)cfg->key_pem,
	    strlen(cfg->key_pem) + 1, NULL, 0) != 0) {
		snprintf(err, errlen, "our key cannot sign our origin key");
		origin_keys_free(ok);
		return NULL;
	}
	crypto_sign_keypair(ok->pub, ok->sec);
	agentflow__mesh__v1__origin_key__init(&ok->own);
	return ok;
}

static int
free_known(const char *id, void *value, void *arg)
{
	struct known *k = value;

	(void)id;
	(void)arg;
	for (int i = 0; i < LIVES; i++)
		mbedtls_x509_crt_free(&k->cert[i]);
	free(k);
	return 1;
}

void
origin_keys_free(struct origin_keys *ok)
{
	if (ok == NULL)
		return;
	hmap_sweep(ok->known, free_known, NULL);
	hmap_free(ok->known);
	mbedtls_pk_free(&ok->key);
	sodium_memzero(ok->sec, sizeof(ok->sec));
	free(ok->cert_der);
	free(ok->self_id);
	free(ok);
}

const Agentflow__Mesh__V1__OriginKey *
origin_keys_own(struct origin_keys *ok, uint64_t incarnation)
{
	Agentflow__Mesh__V1__OriginKey *k = &ok->own;
	uint8_t hash[32], *msg;
	size_t len, siglen = 0;
	int rc;

	if (k->incarnation == incarnation && k->signature.len > 0)
		return k;
	k->cert.data = ok->cert_der;
	k->cert.len = ok->cert_len;
	k->incarnation = incarnation;
	k->public_key.data = ok->pub;
	k->public_key.len = sizeof(ok->pub);
	k->issued_ms = clock_wall_ms();
	msg = mesh_signed_origin_key(ok->self_id, k, &len);
	rc = mbedtls_sha256_ret(msg, len, hash, 0);
	free(msg);
	if (rc != 0 || mbedtls_pk_sign(&ok->key, MBEDTLS_MD_SHA256, hash,
	    sizeof(hash), ok->own_sig, &siglen, rng_mbedtls, ok->rng) != 0) {
		k->signature.len = 0;
		return NULL;
	}
	k->signature.data = ok->own_sig;
	k->signature.len = siglen;
	return k;
}

const Agentflow__Mesh__V1__OriginKey *
origin_keys_current(const struct origin_keys *ok)
{
	return ok->own.signature.len > 0 ? &ok->own : NULL;
}

void
origin_keys_sign(const struct origin_keys *ok, const void *msg, size_t len,
    uint8_t *sig)
{
	crypto_sign_detached(sig, NULL, msg, len, ok->sec);
}

/* The index of incarnation's key in k, or -1. */
static int
life(const struct known *k, uint64_t incarnation)
{
	for (int i = 0; i < LIVES; i++)
		if (k->incarnation[i] == incarnation && incarnation != 0)
			return i;
	return -1;
}

/* Whether cert names node_id (cheap: before the chain's verification). */
static int
names(const Agentflow__Mesh__V1__OriginKey *k, const char *node_id)
{
	mbedtls_x509_crt crt;
	char ident[256];
	int ok;

	mbedtls_x509_crt_init(&crt);
	ok = mbedtls_x509_crt_parse_der(&crt, k->cert.data, k->cert.len) == 0 &&
	    trust_cert_identity(&crt, ident, sizeof(ident)) == 0 &&
	    strcmp(ident, node_id) == 0;
	mbedtls_x509_crt_free(&crt);
	return ok;
}

/* One more new key of kn's: 0, or -1 past LEARN_MAX a minute. */
static int
learn_budget(struct known *kn)
{
	uint64_t now = clock_mono_ms();

	if (kn->window_ms == 0 || now - kn->window_ms > LEARN_WINDOW_MS) {
		kn->window_ms = now;
		kn->learnt = 0;
	}
	return ++kn->learnt <= LEARN_MAX ? 0 : -1;
}

int
origin_keys_learn(struct origin_keys *ok, const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k, char *detail, size_t detaillen)
{
	struct known *kn = hmap_get(ok->known, node_id);
	mbedtls_x509_crt crt;
	uint8_t hash[32], *msg;
	size_t len;
	int i, rc;

	if (k == NULL || k->public_key.len != crypto_sign_PUBLICKEYBYTES ||
	    k->incarnation == 0) {
		snprintf(detail, detaillen, "no usable key");
		return -1;
	}
	if (kn != NULL && (i = life(kn, k->incarnation)) >= 0 &&
	    memcmp(kn->pub[i], k->public_key.data, sizeof(kn->pub[i])) == 0)
		return 0;	/* the same key for a life vouched for: nothing new */
	if (!names(k, node_id)) {
		snprintf(detail, detaillen, "the certificate of the key offered "
		    "for %s does not match the certificate identity", node_id);
		return -1;
	}
	if (kn != NULL && (i = life(kn, k->incarnation)) >= 0) {
		/* The same key for a life already vouched for: nothing new;
		 * another one for it is refused (a life has one key). */
		if (memcmp(kn->pub[i], k->public_key.data, sizeof(kn->pub[i])) == 0)
			return 0;
		snprintf(detail, detaillen, "%s's life %llu already has another "
		    "key", node_id, (unsigned long long)k->incarnation);
		return -1;
	}
	/* A life older than both kept is of no use. */
	if (kn != NULL && kn->incarnation[LIVES - 1] != 0 &&
	    k->incarnation < kn->incarnation[LIVES - 1]) {
		snprintf(detail, detaillen, "%s's life %llu is older than the "
		    "two kept", node_id, (unsigned long long)k->incarnation);
		return 1;
	}
	if (ok->trust == NULL) {
		snprintf(detail, detaillen, "no mesh CA to check %s's certificate",
		    node_id);
		return -1;
	}
	if (kn != NULL && learn_budget(kn) != 0) {
		snprintf(detail, detaillen, "more than %d new keys of %s within "
		    "a minute", LEARN_MAX, node_id);
		return 1;
	}
	if (trust_verify_der(ok->trust, k->cert.data, k->cert.len, node_id, &crt,
	    NULL, detail, detaillen) != TRUST_OK)
		return -1;
	msg = mesh_signed_origin_key(node_id, k, &len);
	rc = mbedtls_sha256_ret(msg, len, hash, 0);
	free(msg);
	if (rc != 0 || mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash,
	    sizeof(hash), k->signature.data, k->signature.len) != 0) {
		snprintf(detail, detaillen, "origin key of %s is not signed by "
		    "its certificate", node_id);
		mbedtls_x509_crt_free(&crt);
		return -1;
	}
	if (kn == NULL) {
		if (hmap_count(ok->known) >= FRAME_CODEC_MAX_NODES) {
			snprintf(detail, detaillen, "too many nodes");
			mbedtls_x509_crt_free(&crt);
			return -1;
		}
		kn = xcalloc(1, sizeof(*kn));
		for (i = 0; i < LIVES; i++)
			mbedtls_x509_crt_init(&kn->cert[i]);
		hmap_put(ok->known, node_id, kn);
		learn_budget(kn);
	}
	/* Newest first: a newer life pushes the older one down. */
	if (k->incarnation > kn->incarnation[0]) {
		mbedtls_x509_crt_free(&kn->cert[LIVES - 1]);
		for (i = LIVES - 1; i > 0; i--) {
			kn->incarnation[i] = kn->incarnation[i - 1];
			memcpy(kn->pub[i], kn->pub[i - 1], sizeof(kn->pub[i]));
			kn->cert[i] = kn->cert[i - 1];
		}
		i = 0;
	} else {
		i = LIVES - 1;
		mbedtls_x509_crt_free(&kn->cert[i]);
	}
	kn->incarnation[i] = k->incarnation;
	memcpy(kn->pub[i], k->public_key.data, sizeof(kn->pub[i]));
	kn->cert[i] = crt;
	if (ok->learned != NULL)
		ok->learned(ok->learned_arg, node_id, &kn->cert[i]);
	return 0;
}

void
origin_keys_set_learned(struct origin_keys *ok, origin_keys_learned_fn fn,
    void *arg)
{
	ok->learned = fn;
	ok->learned_arg = arg;
}

/* Whether cert no longer vouches: expired or revoked now. */
static int
lapsed(const struct origin_keys *ok, const mbedtls_x509_crt *cert)
{
	return mbedtls_x509_time_is_past(&cert->valid_to) ||
	    (ok->trust != NULL && trust_serial_revoked(ok->trust,
	    cert->serial.p, cert->serial.len));
}

const mbedtls_x509_crt *
origin_keys_cert(const struct origin_keys *ok, const char *node_id)
{
	const struct known *kn = hmap_get(ok->known, node_id);

	if (kn == NULL || kn->incarnation[0] == 0 || lapsed(ok, &kn->cert[0]))
		return NULL;
	return &kn->cert[0];
}

int
origin_keys_known(const struct origin_keys *ok, const char *node_id,
    uint64_t incarnation)
{
	const struct known *kn = hmap_get(ok->known, node_id);

	return kn != NULL && life(kn, incarnation) >= 0;
}

enum origin_keys_verdict
origin_keys_standing(const struct origin_keys *ok, const char *node_id,
    uint64_t incarnation)
{
	const struct known *kn = hmap_get(ok->known, node_id);
	int i;

	if (kn == NULL || (i = life(kn, incarnation)) < 0)
		return ORIGIN_KEYS_UNKNOWN;
	return lapsed(ok, &kn->cert[i]) ? ORIGIN_KEYS_REVOKED :
	    ORIGIN_KEYS_VALID;
}

enum origin_keys_verdict
origin_keys_verify(const struct origin_keys *ok, const char *node_id,
    uint64_t incarnation, const void *msg, size_t len,
    const ProtobufCBinaryData *sig)
{
	enum origin_keys_verdict v = origin_keys_standing(ok, node_id,
	    incarnation);
	const struct known *kn = hmap_get(ok->known, node_id);
	int i;

	if (v != ORIGIN_KEYS_VALID)
		return v;
	i = life(kn, incarnation);
	if (sig == NULL || sig->len != crypto_sign_BYTES ||
	    crypto_sign_verify_detached(sig->data, msg, len, kn->pub[i]) != 0)
		return ORIGIN_KEYS_FORGED;
	return ORIGIN_KEYS_VALID;
}
