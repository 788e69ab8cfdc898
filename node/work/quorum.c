/*
 * Who this node sees (quorum.h).
 */
#include "quorum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "node.h"
#include "text.h"
#include "xalloc.h"

static int
by_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a),
	    json_string_value(*(json_t *const *)b));
}

void
quorum_build(struct node *n, struct quorum *q)
{
	json_t *st, *r, **v;
	const char *id, *member;
	json_int_t heard, seen;
	size_t i, len;

	if (q->alive != NULL)
		return;
	st = api_cluster_status(n, 0);
	q->state = json_object();
	q->heard = json_object();
	json_object_set_new(q->state, n->id, json_string("alive"));
	json_array_foreach(json_object_get(st, "remote"), i, r) {
		id = json_string_value(json_object_get(r, "node_id"));
		member = json_string_value(json_object_get(r, "member"));
		if (id == NULL || member == NULL || strcmp(id, n->id) == 0)
			continue;
		json_object_set_new(q->state, id, json_string(member));
		/* Its last event, or when a route last led to it: at rest a
		 * node's last event may be an idle status period old
		 * (status_pace.h), and a takeover counts from its silence.
		 * Routes are noted at each status sample, so a node a route
		 * led to may have lived until the next one: a silence
		 * counted from the noted sample was up to a sample short
		 * (system.workflow_takeover saw a takeover 4.6 s after the
		 * kill with a 5 s silence). */
		heard = json_integer_value(json_object_get(r, "updated_ms"));
		seen = json_integer_value(json_object_get(r, "seen_ms"));
		if (seen > 0)
			seen += n->cfg->status_ms;
		if (heard > 0 || seen > 0)
			json_object_set_new(q->heard, id, json_integer(seen > heard ?
			    seen : heard));
	}
	json_decref(st);
	q->alive = json_array();
	json_object_foreach(q->state, id, r) {
		if (strcmp(json_string_value(r), "left") != 0)
			q->known++;
		if (strcmp(json_string_value(r), "alive") == 0)
			json_array_append_new(q->alive, json_string(id));
	}
	len = json_array_size(q->alive);
	v = xcalloc(len + 1, sizeof(*v));
	for (i = 0; i < len; i++)
		v[i] = json_incref(json_array_get(q->alive, i));
	qsort(v, len, sizeof(*v), by_string);
	json_array_clear(q->alive);
	for (i = 0; i < len; i++)
		json_array_append_new(q->alive, v[i]);
	free(v);
}

void
quorum_clear(struct quorum *q)
{
	json_decref(q->alive);
	json_decref(q->state);
	json_decref(q->heard);
	memset(q, 0, sizeof(*q));
}

int
quorum_alive(const struct quorum *q, const char *id)
{
	const char *s = json_string_value(json_object_get(q->state, id));

	return s != NULL && strcmp(s, "alive") == 0;
}

int
quorum_majority(const struct quorum *q)
{
	return 2 * json_array_size(q->alive) > q->known;
}

uint64_t
quorum_heard_ms(const struct quorum *q, const char *id)
{
	json_int_t t = json_integer_value(json_object_get(q->heard, id));

	return t > 0 ? (uint64_t)t : 0;
}

/* FNV-1a over "KEY/ID", then a 64-bit finaliser (splitmix64's). */
static uint64_t
score(const char *key, const char *id)
{
	char buf[256];
	int len = snprintf(buf, sizeof(buf), "%s/%s", key, id);
	/* A digit short of FNV's basis, as the first schedules had it: kept,
	 * since every node, of every version, must score alike. */
	uint64_t h = text_fnv1a(buf, len < (int)sizeof(buf) ? (size_t)len :
	    sizeof(buf), 1469598103934665603ULL);

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The candidate with the highest score for key (the first id in order
 * on a tie). */
static const char *
best_of(const char *best, uint64_t *best_score, const char *key,
    const char *id)
{
	uint64_t s = score(key, id);

	if (best == NULL || s > *best_score || (s == *best_score &&
	    strcmp(id, best) < 0)) {
		*best_score = s;
		return id;
	}
	return best;
}

const char *
quorum_owner(const struct quorum *q, const char *key)
{
	const char *best = NULL;
	uint64_t best_score = 0;
	size_t i;
	json_t *v;

	json_array_foreach(q->alive, i, v)
		best = best_of(best, &best_score, key, json_string_value(v));
	return best;
}

void
quorum_seen_note(json_t *seen, const struct quorum *q, int64_t now,
    int64_t hold_ms)
{
	const char *id;
	json_t *v;
	void *tmp;
	size_t i;

	json_array_foreach(q->alive, i, v)
		json_object_set_new(seen, json_string_value(v), json_integer(now));
	/* Bounded by the members seen within hold_ms. */
	json_object_foreach_safe(seen, tmp, id, v)
		if (now - json_integer_value(v) > hold_ms)
			json_object_del(seen, id);
}

const char *
quorum_owner_held(const struct quorum *q, const json_t *seen, const char *key,
    int64_t now, int64_t hold_ms)
{
	const char *best = NULL, *id;
	uint64_t best_score = 0;
	json_t *st, *t;

	json_object_foreach((json_t *)q->state, id, st) {
		t = json_object_get(seen, id);
		if (strcmp(json_string_value(st), "left") == 0 ||
		    (!quorum_alive(q, id) && (t == NULL ||
		    now - json_integer_value(t) > hold_ms)))
			continue;
		best = best_of(best, &best_score, key, id);
	}
	return best;
}
