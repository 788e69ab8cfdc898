/*
 * Running tasks' process groups in the node's database (see
 * store_runs.h).  Each statement is a literal cached by store_prepare;
 * every value is bound.  start_ticks is stored as its two's-complement
 * int64, as store.c does with uint64 values.
 */
#include "store_runs.h"

#include <sqlite3.h>

#include "store.h"
#include "store_priv.h"

int
store_runs_put(struct store *st, const struct store_run *r)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT OR REPLACE INTO task_groups"
	    " (task_id, pgid, start_ticks, boot_id, started_ms) VALUES"
	    " (?1, ?2, ?3, ?4, ?5)");

	/* A task's earlier attempt: its group is over. */
	if (s == NULL || store_runs_del(st, r->task_id) != 0)
		return -1;
	return store_step_bound(st, s,
	    (sqlite3_bind_text(s, 1, r->task_id, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (sqlite3_bind_int64(s, 2, r->pgid) != SQLITE_OK) ||
	    (sqlite3_bind_int64(s, 3, (int64_t)r->start_ticks) != SQLITE_OK) ||
	    (sqlite3_bind_text(s, 4, r->boot_id, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (sqlite3_bind_int64(s, 5, r->started_ms) != SQLITE_OK),
	    "recording a task's process group");
}

int
store_runs_del(struct store *st, const char *task_id)
{
	sqlite3_stmt *s = store_prepare(st,
	    "DELETE FROM task_groups WHERE task_id = ?1");

	if (s == NULL)
		return -1;
	return store_step_bound(st, s, sqlite3_bind_text(s, 1, task_id, -1,
	    SQLITE_STATIC) != SQLITE_OK, "forgetting a task's process group");
}

int
store_runs_list(struct store *st, store_run_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT task_id, pgid, start_ticks,"
	    " boot_id, started_ms FROM task_groups ORDER BY started_ms, pgid");
	struct store_run r;
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.task_id = (const char *)sqlite3_column_text(s, 0);
		r.pgid = sqlite3_column_int64(s, 1);
		r.start_ticks = (uint64_t)sqlite3_column_int64(s, 2);
		r.boot_id = (const char *)sqlite3_column_text(s, 3);
		r.started_ms = sqlite3_column_int64(s, 4);
		if (r.task_id == NULL || r.boot_id == NULL)
			continue;
		if ((stop = cb(arg, &r)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail(st, "listing tasks' process groups");
		stop = -1;
	}
	store_reset(s);
	return stop;
}

int
store_runs_clear(struct store *st)
{
	sqlite3_stmt *s = store_prepare(st, "DELETE FROM task_groups");

	if (s == NULL)
		return -1;
	return store_step_bound(st, s, 0, "forgetting tasks' process groups");
}
