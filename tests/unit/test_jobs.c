/*
 * Unit tests of node/work/jobs_spec.c: the job state table (which moves
 * are allowed, which states are final) and the one validation of a
 * submitted job (every field's refusal names the field; what is kept and
 * how the arguments' hash tells one job from another), and the node
 * principal of node-internal job commands.
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

#include "jobs_spec.h"

static void
test_state_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < JOBS_NSTATES; s++)
		assert_int_equal(jobs_state_parse(jobs_state_name(s)), s);
	assert_int_equal(jobs_state_parse("done"), -1);
	assert_int_equal(jobs_state_parse(NULL), -1);
	assert_null(jobs_state_name(JOBS_NSTATES));
}

static void
test_state_table(void **state)
{
	(void)state;
	assert_true(jobs_state_may(JOBS_QUEUED, JOBS_DISPATCHED));
	assert_true(jobs_state_may(JOBS_QUEUED, JOBS_QUEUED));	/* requeued */
	assert_false(jobs_state_may(JOBS_RUNNING, JOBS_DISPATCHED));
	assert_true(jobs_state_may(JOBS_QUEUED, JOBS_EXPIRED));
	assert_true(jobs_state_may(JOBS_DISPATCHED, JOBS_RUNNING));
	assert_true(jobs_state_may(JOBS_DISPATCHED, JOBS_QUEUED));
	assert_true(jobs_state_may(JOBS_RUNNING, JOBS_QUEUED));	/* node dead */
	assert_true(jobs_state_may(JOBS_RUNNING, JOBS_LOST));
	assert_true(jobs_state_may(JOBS_RUNNING, JOBS_SUCCEEDED));
	/* A running job does not expire: its result may still come. */
	assert_false(jobs_state_may(JOBS_RUNNING, JOBS_EXPIRED));
	assert_false(jobs_state_may(JOBS_QUEUED, JOBS_RUNNING));
	assert_false(jobs_state_may(JOBS_QUEUED, JOBS_SUCCEEDED));
	/* Final is final. */
	for (int f = JOBS_SUCCEEDED; f < JOBS_NSTATES; f++) {
		assert_true(jobs_state_final(f));
		for (int t = 0; t < JOBS_NSTATES; t++)
			assert_false(jobs_state_may(f, t));
	}
	for (int s = JOBS_QUEUED; s <= JOBS_RUNNING; s++)
		assert_false(jobs_state_final(s));
	assert_false(jobs_state_may(JOBS_NSTATES, JOBS_QUEUED));
}

/* Parses text; returns the job or NULL with err and *status set. */
static json_t *
parse(const char *text, int *status, char *err, size_t errlen)
{
	json_t *body = json_loads(text, 0, NULL), *j;

	assert_non_null(body);
	j = jobs_spec_parse(body, status, err, errlen);
	json_decref(body);
	return j;
}

static void
test_valid_jobs(void **state)
{
	char err[512];
	int st;
	json_t *j;

	(void)state;
	j = parse("{\"task\": \"t\", \"to\": \"node-2\", \"payload\": {\"b\": 1, "
	    "\"a\": [1]}, \"key\": \"k\", \"deadline_ms\": 60000, "
	    "\"at_most_once\": true}", &st, err, sizeof(err));
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "node-2");
	assert_null(json_object_get(j, "selector"));
	assert_string_equal(json_string_value(json_object_get(j, "payload")),
	    "{\"a\":[1],\"b\":1}");
	assert_int_equal(json_integer_value(json_object_get(j, "deadline_ms")),
	    60000);
	assert_true(json_is_true(json_object_get(j, "at_most_once")));
	assert_int_equal(json_string_length(json_object_get(j, "args_hash")), 64);
	assert_null(json_object_get(j, "command"));
	json_decref(j);

	j = parse("{\"task\": \"t\", \"to\": \"any:role=worker,site=home\"}", &st,
	    err, sizeof(err));
	assert_non_null(j);
	assert_null(json_object_get(j, "node"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j,
	    "selector"), "site")), "home");
	assert_int_equal(json_integer_value(json_object_get(j, "deadline_ms")),
	    JOBS_DEADLINE_DEFAULT_MS);
	assert_true(json_is_null(json_object_get(j, "payload")));
	json_decref(j);

	j = parse("{\"command\": [\"/bin/true\"], \"to\": \"any\"}", &st, err,
	    sizeof(err));
	assert_non_null(j);
	assert_null(json_object_get(j, "selector"));
	json_decref(j);
}

