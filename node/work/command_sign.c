/* Signing and checking commands and results (command_sign.h). */
#include "command_sign.h"

#include <stdio.h>
#include <stdlib.h>

#include "mesh_signed.h"

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
