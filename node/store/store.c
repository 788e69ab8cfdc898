/*
 * The node's SQLite storage (see store.h).
 *
 * Invariants:
 *   - The schema is exactly store_migrations[0..user_version)
 *     (store_migrations.c).  Each step runs in
 *     its own IMMEDIATE transaction together with the user_version bump, so
 *     a crash leaves the database at a step boundary.  A user_version above
 *     what this binary knows is refused before anything is written.
 *   - Every statement is prepared once (on first use) from the stmt_sql[]
 *     table, bound with sqlite3_bind_*, reset after each use and finalized in
 *     store_close.  No SQL is built from data.
 *   - Every sqlite3_step result is checked; a failure leaves a message in
 *     st->err naming what was being done and SQLite's own text.
 *
 * SQLite stores integers as signed 64-bit: the uint64 incarnation and seq
 * values are stored as their two's-complement int64 and converted back on
 * read, so they round-trip exactly.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hmap.h"
#include "store_priv.h"
#include "xalloc.h"

#define BUSY_TIMEOUT_MS	5000

#define SCHEMA_VERSION ((int)store_nmigrations)

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_META_GET,
	S_META_SET,
	S_INCARNATION,
	S_PEERS_CLEAR,
	S_PEER_PUT,
	S_PEERS_ALL,
	S_REMOTE_PUT,
	S_REMOTE_ALL,
	S_EVENT_PUT,
	S_EVENTS_QUERY,
	S_EVENTS_NEWEST,
	S_EVENTS_AFTER,
	S_EVENT_MARK,
	S_PEER_DEL,
	S_REMOTE_DEL,
	S_FORGOTTEN_PUT,
	S_FORGOTTEN_TRIM,
	S_FORGOTTEN_ALL,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[S_INCARNATION] = "INSERT INTO meta (key, value) VALUES ('incarnation', ?1 + 1)"
	    " ON CONFLICT (key) DO UPDATE SET"
	    " value = max(CAST(value AS INTEGER), ?1) + 1"
	    " RETURNING value",
	[S_PEERS_CLEAR] = "DELETE FROM peers",
	[S_PEER_PUT] = "INSERT OR REPLACE INTO peers (node_id, addresses,"
	    " observed_address, labels, cert_fingerprint, last_seen_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_PEERS_ALL] = "SELECT node_id, addresses, observed_address, labels,"
	    " cert_fingerprint, last_seen_ms FROM peers ORDER BY node_id",
	[S_REMOTE_PUT] = "INSERT INTO remote_state (origin, incarnation, seq,"
	    " status, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (origin) DO UPDATE SET incarnation = excluded.incarnation,"
	    " seq = excluded.seq, status = excluded.status,"
	    " updated_ms = excluded.updated_ms",
	[S_REMOTE_ALL] = "SELECT origin, incarnation, seq, status, updated_ms"
	    " FROM remote_state ORDER BY origin",
	[S_EVENT_PUT] = "INSERT INTO events (origin, incarnation, seq, kind,"
	    " time_ms, body, received_ms, sig, unchecked) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
	[S_EVENTS_QUERY] = "SELECT origin, incarnation, seq, kind, time_ms, body,"
	    " received_ms, sig, unchecked"
	    " FROM events WHERE time_ms >= ?1"
	    " AND (?2 IS NULL OR origin = ?2) AND (?3 = 0 OR kind = ?3)"
	    " AND (?5 = 0 OR kind <> ?5) AND time_ms < ?6"
	    " ORDER BY time_ms, rowid LIMIT ?4",
	/* The newest `limit` of the same selection, still oldest first. */
	[S_EVENTS_NEWEST] = "SELECT * FROM (SELECT origin, incarnation, seq, kind,"
	    " time_ms, body, received_ms, sig, unchecked, rowid AS r FROM events WHERE time_ms >= ?1"
	    " AND (?2 IS NULL OR origin = ?2) AND (?3 = 0 OR kind = ?3)"
	    " AND (?5 = 0 OR kind <> ?5) AND time_ms < ?6"
	    " ORDER BY time_ms DESC, rowid DESC LIMIT ?4) ORDER BY time_ms, r",
	[S_EVENTS_AFTER] = "SELECT origin, incarnation, seq, kind, time_ms, body,"
	    " received_ms, sig, unchecked FROM events WHERE origin = ?1 AND"
	    " incarnation = ?2"
	    " AND seq > ?3 ORDER BY seq LIMIT ?4",
	[S_EVENT_MARK] = "UPDATE events SET unchecked = ?4 WHERE origin = ?1"
	    " AND incarnation = ?2 AND seq = ?3",
	[S_PEER_DEL] = "DELETE FROM peers WHERE node_id = ?1",
	[S_REMOTE_DEL] = "DELETE FROM remote_state WHERE origin = ?1",
	[S_FORGOTTEN_PUT] = "INSERT INTO forgotten (node_id, forgot_ms,"
	    " incarnation, signal_ms) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (node_id) DO UPDATE SET forgot_ms = excluded.forgot_ms,"
	    " incarnation = max(incarnation, excluded.incarnation),"
	    " signal_ms = max(signal_ms, excluded.signal_ms)",
	/* The newest ?1 stay. */
	[S_FORGOTTEN_TRIM] = "DELETE FROM forgotten WHERE node_id NOT IN"
	    " (SELECT node_id FROM forgotten ORDER BY forgot_ms DESC, rowid DESC"
	    " LIMIT ?1)",
	[S_FORGOTTEN_ALL] = "SELECT node_id, forgot_ms, incarnation, signal_ms"
	    " FROM forgotten ORDER BY forgot_ms, rowid",
};

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*stmt[S_COUNT];
	struct hmap	*by_sql;	/* store_prepare's cache: SQL → stmt */
	char		 err[512];
};

