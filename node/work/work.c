/*
 * The node's work subsystems wired together (see work.h): the audit log,
 * the task runner, the alert rules and command routing, their hooks into
 * state sync, and what a restart must settle — a task that was running
 * when the node stopped is recorded as failed (never run twice, never
 * lost), open alerts continue, and read-only mode stays as it was.
 */
#include "work.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "api.h"
#include "audit.h"
#include "callbacks.h"
#include "check.h"
#include "clock.h"
#include "command_exec.h"
#include "commands.h"
#include "feed.h"
#include "file.h"
#include "freeze.h"
#include "job_runs.h"
#include "jobs.h"
#include "json_check.h"
#include "schedules.h"
#include "services.h"
#include "artifacts.h"
#include "rollouts.h"
#include "notify.h"
#include "silences.h"
#include "silences_mesh.h"
#include "service_registry.h"
#include "dns_server.h"
#include "workflows.h"
#include "log.h"
#include "mesh.h"
#include "mesh_names.h"
#include "node.h"
#include "store.h"
#include "store_runs.h"
#include "store_jobs.h"
#include "store_workflows.h"
#include "store_work.h"
#include "sync.h"
#include "tasks.h"
#include "work_ids.h"
#include "work_json.h"
#include "xalloc.h"

#define CONFIG_FILE_MAX	(1u << 20)
#define TRIM_PERIOD_S	600

static void
task_update(const Agentflow__Mesh__V1__TaskUpdate *t, void *arg)
{
	struct node *n = arg;

	sync_emit_task(n->sync, t);
	if (n->alerts != NULL)
		alerts_task(n->alerts, clock_wall_ms(), t);
	if (n->job_runs != NULL)
		job_runs_task_update(n->job_runs, t);
	services_task(n->services, t);
}

static void
task_job_result(const char *task_id, const char *result, size_t len,
    const char *why, void *arg)
{
	struct node *n = arg;

	if (n->job_runs != NULL)
		job_runs_task_result(n->job_runs, task_id, result, len, why);
}

static void
task_log(const Agentflow__Mesh__V1__TaskLog *l, void *arg)
{
	sync_emit_log(((struct node *)arg)->sync, l);
}

/* A run's process group, recorded while it runs (tasks.h: no orphans). */
static void
task_group(const struct tasks_group *g, int running, void *arg)
{
	struct node *n = arg;
	struct store_run r = { g->task_id, g->pgid, g->start_ticks, g->boot_id,
	    (int64_t)clock_wall_ms() };

	services_task_group(n->services, g->task_id, g->pgid, running);
	if ((running ? store_runs_put(n->store, &r) :
	    store_runs_del(n->store, g->task_id)) != 0)
		log_event(LOG_WARN, "cannot record a task's process group",
		    "{s:s, s:s}", "task", g->task_id, "error",
		    store_error(n->store));
}

static void task_leftover(const char *task_id, int pgid, void *arg);

static void
alert_emit(const Agentflow__Mesh__V1__Alert *a, void *arg)
{
	struct node *n = arg;

	log_event(a->state == MESH_ALERT_STATE(FIRING) ?
	    LOG_WARN : LOG_INFO, "alert", "{s:s, s:s, s:s, s:s}", "alert_id",
	    a->alert_id, "rule", a->rule, "state",
	    mesh_names_alert_state(a->state),
	    "message", a->message);
	sync_emit_alert(n->sync, a);
	notify_alert(n->notify, a);
}

static void
command_changed(const char *id, void *arg)
{
	struct node *n = arg;

	if (n->api != NULL)
		api_command_changed(n->api, id);
	feed_command(n->feed, id);
}

