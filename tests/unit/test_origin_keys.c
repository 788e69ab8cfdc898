/*
 * Unit tests of node/mesh/origin_keys.c and proto/mesh_signed.c with
 * certificates made in memory (certs/pki.c): a key its certificate vouches
 * for is learnt and checks what its node signed; a statement naming
 * another node, one signed by another key, one from another CA or a
 * revoked certificate is refused; a changed byte of a signed event or
 * command fails; an unknown life is "unknown", not forged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh_signed.h"
#include "origin_keys.h"
#include "pki.h"
#include "rng.h"
#include "tmpdir.h"
#include "trust.h"

struct fixture {
	char			 dir[64], ca_path[128], crl_path[128];
	struct pki_ca		*ca, *other;
	struct rng		*rng;
	struct trust		*trust;
	char			*cert_a, *key_a, *cert_b, *key_b, *foreign, *fkey;
	struct origin_keys	*a, *b;
};

static void
write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(data, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
issue(struct pki_ca *ca, const char *id, char **cert, char **key)
{
	struct pki_cert_params p = { 0 };
	char err[256];

	p.node_id = id;
	p.days = 1;
	assert_int_equal(pki_ca_issue(ca, &p, cert, key, err, sizeof(err)), 0);
}

static struct origin_keys *
keys(struct fixture *f, const char *id, const char *cert, const char *key)
{
	struct origin_keys_config c = { id, cert, key, f->rng, f->trust };
	char err[256];
	struct origin_keys *k = origin_keys_new(&c, err, sizeof(err));

	assert_non_null(k);
	return k;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "test_origin_keys"), 0);
	f->rng = rng_new("test_origin_keys");
	f->ca = pki_ca_new("test CA", 0, 2, err, sizeof(err));
	f->other = pki_ca_new("other CA", 0, 2, err, sizeof(err));
	assert_non_null(f->ca);
	assert_non_null(f->other);
	snprintf(f->ca_path, sizeof(f->ca_path), "%s/ca.crt", f->dir);
	write_file(f->ca_path, pki_ca_cert_pem(f->ca));
	f->trust = trust_new(f->ca_path, NULL, err, sizeof(err));
	assert_non_null(f->trust);
	issue(f->ca, "node-a", &f->cert_a, &f->key_a);
	issue(f->ca, "node-b", &f->cert_b, &f->key_b);
	issue(f->other, "node-a", &f->foreign, &f->fkey);
	f->a = keys(f, "node-a", f->cert_a, f->key_a);
	f->b = keys(f, "node-b", f->cert_b, f->key_b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	origin_keys_free(f->a);
	origin_keys_free(f->b);
	trust_free(f->trust);
	free(f->cert_a);
	free(f->cert_b);
	free(f->foreign);
	pki_secret_free(f->key_a);
	pki_secret_free(f->key_b);
	pki_secret_free(f->fkey);
	pki_ca_free(f->ca);
	pki_ca_free(f->other);
	rng_free(f->rng);
	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* A user event of node-a's life 7, its kind's bytes in body. */
static uint8_t *
event_msg(uint64_t seq, const char *name, size_t *len)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	uint8_t body[64], *msg;
	size_t blen;

	u.name = (char *)name;
	blen = agentflow__mesh__v1__user_event__pack(&u, body);
	e.origin = "node-a";
	e.incarnation = 7;
	e.seq = seq;
	e.time_ms = 1000;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	msg = mesh_signed_event(&e, (int)e.kind_case, body, blen, len);
	return msg;
}

static void
test_a_vouched_key_checks_what_its_node_signed(void **state)
{
	struct fixture *f = *state;
	const Agentflow__Mesh__V1__OriginKey *k = origin_keys_own(f->a, 7);
	uint8_t sig[ORIGIN_KEYS_SIGNATURE], *msg, *other;
	ProtobufCBinaryData s = { sizeof(sig), sig };
	size_t len, olen;
	char err[256];

	assert_non_null(k);
	assert_ptr_equal(origin_keys_current(f->a), k);
	msg = event_msg(3, "deploy", &len);
	origin_keys_sign(f->a, msg, len, sig);
	/* Before it is learnt: unknown, not forged. */
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, msg, len, &s),
	    ORIGIN_KEYS_UNKNOWN);
	assert_int_equal(origin_keys_learn(f->b, "node-a", k, err, sizeof(err)), 0);
	assert_true(origin_keys_known(f->b, "node-a", 7));
	assert_false(origin_keys_known(f->b, "node-a", 8));
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, msg, len, &s),
	    ORIGIN_KEYS_VALID);
	/* Another seq, another name, another life: none verify. */
	other = event_msg(4, "deploy", &olen);
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, other, olen, &s),
	    ORIGIN_KEYS_FORGED);
	free(other);
	other = event_msg(3, "deplox", &olen);
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, other, olen, &s),
	    ORIGIN_KEYS_FORGED);
	free(other);
	assert_int_equal(origin_keys_verify(f->b, "node-a", 8, msg, len, &s),
	    ORIGIN_KEYS_UNKNOWN);
	/* Not a signature at all. */
	s.len = 10;
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, msg, len, &s),
	    ORIGIN_KEYS_FORGED);
	free(msg);
}