static void set_err(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* "what: SQLite's message" into st->err. */
static void
set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	n = strlen(st->err);
	snprintf(st->err + n, sizeof(st->err) - n, ": %s",
	    sqlite3_errmsg(st->db));
}

const char *
store_error(const struct store *st)
{
	return st->err;
}

int
store_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* The cached statement id, prepared on first use; NULL with st->err set. */
static sqlite3_stmt *
stmt(struct store *st, enum stmt_id id)
{
	if (st->stmt[id] == NULL &&
	    sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL) != SQLITE_OK) {
		set_err(st, "preparing \"%s\"", stmt_sql[id]);
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Makes s ready for its next use.  Errors were reported by step already. */
static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s;

	if (st->by_sql == NULL)
		st->by_sql = hmap_new();
	if ((s = hmap_get(st->by_sql, sql)) != NULL)
		return s;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	    NULL) != SQLITE_OK) {
		set_err(st, "preparing \"%s\"", sql);
		return NULL;
	}
	hmap_put(st->by_sql, sql, s);
	return s;
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

void
store_reset(sqlite3_stmt *s)
{
	done(s);
}

void
store_fail(struct store *st, const char *what)
{
	set_err(st, "%s", what);
}

static int
finalize_one(const char *sql, void *value, void *arg)
{
	(void)sql;
	(void)arg;
	sqlite3_finalize(value);
	return 1;
}

/* Runs a statement that returns no rows; resets it either way. */
static int
step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		set_err(st, "%s", what);
		done(s);
		return -1;
	}
	done(s);
	return 0;
}

static int
run(struct store *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s = stmt(st, id);

	return s == NULL ? -1 : step_done(st, s, what);
}

static int
begin(struct store *st)
{
	return run(st, S_BEGIN, "beginning a transaction");
}

static int
commit(struct store *st)
{
	return run(st, S_COMMIT, "committing");
}

/* Rolls back after a failure, keeping the failure's message in st->err. */
static void
rollback(struct store *st)
{
	char saved[sizeof(st->err)];

	if (sqlite3_get_autocommit(st->db))
		return;		/* SQLite already rolled back */
	memcpy(saved, st->err, sizeof(saved));
	(void)run(st, S_ROLLBACK, "rolling back");
	memcpy(st->err, saved, sizeof(saved));
}

