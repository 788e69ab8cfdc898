/*
 * Who a request to the local API is (see principal.h), from its token.
 *
 * Static tokens: three roles, read < write < admin, each with a current
 * and a "next" token so a token can be rotated without a gap.  They come
 * from flags/environment; when none is given they are read from
 * <data dir>/tokens.json ({"read", "read-next", "write", "write-next",
 * "admin", "admin-next"}), which is generated (mode 0600, 32 random bytes
 * each for read and write) on first start.  A tokens.json without an
 * admin token is a bootstrap install: its write tokens are admin, so an
 * existing install is never locked out of freeze, forget and tokens.  The
 * file is read again on api_auth_reload (SIGHUP) and, at most once a
 * second, when a request finds its mtime, size or inode changed; a file
 * that no longer parses keeps the tokens read before (and is logged).
 * Static principals are named "token:<slot>" ("token:write").
 *
 * Signed tokens ("af1.…", tokens.h) name their principal and role.
 * Writes are rate limited per token.
 */
#ifndef AGENTFLOW_API_AUTH_H
#define AGENTFLOW_API_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "principal.h"

struct api_auth;
struct rng;
struct tokens;
struct tokens_config;

#define API_AUTH_FILE	"tokens.json"

struct api_auth_config {
	const char	*data_dir;
	const char	*read, *read_next;	/* NULL or "": not given */
	const char	*write, *write_next;
	const char	*admin, *admin_next;
	double		 write_rate;		/* writes per second per token */
	/* Signed tokens (borrowed for the call); NULL: none are accepted. */
	const struct tokens_config *signed_tokens;
};

/* NULL with err set when tokens.json is unreadable or malformed, or a
 * given token is too short (at least 16 characters). */
struct api_auth *api_auth_new(const struct api_auth_config *, struct rng *,
    char *err, size_t errlen);
void api_auth_free(struct api_auth *);

/*
 * Who token is: its role (PRINCIPAL_NONE when refused, with why saying
 * why, for the 401) and the principal into *p.  Static tokens compare in
 * the same time whatever the token's content.  May re-read tokens.json
 * (see above).
 */
enum principal_role api_auth_check(struct api_auth *, const char *token,
    struct principal *p, char *why, size_t whylen);
/* Reads tokens.json again now (no-op when the tokens were given as
 * flags): 0, or -1 with err when it does not parse (the old tokens stay). */
int api_auth_reload(struct api_auth *, char *err, size_t errlen);
/* 1 if the principal may write now, 0 when over its rate; *retry_after_s
 * then says when to try again. */
int api_auth_write_allowed(struct api_auth *, const struct principal *,
    uint64_t now_ms, unsigned *retry_after_s);
/* The current static token of role (NULL: none), valid until the next
 * check or reload. */
const char *api_auth_token(const struct api_auth *, enum principal_role);
/* The signed tokens' registry, or NULL when not configured. */
struct tokens *api_auth_tokens(struct api_auth *);

#endif
