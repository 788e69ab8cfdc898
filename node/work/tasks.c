/*
 * Task supervision (see tasks.h).
 *
 * Every run lives on the loop thread.  A run is in exactly one of three
 * places: the active list (queued, running, retrying; queued and retrying
 * runs that may start are also on the ready FIFO), or the done list (a
 * bounded history, so tasks_cancel can tell "finished" from "unknown").
 *
 *   state      event                         function         next
 *   ---------  ----------------------------  ---------------  ------------
 *   (new)      accepted                      tasks_run        QUEUED
 *   QUEUED     slot free, not frozen         start_attempt    RUNNING
 *   QUEUED     cancel                        tasks_cancel     CANCELLED
 *   RUNNING    exec/chdir failed             start_attempt    FAILED
 *   RUNNING    reaped and both pipes closed  end_attempt      SUCCEEDED
 *                                                             FAILED
 *                                                             TIMED_OUT
 *                                                             CANCELLED
 *                                                             RETRYING
 *   RETRYING   backoff over (→ ready FIFO)   retry_cb         (waits)
 *   RETRYING   slot free, not frozen         start_attempt    RUNNING
 *   RETRYING   cancel                        tasks_cancel     CANCELLED
 *   any active node stops                    tasks_free       FAILED
 *
 * An attempt ends only when its process has been reaped and both output
 * pipes are closed, so every line it wrote is handed out before its end.
 * A grandchild that keeps a pipe open gets DRAIN_MS after the reap, then
 * the pipes are closed regardless.  Children are reaped by pid only
 * (waitpid(pid), never waitpid(-1)): other code in the process may have
 * children of its own.
 *
 * Hooks may call tasks_run, tasks_cancel and tasks_set_frozen (never
 * tasks_free).  So that a hook can never pull a run out from under the
 * code that called it, every transition emits its update as its last
 * step, tasks_cancel never closes pipes itself, starts happen only from
 * the deferred kick event, and runs are freed only from the deferred gc
 * event.
 */
#include "tasks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "hmap.h"
#include "json_check.h"
#include "log.h"
#include "mesh_names.h"
#include "node_id.h"
#include "text.h"
#include "xalloc.h"

#define LINE_MAX_BYTES		4096	/* TaskLog.text bound */
#define ARGV_MAX		64
#define ARG_MAX_BYTES		4096
#define ENV_MAX			256
#define HISTORY_MAX		256	/* finished runs remembered */
#define DRAIN_MS		1000	/* pipes kept open after the reap */
#define POLL_MS			1000	/* waitpid fallback should SIGCHLD be lost */
#define BACKOFF_CAP_MS		600000
#define TIMEOUT_MAX_S		31536000.0	/* a year; keeps timevals sane */
#define REASON_MAX		1024
#define READ_CHUNK		65536
#define PREFIX_MAX		40	/* "<prefix>-<uint64>" stays an id */
#define DEFAULT_MAX_RUNNING	4
#define DEFAULT_GRACE_MS	5000
#define DEFAULT_LINES_PER_S	1000
#define DEFAULT_BACKOFF_MS	1000
#define ADHOC_NAME		"adhoc"

typedef Agentflow__Mesh__V1__TaskState task_state;

extern char **environ;

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
	char			 prefix[PREFIX_MAX + 1];
	uint64_t		 next_id;
	int			 frozen;
	int			 stopping;
	unsigned		 running;	/* attempts in progress */
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
	char			 rbuf[READ_CHUNK];
	char			 lbuf[LINE_MAX_BYTES + 1];
};

static void
check_run(const struct run *r)
{
	/* Only a running run has a live attempt, and only a live attempt
	 * has a process or open pipes; only a waiting run is ready. */
	CHECK(!r->live || r->state == MESH_TASK_STATE(RUNNING));
	CHECK(r->live || (r->out.fd == -1 && r->err.fd == -1));
	CHECK(!r->ready || r->state == MESH_TASK_STATE(QUEUED) ||
	    r->state == MESH_TASK_STATE(RETRYING));
	CHECK(!mesh_names_task_state_terminal(r->state) || (!r->live && !r->ready));
}

/* ---- text ---------------------------------------------------------- */

static void
set_reason(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_reason(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	/* Truncation may have split a sequence; names come from configs. */
	text_sanitize(r->reason, strlen(r->reason));
}

/* ---- hooks --------------------------------------------------------- */

static void
emit_update(struct run *r)
{
	Agentflow__Mesh__V1__TaskUpdate u = AGENTFLOW__MESH__V1__TASK_UPDATE__INIT;
	struct tasks *t = r->t;

	check_run(r);
	u.task_id = r->id;
	u.name = r->def->name;
	u.state = r->state;
	u.attempt = r->attempt;
	u.max_attempts = r->max_attempts;
	u.exit_code = r->exit_code;
	u.term_signal = r->term_signal;
	u.reason = r->reason;
	u.queued_ms = r->queued_ms;
	u.started_ms = r->started_ms;
	u.finished_ms = r->finished_ms;
	u.next_retry_ms = r->next_retry_ms;
	u.command_id = r->command_id;
	u.principal = r->principal;
	if (t->hooks.update != NULL)
		t->hooks.update(&u, t->hooks.arg);
}

static void
emit_log(struct run *r, Agentflow__Mesh__V1__LogStream stream,
    const char *text, size_t len, int continued)
{
	Agentflow__Mesh__V1__TaskLog l = AGENTFLOW__MESH__V1__TASK_LOG__INIT;
	struct tasks *t = r->t;

	CHECK(len <= LINE_MAX_BYTES);
	memcpy(t->lbuf, text, len);
	t->lbuf[len] = '\0';
	text_sanitize(t->lbuf, len);
	l.task_id = r->id;
	l.stream = stream;
	l.line_seq = ++r->line_seq;
	l.text = t->lbuf;
	l.dropped = r->dropped;
	l.continued = continued != 0;
	r->dropped = 0;
	if (t->hooks.log != NULL)
		t->hooks.log(&l, t->hooks.arg);
}

/* One token of the run's bucket (lines_per_s, burst lines_per_s). */
static int
take_token(struct run *r)
{
	double rate = r->t->lines_per_s;
	uint64_t now = clock_mono_us();

	r->tokens += (double)(now - r->refill_us) * rate / 1e6;
	if (r->tokens > rate)
		r->tokens = rate;
	r->refill_us = now;
	if (r->tokens < 1.0)
		return 0;
	r->tokens -= 1.0;
	return 1;
}

static void
line_out(struct outstream *os, const char *text, size_t len, int continued)
{
	struct run *r = os->run;

	if (!take_token(r)) {
		if (r->dropped < UINT32_MAX)
			r->dropped++;
		return;
	}
	emit_log(r, os->stream, text, len, continued);
}

/* Splits bytes into lines; a full buffer goes out as a continued piece. */
static void
feed(struct outstream *os, const char *p, size_t n)
{
	size_t i, cut;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line_out(os, os->buf, os->len, 0);
			os->len = 0;
			continue;
		}
		if (os->len == LINE_MAX_BYTES) {
			cut = text_cut(os->buf, os->len);
			line_out(os, os->buf, cut, 1);
			memmove(os->buf, os->buf + cut, os->len - cut);
			os->len -= cut;
		}
		os->buf[os->len++] = p[i];
	}
}

