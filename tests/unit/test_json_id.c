/*
 * Unit tests of common/json_id.c (64-bit ids: numbers up to 2^53 - 1,
 * exact decimal strings above) and common/json_bytes.c (base64), the two
 * encodings the API gives what JavaScript or JSON text cannot hold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "json_bytes.h"
#include "json_id.h"

/* The compact JSON text of v (freed by the caller). */
static char *
dump(json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	assert_non_null(s);
	json_decref(v);
	return s;
}

static void
test_id_new(void **state)
{
	static const struct {
		uint64_t	 v;
		const char	*text;
	} cases[] = {
		{ 0, "0" }, { 1, "1" },
		{ JSON_ID_SAFE_MAX, "9007199254740991" },
		{ JSON_ID_SAFE_MAX + 1, "\"9007199254740992\"" },
		{ JSON_ID_SAFE_MAX + 2, "\"9007199254740993\"" },
		{ (uint64_t)INT64_MAX, "\"9223372036854775807\"" },
		{ (uint64_t)INT64_MAX + 1, "\"9223372036854775808\"" },
		{ UINT64_MAX, "\"18446744073709551615\"" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = dump(json_id_new(cases[i].v));
		assert_string_equal(s, cases[i].text);
		free(s);
	}
}

static void
test_id_round_trip(void **state)
{
	static const uint64_t values[] = { 0, 7, JSON_ID_SAFE_MAX,
	    JSON_ID_SAFE_MAX + 1, (uint64_t)INT64_MAX + 5, UINT64_MAX - 1,
	    UINT64_MAX };
	uint64_t got;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		j = json_id_new(values[i]);
		got = 1;
		assert_int_equal(json_id_get(j, &got), 0);
		assert_true(got == values[i]);
		json_decref(j);
	}
}

static void
test_id_get_refuses(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "01",
	    "1.5", "1e3", "0x10", "18446744073709551616",
	    "99999999999999999999", "123456789012345678901", "12a" };
	uint64_t v = 42;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_string(bad[i]);
		assert_int_equal(json_id_get(j, &v), -1);
		json_decref(j);
	}
	j = json_integer(-1);
	assert_int_equal(json_id_get(j, &v), -1);
	json_decref(j);
	j = json_real(3.0);
	assert_int_equal(json_id_get(j, &v), -1);
	json_decref(j);
	assert_int_equal(json_id_get(NULL, &v), -1);
	assert_int_equal(v, 42);	/* untouched */
	j = json_string("0");
	assert_int_equal(json_id_get(j, &v), 0);
	assert_int_equal(v, 0);
	json_decref(j);
}

static void
test_b64(void **state)
{
	static const unsigned char bytes[] = { 0xff, 0x00, 0xfe, 'a', 0x80 };
	unsigned char *out;
	size_t len;
	json_t *j;

	(void)state;
	j = json_b64_new(bytes, sizeof(bytes));
	assert_string_equal(json_string_value(j), "/wD+YYA=");
	assert_int_equal(json_b64_get(j, 64, &out, &len), 0);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(out, bytes, len);
	free(out);
	/* over the bound, or not base64 */
	assert_int_equal(json_b64_get(j, 4, &out, &len), -1);
	assert_null(out);
	json_decref(j);
	j = json_string("not base64!");
	assert_int_equal(json_b64_get(j, 64, &out, &len), -1);
	json_decref(j);
	j = json_integer(1);
	assert_int_equal(json_b64_get(j, 64, &out, &len), -1);
	json_decref(j);
	/* nothing is nothing */
	j = json_b64_new("", 0);
	assert_string_equal(json_string_value(j), "");
	assert_int_equal(json_b64_get(j, 64, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_new),
		cmocka_unit_test(test_id_round_trip),
		cmocka_unit_test(test_id_get_refuses),
		cmocka_unit_test(test_b64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
