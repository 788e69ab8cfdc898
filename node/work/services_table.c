/*
 * The table of a node's services (services_priv.h): adding, replacing
 * and removing definitions, storing them with their desired state, and
 * loading them at start; and what the API and the "service" command call
 * (services.h).
 */
#include "services_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "file.h"
#include "http_json.h"
#include "json_check.h"
#include "log.h"
#include "node.h"
#include "service_health.h"
#include "store.h"
#include "store_services.h"
#include "tasks.h"
#include "xalloc.h"

#define SERVICES_FILE_MAX	(1u << 20)

/* ---- the table --------------------------------------------------------- */

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct svc *const *)a)->name,
	    (*(struct svc *const *)b)->name);
}

static struct svc *
add(struct services *ss, struct service_spec *spec, int desired)
{
	struct svc *s = xcalloc(1, sizeof(*s));

	s->ss = ss;
	s->spec = spec;
	snprintf(s->name, sizeof(s->name), "%s", spec->name);
	svc_version(spec, s->version, sizeof(s->version));
	s->desired = desired != 0;
	s->state = SV_STOPPED;
	s->window = xcalloc(spec->policy.attempts + 1, sizeof(*s->window));
	s->timer = evtimer_new(ss->n->base, svc_timer_cb, s);
	CHECK(s->timer != NULL);
	svc_set_reason(s, s->desired ? "not started yet" : "stopped");
	svc_checks_make(s);
	ss->v = xrealloc(ss->v, (ss->nv + 1) * sizeof(*ss->v));
	ss->v[ss->nv++] = s;
	qsort(ss->v, ss->nv, sizeof(*ss->v), by_name);
	return s;
}

/* A new definition for a service that exists: the process (if any)
 * restarts with it; the policy's budget starts anew. */
static void
replace_spec(struct svc *s, struct service_spec *spec)
{
	svc_checks_stop(s);
	svc_checks_free(s);
	service_spec_free(s->spec);
	s->spec = spec;
	svc_version(spec, s->version, sizeof(s->version));
	free(s->window);
	s->window = xcalloc(spec->policy.attempts + 1, sizeof(*s->window));
	s->nwindow = 0;
	s->settled = 0;
	svc_checks_make(s);
	if (svc_live(s)) {
		s->restart_after = 1;
		svc_stop_process(s);
		svc_emit(s);
	} else {
		if (s->state == SV_FAILED || s->state == SV_BACKING_OFF) {
			evtimer_del(s->timer);
			s->state = SV_STOPPED;
		}
		svc_emit(s);
		svc_reconcile(s);
	}
}

void
svc_unlist(struct svc *s)
{
	struct services *ss = s->ss;

	for (size_t i = 0; i < ss->nv; i++)
		if (ss->v[i] == s) {
			memmove(&ss->v[i], &ss->v[i + 1], (ss->nv - i - 1) *
			    sizeof(*ss->v));
			ss->nv--;
			break;
		}
}

void
svc_free(struct svc *s)
{
	if (s == NULL)
		return;
	svc_checks_free(s);
	if (s->timer != NULL)
		event_free(s->timer);
	service_spec_free(s->spec);
	free(s->window);
	free(s);
}

static int
persist(struct svc *s)
{
	char *text = json_dumps(s->spec->json, JSON_SORT_KEYS | JSON_COMPACT);
	struct store_service row = { s->name, text, s->desired,
	    (int64_t)clock_wall_ms() };
	int rc = store_service_put(s->ss->n->store, &row);

	free(text);
	if (rc != 0)
		log_event(LOG_WARN, "cannot store a service", "{s:s, s:s}",
		    "service", s->name, "error", store_error(s->ss->n->store));
	return rc;
}

/* ---- what the API and commands call ------------------------------------ */

/* Whether argv[0] is a program this node can run: a path that is an
 * executable file, or a name found on PATH. */
static int
program_found(const char *prog, char *why, size_t len)
{
	const char *path, *p, *colon;
	char buf[4096];
	struct stat sb;

	if (strchr(prog, '/') != NULL) {
		if (stat(prog, &sb) != 0) {
			snprintf(why, len, "%s: %s", prog, strerror(errno));
			return 0;
		}
		if (!S_ISREG(sb.st_mode) || access(prog, X_OK) != 0) {
			snprintf(why, len, "%s: not an executable file", prog);
			return 0;
		}
		return 1;
	}
	path = getenv("PATH");
	for (p = path != NULL ? path : "/usr/bin:/bin"; *p != '\0';
	    p = *colon != '\0' ? colon + 1 : colon) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p, prog);
		if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(buf, X_OK) == 0)
			return 1;
	}
	snprintf(why, len, "%s: not found on PATH", prog);
	return 0;
}

