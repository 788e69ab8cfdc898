/*
 * Services kept in their desired state (see services.h for the states).
 *
 * Each service is a struct svc in services_table.c's table.  Its process
 * is a task run (tasks_service); the run's updates come back through
 * services_task, and they alone end a process's life here: a stop or a
 * restart only asks tasks to cancel the run, and what follows is decided
 * when the run's final update arrives.  Starts go through the service's
 * timer, so no hook ever starts a process under its caller.
 */
#include "services_priv.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "artifacts.h"
#include "clock.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "rng.h"
#include "service_health.h"
#include "sync_services.h"
#include "tasks.h"
#include "text.h"

#define TASK_NAME_PREFIX	"service:"

const char *const services_state_names[] = {
	[SV_STOPPED] = "stopped", [SV_STARTING] = "starting",
	[SV_RUNNING] = "running", [SV_HEALTHY] = "healthy",
	[SV_UNHEALTHY] = "unhealthy", [SV_BACKING_OFF] = "backing-off",
	[SV_FAILED] = "failed", [SV_STOPPING] = "stopping",
};

static void start_soon(struct svc *, uint64_t delay_ms);

/* ---- small things ---------------------------------------------------- */

void
svc_set_reason(struct svc *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	text_sanitize(s->reason, strlen(s->reason));
}

int
svc_live(const struct svc *s)
{
	return s->task_id[0] != '\0';
}

void
svc_version(const struct service_spec *spec, char *out, size_t len)
{
	char *text = json_dumps(spec->json, JSON_SORT_KEYS | JSON_COMPACT);

	snprintf(out, len, "%016" PRIx64, text_fnv1a(text, strlen(text),
	    TEXT_FNV1A_BASIS));
	free(text);
}


struct svc *
svc_find(const struct services *ss, const char *name)
{
	for (size_t i = 0; i < ss->nv; i++)
		if (strcmp(ss->v[i]->name, name) == 0)
			return ss->v[i];
	return NULL;
}

static struct svc *
find_task(const struct services *ss, const char *task_id)
{
	for (size_t i = 0; i < ss->nv; i++)
		if (svc_live(ss->v[i]) && strcmp(ss->v[i]->task_id, task_id) == 0)
			return ss->v[i];
	return NULL;
}

/* A uniform number in [0, 1) for the policy's jitter. */
static double
unit_random(struct services *ss)
{
	uint64_t r = 0;

	if (rng_bytes(ss->n->rng, &r, sizeof(r)) != 0)
		return 0.5;
	return (double)(r >> 11) / 9007199254740992.0;
}

/* ---- health ------------------------------------------------------------ */

void
svc_checks_stop(struct svc *s)
{
	for (size_t i = 0; i < s->spec->nchecks; i++) {
		if (s->checks[i].h != NULL)
			service_health_stop(s->checks[i].h);
		s->checks[i].verdict = -1;
	}
}

void
svc_checks_free(struct svc *s)
{
	for (size_t i = 0; i < SERVICE_CHECKS_MAX; i++) {
		service_health_free(s->checks[i].h);
		s->checks[i].h = NULL;
	}
}

/* A check's verdict changed: the service's health is every check's. */
static void
check_changed(int healthy, const char *why, void *arg)
{
	struct svc_check *c = arg;
	struct svc *s = c->svc;
	size_t i, bad = 0, good = 0;

	c->verdict = healthy != 0;
	if (!svc_live(s) || s->started_ms == 0 || s->state == SV_STOPPING)
		return;
	for (i = 0; i < s->spec->nchecks; i++) {
		bad += s->checks[i].verdict == 0;
		good += s->checks[i].verdict == 1;
	}
	if (!healthy) {
		s->state = SV_UNHEALTHY;
		svc_set_reason(s, "check %s failing: %s", s->spec->checks[c -
		    s->checks].name, why);
		log_event(LOG_WARN, "service unhealthy", "{s:s, s:s}", "service",
		    s->name, "why", s->reason);
		if (s->spec->checks[c - s->checks].restart) {
			s->health_restart = 1;
			svc_stop_process(s);
		}
	} else if (good == s->spec->nchecks) {
		s->state = SV_HEALTHY;
		svc_set_reason(s, "every check passing");
	} else if (bad == 0) {
		s->state = SV_STARTING;
		svc_set_reason(s, "running; waiting for its checks");
	}
	svc_emit(s);
}

