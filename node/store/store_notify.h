/*
 * Alert notices in the node's database (node/work/notify.h): the notices
 * still waiting for their channel and the open groups (notify_waiting),
 * and what became of each alert's notices (notify_outcomes), so both
 * outlive a restart.  Rows name a channel, never hold its URL or
 * secrets.  Both stay bounded: a new waiting row is refused once the
 * bound is reached; an outcome's write deletes the oldest past its
 * bounds in the same commit.
 */
#ifndef AGENTFLOW_STORE_NOTIFY_H
#define AGENTFLOW_STORE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* One waiting row: kind "notice" or "group"; what the notice's
 * (firing, repeat, resolved) or the group's state; body a JSON text. */
struct store_notify_row {
	int64_t		 id;
	const char	*kind;
	const char	*channel;
	const char	*what;
	int		 attempts;
	int64_t		 next_ms;	/* wall: next try, or the group's end */
	const char	*body;
};

/*
 * Stores (or replaces) row r: a new row only while fewer than keep are
 * stored (else -1, "the table is full": no row is ever deleted to make
 * room; notify.c bounds what it keeps so that this does not happen).
 * 0, or -1 with store_error().
 */
int store_notify_put(struct store *, const struct store_notify_row *r,
    size_t keep);
/* Deletes row id (none: no error).  0, or -1 with store_error(). */
int store_notify_del(struct store *, int64_t id);
/* Deletes the rows past id (those a bounded load did not read).  0, or
 * -1 with store_error(). */
int store_notify_del_after(struct store *, int64_t id);
/*
 * cb(arg, row) for the first limit waiting rows, in id order, as a JSON
 * text {id, kind, channel, what, attempts, next_ms, body} (body parsed;
 * null when it is not JSON); non-zero from cb stops and is returned; -1
 * with store_error().
 */
int store_notify_load(struct store *, size_t limit,
    int (*cb)(void *arg, const char *row), void *arg);
/* The highest id of a waiting row up to max (0: none); -1 with
 * store_error(). */
int64_t store_notify_last_id(struct store *, int64_t max);

/*
 * Adds what became of a notice of alert_id (body a JSON text), then
 * keeps that alert's per_alert newest and the total newest of all.  0,
 * or -1 with store_error().
 */
int store_notify_outcome(struct store *, const char *alert_id,
    const char *body, size_t per_alert, size_t total);
/* cb(arg, body) for the newest limit outcomes, oldest first. */
int store_notify_outcomes_load(struct store *, size_t limit,
    int (*cb)(void *arg, const char *body), void *arg);

#endif
