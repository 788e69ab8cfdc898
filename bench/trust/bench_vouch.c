/*
 * bench/trust/bench_vouch: what authenticity costs (issue 19): CPU per
 * event and per command for the origin that signs and for a node that
 * checks, with the node's own code (node/mesh/origin_keys.h,
 * proto/mesh_signed.h, node/work/command_sign.h) on in-memory certificates
 * (certs/pki.h).  Each figure is the p50 / p99 / mean of --rounds timed
 * calls, and the same work with mbedTLS's ECDSA P-256 beside it (what
 * signing each event with the certificate's key would cost).
 *
 * "event: check" is what a receiver pays for every event once the
 * origin's key is known (relayed or not); bench-link shows it in a flood.
 * "command with principal proof" adds a signed token's proof (alice's,
 * minted by bench-a): the token key's Ed25519 signature at the issuing
 * node, and at the destination the claims' ECDSA check (cached after
 * the first, as tokens.h does) and the Ed25519 check.
 */
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "command_sign.h"
#include "mesh_signed.h"
#include "origin_keys.h"
#include "pki.h"
#include "rng.h"
#include "store.h"
#include "tokens.h"
#include "trust.h"

typedef void (*work_fn)(void *);

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
timed(const char *what, int rounds, work_fn fn, void *arg)
{
	double *us = calloc((size_t)rounds, sizeof(*us)), sum = 0;

	for (int i = 0; i < rounds; i++) {
		uint64_t t0 = clock_mono_us();
		fn(arg);
		us[i] = (double)(clock_mono_us() - t0);
		sum += us[i];
	}
	qsort(us, (size_t)rounds, sizeof(*us), cmp);
	printf("%-44s p50 %8.1f us   p99 %8.1f us   mean %8.1f us\n", what,
	    us[rounds / 2], us[rounds * 99 / 100], sum / rounds);
	free(us);
}

struct ctx {
	struct origin_keys		*self, *peer;
	Agentflow__Mesh__V1__Event	 ev;
	Agentflow__Mesh__V1__UserEvent	 user;
	Agentflow__Mesh__V1__Command	 cmd;
	uint8_t				 body[256], sig[ORIGIN_KEYS_SIGNATURE];
	uint8_t				 csig[ORIGIN_KEYS_SIGNATURE];
	mbedtls_pk_context		 ec;
	struct rng			*rng;
	uint8_t				 ecsig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t				 eclen;
	const Agentflow__Mesh__V1__OriginKey *key;
	int				 failed;
	Agentflow__Mesh__V1__Command	 pcmd;	/* alice's, with her proof */
	struct command_proof		 proof;
	struct tokens			*tokens;	/* bench-b's view */
};

static void
event_sign(void *arg)
{
	struct ctx *c = arg;
	size_t blen = agentflow__mesh__v1__user_event__get_packed_size(&c->user);
	uint8_t *body = malloc(blen + 1), *msg;
	size_t len;

	agentflow__mesh__v1__user_event__pack(&c->user, body);
	msg = mesh_signed_event(&c->ev, (int)c->ev.kind_case, body, blen, &len);
	origin_keys_sign(c->self, msg, len, c->sig);
	free(msg);
	free(body);
}

static void
event_check(void *arg)
{
	struct ctx *c = arg;
	size_t blen = agentflow__mesh__v1__user_event__get_packed_size(&c->user);
	uint8_t *body = malloc(blen + 1), *msg;
	ProtobufCBinaryData sig = { sizeof(c->sig), c->sig };
	size_t len;

	agentflow__mesh__v1__user_event__pack(&c->user, body);
	msg = mesh_signed_event(&c->ev, (int)c->ev.kind_case, body, blen, &len);
	if (origin_keys_verify(c->peer, "bench-a", 1, msg, len, &sig) !=
	    ORIGIN_KEYS_VALID)
		c->failed++;
	free(msg);
	free(body);
}

static void
command_make(void *arg)
{
	struct ctx *c = arg;

	command_sign(c->self, &c->cmd, c->csig);
}

static void
command_check(void *arg)
{
	struct ctx *c = arg;
	char err[256];

	if (command_sign_check(c->peer, &c->cmd, err, sizeof(err)) != 0)
		c->failed++;
}

static void
proof_make(void *arg)
{
	struct ctx *c = arg;

	command_proof_sign(&c->proof, &c->pcmd);
	command_sign(c->self, &c->pcmd, c->csig);
}

