/*
 * Chained hash map (see hmap.h).  FNV-1a over the key; the bucket array
 * doubles when the load factor passes 1 so lookups stay O(1) at 10,000s of
 * entries.  Keys are stored inline after each entry.
 */
#include "hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct hmap_entry {
	struct hmap_entry	*next;
	uint32_t		 hash;
	void			*value;
	char			 key[];
};

struct hmap {
	struct hmap_entry	**buckets;
	size_t			  nbuckets;	/* power of two */
	size_t			  count;
};

static uint32_t
hash_key(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

struct hmap *
hmap_new(void)
{
	struct hmap *m = xcalloc(1, sizeof(*m));

	m->nbuckets = 16;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	return m;
}

void
hmap_free(struct hmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hmap_entry *e = m->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	free(m);
}

void
hmap_free_with(struct hmap *m, void (*free_value)(void *))
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct hmap_entry *e = m->buckets[i]; e != NULL; e = e->next)
			free_value(e->value);
	hmap_free(m);
}

size_t
hmap_count(const struct hmap *m)
{
	return m->count;
}

static struct hmap_entry **
find(const struct hmap *m, const char *key, uint32_t h)
{
	struct hmap_entry **pp = &m->buckets[h & (m->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_entry **pp = find(m, key, hash_key(key));

	return *pp != NULL ? (*pp)->value : NULL;
}

static void
grow(struct hmap *m)
{
	size_t n = m->nbuckets * 2;
	struct hmap_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hmap_entry *e = m->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

void *
hmap_put(struct hmap *m, const char *key, void *value)
{
	uint32_t h = hash_key(key);
	struct hmap_entry **pp = find(m, key, h), *e;
	size_t klen;
	void *old;

	if (*pp != NULL) {
		old = (*pp)->value;
		(*pp)->value = value;
		return old;
	}
	klen = strlen(key);
	e = xmalloc(sizeof(*e) + klen + 1);
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->value = value;
	e->next = NULL;
	*pp = e;
	if (++m->count > m->nbuckets)
		grow(m);
	return NULL;
}

void *
hmap_del(struct hmap *m, const char *key)
{
	struct hmap_entry **pp = find(m, key, hash_key(key)), *e;
	void *v;

	if ((e = *pp) == NULL)
		return NULL;
	*pp = e->next;
	v = e->value;
	free(e);
	m->count--;
	return v;
}

void
hmap_sweep(struct hmap *m, int (*fn)(const char *, void *, void *), void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct hmap_entry **pp = &m->buckets[i];
		while (*pp != NULL) {
			struct hmap_entry *e = *pp;
			if (fn(e->key, e->value, arg)) {
				*pp = e->next;
				free(e);
				m->count--;
			} else
				pp = &e->next;
		}
	}
}
