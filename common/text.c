/*
 * The shared text rules (see text.h).  Everything that reads UTF-8 goes
 * through text_utf8_seq, the one decoder: validity, sanitising and
 * copying cannot disagree on what a character is.
 */
#include "text.h"

#include <stdint.h>
#include <string.h>

#include "check.h"

size_t
text_utf8_seq(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char c = u[0];
	uint32_t cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (avail < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((u[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
text_is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool
text_utf8_valid(const char *s, size_t len, bool no_ctrl)
{
	for (size_t i = 0; i < len;) {
		size_t n = text_utf8_seq(s + i, len - i);

		if (n == 0 || (no_ctrl && n == 1 &&
		    text_is_ctrl((unsigned char)s[i])))
			return false;
		i += n;
	}
	return true;
}

void
text_sanitize(char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = text_utf8_seq(s + i, len - i);

		/* The stray continuation bytes after a bad lead byte fail
		 * on their own in the next rounds. */
		if (n == 0 || s[i] == '\0') {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

size_t
text_copy(char *dst, size_t cap, const char *src, bool no_ctrl)
{
	static const char repl[] = "\xef\xbf\xbd";
	const char *s = src != NULL ? src : "";
	size_t len = strlen(s), i = 0, o = 0;

	CHECK(cap >= 1);
	while (i < len) {
		size_t n = text_utf8_seq(s + i, len - i);
		const char *from = s + i;
		size_t out = n;

		if (n == 0 || (no_ctrl && n == 1 &&
		    text_is_ctrl((unsigned char)s[i]))) {
			from = repl;
			out = sizeof(repl) - 1;
			n = 1;
		}
		if (o + out > cap - 1)
			break;
		memcpy(dst + o, from, out);
		o += out;
		i += n;
	}
	dst[o] = '\0';
	return o;
}

size_t
text_cut(const char *s, size_t len)
{
	size_t k, need;

	for (k = 1; k <= 3 && k <= len; k++) {
		unsigned char c = (unsigned char)s[len - k];

		if ((c & 0xc0) == 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 2;
		else if (c >= 0xe0 && c <= 0xef)
			need = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 4;
		else
			need = 1;
		return need > k ? len - k : len;
	}
	return len;
}

bool
text_env_name_valid(const char *k, size_t len)
{
	if (len < 1 || (k[0] >= '0' && k[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
			return false;
	return true;
}

bool
text_label_key_valid(const char *k, size_t len)
{
	if (len < 1 || len > TEXT_LABEL_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '/' || c == '-'))
			return false;
	}
	return true;
}

bool
text_name_valid(const char *s, size_t len)
{
	if (len < 1 || len > TEXT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool
text_label_value_valid(const char *v, size_t len)
{
	return len <= TEXT_LABEL_VALUE_MAX && text_utf8_valid(v, len, true);
}

int
text_list_next(const char **cursor, const char **item, size_t *len)
{
	const char *p = *cursor;

	if (p == NULL || *p == '\0')
		return 0;
	*item = p;
	*len = strcspn(p, ",");
	p += *len;
	*cursor = *p == ',' ? p + 1 : p;
	return 1;
}

int
text_kv_next(const char **cursor, struct text_kv *kv)
{
	const char *item, *eq;
	size_t len;

	do {
		if (!text_list_next(cursor, &item, &len))
			return 0;
	} while (len == 0);
	memset(kv, 0, sizeof(*kv));
	kv->item = item;
	kv->item_len = len;
	if ((eq = memchr(item, '=', len)) == NULL || eq == item)
		return -1;
	kv->key = item;
	kv->key_len = (size_t)(eq - item);
	kv->value = eq + 1;
	kv->value_len = len - kv->key_len - 1;
	return 1;
}

size_t
text_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[256], diag, up;

	if (la > 255 || lb > 255)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

uint64_t
text_fnv1a(const void *p, size_t len, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

bool
text_artifact_valid(const char *s)
{
	if (s == NULL || strncmp(s, TEXT_ARTIFACT_PREFIX, 7) != 0 ||
	    strlen(s) != TEXT_ARTIFACT_LEN)
		return false;
	for (s += 7; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}
