/*
 * Unit tests of node/work/tasks.c: real /bin/sh children on a real event loop.
 * Each test records what the hooks hand out (the updates and log lines a
 * user of the API would see) and asserts on that.  Time margins are wide:
 * the machines running this are noisy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "mesh_names.h"
#include "open_fds.h"
#include "tasks.h"

#define WAIT_MS	15000	/* for things that take well under a second */

struct upd {
	char		 id[64];
	char		 name[64];
	int		 state;
	unsigned	 attempt;
	unsigned	 max_attempts;
	int		 exit_code;
	int		 term_signal;
	char		 reason[1025];
	uint64_t	 queued_ms;
	uint64_t	 started_ms;
	uint64_t	 finished_ms;
	uint64_t	 next_retry_ms;
	char		 command_id[64];
	char		 principal[129];
};

struct logl {
	char		 id[64];
	int		 stream;
	uint64_t	 seq;
	char		*text;
	uint32_t	 dropped;
	int		 continued;
};

struct ctx {
	struct event_base	*base;
	struct tasks		*t;
	struct upd		*u;
	size_t			 nu;
	struct logl		*l;
	size_t			 nl;
	char			 dir[64];	/* a private temp dir */
	const char		*needle;	/* for log_has */
	const char		*cancel_on;	/* log text that makes a hook cancel */
	const char		*chain;		/* task a hook runs at any end */
	char			 chained[64];	/* its id */
};

/* ---- recording hooks ----------------------------------------------- */

static int
is_terminal(int s)
{
	return s == MESH_TASK_STATE(SUCCEEDED) ||
	    s == MESH_TASK_STATE(FAILED) || s == MESH_TASK_STATE(CANCELLED) ||
	    s == MESH_TASK_STATE(TIMED_OUT);
}

static void
on_update(const Agentflow__Mesh__V1__TaskUpdate *m, void *arg)
{
	struct ctx *c = arg;
	struct upd *u;

	c->u = realloc(c->u, (c->nu + 1) * sizeof *c->u);
	assert_non_null(c->u);
	u = &c->u[c->nu++];
	memset(u, 0, sizeof *u);
	snprintf(u->id, sizeof u->id, "%s", m->task_id);
	snprintf(u->name, sizeof u->name, "%s", m->name);
	u->state = m->state;
	u->attempt = m->attempt;
	u->max_attempts = m->max_attempts;
	u->exit_code = m->exit_code;
	u->term_signal = m->term_signal;
	assert_true(strlen(m->reason) <= 1024);
	snprintf(u->reason, sizeof u->reason, "%s", m->reason);
	u->queued_ms = m->queued_ms;
	u->started_ms = m->started_ms;
	u->finished_ms = m->finished_ms;
	u->next_retry_ms = m->next_retry_ms;
	snprintf(u->command_id, sizeof u->command_id, "%s", m->command_id);
	snprintf(u->principal, sizeof u->principal, "%s", m->principal);
	/* Hooks may start runs: the caller persists, then reacts. */
	if (c->chain != NULL && c->chained[0] == '\0' &&
	    is_terminal(m->state)) {
		struct tasks_request req = { .name = c->chain };
		char msg[256];

		assert_int_equal(tasks_run(c->t, &req, c->chained,
		    sizeof c->chained, msg, sizeof msg),
		    MESH_COMMAND_STATUS(OK));
	}
}

static void
on_log(const Agentflow__Mesh__V1__TaskLog *m, void *arg)
{
	struct ctx *c = arg;
	struct logl *l;

	/* What the proto promises every reader. */
	assert_true(m->line_seq > 0);
	assert_true(strlen(m->text) <= 4096);
	assert_true(m->stream == MESH_LOG_STREAM(STDOUT) ||
	    m->stream == MESH_LOG_STREAM(STDERR));
	c->l = realloc(c->l, (c->nl + 1) * sizeof *c->l);
	assert_non_null(c->l);
	l = &c->l[c->nl++];
	snprintf(l->id, sizeof l->id, "%s", m->task_id);
	l->stream = m->stream;
	l->seq = m->line_seq;
	l->text = strdup(m->text);
	l->dropped = m->dropped;
	l->continued = m->continued;
	/* Hooks may cancel the very task whose line they are handed. */
	if (c->cancel_on != NULL && strcmp(m->text, c->cancel_on) == 0) {
		char msg[256];

		assert_int_equal(tasks_cancel(c->t, m->task_id, 1, msg,
		    sizeof msg), MESH_COMMAND_STATUS(OK));
	}
}

/* ---- loop helpers -------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until done() or timeout_ms; returns done(). */
static int
wait_until(struct ctx *c, int (*done)(struct ctx *, const char *),
    const char *id, uint64_t timeout_ms)
{
	struct timeval tv = { 0, 20000 };
	struct event *tick = event_new(c->base, -1, EV_PERSIST, tick_cb, NULL);
	uint64_t end = now_ms() + timeout_ms;

	assert_non_null(tick);
	event_add(tick, &tv);
	while (!done(c, id) && now_ms() < end)
		event_base_loop(c->base, EVLOOP_ONCE);
	event_free(tick);
	return done(c, id);
}

static int
never(struct ctx *c, const char *id)
{
	(void)c;
	(void)id;
	return 0;
}

static void
spin(struct ctx *c, uint64_t ms)
{
	wait_until(c, never, NULL, ms);
}