int
store_batch_begin(struct store *st)
{
	return sqlite3_get_autocommit(st->db) ? begin(st) : 0;
}

int
store_batch_end(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	if (commit(st) != 0) {
		rollback(st);
		return -1;
	}
	return 0;
}

int
store_atomic_begin(struct store *st)
{
	return store_exec(st, "SAVEPOINT atomic", NULL, 0, "beginning a "
	    "savepoint");
}

int
store_atomic_end(struct store *st, int ok)
{
	char saved[sizeof(st->err)];

	if (ok && store_exec(st, "RELEASE atomic", NULL, 0, "committing") == 0)
		return 0;
	/* Only this part's writes go: a batch around it keeps its own.  The
	 * failure's message stays in st->err. */
	memcpy(saved, st->err, sizeof(saved));
	(void)store_exec(st, "ROLLBACK TO atomic", NULL, 0, "rolling back");
	(void)store_exec(st, "RELEASE atomic", NULL, 0, "rolling back");
	memcpy(st->err, saved, sizeof(saved));
	return -1;
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) :
	    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
bind_blob(sqlite3_stmt *s, int i, const void *v, size_t len)
{
	if (len == 0)
		return sqlite3_bind_zeroblob(s, i, 0);
	return sqlite3_bind_blob64(s, i, v, (sqlite3_uint64)len, SQLITE_STATIC);
}

/* Checks a run of sqlite3_bind_* results (OR-ed would lose codes). */
static int
bound(struct store *st, sqlite3_stmt *s, const int *rcs, size_t n,
    const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (rcs[i] != SQLITE_OK) {
			set_err(st, "%s: binding parameter %zu", what, i + 1);
			done(s);
			return -1;
		}
	return 0;
}