static void
proof_check(void *arg)
{
	struct ctx *c = arg;
	char err[256];
	int proved;

	if (command_sign_check(c->peer, &c->pcmd, err, sizeof(err)) != 0 ||
	    command_sign_check_principal(c->tokens, &c->pcmd, PRINCIPAL_WRITE,
	    (int64_t)clock_wall_ms(), &proved, err, sizeof(err)) != 0 || !proved)
		c->failed++;
}

static mbedtls_x509_crt bench_crt_a;

static const mbedtls_x509_crt *
cert_of(const char *node_id, void *arg)
{
	(void)arg;
	return strcmp(node_id, "bench-a") == 0 ? &bench_crt_a : NULL;
}

/* The receiver's configuration, for a fresh one without a cache. */
static struct origin_keys_config bench_peer_cfg;

static void
key_learn(void *arg)
{
	struct ctx *c = arg;
	struct origin_keys *fresh;
	char err[256];

	fresh = origin_keys_new(&bench_peer_cfg, err, sizeof(err));
	if (fresh == NULL || origin_keys_learn(fresh, "bench-a", c->key, err,
	    sizeof(err)) != 0)
		c->failed++;
	origin_keys_free(fresh);
}

static void
ecdsa_sign(void *arg)
{
	struct ctx *c = arg;
	uint8_t hash[32];

	mbedtls_sha256_ret(c->body, sizeof(c->body), hash, 0);
	if (mbedtls_pk_sign(&c->ec, MBEDTLS_MD_SHA256, hash, sizeof(hash),
	    c->ecsig, &c->eclen, rng_mbedtls, c->rng) != 0)
		c->failed++;
}

static void
ecdsa_check(void *arg)
{
	struct ctx *c = arg;
	uint8_t hash[32];

	mbedtls_sha256_ret(c->body, sizeof(c->body), hash, 0);
	if (mbedtls_pk_verify(&c->ec, MBEDTLS_MD_SHA256, hash, sizeof(hash),
	    c->ecsig, c->eclen) != 0)
		c->failed++;
}