/* The last update of id, or NULL. */
static const struct upd *
last(struct ctx *c, const char *id)
{
	size_t i;

	for (i = c->nu; i > 0; i--)
		if (strcmp(c->u[i - 1].id, id) == 0)
			return &c->u[i - 1];
	return NULL;
}

static int
finished(struct ctx *c, const char *id)
{
	const struct upd *u = last(c, id);

	return u != NULL && is_terminal(u->state);
}

static int
running(struct ctx *c, const char *id)
{
	const struct upd *u = last(c, id);

	return u != NULL && u->state == MESH_TASK_STATE(RUNNING);
}

static int
all_done(struct ctx *c, const char *id)
{
	(void)id;
	return tasks_active(c->t) == 0;
}

static int
log_has(struct ctx *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nl; i++)
		if (strcmp(c->l[i].id, id) == 0 &&
		    strcmp(c->l[i].text, c->needle) == 0)
			return 1;
	return 0;
}

static void
wait_log(struct ctx *c, const char *id, const char *text)
{
	c->needle = text;
	assert_true(wait_until(c, log_has, id, WAIT_MS));
}

static const struct upd *
wait_end(struct ctx *c, const char *id)
{
	assert_true(wait_until(c, finished, id, WAIT_MS));
	return last(c, id);
}

/* How many updates of id had state s. */
static size_t
count_state(struct ctx *c, const char *id, int s)
{
	size_t i, n = 0;

	for (i = 0; i < c->nu; i++)
		if (strcmp(c->u[i].id, id) == 0 && c->u[i].state == s)
			n++;
	return n;
}

/* The lines of id on stream, joined with '|'. */
static void
joined(struct ctx *c, const char *id, int stream, char *out, size_t outlen)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < c->nl; i++) {
		if (strcmp(c->l[i].id, id) != 0 || c->l[i].stream != stream)
			continue;
		off += (size_t)snprintf(out + off, outlen - off, "%s%s",
		    off > 0 ? "|" : "", c->l[i].text);
		assert_true(off < outlen);
	}
}

/* ---- fixtures ------------------------------------------------------ */

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);

	assert_non_null(c);
	c->base = event_base_new();
	assert_non_null(c->base);
	snprintf(c->dir, sizeof c->dir, "/tmp/test_tasks.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];
	size_t i;

	tasks_free(c->t);
	for (i = 0; i < c->nl; i++)
		free(c->l[i].text);
	free(c->l);
	free(c->u);
	event_base_free(c->base);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
	free(c);
	return 0;
}

/* Starts c->t with defs (a JSON text, may be NULL) and cfg tweaks. */
static void
start(struct ctx *c, json_t *defs, struct tasks_config *cfg)
{
	struct tasks_config dflt = { 0 };
	struct tasks_hooks hooks = { .update = on_update, .log = on_log,
	    .arg = c };
	char err[512];

	if (cfg == NULL)
		cfg = &dflt;
	cfg->defs = defs;
	if (cfg->id_prefix == NULL)
		cfg->id_prefix = "n1";
	c->t = tasks_new(c->base, cfg, &hooks, err, sizeof err);
	if (c->t == NULL)
		fail_msg("tasks_new: %s", err);
	json_decref(defs);
}

/* One definition running `sh -c script`; extra is merged in. */
static json_t *
sh_def(const char *name, const char *script, json_t *extra)
{
	json_t *d = json_pack("{s:[s,s,s]}", "command", "/bin/sh", "-c", script);

	if (extra != NULL) {
		json_object_update(d, extra);
		json_decref(extra);
	}
	return json_pack("{s:o}", name, d);
}

/* Adds the definitions of one to defs, consuming one. */
static void
merge(json_t *defs, json_t *one)
{
	assert_int_equal(json_object_update(defs, one), 0);
	json_decref(one);
}

static void
run_ok(struct ctx *c, const char *name, const json_t *args, char *id,
    size_t idlen)
{
	struct tasks_request req = { .name = name, .args = args,
	    .command_id = "cmd-1", .principal = "alice" };
	char msg[256];
	int rc;

	rc = tasks_run(c->t, &req, id, idlen, msg, sizeof msg);
	if (rc != MESH_COMMAND_STATUS(OK))
		fail_msg("tasks_run %s: %d %s", name, rc, msg);
	assert_true(id[0] != '\0');
}

/* ---- tests --------------------------------------------------------- */

