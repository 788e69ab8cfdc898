/*
 * Unit tests of the notices kept over a restart: node/store/store_notify.c
 * (the waiting rows and the outcomes, each table bounded, oldest first,
 * read back in order, and still there after the database is reopened)
 * and node/work/notify_store.c's checks of a row read back (a bad one is
 * refused with its fault named, so the restore skips it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify_priv.h"
#include "store.h"
#include "store_notify.h"
#include "tmpdir.h"

struct fixture {
	char		 root[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];

	if (f == NULL || tmpdir_make(f->root, sizeof(f->root),
	    "test_notify_store") != 0 ||
	    (f->st = store_open(f->root, err, sizeof(err))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	store_close(f->st);
	rc = tmpdir_remove(f->root);
	free(f);
	return rc;
}

static int
collect(void *arg, const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	json_array_append_new(arg, j);
	return 0;
}

#define ALERT "{\"alert_id\": \"a1-%d\", \"rule\": \"disk\", " \
    "\"severity\": \"warning\", \"state\": \"firing\", \"subject\": \"/\", " \
    "\"message\": \"full\", \"value\": 97.5, \"threshold\": 90, " \
    "\"fired_ms\": 1800000000000, \"resolved_ms\": 0}"

static char *
body_of(int n)
{
	static char buf[512];
	char a[400];

	snprintf(a, sizeof(a), ALERT, n);
	snprintf(buf, sizeof(buf), "{\"alerts\": [%s]}", a);
	return buf;
}

static void
test_waiting_rows_bounded_and_read_back(void **state)
{
	struct fixture *f = *state;
	struct store_notify_row r = { .kind = "notice", .channel = "hook",
	    .what = "firing" };
	json_t *rows = json_array(), *row;
	char err[512];

	for (int i = 1; i <= 6; i++) {
		r.id = i;
		r.attempts = i % 3;
		r.next_ms = 1000 * i;
		r.body = body_of(i);
		assert_int_equal(store_notify_put(f->st, &r, 6), 0);
	}
	/* full: a new row is refused, none is deleted to make room */
	r.id = 7;
	r.body = body_of(7);
	assert_int_equal(store_notify_put(f->st, &r, 6), -1);
	assert_non_null(strstr(store_error(f->st), "full"));
	/* the oldest, rewritten in place (a failed attempt), stays */
	r.id = 1;
	r.attempts = 7;
	r.next_ms = 99;
	r.body = body_of(1);
	assert_int_equal(store_notify_put(f->st, &r, 6), 0);
	assert_int_equal(store_notify_del(f->st, 2), 0);
	assert_int_equal(store_notify_del(f->st, 12345), 0);	/* none */
	r.id = 8;
	r.attempts = 0;
	r.body = body_of(8);
	assert_int_equal(store_notify_put(f->st, &r, 6), 0);
	/* reopened: what a restart reads */
	store_close(f->st);
	assert_non_null(f->st = store_open(f->root, err, sizeof(err)));
	assert_int_equal(store_notify_last_id(f->st, 1000), 8);
	assert_int_equal(store_notify_last_id(f->st, 7), 6);
	assert_int_equal(store_notify_load(f->st, 4, collect, rows), 0);
	/* 1, 3-6 and 8; the first 4 read */
	assert_int_equal(json_array_size(rows), 4);
	row = json_array_get(rows, 0);
	assert_int_equal(json_integer_value(json_object_get(row, "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(row, "attempts")), 7);
	assert_int_equal(json_integer_value(json_object_get(row, "next_ms")), 99);
	assert_string_equal(json_string_value(json_object_get(row, "channel")),
	    "hook");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(row, "body"), "alerts"), 0),
	    "alert_id")), "a1-1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows,
	    3), "id")), 5);
	/* those past the fourth, dropped: 1, 3, 4, 5 are left */
	assert_int_equal(store_notify_del_after(f->st, 5), 0);
	assert_int_equal(store_notify_last_id(f->st, 1000), 5);
	json_array_clear(rows);
	assert_int_equal(store_notify_load(f->st, 100, collect, rows), 0);
	assert_int_equal(json_array_size(rows), 4);
	json_decref(rows);
}

static void
test_outcomes_bounded_per_alert_and_in_all(void **state)
{
	struct fixture *f = *state;
	json_t *out = json_array();
	char body[128], id[16];

	/* alert a1-1: 5 outcomes, 3 kept; then 4 more alerts, 1 each */
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"alert_id\": \"a1-1\", \"n\": %d}",
		    i);
		assert_int_equal(store_notify_outcome(f->st, "a1-1", body, 3, 6),
		    0);
	}
	for (int i = 2; i <= 5; i++) {
		snprintf(id, sizeof(id), "a1-%d", i);
		snprintf(body, sizeof(body), "{\"alert_id\": \"%s\", \"n\": %d}",
		    id, 10 + i);
		assert_int_equal(store_notify_outcome(f->st, id, body, 3, 6), 0);
	}
	/* 3 of a1-1 (n 2, 3, 4) + 4 others = 7 > 6: the oldest (n 2) went */
	assert_int_equal(store_notify_outcomes_load(f->st, 100, collect, out),
	    0);
	assert_int_equal(json_array_size(out), 6);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out,
	    0), "n")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out,
	    5), "n")), 15);
	json_array_clear(out);
	/* the newest 2, oldest first */
	assert_int_equal(store_notify_outcomes_load(f->st, 2, collect, out), 0);
	assert_int_equal(json_array_size(out), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out,
	    0), "n")), 14);
	json_decref(out);
}

