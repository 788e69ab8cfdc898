/*
 * Schedules (schedules.h): what the API changes, what the store keeps,
 * and how a stored or merged schedule reads.  The firing is
 * schedules_fire.c's.
 *
 * The truth is the mesh's view (sync_schedules.h); this file writes every
 * change of it to the store (ours as we emit it, others' through the
 * hook) and reads the store back into it at start.  A change of ours
 * gets the version max(now, held + 1): a clock behind another node's
 * still orders our change after what we saw.
 */
#include "schedules.h"
#include "schedules_priv.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cron.h"
#include "hmap.h"
#include "log.h"
#include "node.h"
#include "schedule_spec.h"
#include "store.h"
#include "store_schedules.h"
#include "sync_schedules.h"
#include "tasks.h"
#include "wall_timer.h"
#include "xalloc.h"

#define PB(name)	Agentflow__Mesh__V1__##name

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

/* --- the record as JSON (the store's row) ------------------------------------- */

static json_t *
to_json(const PB(ScheduleUpdate) *u)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:b, s:I, s:s, s:s, s:s, s:I, "
	    "s:s, s:I, s:I}", "name", str(u->name), "spec_json", str(u->spec_json),
	    "updated_ms", (json_int_t)u->updated_ms, "author", str(u->author),
	    "deleted", u->deleted, "fire_ms", (json_int_t)u->fire_ms,
	    "fire_job", str(u->fire_job), "fire_node", str(u->fire_node),
	    "fire_outcome", str(u->fire_outcome), "fire_updated_ms",
	    (json_int_t)u->fire_updated_ms, "principal", str(u->principal),
	    "principal_ms", (json_int_t)u->principal_ms, "principal_author",
	    (json_int_t)u->principal_author);
}

static char *
jstr(const json_t *j, const char *k)
{
	const char *s = json_string_value(json_object_get(j, k));

	return (char *)(s != NULL ? s : "");
}

static uint64_t
jms(const json_t *j, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(j, k));

	return v > 0 ? (uint64_t)v : 0;
}

/* j as u; u's strings are j's. */
static void
from_json(const json_t *j, PB(ScheduleUpdate) *u)
{
	agentflow__mesh__v1__schedule_update__init(u);
	u->name = jstr(j, "name");
	u->spec_json = jstr(j, "spec_json");
	u->updated_ms = jms(j, "updated_ms");
	u->author = jstr(j, "author");
	u->deleted = json_is_true(json_object_get(j, "deleted"));
	u->fire_ms = jms(j, "fire_ms");
	u->fire_job = jstr(j, "fire_job");
	u->fire_node = jstr(j, "fire_node");
	u->fire_outcome = jstr(j, "fire_outcome");
	u->fire_updated_ms = jms(j, "fire_updated_ms");
	u->principal = jstr(j, "principal");
	u->principal_ms = jms(j, "principal_ms");
	u->principal_author = (uint32_t)jms(j, "principal_author");
}

static void
persist(struct schedules *sc, const PB(ScheduleUpdate) *u)
{
	json_t *j = to_json(u);
	char *text = json_dumps(j, JSON_COMPACT);

	if (text == NULL || store_schedule_put(sc->n->store, u->name,
	    (int64_t)u->updated_ms, text) != 0)
		log_event(LOG_WARN, "cannot store a schedule", "{s:s, s:s}",
		    "schedule", str(u->name), "error", store_error(sc->n->store));
	free(text);
	json_decref(j);
}

int
schedules_emit(struct schedules *sc, const PB(ScheduleUpdate) *u)
{
	const PB(ScheduleUpdate) *held;
	char name[64];
	int rc;

	/* u's strings may be the held record's, which the merge frees. */
	snprintf(name, sizeof(name), "%s", str(u->name));
	rc = sync_emit_schedule(sc->n->sync, u);
	if (rc > 0 && (held = sync_schedules_get(sc->n->sync, name)) != NULL)
		persist(sc, held);
	return rc;
}

/* Another node's word changed what we hold: kept across a restart. */
static void
changed_cb(const PB(ScheduleUpdate) *merged, void *arg)
{
	persist(arg, merged);
}

static int
load_one(void *arg, const char *text)
{
	struct schedules *sc = arg;
	PB(ScheduleUpdate) u;
	json_t *j = json_loads(text, 0, NULL);

	if (j != NULL) {
		from_json(j, &u);
		sync_schedules_seed(sc->n->sync, &u);
	}
	json_decref(j);
	return 0;
}

