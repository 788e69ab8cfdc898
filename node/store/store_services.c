/*
 * Services in the node's database (see store_services.h).
 */
#include "store_services.h"

#include <stddef.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_service_put(struct store *st, const struct store_service *sv)
{
	const struct arg a[] = { T(sv->name), T(sv->spec), I(sv->desired != 0),
	    I(sv->updated_ms) };

	return store_exec(st, "INSERT OR REPLACE INTO services (name, spec,"
	    " desired, updated_ms) VALUES (?1, ?2, ?3, ?4)", a, N(a),
	    "storing a service");
}

int
store_service_desired(struct store *st, const char *name, int desired,
    int64_t updated_ms)
{
	const struct arg a[] = { T(name), I(desired != 0), I(updated_ms) };

	return store_exec(st, "UPDATE services SET desired = ?2, updated_ms ="
	    " ?3 WHERE name = ?1", a, N(a), "storing a service's desired state");
}

int
store_service_del(struct store *st, const char *name)
{
	const struct arg a[] = { T(name) };

	return store_exec(st, "DELETE FROM services WHERE name = ?1", a, N(a),
	    "forgetting a service");
}

int
store_services_all(struct store *st,
    int (*cb)(void *, const struct store_service *), void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT name, spec, desired,"
	    " updated_ms FROM services ORDER BY name");
	struct store_service sv;
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sv.name = (const char *)sqlite3_column_text(s, 0);
		sv.spec = (const char *)sqlite3_column_text(s, 1);
		sv.desired = sqlite3_column_int(s, 2);
		sv.updated_ms = sqlite3_column_int64(s, 3);
		if (sv.name == NULL || sv.spec == NULL)
			continue;
		if ((stop = cb(arg, &sv)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail(st, "reading services");
		stop = -1;
	}
	store_reset(s);
	return stop;
}
