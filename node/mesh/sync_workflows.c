/*
 * The mesh's view of workflows (sync_workflows.h): per origin, the latest
 * WorkflowUpdate of each workflow it coordinates, a sync_view.  Which
 * updates are taken is as for jobs (sync_jobs.c): an origin's own signed
 * events, its own snapshots, and ours.
 */
#include "sync.h"
#include "sync_priv.h"
#include "sync_view.h"
#include "sync_workflows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xalloc.h"

typedef Agentflow__Mesh__V1__WorkflowUpdate WorkflowUpdate;

static const char *
wf_id(const ProtobufCMessage *m)
{
	return ((const WorkflowUpdate *)m)->workflow_id;
}

static uint64_t
wf_updated(const ProtobufCMessage *m)
{
	return ((const WorkflowUpdate *)m)->updated_ms;
}

static int
wf_final(const ProtobufCMessage *m)
{
	return ((const WorkflowUpdate *)m)->finished_ms != 0;
}

static const struct sync_view_kind wf_kind = {
	.id = wf_id, .updated = wf_updated, .final = wf_final,
	.max = SYNC_WORKFLOWS_MAX, .snapshot = SYNC_WORKFLOWS_SNAPSHOT,
};

static struct sync_view *
view(struct sync *s)
{
	if (s->workflows == NULL)
		s->workflows = sync_view_new(&wf_kind);
	return s->workflows;
}

/* u within mesh.proto's bounds, as an event of ours would carry it. */
static int
valid(const struct sync *s, const WorkflowUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW;
	e.workflow = (WorkflowUpdate *)u;
	return sync_event_fits(s, &e, "workflow", u->workflow_id);
}

uint64_t
sync_emit_workflow(struct sync *s, const WorkflowUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	if (!valid(s, u))
		return 0;
	sync_view_put(view(s), s->self_id, &u->base);
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW;
	e.workflow = (WorkflowUpdate *)u;
	return sync_emit_event(s, &e);
}

void
sync_workflows_seed(struct sync *s, const WorkflowUpdate *u)
{
	if (valid(s, u))
		sync_view_put(view(s), s->self_id, &u->base);
}

void
sync_workflows_apply(struct sync *s, const char *origin,
    const WorkflowUpdate *u)
{
	sync_view_put(view(s), origin, &u->base);
}

void
sync_workflows_merge(struct sync *s, const char *origin,
    WorkflowUpdate *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sync_view_put(view(s), origin, &v[i]->base);
}

void
sync_workflows_fill(struct sync *s, const char *origin,
    Agentflow__Mesh__V1__OriginState *st)
{
	ProtobufCMessage **v;

	sync_view_fill(view(s), origin, &v, &st->n_workflows);
	st->workflows = (WorkflowUpdate **)v;
}

size_t
sync_workflows_held(const struct sync *s, const char *origin)
{
	return s->workflows != NULL ? sync_view_held(s->workflows, origin) :
	    0;
}

void
sync_workflows_forget(struct sync *s, const char *origin)
{
	if (s->workflows != NULL)
		sync_view_forget(s->workflows, origin);
}

void
sync_workflows_free(struct sync *s)
{
	sync_view_free(s->workflows);
	s->workflows = NULL;
}

/* --- reading -------------------------------------------------------------- */

static void
set_ms(json_t *o, const char *key, uint64_t ms)
{
	json_object_set_new(o, key, ms != 0 ? json_integer((json_int_t)ms) :
	    json_null());
}

static json_t *
step_json(const Agentflow__Mesh__V1__WorkflowStepState *st)
{
	json_t *o = json_object(), *needs = json_array();

	for (size_t i = 0; i < st->n_needs; i++)
		json_array_append_new(needs, json_string(st->needs[i]));
	json_object_set_new(o, "name", json_string(st->name));
	json_object_set_new(o, "kind", json_string(st->approval ? "approval" :
	    "job"));
	json_object_set_new(o, "needs", needs);
	json_object_set_new(o, "state", json_string(st->state));
	json_object_set_new(o, "attempt", json_integer(st->attempt));
	json_object_set_new(o, "job", st->job_id[0] != '\0' ?
	    json_string(st->job_id) : json_null());
	json_object_set_new(o, "node", st->node[0] != '\0' ?
	    json_string(st->node) : json_null());
	set_ms(o, "started_ms", st->started_ms);
	set_ms(o, "finished_ms", st->finished_ms);
	if (st->decided_by[0] != '\0')
		json_object_set_new(o, "approved_by",
		    json_string(st->decided_by));
	return o;
}

json_t *
sync_workflow_json(const char *coordinator, const WorkflowUpdate *u)
{
	json_t *o = json_object(), *steps = json_array();

	for (size_t i = 0; i < u->n_steps; i++)
		json_array_append_new(steps, step_json(u->steps[i]));
	json_object_set_new(o, "id", json_string(u->workflow_id));
	json_object_set_new(o, "name", json_string(u->name));
	json_object_set_new(o, "state", json_string(u->state));
	json_object_set_new(o, "principal", json_string(u->principal));
	json_object_set_new(o, "coordinator", json_string(coordinator));
	json_object_set_new(o, "epoch", json_integer((json_int_t)u->epoch));
	set_ms(o, "created_ms", u->created_ms);
	set_ms(o, "updated_ms", u->updated_ms);
	set_ms(o, "finished_ms", u->finished_ms);
	json_object_set_new(o, "reason", u->reason[0] != '\0' ?
	    json_string(u->reason) : json_null());
	json_object_set_new(o, "steps", steps);
	return o;
}

