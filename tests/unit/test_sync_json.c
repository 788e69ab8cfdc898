/*
 * Unit tests of node/mesh/sync_json.c's user events: a payload that is
 * UTF-8 text is its text; bytes that are not are null beside their base64,
 * and payload_bytes counts the bytes either way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.pb-c.h"
#include "sync_json.h"

/* The JSON body of a user event with payload p (len bytes). */
static json_t *
user_body(const void *p, size_t len)
{
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	uint8_t buf[256];
	size_t n;

	u.name = "blob";
	u.payload.data = (uint8_t *)p;
	u.payload.len = len;
	n = agentflow__mesh__v1__user_event__pack(&u, buf);
	return sync_json_event_body("n1", AGENTFLOW__MESH__V1__EVENT__KIND_USER,
	    buf, n);
}

static void
test_text_payload(void **state)
{
	json_t *j = user_body("h\xc3\xa9llo", 6);

	(void)state;
	assert_string_equal(json_string_value(json_object_get(j, "payload")),
	    "h\xc3\xa9llo");
	assert_null(json_object_get(j, "payload_b64"));
	assert_int_equal(json_integer_value(json_object_get(j, "payload_bytes")), 6);
	json_decref(j);
}

static void
test_binary_payload(void **state)
{
	static const unsigned char bytes[] = { 0xff, 0x00, 0xfe, 'a', 0x80 };
	/* a lone continuation byte, a truncated sequence, an overlong NUL */
	static const char *const not_utf8[] = { "\x80", "a\xc3", "\xc0\x80" };
	json_t *j = user_body(bytes, sizeof(bytes));

	(void)state;
	assert_true(json_is_null(json_object_get(j, "payload")));
	assert_string_equal(json_string_value(json_object_get(j, "payload_b64")),
	    "/wD+YYA=");
	assert_int_equal(json_integer_value(json_object_get(j, "payload_bytes")),
	    sizeof(bytes));
	json_decref(j);
	for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++) {
		j = user_body(not_utf8[i], strlen(not_utf8[i]));
		assert_true(json_is_null(json_object_get(j, "payload")));
		assert_non_null(json_object_get(j, "payload_b64"));
		json_decref(j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_payload),
		cmocka_unit_test(test_binary_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
