/*
 * What is signed: the exact bytes an origin signs for its events,
 * commands, results and its OriginKey statement, and a receiver rebuilds
 * to check them.  Each is a domain tag, then the covered fields in a fixed
 * order, numbers as 8 big-endian bytes and strings and bytes as a 4-byte
 * big-endian length and the bytes.  Fields relays and replays change
 * (hops, hop_limit, path, duplicate) are not covered.
 *
 * Each function returns a heap buffer (the caller frees it) and its length
 * in *len.
 */
#ifndef AGENTFLOW_MESH_SIGNED_H
#define AGENTFLOW_MESH_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

/*
 * An event: origin, incarnation, seq, time_ms, the kind's field number and
 * its message as packed (body, len: what the event log stores; a newer
 * kind's bytes as they came).
 */
uint8_t *mesh_signed_event(const Agentflow__Mesh__V1__Event *e, int kind,
    const void *body, size_t body_len, size_t *len);

/* A command: id, origin, target, destination, principal, role, type,
 * args, deadline, idempotency key, issued_ms, then, when it carries one,
 * its principal proof (the issuing node's signature covers the proof). */
uint8_t *mesh_signed_command(const Agentflow__Mesh__V1__Command *c, size_t *len);
/* The same without the principal proof: what the proof's token key signs. */
uint8_t *mesh_signed_command_for_proof(const Agentflow__Mesh__V1__Command *c,
    size_t *len);

/* A result: command_id, node, requester, destination, status, body,
 * error, finished_ms. */
uint8_t *mesh_signed_result(const Agentflow__Mesh__V1__CommandResult *r,
    size_t *len);

/* An OriginKey statement: node_id, incarnation, public_key, issued_ms
 * (signed with the certificate's key). */
uint8_t *mesh_signed_origin_key(const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k, size_t *len);

/*
 * A job grant (node/work/job_grant.h): what a signed token's key signs
 * at submit so the job may run later without the token.  The tag ends
 * in a NUL so no other statement's bytes can read as one.
 */
uint8_t *mesh_signed_job_grant(const char *job_id, const char *issuer,
    const char *principal, const char *args_hash, const char *to,
    int64_t deadline_ms, int64_t submitted_ms, size_t *len);

#endif
