/*
 * API tokens (see api_auth.h).  The static tokens are one set (struct
 * token_set) replaced as a whole on a reload, so a request sees either the
 * old file's tokens or the new file's, never a mix.
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

#include "clock.h"
#include "file.h"
#include "json_check.h"
#include "log.h"
#include "ratelimit.h"
#include "rng.h"
#include "tokens.h"
#include "xalloc.h"

#define TOKEN_MIN	16
#define TOKEN_MAX	256
#define TOKENS_FILE_MAX	4096
#define RECHECK_MS	1000	/* tokens.json's mtime, at most this often */

enum { T_READ, T_READ_NEXT, T_WRITE, T_WRITE_NEXT, T_ADMIN, T_ADMIN_NEXT,
    T_COUNT };

static const struct {
	const char		*name;	/* tokens.json's key */
	const char		*principal;
	enum principal_role	 role;
} slots[T_COUNT] = {
	[T_READ] = { "read", "token:read", PRINCIPAL_READ },
	[T_READ_NEXT] = { "read-next", "token:read-next", PRINCIPAL_READ },
	[T_WRITE] = { "write", "token:write", PRINCIPAL_WRITE },
	[T_WRITE_NEXT] = { "write-next", "token:write-next", PRINCIPAL_WRITE },
	[T_ADMIN] = { "admin", "token:admin", PRINCIPAL_ADMIN },
	[T_ADMIN_NEXT] = { "admin-next", "token:admin-next", PRINCIPAL_ADMIN },
};

struct token_set {
	char	*tokens[T_COUNT];	/* NULL: unset */
};

struct api_auth {
	struct token_set	 set;
	char			*path;		/* tokens.json; NULL: flags */
	struct stat		 seen;		/* of path when last read */
	uint64_t		 checked_ms;	/* last stat of path (mono) */
	struct tokens		*tokens;	/* signed; may be NULL */
	struct ratelimit	*writes;
};

static int
given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void
set_clear(struct token_set *s)
{
	for (int i = 0; i < T_COUNT; i++) {
		free(s->tokens[i]);
		s->tokens[i] = NULL;
	}
}

static int
set_token(struct token_set *s, int slot, const char *v, char *err,
    size_t errlen)
{
	size_t n = strlen(v);

	if (n < TOKEN_MIN || n > TOKEN_MAX || strspn(v,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "-._~+/=") != n) {
		snprintf(err, errlen, "the %s token must be %d-%d characters of "
		    "[A-Za-z0-9-._~+/=]", slots[slot].name, TOKEN_MIN, TOKEN_MAX);
		return -1;
	}
	free(s->tokens[slot]);
	s->tokens[slot] = xstrdup(v);
	return 0;
}

/* Writes a fresh tokens.json (O_EXCL: never over an existing one). */
static int
generate(struct token_set *s, const char *path, struct rng *rng, char *err,
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
	s->tokens[T_READ] = xstrdup(r);
	s->tokens[T_WRITE] = xstrdup(w);
	rc = 0;
out:
	free(text);
	return rc;
}

static int
load(struct token_set *s, const char *path, char *err, size_t errlen)
{
	char ferr[256], why[160], where[JSON_ERROR_TEXT_LENGTH + 64], *text;
	json_error_t jerr;
	size_t len;
	json_t *j, *v;
	const char *key;
	int any = 0;

	if ((text = file_read(path, TOKENS_FILE_MAX, &len, NULL, ferr,
	    sizeof(ferr))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, ferr);
		return -1;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: not a JSON object of tokens (%s)", path,
		    j == NULL ? json_check_load_error(&jerr, where,
		    sizeof(where)) : "wrong type");
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
			    "read-next, write, write-next, admin, admin-next with "
			    "a string value", path, key);
			json_decref(j);
			return -1;
		}
		if (set_token(s, slot, json_string_value(v), why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			json_decref(j);
			return -1;
		}
		any = 1;
	}
	json_decref(j);
	if (!any) {
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
	    cfg->write, cfg->write_next, cfg->admin, cfg->admin_next };
	char path[4096];
	int any = 0;

	for (int i = 0; i < T_COUNT; i++) {
		if (!given(given_tokens[i]))
			continue;
		any = 1;
		if (set_token(&a->set, i, given_tokens[i], err, errlen) != 0)
			goto fail;
	}
	if (!any) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, API_AUTH_FILE);
		a->path = xstrdup(path);
		if (lstat(path, &a->seen) == 0 ? load(&a->set, path, err,
		    errlen) != 0 : generate(&a->set, path, rng, err, errlen) != 0)
			goto fail;
		stat(path, &a->seen);
		a->checked_ms = clock_mono_ms();
	}
	if (cfg->signed_tokens != NULL &&
	    (a->tokens = tokens_new(cfg->signed_tokens, err, errlen)) == NULL)
		goto fail;
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
	set_clear(&a->set);
	free(a->path);
	tokens_free(a->tokens);
	ratelimit_free(a->writes);
	free(a);
}

