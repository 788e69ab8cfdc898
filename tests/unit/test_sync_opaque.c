/*
 * Tests of node/mesh/sync_opaque.c: an Event of a newer kind gives the
 * log row its field number and bytes, and the row gives back an Event that
 * packs to the same bytes; events of known kinds are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync_opaque.h"

static void
test_newer_kind_round_trip(void **state)
{
	static uint8_t data[] = { 0x03, 'n', 'e', 'w' };
	ProtobufCMessageUnknownField uf[2] = {
		{ 3, PROTOBUF_C_WIRE_TYPE_VARINT, 1, (uint8_t[]){ 1 } },
		{ 15, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, sizeof(data), data },
	};
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT, *back;
	uint8_t a[64], b[64];
	const void *body;
	size_t len, la, lb;
	int kind;

	(void)state;
	e.origin = "alpha";
	e.incarnation = 1;
	e.seq = 7;
	e.base.n_unknown_fields = 2;
	e.base.unknown_fields = uf;
	assert_int_equal(sync_opaque_body(&e, &kind, &body, &len), 1);
	assert_int_equal(kind, 15);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(body, data, len);

	back = calloc(1, sizeof(*back));
	assert_non_null(back);
	agentflow__mesh__v1__event__init(back);
	back->origin = strdup("alpha");
	back->incarnation = 1;
	back->seq = 7;
	assert_int_equal(sync_opaque_event(back, kind, body, len), 0);
	/* Same bytes as the original without its unrelated field 3. */
	e.base.n_unknown_fields = 1;
	e.base.unknown_fields = &uf[1];
	la = agentflow__mesh__v1__event__pack(&e, a);
	lb = agentflow__mesh__v1__event__pack(back, b);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	agentflow__mesh__v1__event__free_unpacked(back, NULL);
}

static void
test_known_kinds_and_nonsense_left_alone(void **state)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	ProtobufCMessageUnknownField uf = { 12,
	    PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, 1, (uint8_t[]){ 0 } };
	const void *body;
	size_t len;
	int kind;

	(void)state;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	e.user = &u;
	assert_int_equal(sync_opaque_body(&e, &kind, &body, &len), 0);
	/* No kind, and nothing that could be a newer one. */
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET;
	e.user = NULL;
	assert_int_equal(sync_opaque_body(&e, &kind, &body, &len), 0);
	e.base.n_unknown_fields = 1;
	e.base.unknown_fields = &uf;	/* a known kind's number */
	assert_int_equal(sync_opaque_body(&e, &kind, &body, &len), 0);
	/* A row of a known kind or with no body is not opaque. */
	assert_int_equal(sync_opaque_event(&e, 14, "x", 1), -1);
	assert_int_equal(sync_opaque_event(&e, 15, "x", 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newer_kind_round_trip),
		cmocka_unit_test(test_known_kinds_and_nonsense_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
