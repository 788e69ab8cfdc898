/* Unit tests of common/json_check.c: each shared JSON field check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "json_check.h"

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	assert_non_null(j);
	return j;
}

static void
test_keys(void **state)
{
	static const char *const keys[] = { "name", "for_s" };
	json_t *ok = load("{\"name\": 1, \"for_s\": 2}");
	json_t *bad = load("{\"name\": 1, \"treshold\": 2}");
	json_t *none = load("{}"), *arr = load("[1]");

	(void)state;
	assert_null(json_check_keys(ok, keys, 2));
	assert_string_equal(json_check_keys(bad, keys, 2), "treshold");
	assert_string_equal(json_check_keys(ok, keys, 1), "for_s");
	assert_null(json_check_keys(none, keys, 0));
	assert_null(json_check_keys(arr, keys, 2));
	json_decref(ok);
	json_decref(bad);
	json_decref(none);
	json_decref(arr);
}

static void
test_int(void **state)
{
	json_t *v = json_integer(5), *real = json_real(5.0), *s = json_string("5");
	json_t *big = json_integer(JSON_CHECK_INT_MAX);
	json_int_t out = -1;

	(void)state;
	assert_true(json_check_int(v, 5, 5, &out));
	assert_int_equal(out, 5);
	assert_true(json_check_int(v, 0, 10, NULL));
	out = -1;
	assert_false(json_check_int(v, 6, 10, &out));
	assert_false(json_check_int(v, 0, 4, &out));
	assert_int_equal(out, -1);		/* untouched when refused */
	assert_false(json_check_int(real, 0, 10, &out));
	assert_false(json_check_int(s, 0, 10, &out));
	assert_false(json_check_int(NULL, 0, 10, &out));
	assert_true(json_check_int(big, 0, JSON_CHECK_INT_MAX, NULL));
	json_decref(v);
	json_decref(real);
	json_decref(s);
	json_decref(big);
}

static void
test_text(void **state)
{
	json_t *word = json_string("caf\xc3\xa9"), *tab = json_string("a\tb");
	json_t *nul = json_stringn("a\0b", 3), *num = json_integer(1);
	json_t *empty = json_string("");

	(void)state;
	assert_true(json_check_text(word, 1, 5, true));
	assert_false(json_check_text(word, 1, 4, true));	/* bytes count */
	assert_false(json_check_text(word, 6, 10, true));
	assert_true(json_check_text(tab, 0, 10, false));
	assert_false(json_check_text(tab, 0, 10, true));
	assert_false(json_check_text(nul, 0, 10, false));
	assert_false(json_check_text(num, 0, 10, false));
	assert_false(json_check_text(NULL, 0, 10, false));
	assert_true(json_check_text(empty, 0, 10, true));
	assert_false(json_check_text(empty, 1, 10, true));
	json_decref(word);
	json_decref(tab);
	json_decref(nul);
	json_decref(num);
	json_decref(empty);
}

/* A table whose name is not its first member, as callers have them. */
static const struct {
	int		 value;
	const char	*name;
} sev[] = {
	{ 10, "info" },
	{ 20, "warning" },
	{ 30, "critical" },
};

static void
test_enum(void **state)
{
	json_t *w = json_string("warning"), *x = json_string("warn");
	json_t *n = json_integer(20);

	(void)state;
	assert_int_equal(JSON_CHECK_NAME("info", sev), 0);
	assert_int_equal(JSON_CHECK_NAME("critical", sev), 2);
	assert_int_equal(JSON_CHECK_NAME("Critical", sev), -1);
	assert_int_equal(JSON_CHECK_NAME(NULL, sev), -1);
	assert_int_equal(JSON_CHECK_ENUM(w, sev), 1);
	assert_int_equal(sev[JSON_CHECK_ENUM(w, sev)].value, 20);
	assert_int_equal(JSON_CHECK_ENUM(x, sev), -1);
	assert_int_equal(JSON_CHECK_ENUM(n, sev), -1);
	assert_int_equal(JSON_CHECK_ENUM(NULL, sev), -1);
	json_decref(w);
	json_decref(x);
	json_decref(n);
}

/* A file that does not parse: where and why, never the text near it. */
static void
test_load_error(void **state)
{
	static const char *const bad[] = {
		"{\"token\": \"s3cret-Value\\q\"}",	/* invalid escape */
		"{\"token\": \"s3cret-Value\n\"}",	/* control character */
		"{\"token\": s3cret-Value}",		/* invalid token */
		"{\"token\": \"s3cret-Value",		/* end of input */
	};
	json_error_t e;
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(json_loads(bad[i], 0, &e));
		json_check_load_error(&e, buf, sizeof(buf));
		assert_non_null(strstr(buf, "line 1, column "));
		assert_null(strstr(buf, "s3cret"));
		assert_null(strstr(buf, "near"));
		assert_true(strlen(buf) > strlen("line 1, column 1: "));
	}
	/* a message that quotes nothing is kept whole */
	snprintf(e.text, sizeof(e.text), "duplicate object key");
	e.line = 2;
	e.column = 7;
	assert_string_equal(json_check_load_error(&e, buf, sizeof(buf)),
	    "line 2, column 7: duplicate object key");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_load_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
