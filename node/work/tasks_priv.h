/*
 * For tasks.c's siblings only (tasks_proc.c: the processes, their pipes
 * and signals; tasks_defs.c: the definitions of --tasks): the run, the
 * definition and the supervisor they share, and the functions each side
 * calls in the other.  Callers outside node/work/tasks*.c use tasks.h.
 *
 * Everything here runs on the loop thread; the state machine (tasks.c)
 * owns every struct run, the other files only act on the one handed in.
 */
#ifndef AGENTFLOW_TASKS_PRIV_H
#define AGENTFLOW_TASKS_PRIV_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <unistd.h>

#include "mesh.pb-c.h"
#include "node_id.h"
#include "tasks.h"

struct hmap;

#define LINE_MAX_BYTES		4096	/* TaskLog.text bound */
#define ARGV_MAX		64
#define ARG_MAX_BYTES		4096
#define REASON_MAX		1024
#define READ_CHUNK		65536
#define DEFAULT_BACKOFF_MS	1000

typedef Agentflow__Mesh__V1__TaskState task_state;

struct taskdef {
	char		 *name;
	char		**argv;		/* NULL-terminated */
	size_t		  argc;
	char		 *cwd;		/* NULL: the node's */
	char		**env;		/* "K=V", NULL-terminated */
	size_t		  envc;
	double		  timeout_s;	/* 0: none */
	unsigned	  retries;
	uint64_t	  backoff_ms;
	unsigned	  concurrency;	/* 0: no per-name limit (ad-hoc) */
	int		  allow_args;
	unsigned	  running;	/* attempts in progress */
	/* A service's user (tasks_service.user), resolved by the parent:
	 * the child only makes the calls. */
	int		  as_user;
	uid_t		  uid;
	gid_t		  gid;
	gid_t		 *groups;
	int		  ngroups;
};

/* Why we signalled the process group, which decides the final state. */
enum ending { END_NONE, END_TIMEOUT, END_SOFT, END_HARD };

struct run;

struct outstream {
	struct run	*run;
	int		 fd;		/* -1 once closed */
	struct event	*ev;
	Agentflow__Mesh__V1__LogStream stream;
	size_t		 len;
	char		*buf;		/* the line so far, LINE_MAX_BYTES while open */
};

struct run {
	struct tasks		*t;
	struct taskdef		*def;
	char			 id[NODE_ID_MAX + 1];
	char			**argv;		/* owned, NULL-terminated */
	char			*command_id;
	char			*principal;
	task_state		 state;
	unsigned		 attempt;
	unsigned		 max_attempts;
	int			 live;		/* an attempt is in progress */
	int			 ready;		/* on the ready FIFO */
	pid_t			 pid;		/* of the live attempt; its pgid */
	int			 reaped;
	int32_t			 exit_code;
	int32_t			 term_signal;
	enum ending		 ending;
	int			 escalated;	/* SIGKILL after the grace */
	struct outstream	 out;
	struct outstream	 err;
	struct event		*timeout_ev;
	struct event		*kill_ev;
	struct event		*drain_ev;
	struct event		*retry_ev;
	struct event		*poll_ev;
	uint64_t		 queued_ms;
	uint64_t		 started_ms;
	uint64_t		 finished_ms;
	uint64_t		 next_retry_ms;
	uint64_t		 line_seq;
	double			 tokens;	/* flood limit bucket */
	uint64_t		 refill_us;
	uint32_t		 dropped;	/* lines dropped since the last one out */
	char			 reason[REASON_MAX];
	/* A job's run (tasks_job.c); job_id NULL otherwise. */
	char			*job_id;
	uint64_t		 job_epoch;
	uint32_t		 job_attempt;
	char			*payload;	/* NUL-terminated; NULL: none */
	size_t			 payload_len;
	char			*job_dir;	/* made at the first attempt */
	uint64_t		 start_ticks;	/* of the live attempt's leader */
	/* A service's process: its own definition (def, freed with the
	 * run), signal and grace.  NULL/0 for every other run. */
	struct taskdef		*owndef;
	int			 stop_signal;
	uint64_t		 grace_ms;
	TAILQ_ENTRY(run)	 entry;		/* active or done */
	TAILQ_ENTRY(run)	 rentry;	/* ready */
};

TAILQ_HEAD(runlist, run);

struct tasks {
	struct event_base	*base;
	struct tasks_hooks	 hooks;
	struct taskdef		**defs;		/* sorted by name */
	size_t			 ndefs;
	struct hmap		*byname;	/* name → struct taskdef */
	struct taskdef		 adhoc;
	int			 allow_adhoc;
	unsigned		 max_running;
	uint64_t		 grace_ms;
	unsigned		 lines_per_s;
	char			 prefix[NODE_ID_PREFIX_MAX + 1];
	uint64_t		 next_id;
	int			 frozen;
	int			 stopping;
	unsigned		 running;	/* attempts in progress */
	unsigned		 running_services; /* of them, services' */
	size_t			 nactive;
	size_t			 ndone;
	struct runlist		 active;
	struct runlist		 done;
	struct runlist		 readyq;
	struct hmap		*byid;		/* id → struct run, active and done */
	struct event		*sigchld_ev;
	struct event		*kick_ev;	/* deferred: start what may start */
	struct event		*gc_ev;		/* deferred: trim the history */
	uint64_t		 prng;		/* splitmix64 state for jitter */
	long			 maxfd;		/* close() bound without close_range */
	char			*run_dir;	/* NULL: no job runs */
	char			*guard_exe;	/* NULL: no guardian */
	int			 guard_fd;	/* -1: not running */
	pid_t			 guard_pid;	/* 0: none to reap */
	uint64_t		 guard_started_ms;
	char			 boot_id[40];
	char			 rbuf[READ_CHUNK];
	char			 lbuf[LINE_MAX_BYTES + 1];
};