/* A JSON file named by a flag, or NULL (no flag) with *err empty. */
static json_t *
load_json(const char *path, const char *flag, char *err, size_t errlen)
{
	char ferr[256], where[JSON_ERROR_TEXT_LENGTH + 64], *text;
	json_error_t jerr;
	size_t len;
	json_t *j;

	err[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return NULL;
	if ((text = file_read(path, CONFIG_FILE_MAX, &len, NULL, ferr,
	    sizeof(ferr))) == NULL) {
		snprintf(err, errlen, "--%s %s: %s", flag, path, ferr);
		return NULL;
	}
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		snprintf(err, errlen, "--%s %s: %s", flag, path,
		    json_check_load_error(&jerr, where, sizeof(where)));
	free(text);
	return j;
}

/* --- restart recovery ---------------------------------------------------------- */

struct work {
	struct event	*trim_ev;
	json_t		*leftovers;	/* at start: task id → pgid ended */
};

/* What a previous life left of task_id's run was ended: its record says
 * so when recover() closes it. */
static void
task_leftover(const char *task_id, int pgid, void *arg)
{
	struct node *n = arg;

	json_object_set_new(n->work->leftovers, task_id, json_integer(pgid));
}

struct groups {
	struct tasks_group	*g;
	size_t			 n;
};

static int
collect_group(void *arg, const struct store_run *r)
{
	struct groups *gs = arg;
	struct tasks_group *g;

	/* A pgid that is not a positive int is no group of ours. */
	if (r->pgid <= 1 || r->pgid > INT_MAX)
		return 0;
	gs->g = xrealloc(gs->g, (gs->n + 1) * sizeof(*gs->g));
	g = &gs->g[gs->n++];
	g->task_id = xstrdup(r->task_id);
	g->pgid = (int)r->pgid;
	g->start_ticks = r->start_ticks;
	g->boot_id = xstrdup(r->boot_id);
	return 0;
}

/* Ends what the process groups a previous life recorded left running. */
static void
end_leftovers(struct node *n)
{
	struct groups gs = { NULL, 0 };

	if (store_runs_list(n->store, collect_group, &gs) != 0)
		log_event(LOG_WARN, "cannot read the recorded process groups",
		    "{s:s}", "error", store_error(n->store));
	tasks_leftovers_end(n->tasks, gs.g, gs.n);
	for (size_t i = 0; i < gs.n; i++) {
		free((char *)gs.g[i].task_id);
		free((char *)gs.g[i].boot_id);
	}
	free(gs.g);
	if (store_runs_clear(n->store) != 0)
		log_event(LOG_WARN, "cannot forget the recorded process groups",
		    "{s:s}", "error", store_error(n->store));
}

struct recover {
	struct node	*n;
	int		 count;
};

static int
fail_unfinished(void *arg, const char *text)
{
	struct recover *r = arg;
	Agentflow__Mesh__V1__TaskUpdate t;
	json_t *j = json_loads(text, 0, NULL), *pgid;
	char reason[256];

	if (j == NULL)
		return 0;
	work_json_to_task(j, &t);
	pgid = json_object_get(r->n->work->leftovers, t.task_id);
	snprintf(reason, sizeof(reason), "node restarted while the task was %s; "
	    "it is not run again", mesh_names_task_state(t.state));
	if (pgid != NULL)
		snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
		    "; what it left running (process group %lld) was ended",
		    (long long)json_integer_value(pgid));
	t.state = MESH_TASK_STATE(FAILED);
	t.reason = reason;
	t.next_retry_ms = 0;
	t.finished_ms = clock_wall_ms();
	/* Not through task_update: the alert rules start after recovery. */
	sync_emit_task(r->n->sync, &t);
	if (r->n->alerts != NULL)
		alerts_task(r->n->alerts, t.finished_ms, &t);
	r->count++;
	json_decref(j);
	return 0;
}

static int
restore_alert(void *arg, const char *text)
{
	struct recover *r = arg;
	Agentflow__Mesh__V1__Alert a;
	json_t *j = json_loads(text, 0, NULL);

	if (j == NULL)
		return 0;
	work_json_to_alert(j, &a);
	alerts_restore(r->n->alerts, &a);
	r->count++;
	json_decref(j);
	return 0;
}

static void
recover(struct node *n)
{
	static const int unfinished[] = { MESH_TASK_STATE(QUEUED),
	    MESH_TASK_STATE(RUNNING), MESH_TASK_STATE(RETRYING) };
	static const int open_states[] = { MESH_ALERT_STATE(FIRING),
	    MESH_ALERT_STATE(ACKNOWLEDGED) };
	struct recover r = { n, 0 };
	char buf[8];

	for (size_t i = 0; i < sizeof(open_states) / sizeof(open_states[0]); i++)
		store_alerts_query(n->store, n->id,
		    mesh_names_alert_state(open_states[i]), 0,
		    restore_alert, &r);
	if (r.count > 0)
		log_event(LOG_INFO, "open alerts restored", "{s:i}", "count", r.count);
	r.count = 0;
	for (size_t i = 0; i < sizeof(unfinished) / sizeof(unfinished[0]); i++) {
		struct store_task_query q = { n->id, NULL,
		    mesh_names_task_state(unfinished[i]), 0 };
		store_tasks_query(n->store, &q, fail_unfinished, &r);
	}
	if (r.count > 0)
		log_event(LOG_WARN, "tasks interrupted by the restart marked failed",
		    "{s:i}", "count", r.count);
	if (store_meta_get(n->store, "frozen", buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "1") == 0)
		command_exec_set_frozen(n, 1);
	freeze_load(n);
}

