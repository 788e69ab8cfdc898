/*
 * Unit tests of node/work/notify_group.c: what a group's notice says: the
 * summary alert (highest severity, subjects joined and cut, each alert a
 * line, ids, earliest fire and latest resolve, the count) and a webhook's
 * body listing the alerts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "notify_group.h"

static json_t *
alert(const char *id, const char *sev, const char *subject, const char *msg,
    json_int_t fired, json_int_t resolved)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:I}",
	    "alert_id", id, "rule", "peer_unreachable", "severity", sev, "state",
	    "firing", "subject", subject, "message", msg, "value", 1.0,
	    "threshold", 0.0, "fired_ms", fired, "resolved_ms", resolved);
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_summary_names_them_all(void **state)
{
	json_t *alerts = json_array(), *s;

	(void)state;
	json_array_append_new(alerts, alert("a1-1", "warning", "node-2",
	    "no answer", 2000, 0));
	json_array_append_new(alerts, alert("a1-2", "critical", "node-3", "",
	    1000, 5000));
	json_array_append_new(alerts, alert("a1-3", "info", "", "gone", 3000,
	    4000));
	s = notify_group_summary(alerts);
	assert_string_equal(str(s, "rule"), "peer_unreachable");
	assert_string_equal(str(s, "severity"), "critical");
	assert_string_equal(str(s, "subject"), "node-2, node-3, a1-3");
	assert_string_equal(str(s, "message"), "3 alerts\nnode-2: no answer\n"
	    "node-3\na1-3: gone");
	assert_string_equal(str(s, "alert_id"), "a1-1 a1-2 a1-3");
	assert_int_equal(json_integer_value(json_object_get(s, "fired_ms")), 1000);
	assert_int_equal(json_integer_value(json_object_get(s, "resolved_ms")),
	    5000);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 3);
	json_decref(s);
	json_decref(alerts);
}

static void
test_many_subjects_are_cut(void **state)
{
	json_t *alerts = json_array(), *s;
	char id[16], subject[64];
	const char *text;

	(void)state;
	for (int i = 0; i < NOTIFY_GROUP_MAX; i++) {
		snprintf(id, sizeof(id), "a-%d", i);
		snprintf(subject, sizeof(subject), "a-node-with-a-long-name-%02d", i);
		json_array_append_new(alerts, alert(id, "warning", subject, "",
		    1000, 0));
	}
	s = notify_group_summary(alerts);
	text = str(s, "subject");
	assert_true(strlen(text) <= NOTIFY_GROUP_SUBJECT_MAX + 32);
	assert_non_null(strstr(text, "a-node-with-a-long-name-00, "));
	assert_non_null(strstr(text, " more"));
	assert_int_equal(json_integer_value(json_object_get(s, "count")),
	    NOTIFY_GROUP_MAX);
	json_decref(s);
	json_decref(alerts);
}

static void
test_webhook_body_lists_the_alerts(void **state)
{
	json_t *alerts = json_array(), *b;

	(void)state;
	json_array_append_new(alerts, alert("a1-1", "warning", "node-2", "",
	    1, 0));
	json_array_append_new(alerts, alert("a1-2", "warning", "node-3", "",
	    2, 0));
	b = notify_group_webhook("node-1", "resolved", alerts);
	assert_string_equal(str(b, "kind"), "alert_group");
	assert_string_equal(str(b, "state"), "resolved");
	assert_string_equal(str(b, "node"), "node-1");
	assert_string_equal(str(b, "rule"), "peer_unreachable");
	assert_false(json_is_true(json_object_get(b, "repeat")));
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 2);
	assert_true(json_equal(json_object_get(b, "alerts"), alerts));
	json_decref(b);
	json_decref(alerts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_names_them_all),
		cmocka_unit_test(test_many_subjects_are_cut),
		cmocka_unit_test(test_webhook_body_lists_the_alerts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