int
api_auth_reload(struct api_auth *a, char *err, size_t errlen)
{
	struct token_set fresh = { { NULL } };
	struct stat sb;

	if (a->path == NULL)
		return 0;
	if (stat(a->path, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		memset(&sb, 0, sizeof(sb));
	}
	if (sb.st_ino == 0 || load(&fresh, a->path, err, errlen) != 0) {
		set_clear(&fresh);
		a->seen = sb;	/* not again until it changes */
		log_event(LOG_WARN, "cannot reload the API tokens; keeping the "
		    "ones read before", "{s:s}", "error", err);
		return -1;
	}
	set_clear(&a->set);
	a->set = fresh;
	a->seen = sb;
	log_event(LOG_INFO, "API tokens reloaded", "{s:s}", "path", a->path);
	return 0;
}

/* Reloads tokens.json when it changed, looking at most once a second. */
static void
maybe_reload(struct api_auth *a)
{
	uint64_t now = clock_mono_ms();
	struct stat sb;
	char err[512] = "";

	if (a->path == NULL || now - a->checked_ms < RECHECK_MS)
		return;
	a->checked_ms = now;
	if (stat(a->path, &sb) != 0)
		memset(&sb, 0, sizeof(sb));
	if (sb.st_ino == a->seen.st_ino && sb.st_size == a->seen.st_size &&
	    sb.st_mtim.tv_sec == a->seen.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == a->seen.st_mtim.tv_nsec)
		return;
	api_auth_reload(a, err, sizeof(err));
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

/* A bootstrap install (no admin token): its write tokens are admin. */
static enum principal_role
slot_role(const struct api_auth *a, int slot)
{
	if (slots[slot].role == PRINCIPAL_WRITE &&
	    a->set.tokens[T_ADMIN] == NULL && a->set.tokens[T_ADMIN_NEXT] == NULL)
		return PRINCIPAL_ADMIN;
	return slots[slot].role;
}

enum principal_role
api_auth_check(struct api_auth *a, const char *token, struct principal *p,
    char *why, size_t whylen)
{
	memset(p, 0, sizeof(*p));
	snprintf(why, whylen, "a valid API token is required (Authorization: "
	    "Bearer TOKEN)");
	if (token == NULL)
		return PRINCIPAL_NONE;
	if (token_is_signed(token)) {
		if (a->tokens == NULL) {
			snprintf(why, whylen, "signed tokens are not accepted here");
			return PRINCIPAL_NONE;
		}
		if (tokens_check(a->tokens, token, (int64_t)clock_wall_ms(), p, why,
		    whylen) != 0)
			return PRINCIPAL_NONE;
		return p->role;
	}
	if (strlen(token) > TOKEN_MAX)
		return PRINCIPAL_NONE;
	maybe_reload(a);
	for (int i = 0; i < T_COUNT; i++) {
		if (a->set.tokens[i] != NULL && same(token, a->set.tokens[i]) &&
		    p->role == PRINCIPAL_NONE) {
			p->role = slot_role(a, i);
			snprintf(p->name, sizeof(p->name), "%s", slots[i].principal);
		}
	}
	return p->role;
}

int
api_auth_write_allowed(struct api_auth *a, const struct principal *p,
    uint64_t now_ms, unsigned *retry_after_s)
{
	return ratelimit_take(a->writes, p->token_id[0] != '\0' ? p->token_id :
	    p->name, now_ms, retry_after_s);
}

const char *
api_auth_token(const struct api_auth *a, enum principal_role role)
{
	static const int pick[][2] = {
		[PRINCIPAL_READ] = { T_READ, T_READ_NEXT },
		[PRINCIPAL_WRITE] = { T_WRITE, T_WRITE_NEXT },
		[PRINCIPAL_ADMIN] = { T_ADMIN, T_ADMIN_NEXT },
	};

	if (role == PRINCIPAL_NONE || (size_t)role >= sizeof(pick) / sizeof(pick[0]))
		return NULL;
	return a->set.tokens[pick[role][0]] ? a->set.tokens[pick[role][0]] :
	    a->set.tokens[pick[role][1]];
}

struct tokens *
api_auth_tokens(struct api_auth *a)
{
	return a->tokens;
}