static void
trim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	if (store_work_trim(n->store, (unsigned)n->cfg->retain_tasks,
	    (unsigned)n->cfg->retain_log_lines,
	    (int64_t)n->cfg->retain_commands_s * 1000,
	    (int64_t)clock_wall_ms()) != 0 ||
	    store_jobs_trim(n->store, (int64_t)clock_wall_ms() -
	    (int64_t)n->cfg->retain_jobs_s * 1000) != 0 ||
	    /* A workflow is kept as long as the jobs of its steps. */
	    store_workflows_trim(n->store, (int64_t)clock_wall_ms() -
	    (int64_t)n->cfg->retain_jobs_s * 1000, n->id, NULL) != 0)
		log_event(LOG_WARN, "cannot trim old work records", "{s:s}", "error",
		    store_error(n->store));
}

/* --- lifetime -------------------------------------------------------------------- */

/* The node's binary for the run guardian: its path when it can be found
 * (valgrind and the like see to it that it is the node's), else
 * /proc/self/exe (which works even once the file was replaced). */
static void
guardian_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n > 0) {
		buf[n] = '\0';
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, len, "/proc/self/exe");
}

void
work_set_incarnation(struct node *n)
{
	char prefix[NODE_ID_PREFIX_MAX + 1];

	work_ids_prefix(prefix, n->id, 't', n->incarnation);
	if (n->tasks != NULL)
		CHECK(tasks_set_id_prefix(n->tasks, prefix) == 0);
	work_ids_prefix(prefix, n->id, 'a', n->incarnation);
	if (n->alerts != NULL)
		CHECK(alerts_set_id_prefix(n->alerts, prefix) == 0);
}

/* A job's callback was tried: the attempt goes in the job's history. */
static void
callback_attempted(const char *job_id, const json_t *entry, const char *state,
    void *arg)
{
	struct node *n = arg;
	json_t *e;

	if (n->jobs == NULL)
		return;
	e = json_deep_copy(entry);
	json_object_set_new(e, "callback", json_string(state));
	jobs_note(n->jobs, job_id, "callback", e);
}

int
work_start(struct node *n, char *err, size_t errlen)
{
	const struct node_config *cfg = n->cfg;
	json_t *defs = NULL, *rules = NULL, *channels = NULL;
	char prefix[NODE_ID_PREFIX_MAX + 1], run_dir[4096], guardian[4096];
	int rc = -1;

	n->work = xcalloc(1, sizeof(*n->work));
	n->work->leftovers = json_object();
	if ((n->audit = audit_open(cfg->data_dir, n->id, n->store, err,
	    errlen)) == NULL)
		return -1;
	audit_set_rotation(n->audit, (uint64_t)cfg->audit_max_bytes,
	    (unsigned)cfg->audit_keep);
	defs = load_json(cfg->tasks, "tasks", err, errlen);
	if (defs == NULL && err[0] != '\0')
		goto out;
	rules = load_json(cfg->alerts, "alerts", err, errlen);
	if (rules == NULL && err[0] != '\0')
		goto out;
	channels = load_json(cfg->notify, "notify", err, errlen);
	if (channels == NULL && err[0] != '\0')
		goto out;
	if ((n->silences = silences_new(n->store, n->id, err, errlen)) == NULL)
		goto out;
	silences_mesh_start(n);
	/* Before the alerts: those restored may resolve at once. */
	n->notify = notify_new(n, channels, err, errlen);
	if (n->notify == NULL && err[0] != '\0')
		goto out;
	/* Ids unique mesh-wide and across restarts (work_ids.h). */
	work_ids_prefix(prefix, n->id, 't', n->incarnation);
	/* Jobs' payload and result files (tasks.h). */
	snprintf(run_dir, sizeof(run_dir), "%s/runs", cfg->data_dir);
	struct tasks_config tc = {
		.defs = defs, .allow_adhoc = cfg->allow_adhoc,
		.max_running = (unsigned)cfg->max_running, .id_prefix = prefix,
		.run_dir = run_dir, .guardian = guardian,
	};
	struct tasks_hooks th = { .update = task_update, .log = task_log,
	    .arg = n, .job_result = task_job_result, .group = task_group,
	    .leftover = task_leftover };

	guardian_path(guardian, sizeof(guardian));
	if ((n->tasks = tasks_new(n->base, &tc, &th, err, errlen)) == NULL)
		goto out;
	work_ids_prefix(prefix, n->id, 'a', n->incarnation);
	struct alerts_config ac = { rules, prefix };
	struct alerts_hooks ah = { alert_emit, n };
	if ((n->alerts = alerts_new(&ac, &ah, err, errlen)) == NULL)
		goto out;
	struct callbacks_config cbc = {
		.store = n->store, .rng = n->rng, .attempted = callback_attempted,
		.arg = n,
	};
	struct commands_config cc = {
		.self_id = n->id, .store = n->store, .routing = sync_routing(n->sync),
		.links = n->links, .audit = n->audit, .rng = n->rng,
		.timeout_ms = (uint64_t)cfg->command_timeout_ms,
		.exec = command_exec, .changed = command_changed, .arg = n,
		.keys = mesh_origin_keys(n->mesh),
		.principal_check = command_exec_principal,
		.quiet = command_exec_quiet,
	};
	n->commands = commands_new(n->base, &cc);
	end_leftovers(n);
	recover(n);
	json_object_clear(n->work->leftovers);
	n->job_runs = job_runs_new(n);
	cbc.dns = n->dns;
	if ((n->callbacks = callbacks_new(n->base, &cbc, err, errlen)) == NULL)
		goto out;
	n->jobs = jobs_new(n);
	n->schedules = schedules_new(n);
	n->workflows = workflows_new(n);
	if ((n->artifacts = artifacts_new(n, err, errlen)) == NULL)
		goto out;
	/* Last: a service's first start may already be under way. */
	if ((n->services = services_new(n, err, errlen)) == NULL)
		goto out;
	n->registry = service_registry_new();
	n->rollouts = rollouts_new(n);
	if (cfg->dns_listen != NULL && cfg->dns_listen[0] != '\0' &&
	    (n->dns_server = dns_server_new(n, cfg->dns_listen, err,
	    errlen)) == NULL)
		goto out;
	n->work->trim_ev = event_new(n->base, -1, EV_PERSIST, trim_cb, n);
	event_add(n->work->trim_ev, &(struct timeval){ TRIM_PERIOD_S, 0 });
	/* Once at start too: a node stopped for long holds what it no longer
	 * keeps, and the first period is 10 minutes away. */
	event_active(n->work->trim_ev, 0, 0);
	rc = 0;
out:
	json_decref(defs);
	json_decref(rules);
	json_decref(channels);
	return rc;
}