static void
test_success_with_logs(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64], out[256], err[256];
	size_t i, nq;
	int seen[4] = { 0 };

	start(c, sh_def("hello", "echo one; echo two >&2; echo three", NULL),
	    NULL);
	run_ok(c, "hello", NULL, id, sizeof id);
	assert_string_equal(id, "n1-1");
	/* Queued first, synchronously, before any process exists. */
	assert_int_equal(c->nu, 1);
	assert_int_equal(c->u[0].state, MESH_TASK_STATE(QUEUED));
	assert_int_equal(c->u[0].attempt, 0);
	assert_int_equal(tasks_active(c->t), 1);

	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	assert_int_equal(u->exit_code, 0);
	assert_int_equal(u->term_signal, 0);
	assert_int_equal(u->attempt, 1);
	assert_int_equal(u->max_attempts, 1);
	assert_string_equal(u->name, "hello");
	assert_string_equal(u->command_id, "cmd-1");
	assert_string_equal(u->principal, "alice");
	assert_true(u->queued_ms > 0);
	assert_true(u->started_ms >= u->queued_ms);
	assert_true(u->finished_ms >= u->started_ms);
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RUNNING)), 1);
	nq = count_state(c, id, MESH_TASK_STATE(QUEUED));
	assert_int_equal(nq, 1);
	assert_int_equal(tasks_active(c->t), 0);

	joined(c, id, MESH_LOG_STREAM(STDOUT), out, sizeof out);
	joined(c, id, MESH_LOG_STREAM(STDERR), err, sizeof err);
	assert_string_equal(out, "one|three");
	assert_string_equal(err, "two");
	/* Sequence numbers run 1..3 across both streams. */
	assert_int_equal(c->nl, 3);
	for (i = 0; i < c->nl; i++) {
		assert_true(c->l[i].seq >= 1 && c->l[i].seq <= 3);
		seen[c->l[i].seq]++;
		assert_int_equal(c->l[i].dropped, 0);
		assert_false(c->l[i].continued);
	}
	assert_int_equal(seen[1] + seen[2] + seen[3], 3);
	assert_true(seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
}

static void
test_exit_code(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];

	start(c, sh_def("three", "exit 3", NULL), NULL);
	run_ok(c, "three", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	assert_int_equal(u->exit_code, 3);
	assert_int_equal(u->term_signal, 0);
	assert_string_equal(u->reason, "exited with status 3");
	assert_true(u->finished_ms > 0);
}

static void
test_killed_by_signal(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];

	start(c, sh_def("suicide", "kill -9 $$", NULL), NULL);
	run_ok(c, "suicide", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	assert_int_equal(u->term_signal, SIGKILL);
	assert_non_null(strstr(u->reason, "killed by signal 9"));
}

static void
test_timeout(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];
	uint64_t t0 = now_ms();

	start(c, sh_def("slow", "echo started; sleep 30",
	    json_pack("{s:i, s:i}", "timeout_s", 1, "retries", 2)), NULL);
	run_ok(c, "slow", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(TIMED_OUT));
	assert_int_equal(u->term_signal, SIGTERM);
	assert_string_equal(u->reason, "timed out after 1 s");
	/* Timeouts are not retried, even with retries left. */
	assert_int_equal(u->attempt, 1);
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RETRYING)), 0);
	assert_true(now_ms() - t0 >= 900);
	assert_true(now_ms() - t0 < 10000);
	c->needle = "started";
	assert_true(log_has(c, id));
}

/* A script that reports "ready" once its TERM disposition is set. */
#define TRAP_BYE	"trap 'echo bye; exit 0' TERM; echo ready; " \
			"while :; do sleep 0.1; done"
#define IGNORE_TERM	"trap '' TERM; echo ready; while :; do sleep 0.1; done"

