/*
 * API tokens (see api_auth.h).
 */
#include "api_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "ratelimit.h"
#include "rng.h"
#include "xalloc.h"

#define TOKEN_MIN	16
#define TOKEN_MAX	256
#define TOKENS_FILE_MAX	4096

enum { T_READ, T_READ_NEXT, T_WRITE, T_WRITE_NEXT, T_COUNT };

static const struct {
	const char	*name;
	enum api_role	 role;
} slots[T_COUNT] = {
	[T_READ] = { "read", API_ROLE_READ },
	[T_READ_NEXT] = { "read-next", API_ROLE_READ },
	[T_WRITE] = { "write", API_ROLE_WRITE },
	[T_WRITE_NEXT] = { "write-next", API_ROLE_WRITE },
};

struct api_auth {
	char			*tokens[T_COUNT];	/* NULL: unset */
	struct ratelimit	*writes;
};

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
set_token(struct api_auth *a, int slot, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n < TOKEN_MIN || n > TOKEN_MAX || strspn(v,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "-._~+/=") != n) {
		snprintf(err, errlen, "the %s token must be %d-%d characters of "
		    "[A-Za-z0-9-._~+/=]", slots[slot].name, TOKEN_MIN, TOKEN_MAX);
		return -1;
	}
	a->tokens[slot] = xstrdup(v);
	return 0;
}

/* Writes a fresh tokens.json (O_EXCL: never over an existing one). */
static int
generate(struct api_auth *a, const char *path, struct rng *rng, char *err,
    size_t errlen)
{
	char r[65], w[65], *text;
	json_t *j;
	int fd, rc = -1;
	size_t len;

	if (rng_hex(rng, r, 32) != 0 || rng_hex(rng, w, 32) != 0) {
		snprintf(err, errlen, "cannot generate API tokens: no randomness");
		return -1;
	}
	j = json_pack("{s:s, s:s}", "read", r, "write", w);
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		goto out;
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	a->tokens[T_READ] = xstrdup(r);
	a->tokens[T_WRITE] = xstrdup(w);
	rc = 0;
out:
	free(text);
	return rc;
}

static int
load(struct api_auth *a, const char *path, char *err, size_t errlen)
{
	char ferr[256], why[160], *text;
	json_error_t jerr;
	size_t len;
	json_t *j, *v;
	const char *key;

	if ((text = file_read(path, TOKENS_FILE_MAX, &len, NULL, ferr,
	    sizeof(ferr))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ferr);
		return -1;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: not a JSON object of tokens (%s)", path,
		    j == NULL ? jerr.text : "wrong type");
		json_decref(j);
		return -1;
	}
	json_object_foreach(j, key, v) {
		int slot = -1;
		for (int i = 0; i < T_COUNT; i++)
			if (strcmp(slots[i].name, key) == 0)
				slot = i;
		if (slot < 0 || !json_is_string(v)) {
			snprintf(err, errlen, "%s: \"%s\" is not one of read, "
			    "read-next, write, write-next with a string value",
			    path, key);
			json_decref(j);
			return -1;
		}
		if (set_token(a, slot, json_string_value(v), why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	if (a->tokens[T_WRITE] == NULL && a->tokens[T_WRITE_NEXT] == NULL &&
	    a->tokens[T_READ] == NULL && a->tokens[T_READ_NEXT] == NULL) {
		snprintf(err, errlen, "%s: holds no token", path);
		return -1;
	}
	return 0;
}

struct api_auth *
api_auth_new(const struct api_auth_config *cfg, struct rng *rng, char *err,
    size_t errlen)
{
	struct api_auth *a = xcalloc(1, sizeof(*a));
	const char *given_tokens[T_COUNT] = { cfg->read, cfg->read_next,
	    cfg->write, cfg->write_next };
	char path[4096];
	struct stat sb;
	int any = 0;

	for (int i = 0; i < T_COUNT; i++) {
		if (!given(given_tokens[i]))
			continue;
		any = 1;
		if (set_token(a, i, given_tokens[i], err, errlen) != 0)
			goto fail;
	}
	if (!any) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, API_AUTH_FILE);
		if (lstat(path, &sb) == 0 ? load(a, path, err, errlen) != 0 :
		    generate(a, path, rng, err, errlen) != 0)
			goto fail;
	}
	a->writes = ratelimit_new(cfg->write_rate, cfg->write_rate * 2 + 1, 64);
	return a;
fail:
	api_auth_free(a);
	return NULL;
}

void
api_auth_free(struct api_auth *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < T_COUNT; i++)
		free(a->tokens[i]);
	ratelimit_free(a->writes);
	free(a);
}

/* Compares without an early exit, so timing does not reveal a prefix. */
static int
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
	return d == 0;
}

enum api_role
api_auth_check(const struct api_auth *a, const char *token, const char **name)
{
	enum api_role role = API_ROLE_NONE;

	*name = NULL;
	if (token == NULL || strlen(token) > TOKEN_MAX)
		return API_ROLE_NONE;
	for (int i = 0; i < T_COUNT; i++) {
		if (a->tokens[i] != NULL && same(token, a->tokens[i]) &&
		    role == API_ROLE_NONE) {
			role = slots[i].role;
			*name = slots[i].name;
		}
	}
	return role;
}

int
api_auth_write_allowed(struct api_auth *a, const char *name, uint64_t now_ms,
    unsigned *retry_after_s)
{
	return ratelimit_take(a->writes, name, now_ms, retry_after_s);
}

const char *
api_auth_token(const struct api_auth *a, enum api_role role)
{
	if (role == API_ROLE_WRITE)
		return a->tokens[T_WRITE] ? a->tokens[T_WRITE] : a->tokens[T_WRITE_NEXT];
	if (role == API_ROLE_READ)
		return a->tokens[T_READ] ? a->tokens[T_READ] : a->tokens[T_READ_NEXT];
	return NULL;
}