/* ---- processes ----------------------------------------------------- */

static void
group_kill(struct run *r, int sig)
{
	if (r->pid <= 0)
		return;
	if (kill(-r->pid, sig) == -1 && errno != ESRCH)
		log_warn("cannot signal task %s (pgid %ld)", r->id, (long)r->pid);
}

static void
record_status(struct run *r, int status)
{
	if (WIFEXITED(status)) {
		r->exit_code = WEXITSTATUS(status);
		r->term_signal = 0;
	} else if (WIFSIGNALED(status)) {
		r->exit_code = 0;
		r->term_signal = WTERMSIG(status);
	}
}

/* A run whose pipes are closed and whose process is reaped is over. */
static void end_attempt(struct run *);

static void
maybe_end(struct run *r)
{
	if (r->live && r->reaped && r->out.fd == -1 && r->err.fd == -1)
		end_attempt(r);
}

static void
stream_close(struct outstream *os)
{
	if (os->fd == -1)
		return;
	event_del(os->ev);
	if (close(os->fd) == -1)
		log_warn("close of task %s output", os->run->id);
	os->fd = -1;
	/* A last line without its newline still counts. */
	if (os->len > 0)
		line_out(os, os->buf, os->len, 0);
	os->len = 0;
	/* A finished run stays in the history: without its buffers. */
	free(os->buf);
	os->buf = NULL;
}

static void
reaped(struct run *r, int status, int lost)
{
	struct timeval tv = { DRAIN_MS / 1000, (DRAIN_MS % 1000) * 1000 };

	r->reaped = 1;
	if (lost) {
		r->exit_code = -1;
		r->term_signal = 0;
	} else
		record_status(r, status);
	event_del(r->timeout_ev);
	event_del(r->kill_ev);
	event_del(r->poll_ev);
	/* We were asked to end the task: whatever it left in its group
	 * goes too.  The group still holds the pgid while it has members,
	 * so this cannot hit a stranger. */
	if (r->ending != END_NONE)
		group_kill(r, SIGKILL);
	if (r->out.fd != -1 || r->err.fd != -1)
		evtimer_add(r->drain_ev, &tv);
}

/* waitpid for this run's process only; 1 when it is reaped now. */
static int
try_reap(struct run *r)
{
	pid_t rc;
	int status = 0;

	if (!r->live || r->reaped || r->pid <= 0)
		return 0;
	do
		rc = waitpid(r->pid, &status, WNOHANG);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		/* Someone else waited for it; its status is gone. */
		log_warn("waitpid for task %s (pid %ld)", r->id, (long)r->pid);
		reaped(r, 0, 1);
		return 1;
	}
	reaped(r, status, 0);
	return 1;
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct tasks *t = arg;
	struct run *r;

	(void)sig;
	(void)what;
	/* A hook may add or end runs; rescan after every reap. */
again:
	TAILQ_FOREACH(r, &t->active, entry) {
		if (try_reap(r)) {
			maybe_end(r);
			goto again;
		}
	}
}

static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (try_reap(r))
		maybe_end(r);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outstream *os = arg;
	struct run *r = os->run;
	ssize_t n;

	(void)what;
	n = read(fd, r->t->rbuf, sizeof r->t->rbuf);
	if (n > 0) {
		feed(os, r->t->rbuf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1)
		log_warn("read of task %s output", r->id);
	stream_close(os);
	/* EOF usually means the process is gone: do not wait on SIGCHLD. */
	try_reap(r);
	maybe_end(r);
}

/* The grace after the reap is over: read what is there, then close. */
static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct outstream *streams[2] = { &r->out, &r->err };
	ssize_t n;
	int i, rounds;

	(void)fd;
	(void)what;
	if (!r->live)
		return;
	for (i = 0; i < 2; i++) {
		struct outstream *os = streams[i];

		for (rounds = 0; os->fd != -1 && rounds < 16; rounds++) {
			n = read(os->fd, r->t->rbuf, sizeof r->t->rbuf);
			if (n <= 0)
				break;
			feed(os, r->t->rbuf, (size_t)n);
		}
		if (os->fd != -1)
			log_info("task %s: closing its %s after the process ended "
			    "(a child of it still holds it)", r->id,
			    mesh_names_log_stream(os->stream));
		stream_close(os);
	}
	maybe_end(r);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (!r->live || r->reaped || r->ending != END_NONE)
		return;
	r->ending = END_TIMEOUT;
	group_kill(r, SIGTERM);
	tv.tv_sec = (time_t)(r->t->grace_ms / 1000);
	tv.tv_usec = (suseconds_t)(r->t->grace_ms % 1000) * 1000;
	evtimer_add(r->kill_ev, &tv);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (!r->live || r->reaped)
		return;
	r->escalated = 1;
	group_kill(r, SIGKILL);
}

