/*
 * Firing schedules (schedules.h): each turn, every schedule's due fire
 * time, its owner, and the fire itself.
 *
 * Per schedule this node keeps (struct sched_rt, rebuilt when the
 * definition's version changes):
 *   next     the first fire time not yet reached
 *   due      the latest fire time reached and not yet handled by anyone
 *            (the mesh's last fire is older) nor too late; 0: none
 *   waiting  a fire time this node queued behind a running job
 *            (overlap "queue"); 0: none
 * A fire time moves next → due when the clock passes it; due → 0 when
 * the mesh's last fire reaches it, when it is too late, or when this node
 * handles it (fires, skips or queues it).  Only the owner of a due time
 * with a majority in sight handles it, the owner chosen among the members
 * alive and those gone out of sight within hold_ms; a time whose first
 * owner (as this
 * node saw it when the time came) has gone out of sight is not taken
 * over: that node may have fired it unseen, and a fire time runs at most
 * once.
 */
#include "schedules.h"
#include "schedules_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "hmap.h"
#include "jobs.h"
#include "jobs_spec.h"
#include "log.h"
#include "node.h"
#include "quorum.h"
#include "schedule_spec.h"
#include "store.h"
#include "store_schedules.h"
#include "sync_jobs.h"
#include "sync_schedules.h"
#include "sync_workflows.h"
#include "text.h"
#include "workflow_state.h"
#include "workflows.h"
#include "xalloc.h"

#define PB(name)	Agentflow__Mesh__V1__##name
#define SCAN_MAX	1000	/* fire times passed in one turn */

struct sched_rt {
	uint64_t	 version;
	char		 author[64];
	struct cron	*cron;
	json_t		*def;
	int64_t		 next, due, waiting;
	/* The owner of due as this node saw it when due was first seen
	 * with the members in view; "": not yet. */
	char		 due_owner[64];
};

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * How long a member gone out of sight stays a candidate owner
 * (quorum_owner_held).  Each side of a cut notices it a link check
 * (LINKS_TICK_MS, 250) after a frame interval of silence at worst, and
 * acts at its next turn: the other side must not pick a new owner for a
 * time the first may still fire.  At rest only pings flow (statuses are
 * paced, status_pace.h), so the frame interval is --ping-ms: 2 s with
 * --ping-ms 300, 7.75 s with the defaults.
 */
static int64_t
hold_ms(const struct schedules *sc)
{
	long gap = sc->n->cfg->ping_ms;

	return 2 * ((int64_t)gap + 250) + SCHEDULES_TICK_MS + 1000;
}

/* The owner of (name, fire_ms), held (quorum.h). */
static const char *
owner(const struct schedules *sc, const struct quorum *q, const char *name,
    int64_t fire_ms, int64_t now)
{
	char key[256];

	snprintf(key, sizeof(key), "%s/%" PRId64, name, fire_ms);
	return quorum_owner_held(q, sc->seen, key, now, hold_ms(sc));
}

/* --- the runtime state ----------------------------------------------------------- */

static void
rt_free(struct sched_rt *rt)
{
	if (rt == NULL)
		return;
	cron_free(rt->cron);
	json_decref(rt->def);
	free(rt);
}

/* A stored definition (another node's, as it came) has the fields the
 * firing reads, each within its bounds: NULL, or what is wrong. */
static const char *
def_unfit(const json_t *def)
{
	json_int_t grace = json_integer_value(json_object_get(def, "grace_ms"));

	if (!json_is_object(json_object_get(def, "job")) &&
	    !json_is_object(json_object_get(json_object_get(def, "workflow"),
	    "definition")))
		return "no job and no workflow";
	if (!json_is_integer(json_object_get(def, "grace_ms")) || grace < 0 ||
	    grace > (json_int_t)SCHEDULE_GRACE_MAX_S * 1000)
		return "grace_ms out of range";
	return NULL;
}

/* u's runtime state, (re)built for its definition's version; NULL for a
 * definition this node cannot read (logged when first seen). */