/* --- reading ------------------------------------------------------------------ */

json_t *
schedules_def(const PB(ScheduleUpdate) *u)
{
	json_t *def;

	if (u->deleted || (def = json_loads(str(u->spec_json), 0, NULL)) == NULL)
		return NULL;
	if (!json_is_object(def)) {
		json_decref(def);
		return NULL;
	}
	return def;
}

static json_t *
view(const PB(ScheduleUpdate) *u)
{
	json_t *v = schedules_def(u);
	const char *by = sync_schedules_principal(u);
	struct cron *c;
	char err[256];
	int64_t next = -1;

	if (v == NULL)
		return NULL;
	c = cron_parse(json_string_value(json_object_get(v, "cron")),
	    json_string_value(json_object_get(v, "tz")), err, sizeof(err));
	if (c != NULL && !json_is_true(json_object_get(v, "paused")))
		next = cron_next(c, (int64_t)clock_wall_ms());
	cron_free(c);
	json_object_set_new(v, "updated_ms", json_integer((json_int_t)u->updated_ms));
	json_object_set_new(v, "author", json_string(str(u->author)));
	/* As the schedule's events name it: only for the definition made. */
	if (by[0] != '\0')
		json_object_set_new(v, "principal", json_string(by));
	json_object_set_new(v, "next_fire_ms", next > 0 ?
	    json_integer((json_int_t)next) : json_null());
	/* A workflow's fire names the workflow where a job's names the job. */
	json_object_set_new(v, "last_fire", u->fire_ms == 0 ? json_null() :
	    json_pack("{s:I, s:s?, s:s?, s:s, s:I}", "fire_ms",
	    (json_int_t)u->fire_ms, json_object_get(v, "workflow") != NULL ?
	    "workflow" : "job", str(u->fire_job)[0] != '\0' ?
	    u->fire_job : NULL, "node", str(u->fire_node)[0] != '\0' ?
	    u->fire_node : NULL, "outcome", str(u->fire_outcome),
	    "updated_ms", (json_int_t)u->fire_updated_ms));
	return v;
}

json_t *
schedules_get(struct schedules *sc, const char *name)
{
	const PB(ScheduleUpdate) *u = sync_schedules_get(sc->n->sync, name);

	return u != NULL ? view(u) : NULL;
}

static void
list_one(const PB(ScheduleUpdate) *u, void *arg)
{
	json_t *v = view(u);

	if (v != NULL)
		json_array_append_new(arg, v);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a,
	    "name")), json_string_value(json_object_get(*(json_t *const *)b,
	    "name")));
}

json_t *
schedules_list(struct schedules *sc)
{
	json_t *all = json_array(), *out = json_array(), **v;
	size_t n;

	sync_schedules_foreach(sc->n->sync, list_one, all);
	n = json_array_size(all);
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(all);
	return out;
}

/* --- changing ------------------------------------------------------------------ */

/* A new version of name's definition (spec NULL: a tombstone) made by p
 * (NULL: nobody named), keeping the last fire we hold.  Returns
 * schedules_emit's. */
static int
change(struct schedules *sc, const char *name, const char *spec,
    const struct principal *p)
{
	const PB(ScheduleUpdate) *held = sync_schedules_get(sc->n->sync, name);
	PB(ScheduleUpdate) u;
	uint64_t now = clock_wall_ms();

	if (held != NULL)
		u = *held;
	else
		agentflow__mesh__v1__schedule_update__init(&u);
	u.name = (char *)name;
	u.spec_json = (char *)(spec != NULL ? spec : "");
	u.deleted = spec == NULL;
	u.updated_ms = held != NULL && held->updated_ms >= now ?
	    held->updated_ms + 1 : now;
	u.author = sc->n->id;
	u.principal = (char *)(p != NULL ? p->name : "");
	u.principal_ms = p != NULL ? u.updated_ms : 0;
	u.principal_author = p != NULL ?
	    sync_schedules_author_digest(u.author) : 0;
	return schedules_emit(sc, &u);
}

static json_t *
task_names(struct schedules *sc)
{
	json_t *defs, *names = json_object(), *d;
	size_t i;

	if (sc->n->tasks == NULL)
		return names;
	defs = tasks_defs_json(sc->n->tasks);
	json_array_foreach(defs, i, d)
		json_object_set_new(names, jstr(d, "name"), json_true());
	json_decref(defs);
	return names;
}

