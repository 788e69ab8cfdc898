/*
 * Job result callbacks in the node's database (the callbacks table, a
 * migration of store.c): where each goes, the signed body, the secret it
 * is signed with, until when it is tried, and what each attempt got.
 * Conventions as in store.h: 0 on success, -1 with store_error() set.
 */
#ifndef AGENTFLOW_STORE_CALLBACKS_H
#define AGENTFLOW_STORE_CALLBACKS_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_callback {
	const char	*job_id;
	const char	*url;
	const char	*secret;
	const char	*body;
	size_t		 body_len;
	int64_t		 deadline_ms;	/* wall ms: give up after it; while
					 * waiting, how long after the firing */
	int64_t		 next_ms;	/* wall ms of the next attempt */
	int		 attempts;	/* made so far */
	const char	*state;		/* "waiting", "pending", "delivered", "failed" */
	const char	*history;	/* JSON array of attempts */
};

/* Records a new callback; -1 also when job_id already has one. */
int store_callback_put(struct store *, const struct store_callback *);
/* Sets a waiting callback's body, deadline and next time and makes it
 * pending; *found 0 when job_id has no waiting callback. */
int store_callback_fire(struct store *, const char *job_id, const char *body,
    size_t len, int64_t deadline_ms, int64_t next_ms, int *found);
/* Updates job_id's state, attempts, next_ms and history. */
int store_callback_update(struct store *, const struct store_callback *);
/* The callbacks in state (NULL: every one) or only job_id's (job_id
 * non-NULL); strings valid during the callback only, which must not call
 * into the store; non-zero from it stops. */
typedef int (*store_callback_cb)(void *arg, const struct store_callback *);
int store_callbacks_each(struct store *, const char *state,
    const char *job_id, store_callback_cb, void *arg);

#endif
