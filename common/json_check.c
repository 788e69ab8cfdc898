/*
 * Shared JSON field checks (see json_check.h).  Text is judged by the
 * rules in text.c, so a JSON field and a wire field cannot disagree on
 * what valid text is.
 */
#include "json_check.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

const char *
json_check_keys(const json_t *o, const char *const keys[], size_t n)
{
	const char *k;
	json_t *v;
	size_t i;

	/* jansson iterates only non-const objects; nothing is changed. */
	json_object_foreach((json_t *)o, k, v) {
		(void)v;
		for (i = 0; i < n; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == n)
			return k;
	}
	return NULL;
}

bool
json_check_int(const json_t *v, json_int_t lo, json_int_t hi, json_int_t *out)
{
	json_int_t x;

	if (!json_is_integer(v))
		return false;
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return false;
	if (out != NULL)
		*out = x;
	return true;
}

bool
json_check_text(const json_t *v, size_t min, size_t max, bool no_ctrl)
{
	const char *s = json_string_value(v);
	size_t len;

	if (s == NULL)
		return false;
	len = json_string_length(v);
	return len >= min && len <= max && memchr(s, '\0', len) == NULL &&
	    text_utf8_valid(s, len, no_ctrl);
}

int
json_check_name(const char *s, const char *const *name, size_t n,
    size_t stride)
{
	const char *p = (const char *)name;

	for (size_t i = 0; s != NULL && i < n; i++, p += stride)
		if (strcmp(*(const char *const *)p, s) == 0)
			return (int)i;
	return -1;
}

int
json_check_enum(const json_t *v, const char *const *name, size_t n,
    size_t stride)
{
	return json_check_name(json_string_value(v), name, n, stride);
}

const char *
json_text_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

uint64_t
json_u64_of(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

const char *
json_check_load_error(const json_error_t *e, char *buf, size_t len)
{
	const char *near = strstr(e->text, " near '");
	int why = near != NULL ? (int)(near - e->text) : (int)strlen(e->text);

	snprintf(buf, len, "line %d, column %d: %.*s", e->line, e->column, why,
	    e->text);
	return buf;
}
