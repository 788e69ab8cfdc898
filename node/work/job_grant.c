/* Job grants: made at submit, checked at the destination (job_grant.h). */
#include "job_grant.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_spec.h"
#include "mesh_signed.h"
#include "token.h"
#include "tokens.h"

static uint8_t *
statement(const struct job_grant_fields *f, size_t *len)
{
	return mesh_signed_job_grant(f->job_id, f->issuer, f->principal,
	    f->args_hash, f->to, f->deadline_ms, f->submitted_ms, len);
}

static json_t *
hex(const unsigned char *b, size_t n)
{
	char h[2 * TOKEN_SIG_MAX + 1];

	sodium_bin2hex(h, sizeof(h), b, n);
	return json_string(h);
}

json_t *
job_grant_make(const char *token, const struct job_grant_fields *f)
{
	unsigned char seed[TOKEN_KEY_BYTES], pk[crypto_sign_PUBLICKEYBYTES],
	    sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
	struct token_parts parts;
	uint8_t *msg;
	size_t len;
	int rc;

	if (token == NULL || token_seed(token, seed) != 0 ||
	    token_parts(token, &parts) != 0)
		return NULL;
	rc = sodium_init() >= 0 && crypto_sign_seed_keypair(pk, sk, seed) == 0;
	sodium_memzero(seed, sizeof(seed));
	if (!rc)
		return NULL;
	msg = statement(f, &len);
	crypto_sign_detached(sig, NULL, msg, len, sk);
	sodium_memzero(sk, sizeof(sk));
	free(msg);
	return json_pack("{s:s%, s:o, s:o}", "claims", parts.claims,
	    parts.claims_len, "issuer_sig", hex(parts.issuer_sig,
	    parts.issuer_sig_len), "sig", hex(sig, sizeof(sig)));
}

/* The hex string of o's field key into out (at most max bytes): its
 * length, or -1 when missing, not hex or too long. */
static int
unhex(const json_t *o, const char *key, unsigned char *out, size_t max)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t n;

	if (s == NULL || strlen(s) > 2 * max ||
	    sodium_hex2bin(out, max, s, strlen(s), NULL, &n, NULL) != 0)
		return -1;
	return (int)n;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The grant's token, its claims and signature from args: 0, or -1. */
static int
grant_parts(const json_t *args, char *text, size_t textlen,
    struct token_claims *c, unsigned char *sig)
{
	const json_t *g = json_object_get(args, "grant");
	const char *claims = json_string_value(json_object_get(g, "claims"));
	unsigned char isig[TOKEN_SIG_MAX];
	char why[256];
	int n;

	if (!json_is_object(g) || claims == NULL ||
	    (n = unhex(g, "issuer_sig", isig, sizeof(isig))) <= 0 ||
	    unhex(g, "sig", sig, crypto_sign_BYTES) != crypto_sign_BYTES)
		return -1;
	if (token_from_parts(claims, strlen(claims), isig, (size_t)n, text,
	    textlen) != 0 || token_decode(text, c, why, sizeof(why)) != 0 ||
	    !c->has_pk)
		return -1;
	return 0;
}

/* The checks on the grant's token and times: 0, or -1 with err. */
static int
check_token(struct tokens *tk, const Agentflow__Mesh__V1__Command *cmd,
    const char *text, const struct token_claims *c,
    const struct job_grant_fields *f, enum principal_role need,
    int64_t now_ms, char *err, size_t errlen)
{
	struct principal who;
	char why[256];

	if (f->submitted_ms <= 0 ||
	    f->submitted_ms > now_ms + JOB_GRANT_SKEW_MS) {
		snprintf(err, errlen, "job grant: submitted_ms is in the "
		    "future");
		return -1;
	}
	if (f->deadline_ms > f->submitted_ms + JOBS_DEADLINE_MAX_MS) {
		snprintf(err, errlen, "job grant: deadline over 30 days after "
		    "submit");
		return -1;
	}
	/* Current when submitted (expiry, the issuer's certificate); the
	 * revocations are the ones known now. */
	if (tokens_check_claims(tk, text, f->submitted_ms, &who, why,
	    sizeof(why)) != 0) {
		snprintf(err, errlen, "job grant of %s: %s", c->name, why);
		return -1;
	}
	if (strcmp(c->name, cmd->principal) != 0) {
		snprintf(err, errlen, "job grant names %s, not %s", c->name,
		    cmd->principal);
		return -1;
	}
	if (c->role < need) {
		snprintf(err, errlen, "job grant: role %s may not run a job",
		    principal_role_name(c->role));
		return -1;
	}
	return 0;
}

int
job_grant_check(struct tokens *tk, const Agentflow__Mesh__V1__Command *cmd,
    enum principal_role need, int64_t now_ms, char *err, size_t errlen)
{
	struct job_grant_fields f;
	struct token_claims c;
	unsigned char sig[crypto_sign_BYTES];
	char text[TOKEN_TEXT_MAX];
	json_t *args, *h;
	uint8_t *msg;
	size_t len;
	int rc = -1;

	args = json_loadb((const char *)cmd->args_json.data, cmd->args_json.len,
	    0, NULL);
	if (json_object_get(args, "grant") == NULL) {
		snprintf(err, errlen, "principal %s carries no proof nor job "
		    "grant (a signed token's principal must)", cmd->principal);
		goto out;
	}
	if (tk == NULL) {
		snprintf(err, errlen, "job grant cannot be checked: signed "
		    "tokens are not accepted here");
		goto out;
	}
	if (grant_parts(args, text, sizeof(text), &c, sig) != 0 ||
	    !json_is_integer(json_object_get(args, "submitted_ms")) ||
	    !json_is_integer(json_object_get(args, "deadline_ms"))) {
		snprintf(err, errlen, "job grant is malformed");
		goto out;
	}
	h = jobs_spec_args_hash(args);
	f.job_id = str(args, "job_id");
	f.issuer = cmd->origin;
	f.principal = cmd->principal;
	f.args_hash = str(args, "args_hash");
	f.to = str(args, "to");
	f.deadline_ms = json_integer_value(json_object_get(args,
	    "deadline_ms"));
	f.submitted_ms = json_integer_value(json_object_get(args,
	    "submitted_ms"));
	if (strcmp(f.args_hash, json_string_value(h)) != 0 ||
	    strcmp(str(args, "principal"), cmd->principal) != 0) {
		json_decref(h);
		snprintf(err, errlen, "job grant: the job's arguments or "
		    "principal do not match what was granted");
		goto out;
	}
	json_decref(h);
	if (check_token(tk, cmd, text, &c, &f, need, now_ms, err, errlen) != 0)
		goto out;
	msg = statement(&f, &len);
	rc = sodium_init() >= 0 && crypto_sign_verify_detached(sig, msg, len,
	    c.pk) == 0 ? 0 : -1;
	free(msg);
	if (rc != 0)
		snprintf(err, errlen, "job grant does not verify");
out:
	json_decref(args);
	return rc;
}
