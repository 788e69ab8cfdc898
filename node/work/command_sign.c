/* Signing and checking commands and results (command_sign.h). */
#include "command_sign.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_grant.h"
#include "mesh_names.h"
#include "mesh_signed.h"
#include "tokens.h"

/* Checks sig over msg as maker's, whose key k claims to be. */
static int
check(struct origin_keys *keys, const char *maker,
    const Agentflow__Mesh__V1__OriginKey *k, uint8_t *msg, size_t len,
    const ProtobufCBinaryData *sig, const char *what, char *err, size_t errlen)
{
	enum origin_keys_verdict v;
	char why[256];

	if (k == NULL || sig->len == 0) {
		free(msg);
		snprintf(err, errlen, "%s is not signed by %s", what, maker);
		return -1;
	}
	if (origin_keys_learn(keys, maker, k, why, sizeof(why)) != 0) {
		free(msg);
		snprintf(err, errlen, "%s: the key of %s is refused: %s", what,
		    maker, why);
		return -1;
	}
	v = origin_keys_verify(keys, maker, k->incarnation, msg, len, sig);
	free(msg);
	if (v == ORIGIN_KEYS_VALID)
		return 0;
	snprintf(err, errlen, "%s: signature of %s %s", what, maker,
	    v == ORIGIN_KEYS_REVOKED ? "by a revoked or expired certificate" :
	    "does not verify");
	return -1;
}

/* Signs msg (freed here) into sig, which *out then points to, and sets
 * *key to the OriginKey that vouches for it (ours, borrowed). */
static void
sign(struct origin_keys *keys, uint8_t *msg, size_t len, uint8_t *sig,
    ProtobufCBinaryData *out, Agentflow__Mesh__V1__OriginKey **key)
{
	*key = (Agentflow__Mesh__V1__OriginKey *)origin_keys_current(keys);
	origin_keys_sign(keys, msg, len, sig);
	free(msg);
	out->data = sig;
	out->len = ORIGIN_KEYS_SIGNATURE;
}

void
command_sign(struct origin_keys *keys, Agentflow__Mesh__V1__Command *cmd,
    uint8_t *sig)
{
	size_t len;
	uint8_t *msg = mesh_signed_command(cmd, &len);

	sign(keys, msg, len, sig, &cmd->signature, &cmd->issuer_key);
}

int
command_sign_check(struct origin_keys *keys,
    const Agentflow__Mesh__V1__Command *cmd, char *err, size_t errlen)
{
	size_t len;
	uint8_t *msg = mesh_signed_command(cmd, &len);

	return check(keys, cmd->origin, cmd->issuer_key, msg, len,
	    &cmd->signature, "command", err, errlen);
}

void
command_sign_result(struct origin_keys *keys,
    Agentflow__Mesh__V1__CommandResult *r, uint8_t *sig)
{
	size_t len;
	uint8_t *msg = mesh_signed_result(r, &len);

	sign(keys, msg, len, sig, &r->signature, &r->signer_key);
}

int
command_sign_result_check(struct origin_keys *keys,
    const Agentflow__Mesh__V1__CommandResult *r, char *err, size_t errlen)
{
	size_t len;
	uint8_t *msg = mesh_signed_result(r, &len);

	return check(keys, r->node, r->signer_key, msg, len, &r->signature,
	    "result", err, errlen);
}

/* --- principal proofs ----------------------------------------------------- */

int
command_proof_init(struct command_proof *cp, const char *token)
{
	unsigned char seed[TOKEN_KEY_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	memset(cp, 0, sizeof(*cp));
	if (token == NULL || token_seed(token, seed) != 0 ||
	    token_parts(token, &cp->parts) != 0)
		return -1;
	rc = sodium_init() >= 0 &&
	    crypto_sign_seed_keypair(pk, cp->sk, seed) == 0 ? 0 : -1;
	sodium_memzero(seed, sizeof(seed));
	agentflow__mesh__v1__principal_proof__init(&cp->pb);
	cp->pb.claims.data = (uint8_t *)cp->parts.claims;
	cp->pb.claims.len = cp->parts.claims_len;
	cp->pb.issuer_sig.data = cp->parts.issuer_sig;
	cp->pb.issuer_sig.len = cp->parts.issuer_sig_len;
	cp->pb.sig.data = cp->sig;
	cp->pb.sig.len = sizeof(cp->sig);
	if (rc != 0)
		command_proof_clear(cp);
	return rc;
}

void
command_proof_clear(struct command_proof *cp)
{
	sodium_memzero(cp->sk, sizeof(cp->sk));
}

void
command_proof_sign(struct command_proof *cp, Agentflow__Mesh__V1__Command *cmd)
{
	size_t len;
	uint8_t *msg;

	msg = mesh_signed_command_for_proof(cmd, &len);
	crypto_sign_detached(cp->sig, NULL, msg, len, cp->sk);
	free(msg);
	cmd->principal_proof = &cp->pb;
}

/* Signed tokens' names have no ':'; tokens.json's ("token:write") and a
 * node's own ("" or "node:<id>") do. */
static int
needs_proof(const char *principal)
{
	return principal != NULL && principal[0] != '\0' &&
	    strchr(principal, ':') == NULL;
}

int
command_sign_check_principal(struct tokens *tk,
    const Agentflow__Mesh__V1__Command *cmd, enum principal_role need,
    int64_t now_ms, int *proved, char *err, size_t errlen)
{
	const Agentflow__Mesh__V1__PrincipalProof *p = cmd->principal_proof;
	struct token_claims c;
	struct principal who;
	char text[TOKEN_TEXT_MAX], why[256];
	uint8_t *msg;
	size_t len;
	int ok;

	*proved = 0;
	if (p == NULL) {
		if (!needs_proof(cmd->principal))
			return 0;
		/* A durable job runs after its token is gone: its grant. */
		if (cmd->type == MESH_COMMAND_TYPE(JOB_RUN)) {
			if (job_grant_check(tk, cmd, need, now_ms, err,
			    errlen) != 0)
				return -1;
			*proved = 1;
			return 0;
		}
		snprintf(err, errlen, "principal %s carries no proof (a signed "
		    "token's principal must)", cmd->principal);
		return -1;
	}
	if (tk == NULL) {
		snprintf(err, errlen, "principal proof cannot be checked: signed "
		    "tokens are not accepted here");
		return -1;
	}
	if (token_from_parts(p->claims.data, p->claims.len, p->issuer_sig.data,
	    p->issuer_sig.len, text, sizeof(text)) != 0 ||
	    token_decode(text, &c, why, sizeof(why)) != 0 || !c.has_pk ||
	    p->sig.len != crypto_sign_BYTES) {
		snprintf(err, errlen, "principal proof is malformed");
		return -1;
	}
	if (tokens_check_claims(tk, text, now_ms, &who, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "principal %s: %s", c.name, why);
		return -1;
	}
	if (strcmp(c.name, cmd->principal) != 0) {
		snprintf(err, errlen, "principal proof names %s, not %s", c.name,
		    cmd->principal);
		return -1;
	}
	msg = mesh_signed_command_for_proof(cmd, &len);
	ok = sodium_init() >= 0 && crypto_sign_verify_detached(p->sig.data, msg,
	    len, c.pk) == 0;
	free(msg);
	if (!ok) {
		snprintf(err, errlen, "principal proof does not verify");
		return -1;
	}
	if (c.role < need) {
		snprintf(err, errlen, "role %s may not %s", principal_role_name(c.role),
		    mesh_names_command_type(cmd->type));
		return -1;
	}
	*proved = 1;
	return 0;
}
