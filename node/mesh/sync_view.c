/*
 * Per-origin latest messages (sync_view.h): origin → an array of heap
 * copies, kind->max long.
 */
#include "sync_view.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hmap.h"
#include "sync.h"
#include "sync_priv.h"
#include "xalloc.h"

struct sync_view {
	const struct sync_view_kind	*k;
	struct hmap			*origins;	/* origin → struct held */
};

struct held {
	ProtobufCMessage	**v;
	size_t			  n;
};

struct sync_view *
sync_view_new(const struct sync_view_kind *k)
{
	struct sync_view *sv = xcalloc(1, sizeof(*sv));

	sv->k = k;
	sv->origins = hmap_new();
	return sv;
}

static void
held_free(struct held *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		protobuf_c_message_free_unpacked(h->v[i], NULL);
	free(h->v);
	free(h);
}

/* The slot to drop for a new thing in a full list: the oldest final one,
 * else (every one open) the oldest. */
static size_t
victim(const struct sync_view_kind *k, const struct held *h)
{
	size_t best = 0;
	int best_final = 0;

	for (size_t i = 0; i < h->n; i++) {
		int final = k->final(h->v[i]);
		if ((final && !best_final) || (final == best_final &&
		    k->updated(h->v[i]) < k->updated(h->v[best]))) {
			best = i;
			best_final = final;
		}
	}
	return best;
}

void
sync_view_put(struct sync_view *sv, const char *origin,
    const ProtobufCMessage *m)
{
	const struct sync_view_kind *k = sv->k;
	struct held *h = hmap_get(sv->origins, origin);
	ProtobufCMessage *c;
	size_t i;

	if (h == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->v = xcalloc(k->max, sizeof(*h->v));
		hmap_put(sv->origins, origin, h);
	}
	for (i = 0; i < h->n; i++)
		if (strcmp(k->id(h->v[i]), k->id(m)) == 0)
			break;
	if (i < h->n && k->updated(m) < k->updated(h->v[i]))
		return;		/* older than what we hold */
	if ((c = sync_message_copy(m)) == NULL)
		return;
	if (i == h->n && h->n == k->max)
		i = victim(k, h);
	if (i < h->n)
		protobuf_c_message_free_unpacked(h->v[i], NULL);
	else
		h->n++;
	h->v[i] = c;
	CHECK(h->n <= k->max);
}

size_t
sync_view_held(const struct sync_view *sv, const char *origin)
{
	const struct held *h = sv != NULL ? hmap_get(sv->origins, origin) :
	    NULL;

	return h != NULL ? h->n : 0;
}

void
sync_view_forget(struct sync_view *sv, const char *origin)
{
	if (sv != NULL)
		held_free(hmap_del(sv->origins, origin));
}

/* qsort_r order: open first, then the most recently updated. */
static int
open_first(const void *a, const void *b, void *arg)
{
	const struct sync_view_kind *k = arg;
	const ProtobufCMessage *x = *(const ProtobufCMessage *const *)a;
	const ProtobufCMessage *y = *(const ProtobufCMessage *const *)b;
	int fx = k->final(x), fy = k->final(y);
	uint64_t ux = k->updated(x), uy = k->updated(y);

	if (fx != fy)
		return fx - fy;
	return ux < uy ? 1 : ux > uy ? -1 : 0;
}

void
sync_view_fill(const struct sync_view *sv, const char *origin,
    ProtobufCMessage ***v, size_t *n)
{
	const struct held *h = sv != NULL ? hmap_get(sv->origins, origin) :
	    NULL;

	*v = NULL;
	*n = 0;
	if (h == NULL || h->n == 0)
		return;
	*v = xcalloc(h->n, sizeof(**v));
	memcpy(*v, h->v, h->n * sizeof(**v));
	qsort_r(*v, h->n, sizeof(**v), open_first, (void *)sv->k);
	*n = h->n < sv->k->snapshot ? h->n : sv->k->snapshot;
}

struct each {
	const char	*skip;
	void		(*fn)(const char *, const ProtobufCMessage *, void *);
	void		*arg;
};

static int
each_cb(const char *origin, void *value, void *arg)
{
	struct each *e = arg;
	struct held *h = value;

	if (e->skip != NULL && strcmp(origin, e->skip) == 0)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		e->fn(origin, h->v[i], e->arg);
	return 0;
}

void
sync_view_each(const struct sync_view *sv, const char *skip,
    void (*fn)(const char *, const ProtobufCMessage *, void *), void *arg)
{
	struct each e = { skip, fn, arg };

	if (sv != NULL)
		hmap_sweep(sv->origins, each_cb, &e);
}

static int
free_one(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	held_free(value);
	return 1;
}

void
sync_view_free(struct sync_view *sv)
{
	if (sv == NULL)
		return;
	hmap_sweep(sv->origins, free_one, NULL);
	hmap_free(sv->origins);
	free(sv);
}
