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
 *
 * The processes themselves (fork and exec, pipes, lines and the flood
 * limit, signals, reaping) are in tasks_proc.c, the definitions of --tasks
 * in tasks_defs.c; tasks_priv.h holds what the three share.
 */
#include "tasks_priv.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "hmap.h"
#include "json_check.h"
#include "log.h"
#include "mesh_names.h"
#include "text.h"
#include "xalloc.h"

#define HISTORY_MAX		256	/* finished runs remembered */
#define POLL_MS			1000	/* waitpid fallback should SIGCHLD be lost */
#define BACKOFF_CAP_MS		600000
#define DEFAULT_MAX_RUNNING	4
#define DEFAULT_GRACE_MS	5000
#define DEFAULT_LINES_PER_S	1000
#define ADHOC_NAME		"adhoc"

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

void
tasks_set_reason(struct run *r, const char *fmt, ...)
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

/* ---- transitions --------------------------------------------------- */

/* A run whose pipes are closed and whose process is reaped is over. */
static void end_attempt(struct run *);

void
tasks_maybe_end(struct run *r)
{
	if (r->live && r->reaped && r->out.fd == -1 && r->err.fd == -1)
		end_attempt(r);
}

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
		tasks_proc_emit_log(r, MESH_LOG_STREAM(STDERR), marker,
		    strlen(marker), 0);
	}
	tasks_job_finish(r);
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
	if (r->owndef != NULL)
		t->running_services--;
	event_del(r->timeout_ev);
	event_del(r->kill_ev);
	event_del(r->drain_ev);
	event_del(r->poll_ev);
	tasks_guard_forget(r);
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
			tasks_set_reason(r, "cancelled (soft); killed after %" PRIu64
			    " ms grace", tasks_grace_ms(r));
		else
			tasks_set_reason(r, "cancelled (soft); %s", what);
		finish(r, MESH_TASK_STATE(CANCELLED));
		return;
	case END_HARD:
		tasks_set_reason(r, "cancelled (hard)");
		finish(r, MESH_TASK_STATE(CANCELLED));
		return;
	case END_TIMEOUT:
		/* Timeouts are not retried: the next attempt would most
		 * likely hang the same way. */
		tasks_set_reason(r, "timed out after %g s%s", r->def->timeout_s,
		    r->escalated ? " (killed after the grace)" : "");
		finish(r, MESH_TASK_STATE(TIMED_OUT));
		return;
	case END_NONE:
		break;
	}
	if (r->term_signal == 0 && r->exit_code == 0) {
		tasks_set_reason(r, "%s", what);
		finish(r, MESH_TASK_STATE(SUCCEEDED));
		return;
	}
	if (r->attempt >= r->max_attempts) {
		if (r->max_attempts > 1)
			tasks_set_reason(r, "%s (attempt %u of %u)", what, r->attempt,
			    r->max_attempts);
		else
			tasks_set_reason(r, "%s", what);
		finish(r, MESH_TASK_STATE(FAILED));
		return;
	}
	delay = backoff_ms(t, r->def->backoff_ms, r->attempt);
	r->state = MESH_TASK_STATE(RETRYING);
	r->next_retry_ms = clock_wall_ms() + delay;
	tasks_set_reason(r, "%s (attempt %u of %u); retrying in %.1f s", what,
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
	if (tasks_job_prepare(r) == -1 || tasks_proc_spawn(r) == -1) {
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
	if (r->owndef != NULL)
		t->running_services++;
	/* Events of the previous attempt are not pending any more, and no
	 * callback of theirs is on the stack: starts come from kick_cb. */
	if (r->out.ev != NULL)
		event_free(r->out.ev);
	if (r->err.ev != NULL)
		event_free(r->err.ev);
	r->out.ev = event_new(t->base, r->out.fd, EV_READ | EV_PERSIST,
	    tasks_proc_read_cb, &r->out);
	r->err.ev = event_new(t->base, r->err.fd, EV_READ | EV_PERSIST,
	    tasks_proc_read_cb, &r->err);
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
	/* A service's process is not queued work: it starts whatever
	 * max_running says, and does not count against it. */
	while (!t->frozen && !t->stopping) {
		TAILQ_FOREACH(r, &t->readyq, rentry)
			if (r->owndef != NULL ||
			    (t->running - t->running_services < t->max_running &&
			    (r->def->concurrency == 0 ||
			    r->def->running < r->def->concurrency)))
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
	tasks_job_clear(r);
	tasks_def_free(r->owndef);
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

/* ---- the interface ------------------------------------------------- */

static int
prefix_valid(const char *prefix)
{
	return strlen(prefix) <= NODE_ID_PREFIX_MAX &&
	    node_id_valid(prefix, strlen(prefix));
}

int
tasks_set_id_prefix(struct tasks *t, const char *prefix)
{
	if (!prefix_valid(prefix))
		return -1;
	snprintf(t->prefix, sizeof t->prefix, "%s", prefix);
	return 0;
}

struct tasks *
tasks_new(struct event_base *base, const struct tasks_config *cfg,
    const struct tasks_hooks *hooks, char *err, size_t errlen)
{
	struct tasks *t;
	const char *prefix;
	long maxfd;

	if (errlen > 0)
		err[0] = '\0';
	prefix = cfg->id_prefix != NULL ? cfg->id_prefix : "task";
	if (!prefix_valid(prefix)) {
		snprintf(err, errlen, "task id prefix must be 1-%d characters "
		    "of [A-Za-z0-9._-] starting with a letter or digit",
		    NODE_ID_PREFIX_MAX);
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
	tasks_guard_init(t, cfg->guardian);

	if (tasks_job_init(t, cfg->run_dir, err, errlen) == -1 ||
	    (cfg->defs != NULL &&
	    tasks_defs_load(t, cfg->defs, err, errlen) == -1)) {
		tasks_free(t);
		return NULL;
	}

	t->sigchld_ev = evsignal_new(base, SIGCHLD, tasks_proc_sigchld_cb, t);
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

	if (t == NULL)
		return;
	t->stopping = 1;
	while ((r = TAILQ_FIRST(&t->active)) != NULL) {
		if (r->live) {
			tasks_proc_stop(r);
			tasks_guard_forget(r);
			r->live = 0;
			r->pid = 0;
			r->def->running--;
			t->running--;
			if (r->owndef != NULL)
				t->running_services--;
		}
		tasks_set_reason(r, "node stopped");
		finish(r, MESH_TASK_STATE(FAILED));
	}
	while ((r = TAILQ_FIRST(&t->done)) != NULL) {
		TAILQ_REMOVE(&t->done, r, entry);
		run_free(r);
	}
	tasks_guard_stop(t);
	if (t->sigchld_ev != NULL)
		event_free(t->sigchld_ev);
	if (t->kick_ev != NULL)
		event_free(t->kick_ev);
	if (t->gc_ev != NULL)
		event_free(t->gc_ev);
	tasks_defs_clear(t);
	free(t->run_dir);
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
	struct taskdef *d, *owndef = NULL;
	struct run *r;
	char id[NODE_ID_MAX + 1], **argv;
	size_t argc = 0, i;
	char *principal;
	int rc;

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
	if (req->job != NULL && (rc = tasks_job_check(t, req->job, msg,
	    msglen)) != MESH_COMMAND_STATUS(OK))
		return rc;
	argv = xcalloc(2 * ARGV_MAX + 1, sizeof *argv);
	if (req->service != NULL) {
		if (req->name != NULL || req->adhoc != NULL ||
		    req->args != NULL || req->job != NULL) {
			snprintf(msg, msglen, "a service's run takes no task "
			    "name, argv, args or job");
			goto invalid;
		}
		if (req->service->task_name == NULL ||
		    !principal_valid(req->service->task_name) ||
		    req->service->task_name[0] == '\0' ||
		    (owndef = tasks_def_service(req->service, msg,
		    msglen)) == NULL) {
			if (msg[0] == '\0')
				snprintf(msg, msglen, "a service's run needs "
				    "a name");
			goto invalid;
		}
		d = owndef;
		for (i = 0; i < d->argc; i++)
			argv[argc++] = xstrdup(d->argv[i]);
	} else if (req->name != NULL) {
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
		tasks_def_free(owndef);
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
	if (owndef != NULL) {
		r->owndef = owndef;
		r->stop_signal = req->service->stop_signal;
		r->grace_ms = req->service->grace_ms;
	}
	if (req->job != NULL)
		tasks_job_attach(r, req->job);
	r->out.run = r->err.run = r;
	r->out.fd = r->err.fd = -1;
	r->out.stream = MESH_LOG_STREAM(STDOUT);
	r->err.stream = MESH_LOG_STREAM(STDERR);
	r->tokens = t->lines_per_s;
	r->refill_us = clock_mono_us();
	r->timeout_ev = evtimer_new(t->base, tasks_proc_timeout_cb, r);
	r->kill_ev = evtimer_new(t->base, tasks_proc_kill_cb, r);
	r->drain_ev = evtimer_new(t->base, tasks_proc_drain_cb, r);
	r->retry_ev = evtimer_new(t->base, retry_cb, r);
	r->poll_ev = event_new(t->base, -1, EV_PERSIST, tasks_proc_poll_cb, r);
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
	log_event(LOG_INFO, "task queued", "{s:s, s:s, s:s, s:s, s:s*}", "task",
	    r->id, "name", d->name, "command_id", r->command_id, "principal",
	    r->principal, "job", r->job_id);
	/* Starting is deferred so the caller has its answer before any
	 * process exists, and never forks inside its own handler. */
	kick(t);
	emit_update(r);
	return MESH_COMMAND_STATUS(OK);
invalid:
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	tasks_def_free(owndef);
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
		tasks_set_reason(r, "cancelled (%s) before %s", hard ? "hard" : "soft",
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
		tasks_proc_kill(r, SIGKILL);
	} else if (r->ending != END_SOFT && r->ending != END_HARD) {
		r->ending = END_SOFT;
		tasks_proc_kill(r, tasks_stop_signal(r));
		/* A timeout's grace already running is kept. */
		if (!evtimer_pending(r->kill_ev, NULL)) {
			tv.tv_sec = (time_t)(tasks_grace_ms(r) / 1000);
			tv.tv_usec = (suseconds_t)(tasks_grace_ms(r) % 1000) *
			    1000;
			evtimer_add(r->kill_ev, &tv);
		}
	}
	return MESH_COMMAND_STATUS(OK);
}

int
tasks_stop_signal(const struct run *r)
{
	return r->stop_signal != 0 ? r->stop_signal : SIGTERM;
}

uint64_t
tasks_grace_ms(const struct run *r)
{
	return r->grace_ms != 0 ? r->grace_ms : r->t->grace_ms;
}

size_t
tasks_cancel_all(struct tasks *t)
{
	char **ids = xcalloc(t->nactive + 1, sizeof(*ids)), msg[256];
	size_t n = 0, done = 0;
	struct run *r;

	/* Ids first: a queued run leaves the list as it is cancelled. */
	TAILQ_FOREACH(r, &t->active, entry)
		if (n < t->nactive)
			ids[n++] = xstrdup(r->id);
	for (size_t i = 0; i < n; i++) {
		if (tasks_cancel(t, ids[i], 0, msg, sizeof(msg)) ==
		    MESH_COMMAND_STATUS(OK))
			done++;
		free(ids[i]);
	}
	free(ids);
	return done;
}

void
tasks_set_frozen(struct tasks *t, int frozen)
{
	t->frozen = frozen != 0;
	if (!t->frozen)
		kick(t);
}

size_t
tasks_active(const struct tasks *t)
{
	return t->nactive;
}