void
work_status(struct node *n, Agentflow__Mesh__V1__NodeStatus *st)
{
	st->frozen = n->frozen;
	if (n->alerts != NULL)
		alerts_status(n->alerts, clock_wall_ms(), st);
}

void
work_frame(struct node *n, const char *peer, const Agentflow__Mesh__V1__Frame *f)
{
	if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND ||
	    f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT) {
		if (n->commands != NULL)
			commands_frame(n->commands, peer, f);
		return;
	}
	if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST ||
	    f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK) {
		if (n->artifacts != NULL)
			artifacts_frame(n->artifacts, peer, f);
		return;
	}
	sync_frame(peer, f, n->sync);
}

void
work_stop(struct node *n)
{
	/* Services before the tasks that are their processes: what
	 * tasks_free reports of them is not a reason to restart. */
	dns_server_free(n->dns_server);
	n->dns_server = NULL;
	rollouts_free(n->rollouts);	/* before the commands it waits for */
	n->rollouts = NULL;
	notify_free(n->notify);
	n->notify = NULL;
	silences_mesh_stop(n);
	silences_free(n->silences);
	n->silences = NULL;
	service_registry_free(n->registry);
	n->registry = NULL;
	services_free(n->services);
	n->services = NULL;
	artifacts_free(n->artifacts);
	n->artifacts = NULL;
	/* Tasks first: their last updates still go out through sync. */
	tasks_free(n->tasks);
	n->tasks = NULL;
	schedules_free(n->schedules);
	n->schedules = NULL;
	workflows_free(n->workflows);	/* before the jobs it listens to */
	n->workflows = NULL;
	jobs_free(n->jobs);
	n->jobs = NULL;
	callbacks_free(n->callbacks);
	n->callbacks = NULL;
	job_runs_free(n->job_runs);
	n->job_runs = NULL;
	commands_free(n->commands);
	n->commands = NULL;
	alerts_free(n->alerts);
	n->alerts = NULL;
	audit_close(n->audit);
	n->audit = NULL;
	if (n->work != NULL) {
		if (n->work->trim_ev != NULL)
			event_free(n->work->trim_ev);
		json_decref(n->work->leftovers);
		free(n->work);
		n->work = NULL;
	}
}