/* ---- spawning ------------------------------------------------------ */

enum child_stage { STAGE_SETUP, STAGE_CHDIR, STAGE_EXEC };

struct child_report {
	int	stage;
	int	err;
};

static void __attribute__((noreturn))
child_fail(int stfd, int stage)
{
	struct child_report rep = { stage, errno };
	ssize_t n;

	n = write(stfd, &rep, sizeof rep);
	(void)n;
	_exit(127);
}

/*
 * The child between fork and exec.  The node has other threads, so only
 * async-signal-safe calls here: everything that allocates was prepared
 * by the parent.
 */
static void __attribute__((noreturn))
child_exec(char *const argv[], const char *cwd, char **envp, int outw,
    int errw, int stfd, long maxfd)
{
	struct sigaction dfl;
	sigset_t none;
	int sig, nullfd;
	long fd;

	/* Dispositions the node ignored would survive exec; handlers of
	 * the node (libevent's) must not run here. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		child_fail(stfd, STAGE_SETUP);
	if (setpgid(0, 0) == -1)
		child_fail(stfd, STAGE_SETUP);
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		child_fail(stfd, STAGE_SETUP);
	if (dup2(nullfd, 0) == -1 || dup2(outw, 1) == -1 ||
	    dup2(errw, 2) == -1)
		child_fail(stfd, STAGE_SETUP);
	/* The report pipe goes to 3 (its pipe fds are all above 2 and
	 * nothing else is needed now), everything above it closes. */
	if (stfd != 3) {
		if (dup3(stfd, 3, O_CLOEXEC) == -1)
			child_fail(stfd, STAGE_SETUP);
		stfd = 3;
	}
	if (close_range(4, ~0U, 0) == -1)
		for (fd = 4; fd < maxfd; fd++)
			(void)close((int)fd);
	if (cwd != NULL && chdir(cwd) == -1)
		child_fail(stfd, STAGE_CHDIR);
	/* execvp then searches the task's own PATH, as env(1) would. */
	environ = envp;
	execvp(argv[0], argv);
	child_fail(stfd, STAGE_EXEC);
}

/* fd moved above 2 so that the child's dup2 onto 0-2 cannot clobber it. */
static int
fd_above2(int fd)
{
	int nfd;

	if (fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	(void)close(fd);
	return nfd;
}

/* environ, minus the names the definition sets, plus the definition's. */
static char **
build_env(const struct taskdef *d)
{
	size_t n = 0, i, j, k = 0;
	char **envp;

	while (environ != NULL && environ[n] != NULL)
		n++;
	envp = xcalloc(n + d->envc + 1, sizeof *envp);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - environ[i]) :
		    strlen(environ[i]);
		int overridden = 0;

		for (j = 0; j < d->envc && !overridden; j++)
			overridden = strncmp(d->env[j], environ[i], klen) == 0 &&
			    d->env[j][klen] == '=';
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (j = 0; j < d->envc; j++)
		envp[k++] = d->env[j];
	envp[k] = NULL;
	return envp;
}

/*
 * Forks and execs the run's argv.  Returns 0 with r->pid and the pipes
 * set, or -1 with r->reason set.  The parent waits on a close-on-exec
 * pipe until the exec, so an exec failure is known here (the classic
 * self-pipe trick); the wait is as short as posix_spawn's.
 */
static int
spawn(struct run *r)
{
	struct tasks *t = r->t;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, st[2] = { -1, -1 };
	struct child_report rep;
	sigset_t all, old;
	char **envp;
	ssize_t n;
	pid_t pid;
	int i, status, *fds[3] = { outp, errp, st };

	for (i = 0; i < 3; i++) {
		if (pipe2(fds[i], O_CLOEXEC) == -1) {
			set_reason(r, "cannot create pipes: %s", strerror(errno));
			goto fail;
		}
		fds[i][0] = fd_above2(fds[i][0]);
		fds[i][1] = fd_above2(fds[i][1]);
		if (fds[i][0] == -1 || fds[i][1] == -1) {
			set_reason(r, "cannot move pipes: %s", strerror(errno));
			goto fail;
		}
	}
	if (fcntl(outp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1) {
		set_reason(r, "cannot make pipes nonblocking: %s",
		    strerror(errno));
		goto fail;
	}
	envp = build_env(r->def);
	/* No signal handler of ours may run in the child before it has
	 * reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(r->argv, r->def->cwd, envp, outp[1], errp[1], st[1],
		    t->maxfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(envp);
	if (pid == -1) {
		set_reason(r, "cannot fork: %s", strerror(errno));
		goto fail;
	}
	/* Both sides set the group so that no kill(-pid) finds it unset;
	 * EACCES means the child has exec'd, having done it itself. */
	if (setpgid(pid, pid) == -1 && errno != EACCES && errno != ESRCH)
		log_warn("setpgid for task %s", r->id);
	(void)close(outp[1]);
	(void)close(errp[1]);
	(void)close(st[1]);
	outp[1] = errp[1] = st[1] = -1;
	do
		n = read(st[0], &rep, sizeof rep);
	while (n == -1 && errno == EINTR);
	(void)close(st[0]);
	st[0] = -1;
	if (n == (ssize_t)sizeof rep) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (rep.stage == STAGE_EXEC)
			set_reason(r, "cannot exec %s: %s", r->argv[0],
			    strerror(rep.err));
		else if (rep.stage == STAGE_CHDIR)
			set_reason(r, "cannot chdir to %s: %s", r->def->cwd,
			    strerror(rep.err));
		else
			set_reason(r, "cannot set up the child: %s",
			    strerror(rep.err));
		goto fail;
	}
	if (n == -1)
		log_warn("task %s: reading the exec report", r->id);
	r->pid = pid;
	r->out.fd = outp[0];
	r->err.fd = errp[0];
	r->out.buf = xmalloc(LINE_MAX_BYTES);
	r->err.buf = xmalloc(LINE_MAX_BYTES);
	return 0;
fail:
	for (i = 0; i < 3; i++) {
		if (fds[i][0] != -1)
			(void)close(fds[i][0]);
		if (fds[i][1] != -1)
			(void)close(fds[i][1]);
	}
	return -1;
}

