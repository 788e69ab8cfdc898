/*
 * The mesh's view of services (sync_services.h): per origin, the latest
 * ServiceUpdate of each service it runs, a sync_view in which a removal
 * is the "final" word, so a tombstone is what a full list drops first and
 * what a snapshot carries last.  Which updates are taken is as for jobs
 * (sync_jobs.c): an origin's own signed events, its own snapshots, and
 * ours.
 */
#include "sync.h"
#include "sync_priv.h"
#include "sync_services.h"
#include "sync_view.h"

#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "xalloc.h"

typedef Agentflow__Mesh__V1__ServiceUpdate ServiceUpdate;

/* Every one of ours fits a snapshot, and a snapshot fits the codec. */
_Static_assert(SYNC_SERVICES_MAX <= FRAME_CODEC_MAX_SERVICES,
    "a snapshot of ours would hold more services than a receiver takes");

static const char *
svc_id(const ProtobufCMessage *m)
{
	return ((const ServiceUpdate *)m)->name;
}

static uint64_t
svc_updated(const ProtobufCMessage *m)
{
	return ((const ServiceUpdate *)m)->updated_ms;
}

static int
svc_removed(const ProtobufCMessage *m)
{
	return ((const ServiceUpdate *)m)->removed;
}

static const struct sync_view_kind svc_kind = {
	.id = svc_id, .updated = svc_updated, .final = svc_removed,
	.max = SYNC_SERVICES_MAX, .snapshot = SYNC_SERVICES_MAX,
};

static struct sync_view *
view(struct sync *s)
{
	if (s->services == NULL)
		s->services = sync_view_new(&svc_kind);
	return s->services;
}

/* u as an event of ours; fits: within mesh.proto's bounds (logged when
 * not). */
static Agentflow__Mesh__V1__Event
as_event(const struct sync *s, const ServiceUpdate *u, int *fits)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE;
	e.service = (ServiceUpdate *)u;
	*fits = sync_event_fits(s, &e, "service", u->name);
	return e;
}

uint64_t
sync_emit_service(struct sync *s, const ServiceUpdate *u)
{
	int fits;
	Agentflow__Mesh__V1__Event e = as_event(s, u, &fits);

	if (!fits)
		return 0;
	sync_view_put(view(s), s->self_id, &u->base);
	return sync_emit_event(s, &e);
}

void
sync_services_seed(struct sync *s, const ServiceUpdate *u)
{
	int fits;

	(void)as_event(s, u, &fits);
	if (fits)
		sync_view_put(view(s), s->self_id, &u->base);
}

void
sync_services_apply(struct sync *s, const char *origin, const ServiceUpdate *u)
{
	sync_view_put(view(s), origin, &u->base);
}

void
sync_services_merge(struct sync *s, const char *origin,
    ServiceUpdate *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sync_view_put(view(s), origin, &v[i]->base);
}

void
sync_services_fill(struct sync *s, Agentflow__Mesh__V1__OriginState *st)
{
	ProtobufCMessage **v;

	sync_view_fill(s->services, s->self_id, &v, &st->n_services);
	st->services = (ServiceUpdate **)v;
}

size_t
sync_services_held(const struct sync *s, const char *origin)
{
	return sync_view_held(s->services, origin);
}

void
sync_services_forget(struct sync *s, const char *origin)
{
	sync_view_forget(s->services, origin);
}

void
sync_services_free(struct sync *s)
{
	sync_view_free(s->services);
	s->services = NULL;
}

/* --- reading -------------------------------------------------------------- */

/* v, or null when 0 (a time, a pid: 0 means none). */
static json_t *
or_null(uint64_t v)
{
	return v != 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *
text_or_null(const char *v)
{
	return v != NULL && v[0] != '\0' ? json_string(v) : json_null();
}

static json_t *
endpoint_json(const Agentflow__Mesh__V1__ServiceEndpoint *p)
{
	json_t *tags = json_array();

	for (size_t i = 0; i < p->n_tags; i++)
		json_array_append_new(tags, json_string(p->tags[i]));
	return json_pack("{s:s, s:s, s:I, s:o}", "name", p->name, "protocol",
	    p->protocol, "port", (json_int_t)p->port, "tags", tags);
}

json_t *
sync_service_json(const char *node, const ServiceUpdate *u)
{
	json_t *o = json_object(), *eps = json_array();

	for (size_t i = 0; i < u->n_endpoints; i++)
		json_array_append_new(eps, endpoint_json(u->endpoints[i]));
	json_object_set_new(o, "node", json_string(node));
	json_object_set_new(o, "name", json_string(u->name));
	json_object_set_new(o, "desired", json_string(u->desired));
	json_object_set_new(o, "state", json_string(u->state));
	json_object_set_new(o, "pid", or_null(u->pid));
	json_object_set_new(o, "started_ms", or_null(u->started_ms));
	json_object_set_new(o, "restarts", json_integer(u->restarts));
	json_object_set_new(o, "last_exit", u->exited ? json_pack("{s:i, s:i}",
	    "code", (int)u->last_exit_code, "signal", (int)u->last_signal) :
	    json_null());
	json_object_set_new(o, "next_attempt_ms", or_null(u->next_attempt_ms));
	json_object_set_new(o, "updated_ms", or_null(u->updated_ms));
	json_object_set_new(o, "reason", text_or_null(u->reason));
	json_object_set_new(o, "endpoints", eps);
	json_object_set_new(o, "task_id", text_or_null(u->task_id));
	json_object_set_new(o, "version", text_or_null(u->version));
	if (u->removed)
		json_object_set_new(o, "removed", json_true());
	return o;
}

struct gather {
	const char	*name;		/* NULL: any */
	const char	*node;
	json_t		*out;
	size_t		 count;
};

static void
gather_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	struct gather *g = arg;
	const ServiceUpdate *u = (const ServiceUpdate *)m;

	if (u->removed || (g->name != NULL && strcmp(u->name, g->name) != 0) ||
	    (g->node != NULL && strcmp(origin, g->node) != 0))
		return;
	g->count++;
	if (g->out != NULL)
		json_array_append_new(g->out, sync_service_json(origin, u));
}

/* qsort order of service rows (json_t *): by name, then node. */
static int
by_name_node(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "name")),
	    json_string_value(json_object_get(y, "name")));

	return c != 0 ? c : strcmp(json_string_value(json_object_get(x,
	    "node")), json_string_value(json_object_get(y, "node")));
}

json_t *
sync_services_list(const struct sync *s, const char *name, const char *node)
{
	struct gather g = { .name = name, .node = node, .out = json_array() };
	json_t **v, *out = json_array();
	size_t n;

	sync_view_each(s->services, NULL, gather_one, &g);
	n = json_array_size(g.out);
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(g.out, i);
	qsort(v, n, sizeof(*v), by_name_node);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(g.out);
	return out;
}

size_t
sync_services_count(const struct sync *s)
{
	struct gather g = { 0 };

	sync_view_each(s->services, NULL, gather_one, &g);
	return g.count;
}
