/*
 * Forgetting origins (agentflow forget, pruning; see sync.h): an origin's
 * state leaves memory, the store and the routing table, and the life we
 * forgot is remembered so that a peer that has not forgotten it yet
 * cannot bring it back with a snapshot or a late event.  A later life of
 * the node (a higher incarnation) is a new member, never refused.
 *
 * Invariant: s->forgotten maps a node id to a heap struct tombstone (the
 * highest incarnation forgotten, and when); ours is never in it, nor an
 * id we never held, and it holds at most FORGET_TOMBSTONES_MAX (the
 * oldest goes first).
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "forget.h"
#include "hmap.h"
#include "log.h"
#include "routing.h"
#include "sync.h"
#include "sync_priv.h"

/* First the time, as forget_tombstone_put reads it. */
struct tombstone {
	uint64_t	 at;		/* wall ms of the forget */
	uint64_t	 incarnation;
};

int
sync_forgotten(const struct sync *s, const char *id, uint64_t incarnation)
{
	const struct tombstone *t = s->forgotten != NULL ?
	    hmap_get(s->forgotten, id) : NULL;

	return t != NULL && incarnation <= t->incarnation;
}

struct tomb_fill {
	Agentflow__Mesh__V1__Cursor	*cur;
	size_t				 n, max;
};

static int
tomb_cursor(const char *id, void *value, void *arg)
{
	struct tomb_fill *tf = arg;
	const struct tombstone *t = value;

	if (tf->n < tf->max) {
		agentflow__mesh__v1__cursor__init(&tf->cur[tf->n]);
		tf->cur[tf->n].origin = (char *)id;
		tf->cur[tf->n].incarnation = t->incarnation;
		tf->cur[tf->n++].seq = UINT64_MAX;
	}
	return 0;
}

size_t
sync_forgotten_cursors(const struct sync *s, Agentflow__Mesh__V1__Cursor *cur,
    size_t max)
{
	struct tomb_fill tf = { cur, 0, max };

	if (s->forgotten != NULL)
		hmap_sweep(s->forgotten, tomb_cursor, &tf);
	return tf.n;
}

int
sync_left(const struct sync *s, const char *id)
{
	const struct origin *o = hmap_get(s->origins, id);

	return o != NULL && o != s->self && o->left;
}

static struct tombstone *
tombstone_put(struct sync *s, const char *id)
{
	return forget_tombstone_put(&s->forgotten, id, sizeof(struct tombstone),
	    "origin");
}

int
sync_forget(struct sync *s, const char *id, uint64_t *incarnation)
{
	struct origin *o;
	struct tombstone *t;

	*incarnation = 0;
	if (strcmp(id, s->self_id) == 0)
		return -1;
	routing_forget(s->routing, id);
	if ((o = hmap_del(s->origins, id)) == NULL)
		return 0;	/* never held: no tombstone */
	t = tombstone_put(s, id);
	t->at = clock_wall_ms();
	if (o->incarnation > t->incarnation)
		t->incarnation = o->incarnation;
	*incarnation = t->incarnation;
	sync_jobs_forget(s, id);
	sync_workflows_forget(s, id);
	sync_services_forget(s, id);
	sync_artifacts_forget(s, id);
	sync_origin_free(s, o);
	return 1;
}

void
sync_forgotten_restore(struct sync *s, const char *id, uint64_t at,
    uint64_t incarnation)
{
	struct tombstone *t;

	if (incarnation == 0 || strcmp(id, s->self_id) == 0)
		return;		/* no life was held: nothing to refuse */
	t = tombstone_put(s, id);
	t->at = at;
	if (incarnation > t->incarnation)
		t->incarnation = incarnation;
}

struct store *
sync_store(struct sync *s)
{
	return s->store;
}

int
sync_silent(const struct sync *s, const char *id, uint64_t ms)
{
	const struct origin *o = hmap_get(s->origins, id);
	uint64_t now = clock_wall_ms(), heard;

	if (o == NULL)
		return 1;
	/* Its last event, or the last sample a route led to it: at rest a
	 * node's last event may be an idle status period old. */
	heard = o->seen_ms > o->updated_ms ? o->seen_ms : o->updated_ms;
	return o != s->self && now >= heard && now - heard >= ms;
}

struct foreach_ctx {
	const struct sync	*s;
	void			(*fn)(const char *, void *);
	void			*arg;
};

static int
foreach_one(const char *id, void *value, void *arg)
{
	struct foreach_ctx *fc = arg;

	if (value != fc->s->self)
		fc->fn(id, fc->arg);
	return 0;
}

void
sync_foreach_origin(const struct sync *s, void (*fn)(const char *id, void *arg),
    void *arg)
{
	struct foreach_ctx fc = { s, fn, arg };

	hmap_sweep(s->origins, foreach_one, &fc);
}

void
sync_forget_clear(struct sync *s)
{
	hmap_free_with(s->forgotten, free);
	s->forgotten = NULL;
}
