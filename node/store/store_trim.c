/*
 * The event log trimmed by shares (store_trim.h).  One pass: what each
 * origin holds (count, bytes), the caps that fit the budgets, then each
 * origin over a cap loses its oldest rows down to it.
 */
#include "store_trim.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "store.h"
#include "store_priv.h"
#include "xalloc.h"

struct usage {
	char		*origin;
	uint64_t	 count, bytes;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
store_trim_cap(uint64_t *use, size_t n, uint64_t budget)
{
	uint64_t left = budget;

	qsort(use, n, sizeof(*use), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t share = left / (n - i);

		if (use[i] > share)
			return share;
		left -= use[i];
	}
	return UINT64_MAX;
}

/* What each origin holds; *n of them (a new array), or NULL on error. */
static struct usage *
usages(struct store *st, size_t *n)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT origin, count(*),"
	    " total(length(body)) FROM events GROUP BY origin");
	struct usage *u = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	if (s == NULL)
		return NULL;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(s, 0);
		if (o == NULL)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			u = xrealloc(u, cap * sizeof(*u));
		}
		u[*n].origin = xstrdup(o);
		u[*n].count = (uint64_t)sqlite3_column_int64(s, 1);
		u[*n].bytes = (uint64_t)sqlite3_column_double(s, 2);
		(*n)++;
	}
	store_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, "counting the event log by origin");
		for (size_t i = 0; i < *n; i++)
			free(u[i].origin);
		free(u);
		*n = 0;
		return NULL;
	}
	return u != NULL ? u : xcalloc(1, sizeof(*u));
}

/* Deletes origin's oldest rows beyond its newest keep. */
static int
trim_count(struct store *st, const char *origin, uint64_t keep)
{
	sqlite3_stmt *s = store_prepare(st, "DELETE FROM events WHERE"
	    " origin = ?1 AND rowid <= (SELECT rowid FROM events WHERE"
	    " origin = ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2)");

	if (s == NULL)
		return -1;
	return store_step_bound(st, s,
	    (sqlite3_bind_text(s, 1, origin, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (sqlite3_bind_int64(s, 2, keep > INT64_MAX ? INT64_MAX :
	    (int64_t)keep) != SQLITE_OK), "trimming an origin's events");
}

/* Deletes origin's oldest rows until its newest hold at most keep bytes,
 * but never its newest row. */
static int
trim_bytes(struct store *st, const char *origin, uint64_t keep)
{
	sqlite3_stmt *s = store_prepare(st, "DELETE FROM events WHERE"
	    " origin = ?1 AND rowid <= (SELECT rowid FROM (SELECT rowid,"
	    " sum(length(body)) OVER (ORDER BY rowid DESC) AS acc,"
	    " row_number() OVER (ORDER BY rowid DESC) AS nth FROM events"
	    " WHERE origin = ?1) WHERE acc > ?2 AND nth > 1"
	    " ORDER BY rowid DESC LIMIT 1)");

	if (s == NULL)
		return -1;
	return store_step_bound(st, s,
	    (sqlite3_bind_text(s, 1, origin, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (sqlite3_bind_int64(s, 2, keep > INT64_MAX ? INT64_MAX :
	    (int64_t)keep) != SQLITE_OK), "trimming an origin's event bytes");
}

int
store_events_trim_shares(struct store *st, uint64_t keep, uint64_t keep_bytes,
    uint64_t *deleted)
{
	struct usage *u;
	uint64_t *v, ccap, bcap, total_c = 0, total_b = 0;
	size_t n;
	int rc = 0;

	if (deleted != NULL)
		*deleted = 0;
	if ((u = usages(st, &n)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		total_c += u[i].count;
		total_b += u[i].bytes;
	}
	if (total_c <= keep && total_b <= keep_bytes)
		goto out;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = u[i].count;
	/* An origin keeps at least its newest event, whatever the share. */
	if ((ccap = store_trim_cap(v, n, keep)) == 0)
		ccap = 1;
	for (size_t i = 0; i < n; i++)
		v[i] = u[i].bytes;
	bcap = store_trim_cap(v, n, keep_bytes);
	free(v);
	store_batch_begin(st);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (u[i].count > ccap && trim_count(st, u[i].origin, ccap) != 0)
			rc = -1;
		else if (deleted != NULL && u[i].count > ccap)
			*deleted += (uint64_t)sqlite3_changes64(store_db(st));
		if (rc == 0 && u[i].bytes > bcap) {
			if (trim_bytes(st, u[i].origin, bcap) != 0)
				rc = -1;
			else if (deleted != NULL)
				*deleted += (uint64_t)sqlite3_changes64(
				    store_db(st));
		}
	}
	if (store_batch_end(st) != 0)
		rc = -1;
out:
	for (size_t i = 0; i < n; i++)
		free(u[i].origin);
	free(u);
	return rc;
}
