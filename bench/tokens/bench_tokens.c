/*
 * agentflow-bench-tokens: what a signed API token costs a node
 * (node/api/tokens.c), in process, with a key and certificate issued in
 * memory and the store in a temporary directory: minting one (sign +
 * insert), checking one the node has not seen (decode + ECDSA verify), and
 * checking one again (the verdict cache: a SHA-256 and a lookup).
 *
 * Usage: agentflow-bench-tokens [N]   (N checks of cached tokens; 100000)
 */
#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pki.h"
#include "rng.h"
#include "store.h"
#include "tokens.h"

#define FRESH	100	/* tokens minted, each checked once uncached */

static mbedtls_x509_crt crt;

static const mbedtls_x509_crt *
cert_of(const char *node_id, void *arg)
{
	(void)node_id;
	(void)arg;
	return &crt;
}

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "agentflow-bench-tokens: %s: %s\n", what, why);
	exit(1);
}

int
main(int argc, char **argv)
{
	static char texts[FRESH][TOKEN_TEXT_MAX];
	struct pki_cert_params pp = { 0 };
	struct token_claims c;
	struct principal p;
	struct tokens_config tc = { 0 };
	struct tokens *tk;
	struct store *st;
	struct pki_ca *ca;
	struct rng *rng;
	mbedtls_pk_context key;
	char err[256], dir[] = "/tmp/agentflow-bench-tokens-XXXXXX", *cert, *kpem;
	long n = argc > 1 ? atol(argv[1]) : 100000;
	uint64_t t0, t1, t2, t3;

	if (n <= 0 || mkdtemp(dir) == NULL || (rng = rng_new("bench")) == NULL)
		die("setup", "bad N, no temporary directory or no randomness");
	if ((ca = pki_ca_new("bench CA", 0, 30, err, sizeof(err))) == NULL)
		die("CA", err);
	pp.node_id = "node-1";
	pp.days = 30;
	if (pki_ca_issue(ca, &pp, &cert, &kpem, err, sizeof(err)) != 0)
		die("certificate", err);
	mbedtls_pk_init(&key);
	mbedtls_x509_crt_init(&crt);
	if (mbedtls_pk_parse_key(&key, (unsigned char *)kpem, strlen(kpem) + 1,
	    NULL, 0) != 0 || mbedtls_x509_crt_parse(&crt, (unsigned char *)cert,
	    strlen(cert) + 1) != 0)
		die("key", "cannot parse what the CA issued");
	if ((st = store_open(dir, err, sizeof(err))) == NULL)
		die("store", err);
	tc = (struct tokens_config){ "node-1", st, &key, rng, cert_of, NULL, NULL };
	if ((tk = tokens_new(&tc, err, sizeof(err))) == NULL)
		die("tokens", err);

	t0 = clock_mono_us();
	for (int i = 0; i < FRESH; i++)
		if (tokens_issue(tk, "alice", PRINCIPAL_WRITE, 3600000,
		    (int64_t)clock_wall_ms(), texts[i], sizeof(texts[i]), &c, err,
		    sizeof(err)) != 0)
			die("issue", err);
	t1 = clock_mono_us();
	for (int i = 0; i < FRESH; i++)
		if (tokens_check(tk, texts[i], (int64_t)clock_wall_ms(), &p, err,
		    sizeof(err)) != 0)
			die("check", err);
	t2 = clock_mono_us();
	for (long i = 0; i < n; i++)
		if (tokens_check(tk, texts[i % FRESH], (int64_t)clock_wall_ms(), &p,
		    err, sizeof(err)) != 0)
			die("check", err);
	t3 = clock_mono_us();
	printf("mint (sign + store):        %8.1f us\n", (double)(t1 - t0) / FRESH);
	printf("first check (ECDSA verify): %8.1f us\n", (double)(t2 - t1) / FRESH);
	printf("cached check:               %8.2f us (%ld checks)\n",
	    (double)(t3 - t2) / (double)n, n);

	tokens_free(tk);
	store_close(st);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		fprintf(stderr, "agentflow-bench-tokens: cannot remove %s\n", dir);
	mbedtls_x509_crt_free(&crt);
	mbedtls_pk_free(&key);
	free(cert);
	pki_secret_free(kpem);
	pki_ca_free(ca);
	rng_free(rng);
	return 0;
}