/* A PRAGMA that answers one row; its text into buf (may be NULL). */
static int
pragma(struct store *st, const char *sql, char *buf, size_t buflen)
{
	sqlite3_stmt *s;
	const unsigned char *v;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		set_err(st, "%s", sql);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (buf != NULL && (v = sqlite3_column_text(s, 0)) != NULL)
			snprintf(buf, buflen, "%s", (const char *)v);
	if (rc != SQLITE_DONE) {
		set_err(st, "%s", sql);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static int
user_version(struct store *st, int *out)
{
	char buf[32] = "";

	if (pragma(st, "PRAGMA user_version", buf, sizeof(buf)) != 0)
		return -1;
	*out = atoi(buf);
	return 0;
}

/* Applies each missing step in its own transaction (see the top). */
static int
migrate(struct store *st)
{
	char sql[64];
	int v;

	for (;;) {
		if (begin(st) != 0)
			return -1;
		/* Read inside the transaction: another opener may have won. */
		if (user_version(st, &v) != 0)
			goto fail;
		if (v >= SCHEMA_VERSION)
			break;
		if (sqlite3_exec(st->db, store_migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			set_err(st, "%s: migrating schema %d to %d", st->path,
			    v, v + 1);
			goto fail;
		}
		/* PRAGMA takes no parameters; v is our own small integer. */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (pragma(st, sql, NULL, 0) != 0 || commit(st) != 0)
			goto fail;
	}
	return commit(st);
fail:
	rollback(st);
	return -1;
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
	struct store *st;
	struct stat sb;
	char mode[16] = "";
	size_t len;
	int v, rc;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create data directory: %s",
		    dir, strerror(errno));
		return NULL;
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	len = strlen(dir) + 1 + strlen(STORE_FILE) + 1;
	st->path = xmalloc(len);
	snprintf(st->path, len, "%s/%s", dir, STORE_FILE);

	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open: %s", st->path,
		    st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);

	/* Nothing is written before the version check. */
	if (user_version(st, &v) != 0) {
		snprintf(err, errlen, "%s: not a usable SQLite database (%s)",
		    st->path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "binary's %d (written by a newer agentflow-node?); refusing "
		    "to touch it", st->path, v, SCHEMA_VERSION);
		goto fail;
	}
	if (v < 0) {
		snprintf(err, errlen, "%s: schema version %d is not one "
		    "AgentFlow writes", st->path, v);
		goto fail;
	}
	/*
	 * A page cache of 512 KiB instead of SQLite's 2 MB: appends touch
	 * the few pages at the right edge of each table and index, and older
	 * pages are a pread of the OS's page cache away.  At N=50 (--max-links
	 * 6) the default cache was full a minute after start: SQLite held 2.2
	 * of a node's 12.7 MiB private memory (issue 21: RSS <= 20 MiB).
	 */
	if (pragma(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) != 0 ||
	    pragma(st, "PRAGMA foreign_keys = ON", NULL, 0) != 0 ||
	    pragma(st, "PRAGMA synchronous = NORMAL", NULL, 0) != 0 ||
	    pragma(st, "PRAGMA cache_size = -512", NULL, 0) != 0) {
		snprintf(err, errlen, "%s: %s", st->path, st->err);
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL journal mode (got "
		    "\"%s\")", st->path, mode);
		goto fail;
	}
	if (migrate(st) != 0) {
		snprintf(err, errlen, "%s", st->err);
		goto fail;
	}
	st->err[0] = '\0';
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->by_sql != NULL)
		hmap_sweep(st->by_sql, finalize_one, NULL);
	hmap_free(st->by_sql);
	/* All statements are finalized, so close cannot be busy. */
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int
store_next_incarnation(struct store *st, uint64_t *out)
{
	return store_incarnation_above(st, 0, out);
}

int
store_incarnation_above(struct store *st, uint64_t seen, uint64_t *out)
{
	sqlite3_stmt *s;
	int64_t v = 0;
	int rc;

	/* SQLite's integers are signed, and max + 1 must not overflow into a
	 * REAL: the counter stays below STORE_INCARNATION_MAX. */
	if (seen >= STORE_INCARNATION_MAX) {
		snprintf(st->err, sizeof(st->err), "incarnation %llu is beyond "
		    "the counter's range", (unsigned long long)seen);
		return -1;
	}

	/*
	 * WAL at synchronous=NORMAL may lose the last commits on power loss;
	 * a repeated incarnation would be worse than one fsync at start-up.
	 */
	if (pragma(st, "PRAGMA synchronous = FULL", NULL, 0) != 0)
		return -1;
	if (begin(st) != 0)
		goto fail_sync;
	if ((s = stmt(st, S_INCARNATION)) == NULL)
		goto fail;
	if (sqlite3_bind_int64(s, 1, (sqlite3_int64)seen) != SQLITE_OK) {
		set_err(st, "binding the incarnation");
		done(s);
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		v = sqlite3_column_type(s, 0) == SQLITE_INTEGER ?
		    sqlite3_column_int64(s, 0) : -1;
	if (rc != SQLITE_DONE) {
		set_err(st, "incrementing the incarnation");
		done(s);
		goto fail;
	}
	done(s);
	if (v <= 0 || (uint64_t)v >= STORE_INCARNATION_MAX) {
		snprintf(st->err, sizeof(st->err), "incarnation counter in "
		    "meta is %lld, not an integer in 1..2^62", (long long)v);
		goto fail;
	}
	if (commit(st) != 0)
		goto fail;
	if (pragma(st, "PRAGMA synchronous = NORMAL", NULL, 0) != 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
fail:
	rollback(st);
fail_sync:
	{
		char saved[sizeof(st->err)];
		memcpy(saved, st->err, sizeof(saved));
		(void)pragma(st, "PRAGMA synchronous = NORMAL", NULL, 0);
		memcpy(st->err, saved, sizeof(saved));
	}
	return -1;
}

int
store_meta_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = stmt(st, S_META_SET);
	int rc[2];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, key);
	rc[1] = bind_text(s, 2, value);
	if (bound(st, s, rc, 2, "setting meta") != 0)
		return -1;
	return step_done(st, s, "setting meta");
}

int
store_meta_get(struct store *st, const char *key, char *buf, size_t buflen)
{
	sqlite3_stmt *s = stmt(st, S_META_GET);
	const unsigned char *v;
	int rc, found = 0;

	if (s == NULL)
		return -1;
	rc = bind_text(s, 1, key);
	if (bound(st, s, &rc, 1, "reading meta") != 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		found = 1;
		v = sqlite3_column_text(s, 0);
		if (buflen > 0)
			snprintf(buf, buflen, "%s", v != NULL ?
			    (const char *)v : "");
	}
	if (rc != SQLITE_DONE) {
		set_err(st, "reading meta");
		done(s);
		return -1;
	}
	done(s);
	return found;
}

int
store_peers_replace(struct store *st, const struct store_peer *peers,
    size_t n)
{
	sqlite3_stmt *s;
	int rc[6];

	if (begin(st) != 0)
		return -1;
	if (run(st, S_PEERS_CLEAR, "clearing peers") != 0)
		goto fail;
	if ((s = stmt(st, S_PEER_PUT)) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct store_peer *p = &peers[i];
		rc[0] = bind_text(s, 1, p->node_id);
		rc[1] = bind_text(s, 2, p->addresses);
		rc[2] = bind_text(s, 3, p->observed_address);
		rc[3] = bind_text(s, 4, p->labels);
		rc[4] = bind_text(s, 5, p->cert_fingerprint);
		rc[5] = sqlite3_bind_int64(s, 6, p->last_seen_ms);
		if (bound(st, s, rc, 6, "storing a peer") != 0 ||
		    step_done(st, s, "storing peer") != 0)
			goto fail;
	}
	if (commit(st) != 0)
		goto fail;
	return 0;
fail:
	rollback(st);
	return -1;
}

/* Finishes a SELECT walk: rc is the last step result or a cb's stop. */
static int
walk_end(struct store *st, sqlite3_stmt *s, int rc, int stopped,
    const char *what)
{
	if (!stopped && rc != SQLITE_DONE) {
		set_err(st, "%s", what);
		done(s);
		return -1;
	}
	done(s);
	return stopped ? rc : 0;
}

int
store_peers_load(struct store *st, store_peer_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_PEERS_ALL);
	struct store_peer p;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p.node_id = (const char *)sqlite3_column_text(s, 0);
		p.addresses = (const char *)sqlite3_column_text(s, 1);
		p.observed_address = (const char *)sqlite3_column_text(s, 2);
		p.labels = (const char *)sqlite3_column_text(s, 3);
		p.cert_fingerprint = (const char *)sqlite3_column_text(s, 4);
		p.last_seen_ms = sqlite3_column_int64(s, 5);
		if (p.node_id == NULL)
			continue;	/* NOT NULL in the schema */
		if ((rc = cb(arg, &p)) != 0)
			return walk_end(st, s, rc, 1, "loading peers");
	}
	return walk_end(st, s, rc, 0, "loading peers");
}