/* ---- transitions --------------------------------------------------- */

static void
kick(struct tasks *t)
{
	event_active(t->kick_ev, EV_TIMEOUT, 0);
}

/* Moves r into the history; the update is the last thing done. */
static void
finish(struct run *r, task_state state)
{
	struct tasks *t = r->t;
	char marker[64];

	if (r->ready) {
		TAILQ_REMOVE(&t->readyq, r, rentry);
		r->ready = 0;
	}
	event_del(r->retry_ev);
	r->state = state;
	r->finished_ms = clock_wall_ms();
	r->next_retry_ms = 0;
	TAILQ_REMOVE(&t->active, r, entry);
	t->nactive--;
	TAILQ_INSERT_TAIL(&t->done, r, entry);
	t->ndone++;
	if (t->ndone > HISTORY_MAX)
		event_active(t->gc_ev, EV_TIMEOUT, 0);
	kick(t);
	if (r->dropped > 0) {
		/* Said on stderr: it is the supervisor talking, not stdout. */
		snprintf(marker, sizeof marker, "[%" PRIu32 " lines dropped]",
		    r->dropped);
		emit_log(r, MESH_LOG_STREAM(STDERR), marker, strlen(marker), 0);
	}
	emit_update(r);
}

static uint64_t
prng_next(struct tasks *t)
{
	uint64_t z = (t->prng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* base * 2^(attempt-1), ±20% so that retries do not fall into step. */
static uint64_t
backoff_ms(struct tasks *t, uint64_t base, unsigned attempt)
{
	double d = (double)base * ldexp(1.0, (int)attempt - 1);
	double u = (double)(prng_next(t) >> 11) / 9007199254740992.0;

	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	d *= 0.8 + 0.4 * u;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	return (uint64_t)d;
}

static void
end_attempt(struct run *r)
{
	struct tasks *t = r->t;
	char what[128];
	struct timeval tv;
	uint64_t delay;

	r->live = 0;
	r->def->running--;
	t->running--;
	event_del(r->timeout_ev);
	event_del(r->kill_ev);
	event_del(r->drain_ev);
	event_del(r->poll_ev);
	r->pid = 0;
	check_run(r);

	if (r->term_signal != 0)
		snprintf(what, sizeof what, "killed by signal %d (%s)",
		    r->term_signal, strsignal(r->term_signal));
	else if (r->exit_code == -1)
		snprintf(what, sizeof what, "lost (reaped by other code)");
	else
		snprintf(what, sizeof what, "exited with status %d",
		    r->exit_code);

	switch (r->ending) {
	case END_SOFT:
		if (r->escalated)
			set_reason(r, "cancelled (soft); killed after %" PRIu64
			    " ms grace", t->grace_ms);
		else
			set_reason(r, "cancelled (soft); %s", what);
		finish(r, MESH_TASK_STATE(CANCELLED));
		return;
	case END_HARD:
		set_reason(r, "cancelled (hard)");
		finish(r, MESH_TASK_STATE(CANCELLED));
		return;
	case END_TIMEOUT:
		/* Timeouts are not retried: the next attempt would most
		 * likely hang the same way. */
		set_reason(r, "timed out after %g s%s", r->def->timeout_s,
		    r->escalated ? " (killed after the grace)" : "");
		finish(r, MESH_TASK_STATE(TIMED_OUT));
		return;
	case END_NONE:
		break;
	}
	if (r->term_signal == 0 && r->exit_code == 0) {
		set_reason(r, "%s", what);
		finish(r, MESH_TASK_STATE(SUCCEEDED));
		return;
	}
	if (r->attempt >= r->max_attempts) {
		if (r->max_attempts > 1)
			set_reason(r, "%s (attempt %u of %u)", what, r->attempt,
			    r->max_attempts);
		else
			set_reason(r, "%s", what);
		finish(r, MESH_TASK_STATE(FAILED));
		return;
	}
	delay = backoff_ms(t, r->def->backoff_ms, r->attempt);
	r->state = MESH_TASK_STATE(RETRYING);
	r->next_retry_ms = clock_wall_ms() + delay;
	set_reason(r, "%s (attempt %u of %u); retrying in %.1f s", what,
	    r->attempt, r->max_attempts, (double)delay / 1000.0);
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(r->retry_ev, &tv);
	kick(t);
	emit_update(r);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (r->state != MESH_TASK_STATE(RETRYING) || r->ready)
		return;
	TAILQ_INSERT_TAIL(&r->t->readyq, r, rentry);
	r->ready = 1;
	kick(r->t);
}

static void
start_attempt(struct run *r)
{
	struct tasks *t = r->t;
	struct timeval tv;
	double secs;

	r->attempt++;
	r->state = MESH_TASK_STATE(RUNNING);
	r->started_ms = clock_wall_ms();
	r->next_retry_ms = 0;
	r->exit_code = 0;
	r->term_signal = 0;
	r->ending = END_NONE;
	r->escalated = 0;
	r->reaped = 0;
	r->reason[0] = '\0';
	if (spawn(r) == -1) {
		/* Retrying would meet the same missing program or
		 * directory; the reason says what to fix. */
		r->exit_code = 127;
		log_warnx("task %s (%s): %s", r->id, r->def->name, r->reason);
		finish(r, MESH_TASK_STATE(FAILED));
		return;
	}
	r->live = 1;
	r->def->running++;
	t->running++;
	/* Events of the previous attempt are not pending any more, and no
	 * callback of theirs is on the stack: starts come from kick_cb. */
	if (r->out.ev != NULL)
		event_free(r->out.ev);
	if (r->err.ev != NULL)
		event_free(r->err.ev);
	r->out.ev = event_new(t->base, r->out.fd, EV_READ | EV_PERSIST,
	    read_cb, &r->out);
	r->err.ev = event_new(t->base, r->err.fd, EV_READ | EV_PERSIST,
	    read_cb, &r->err);
	/* libevent allocates; like xalloc, fatal */
	CHECK(r->out.ev != NULL && r->err.ev != NULL);
	r->out.len = r->err.len = 0;
	event_add(r->out.ev, NULL);
	event_add(r->err.ev, NULL);
	if (r->def->timeout_s > 0) {
		secs = floor(r->def->timeout_s);
		tv.tv_sec = (time_t)secs;
		tv.tv_usec = (suseconds_t)((r->def->timeout_s - secs) * 1e6);
		evtimer_add(r->timeout_ev, &tv);
	}
	tv.tv_sec = POLL_MS / 1000;
	tv.tv_usec = (POLL_MS % 1000) * 1000;
	evtimer_add(r->poll_ev, &tv);
	log_event(LOG_INFO, "task started", "{s:s, s:s, s:i, s:i}", "task",
	    r->id, "name", r->def->name, "attempt", (int)r->attempt, "pid",
	    (int)r->pid);
	emit_update(r);
}

/* Starts ready runs, FIFO among those whose name has a free slot. */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tasks *t = arg;
	struct run *r;

	(void)fd;
	(void)what;
	while (!t->frozen && !t->stopping && t->running < t->max_running) {
		TAILQ_FOREACH(r, &t->readyq, rentry)
			if (r->def->concurrency == 0 ||
			    r->def->running < r->def->concurrency)
				break;
		if (r == NULL)
			break;
		TAILQ_REMOVE(&t->readyq, r, rentry);
		r->ready = 0;
		start_attempt(r);
	}
}

static void
run_free(struct run *r)
{
	struct event **evs[] = { &r->out.ev, &r->err.ev, &r->timeout_ev,
	    &r->kill_ev, &r->drain_ev, &r->retry_ev, &r->poll_ev };
	size_t i;
	char **a;

	for (i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (*evs[i] != NULL)
			event_free(*evs[i]);
	for (a = r->argv; a != NULL && *a != NULL; a++)
		free(*a);
	free(r->argv);
	free(r->out.buf);
	free(r->err.buf);
	free(r->command_id);
	free(r->principal);
	free(r);
}

static void
gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tasks *t = arg;
	struct run *r;

	(void)fd;
	(void)what;
	while (t->ndone > HISTORY_MAX) {
		r = TAILQ_FIRST(&t->done);
		TAILQ_REMOVE(&t->done, r, entry);
		t->ndone--;
		hmap_del(t->byid, r->id);
		run_free(r);
	}
}

/* ---- definitions --------------------------------------------------- */

static void
def_free(struct taskdef *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	for (i = 0; i < d->envc; i++)
		free(d->env[i]);
	free(d->env);
	free(d->cwd);
	free(d->name);
	free(d);
}

static int
env_name_valid(const char *k)
{
	size_t i;

	if (k[0] == '\0' || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (i = 0; k[i] != '\0'; i++)
		if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
			return 0;
	return 1;
}

static const char *const def_keys[] = { "command", "cwd", "env", "timeout_s",
    "retries", "retry_backoff_ms", "concurrency", "allow_args" };

static struct taskdef *
def_parse(const char *name, const json_t *o, char *err, size_t errlen)
{
	struct taskdef *d;
	const json_t *v, *e;
	const char *k;
	json_int_t iv;
	size_t i, n;

#define BAD(...) do {							\
		int off_ = snprintf(err, errlen, "task \"%s\": ", name);	\
		if (off_ >= 0 && (size_t)off_ < errlen)			\
			snprintf(err + off_, errlen - (size_t)off_, __VA_ARGS__); \
		def_free(d);						\
		return NULL;						\
	} while (0)

	d = xcalloc(1, sizeof *d);
	d->name = xstrdup(name);
	d->backoff_ms = DEFAULT_BACKOFF_MS;
	d->concurrency = 1;
	if (!json_is_object(o))
		BAD("the definition must be an object");
	if ((k = json_check_keys(o, def_keys, sizeof def_keys /
	    sizeof def_keys[0])) != NULL)
		BAD("unknown field \"%s\"", k);

	v = json_object_get(o, "command");
	n = json_array_size(v);
	if (!json_is_array(v) || n < 1 || n > ARGV_MAX)
		BAD("\"command\" must be an array of 1-%d strings", ARGV_MAX);
	d->argv = xcalloc(n + 1, sizeof *d->argv);
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		if (!json_check_text(e, i == 0 ? 1 : 0, ARG_MAX_BYTES, false))
			BAD("\"command\" must be an array of 1-%d strings "
			    "(non-empty program, no NUL, at most %d bytes each)",
			    ARGV_MAX, ARG_MAX_BYTES);
		d->argv[i] = xstrdup(json_string_value(e));
		d->argc++;
	}

	if ((v = json_object_get(o, "cwd")) != NULL) {
		if (!json_check_text(v, 1, 4096, false))
			BAD("\"cwd\" must be a non-empty string");
		d->cwd = xstrdup(json_string_value(v));
	}

	if ((v = json_object_get(o, "env")) != NULL) {
		if (!json_is_object(v) || json_object_size(v) > ENV_MAX)
			BAD("\"env\" must be an object of at most %d strings",
			    ENV_MAX);
		d->env = xcalloc(json_object_size(v) + 1, sizeof *d->env);
		json_object_foreach((json_t *)v, k, e) {
			size_t klen = strlen(k), vlen;
			char *kv;

			if (!env_name_valid(k))
				BAD("\"env\": \"%s\" is not a variable name "
				    "([A-Za-z_][A-Za-z0-9_]*)", k);
			if (!json_check_text(e, 0, ARG_MAX_BYTES, false))
				BAD("\"env\": \"%s\" must be a string of at "
				    "most %d bytes without NUL", k,
				    ARG_MAX_BYTES);
			vlen = json_string_length(e);
			kv = xmalloc(klen + vlen + 2);
			memcpy(kv, k, klen);
			kv[klen] = '=';
			memcpy(kv + klen + 1, json_string_value(e), vlen + 1);
			d->env[d->envc++] = kv;
		}
	}

	if ((v = json_object_get(o, "timeout_s")) != NULL) {
		if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
		    json_number_value(v) > TIMEOUT_MAX_S)
			BAD("\"timeout_s\" must be a number of seconds 0-%.0f "
			    "(0: none)", TIMEOUT_MAX_S);
		d->timeout_s = json_number_value(v);
	}
	if ((v = json_object_get(o, "retries")) != NULL) {
		if (!json_check_int(v, 0, 10, &iv))
			BAD("\"retries\" must be an integer 0-10");
		d->retries = (unsigned)iv;
	}
	if ((v = json_object_get(o, "retry_backoff_ms")) != NULL) {
		if (!json_check_int(v, 0, 3600000, &iv))
			BAD("\"retry_backoff_ms\" must be an integer 0-3600000");
		d->backoff_ms = (uint64_t)iv;
	}
	if ((v = json_object_get(o, "concurrency")) != NULL) {
		if (!json_check_int(v, 1, 64, &iv))
			BAD("\"concurrency\" must be an integer 1-64");
		d->concurrency = (unsigned)iv;
	}
	if ((v = json_object_get(o, "allow_args")) != NULL) {
		if (!json_is_boolean(v))
			BAD("\"allow_args\" must be true or false");
		d->allow_args = json_is_true(v);
	}
	return d;
