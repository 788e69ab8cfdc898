/*
 * fuzz_text: any bytes through the shared text rules (common/text.h).
 *
 * Invariants: text_utf8_valid agrees with jansson's own UTF-8 check (an
 * independent decoder); text_sanitize keeps the length and leaves valid
 * UTF-8 without NUL, unchanged when the input was already that;
 * text_copy's output is valid (without controls when asked), fits, and is
 * the input itself when that was valid and fits; text_cut of valid text
 * cuts nothing and never cuts more than 3 bytes; a label key is valid text;
 * the KEY=VALUE and comma walkers stay inside the input and end.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

static bool
has_nul(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static void
check_utf8(const char *s, size_t len)
{
	bool valid = text_utf8_valid(s, len, false);
	json_t *j = json_stringn(s, len);	/* NULL: not UTF-8 */
	char *copy;

	CHECK(valid == (j != NULL));
	json_decref(j);
	if (text_utf8_valid(s, len, true))
		CHECK(valid && !has_nul(s, len));

	copy = malloc(len + 1);
	CHECK(copy != NULL);
	memcpy(copy, s, len);
	text_sanitize(copy, len);
	CHECK(text_utf8_valid(copy, len, false) && !has_nul(copy, len));
	if (valid && !has_nul(s, len))
		CHECK(memcmp(copy, s, len) == 0);
	free(copy);

	CHECK(text_cut(s, len) <= len && text_cut(s, len) + 3 >= len);
	if (valid)
		CHECK(text_cut(s, len) == len);
	if (text_label_key_valid(s, len))
		CHECK(text_utf8_valid(s, len, true));
	if (text_label_value_valid(s, len))
		CHECK(len <= TEXT_LABEL_VALUE_MAX && text_utf8_valid(s, len, true));
}

/* The input as a C string (cut at its first NUL) through text_copy. */
static void
check_copy(const char *str, size_t cap)
{
	size_t len = strlen(str), n;
	char *dst = malloc(cap);

	CHECK(dst != NULL);
	for (int no_ctrl = 0; no_ctrl <= 1; no_ctrl++) {
		n = text_copy(dst, cap, str, no_ctrl);
		CHECK(n < cap && dst[n] == '\0' && strlen(dst) == n);
		CHECK(text_utf8_valid(dst, n, no_ctrl));
		if (len < cap && text_utf8_valid(str, len, no_ctrl))
			CHECK(n == len && memcmp(dst, str, len) == 0);
	}
	free(dst);
}

static void
check_lists(const char *str)
{
	const char *end = str + strlen(str), *cursor = str, *item;
	struct text_kv kv;
	size_t len;
	int rc;

	while (text_list_next(&cursor, &item, &len)) {
		CHECK(item >= str && item + len <= end);
		CHECK(memchr(item, ',', len) == NULL);
	}
	cursor = str;
	while ((rc = text_kv_next(&cursor, &kv)) != 0) {
		CHECK(kv.item >= str && kv.item + kv.item_len <= end);
		CHECK(kv.item_len > 0);
		if (rc < 0)
			continue;
		CHECK(kv.key == kv.item && kv.key_len >= 1);
		CHECK(kv.key[kv.key_len] == '=');
		CHECK(memchr(kv.key, '=', kv.key_len) == NULL);
		CHECK(kv.value == kv.key + kv.key_len + 1);
		CHECK(kv.key_len + 1 + kv.value_len == kv.item_len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *str;

	check_utf8(s, size);
	str = malloc(size + 1);
	if (str == NULL)
		return 0;
	memcpy(str, s, size);
	str[size] = '\0';
	/* The first byte picks the buffer size: cutting is exercised too. */
	check_copy(str, size > 0 ? (size_t)data[0] % 64 + 1 : 1);
	check_lists(str);
	free(str);
	return 0;
}
