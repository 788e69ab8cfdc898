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

#include "pki.h"
#include "rng.h"
#include "store.h"
#include "tmpdir.h"
#include "token.h"
#include "tokens.h"

#define NOW	1767225600000LL		/* 2026-01-01T00:00:00Z */
#define HOUR	3600000LL

struct node_keys {
	mbedtls_pk_context	 key;
	mbedtls_x509_crt	 crt;
};

struct fixture {
	char			 dir[64];
	struct rng		*rng;
	struct pki_ca		*ca;
	struct node_keys	 a, b;	/* node-a, node-b */
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
	assert_int_equal(token_mint(&c, &f->a.key, f->rng, text, sizeof(text)), 0);
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
	assert_int_equal(token_mint(&c, &f->a.key, f->rng, text, sizeof(text)), -1);
	claims(&c, "node-a", NOW + HOUR);
	snprintf(c.name, sizeof(c.name), "al ice");
	assert_int_equal(token_mint(&c, &f->a.key, f->rng, text, sizeof(text)), -1);
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

	return strcmp(node_id, "node-a") == 0 ? &f->a.crt : NULL;
}

static struct tokens *
registry(struct fixture *f)
{
	struct tokens_config tc = { "node-a", f->store, &f->a.key, f->rng,
	    cert_of, f };
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
	assert_int_equal(token_mint(&other, &f->b.key, f->rng, forged,
	    sizeof(forged)), 0);
	expect_refused(tk, forged, NOW, "token signature invalid");
	/* node-b's own token: its certificate is not known here */
	claims(&other, "node-b", NOW + HOUR);
	assert_int_equal(token_mint(&other, &f->b.key, f->rng, forged,
	    sizeof(forged)), 0);
	expect_refused(tk, forged, NOW, "token issuer unknown");
	/* a tampered payload: the role raised to admin */
	{
		struct token_claims up = c;
		char payload_tok[TOKEN_TEXT_MAX];
		up.role = PRINCIPAL_ADMIN;
		assert_int_equal(token_mint(&up, &f->b.key, f->rng, payload_tok,
		    sizeof(payload_tok)), 0);
		/* node-a's signature on alice's write token, node-b's payload */
		snprintf(forged, sizeof(forged), "%.*s%s",
		    (int)(strrchr(payload_tok, '.') - payload_tok), payload_tok,
		    strrchr(text, '.'));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
		cmocka_unit_test(test_ttl_and_names),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
