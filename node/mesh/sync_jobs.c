/*
 * The mesh's view of jobs (sync_jobs.h): per origin, the latest
 * JobUpdate of each job it issued.
 *
 * Where an update comes from decides whether it is taken:
 *   our own           sync_emit_job, sync_jobs_seed      always (ours)
 *   an event          sync_apply_event → sync_jobs_apply its origin signed
 *                                                        it (sync_vouch.c)
 *   a snapshot        apply_snapshot → sync_jobs_merge   only from the
 *                                                        origin itself,
 *                                                        news or not
 * so an origin's list holds only what that origin said of its own jobs.
 * Our jobs of earlier lives reach a peer in a snapshot of ours at cursor
 * 0 when its link comes up (sync_catchup_jobs); a node we never link to
 * directly learns only the jobs our current life's events carry (relays
 * hand on no one's jobs but their own).
 * An update older (updated_ms) than the one held is dropped: a hole's
 * events come after the snapshot that skipped them.
 *
 * The lists are a sync_view (sync_view.h): at most SYNC_JOBS_MAX jobs per
 * origin, each job id at most once.
 */
#include "sync.h"
#include "sync_jobs.h"
#include "sync_priv.h"
#include "sync_view.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame_codec.h"
#include "log.h"
#include "work_json.h"
#include "xalloc.h"

static const char *
job_id(const ProtobufCMessage *m)
{
	return ((const Agentflow__Mesh__V1__JobUpdate *)m)->job_id;
}

static uint64_t
job_updated(const ProtobufCMessage *m)
{
	return ((const Agentflow__Mesh__V1__JobUpdate *)m)->updated_ms;
}

static int
job_final(const ProtobufCMessage *m)
{
	return ((const Agentflow__Mesh__V1__JobUpdate *)m)->finished_ms != 0;
}

static const struct sync_view_kind job_kind = {
	.id = job_id, .updated = job_updated, .final = job_final,
	.max = SYNC_JOBS_MAX, .snapshot = SYNC_JOBS_SNAPSHOT,
};

static struct sync_view *
view(struct sync *s)
{
	if (s->jobs == NULL)
		s->jobs = sync_view_new(&job_kind);
	return s->jobs;
}

/* Keeps u (copied) as origin's latest word on its job. */
static void
put(struct sync *s, const char *origin, const Agentflow__Mesh__V1__JobUpdate *u)
{
	sync_view_put(view(s), origin, &u->base);
}

/* u within mesh.proto's bounds, as an event of ours would carry it. */
static int
valid(const struct sync *s, const Agentflow__Mesh__V1__JobUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	e.job = (Agentflow__Mesh__V1__JobUpdate *)u;
	return sync_event_fits(s, &e, "job", u->job_id);
}

uint64_t
sync_emit_job(struct sync *s, const Agentflow__Mesh__V1__JobUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	if (!valid(s, u))
		return 0;
	put(s, s->self_id, u);
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	e.job = (Agentflow__Mesh__V1__JobUpdate *)u;
	return sync_emit_event(s, &e);
}

void
sync_jobs_seed(struct sync *s, const Agentflow__Mesh__V1__JobUpdate *u)
{
	if (valid(s, u))
		put(s, s->self_id, u);
}

void
sync_jobs_apply(struct sync *s, const char *origin,
    const Agentflow__Mesh__V1__JobUpdate *u)
{
	put(s, origin, u);
}

void
sync_jobs_merge(struct sync *s, const char *origin,
    Agentflow__Mesh__V1__JobUpdate *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(s, origin, v[i]);
}

void
sync_jobs_fill(struct sync *s, const char *origin,
    Agentflow__Mesh__V1__OriginState *st)
{
	ProtobufCMessage **v;

	sync_view_fill(view(s), origin, &v, &st->n_jobs);
	st->jobs = (Agentflow__Mesh__V1__JobUpdate **)v;
}

size_t
sync_jobs_held(const struct sync *s, const char *origin)
{
	return s->jobs != NULL ? sync_view_held(s->jobs, origin) : 0;
}

void
sync_jobs_forget(struct sync *s, const char *origin)
{
	if (s->jobs != NULL)
		sync_view_forget(s->jobs, origin);
}

void
sync_jobs_free(struct sync *s)
{
	sync_view_free(s->jobs);
	s->jobs = NULL;
}

/* --- reading -------------------------------------------------------------- */

struct gather {
	const struct sync	*s;
	void			(*fn)(struct gather *, const char *origin,
				    const Agentflow__Mesh__V1__JobUpdate *);
	const char		*state, *task, *id;
	const char		*issuer;	/* sync_jobs_get: NULL any */
	json_t			*out;
	json_t			*issuers;	/* sync_jobs_get: who named id */
	size_t			 count;
};

static void
gather_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	struct gather *g = arg;

	g->fn(g, origin, (const Agentflow__Mesh__V1__JobUpdate *)m);
}

/* Calls g->fn for every job of every origin but ourselves. */
static void
gather(struct gather *g)
{
	if (g->s->jobs != NULL)
		sync_view_each(g->s->jobs, g->s->self_id, gather_one, g);
}

static json_t *
summary(const char *origin, const Agentflow__Mesh__V1__JobUpdate *u)
{
	json_t *j = work_json_job(origin, u);

	if (j != NULL)
		json_object_set_new(j, "remote", json_true());
	return j;
}

static void
list_one(struct gather *g, const char *origin,
    const Agentflow__Mesh__V1__JobUpdate *u)
{
	if ((g->state != NULL && strcmp(u->state, g->state) != 0) ||
	    (g->task != NULL && strcmp(u->task, g->task) != 0))
		return;
	json_array_append_new(g->out, summary(origin, u));
}

int
sync_jobs_newer(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "submitted_ms"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "submitted_ms"));

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
sync_jobs_list(const struct sync *s, const char *state, const char *task,
    unsigned limit)
{
	struct gather g = { .s = s, .fn = list_one, .state = state,
	    .task = task, .out = json_array() };
	json_t **v, *out;
	size_t n;

	gather(&g);
	n = json_array_size(g.out);
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(g.out, i);
	qsort(v, n, sizeof(*v), sync_jobs_newer);
	out = json_array();
	for (size_t i = 0; i < n && (limit == 0 || i < limit); i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(g.out);
	return out;
}

static void
get_one(struct gather *g, const char *origin,
    const Agentflow__Mesh__V1__JobUpdate *u)
{
	if (strcmp(u->job_id, g->id) != 0 || (g->issuer != NULL &&
	    strcmp(origin, g->issuer) != 0))
		return;
	json_array_append_new(g->issuers, json_string(origin));
	json_decref(g->out);
	g->out = summary(origin, u);
}

json_t *
sync_jobs_get(const struct sync *s, const char *id, const char *issuer,
    json_t **issuers)
{
	struct gather g = { .s = s, .fn = get_one, .id = id, .issuer = issuer };

	g.issuers = json_array();
	gather(&g);
	/* One id from two issuers (a member may copy another's): which one
	 * is meant is the asker's to say, never the newest's to decide. */
	if (json_array_size(g.issuers) > 1) {
		json_decref(g.out);
		g.out = NULL;
		if (issuers != NULL)
			*issuers = json_incref(g.issuers);
	}
	json_decref(g.issuers);
	return g.out;
}

static void
count_one(struct gather *g, const char *origin,
    const Agentflow__Mesh__V1__JobUpdate *u)
{
	(void)origin;
	(void)u;
	g->count++;
}

size_t
sync_jobs_count(const struct sync *s)
{
	struct gather g = { .s = s, .fn = count_one };

	gather(&g);
	return g.count;
}
