/*
 * Unit tests of node/work/workflow_spec.c: a workflow's definition checked
 * whole (every error at once, each with its path; cycles named; a
 * reference to a step not needed refused) and a step's payload rendered
 * from parameters and earlier results.
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

#include "workflow_spec.h"

/* Checks text (with set, may be NULL); the definition or NULL and *errs. */
static json_t *
check(const char *text, const char *set, json_t **errs)
{
	json_error_t e;
	json_t *def = json_loads(text, 0, &e), *s = NULL, *out;

	if (def == NULL)
		fail_msg("test JSON: %s: %s", e.text, text);
	if (set != NULL)
		s = json_loads(set, 0, NULL);
	out = workflow_spec_check(def, s, errs);
	json_decref(def);
	json_decref(s);
	return out;
}

/* Whether errs has an entry at path whose error contains what. */
static int
has_error(const json_t *errs, const char *path, const char *what)
{
	size_t i;
	json_t *v;

	json_array_foreach(errs, i, v)
		if (strcmp(json_string_value(json_object_get(v, "path")), path) ==
		    0 && strstr(json_string_value(json_object_get(v, "error")),
		    what) != NULL)
			return 1;
	return 0;
}

static void
dump_errors(const json_t *errs)
{
	char *t = json_dumps(errs, JSON_INDENT(1));

	print_message("%s\n", t != NULL ? t : "(null)");
	free(t);
}