static void
test_cancel_soft_trapped(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .grace_ms = 10000 };
	const struct upd *u;
	char id[64], msg[256];
	uint64_t t0;

	start(c, sh_def("polite", TRAP_BYE, NULL), &cfg);
	run_ok(c, "polite", NULL, id, sizeof id);
	wait_log(c, id, "ready");
	t0 = now_ms();
	assert_int_equal(tasks_cancel(c->t, id, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(u->exit_code, 0);
	assert_int_equal(u->term_signal, 0);
	assert_non_null(strstr(u->reason, "cancelled (soft)"));
	/* It ended by itself, well before the grace. */
	assert_true(now_ms() - t0 < 8000);
	c->needle = "bye";
	assert_true(log_has(c, id));
}

static void
test_cancel_hard(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .grace_ms = 60000 };
	const struct upd *u;
	char id[64], msg[256];
	uint64_t t0;

	start(c, sh_def("stubborn", IGNORE_TERM, NULL), &cfg);
	run_ok(c, "stubborn", NULL, id, sizeof id);
	wait_log(c, id, "ready");
	t0 = now_ms();
	assert_int_equal(tasks_cancel(c->t, id, 1, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(u->term_signal, SIGKILL);
	assert_string_equal(u->reason, "cancelled (hard)");
	assert_true(now_ms() - t0 < 10000);
}

static void
test_cancel_soft_escalates(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .grace_ms = 300 };
	const struct upd *u;
	char id[64], msg[256];
	uint64_t t0;

	start(c, sh_def("stubborn", IGNORE_TERM, NULL), &cfg);
	run_ok(c, "stubborn", NULL, id, sizeof id);
	wait_log(c, id, "ready");
	t0 = now_ms();
	assert_int_equal(tasks_cancel(c->t, id, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	/* TERM is ignored: still running before the grace is over. */
	spin(c, 100);
	assert_int_equal(last(c, id)->state, MESH_TASK_STATE(RUNNING));
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(u->term_signal, SIGKILL);
	assert_non_null(strstr(u->reason, "cancelled (soft)"));
	assert_non_null(strstr(u->reason, "killed after 300 ms grace"));
	assert_true(now_ms() - t0 >= 290);
}

static void
test_cancel_queued_finished_unknown(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .max_running = 1 };
	const struct upd *u;
	char a[64], b[64], msg[256];

	start(c, sh_def("quick", "echo hi", NULL), &cfg);
	run_ok(c, "quick", NULL, a, sizeof a);
	run_ok(c, "quick", NULL, b, sizeof b);
	/* b never got a slot: cancelled at once, without a process. */
	assert_int_equal(tasks_cancel(c->t, b, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	u = last(c, b);
	assert_int_equal(u->state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(u->attempt, 0);
	assert_true(u->finished_ms > 0);
	u = wait_end(c, a);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	assert_int_equal(tasks_cancel(c->t, a, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(ERROR));
	assert_string_equal(msg, "task n1-1 already finished (succeeded)");
	assert_int_equal(tasks_cancel(c->t, b, 1, msg, sizeof msg),
	    MESH_COMMAND_STATUS(ERROR));
	assert_non_null(strstr(msg, "(cancelled)"));
	assert_int_equal(tasks_cancel(c->t, "n1-99", 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(NOT_FOUND));
	assert_non_null(strstr(msg, "n1-99"));
	assert_int_equal(count_state(c, b, MESH_TASK_STATE(RUNNING)), 0);
}

static void
test_retries_then_success(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64], out[256];
	size_t i, n = 0, fds;
	unsigned attempts[8];

	/* Fails on attempts 1 and 2, succeeds on 3. */
	start(c, sh_def("flaky",
	    "n=$(cat \"$DIR/count\" 2>/dev/null || echo 0); n=$((n+1)); "
	    "echo $n > \"$DIR/count\"; echo attempt $n; [ $n -ge 3 ]",
	    json_pack("{s:i, s:i, s:{s:s}}", "retries", 4, "retry_backoff_ms",
	    100, "env", "DIR", c->dir)), NULL);
	fds = open_fds();
	run_ok(c, "flaky", NULL, id, sizeof id);
	u = wait_end(c, id);
	/* Three attempts, three sets of pipes, none left open. */
	assert_int_equal(open_fds(), fds);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	assert_int_equal(u->attempt, 3);
	assert_int_equal(u->max_attempts, 5);
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RETRYING)), 2);
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RUNNING)), 3);
	for (i = 0; i < c->nu; i++) {
		if (strcmp(c->u[i].id, id) != 0)
			continue;
		if (c->u[i].state == MESH_TASK_STATE(RETRYING)) {
			assert_int_equal(c->u[i].exit_code, 1);
			assert_true(c->u[i].next_retry_ms > 0);
			/* 100 ms * 2^(attempt-1), ±20%. */
			assert_true(c->u[i].next_retry_ms > c->u[i].started_ms);
			assert_non_null(strstr(c->u[i].reason, "retrying"));
		}
		if (c->u[i].state == MESH_TASK_STATE(RUNNING) ||
		    c->u[i].state == MESH_TASK_STATE(RETRYING))
			attempts[n++] = c->u[i].attempt;
	}
	/* RUNNING 1, RETRYING 1, RUNNING 2, RETRYING 2, RUNNING 3. */
	assert_int_equal(n, 5);
	assert_int_equal(attempts[0], 1);
	assert_int_equal(attempts[1], 1);
	assert_int_equal(attempts[2], 2);
	assert_int_equal(attempts[3], 2);
	assert_int_equal(attempts[4], 3);
	/* Log numbering continues across attempts. */
	joined(c, id, MESH_LOG_STREAM(STDOUT), out, sizeof out);
	assert_string_equal(out, "attempt 1|attempt 2|attempt 3");
	for (i = 0; i < c->nl; i++)
		assert_int_equal(c->l[i].seq, i + 1);
}

static void
test_retries_exhausted(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];

	start(c, sh_def("broken", "exit 7",
	    json_pack("{s:i, s:i}", "retries", 1, "retry_backoff_ms", 0)),
	    NULL);
	run_ok(c, "broken", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	assert_int_equal(u->attempt, 2);
	assert_int_equal(u->max_attempts, 2);
	assert_int_equal(u->exit_code, 7);
	assert_string_equal(u->reason, "exited with status 7 (attempt 2 of 2)");
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RETRYING)), 1);
}

static void
test_concurrency_queues(void **state)
{
	struct ctx *c = *state;
	const struct upd *ua, *ub;
	char a[64], b[64];

	start(c, sh_def("single", "echo start; sleep 1", NULL), NULL);
	run_ok(c, "single", NULL, a, sizeof a);
	run_ok(c, "single", NULL, b, sizeof b);
	assert_true(wait_until(c, running, a, WAIT_MS));
	spin(c, 300);
	/* Concurrency 1: b waits while a runs. */
	assert_int_equal(last(c, a)->state, MESH_TASK_STATE(RUNNING));
	assert_int_equal(last(c, b)->state, MESH_TASK_STATE(QUEUED));
	assert_int_equal(last(c, b)->attempt, 0);
	assert_int_equal(tasks_active(c->t), 2);
	ua = wait_end(c, a);
	assert_int_equal(ua->state, MESH_TASK_STATE(SUCCEEDED));
	ub = wait_end(c, b);
	assert_int_equal(ub->state, MESH_TASK_STATE(SUCCEEDED));
	ua = last(c, a);
	assert_true(ub->started_ms >= ua->finished_ms);
}

static void
test_max_running_node_wide(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .max_running = 1 };
	json_t *defs = json_object();
	char a[64], b[64];

	merge(defs, sh_def("one", "sleep 0.5", NULL));
	merge(defs, sh_def("two", "sleep 0.1", NULL));
	start(c, defs, &cfg);
	run_ok(c, "one", NULL, a, sizeof a);
	run_ok(c, "two", NULL, b, sizeof b);
	assert_true(wait_until(c, running, a, WAIT_MS));
	spin(c, 200);
	assert_int_equal(last(c, b)->state, MESH_TASK_STATE(QUEUED));
	assert_int_equal(wait_end(c, b)->state, MESH_TASK_STATE(SUCCEEDED));
	assert_true(last(c, b)->started_ms >= last(c, a)->finished_ms);
}

