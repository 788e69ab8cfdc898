/*
 * Forgetting a node (see forget.h): the links first, since a link up
 * refuses the whole forget, then the sync, then the store, which keeps
 * both parts' tombstones in one row for the next start.
 */
#include "forget.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "links.h"
#include "log.h"
#include "node_id.h"
#include "routing.h"
#include "store.h"
#include "sync.h"
#include "xalloc.h"

/* The oldest tombstone, found by one walk. */
struct oldest {
	char		 id[NODE_ID_MAX + 1];
	uint64_t	 at;
};

static int
find_oldest(const char *id, void *value, void *arg)
{
	struct oldest *o = arg;
	uint64_t at = *(const uint64_t *)value;

	if (o->id[0] == '\0' || at < o->at) {
		snprintf(o->id, sizeof(o->id), "%s", id);
		o->at = at;
	}
	return 0;
}

static void
tombstones_trim(struct hmap *m, const char *what)
{
	struct oldest o;

	while (hmap_count(m) >= FORGET_TOMBSTONES_MAX) {
		o.id[0] = '\0';
		o.at = 0;
		hmap_sweep(m, find_oldest, &o);
		log_event(LOG_INFO, "tombstone dropped: too many forgotten",
		    "{s:s, s:s, s:i}", "of", what, "node", o.id, "max",
		    FORGET_TOMBSTONES_MAX);
		free(hmap_del(m, o.id));
	}
}

void *
forget_tombstone_put(struct hmap **m, const char *id, size_t size,
    const char *what)
{
	void *t;

	if (*m == NULL)
		*m = hmap_new();
	if ((t = hmap_get(*m, id)) == NULL) {
		tombstones_trim(*m, what);
		t = xcalloc(1, size);
		hmap_put(*m, id, t);
	}
	return t;
}

int
forget_may(struct links *l, struct sync *s, const char *id, uint64_t dead_ms)
{
	const char *member = links_member(l, id);
	char hop[NODE_ID_MAX + 1];

	if (links_is_up(l, id))
		return 0;
	if ((member != NULL && strcmp(member, "left") == 0) || sync_left(s, id))
		return 1;
	return links_silent(l, id, dead_ms) && sync_silent(s, id, dead_ms) &&
	    routing_next_hop(sync_routing(s), id, hop, sizeof(hop)) != 0;
}

enum forget_result
forget_node(struct links *l, struct sync *s, const char *self_id,
    const char *id)
{
	struct store_forgotten t = { 0 };
	struct store *st = sync_store(s);
	int lr, sr;

	if (strcmp(id, self_id) == 0)
		return FORGET_SELF;
	if ((lr = links_forget(l, id, &t.signal_ms)) < 0)
		return FORGET_LINKED;
	sr = sync_forget(s, id, &t.incarnation);
	t.forgot_ms = (int64_t)clock_wall_ms();
	log_event(LOG_INFO, "node forgotten", "{s:s, s:b}", "node", id,
	    "known", lr > 0 || sr > 0);
	/* Remembered only when something of it was known, like the
	 * tombstones in memory, so made-up ids cannot grow the table. */
	if (store_forget_node(st, id, lr > 0 || sr > 0 ? &t : NULL,
	    FORGET_TOMBSTONES_MAX) != 0) {
		log_event(LOG_WARN, "cannot store a forgotten node",
		    "{s:s, s:s}", "node", id, "error", store_error(st));
		return FORGET_NOT_STORED;
	}
	return lr > 0 || sr > 0 ? FORGET_DONE : FORGET_UNKNOWN;
}

struct load_ctx {
	struct links	*l;
	struct sync	*s;
	size_t		 n;
};

static int
load_one(void *arg, const char *id, const struct store_forgotten *f)
{
	struct load_ctx *c = arg;

	links_forgotten_restore(c->l, id, (uint64_t)f->forgot_ms, f->signal_ms);
	sync_forgotten_restore(c->s, id, (uint64_t)f->forgot_ms, f->incarnation);
	c->n++;
	return 0;
}

int
forget_load(struct links *l, struct sync *s, struct store *st)
{
	struct load_ctx c = { l, s, 0 };

	if (store_forgotten_load(st, load_one, &c) != 0)
		return -1;
	if (c.n > 0)
		log_event(LOG_INFO, "forgotten nodes remembered", "{s:i}",
		    "count", (int)c.n);
	return 0;
}

static void
add_id(const char *id, void *arg)
{
	json_object_set_new(arg, id, json_true());
}

size_t
forget_prune(struct links *l, struct sync *s, const char *self_id,
    uint64_t silent_ms, void (*pruned)(const char *, void *), void *arg)
{
	json_t *ids = json_object(), *v;
	const char *id;
	size_t n = 0;

	/* Collected first: forgetting changes the tables walked. */
	links_foreach_peer(l, add_id, ids);
	sync_foreach_origin(s, add_id, ids);
	json_object_foreach(ids, id, v) {
		if (!links_silent(l, id, silent_ms) || !sync_silent(s, id, silent_ms))
			continue;
		if (forget_node(l, s, self_id, id) != FORGET_DONE)
			continue;
		n++;
		if (pruned != NULL)
			pruned(id, arg);
	}
	json_decref(ids);
	return n;
}
