/*
 * Unit tests of node/store/store.c, each in a private temporary data directory:
 * migrations from empty, reopening, the incarnation counter, refusing a
 * newer schema without touching it, peers, remote state, events, and
 * damaged files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store_trim.h"
#include "tmpdir.h"

struct fixture {
	char	 root[64];	/* mkdtemp'd */
	char	 dir[96];	/* root/data: store_open creates it */
	char	 db[128];	/* dir/agentflow.db */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (tmpdir_make(f->root, sizeof(f->root), "test_store") != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/data", f->root);
	snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, STORE_FILE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc = tmpdir_remove(f->root);

	free(f);
	return rc;
}

static struct store *
open_ok(const struct fixture *f)
{
	char err[512];
	struct store *st = store_open(f->dir, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

/* One value from the database through a separate plain connection. */
static long long
raw_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void
raw_exec(const char *db, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void
test_migrates_from_empty(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct stat sb;

	assert_int_equal(stat(f->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	store_close(st);
	store_close(NULL);

	assert_int_equal(raw_int(f->db, "PRAGMA user_version"),
	    store_schema_version());
	assert_true(store_schema_version() >= 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name IN"
	    " ('meta', 'peers', 'remote_state', 'events')"), 4);
	/* WAL is persistent in the file: a plain connection sees it. */
	{
		sqlite3 *h;
		sqlite3_stmt *s;
		assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1,
		    &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(h);
	}
}

static void
test_data_dir_errors(void **state)
{
	struct fixture *f = *state;
	char err[512], path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/file", f->root);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a directory"));
	snprintf(path, sizeof(path), "%s/no/such/dir", f->root);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create data directory"));
}

static void
test_incarnation_strictly_increases(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	uint64_t inc, prev = 0;
	char buf[32];

	for (int round = 0; round < 5; round++) {
		st = open_ok(f);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(store_next_incarnation(st, &inc), 0);
			assert_true(inc > prev);
			prev = inc;
		}
		store_close(st);
	}
	assert_int_equal(prev, 15);	/* 1 on a fresh database, +1 each call */
	st = open_ok(f);
	assert_int_equal(store_meta_get(st, "incarnation", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "15");
	store_close(st);
}

/* A peer's higher incarnation of ours lifts the counter above it, never
 * below what it already was; one out of range is refused untouched. */
static void
test_incarnation_above_what_peers_saw(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	uint64_t inc;
	char buf[32];

	assert_int_equal(store_incarnation_above(st, 40, &inc), 0);
	assert_true(inc == 41);		/* fresh database: above what was seen */
	assert_int_equal(store_incarnation_above(st, 7, &inc), 0);
	assert_true(inc == 42);		/* lower than the counter: +1 */
	assert_int_equal(store_incarnation_above(st, 42, &inc), 0);
	assert_true(inc == 43);		/* equal: above it */
	assert_int_equal(store_incarnation_above(st, UINT64_MAX, &inc), -1);
	assert_non_null(strstr(store_error(st), "range"));
	assert_int_equal(store_incarnation_above(st, (uint64_t)INT64_MAX, &inc), -1);
	/* the limit, where max + 1 would no longer be an integer next time */
	assert_int_equal(store_incarnation_above(st, STORE_INCARNATION_MAX, &inc), -1);
	store_close(st);
	st = open_ok(f);
	assert_int_equal(store_next_incarnation(st, &inc), 0);
	assert_true(inc == 44);		/* persisted */
	assert_int_equal(store_meta_get(st, "incarnation", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "44");
	store_close(st);
}

static void
test_newer_schema_refused_untouched(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	unsigned char *before, *after;
	size_t blen, alen;
	char err[512], wal[160];

	assert_int_equal(store_meta_set(st, "k", "v"), 0);
	store_close(st);
	raw_exec(f->db, "PRAGMA user_version = 99");
	before = slurp(f->db, &blen);

	assert_null(store_open(f->dir, err, sizeof(err)));
	assert_non_null(strstr(err, f->db));
	assert_non_null(strstr(err, "schema version 99 is newer"));

	after = slurp(f->db, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_int_not_equal(access(wal, F_OK), 0);
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), 99);
	free(before);
	free(after);
}

static void
test_meta(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	char buf[8];

	assert_int_equal(store_meta_get(st, "absent", buf, sizeof(buf)), 0);
	assert_int_equal(store_meta_set(st, "name", "it's; DROP TABLE meta"), 0);
	assert_int_equal(store_meta_get(st, "name", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "it's; D");	/* truncated to the buffer */
	assert_int_equal(store_meta_set(st, "name", "two"), 0);
	assert_int_equal(store_meta_get(st, "name", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "two");
	store_close(st);
}

/* ---- peers ---- */

struct peer_copy {
	char	id[64], addrs[128], obs[64], labels[128], fp[80];
	int	has_obs, has_labels;
	int64_t	seen;
};

struct peer_list {
	struct peer_copy	p[8];
	size_t			n;
};

static int
peer_cb(void *arg, const struct store_peer *p)
{
	struct peer_list *l = arg;
	struct peer_copy *c = &l->p[l->n++];

	assert_true(l->n <= 8);
	snprintf(c->id, sizeof(c->id), "%s", p->node_id);
	snprintf(c->addrs, sizeof(c->addrs), "%s", p->addresses ? p->addresses : "");
	c->has_obs = p->observed_address != NULL;
	snprintf(c->obs, sizeof(c->obs), "%s", c->has_obs ? p->observed_address : "");
	c->has_labels = p->labels != NULL;
	snprintf(c->labels, sizeof(c->labels), "%s", c->has_labels ? p->labels : "");
	snprintf(c->fp, sizeof(c->fp), "%s", p->cert_fingerprint ? p->cert_fingerprint : "");
	c->seen = p->last_seen_ms;
	return 0;
}

static int
stop_cb(void *arg, const struct store_peer *p)
{
	(void)p;
	(*(int *)arg)++;
	return 7;
}

static void
test_peers_replace_load(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct peer_list l;
	int calls = 0;
	const struct store_peer three[] = {
		{ "node-c", "[\"10.0.0.3:50051\"]", "1.2.3.4:50051",
		    "{\"zone\":\"b\"}", "sha256:cc", 3000 },
		{ "node-a", "[\"10.0.0.1:50051\",\"[::1]:50051\"]", NULL,
		    NULL, "sha256:aa", 1000 },
		{ "node-b", "[]", NULL, "{}", NULL, 2000 },
	};
	const struct store_peer one[] = {
		{ "node-z", "[\"z:1\"]", NULL, NULL, "sha256:zz", 9 },
		{ "node-z", "[\"z:2\"]", NULL, NULL, "sha256:zz", 10 },	/* dup: later wins */
	};
	const struct store_peer bad[] = {
		{ "node-q", "[\"q:1\"]", NULL, NULL, NULL, 1 },
		{ "node-r", "not json", NULL, NULL, NULL, 1 },
	};

	memset(&l, 0, sizeof(l));
	assert_int_equal(store_peers_load(st, peer_cb, &l), 0);
	assert_int_equal(l.n, 0);

	assert_int_equal(store_peers_replace(st, three, 3), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_peers_load(st, peer_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.p[0].id, "node-a");	/* ordered by id */
	assert_string_equal(l.p[0].addrs, "[\"10.0.0.1:50051\",\"[::1]:50051\"]");
	assert_false(l.p[0].has_obs);
	assert_false(l.p[0].has_labels);
	assert_string_equal(l.p[0].fp, "sha256:aa");
	assert_int_equal(l.p[0].seen, 1000);
	assert_string_equal(l.p[2].id, "node-c");
	assert_string_equal(l.p[2].obs, "1.2.3.4:50051");
	assert_string_equal(l.p[2].labels, "{\"zone\":\"b\"}");
	assert_int_equal(l.p[2].seen, 3000);

	/* A stop from the callback is returned as is. */
	assert_int_equal(store_peers_load(st, stop_cb, &calls), 7);
	assert_int_equal(calls, 1);

	/* A failed replace keeps the previous list. */
	assert_int_equal(store_peers_replace(st, bad, 2), -1);
	assert_non_null(strstr(store_error(st), "CHECK constraint failed"));
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_peers_load(st, peer_cb, &l), 0);
	assert_int_equal(l.n, 3);

	/* Replacing drops peers not in the new list; survives a reopen. */
	assert_int_equal(store_peers_replace(st, one, 2), 0);
	store_close(st);
	st = open_ok(f);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_peers_load(st, peer_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.p[0].id, "node-z");
	assert_string_equal(l.p[0].addrs, "[\"z:2\"]");
	assert_int_equal(l.p[0].seen, 10);

	assert_int_equal(store_peers_replace(st, NULL, 0), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_peers_load(st, peer_cb, &l), 0);
	assert_int_equal(l.n, 0);
	store_close(st);
}

/* ---- remote state ---- */

struct remote_copy {
	char		origin[32];
	uint64_t	inc, seq;
	unsigned char	status[16];
	size_t		len;
	int64_t		updated;
};

struct remote_list {
	struct remote_copy	r[4];
	size_t			n;
};

static int
remote_cb(void *arg, const struct store_remote *r)
{
	struct remote_list *l = arg;
	struct remote_copy *c = &l->r[l->n++];

	assert_true(l->n <= 4);
	assert_true(r->status_len <= sizeof(c->status));
	snprintf(c->origin, sizeof(c->origin), "%s", r->origin);
	c->inc = r->incarnation;
	c->seq = r->seq;
	c->len = r->status_len;
	if (r->status_len > 0)
		memcpy(c->status, r->status, r->status_len);
	c->updated = r->updated_ms;
	return 0;
}

static void
test_remote_upsert(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct remote_list l;
	const unsigned char b1[] = { 0x0a, 0x00, 0xff, 0x00, 0x01 };
	const unsigned char b2[] = { 0x12, 0x34 };
	struct store_remote a = { "node-a", 3, 10, b1, sizeof(b1), 111 };
	struct store_remote b = { "node-b", UINT64_MAX, UINT64_MAX - 1, NULL, 0,
	    222 };

	assert_int_equal(store_remote_upsert(st, &a), 0);
	assert_int_equal(store_remote_upsert(st, &b), 0);
	a.incarnation = 4;
	a.seq = 1;
	a.status = b2;
	a.status_len = sizeof(b2);
	a.updated_ms = 333;
	assert_int_equal(store_remote_upsert(st, &a), 0);
	store_close(st);

	st = open_ok(f);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_remote_load(st, remote_cb, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.r[0].origin, "node-a");
	assert_int_equal(l.r[0].inc, 4);
	assert_int_equal(l.r[0].seq, 1);
	assert_int_equal(l.r[0].len, sizeof(b2));
	assert_memory_equal(l.r[0].status, b2, sizeof(b2));
	assert_int_equal(l.r[0].updated, 333);
	/* uint64 round-trips exactly, and an empty status stays empty. */
	assert_string_equal(l.r[1].origin, "node-b");
	assert_true(l.r[1].inc == UINT64_MAX);
	assert_true(l.r[1].seq == UINT64_MAX - 1);
	assert_int_equal(l.r[1].len, 0);
	store_close(st);
}

struct forgotten_list {
	char			id[8][16];
	struct store_forgotten	f[8];
	size_t			n;
};

static int
forgotten_cb(void *arg, const char *id, const struct store_forgotten *f)
{
	struct forgotten_list *l = arg;

	assert_true(l->n < 8);
	snprintf(l->id[l->n], sizeof(l->id[0]), "%s", id);
	l->f[l->n++] = *f;
	return 0;
}

/* Forgetting a node drops its peer row and its remote state, nobody
 * else's, and forgetting an unknown node is no error. */
static void
test_forget_node(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct forgotten_list fl;
	struct remote_list rl;
	struct peer_list pl;
	const struct store_peer two[] = {
		{ "node-a", "[\"a:1\"]", NULL, NULL, NULL, 1 },
		{ "node-b", "[\"b:1\"]", NULL, NULL, NULL, 2 },
	};
	struct store_remote a = { "node-a", 1, 5, NULL, 0, 10 };
	struct store_remote b = { "node-b", 2, 6, NULL, 0, 20 };

	assert_int_equal(store_peers_replace(st, two, 2), 0);
	assert_int_equal(store_remote_upsert(st, &a), 0);
	assert_int_equal(store_remote_upsert(st, &b), 0);
	assert_int_equal(store_forget_node(st, "node-a", NULL, 8), 0);
	assert_int_equal(store_forget_node(st, "node-x", NULL, 8), 0);
	store_close(st);

	st = open_ok(f);
	memset(&fl, 0, sizeof(fl));
	assert_int_equal(store_forgotten_load(st, forgotten_cb, &fl), 0);
	assert_int_equal(fl.n, 0);	/* nothing asked to be remembered */
	memset(&pl, 0, sizeof(pl));
	assert_int_equal(store_peers_load(st, peer_cb, &pl), 0);
	assert_int_equal(pl.n, 1);
	assert_string_equal(pl.p[0].id, "node-b");
	memset(&rl, 0, sizeof(rl));
	assert_int_equal(store_remote_load(st, remote_cb, &rl), 0);
	assert_int_equal(rl.n, 1);
	assert_string_equal(rl.r[0].origin, "node-b");
	store_close(st);
}

/* What a forget remembers survives a reopen (a restart); a second
 * forget keeps the higher life and signal clock; at most keep nodes are
 * remembered, the least recently forgotten going first. */
static void
test_forgotten_survive_and_are_bounded(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct forgotten_list fl;
	struct store_forgotten a = { 100, 3, 5000 }, a2 = { 150, 2, 4000 };
	struct store_forgotten b = { 200, 0, 6000 }, c = { 300, 7, 7000 };

	assert_int_equal(store_forget_node(st, "node-a", &a, 2), 0);
	assert_int_equal(store_forget_node(st, "node-a", &a2, 2), 0);
	assert_int_equal(store_forget_node(st, "node-b", &b, 2), 0);
	store_close(st);

	st = open_ok(f);
	memset(&fl, 0, sizeof(fl));
	assert_int_equal(store_forgotten_load(st, forgotten_cb, &fl), 0);
	assert_int_equal(fl.n, 2);
	assert_string_equal(fl.id[0], "node-a");
	assert_true(fl.f[0].forgot_ms == 150);
	assert_true(fl.f[0].incarnation == 3);
	assert_true(fl.f[0].signal_ms == 5000);
	assert_string_equal(fl.id[1], "node-b");
	assert_true(fl.f[1].incarnation == 0);
	/* a third: the least recently forgotten (node-a) goes */
	assert_int_equal(store_forget_node(st, "node-c", &c, 2), 0);
	memset(&fl, 0, sizeof(fl));
	assert_int_equal(store_forgotten_load(st, forgotten_cb, &fl), 0);
	assert_int_equal(fl.n, 2);
	assert_string_equal(fl.id[0], "node-b");
	assert_string_equal(fl.id[1], "node-c");
	store_close(st);
}

/* ---- events ---- */

struct ev_list {
	char		key[32][48];	/* "origin/inc/seq" */
	size_t		n;
	int		kinds[32];
	size_t		body_len[32];
};

static int
ev_cb(void *arg, const struct store_event *ev)
{
	struct ev_list *l = arg;

	assert_true(l->n < 32);
	snprintf(l->key[l->n], sizeof(l->key[0]), "%s/%llu/%llu", ev->origin,
	    (unsigned long long)ev->incarnation, (unsigned long long)ev->seq);
	l->kinds[l->n] = ev->kind;
	l->body_len[l->n] = ev->body_len;
	/* The arrival time written by append() comes back. */
	assert_int_equal(ev->received_ms, ev->time_ms + 7);
	if (ev->body_len > 0)
		assert_int_equal(((const unsigned char *)ev->body)[0], ev->seq & 0xff);
	l->n++;
	return 0;
}

static size_t
query(struct store *st, struct ev_list *l, int64_t since, const char *origin,
    int kind, unsigned limit)
{
	struct store_event_query q = { since, origin, kind, limit, 0, 0, 0 };

	memset(l, 0, sizeof(*l));
	assert_int_equal(store_events_query(st, &q, ev_cb, l), 0);
	return l->n;
}

static void
append(struct store *st, const char *origin, uint64_t inc, uint64_t seq,
    int kind, int64_t t, int want_added)
{
	unsigned char body[300];
	struct store_event ev = { origin, inc, seq, kind, t, body,
	    (size_t)(seq % 3) * 100, t + 7, NULL, 0, 0 };
	int added = -1;

	memset(body, (int)(seq & 0xff), sizeof(body));
	assert_int_equal(store_event_append(st, &ev, &added), 0);
	assert_int_equal(added, want_added);
}

static int
unchecked_cb(void *arg, const struct store_event *ev)
{
	int *flags = arg;

	flags[ev->seq] = ev->unchecked;
	return 0;
}

/* An event taken unchecked says so when it is read back to be handed on
 * (by seq and by query), after a reopen too; one checked says not. */
static void
test_events_keep_unchecked(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct store_event ev = { "a", 1, 1, 14, 100, "x", 1, 100, "sig", 3,
	    1 };
	struct store_event_query q = { 0 };
	int flags[3] = { -1, -1, -1 };

	assert_int_equal(store_event_append(st, &ev, NULL), 0);
	ev.seq = 2;
	ev.unchecked = 0;
	assert_int_equal(store_event_append(st, &ev, NULL), 0);
	store_close(st);
	st = open_ok(f);
	assert_int_equal(store_events_after(st, "a", 1, 0, 0, unchecked_cb,
	    flags), 0);
	assert_int_equal(flags[1], 1);
	assert_int_equal(flags[2], 0);
	flags[1] = flags[2] = -1;
	q.origin = "a";
	assert_int_equal(store_events_query(st, &q, unchecked_cb, flags), 0);
	assert_int_equal(flags[1], 1);
	assert_int_equal(flags[2], 0);
	flags[1] = flags[2] = -1;
	q.newest = 1;
	assert_int_equal(store_events_query(st, &q, unchecked_cb, flags), 0);
	assert_int_equal(flags[1], 1);
	assert_int_equal(flags[2], 0);
	store_close(st);
}

static void
test_events_append_query_trim(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct ev_list l;
	uint64_t deleted = 99;

	/* a: status events at 100..104; b: user events at 150, 250; c late. */
	for (uint64_t s = 1; s <= 5; s++)
		append(st, "a", 1, s, 10, 100 + (int64_t)s - 1, 1);
	append(st, "b", 7, 1, 14, 150, 1);
	append(st, "b", 7, 2, 14, 250, 1);
	append(st, "c", 2, 1, 13, 50, 1);	/* arrives last, oldest clock */
	append(st, "a", 1, 3, 10, 102, 0);	/* redelivered: ignored */
	append(st, "a", 2, 3, 10, 300, 1);	/* new incarnation, same seq */

	assert_int_equal(query(st, &l, 0, NULL, 0, 0), 9);
	assert_string_equal(l.key[0], "c/2/1");		/* oldest time first */
	assert_string_equal(l.key[1], "a/1/1");
	assert_string_equal(l.key[8], "a/2/3");
	assert_int_equal(l.body_len[1], 100);
	assert_int_equal(l.body_len[2], 200);
	assert_int_equal(l.body_len[3], 0);

	assert_int_equal(query(st, &l, 103, NULL, 0, 0), 5);	/* since */
	assert_string_equal(l.key[0], "a/1/4");
	assert_int_equal(query(st, &l, 0, "b", 0, 0), 2);	/* by origin */
	assert_string_equal(l.key[0], "b/7/1");
	assert_string_equal(l.key[1], "b/7/2");
	assert_int_equal(query(st, &l, 0, NULL, 14, 0), 2);	/* by kind */
	assert_int_equal(l.kinds[0], 14);
	assert_int_equal(query(st, &l, 0, NULL, 10, 3), 3);	/* limit */
	assert_string_equal(l.key[2], "a/1/3");
	assert_int_equal(query(st, &l, 101, "a", 10, 2), 2);	/* all at once */
	assert_string_equal(l.key[0], "a/1/2");
	assert_int_equal(query(st, &l, 0, "nobody", 0, 0), 0);
	assert_int_equal(query(st, &l, 0, "a'; --", 0, 0), 0);

	/* A page before a time: the newest of those older, oldest first. */
	{
		struct store_event_query uq = { 0, NULL, 0, 2, 1, 0, 104 };

		memset(&l, 0, sizeof(l));
		assert_int_equal(store_events_query(st, &uq, ev_cb, &l), 0);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.key[0], "a/1/3");	/* 102 */
		assert_string_equal(l.key[1], "a/1/4");	/* 103; 104 is not < 104 */
		uq.until_ms = 50;			/* nothing older than c */
		memset(&l, 0, sizeof(l));
		assert_int_equal(store_events_query(st, &uq, ev_cb, &l), 0);
		assert_int_equal(l.n, 0);
	}

	/* Over the count, each origin keeps a fair share of its newest by
	 * arrival: c (late, old clock) survives, a (5) loses the most. */
	assert_int_equal(store_events_trim_shares(st, 100, 1 << 20, &deleted),
	    0);
	assert_int_equal(deleted, 0);
	assert_int_equal(store_events_trim_shares(st, 3, 1 << 20, &deleted), 0);
	assert_int_equal(deleted, 6);
	assert_int_equal(query(st, &l, 0, NULL, 0, 0), 3);
	assert_string_equal(l.key[0], "c/2/1");
	assert_string_equal(l.key[1], "b/7/2");
	assert_string_equal(l.key[2], "a/2/3");
	store_close(st);

	/* Data survives a reopen; every origin keeps at least one event. */
	st = open_ok(f);
	append(st, "d", 1, 1, 10, 1, 1);
	assert_int_equal(store_events_trim_shares(st, 1, 1 << 20, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(query(st, &l, 0, NULL, 0, 0), 4);

	/* One origin's flood trims that origin: the quiet ones keep theirs. */
	for (uint64_t s = 1; s <= 50; s++)
		append(st, "f", 1, s, 14, 1000 + (int64_t)s, 1);
	assert_int_equal(store_events_trim_shares(st, 10, 1 << 20, &deleted),
	    0);
	assert_int_equal(deleted, 44);	/* f keeps 10 - 4 = 6 */
	assert_int_equal(query(st, &l, 0, "f", 0, 0), 6);
	assert_string_equal(l.key[0], "f/1/45");
	assert_int_equal(query(st, &l, 0, NULL, 0, 0), 10);

	/* Bytes too: of 1000 bytes (f's newest six 600, b's one 200, c's
	 * and d's 100 each), 500 kept: the cap is 150, so f keeps only its
	 * newest (never less: an origin's newest event always stays), and b,
	 * whose one event is its newest, keeps it. */
	assert_int_equal(store_events_trim_shares(st, 10, 500, &deleted), 0);
	assert_int_equal(deleted, 5);
	assert_int_equal(query(st, &l, 0, "f", 0, 0), 1);
	assert_string_equal(l.key[0], "f/1/50");
	assert_int_equal(query(st, &l, 0, "b", 0, 0), 1);
	assert_int_equal(query(st, &l, 0, "d", 0, 0), 1);
	store_close(st);
}

static void
test_trim_cap(void **state)
{
	uint64_t a[] = { 50, 1, 1, 1, 1 }, b[] = { 3, 4 }, c[] = { 10, 10, 10 };

	(void)state;
	assert_int_equal(store_trim_cap(a, 5, 10), 6);
	assert_int_equal(store_trim_cap(b, 2, 7), UINT64_MAX);	/* fits */
	assert_int_equal(store_trim_cap(b, 2, 6), 3);
	assert_int_equal(store_trim_cap(c, 3, 15), 5);
	assert_int_equal(store_trim_cap(c, 0, 15), UINT64_MAX);
}

/* ---- damaged files ---- */

static void
test_garbage_file_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char junk[8192], *after;
	char err[512];
	size_t len;
	FILE *fp;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 13);
	assert_non_null(fp = fopen(f->db, "wb"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);

	assert_null(store_open(f->dir, err, sizeof(err)));
	assert_non_null(strstr(err, f->db));
	assert_non_null(strstr(err, "file is not a database"));
	after = slurp(f->db, &len);
	assert_int_equal(len, sizeof(junk));
	assert_memory_equal(after, junk, sizeof(junk));
	free(after);
}

static void
test_damaged_pages_give_errors(void **state)
{
	struct fixture *f = *state;
	struct store *st = open_ok(f);
	struct ev_list l;
	struct store_event_query q = { 0, NULL, 0, 0, 0, 0, 0 };
	unsigned char *db, junk[4096];
	char err[512];
	size_t len, schema_len;
	FILE *fp;
	int rc;

	/* The schema's pages are the file as the migrations left it. */
	store_close(st);
	free(slurp(f->db, &schema_len));
	st = open_ok(f);
	for (uint64_t s = 1; s <= 50; s++)
		append(st, "a", 1, s, 10, (int64_t)s, 1);
	store_close(st);

	/* Keep the schema's pages, overwrite the events' (every page after). */
	db = slurp(f->db, &len);
	assert_true(len > schema_len);
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(fp = fopen(f->db, "r+b"));
	assert_int_equal(fseek(fp, (long)schema_len, SEEK_SET), 0);
	for (size_t off = schema_len; off < len; off += sizeof(junk))
		assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	free(db);

	/* The schema is intact, so opening works; reading the events does not. */
	if ((st = store_open(f->dir, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	memset(&l, 0, sizeof(l));
	rc = store_events_query(st, &q, ev_cb, &l);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(store_error(st), "querying events"));
	assert_non_null(strstr(store_error(st), "malformed"));
	/* The store stays usable for the caller to report and close. */
	assert_int_equal(store_events_query(st, &q, ev_cb, &l), -1);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrates_from_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_dir_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incarnation_strictly_increases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incarnation_above_what_peers_saw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_replace_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forgotten_survive_and_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_append_query_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_keep_unchecked, setup, teardown),
		cmocka_unit_test(test_trim_cap),
		cmocka_unit_test_setup_teardown(test_garbage_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_pages_give_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