/* Whether this node can run a process as user. */
static int
user_ok(const char *user, char *why, size_t len)
{
	gid_t *groups = NULL, gid;
	int ngroups, ok;
	uid_t uid;

	ok = tasks_user_lookup(user, &uid, &gid, &groups, &ngroups, why,
	    len) == 0;
	free(groups);
	return ok;
}

/* A definition checked against its schema and this node: NULL with
 * every error in errors. */
static struct service_spec *
checked_spec(const char *name, const json_t *def, json_t *errors)
{
	struct service_spec *spec;
	char why[512];

	if (!service_name_valid(name)) {
		json_array_append_new(errors, json_pack("{s:s, s:s}", "path", "",
		    "error", "the name must be 1-63 of [A-Za-z0-9_-]"));
		return NULL;
	}
	if ((spec = service_spec_parse(name, def, errors)) == NULL)
		return NULL;
	if (spec->user != NULL && !user_ok(spec->user, why, sizeof(why))) {
		/* Refused rather than ignored: a service meant to drop its
		 * privileges must never run as the node. */
		json_array_append_new(errors, json_pack("{s:s, s:s}", "path",
		    "user", "error", why));
		service_spec_free(spec);
		return NULL;
	}
	/* A relative program of an artifact's is found in its tree when
	 * it is unpacked; an absolute one, or one from PATH, now. */
	if (!(spec->artifact != NULL && strchr(spec->argv[0], '/') != NULL &&
	    spec->argv[0][0] != '/') &&
	    !program_found(spec->argv[0], why, sizeof(why))) {
		json_array_append_new(errors, json_pack("{s:s, s:s}", "path",
		    "command[0]", "error", why));
		service_spec_free(spec);
		return NULL;
	}
	return spec;
}

int
services_put(struct services *ss, const char *name, const json_t *def,
    json_t **out)
{
	json_t *errors = json_array();
	struct service_spec *spec;
	struct svc *s;
	int created;

	/* A definition is a command line to run: from the mesh or the API
	 * only where the owner lets command lines in (--services is the
	 * owner's own file). */
	if (!ss->n->cfg->allow_adhoc) {
		json_decref(errors);
		*out = http_error_text("%s takes no service definitions from the API "
		    "or the mesh (start it with --allow-adhoc, or list the "
		    "service in its --services file)", ss->n->id);
		return 403;
	}
	if ((spec = checked_spec(name, def, errors)) == NULL) {
		*out = json_pack("{s:s, s:o}", "error", "invalid service "
		    "definition", "errors", errors);
		return 400;
	}
	json_decref(errors);
	s = svc_find(ss, name);
	if (s != NULL && s->removing) {
		service_spec_free(spec);
		*out = http_error_text("service %s is being removed; try again once "
		    "it has stopped", name);
		return 409;
	}
	if (s == NULL && ss->nv >= SERVICES_MAX) {
		service_spec_free(spec);
		*out = http_error_text("this node keeps at most %d services",
		    SERVICES_MAX);
		return 507;
	}
	created = s == NULL;
	if (created) {
		s = add(ss, spec, spec->desired_running);
		svc_emit(s);
		svc_reconcile(s);
	} else
		replace_spec(s, spec);
	persist(s);
	log_event(LOG_INFO, created ? "service added" : "service changed",
	    "{s:s, s:s}", "service", name, "version", s->version);
	*out = services_get(ss, name);
	return created ? 201 : 200;
}