/* tmpl with its one "%s" replaced by alerts, parsed. */
static json_t *
row_of(const char *tmpl, const char *alerts)
{
	const char *at = strstr(tmpl, "%s");
	char text[4096];
	json_t *row;

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - tmpl), tmpl, alerts,
	    at + 2);
	row = json_loads(text, 0, NULL);
	assert_non_null(row);
	return row;
}

static void
refused(const char *fmt, const char *alerts, const char *fault)
{
	json_t *row = row_of(fmt, alerts);
	char why[96] = "";

	if (notify_store_row_valid(row, why, sizeof(why)))
		fail_msg("taken: %s", json_dumps(row, 0));
	if (strncmp(why, fault, strlen(fault)) != 0)
		fail_msg("%s, not %s", why, fault);
	json_decref(row);
}

static void
test_bad_rows_are_refused(void **state)
{
	const char *good = "{\"id\": 3, \"kind\": \"notice\", \"channel\": "
	    "\"hook\", \"what\": \"firing\", \"attempts\": 2, \"next_ms\": 5, "
	    "\"body\": {\"alerts\": %s}}";
	char one[512], two[1024], other[512];
	json_t *row;
	char why[96];

	(void)state;
	snprintf(one, sizeof(one), "[" ALERT "]", 1);
	snprintf(two, sizeof(two), "[" ALERT ", " ALERT "]", 1, 2);
	row = row_of(good, two);
	assert_true(notify_store_row_valid(row, why, sizeof(why)));
	json_decref(row);
	row = row_of("{\"id\": 4, \"kind\": \"group\", \"channel\": \"g\", "
	    "\"what\": \"resolved\", \"attempts\": 0, \"next_ms\": 5, "
	    "\"body\": {\"alerts\": %s}}", one);
	assert_true(notify_store_row_valid(row, why, sizeof(why)));
	json_decref(row);
	/* a message of lines and tabs, as alerts keep it (alerts.c) */
	memcpy(strstr(two, "\"full\""), "\"\\n\\t\"", 6);
	row = row_of(good, two);
	assert_true(notify_store_row_valid(row, why, sizeof(why)));
	json_decref(row);

	refused("{\"kind\": \"notice\", \"body\": {\"alerts\": %s}}", one, "no id");
	refused("{\"id\": 1, \"kind\": \"mail\", \"body\": {\"alerts\": %s}}",
	    one, "kind:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\\u0001\", "
	    "\"body\": {\"alerts\": %s}}", one, "channel:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"later\", \"body\": {\"alerts\": %s}}", one, "what:");
	refused("{\"id\": 1, \"kind\": \"group\", \"channel\": \"h\", "
	    "\"what\": \"repeat\", \"body\": {\"alerts\": %s}}", one, "what:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"firing\", \"attempts\": 10, \"next_ms\": 1, "
	    "\"body\": {\"alerts\": %s}}", one, "attempts:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"firing\", \"attempts\": -1, \"next_ms\": 1, "
	    "\"body\": {\"alerts\": %s}}", one, "attempts:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"firing\", \"attempts\": 0, \"next_ms\": \"soon\", "
	    "\"body\": {\"alerts\": %s}}", one, "next_ms:");
	refused(good, "[]", "body.alerts:");
	refused(good, "[{\"alert_id\": \"a1-1\"}]", "body.alerts:");
	/* an alert whose rule is a number; two of different rules */
	snprintf(other, sizeof(other), "[" ALERT "]", 1);
	memcpy(strstr(other, "\"disk\""), "123456", 6);
	refused(good, other, "body.alerts:");
	snprintf(two, sizeof(two), "[" ALERT ", " ALERT "]", 1, 2);
	memcpy(strstr(strstr(two, "a1-2"), "disk"), "dusk", 4);
	refused(good, two, "body.alerts:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"firing\", \"attempts\": 0, \"next_ms\": 1, "
	    "\"body\": {\"alerts\": %s, \"after\": 3}}", one, "body.after:");
	refused("{\"id\": 1, \"kind\": \"notice\", \"channel\": \"h\", "
	    "\"what\": \"firing\", \"attempts\": 0, \"next_ms\": 1, "
	    "\"body\": {\"alerts\": %s}}",
	    "[{\"alert_id\": \"bad id\", \"rule\": \"r\", \"severity\": \"w\", "
	    "\"state\": \"f\", \"subject\": \"\", \"message\": \"\", \"value\": 1,"
	    " \"threshold\": 1, \"fired_ms\": 1, \"resolved_ms\": 0}]",
	    "body.alerts:");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_waiting_rows_bounded_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outcomes_bounded_per_alert_and_in_all, setup, teardown),
		cmocka_unit_test(test_bad_rows_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
