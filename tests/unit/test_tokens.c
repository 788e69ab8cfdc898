/*
 * Unit tests of the signed API tokens: the codec (common/token.c: mint,
 * decode, verify; ttl and name rules) and a node's registry
 * (node/api/tokens.c: a good token, expired, revoked and kept revoked
 * across a restart, tampered payload or signature, another node's key,
 * an issuer whose certificate is not known, the list without token text).
 * Keys and certificates are made by the PKI library for each run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_sign.h"
#include "job_grant.h"
#include "jobs_spec.h"
#include "mesh_signed.h"
#include "pki.h"
#include "rng.h"
#include "store.h"
#include "tmpdir.h"
#include "token.h"
#include "tokens.h"

#define NOW	1767225600000LL		/* 2026-01-01T00:00:00Z */
#define HOUR	3600000LL
#define SEED	"0123456789abcdef0123456789abcdef"	/* 32 bytes */

struct node_keys {
	mbedtls_pk_context	 key;
	mbedtls_x509_crt	 crt;
};

struct fixture {
	char			 dir[64];
	struct rng		*rng;
	struct pki_ca		*ca;
	struct node_keys	 a, b;	/* node-a, node-b */
	struct node_keys	 a2;	/* node-a's next certificate */
	struct node_keys	*cur_a;	/* node-a's current one */
	struct store		*store;
};

static void
make_node(struct fixture *f, const char *id, struct node_keys *nk)
{
	struct pki_cert_params p = { 0 };
	char *cert = NULL, *key = NULL, err[256];

	p.node_id = id;
	p.days = 30;
	assert_int_equal(pki_ca_issue(f->ca, &p, &cert, &key, err, sizeof(err)), 0);
	mbedtls_pk_init(&nk->key);
	mbedtls_x509_crt_init(&nk->crt);
	assert_int_equal(mbedtls_pk_parse_key(&nk->key, (unsigned char *)key,
	    strlen(key) + 1, NULL, 0), 0);
	assert_int_equal(mbedtls_x509_crt_parse(&nk->crt, (unsigned char *)cert,
	    strlen(cert) + 1), 0);
	free(cert);
	pki_secret_free(key);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir), "test_tokens") != 0 ||
	    (f->rng = rng_new("test")) == NULL ||
	    (f->ca = pki_ca_new("test CA", 0, 30, err, sizeof(err))) == NULL)
		return -1;
	make_node(f, "node-a", &f->a);
	make_node(f, "node-b", &f->b);
	make_node(f, "node-a", &f->a2);
	f->cur_a = &f->a;
	if ((f->store = store_open(f->dir, err, sizeof(err))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	store_close(f->store);
	rc = tmpdir_remove(f->dir);
	mbedtls_pk_free(&f->a.key);
	mbedtls_x509_crt_free(&f->a.crt);
	mbedtls_pk_free(&f->b.key);
	mbedtls_x509_crt_free(&f->b.crt);
	mbedtls_pk_free(&f->a2.key);
	mbedtls_x509_crt_free(&f->a2.crt);
	pki_ca_free(f->ca);
	rng_free(f->rng);
	free(f);
	return rc;
}

static void
claims(struct token_claims *c, const char *iss, int64_t exp)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "0123456789abcdef");
	snprintf(c->name, sizeof(c->name), "alice");
	snprintf(c->iss, sizeof(c->iss), "%s", iss);
	c->role = PRINCIPAL_WRITE;
	c->iat_ms = NOW;
	c->exp_ms = exp;
}

