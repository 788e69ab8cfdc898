/*
 * No orphans (see tasks.h for the design and its limits): the guardian
 * that ends a dead node's runs, the node's side of talking to it, and
 * the ending of leftovers a previous life recorded.
 *
 * The node and its guardian share a SOCK_SEQPACKET socket pair: each
 * message is one struct guard_msg, whole or not at all, and the
 * guardian's read returns 0 once every copy of the node's end is closed,
 * which the kernel does however the node dies.  The node's end is
 * close-on-exec and non-blocking (a stuck guardian must not stop the
 * loop); a lost message is logged.  The guardian holds a group from its
 * "add" until its "del", sent only once the node has reaped the group's
 * leader, so it never signals a pgid the kernel may have handed on.
 */
#include "tasks_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define GUARD_FD		3
#define GUARD_RESPAWN_MS	1000	/* a guardian that lived this long */
#define GUARD_STOP_MS		2000	/* waited for at the node's stop */

enum { GUARD_ADD = 1, GUARD_DEL = 2 };

struct guard_msg {
	int32_t	op;
	int32_t	pgid;
};

/* ---- /proc --------------------------------------------------------- */

/*
 * Fields 3 (state), 5 (pgrp) and 22 (starttime) of /proc/<pid>/stat; -1
 * when there is no such process.  The command name (field 2) may hold
 * spaces and parentheses: the fields are counted from its last ')'.
 */
static int
proc_stat(pid_t pid, char *state, pid_t *pgrp, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long st;
	ssize_t n;
	int fd, pg;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1,
	    " %c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
	    "%*d %*d %*d %llu", state, &pg, &st) != 3)
		return -1;
	*pgrp = pg;
	*ticks = st;
	return 0;
}

/* Whether any process but a zombie is in group pgid. */
static int
group_has_members(pid_t pgid)
{
	struct dirent *de;
	uint64_t ticks;
	pid_t pgrp;
	char state, *end;
	long pid;
	DIR *d;
	int found = 0;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (pid <= 0 || *end != '\0')
			continue;
		found = proc_stat((pid_t)pid, &state, &pgrp, &ticks) == 0 &&
		    pgrp == pgid && state != 'Z';
	}
	closedir(d);
	return found;
}

static void
read_boot_id(char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	buf[0] = '\0';
	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, len - 1);
		(void)close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* ---- the guardian -------------------------------------------------- */

