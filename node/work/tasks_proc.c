/*
 * The process side of task supervision (tasks_priv.h): forking and
 * exec'ing a run in its own process group, reading its stdout and stderr
 * into lines (split at LINE_MAX_BYTES, held to lines_per_s by a token
 * bucket that counts what it drops), signalling the group, and reaping
 * the child by its pid only.
 *
 * Nothing here changes a run's state: when a process is reaped and both
 * its pipes are closed, tasks_maybe_end hands the attempt back to the
 * state machine in tasks.c.
 */
#include "tasks_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "log.h"
#include "mesh_names.h"
#include "text.h"
#include "xalloc.h"

#define DRAIN_MS		1000	/* pipes kept open after the reap */

extern char **environ;

/* ---- lines --------------------------------------------------------- */

void
tasks_proc_emit_log(struct run *r, Agentflow__Mesh__V1__LogStream stream,
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
	tasks_proc_emit_log(r, os->stream, text, len, continued);
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

void
tasks_proc_kill(struct run *r, int sig)
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
		tasks_proc_kill(r, SIGKILL);
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

void
tasks_proc_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct tasks *t = arg;
	struct run *r;

	(void)sig;
	(void)what;
	tasks_guard_reap(t);
	/* A hook may add or end runs; rescan after every reap. */
again:
	TAILQ_FOREACH(r, &t->active, entry) {
		if (try_reap(r)) {
			tasks_maybe_end(r);
			goto again;
		}
	}
}

void
tasks_proc_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (try_reap(r))
		tasks_maybe_end(r);
}

void
tasks_proc_read_cb(evutil_socket_t fd, short what, void *arg)
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
	tasks_maybe_end(r);
}

/* The grace after the reap is over: read what is there, then close. */
void
tasks_proc_drain_cb(evutil_socket_t fd, short what, void *arg)
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
	tasks_maybe_end(r);
}

void
tasks_proc_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	if (!r->live || r->reaped || r->ending != END_NONE)
		return;
	r->ending = END_TIMEOUT;
	tasks_proc_kill(r, SIGTERM);
	tv.tv_sec = (time_t)(r->t->grace_ms / 1000);
	tv.tv_usec = (suseconds_t)(r->t->grace_ms % 1000) * 1000;
	evtimer_add(r->kill_ev, &tv);
}

