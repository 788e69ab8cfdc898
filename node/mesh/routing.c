/*
 * The link-state graph, next hops, forwarding fan-out and label selection
 * (see routing.h).
 *
 * Each node the caller told us about is a member: its reported up links,
 * its labels and whether it is present.  Members are removed only when the
 * caller forgets a node (routing_forget); the caller bounds how many nodes
 * it knows.  The graph built from them is
 * cached with the breadth-first trees asked of it until a status changes a
 * vertex or an edge (gen) or one of our links goes up or down (the live
 * links' generation).  Every received batch is forwarded over it:
 * rebuilding it each time took a third of an idle 20-node mesh's loop, and
 * statuses (one a second from every node) rarely change it.
 *
 * Vertices are numbered in id order so that every node, holding the same
 * statuses, builds the same breadth-first trees.
 */
#include "routing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xalloc.h"

struct member {
	char		 *id;
	int		  vertex;	/* a status of it is known (or it is us) */
	char		**nbrs;		/* its reported up links */
	size_t		  nnbrs;
	char		**keys, **values;
	size_t		  nlabels;
	int		  has_labels;
	int		  present;
};

struct graph {
	const char	**ids;		/* the members' ids, sorted */
	size_t		  n;
	struct hmap	 *index;	/* id → index + 1 */
	unsigned char	 *adj;		/* n x n: 1 where both ends report the link */
};

struct graph_cache {
	struct graph	 g;
	uint64_t	 gen, live_gen;
	size_t		**tree;		/* per root: parent[], NULL until asked */
};

struct routing {
	char			*self_id;
	struct hmap		*members;	/* id → struct member */
	struct routing_live	 live;
	int			 has_live;
	uint64_t		 gen;		/* bumped by any vertex or edge statuses bring */
	struct graph_cache	*cache;
};

static int
cmp_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static struct member *
member_get(struct routing *r, const char *id)
{
	struct member *m = hmap_get(r->members, id);

	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		m->id = xstrdup(id);
		hmap_put(r->members, m->id, m);
	}
	return m;
}

static int
member_free(const char *id, void *value, void *arg)
{
	struct member *m = value;

	(void)id;
	(void)arg;
	free_strings(m->nbrs, m->nnbrs);
	free_strings(m->keys, m->nlabels);
	free_strings(m->values, m->nlabels);
	free(m->id);
	free(m);
	return 1;
}

/* --- the graph -------------------------------------------------------------- */

struct graph_build {
	struct routing	*r;
	struct graph	*g;
};

static int
graph_collect(const char *id, void *value, void *arg)
{
	struct graph_build *b = arg;
	struct member *m = value;

	if (m->vertex)
		b->g->ids[b->g->n++] = id;
	return 0;
}

/* a reports an up link to b (graph_build keeps it if b reports a). */
static void
graph_edge(struct graph *g, const char *a, const char *b)
{
	uintptr_t i = (uintptr_t)hmap_get(g->index, a);
	uintptr_t j = (uintptr_t)hmap_get(g->index, b);

	if (i == 0 || j == 0 || i == j)
		return;
	g->adj[(i - 1) * g->n + (j - 1)] = 1;
}

static void
graph_self_edge(const char *peer, void *arg)
{
	struct graph_build *b = arg;

	graph_edge(b->g, b->r->self_id, peer);
}

static int
graph_edges(const char *id, void *value, void *arg)
{
	struct graph_build *b = arg;
	struct member *m = value;

	if (strcmp(id, b->r->self_id) == 0)
		return 0;		/* ours are the live links */
	for (size_t i = 0; i < m->nnbrs; i++)
		graph_edge(b->g, id, m->nbrs[i]);
	return 0;
}

static void
graph_build(struct routing *r, struct graph *g)
{
	struct graph_build b = { r, g };

	g->ids = xcalloc(hmap_count(r->members) + 1, sizeof(*g->ids));
	g->n = 0;
	hmap_sweep(r->members, graph_collect, &b);
	qsort(g->ids, g->n, sizeof(*g->ids), cmp_ids);
	g->index = hmap_new();
	for (size_t i = 0; i < g->n; i++)
		hmap_put(g->index, g->ids[i], (void *)(uintptr_t)(i + 1));
	g->adj = xcalloc(g->n * g->n + 1, 1);
	hmap_sweep(r->members, graph_edges, &b);
	if (r->has_live)
		r->live.foreach_up(r->live.arg, graph_self_edge, &b);
	/* Keep the links both ends report. */
	for (size_t i = 0; i < g->n; i++)
		for (size_t j = i + 1; j < g->n; j++) {
			unsigned char both = g->adj[i * g->n + j] &
			    g->adj[j * g->n + i];

			g->adj[i * g->n + j] = g->adj[j * g->n + i] = both;
		}
}