static void
test_long_line_split(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];
	size_t i, n = 0, lens[8];
	int cont[8];

	start(c, sh_def("wide",
	    "head -c 10000 /dev/zero | tr '\\0' a; echo; echo short", NULL),
	    NULL);
	run_ok(c, "wide", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	for (i = 0; i < c->nl && n < 8; i++) {
		lens[n] = strlen(c->l[i].text);
		cont[n++] = c->l[i].continued;
		assert_int_equal(c->l[i].seq, i + 1);
	}
	assert_int_equal(n, 4);
	assert_int_equal(lens[0], 4096);
	assert_int_equal(lens[1], 4096);
	assert_int_equal(lens[2], 10000 - 2 * 4096);
	assert_true(cont[0] && cont[1] && !cont[2] && !cont[3]);
	assert_string_equal(c->l[3].text, "short");
}

static void
test_split_keeps_utf8_whole(void **state)
{
	struct ctx *c = *state;
	char id[64];

	/* 4095 bytes, then a 2-byte "é" straddling the 4096 boundary. */
	start(c, sh_def("accent",
	    "head -c 4095 /dev/zero | tr '\\0' a; printf '\\303\\251b\\n'",
	    NULL), NULL);
	run_ok(c, "accent", NULL, id, sizeof id);
	assert_int_equal(wait_end(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	assert_int_equal(c->nl, 2);
	assert_int_equal(strlen(c->l[0].text), 4095);
	assert_true(c->l[0].continued);
	assert_string_equal(c->l[1].text, "\303\251b");
	assert_false(c->l[1].continued);
}

static void
test_invalid_utf8_sanitized(void **state)
{
	struct ctx *c = *state;
	char id[64], out[256];

	start(c, sh_def("binary",
	    "printf 'ok \\377\\376 \\300\\257 end\\n'; "
	    "printf 'a\\000b\\n'; printf 'caf\\303\\251\\n'; "
	    "printf '\\355\\240\\200 surrogate\\n'; printf 'tail \\342\\202'",
	    NULL), NULL);
	run_ok(c, "binary", NULL, id, sizeof id);
	assert_int_equal(wait_end(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	joined(c, id, MESH_LOG_STREAM(STDOUT), out, sizeof out);
	/* Invalid bytes and NUL become '?', valid UTF-8 stays; the last
	 * line (no newline, truncated sequence) is still handed out. */
	assert_string_equal(out, "ok ?? ?? end|a?b|caf\303\251|??? surrogate|"
	    "tail ??");
	for (size_t i = 0; i < c->nl; i++) {
		json_t *s = json_string(c->l[i].text);	/* validates UTF-8 */

		assert_non_null(s);
		json_decref(s);
	}
}

static void
test_flood_limited(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .lines_per_s = 100 };
	const struct upd *u;
	char id[64], want[64];
	size_t i, lines = 0, markers = 0;
	uint64_t dropped = 0, t0 = now_ms(), secs;

	start(c, sh_def("chatty", "seq 1 5000", NULL), &cfg);
	run_ok(c, "chatty", NULL, id, sizeof id);
	u = wait_end(c, id);
	secs = (now_ms() - t0) / 1000 + 1;
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	for (i = 0; i < c->nl; i++) {
		dropped += c->l[i].dropped;
		if (strstr(c->l[i].text, "lines dropped") != NULL) {
			markers++;
			assert_int_equal(c->l[i].stream,
			    MESH_LOG_STREAM(STDERR));
			snprintf(want, sizeof want, "[%u lines dropped]",
			    c->l[i].dropped);
			assert_string_equal(c->l[i].text, want);
			assert_true(c->l[i].dropped > 0);
			/* The marker is the task's last line. */
			assert_int_equal(i, c->nl - 1);
		} else
			lines++;
		assert_int_equal(c->l[i].seq, i + 1);
	}
	assert_int_equal(markers, 1);
	/* Every line is either handed out or counted as dropped. */
	assert_int_equal(lines + dropped, 5000);
	/* Burst of 100, then 100 per second. */
	assert_true(lines >= 100);
	assert_true(lines <= 100 + 100 * secs + 10);
	assert_string_equal(c->l[0].text, "1");
	assert_string_equal(c->l[99].text, "100");
}

static void
test_adhoc(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .allow_adhoc = 1 };
	struct tasks_request req = { 0 };
	json_t *argv = json_pack("[s,s,s]", "/bin/sh", "-c", "echo adhoc-ok");
	json_t *empty = json_array(), *nonstr = json_pack("[i]", 5);
	json_t *nul = json_pack("[o]", json_stringn("/bin/s\0h", 8));
	const struct upd *u;
	char id[64], msg[256];

	start(c, NULL, &cfg);
	req.adhoc = argv;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	assert_string_equal(u->name, "adhoc");
	wait_log(c, id, "adhoc-ok");

	req.adhoc = empty;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	req.adhoc = nonstr;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	req.adhoc = nul;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_string_equal(id, "");

	/* The same request on a node that disabled ad-hoc commands. */
	tasks_free(c->t);
	c->t = NULL;
	start(c, NULL, NULL);
	req.adhoc = argv;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(REFUSED));
	assert_string_equal(msg, "ad-hoc commands are disabled on this node");
	assert_int_equal(tasks_active(c->t), 0);
	json_decref(argv);
	json_decref(empty);
	json_decref(nonstr);
	json_decref(nul);
}

static void
test_unknown_task(void **state)
{
	struct ctx *c = *state;
	struct tasks_request req = { .name = "nope" };
	char id[64], msg[256];

	start(c, sh_def("real", "true", NULL), NULL);
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(NOT_FOUND));
	assert_string_equal(msg, "no task named \"nope\"");
	assert_int_equal(c->nu, 0);
	req.name = NULL;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
}