static void
test_a_good_definition_runs_in_order(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"nightly\", \"budget\": \"2h\","
	    "\"params\": {\"dest\": \"/srv/backup\"},"
	    "\"steps\": ["
	    " {\"name\": \"report\", \"task\": \"mail\", \"to\": \"node-1\","
	    "  \"needs\": [\"verify\", \"prune\"],"
	    "  \"payload\": {\"size\": \"${steps.backup.result.bytes}\"}},"
	    " {\"name\": \"backup\", \"task\": \"backup\", \"to\": \"any:role=storage\","
	    "  \"payload\": {\"to\": \"${params.dest}\"}, \"retries\": 2,"
	    "  \"backoff\": \"10s\", \"timeout\": \"1h\"},"
	    " {\"name\": \"verify\", \"task\": \"verify\", \"to\": \"node-2\","
	    "  \"needs\": [\"backup\"]},"
	    " {\"name\": \"ok\", \"approval\": {\"prompt\": \"Prune old ones?\"},"
	    "  \"needs\": [\"verify\"]},"
	    " {\"name\": \"prune\", \"command\": [\"/bin/true\"], \"to\": \"node-2\","
	    "  \"needs\": [\"ok\"]}]}", NULL, &errs);
	json_t *order, *steps;

	(void)state;
	if (wf == NULL)
		dump_errors(errs);
	assert_non_null(wf);
	assert_null(errs);
	assert_int_equal(json_integer_value(json_object_get(wf, "budget_ms")),
	    7200000);
	assert_string_equal(json_string_value(json_object_get(wf, "on_failure")),
	    "stop");
	order = json_object_get(wf, "order");
	assert_int_equal(json_array_size(order), 5);
	/* Each step after every step it needs. */
	assert_string_equal(json_string_value(json_array_get(order, 0)), "backup");
	assert_string_equal(json_string_value(json_array_get(order, 1)), "verify");
	assert_string_equal(json_string_value(json_array_get(order, 2)), "ok");
	assert_string_equal(json_string_value(json_array_get(order, 3)), "prune");
	assert_string_equal(json_string_value(json_array_get(order, 4)), "report");
	steps = json_object_get(wf, "steps");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps,
	    3), "kind")), "approval");
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps,
	    3), "prompt")), "Prune old ones?");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps,
	    1), "retries")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(steps,
	    1), "backoff_ms")), 10000);
	/* The step's timeout is its job's deadline. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(steps, 1), "job"), "deadline_ms")), 3600000);
	json_decref(wf);
}

static void
test_every_error_at_once_with_its_path(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"bad name!\", \"colour\": 1,"
	    "\"on_failure\": \"shrug\", \"budget\": \"soon\","
	    "\"steps\": ["
	    " {\"name\": \"a\", \"task\": \"t\", \"to\": \"node-1\", \"retries\": 99},"
	    " {\"name\": \"a\", \"task\": \"t\", \"to\": \"all:\"},"
	    " {\"name\": \"c\", \"to\": \"node-1\", \"needs\": [\"nope\"]},"
	    " {\"name\": \"d\", \"approval\": {\"prompt\": 5}, \"task\": \"t\"},"
	    " {\"name\": \"e\", \"task\": \"t\", \"to\": \"node-1\", \"when\": 1}]}",
	    NULL, &errs);

	(void)state;
	assert_null(wf);
	assert_non_null(errs);
	assert_true(has_error(errs, "name", "1-63 characters"));
	assert_true(has_error(errs, "colour", "not a field of a workflow"));
	assert_true(has_error(errs, "on_failure", "\"stop\" or \"continue\""));
	assert_true(has_error(errs, "budget", "a duration"));
	assert_true(has_error(errs, "steps[0].retries", "0-20"));
	assert_true(has_error(errs, "steps[1].name", "names another step"));
	assert_true(has_error(errs, "steps[2].task", "exactly one"));
	assert_true(has_error(errs, "steps[3].approval.prompt", "text of at most"));
	assert_true(has_error(errs, "steps[3].task", "runs nothing"));
	assert_true(has_error(errs, "steps[4].when", "not a field of a step"));
	json_decref(errs);
}

static void
test_unknown_needs_are_named(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"w\", \"steps\": ["
	    " {\"name\": \"a\", \"task\": \"t\", \"to\": \"node-1\","
	    "  \"needs\": [\"ghost\", \"a\"]}]}", NULL, &errs);

	(void)state;
	assert_null(wf);
	assert_true(has_error(errs, "steps[0].needs[0]",
	    "\"ghost\" is not a step"));
	assert_true(has_error(errs, "steps[0].needs[1]", "cannot need itself"));
	json_decref(errs);
}

static void
test_a_cycle_is_named(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"w\", \"steps\": ["
	    " {\"name\": \"start\", \"task\": \"t\", \"to\": \"node-1\"},"
	    " {\"name\": \"a\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"start\", \"c\"]},"
	    " {\"name\": \"b\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"a\"]},"
	    " {\"name\": \"c\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"b\"]},"
	    " {\"name\": \"after\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"c\"]}]}",
	    NULL, &errs);

	(void)state;
	assert_null(wf);
	assert_int_equal(json_array_size(errs), 1);
	assert_true(has_error(errs, "steps", "a → c → b → a"));
	json_decref(errs);
}

static void
test_references_must_be_needed_and_known(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"w\","
	    "\"params\": {\"host\": null},"
	    "\"steps\": ["
	    " {\"name\": \"a\", \"task\": \"t\", \"to\": \"node-1\"},"
	    " {\"name\": \"b\", \"task\": \"t\", \"to\": \"node-1\","
	    "  \"payload\": {\"x\": \"${steps.a.result}\", \"y\": [\"${params.port}\"],"
	    "   \"z\": \"at ${steps.a.result.path} then ${oops}\"}},"
	    " {\"name\": \"m\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"a\"]},"
	    " {\"name\": \"c\", \"task\": \"t\", \"to\": \"node-1\", \"needs\": [\"m\"],"
	    "  \"payload\": \"${steps.a.result.n}\"}]}",
	    "{\"colour\": \"red\"}", &errs);

	(void)state;
	assert_null(wf);
	/* b does not need a; c needs a through m. */
	assert_true(has_error(errs, "steps[1].payload.x", "does not need"));
	assert_true(has_error(errs, "steps[1].payload.y[0]",
	    "${params.port}: not a parameter"));
	assert_true(has_error(errs, "steps[1].payload.z", "\"${oops}\""));
	assert_false(has_error(errs, "steps[3].payload", ""));
	assert_true(has_error(errs, "set.colour", "not a parameter"));
	assert_true(has_error(errs, "params.host", "--set host=VALUE"));
	json_decref(errs);
}