int
schedules_put(struct schedules *sc, const json_t *def,
    const struct principal *p, json_t **out)
{
	json_t *tasks = task_names(sc), *spec, *errors;
	const PB(ScheduleUpdate) *held;
	const char *name;
	char *text;
	int rc, existed;

	spec = schedule_spec_check(def, tasks, &errors);
	json_decref(tasks);
	if (spec == NULL) {
		*out = errors;
		return 400;
	}
	name = json_string_value(json_object_get(spec, "name"));
	held = sync_schedules_get(sc->n->sync, name);
	existed = held != NULL && !held->deleted;
	text = json_dumps(spec, JSON_COMPACT);
	rc = text != NULL ? change(sc, name, text, p) : -1;
	free(text);
	if (rc < 0) {
		*out = json_pack("{s:s}", "error", sync_schedules_count(
		    sc->n->sync) >= SYNC_SCHEDULES_MAX ? "the mesh holds the most "
		    "schedules it keeps; delete one first" : "cannot keep the "
		    "schedule");
		json_decref(spec);
		return sync_schedules_count(sc->n->sync) >= SYNC_SCHEDULES_MAX ?
		    507 : 500;
	}
	log_event(LOG_INFO, existed ? "schedule replaced" : "schedule added",
	    "{s:s, s:s}", "schedule", name, "by", p != NULL ? p->name : "");
	*out = schedules_get(sc, name);
	json_decref(spec);
	return existed ? 200 : 201;
}

int
schedules_delete(struct schedules *sc, const char *name,
    const struct principal *p)
{
	const PB(ScheduleUpdate) *held = sync_schedules_get(sc->n->sync, name);

	if (held == NULL || held->deleted)
		return 404;
	return change(sc, name, NULL, p) < 0 ? 500 : 200;
}

int
schedules_pause(struct schedules *sc, const char *name, int paused,
    const struct principal *p)
{
	const PB(ScheduleUpdate) *held = sync_schedules_get(sc->n->sync, name);
	json_t *def = held != NULL ? schedules_def(held) : NULL;
	char *text;
	int rc;

	if (def == NULL)
		return 404;
	json_object_set_new(def, "paused", json_boolean(paused));
	text = json_dumps(def, JSON_COMPACT);
	rc = text != NULL ? change(sc, name, text, p) : -1;
	free(text);
	json_decref(def);
	return rc < 0 ? 500 : 200;
}

/* --- life ---------------------------------------------------------------------- */

static void
tick_cb(void *arg)
{
	schedules_tick(arg, (int64_t)clock_wall_ms());
}

static int
name_of(void *arg, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	if (json_is_string(json_object_get(j, "name")))
		json_array_append(arg, json_object_get(j, "name"));
	json_decref(j);
	return 0;
}

/* Stored deletions the view did not keep (past its bound): forgotten in
 * the store too, so the store stays as bounded as the view. */
static void
forget_evicted(struct schedules *sc)
{
	json_t *names = json_array(), *v;
	size_t i;

	if (store_schedules_all(sc->n->store, name_of, names) != 0) {
		json_decref(names);
		return;
	}
	json_array_foreach(names, i, v)
		if (sync_schedules_get(sc->n->sync, json_string_value(v)) == NULL &&
		    store_schedule_del(sc->n->store, json_string_value(v)) != 0)
			log_event(LOG_WARN, "cannot forget a schedule", "{s:s, s:s}",
			    "schedule", json_string_value(v), "error",
			    store_error(sc->n->store));
	json_decref(names);
}

struct schedules *
schedules_new(struct node *n)
{
	struct schedules *sc = xcalloc(1, sizeof(*sc));

	sc->n = n;
	sc->rt = hmap_new();
	sc->seen = json_object();
	if (store_schedules_all(n->store, load_one, sc) != 0)
		log_event(LOG_WARN, "cannot read the stored schedules", "{s:s}",
		    "error", store_error(n->store));
	forget_evicted(sc);
	sync_set_schedule_hook(n->sync, changed_cb, sc);
	sc->tick = wall_timer_new(n->base, SCHEDULES_TICK_MS, 0, tick_cb, sc);
	return sc;
}

void
schedules_free(struct schedules *sc)
{
	if (sc == NULL)
		return;
	wall_timer_free(sc->tick);
	sync_set_schedule_hook(sc->n->sync, NULL, NULL);
	schedules_rt_free(sc);
	json_decref(sc->seen);
	free(sc);
}
