/*
 * Unit tests of the pure parts of fanned-out jobs: the summary of a
 * parent's children (common/fanout_summary.c: the parent's state, its
 * reason and the CLI's exit status, with their precedence), what
 * jobs_spec_parse keeps of "to": "all" and "to": "KEY=VALUE,...", and
 * which nodes a placement resolves to over a routing with fake links
 * (jobs_fanout_nodes: the refusals and their statuses).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "fake_live.h"
#include "fanout_summary.h"
#include "jobs_fanout.h"
#include "jobs_spec.h"

/* The summary of children in the given states (NULL-terminated). */
static struct fanout_summary
summary(const char *const *states)
{
	struct fanout_summary s = { 0 };

	for (; *states != NULL; states++)
		fanout_summary_add(&s, **states == '\0' ? NULL : *states);
	return s;
}

static void
test_all_succeeded(void **state)
{
	const char *const st[] = { "succeeded", "succeeded", "succeeded", NULL };
	struct fanout_summary s = summary(st);
	char reason[128];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "succeeded");
	assert_string_equal(reason, "");
	assert_int_equal(fanout_summary_exit(&s), 0);
}

static void
test_open_child_keeps_it_running(void **state)
{
	/* "" stands for a child with no state yet (just submitted). */
	const char *const st[] = { "succeeded", "failed", "running", NULL };
	const char *const fresh[] = { "", "succeeded", NULL };
	const char *const odd[] = { "succeeded", "weird", NULL };
	struct fanout_summary s = summary(st);
	char reason[128];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "running");
	assert_int_equal(fanout_summary_exit(&s), -1);
	s = summary(fresh);
	assert_string_equal(fanout_summary_state(&s, NULL, 0), "running");
	/* An unknown state is not taken for an end. */
	s = summary(odd);
	assert_string_equal(fanout_summary_state(&s, NULL, 0), "running");
}

static void
test_reason_counts_the_children(void **state)
{
	const char *const st[] = { "succeeded", "failed", "lost", "failed",
	    "succeeded", NULL };
	const char *const lost[] = { "succeeded", "lost", NULL };
	const char *const mixed[] = { "cancelled", "expired", "succeeded", NULL };
	struct fanout_summary s = summary(st);
	char reason[128], tiny[8];

	(void)state;
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "failed");
	assert_string_equal(reason, "2 of 5 failed, 1 lost");
	s = summary(lost);
	assert_string_equal(fanout_summary_state(&s, reason, sizeof(reason)),
	    "failed");
	assert_string_equal(reason, "1 of 2 lost");
	s = summary(mixed);
	fanout_summary_state(&s, reason, sizeof(reason));
	assert_string_equal(reason, "1 of 3 cancelled, 1 expired");
	/* A short buffer: cut, still terminated. */
	fanout_summary_state(&s, tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
}

static void
test_exit_precedence(void **state)
{
	/* A failure beats a timeout; a cancel counts as a failure. */
	const char *const fail_and_lost[] = { "failed", "lost", NULL };
	const char *const expired[] = { "succeeded", "expired", NULL };
	const char *const lost[] = { "lost", NULL };
	const char *const cancelled[] = { "cancelled", "expired", NULL };
	struct fanout_summary s;

	(void)state;
	s = summary(fail_and_lost);
	assert_int_equal(fanout_summary_exit(&s), 1);
	s = summary(expired);
	assert_int_equal(fanout_summary_exit(&s), FANOUT_EXIT_EXPIRED);
	s = summary(lost);
	assert_int_equal(fanout_summary_exit(&s), FANOUT_EXIT_EXPIRED);
	s = summary(cancelled);
	assert_int_equal(fanout_summary_exit(&s), 1);
}