static void
test_codec(void **state)
{
	struct fixture *f = *state;
	struct token_claims c, d;
	char text[TOKEN_TEXT_MAX], bad[TOKEN_TEXT_MAX], err[256];
	char *dot;

	claims(&c, "node-a", NOW + HOUR);
	assert_int_equal(token_mint(&c, NULL, &f->a.key, f->rng, text, sizeof(text)), 0);
	assert_true(token_is_signed(text));
	assert_null(strchr(text, '='));
	assert_int_equal(token_decode(text, &d, err, sizeof(err)), 0);
	assert_string_equal(d.id, c.id);
	assert_string_equal(d.name, "alice");
	assert_string_equal(d.iss, "node-a");
	assert_int_equal(d.role, PRINCIPAL_WRITE);
	assert_int_equal(d.exp_ms, NOW + HOUR);
	assert_int_equal(token_verify(text, &f->a.crt), 0);
	/* another node's certificate does not verify it */
	assert_int_equal(token_verify(text, &f->b.crt), -1);
	assert_int_equal(token_verify(text, NULL), -1);

	/* a changed payload byte: still decodes maybe, never verifies */
	snprintf(bad, sizeof(bad), "%s", text);
	bad[strlen(TOKEN_PREFIX) + 5] ^= 1;
	assert_int_equal(token_verify(bad, &f->a.crt), -1);
	/* a changed signature byte */
	snprintf(bad, sizeof(bad), "%s", text);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(token_verify(bad, &f->a.crt), -1);
	/* malformed shapes are refused with a reason */
	const char *const junk[] = { "af1.", "af1..", "af1.e30.sig", "af1.!!.x",
	    "af1.a.b.c", "not-a-token" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		err[0] = '\0';
		assert_int_equal(token_decode(junk[i], &d, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "malformed token"));
	}
	/* payload without a signature part */
	snprintf(bad, sizeof(bad), "%s", text);
	dot = strrchr(bad, '.');
	dot[1] = '\0';
	assert_int_equal(token_decode(bad, &d, err, sizeof(err)), -1);

	/* invalid claims are not minted */
	claims(&c, "node-a", NOW - 1);
	assert_int_equal(token_mint(&c, NULL, &f->a.key, f->rng, text, sizeof(text)), -1);
	claims(&c, "node-a", NOW + HOUR);
	snprintf(c.name, sizeof(c.name), "al ice");
	assert_int_equal(token_mint(&c, NULL, &f->a.key, f->rng, text, sizeof(text)), -1);
}

