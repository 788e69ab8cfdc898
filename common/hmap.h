/*
 * A string-keyed hash map with chaining, for tables keyed by node id, token
 * or address.  Keys are copied; values are borrowed (the map never frees
 * them).  Not thread-safe: owned by the loop thread like all state.
 */
#ifndef AGENTFLOW_HMAP_H
#define AGENTFLOW_HMAP_H

#include <stddef.h>

struct hmap;

struct hmap *hmap_new(void);
/* Frees the map and its keys, never the values. NULL is a no-op. */
void hmap_free(struct hmap *);
/* Frees every value with free_value, then the map (NULL: a no-op). */
void hmap_free_with(struct hmap *, void (*free_value)(void *));
size_t hmap_count(const struct hmap *);
/* Value for key, or NULL. */
void *hmap_get(const struct hmap *, const char *key);
/* Inserts or replaces; returns the previous value (or NULL). -1 never:
 * allocation failure aborts, as for every other allocation here. */
void *hmap_put(struct hmap *, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *hmap_del(struct hmap *, const char *key);

/*
 * Iteration: calls fn for each entry; fn returns non-zero to remove the
 * entry (the map does not free the value).  fn must not otherwise modify
 * the map.
 */
void hmap_sweep(struct hmap *, int (*fn)(const char *key, void *value, void *arg),
    void *arg);

#endif
