/*
 * Unit tests of certs/pki.c and certs/pki_crl.c: everything issued here is
 * checked by mbedTLS's own verifier and parsers, not by our code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509_crl.h>
#include <mbedtls/x509_crt.h>

#include "pki.h"
#include "pki_crl.h"
#include "trust.h"

struct fixture {
	struct pki_ca	*ca;
	struct pki_ca	*other;
};

static int
setup(void **state)
{
	static struct fixture f;
	char err[256];

	f.ca = pki_ca_new("Test Mesh CA", 0, 30, err, sizeof(err));
	f.other = pki_ca_new("Other, Inc. CA", 0, 30, err, sizeof(err));
	if (f.ca == NULL || f.other == NULL)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	pki_ca_free(f->ca);
	pki_ca_free(f->other);
	return 0;
}

static void
parse_crt(mbedtls_x509_crt *crt, const char *pem)
{
	mbedtls_x509_crt_init(crt);
	assert_int_equal(mbedtls_x509_crt_parse(crt, (const unsigned char *)pem,
	    strlen(pem) + 1), 0);
}

static void
parse_crl(mbedtls_x509_crl *crl, const char *pem)
{
	mbedtls_x509_crl_init(crl);
	assert_int_equal(mbedtls_x509_crl_parse(crl, (const unsigned char *)pem,
	    strlen(pem) + 1), 0);
}

/* Issues a certificate for id; *key may be NULL if the caller does not care. */
static char *
issue(struct pki_ca *ca, const char *id, time_t not_before, unsigned int days,
    char **keyp)
{
	struct pki_cert_params p = {
		.node_id = id, .not_before = not_before, .days = days,
	};
	char err[256], *crt, *key;

	assert_int_equal(pki_ca_issue(ca, &p, &crt, &key, err, sizeof(err)), 0);
	assert_non_null(crt);
	assert_non_null(key);
	if (keyp != NULL)
		*keyp = key;
	else
		pki_secret_free(key);
	return crt;
}

/* mbedtls_x509_crt_verify() flags for cert_pem against ca (and crl_pem). */
static uint32_t
verify(struct pki_ca *ca, const char *cert_pem, const char *crl_pem,
    const char *cn)
{
	mbedtls_x509_crt trust, crt;
	mbedtls_x509_crl crl;
	uint32_t flags = 0;

	parse_crt(&trust, pki_ca_cert_pem(ca));
	parse_crt(&crt, cert_pem);
	mbedtls_x509_crl_init(&crl);
	if (crl_pem != NULL)
		parse_crl(&crl, crl_pem);
	(void)mbedtls_x509_crt_verify(&crt, &trust,
	    crl_pem != NULL ? &crl : NULL, cn, &flags, NULL, NULL);
	mbedtls_x509_crl_free(&crl);
	mbedtls_x509_crt_free(&crt);
	mbedtls_x509_crt_free(&trust);
	return flags;
}

static void
test_chain_verifies(void **state)
{
	struct fixture *f = *state;
	char *crt = issue(f->ca, "node-1", 0, 10, NULL);

	assert_int_equal(verify(f->ca, crt, NULL, "node-1"), 0);
	/* The id is the name a client checks the server against. */
	assert_true(verify(f->ca, crt, NULL, "node-2") &
	    MBEDTLS_X509_BADCERT_CN_MISMATCH);
	free(crt);
}

static void
test_other_ca_fails(void **state)
{
	struct fixture *f = *state;
	char *crt = issue(f->other, "node-1", 0, 10, NULL);

	assert_true(verify(f->ca, crt, NULL, NULL) &
	    MBEDTLS_X509_BADCERT_NOT_TRUSTED);
	assert_int_equal(verify(f->other, crt, NULL, NULL), 0);
	free(crt);
}

static void
test_expired_fails(void **state)
{
	struct fixture *f = *state;
	char *crt = issue(f->ca, "old", time(NULL) - 10 * 86400, 1, NULL);
	char *future = issue(f->ca, "future", time(NULL) + 10 * 86400, 1, NULL);

	assert_int_equal(verify(f->ca, crt, NULL, NULL),
	    MBEDTLS_X509_BADCERT_EXPIRED);
	assert_int_equal(verify(f->ca, future, NULL, NULL),
	    MBEDTLS_X509_BADCERT_FUTURE);
	free(crt);
	free(future);
}