#undef BAD
}

static int
def_cmp(const void *a, const void *b)
{
	return strcmp((*(struct taskdef *const *)a)->name,
	    (*(struct taskdef *const *)b)->name);
}

/* ---- the interface ------------------------------------------------- */

struct tasks *
tasks_new(struct event_base *base, const struct tasks_config *cfg,
    const struct tasks_hooks *hooks, char *err, size_t errlen)
{
	struct tasks *t;
	const char *name, *prefix;
	const json_t *o;
	struct taskdef *d;
	long maxfd;

	if (errlen > 0)
		err[0] = '\0';
	prefix = cfg->id_prefix != NULL ? cfg->id_prefix : "task";
	if (strlen(prefix) > PREFIX_MAX ||
	    !node_id_valid(prefix, strlen(prefix))) {
		snprintf(err, errlen, "task id prefix must be 1-%d characters "
		    "of [A-Za-z0-9._-] starting with a letter or digit",
		    PREFIX_MAX);
		return NULL;
	}
	if (cfg->defs != NULL && !json_is_object(cfg->defs)) {
		snprintf(err, errlen, "task definitions must be an object "
		    "(name → definition)");
		return NULL;
	}

	t = xcalloc(1, sizeof *t);
	t->base = base;
	if (hooks != NULL)
		t->hooks = *hooks;
	t->byname = hmap_new();
	t->byid = hmap_new();
	TAILQ_INIT(&t->active);
	TAILQ_INIT(&t->done);
	TAILQ_INIT(&t->readyq);
	snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
	t->allow_adhoc = cfg->allow_adhoc;
	t->max_running = cfg->max_running ? cfg->max_running :
	    DEFAULT_MAX_RUNNING;
	t->grace_ms = cfg->grace_ms ? cfg->grace_ms : DEFAULT_GRACE_MS;
	t->lines_per_s = cfg->lines_per_s ? cfg->lines_per_s :
	    DEFAULT_LINES_PER_S;
	t->prng = clock_mono_us() ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(uintptr_t)t;
	maxfd = sysconf(_SC_OPEN_MAX);
	t->maxfd = maxfd > 0 && maxfd < 65536 ? maxfd : 65536;
	t->adhoc.name = (char *)ADHOC_NAME;
	t->adhoc.backoff_ms = DEFAULT_BACKOFF_MS;

	if (cfg->defs != NULL) {
		t->defs = xcalloc(json_object_size(cfg->defs) + 1,
		    sizeof *t->defs);
		json_object_foreach((json_t *)cfg->defs, name, o) {
			if (!node_id_valid(name, strlen(name))) {
				snprintf(err, errlen, "task \"%s\": the name must "
				    "be 1-%d characters of [A-Za-z0-9._-] "
				    "starting with a letter or digit", name,
				    NODE_ID_MAX);
				tasks_free(t);
				return NULL;
			}
			if ((d = def_parse(name, o, err, errlen)) == NULL) {
				tasks_free(t);
				return NULL;
			}
			t->defs[t->ndefs++] = d;
			hmap_put(t->byname, name, d);
		}
		qsort(t->defs, t->ndefs, sizeof *t->defs, def_cmp);
	}

	t->sigchld_ev = evsignal_new(base, SIGCHLD, sigchld_cb, t);
	t->kick_ev = event_new(base, -1, 0, kick_cb, t);
	t->gc_ev = event_new(base, -1, 0, gc_cb, t);
	if (t->sigchld_ev == NULL || t->kick_ev == NULL || t->gc_ev == NULL ||
	    event_add(t->sigchld_ev, NULL) == -1) {
		snprintf(err, errlen, "cannot set up the SIGCHLD event");
		tasks_free(t);
		return NULL;
	}
	return t;
}

