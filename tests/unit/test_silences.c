/*
 * Unit tests of node/work/silences.c on a real store in a private
 * directory: a silence's checks (each refusal names its field), matching
 * by rule, node and labels (every matcher must hold), the end by time
 * and by removal, the bound on how many, and the list kept over a
 * reopen of the store with ids that go on counting.
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

#include "silences.h"
#include "store.h"
#include "tmpdir.h"

#define NOW	1800000000000ULL

struct fix {
	char		 dir[64];
	char		 data[96];
	struct store	*store;
	struct silences	*s;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char err[256];

	assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "af-silences"), 0);
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	f->store = store_open(f->data, err, sizeof(err));
	assert_non_null(f->store);
	f->s = silences_new(f->store, err, sizeof(err));
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	silences_free(f->s);
	store_close(f->store);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Adds the silence of JSON text; its status, *id its id when 201. */
static int
add(struct fix *f, const char *text, char *id, size_t idlen, char *err,
    size_t errlen)
{
	json_t *body = json_loads(text, 0, NULL), *out = NULL;
	int rc;

	assert_non_null(body);
	rc = silences_add(f->s, body, "token:test", NOW, &out, err, errlen);
	json_decref(body);
	if (rc == 201 && id != NULL)
		snprintf(id, idlen, "%s", json_string_value(json_object_get(out,
		    "id")));
	json_decref(out);
	return rc;
}

static void
test_refusals_name_the_field(void **state)
{
	static const struct {
		const char	*body;
		const char	*field;
	} bad[] = {
		{ "[]", "body" },
		{ "{\"for\": \"1h\"}", "matchers" },
		{ "{\"matchers\": {}, \"for\": \"1h\"}", "matchers" },
		{ "{\"matchers\": {\"rule\": \"a\", \"x\": 1}, \"for\": \"1h\"}",
		  "matchers.x" },
		{ "{\"matchers\": {\"rule\": \"a b\"}, \"for\": \"1h\"}",
		  "matchers.rule" },
		{ "{\"matchers\": {\"node\": \"\"}, \"for\": \"1h\"}",
		  "matchers.node" },
		{ "{\"matchers\": {\"labels\": {}}, \"for\": \"1h\"}",
		  "matchers.labels" },
		{ "{\"matchers\": {\"labels\": {\"a b\": \"v\"}}, \"for\": \"1h\"}",
		  "matchers.labels" },
		{ "{\"matchers\": {\"labels\": {\"k\": null}}, \"for\": \"1h\"}",
		  "matchers.labels.k" },
		{ "{\"matchers\": {\"rule\": \"a\"}}", "until_ms" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"until_ms\": 5}", "until_ms" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"until_ms\": 1.5e12}",
		  "until_ms" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"for\": \"0s\"}", "for" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"for\": \"91d\"}", "for" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"for\": 60}", "for" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"for\": \"1h\", "
		  "\"comment\": 7}", "comment" },
		{ "{\"matchers\": {\"rule\": \"a\"}, \"for\": \"1h\", "
		  "\"why\": \"x\"}", "why" },
	};
	struct fix *f = *state;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(add(f, bad[i].body, NULL, 0, err, sizeof(err)),
		    400);
		if (strncmp(err, bad[i].field, strlen(bad[i].field)) != 0)
			fail_msg("%s: \"%s\" does not start with %s", bad[i].body,
			    err, bad[i].field);
	}
	assert_int_equal(silences_active(f->s, NOW), 0);
}

static void
test_every_matcher_must_hold(void **state)
{
	struct fix *f = *state;
	json_t *home = json_pack("{s:s, s:s}", "site", "home", "role", "db");
	json_t *away = json_pack("{s:s}", "site", "away");
	char id[32], err[256];

	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"disk\", "
	    "\"labels\": {\"site\": \"home\"}}, \"for\": \"1h\"}", id, sizeof(id),
	    err, sizeof(err)), 201);
	assert_string_equal(id, "sil-1");
	assert_string_equal(silences_match(f->s, NOW, "disk", "n1", home), id);
	assert_null(silences_match(f->s, NOW, "disk", "n1", away));
	assert_null(silences_match(f->s, NOW, "disk", "n1", NULL));
	assert_null(silences_match(f->s, NOW, "cpu", "n1", home));
	assert_int_equal(add(f, "{\"matchers\": {\"node\": \"n2\"}, "
	    "\"until_ms\": 1800000060000}", id, sizeof(id), err, sizeof(err)),
	    201);
	assert_string_equal(silences_match(f->s, NOW, "cpu", "n2", NULL), "sil-2");
	assert_null(silences_match(f->s, NOW, "cpu", "n3", NULL));
	/* the end: until_ms passed, it matches nothing and drops out */
	assert_null(silences_match(f->s, NOW + 60000, "cpu", "n2", NULL));
	assert_int_equal(silences_active(f->s, NOW + 60000), 1);
	/* removal */
	assert_int_equal(silences_remove(f->s, "sil-1", NOW), 1);
	assert_int_equal(silences_remove(f->s, "sil-1", NOW), 0);
	assert_null(silences_match(f->s, NOW, "disk", "n1", home));
	assert_null(silences_match(NULL, NOW, "disk", "n1", home));
	json_decref(home);
	json_decref(away);
}

static void
test_bounded_and_kept_over_a_reopen(void **state)
{
	struct fix *f = *state;
	char id[32], err[256];
	json_t *list;

	for (int i = 0; i < SILENCES_MAX; i++)
		assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, "
		    "\"for\": \"2h\", \"comment\": \"maintenance\"}", id,
		    sizeof(id), err, sizeof(err)), 201);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"2h\"}", NULL, 0, err, sizeof(err)), 507);
	assert_int_equal(silences_remove(f->s, "sil-1", NOW), 1);
	silences_free(f->s);
	store_close(f->store);
	f->store = store_open(f->data, err, sizeof(err));
	assert_non_null(f->store);
	f->s = silences_new(f->store, err, sizeof(err));
	assert_non_null(f->s);
	list = silences_list(f->s, NOW);
	assert_int_equal(json_array_size(list), SILENCES_MAX - 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "id")), "sil-2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "comment")), "maintenance");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "created_by")), "token:test");
	json_decref(list);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"2h\"}", id, sizeof(id), err, sizeof(err)), 201);
	assert_string_equal(id, "sil-65");
	/* two hours on, every one has ended */
	assert_int_equal(silences_active(f->s, NOW + 2 * 3600 * 1000), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals_name_the_field,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_matcher_must_hold,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_and_kept_over_a_reopen,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
