/*
 * The /ws upgrade policy (ws_policy.h).  Every rule a request must meet
 * before the hub looks at its token, checked in the order of enum
 * ws_refusal, so the first broken rule is the one reported.
 *
 * Origin (see origin_allowed): absent is fine (not a browser); else it
 * must be listed in --allow-origins, or be a loopback origin, or be
 * http:// + Host where Host names this machine by address.
 */
#include "ws_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include "hostport.h"
#include "http_json.h"
#include "text.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_TOKEN_PREFIX	"token."

/* Next comma-separated, space-trimmed item of *p into out (truncated to
 * outlen; *truncated set).  0 at the end. */
static int
next_item(const char **p, char *out, size_t outlen, int *truncated)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (*s == '\0')
		return 0;
	for (e = s; *e != '\0' && *e != ','; e++)
		;
	*p = e;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(e - s);
	*truncated = n >= outlen;
	if (*truncated)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

/* 1 when a header named name (any of them) lists item, case-insensitive. */
static int
header_has(const struct evkeyvalq *h, const char *name, const char *item)
{
	struct evkeyval *kv;
	char buf[64];
	const char *p;
	int trunc;

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, name) != 0)
			continue;
		for (p = kv->value; next_item(&p, buf, sizeof(buf), &trunc);)
			if (!trunc && strcasecmp(buf, item) == 0)
				return 1;
	}
	return 0;
}

/* Sec-WebSocket-Accept for key into out (at least 29 bytes); -1 when the
 * key is not base64 of 16 bytes. */
static int
accept_key(const char *key, char *out, size_t outlen)
{
	unsigned char raw[32], sha[20];
	char in[64];
	size_t n, klen = strlen(key);

	if (klen != 24 || mbedtls_base64_decode(raw, sizeof(raw), &n,
	    (const unsigned char *)key, klen) != 0 || n != 16)
		return -1;
	snprintf(in, sizeof(in), "%s%s", key, WS_GUID);
	if (mbedtls_sha1_ret((const unsigned char *)in, strlen(in), sha) != 0 ||
	    mbedtls_base64_encode((unsigned char *)out, outlen, &n, sha,
	    sizeof(sha)) != 0)
		return -1;
	return 0;
}

/* The host of "host[:port]" / "[v6][:port]" into out. */
static int
host_part(const char *s, char *out, size_t outlen)
{
	size_t n;
	int port;

	if (hostport_split(s, out, outlen, &port) == 0)
		return 0;
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
is_address(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1 || hostport_is_loopback(host);
}

/* Calls fn on each item of a comma-separated list (spaces around items
 * skipped) until it returns nonzero; returns that, or 0. */
static int
each_item(const char *list, int (*fn)(const char *, size_t, void *), void *arg)
{
	const char *cursor = list, *q;
	size_t m;
	int rc;

	while (text_list_next(&cursor, &q, &m)) {
		while (m > 0 && *q == ' ')
			q++, m--;
		while (m > 0 && q[m - 1] == ' ')
			m--;
		if (m > 0 && (rc = fn(q, m, arg)) != 0)
			return rc;
	}
	return 0;
}

/* An allowed origin: http:// or https://, a host, an optional port, no
 * path; what a browser sends in Origin. */
struct origin_check {
	const char	*why;
	char		 item[300];
};

static int
origin_malformed(const char *item, size_t n, void *arg)
{
	struct origin_check *oc = arg;
	char name[256];
	const char *rest;

	if (n >= sizeof(oc->item))
		n = sizeof(oc->item) - 1;
	memcpy(oc->item, item, n);
	oc->item[n] = '\0';
	if (strncasecmp(oc->item, "http://", 7) == 0)
		rest = oc->item + 7;
	else if (strncasecmp(oc->item, "https://", 8) == 0)
		rest = oc->item + 8;
	else
		return (oc->why = "is not http:// or https://", 1);
	if (n == sizeof(oc->item) - 1)
		return (oc->why = "is too long", 1);
	if (strpbrk(rest, "/?#@ ") != NULL)
		return (oc->why = "has more than scheme://host[:port]", 1);
	if (host_part(rest, name, sizeof(name)) != 0)
		return (oc->why = "has no host", 1);
	return 0;
}

int
ws_policy_check_origin_list(const char *flag, const char *list, char *err,
    size_t errlen)
{
	struct origin_check oc = { NULL, "" };

	if (each_item(list, origin_malformed, &oc) == 0)
		return 0;
	snprintf(err, errlen, "%s: \"%.64s\" %s", flag, oc.item, oc.why);
	return -1;
}

int
ws_policy_check_origins(const char *list, char *err, size_t errlen)
{
	return ws_policy_check_origin_list("--allow-origins", list, err, errlen);
}

static int
origin_is(const char *item, size_t n, void *arg)
{
	const char *origin = arg;

	return strlen(origin) == n && strncasecmp(origin, item, n) == 0;
}

int
ws_policy_origin_listed(const char *list, const char *origin)
{
	return list != NULL && origin != NULL &&
	    each_item(list, origin_is, (void *)origin) != 0;
}

/*
 * Browsers apply no CORS to WebSockets, so Origin is checked here.  A page
 * may connect when it comes from a loopback origin (the Vite dev server,
 * any port), when its origin is one the user listed (--allow-origins), or
 * when it is the node's own page: Origin is http:// + Host, and Host
 * names this machine by address.  A name in Host would let a page whose
 * DNS an attacker rebinds to us pass as same-origin: the name a user
 * reaches the node by has to be listed.  Clients that send no Origin are
 * not browsers, and rebinding cannot reach them.
 */
static int
origin_allowed(const char *allow_origins, const struct evkeyvalq *h)
{
	const char *origin = evhttp_find_header(h, "Origin");
	const char *host = evhttp_find_header(h, "Host"), *rest;
	char name[256];

	if (origin == NULL)
		return 1;
	if (each_item(allow_origins, origin_is, (void *)origin))
		return 1;
	if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return 0;
	if (host_part(rest, name, sizeof(name)) == 0 && hostport_is_loopback(name))
		return 1;
	if (host == NULL || rest != origin + 7 || strcasecmp(rest, host) != 0)
		return 0;
	return host_part(host, name, sizeof(name)) == 0 && is_address(name);
}

static void
copy_token(struct ws_verdict *v, const char *t)
{
	size_t n = strlen(t);

	if (n < sizeof(v->token)) {
		memcpy(v->token, t, n);
		v->token[n] = '\0';
	}
}

/* The subprotocols offered and the token, wherever the client put it. */
static void
read_offer(const struct evkeyvalq *h, const char *query, struct ws_verdict *v)
{
	struct evkeyvalq q;
	const char *p, *t;
	struct evkeyval *kv;
	char item[WS_POLICY_TOKEN_MAX + sizeof(WS_TOKEN_PREFIX)];
	int trunc, v1 = 0;

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Sec-WebSocket-Protocol") != 0)
			continue;
		for (p = kv->value; next_item(&p, item, sizeof(item), &trunc);) {
			v->protocols = 1;
			if (strcmp(item, WS_POLICY_PROTOCOL) == 0)
				v1 = 1;
			else if (!trunc && strncmp(item, WS_TOKEN_PREFIX,
			    strlen(WS_TOKEN_PREFIX)) == 0 && v->token[0] == '\0')
				copy_token(v, item + strlen(WS_TOKEN_PREFIX));
		}
	}
	explicit_bzero(item, sizeof(item));
	if (v->token[0] == '\0' && query != NULL) {
		TAILQ_INIT(&q);
		if (evhttp_parse_query_str(query, &q) == 0 &&
		    (t = evhttp_find_header(&q, "token")) != NULL)
			copy_token(v, t);
		evhttp_clear_headers(&q);
	}
	if (v->token[0] == '\0' && (t = http_bearer_value(evhttp_find_header(h,
	    "Authorization"))) != NULL)
		copy_token(v, t);
	if (v->protocols && !v1)
		v->refusal = WS_REFUSE_SUBPROTOCOL;
}

