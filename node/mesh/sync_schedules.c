/*
 * The mesh's view of schedules (sync_schedules.h): name → the merged
 * ScheduleUpdate, a heap copy.
 *
 * Where a word comes from decides whether it is taken:
 *   our own          sync_emit_schedule, sync_schedules_seed   always
 *   an event         sync_apply_event → sync_schedules_apply   its origin
 *                                                              signed it
 *   a snapshot       apply_snapshot → sync_schedules_merge     only from
 *                                                              the origin
 * Any member may change any schedule (a write token on any node can), so
 * unlike jobs the view is one for the mesh, not one per origin: who said
 * it is the author field, and only orders equal times.
 *
 * Invariant: at most SYNC_SCHEDULES_MAX names, each once; what is held of
 * a name never goes back to an older definition or an older fire.
 */
#include "sync.h"
#include "sync_priv.h"
#include "sync_schedules.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "text.h"
#include "xalloc.h"

#define PB(name)	Agentflow__Mesh__V1__##name

static PB(ScheduleUpdate) *
copy(const PB(ScheduleUpdate) *u)
{
	return sync_message_copy(&u->base);
}

static void
update_free(PB(ScheduleUpdate) *u)
{
	if (u != NULL)
		agentflow__mesh__v1__schedule_update__free_unpacked(u, NULL);
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

/* Whether a's definition is newer than b's. */
static int
def_newer(const PB(ScheduleUpdate) *a, const PB(ScheduleUpdate) *b)
{
	if (a->updated_ms != b->updated_ms)
		return a->updated_ms > b->updated_ms;
	return strcmp(str(a->author), str(b->author)) > 0;
}

/* Whether a's last fire is newer than b's. */
static int
fire_newer(const PB(ScheduleUpdate) *a, const PB(ScheduleUpdate) *b)
{
	if (a->fire_ms != b->fire_ms)
		return a->fire_ms > b->fire_ms;
	return a->fire_updated_ms > b->fire_updated_ms;
}

struct census {
	size_t			 live, dead;
	const char		*oldest_dead;	/* name */
	uint64_t		 oldest_ms;
};

static int
census_one(const char *name, void *value, void *arg)
{
	const PB(ScheduleUpdate) *u = value;
	struct census *c = arg;

	if (!u->deleted) {
		c->live++;
		return 0;
	}
	c->dead++;
	if (c->oldest_dead == NULL || u->updated_ms < c->oldest_ms) {
		c->oldest_dead = name;
		c->oldest_ms = u->updated_ms;
	}
	return 0;
}

/* Whether a new name u fits: live definitions and deletions are bounded
 * apart; a deletion past its bound makes room by forgetting the oldest. */
static int
room(struct sync *s, const PB(ScheduleUpdate) *u)
{
	struct census c = { 0 };
	PB(ScheduleUpdate) *old;

	hmap_sweep(s->schedules, census_one, &c);
	if (!u->deleted)
		return c.live < SYNC_SCHEDULES_MAX;
	if (c.dead < SYNC_SCHEDULE_TOMBSTONES_MAX)
		return 1;
	if ((old = hmap_del(s->schedules, c.oldest_dead)) != NULL)
		update_free(old);
	return 1;
}

/*
 * Merges u into what we hold of its name.  1 when that changed, 0 when
 * not, -1 when the view is full.  *out (may be NULL) is what we hold
 * after.
 */
static int
put(struct sync *s, const PB(ScheduleUpdate) *u,
    const PB(ScheduleUpdate) **out)
{
	PB(ScheduleUpdate) *held, m, *c;
	int def, fire;

	if (s->schedules == NULL)
		s->schedules = hmap_new();
	held = hmap_get(s->schedules, u->name);
	if (held == NULL) {
		if (!room(s, u))
			return -1;
		c = copy(u);
		if (c == NULL)
			return -1;
		hmap_put(s->schedules, u->name, c);
		if (out != NULL)
			*out = c;
		return 1;
	}
	def = def_newer(u, held);
	fire = fire_newer(u, held);
	/* A deleted name defined again counts as a new one. */
	if (def && held->deleted && !u->deleted && !room(s, u))
		return -1;
	if (out != NULL)
		*out = held;
	if (!def && !fire)
		return 0;
	m = *held;
	if (def) {
		m.spec_json = u->spec_json;
		m.updated_ms = u->updated_ms;
		m.author = u->author;
		m.deleted = u->deleted;
		m.principal = u->principal;
		m.principal_ms = u->principal_ms;
		m.principal_author = u->principal_author;
	}
	if (fire) {
		m.fire_ms = u->fire_ms;
		m.fire_job = u->fire_job;
		m.fire_node = u->fire_node;
		m.fire_outcome = u->fire_outcome;
		m.fire_updated_ms = u->fire_updated_ms;
	}
	if ((c = copy(&m)) == NULL)
		return 0;
	hmap_put(s->schedules, u->name, c);
	update_free(held);
	if (out != NULL)
		*out = c;
	CHECK(hmap_count(s->schedules) <= SYNC_SCHEDULES_MAX +
	    SYNC_SCHEDULE_TOMBSTONES_MAX);
	return 1;
}

uint32_t
sync_schedules_author_digest(const char *node_id)
{
	const char *id = str(node_id);

	return (uint32_t)(text_fnv1a(id, strlen(id), TEXT_FNV1A_BASIS) %
	    FRAME_CODEC_MAX_PRINCIPAL_AUTHOR) + 1;
}

const char *
sync_schedules_principal(const PB(ScheduleUpdate) *u)
{
	if (u->principal_ms != u->updated_ms)
		return "";
	if (u->principal_author != 0 &&
	    u->principal_author != sync_schedules_author_digest(u->author))
		return "";
	return str(u->principal);
}

/* u within mesh.proto's bounds, as an event of ours would carry it. */
static int
valid(const struct sync *s, const PB(ScheduleUpdate) *u)
{
	PB(Event) e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE;
	e.schedule = (PB(ScheduleUpdate) *)u;
	return sync_event_fits(s, &e, "schedule", u->name);
}

int
sync_emit_schedule(struct sync *s, const PB(ScheduleUpdate) *u)
{
	PB(Event) e = AGENTFLOW__MESH__V1__EVENT__INIT;
	const PB(ScheduleUpdate) *held;
	int rc;

	if (!valid(s, u))
		return -1;
	if ((rc = put(s, u, &held)) <= 0) {
		if (rc < 0)
			log_event(LOG_WARN, "too many schedules; not kept",
			    "{s:s, s:i}", "schedule", u->name, "max",
			    SYNC_SCHEDULES_MAX);
		return rc;
	}
	/* The merged word: a receiver holding neither half learns both. */
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE;
	e.schedule = (PB(ScheduleUpdate) *)held;
	sync_emit_event(s, &e);
	return 1;
}

void
sync_schedules_seed(struct sync *s, const PB(ScheduleUpdate) *u)
{
	if (valid(s, u))
		(void)put(s, u, NULL);
}

void
sync_schedules_apply(struct sync *s, const char *origin,
    const PB(ScheduleUpdate) *u)
{
	const PB(ScheduleUpdate) *held;
	uint64_t ahead = clock_wall_ms() + SYNC_SCHEDULE_AHEAD_MAX_MS;
	int rc;

	/* Times no clock of ours will reach would hold the schedule still
	 * (a fire "handled" in the future, a definition never newer). */
	if (u->updated_ms > ahead || u->fire_ms > ahead ||
	    u->fire_updated_ms > ahead) {
		log_event(LOG_WARN, "schedule word dated ahead of our clock; "
		    "refused", "{s:s, s:s}", "schedule", u->name, "from", origin);
		return;
	}
	rc = put(s, u, &held);

	if (rc < 0)
		log_event(LOG_WARN, "too many schedules; another node's not kept",
		    "{s:s, s:s}", "schedule", u->name, "from", origin);
	else if (rc > 0 && s->schedule_hook != NULL)
		s->schedule_hook(held, s->schedule_hook_arg);
}

void
sync_schedules_merge(struct sync *s, const char *origin,
    PB(ScheduleUpdate) *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sync_schedules_apply(s, origin, v[i]);
}

static int
fill_one(const char *name, void *value, void *arg)
{
	PB(OriginState) *st = arg;

	(void)name;
	if (st->n_schedules < FRAME_CODEC_MAX_SCHEDULES)
		st->schedules[st->n_schedules++] = value;
	return 0;
}

void
sync_schedules_fill(struct sync *s, PB(OriginState) *st)
{
	st->n_schedules = 0;
	st->schedules = NULL;
	if (s->schedules == NULL || hmap_count(s->schedules) == 0)
		return;
	st->schedules = xcalloc(hmap_count(s->schedules), sizeof(*st->schedules));
	hmap_sweep(s->schedules, fill_one, st);
}

const PB(ScheduleUpdate) *
sync_schedules_get(const struct sync *s, const char *name)
{
	return s->schedules != NULL ? hmap_get(s->schedules, name) : NULL;
}

struct each {
	void	(*fn)(const PB(ScheduleUpdate) *, void *);
	void	*arg;
};

static int
each_one(const char *name, void *value, void *arg)
{
	struct each *e = arg;

	(void)name;
	e->fn(value, e->arg);
	return 0;
}

void
sync_schedules_foreach(const struct sync *s,
    void (*fn)(const PB(ScheduleUpdate) *, void *), void *arg)
{
	struct each e = { fn, arg };

	if (s->schedules != NULL)
		hmap_sweep(s->schedules, each_one, &e);
}

size_t
sync_schedules_count(const struct sync *s)
{
	struct census c = { 0 };

	if (s->schedules != NULL)
		hmap_sweep(s->schedules, census_one, &c);
	return c.live;
}

void
sync_set_schedule_hook(struct sync *s,
    void (*fn)(const PB(ScheduleUpdate) *, void *), void *arg)
{
	s->schedule_hook = fn;
	s->schedule_hook_arg = arg;
}

static int
free_one(const char *name, void *value, void *arg)
{
	(void)name;
	(void)arg;
	update_free(value);
	return 1;
}

void
sync_schedules_free(struct sync *s)
{
	if (s->schedules == NULL)
		return;
	hmap_sweep(s->schedules, free_one, NULL);
	hmap_free(s->schedules);
	s->schedules = NULL;
}
