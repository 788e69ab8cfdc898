/*
 * A job grant: a durable job runs long after the API request that
 * submitted it (dispatch, redispatch at epoch + 1, after the issuer's
 * restart), when no one holds the principal's token any more.  So at
 * submit the issuing node signs a statement of the job with the token's
 * key (mesh_signed_job_grant: job id, issuer, principal, args_hash, "to",
 * deadline, submitted_ms) and keeps {claims, issuer_sig, sig} in the job
 * record as "grant" - the token's public part and a signature, never its
 * seed.  Each JOB_RUN carries it in its args; the destination takes it in
 * place of a principal proof (command_sign_check_principal).
 */
#ifndef AGENTFLOW_JOB_GRANT_H
#define AGENTFLOW_JOB_GRANT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "principal.h"

struct tokens;

/* How far ahead of our clock a grant's submitted_ms may be. */
#define JOB_GRANT_SKEW_MS	(5LL * 60 * 1000)

/* What a grant states. */
struct job_grant_fields {
	const char	*job_id, *issuer, *principal, *args_hash, *to;
	int64_t		 deadline_ms, submitted_ms;
};

/* The grant of f signed with token's key (new reference), or NULL when the
 * token carries no key. */
json_t *job_grant_make(const char *token, const struct job_grant_fields *f);

/*
 * Whether the JOB_RUN cmd's args carry a grant that lets cmd's principal
 * run it with role need, checked against tk at now_ms: 0, or -1 with why
 * in err.  The token must have been current at submitted_ms and not be
 * revoked now; the statement must name cmd's job, origin and principal
 * and the args_hash its args hash to.
 */
int job_grant_check(struct tokens *tk, const Agentflow__Mesh__V1__Command *cmd,
    enum principal_role need, int64_t now_ms, char *err, size_t errlen);

#endif
