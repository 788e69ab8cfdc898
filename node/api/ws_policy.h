/*
 * Whether an HTTP request may become a /ws WebSocket (node/api/WS.md,
 * "Connecting"): the RFC 6455 upgrade headers, the Origin / Host rule that
 * keeps other sites' pages out (browsers apply no CORS to WebSockets, and
 * DNS rebinding can make an attacker's name resolve to us), the
 * subprotocol offer, and where the client put its token.
 *
 * Pure: the method, the headers and the query string in, a verdict out;
 * no I/O, no clock, no state.  Checking the token and counting clients are
 * the hub's (ws.c), but their refusals are in the same table.
 */
#ifndef AGENTFLOW_WS_POLICY_H
#define AGENTFLOW_WS_POLICY_H

#include <event2/http.h>
#include <stddef.h>

struct evkeyvalq;

#define WS_POLICY_PROTOCOL	"agentflow.v1"
#define WS_POLICY_TOKEN_MAX	1024	/* a signed token: token.h TOKEN_TEXT_MAX */

/* In the order they are checked. */
enum ws_refusal {
	WS_ACCEPT,
	WS_REFUSE_METHOD,	/* not a GET */
	WS_REFUSE_UPGRADE,	/* no Upgrade: websocket / Connection: Upgrade */
	WS_REFUSE_VERSION,	/* Sec-WebSocket-Version is not 13 */
	WS_REFUSE_KEY,		/* Sec-WebSocket-Key is not base64 of 16 bytes */
	WS_REFUSE_ORIGIN,	/* a page of a site not allowed */
	WS_REFUSE_SUBPROTOCOL,	/* subprotocols offered, agentflow.v1 not */
	WS_REFUSE_TOKEN,	/* the hub: no token, or an unknown one */
	WS_REFUSE_BUSY,		/* the hub: max_clients reached */
	WS_REFUSE_COUNT
};

/* How a refusal is answered over HTTP: status, error code and message,
 * and a header to add (header NULL: none).  Static storage. */
struct ws_refusal_answer {
	int		 status;
	const char	*code;
	const char	*message;
	const char	*header;
	const char	*value;
};

struct ws_verdict {
	enum ws_refusal	 refusal;
	/* When accepted: */
	char		 accept[32];	/* Sec-WebSocket-Accept */
	int		 protocols;	/* a subprotocol was offered: echo ours */
	/* The offered token ("" none): a "token.<T>" subprotocol, else
	 * ?token=, else Authorization: Bearer.  Secret: wipe after use. */
	char		 token[WS_POLICY_TOKEN_MAX];
};

/*
 * Decides on an upgrade request: method, its headers (borrowed), its
 * query string (NULL: none) and allow_origins (as ws_hub_config's; NULL
 * or "": none).  Fills *v; v->refusal is WS_ACCEPT or why not.
 */
void ws_policy_check(enum evhttp_cmd_type method, const struct evkeyvalq *headers,
    const char *query, const char *allow_origins, struct ws_verdict *v);

/* The HTTP answer of r (never NULL for r < WS_REFUSE_COUNT, r != WS_ACCEPT). */
const struct ws_refusal_answer *ws_policy_answer(enum ws_refusal r);

/* 0 if list (as allow_origins: comma-separated scheme://host[:port]) is
 * well formed, else -1 and why in err. */
int ws_policy_check_origins(const char *list, char *err, size_t errlen);
/* The same rule for another flag's list (the signal's --cors-origins):
 * err starts with flag. */
int ws_policy_check_origin_list(const char *flag, const char *list, char *err,
    size_t errlen);
/* 1 when origin (NULL: none) is an item of list (NULL: none), compared
 * as ws_policy_check's allow_origins: case-insensitively, whole. */
int ws_policy_origin_listed(const char *list, const char *origin);

#endif