void
svc_checks_make(struct svc *s)
{
	for (size_t i = 0; i < s->spec->nchecks; i++) {
		s->checks[i].svc = s;
		s->checks[i].verdict = -1;
		s->checks[i].h = service_health_new(s->ss->n->base,
		    &s->spec->checks[i], check_changed, &s->checks[i]);
		/* service_spec.c refuses what the runner cannot run; a
		 * check that slipped through never passes. */
		if (s->checks[i].h == NULL)
			log_event(LOG_WARN, "service check cannot run", "{s:s,"
			    " s:s}", "service", s->name, "check",
			    s->spec->checks[i].name);
	}
}

/* ---- the process ------------------------------------------------------- */

/*
 * A service that names an artifact starts in its unpacked directory (its
 * cwd unless the definition names one), with AGENTFLOW_ARTIFACT_DIR set:
 * 1 when it is ready (sv's cwd and env set, env holding envcap
 * pointers); else 0, the service starting (waiting, services_artifact
 * calls again) or failed (the artifact refused), and told.
 */
static int
artifact_here(struct svc *s, struct tasks_service *sv, char **env,
    size_t envcap)
{
	static char dirvar[PATH_MAX + 32];
	const char *dir = NULL;
	char why[512];
	size_t n = 0;

	if (s->ss->n->artifacts == NULL) {
		snprintf(why, sizeof(why), "artifacts are off on this node");
		s->state = SV_FAILED;
		s->settled = 1;
		svc_set_reason(s, "cannot start: %s", why);
		svc_emit(s);
		return 0;
	}
	switch (artifacts_ready(s->ss->n->artifacts, s->spec->artifact, &dir,
	    why, sizeof(why))) {
	case ARTIFACTS_READY:
		break;
	case ARTIFACTS_WAIT:
		if (s->state != SV_STARTING || strcmp(s->reason, why) != 0) {
			s->state = SV_STARTING;
			svc_set_reason(s, "%s", why);
			svc_emit(s);
		}
		return 0;
	case ARTIFACTS_REFUSED:
		s->state = SV_FAILED;
		s->settled = 1;
		svc_set_reason(s, "cannot start: %s", why);
		log_event(LOG_WARN, "service not started", "{s:s, s:s}",
		    "service", s->name, "why", why);
		svc_emit(s);
		return 0;
	}
	/* Used by tasks_run at once, before anything else can change it. */
	snprintf(dirvar, sizeof(dirvar), "AGENTFLOW_ARTIFACT_DIR=%s", dir);
	for (; s->spec->env != NULL && s->spec->env[n] != NULL &&
	    n + 2 < envcap; n++)
		env[n] = s->spec->env[n];
	env[n++] = dirvar;
	env[n] = NULL;
	sv->env = env;
	if (sv->cwd == NULL)
		sv->cwd = dir;
	return 1;
}

static void
start_process(struct svc *s)
{
	struct services *ss = s->ss;
	struct tasks_service sv = {
		.argv = s->spec->argv, .cwd = s->spec->cwd, .env = s->spec->env,
		.user = s->spec->user,
		.stop_signal = s->spec->stop_signal, .grace_ms = s->spec->grace_ms,
	};
	struct tasks_request req = { .service = &sv };
	char *env[SERVICE_ENV_MAX + 2];
	char task_name[sizeof(TASK_NAME_PREFIX) + SERVICE_NAME_MAX];
	char msg[256];
	int rc;

	if (ss->frozen || ss->n->tasks == NULL) {
		s->state = SV_STOPPED;
		svc_set_reason(s, "node is frozen: nothing starts");
		svc_emit(s);
		return;
	}
	if (s->spec->artifact != NULL && !artifact_here(s, &sv, env,
	    sizeof(env) / sizeof(env[0])))
		return;
	snprintf(task_name, sizeof(task_name), TASK_NAME_PREFIX "%s", s->name);
	sv.task_name = task_name;
	rc = tasks_run(ss->n->tasks, &req, s->task_id, sizeof(s->task_id), msg,
	    sizeof(msg));
	if (rc != MESH_COMMAND_STATUS(OK)) {
		s->task_id[0] = '\0';
		s->state = rc == MESH_COMMAND_STATUS(REFUSED) ? SV_STOPPED :
		    SV_FAILED;
		s->settled = s->state == SV_FAILED;
		svc_set_reason(s, "cannot start: %s", msg);
		log_event(LOG_WARN, "service not started", "{s:s, s:s}",
		    "service", s->name, "why", msg);
		svc_emit(s);
		return;
	}
	s->state = SV_STARTING;
	s->pid = 0;
	s->started_ms = 0;
	s->next_attempt_ms = 0;
	svc_set_reason(s, "starting");
	svc_emit(s);
}

/* Asks the live run to stop (its signal, then SIGKILL after its grace);
 * its end arrives through services_task. */
