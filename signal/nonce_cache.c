/*
 * Nonce cache (see nonce_cache.h): a hash map for lookups plus a FIFO in
 * insertion order.  Every entry gets the same lifetime (2 x skew after
 * arrival), so insertion order is expiry order and expiring is O(expired).
 */
#include "nonce_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "hmap.h"
#include "xalloc.h"

struct nonce {
	TAILQ_ENTRY(nonce)	 fifo;
	uint64_t		 expires_ms;
	char			 key[];
};

struct nonce_cache {
	struct hmap		*map;
	TAILQ_HEAD(, nonce)	 fifo;
	size_t			 max;
};

struct nonce_cache *
nonce_cache_new(size_t max_entries)
{
	struct nonce_cache *c = xcalloc(1, sizeof(*c));

	c->map = hmap_new();
	TAILQ_INIT(&c->fifo);
	c->max = max_entries;
	return c;
}

static void
drop_oldest(struct nonce_cache *c)
{
	struct nonce *n = TAILQ_FIRST(&c->fifo);

	TAILQ_REMOVE(&c->fifo, n, fifo);
	hmap_del(c->map, n->key);
	free(n);
}

void
nonce_cache_free(struct nonce_cache *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->fifo))
		drop_oldest(c);
	hmap_free(c->map);
	free(c);
}

int
nonce_cache_check_and_add(struct nonce_cache *c, const char *id,
    const char *nonce, uint64_t expires_ms)
{
	size_t idlen = strlen(id), nlen = strlen(nonce);
	struct nonce *n = xmalloc(sizeof(*n) + idlen + 1 + nlen + 1);

	/* '\n' never occurs in a node id or a nonce, so the key is unambiguous. */
	snprintf(n->key, idlen + nlen + 2, "%s\n%s", id, nonce);
	if (hmap_get(c->map, n->key) != NULL) {
		free(n);
		return 1;
	}
	while (hmap_count(c->map) >= c->max && !TAILQ_EMPTY(&c->fifo))
		drop_oldest(c);
	n->expires_ms = expires_ms;
	hmap_put(c->map, n->key, n);
	TAILQ_INSERT_TAIL(&c->fifo, n, fifo);
	return 0;
}

void
nonce_cache_expire(struct nonce_cache *c, uint64_t now_ms)
{
	struct nonce *n;

	while ((n = TAILQ_FIRST(&c->fifo)) != NULL && n->expires_ms < now_ms)
		drop_oldest(c);
}

size_t
nonce_cache_count(const struct nonce_cache *c)
{
	return hmap_count(c->map);
}
