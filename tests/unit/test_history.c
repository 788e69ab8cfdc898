/*
 * Unit tests of node/host/history.c, the node's own metric history: the
 * minutes are the mean and max of their samples; a query merges points to
 * fit its bound and picks the ring that covers the range; both rings wrap
 * at their size without growing; a stored minute (through
 * store_history.c and back) restores, and a minute stored in progress is
 * resumed; bad stored points and out-of-order samples are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <jansson.h>

#include "history.h"
#include "store.h"
#include "store_history.h"
#include "tmpdir.h"

#define T0	(1800000000000LL)	/* a minute boundary */

static void
vals(double *v, double x)
{
	for (int i = 0; i < HISTORY_NSERIES; i++)
		v[i] = x * (i + 1);
}

/* One sample a second from t0 for n seconds, value i % 60 scaled. */
static void
feed(struct history *h, int64_t t0, int n)
{
	double v[HISTORY_NSERIES];

	for (int i = 0; i < n; i++) {
		vals(v, (double)(i % 60));
		assert_int_not_equal(history_add(h, t0 + (int64_t)i * 1000, v), -1);
	}
}

static double
at(const json_t *q, const char *obj, const char *name, size_t i)
{
	return json_number_value(json_array_get(json_object_get(
	    json_object_get(q, obj), name), i));
}

static void
test_minutes_are_mean_and_max(void **state)
{
	struct history *h = history_new();
	struct history_point p;
	double v[HISTORY_NSERIES];
	int closed = 0;

	(void)state;
	/* 0..59 in the first minute; the 61st sample closes it. */
	for (int i = 0; i <= 60; i++) {
		vals(v, (double)(i % 60));
		closed += history_add(h, T0 + (int64_t)i * 1000, v);
	}
	assert_int_equal(closed, 1);
	const struct history_point *m = history_last_minute(h);
	assert_non_null(m);
	assert_int_equal(m->t_ms, T0);
	assert_int_equal(m->n, 60);
	assert_float_equal(m->mean[HISTORY_CPU], 29.5, 1e-4);
	assert_float_equal(m->max[HISTORY_CPU], 59, 1e-4);
	assert_float_equal(m->max[HISTORY_NET_TX], 59 * 6, 1e-3);
	assert_int_equal(history_current(h, &p), 1);
	assert_int_equal(p.t_ms, T0 + 60000);
	assert_int_equal(p.n, 1);
	/* Not after the last: refused, nothing changes. */
	assert_int_equal(history_add(h, T0 + 60000, v), -1);
	assert_int_equal(history_add(h, T0, v), -1);
	/* Garbage values count as 0. */
	v[0] = -5;
	v[1] = 0.0 / 0.0;
	assert_int_equal(history_add(h, T0 + 61000, v), 0);
	history_current(h, &p);
	assert_int_equal(p.n, 2);
	assert_float_equal(p.max[HISTORY_CPU], 0, 0);
	history_free(h);
	history_free(NULL);
}

static void
test_query_merges_to_fit(void **state)
{
	struct history *h = history_new();
	json_t *q;

	(void)state;
	feed(h, T0, 600);
	q = history_query(h, T0, T0 + 599000, 1000, 0);
	assert_string_equal(json_string_value(json_object_get(q, "resolution")),
	    "sample");
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 600);
	json_decref(q);
	/* 600 into 7: groups of 85 or 86. */
	q = history_query(h, T0, T0 + 599000, 7, 0);
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 7);
	for (int s = 0; s < HISTORY_NSERIES; s++) {
		assert_int_equal(json_array_size(json_object_get(json_object_get(q,
		    "series"), history_series_name(s))), 7);
		assert_int_equal(json_array_size(json_object_get(json_object_get(q,
		    "max"), history_series_name(s))), 7);
	}
	assert_int_equal(json_integer_value(json_array_get(json_object_get(q,
	    "t_ms"), 1)), T0 + 85000);
	/* 0..59 then 0..24: mean (1770 + 300) / 85, max 59. */
	assert_float_equal(at(q, "series", "cpu_percent", 0), 2070.0 / 85, 1e-3);
	assert_float_equal(at(q, "max", "cpu_percent", 0), 59, 1e-9);
	json_decref(q);
	/* A window inside: only its points, bounds inclusive. */
	q = history_query(h, T0 + 10000, T0 + 19000, 300, 0);
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 10);
	assert_float_equal(at(q, "series", "cpu_percent", 0), 10, 1e-9);
	json_decref(q);
	/* Bounded in bytes: fewer points, said so. */
	q = history_query(h, T0, T0 + 599000, 600, 8000);
	assert_true(json_dumpb(q, NULL, 0, JSON_COMPACT) <= 8000);
	assert_true(json_array_size(json_object_get(q, "t_ms")) >= 10);
	assert_true(json_array_size(json_object_get(q, "t_ms")) < 600);
	assert_true(json_is_true(json_object_get(q, "truncated")));
	json_decref(q);
	q = history_query(h, T0, T0 + 599000, 600, 1000000);
	assert_true(json_is_false(json_object_get(q, "truncated")));
	json_decref(q);
	/* Nothing there. */
	q = history_query(h, T0 + 700000, T0 + 800000, 300, 0);
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 0);
	json_decref(q);
	history_free(h);
}

