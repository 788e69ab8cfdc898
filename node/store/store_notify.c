/*
 * Alert notices in the node's database (see store_notify.h).
 */
#include "store_notify.h"

#include <stdlib.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_notify_put(struct store *st, const struct store_notify_row *r,
    size_t keep)
{
	const struct arg a[] = { I(r->id), T(r->kind), T(r->channel),
	    T(r->what), I(r->attempts), I(r->next_ms), T(r->body), I(keep) };

	if (store_exec(st, "INSERT OR REPLACE INTO notify_waiting (id, kind, "
	    "channel, what, attempts, next_ms, body) SELECT ?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM notify_waiting WHERE id = "
	    "?1) OR (SELECT count(*) FROM notify_waiting) < ?8", a, N(a),
	    "storing a waiting notice") != 0)
		return -1;
	if (sqlite3_changes(store_db(st)) == 0) {
		store_fail(st, "storing a waiting notice: the table is full");
		return -1;
	}
	return 0;
}

int
store_notify_del(struct store *st, int64_t id)
{
	const struct arg a[] = { I(id) };

	return store_exec(st, "DELETE FROM notify_waiting WHERE id = ?1", a,
	    N(a), "deleting a waiting notice");
}

int
store_notify_del_after(struct store *st, int64_t id)
{
	const struct arg a[] = { I(id) };

	return store_exec(st, "DELETE FROM notify_waiting WHERE id > ?1", a,
	    N(a), "deleting the waiting notices past the bound");
}

int
store_notify_load(struct store *st, size_t limit,
    int (*cb)(void *, const char *), void *arg)
{
	const struct arg a[] = { I(limit) };

	return store_query(st, "SELECT json_object('id', id, 'kind', kind, "
	    "'channel', channel, 'what', what, 'attempts', attempts, 'next_ms', "
	    "next_ms, 'body', CASE WHEN json_valid(body) THEN json(body) END) "
	    "FROM notify_waiting ORDER BY id LIMIT ?1", a, N(a), cb, arg,
	    "reading the waiting notices");
}

static int
last_cb(void *arg, const char *text)
{
	*(int64_t *)arg = text != NULL ? strtoll(text, NULL, 10) : 0;
	return 0;
}

int64_t
store_notify_last_id(struct store *st, int64_t max)
{
	const struct arg a[] = { I(max) };
	int64_t id = 0;

	if (store_query(st, "SELECT CAST(coalesce(max(id), 0) AS TEXT) FROM "
	    "notify_waiting WHERE id <= ?1", a, N(a), last_cb, &id,
	    "reading the last waiting notice's id") != 0)
		return -1;
	return id;
}

int
store_notify_outcome(struct store *st, const char *alert_id,
    const char *body, size_t per_alert, size_t total)
{
	const struct arg a[] = { T(alert_id), T(body) };
	const struct arg p[] = { T(alert_id), I(per_alert) };
	const struct arg t[] = { I(total) };
	int ok;

	if (store_atomic_begin(st) != 0)
		return -1;
	ok = store_exec(st, "INSERT INTO notify_outcomes (alert_id, body) "
	    "VALUES (?1, ?2)", a, N(a), "storing a notice's outcome") == 0 &&
	    store_exec(st, "DELETE FROM notify_outcomes WHERE alert_id = ?1 AND "
	    "seq <= (SELECT seq FROM notify_outcomes WHERE alert_id = ?1 ORDER "
	    "BY seq DESC LIMIT 1 OFFSET ?2)", p, N(p),
	    "trimming an alert's notice outcomes") == 0 &&
	    store_exec(st, "DELETE FROM notify_outcomes WHERE seq <= (SELECT seq "
	    "FROM notify_outcomes ORDER BY seq DESC LIMIT 1 OFFSET ?1)", t,
	    N(t), "trimming the notice outcomes") == 0;
	return store_atomic_end(st, ok);
}

int
store_notify_outcomes_load(struct store *st, size_t limit,
    int (*cb)(void *, const char *), void *arg)
{
	const struct arg a[] = { I(limit) };

	return store_query(st, "SELECT body FROM (SELECT seq, body FROM "
	    "notify_outcomes ORDER BY seq DESC LIMIT ?1) ORDER BY seq", a, N(a),
	    cb, arg, "reading the notice outcomes");
}
