/* Bytes as base64 JSON strings (see json_bytes.h), by mbedTLS's codec. */
#include "json_bytes.h"

#include <mbedtls/base64.h>
#include <stdlib.h>

#include "xalloc.h"

json_t *
json_b64_new(const void *p, size_t len)
{
	size_t need = 4 * ((len + 2) / 3) + 1, n = 0;
	char *text = xmalloc(need);
	json_t *j;

	if (mbedtls_base64_encode((unsigned char *)text, need, &n, p, len) != 0)
		n = 0;
	text[n] = '\0';
	j = json_stringn(text, n);
	free(text);
	return j;
}

int
json_b64_get(const json_t *j, size_t max, unsigned char **out, size_t *len)
{
	const unsigned char *s = (const unsigned char *)json_string_value(j);
	size_t slen = json_string_length(j), n = 0;
	unsigned char *buf;

	*out = NULL;
	*len = 0;
	if (s == NULL)
		return -1;
	/* The first call checks the text and sizes it; the second decodes. */
	if (mbedtls_base64_decode(NULL, 0, &n, s, slen) ==
	    MBEDTLS_ERR_BASE64_INVALID_CHARACTER || n > max)
		return -1;
	buf = xmalloc(n + 1);
	if (mbedtls_base64_decode(buf, n + 1, &n, s, slen) != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}