static void
test_rings_wrap_within_bounds(void **state)
{
	struct history *h = history_new();
	json_t *q;
	int64_t end;

	(void)state;
	assert_true(HISTORY_MAX_BYTES < 1024 * 1024);
	/* An hour and ten minutes of samples: the first ten minutes are
	 * dropped from the sample ring, so an older range reads minutes. */
	feed(h, T0, 4200);
	end = T0 + 4199000;
	q = history_query(h, end - 3599000, end, 1000, 0);
	assert_string_equal(json_string_value(json_object_get(q, "resolution")),
	    "sample");
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 1000);
	json_decref(q);
	q = history_query(h, T0, end, 1000, 0);
	assert_string_equal(json_string_value(json_object_get(q, "resolution")),
	    "minute");
	/* 70 minutes, the last in progress. */
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 70);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(q,
	    "t_ms"), 0)), T0);
	json_decref(q);
	history_free(h);

	/* Eight days of minutes: only the last seven are kept, in order. */
	h = history_new();
	double v[HISTORY_NSERIES];
	int64_t t = T0;
	for (int i = 0; i < 8 * 24 * 60 + 1; i++, t += HISTORY_MINUTE_MS) {
		vals(v, (double)i);
		history_add(h, t, v);
	}
	q = history_query(h, 0, INT64_MAX, 1000, 0);
	assert_string_equal(json_string_value(json_object_get(q, "resolution")),
	    "minute");
	/* 10080 closed + 1 in progress, merged into 1000. */
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 1000);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(q,
	    "t_ms"), 0)), T0 + (int64_t)24 * 60 * HISTORY_MINUTE_MS);
	json_decref(q);
	history_free(h);
}

struct restore_ctx {
	struct history	*h;
	int		 rows;
};

static int
restore_cb(void *arg, const char *body)
{
	struct restore_ctx *c = arg;
	struct history_point p;
	json_t *j = json_loads(body, 0, NULL);

	assert_int_equal(history_point_from_json(j, &p), 0);
	assert_int_equal(history_restore(c->h, &p), 0);
	json_decref(j);
	c->rows++;
	return 0;
}

static void
put(struct store *st, const struct history_point *p)
{
	json_t *j = history_point_json(p);
	char *s = json_dumps(j, JSON_COMPACT);

	assert_int_equal(store_history_put(st, p->t_ms, s, T0 - 3600000), 0);
	free(s);
	json_decref(j);
}