int
store_remote_upsert(struct store *st, const struct store_remote *r)
{
	sqlite3_stmt *s = stmt(st, S_REMOTE_PUT);
	int rc[5];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, r->origin);
	rc[1] = sqlite3_bind_int64(s, 2, (sqlite3_int64)r->incarnation);
	rc[2] = sqlite3_bind_int64(s, 3, (sqlite3_int64)r->seq);
	rc[3] = bind_blob(s, 4, r->status, r->status_len);
	rc[4] = sqlite3_bind_int64(s, 5, r->updated_ms);
	if (bound(st, s, rc, 5, "storing remote state") != 0)
		return -1;
	return step_done(st, s, "storing remote state");
}

/* One DELETE by node id (each its own statement: this may run inside a
 * batch, so it opens no transaction of its own). */
static int
delete_node(struct store *st, enum stmt_id id, const char *node_id,
    const char *what)
{
	sqlite3_stmt *s = stmt(st, id);
	int rc[1];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, node_id);
	if (bound(st, s, rc, 1, what) != 0)
		return -1;
	return step_done(st, s, what);
}

int
store_forget_node(struct store *st, const char *node_id,
    const struct store_forgotten *remember, unsigned keep)
{
	sqlite3_stmt *s;
	int rc[4];

	if (delete_node(st, S_PEER_DEL, node_id, "forgetting a peer") != 0 ||
	    delete_node(st, S_REMOTE_DEL, node_id, "forgetting remote state") != 0)
		return -1;
	if (remember == NULL)
		return 0;
	if ((s = stmt(st, S_FORGOTTEN_PUT)) == NULL)
		return -1;
	rc[0] = bind_text(s, 1, node_id);
	rc[1] = sqlite3_bind_int64(s, 2, remember->forgot_ms);
	rc[2] = sqlite3_bind_int64(s, 3, (sqlite3_int64)remember->incarnation);
	rc[3] = sqlite3_bind_int64(s, 4, remember->signal_ms);
	if (bound(st, s, rc, 4, "remembering a forgotten node") != 0 ||
	    step_done(st, s, "remembering a forgotten node") != 0)
		return -1;
	if ((s = stmt(st, S_FORGOTTEN_TRIM)) == NULL)
		return -1;
	rc[0] = sqlite3_bind_int64(s, 1, keep);
	if (bound(st, s, rc, 1, "trimming forgotten nodes") != 0)
		return -1;
	return step_done(st, s, "trimming forgotten nodes");
}