static void
test_a_key_for_another_node_is_refused(void **state)
{
	struct fixture *f = *state;
	const Agentflow__Mesh__V1__OriginKey *kb = origin_keys_own(f->b, 1);
	Agentflow__Mesh__V1__OriginKey forged;
	uint8_t badsig[80];
	char err[256];

	/* node-b's statement offered as node-a's: its certificate says b. */
	assert_int_equal(origin_keys_learn(f->a, "node-a", kb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not match the certificate identity"));
	/* node-a's certificate with node-b's key and signature. */
	forged = *kb;
	forged.cert = origin_keys_own(f->a, 1)->cert;
	assert_int_equal(origin_keys_learn(f->b, "node-a", &forged, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not signed by its certificate"));
	/* A signature that is no signature. */
	forged = *origin_keys_own(f->a, 1);
	memset(badsig, 0x30, sizeof(badsig));
	forged.signature.data = badsig;
	forged.signature.len = 70;
	assert_int_equal(origin_keys_learn(f->b, "node-a", &forged, err,
	    sizeof(err)), -1);
	assert_false(origin_keys_known(f->b, "node-a", 1));
}

static void
test_another_ca_and_a_revoked_certificate_do_not_vouch(void **state)
{
	struct fixture *f = *state;
	struct origin_keys *foreign = keys(f, "node-a", f->foreign, f->fkey);
	const Agentflow__Mesh__V1__OriginKey *k = origin_keys_own(foreign, 2);
	uint8_t sig[ORIGIN_KEYS_SIGNATURE], *msg;
	ProtobufCBinaryData s = { sizeof(sig), sig };
	char err[256], *crl = NULL;
	size_t len;
	int already = 0;

	assert_int_equal(origin_keys_learn(f->b, "node-a", k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not chain to the mesh CA"));
	origin_keys_free(foreign);
	/* Learnt, then its certificate revoked: it stops vouching at once. */
	k = origin_keys_own(f->a, 7);
	assert_int_equal(origin_keys_learn(f->b, "node-a", k, err, sizeof(err)), 0);
	msg = event_msg(1, "x", &len);
	origin_keys_sign(f->a, msg, len, sig);
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, msg, len, &s),
	    ORIGIN_KEYS_VALID);
	assert_int_equal(pki_ca_revoke(f->ca, NULL, f->cert_a, time(NULL), &crl,
	    &already, err, sizeof(err)), 0);
	assert_int_equal(trust_set_crl(f->trust, (const unsigned char *)crl,
	    strlen(crl), err, sizeof(err)), 0);
	assert_int_equal(origin_keys_verify(f->b, "node-a", 7, msg, len, &s),
	    ORIGIN_KEYS_REVOKED);
	free(crl);
	free(msg);
}

static void
test_a_signed_command_covers_principal_role_and_args(void **state)
{
	Agentflow__Mesh__V1__Command c = AGENTFLOW__MESH__V1__COMMAND__INIT;
	uint8_t *m1, *m2;
	size_t l1, l2;

	(void)state;
	c.id = "c1";
	c.origin = "node-a";
	c.destination = "node-b";
	c.principal = "alice";
	c.role = "write";
	c.type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK;
	m1 = mesh_signed_command(&c, &l1);
	c.role = "admin";
	m2 = mesh_signed_command(&c, &l2);
	assert_false(l1 == l2 && memcmp(m1, m2, l1) == 0);
	free(m2);
	c.role = "write";
	c.principal = "mallory";
	m2 = mesh_signed_command(&c, &l2);
	assert_false(l1 == l2 && memcmp(m1, m2, l1) == 0);
	free(m2);
	/* Hops and path are a relay's: not covered. */
	c.principal = "alice";
	c.hops = 3;
	m2 = mesh_signed_command(&c, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(m1, m2, l1);
	free(m2);
	free(m1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_vouched_key_checks_what_its_node_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_key_for_another_node_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_ca_and_a_revoked_certificate_do_not_vouch, setup, teardown),
		cmocka_unit_test(test_a_signed_command_covers_principal_role_and_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