static void
test_restore_through_the_store(void **state)
{
	struct history *a = history_new(), *b = history_new();
	struct restore_ctx c = { b, 0 };
	struct history_point p, first, old = { T0 - 7200000, 1, { 1 }, { 1 } };
	struct store *st;
	char dir[64], err[256];
	double v[HISTORY_NSERIES];
	json_t *q;

	(void)state;
	assert_int_equal(tmpdir_make(dir, sizeof(dir), "test_history"), 0);
	st = store_open(dir, err, sizeof(err));
	assert_non_null(st);
	/* Two minutes and a half: two closed, one in progress (30 s). */
	feed(a, T0, 61);
	first = *history_last_minute(a);
	for (int i = 61; i < 150; i++) {
		vals(v, (double)(i % 60));
		history_add(a, T0 + (int64_t)i * 1000, v);
	}
	put(st, &old);				/* trimmed by the next put */
	put(st, &first);
	put(st, history_last_minute(a));
	assert_int_equal(history_current(a, &p), 1);
	put(st, &p);
	assert_int_equal(store_history_load(st, 0, restore_cb, &c), 0);
	assert_int_equal(c.rows, 3);
	/* Restarted: the minutes are there. */
	q = history_query(b, T0, INT64_MAX, 300, 0);
	assert_string_equal(json_string_value(json_object_get(q, "resolution")),
	    "minute");
	assert_int_equal(json_array_size(json_object_get(q, "t_ms")), 3);
	assert_float_equal(at(q, "series", "cpu_percent", 0), 29.5, 1e-3);
	json_decref(q);
	/* The minute in progress resumes: 30 samples then 10 more. */
	for (int i = 0; i < 10; i++) {
		vals(v, 100);
		assert_int_equal(history_add(b, T0 + 150000 + i * 1000, v), 0);
	}
	assert_int_equal(history_current(b, &p), 1);
	assert_int_equal(p.n, 40);
	assert_float_equal(p.max[HISTORY_CPU], 100, 0);
	/* Restored after samples, out of order, off a minute: refused. */
	assert_int_equal(history_restore(b, &old), -1);
	history_free(b);
	b = history_new();
	old.t_ms = T0;
	assert_int_equal(history_restore(b, &old), 0);
	assert_int_equal(history_restore(b, &old), -1);
	old.t_ms = T0 + 60001;
	assert_int_equal(history_restore(b, &old), -1);
	store_close(st);
	assert_int_equal(tmpdir_remove(dir), 0);
	history_free(a);
	history_free(b);
}

static void
test_bad_stored_points(void **state)
{
	static const char *const bad[] = {
		"{}", "[]", "null",
		"{\"t_ms\":60000,\"n\":0,\"mean\":[0,0,0,0,0,0],\"max\":[0,0,0,0,0,0]}",
		"{\"t_ms\":60000,\"n\":1,\"mean\":[0,0,0,0,0],\"max\":[0,0,0,0,0,0]}",
		"{\"t_ms\":60000,\"n\":1,\"mean\":[0,0,0,0,0,-1],\"max\":[0,0,0,0,0,0]}",
		"{\"t_ms\":60000,\"n\":1,\"mean\":[0,0,0,0,0,\"x\"],\"max\":[0,0,0,0,0,0]}",
		"{\"t_ms\":-1,\"n\":1,\"mean\":[0,0,0,0,0,0],\"max\":[0,0,0,0,0,0]}",
		"{\"t_ms\":60000,\"n\":1,\"mean\":[0,0,0,0,0,1e300],\"max\":[0,0,0,0,0,0]}",
	};
	struct history_point p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);

		assert_int_equal(history_point_from_json(j, &p), -1);
		json_decref(j);
	}
	assert_int_equal(history_point_from_json(NULL, &p), -1);
}

/* A clock that went back (a start below what the last run stored, or a
 * step back in a run) drops what is dated after it and goes on: it used
 * to trip the rings' order check and abort the node every minute. */
static void
test_a_clock_gone_back(void **state)
{
	struct history *h = history_new();
	struct history_point p = { 0 };
	double v[HISTORY_NSERIES];

	(void)state;
	p.n = 1;
	p.t_ms = T0 + 5 * HISTORY_MINUTE_MS;	/* stored by a clock ahead */
	assert_int_equal(history_restore(h, &p), 0);
	feed(h, T0, 130);			/* minutes T0, T0+1 close */
	assert_int_equal(history_last_minute(h)->t_ms, T0 + HISTORY_MINUTE_MS);
	/* A step back of seconds waits; one of ten minutes starts over. */
	vals(v, 1);
	assert_int_equal(history_add(h, T0 + 125000, v), -1);
	assert_int_not_equal(history_add(h, T0 - 10 * HISTORY_MINUTE_MS, v), -1);
	assert_null(history_last_minute(h));	/* T0's were after it */
	feed(h, T0 - 10 * HISTORY_MINUTE_MS + 1000, 70);
	assert_int_equal(history_last_minute(h)->t_ms,
	    T0 - 10 * HISTORY_MINUTE_MS);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minutes_are_mean_and_max),
		cmocka_unit_test(test_query_merges_to_fit),
		cmocka_unit_test(test_rings_wrap_within_bounds),
		cmocka_unit_test(test_restore_through_the_store),
		cmocka_unit_test(test_bad_stored_points),
		cmocka_unit_test(test_a_clock_gone_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
