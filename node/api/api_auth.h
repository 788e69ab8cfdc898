/*
 * Tokens of the local API.  Two roles, each with a current and a "next"
 * token so a token can be rotated without a gap: "read" may call every
 * GET, "write" may also POST.  Tokens come from flags/environment; when
 * none is given they are read from <data dir>/tokens.json, which is
 * generated (mode 0600, 32 random bytes each) on first start.  Writes are
 * rate limited per token.
 */
#ifndef AGENTFLOW_API_AUTH_H
#define AGENTFLOW_API_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct api_auth;
struct rng;

#define API_AUTH_FILE	"tokens.json"

enum api_role {
	API_ROLE_NONE = 0,	/* no or an unknown token */
	API_ROLE_READ,
	API_ROLE_WRITE,
};

struct api_auth_config {
	const char	*data_dir;
	const char	*read, *read_next;	/* NULL or "": not given */
	const char	*write, *write_next;
	double		 write_rate;		/* writes per second per token */
};

/* NULL with err set when tokens.json is unreadable or malformed, or a
 * given token is too short (at least 16 characters). */
struct api_auth *api_auth_new(const struct api_auth_config *, struct rng *,
    char *err, size_t errlen);
void api_auth_free(struct api_auth *);

/*
 * The role of token (NULL: none), and its name ("read", "read-next",
 * "write", "write-next") into *name, valid as long as the api_auth.
 * Comparison takes the same time whatever the token's content.
 */
enum api_role api_auth_check(const struct api_auth *, const char *token,
    const char **name);
/* 1 if the token name may write now, 0 when over its rate; *retry_after_s
 * then says when to try again. */
int api_auth_write_allowed(struct api_auth *, const char *name,
    uint64_t now_ms, unsigned *retry_after_s);
/* The current read and write tokens (for api.json and the start script). */
const char *api_auth_token(const struct api_auth *, enum api_role);

#endif
