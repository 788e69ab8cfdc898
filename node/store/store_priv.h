/*
 * For store.c's siblings (store_work.c) only: the shared connection's
 * statement cache and error slot.  Callers outside node/store*.c use
 * store.h.
 */
#ifndef AGENTFLOW_STORE_PRIV_H
#define AGENTFLOW_STORE_PRIV_H

#include <sqlite3.h>

struct store;

/*
 * The statement for sql, prepared on first use and cached by its text
 * (pass string literals: the same text is the same statement).  NULL with
 * store_error() set.  The store finalizes it at close.
 */
sqlite3_stmt *store_prepare(struct store *, const char *sql);
/* The connection, for sqlite3_changes and sqlite3_last_insert_rowid. */
sqlite3 *store_db(struct store *);
/* Resets a statement and clears its bindings for the next use. */
void store_reset(sqlite3_stmt *);
/* Records "what: SQLite's last message" as the store's error. */
void store_fail(struct store *, const char *what);
/* Steps a statement that returns no rows and resets it.  bound is 0 when
 * every sqlite3_bind_* succeeded (OR their failures together); -1 with
 * store_error() naming what when not or when the step fails. */
static inline int
store_step_bound(struct store *st, sqlite3_stmt *s, int bound,
    const char *what)
{
	int rc = bound == 0 ? sqlite3_step(s) : SQLITE_ERROR;

	if (rc != SQLITE_DONE)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Binding kinds for store_exec and store_query: 't' text (NULL allowed),
 * 'i' int64. */
struct arg {
	char		 type;
	const char	*text;
	int64_t		 num;
};
#define T(v)	{ 't', (v), 0 }
#define I(v)	{ 'i', NULL, (int64_t)(v) }
/* SQLite's LIMIT -1 is "no limit"; ours is 0. */
#define LIMIT(v)	I((v) != 0 ? (int64_t)(v) : -1)

typedef int (*store_row_cb)(void *arg, const char *json);
/* Runs a statement without rows, args bound in order: 0, or -1 with
 * store_error() set to what failed. */
int store_exec(struct store *, const char *sql, const struct arg *args,
    size_t n, const char *what);
/* Runs a query whose first column is JSON text, calling cb per row
 * (non-zero from cb stops and is returned); -1 on an error. */
int store_query(struct store *, const char *sql, const struct arg *args,
    size_t n, store_row_cb cb, void *arg, const char *what);

/* The schema's steps (store_migrations.c): step i brings user_version
 * from i to i + 1.  Append only: a shipped step is never edited. */
extern const char *const store_migrations[];
extern const size_t store_nmigrations;

#endif