int
services_action(struct services *ss, const char *name, const char *action,
    json_t **out)
{
	struct svc *s = svc_find(ss, name);
	int start = strcmp(action, "start") == 0;
	int restart = strcmp(action, "restart") == 0;

	if (!start && !restart && strcmp(action, "stop") != 0) {
		*out = http_error_text("no action %.32s (start, stop or restart)",
		    action);
		return 400;
	}
	if (s == NULL || s->removing) {
		*out = http_error_text("no service named %.64s on this node", name);
		return 404;
	}
	if ((start || restart) && ss->frozen) {
		*out = http_error_text("node is frozen: no service starts");
		return 409;
	}
	s->desired = start || restart;
	persist(s);
	if (s->desired && (s->settled || s->state == SV_FAILED)) {
		/* Someone asked: a new budget. */
		s->settled = 0;
		s->nwindow = 0;
		if (s->state == SV_FAILED)
			s->state = SV_STOPPED;
	}
	if (start && svc_live(s) && s->state == SV_STOPPING) {
		/* Asked to start while a stop is under way: start again once
		 * it has ended, not as a crash. */
		s->restart_after = 1;
		svc_emit(s);
	} else if (restart && svc_live(s)) {
		s->restart_after = 1;
		svc_stop_process(s);
		svc_emit(s);
	} else if (restart && s->state == SV_BACKING_OFF) {
		evtimer_del(s->timer);
		s->state = SV_STOPPED;
		svc_reconcile(s);
	} else
		svc_reconcile(s);
	log_event(LOG_INFO, "service desired state", "{s:s, s:s}", "service",
	    name, "action", action);
	*out = services_get(ss, name);
	return 200;
}

int
services_delete(struct services *ss, const char *name, json_t **out)
{
	struct svc *s = svc_find(ss, name);

	if (s == NULL || s->removing) {
		*out = http_error_text("no service named %.64s on this node", name);
		return 404;
	}
	if (store_service_del(ss->n->store, name) != 0) {
		*out = http_error_text("cannot forget service %s: %s", name,
		    store_error(ss->n->store));
		return 500;
	}
	s->removing = 1;
	s->desired = 0;
	evtimer_del(s->timer);
	*out = json_pack("{s:s, s:b}", "name", name, "deleted", 1);
	if (svc_live(s)) {
		/* Gone from the table once its process has ended. */
		svc_stop_process(s);
		return 200;
	}
	svc_unlist(s);
	svc_emit(s);
	svc_free(s);
	log_event(LOG_INFO, "service removed", "{s:s}", "service", name);
	return 200;
}

json_t *
services_get(const struct services *ss, const char *name)
{
	const struct svc *s = svc_find(ss, name);
	json_t *j, *checks;

	if (s == NULL)
		return NULL;
	checks = json_array();
	for (size_t i = 0; i < s->spec->nchecks; i++)
		json_array_append_new(checks, s->checks[i].h != NULL ?
		    service_health_json(s->checks[i].h) : json_pack("{s:s, s:s,"
		    " s:s}", "name", s->spec->checks[i].name, "status",
		    "unknown", "error", "this check cannot run"));
	j = json_pack("{s:s, s:s, s:O, s:s, s:s, s:b, s:I, s:I, s:I, s:o,"
	    " s:I, s:s, s:s, s:o}",
	    "name", s->name, "node", ss->n->id, "definition", s->spec->json,
	    "desired", s->desired ? "running" : "stopped",
	    "state", services_state_names[s->state], "settled", s->settled,
	    "pid", (json_int_t)s->pid, "started_ms", (json_int_t)s->started_ms,
	    "restarts", (json_int_t)s->restarts,
	    "last_exit", s->exited ? json_pack("{s:i, s:i}", "code",
	    (int)s->exit_code, "signal", (int)s->exit_signal) : json_null(),
	    "next_attempt_ms", (json_int_t)(s->state == SV_BACKING_OFF ?
	    s->next_attempt_ms : 0),
	    "reason", s->reason, "version", s->version, "checks", checks);
	json_object_set_new(j, "task_id", svc_live(s) ? json_string(s->task_id) :
	    json_null());
	return j;
}

json_t *
services_local(const struct services *ss)
{
	json_t *a = json_array();

	for (size_t i = 0; ss != NULL && i < ss->nv; i++)
		json_array_append_new(a, services_get(ss, ss->v[i]->name));
	return a;
}

json_t *
services_counters(const struct services *ss)
{
	json_int_t running = 0, healthy = 0;

	for (size_t i = 0; ss != NULL && i < ss->nv; i++) {
		running += svc_live(ss->v[i]);
		healthy += ss->v[i]->state == SV_HEALTHY;
	}
	return json_pack("{s:I, s:I, s:I, s:I}", "services",
	    (json_int_t)(ss != NULL ? ss->nv : 0), "running", running,
	    "healthy", healthy, "restarts",
	    (json_int_t)(ss != NULL ? ss->restarts : 0));
}

