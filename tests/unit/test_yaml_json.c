/*
 * Unit tests of cli/yaml_json.c: a workflow definition written in YAML
 * reads as the JSON it spells (mappings, sequences, block and flow
 * styles, the core schema's plain scalars, quoted scalars as text), and
 * what JSON cannot hold or a hostile file would do is refused with its
 * line: aliases and anchors, duplicate keys, non-scalar keys, several
 * documents, nesting too deep, integers out of range, bad YAML.
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

#include "yaml_json.h"

static json_t *
load(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return yaml_json_load(text, strlen(text), err, errlen);
}

static void
test_workflow_in_yaml(void **state)
{
	static const char text[] =
	    "# a backup\n"
	    "name: backup\n"
	    "params: {src: null, keep: \"7\"}\n"
	    "budget: 6h\n"
	    "steps:\n"
	    "  - name: snapshot\n"
	    "    task: snap\n"
	    "    to: any:role=storage\n"
	    "    retries: 2\n"
	    "    payload:\n"
	    "      src: ${params.src}\n"
	    "      ratio: 0.5\n"
	    "      dry: false\n"
	    "      note: |\n"
	    "        two\n"
	    "        lines\n"
	    "  - name: store\n"
	    "    needs: [snapshot]\n"
	    "    approval: {prompt: 'go on?'}\n"
	    "    empty: ~\n";
	json_t *want, *got;
	json_error_t je;
	char err[256];

	(void)state;
	want = json_loads("{\"name\": \"backup\", \"params\": {\"src\": null, "
	    "\"keep\": \"7\"}, \"budget\": \"6h\", \"steps\": [{\"name\": "
	    "\"snapshot\", \"task\": \"snap\", \"to\": \"any:role=storage\", "
	    "\"retries\": 2, \"payload\": {\"src\": \"${params.src}\", \"ratio\": "
	    "0.5, \"dry\": false, \"note\": \"two\\nlines\\n\"}}, {\"name\": "
	    "\"store\", \"needs\": [\"snapshot\"], \"approval\": {\"prompt\": "
	    "\"go on?\"}, \"empty\": null}]}", 0, &je);
	assert_non_null(want);
	got = load(text, err, sizeof(err));
	if (got == NULL)
		fail_msg("%s", err);
	assert_true(json_equal(want, got));
	json_decref(want);
	json_decref(got);
}

static void
test_scalars(void **state)
{
	char err[256];
	json_t *v = load("[1, -2, +3, 1.5, .5, 1e3, true, False, NULL, ~, "
	    "'1', \"true\", !!str 12, 0x1F, 1.2.3, yes, 007]", err, sizeof(err));

	(void)state;
	if (v == NULL)
		fail_msg("%s", err);
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(v, 1)), -2);
	assert_int_equal(json_integer_value(json_array_get(v, 2)), 3);
	assert_true(json_real_value(json_array_get(v, 3)) == 1.5);
	assert_true(json_real_value(json_array_get(v, 4)) == 0.5);
	assert_true(json_real_value(json_array_get(v, 5)) == 1000.0);
	assert_true(json_is_true(json_array_get(v, 6)));
	assert_true(json_is_false(json_array_get(v, 7)));
	assert_true(json_is_null(json_array_get(v, 8)));
	assert_true(json_is_null(json_array_get(v, 9)));
	assert_string_equal(json_string_value(json_array_get(v, 10)), "1");
	assert_string_equal(json_string_value(json_array_get(v, 11)), "true");
	assert_string_equal(json_string_value(json_array_get(v, 12)), "12");
	/* Not the core schema's decimal forms: text. */
	assert_string_equal(json_string_value(json_array_get(v, 13)), "0x1F");
	assert_string_equal(json_string_value(json_array_get(v, 14)), "1.2.3");
	assert_string_equal(json_string_value(json_array_get(v, 15)), "yes");
	assert_int_equal(json_integer_value(json_array_get(v, 16)), 7);
	json_decref(v);
	/* A key is text, whatever it looks like. */
	v = load("1: a\ntrue: b\n", err, sizeof(err));
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "1")), "a");
	assert_string_equal(json_string_value(json_object_get(v, "true")), "b");
	json_decref(v);
}

static void
refused(const char *text, const char *what, const char *where)
{
	char err[256];
	json_t *v = load(text, err, sizeof(err));

	if (v != NULL)
		fail_msg("taken: %s", text);
	if (strstr(err, what) == NULL || strstr(err, where) == NULL)
		fail_msg("\"%s\": wanted \"%s\" at \"%s\"", err, what, where);
}

static void
test_refusals(void **state)
{
	char deep[4 * YAML_JSON_DEPTH + 8];
	size_t i;

	(void)state;
	refused("a: &x [1, 2]\nb: *x\n", "anchors are not taken", "line 1");
	refused("b: *x\n", "", "line 1");
	refused("a: 1\nb: 2\na: 3\n", "a key given twice", "line 3");
	refused("? [1, 2]\n: x\n", "must be a scalar", "line 1");
	refused("a: 1\n---\nb: 2\n", "one document only", "line 2");
	refused("n: 99999999999999999999\n", "out of range", "line 1");
	refused("n: [1, 1e999]\n", "a number out of range", "line 1");
	refused("a: [1, 2\n", "line", "line");
	refused("a: b: c\n", "line 1", "line 1");
	refused("", "an empty document", "");
	for (i = 0; i <= YAML_JSON_DEPTH; i++)
		deep[i] = '[';
	deep[i] = '\0';
	refused(deep, "nested too deep", "line 1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workflow_in_yaml),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
