/*
 * The live feed's glue (see feed.h): the WebSocket hub knows nothing of
 * the node; this file builds each message from the same functions the
 * REST routes use, so the feed and the API cannot disagree.
 */
#include "feed.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_auth.h"
#include "commands.h"
#include "node.h"
#include "store.h"
#include "sync.h"
#include "wall_timer.h"
#include "ws.h"
#include "xalloc.h"

#define CLUSTER_PERIOD_S	1
/* The cluster view goes out a quarter second after the wall-clock second:
 * statuses are sampled on the second and on the half second (main.c), and
 * a view sent to every client on top of one of those bursts made a user
 * event arriving then wait behind both. */
#define CLUSTER_OFFSET_MS	250

struct feed {
	struct node	*n;
	struct wall_timer *cluster_timer;
};

static json_t *
hello(void *arg)
{
	struct feed *f = arg;

	return json_pack("{s:s, s:s, s:b}", "node", f->n->id, "version",
	    AGENTFLOW_VERSION, "frozen", f->n->frozen);
}

/* A client's snapshot: also the moment a dashboard may have opened here,
 * which brings every node's statuses to every sample (status_pace.h). */
static json_t *
snapshot(void *arg)
{
	struct node *n = ((struct feed *)arg)->n;

	node_status_soon(n);
	return api_snapshot(n);
}

static void
publish(struct feed *f, const char *type, const char *key, json_t *value)
{
	json_t *msg;

	if (value == NULL)
		return;
	msg = json_pack("{s:s, s:o}", "type", type, key, value);
	if (msg != NULL)
		ws_hub_publish(f->n->ws, msg);
	json_decref(msg);
}

/*
 * A status event as the REST list shows it, less `members`: the origin's
 * view of membership feeds that node's alert rules, and no client uses it
 * (the cluster view carries each node's member state).  It was nearly half
 * of every status (19 entries at 20 nodes, 100 at 100), and every client
 * gets every node's status every period: the biggest part of the feed.
 */
static json_t *
event_json(const struct store_event *row)
{
	json_t *ev = api_event_json(row);
	const char *kind = json_string_value(json_object_get(ev, "kind"));

	if (kind != NULL && strcmp(kind, "status") == 0)
		json_object_del(json_object_get(ev, "body"), "members");
	return ev;
}

static void
applied(const struct store_event *row, void *arg)
{
	struct feed *f = arg;

	if (ws_hub_clients(f->n->ws) > 0)
		publish(f, "event", "event", event_json(row));
}

/*
 * The view every second without the nodes' statuses (null): each status
 * reaches the clients as an event the moment it is applied, and the
 * snapshot carries the latest of each.  They were most of the message
 * (84 KB at 20 nodes, growing with the square of the mesh), sent to
 * every client every second.
 */
static void
cluster_cb(void *arg)
{
	struct feed *f = arg;

	if (ws_hub_clients(f->n->ws) > 0)
		publish(f, "cluster", "cluster", api_cluster_status(f->n, 0));
}

void
feed_command(struct feed *f, const char *id)
{
	if (f != NULL && f->n->commands != NULL && ws_hub_clients(f->n->ws) > 0)
		publish(f, "command", "command", commands_get(f->n->commands, id));
}

/* The hub's authoriser: the API's tokens; any role reads the feed, write
 * and admin may also send what a write may. */
static enum ws_role
authorize(void *arg, const char *token)
{
	struct principal p;
	char why[256];

	switch (api_auth_check(arg, token, &p, why, sizeof(why))) {
	case PRINCIPAL_ADMIN:
	case PRINCIPAL_WRITE:
		return WS_ROLE_WRITE;
	case PRINCIPAL_READ:
		return WS_ROLE_READ;
	default:
		return WS_ROLE_NONE;
	}
}

struct feed *
feed_new(struct node *n)
{
	struct feed *f = xcalloc(1, sizeof(*f));
	struct ws_hub_config hc = { 0 };

	f->n = n;
	hc.authorize = authorize;
	hc.auth_arg = n->auth;
	hc.allow_origins = n->cfg->allow_origins;
	hc.hello = hello;
	hc.snapshot = snapshot;
	hc.arg = f;
	if ((n->ws = ws_hub_new(n->base, &hc)) == NULL) {
		free(f);
		return NULL;
	}
	sync_set_applied(n->sync, applied, f);
	f->cluster_timer = wall_timer_new(n->base, CLUSTER_PERIOD_S * 1000,
	    CLUSTER_OFFSET_MS, cluster_cb, f);
	return f;
}

void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	sync_set_applied(f->n->sync, NULL, NULL);
	wall_timer_free(f->cluster_timer);
	ws_hub_free(f->n->ws);
	f->n->ws = NULL;
	free(f);
}
