/*
 * Tasks, logs, alerts, commands and audit in the node's database (see
 * store_work.h).  Every statement is a literal cached by store_prepare and
 * bound with sqlite3_bind_*; every step is checked.
 */
#include "store_work.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"


static sqlite3_stmt *
prepare_bound(struct store *st, const char *sql, const struct arg *args,
    size_t n)
{
	sqlite3_stmt *s = store_prepare(st, sql);

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int rc = args[i].type == 'i' ?
		    sqlite3_bind_int64(s, (int)i + 1, args[i].num) :
		    args[i].text == NULL ? sqlite3_bind_null(s, (int)i + 1) :
		    sqlite3_bind_text(s, (int)i + 1, args[i].text, -1, SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			store_fail(st, "binding a parameter");
			store_reset(s);
			return NULL;
		}
	}
	return s;
}

/* Runs a statement without rows. */
static int
exec(struct store *st, const char *sql, const struct arg *args, size_t n,
    const char *what)
{
	sqlite3_stmt *s = prepare_bound(st, sql, args, n);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs a query whose first column is JSON text, calling cb per row. */
static int
query(struct store *st, const char *sql, const struct arg *args, size_t n,
    store_json_cb cb, void *arg, const char *what)
{
	sqlite3_stmt *s = prepare_bound(st, sql, args, n);
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(s, 0);
		if (json != NULL && (stop = cb(arg, json)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail(st, what);
		stop = -1;
	}
	store_reset(s);
	return stop;
}

#define N(a)	(sizeof(a) / sizeof((a)[0]))

int
store_task_put(struct store *st, const char *node, const char *task_id,
    const char *name, const char *state, int64_t updated_ms, const char *json)
{
	const struct arg a[] = { T(node), T(task_id), T(name), T(state),
	    I(updated_ms), T(json) };

	return exec(st, "INSERT OR REPLACE INTO tasks (node, task_id, name,"
	    " state, updated_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    a, N(a), "storing a task");
}

int
store_tasks_query(struct store *st, const struct store_task_query *q,
    store_json_cb cb, void *arg)
{
	const struct arg a[] = { T(q->node), T(q->task_id), T(q->state),
	    LIMIT(q->limit) };

	return query(st, "SELECT body FROM tasks WHERE (?1 IS NULL OR node = ?1)"
	    " AND (?2 IS NULL OR task_id = ?2) AND (?3 IS NULL OR state = ?3)"
	    " ORDER BY updated_ms DESC, rowid DESC LIMIT ?4", a, N(a), cb, arg,
	    "reading tasks");
}

int
store_task_log_put(struct store *st, const char *node, const char *task_id,
    uint64_t line_seq, int64_t time_ms, const char *json)
{
	const struct arg a[] = { T(node), T(task_id), I(line_seq), I(time_ms),
	    T(json) };

	return exec(st, "INSERT OR IGNORE INTO task_logs (node, task_id,"
	    " line_seq, time_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)", a, N(a),
	    "storing a task log line");
}

int
store_task_logs(struct store *st, const char *node, const char *task_id,
    uint64_t after, unsigned limit, store_json_cb cb, void *arg)
{
	const struct arg a[] = { T(node), T(task_id), I(after),
	    LIMIT(limit) };

	return query(st, "SELECT body FROM task_logs WHERE node = ?1 AND"
	    " task_id = ?2 AND line_seq > ?3 ORDER BY line_seq LIMIT ?4",
	    a, N(a), cb, arg, "reading task log lines");
}

int
store_alert_put(struct store *st, const char *node, const char *alert_id,
    const char *state, int64_t updated_ms, const char *json)
{
	const struct arg a[] = { T(node), T(alert_id), T(state), I(updated_ms),
	    T(json) };

	return exec(st, "INSERT OR REPLACE INTO alerts (node, alert_id, state,"
	    " updated_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)", a, N(a),
	    "storing an alert");
}

int
store_alerts_query(struct store *st, const char *node, const char *state,
    unsigned limit, store_json_cb cb, void *arg)
{
	const struct arg a[] = { T(node), T(state), LIMIT(limit) };

	return query(st, "SELECT body FROM alerts WHERE (?1 IS NULL OR node = ?1)"
	    " AND (?2 IS NULL OR state = ?2)"
	    " ORDER BY updated_ms DESC, rowid DESC LIMIT ?3", a, N(a), cb, arg,
	    "reading alerts");
}

int
store_command_put(struct store *st, const char *id, const char *key,
    int64_t issued_ms, const char *json)
{
	const struct arg a[] = { T(id), T(key), I(issued_ms), T(json) };

	return exec(st, "INSERT INTO commands (id, idempotency_key, issued_ms,"
	    " body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET"
	    " body = excluded.body", a, N(a), "storing a command");
}

int
store_command_get(struct store *st, const char *id, store_json_cb cb, void *arg)
{
	const struct arg a[] = { T(id) };

	return query(st, "SELECT body FROM commands WHERE id = ?1", a, N(a),
	    cb, arg, "reading a command");
}

int
store_commands_list(struct store *st, unsigned limit, store_json_cb cb,
    void *arg)
{
	const struct arg a[] = { LIMIT(limit) };

	return query(st, "SELECT body FROM commands ORDER BY issued_ms DESC,"
	    " rowid DESC LIMIT ?1", a, N(a), cb, arg, "listing commands");
}

struct copy_id {
	char	*id;
	size_t	 len;
};

static int
copy_id_cb(void *arg, const char *text)
{
	struct copy_id *c = arg;

	snprintf(c->id, c->len, "%s", text);
	return 1;
}

int
store_command_by_key(struct store *st, const char *key, char *id, size_t idlen)
{
	const struct arg a[] = { T(key) };
	struct copy_id c = { id, idlen };

	return query(st, "SELECT id FROM commands WHERE idempotency_key = ?1",
	    a, N(a), copy_id_cb, &c, "looking up an idempotency key");
}

int
store_command_seen(struct store *st, const char *id, const char *origin,
    int64_t now_ms, int *fresh)
{
	const struct arg a[] = { T(id), T(origin), I(now_ms) };

	if (exec(st, "INSERT OR IGNORE INTO commands_seen (id, origin,"
	    " received_ms) VALUES (?1, ?2, ?3)", a, N(a),
	    "recording a received command") != 0)
		return -1;
	*fresh = sqlite3_changes(store_db(st)) > 0;
	return 0;
}

int
store_command_result(struct store *st, const char *id, const void *result,
    size_t len)
{
	sqlite3_stmt *s = store_prepare(st,
	    "UPDATE commands_seen SET result = ?2 WHERE id = ?1");
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob64(s, 2, len ? result : "", len, SQLITE_STATIC) !=
	    SQLITE_OK) {
		store_fail(st, "binding a command result");
		store_reset(s);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "storing a command result");
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_command_result_get(struct store *st, const char *id, store_blob_cb cb,
    void *arg)
{
	sqlite3_stmt *s = store_prepare(st,
	    "SELECT result FROM commands_seen WHERE id = ?1 AND result IS NOT NULL");
	int rc, found = 0;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_fail(st, "binding a command id");
		store_reset(s);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		cb(arg, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	} else if (rc != SQLITE_DONE) {
		store_fail(st, "reading a command result");
		found = -1;
	}
	store_reset(s);
	return found;
}

int
store_audit_append(struct store *st, int64_t time_ms, const char *node,
    const char *action, const char *json, int64_t *seq)
{
	const struct arg a[] = { I(time_ms), T(node), T(action), T(json) };

	if (exec(st, "INSERT INTO audit (time_ms, node, action, body)"
	    " VALUES (?1, ?2, ?3, ?4)", a, N(a), "appending to the audit log") != 0)
		return -1;
	if (seq != NULL)
		*seq = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

int
store_audit_forget_through(struct store *st, const char *node,
    const char *hash)
{
	const struct arg a[] = { T(node), T(hash) };

	return exec(st, "DELETE FROM audit WHERE node = ?1 AND seq <="
	    " (SELECT seq FROM audit WHERE node = ?1 AND"
	    " json_extract(body, '$.hash') = ?2)", a, N(a),
	    "dropping rotated audit records from the index");
}

int
store_audit_query(struct store *st, const struct store_audit_query *q,
    store_json_cb cb, void *arg)
{
	const struct arg a[] = { I(q->since_ms), T(q->node), T(q->action),
	    LIMIT(q->limit), T(q->actor) };

	/* The newest `limit` records, shown oldest first.  The actor is
	 * read from the record itself: no column, no migration. */
	return query(st, "SELECT body FROM (SELECT seq, body FROM audit"
	    " WHERE time_ms >= ?1 AND (?2 IS NULL OR node = ?2)"
	    " AND (?3 IS NULL OR action = ?3)"
	    " AND (?5 IS NULL OR json_extract(body, '$.actor') = ?5)"
	    " ORDER BY seq DESC LIMIT ?4)"
	    " ORDER BY seq", a, N(a), cb, arg, "reading the audit log");
}

/* exec, then adds the rows it changed to *n. */
static int
purge_step(struct store *st, uint64_t *n, const char *sql, int64_t cutoff_ms,
    const char *what)
{
	const struct arg a[] = { I(cutoff_ms) };

	if (exec(st, sql, a, N(a), what) != 0)
		return -1;
	*n += (uint64_t)sqlite3_changes(store_db(st));
	return 0;
}

int
store_work_purge(struct store *st, int64_t cutoff_ms, int64_t seen_cutoff_ms,
    struct store_purged *p)
{
	memset(p, 0, sizeof(*p));
	return purge_step(st, &p->tasks, "DELETE FROM tasks WHERE updated_ms <"
	    " ?1 AND state NOT IN ('queued', 'running', 'retrying')", cutoff_ms,
	    "purging tasks") ||
	    purge_step(st, &p->task_logs, "DELETE FROM task_logs WHERE NOT"
	    " EXISTS (SELECT 1 FROM tasks t WHERE t.node = task_logs.node AND"
	    " t.task_id = task_logs.task_id) AND ?1 IS NOT NULL", cutoff_ms,
	    "purging logs") ||
	    purge_step(st, &p->task_logs, "DELETE FROM task_logs WHERE"
	    " time_ms < ?1", cutoff_ms, "purging logs") ||
	    purge_step(st, &p->commands, "DELETE FROM commands WHERE"
	    " issued_ms < ?1", cutoff_ms, "purging commands") ||
	    purge_step(st, &p->commands_seen, "DELETE FROM commands_seen WHERE"
	    " received_ms < ?1", seen_cutoff_ms, "purging commands seen") ||
	    purge_step(st, &p->alerts, "DELETE FROM alerts WHERE state ="
	    " 'resolved' AND updated_ms < ?1", cutoff_ms, "purging alerts") ||
	    purge_step(st, &p->events, "DELETE FROM events WHERE"
	    " (CASE received_ms WHEN 0 THEN time_ms ELSE received_ms END) < ?1",
	    cutoff_ms, "purging events") ? -1 : 0;
}

int
store_work_trim(struct store *st, unsigned keep_tasks, unsigned keep_lines,
    int64_t keep_ms, int64_t now_ms)
{
	const struct arg tasks[] = { I(keep_tasks) };
	const struct arg lines[] = { I(keep_lines) };
	const struct arg old[] = { I(now_ms - keep_ms) };

	if (exec(st, "DELETE FROM tasks WHERE rowid NOT IN (SELECT rowid FROM"
	    " tasks ORDER BY state IN ('queued', 'running', 'retrying') DESC,"
	    " updated_ms DESC LIMIT ?1)", tasks, N(tasks), "trimming tasks") != 0 ||
	    exec(st, "DELETE FROM task_logs WHERE NOT EXISTS (SELECT 1 FROM tasks"
	    " t WHERE t.node = task_logs.node AND t.task_id = task_logs.task_id)",
	    NULL, 0, "trimming the logs of trimmed tasks") != 0 ||
	    exec(st, "DELETE FROM task_logs WHERE rowid <= (SELECT rowid FROM"
	    " task_logs ORDER BY rowid DESC LIMIT 1 OFFSET ?1)", lines, N(lines),
	    "trimming task log lines") != 0 ||
	    exec(st, "DELETE FROM commands WHERE issued_ms < ?1", old, N(old),
	    "trimming commands") != 0 ||
	    exec(st, "DELETE FROM commands_seen WHERE received_ms < ?1", old,
	    N(old), "trimming received commands") != 0 ||
	    exec(st, "DELETE FROM alerts WHERE state = 'resolved' AND"
	    " updated_ms < ?1", old, N(old), "trimming resolved alerts") != 0)
		return -1;
	return 0;
}

int
store_exec(struct store *st, const char *sql, const struct arg *args, size_t n,
    const char *what)
{
	return exec(st, sql, args, n, what);
}

int
store_query(struct store *st, const char *sql, const struct arg *args,
    size_t n, store_json_cb cb, void *arg, const char *what)
{
	return query(st, sql, args, n, cb, arg, what);
}
