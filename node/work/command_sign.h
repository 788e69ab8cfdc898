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

#endif