static void
graph_free(struct graph *g)
{
	free(g->ids);
	hmap_free(g->index);
	free(g->adj);
}

/* Grows a breadth-first tree from the vertices queue[0..tail) (whose
 * parents are set): parent[v] of each vertex reached, SIZE_MAX left on the
 * others.  Returns how many vertices the tree holds. */
static size_t
graph_grow(const struct graph *g, size_t *parent, size_t *queue, size_t tail)
{
	size_t head = 0;

	while (head < tail) {
		size_t u = queue[head++];
		for (size_t v = 0; v < g->n; v++) {
			if (g->adj[u * g->n + v] && parent[v] == SIZE_MAX) {
				parent[v] = u;
				queue[tail++] = v;
			}
		}
	}
	return tail;
}

/* parent[v] in the breadth-first tree from root (SIZE_MAX: unreached). */
static void
graph_bfs(const struct graph *g, size_t root, size_t *parent)
{
	size_t *queue = xcalloc(g->n + 1, sizeof(*queue));

	for (size_t i = 0; i < g->n; i++)
		parent[i] = SIZE_MAX;
	parent[root] = root;
	queue[0] = root;
	graph_grow(g, parent, queue, 1);
	free(queue);
}

static void
graph_cache_free(struct graph_cache *gc)
{
	if (gc == NULL)
		return;
	for (size_t i = 0; i < gc->g.n; i++)
		free(gc->tree[i]);
	free(gc->tree);
	graph_free(&gc->g);
	free(gc);
}

static struct graph_cache *
graph_get(struct routing *r)
{
	uint64_t lg = r->has_live ? r->live.generation(r->live.arg) : 0;
	struct graph_cache *gc = r->cache;

	if (gc != NULL && gc->gen == r->gen && gc->live_gen == lg)
		return gc;
	graph_cache_free(gc);
	gc = r->cache = xcalloc(1, sizeof(*gc));
	graph_build(r, &gc->g);
	gc->gen = r->gen;
	gc->live_gen = lg;
	gc->tree = xcalloc(gc->g.n + 1, sizeof(*gc->tree));
	return gc;
}

/* The breadth-first tree from vertex root (index, not id). */
static const size_t *
graph_tree(struct graph_cache *gc, size_t root)
{
	if (gc->tree[root] == NULL) {
		gc->tree[root] = xcalloc(gc->g.n + 1, sizeof(size_t));
		graph_bfs(&gc->g, root, gc->tree[root]);
	}
	return gc->tree[root];
}

/* A vertex's index + 1, or 0 when id is not one. */
static size_t
graph_vertex(const struct graph_cache *gc, const char *id)
{
	return (size_t)(uintptr_t)hmap_get(gc->g.index, id);
}

/* Whether vertex v has a link both ends report. */
static int
graph_linked(const struct graph *g, size_t v)
{
	for (size_t u = 0; u < g->n; u++)
		if (g->adj[v * g->n + u])
			return 1;
	return 0;
}

#define ATTACHED	(SIZE_MAX - 1)	/* parent: the origin outside the graph */

/* Whether vertex v says it has a link to id: its status, or our live
 * links when v is us. */
static int
reports_link(struct routing *r, const struct graph *g, size_t v,
    const char *id)
{
	const struct member *m;

	if (strcmp(g->ids[v], r->self_id) == 0)
		return r->live.is_up(r->live.arg, id);
	if ((m = hmap_get(r->members, g->ids[v])) == NULL)
		return 0;
	for (size_t i = 0; i < m->nnbrs; i++)
		if (strcmp(m->nbrs[i], id) == 0)
			return 1;
	return 0;
}