static struct sched_rt *
rt_get(struct schedules *sc, const PB(ScheduleUpdate) *u)
{
	struct sched_rt *rt = hmap_get(sc->rt, u->name);
	const char *unfit = NULL;
	char err[256];

	if (rt != NULL && rt->version == u->updated_ms &&
	    strcmp(rt->author, str(u->author)) == 0)
		return rt->cron != NULL ? rt : NULL;
	rt_free(hmap_del(sc->rt, u->name));
	rt = xcalloc(1, sizeof(*rt));
	rt->version = u->updated_ms;
	snprintf(rt->author, sizeof(rt->author), "%s", str(u->author));
	hmap_put(sc->rt, u->name, rt);
	if ((rt->def = schedules_def(u)) == NULL ||
	    (unfit = def_unfit(rt->def)) != NULL ||
	    (rt->cron = cron_parse(json_string_value(json_object_get(rt->def,
	    "cron")), json_string_value(json_object_get(rt->def, "tz")), err,
	    sizeof(err))) == NULL) {
		log_event(LOG_WARN, "schedule not understood here; not fired",
		    "{s:s, s:s}", "schedule", u->name, "error", rt->def == NULL ?
		    "definition is not a JSON object" : unfit != NULL ? unfit :
		    err);
		return NULL;
	}
	return rt;
}

static int
free_rt(const char *name, void *value, void *arg)
{
	(void)name;
	(void)arg;
	rt_free(value);
	return 1;
}

void
schedules_rt_free(struct schedules *sc)
{
	if (sc->rt == NULL)
		return;
	hmap_sweep(sc->rt, free_rt, NULL);
	hmap_free(sc->rt);
	sc->rt = NULL;
}

/* --- handling a fire time --------------------------------------------------------- */

/* The last fire of u moved to (fire_ms, job, node, outcome), as ours. */
static void
record(struct schedules *sc, const PB(ScheduleUpdate) *u, int64_t fire_ms,
    const char *job, const char *node, const char *outcome, int64_t now)
{
	PB(ScheduleUpdate) c = *u;

	/* A queued fire runs after later ones were skipped: the last fire
	 * never goes back (its key keeps its own time). */
	c.fire_ms = (uint64_t)fire_ms > u->fire_ms ? (uint64_t)fire_ms :
	    u->fire_ms;
	c.fire_job = (char *)job;
	c.fire_node = (char *)node;
	c.fire_outcome = (char *)outcome;
	c.fire_updated_ms = (uint64_t)now > u->fire_updated_ms ? (uint64_t)now :
	    u->fire_updated_ms + 1;
	schedules_emit(sc, &c);
}

/* Workflow id as this node knows it: ours, or the mesh's view of it (one
 * we fired and another node took over is the taker's). */
static json_t *
workflow_of(struct schedules *sc, const char *id, int mine)
{
	json_t *w = mine && sc->n->workflows != NULL ?
	    workflows_get(sc->n->workflows, id) : NULL;

	if (w == NULL && sc->n->sync != NULL)
		w = sync_workflows_get(sc->n->sync, id);
	return w;
}

/* The state of the fire's job (or workflow, for a workflow's schedule)
 * id issued by node, as this node knows it; NULL: unknown.  *tmp holds
 * it (decref). */
static const char *
fire_state(struct schedules *sc, const json_t *def, const char *id,
    const char *node, json_t **tmp)
{
	int mine = strcmp(node, sc->n->id) == 0;

	*tmp = NULL;
	if (id[0] == '\0')
		return NULL;
	if (json_object_get(def, "workflow") != NULL)
		*tmp = workflow_of(sc, id, mine);
	else if (mine)
		*tmp = sc->n->jobs != NULL ? jobs_get(sc->n->jobs, id) : NULL;
	else if (sc->n->sync != NULL)
		*tmp = sync_jobs_get(sc->n->sync, id, node, NULL);
	return json_string_value(json_object_get(*tmp, "state"));
}

/* Whether outcome s is a job's or workflow's final state; -1: not a
 * state at all ("skipped", "waiting", "refused"). */