int
store_forgotten_load(struct store *st, store_forgotten_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_FORGOTTEN_ALL);
	struct store_forgotten f;
	const char *id;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(s, 0);
		f.forgot_ms = sqlite3_column_int64(s, 1);
		f.incarnation = (uint64_t)sqlite3_column_int64(s, 2);
		f.signal_ms = sqlite3_column_int64(s, 3);
		if (id == NULL)
			continue;	/* NOT NULL in the schema */
		if ((rc = cb(arg, id, &f)) != 0)
			return walk_end(st, s, rc, 1, "loading forgotten nodes");
	}
	return walk_end(st, s, rc, 0, "loading forgotten nodes");
}

int
store_remote_load(struct store *st, store_remote_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_REMOTE_ALL);
	struct store_remote r;
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.origin = (const char *)sqlite3_column_text(s, 0);
		r.incarnation = (uint64_t)sqlite3_column_int64(s, 1);
		r.seq = (uint64_t)sqlite3_column_int64(s, 2);
		r.status = sqlite3_column_blob(s, 3);
		r.status_len = (size_t)sqlite3_column_bytes(s, 3);
		r.updated_ms = sqlite3_column_int64(s, 4);
		if (r.origin == NULL)
			continue;
		if ((rc = cb(arg, &r)) != 0)
			return walk_end(st, s, rc, 1, "loading remote state");
	}
	return walk_end(st, s, rc, 0, "loading remote state");
}

int
store_event_append(struct store *st, const struct store_event *ev,
    int *added)
{
	sqlite3_stmt *s = stmt(st, S_EVENT_PUT);
	int rc[9];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, ev->origin);
	rc[1] = sqlite3_bind_int64(s, 2, (sqlite3_int64)ev->incarnation);
	rc[2] = sqlite3_bind_int64(s, 3, (sqlite3_int64)ev->seq);
	rc[3] = sqlite3_bind_int(s, 4, ev->kind);
	rc[4] = sqlite3_bind_int64(s, 5, ev->time_ms);
	rc[5] = bind_blob(s, 6, ev->body, ev->body_len);
	rc[6] = sqlite3_bind_int64(s, 7, ev->received_ms);
	rc[7] = bind_blob(s, 8, ev->sig, ev->sig_len);
	rc[8] = sqlite3_bind_int(s, 9, ev->unchecked != 0);
	if (bound(st, s, rc, 9, "appending an event") != 0)
		return -1;
	if (step_done(st, s, "appending an event") != 0)
		return -1;
	if (added != NULL)
		*added = sqlite3_changes(st->db) > 0;
	return 0;
}