void
tasks_proc_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (!r->live || r->reaped)
		return;
	r->escalated = 1;
	tasks_proc_kill(r, SIGKILL);
}
void
tasks_proc_stop(struct run *r)
{
	int status;
	pid_t rc;

	if (!r->reaped) {
		tasks_proc_kill(r, SIGKILL);
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
}

/* ---- spawning ------------------------------------------------------ */

enum child_stage { STAGE_SETUP, STAGE_CHDIR, STAGE_EXEC, STAGE_USER };

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

int
tasks_proc_child_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	/* Dispositions the node ignored would survive exec; handlers of
	 * the node (libevent's) must not run here. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The child between fork and exec.  The node has other threads, so only
 * async-signal-safe calls here: everything that allocates was prepared
 * by the parent.
 */
static void __attribute__((noreturn))
child_exec(char *const argv[], const struct taskdef *d, char **envp, int outw,
    int errw, int stfd, long maxfd, pid_t node)
{
	const char *cwd = d->cwd;
	int nullfd;
	long fd;

	if (tasks_proc_child_signals() == -1)
		child_fail(stfd, STAGE_SETUP);
	if (setpgid(0, 0) == -1)
		child_fail(stfd, STAGE_SETUP);
	/* Until the guardian has heard of this group (tasks.h), the node's
	 * death takes at least this process along; a node already gone
	 * before the prctl would never send the signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != node)
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
	/* A service's user (resolved by the parent).  A change of
	 * credentials clears the parent-death signal: set again. */
	if (d->as_user && (setgroups((size_t)d->ngroups, d->groups) == -1 ||
	    setgid(d->gid) == -1 || setuid(d->uid) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != node))
		child_fail(stfd, STAGE_USER);
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

/*
 * environ, minus the names the definition sets and the job's names
 * (tasks.h), plus the definition's, plus the job's (jobenv, njob of
 * them; they win over a definition's of the same name).
 */
static char **
build_env(const struct taskdef *d, char **jobenv, size_t njob)
{
	size_t n = 0, i, j, k = 0;
	char **envp;

	while (environ != NULL && environ[n] != NULL)
		n++;
	envp = xcalloc(n + d->envc + njob + 1, sizeof *envp);
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - environ[i]) :
		    strlen(environ[i]);
		int overridden = tasks_job_env_name(environ[i]);

		for (j = 0; j < d->envc && !overridden; j++)
			overridden = strncmp(d->env[j], environ[i], klen) == 0 &&
			    d->env[j][klen] == '=';
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (j = 0; j < d->envc; j++)
		if (njob == 0 || !tasks_job_env_name(d->env[j]))
			envp[k++] = d->env[j];
	for (j = 0; j < njob; j++)
		envp[k++] = jobenv[j];
	envp[k] = NULL;
	return envp;
}

/*
 * Forks and execs the run's argv.  Returns 0 with r->pid and the pipes
 * set, or -1 with r->reason set.  The parent waits on a close-on-exec
 * pipe until the exec, so an exec failure is known here (the classic
 * self-pipe trick); the wait is as short as posix_spawn's.
 */
int
tasks_proc_spawn(struct run *r)
{
	struct tasks *t = r->t;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, st[2] = { -1, -1 };
	struct child_report rep;
	sigset_t all, old;
	char **envp, *jobenv[TASKS_JOB_ENV_N];
	size_t njob, j;
	ssize_t n;
	pid_t pid, self = getpid();
	int i, status, *fds[3] = { outp, errp, st };

	for (i = 0; i < 3; i++) {
		if (pipe2(fds[i], O_CLOEXEC) == -1) {
			tasks_set_reason(r, "cannot create pipes: %s", strerror(errno));
			goto fail;
		}
		fds[i][0] = fd_above2(fds[i][0]);
		fds[i][1] = fd_above2(fds[i][1]);
		if (fds[i][0] == -1 || fds[i][1] == -1) {
			tasks_set_reason(r, "cannot move pipes: %s", strerror(errno));
			goto fail;
		}
	}
	if (fcntl(outp[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(errp[0], F_SETFL, O_NONBLOCK) == -1) {
		tasks_set_reason(r, "cannot make pipes nonblocking: %s",
		    strerror(errno));
		goto fail;
	}
	njob = tasks_job_env(r, jobenv);
	envp = build_env(r->def, jobenv, njob);
	/* No signal handler of ours may run in the child before it has
	 * reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_exec(r->argv, r->def, envp, outp[1], errp[1], st[1],
		    t->maxfd, self);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(envp);
	for (j = 0; j < njob; j++)
		free(jobenv[j]);
	if (pid == -1) {
		tasks_set_reason(r, "cannot fork: %s", strerror(errno));
		goto fail;
	}
	/* Both sides set the group so that no kill(-pid) finds it unset;
	 * EACCES means the child has exec'd, having done it itself. */
	if (setpgid(pid, pid) == -1 && errno != EACCES && errno != ESRCH)
		log_warn("setpgid for task %s", r->id);
	/* Guarded before anything can block us: the exec report waits on
	 * the child. */
	r->pid = pid;
	tasks_guard_watch(r);
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
		tasks_guard_forget(r);
		r->pid = 0;
		if (rep.stage == STAGE_EXEC)
			tasks_set_reason(r, "cannot exec %s: %s", r->argv[0],
			    strerror(rep.err));
		else if (rep.stage == STAGE_USER)
			tasks_set_reason(r, "cannot become uid %u: %s",
			    (unsigned)r->def->uid, strerror(rep.err));
		else if (rep.stage == STAGE_CHDIR)
			tasks_set_reason(r, "cannot chdir to %s: %s", r->def->cwd,
			    strerror(rep.err));
		else
			tasks_set_reason(r, "cannot set up the child: %s",
			    strerror(rep.err));
		goto fail;
	}
	if (n == -1)
		log_warn("task %s: reading the exec report", r->id);
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