static void
test_revoked_fails(void **state)
{
	struct fixture *f = *state;
	char *a = issue(f->ca, "a", 0, 10, NULL);
	char *b = issue(f->ca, "b", 0, 10, NULL);
	char *empty, *crl, err[256];
	int already = -1;

	assert_int_equal(pki_ca_revoke(f->ca, NULL, NULL, 0, &empty, &already,
	    err, sizeof(err)), 0);
	assert_int_equal(already, 0);
	/* An empty CRL is valid and signed: nothing fails against it. */
	assert_int_equal(verify(f->ca, a, empty, NULL), 0);

	assert_int_equal(pki_ca_revoke(f->ca, empty, a, 0, &crl, &already,
	    err, sizeof(err)), 0);
	assert_int_equal(already, 0);
	assert_int_equal(verify(f->ca, a, crl, NULL),
	    MBEDTLS_X509_BADCERT_REVOKED);
	assert_int_equal(verify(f->ca, b, crl, NULL), 0);
	/* Without the CRL nothing knows. */
	assert_int_equal(verify(f->ca, a, NULL, NULL), 0);
	free(a);
	free(b);
	free(empty);
	free(crl);
}

static void
test_crl_keeps_entries(void **state)
{
	struct fixture *f = *state;
	char *a = issue(f->ca, "a", 0, 10, NULL);
	char *b = issue(f->ca, "b", 0, 10, NULL);
	char *c = issue(f->ca, "c", 0, 10, NULL);
	char *crl1, *crl2, *crl3, err[256];
	mbedtls_x509_crl x;
	mbedtls_x509_crt ca, cb;
	uint64_t number;
	int already;
	time_t t1 = time(NULL) - 7200, t2 = time(NULL) - 3600;

	assert_int_equal(pki_ca_revoke(f->ca, NULL, a, t1, &crl1, &already,
	    err, sizeof(err)), 0);
	assert_int_equal(pki_ca_revoke(f->ca, crl1, b, t2, &crl2, &already,
	    err, sizeof(err)), 0);
	assert_int_equal(already, 0);
	/* Revoking again is reported and changes nothing but the signature. */
	assert_int_equal(pki_ca_revoke(f->ca, crl2, a, 0, &crl3, &already,
	    err, sizeof(err)), 0);
	assert_int_equal(already, 1);

	parse_crt(&ca, a);
	parse_crt(&cb, b);
	parse_crl(&x, crl3);
	assert_true(pki_crl_lists(&x, &ca.serial));
	assert_true(pki_crl_lists(&x, &cb.serial));
	/* Order and the original revocation dates are kept. */
	assert_memory_equal(x.entry.serial.p, ca.serial.p, ca.serial.len);
	assert_int_equal(x.entry.revocation_date.hour, gmtime(&t1)->tm_hour);
	assert_non_null(x.entry.next);
	assert_int_equal(x.entry.next->revocation_date.hour,
	    gmtime(&t2)->tm_hour);
	assert_null(x.entry.next->next);
	assert_int_equal(pki_crl_number(&x, &number), 0);
	assert_int_equal(number, 3);
	assert_int_equal(x.version, 2);

	assert_int_equal(verify(f->ca, a, crl3, NULL), MBEDTLS_X509_BADCERT_REVOKED);
	assert_int_equal(verify(f->ca, b, crl3, NULL), MBEDTLS_X509_BADCERT_REVOKED);
	assert_int_equal(verify(f->ca, c, crl3, NULL), 0);

	mbedtls_x509_crl_free(&x);
	mbedtls_x509_crt_free(&ca);
	mbedtls_x509_crt_free(&cb);
	free(a);
	free(b);
	free(c);
	free(crl1);
	free(crl2);
	free(crl3);
}

