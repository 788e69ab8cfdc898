/* Unit tests of common/text.c: each shared text rule on real inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

#define S(lit)	lit, sizeof(lit) - 1

/* Accepted and refused sequences, at the edges of each rule. */
static void
test_utf8_seq(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len, want;
	} cases[] = {
		{ S("a"), 1 },
		{ S("\0"), 1 },
		{ S("\x7f"), 1 },
		{ S("\xc2\x80"), 2 },			/* U+0080 */
		{ S("\xdf\xbf"), 2 },			/* U+07FF */
		{ S("\xe0\xa0\x80"), 3 },		/* U+0800 */
		{ S("\xef\xbf\xbd"), 3 },		/* U+FFFD */
		{ S("\xf0\x90\x80\x80"), 4 },		/* U+10000 */
		{ S("\xf4\x8f\xbf\xbf"), 4 },		/* U+10FFFF */
		{ S("\x80"), 0 },			/* lone continuation */
		{ S("\xc0\xaf"), 0 },			/* overlong '/' */
		{ S("\xc1\xbf"), 0 },
		{ S("\xe0\x9f\xbf"), 0 },		/* overlong 3-byte */
		{ S("\xf0\x8f\xbf\xbf"), 0 },		/* overlong 4-byte */
		{ S("\xed\xa0\x80"), 0 },		/* surrogate U+D800 */
		{ S("\xed\xbf\xbf"), 0 },		/* surrogate U+DFFF */
		{ S("\xf4\x90\x80\x80"), 0 },		/* U+110000 */
		{ S("\xf5\x80\x80\x80"), 0 },
		{ S("\xff"), 0 },
		{ S("\xe2\x82"), 0 },			/* truncated */
		{ S("\xe2\x28\xa1"), 0 },		/* bad continuation */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(text_utf8_seq(cases[i].s, cases[i].len),
		    cases[i].want);
	/* Only avail bytes are read: a valid sequence cut short fails. */
	assert_int_equal(text_utf8_seq("\xe2\x82\xac", 2), 0);
	assert_int_equal(text_utf8_seq("\xe2\x82\xac", 3), 3);
}

static void
test_utf8_valid(void **state)
{
	(void)state;
	assert_true(text_utf8_valid(S(""), true));
	assert_true(text_utf8_valid(S("caf\xc3\xa9 \xe2\x82\xac"), true));
	assert_true(text_utf8_valid(S("tab\there"), false));
	assert_false(text_utf8_valid(S("tab\there"), true));
	assert_false(text_utf8_valid(S("nul\0byte"), true));
	assert_true(text_utf8_valid(S("nul\0byte"), false));
	assert_false(text_utf8_valid(S("del\x7f"), true));
	assert_false(text_utf8_valid(S("ok\xed\xa0\x80"), false));
	assert_false(text_utf8_valid(S("cut\xe2\x82"), false));
	assert_true(text_is_ctrl(0x1f));
	assert_false(text_is_ctrl(' '));
}

/* Bad bytes and NULs become '?', one each; the length stays. */
static void
test_sanitize(void **state)
{
	char s[] = "a\xff" "b\0c\xc0\xaf" "d\xe2\x82\xac\xe2\x82";
	const char want[] = "a?b?c??d\xe2\x82\xac??";

	(void)state;
	text_sanitize(s, sizeof(s) - 1);
	assert_memory_equal(s, want, sizeof(want) - 1);
	assert_true(text_utf8_valid(s, sizeof(s) - 1, false));
}

