/*
 * The node's metric history in its database (see store_history.h).
 */
#include "store_history.h"

#include <stddef.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_history_put(struct store *st, int64_t t_ms, const char *body,
    int64_t keep_from_ms)
{
	const struct arg a[] = { I(t_ms), T(body) };
	const struct arg k[] = { I(keep_from_ms) };
	int ok;

	/* One commit for both (a savepoint inside a batch). */
	if (store_atomic_begin(st) != 0)
		return -1;
	ok = store_exec(st, "INSERT OR REPLACE INTO metric_minutes (t_ms, body)"
	    " VALUES (?1, ?2)", a, N(a), "storing a minute of history") == 0 &&
	    store_exec(st, "DELETE FROM metric_minutes WHERE t_ms < ?1", k, N(k),
	    "trimming the history") == 0;
	return store_atomic_end(st, ok);
}

int
store_history_load(struct store *st, int64_t since_ms,
    int (*cb)(void *arg, const char *body), void *arg)
{
	const struct arg a[] = { I(since_ms) };

	return store_query(st, "SELECT body FROM metric_minutes WHERE t_ms >= ?1"
	    " ORDER BY t_ms", a, N(a), cb, arg, "reading the history");
}
