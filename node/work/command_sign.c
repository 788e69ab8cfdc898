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

void
command_sign(struct origin_keys *keys, Agentflow__Mesh__V1__Command *cmd,
    uint8_t *sig)
{
	uint8_t *msg;
	size_t len;

	cmd->issuer_key = (Agentflow__Mesh__V1__OriginKey *)
	    origin_keys_current(keys);
	msg = mesh_signed_command(cmd, &len);
	origin_keys_sign(keys, msg, len, sig);
	free(msg);
	cmd->signature.data = sig;
	cmd->signature.len = ORIGIN_KEYS_SIGNATURE;
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
	uint8_t *msg;
	size_t len;

	r->signer_key = (Agentflow__Mesh__V1__OriginKey *)
	    origin_keys_current(keys);
	msg = mesh_signed_result(r, &len);
	origin_keys_sign(keys, msg, len, sig);
	free(msg);
	r->signature.data = sig;
	r->signature.len = ORIGIN_KEYS_SIGNATURE;
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