static void
test_revoke_checks_issuer(void **state)
{
	struct fixture *f = *state;
	char *foreign = issue(f->other, "x", 0, 10, NULL);
	char *mine = issue(f->ca, "y", 0, 10, NULL);
	char *other_crl, *crl = NULL, err[256];

	assert_int_equal(pki_ca_revoke(f->ca, NULL, foreign, 0, &crl, NULL,
	    err, sizeof(err)), -1);
	assert_null(crl);
	assert_non_null(strstr(err, "not issued by this CA"));

	assert_int_equal(pki_ca_revoke(f->other, NULL, NULL, 0, &other_crl,
	    NULL, err, sizeof(err)), 0);
	assert_int_equal(pki_ca_revoke(f->ca, other_crl, mine, 0, &crl, NULL,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not issued by this CA"));
	assert_int_equal(pki_ca_revoke(f->ca, "garbage", mine, 0, &crl, NULL,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot parse the current CRL"));
	free(foreign);
	free(mine);
	free(other_crl);
}

static int
has_san(const mbedtls_x509_crt *c, int tag, const void *v, size_t len)
{
	for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s != NULL;
	    s = s->next)
		if ((s->buf.tag & 0x1f) == tag && s->buf.len == len &&
		    memcmp(s->buf.p, v, len) == 0)
			return 1;
	return 0;
}

static void
test_sans_and_usages(void **state)
{
	struct fixture *f = *state;
	const char *dns[] = { "localhost", "signal.example.org", "node-7" };
	const char *ips[] = { "127.0.0.1", "::1" };
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	struct pki_cert_params p = {
		.node_id = "node-7", .days = 10,
		.dns = dns, .ndns = 3, .ips = ips, .nips = 2,
	};
	char *crt, *key, err[256];
	mbedtls_x509_crt c;
	size_t n = 0;

	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), 0);
	parse_crt(&c, crt);
	assert_int_equal(c.version, 3);
	assert_false(c.ca_istrue);
	assert_int_equal(c.subject.val.len, 6);
	assert_memory_equal(c.subject.val.p, "node-7", 6);
	assert_int_equal(MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &c.subject.oid), 0);
	assert_true(has_san(&c, 2, "node-7", 6));
	assert_true(has_san(&c, 2, "localhost", 9));
	assert_true(has_san(&c, 2, "signal.example.org", 18));
	assert_true(has_san(&c, 7, v4, 4));
	assert_true(has_san(&c, 7, v6, 16));
	for (const mbedtls_x509_sequence *s = &c.subject_alt_names; s; s = s->next)
		n++;
	assert_int_equal(n, 5);	/* node-7 is not repeated */
	assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(&c,
	    MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)), 0);
	assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(&c,
	    MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)), 0);
	assert_int_equal(mbedtls_x509_crt_check_key_usage(&c,
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
	assert_int_not_equal(mbedtls_x509_crt_check_key_usage(&c,
	    MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
	/* The signal's HTTPS certificate is checked by name and by address. */
	assert_int_equal(verify(f->ca, crt, NULL, "signal.example.org"), 0);
	mbedtls_x509_crt_free(&c);

	parse_crt(&c, pki_ca_cert_pem(f->ca));
	assert_true(c.ca_istrue);
	assert_int_equal(mbedtls_x509_crt_check_key_usage(&c,
	    MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN), 0);
	mbedtls_x509_crt_free(&c);
	free(crt);
	pki_secret_free(key);
}

static void
test_serials_random_positive(void **state)
{
	struct fixture *f = *state;
	unsigned char seen[8][16];
	size_t lens[8];

	for (int i = 0; i < 8; i++) {
		char *pem = issue(f->ca, "s", 0, 1, NULL);
		mbedtls_x509_crt c;

		parse_crt(&c, pem);
		assert_true(c.serial.len >= 15 && c.serial.len <= 16);
		assert_int_equal(c.serial.p[0] & 0x80, 0);
		memcpy(seen[i], c.serial.p, c.serial.len);
		lens[i] = c.serial.len;
		for (int j = 0; j < i; j++)
			assert_false(lens[j] == lens[i] &&
			    memcmp(seen[j], seen[i], lens[i]) == 0);
		mbedtls_x509_crt_free(&c);
		free(pem);
	}
}

static void
test_bad_input_refused(void **state)
{
	struct fixture *f = *state;
	const char *bad_ids[] = { "", "-lead", "has space", "a/b", "é",
	    "0123456789012345678901234567890123456789012345678901234567890123" };
	const char *bad_ip[] = { "300.1.1.1" };
	const char *bad_dns[] = { "a..b" };
	const char *many[PKI_SAN_MAX + 1];
	struct pki_cert_params p = { .days = 10 };
	char *crt = (char *)1, *key = (char *)1, err[256];

	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		p.node_id = bad_ids[i];
		assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err,
		    sizeof(err)), -1);
		assert_null(crt);
		assert_null(key);
		assert_non_null(strstr(err, "invalid node id"));
	}
	p.node_id = "ok";
	p.ips = bad_ip;
	p.nips = 1;
	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid IP address"));
	p.nips = 0;
	p.dns = bad_dns;
	p.ndns = 1;
	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid DNS name"));
	for (size_t i = 0; i < PKI_SAN_MAX + 1; i++)
		many[i] = "x.example";
	p.dns = many;
	p.ndns = PKI_SAN_MAX + 1;
	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	p.ndns = 0;
	p.days = 0;
	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), -1);
	p.days = PKI_DAYS_MAX + 1;
	assert_int_equal(pki_ca_issue(f->ca, &p, &crt, &key, err, sizeof(err)), -1);

	assert_null(pki_ca_new("bad\\name", 0, 10, err, sizeof(err)));
	assert_null(pki_ca_new("", 0, 10, err, sizeof(err)));
	assert_null(pki_ca_new("ok", 0, 0, err, sizeof(err)));
}

