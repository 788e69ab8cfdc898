/*
 * Unit tests of common/trust.c and common/signed_request.c, with
 * certificates made in memory by certs/pki.c.
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
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pki.h"
#include "rng.h"
#include "signed_request.h"
#include "trust.h"

struct fixture {
	char		 dir[64];
	char		 ca_path[128];
	char		 crl_path[128];
	struct pki_ca	*ca;
	struct pki_ca	*other;
	char		*cert, *key;		/* "alpha", valid */
	char		*expired;
	char		*foreign;		/* "alpha" from another CA */
	char		*crl_empty;
};

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *
issue(struct pki_ca *ca, const char *id, time_t not_before, unsigned days,
    char **key)
{
	struct pki_cert_params p = { 0 };
	char *cert = NULL, *k = NULL, err[256];

	p.node_id = id;
	p.not_before = not_before;
	p.days = days;
	assert_int_equal(pki_ca_issue(ca, &p, &cert, &k, err, sizeof(err)), 0);
	if (key != NULL)
		*key = k;
	else
		pki_secret_free(k);
	return cert;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/af-test-trust-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ca_path, sizeof(f->ca_path), "%s/ca.crt", f->dir);
	snprintf(f->crl_path, sizeof(f->crl_path), "%s/ca.crl", f->dir);
	f->ca = pki_ca_new("test CA", 0, 30, err, sizeof(err));
	f->other = pki_ca_new("other CA", 0, 30, err, sizeof(err));
	assert_non_null(f->ca);
	assert_non_null(f->other);
	write_file(f->ca_path, pki_ca_cert_pem(f->ca));
	f->cert = issue(f->ca, "alpha", 0, 10, &f->key);
	f->expired = issue(f->ca, "alpha", time(NULL) - 10 * 86400, 2, NULL);
	f->foreign = issue(f->other, "alpha", 0, 10, NULL);
	assert_int_equal(pki_ca_revoke(f->ca, NULL, NULL, 0, &f->crl_empty, NULL,
	    err, sizeof(err)), 0);
	write_file(f->crl_path, f->crl_empty);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	snprintf(path, sizeof(path), "%s/ca.crt", f->dir);
	unlink(path);
	unlink(f->crl_path);
	rmdir(f->dir);
	pki_ca_free(f->ca);
	pki_ca_free(f->other);
	free(f->cert);
	pki_secret_free(f->key);
	free(f->expired);
	free(f->foreign);
	free(f->crl_empty);
	free(f);
	return 0;
}

static enum trust_result
verify(struct trust *t, const char *pem, const char *id, char *fp)
{
	char detail[256];

	return trust_verify_pem(t, pem, strlen(pem), id, NULL, fp, detail,
	    sizeof(detail));
}

