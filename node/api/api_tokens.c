/*
 * The signed tokens' routes (admin role, see api.c's table):
 *   POST /api/tokens {"name", "role", "ttl"}  mints one; the answer is the
 *        only time its text is shown
 *   GET  /api/tokens                          those issued here, no text
 *   POST /api/tokens/{id}/revoke              refuses it from now on
 * Issuing and revoking are audited (token.issued, token.revoked).
 */
#include <stdio.h>
#include <string.h>

#include "api_auth.h"
#include "api_priv.h"
#include "clock.h"
#include "http_json.h"
#include "json_check.h"
#include "node.h"
#include "sync.h"
#include "tokens.h"

#define REVOKE_SUFFIX	"/revoke"

static const char *const issue_keys[] = { "name", "role", "ttl" };

/* The registry, or NULL after answering 503. */
static struct tokens *
registry(const struct api_call *call)
{
	struct tokens *tk = api_auth_tokens(call->n->auth);

	if (tk == NULL)
		http_reply_error(call->req, 503, "unavailable", "this node issues "
		    "no signed tokens");
	return tk;
}

/* "ttl": "8h" (token_ttl_parse) or whole seconds. */
static int
ttl_of(const json_t *v, int64_t *ms)
{
	json_int_t s;

	if (json_is_string(v))
		return token_ttl_parse(json_string_value(v), ms);
	if (!json_check_int(v, 1, TOKEN_TTL_MAX_MS / 1000, &s))
		return -1;
	*ms = (int64_t)s * 1000;
	return 0;
}

void
api_tokens_issue(const struct api_call *call)
{
	struct tokens *tk = registry(call);
	struct token_claims c;
	char text[TOKEN_TEXT_MAX], err[256];
	const char *name, *role;
	int64_t ttl;
	json_t *body;

	if (tk == NULL || (body = http_body_json(call->req)) == NULL)
		return;
	name = json_string_value(json_object_get(body, "name"));
	role = json_string_value(json_object_get(body, "role"));
	if (!json_is_object(body) || json_check_keys(body, issue_keys, 3) != NULL) {
		http_reply_error(call->req, 400, "invalid_field", "expected "
		    "{\"name\": string, \"role\": \"read\"|\"write\"|\"admin\", "
		    "\"ttl\": \"8h\" or seconds}");
	} else if (ttl_of(json_object_get(body, "ttl"), &ttl) != 0) {
		http_reply_error(call->req, 400, "invalid_field", "ttl: \"90s\", "
		    "\"30m\", \"8h\", \"7d\" or seconds, at most %lld days",
		    TOKEN_TTL_MAX_MS / 86400000);
	} else if (tokens_issue(tk, name, principal_role_parse(role), ttl,
	    (int64_t)clock_wall_ms(), text, sizeof(text), &c, err,
	    sizeof(err)) != 0) {
		api_audit(call, "token.issued", "invalid", json_pack("{s:s?, s:s?}",
		    "name", name, "role", role));
		http_reply_error(call->req, strstr(err, "record") != NULL ||
		    strstr(err, "sign") != NULL ? 500 : 400, "invalid_field", "%s",
		    err);
	} else {
		api_audit(call, "token.issued", "ok", json_pack("{s:s, s:s, s:s, "
		    "s:I}", "id", c.id, "name", c.name, "role",
		    principal_role_name(c.role), "exp", (json_int_t)c.exp_ms));
		http_reply_json(call->req, 200, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:I, s:I, s:s}", "token", text, "id", c.id, "name",
		    c.name, "role", principal_role_name(c.role), "iss", c.iss,
		    "iat", (json_int_t)c.iat_ms, "exp", (json_int_t)c.exp_ms,
		    "kid", c.kid));
	}
	json_decref(body);
}

void
api_tokens_list(const struct api_call *call)
{
	struct tokens *tk = registry(call);
	json_t *list;

	if (tk == NULL)
		return;
	if ((list = tokens_list(tk, (int64_t)clock_wall_ms())) == NULL) {
		http_reply_error(call->req, 500, "internal", "cannot read the "
		    "issued tokens");
		return;
	}
	http_reply_json(call->req, 200, json_pack("{s:o}", "tokens", list));
}

void
api_tokens_post_id(const struct api_call *call)
{
	struct tokens *tk;
	const char *slash = strchr(call->arg, '/');
	char id[PRINCIPAL_TOKEN_ID_MAX + 1];
	int rc;

	if (slash == NULL || strcmp(slash, REVOKE_SUFFIX) != 0) {
		http_reply_error(call->req, 404, "not_found", "no such endpoint: "
		    "POST /api/tokens/%.128s", call->arg);
		return;
	}
	if (!token_id_valid(call->arg, (size_t)(slash - call->arg))) {
		http_reply_error(call->req, 400, "invalid_field", "not a token id "
		    "(1-%d hex digits)", PRINCIPAL_TOKEN_ID_MAX);
		return;
	}
	if ((tk = registry(call)) == NULL)
		return;
	snprintf(id, sizeof(id), "%.*s", (int)(slash - call->arg), call->arg);
	rc = tokens_revoke(tk, id, (int64_t)clock_wall_ms());
	api_audit(call, "token.revoked", rc == 0 ? "ok" : rc > 0 ? "not_found" :
	    "error", json_pack("{s:s}", "id", id));
	if (rc < 0)
		http_reply_error(call->req, 500, "internal", "cannot record the "
		    "revocation");
	else if (rc > 0)
		http_reply_error(call->req, 404, "not_found", "no token %s was "
		    "issued here", id);
	else {
		/* Every node refuses it from now on (TokenRevoked). */
		if (call->n->sync != NULL)
			sync_emit_token_revoked(call->n->sync, id);
		http_reply_json(call->req, 200, json_pack("{s:s, s:b}", "id", id,
		    "revoked", 1));
	}
}