void
svc_stop_process(struct svc *s)
{
	char msg[256];

	if (!svc_live(s) || s->state == SV_STOPPING)
		return;
	s->state = SV_STOPPING;
	svc_checks_stop(s);
	if (tasks_cancel(s->ss->n->tasks, s->task_id, 0, msg, sizeof(msg)) !=
	    MESH_COMMAND_STATUS(OK))
		log_event(LOG_WARN, "service stop", "{s:s, s:s}", "service",
		    s->name, "why", msg);
}

void
svc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;

	(void)fd;
	(void)what;
	if (svc_live(s) || !s->desired || s->removing)
		return;
	if (s->state == SV_BACKING_OFF) {
		s->restarts++;
		s->ss->restarts++;
	}
	start_process(s);
}

static void
start_soon(struct svc *s, uint64_t delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000),
	    (suseconds_t)(delay_ms % 1000) * 1000 };

	evtimer_add(s->timer, &tv);
}

/* Starts what should run and is not running, stops what should not. */
void
svc_reconcile(struct svc *s)
{
	if (s->desired) {
		if (!svc_live(s) && !s->settled && s->state != SV_BACKING_OFF &&
		    !s->ss->frozen)
			start_soon(s, 0);
		return;
	}
	if (svc_live(s)) {
		svc_stop_process(s);
		svc_emit(s);
	} else if (s->state != SV_STOPPED) {
		evtimer_del(s->timer);
		s->state = SV_STOPPED;
		s->next_attempt_ms = 0;
		svc_set_reason(s, "stopped");
		svc_emit(s);
	}
}

/* The policy's window: the restarts still inside its interval. */
static void
window_trim(struct svc *s, uint64_t now)
{
	size_t keep = 0;

	for (size_t i = 0; i < s->nwindow; i++)
		if (now - s->window[i] < s->spec->policy.interval_ms)
			s->window[keep++] = s->window[i];
	s->nwindow = keep;
}

static void
window_add(struct svc *s, uint64_t t)
{
	size_t cap = s->spec->policy.attempts > 0 ? s->spec->policy.attempts : 1;

	if (s->nwindow == cap) {
		memmove(s->window, s->window + 1, (cap - 1) * sizeof(*s->window));
		s->nwindow--;
	}
	s->window[s->nwindow++] = t;
}

/* The run ended: what its exit and the policy make of it. */
static void
process_ended(struct svc *s, const Agentflow__Mesh__V1__TaskUpdate *t)
{
	uint64_t now = clock_wall_ms(), delay;
	int clean = t->state == MESH_TASK_STATE(SUCCEEDED), by_health;
	char what[96];

	s->task_id[0] = '\0';
	s->pid = 0;
	s->exited = 1;
	s->exit_code = t->exit_code;
	s->exit_signal = t->term_signal;
	svc_checks_stop(s);
	by_health = s->health_restart;
	s->health_restart = 0;
	if (t->term_signal != 0)
		snprintf(what, sizeof(what), "killed by signal %d",
		    (int)t->term_signal);
	else
		snprintf(what, sizeof(what), "exited with status %d",
		    (int)t->exit_code);
	if (s->removing) {
		svc_unlist(s);
		svc_emit(s);
		svc_free(s);
		return;
	}
	if (s->restart_after && s->desired) {
		s->restart_after = 0;
		s->restarts++;
		s->ss->restarts++;
		start_process(s);
		return;
	}
	s->restart_after = 0;
	if (!s->desired || s->ss->frozen) {
		s->state = SV_STOPPED;
		svc_set_reason(s, s->ss->frozen && s->desired ?
		    "stopped by the freeze (%s)" : "stopped (%s)", what);
		svc_emit(s);
		return;
	}
	if (s->spec->restart == SERVICE_RESTART_NEVER ||
	    (s->spec->restart == SERVICE_RESTART_ON_FAILURE && clean &&
	    !by_health)) {
		s->state = clean ? SV_STOPPED : SV_FAILED;
		s->settled = 1;
		svc_set_reason(s, "%s; restart: %s", what, s->spec->restart ==
		    SERVICE_RESTART_NEVER ? "never" : "on-failure");
		svc_emit(s);
		return;
	}
	window_trim(s, now);
	if (!service_policy_next(&s->spec->policy, s->window, s->nwindow, now,
	    unit_random(s->ss), &delay)) {
		s->state = SV_FAILED;
		s->settled = 1;
		svc_set_reason(s, "%s; restart budget spent: %zu restarts within "
		    "%" PRIu64 " s", by_health ? "unhealthy" : what, s->nwindow,
		    s->spec->policy.interval_ms / 1000);
		log_event(LOG_WARN, "service failed", "{s:s, s:s}", "service",
		    s->name, "why", s->reason);
		svc_emit(s);
		return;
	}
	window_add(s, now);
	s->state = SV_BACKING_OFF;
	s->next_attempt_ms = now + delay;
	svc_set_reason(s, "%s; next start in %" PRIu64 " ms", by_health ?
	    "unhealthy" : what, delay);
	start_soon(s, delay);
	svc_emit(s);
}

