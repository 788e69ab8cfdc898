/*
 * Alert notices in the node's database (see store_notify.h).
 */
#include "store_notify.h"

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_notify_put(struct store *st, const struct store_notify_row *r,
    size_t keep)
{
	const struct arg a[] = { I(r->id), T(r->kind), T(r->channel),
	    T(r->what), I(r->attempts), I(r->next_ms), T(r->body) };
	const struct arg k[] = { I(keep) };
	int ok;

	if (store_atomic_begin(st) != 0)
		return -1;
	ok = store_exec(st, "INSERT OR REPLACE INTO notify_waiting (id, kind, "
	    "channel, what, attempts, next_ms, body) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7)", a, N(a), "storing a waiting notice") == 0 &&
	    store_exec(st, "DELETE FROM notify_waiting WHERE id <= (SELECT id "
	    "FROM notify_waiting ORDER BY id DESC LIMIT 1 OFFSET ?1)", k, N(k),
	    "trimming the waiting notices") == 0;
	return store_atomic_end(st, ok);
}

int
store_notify_del(struct store *st, int64_t id)
{
	const struct arg a[] = { I(id) };

	return store_exec(st, "DELETE FROM notify_waiting WHERE id = ?1", a,
	    N(a), "deleting a waiting notice");
}

int
store_notify_load(struct store *st, int (*cb)(void *, const char *),
    void *arg)
{
	return store_query(st, "SELECT json_object('id', id, 'kind', kind, "
	    "'channel', channel, 'what', what, 'attempts', attempts, 'next_ms', "
	    "next_ms, 'body', json(body)) FROM notify_waiting ORDER BY id",
	    NULL, 0, cb, arg, "reading the waiting notices");
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
