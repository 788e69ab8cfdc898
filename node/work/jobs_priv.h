/*
 * For jobs*.c only: the issuer's open jobs in memory, shared by the
 * record keeping (jobs.c) and the dispatcher (jobs_dispatch.c).
 */
#ifndef AGENTFLOW_JOBS_PRIV_H
#define AGENTFLOW_JOBS_PRIV_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "jobs_spec.h"
#include "principal.h"

struct hmap;
struct node;

#define JOB_ID_MAX	64

/* An open job (not final).  rec is the record as stored and shown. */
struct job {
	char		 id[JOB_ID_MAX];
	json_t		*rec;
	enum jobs_state	 state;
	int		 inflight;	/* a JOB_RUN awaits its answer */
	uint64_t	 next_ms;	/* no dispatch before (wall clock) */
	uint64_t	 retry_ms;	/* the wait after an unanswered dispatch */
	int		 final;		/* swept by the next tick */
};

enum jobs_counter {
	JC_SUBMITTED, JC_DISPATCHED, JC_REDISPATCHED, JC_FENCED, JC_LOST,
	JC_SUCCEEDED, JC_FAILED, JC_EXPIRED, JC_CANCELLED, JC_COUNT
};

struct jobs {
	struct node	*n;
	struct hmap	*open;		/* id → struct job */
	json_t		*fences;	/* [{job_id, node, epoch}] still to send */
	json_t		*fencing;	/* "job/node" → true while one is in flight */
	struct wall_timer *tick;	/* TICK_MS on the wall grid; soon: a pass now */
	uint64_t	 count[JC_COUNT];
	json_t		*by_task;	/* jobs_metrics.c, NULL until a count */
	void		(*final_fn)(void *, const json_t *);	/* jobs_on_final */
	void		*final_arg;
	int		(*gate_fn)(void *, const json_t *);	/* jobs_set_gate */
	void		*gate_arg;
};

/* Moves j to state `to` (jobs_state_may checked), with a history entry
 * {event: to's name, ...extra} (extra stolen, may be NULL); persisted.
 * The reason is kept cleaned and cut (jobs_clean_text). */
void jobs_set_state(struct jobs *, struct job *, enum jobs_state to,
    const char *reason, json_t *extra);
/* Appends {time_ms, event, ...extra} to a job's history (extra stolen). */
void jobs_history(struct jobs *, const char *job_id, const char *event,
    json_t *extra);
/* Writes j's record: 0, or -1 (logged). */
int jobs_persist(struct jobs *, struct job *);
/* Records a fence for (job, node, epoch) to send until answered. */
void jobs_fence_add(struct jobs *, const char *job_id, const char *node,
    uint64_t epoch);

/* A JOB_RUN's args for the record's job at its epoch (new reference). */
json_t *jobs_run_args(const json_t *rec);

/* The dispatcher (jobs_dispatch.c): the tick's work on every open job. */
void jobs_dispatch_tick(struct jobs *);

/* For jobs_fanout.c, jobs.c's own steps: adds rec (reference stolen) to
 * the open jobs as it is, not stored; removes and frees an open job; adds
 * a signed token's grant to rec; the bytes a JOB_RUN for rec takes; the
 * stored record of job id (new reference) or NULL. */
struct job *jobs_open_add(struct jobs *, json_t *rec);
void jobs_open_drop(struct jobs *, struct job *);
void jobs_grant(json_t *rec, const struct principal *);
int jobs_travel_size(const json_t *rec);
json_t *jobs_stored(struct jobs *, const char *id);

#endif
