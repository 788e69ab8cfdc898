/*
 * The mesh's view of jobs (sync_jobs.h): per origin, the latest
 * JobUpdate of each job it issued, as heap copies.
 *
 * Where an update comes from decides whether it is taken:
 *   our own           sync_emit_job, sync_jobs_seed      always (ours)
 *   an event          apply_event → sync_jobs_apply      its origin signed
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
 * Invariant: an origin's list holds at most SYNC_JOBS_MAX jobs, each job
 * id at most once; an origin without jobs has no entry.
 */
#include "sync.h"
#include "sync_jobs.h"
#include "sync_priv.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "work_json.h"
#include "xalloc.h"

struct origin_jobs {
	Agentflow__Mesh__V1__JobUpdate	**v;
	size_t				  n;
};

static Agentflow__Mesh__V1__JobUpdate *
copy(const Agentflow__Mesh__V1__JobUpdate *u)
{
	return sync_message_copy(&u->base);
}

static void
update_free(Agentflow__Mesh__V1__JobUpdate *u)
{
	agentflow__mesh__v1__job_update__free_unpacked(u, NULL);
}

static struct origin_jobs *
jobs_of(struct sync *s, const char *origin)
{
	struct origin_jobs *oj;

	if (s->jobs == NULL)
		s->jobs = hmap_new();
	if ((oj = hmap_get(s->jobs, origin)) == NULL) {
		oj = xcalloc(1, sizeof(*oj));
		oj->v = xcalloc(SYNC_JOBS_MAX, sizeof(*oj->v));
		hmap_put(s->jobs, origin, oj);
	}
	return oj;
}

static void
origin_jobs_free(struct origin_jobs *oj)
{
	if (oj == NULL)
		return;
	for (size_t i = 0; i < oj->n; i++)
		update_free(oj->v[i]);
	free(oj->v);
	free(oj);
}

/* The slot to drop for a new job in a full list: the oldest final job,
 * else (every job open) the oldest. */
static size_t
victim(const struct origin_jobs *oj)
{
	size_t best = 0;
	int best_final = 0;

	for (size_t i = 0; i < oj->n; i++) {
		int final = oj->v[i]->finished_ms != 0;
		if ((final && !best_final) || (final == best_final &&
		    oj->v[i]->updated_ms < oj->v[best]->updated_ms)) {
			best = i;
			best_final = final;
		}
	}
	return best;
}

/* Keeps u (copied) as origin's latest word on its job. */
static void
put(struct sync *s, const char *origin, const Agentflow__Mesh__V1__JobUpdate *u)
{
	struct origin_jobs *oj = jobs_of(s, origin);
	Agentflow__Mesh__V1__JobUpdate *c;
	size_t i;

	for (i = 0; i < oj->n; i++)
		if (strcmp(oj->v[i]->job_id, u->job_id) == 0)
			break;
	if (i < oj->n && u->updated_ms < oj->v[i]->updated_ms)
		return;		/* older than what we hold */
	if ((c = copy(u)) == NULL)
		return;
	if (i == oj->n && oj->n == SYNC_JOBS_MAX)
		i = victim(oj);
	if (i < oj->n)
		update_free(oj->v[i]);
	else
		oj->n++;
	oj->v[i] = c;
	CHECK(oj->n <= SYNC_JOBS_MAX);
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

static int
open_first(const void *a, const void *b)
{
	const Agentflow__Mesh__V1__JobUpdate *x = *(const void *const *)a;
	const Agentflow__Mesh__V1__JobUpdate *y = *(const void *const *)b;
	int fx = x->finished_ms != 0, fy = y->finished_ms != 0;

	if (fx != fy)
		return fx - fy;
	return x->updated_ms < y->updated_ms ? 1 :
	    x->updated_ms > y->updated_ms ? -1 : 0;
}

void
sync_jobs_fill(struct sync *s, const char *origin,
    Agentflow__Mesh__V1__OriginState *st)
{
	struct origin_jobs *oj = s->jobs != NULL ? hmap_get(s->jobs, origin) :
	    NULL;

	st->n_jobs = 0;
	st->jobs = NULL;
	if (oj == NULL || oj->n == 0)
		return;
	/* Open jobs first, then the most recent final ones. */
	st->jobs = xcalloc(oj->n, sizeof(*st->jobs));
	memcpy(st->jobs, oj->v, oj->n * sizeof(*st->jobs));
	qsort(st->jobs, oj->n, sizeof(*st->jobs), open_first);
	st->n_jobs = oj->n < SYNC_JOBS_SNAPSHOT ? oj->n : SYNC_JOBS_SNAPSHOT;
}

size_t
sync_jobs_held(const struct sync *s, const char *origin)
{
	struct origin_jobs *oj = s->jobs != NULL ? hmap_get(s->jobs, origin) :
	    NULL;

	return oj != NULL ? oj->n : 0;
}

void
sync_jobs_forget(struct sync *s, const char *origin)
{
	if (s->jobs != NULL)
		origin_jobs_free(hmap_del(s->jobs, origin));
}

static int
free_one(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	origin_jobs_free(value);
	return 1;
}

void
sync_jobs_free(struct sync *s)
{
	if (s->jobs == NULL)
		return;
	hmap_sweep(s->jobs, free_one, NULL);
	hmap_free(s->jobs);
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

/* Calls g->fn for every job of every origin but ourselves. */
static int
gather_cb(const char *origin, void *value, void *arg)
{
	struct gather *g = arg;
	struct origin_jobs *oj = value;

	if (strcmp(origin, g->s->self_id) == 0)
		return 0;
	for (size_t i = 0; i < oj->n; i++)
		g->fn(g, origin, oj->v[i]);
	return 0;
}

static void
gather(struct gather *g)
{
	if (g->s->jobs != NULL)
		hmap_sweep(g->s->jobs, gather_cb, g);
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