static void
test_args(void **state)
{
	struct ctx *c = *state;
	struct tasks_request req = { 0 };
	json_t *defs = json_object(), *args, *many, *notarr;
	char id[64], msg[256];
	int i;

	merge(defs, sh_def("fixed", "echo fixed", NULL));
	merge(defs, json_pack("{s:{s:[s,s,s,s], s:b}}", "echo",
	    "command", "/bin/sh", "-c", "echo \"$@\"", "sh", "allow_args", 1));
	start(c, defs, NULL);
	args = json_pack("[s,s]", "a", "b c");
	many = json_array();
	for (i = 0; i < 65; i++)
		json_array_append_new(many, json_string("x"));
	notarr = json_string("a");

	req.name = "fixed";
	req.args = args;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(REFUSED));
	assert_string_equal(msg, "task \"fixed\" does not take arguments");

	req.name = "echo";
	req.args = many;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	req.args = notarr;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(INVALID));
	assert_int_equal(c->nu, 0);

	req.args = args;
	assert_int_equal(tasks_run(c->t, &req, id, sizeof id, msg, sizeof msg),
	    MESH_COMMAND_STATUS(OK));
	assert_int_equal(wait_end(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	wait_log(c, id, "a b c");
	json_decref(args);
	json_decref(many);
	json_decref(notarr);
}

static void
test_frozen(void **state)
{
	struct ctx *c = *state;
	char id[64], other[64], msg[256];
	struct tasks_request req = { .name = "quick" };

	start(c, sh_def("quick", "echo hi", NULL), NULL);
	run_ok(c, "quick", NULL, id, sizeof id);
	/* Frozen before the loop got to start it: it stays queued. */
	tasks_set_frozen(c->t, 1);
	assert_int_equal(tasks_run(c->t, &req, other, sizeof other, msg,
	    sizeof msg), MESH_COMMAND_STATUS(REFUSED));
	assert_string_equal(msg, "node is frozen (read-only)");
	spin(c, 500);
	assert_int_equal(last(c, id)->state, MESH_TASK_STATE(QUEUED));
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RUNNING)), 0);
	tasks_set_frozen(c->t, 0);
	assert_int_equal(wait_end(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	wait_log(c, id, "hi");
}

static void
test_cwd_and_env(void **state)
{
	struct ctx *c = *state;
	char id[64], out[1024], want[PATH_MAX + 64], real[PATH_MAX];

	assert_int_equal(setenv("AGENTFLOW_TEST_INHERITED", "from-node", 1), 0);
	assert_int_equal(setenv("FOO", "node-value", 1), 0);
	start(c, sh_def("where",
	    "pwd -P; echo \"$FOO\"; echo \"$AGENTFLOW_TEST_INHERITED\"; "
	    "echo \"$EMPTY.\"",
	    json_pack("{s:s, s:{s:s, s:s}}", "cwd", c->dir, "env", "FOO",
	    "bar baz", "EMPTY", "")), NULL);
	run_ok(c, "where", NULL, id, sizeof id);
	assert_int_equal(wait_end(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	assert_non_null(realpath(c->dir, real));
	snprintf(want, sizeof want, "%s|bar baz|from-node|.", real);
	joined(c, id, MESH_LOG_STREAM(STDOUT), out, sizeof out);
	assert_string_equal(out, want);
	unsetenv("AGENTFLOW_TEST_INHERITED");
	unsetenv("FOO");
}

static void
test_exec_failure(void **state)
{
	struct ctx *c = *state;
	json_t *defs = json_object();
	const struct upd *u;
	char id[64], want[256], baddir[128];

	snprintf(baddir, sizeof baddir, "%s/missing", c->dir);
	merge(defs, json_pack("{s:{s:[s]}}", "ghost", "command",
	    "/nonexistent/prog"));
	merge(defs, json_pack("{s:{s:[s], s:s}}", "lost",
	    "command", "/bin/true", "cwd", baddir));
	start(c, defs, NULL);

	run_ok(c, "ghost", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	snprintf(want, sizeof want, "cannot exec /nonexistent/prog: %s",
	    strerror(ENOENT));
	assert_string_equal(u->reason, want);
	assert_int_equal(count_state(c, id, MESH_TASK_STATE(RUNNING)), 0);

	run_ok(c, "lost", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	snprintf(want, sizeof want, "cannot chdir to %s: %s", baddir,
	    strerror(ENOENT));
	assert_string_equal(u->reason, want);
	assert_int_equal(tasks_active(c->t), 0);
}

static void
test_invalid_definitions(void **state)
{
	static const struct {
		const char	*json;
		const char	*err;
	} cases[] = {
		{ "{\"backup\": {\"command\": [\"/bin/true\"], \"retries\": 11}}",
		  "task \"backup\": \"retries\" must be an integer 0-10" },
		{ "{\"backup\": {\"command\": [\"/bin/true\"], \"retries\": 1.5}}",
		  "task \"backup\": \"retries\" must be an integer 0-10" },
		{ "{\"b\": {\"cwd\": \"/\"}}",
		  "task \"b\": \"command\" must be an array of 1-64 strings" },
		{ "{\"b\": {\"command\": []}}",
		  "task \"b\": \"command\" must be an array of 1-64 strings" },
		{ "{\"b\": {\"command\": [\"/bin/true\", 3]}}",
		  "task \"b\": \"command\" must be an array of 1-64 strings" },
		{ "{\"b\": {\"command\": [\"\"]}}",
		  "task \"b\": \"command\" must be an array of 1-64 strings" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"colour\": 1}}",
		  "task \"b\": unknown field \"colour\"" },
		{ "{\"-b\": {\"command\": [\"/bin/true\"]}}",
		  "task \"-b\": the name must be 1-63 characters" },
		{ "{\"a b\": {\"command\": [\"/bin/true\"]}}",
		  "task \"a b\": the name must be" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"concurrency\": 0}}",
		  "task \"b\": \"concurrency\" must be an integer 1-64" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"concurrency\": 65}}",
		  "task \"b\": \"concurrency\" must be an integer 1-64" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"timeout_s\": -1}}",
		  "task \"b\": \"timeout_s\" must be a number" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"timeout_s\": \"5\"}}",
		  "task \"b\": \"timeout_s\" must be a number" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], "
		  "\"retry_backoff_ms\": 3600001}}",
		  "task \"b\": \"retry_backoff_ms\" must be an integer 0-3600000" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"allow_args\": 1}}",
		  "task \"b\": \"allow_args\" must be true or false" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"env\": {\"K\": 1}}}",
		  "task \"b\": \"env\": \"K\" must be a string" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"env\": [\"K\"]}}",
		  "task \"b\": \"env\" must be an object" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"env\": {\"A=B\": \"\"}}}",
		  "task \"b\": \"env\": \"A=B\" is not a variable name" },
		{ "{\"b\": {\"command\": [\"/bin/true\"], \"cwd\": 5}}",
		  "task \"b\": \"cwd\" must be a non-empty string" },
		{ "{\"b\": [\"/bin/true\"]}",
		  "task \"b\": the definition must be an object" },
		{ "[]", "task definitions must be an object" },
	};
	struct ctx *c = *state;
	struct tasks_hooks hooks = { .update = on_update, .log = on_log,
	    .arg = c };
	struct tasks_config cfg = { 0 };
	char err[512];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *defs = json_loads(cases[i].json, 0, NULL);

		assert_non_null(defs);
		cfg.defs = defs;
		err[0] = '\0';
		assert_null(tasks_new(c->base, &cfg, &hooks, err, sizeof err));
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err,
			    cases[i].err);
		json_decref(defs);
	}
	/* A bad id prefix is refused too; a good config passes. */
	cfg.defs = NULL;
	cfg.id_prefix = "bad prefix";
	assert_null(tasks_new(c->base, &cfg, &hooks, err, sizeof err));
	assert_non_null(strstr(err, "prefix"));
	cfg.id_prefix = NULL;
	c->t = tasks_new(c->base, &cfg, &hooks, err, sizeof err);
	assert_non_null(c->t);
}

static void
test_defs_json(void **state)
{
	struct ctx *c = *state;
	json_t *defs = json_object(), *shown, *d;

	merge(defs, sh_def("zeta", "true", json_pack(
	    "{s:i, s:{s:s}, s:b, s:f}", "retries", 2, "env", "SECRET", "hunter2",
	    "allow_args", 1, "timeout_s", 2.5)));
	merge(defs, sh_def("alpha", "true", NULL));
	start(c, defs, NULL);
	shown = tasks_defs_json(c->t);
	assert_int_equal(json_array_size(shown), 2);
	d = json_array_get(shown, 0);
	assert_string_equal(json_string_value(json_object_get(d, "name")),
	    "alpha");
	assert_int_equal(json_integer_value(json_object_get(d, "concurrency")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(d,
	    "retry_backoff_ms")), 1000);
	d = json_array_get(shown, 1);
	assert_string_equal(json_string_value(json_object_get(d, "name")),
	    "zeta");
	assert_int_equal(json_integer_value(json_object_get(d, "retries")), 2);
	assert_true(json_is_true(json_object_get(d, "allow_args")));
	assert_true(json_real_value(json_object_get(d, "timeout_s")) == 2.5);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d,
	    "command"), 2)), "true");
	assert_string_equal(json_string_value(json_array_get(json_object_get(d,
	    "env_keys"), 0)), "SECRET");
	/* Values of the environment are never shown. */
	{
		char *text = json_dumps(shown, 0);

		assert_null(strstr(text, "hunter2"));
		free(text);
	}
	json_decref(shown);
}

