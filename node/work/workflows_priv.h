/*
 * For workflows*.c only: a workflow loaded from the store for one pass
 * (a tick's, or an action's), with the moves made on it kept until
 * wf_save writes them all, history included, in one transaction.
 */
#ifndef AGENTFLOW_WORKFLOWS_PRIV_H
#define AGENTFLOW_WORKFLOWS_PRIV_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "workflow_state.h"

struct node;

/* A step's job key: wf/ID/STEP/ATTEMPT. */
#define WF_KEY_PREFIX	"wf/"

struct workflows {
	struct node	*n;
	json_t		*open;		/* id → true: moved by the tick */
	struct wall_timer *tick;	/* soon: one pass now (a job step ended) */
	/* workflows_takeover.c's: since when a majority of the known
	 * members is in sight (0: not now), whether this node is alone, the
	 * last turn, and the workflows it could not take (logged once). */
	uint64_t	 majority_since_ms, turn_ms;
	int		 alone;
	json_t		*untakeable;
};

struct wf {
	json_t			*row;	/* store_workflows.h's workflow */
	json_t			*steps;	/* its steps, in definition order */
	json_t			*dirty;	/* steps moved since the last save */
	json_t			*hist;	/* history entries to write */
	enum workflow_state	 state;
};

/* store_workflows_cb's: each row (JSON text) appended to the array
 * arg. */
int wf_load_cb(void *arg, const char *text);
/* Workflow id from the store (NULL: unknown or unreadable); free it with
 * wf_free. */
struct wf *wf_load(struct workflows *, const char *id);
void wf_free(struct wf *);
/* The workflow row is this node's to move (its coordinator). */
int wf_ours(const struct workflows *, const json_t *row);
/* Writes the moves made since the last save: 0, or -1 (logged). */
int wf_save(struct workflows *, struct wf *);
const char *wf_id(const struct wf *);
/* The step row named name (borrowed), or NULL; its definition (borrowed). */
json_t *wf_step(const struct wf *, const char *name);
const json_t *wf_step_def(const struct wf *, const char *name);
enum workflow_step_state wf_step_state(const json_t *step);

/* Moves the workflow (workflow_state_may CHECKed), with a history entry
 * naming who (NULL: the coordinator) and why (may be NULL). */
void wf_set(struct wf *, enum workflow_state to, const char *why,
    const char *who);
/* Marks a step's row to be written by the next save (no move). */
void wf_touch(struct wf *, json_t *step);
/* Moves a step the same way. */
void wf_step_set(struct wf *, json_t *step, enum workflow_step_state to,
    const char *why, const char *who);

/* Cancels the step's job (running) or its wait (retrying, waiting for a
 * person): the step becomes cancelled. */
void wf_step_cancel(struct workflows *, struct wf *, json_t *step,
    const char *why, const char *who);
/* One pass of the coordinator over a workflow now (after an action). */
void workflows_kick(struct workflows *, const char *id);
/* Tells the mesh of wf as it is now (workflows_events.h); seed: one of
 * an earlier life, for our snapshots only. */
void wf_publish(struct workflows *, const struct wf *, int seed);

/* workflows_takeover.c (workflows_takeover.h says how): one turn of
 * taking over the workflows of coordinators gone (at most once a
 * second); whether this node may move its workflows now; and 1 when
 * another node has taken wf over (this node then steps down: the row is
 * marked theirs, our queued step jobs cancelled). */
void workflows_takeover_turn(struct workflows *);
int workflows_takeover_may_move(const struct workflows *);
int workflows_takeover_lost(struct workflows *, struct wf *);
/* jobs_set_gate's for our step jobs (workflows_takeover.c says when one
 * may move). */
int workflows_takeover_gate(void *arg, const json_t *rec);

#endif