/* tasks_defs.c.  Frees a definition (NULL: no-op). */
void tasks_def_free(struct taskdef *);
/* tasks_defs.c.  A service's definition for r (tasks_run), or NULL with
 * msg set when its argv, cwd or env breaks a task definition's bounds. */
struct taskdef *tasks_def_service(const struct tasks_service *, char *msg,
    size_t msglen);

/* tasks.c.  r->reason, printf-style, sanitized. */
void tasks_set_reason(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The signal and grace of r's soft cancel. */
int tasks_stop_signal(const struct run *r);
uint64_t tasks_grace_ms(const struct run *r);
/* Ends the live attempt once its process is reaped and both pipes are
 * closed; otherwise does nothing.  May run hooks: r may be finished (but
 * not freed) on return. */
void tasks_maybe_end(struct run *r);

/*
 * tasks_proc.c.  Forks and execs r->argv in its own process group.
 * Returns 0 with r->pid and the pipes set (not yet watched), or -1 with
 * r->reason set.
 */
int tasks_proc_spawn(struct run *r);
/* sig to r's process group, when it has one. */
void tasks_proc_kill(struct run *r, int sig);
/* At node stop: SIGKILLs the group, waits for the process (recording its
 * status), drops buffered output and closes both pipes. */
void tasks_proc_stop(struct run *r);
/* A line (or a continued piece, len <= LINE_MAX_BYTES) through the log
 * hook, with the count of lines dropped before it. */
void tasks_proc_emit_log(struct run *r, Agentflow__Mesh__V1__LogStream stream,
    const char *text, size_t len, int continued);
/* Event callbacks.  arg: struct tasks (sigchld), struct outstream (read),
 * struct run (the others). */
void tasks_proc_sigchld_cb(evutil_socket_t, short, void *arg);
void tasks_proc_read_cb(evutil_socket_t, short, void *arg);
void tasks_proc_poll_cb(evutil_socket_t, short, void *arg);
void tasks_proc_drain_cb(evutil_socket_t, short, void *arg);
void tasks_proc_timeout_cb(evutil_socket_t, short, void *arg);
void tasks_proc_kill_cb(evutil_socket_t, short, void *arg);

/*
 * tasks_job.c: a job's run.  tasks_job_init makes t's run directory and
 * clears what a previous life left in it (-1 with err).
 */
int tasks_job_init(struct tasks *t, const char *run_dir, char *err,
    size_t errlen);
/* Checks req's job against what tasks_run accepts: an
 * Agentflow__Mesh__V1__CommandStatus, with msg set unless OK. */
int tasks_job_check(const struct tasks *t, const struct tasks_job *job,
    char *msg, size_t msglen);
/* Copies a checked job into r. */
void tasks_job_attach(struct run *r, const struct tasks_job *job);
/* Before each attempt: the directory and payload there, no result.  -1
 * with r->reason set. */
int tasks_job_prepare(struct run *r);
#define TASKS_JOB_ENV_N	6
/* The job's "K=V" strings, TASKS_JOB_ENV_N of them (the caller frees
 * each), for a job's run; 0 for any other run. */
size_t tasks_job_env(const struct run *r, char **out);
/* Whether the environment entry kv ("K=V") is one of the job names. */
int tasks_job_env_name(const char *kv);
/* r ended for good: its result through the hook, then the directory goes.
 * Nothing for a run that is not a job's. */
void tasks_job_finish(struct run *r);
/* Frees r's job fields. */
void tasks_job_clear(struct run *r);

/*
 * tasks_guard.c: the guardian and leftovers (tasks.h).  tasks_guard_init
 * reads the boot id and notes the program (nothing starts yet).
 */
void tasks_guard_init(struct tasks *t, const char *guardian);
/* r's group started: the guardian hears of it (started first when
 * needed), then the group hook.  Right after the fork: r->pid is set. */
void tasks_guard_watch(struct run *r);
/* r's group is over (before r->pid is cleared): the guardian and the
 * group hook forget it. */
void tasks_guard_forget(struct run *r);
/* From SIGCHLD: reaps a guardian that died and starts another when runs
 * are live. */
void tasks_guard_reap(struct tasks *t);
/* At tasks_free, after every group is gone: the guardian exits. */
void tasks_guard_stop(struct tasks *t);
/* tasks_proc.c: between fork and exec, async-signal-safe: default
 * dispositions, nothing blocked.  -1 on failure. */
int tasks_proc_child_signals(void);

/*
 * tasks_defs.c.  Parses defs (a JSON object, name → definition) into
 * t->defs, sorted by name, and t->byname.  -1 with err naming the task
 * and the field; what was parsed until then stays in t for
 * tasks_defs_clear.
 */
int tasks_defs_load(struct tasks *t, const json_t *defs, char *err,
    size_t errlen);
/* Frees t's definitions (not t->byname, which only borrows them). */
void tasks_defs_clear(struct tasks *t);

#endif
