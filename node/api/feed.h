/*
 * The dashboard's live feed wired to the node (node/api/WS.md): the hub's
 * hello and snapshot, every applied event, the cluster status every
 * second and every change of a command issued here, published to the
 * WebSocket clients.  Nothing is built while no client is connected.
 */
#ifndef AGENTFLOW_FEED_H
#define AGENTFLOW_FEED_H

struct feed;
struct node;

/* Creates n->ws and hooks it to n's sync; NULL on failure (logged). */
struct feed *feed_new(struct node *);
/* Closes every client (1001) and unhooks.  NULL: no-op. */
void feed_free(struct feed *);
/* A command record changed (issued here). */
void feed_command(struct feed *, const char *id);

#endif
