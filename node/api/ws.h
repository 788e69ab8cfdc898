/*
 * The dashboard's WebSocket feed, /ws (protocol in node/api/WS.md): RFC 6455
 * framing by wslay on the node's libevent loop, over connections taken
 * from evhttp after the upgrade (shared/notes/websocket-on-evhttp.md).
 *
 * The hub owns its clients.  Each gets `hello`, then the `snapshot` the
 * node supplies, then every message published after that.  A client that
 * falls behind skips messages and gets a fresh snapshot once it has caught
 * up; one that falls too far behind, or stalls, is closed.  Nothing a
 * client does slows the node or the other clients.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_WS_H
#define AGENTFLOW_WS_H

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

struct ws_hub;

/* What a token lets a client do: a read or a write token may connect (the
 * feed is read-only; hello tells the client which it holds). */
enum ws_role { WS_ROLE_NONE, WS_ROLE_READ, WS_ROLE_WRITE };

struct ws_hub_config {
	/* The role token grants (WS_ROLE_NONE: refused with 401); token is
	 * borrowed for the call.  Required. */
	enum ws_role	 (*authorize)(void *auth_arg, const char *token);
	void		*auth_arg;
	/* {node, version, frozen} for `hello` (new reference). */
	json_t		*(*hello)(void *arg);
	/* {cluster, tasks, alerts, events, commands} for `snapshot` (new
	 * reference); called once per client that needs one. */
	json_t		*(*snapshot)(void *arg);
	void		*arg;
	size_t		 max_clients;	/* 0: 256 */
	size_t		 max_message;	/* client → server, 0: 64 KiB */
	size_t		 soft_backlog;	/* skip deltas above, 0: 1 MiB */
	size_t		 hard_backlog;	/* close (1008) above, 0: 4 MiB */
	int		 ping_s;	/* 0: 20 */
	int		 idle_s;	/* close a silent client after, 0: 60 */
	/* Comma-separated origins (scheme://host[:port]) whose pages may
	 * connect besides the node's own address and loopback; NULL or "":
	 * none.  Borrowed: must outlive the hub. */
	const char	*allow_origins;
};

struct ws_hub *ws_hub_new(struct event_base *, const struct ws_hub_config *);
/* Sends Close 1001 to every client and frees them.  NULL is a no-op. */
void ws_hub_free(struct ws_hub *);

/*
 * The /ws route.  Validates the upgrade (method, headers, version, Origin,
 * Host, token, client limit) and either answers the refusal over HTTP or
 * takes the connection over.  Never replies twice; after a takeover the
 * request belongs to the hub.
 */
void ws_hub_accept(struct ws_hub *, struct evhttp_request *);

/* Serializes msg once (borrowed; must have "type") and queues it to every
 * client that is past its snapshot. */
void ws_hub_publish(struct ws_hub *, const json_t *msg);
/* Clients connected now (publishers skip building messages at 0). */
size_t ws_hub_clients(const struct ws_hub *);
/* {backlog_max (the largest client backlog now, bytes), clients,
 *  accepted, refused, closed_slow, snapshots, messages_out, bytes_out}
 *  (new reference). */
json_t *ws_hub_counters(const struct ws_hub *);

#endif
