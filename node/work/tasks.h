/*
 * Tasks: the jobs this node runs for commands, named in its own
 * configuration (and ad-hoc argv lists only when the owner enabled them).
 *
 * Each run is supervised on the loop thread: the child gets its own
 * process group, its stdout and stderr are read line by line and handed
 * out as TaskLog pieces (lines over 4096 bytes split, floods limited with
 * a "dropped" count), and its end is recorded with the exit code or the
 * signal.  A run that fails is retried with exponential backoff and
 * jitter up to the definition's retries.  Every state change goes out
 * through the update hook; the caller persists and broadcasts it.
 *
 *   queued → running → succeeded | failed | timed-out | cancelled
 *              ↘ retrying → running (next attempt)
 *
 * Task definitions are a JSON object, name → definition:
 *   {"command": ["/bin/prog", "arg", ...],   required, 1-64 strings
 *    "cwd": "/dir", "env": {"K": "V"},       optional
 *    "timeout_s": 0,                          0 = none
 *    "retries": 0, "retry_backoff_ms": 1000,  0-10; base, doubled per retry
 *    "concurrency": 1,                        runs of this name at once
 *    "allow_args": false}                     may callers append argv?
 *
 * Pointers handed to hooks are valid only during the call.
 */
#ifndef AGENTFLOW_TASKS_H
#define AGENTFLOW_TASKS_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct tasks;

/* A job's run; all borrowed for the call of tasks_run. */
struct tasks_job {
	const char	*job_id;	/* id syntax */
	uint64_t	 epoch;		/* lease epoch, >= 1 */
	uint32_t	 attempt;	/* 1-based dispatch count of the job */
	const char	*payload;	/* JSON text, <= 64 KiB, or NULL */
	size_t		 payload_len;
};

#define TASKS_JOB_RESULT_MAX	65536

struct tasks_hooks {
	void	(*update)(const Agentflow__Mesh__V1__TaskUpdate *, void *arg);
	void	(*log)(const Agentflow__Mesh__V1__TaskLog *, void *arg);
	void	 *arg;
	/* A run of a job ended (terminal state, after the last attempt):
	 * result is the JSON the task left in its result file (validated,
	 * <= 64 KiB) or NULL; why_no_result says why when the file was
	 * there but refused.  Called just before the terminal update. */
	void	(*job_result)(const char *task_id, const char *result,
		    size_t len, const char *why_no_result, void *arg);
};

struct tasks_config {
	const json_t	*defs;		/* definitions (see above); NULL: none */
	int		 allow_adhoc;	/* accept argv lists not in defs */
	unsigned	 max_running;	/* node-wide, 0: 4 */
	uint64_t	 grace_ms;	/* soft cancel SIGTERM → SIGKILL, 0: 5000 */
	unsigned	 lines_per_s;	/* per task flood limit, 0: 1000 */
	const char	*id_prefix;	/* task ids are "<prefix>-<n>"; unique per start */
};

struct tasks_request {
	const char	*name;		/* a defined task, or NULL with adhoc */
	const json_t	*args;		/* array of strings appended, or NULL */
	const json_t	*adhoc;		/* argv array for an ad-hoc run, or NULL */
	const char	*command_id;	/* may be NULL */
	const char	*principal;	/* may be NULL */
	const struct tasks_job *job;	/* a job's run, or NULL */
};

/* NULL with err set when a definition is invalid (names the task and field). */
struct tasks *tasks_new(struct event_base *, const struct tasks_config *,
    const struct tasks_hooks *, char *err, size_t errlen);
/* Ids of the tasks started from now on are "<prefix>-<n>" (the node moved
 * to a new incarnation).  -1, unchanged, when prefix is not id_prefix's
 * syntax. */
int tasks_set_id_prefix(struct tasks *, const char *prefix);
/* Kills every running process group (SIGKILL), reports each run as failed
 * ("node stopped") through the hook, and frees everything.  NULL: no-op. */
void tasks_free(struct tasks *);

/*
 * Starts or queues a run.  Returns an Agentflow__Mesh__V1__CommandStatus:
 * OK with the new id in task_id; NOT_FOUND (unknown name), REFUSED (ad-hoc
 * disabled, frozen), INVALID (bad args or argv) with a reason in msg.
 */
int tasks_run(struct tasks *, const struct tasks_request *, char *task_id,
    size_t idlen, char *msg, size_t msglen);
/* Soft (SIGTERM, grace, SIGKILL) or hard (SIGKILL) cancel of a queued,
 * retrying or running task: OK, NOT_FOUND, or ERROR when it has already
 * finished (msg says in which state). */
int tasks_cancel(struct tasks *, const char *task_id, int hard, char *msg,
    size_t msglen);
/* Soft-cancels every unfinished run (freeze --stop); how many. */
size_t tasks_cancel_all(struct tasks *);
/* While frozen tasks_run refuses and nothing queued or retrying starts. */
void tasks_set_frozen(struct tasks *, int frozen);
/* The definitions as the API shows them: [{name, command, timeout_s, ...}]. */
json_t *tasks_defs_json(const struct tasks *);
/* Runs that are not finished (queued, running, retrying). */
size_t tasks_active(const struct tasks *);

#endif