static void
test_ttl_and_names(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(token_ttl_parse("8h", &ms), 0);
	assert_int_equal(ms, 8 * HOUR);
	assert_int_equal(token_ttl_parse("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(token_ttl_parse("30m", &ms), 0);
	assert_int_equal(token_ttl_parse("7d", &ms), 0);
	assert_int_equal(token_ttl_parse("60", &ms), 0);
	assert_int_equal(ms, 60000);
	const char *const bad[] = { "", "0", "-1h", "8x", "8hh", "31d", "h",
	    "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(token_ttl_parse(bad[i], &ms), -1);
	assert_true(token_name_valid("alice@home.lan", 14));
	assert_false(token_name_valid("", 0));
	assert_false(token_name_valid("a/b", 3));
}

/* The registry's issuer lookup: node-a's own certificate only. */
static const mbedtls_x509_crt *
cert_of(const char *node_id, void *arg)
{
	struct fixture *f = arg;

	return strcmp(node_id, "node-a") == 0 ? &f->cur_a->crt : NULL;
}

static struct tokens *
registry(struct fixture *f)
{
	struct tokens_config tc = { "node-a", f->store, &f->cur_a->key, f->rng,
	    cert_of, f, NULL };
	char err[256];
	struct tokens *tk = tokens_new(&tc, err, sizeof(err));

	assert_non_null(tk);
	return tk;
}

static void
expect_refused(struct tokens *tk, const char *text, int64_t now,
    const char *why_part)
{
	struct principal p;
	char why[256] = "";

	assert_int_equal(tokens_check(tk, text, now, &p, why, sizeof(why)), -1);
	if (strstr(why, why_part) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", why, why_part);
	assert_int_equal(p.role, PRINCIPAL_NONE);
}

static void
test_registry(void **state)
{
	struct fixture *f = *state;
	struct tokens *tk = registry(f);
	struct token_claims c, other;
	struct principal p;
	char text[TOKEN_TEXT_MAX], text2[TOKEN_TEXT_MAX], forged[TOKEN_TEXT_MAX];
	char why[256], err[256];
	json_t *list, *row;

	assert_int_equal(tokens_issue(tk, "alice", PRINCIPAL_WRITE, 8 * HOUR, NOW,
	    text, sizeof(text), &c, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.id), 32);
	assert_int_equal(tokens_check(tk, text, NOW + 1000, &p, why, sizeof(why)), 0);
	assert_string_equal(p.name, "alice");
	assert_string_equal(p.token_id, c.id);
	assert_int_equal(p.role, PRINCIPAL_WRITE);
	/* checked again: the cached verdict gives the same answer */
	assert_int_equal(tokens_check(tk, text, NOW + 2000, &p, why, sizeof(why)), 0);

	/* expired: the time is in the message */
	expect_refused(tk, text, NOW + 8 * HOUR, "token expired at 2026-01-01T08:00:00Z");

	/* bad input to issue */
	assert_int_equal(tokens_issue(tk, "bad name", PRINCIPAL_READ, HOUR, NOW,
	    text2, sizeof(text2), &other, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name"));
	assert_int_equal(tokens_issue(tk, "bob", PRINCIPAL_NONE, HOUR, NOW,
	    text2, sizeof(text2), &other, err, sizeof(err)), -1);
	assert_int_equal(tokens_issue(tk, "bob", PRINCIPAL_READ,
	    TOKEN_TTL_MAX_MS + 1, NOW, text2, sizeof(text2), &other, err,
	    sizeof(err)), -1);

	/* a token signed by node-b's key claiming node-a: signature invalid */
	claims(&other, "node-a", NOW + HOUR);
	other.role = PRINCIPAL_ADMIN;
	assert_int_equal(token_mint(&other, NULL, &f->b.key, f->rng, forged,
	    sizeof(forged)), 0);
	expect_refused(tk, forged, NOW, "token signature invalid");
	/* node-b's own token: its certificate is not known here */
	claims(&other, "node-b", NOW + HOUR);
	assert_int_equal(token_mint(&other, NULL, &f->b.key, f->rng, forged,
	    sizeof(forged)), 0);
	expect_refused(tk, forged, NOW, "token issuer unknown");
	/* a tampered payload: the role raised to admin */
	{
		struct token_claims up = c;
		struct token_parts ours, theirs;
		char payload_tok[TOKEN_TEXT_MAX];
		up.role = PRINCIPAL_ADMIN;
		assert_int_equal(token_mint(&up, (const unsigned char *)SEED,
		    &f->b.key, f->rng, payload_tok, sizeof(payload_tok)), 0);
		/* node-a's signature on alice's write token, node-b's payload */
		assert_int_equal(token_parts(text, &ours), 0);
		assert_int_equal(token_parts(payload_tok, &theirs), 0);
		assert_int_equal(token_from_parts(theirs.claims, theirs.claims_len,
		    ours.issuer_sig, ours.issuer_sig_len, forged, sizeof(forged)), 0);
		expect_refused(tk, forged, NOW, "token signature invalid");
	}
	expect_refused(tk, "af1.garbage", NOW, "malformed token");

	/* revoked, and still revoked for a registry read from the store */
	assert_int_equal(tokens_issue(tk, "bob", PRINCIPAL_READ, HOUR, NOW,
	    text2, sizeof(text2), &other, err, sizeof(err)), 0);
	assert_int_equal(tokens_revoke(tk, c.id, NOW + 5), 0);
	assert_int_equal(tokens_revoke(tk, c.id, NOW + 6), 0);
	assert_int_equal(tokens_revoke(tk, "00000000000000000000000000000000",
	    NOW), 1);
	expect_refused(tk, text, NOW + 10, "token revoked");
	assert_int_equal(tokens_check(tk, text2, NOW + 10, &p, why, sizeof(why)), 0);
	tokens_free(tk);
	tk = registry(f);
	expect_refused(tk, text, NOW + 10, "token revoked");
	assert_int_equal(tokens_check(tk, text2, NOW + 10, &p, why, sizeof(why)), 0);
	assert_string_equal(p.name, "bob");
	assert_int_equal(p.role, PRINCIPAL_READ);

	/* the list: newest first, no token text, revocation shown */
	assert_non_null(list = tokens_list(tk, NOW + 10));
	assert_int_equal(json_array_size(list), 2);
	row = json_array_get(list, 1);
	assert_string_equal(json_string_value(json_object_get(row, "name")), "alice");
	assert_true(json_is_true(json_object_get(row, "revoked")));
	assert_int_equal(json_integer_value(json_object_get(row, "revoked_ms")),
	    NOW + 5);
	assert_int_equal(json_integer_value(json_object_get(row, "exp")),
	    NOW + 8 * HOUR);
	assert_null(json_object_get(row, "token"));
	json_decref(list);
	tokens_free(tk);
}

/* A run_task command as node-a would issue it for principal. */
static void
command_for(Agentflow__Mesh__V1__Command *cmd, const char *id,
    const char *principal)
{
	agentflow__mesh__v1__command__init(cmd);
	cmd->id = (char *)id;
	cmd->origin = "node-a";
	cmd->target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	cmd->node_id = "node-b";
	cmd->destination = "node-b";
	cmd->principal = (char *)principal;
	cmd->role = "admin";	/* the issuing node's word: not what counts */
	cmd->type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK;
	cmd->issued_ms = NOW;
	cmd->hop_limit = 8;
}

static void
expect_unproved(struct tokens *tk, const Agentflow__Mesh__V1__Command *cmd,
    int64_t now, const char *why_part)
{
	char err[512] = "";
	int proved = 1;

	assert_int_equal(command_sign_check_principal(tk, cmd, PRINCIPAL_WRITE,
	    now, &proved, err, sizeof(err)), -1);
	assert_int_equal(proved, 0);
	if (strstr(err, why_part) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, why_part);
}

static void
test_principal_proof(void **state)
{
	struct fixture *f = *state;
	struct tokens *tk = registry(f);
	Agentflow__Mesh__V1__Command cmd, other;
	Agentflow__Mesh__V1__PrincipalProof copy;
	struct command_proof cp, rp;
	struct token_claims c, rc;
	struct principal p;
	char text[TOKEN_TEXT_MAX], rtext[TOKEN_TEXT_MAX], err[512], why[256];
	int proved;

	assert_int_equal(tokens_issue(tk, "alice", PRINCIPAL_WRITE, HOUR, NOW,
	    text, sizeof(text), &c, err, sizeof(err)), 0);
	/* the key travels with the token, its public half in the claims */
	assert_true(c.has_pk);
	assert_int_equal(tokens_check(tk, text, NOW, &p, why, sizeof(why)), 0);
	assert_string_equal(p.token, text);
	assert_int_equal(command_proof_init(&cp, p.token), 0);

	/* proved: the claims' role counts, not Command.role */
	command_for(&cmd, "c1", "alice");
	command_proof_sign(&cp, &cmd);
	assert_int_equal(command_sign_check_principal(tk, &cmd, PRINCIPAL_WRITE,
	    NOW + 1, &proved, err, sizeof(err)), 0);
	assert_int_equal(proved, 1);
	assert_int_equal(command_sign_check_principal(tk, &cmd, PRINCIPAL_ADMIN,
	    NOW + 1, &proved, err, sizeof(err)), -1);
	assert_string_equal(err, "role write may not run_task");
	/* the token key signs none of the proof: it travels as the claims */
	assert_null(strchr((char *)cmd.principal_proof->claims.data, '.'));

	/* expired, then revoked: refused by the destination itself */
	expect_unproved(tk, &cmd, NOW + HOUR, "token expired at");
	/* a replay on another command (another id, or destination) */
	command_for(&other, "c2", "alice");
	copy = *cmd.principal_proof;
	other.principal_proof = &copy;
	expect_unproved(tk, &other, NOW + 1, "principal proof does not verify");
	other.id = "c1";
	other.destination = "node-a";
	expect_unproved(tk, &other, NOW + 1, "principal proof does not verify");
	/* the proof of alice for another name */
	other.destination = "node-b";
	other.principal = "mallory";
	expect_unproved(tk, &other, NOW + 1, "principal proof names alice, not "
	    "mallory");
	/* no proof: a signed token's name is refused, a static one passes */
	other.principal_proof = NULL;
	other.principal = "alice";
	expect_unproved(tk, &other, NOW + 1, "principal alice carries no proof");
	other.principal = "token:write";
	assert_int_equal(command_sign_check_principal(tk, &other, PRINCIPAL_ADMIN,
	    NOW + 1, &proved, err, sizeof(err)), 0);
	assert_int_equal(proved, 0);
	/* a changed claim byte breaks the issuer's signature */
	other = cmd;
	copy = *cmd.principal_proof;
	{
		uint8_t claims[1024];
		memcpy(claims, copy.claims.data, copy.claims.len);
		claims[3] = claims[3] == 'A' ? 'B' : 'A';
		copy.claims.data = claims;
		other.principal_proof = &copy;
		expect_unproved(tk, &other, NOW + 1, "principal ");
		copy.claims.len = 0;
		expect_unproved(tk, &other, NOW + 1, "principal proof is malformed");
	}
	/* a read token's proof, valid, for a write command */
	assert_int_equal(tokens_issue(tk, "rita", PRINCIPAL_READ, HOUR, NOW,
	    rtext, sizeof(rtext), &rc, err, sizeof(err)), 0);
	assert_int_equal(command_proof_init(&rp, rtext), 0);
	command_for(&other, "c3", "rita");
	command_proof_sign(&rp, &other);
	expect_unproved(tk, &other, NOW + 1, "role read may not run_task");
	/* the issuing node's signature covers the proof; the token key's
	 * does not (it cannot sign itself) */
	{
		size_t l1, l2, l3;
		uint8_t *with = mesh_signed_command(&other, &l1);
		uint8_t *without = mesh_signed_command_for_proof(&other, &l2);
		uint8_t *changed;
		assert_true(l1 > l2);
		assert_memory_equal(with, without, l2);
		other.principal_proof->sig.data[0] ^= 1;
		changed = mesh_signed_command(&other, &l3);
		assert_int_equal(l1, l3);
		assert_memory_not_equal(with, changed, l1);
		free(with);
		free(without);
		free(changed);
	}
	assert_int_equal(tokens_revoke(tk, c.id, NOW + 2), 0);
	expect_unproved(tk, &cmd, NOW + 3, "token revoked");
	/* a token without a key proves nothing */
	claims(&rc, "node-a", NOW + HOUR);
	assert_int_equal(token_mint(&rc, NULL, &f->a.key, f->rng, rtext,
	    sizeof(rtext)), 0);
	assert_int_equal(command_proof_init(&rp, rtext), -1);
	command_proof_clear(&cp);
	tokens_free(tk);
}

/* node-a restarts with a new certificate: its tokens signed under the old
 * one still check (the old one is kept in the store by kid), new ones are
 * signed under the new one. */
/* --- job grants ------------------------------------------------------------ */

/* A JOB_RUN of args from node-a for principal, args_json in buf. */
static void
job_run_for(Agentflow__Mesh__V1__Command *cmd, const char *principal,
    const json_t *args, char *buf, size_t buflen)
{
	size_t n = json_dumpb(args, buf, buflen, JSON_COMPACT);

	assert_true(n > 0 && n < buflen);
	command_for(cmd, "c9", principal);
	cmd->type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_JOB_RUN;
	cmd->args_json.data = (uint8_t *)buf;
	cmd->args_json.len = n;
}

/* The JOB_RUN args for job j1 of principal, submitted at sub and granted
 * by token (no grant when token is NULL): new reference. */
static json_t *
granted_args(const char *token, const char *principal, int64_t sub)
{
	json_t *a = json_pack("{s:s, s:i, s:s, s:[s], s:n, s:n, s:s, s:I, s:I,"
	    " s:s}", "job_id", "j1", "epoch", 1, "task", "echo", "args", "x",
	    "payload", "command", "principal", principal, "deadline_ms",
	    (json_int_t)(sub + HOUR), "submitted_ms", (json_int_t)sub, "to",
	    "node-b");
	struct job_grant_fields f = { "j1", "node-a", principal, NULL, "node-b",
	    sub + HOUR, sub };

	json_object_set_new(a, "args_hash", jobs_spec_args_hash(a));
	f.args_hash = json_string_value(json_object_get(a, "args_hash"));
	if (token != NULL)
		json_object_set_new(a, "grant", job_grant_make(token, &f));
	return a;
}

static void
expect_grant(struct tokens *tk, const char *principal, const json_t *args,
    int64_t now, const char *why_part)
{
	Agentflow__Mesh__V1__Command cmd;
	char buf[4096], err[512] = "";
	int proved = 0;

	job_run_for(&cmd, principal, args, buf, sizeof(buf));
	if (why_part == NULL) {
		if (command_sign_check_principal(tk, &cmd, PRINCIPAL_WRITE, now,
		    &proved, err, sizeof(err)) != 0)
			fail_msg("refused: %s", err);
		assert_int_equal(proved, 1);
		return;
	}
	expect_unproved(tk, &cmd, now, why_part);
}

static void
test_job_grant(void **state)
{
	struct fixture *f = *state;
	struct tokens *tk = registry(f);
	struct token_claims c, rc;
	struct principal p;
	char text[TOKEN_TEXT_MAX], rtext[TOKEN_TEXT_MAX], err[512], why[256];
	json_t *a, *g;

	assert_int_equal(tokens_issue(tk, "alice", PRINCIPAL_WRITE, HOUR, NOW,
	    text, sizeof(text), &c, err, sizeof(err)), 0);
	assert_int_equal(tokens_check(tk, text, NOW, &p, why, sizeof(why)), 0);

	/* runs after the token expired: it was current at submit */
	a = granted_args(p.token, "alice", NOW);
	expect_grant(tk, "alice", a, NOW + 2 * HOUR, NULL);
	/* the grant holds no secret: no seed part, no token text */
	g = json_object_get(a, "grant");
	assert_null(strchr(json_string_value(json_object_get(g, "claims")), '.'));
	assert_int_equal(json_object_size(g), 3);

	/* another job id, arguments or "to" than granted */
	json_object_set_new(a, "job_id", json_string("j2"));
	expect_grant(tk, "alice", a, NOW + 1, "job grant does not verify");
	json_object_set_new(a, "job_id", json_string("j1"));
	json_object_set_new(a, "args", json_pack("[s]", "y"));
	expect_grant(tk, "alice", a, NOW + 1, "arguments or principal do not "
	    "match");
	json_object_set_new(a, "args_hash", jobs_spec_args_hash(a));
	expect_grant(tk, "alice", a, NOW + 1, "job grant does not verify");
	json_decref(a);
	a = granted_args(p.token, "alice", NOW);
	json_object_set_new(a, "to", json_string("any"));
	expect_grant(tk, "alice", a, NOW + 1, "job grant does not verify");
	json_decref(a);

	/* alice's grant for another principal, or from another issuer */
	a = granted_args(p.token, "alice", NOW);
	json_object_set_new(a, "principal", json_string("mallory"));
	expect_grant(tk, "mallory", a, NOW + 1, "job grant names alice, not "
	    "mallory");
	expect_grant(tk, "alice", a, NOW + 1, "arguments or principal");
	json_decref(a);
	a = granted_args(p.token, "alice", NOW);
	{
		Agentflow__Mesh__V1__Command cmd;
		char buf[4096];

		job_run_for(&cmd, "alice", a, buf, sizeof(buf));
		cmd.origin = "node-c";
		expect_unproved(tk, &cmd, NOW + 1, "job grant does not verify");
	}
	json_decref(a);

	/* submitted when the token had expired, in the future, too long */
	a = granted_args(p.token, "alice", NOW + HOUR);
	expect_grant(tk, "alice", a, NOW + HOUR, "token expired at");
	json_decref(a);
	a = granted_args(p.token, "alice", NOW + 10 * 60 * 1000);
	expect_grant(tk, "alice", a, NOW, "submitted_ms is in the future");
	json_decref(a);
	a = granted_args(p.token, "alice", NOW);
	json_object_set_new(a, "deadline_ms", json_integer(NOW + 31 * 24 * HOUR));
	expect_grant(tk, "alice", a, NOW + 1, "over 30 days");
	json_decref(a);

	/* no grant, a malformed one */
	a = granted_args(NULL, "alice", NOW);
	expect_grant(tk, "alice", a, NOW + 1, "carries no proof nor job grant");
	json_object_set_new(a, "grant", json_pack("{s:s, s:s, s:s}", "claims",
	    "x", "issuer_sig", "zz", "sig", "00"));
	expect_grant(tk, "alice", a, NOW + 1, "job grant is malformed");
	json_decref(a);

	/* a read token's grant */
	assert_int_equal(tokens_issue(tk, "rita", PRINCIPAL_READ, HOUR, NOW,
	    rtext, sizeof(rtext), &rc, err, sizeof(err)), 0);
	a = granted_args(rtext, "rita", NOW);
	expect_grant(tk, "rita", a, NOW + 1, "role read may not run a job");
	json_decref(a);

	/* revoked since submit: refused now */
	a = granted_args(p.token, "alice", NOW);
	assert_int_equal(tokens_revoke(tk, c.id, NOW + 5), 0);
	expect_grant(tk, "alice", a, NOW + 6, "token revoked");
	json_decref(a);
	tokens_free(tk);
}

static void
test_rotation(void **state)
{
	struct fixture *f = *state;
	struct tokens *tk = registry(f);
	struct token_claims old, now, odd;
	struct principal p;
	char told[TOKEN_TEXT_MAX], tnew[TOKEN_TEXT_MAX], tb[TOKEN_TEXT_MAX];
	char why[256], err[256], kid[TOKEN_KID_LEN + 1];
	json_t *list;

	assert_int_equal(tokens_issue(tk, "alice", PRINCIPAL_READ, HOUR, NOW,
	    told, sizeof(told), &old, err, sizeof(err)), 0);
	token_kid(f->a.crt.raw.p, f->a.crt.raw.len, kid);
	assert_string_equal(old.kid, kid);
	list = tokens_list(tk, NOW);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "kid")), kid);
	json_decref(list);
	tokens_free(tk);

	f->cur_a = &f->a2;	/* the restart, with a new certificate */
	tk = registry(f);
	assert_int_equal(tokens_issue(tk, "bob", PRINCIPAL_READ, HOUR, NOW,
	    tnew, sizeof(tnew), &now, err, sizeof(err)), 0);
	assert_string_not_equal(now.kid, old.kid);
	assert_int_equal(tokens_check(tk, tnew, NOW + 1, &p, why, sizeof(why)), 0);
	assert_int_equal(tokens_check(tk, told, NOW + 1, &p, why, sizeof(why)), 0);
	assert_string_equal(p.name, "alice");
	/* a kid never seen here: an unknown issuer, naming the kid */
	claims(&odd, "node-a", NOW + HOUR);
	snprintf(odd.kid, sizeof(odd.kid), "0123456789abcdef");
	assert_int_equal(token_mint(&odd, NULL, &f->b.key, f->rng, tb,
	    sizeof(tb)), 0);
	expect_refused(tk, tb, NOW, "certificate 0123456789abcdef of node node-a "
	    "is not known here");
	/* the old certificate under another's kid: the signature fails */
	snprintf(odd.kid, sizeof(odd.kid), "%s", old.kid);
	assert_int_equal(token_mint(&odd, NULL, &f->b.key, f->rng, tb,
	    sizeof(tb)), 0);
	expect_refused(tk, tb, NOW, "token signature invalid");
	tokens_free(tk);
	f->cur_a = &f->a;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test(test_ttl_and_names),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_principal_proof, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_grant, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