static void
test_args_hash_tells_jobs_apart(void **state)
{
	char err[512];
	int st;
	json_t *a, *b, *c, *d;

	(void)state;
	a = parse("{\"task\": \"t\", \"to\": \"node-2\", \"payload\": {\"x\": 1, "
	    "\"y\": 2}}", &st, err, sizeof(err));
	/* Same job, other placement, key and deadline, keys reordered. */
	b = parse("{\"task\": \"t\", \"to\": \"any\", \"key\": \"k\", "
	    "\"deadline_ms\": 5, \"payload\": {\"y\": 2, \"x\": 1}}", &st, err,
	    sizeof(err));
	c = parse("{\"task\": \"t\", \"to\": \"node-2\", \"payload\": {\"x\": 2}}",
	    &st, err, sizeof(err));
	d = parse("{\"task\": \"u\", \"to\": \"node-2\", \"payload\": {\"x\": 1, "
	    "\"y\": 2}}", &st, err, sizeof(err));
	assert_true(json_equal(json_object_get(a, "args_hash"),
	    json_object_get(b, "args_hash")));
	assert_false(json_equal(json_object_get(a, "args_hash"),
	    json_object_get(c, "args_hash")));
	assert_false(json_equal(json_object_get(a, "args_hash"),
	    json_object_get(d, "args_hash")));
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
}

static void
test_refusals_name_the_field(void **state)
{
	static const struct {
		const char	*body;
		int		 status;
		const char	*word;
	} cases[] = {
		{ "[]", 400, "body" },
		{ "{\"to\": \"node-2\"}", 400, "task" },
		{ "{\"task\": \"t\", \"command\": [\"x\"], \"to\": \"n\"}", 400, "task" },
		{ "{\"task\": \"bad name!\", \"to\": \"n\"}", 400, "task" },
		{ "{\"task\": 5, \"to\": \"n\"}", 400, "task" },
		{ "{\"command\": [], \"to\": \"n\"}", 400, "command" },
		{ "{\"command\": [\"\"], \"to\": \"n\"}", 400, "command" },
		{ "{\"command\": [\"x\"], \"args\": [\"a\"], \"to\": \"n\"}", 400, "args" },
		{ "{\"task\": \"t\", \"args\": [1], \"to\": \"n\"}", 400, "args" },
		{ "{\"task\": \"t\"}", 400, "to" },
		{ "{\"task\": \"t\", \"to\": \"\"}", 400, "to" },
		{ "{\"task\": \"t\", \"to\": 3}", 400, "to" },
		{ "{\"task\": \"t\", \"to\": \"=db\"}", 400, "selector" },
		{ "{\"task\": \"t\", \"to\": \"bad key=db\"}", 400, "selector" },
		{ "{\"task\": \"t\", \"to\": \"any:\"}", 400, "to" },
		{ "{\"task\": \"t\", \"to\": \"any:=x\"}", 400, "selector" },
		{ "{\"task\": \"t\", \"to\": \"any:bad key=x\"}", 400, "selector" },
		{ "{\"task\": \"t\", \"to\": \"no such!\"}", 400, "to" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"key\": \"\"}", 400, "key" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"key\": \"a\\nb\"}", 400, "key" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"deadline_ms\": 0}", 400,
		  "deadline_ms" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"deadline_ms\": \"1\"}", 400,
		  "deadline_ms" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"at_most_once\": 1}", 400,
		  "at_most_once" },
		{ "{\"task\": \"t\", \"to\": \"n\", \"colour\": 1}", 400, "colour" },
	};
	char err[512];
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = json_loads(cases[i].body, JSON_DECODE_ANY, NULL);
		assert_non_null(body);
		err[0] = '\0';
		st = 0;
		if (jobs_spec_parse(body, &st, err, sizeof(err)) != NULL)
			fail_msg("accepted %s", cases[i].body);
		if (st != cases[i].status || strstr(err, cases[i].word) == NULL)
			fail_msg("%s: got %d \"%s\", wanted %d naming \"%s\"",
			    cases[i].body, st, err, cases[i].status, cases[i].word);
		json_decref(body);
	}
}

static void
test_payload_bound(void **state)
{
	char err[512];
	int st;
	json_t *body, *j;
	/* A JSON string: the payload's text is its length + 2 quotes. */
	char *big = calloc(1, JOBS_PAYLOAD_MAX + 1);

	(void)state;
	memset(big, 'x', JOBS_PAYLOAD_MAX - 2);
	body = json_pack("{s:s, s:s, s:s}", "task", "t", "to", "n", "payload", big);
	j = jobs_spec_parse(body, &st, err, sizeof(err));
	assert_non_null(j);
	json_decref(j);
	json_decref(body);
	big[JOBS_PAYLOAD_MAX - 2] = 'x';
	body = json_pack("{s:s, s:s, s:s}", "task", "t", "to", "n", "payload", big);
	assert_null(jobs_spec_parse(body, &st, err, sizeof(err)));
	assert_int_equal(st, 413);
	assert_non_null(strstr(err, "payload"));
	json_decref(body);
	free(big);
}