/* ---- lifetime ---------------------------------------------------------- */

static int
load_row(void *arg, const struct store_service *row)
{
	struct services *ss = arg;
	json_t *def = json_loads(row->spec, 0, NULL), *errors = json_array();
	struct service_spec *spec;

	if (def == NULL || (spec = service_spec_parse(row->name, def,
	    errors)) == NULL) {
		char *e = json_dumps(errors, JSON_COMPACT);

		log_event(LOG_WARN, "stored service not valid; skipped",
		    "{s:s, s:s}", "service", row->name, "errors", e);
		free(e);
	} else if (ss->nv < SERVICES_MAX)
		add(ss, spec, row->desired);
	else
		service_spec_free(spec);
	json_decref(def);
	json_decref(errors);
	return 0;
}

/* --services: each definition replaces a stored one (desired kept), or
 * is added in its own desired state. */
static int
load_file(struct services *ss, const char *path, char *err, size_t errlen)
{
	struct service_spec **specs = NULL;
	json_t *file, *errors;
	json_error_t jerr;
	size_t n = 0, len;
	char ferr[256], where[JSON_ERROR_TEXT_LENGTH + 64], *text;
	struct svc *s;

	if ((text = file_read(path, SERVICES_FILE_MAX, &len, NULL, ferr,
	    sizeof(ferr))) == NULL) {
		snprintf(err, errlen, "--services %s: %s", path, ferr);
		return -1;
	}
	file = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (file == NULL) {
		snprintf(err, errlen, "--services %s: %s", path,
		    json_check_load_error(&jerr, where, sizeof(where)));
		return -1;
	}
	errors = json_array();
	if (service_spec_file(file, &specs, &n, errors) != 0) {
		char *e = json_dumps(errors, JSON_COMPACT);

		snprintf(err, errlen, "--services %s: %s", path, e);
		free(e);
		json_decref(errors);
		json_decref(file);
		return -1;
	}
	json_decref(errors);
	json_decref(file);
	for (size_t i = 0; i < n; i++)
		if (specs[i]->user != NULL && !user_ok(specs[i]->user, ferr,
		    sizeof(ferr))) {
			snprintf(err, errlen, "--services %s: %s.user: %s", path,
			    specs[i]->name, ferr);
			for (i = 0; i < n; i++)
				service_spec_free(specs[i]);
			free(specs);
			return -1;
		}
	for (size_t i = 0; i < n; i++) {
		if ((s = svc_find(ss, specs[i]->name)) != NULL) {
			service_spec_free(s->spec);
			s->spec = specs[i];
			svc_version(s->spec, s->version, sizeof(s->version));
			free(s->window);
			s->window = xcalloc(s->spec->policy.attempts + 1,
			    sizeof(*s->window));
			svc_checks_free(s);
			svc_checks_make(s);
		} else if (ss->nv < SERVICES_MAX)
			s = add(ss, specs[i], specs[i]->desired_running);
		else {
			service_spec_free(specs[i]);
			continue;
		}
		persist(s);
	}
	free(specs);
	return 0;
}

struct services *
services_new(struct node *n, char *err, size_t errlen)
{
	struct services *ss = xcalloc(1, sizeof(*ss));

	ss->n = n;
	ss->frozen = n->frozen;
	if (store_services_all(n->store, load_row, ss) != 0)
		log_event(LOG_WARN, "cannot read the stored services", "{s:s}",
		    "error", store_error(n->store));
	if (n->cfg->services != NULL && n->cfg->services[0] != '\0' &&
	    load_file(ss, n->cfg->services, err, errlen) != 0) {
		services_free(ss);
		return NULL;
	}
	for (size_t i = 0; i < ss->nv; i++) {
		svc_emit(ss->v[i]);
		svc_reconcile(ss->v[i]);
	}
	if (ss->nv > 0)
		log_event(LOG_INFO, "services loaded", "{s:i}", "count",
		    (int)ss->nv);
	return ss;
}

void
services_free(struct services *ss)
{
	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->nv; i++)
		svc_free(ss->v[i]);
	free(ss->v);
	free(ss);
}
