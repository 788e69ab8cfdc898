/*
 * Commands and results carry their maker's signature (mesh.proto,
 * "Who vouches for what"): the issuing node signs each copy of a command
 * for its destination, the answering node signs its result, and relays
 * forward both untouched.  The destination and the requester check them
 * against the maker's OriginKey, carried in the message, whose certificate
 * must name the maker (origin_keys.h).
 */
#ifndef AGENTFLOW_COMMAND_SIGN_H
#define AGENTFLOW_COMMAND_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "origin_keys.h"
#include "principal.h"
#include "token.h"

struct tokens;

/* Signs cmd as ours: its issuer_key (ours, borrowed from keys) and its
 * signature in sig (ORIGIN_KEYS_SIGNATURE bytes, to outlive cmd's use). */
void command_sign(struct origin_keys *, Agentflow__Mesh__V1__Command *cmd,
    uint8_t *sig);
/* Whether cmd's origin signed it: 0, or -1 with why in err. */
int command_sign_check(struct origin_keys *,
    const Agentflow__Mesh__V1__Command *cmd, char *err, size_t errlen);

/* The same for a result we make, and one that reaches us. */
void command_sign_result(struct origin_keys *,
    Agentflow__Mesh__V1__CommandResult *r, uint8_t *sig);
int command_sign_result_check(struct origin_keys *,
    const Agentflow__Mesh__V1__CommandResult *r, char *err, size_t errlen);

/*
 * The principal proof (Command.principal_proof): a node serving the holder
 * of a signed token with a key proves each command it issues for them,
 * so the destination checks the principal and its role itself rather
 * than trusting the issuing node's word (Command.role).  Principals
 * without a signed token (tokens.json's "token:<role>", the node itself)
 * carry none: the bootstrap exception, held to the issuing node's role.
 */
struct command_proof {
	struct token_parts			 parts;
	unsigned char				 sk[64];	/* Ed25519, secret */
	Agentflow__Mesh__V1__PrincipalProof	 pb;
	uint8_t					 sig[ORIGIN_KEYS_SIGNATURE];
};

/* cp from a principal's token (struct principal's token): 0, or -1 when
 * that token carries no key. */
int command_proof_init(struct command_proof *cp, const char *token);
/* Wipes cp's key. */
void command_proof_clear(struct command_proof *cp);
/* Proves cmd as the principal's: cmd->principal_proof then points into cp
 * (until its next use).  Before command_sign, whose signature covers it. */
void command_proof_sign(struct command_proof *cp,
    Agentflow__Mesh__V1__Command *cmd);

/*
 * Whether cmd's principal may ask for a command that needs role need, by
 * its proof checked against tk (issuer's certificate, expiry, revocation)
 * at now_ms: 0, or -1 with why in err ("principal alice carries no proof",
 * "token expired at ...", "token revoked", "principal proof does not
 * verify", "role read may not run_task").  A command without a proof
 * passes when its principal is no signed token's (0, *proved = 0); a
 * JOB_RUN without one by the job grant in its args (job_grant.h).
 */
int command_sign_check_principal(struct tokens *tk,
    const Agentflow__Mesh__V1__Command *cmd, enum principal_role need,
    int64_t now_ms, int *proved, char *err, size_t errlen);

#endif