/*
 * The tree of an origin the graph cannot root: one whose status we do not
 * hold yet (a peer's first events may come before its first status), or
 * whose status names no link both ends report (it is older than the links
 * the origin has now).  Its events came over links all the same: the nodes
 * that report a link to it (we, when ours is up) hang from it, and the
 * tree grows from all of them at once, in id order, so that every node
 * holding the same statuses builds the same tree.  The two-way check
 * cannot hold for the origin's own edges (it reported none), only for the
 * rest.  NULL when nobody reports a link to it; else the caller frees it.
 */
static size_t *
graph_tree_unrooted(struct routing *r, const struct graph_cache *gc,
    const char *root)
{
	const struct graph *g = &gc->g;
	size_t *parent = xcalloc(g->n + 1, sizeof(*parent));
	size_t *queue = xcalloc(g->n + 1, sizeof(*queue)), tail = 0;

	for (size_t v = 0; v < g->n; v++) {
		parent[v] = SIZE_MAX;
		if (strcmp(g->ids[v], root) != 0 && reports_link(r, g, v, root)) {
			parent[v] = ATTACHED;
			queue[tail++] = v;
		}
	}
	tail = graph_grow(g, parent, queue, tail);
	free(queue);
	if (tail == 0) {
		free(parent);
		return NULL;
	}
	return parent;
}

/* --- the table ---------------------------------------------------------------- */

struct routing *
routing_new(const char *self_id)
{
	struct routing *r = xcalloc(1, sizeof(*r));

	r->self_id = xstrdup(self_id);
	r->members = hmap_new();
	member_get(r, self_id)->vertex = 1;
	return r;
}

void
routing_free(struct routing *r)
{
	if (r == NULL)
		return;
	graph_cache_free(r->cache);	/* it points into the members */
	hmap_sweep(r->members, member_free, NULL);
	hmap_free(r->members);
	free(r->self_id);
	free(r);
}

void
routing_set_live(struct routing *r, const struct routing_live *live)
{
	r->has_live = live != NULL;
	if (live != NULL)
		r->live = *live;
	else
		memset(&r->live, 0, sizeof(r->live));
}

void
routing_set_links(struct routing *r, const char *id, const char *const *peers,
    size_t n)
{
	struct member *m = member_get(r, id);
	int changed;

	if (strcmp(id, r->self_id) == 0)
		return;			/* ours are the live links */
	changed = !m->vertex || n != m->nnbrs;
	for (size_t i = 0; i < n && !changed; i++)
		changed = strcmp(peers[i], m->nbrs[i]) != 0;
	m->vertex = 1;
	if (!changed)
		return;
	free_strings(m->nbrs, m->nnbrs);
	m->nbrs = xcalloc(n + 1, sizeof(*m->nbrs));
	for (size_t i = 0; i < n; i++)
		m->nbrs[i] = xstrdup(peers[i]);
	m->nnbrs = n;
	r->gen++;
}

void
routing_set_labels(struct routing *r, const char *id,
    const struct routing_label *labels, size_t n)
{
	struct member *m = member_get(r, id);

	free_strings(m->keys, m->nlabels);
	free_strings(m->values, m->nlabels);
	m->keys = xcalloc(n + 1, sizeof(*m->keys));
	m->values = xcalloc(n + 1, sizeof(*m->values));
	for (size_t i = 0; i < n; i++) {
		m->keys[i] = xstrdup(labels[i].key);
		m->values[i] = xstrdup(labels[i].value);
	}
	m->nlabels = n;
	m->has_labels = 1;
}

void
routing_set_present(struct routing *r, const char *id, int present)
{
	member_get(r, id)->present = present != 0;
}

uint64_t
routing_generation(const struct routing *r)
{
	return r->gen;
}

void
routing_forget(struct routing *r, const char *id)
{
	struct member *m;

	if (strcmp(id, r->self_id) == 0 || (m = hmap_del(r->members, id)) == NULL)
		return;
	/* The cached graph points into the members: build it anew. */
	graph_cache_free(r->cache);
	r->cache = NULL;
	r->gen++;
	member_free(m->id, m, NULL);
}

/* --- questions ------------------------------------------------------------------ */