/* Bad bytes (and controls if asked) become U+FFFD; no character split. */
static void
test_copy(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(text_copy(buf, sizeof(buf), "a\xff\tb", false), 6);
	assert_string_equal(buf, "a\xef\xbf\xbd\tb");
	assert_int_equal(text_copy(buf, sizeof(buf), "a\xff\tb", true), 8 - 1);
	assert_string_equal(buf, "a\xef\xbf\xbd\xef\xbf\xbd");
	/* "€€€" is 9 bytes: the third does not fit whole and is dropped. */
	assert_int_equal(text_copy(buf, sizeof(buf),
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", false), 6);
	assert_string_equal(buf, "\xe2\x82\xac\xe2\x82\xac");
	assert_int_equal(text_copy(buf, 1, "abc", false), 0);
	assert_string_equal(buf, "");
	assert_int_equal(text_copy(buf, sizeof(buf), NULL, false), 0);
	assert_string_equal(buf, "");
}

static void
test_cut(void **state)
{
	(void)state;
	assert_int_equal(text_cut(S("abc")), 3);
	assert_int_equal(text_cut(S("ab\xe2\x82\xac")), 5);
	assert_int_equal(text_cut(S("ab\xe2\x82")), 2);
	assert_int_equal(text_cut(S("ab\xe2")), 2);
	assert_int_equal(text_cut(S("ab\xf0\x90\x80")), 2);
	assert_int_equal(text_cut(S("ab\xc3")), 2);
	assert_int_equal(text_cut(S("ab\xc3\xa9")), 4);
	assert_int_equal(text_cut("", 0), 0);
}

static void
test_name_valid(void **state)
{
	char name[TEXT_NAME_MAX + 1];

	(void)state;
	assert_true(text_name_valid(S("web")));
	assert_true(text_name_valid(S("A-z_0-9")));
	assert_true(text_name_valid(S("-")));
	assert_false(text_name_valid(S("")));
	assert_false(text_name_valid(S("a.b")));	/* no dot */
	assert_false(text_name_valid(S("a b")));
	assert_false(text_name_valid(S("a/b")));
	assert_false(text_name_valid(S("caf\xc3\xa9")));
	assert_false(text_name_valid("a\0b", 3));
	memset(name, 'n', sizeof(name));
	assert_true(text_name_valid(name, TEXT_NAME_MAX));
	assert_false(text_name_valid(name, TEXT_NAME_MAX + 1));
}

static void
test_label_rules(void **state)
{
	char key[TEXT_LABEL_KEY_MAX + 1], value[TEXT_LABEL_VALUE_MAX + 1];

	(void)state;
	assert_true(text_label_key_valid(S("role")));
	assert_true(text_label_key_valid(S("zone/x.y_z-1")));
	assert_false(text_label_key_valid(S("")));
	assert_false(text_label_key_valid(S("bad key!")));
	assert_false(text_label_key_valid(S("k=v")));
	assert_false(text_label_key_valid(S("caf\xc3\xa9")));
	memset(key, 'k', sizeof(key));
	assert_true(text_label_key_valid(key, TEXT_LABEL_KEY_MAX));
	assert_false(text_label_key_valid(key, TEXT_LABEL_KEY_MAX + 1));

	assert_true(text_label_value_valid(S("")));
	assert_true(text_label_value_valid(S("caf\xc3\xa9 =,")));
	assert_false(text_label_value_valid(S("line\nbreak")));
	assert_false(text_label_value_valid(S("\xff")));
	memset(value, 'v', sizeof(value));
	assert_true(text_label_value_valid(value, TEXT_LABEL_VALUE_MAX));
	assert_false(text_label_value_valid(value, TEXT_LABEL_VALUE_MAX + 1));
}

/* A variable's name: a letter or '_' first, then letters, digits, '_'. */
static void
test_env_name(void **state)
{
	static const char *const good[] = { "A", "_", "PATH", "my_var2",
	    "_9" };
	static const char *const bad[] = { "", "9A", "A=B", "A-B", "A.B",
	    "A B", "\xc3\xa9" };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(text_env_name_valid(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(text_env_name_valid(bad[i], strlen(bad[i])));
	/* The length given is what counts: a NUL inside is refused. */
	assert_false(text_env_name_valid("A\0B", 3));
	assert_true(text_env_name_valid("AB=", 2));
}

/* Items joined by '|': empty ones kept, none after a final comma. */
static void
test_list_next(void **state)
{
	static const struct {
		const char	*list, *want;
	} cases[] = {
		{ "", "" },
		{ "one", "one" },
		{ ",", "" },
		{ ",a", "|a" },
		{ "a,,bc, d,", "a||bc| d" },
		{ "k=v,x", "k=v|x" },
	};
	char got[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *cursor = cases[i].list, *item;
		size_t len, o = 0, n = 0;

		got[0] = '\0';
		while (text_list_next(&cursor, &item, &len)) {
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%.*s",
			    n++ > 0 ? "|" : "", (int)len, item);
		}
		assert_string_equal(got, cases[i].want);
		assert_int_equal(*cursor, '\0');
	}
	{
		const char *cursor = NULL, *item;
		size_t len;

		assert_int_equal(text_list_next(&cursor, &item, &len), 0);
	}
}

/* Keys and values split at the first '='; empty items skipped. */
static void
test_kv_next(void **state)
{
	const char *cursor = ",role=db,,url=a=b,empty=", *bad = "ok=1,=x";
	struct text_kv kv;

	(void)state;
	assert_int_equal(text_kv_next(&cursor, &kv), 1);
	assert_int_equal(kv.key_len, 4);
	assert_memory_equal(kv.key, "role", 4);
	assert_int_equal(kv.value_len, 2);
	assert_memory_equal(kv.value, "db", 2);
	assert_int_equal(text_kv_next(&cursor, &kv), 1);
	assert_memory_equal(kv.key, "url", 3);
	assert_int_equal(kv.value_len, 3);
	assert_memory_equal(kv.value, "a=b", 3);
	assert_int_equal(text_kv_next(&cursor, &kv), 1);
	assert_int_equal(kv.key_len, 5);
	assert_int_equal(kv.value_len, 0);
	assert_int_equal(text_kv_next(&cursor, &kv), 0);

	assert_int_equal(text_kv_next(&bad, &kv), 1);
	assert_int_equal(text_kv_next(&bad, &kv), -1);
	assert_int_equal(kv.item_len, 2);
	assert_memory_equal(kv.item, "=x", 2);
	bad = "novalue";
	assert_int_equal(text_kv_next(&bad, &kv), -1);
	assert_int_equal(kv.item_len, 7);
	bad = ",,";
	assert_int_equal(text_kv_next(&bad, &kv), 0);
}

/* FNV-1a 64's published vectors, and a hash continued over two calls. */
static void
test_fnv1a(void **state)
{
	(void)state;
	assert_true(text_fnv1a("", 0, TEXT_FNV1A_BASIS) ==
	    0xcbf29ce484222325ULL);
	assert_true(text_fnv1a("a", 1, TEXT_FNV1A_BASIS) ==
	    0xaf63dc4c8601ec8cULL);
	assert_true(text_fnv1a("foobar", 6, TEXT_FNV1A_BASIS) ==
	    0x85944171f73967e8ULL);
	assert_true(text_fnv1a("bar", 3, text_fnv1a("foo", 3,
	    TEXT_FNV1A_BASIS)) == 0x85944171f73967e8ULL);
}

static void
test_edit_distance(void **state)
{
	char big[300];

	(void)state;
	assert_int_equal(text_edit_distance("", ""), 0);
	assert_int_equal(text_edit_distance("node-1", "node-1"), 0);
	assert_int_equal(text_edit_distance("node-1", "node-2"), 1);	/* replace */
	assert_int_equal(text_edit_distance("nod-1", "node-1"), 1);	/* insert */
	assert_int_equal(text_edit_distance("node-12", "node-1"), 1);	/* delete */
	assert_int_equal(text_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(text_edit_distance("", "abc"), 3);
	assert_int_equal(text_edit_distance("abc", ""), 3);
	assert_int_equal(text_edit_distance("web", "db"), 2);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_true(text_edit_distance(big, "a") == SIZE_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_label_rules),
		cmocka_unit_test(test_env_name),
		cmocka_unit_test(test_list_next),
		cmocka_unit_test(test_kv_next),
		cmocka_unit_test(test_fnv1a),
		cmocka_unit_test(test_edit_distance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