static int
state_final(const json_t *def, const char *s)
{
	int st;

	if (json_object_get(def, "workflow") != NULL)
		return (st = workflow_state_parse(s)) < 0 ? -1 :
		    workflow_state_done((enum workflow_state)st);
	return (st = jobs_state_parse(s)) < 0 ? -1 :
	    jobs_state_final((enum jobs_state)st);
}

/* Whether u's last job (or workflow) still holds the schedule: not
 * final, and its issuer alive (a dead issuer's moves no more). */
static int
last_open(struct schedules *sc, const PB(ScheduleUpdate) *u,
    const json_t *def, struct quorum *m)
{
	json_t *tmp;
	const char *s = fire_state(sc, def, str(u->fire_job), str(u->fire_node),
	    &tmp);
	int open = s != NULL && state_final(def, s) == 0 &&
	    quorum_alive(m, str(u->fire_node));

	json_decref(tmp);
	return open;
}

/* The fire's workflow, run here as its coordinator under an id of its
 * key (a second fire of it here answers the first); its id in id (""
 * when refused), its first state returned. */
static const char *
run_workflow(struct schedules *sc, const PB(ScheduleUpdate) *u,
    const json_t *w, const char *key, const struct principal *p, char *id,
    size_t idlen, json_t **rec)
{
	uint64_t h = text_fnv1a(key, strlen(key), TEXT_FNV1A_BASIS);
	json_t *errors = NULL;
	char err[512] = "";
	int status;

	snprintf(id, idlen, "w%016llx", (unsigned long long)h);
	status = sc->n->workflows != NULL ? workflows_run_id(sc->n->workflows,
	    json_object_get(w, "definition"), json_object_get(w, "set"), p, id,
	    &errors, err, sizeof(err)) : 503;
	if (status == 202 || status == 200) {
		*rec = workflow_of(sc, id, 1);
		return json_string_value(json_object_get(*rec, "state"));
	}
	if (errors != NULL) {
		char *text = json_dumps(errors, JSON_COMPACT);

		snprintf(err, sizeof(err), "%s", text != NULL ? text : "?");
		free(text);
	}
	json_decref(errors);
	log_event(LOG_WARN, "schedule's workflow refused", "{s:s, s:s}",
	    "schedule", u->name, "error", err);
	id[0] = '\0';
	return "refused";
}

/* Submits u's job for fire_ms with its key; records the fire. */
static void
submit(struct schedules *sc, const PB(ScheduleUpdate) *u,
    struct sched_rt *rt, int64_t fire_ms, int64_t now)
{
	json_t *body = json_deep_copy(json_object_get(rt->def, "job")), *payload;
	struct principal p;
	char key[JOBS_KEY_MAX + 1], id[64] = "", err[512] = "";
	const char *state = "refused";
	json_t *rec = NULL;
	int status;

	snprintf(key, sizeof(key), "schedule:%s:%" PRId64, u->name, fire_ms);
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "schedule:%s", u->name);
	p.role = PRINCIPAL_WRITE;
	if (json_object_get(rt->def, "workflow") != NULL) {
		json_decref(body);
		state = run_workflow(sc, u, json_object_get(rt->def, "workflow"),
		    key, &p, id, sizeof(id), &rec);
		if (id[0] != '\0')
			log_event(LOG_INFO, "schedule fired", "{s:s, s:I, s:s}",
			    "schedule", u->name, "fire_ms", (json_int_t)fire_ms,
			    "workflow", id);
		record(sc, u, fire_ms, id, sc->n->id, state != NULL ? state :
		    "pending", now);
		json_decref(rec);
		return;
	}
	json_object_set_new(body, "key", json_string(key));
	/* The task learns which fire it is: an object payload (or none)
	 * gets "schedule": {name, fire_ms} unless it has that key. */
	payload = json_object_get(body, "payload");
	if (payload == NULL || json_is_object(payload)) {
		payload = payload != NULL ? json_deep_copy(payload) : json_object();
		if (json_object_get(payload, "schedule") == NULL)
			json_object_set_new(payload, "schedule", json_pack("{s:s, "
			    "s:I}", "name", u->name, "fire_ms", (json_int_t)fire_ms));
		json_object_set_new(body, "payload", payload);
	}
	status = sc->n->jobs != NULL ? jobs_submit(sc->n->jobs, body, &p, id,
	    sizeof(id), err, sizeof(err)) : 503;
	json_decref(body);
	if (status == 202 || status == 200) {
		rec = jobs_get(sc->n->jobs, id);
		state = json_string_value(json_object_get(rec, "state"));
		if (state == NULL)
			state = "queued";
		log_event(LOG_INFO, "schedule fired", "{s:s, s:I, s:s}",
		    "schedule", u->name, "fire_ms", (json_int_t)fire_ms, "job", id);
	} else {
		id[0] = '\0';
		log_event(LOG_WARN, "schedule's job refused", "{s:s, s:I, s:i, "
		    "s:s}", "schedule", u->name, "fire_ms", (json_int_t)fire_ms,
		    "status", status, "error", err);
	}
	record(sc, u, fire_ms, id, sc->n->id, state, now);
	json_decref(rec);
}