static void
test_set_fills_a_parameter(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"w\", \"params\": {\"host\": null,"
	    " \"port\": \"22\"}, \"steps\": [{\"name\": \"a\", \"task\": \"t\","
	    " \"to\": \"node-1\", \"payload\": \"${params.host}:${params.port}\"}]}",
	    "{\"host\": \"nas\"}", &errs);
	json_t *params;

	(void)state;
	assert_non_null(wf);
	params = json_object_get(wf, "params");
	assert_string_equal(json_string_value(json_object_get(params, "host")),
	    "nas");
	assert_string_equal(json_string_value(json_object_get(params, "port")),
	    "22");
	json_decref(wf);
}

static void
test_errors_are_bounded(void **state)
{
	json_t *steps = json_array(), *def, *errs, *wf;

	(void)state;
	for (int i = 0; i < 200; i++)
		json_array_append_new(steps, json_pack("{s:s}", "bogus", "x"));
	def = json_pack("{s:s, s:o}", "name", "w", "steps", steps);
	wf = workflow_spec_check(def, NULL, &errs);
	assert_null(wf);
	assert_int_equal(json_array_size(errs), WORKFLOW_ERRORS_MAX + 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(
	    errs, WORKFLOW_ERRORS_MAX), "error")), "more errors"));
	json_decref(errs);
	json_decref(def);
	/* Too many steps: one error, not one per step. */
	steps = json_array();
	for (int i = 0; i <= WORKFLOW_STEPS_MAX; i++)
		json_array_append_new(steps, json_pack("{s:s}", "name", "x"));
	def = json_pack("{s:s, s:o}", "name", "w", "steps", steps);
	assert_null(workflow_spec_check(def, NULL, &errs));
	assert_true(has_error(errs, "steps", "1-256 steps"));
	json_decref(errs);
	json_decref(def);
	/* Not an object at all. */
	def = json_array();
	assert_null(workflow_spec_check(def, NULL, &errs));
	assert_true(has_error(errs, "", "a workflow is an object"));
	json_decref(errs);
	json_decref(def);
}

static void
test_render_replaces_references(void **state)
{
	json_t *params = json_pack("{s:s}", "dest", "/srv");
	json_t *results = json_pack("{s:{s:i, s:[s, s], s:{s:b}}}", "backup",
	    "bytes", 1234, "files", "a", "b", "meta", "ok", 1);
	json_t *tmpl = json_pack("{s:s, s:s, s:s, s:[s], s:i, s:s, s:s}",
	    "whole", "${steps.backup.result}",
	    "n", "${steps.backup.result.bytes}",
	    "text", "${params.dest}/x has ${steps.backup.result.bytes} bytes",
	    "list", "${steps.backup.result.files.1}",
	    "plain", 7,
	    "obj", "${steps.backup.result.meta}",
	    "nothing", "no refs $ { here }");
	char err[256] = "";
	json_t *out = workflow_spec_render(tmpl, params, results, err, sizeof(err));

	(void)state;
	assert_non_null(out);
	assert_true(json_equal(json_object_get(out, "whole"),
	    json_object_get(results, "backup")));
	/* One reference whole keeps its type; inside text, its text. */
	assert_int_equal(json_integer_value(json_object_get(out, "n")), 1234);
	assert_string_equal(json_string_value(json_object_get(out, "text")),
	    "/srv/x has 1234 bytes");
	assert_string_equal(json_string_value(json_array_get(json_object_get(out,
	    "list"), 0)), "b");
	assert_int_equal(json_integer_value(json_object_get(out, "plain")), 7);
	assert_true(json_is_true(json_object_get(json_object_get(out, "obj"),
	    "ok")));
	assert_string_equal(json_string_value(json_object_get(out, "nothing")),
	    "no refs $ { here }");
	json_decref(out);
	json_decref(tmpl);
	/* A field the result lacks: refused, named. */
	tmpl = json_string("${steps.backup.result.size}");
	assert_null(workflow_spec_render(tmpl, params, results, err, sizeof(err)));
	assert_non_null(strstr(err, "has no steps.backup.result.size"));
	json_decref(tmpl);
	tmpl = json_string("${steps.verify.result}");
	assert_null(workflow_spec_render(tmpl, params, results, err, sizeof(err)));
	assert_non_null(strstr(err, "verify left no result"));
	json_decref(tmpl);
	json_decref(params);
	json_decref(results);
}

