/*
 * Unit tests of node/work/tasks_guard.c: the group hook a node records
 * its runs' process groups through, the guardian this binary becomes
 * with --run-guardian (started at the first run, gone at tasks_free),
 * and tasks_leftovers_end on real process groups made here: it ends
 * what a record matches (leader alive, or leader gone and members left)
 * and leaves alone what a record does not (another boot, another start
 * time: a pid handed on).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "loop_until.h"
#include "mesh_names.h"
#include "tasks.h"

#define WAIT_MS	15000

struct ctx {
	struct event_base	*base;
	struct tasks		*t;
	int			 terminal;
	int			 groups_up, groups_down;
	int			 pgid_up, pgid_down;
	uint64_t		 ticks_up;
	char			 boot[64];
	char			 left_task[64];
	int			 left_pgid;
	int			 nleft;
};

static void
on_update(const Agentflow__Mesh__V1__TaskUpdate *m, void *arg)
{
	if (mesh_names_task_state_terminal(m->state))
		((struct ctx *)arg)->terminal = 1;
}

static void
on_log(const Agentflow__Mesh__V1__TaskLog *m, void *arg)
{
	(void)m;
	(void)arg;
}

static void
on_group(const struct tasks_group *g, int running, void *arg)
{
	struct ctx *c = arg;

	assert_non_null(g->task_id);
	if (running) {
		c->groups_up++;
		c->pgid_up = g->pgid;
		c->ticks_up = g->start_ticks;
		snprintf(c->boot, sizeof c->boot, "%s", g->boot_id);
	} else {
		c->groups_down++;
		c->pgid_down = g->pgid;
	}
}

static void
on_leftover(const char *task_id, int pgid, void *arg)
{
	struct ctx *c = arg;

	snprintf(c->left_task, sizeof c->left_task, "%s", task_id);
	c->left_pgid = pgid;
	c->nleft++;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);

	assert_non_null(c);
	c->base = event_base_new();
	assert_non_null(c->base);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	tasks_free(c->t);
	event_base_free(c->base);
	free(c);
	return 0;
}

static void
start(struct ctx *c, const char *script, const char *guardian)
{
	struct tasks_config cfg = { .id_prefix = "n1", .guardian = guardian };
	struct tasks_hooks hooks = { .update = on_update, .log = on_log,
	    .arg = c, .group = on_group, .leftover = on_leftover };
	char err[512];

	cfg.defs = json_pack("{s:{s:[s,s,s]}}", "t", "command", "/bin/sh", "-c",
	    script);
	c->t = tasks_new(c->base, &cfg, &hooks, err, sizeof err);
	json_decref((json_t *)cfg.defs);
	if (c->t == NULL)
		fail_msg("tasks_new: %s", err);
}

/* Fields 3 (state), 5 (pgrp) and 22 (starttime) of /proc/<pid>/stat. */
static int
stat_of(pid_t pid, char *state, int *pgrp, unsigned long long *ticks)
{
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	return sscanf(p + 1, " %c %*d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
	    "%*u %*d %*d %*d %*d %*d %*d %llu", state, pgrp, ticks) == 3 ?
	    0 : -1;
}

static int
alive(pid_t pid)
{
	unsigned long long ticks;
	char state;
	int pgrp;

	return stat_of(pid, &state, &pgrp, &ticks) == 0 && state != 'Z';
}

static int
gone_cb(void *arg)
{
	return !alive(*(pid_t *)arg);
}

static void
wait_gone(struct ctx *c, pid_t pid)
{
	assert_int_equal(loop_until(c->base, gone_cb, &pid, WAIT_MS), 1);
}

static void
boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * A process group of its own: a leader (sleep, or a shell that leaves a
 * member and exits when leader_exits) made here, as a previous life of
 * the node would have.  *member gets the member's pid (0: none).
 */
static pid_t
make_group(int leader_exits, pid_t *member)
{
	int p[2];
	pid_t pid;
	long m = 0;
	FILE *f;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)setpgid(0, 0);
		(void)dup2(p[1], 1);
		(void)close(p[0]);
		(void)close(p[1]);
		if (leader_exits)
			execl("/bin/sh", "sh", "-c", "sleep 300 & echo $!", NULL);
		else
			execl("/bin/sh", "sh", "-c", "echo 0; exec sleep 300",
			    NULL);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	(void)close(p[1]);
	assert_non_null(f = fdopen(p[0], "r"));
	assert_int_equal(fscanf(f, "%ld", &m), 1);
	fclose(f);
	*member = (pid_t)m;
	return pid;
}

