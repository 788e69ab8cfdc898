/*
 * The mesh's view of artifacts (sync_artifacts.h): per origin, the latest
 * ArtifactUpdate of each artifact it holds, a sync_view in which a
 * removal is the "final" word.  Which updates are taken is as for
 * services (sync_services.c): an origin's own signed events, its own
 * snapshots, and ours.
 */
#include "sync.h"
#include "sync_priv.h"
#include "sync_artifacts.h"
#include "sync_view.h"

#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "xalloc.h"

typedef Agentflow__Mesh__V1__ArtifactUpdate ArtifactUpdate;

_Static_assert(SYNC_ARTIFACTS_MAX <= FRAME_CODEC_MAX_ARTIFACTS,
    "a snapshot of ours would hold more artifacts than a receiver takes");

static const char *
art_id(const ProtobufCMessage *m)
{
	return ((const ArtifactUpdate *)m)->artifact;
}

static uint64_t
art_updated(const ProtobufCMessage *m)
{
	return ((const ArtifactUpdate *)m)->updated_ms;
}

static int
art_removed(const ProtobufCMessage *m)
{
	return ((const ArtifactUpdate *)m)->removed;
}

static const struct sync_view_kind art_kind = {
	.id = art_id, .updated = art_updated, .final = art_removed,
	.max = SYNC_ARTIFACTS_MAX, .snapshot = SYNC_ARTIFACTS_MAX,
};

static struct sync_view *
view(struct sync *s)
{
	if (s->artifacts == NULL)
		s->artifacts = sync_view_new(&art_kind);
	return s->artifacts;
}

/* u as an event of ours; fits: within mesh.proto's bounds. */
static Agentflow__Mesh__V1__Event
as_event(const struct sync *s, const ArtifactUpdate *u, int *fits)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT;
	e.artifact = (ArtifactUpdate *)u;
	*fits = sync_event_fits(s, &e, "artifact", u->artifact);
	return e;
}

uint64_t
sync_emit_artifact(struct sync *s, const ArtifactUpdate *u)
{
	int fits;
	Agentflow__Mesh__V1__Event e = as_event(s, u, &fits);

	if (!fits)
		return 0;
	sync_view_put(view(s), s->self_id, &u->base);
	return sync_emit_event(s, &e);
}

void
sync_artifacts_seed(struct sync *s, const ArtifactUpdate *u)
{
	int fits;

	(void)as_event(s, u, &fits);
	if (fits)
		sync_view_put(view(s), s->self_id, &u->base);
}

void
sync_artifacts_apply(struct sync *s, const char *origin,
    const ArtifactUpdate *u)
{
	sync_view_put(view(s), origin, &u->base);
}

void
sync_artifacts_merge(struct sync *s, const char *origin,
    ArtifactUpdate *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sync_view_put(view(s), origin, &v[i]->base);
}

void
sync_artifacts_fill(struct sync *s, Agentflow__Mesh__V1__OriginState *st)
{
	ProtobufCMessage **v;

	sync_view_fill(s->artifacts, s->self_id, &v, &st->n_artifacts);
	st->artifacts = (ArtifactUpdate **)v;
}

size_t
sync_artifacts_held(const struct sync *s, const char *origin)
{
	return sync_view_held(s->artifacts, origin);
}

void
sync_artifacts_forget(struct sync *s, const char *origin)
{
	sync_view_forget(s->artifacts, origin);
}

void
sync_artifacts_free(struct sync *s)
{
	sync_view_free(s->artifacts);
	s->artifacts = NULL;
}

/* --- reading -------------------------------------------------------------- */

/* The rows of sync_artifacts_list, keyed by artifact while gathered. */
static void
gather_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	json_t *by = arg, *row;
	const ArtifactUpdate *u = (const ArtifactUpdate *)m;

	if (u->removed)
		return;
	if ((row = json_object_get(by, u->artifact)) == NULL) {
		row = json_pack("{s:s, s:s, s:I, s:[]}", "artifact", u->artifact,
		    "name", u->name, "size", (json_int_t)u->size, "nodes");
		json_object_set_new(by, u->artifact, row);
	}
	json_array_append_new(json_object_get(row, "nodes"), json_pack(
	    "{s:s, s:I}", "node", origin, "added_ms", (json_int_t)u->updated_ms));
}

static int
by_field(const json_t *x, const json_t *y, const char *f)
{
	return strcmp(json_string_value(json_object_get(x, f)),
	    json_string_value(json_object_get(y, f)));
}

/* qsort order of rows (json_t *): name, then artifact. */
static int
by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = by_field(x, y, "name");

	return c != 0 ? c : by_field(x, y, "artifact");
}

/* qsort order of a row's nodes: by node. */
static int
by_node(const void *a, const void *b)
{
	return by_field(*(json_t *const *)a, *(json_t *const *)b, "node");
}

/* arr's elements sorted by cmp, as a new array. */
static json_t *
sorted(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr);
	json_t **v = xcalloc(n + 1, sizeof(*v)), *out = json_array();

	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

json_t *
sync_artifacts_list(const struct sync *s)
{
	json_t *by = json_object(), *rows = json_array(), *row, *out;
	const char *k;

	sync_view_each(s->artifacts, NULL, gather_one, by);
	json_object_foreach(by, k, row) {
		json_object_set_new(row, "nodes",
		    sorted(json_object_get(row, "nodes"), by_node));
		json_array_append(rows, row);
	}
	out = sorted(rows, by_name);
	json_decref(rows);
	json_decref(by);
	return out;
}

struct holders {
	const char	*artifact;
	void		(*fn)(const char *, const ArtifactUpdate *, void *);
	void		*arg;
};

static void
holder_one(const char *origin, const ProtobufCMessage *m, void *arg)
{
	const struct holders *h = arg;
	const ArtifactUpdate *u = (const ArtifactUpdate *)m;

	if (!u->removed && strcmp(u->artifact, h->artifact) == 0)
		h->fn(origin, u, h->arg);
}

void
sync_artifacts_holders(const struct sync *s, const char *artifact,
    const char *skip, void (*fn)(const char *origin, const ArtifactUpdate *,
    void *arg), void *arg)
{
	struct holders h = { artifact, fn, arg };

	sync_view_each(s->artifacts, skip, holder_one, &h);
}
