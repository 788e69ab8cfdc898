/*
 * Unit tests of node/api/ws_policy.c: one table of upgrade requests
 * (method, headers, query) and the verdict each must get, then the
 * --allow-origins syntax.  No server: the policy is pure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ws_policy.h"

#define KEY	"dGhlIHNhbXBsZSBub25jZQ=="	/* RFC 6455 1.3 */
#define ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define UPGRADE	"Upgrade: websocket\nConnection: Upgrade\n" \
		"Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " KEY "\n"
#define ALLOWED	"http://dash.example, https://NAS.example:8443"

static const struct {
	const char		*name;
	enum evhttp_cmd_type	 method;
	const char		*headers;	/* "Name: value\n"... */
	const char		*query;
	enum ws_refusal		 want;
	const char		*token;		/* when accepted */
	int			 protocols;
} cases[] = {
	{ "plain", EVHTTP_REQ_GET, UPGRADE, "token=t1", WS_ACCEPT, "t1", 0 },
	{ "post", EVHTTP_REQ_POST, UPGRADE, NULL, WS_REFUSE_METHOD, "", 0 },
	{ "no upgrade", EVHTTP_REQ_GET, "Connection: Upgrade\n"
	  "Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " KEY "\n", NULL,
	  WS_REFUSE_UPGRADE, "", 0 },
	{ "connection list, any case", EVHTTP_REQ_GET, "Upgrade: WebSocket\n"
	  "Connection: keep-alive, upgrade\nSec-WebSocket-Version: 13\n"
	  "Sec-WebSocket-Key: " KEY "\n", NULL, WS_ACCEPT, "", 0 },
	{ "connection in a second header", EVHTTP_REQ_GET, "Upgrade: websocket\n"
	  "Connection: keep-alive\nConnection: Upgrade\n"
	  "Sec-WebSocket-Version: 13\nSec-WebSocket-Key: " KEY "\n", NULL,
	  WS_ACCEPT, "", 0 },
	{ "version 8", EVHTTP_REQ_GET, "Upgrade: websocket\nConnection: Upgrade\n"
	  "Sec-WebSocket-Version: 8\nSec-WebSocket-Key: " KEY "\n", NULL,
	  WS_REFUSE_VERSION, "", 0 },
	{ "no key", EVHTTP_REQ_GET, "Upgrade: websocket\nConnection: Upgrade\n"
	  "Sec-WebSocket-Version: 13\n", NULL, WS_REFUSE_KEY, "", 0 },
	{ "key of 15 bytes", EVHTTP_REQ_GET, "Upgrade: websocket\n"
	  "Connection: Upgrade\nSec-WebSocket-Version: 13\n"
	  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\n", NULL, WS_REFUSE_KEY, "", 0 },
	/* Origin. */
	{ "other site", EVHTTP_REQ_GET, UPGRADE "Host: 127.0.0.1:8080\n"
	  "Origin: http://evil.example\n", "token=t", WS_REFUSE_ORIGIN, "", 0 },
	{ "origin null", EVHTTP_REQ_GET, UPGRADE "Origin: null\n", NULL,
	  WS_REFUSE_ORIGIN, "", 0 },
	{ "own page by address", EVHTTP_REQ_GET, UPGRADE "Host: 192.0.2.1:8080\n"
	  "Origin: http://192.0.2.1:8080\n", NULL, WS_ACCEPT, "", 0 },
	{ "own address, other port", EVHTTP_REQ_GET, UPGRADE
	  "Host: 192.0.2.1:8080\nOrigin: http://192.0.2.1:1\n", NULL,
	  WS_REFUSE_ORIGIN, "", 0 },
	{ "own page by v6 address", EVHTTP_REQ_GET, UPGRADE "Host: [2001:db8::1]:80\n"
	  "Origin: http://[2001:db8::1]:80\n", NULL, WS_ACCEPT, "", 0 },
	{ "DNS rebinding: same name in Origin and Host", EVHTTP_REQ_GET, UPGRADE
	  "Host: evil.example:8080\nOrigin: http://evil.example:8080\n", NULL,
	  WS_REFUSE_ORIGIN, "", 0 },
	{ "https page of our address is another origin", EVHTTP_REQ_GET, UPGRADE
	  "Host: 192.0.2.1:8080\nOrigin: https://192.0.2.1:8080\n", NULL,
	  WS_REFUSE_ORIGIN, "", 0 },
	{ "loopback dev server", EVHTTP_REQ_GET, UPGRADE "Host: 192.0.2.1:8080\n"
	  "Origin: http://localhost:5173\n", NULL, WS_ACCEPT, "", 0 },
	{ "loopback v6", EVHTTP_REQ_GET, UPGRADE "Origin: http://[::1]:5173\n",
	  NULL, WS_ACCEPT, "", 0 },
	{ "listed, any case", EVHTTP_REQ_GET, UPGRADE "Host: nas.example\n"
	  "Origin: https://nas.example:8443\n", NULL, WS_ACCEPT, "", 0 },
	{ "listed host, other port", EVHTTP_REQ_GET, UPGRADE
	  "Origin: https://nas.example:8444\n", NULL, WS_REFUSE_ORIGIN, "", 0 },
	{ "not a URL", EVHTTP_REQ_GET, UPGRADE "Origin: file://x\n", NULL,
	  WS_REFUSE_ORIGIN, "", 0 },
	/* Subprotocols and where the token is. */
	{ "subprotocol token", EVHTTP_REQ_GET, UPGRADE
	  "Sec-WebSocket-Protocol: agentflow.v1, token.abc\n", "token=q",
	  WS_ACCEPT, "abc", 1 },
	{ "query before bearer", EVHTTP_REQ_GET, UPGRADE
	  "Authorization: Bearer b\n", "token=q", WS_ACCEPT, "q", 0 },
	{ "bearer", EVHTTP_REQ_GET, UPGRADE "Authorization: Bearer  b\n", NULL,
	  WS_ACCEPT, "b", 0 },
	{ "first subprotocol token wins", EVHTTP_REQ_GET, UPGRADE
	  "Sec-WebSocket-Protocol: token.one\n"
	  "Sec-WebSocket-Protocol: agentflow.v1, token.two\n", NULL,
	  WS_ACCEPT, "one", 1 },
	{ "token without our subprotocol", EVHTTP_REQ_GET, UPGRADE
	  "Sec-WebSocket-Protocol: token.abc\n", NULL, WS_REFUSE_SUBPROTOCOL,
	  "", 0 },
	{ "other subprotocol", EVHTTP_REQ_GET, UPGRADE
	  "Sec-WebSocket-Protocol: chat\n", NULL, WS_REFUSE_SUBPROTOCOL, "", 0 },
	{ "our subprotocol, case matters", EVHTTP_REQ_GET, UPGRADE
	  "Sec-WebSocket-Protocol: AgentFlow.v1\n", NULL, WS_REFUSE_SUBPROTOCOL,
	  "", 0 },
	{ "no token: the hub refuses", EVHTTP_REQ_GET, UPGRADE, "x=1", WS_ACCEPT,
	  "", 0 },
	/* The first broken rule is the one reported. */
	{ "post with a bad origin", EVHTTP_REQ_POST, UPGRADE "Origin: null\n",
	  NULL, WS_REFUSE_METHOD, "", 0 },
	{ "bad key and bad origin", EVHTTP_REQ_GET, "Upgrade: websocket\n"
	  "Connection: Upgrade\nSec-WebSocket-Version: 13\nOrigin: null\n",
	  NULL, WS_REFUSE_KEY, "", 0 },
};

/* "Name: value\n"... into h. */
static void
headers_of(const char *text, struct evkeyvalq *h)
{
	char name[128], value[512];
	const char *p = text, *colon, *nl;

	TAILQ_INIT(h);
	while ((nl = strchr(p, '\n')) != NULL) {
		colon = strchr(p, ':');
		assert_true(colon != NULL && colon < nl);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		colon++;
		while (*colon == ' ' && colon < nl && colon[1] == ' ')
			colon++;	/* keep "Bearer  b"'s second space */
		if (*colon == ' ')
			colon++;
		snprintf(value, sizeof(value), "%.*s", (int)(nl - colon), colon);
		assert_int_equal(evhttp_add_header(h, name, value), 0);
		p = nl + 1;
	}
}

static void
test_table(void **state)
{
	struct evkeyvalq h;
	struct ws_verdict v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		headers_of(cases[i].headers, &h);
		ws_policy_check(cases[i].method, &h, cases[i].query, ALLOWED, &v);
		if (v.refusal != cases[i].want)
			fail_msg("%s: refusal %d, want %d", cases[i].name, v.refusal,
			    cases[i].want);
		if (strcmp(v.token, cases[i].token) != 0)
			fail_msg("%s: token \"%s\", want \"%s\"", cases[i].name,
			    v.token, cases[i].token);
		if (v.refusal == WS_ACCEPT) {
			assert_string_equal(v.accept, ACCEPT);
			if (v.protocols != cases[i].protocols)
				fail_msg("%s: protocols %d", cases[i].name, v.protocols);
		}
		evhttp_clear_headers(&h);
	}
}

