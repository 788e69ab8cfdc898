/*
 * Issued API tokens in the node's database (see store_tokens.h).  Each
 * statement is a literal cached by store_prepare; every value is bound.
 */
#include "store_tokens.h"

#include <sqlite3.h>
#include <string.h>

#include "store.h"
#include "store_priv.h"

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -1;
}

/* Steps a statement without rows, then resets it. */
static int
done(struct store *st, sqlite3_stmt *s, int bound, const char *what)
{
	int rc = bound == 0 ? sqlite3_step(s) : SQLITE_ERROR;

	if (rc != SQLITE_DONE)
		store_fail(st, what);
	store_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_token_put(struct store *st, const struct store_token *t)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO api_tokens (id, name,"
	    " role, iss, iat_ms, exp_ms, kid) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7)");

	if (s == NULL)
		return -1;
	return done(st, s, bind_text(s, 1, t->id) | bind_text(s, 2, t->name) |
	    bind_text(s, 3, t->role) | bind_text(s, 4, t->iss) |
	    (sqlite3_bind_int64(s, 5, t->iat_ms) != SQLITE_OK) |
	    (sqlite3_bind_int64(s, 6, t->exp_ms) != SQLITE_OK) |
	    bind_text(s, 7, t->kid != NULL ? t->kid : ""),
	    "storing an API token");
}

int
store_token_revoke(struct store *st, const char *id, int64_t now_ms,
    int *found)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE api_tokens SET revoked_ms ="
	    " CASE revoked_ms WHEN 0 THEN ?2 ELSE revoked_ms END WHERE id = ?1");

	*found = 0;
	if (s == NULL)
		return -1;
	if (done(st, s, bind_text(s, 1, id) |
	    (sqlite3_bind_int64(s, 2, now_ms) != SQLITE_OK),
	    "revoking an API token") != 0)
		return -1;
	*found = sqlite3_changes(store_db(st)) > 0;
	return 0;
}

int
store_tokens_list(struct store *st, store_token_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id, name, role, iss, iat_ms,"
	    " exp_ms, revoked_ms, kid FROM api_tokens ORDER BY iat_ms DESC,"
	    " rowid DESC");
	struct store_token t;
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		t.id = (const char *)sqlite3_column_text(s, 0);
		t.name = (const char *)sqlite3_column_text(s, 1);
		t.role = (const char *)sqlite3_column_text(s, 2);
		t.iss = (const char *)sqlite3_column_text(s, 3);
		t.iat_ms = sqlite3_column_int64(s, 4);
		t.exp_ms = sqlite3_column_int64(s, 5);
		t.revoked_ms = sqlite3_column_int64(s, 6);
		t.kid = (const char *)sqlite3_column_text(s, 7);
		if (t.id == NULL || t.name == NULL || t.role == NULL ||
		    t.iss == NULL || t.kid == NULL)
			continue;
		if ((stop = cb(arg, &t)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail(st, "listing API tokens");
		stop = -1;
	}
	store_reset(s);
	return stop;
}

int
store_issuer_cert_put(struct store *st, const struct store_issuer_cert *c)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO issuer_certs (node_id,"
	    " kid, der, last_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (node_id,"
	    " kid) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms)");

	if (s == NULL)
		return -1;
	return done(st, s, bind_text(s, 1, c->node_id) | bind_text(s, 2, c->kid) |
	    (sqlite3_bind_blob(s, 3, c->der, (int)c->der_len, SQLITE_STATIC) !=
	    SQLITE_OK) | (sqlite3_bind_int64(s, 4, c->last_ms) != SQLITE_OK),
	    "storing an issuer's certificate");
}

int
store_issuer_certs_list(struct store *st, store_issuer_cert_cb cb, void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT node_id, kid, der, last_ms"
	    " FROM issuer_certs");
	struct store_issuer_cert c;
	int rc, stop = 0;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c.node_id = (const char *)sqlite3_column_text(s, 0);
		c.kid = (const char *)sqlite3_column_text(s, 1);
		c.der = sqlite3_column_blob(s, 2);
		c.der_len = (size_t)sqlite3_column_bytes(s, 2);
		c.last_ms = sqlite3_column_int64(s, 3);
		if (c.node_id == NULL || c.kid == NULL || c.der == NULL)
			continue;
		if ((stop = cb(arg, &c)) != 0)
			break;
	}
	if (stop == 0 && rc != SQLITE_DONE) {
		store_fail(st, "listing issuers' certificates");
		stop = -1;
	}
	store_reset(s);
	return stop;
}

int
store_issuer_certs_prune(struct store *st, int64_t before_ms)
{
	sqlite3_stmt *s = store_prepare(st, "DELETE FROM issuer_certs WHERE"
	    " last_ms < ?1");

	if (s == NULL)
		return -1;
	return done(st, s, sqlite3_bind_int64(s, 1, before_ms) != SQLITE_OK,
	    "pruning issuers' certificates");
}