static void
test_hooks_reenter(void **state)
{
	struct ctx *c = *state;
	json_t *defs = json_object();
	const struct upd *u;
	char id[64];

	merge(defs, sh_def("loop", "echo ready; echo more; while :; do "
	    "echo spam; sleep 0.05; done", NULL));
	merge(defs, sh_def("after", "echo after", NULL));
	start(c, defs, NULL);
	c->cancel_on = "ready";
	c->chain = "after";
	run_ok(c, "loop", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(CANCELLED));
	assert_int_equal(u->term_signal, SIGKILL);
	/* The run the update hook started on the end goes its own way. */
	assert_true(c->chained[0] != '\0');
	assert_int_equal(wait_end(c, c->chained)->state,
	    MESH_TASK_STATE(SUCCEEDED));
	wait_log(c, c->chained, "after");
}

static void
test_grandchild_holding_pipe(void **state)
{
	struct ctx *c = *state;
	const struct upd *u;
	char id[64];
	long pid = 0;
	size_t i;
	uint64_t t0 = now_ms();

	/* The shell exits at once; its background sleep keeps stdout. */
	start(c, sh_def("detach", "sleep 30 & echo bg $!; echo done", NULL),
	    NULL);
	run_ok(c, "detach", NULL, id, sizeof id);
	u = wait_end(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(SUCCEEDED));
	/* Closed about a second after the reap, not after 30 s. */
	assert_true(now_ms() - t0 < 10000);
	c->needle = "done";
	assert_true(log_has(c, id));
	for (i = 0; i < c->nl; i++)
		if (sscanf(c->l[i].text, "bg %ld", &pid) == 1)
			break;
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
}