static void
test_node_principal(void **state)
{
	struct principal p;

	(void)state;
	jobs_node_principal(&p, "node-7");
	assert_string_equal(p.name, "node:node-7");
	assert_int_equal(p.role, PRINCIPAL_ADMIN);
	assert_true(jobs_from_node("node:node-7", "node-7"));
	assert_false(jobs_from_node("node:node-7", "node-8"));
	assert_false(jobs_from_node("token:node-7", "node-7"));
	assert_false(jobs_from_node("", "node-7"));
	assert_false(jobs_from_node(NULL, "node-7"));
}

/* Review item 1: a peer's JOB_RESULT may end a run, not give the
 * issuer's verdicts (expired and lost from running would break the
 * state table and its CHECK). */
static void
test_states_an_executor_may_send(void **state)
{
	(void)state;
	assert_true(jobs_state_from_executor(JOBS_SUCCEEDED));
	assert_true(jobs_state_from_executor(JOBS_FAILED));
	assert_true(jobs_state_from_executor(JOBS_CANCELLED));
	assert_false(jobs_state_from_executor(JOBS_EXPIRED));
	assert_false(jobs_state_from_executor(JOBS_LOST));
	assert_false(jobs_state_from_executor(JOBS_QUEUED));
	assert_false(jobs_state_from_executor(JOBS_RUNNING));
	assert_false(jobs_state_from_executor(-1));
	assert_false(jobs_state_from_executor(JOBS_NSTATES));
	/* Every state it takes is one a running job may move to. */
	for (int s = 0; s < JOBS_NSTATES; s++)
		if (jobs_state_from_executor(s))
			assert_true(jobs_state_may(JOBS_RUNNING, s));
}

/* Review item 2: an epoch cannot claim a job's whole future. */
static void
test_epoch_bounds(void **state)
{
	(void)state;
	assert_false(jobs_epoch_ok(0, 0));
	assert_true(jobs_epoch_ok(1, 0));
	assert_true(jobs_epoch_ok(JOBS_EPOCH_AHEAD, 0));
	assert_false(jobs_epoch_ok(JOBS_EPOCH_AHEAD + 1, 0));
	assert_true(jobs_epoch_ok(JOBS_EPOCH_AHEAD + 5, 5));
	assert_false(jobs_epoch_ok(INT64_MAX, 0));
	assert_false(jobs_epoch_ok(INT64_MAX, INT64_MAX - 1));
	assert_true(jobs_epoch_ok(JOBS_EPOCH_MAX, JOBS_EPOCH_MAX - 1));
	assert_false(jobs_epoch_ok(JOBS_EPOCH_MAX + 1, JOBS_EPOCH_MAX));
	/* An older epoch is not out of bounds (it is answered "fenced"). */
	assert_true(jobs_epoch_ok(3, 900));
}

/* Review item 7: a peer's reason is kept bounded and without control
 * bytes, never cut inside a character. */
static void
test_clean_text(void **state)
{
	char out[JOBS_REASON_MAX], small[6], *big;

	(void)state;
	assert_string_equal(jobs_clean_text("exit 3", out, sizeof(out)),
	    "exit 3");
	assert_string_equal(jobs_clean_text("a\033[2Jb\nc\x7f", out,
	    sizeof(out)), "a?[2Jb?c?");
	assert_string_equal(jobs_clean_text(NULL, out, sizeof(out)), "");
	/* "abcé…": é (2 bytes) would be cut at 5 bytes: it goes whole. */
	assert_string_equal(jobs_clean_text("abc\xc3\xa9xyz", small,
	    sizeof(small)), "abc\xc3\xa9");
	assert_string_equal(jobs_clean_text("abcd\xc3\xa9", small,
	    sizeof(small)), "abcd");
	assert_string_equal(jobs_clean_text("ab\xe2\x82\xac\xe2\x82\xac",
	    small, sizeof(small)), "ab\xe2\x82\xac");
	assert_string_equal(jobs_clean_text("abc\xe2\x82\xac", small,
	    sizeof(small)), "abc");
	big = malloc(65536);
	assert_non_null(big);
	memset(big, 'r', 65535);
	big[65535] = '\0';
	assert_int_equal(strlen(jobs_clean_text(big, out, sizeof(out))),
	    JOBS_REASON_MAX - 1);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_valid_jobs),
		cmocka_unit_test(test_args_hash_tells_jobs_apart),
		cmocka_unit_test(test_refusals_name_the_field),
		cmocka_unit_test(test_payload_bound),
		cmocka_unit_test(test_node_principal),
		cmocka_unit_test(test_states_an_executor_may_send),
		cmocka_unit_test(test_epoch_bounds),
		cmocka_unit_test(test_clean_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