static void
test_escapes_and_unterminated_references(void **state)
{
	json_t *errs, *wf = check("{\"name\": \"w\", \"params\": {\"p\": \"x\"},"
	    "\"steps\": [{\"name\": \"a\", \"task\": \"t\", \"to\": \"node-1\","
	    " \"payload\": {\"lit\": \"echo $${HOME} ${params.p}\","
	    "  \"open\": \"${params.p\"}}]}", NULL, &errs);
	json_t *params, *out, *tmpl;
	char err[256];

	(void)state;
	assert_null(wf);
	assert_true(has_error(errs, "steps[0].payload.open", "has no closing }"));
	assert_false(has_error(errs, "steps[0].payload.lit", ""));
	json_decref(errs);
	/* A dot in a step's name would not read back in ${steps.a.b.result}. */
	assert_null(check("{\"name\": \"w\", \"steps\": [{\"name\": \"a.b\","
	    " \"task\": \"t\", \"to\": \"node-1\"}]}", NULL, &errs));
	assert_true(has_error(errs, "steps[0].name", "[A-Za-z0-9_-]"));
	json_decref(errs);
	/* Rendered: "$${" is a literal "${". */
	params = json_pack("{s:s}", "p", "x");
	tmpl = json_string("echo $${HOME} ${params.p}");
	out = workflow_spec_render(tmpl, params, NULL, err, sizeof(err));
	assert_non_null(out);
	assert_string_equal(json_string_value(out), "echo ${HOME} x");
	json_decref(out);
	json_decref(tmpl);
	tmpl = json_string("a ${params.p");
	assert_null(workflow_spec_render(tmpl, params, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "has no closing }"));
	json_decref(tmpl);
	json_decref(params);
}

/* An error whose text is cut inside a character is still an error. */
static void
test_errors_cut_inside_a_character_stay(void **state)
{
	char text[4096], name[64];
	json_t *errs, *wf, *def, *steps;

	(void)state;
	/* A reference cut at 64 bytes inside "é". */
	snprintf(text, sizeof(text), "{\"name\": \"w\", \"steps\": [{\"name\": "
	    "\"a\", \"task\": \"t\", \"to\": \"node-1\", \"payload\": "
	    "\"${%s\u00e9}\"}]}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	wf = check(text, NULL, &errs);
	assert_null(wf);
	assert_true(has_error(errs, "steps[0].payload", "is not ${params.KEY}"));
	json_decref(errs);
	/* A ring of long names: the cycle's text cut inside an arrow. */
	steps = json_array();
	for (int i = 0; i < 10; i++) {
		char need[64];
		snprintf(name, sizeof(name), "step-%02d-%s", i,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		snprintf(need, sizeof(need), "step-%02d-%s", (i + 1) % 10,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		json_array_append_new(steps, json_pack("{s:s, s:s, s:s, s:[s]}",
		    "name", name, "task", "t", "to", "node-1", "needs", need));
	}
	def = json_pack("{s:s, s:o}", "name", "w", "steps", steps);
	wf = workflow_spec_check(def, NULL, &errs);
	assert_null(wf);
	assert_int_equal(json_array_size(errs), 1);
	assert_true(has_error(errs, "steps", "the needs form a cycle: step-00"));
	json_decref(errs);
	json_decref(def);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_good_definition_runs_in_order),
		cmocka_unit_test(test_every_error_at_once_with_its_path),
		cmocka_unit_test(test_unknown_needs_are_named),
		cmocka_unit_test(test_a_cycle_is_named),
		cmocka_unit_test(test_references_must_be_needed_and_known),
		cmocka_unit_test(test_set_fills_a_parameter),
		cmocka_unit_test(test_errors_are_bounded),
		cmocka_unit_test(test_render_replaces_references),
		cmocka_unit_test(test_escapes_and_unterminated_references),
		cmocka_unit_test(test_errors_cut_inside_a_character_stay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