static void
test_spec_keeps_the_placement(void **state)
{
	json_t *body, *j;
	char err[256];
	int st;

	(void)state;
	body = json_pack("{s:s, s:s}", "task", "t", "to", "all");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "fanout")));
	assert_null(json_object_get(j, "selector"));
	assert_null(json_object_get(j, "node"));
	assert_string_equal(json_string_value(json_object_get(j, "to")), "all");
	json_decref(j);
	json_decref(body);
	body = json_pack("{s:s, s:s}", "task", "t", "to", "role=db,zone=a");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "fanout")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "selector"), "zone")), "a");
	json_decref(j);
	json_decref(body);
	/* "any:" is still one node, never a fan-out. */
	body = json_pack("{s:s, s:s}", "task", "t", "to", "any:role=db");
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	assert_null(json_object_get(j, "fanout"));
	json_decref(j);
	json_decref(body);
	body = json_pack("{s:s, s:s}", "task", "t", "to", "role=db,=x");
	assert_null(jobs_spec_parse(body, &st, err, sizeof(err)));
	assert_int_equal(st, 400);
	assert_non_null(strstr(err, "selector"));
	json_decref(body);
}

/* self (role=db), n2 and n3 (role=web) linked up; n4 present and
 * reachable through n3, its labels not known yet. */
static struct routing *
mesh(struct fake_live *live)
{
	const struct routing_label web[] = { { "role", "web" } };
	const struct routing_label db[] = { { "role", "db" } };
	struct routing *r = routing_with("self", live);

	LIVE(live, "n2");
	routing_set_links(r, "n2", (const char *[]){ "self", "n3" }, 2);
	routing_set_links(r, "n3", (const char *[]){ "n2", "n4" }, 2);
	routing_set_links(r, "n4", (const char *[]){ "n3" }, 1);
	routing_set_present(r, "self", 1);
	routing_set_labels(r, "self", db, 1);
	routing_set_present(r, "n2", 1);
	routing_set_labels(r, "n2", web, 1);
	routing_set_present(r, "n3", 1);
	routing_set_labels(r, "n3", web, 1);
	routing_set_present(r, "n4", 1);
	return r;
}

/* The nodes "to" resolves to, joined by spaces, or "STATUS: err". */
static const char *
nodes(struct routing *r, const char *to, char *buf, size_t len)
{
	json_t *t = json_string(to), *ids, *v;
	char err[512];
	size_t i, at = 0;
	int status = 0;

	buf[0] = '\0';
	if ((ids = jobs_fanout_nodes(r, t, &status, err, sizeof(err))) == NULL)
		snprintf(buf, len, "%d: %s", status, err);
	json_array_foreach(ids, i, v)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "",
		    json_string_value(v));
	json_decref(ids);
	json_decref(t);
	return buf;
}

static void
test_placement_resolves_like_a_command_target(void **state)
{
	struct fake_live live = { 0 };
	struct routing *r = mesh(&live);
	const struct routing_label web[] = { { "role", "web" } };
	char buf[1024];

	(void)state;
	/* "all" takes every present node, this one included. */
	assert_string_equal(nodes(r, "all", buf, sizeof(buf)),
	    "n2 n3 n4 self");
	/* n4 could be a web node: refused, though n2 and n3 match (and
	 * self for role=db: n4 could be one too). */
	nodes(r, "role=web", buf, sizeof(buf));
	assert_non_null(strstr(buf, "503: "));
	assert_non_null(strstr(buf, "n4"));
	nodes(r, "role=db", buf, sizeof(buf));
	assert_non_null(strstr(buf, "503: "));
	/* Once its labels are known: it is one, or no node matches. */
	routing_set_labels(r, "n4", web, 1);
	assert_string_equal(nodes(r, "role=web", buf, sizeof(buf)), "n2 n3 n4");
	assert_string_equal(nodes(r, "role=db", buf, sizeof(buf)), "self");
	nodes(r, "role=cache", buf, sizeof(buf));
	assert_non_null(strstr(buf, "404: "));
	nodes(r, "=web", buf, sizeof(buf));
	assert_non_null(strstr(buf, "400: "));
	/* A node that left is no destination. */
	routing_set_present(r, "n3", 0);
	assert_string_equal(nodes(r, "role=web", buf, sizeof(buf)), "n2 n4");
	routing_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_succeeded),
		cmocka_unit_test(test_open_child_keeps_it_running),
		cmocka_unit_test(test_reason_counts_the_children),
		cmocka_unit_test(test_exit_precedence),
		cmocka_unit_test(test_spec_keeps_the_placement),
		cmocka_unit_test(test_placement_resolves_like_a_command_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