static void
test_load_round_trip(void **state)
{
	struct fixture *f = *state;
	char err[256], *key, *other_key, *node_key, *crt;
	struct pki_ca *loaded;

	key = pki_ca_key_pem(f->ca, err, sizeof(err));
	assert_non_null(key);
	assert_non_null(strstr(key, "BEGIN EC PRIVATE KEY"));
	loaded = pki_ca_load(pki_ca_cert_pem(f->ca), key, err, sizeof(err));
	assert_non_null(loaded);
	/* Issued by the reloaded CA, verified against the original. */
	crt = issue(loaded, "reloaded", 0, 10, &node_key);
	assert_int_equal(verify(f->ca, crt, NULL, "reloaded"), 0);
	pki_ca_free(loaded);

	other_key = pki_ca_key_pem(f->other, err, sizeof(err));
	assert_null(pki_ca_load(pki_ca_cert_pem(f->ca), other_key, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "does not match"));
	/* A node certificate is not a CA. */
	assert_null(pki_ca_load(crt, node_key, err, sizeof(err)));
	assert_non_null(strstr(err, "not a CA"));
	assert_null(pki_ca_load("junk", key, err, sizeof(err)));
	assert_null(pki_ca_load(pki_ca_cert_pem(f->ca), "junk", err,
	    sizeof(err)));
	pki_secret_free(key);
	pki_secret_free(other_key);
	pki_secret_free(node_key);
	free(crt);
}

static void
test_existing_key(void **state)
{
	struct fixture *f = *state;
	char *key1, *crt1 = issue(f->ca, "renew", 0, 10, &key1);
	struct pki_cert_params p = { .node_id = "renew", .days = 20,
	    .key_pem = key1 };
	mbedtls_x509_crt a, b;
	char *crt2, *key2 = (char *)1, err[256];

	assert_int_equal(pki_ca_issue(f->ca, &p, &crt2, &key2, err,
	    sizeof(err)), 0);
	assert_null(key2);
	parse_crt(&a, crt1);
	parse_crt(&b, crt2);
	{
		unsigned char da[256], db[256];
		int la = mbedtls_pk_write_pubkey_der(&a.pk, da, sizeof(da));
		int lb = mbedtls_pk_write_pubkey_der(&b.pk, db, sizeof(db));

		assert_true(la > 0);
		assert_int_equal(la, lb);
		assert_memory_equal(da + sizeof(da) - la, db + sizeof(db) - lb,
		    (size_t)la);
	}
	mbedtls_x509_crt_free(&a);
	mbedtls_x509_crt_free(&b);
	free(crt1);
	free(crt2);
	pki_secret_free(key1);
}

static void
test_fingerprint(void **state)
{
	char fp[TRUST_FINGERPRINT_SIZE];

	(void)state;
	trust_fingerprint_der((const unsigned char *)"abc", 3, fp);
	assert_string_equal(fp, "sha256:ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_verifies),
		cmocka_unit_test(test_other_ca_fails),
		cmocka_unit_test(test_expired_fails),
		cmocka_unit_test(test_revoked_fails),
		cmocka_unit_test(test_crl_keeps_entries),
		cmocka_unit_test(test_revoke_checks_issuer),
		cmocka_unit_test(test_sans_and_usages),
		cmocka_unit_test(test_serials_random_positive),
		cmocka_unit_test(test_bad_input_refused),
		cmocka_unit_test(test_load_round_trip),
		cmocka_unit_test(test_existing_key),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