void
tasks_free(struct tasks *t)
{
	struct run *r;
	int status;
	pid_t rc;
	size_t i;

	if (t == NULL)
		return;
	t->stopping = 1;
	while ((r = TAILQ_FIRST(&t->active)) != NULL) {
		if (r->live) {
			if (!r->reaped) {
				group_kill(r, SIGKILL);
				do
					rc = waitpid(r->pid, &status, 0);
				while (rc == -1 && errno == EINTR);
				if (rc == r->pid)
					record_status(r, status);
			}
			/* Output after this point has no one to go to. */
			r->out.len = r->err.len = 0;
			stream_close(&r->out);
			stream_close(&r->err);
			r->live = 0;
			r->pid = 0;
			r->def->running--;
			t->running--;
		}
		set_reason(r, "node stopped");
		finish(r, MESH_TASK_STATE(FAILED));
	}
	while ((r = TAILQ_FIRST(&t->done)) != NULL) {
		TAILQ_REMOVE(&t->done, r, entry);
		run_free(r);
	}
	if (t->sigchld_ev != NULL)
		event_free(t->sigchld_ev);
	if (t->kick_ev != NULL)
		event_free(t->kick_ev);
	if (t->gc_ev != NULL)
		event_free(t->gc_ev);
	for (i = 0; i < t->ndefs; i++)
		def_free(t->defs[i]);
	free(t->defs);
	hmap_free(t->byname);
	hmap_free(t->byid);
	free(t);
}

