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
 *
 * A job's run (tasks_request.job) sees its job in its environment:
 * AGENTFLOW_JOB_ID, AGENTFLOW_JOB_EPOCH, AGENTFLOW_JOB_ATTEMPT (the job's
 * dispatch count), AGENTFLOW_TASK_ATTEMPT (this run's retry attempt),
 * AGENTFLOW_PAYLOAD_FILE (the payload, or "null" when the job has none)
 * and AGENTFLOW_RESULT_FILE (where the task may leave its JSON result).
 * Both files live in a private directory, <run_dir>/<task id> (0700, the
 * files 0600), made before the first attempt and removed once the run
 * is over and job_result was called.  The result file is removed before
 * each attempt, so a retry never hands out an earlier attempt's result.
 * Those names are dropped from the node's inherited environment for
 * every run, so a task never mistakes the node's own for its job's.
 *
 * No orphans: a run's processes die with their node.  Each attempt is
 * its own process group.  A stop of the node (tasks_free) SIGKILLs every
 * group, as before.  For a node that dies without stopping (kill -9, a
 * crash, the OOM killer) there is a guardian: one small process per
 * node, the node's own binary exec'd as "<guardian> --run-guardian" at
 * the first run.  The node tells it each group as it starts and ends
 * over a socket; when that socket reaches EOF (the kernel closes it
 * whatever way the node died) the guardian SIGKILLs every group it holds
 * and exits.  A process group, not only the direct child: "sh -c 'a &
 * b'" leaves grandchildren that PR_SET_PDEATHSIG alone would not reach
 * (the direct child gets that too, for the window before the guardian
 * hears of it).  Not cgroups: they need a delegated, writable hierarchy
 * that a home server's container or user service seldom has.  Exec'd
 * rather than forked: the node has gRPC threads, and a forked child of a
 * threaded process may only make async-signal-safe calls.  A guardian
 * that dies is started anew (and told every live group) when a run
 * starts, or at once when runs are live and it had lived a second.
 *
 * When the guardian dies with the node (both killed), what they left
 * runs on; so each group is also handed out through the group hook (the
 * node records it in SQLite) and tasks_leftovers_end, at the next start,
 * ends those still there: the group's leader still alive with the same
 * start time (field 22 of /proc/<pid>/stat) and the same boot, or the
 * leader gone but processes still in the group — a pgid cannot be handed
 * to a new process while any process is in that group, so those are
 * ours (unless the group emptied, its number went to a new group and that
 * group's leader died too, all between the crash and the restart: a pid
 * wrap-around we accept).  What escapes its group (setsid, setpgid)
 * escapes all of this;
 * background processes a run leaves when it ends normally stay, as
 * before, and are no longer its.
 */
#ifndef AGENTFLOW_TASKS_H
#define AGENTFLOW_TASKS_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mesh.pb-c.h"
#include "node_id.h"

struct tasks;

/* A run's process group, as a later start needs it to find leftovers. */
struct tasks_group {
	const char	*task_id;
	int		 pgid;		/* = pid of the attempt's first process */
	uint64_t	 start_ticks;	/* its start, /proc/<pid>/stat field 22 */
	const char	*boot_id;	/* /proc/sys/kernel/random/boot_id, or "" */
};

/* argv[1] of the guardian (see above); main() hands over to
 * tasks_guard_main when it sees it. */
#define TASKS_GUARD_FLAG	"--run-guardian"

struct tasks_hooks {
	void	(*update)(const Agentflow__Mesh__V1__TaskUpdate *, void *arg);
	void	(*log)(const Agentflow__Mesh__V1__TaskLog *, void *arg);
	void	 *arg;
	/*
	 * A run of a job ended (terminal state, after the last attempt):
	 * result is the JSON the task left in its result file (validated,
	 * <= TASKS_RESULT_MAX bytes, NUL-terminated) or NULL; why_no_result
	 * says why when the file was there but refused ("result over 65536
	 * bytes", "result is not JSON", "result is not a regular file").
	 * Called just before the terminal update.  May be NULL.
	 */
	void	(*job_result)(const char *task_id, const char *result,
		    size_t len, const char *why_no_result, void *arg);
	/* A run's process group started (running 1: record it) or is over
	 * (running 0: forget it).  May be NULL. */
	void	(*group)(const struct tasks_group *, int running, void *arg);
	/* tasks_leftovers_end ended what a previous life of the node left
	 * of task_id's run (logged already): for its history.  May be NULL. */
	void	(*leftover)(const char *task_id, int pgid, void *arg);
};

struct tasks_config {
	const json_t	*defs;		/* definitions (see above); NULL: none */
	int		 allow_adhoc;	/* accept argv lists not in defs */
	unsigned	 max_running;	/* node-wide, 0: 4 */
	uint64_t	 grace_ms;	/* soft cancel SIGTERM → SIGKILL, 0: 5000 */
	unsigned	 lines_per_s;	/* per task flood limit, 0: 1000 */
	const char	*id_prefix;	/* task ids are "<prefix>-<n>"; unique per start;
				 * id syntax, <= NODE_ID_PREFIX_MAX */
	/* Where job runs get their private directories (made 0700 when
	 * missing; what a previous life left there is removed).  NULL: no
	 * job support, job runs are refused as INVALID. */
	const char	*run_dir;
	/* The program exec'd as the guardian ("/proc/self/exe": the node's
	 * binary, whose main() knows TASKS_GUARD_FLAG).  NULL: none, runs
	 * die only with a stop of the node. */
	const char	*guardian;
};

#define TASKS_PAYLOAD_MAX	65536	/* bytes of a job's payload */
#define TASKS_RESULT_MAX	65536	/* bytes of a job's result */

/* A job's run; everything borrowed for the call of tasks_run. */
struct tasks_job {
	const char	*job_id;	/* id syntax */
	uint64_t	 epoch;		/* lease epoch, >= 1 */
	uint32_t	 attempt;	/* 1-based dispatch count of the job */
	const char	*payload;	/* JSON text, <= TASKS_PAYLOAD_MAX, or NULL */
	size_t		 payload_len;
};

/*
 * A service's process (node/work/services.h): a run of its own
 * definition, started at once whatever max_running says (services are
 * not queued work), never retried or timed out here (the service's
 * restart policy decides), and stopped with its own signal and grace.
 * Everything borrowed for the call of tasks_run.
 */
struct tasks_service {
	const char	*task_name;	/* the run's name; name syntax */
	char *const	*argv;		/* NULL-terminated, 1-64 */
	const char	*cwd;		/* NULL: the node's */
	char *const	*env;		/* "K=V", NULL-terminated; NULL: none */
	const char	*user;		/* run as this user (the node is root);
					 * NULL: as the node */
	int		 stop_signal;	/* soft cancel; 0: SIGTERM */
	uint64_t	 grace_ms;	/* then SIGKILL; 0: the node's grace */
};

struct tasks_request {
	const char	*name;		/* a defined task, or NULL with adhoc */
	const json_t	*args;		/* array of strings appended, or NULL */
	const json_t	*adhoc;		/* argv array for an ad-hoc run, or NULL */
	const char	*command_id;	/* may be NULL */
	const char	*principal;	/* may be NULL */
	const struct tasks_job *job;	/* or NULL: not a job's run */
	/* Or a service's process: name, args, adhoc and job NULL. */
	const struct tasks_service *service;
};

/* Whether this node can run a process as user (it must run as root, the
 * user must exist): 0 with the uid, gid and groups (*groups allocated),
 * or -1 with why in msg. */
int tasks_user_lookup(const char *user, uid_t *uid, gid_t *gid,
    gid_t **groups, int *ngroups, char *msg, size_t msglen);

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
 * disabled, frozen), INVALID (bad args or argv, a job without run_dir, a
 * bad job id, epoch 0, attempt 0, a payload over TASKS_PAYLOAD_MAX or not
 * JSON) with a reason in msg.
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

/*
 * At start, before any run: ends what the groups a previous life
 * recorded left running (see above), logs each ("ended leftover run from
 * a previous life") and calls the leftover hook.  Returns how many were
 * ended.  The caller then forgets the records.
 */
size_t tasks_leftovers_end(struct tasks *, const struct tasks_group *,
    size_t n);
/* The guardian's program: reads the node's socket on fd 3 until EOF,
 * then SIGKILLs the groups it was told of.  Returns main()'s status. */
int tasks_guard_main(void);

#endif
