/*
 * Schedules in the node's database (see store_schedules.h).  Every
 * statement is a literal bound with store_exec/store_query.
 */
#include "store_schedules.h"

#include <stddef.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_schedule_put(struct store *st, const char *name, int64_t updated_ms,
    const char *json)
{
	const struct arg a[] = { T(name), I(updated_ms), T(json) };

	return store_exec(st, "INSERT OR REPLACE INTO schedules (name,"
	    " updated_ms, body) VALUES (?1, ?2, ?3)", a, N(a),
	    "storing a schedule");
}

int
store_schedule_del(struct store *st, const char *name)
{
	const struct arg a[] = { T(name) };

	return store_exec(st, "DELETE FROM schedules WHERE name = ?1", a, N(a),
	    "forgetting a schedule");
}

int
store_schedules_all(struct store *st, int (*cb)(void *, const char *),
    void *arg)
{
	return store_query(st, "SELECT body FROM schedules ORDER BY name", NULL,
	    0, cb, arg, "reading schedules") < 0 ? -1 : 0;
}