/* A name or id echoed in a message when it is safe to echo. */
static const char *
shown(const char *s)
{
	return s != NULL && node_id_valid(s, strlen(s)) ? s : "(invalid)";
}

/* Appends the strings of a JSON array (checked) to argv. */
static int
argv_append(char **argv, size_t *argc, const json_t *a, size_t min)
{
	size_t i, n = json_array_size(a);

	if (!json_is_array(a) || n < min || n > ARGV_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!json_check_text(json_array_get(a, i), i == 0 && min > 0 ? 1 : 0,
		    ARG_MAX_BYTES, false))
			return -1;
	for (i = 0; i < n; i++)
		argv[(*argc)++] = xstrdup(json_string_value(json_array_get(a, i)));
	return 0;
}

static int
principal_valid(const char *p)
{
	size_t i, len = strlen(p);

	if (len > 128)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

int
tasks_run(struct tasks *t, const struct tasks_request *req, char *task_id,
    size_t idlen, char *msg, size_t msglen)
{
	struct taskdef *d;
	struct run *r;
	char id[NODE_ID_MAX + 1], **argv;
	size_t argc = 0, i;
	char *principal;

	if (idlen > 0)
		task_id[0] = '\0';
	if (msglen > 0)
		msg[0] = '\0';
	if (t->frozen || t->stopping) {
		snprintf(msg, msglen, t->frozen ? "node is frozen (read-only)" :
		    "node is stopping");
		return MESH_COMMAND_STATUS(REFUSED);
	}
	if (req->command_id != NULL && req->command_id[0] != '\0' &&
	    !node_id_valid(req->command_id, strlen(req->command_id))) {
		snprintf(msg, msglen, "command id is not an id");
		return MESH_COMMAND_STATUS(INVALID);
	}
	if (req->principal != NULL && !principal_valid(req->principal)) {
		snprintf(msg, msglen, "principal must be at most 128 bytes "
		    "without control characters");
		return MESH_COMMAND_STATUS(INVALID);
	}
	argv = xcalloc(2 * ARGV_MAX + 1, sizeof *argv);
	if (req->name != NULL) {
		if (req->adhoc != NULL) {
			snprintf(msg, msglen, "give a task name or an ad-hoc "
			    "argv, not both");
			goto invalid;
		}
		if ((d = hmap_get(t->byname, req->name)) == NULL) {
			snprintf(msg, msglen, "no task named \"%s\"",
			    shown(req->name));
			free(argv);
			return MESH_COMMAND_STATUS(NOT_FOUND);
		}
		if (req->args != NULL && !json_is_array(req->args)) {
			snprintf(msg, msglen, "args must be an array of strings");
			goto invalid;
		}
		if (json_array_size(req->args) > 0 && !d->allow_args) {
			snprintf(msg, msglen, "task \"%s\" does not take "
			    "arguments", d->name);
			free(argv);
			return MESH_COMMAND_STATUS(REFUSED);
		}
		for (i = 0; i < d->argc; i++)
			argv[argc++] = xstrdup(d->argv[i]);
		if (req->args != NULL &&
		    argv_append(argv, &argc, req->args, 0) == -1) {
			snprintf(msg, msglen, "args must be an array of at most "
			    "%d strings, each at most %d bytes without NUL",
			    ARGV_MAX, ARG_MAX_BYTES);
			goto invalid;
		}
	} else if (req->adhoc != NULL) {
		if (!t->allow_adhoc) {
			snprintf(msg, msglen, "ad-hoc commands are disabled on "
			    "this node");
			free(argv);
			return MESH_COMMAND_STATUS(REFUSED);
		}
		if (req->args != NULL) {
			snprintf(msg, msglen, "args are for named tasks; put "
			    "them in the ad-hoc argv");
			goto invalid;
		}
		d = &t->adhoc;
		if (argv_append(argv, &argc, req->adhoc, 1) == -1) {
			snprintf(msg, msglen, "ad-hoc argv must be an array of "
			    "1-%d strings (non-empty program), each at most %d "
			    "bytes without NUL", ARGV_MAX, ARG_MAX_BYTES);
			goto invalid;
		}
	} else {
		snprintf(msg, msglen, "give a task name or an ad-hoc argv");
		goto invalid;
	}

	snprintf(id, sizeof id, "%s-%" PRIu64, t->prefix, t->next_id + 1);
	if (strlen(id) + 1 > idlen) {
		snprintf(msg, msglen, "task id buffer too small");
		for (i = 0; i < argc; i++)
			free(argv[i]);
		free(argv);
		return MESH_COMMAND_STATUS(ERROR);
	}
	t->next_id++;
	principal = xstrdup(req->principal != NULL ? req->principal : "");
	r = xcalloc(1, sizeof *r);
	r->t = t;
	r->def = d;
	snprintf(r->id, sizeof r->id, "%s", id);
	r->argv = argv;
	r->command_id = xstrdup(req->command_id != NULL ? req->command_id : "");
	r->principal = principal;
	r->max_attempts = 1 + d->retries;
	r->out.run = r->err.run = r;
	r->out.fd = r->err.fd = -1;
	r->out.stream = MESH_LOG_STREAM(STDOUT);
	r->err.stream = MESH_LOG_STREAM(STDERR);
	r->tokens = t->lines_per_s;
	r->refill_us = clock_mono_us();
	r->timeout_ev = evtimer_new(t->base, timeout_cb, r);
	r->kill_ev = evtimer_new(t->base, kill_cb, r);
	r->drain_ev = evtimer_new(t->base, drain_cb, r);
	r->retry_ev = evtimer_new(t->base, retry_cb, r);
	r->poll_ev = event_new(t->base, -1, EV_PERSIST, poll_cb, r);
	/* libevent allocates; like xalloc, fatal */
	CHECK(r->timeout_ev != NULL && r->kill_ev != NULL && r->drain_ev != NULL &&
	    r->retry_ev != NULL && r->poll_ev != NULL);
	r->state = MESH_TASK_STATE(QUEUED);
	r->queued_ms = clock_wall_ms();
	TAILQ_INSERT_TAIL(&t->active, r, entry);
	t->nactive++;
	TAILQ_INSERT_TAIL(&t->readyq, r, rentry);
	r->ready = 1;
	hmap_put(t->byid, r->id, r);
	snprintf(task_id, idlen, "%s", r->id);
	log_event(LOG_INFO, "task queued", "{s:s, s:s, s:s, s:s}", "task", r->id,
	    "name", d->name, "command_id", r->command_id, "principal",
	    r->principal);
	/* Starting is deferred so the caller has its answer before any
	 * process exists, and never forks inside its own handler. */
	kick(t);
	emit_update(r);
	return MESH_COMMAND_STATUS(OK);
invalid:
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return MESH_COMMAND_STATUS(INVALID);
}

int
tasks_cancel(struct tasks *t, const char *task_id, int hard, char *msg,
    size_t msglen)
{
	struct run *r;
	struct timeval tv;

	if (msglen > 0)
		msg[0] = '\0';
	if (task_id == NULL || (r = hmap_get(t->byid, task_id)) == NULL) {
		snprintf(msg, msglen, "no task with id \"%s\"", shown(task_id));
		return MESH_COMMAND_STATUS(NOT_FOUND);
	}
	if (mesh_names_task_state_terminal(r->state)) {
		snprintf(msg, msglen, "task %s already finished (%s)", r->id,
		    mesh_names_task_state(r->state));
		return MESH_COMMAND_STATUS(ERROR);
	}
	if (r->state == MESH_TASK_STATE(QUEUED) ||
	    r->state == MESH_TASK_STATE(RETRYING)) {
		set_reason(r, "cancelled (%s) before %s", hard ? "hard" : "soft",
		    r->state == MESH_TASK_STATE(QUEUED) ?
		    "it started" : "its next attempt");
		finish(r, MESH_TASK_STATE(CANCELLED));
		return MESH_COMMAND_STATUS(OK);
	}
	if (r->reaped) {
		/* The process is gone and its end decided; stop waiting for
		 * whatever still holds its pipes.  Deferred: a read callback
		 * of this run may be below us. */
		event_active(r->drain_ev, EV_TIMEOUT, 0);
		snprintf(msg, msglen, "task %s is already ending", r->id);
		return MESH_COMMAND_STATUS(OK);
	}
	if (hard) {
		r->ending = END_HARD;
		event_del(r->kill_ev);
		group_kill(r, SIGKILL);
	} else if (r->ending != END_SOFT && r->ending != END_HARD) {
		r->ending = END_SOFT;
		group_kill(r, SIGTERM);
		/* A timeout's grace already running is kept. */
		if (!evtimer_pending(r->kill_ev, NULL)) {
			tv.tv_sec = (time_t)(t->grace_ms / 1000);
			tv.tv_usec = (suseconds_t)(t->grace_ms % 1000) * 1000;
			evtimer_add(r->kill_ev, &tv);
		}
	}
	return MESH_COMMAND_STATUS(OK);
}

void
tasks_set_frozen(struct tasks *t, int frozen)
{
	t->frozen = frozen != 0;
	if (!t->frozen)
		kick(t);
}

json_t *
tasks_defs_json(const struct tasks *t)
{
	json_t *a = json_array(), *o, *cmd, *keys;
	const struct taskdef *d;
	size_t i, j;

	for (i = 0; i < t->ndefs; i++) {
		d = t->defs[i];
		cmd = json_array();
		for (j = 0; j < d->argc; j++)
			json_array_append_new(cmd, json_string(d->argv[j]));
		/* Environment values often hold secrets: names only. */
		keys = json_array();
		for (j = 0; j < d->envc; j++)
			json_array_append_new(keys, json_stringn(d->env[j],
			    (size_t)(strchr(d->env[j], '=') - d->env[j])));
		o = json_pack("{s:s, s:o, s:o, s:f, s:i, s:I, s:i, s:b}",
		    "name", d->name, "command", cmd, "env_keys", keys,
		    "timeout_s", d->timeout_s, "retries", (int)d->retries,
		    "retry_backoff_ms", (json_int_t)d->backoff_ms,
		    "concurrency", (int)d->concurrency,
		    "allow_args", d->allow_args);
		json_object_set_new(o, "cwd", d->cwd != NULL ?
		    json_string(d->cwd) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

size_t
tasks_active(const struct tasks *t)
{
	return t->nactive;
}
