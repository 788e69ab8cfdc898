/*
 * The hub's authoriser for tests/unit/test_ws.c and tests/fuzz/fuzz_ws.c:
 * two fixed tokens.  The node's own (api_auth's tokens, mapped in
 * node/api/feed.c) is tested by test_api_auth and the system tests.
 */
#ifndef AGENTFLOW_TEST_WS_FAKE_AUTH_H
#define AGENTFLOW_TEST_WS_FAKE_AUTH_H

#include <string.h>

#include "ws.h"

#define READ_TOKEN	"read-token-0123456789abcdef"
#define WRITE_TOKEN	"write-token-0123456789abcdef"

static inline enum ws_role
ws_fake_authorize(void *arg, const char *token)
{
	(void)arg;
	if (strcmp(token, WRITE_TOKEN) == 0)
		return WS_ROLE_WRITE;
	return strcmp(token, READ_TOKEN) == 0 ? WS_ROLE_READ : WS_ROLE_NONE;
}

#endif