int
routing_next_hop(struct routing *r, const char *dest, char *hop, size_t hoplen)
{
	struct graph_cache *gc;
	const size_t *parent;
	size_t self, d;

	if (!r->has_live || strcmp(dest, r->self_id) == 0)
		return -1;
	if (r->live.is_up(r->live.arg, dest)) {
		snprintf(hop, hoplen, "%s", dest);
		return 0;
	}
	gc = graph_get(r);
	self = graph_vertex(gc, r->self_id);
	d = graph_vertex(gc, dest);
	if (self == 0 || d == 0)
		return -1;
	parent = graph_tree(gc, self - 1);
	/* Walk back from dest to the node whose parent is us. */
	for (size_t v = d - 1, steps = 0; parent[v] != SIZE_MAX &&
	    steps <= gc->g.n; v = parent[v], steps++) {
		if (parent[v] == self - 1) {
			snprintf(hop, hoplen, "%s", gc->g.ids[v]);
			return 0;
		}
	}
	return -1;
}

void
routing_fanout(struct routing *r, const char *const *roots, size_t n,
    void (*fn)(const char *, const size_t *, size_t, void *), void *arg)
{
	struct graph_cache *gc;
	const size_t **trees;
	size_t self, *which, **unrooted;

	if (n == 0 || !r->has_live)
		return;
	gc = graph_get(r);
	if ((self = graph_vertex(gc, r->self_id)) == 0)
		return;
	self--;
	trees = xcalloc(n, sizeof(*trees));
	unrooted = xcalloc(n, sizeof(*unrooted));
	which = xcalloc(n, sizeof(*which));
	for (size_t i = 0; i < n; i++) {
		size_t ri = graph_vertex(gc, roots[i]);
		if (ri != 0 && graph_linked(&gc->g, ri - 1))
			trees[i] = graph_tree(gc, ri - 1);
		else
			trees[i] = unrooted[i] = graph_tree_unrooted(r, gc,
			    roots[i]);
	}
	/* Our children in a tree are neighbours: only they can be handed to. */
	for (size_t v = 0; v < gc->g.n; v++) {
		size_t k = 0;

		if (!gc->g.adj[self * gc->g.n + v])
			continue;
		for (size_t i = 0; i < n; i++)
			if (trees[i] != NULL && trees[i][v] == self)
				which[k++] = i;
		if (k > 0)
			fn(gc->g.ids[v], which, k, arg);
	}
	for (size_t i = 0; i < n; i++)
		free(unrooted[i]);
	free(unrooted);
	free(which);
	free(trees);
}

static int
labels_match(const struct member *m, const json_t *match)
{
	const char *key;
	json_t *want;

	if (match == NULL)
		return 1;
	if (!m->has_labels)
		return 0;
	json_object_foreach((json_t *)match, key, want) {
		int found = 0;
		for (size_t i = 0; i < m->nlabels && !found; i++)
			found = strcmp(m->keys[i], key) == 0 &&
			    json_is_string(want) && strcmp(m->values[i],
			    json_string_value(want)) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

struct select_ctx {
	const json_t	 *match;
	int		  unlabelled;	/* instead: those without labels */
	const char	**ids;
	size_t		  n;
};

static int
select_one(const char *id, void *value, void *arg)
{
	struct select_ctx *sc = arg;
	const struct member *m = value;

	if (m->present && (sc->unlabelled ? !m->has_labels :
	    labels_match(m, sc->match)))
		sc->ids[sc->n++] = id;
	return 0;
}

static json_t *
select_ids(const struct routing *r, const json_t *match, int unlabelled)
{
	struct select_ctx sc = { match, unlabelled, NULL, 0 };
	json_t *out = json_array();

	sc.ids = xcalloc(hmap_count(r->members) + 1, sizeof(*sc.ids));
	hmap_sweep(r->members, select_one, &sc);
	/* Sorted, so fan-out order and output are stable. */
	qsort(sc.ids, sc.n, sizeof(*sc.ids), cmp_ids);
	for (size_t i = 0; i < sc.n; i++)
		json_array_append_new(out, json_string(sc.ids[i]));
	free(sc.ids);
	return out;
}

json_t *
routing_select(const struct routing *r, const json_t *match)
{
	return select_ids(r, match, 0);
}

json_t *
routing_unlabelled(const struct routing *r)
{
	return select_ids(r, NULL, 1);
}