/* This node owns fire_ms of u: fire it, or skip or queue it (overlap). */
static void
handle(struct schedules *sc, const PB(ScheduleUpdate) *u,
    struct sched_rt *rt, int64_t fire_ms, struct quorum *m, int64_t now)
{
	enum schedule_overlap ov = schedule_spec_overlap(rt->def);

	if (ov == SCHEDULE_OVERLAP_ALLOW || !last_open(sc, u, rt->def, m)) {
		submit(sc, u, rt, fire_ms, now);
		return;
	}
	if (ov == SCHEDULE_OVERLAP_QUEUE && rt->waiting == 0) {
		rt->waiting = fire_ms;
		record(sc, u, fire_ms, str(u->fire_job), str(u->fire_node),
		    "waiting", now);
		return;
	}
	/* The last job's reference stays: it is what the next fire waits
	 * for. */
	log_event(LOG_INFO, "schedule's fire skipped: the last job runs",
	    "{s:s, s:I, s:s}", "schedule", u->name, "fire_ms",
	    (json_int_t)fire_ms, "job", str(u->fire_job));
	record(sc, u, fire_ms, str(u->fire_job), str(u->fire_node), "skipped",
	    now);
}

/* Our last fire's job (or workflow) moved on: its state becomes the
 * outcome. */
static void
follow(struct schedules *sc, const PB(ScheduleUpdate) *u,
    const struct sched_rt *rt, int64_t now)
{
	json_t *tmp;
	const char *s;

	if (strcmp(str(u->fire_node), sc->n->id) != 0 ||
	    state_final(rt->def, str(u->fire_outcome)) != 0)
		return;		/* not ours, or "skipped"/"waiting", or final */
	s = fire_state(sc, rt->def, str(u->fire_job), sc->n->id, &tmp);
	if (s != NULL && strcmp(s, str(u->fire_outcome)) != 0)
		record(sc, u, (int64_t)u->fire_ms, str(u->fire_job), sc->n->id, s,
		    now);
	json_decref(tmp);
}

/* One schedule's turn.  What we hold of it is read again after each
 * change of ours: the change frees the record read before. */
