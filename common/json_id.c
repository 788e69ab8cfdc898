/* 64-bit ids as JSON numbers or decimal strings (see json_id.h). */
#include "json_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

json_t *
json_id_new(uint64_t v)
{
	char text[24];

	if (v <= JSON_ID_SAFE_MAX)
		return json_integer((json_int_t)v);
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return json_string(text);
}

int
json_id_get(const json_t *j, uint64_t *out)
{
	const char *s;
	size_t len;
	uint64_t v = 0;

	if (json_is_integer(j)) {
		if (json_integer_value(j) < 0)
			return -1;
		*out = (uint64_t)json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	len = json_string_length(j);
	/* strtoull would take a sign, spaces and wrap silently: by hand. */
	if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