int
main(int argc, char **argv)
{
	struct pki_cert_params pa = { 0 }, pb = { 0 };
	char *cert_a = NULL, *key_a = NULL, *cert_b = NULL, *key_b = NULL;
	char err[512], capath[] = "/tmp/bench-vouch-XXXXXX";
	struct ctx c = { 0 };
	struct pki_ca *ca;
	struct trust *trust;
	static const char args[] = "{\"task\":\"backup\"}";
	int rounds = argc > 2 && strcmp(argv[1], "--rounds") == 0 ?
	    atoi(argv[2]) : 2000, fd;

	if (rounds < 100)
		rounds = 100;
	c.rng = rng_new("agentflow-bench-vouch");
	ca = pki_ca_new("bench CA", 0, 2, err, sizeof(err));
	pa.node_id = "bench-a";
	pa.days = 1;
	pb.node_id = "bench-b";
	pb.days = 1;
	if (c.rng == NULL || ca == NULL ||
	    pki_ca_issue(ca, &pa, &cert_a, &key_a, err, sizeof(err)) != 0 ||
	    pki_ca_issue(ca, &pb, &cert_b, &key_b, err, sizeof(err)) != 0 ||
	    (fd = mkstemp(capath)) < 0) {
		fprintf(stderr, "bench-vouch: cannot start: %s\n", err);
		return 1;
	}
	if (write(fd, pki_ca_cert_pem(ca), strlen(pki_ca_cert_pem(ca))) < 0)
		return 1;
	close(fd);
	trust = trust_new(capath, NULL, err, sizeof(err));
	unlink(capath);
	if (trust == NULL) {
		fprintf(stderr, "bench-vouch: %s\n", err);
		return 1;
	}
	struct origin_keys_config ca_cfg = { "bench-a", cert_a, key_a, c.rng, trust };
	bench_peer_cfg = (struct origin_keys_config){ "bench-b", cert_b, key_b,
	    c.rng, trust };
	c.self = origin_keys_new(&ca_cfg, err, sizeof(err));
	c.peer = origin_keys_new(&bench_peer_cfg, err, sizeof(err));
	if (c.self == NULL || c.peer == NULL || (c.key = origin_keys_own(c.self,
	    1)) == NULL || origin_keys_learn(c.peer, "bench-a", c.key, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "bench-vouch: keys: %s\n", err);
		return 1;
	}
	/* A user event of 100 bytes; a run_task command. */
	agentflow__mesh__v1__event__init(&c.ev);
	agentflow__mesh__v1__user_event__init(&c.user);
	memset(c.body, 'x', sizeof(c.body));
	c.user.name = "deploy";
	c.user.payload.data = c.body;
	c.user.payload.len = 100;
	c.ev.origin = "bench-a";
	c.ev.incarnation = 1;
	c.ev.seq = 42;
	c.ev.time_ms = clock_wall_ms();
	c.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	c.ev.user = &c.user;
	agentflow__mesh__v1__command__init(&c.cmd);
	c.cmd.id = "c0123456789abcdef";
	c.cmd.origin = "bench-a";
	c.cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	c.cmd.node_id = "bench-b";
	c.cmd.destination = "bench-b";
	c.cmd.principal = "alice";
	c.cmd.role = "write";
	c.cmd.type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK;
	c.cmd.args_json.data = (uint8_t *)args;
	c.cmd.args_json.len = sizeof(args) - 1;
	c.cmd.issued_ms = clock_wall_ms();
	mbedtls_pk_init(&c.ec);
	if (mbedtls_pk_parse_key(&c.ec, (const unsigned char *)key_a,
	    strlen(key_a) + 1, NULL, 0) != 0) {
		fprintf(stderr, "bench-vouch: key\n");
		return 1;
	}
	/* alice's write token, minted by bench-a, checked by bench-b */
	char dir[] = "/tmp/bench-vouch-store-XXXXXX", tok[TOKEN_TEXT_MAX];
	struct token_claims tc;
	struct store *st;
	mbedtls_x509_crt_init(&bench_crt_a);
	if (mkdtemp(dir) == NULL || (st = store_open(dir, err,
	    sizeof(err))) == NULL || mbedtls_x509_crt_parse(&bench_crt_a,
	    (const unsigned char *)cert_a, strlen(cert_a) + 1) != 0) {
		fprintf(stderr, "bench-vouch: token store: %s\n", err);
		return 1;
	}
	struct tokens_config tkc = { "bench-a", st, &c.ec, c.rng, cert_of, NULL,
	    NULL };
	if ((c.tokens = tokens_new(&tkc, err, sizeof(err))) == NULL ||
	    tokens_issue(c.tokens, "alice", PRINCIPAL_WRITE, 3600000,
	    (int64_t)clock_wall_ms(), tok, sizeof(tok), &tc, err,
	    sizeof(err)) != 0 || command_proof_init(&c.proof, tok) != 0) {
		fprintf(stderr, "bench-vouch: token: %s\n", err);
		return 1;
	}
	c.pcmd = c.cmd;
	printf("bench-vouch: %d rounds each, one core\n", rounds);
	event_sign(&c);
	timed("event (100 B user): sign at the origin", rounds, event_sign, &c);
	timed("event (100 B user): check when relayed", rounds, event_check, &c);
	command_make(&c);
	timed("command (run_task): sign per destination", rounds, command_make, &c);
	timed("command (run_task): check at the destination", rounds,
	    command_check, &c);
	proof_make(&c);
	timed("command with principal proof: sign", rounds, proof_make, &c);
	timed("command with principal proof: check", rounds, proof_check, &c);
	timed("origin key: first check (cert + ECDSA, + new keys)", rounds / 20 + 5,
	    key_learn, &c);
	ecdsa_sign(&c);
	timed("for comparison: ECDSA P-256 sign (mbedTLS)", rounds / 10 + 5,
	    ecdsa_sign, &c);
	timed("for comparison: ECDSA P-256 check (mbedTLS)", rounds / 10 + 5,
	    ecdsa_check, &c);
	if (c.failed != 0) {
		fprintf(stderr, "bench-vouch: %d checks failed\n", c.failed);
		return 1;
	}
	command_proof_clear(&c.proof);
	tokens_free(c.tokens);
	store_close(st);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		fprintf(stderr, "bench-vouch: cannot remove %s\n", dir);
	mbedtls_x509_crt_free(&bench_crt_a);
	mbedtls_pk_free(&c.ec);
	origin_keys_free(c.self);
	origin_keys_free(c.peer);
	trust_free(trust);
	free(cert_a);
	free(cert_b);
	pki_secret_free(key_a);
	pki_secret_free(key_b);
	pki_ca_free(ca);
	rng_free(c.rng);
	return 0;
}
