/*
 * The audit log's hash chain (see audit_chain.h).  Every check names the
 * first thing wrong with a line and stops there: after a broken link the
 * rest of the file proves nothing about what came before.
 */
#include "audit_chain.h"

#include <errno.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CANONICAL	(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define TAIL_FIRST	65536
#define TAIL_MAX	(8u << 20)	/* a last line longer than this is refused */

static void
hex(const unsigned char h[32], char out[AUDIT_CHAIN_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

void
audit_chain_sha256_hex(const void *data, size_t len, char out[AUDIT_CHAIN_HEX])
{
	unsigned char h[32];

	mbedtls_sha256_ret(data, len, h, 0);
	hex(h, out);
}

/* SHA-256 of prev and rec's canonical text without "hash"; -1 when rec
 * cannot be encoded.  rec must not hold "hash". */
static int
record_hash(const json_t *rec, const char *prev, char out[AUDIT_CHAIN_HEX])
{
	mbedtls_sha256_context ctx;
	unsigned char h[32];
	char *text = json_dumps(rec, CANONICAL);

	if (text == NULL)
		return -1;
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts_ret(&ctx, 0);
	mbedtls_sha256_update_ret(&ctx, (const unsigned char *)prev, strlen(prev));
	mbedtls_sha256_update_ret(&ctx, (const unsigned char *)text, strlen(text));
	mbedtls_sha256_finish_ret(&ctx, h);
	mbedtls_sha256_free(&ctx);
	free(text);
	hex(h, out);
	return 0;
}

char *
audit_chain_seal(json_t *rec, const char *prev, char hash[AUDIT_CHAIN_HEX])
{
	json_object_del(rec, "hash");
	json_object_set_new(rec, "prev", json_string(prev));
	if (record_hash(rec, prev, hash) != 0)
		return NULL;
	json_object_set_new(rec, "hash", json_string(hash));
	return json_dumps(rec, CANONICAL);
}

static int
is_hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

int
audit_chain_check_line(const char *line, size_t len, char prev[AUDIT_CHAIN_HEX],
    char hash[AUDIT_CHAIN_HEX], char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *p, *h;
	char want[AUDIT_CHAIN_HEX];
	int rc = -1;

	if (rec == NULL || !json_is_object(rec)) {
		snprintf(why, whylen, "not a JSON record (%s)", rec == NULL ?
		    jerr.text : "not an object");
		goto out;
	}
	p = json_string_value(json_object_get(rec, "prev"));
	h = json_string_value(json_object_get(rec, "hash"));
	if (!is_hex64(p) || !is_hex64(h)) {
		snprintf(why, whylen, "no \"prev\" and \"hash\" of 64 hex digits: "
		    "not a chained record");
		goto out;
	}
	snprintf(prev, AUDIT_CHAIN_HEX, "%s", p);
	snprintf(hash, AUDIT_CHAIN_HEX, "%s", h);
	json_object_del(rec, "hash");
	if (record_hash(rec, prev, want) != 0) {
		snprintf(why, whylen, "cannot encode the record");
		goto out;
	}
	if (strcmp(want, hash) != 0) {
		snprintf(why, whylen, "hash mismatch: the record was edited");
		goto out;
	}
	rc = 0;
out:
	json_decref(rec);
	return rc;
}

int
audit_chain_verify_file(const char *path, struct audit_chain_report *r)
{
	return audit_chain_verify_file_from(path, AUDIT_CHAIN_GENESIS, r);
}

int
audit_chain_verify_file_from(const char *path, const char *start,
    struct audit_chain_report *r)
{
	FILE *f;
	char *line = NULL, prev[AUDIT_CHAIN_HEX], hash[AUDIT_CHAIN_HEX];
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->head, sizeof(r->head), "%s", start);
	snprintf(r->head_prev, sizeof(r->head_prev), "%s", start);
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(r->why, sizeof(r->why), "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[n - 1] != '\n') {
			snprintf(r->why, sizeof(r->why), "incomplete: the file ends "
			    "inside this line (truncated)");
			break;
		}
		if (audit_chain_check_line(line, (size_t)n - 1, prev, hash, r->why,
		    sizeof(r->why)) != 0)
			break;
		if (strcmp(prev, r->head) != 0) {
			snprintf(r->why, sizeof(r->why), "prev mismatch: %s",
			    lineno == 1 ? "the file does not start where the "
			    "chain before it ended (lines before it were removed)" :
			    "the line "
			    "before it is not the record it follows (a record was "
			    "deleted, inserted or moved)");
			break;
		}
		snprintf(r->head_prev, sizeof(r->head_prev), "%s", r->head);
		snprintf(r->head, sizeof(r->head), "%s", hash);
		r->records++;
		r->why[0] = '\0';
	}
	if (ferror(f)) {
		snprintf(r->why, sizeof(r->why), "%s: %s", path, strerror(errno));
		free(line);
		fclose(f);
		return -1;
	}
	if (r->why[0] != '\0')
		r->bad_line = lineno;
	free(line);
	fclose(f);
	return 0;
}

json_t *
audit_chain_report_json(const char *file, const struct audit_chain_report *r,
    int rc)
{
	if (rc != 0)
		return json_pack("{s:b, s:s, s:s}", "ok", 0, "file", file, "error",
		    r->why);
	if (r->bad_line != 0)
		return json_pack("{s:b, s:I, s:s, s:I, s:s}", "ok", 0, "records",
		    (json_int_t)r->records, "file", file, "line",
		    (json_int_t)r->bad_line, "error", r->why);
	return json_pack("{s:b, s:I, s:s}", "ok", 1, "records",
	    (json_int_t)r->records, "file", file);
}

int
audit_chain_last(int fd, char prev[AUDIT_CHAIN_HEX], char hash[AUDIT_CHAIN_HEX],
    char *why, size_t whylen)
{
	struct stat st;
	size_t want = TAIL_FIRST, got, start;
	char *buf = NULL;
	off_t size;
	int rc = -1;

	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if ((size = st.st_size) == 0)
		return 0;
	for (;;) {
		got = (size_t)size < want ? (size_t)size : want;
		free(buf);
		if ((buf = malloc(got + 1)) == NULL ||
		    pread(fd, buf, got, size - (off_t)got) != (ssize_t)got) {
			snprintf(why, whylen, "cannot read its end: %s",
			    strerror(errno));
			goto out;
		}
		if (buf[got - 1] != '\n') {
			snprintf(why, whylen, "its last line is incomplete "
			    "(truncated)");
			goto out;
		}
		start = got - 1;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (start > 0 || got == (size_t)size)
			break;
		if (want >= TAIL_MAX) {
			snprintf(why, whylen, "its last line is longer than %u "
			    "bytes", TAIL_MAX);
			goto out;
		}
		want *= 2;
	}
	if (audit_chain_check_line(buf + start, got - 1 - start, prev, hash, why,
	    whylen) == 0)
		rc = 1;
out:
	free(buf);
	return rc;
}

int
audit_chain_first_prev(const char *path, char prev[AUDIT_CHAIN_HEX],
    char *why, size_t whylen)
{
	char hash[AUDIT_CHAIN_HEX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : (snprintf(why, whylen, "%s: %s", path,
		    strerror(errno)), -1);
	if ((n = getline(&line, &cap, f)) <= 0)
		rc = 0;
	else if (line[n - 1] != '\n') {
		snprintf(why, whylen, "%s: its first line is incomplete", path);
		rc = -1;
	} else
		rc = audit_chain_check_line(line, (size_t)n - 1, prev, hash, why,
		    whylen) == 0 ? 1 : -1;
	free(line);
	fclose(f);
	return rc;
}