static const struct ws_refusal_answer answers[WS_REFUSE_COUNT] = {
	[WS_REFUSE_METHOD] =	  { 405, "method", "/ws takes a GET upgrade",
				    "Allow", "GET" },
	[WS_REFUSE_UPGRADE] =	  { 400, "upgrade", "/ws needs Upgrade: websocket "
				    "and Connection: Upgrade", NULL, NULL },
	[WS_REFUSE_VERSION] =	  { 400, "version", "only WebSocket version 13",
				    "Sec-WebSocket-Version", "13" },
	[WS_REFUSE_KEY] =	  { 400, "key", "Sec-WebSocket-Key is not base64 "
				    "of 16 bytes", NULL, NULL },
	[WS_REFUSE_ORIGIN] =	  { 403, "origin", "origin not allowed", NULL, NULL },
	[WS_REFUSE_SUBPROTOCOL] = { 400, "subprotocol", "offer the "
				    WS_POLICY_PROTOCOL " subprotocol", NULL, NULL },
	[WS_REFUSE_TOKEN] =	  { 401, "token", "missing or unknown token",
				    NULL, NULL },
	[WS_REFUSE_BUSY] =	  { 503, "busy", "too many WebSocket clients",
				    NULL, NULL },
};

const struct ws_refusal_answer *
ws_policy_answer(enum ws_refusal r)
{
	if (r <= WS_ACCEPT || r >= WS_REFUSE_COUNT)
		return NULL;
	return &answers[r];
}

void
ws_policy_check(enum evhttp_cmd_type method, const struct evkeyvalq *h,
    const char *query, const char *allow_origins, struct ws_verdict *v)
{
	const char *version, *key;

	memset(v, 0, sizeof(*v));
	if (method != EVHTTP_REQ_GET)
		v->refusal = WS_REFUSE_METHOD;
	else if (!header_has(h, "Upgrade", "websocket") ||
	    !header_has(h, "Connection", "upgrade"))
		v->refusal = WS_REFUSE_UPGRADE;
	else if ((version = evhttp_find_header(h, "Sec-WebSocket-Version")) == NULL ||
	    strcmp(version, "13") != 0)
		v->refusal = WS_REFUSE_VERSION;
	else if ((key = evhttp_find_header(h, "Sec-WebSocket-Key")) == NULL ||
	    accept_key(key, v->accept, sizeof(v->accept)) != 0)
		v->refusal = WS_REFUSE_KEY;
	else if (!origin_allowed(allow_origins, h))
		v->refusal = WS_REFUSE_ORIGIN;
	else
		read_offer(h, query, v);
	if (v->refusal != WS_ACCEPT)
		explicit_bzero(v->token, sizeof(v->token));
}