static void
turn(struct schedules *sc, const char *name, struct quorum *m, int64_t now)
{
	const PB(ScheduleUpdate) *u;
	struct sched_rt *rt;
	int64_t window, from;
	int n = 0;

	if ((u = sync_schedules_get(sc->n->sync, name)) == NULL ||
	    (rt = rt_get(sc, u)) == NULL)
		return;
	follow(sc, u, rt, now);
	/* A change of the fire's outcome keeps the definition's version:
	 * rt stays. */
	if ((u = sync_schedules_get(sc->n->sync, name)) == NULL)
		return;
	if (json_is_true(json_object_get(rt->def, "paused"))) {
		/* What passes while paused is not owed on resume. */
		rt->next = rt->due = rt->waiting = 0;
		return;
	}
	window = schedule_spec_misfire(rt->def) == SCHEDULE_MISFIRE_RUN_ONCE ?
	    json_integer_value(json_object_get(rt->def, "grace_ms")) :
	    SCHEDULES_LATE_MS;
	if (rt->next == 0 || now - rt->next > window) {
		from = now - window > (int64_t)u->fire_ms ? now - window :
		    (int64_t)u->fire_ms;
		rt->next = cron_next(rt->cron, from);
	}
	while (rt->next > 0 && rt->next <= now && n++ < SCAN_MAX) {
		rt->due = rt->next;
		rt->due_owner[0] = '\0';
		rt->next = cron_next(rt->cron, rt->next);
	}
	if (rt->due != 0 && (int64_t)u->fire_ms >= rt->due)
		rt->due = 0;		/* handled by someone */
	if (rt->due != 0 && now - rt->due > window) {
		log_event(LOG_INFO, "schedule's fire time missed", "{s:s, s:I}",
		    "schedule", u->name, "fire_ms", (json_int_t)rt->due);
		rt->due = 0;
	}
	if (rt->waiting == 0 && rt->due == 0)
		return;
	quorum_build(sc->n, m);
	if (rt->waiting != 0 && !last_open(sc, u, rt->def, m)) {
		int64_t w = rt->waiting;

		rt->waiting = 0;
		submit(sc, u, rt, w, now);
		if ((u = sync_schedules_get(sc->n->sync, name)) == NULL)
			return;
	}
	/* A majority of the known members in sight for a while (a node that
	 * just started, or just got back from the minority side of a
	 * partition, first hears what it missed), and ours. */
	if (rt->due == 0 || sc->majority_since_ms == 0 ||
	    now - sc->majority_since_ms < SCHEDULES_SETTLE_MS)
		return;
	if (rt->due_owner[0] == '\0')
		snprintf(rt->due_owner, sizeof(rt->due_owner), "%s",
		    str(owner(sc, m, u->name, rt->due, now)));
	if (strcmp(str(owner(sc, m, u->name, rt->due, now)), sc->n->id) != 0)
		return;
	/*
	 * At most once: the node that owned the time when it came went out
	 * of sight since, and may have fired it unseen (the other side of a
	 * partition, before either saw the cut).  Not fired again.
	 */
	if (strcmp(rt->due_owner, sc->n->id) != 0 &&
	    !quorum_alive(m, rt->due_owner)) {
		log_event(LOG_INFO, "schedule's fire time not taken over: its "
		    "owner went out of sight and may have fired it", "{s:s, s:I, "
		    "s:s}", "schedule", u->name, "fire_ms", (json_int_t)rt->due,
		    "owner", rt->due_owner);
		rt->due = 0;
		return;
	}
	int64_t due = rt->due;

	rt->due = 0;
	handle(sc, u, rt, due, m, now);
}

static void
collect_name(const PB(ScheduleUpdate) *u, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:b, s:I}", "name", u->name,
	    "deleted", u->deleted, "updated_ms", (json_int_t)u->updated_ms));
}

void
schedules_tick(struct schedules *sc, int64_t now)
{
	struct quorum m = { 0 };
	json_t *names = json_array(), *v;
	const char *name;
	size_t i;

	/* Names first: a turn may change the view it walks. */
	sync_schedules_foreach(sc->n->sync, collect_name, names);
	if (json_array_size(names) > 0) {
		quorum_build(sc->n, &m);
		quorum_seen_note(sc->seen, &m, now, hold_ms(sc));
		if (!quorum_majority(&m)) {
			if (sc->majority_since_ms != 0)
				log_event(LOG_INFO, "schedules wait: no majority of "
				    "the members in sight", "{s:i, s:i}", "alive",
				    (int)json_array_size(m.alive), "known",
				    (int)m.known);
			sc->majority_since_ms = 0;
		} else if (sc->majority_since_ms == 0)
			sc->majority_since_ms = now;
	}
	json_array_foreach(names, i, v) {
		name = json_string_value(json_object_get(v, "name"));
		if (!json_is_true(json_object_get(v, "deleted"))) {
			turn(sc, name, &m, now);
			continue;
		}
		/* A deletion is kept (sync_schedules.h: bounded by count,
		 * never collected by age, so no member away for long can
		 * bring the schedule back). */
		rt_free(hmap_del(sc->rt, name));
	}
	json_decref(names);
	quorum_clear(&m);
}