int
tasks_guard_main(void)
{
	struct guard_msg m;
	pid_t *groups = NULL;
	size_t n = 0, cap = 0, i, ended = 0;
	ssize_t got;

	log_init("guardian", LOG_INFO);
	/* Only EOF ends it: a terminal's ^C or a service manager's TERM
	 * reach the node too, which stops its runs itself (or dies, and
	 * then we are needed). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		got = recv(GUARD_FD, &m, sizeof m, 0);
		if (got == -1 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof m)
			break;
		if (m.pgid <= 1)
			continue;
		for (i = 0; i < n && groups[i] != m.pgid; i++)
			;
		if (m.op == GUARD_ADD && i == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				groups = xrealloc(groups, cap * sizeof *groups);
			}
			groups[n++] = m.pgid;
		} else if (m.op == GUARD_DEL && i < n)
			groups[i] = groups[--n];
	}
	for (i = 0; i < n; i++)
		if (kill(-groups[i], SIGKILL) == 0)
			ended++;
	if (ended > 0)
		log_event(LOG_WARN, "node gone: ended its runs", "{s:i}",
		    "groups", (int)ended);
	free(groups);
	return 0;
}

/* ---- the node's side ----------------------------------------------- */

void
tasks_guard_init(struct tasks *t, const char *guardian)
{
	t->guard_fd = -1;
	if (guardian != NULL)
		t->guard_exe = xstrdup(guardian);
	read_boot_id(t->boot_id, sizeof t->boot_id);
}

static void
guard_send(struct tasks *t, int op, pid_t pgid)
{
	struct guard_msg m = { op, (int32_t)pgid };

	if (t->guard_fd == -1)
		return;
	if (send(t->guard_fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)sizeof m)
		log_warn("cannot tell the run guardian of group %ld", (long)pgid);
}

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
guard_child(char *const argv[], int fd, long maxfd)
{
	long i;

	if (tasks_proc_child_signals() == -1 || setpgid(0, 0) == -1)
		_exit(127);
	if (fd == GUARD_FD) {
		if (fcntl(fd, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(fd, GUARD_FD) == -1)
		_exit(127);
	/* Nothing of the node's (its data directory's lock above all) may
	 * stay open in a process that outlives it. */
	if (close_range(GUARD_FD + 1, ~0U, 0) == -1)
		for (i = GUARD_FD + 1; i < maxfd; i++)
			(void)close((int)i);
	execv(argv[0], argv);
	_exit(127);
}

/* Starts the guardian and tells it every live group. */
static void
guard_spawn(struct tasks *t)
{
	char *argv[] = { t->guard_exe, (char *)TASKS_GUARD_FLAG, NULL };
	struct run *r;
	sigset_t all, old;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("cannot start the run guardian");
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		guard_child(argv, sv[1], t->maxfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)close(sv[1]);
	if (pid == -1) {
		log_warn("cannot start the run guardian");
		(void)close(sv[0]);
		return;
	}
	t->guard_fd = sv[0];
	t->guard_pid = pid;
	t->guard_started_ms = clock_mono_ms();
	log_event(LOG_INFO, "run guardian started", "{s:i}", "pid", (int)pid);
	TAILQ_FOREACH(r, &t->active, entry)
		if (r->pid > 0)
			guard_send(t, GUARD_ADD, r->pid);
}

static void
group_hook(struct run *r, int running)
{
	struct tasks *t = r->t;
	struct tasks_group g = { r->id, (int)r->pid, r->start_ticks,
	    t->boot_id };

	if (t->hooks.group != NULL)
		t->hooks.group(&g, running, t->hooks.arg);
}

void
tasks_guard_watch(struct run *r)
{
	struct tasks *t = r->t;
	pid_t pgrp;
	char state;

	if (t->guard_exe != NULL && t->guard_fd == -1)
		guard_spawn(t);	/* tells it of r too */
	else
		guard_send(t, GUARD_ADD, r->pid);
	r->start_ticks = 0;
	if (proc_stat(r->pid, &state, &pgrp, &r->start_ticks) == -1)
		log_warnx("task %s: cannot read /proc/%ld/stat", r->id,
		    (long)r->pid);
	group_hook(r, 1);
}

void
tasks_guard_forget(struct run *r)
{
	if (r->pid <= 0)
		return;
	guard_send(r->t, GUARD_DEL, r->pid);
	group_hook(r, 0);
}

void
tasks_guard_reap(struct tasks *t)
{
	int status;
	pid_t rc;

	if (t->guard_pid <= 0)
		return;
	do
		rc = waitpid(t->guard_pid, &status, WNOHANG);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		return;
	log_event(LOG_WARN, "run guardian died; runs would outlive a crash of "
	    "the node until another starts", "{s:i, s:i, s:i}", "pid",
	    (int)t->guard_pid, "status", rc == t->guard_pid && WIFEXITED(status) ?
	    WEXITSTATUS(status) : -1, "signal", rc == t->guard_pid &&
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	(void)close(t->guard_fd);
	t->guard_fd = -1;
	t->guard_pid = 0;
	/* One that fails at once (its exec) waits for the next run. */
	if (t->running > 0 && !t->stopping &&
	    clock_mono_ms() - t->guard_started_ms >= GUARD_RESPAWN_MS)
		guard_spawn(t);
}

void
tasks_guard_stop(struct tasks *t)
{
	uint64_t end = clock_mono_ms() + GUARD_STOP_MS;
	int status;
	pid_t rc = 0;

	free(t->guard_exe);
	t->guard_exe = NULL;
	if (t->guard_fd != -1)
		(void)close(t->guard_fd);
	t->guard_fd = -1;
	if (t->guard_pid <= 0)
		return;
	/* EOF: it exits at once, holding no group by now. */
	while (clock_mono_ms() < end &&
	    (rc = waitpid(t->guard_pid, &status, WNOHANG)) == 0)
		usleep(10000);
	if (rc == 0) {
		log_warnx("run guardian %ld did not exit; killing it",
		    (long)t->guard_pid);
		(void)kill(t->guard_pid, SIGKILL);
		while (waitpid(t->guard_pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	t->guard_pid = 0;
}

/* ---- leftovers of a previous life ---------------------------------- */

/* 1 when something of g was running and was sent SIGKILL. */
static int
end_leftover(const struct tasks *t, const struct tasks_group *g)
{
	uint64_t ticks;
	pid_t pgrp;
	char state;
	int found;

	if (g->pgid <= 1 || g->boot_id == NULL ||
	    strcmp(g->boot_id, t->boot_id) != 0)
		return 0;	/* another boot: nothing of that life runs */
	if (proc_stat(g->pgid, &state, &pgrp, &ticks) == 0) {
		/* The pid was handed on: the group had emptied first. */
		if (ticks != g->start_ticks)
			return 0;
		/* Counted before the kill, which is quick to show. */
		found = state != 'Z' || group_has_members(g->pgid);
		/* The leader itself, even if it left its group. */
		(void)kill(g->pgid, SIGKILL);
		(void)kill(-g->pgid, SIGKILL);
		return found;
	}
	if (!group_has_members(g->pgid))
		return 0;
	return kill(-g->pgid, SIGKILL) == 0;
}

size_t
tasks_leftovers_end(struct tasks *t, const struct tasks_group *groups,
    size_t n)
{
	size_t i, ended = 0;

	for (i = 0; i < n; i++) {
		if (!end_leftover(t, &groups[i]))
			continue;
		ended++;
		log_event(LOG_WARN, "ended leftover run from a previous life",
		    "{s:s, s:i}", "task", groups[i].task_id, "pgid",
		    groups[i].pgid);
		if (t->hooks.leftover != NULL)
			t->hooks.leftover(groups[i].task_id, groups[i].pgid,
			    t->hooks.arg);
	}
	return ended;
}
