/*
 * Job result callbacks in the node's database (see store_callbacks.h).
 */
#include "store_callbacks.h"

#include <sqlite3.h>

#include "store.h"
#include "store_priv.h"

int
store_callback_put(struct store *st, const struct store_callback *c)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO callbacks (job_id, url,"
	    " secret, body, deadline_ms, next_ms, attempts, state, history)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, c->job_id, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(s, 2, c->url, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(s, 3, c->secret, -1, SQLITE_STATIC) |
	    sqlite3_bind_blob(s, 4, c->body, (int)c->body_len, SQLITE_STATIC) |
	    sqlite3_bind_int64(s, 5, c->deadline_ms) |
	    sqlite3_bind_int64(s, 6, c->next_ms) |
	    sqlite3_bind_int(s, 7, c->attempts) |
	    sqlite3_bind_text(s, 8, c->state, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(s, 9, c->history, -1, SQLITE_STATIC))
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "storing a callback");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_callback_fire(struct store *st, const char *job_id, const char *body,
    size_t len, int64_t deadline_ms, int64_t next_ms, int *found)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE callbacks SET body = ?2,"
	    " deadline_ms = ?3, next_ms = ?4, state = 'pending'"
	    " WHERE job_id = ?1 AND state = 'waiting'");
	int rc;

	*found = 0;
	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, job_id, -1, SQLITE_STATIC) |
	    sqlite3_bind_blob(s, 2, body, (int)len, SQLITE_STATIC) |
	    sqlite3_bind_int64(s, 3, deadline_ms) |
	    sqlite3_bind_int64(s, 4, next_ms))
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "firing a callback");
	else
		*found = sqlite3_changes(store_db(st)) > 0;
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_callback_update(struct store *st, const struct store_callback *c)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE callbacks SET state = ?2,"
	    " attempts = ?3, next_ms = ?4, history = ?5 WHERE job_id = ?1");
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, c->job_id, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(s, 2, c->state, -1, SQLITE_STATIC) |
	    sqlite3_bind_int(s, 3, c->attempts) |
	    sqlite3_bind_int64(s, 4, c->next_ms) |
	    sqlite3_bind_text(s, 5, c->history, -1, SQLITE_STATIC))
		rc = SQLITE_ERROR;
	else
		rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "updating a callback");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_callbacks_each(struct store *st, const char *state, const char *job_id,
    store_callback_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT job_id, url, secret, body,"
	    " deadline_ms, next_ms, attempts, state, history FROM callbacks"
	    " WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR job_id = ?2)"
	    " ORDER BY next_ms");
	struct store_callback c;
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC) |
	    sqlite3_bind_text(s, 2, job_id, -1, SQLITE_STATIC)) {
		store_fail(st, "listing callbacks");
		store_reset(s);
		return -1;
	}
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		c.job_id = (const char *)sqlite3_column_text(s, 0);
		c.url = (const char *)sqlite3_column_text(s, 1);
		c.secret = (const char *)sqlite3_column_text(s, 2);
		c.body = sqlite3_column_blob(s, 3);
		c.body_len = (size_t)sqlite3_column_bytes(s, 3);
		c.deadline_ms = sqlite3_column_int64(s, 4);
		c.next_ms = sqlite3_column_int64(s, 5);
		c.attempts = sqlite3_column_int(s, 6);
		c.state = (const char *)sqlite3_column_text(s, 7);
		c.history = (const char *)sqlite3_column_text(s, 8);
		stop = cb(arg, &c);
	}
	if (!stop && rc != SQLITE_DONE)
		store_fail(st, "listing callbacks");
	store_reset(s);
	return !stop && rc != SQLITE_DONE ? -1 : 0;
}