static void
test_no_allow_list(void **state)
{
	struct evkeyvalq h;
	struct ws_verdict v;

	(void)state;
	headers_of(UPGRADE "Origin: http://dash.example\n", &h);
	ws_policy_check(EVHTTP_REQ_GET, &h, NULL, NULL, &v);
	assert_int_equal(v.refusal, WS_REFUSE_ORIGIN);
	ws_policy_check(EVHTTP_REQ_GET, &h, NULL, ALLOWED, &v);
	assert_int_equal(v.refusal, WS_ACCEPT);
	evhttp_clear_headers(&h);
}

/* A token too long to hold is not taken in part. */
static void
test_long_token(void **state)
{
	char query[WS_POLICY_TOKEN_MAX + 16];
	struct evkeyvalq h;
	struct ws_verdict v;

	(void)state;
	snprintf(query, sizeof(query), "token=%0*d", WS_POLICY_TOKEN_MAX, 7);
	headers_of(UPGRADE, &h);
	ws_policy_check(EVHTTP_REQ_GET, &h, query, NULL, &v);
	assert_int_equal(v.refusal, WS_ACCEPT);
	assert_string_equal(v.token, "");
	evhttp_clear_headers(&h);
}

static void
test_answers(void **state)
{
	const struct ws_refusal_answer *a;

	(void)state;
	assert_null(ws_policy_answer(WS_ACCEPT));
	assert_null(ws_policy_answer(WS_REFUSE_COUNT));
	for (int r = WS_ACCEPT + 1; r < WS_REFUSE_COUNT; r++) {
		assert_non_null(a = ws_policy_answer((enum ws_refusal)r));
		assert_true(a->status >= 400 && a->status < 600);
		assert_non_null(a->code);
		assert_non_null(a->message);
	}
	a = ws_policy_answer(WS_REFUSE_METHOD);
	assert_int_equal(a->status, 405);
	assert_string_equal(a->header, "Allow");
	assert_string_equal(a->value, "GET");
	a = ws_policy_answer(WS_REFUSE_VERSION);
	assert_string_equal(a->header, "Sec-WebSocket-Version");
	assert_int_equal(ws_policy_answer(WS_REFUSE_ORIGIN)->status, 403);
	assert_int_equal(ws_policy_answer(WS_REFUSE_TOKEN)->status, 401);
	assert_int_equal(ws_policy_answer(WS_REFUSE_BUSY)->status, 503);
}

static void
test_check_origins(void **state)
{
	static const struct {
		const char	*list;
		const char	*why;		/* NULL: well formed */
	} lists[] = {
		{ NULL, NULL },
		{ "", NULL },
		{ "http://a.example, https://B.example:8443 ,http://[::1]:1", NULL },
		{ "ftp://a.example", "is not http:// or https://" },
		{ "a.example", "is not http:// or https://" },
		{ "http://a.example/path", "has more than scheme://host[:port]" },
		{ "http://user@a.example", "has more than scheme://host[:port]" },
		{ "http://", "has no host" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		err[0] = '\0';
		if (lists[i].why == NULL) {
			if (ws_policy_check_origins(lists[i].list, err, sizeof(err)) != 0)
				fail_msg("\"%s\" refused: %s", lists[i].list, err);
			continue;
		}
		assert_int_equal(ws_policy_check_origins(lists[i].list, err,
		    sizeof(err)), -1);
		if (strstr(err, lists[i].why) == NULL ||
		    strncmp(err, "--allow-origins: ", 17) != 0)
			fail_msg("\"%s\": %s", lists[i].list, err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_allow_list),
		cmocka_unit_test(test_long_token),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_check_origins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