static void
record_of(pid_t leader, struct tasks_group *g, char *boot, size_t bootlen)
{
	unsigned long long ticks;
	char state;
	int pgrp;

	assert_int_equal(stat_of(leader, &state, &pgrp, &ticks), 0);
	assert_int_equal(pgrp, leader);
	boot_id(boot, bootlen);
	g->task_id = "t9-1";
	g->pgid = (int)leader;
	g->start_ticks = ticks;
	g->boot_id = boot;
}

static void
reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* ---- tests --------------------------------------------------------- */

static int
ended(void *arg)
{
	return ((struct ctx *)arg)->terminal;
}

static void
test_group_hook_and_guardian(void **state)
{
	struct ctx *c = *state;
	struct tasks_request req = { .name = "t" };
	char id[64], msg[256], want[64];

	start(c, "exit 0", "/proc/self/exe");
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	assert_int_equal(loop_until(c->base, ended, c, WAIT_MS), 1);
	/* Recorded while it ran, forgotten once it was over. */
	assert_int_equal(c->groups_up, 1);
	assert_int_equal(c->groups_down, 1);
	assert_true(c->pgid_up > 1);
	assert_int_equal(c->pgid_up, c->pgid_down);
	assert_true(c->ticks_up > 0);
	boot_id(want, sizeof want);
	assert_string_equal(c->boot, want);
	/* The run is reaped; the guardian, a child of ours, still runs. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), 0);
	tasks_free(c->t);
	c->t = NULL;
	/* No child of ours is left: the guardian exited and was reaped. */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_leftover_leader_alive(void **state)
{
	struct ctx *c = *state;
	struct tasks_group g;
	char boot[64];
	pid_t leader, member;

	start(c, "true", NULL);
	leader = make_group(0, &member);
	record_of(leader, &g, boot, sizeof boot);
	assert_int_equal(tasks_leftovers_end(c->t, &g, 1), 1);
	wait_gone(c, leader);
	reap(leader);
	assert_int_equal(c->nleft, 1);
	assert_string_equal(c->left_task, "t9-1");
	assert_int_equal(c->left_pgid, leader);
}

static void
test_leftover_members_without_leader(void **state)
{
	struct ctx *c = *state;
	struct tasks_group g;
	char boot[64];
	pid_t leader, member;

	start(c, "true", NULL);
	leader = make_group(1, &member);
	assert_true(member > 0);
	record_of(leader, &g, boot, sizeof boot);
	/* The leader is gone for good; its child still holds the group. */
	reap(leader);
	assert_true(alive(member));
	assert_int_equal(tasks_leftovers_end(c->t, &g, 1), 1);
	wait_gone(c, member);
	assert_int_equal(c->nleft, 1);
}

static void
test_leftover_leader_zombie(void **state)
{
	struct ctx *c = *state;
	struct tasks_group g;
	char boot[64];
	pid_t leader, member;
	char st = 0;
	unsigned long long ticks;
	int pgrp;

	/* The leader exited but nobody reaped it (an init that does not
	 * reap): a zombie with the recorded start time, members alive. */
	start(c, "true", NULL);
	leader = make_group(1, &member);
	record_of(leader, &g, boot, sizeof boot);
	assert_int_equal(loop_until(c->base, gone_cb, &leader, WAIT_MS), 1);
	assert_int_equal(stat_of(leader, &st, &pgrp, &ticks), 0);
	assert_int_equal(st, 'Z');
	assert_true(alive(member));
	assert_int_equal(tasks_leftovers_end(c->t, &g, 1), 1);
	wait_gone(c, member);
	assert_int_equal(c->nleft, 1);
	reap(leader);
}

static void
test_leftover_not_ours(void **state)
{
	struct ctx *c = *state;
	struct tasks_group g[3];
	char boot[64];
	pid_t leader, member;

	start(c, "true", NULL);
	leader = make_group(0, &member);
	record_of(leader, &g[0], boot, sizeof boot);
	g[1] = g[2] = g[0];
	/* Another boot: nothing of that life runs now. */
	g[0].boot_id = "00000000-0000-0000-0000-000000000000";
	/* Another start time: the pid was handed on to a stranger. */
	g[1].start_ticks++;
	/* No such group at all. */
	g[2].pgid = 1;
	assert_int_equal(tasks_leftovers_end(c->t, g, 3), 0);
	assert_int_equal(c->nleft, 0);
	assert_true(alive(leader));
	assert_int_equal(kill(leader, SIGKILL), 0);
	reap(leader);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_group_hook_and_guardian),
		T(test_leftover_leader_alive),
		T(test_leftover_members_without_leader),
		T(test_leftover_leader_zombie),
		T(test_leftover_not_ours),
#undef T
	};

	/* This binary is its own guardian, as the node's is. */
	if (argc == 2 && strcmp(argv[1], TASKS_GUARD_FLAG) == 0)
		return tasks_guard_main();
	log_init("test_tasks_guard", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
