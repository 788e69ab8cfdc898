/*
 * What vouches for an origin.  Each node makes an Ed25519 key pair at
 * start (never stored), and its certificate's key (ECDSA P-256, the mTLS
 * key) signs an OriginKey statement binding it to one incarnation.  The
 * node signs its events, commands and results with it (~16 µs each);
 * receivers check a statement once per origin life (the certificate
 * against the mesh CA and CRL, that it names the origin, the ECDSA
 * signature: ~2.5 ms) and then each signature in ~45 µs.
 *
 * Keys learnt are kept per node id for its two latest incarnations.  A
 * certificate revoked by the CRL, or expired, stops vouching at once.
 */
#ifndef AGENTFLOW_ORIGIN_KEYS_H
#define AGENTFLOW_ORIGIN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "mesh.pb-c.h"

struct origin_keys;
struct rng;
struct trust;

#define ORIGIN_KEYS_SIGNATURE	64

struct origin_keys_config {
	const char	*self_id;
	const char	*cert_pem;	/* ours: borrowed for origin_keys_new() */
	const char	*key_pem;
	struct rng	*rng;		/* borrowed; outlives the keys */
	/* CA + CRL that others' certificates must pass (borrowed); NULL:
	 * no other node's key is ever taken. */
	struct trust	*trust;
};

/* NULL with why in err when the certificate or key cannot be used. */
struct origin_keys *origin_keys_new(const struct origin_keys_config *,
    char *err, size_t errlen);
void origin_keys_free(struct origin_keys *);

/*
 * Our OriginKey for incarnation, made (and signed) on the first call for
 * it.  Owned by the keys; valid until a call with another incarnation.
 * NULL only if signing failed.
 */
const Agentflow__Mesh__V1__OriginKey *origin_keys_own(struct origin_keys *,
    uint64_t incarnation);

/* The OriginKey origin_keys_own() made last (NULL before): the life we
 * sign for now. */
const Agentflow__Mesh__V1__OriginKey *origin_keys_current(
    const struct origin_keys *);

/* Signs msg with our Ed25519 key into sig (ORIGIN_KEYS_SIGNATURE bytes). */
void origin_keys_sign(const struct origin_keys *, const void *msg, size_t len,
    uint8_t *sig);

/*
 * Checks k as node_id's key and remembers it for k->incarnation.  0; -1
 * when it is refused, with a sentence in detail (bad certificate, other
 * identity, revoked, bad signature, another key for a life already known,
 * no trust anchor); 1 when it is not taken but proves nothing false (a life
 * older than the two kept; more than 8 new keys of that node a minute).
 */
int origin_keys_learn(struct origin_keys *, const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k, char *detail, size_t detaillen);

enum origin_keys_verdict {
	ORIGIN_KEYS_VALID = 0,
	ORIGIN_KEYS_FORGED,	/* no signature, or one that does not verify */
	ORIGIN_KEYS_UNKNOWN,	/* no key known for that life (yet) */
	ORIGIN_KEYS_REVOKED,	/* its certificate is revoked or expired now */
};

/* Whether node_id's key for incarnation is known and its certificate still
 * vouches (neither revoked nor expired): VALID, UNKNOWN or REVOKED, no
 * signature checked. */
enum origin_keys_verdict origin_keys_standing(const struct origin_keys *,
    const char *node_id, uint64_t incarnation);

/* Checks sig over msg as node_id's in incarnation (its standing first). */
enum origin_keys_verdict origin_keys_verify(const struct origin_keys *,
    const char *node_id, uint64_t incarnation, const void *msg, size_t len,
    const ProtobufCBinaryData *sig);

/* The certificate that vouched for node_id's latest key learnt, while it
 * is neither revoked nor expired; NULL otherwise.  Valid until the next
 * origin_keys_learn(). */
const mbedtls_x509_crt *origin_keys_cert(const struct origin_keys *,
    const char *node_id);

/* Told of each key origin_keys_learn() takes, with the certificate that
 * vouched for it (borrowed for the call), so what checks that node's
 * other signatures (its API tokens, tokens.h) can keep it.  NULL: none. */
typedef void (*origin_keys_learned_fn)(void *arg, const char *node_id,
    const mbedtls_x509_crt *crt);
void origin_keys_set_learned(struct origin_keys *, origin_keys_learned_fn,
    void *arg);

/* Whether a key of node_id's incarnation is known (learnt). */
int origin_keys_known(const struct origin_keys *, const char *node_id,
    uint64_t incarnation);

/* Stable names of the verdicts, for logs, metrics and errors. */
const char *origin_keys_verdict_name(enum origin_keys_verdict);

#endif