int
store_event_mark(struct store *st, const char *origin, uint64_t incarnation,
    uint64_t seq, int unchecked)
{
	sqlite3_stmt *s = stmt(st, S_EVENT_MARK);
	int rc[4];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, origin);
	rc[1] = sqlite3_bind_int64(s, 2, (sqlite3_int64)incarnation);
	rc[2] = sqlite3_bind_int64(s, 3, (sqlite3_int64)seq);
	rc[3] = sqlite3_bind_int(s, 4, unchecked);
	if (bound(st, s, rc, 4, "marking an event") != 0)
		return -1;
	return step_done(st, s, "marking an event");
}

/* The columns origin, incarnation, seq, kind, time_ms, body, received_ms,
 * sig, unchecked. */
static void
event_row(sqlite3_stmt *s, struct store_event *ev)
{
	ev->origin = (const char *)sqlite3_column_text(s, 0);
	ev->incarnation = (uint64_t)sqlite3_column_int64(s, 1);
	ev->seq = (uint64_t)sqlite3_column_int64(s, 2);
	ev->kind = sqlite3_column_int(s, 3);
	ev->time_ms = sqlite3_column_int64(s, 4);
	ev->body = sqlite3_column_blob(s, 5);
	ev->body_len = (size_t)sqlite3_column_bytes(s, 5);
	ev->received_ms = sqlite3_column_int64(s, 6);
	ev->sig = sqlite3_column_blob(s, 7);
	ev->sig_len = (size_t)sqlite3_column_bytes(s, 7);
	ev->unchecked = sqlite3_column_int(s, 8);
}

/* Steps a bound events statement, calling cb per row (see store.h). */
static int
walk_events(struct store *st, sqlite3_stmt *s, store_event_cb cb, void *arg,
    const char *what)
{
	struct store_event ev;
	int r;

	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		event_row(s, &ev);
		if (ev.origin == NULL)
			continue;
		if ((r = cb(arg, &ev)) != 0)
			return walk_end(st, s, r, 1, what);
	}
	return walk_end(st, s, r, 0, what);
}

int
store_events_query(struct store *st, const struct store_event_query *q,
    store_event_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, q->newest ? S_EVENTS_NEWEST : S_EVENTS_QUERY);
	int rc[6];

	if (s == NULL)
		return -1;
	/* A bound, not "?6 = 0 OR": an OR hides it from the planner, which
	 * then walks events_time from since_ms to the newest event. */
	rc[5] = sqlite3_bind_int64(s, 6, q->until_ms != 0 ? q->until_ms :
	    INT64_MAX);
	rc[4] = sqlite3_bind_int(s, 5, q->not_kind);
	rc[0] = sqlite3_bind_int64(s, 1, q->since_ms);
	rc[1] = bind_text(s, 2, q->origin);
	rc[2] = sqlite3_bind_int(s, 3, q->kind);
	rc[3] = sqlite3_bind_int64(s, 4, q->limit == 0 ? -1 :
	    (sqlite3_int64)q->limit);
	if (bound(st, s, rc, 6, "querying events") != 0)
		return -1;
	return walk_events(st, s, cb, arg, "querying events");
}

int
store_events_after(struct store *st, const char *origin, uint64_t incarnation,
    uint64_t after_seq, unsigned limit, store_event_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_EVENTS_AFTER);
	int rc[4];

	if (s == NULL)
		return -1;
	rc[0] = bind_text(s, 1, origin);
	rc[1] = sqlite3_bind_int64(s, 2, (sqlite3_int64)incarnation);
	rc[2] = sqlite3_bind_int64(s, 3, (sqlite3_int64)after_seq);
	rc[3] = sqlite3_bind_int64(s, 4, limit == 0 ? -1 : (sqlite3_int64)limit);
	if (bound(st, s, rc, 4, "reading an origin's events") != 0)
		return -1;
	return walk_events(st, s, cb, arg, "reading an origin's events");
}