static void
test_history_bounded(void **state)
{
	struct ctx *c = *state;
	struct tasks_config cfg = { .max_running = 16 };
	char first[64], id[64], msg[256];
	int i;

	start(c, json_pack("{s:{s:[s], s:i}}", "t", "command", "/bin/true",
	    "concurrency", 16), &cfg);
	run_ok(c, "t", NULL, first, sizeof first);
	for (i = 0; i < 300; i++)
		run_ok(c, "t", NULL, id, sizeof id);
	assert_int_equal(tasks_active(c->t), 301);
	assert_true(wait_until(c, all_done, NULL, 4 * WAIT_MS));
	assert_int_equal(last(c, id)->state, MESH_TASK_STATE(SUCCEEDED));
	/* The newest finished runs are remembered, the oldest forgotten. */
	assert_int_equal(tasks_cancel(c->t, id, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(ERROR));
	assert_int_equal(tasks_cancel(c->t, first, 0, msg, sizeof msg),
	    MESH_COMMAND_STATUS(NOT_FOUND));
	assert_int_equal(count_state(c, first, MESH_TASK_STATE(SUCCEEDED)), 1);
}

static int
pid_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	/* A zombie waiting for its new parent to reap it is gone too. */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return 1;
	return p[1] == ' ' && p[2] == 'Z';
}

static void
test_free_kills_group(void **state)
{
	struct ctx *c = *state;
	char id[64], queued[64];
	pid_t leader = 0, grandchild = 0;
	const struct upd *u;
	size_t i;
	uint64_t end;
	struct tasks_config cfg = { .max_running = 1 };

	start(c, sh_def("sleeper",
	    "sleep 100 & echo child $!; echo leader $$; exec sleep 100", NULL),
	    &cfg);
	run_ok(c, "sleeper", NULL, id, sizeof id);
	run_ok(c, "sleeper", NULL, queued, sizeof queued);
	assert_true(wait_until(c, running, id, WAIT_MS));
	end = now_ms() + WAIT_MS;
	while ((leader == 0 || grandchild == 0) && now_ms() < end) {
		spin(c, 50);
		for (i = 0; i < c->nl; i++) {
			long v;

			if (sscanf(c->l[i].text, "child %ld", &v) == 1)
				grandchild = (pid_t)v;
			if (sscanf(c->l[i].text, "leader %ld", &v) == 1)
				leader = (pid_t)v;
		}
	}
	assert_true(leader > 0 && grandchild > 0);
	assert_int_equal(kill(leader, 0), 0);

	tasks_free(c->t);
	c->t = NULL;
	u = last(c, id);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	assert_string_equal(u->reason, "node stopped");
	assert_int_equal(u->term_signal, SIGKILL);
	u = last(c, queued);
	assert_int_equal(u->state, MESH_TASK_STATE(FAILED));
	assert_string_equal(u->reason, "node stopped");
	/* The leader was reaped by us; the grandchild died with the group. */
	assert_int_equal(kill(leader, 0), -1);
	assert_int_equal(errno, ESRCH);
	end = now_ms() + WAIT_MS;
	while (!pid_gone(grandchild) && now_ms() < end)
		usleep(20000);
	assert_true(pid_gone(grandchild));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_success_with_logs),
		T(test_exit_code),
		T(test_killed_by_signal),
		T(test_timeout),
		T(test_cancel_soft_trapped),
		T(test_cancel_hard),
		T(test_cancel_soft_escalates),
		T(test_cancel_queued_finished_unknown),
		T(test_retries_then_success),
		T(test_retries_exhausted),
		T(test_concurrency_queues),
		T(test_max_running_node_wide),
		T(test_long_line_split),
		T(test_split_keeps_utf8_whole),
		T(test_invalid_utf8_sanitized),
		T(test_flood_limited),
		T(test_adhoc),
		T(test_unknown_task),
		T(test_args),
		T(test_frozen),
		T(test_cwd_and_env),
		T(test_exec_failure),
		T(test_invalid_definitions),
		T(test_defs_json),
		T(test_hooks_reenter),
		T(test_grandchild_holding_pipe),
		T(test_history_bounded),
		T(test_free_kills_group),
#undef T
	};

	log_init("test_tasks", LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
