/*
 * The node's metric history in its database (node/host/history.h): one
 * row per minute, its point as JSON text, written at most once a minute
 * and at shutdown (the minute in progress, replaced when it closes).
 */
#ifndef AGENTFLOW_STORE_HISTORY_H
#define AGENTFLOW_STORE_HISTORY_H

#include <stdint.h>

struct store;

/*
 * Stores (or replaces) the minute starting at t_ms, body a JSON text, and
 * deletes the minutes before keep_from_ms, so the table stays bounded:
 * both or neither, in one commit.  0, or -1 with store_error().
 */
int store_history_put(struct store *, int64_t t_ms, const char *body,
    int64_t keep_from_ms);
/*
 * cb(arg, body) for every minute from since_ms on, in time order (non-zero
 * from cb stops and is returned); 0, or -1 with store_error().
 */
int store_history_load(struct store *, int64_t since_ms,
    int (*cb)(void *arg, const char *body), void *arg);

#endif