void
services_task(struct services *ss, const Agentflow__Mesh__V1__TaskUpdate *t)
{
	struct svc *s;

	if (ss == NULL || (s = find_task(ss, t->task_id)) == NULL)
		return;
	if (t->state == MESH_TASK_STATE(RUNNING)) {
		if (s->state == SV_STARTING && s->started_ms == 0) {
			/* With checks it is not proven until they pass. */
			s->started_ms = t->started_ms;
			if (s->spec->nchecks == 0) {
				s->state = SV_RUNNING;
				svc_set_reason(s, "running");
			} else
				svc_set_reason(s, "running; waiting for its "
				    "checks");
			for (size_t i = 0; i < s->spec->nchecks; i++)
				if (s->checks[i].h != NULL)
					service_health_start(s->checks[i].h);
			svc_emit(s);
		}
		return;
	}
	if (mesh_names_task_state_terminal(t->state))
		process_ended(s, t);
}

void
services_task_group(struct services *ss, const char *task_id, int pgid,
    int running)
{
	struct svc *s;

	if (ss == NULL || !running || (s = find_task(ss, task_id)) == NULL)
		return;
	s->pid = (uint32_t)pgid;
	svc_emit(s);
}

void
services_set_frozen(struct services *ss, int frozen)
{
	if (ss == NULL)
		return;
	ss->frozen = frozen != 0;
	if (!ss->frozen)
		for (size_t i = 0; i < ss->nv; i++)
			svc_reconcile(ss->v[i]);
}

/* ---- the mesh's view --------------------------------------------------- */

void
svc_emit(struct svc *s)
{
	Agentflow__Mesh__V1__ServiceUpdate u =
	    AGENTFLOW__MESH__V1__SERVICE_UPDATE__INIT;
	Agentflow__Mesh__V1__ServiceEndpoint eps[SERVICE_ENDPOINTS_MAX];
	Agentflow__Mesh__V1__ServiceEndpoint *epp[SERVICE_ENDPOINTS_MAX];
	size_t i;

	u.name = s->name;
	u.desired = s->desired ? "running" : "stopped";
	u.state = (char *)services_state_names[s->state];
	u.pid = s->pid;
	u.started_ms = s->started_ms;
	u.restarts = s->restarts;
	u.exited = s->exited != 0;
	u.last_exit_code = s->exit_code;
	u.last_signal = s->exit_signal;
	u.next_attempt_ms = s->state == SV_BACKING_OFF ? s->next_attempt_ms : 0;
	u.updated_ms = clock_wall_ms();
	u.reason = s->reason;
	u.task_id = s->task_id;
	u.removed = s->removing != 0;
	u.version = s->version;
	for (i = 0; i < s->spec->nendpoints; i++) {
		const struct service_endpoint *e = &s->spec->endpoints[i];

		agentflow__mesh__v1__service_endpoint__init(&eps[i]);
		eps[i].name = (char *)e->name;
		eps[i].protocol = (char *)e->protocol;
		eps[i].port = e->port;
		eps[i].tags = e->tags;
		eps[i].n_tags = e->ntags;
		epp[i] = &eps[i];
	}
	u.endpoints = epp;
	u.n_endpoints = s->spec->nendpoints;
	if (s->ss->n->sync != NULL)
		sync_emit_service(s->ss->n->sync, &u);
	/* Its alerts follow its state (a removed one resolves as stopped). */
	alerts_service(s->ss->n->alerts, u.updated_ms, s->name, s->removing ?
	    "stopped" : u.state, s->reason);
}

void
services_artifact(struct services *ss, const char *id)
{
	for (size_t i = 0; i < ss->nv; i++) {
		struct svc *s = ss->v[i];

		if (s->spec->artifact != NULL &&
		    strcmp(s->spec->artifact, id) == 0 && s->desired &&
		    !svc_live(s) && s->state == SV_STARTING && !s->removing)
			start_soon(s, 0);
	}
}

const char *
services_artifact_user(const struct services *ss, const char *id)
{
	for (size_t i = 0; i < ss->nv; i++)
		if (ss->v[i]->spec->artifact != NULL &&
		    strcmp(ss->v[i]->spec->artifact, id) == 0)
			return ss->v[i]->name;
	return NULL;
}