struct gather {
	const char	*state;
	json_t		*out;
};

static json_t *
remote(const char *origin, const WorkflowUpdate *u)
{
	json_t *j = sync_workflow_json(origin, u);

	json_object_set_new(j, "remote", json_true());
	return j;
}

/* Of one id, the record with the higher epoch wins (a takeover's), then
 * the newer. */
static int
supersedes(const WorkflowUpdate *a, const WorkflowUpdate *b)
{
	return a->epoch != b->epoch ? a->epoch > b->epoch :
	    a->updated_ms > b->updated_ms;
}

struct best {
	const char		*origin;
	const WorkflowUpdate	*u;
	int			 tied;	/* two origins at one epoch */
};

/* id → struct best of every workflow other origins coordinate. */
static void
best_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	struct hmap *by = arg;
	const WorkflowUpdate *u = (const WorkflowUpdate *)m;
	struct best *b = hmap_get(by, u->workflow_id);

	if (b == NULL) {
		b = xcalloc(1, sizeof(*b));
		hmap_put(by, u->workflow_id, b);
	} else if (b->u->epoch == u->epoch && strcmp(b->origin, origin) != 0)
		b->tied = 1;
	if (b->u == NULL || supersedes(u, b->u)) {
		if (b->u != NULL && b->u->epoch != u->epoch)
			b->tied = 0;
		b->origin = origin;
		b->u = u;
	}
}

static struct hmap *
bests(const struct sync *s)
{
	struct hmap *by = hmap_new();

	if (s->workflows != NULL)
		sync_view_each(s->workflows, s->self_id, best_one, by);
	return by;
}

static int
free_best(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
	return 1;
}

static void
bests_free(struct hmap *by)
{
	hmap_sweep(by, free_best, NULL);
	hmap_free(by);
}

static int
list_one(const char *id, void *value, void *arg)
{
	struct gather *g = arg;
	const struct best *b = value;
	json_t *j;

	(void)id;
	if (g->state != NULL && strcmp(b->u->state, g->state) != 0)
		return 0;
	j = remote(b->origin, b->u);
	json_object_del(j, "steps");	/* a list's rows carry no steps */
	json_array_append_new(g->out, j);
	return 0;
}

int
sync_workflows_newer(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a,
	    "created_ms"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b,
	    "created_ms"));

	return x < y ? 1 : x > y ? -1 : 0;
}

json_t *
sync_workflows_list(const struct sync *s, const char *state, unsigned limit)
{
	struct gather g = { .state = state, .out = json_array() };
	json_t **v, *out = json_array();
	size_t n;

	struct hmap *by = bests(s);

	hmap_sweep(by, list_one, &g);
	bests_free(by);
	n = json_array_size(g.out);
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(g.out, i);
	qsort(v, n, sizeof(*v), sync_workflows_newer);
	for (size_t i = 0; i < n && (limit == 0 || i < limit); i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(g.out);
	return out;
}

json_t *
sync_workflows_get(const struct sync *s, const char *id)
{
	struct hmap *by = bests(s);
	const struct best *b = hmap_get(by, id);
	/* One id from two coordinators at one epoch: which is meant is not
	 * ours to pick. */
	json_t *out = b != NULL && !b->tied ? remote(b->origin, b->u) : NULL;

	bests_free(by);
	return out;
}

uint64_t
sync_workflows_epoch(const struct sync *s, const char *id, char *origin,
    size_t len)
{
	struct hmap *by = bests(s);
	const struct best *b = hmap_get(by, id);
	uint64_t epoch = b != NULL ? b->u->epoch : 0;

	if (b != NULL)
		snprintf(origin, len, "%s", b->origin);
	bests_free(by);
	return epoch;
}

static int
open_one(const char *id, void *value, void *arg)
{
	const struct best *b = value;
	json_t *j;

	(void)id;
	if (b->tied || b->u->finished_ms != 0)
		return 0;
	j = remote(b->origin, b->u);
	if (b->u->handover_json != NULL && b->u->handover_json[0] != '\0')
		json_object_set_new(j, "handover", json_string(
		    b->u->handover_json));
	json_array_append_new(arg, j);
	return 0;
}

json_t *
sync_workflows_open(const struct sync *s)
{
	struct hmap *by = bests(s);
	json_t *out = json_array();

	hmap_sweep(by, open_one, out);
	bests_free(by);
	return out;
}

static void
count_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	(void)origin;
	(void)m;
	(*(size_t *)arg)++;
}

size_t
sync_workflows_count(const struct sync *s)
{
	size_t n = 0;

	if (s->workflows != NULL)
		sync_view_each(s->workflows, s->self_id, count_one, &n);
	return n;
}