static void
test_verdicts(void **state)
{
	struct fixture *f = *state;
	char err[256], fp[TRUST_FINGERPRINT_SIZE], detail[256];
	struct trust *t = trust_new(f->ca_path, f->crl_path, err, sizeof(err));

	assert_non_null(t);
	assert_int_equal(verify(t, f->cert, "alpha", fp), TRUST_OK);
	assert_int_equal(strncmp(fp, "sha256:", 7), 0);
	assert_int_equal(strlen(fp), 71);
	assert_int_equal(verify(t, f->foreign, "alpha", NULL), TRUST_BAD_CERT);
	assert_int_equal(verify(t, f->expired, "alpha", NULL), TRUST_EXPIRED);
	assert_int_equal(verify(t, f->cert, "beta", NULL), TRUST_IDENTITY_MISMATCH);
	assert_int_equal(trust_verify_pem(t, "garbage", 7, "alpha", NULL, NULL,
	    detail, sizeof(detail)), TRUST_BAD_CERT);
	assert_non_null(strstr(detail, "PEM"));
	/* The CA itself is not a node certificate: no DNS SAN identity. */
	assert_int_not_equal(verify(t, pki_ca_cert_pem(f->ca), "test CA", NULL),
	    TRUST_OK);
	trust_free(t);
	assert_null(trust_new("/nonexistent/ca.crt", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.crt"));
}

static void
test_crl_reload_and_broken_file(void **state)
{
	struct fixture *f = *state;
	char err[256], *crl = NULL;
	struct trust *t = trust_new(f->ca_path, f->crl_path, err, sizeof(err));
	struct timeval later[2];

	assert_non_null(t);
	assert_int_equal(trust_reload_crl(t, err, sizeof(err)), 0);	/* unchanged */
	assert_int_equal(pki_ca_revoke(f->ca, f->crl_empty, f->cert, 0, &crl, NULL,
	    err, sizeof(err)), 0);
	write_file(f->crl_path, crl);
	gettimeofday(&later[0], NULL);
	later[0].tv_sec += 5;
	later[1] = later[0];
	utimes(f->crl_path, later);
	assert_int_equal(trust_reload_crl(t, err, sizeof(err)), 1);
	assert_int_equal(verify(t, f->cert, "alpha", NULL), TRUST_REVOKED);

	/* A broken file: reported once, the revocation stays in force. */
	write_file(f->crl_path, "not a CRL");
	later[0].tv_sec += 5;
	later[1] = later[0];
	utimes(f->crl_path, later);
	assert_int_equal(trust_reload_crl(t, err, sizeof(err)), -1);
	assert_int_equal(trust_reload_crl(t, err, sizeof(err)), 0);
	assert_int_equal(verify(t, f->cert, "alpha", NULL), TRUST_REVOKED);

	/* Another trust follows through the bytes, as verification threads do. */
	struct trust *copy = trust_new(f->ca_path, NULL, err, sizeof(err));
	size_t len;
	const unsigned char *bytes = trust_crl_bytes(t, &len);
	assert_non_null(bytes);
	assert_int_equal(verify(copy, f->cert, "alpha", NULL), TRUST_OK);
	assert_int_equal(trust_set_crl(copy, bytes, len, err, sizeof(err)), 0);
	assert_int_equal(verify(copy, f->cert, "alpha", NULL), TRUST_REVOKED);
	assert_int_equal(trust_set_crl(copy, (const unsigned char *)"x", 1, err,
	    sizeof(err)), -1);
	assert_int_equal(verify(copy, f->cert, "alpha", NULL), TRUST_REVOKED);
	trust_free(copy);
	trust_free(t);
	free(crl);
	write_file(f->crl_path, f->crl_empty);
}

static void
test_signed_request(void **state)
{
	struct fixture *f = *state;
	struct rng *rng = rng_new("test");
	mbedtls_pk_context key, other_key;
	mbedtls_x509_crt chain;
	char err[256], detail[256], sig[SIGNED_REQUEST_SIG_MAX], *okey = NULL;
	const char body[] = "{\"node_id\":\"alpha\"}";
	char *other_cert = issue(f->ca, "beta", 0, 10, &okey);
	struct trust *t = trust_new(f->ca_path, NULL, err, sizeof(err));

	assert_non_null(rng);
	mbedtls_pk_init(&key);
	mbedtls_pk_init(&other_key);
	assert_int_equal(mbedtls_pk_parse_key(&key, (const unsigned char *)f->key,
	    strlen(f->key) + 1, NULL, 0), 0);
	assert_int_equal(mbedtls_pk_parse_key(&other_key, (const unsigned char *)okey,
	    strlen(okey) + 1, NULL, 0), 0);
	assert_int_equal(trust_verify_pem(t, f->cert, strlen(f->cert), "alpha",
	    &chain, NULL, detail, sizeof(detail)), TRUST_OK);

	assert_int_equal(signed_request_sign(&key, rng, body, strlen(body), sig,
	    sizeof(sig)), 0);
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), sig), 0);
	/* One changed byte, a truncated body, another key's signature. */
	assert_int_equal(signed_request_verify(&chain.pk, "{\"node_id\":\"alphb\"}",
	    strlen(body), sig), -1);
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body) - 1, sig), -1);
	assert_int_equal(signed_request_sign(&other_key, rng, body, strlen(body), sig,
	    sizeof(sig)), 0);
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), sig), -1);
	/* Malformed signatures. */
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), ""), -1);
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), "!!!"), -1);
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), NULL), -1);
	char long_sig[300];
	memset(long_sig, 'A', sizeof(long_sig) - 1);
	long_sig[sizeof(long_sig) - 1] = '\0';
	assert_int_equal(signed_request_verify(&chain.pk, body, strlen(body), long_sig), -1);

	mbedtls_x509_crt_free(&chain);
	mbedtls_pk_free(&key);
	mbedtls_pk_free(&other_key);
	pki_secret_free(okey);
	free(other_cert);
	trust_free(t);
	rng_free(rng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_crl_reload_and_broken_file),
		cmocka_unit_test(test_signed_request),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
