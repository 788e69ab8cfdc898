/*
 * Unit tests of node/mesh/sync_json.c's user events: a payload that is
 * UTF-8 text is its text; bytes that are not are null beside their base64,
 * and payload_bytes counts the bytes either way.  Schedule and silence
 * bodies carry what the timeline's rows say of their definitions (paused,
 * created_by, comment) and who made a schedule so (principal, only for
 * the definition principal_ms names), and nothing of a definition that
 * does not parse.
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

/* The JSON body of a schedule update whose definition is spec (of time
 * 5), made by alice for the definition of time principal_ms. */
static json_t *
schedule_body_by(const char *spec, uint64_t principal_ms)
{
	Agentflow__Mesh__V1__ScheduleUpdate u =
	    AGENTFLOW__MESH__V1__SCHEDULE_UPDATE__INIT;
	uint8_t buf[512];

	u.name = "nightly";
	u.spec_json = (char *)spec;
	u.updated_ms = 5;
	u.author = "n1";
	u.fire_job = "j9";
	u.fire_updated_ms = 7;
	u.principal = "alice";
	u.principal_ms = principal_ms;
	return sync_json_event_body("n1",
	    AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE, buf,
	    agentflow__mesh__v1__schedule_update__pack(&u, buf));
}

static json_t *
schedule_body(const char *spec)
{
	return schedule_body_by(spec, 5);
}

static void
test_schedule_definition(void **state)
{
	json_t *j = schedule_body("{\"name\": \"nightly\", \"paused\": true}");

	(void)state;
	assert_true(json_is_true(json_object_get(j, "paused")));
	assert_string_equal(json_string_value(json_object_get(j, "fire_job")),
	    "j9");
	assert_int_equal(json_integer_value(json_object_get(j,
	    "fire_updated_ms")), 7);
	assert_string_equal(json_string_value(json_object_get(j, "principal")),
	    "alice");
	json_decref(j);
	/* deleted (no definition), or one that does not parse: no paused */
	j = schedule_body("");
	assert_null(json_object_get(j, "paused"));
	assert_string_equal(json_string_value(json_object_get(j, "name")),
	    "nightly");
	json_decref(j);
	j = schedule_body("{\"paused\": tru");
	assert_null(json_object_get(j, "paused"));
	json_decref(j);
}

/* A principal is named only for the definition it made: a version
 * without principal_ms passes alice's on (with her principal_ms 4) when
 * it makes definition 5 itself; none (0) names nobody either. */
static void
test_schedule_principal_of_its_definition(void **state)
{
	json_t *j;

	(void)state;
	j = schedule_body_by("{\"name\": \"nightly\"}", 4);
	assert_null(json_object_get(j, "principal"));
	assert_string_equal(json_string_value(json_object_get(j, "name")),
	    "nightly");
	json_decref(j);
	j = schedule_body_by("", 0);
	assert_null(json_object_get(j, "principal"));
	json_decref(j);
}

static void
test_silence_definition(void **state)
{
	Agentflow__Mesh__V1__SilenceUpdate u =
	    AGENTFLOW__MESH__V1__SILENCE_UPDATE__INIT;
	uint8_t buf[512];
	json_t *j;

	(void)state;
	u.id = "sil-1-ab";
	u.spec_json = "{\"id\": \"sil-1-ab\", \"created_by\": \"alice\", "
	    "\"comment\": \"disk swap\", \"matchers\": []}";
	u.updated_ms = 5;
	u.author = "n1";
	u.ends_ms = 9;
	j = sync_json_event_body("n1", AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE,
	    buf, agentflow__mesh__v1__silence_update__pack(&u, buf));
	assert_string_equal(json_string_value(json_object_get(j, "created_by")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(j, "comment")),
	    "disk swap");
	/* only what the row needs, not the whole definition */
	assert_null(json_object_get(j, "matchers"));
	assert_null(json_object_get(j, "principal"));
	json_decref(j);
	/* a removal: no definition, who removed it */
	u.deleted = 1;
	u.spec_json = "";
	u.principal = "bob";
	j = sync_json_event_body("n1", AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE,
	    buf, agentflow__mesh__v1__silence_update__pack(&u, buf));
	assert_true(json_is_true(json_object_get(j, "deleted")));
	assert_string_equal(json_string_value(json_object_get(j, "principal")),
	    "bob");
	assert_null(json_object_get(j, "created_by"));
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_payload),
		cmocka_unit_test(test_binary_payload),
		cmocka_unit_test(test_schedule_definition),
		cmocka_unit_test(test_schedule_principal_of_its_definition),
		cmocka_unit_test(test_silence_definition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
