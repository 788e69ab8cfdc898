/*
 * Unit tests of node/work/silences.c on a real store in a private
 * directory: a silence's checks (each refusal names its field), matching
 * by rule, node and labels (every matcher must hold), the end by time
 * and by removal, the bound on how many, and the list kept over a
 * reopen of the store with ids that go on counting; the mesh's words: a
 * silence from another node checked as the API checks one (each hostile
 * variant refused), taken, and a removal that wins in any order.
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

#include <sqlite3.h>

#include "silences.h"
#include "store.h"
#include "tmpdir.h"

#define NOW	1800000000000ULL

/* The id silences_add gives its n-th silence on node "n1". */
static const char *
sid(int n)
{
	static char buf[64];
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)"n1"; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(buf, sizeof(buf), "sil-%d-%012llx", n,
	    (unsigned long long)(h >> 16));
	return buf;
}

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
	f->s = silences_new(f->store, "n1", err, sizeof(err));
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
	json_t *away = json_pack("{s:s}", "site", "away"), *word;
	char id[64], err[256];

	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"disk\", "
	    "\"labels\": {\"site\": \"home\"}}, \"for\": \"1h\"}", id, sizeof(id),
	    err, sizeof(err)), 201);
	assert_string_equal(id, sid(1));
	assert_string_equal(silences_match(f->s, NOW, "disk", "n1", home), id);
	assert_null(silences_match(f->s, NOW, "disk", "n1", away));
	assert_null(silences_match(f->s, NOW, "disk", "n1", NULL));
	assert_null(silences_match(f->s, NOW, "cpu", "n1", home));
	assert_int_equal(add(f, "{\"matchers\": {\"node\": \"n2\"}, "
	    "\"until_ms\": 1800000060000}", id, sizeof(id), err, sizeof(err)),
	    201);
	assert_string_equal(silences_match(f->s, NOW, "cpu", "n2", NULL), sid(2));
	assert_null(silences_match(f->s, NOW, "cpu", "n3", NULL));
	/* the end: until_ms passed, it matches nothing and drops out */
	assert_null(silences_match(f->s, NOW + 60000, "cpu", "n2", NULL));
	assert_int_equal(silences_active(f->s, NOW + 60000), 1);
	/* removal: its word names who asked for it */
	assert_int_equal(silences_remove(f->s, sid(1), "token:bob", NOW), 1);
	assert_int_equal(silences_remove(f->s, sid(1), "token:bob", NOW), 0);
	word = silences_word(f->s, sid(1), NOW);
	assert_true(json_is_true(json_object_get(word, "deleted")));
	assert_string_equal(json_string_value(json_object_get(word,
	    "principal")), "token:bob");
	json_decref(word);
	assert_null(silences_match(f->s, NOW, "disk", "n1", home));
	assert_null(silences_match(NULL, NOW, "disk", "n1", home));
	json_decref(home);
	json_decref(away);
}

/* Another node's silence k, live from NOW for two hours, applied as the
 * mesh would: 1 when kept. */
static int
apply_theirs(struct fix *f, const char *node, int k)
{
	char id[64], spec[256];

	snprintf(id, sizeof(id), "sil-%d-%s", k, node);
	snprintf(spec, sizeof(spec), "{\"id\": \"%s\", \"matchers\": "
	    "{\"rule\": \"a\"}, \"starts_ms\": %llu, \"ends_ms\": %llu, "
	    "\"comment\": \"\", \"created_by\": \"t\", \"node\": \"%s\"}", id,
	    (unsigned long long)NOW, (unsigned long long)(NOW + 7200000), node);
	return silences_apply(f->s, id, spec, NOW, node, NOW + 7200000, NOW);
}

/* 16 of this node's own (its share: then 409), 64 in all (then 507),
 * kept over a reopen. */
static void
test_bounded_and_kept_over_a_reopen(void **state)
{
	static const char *const others[] = { "n2", "n3", "n4" };
	struct fix *f = *state;
	char id[64], err[256];
	json_t *list;

	for (int i = 0; i < SILENCES_SHARE_MAX; i++)
		assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, "
		    "\"for\": \"2h\", \"comment\": \"maintenance\"}", id,
		    sizeof(id), err, sizeof(err)), 201);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"2h\"}", NULL, 0, err, sizeof(err)), 409);
	assert_non_null(strstr(err, "share"));
	/* the others' silences do not count in this node's share */
	for (int i = 0; i < SILENCES_MAX - SILENCES_SHARE_MAX; i++)
		assert_int_equal(apply_theirs(f, others[i % 3], i + 1), 1);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"2h\"}", NULL, 0, err, sizeof(err)), 507);
	assert_int_equal(silences_remove(f->s, sid(1), NULL, NOW), 1);
	silences_free(f->s);
	store_close(f->store);
	f->store = store_open(f->data, err, sizeof(err));
	assert_non_null(f->store);
	f->s = silences_new(f->store, "n1", err, sizeof(err));
	assert_non_null(f->s);
	list = silences_list(f->s, NOW);
	assert_int_equal(json_array_size(list), SILENCES_MAX - 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "id")), sid(2));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "node")), "n1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "comment")), "maintenance");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "created_by")), "token:test");
	json_decref(list);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"2h\"}", id, sizeof(id), err, sizeof(err)), 201);
	assert_string_equal(id, sid(SILENCES_SHARE_MAX + 1));
	/* two hours on, every one has ended */
	assert_int_equal(silences_active(f->s, NOW + 2 * 3600 * 1000), 0);
}

/* silences_check of a word made at NOW, checked at NOW. */
static int
check(const char *id, const char *spec, const char *author, uint64_t ends,
    char *err, size_t errlen)
{
	return silences_check(id, spec, strlen(spec), author, NOW, ends, NOW,
	    err, errlen);
}

/* Applies word w (silences_word's) to s as the mesh would. */
static int
apply(struct silences *s, const json_t *w, uint64_t now)
{
	const json_t *spec = json_object_get(w, "spec_json");

	return silences_apply(s, json_string_value(json_object_get(w, "id")),
	    json_is_true(json_object_get(w, "deleted")) ? NULL :
	    json_string_value(spec), json_integer_value(json_object_get(w,
	    "updated_ms")), json_string_value(json_object_get(w, "author")),
	    json_integer_value(json_object_get(w, "ends_ms")), now);
}

static void
test_another_nodes_silence_is_checked_then_held(void **state)
{
	struct fix *f = *state;
	char id[64], err[256], dir2[128];
	struct store *st2;
	struct silences *s2;
	json_t *w, *gone, *list;

	assert_int_equal(add(f, "{\"matchers\": {\"node\": \"n2\", "
	    "\"labels\": {\"site\": \"home\"}}, \"for\": \"2h\", "
	    "\"comment\": \"swap\"}", id, sizeof(id), err, sizeof(err)), 201);
	w = silences_word(f->s, id, NOW);
	assert_non_null(w);
	assert_false(json_is_true(json_object_get(w, "deleted")));
	assert_string_equal(json_string_value(json_object_get(w, "author")), "n1");
	assert_int_equal(check(id, json_string_value(json_object_get(w,
	    "spec_json")), "n1", NOW + 2 * 3600 * 1000, err, sizeof(err)), 0);
	assert_int_equal(check(id, json_string_value(json_object_get(w,
	    "spec_json")), "n2", NOW + 2 * 3600 * 1000, err, sizeof(err)), -1);
	assert_string_equal(err, "node: the node id of the word's author");

	snprintf(dir2, sizeof(dir2), "%s/data2", f->dir);
	st2 = store_open(dir2, err, sizeof(err));
	assert_non_null(st2);
	s2 = silences_new(st2, "n2", err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(apply(s2, w, NOW), 1);
	assert_int_equal(apply(s2, w, NOW), 0);		/* held already */
	json_t *labels = json_pack("{s:s}", "site", "home");
	assert_string_equal(silences_match(s2, NOW, "cpu", "n2", labels), id);
	list = silences_list(s2, NOW);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    list, 0), "node")), "n1");
	json_decref(list);

	/* removed on n2: the removal wins over the silence, in any order */
	assert_int_equal(silences_remove(s2, id, NULL, NOW + 1000), 1);
	gone = silences_word(s2, id, NOW + 1000);
	assert_true(json_is_true(json_object_get(gone, "deleted")));
	assert_string_equal(json_string_value(json_object_get(gone, "author")),
	    "n2");
	assert_int_equal(apply(s2, w, NOW + 1000), 0);
	assert_null(silences_match(s2, NOW + 1000, "cpu", "n2", labels));
	assert_int_equal(apply(f->s, gone, NOW + 1000), 1);
	assert_int_equal(apply(f->s, gone, NOW + 1000), 0);
	assert_int_equal(apply(f->s, w, NOW + 1000), 0);
	assert_int_equal(silences_active(f->s, NOW + 1000), 0);
	/* the removal kept over a reopen: the late silence stays out */
	silences_free(f->s);
	f->s = silences_new(f->store, "n1", err, sizeof(err));
	assert_non_null(f->s);
	assert_int_equal(apply(f->s, w, NOW + 2000), 0);
	list = silences_words(f->s, NOW + 2000);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	/* ended: forgotten, and a word about it is too */
	list = silences_words(f->s, NOW + 3 * 3600 * 1000);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(apply(f->s, w, NOW + 3 * 3600 * 1000), 0);

	json_decref(labels);
	json_decref(gone);
	json_decref(w);
	silences_free(s2);
	store_close(st2);
}

static void
test_a_hostile_silence_is_refused(void **state)
{
	static const struct {
		const char	*field;		/* what the error starts with */
		const char	*key;		/* replaced in the good spec */
		const char	*value;		/* JSON; NULL: key removed */
	} bad[] = {
		{ "spec", "extra", "1" },
		{ "spec", "comment", NULL },
		{ "comment", "comment", "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxx\"" },
		{ "matchers.labels", "matchers", "{\"labels\": {\"a\": \"1\", "
		  "\"b\": \"1\", \"c\": \"1\", \"d\": \"1\", \"e\": \"1\", "
		  "\"f\": \"1\", \"g\": \"1\", \"h\": \"1\", \"i\": \"1\"}}" },
		{ "matchers", "matchers", "{}" },
		{ "matchers.x", "matchers", "{\"x\": \"1\"}" },
		{ "node", "node", "\"bad node\"" },
		{ "node", "node", "\"n9\"" },
		{ "id", "id", "\"sil-2-000000000000\"" },
		{ "ends_ms", "ends_ms", "1800000000001" },
		{ "ends_ms", "starts_ms", "1" },
		{ "created_by", "created_by", "7" },
	};
	struct fix *f = *state;
	char id[64], err[256];
	json_t *w, *spec, *v;
	const char *good;
	uint64_t ends;

	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"disk\"}, "
	    "\"for\": \"1h\"}", id, sizeof(id), err, sizeof(err)), 201);
	w = silences_word(f->s, id, NOW);
	good = json_string_value(json_object_get(w, "spec_json"));
	ends = json_integer_value(json_object_get(w, "ends_ms"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text;

		spec = json_loads(good, 0, NULL);
		if (bad[i].value == NULL)
			json_object_del(spec, bad[i].key);
		else {
			v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);
			assert_non_null(v);
			json_object_set_new(spec, bad[i].key, v);
		}
		text = json_dumps(spec, JSON_COMPACT);
		err[0] = '\0';
		if (check(id, text, "n1", ends, err, sizeof(err)) != -1)
			fail_msg("%s=%s: taken", bad[i].key, bad[i].value);
		if (strncmp(err, bad[i].field, strlen(bad[i].field)) != 0)
			fail_msg("%s=%s: \"%s\" does not start with %s",
			    bad[i].key, bad[i].value, err, bad[i].field);
		free(text);
		json_decref(spec);
	}
	assert_int_equal(check(id, "{", "n1", ends, err, sizeof(err)), -1);
	assert_int_equal(check(id, good, "n1", ends + 1, err, sizeof(err)), -1);
	assert_int_equal(check(id, good, "n1", ends, err, sizeof(err)), 0);
	json_decref(w);
}

/* Into buf: the spec of n1's silence id on rule "a" from starts to ends. */
static const char *
spec_of(char *buf, size_t len, const char *id, uint64_t starts,
    uint64_t ends)
{
	snprintf(buf, len, "{\"id\": \"%s\", \"matchers\": {\"rule\": \"a\"}, "
	    "\"starts_ms\": %llu, \"ends_ms\": %llu, \"comment\": \"\", "
	    "\"created_by\": \"t\", \"node\": \"n1\"}", id,
	    (unsigned long long)starts, (unsigned long long)ends);
	return buf;
}

/* A silence of an hour ten years on, or one whose word is dated apart
 * from its start, is refused; one a little ahead holds nothing back
 * before its start. */
static void
test_a_silence_ahead_is_bounded(void **state)
{
	const uint64_t far = NOW + 10ULL * 365 * 86400 * 1000,
	    days2 = NOW + 2 * 86400000ULL;
	struct fix *f = *state;
	char id[64], err[256], buf[512];

	snprintf(id, sizeof(id), "%s", sid(7));
	spec_of(buf, sizeof(buf), id, far, far + 3600000);
	assert_int_equal(silences_check(id, buf, strlen(buf), "n1", far,
	    far + 3600000, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "ends_ms: after starts_ms, at most 90 days on");
	spec_of(buf, sizeof(buf), id, days2, days2 + 3600000);
	assert_int_equal(silences_check(id, buf, strlen(buf), "n1", days2,
	    days2 + 3600000, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "starts_ms: more than a day ahead of our "
	    "clock");
	spec_of(buf, sizeof(buf), id, NOW + 3600000, NOW + 7200000);
	assert_int_equal(silences_check(id, buf, strlen(buf), "n1", NOW,
	    NOW + 7200000, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "starts_ms: not the word's updated_ms");
	assert_int_equal(silences_check(id, buf, strlen(buf), "n1", NOW +
	    3600000, NOW + 7200000, NOW, err, sizeof(err)), 0);
	/* taken, it holds back only from its start */
	assert_int_equal(silences_apply(f->s, id, buf, NOW + 3600000, "n1",
	    NOW + 7200000, NOW), 1);
	assert_null(silences_match(f->s, NOW, "a", "n1", NULL));
	assert_string_equal(silences_match(f->s, NOW + 3600000, "a", "n1",
	    NULL), id);
}

/* A removal may name any node's id (the form checked only). */
static void
test_a_removal_names_any_nodes_id(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(silences_check_removal(sid(9), "n1", err,
	    sizeof(err)), 0);
	assert_int_equal(silences_check_removal(sid(9), "n2", err,
	    sizeof(err)), 0);
	assert_int_equal(silences_check_removal("sil-9-x", "n1", err,
	    sizeof(err)), -1);
	assert_int_equal(strncmp(err, "id:", 3), 0);
	assert_int_equal(silences_check_removal("sil-0-08b37b07b558", "n1",
	    err, sizeof(err)), -1);
	assert_int_equal(silences_check_removal(
	    "sil-18446744073709551616-08b37b07b558", "n1", err, sizeof(err)),
	    -1);
	assert_int_equal(silences_check_removal(
	    "sil-18446744073709551615-08b37b07b558", "n1", err, sizeof(err)),
	    0);
	assert_int_equal(silences_check_removal(sid(9), "bad node", err,
	    sizeof(err)), -1);
	assert_int_equal(strncmp(err, "author:", 7), 0);
}

static const char *taken_id;

static int
taken(const char *id, void *arg)
{
	(void)arg;
	return strcmp(id, taken_id) == 0;
}

/* Ids the store or the mesh's view holds are skipped; a word of ours with
 * a huge n does not move the count (it stays within 19 digits). */
static void
test_ids_pass_those_the_mesh_holds(void **state)
{
	struct fix *f = *state;
	char id[64], err[256], held[96], buf[512];

	snprintf(held, sizeof(held), "%s", sid(1));
	spec_of(buf, sizeof(buf), held, NOW, NOW + 3600000);
	assert_int_equal(silences_apply(f->s, held, buf, NOW, "n1", NOW +
	    3600000, NOW), 1);
	assert_int_equal(silences_apply(f->s, sid(2), NULL, NOW, "n2", NOW +
	    3600000, NOW), 1);
	snprintf(held, sizeof(held), "sil-9999999999999999999-%s",
	    sid(1) + 6);
	assert_int_equal(silences_apply(f->s, held, NULL, NOW, "n2", NOW +
	    3600000, NOW), 1);
	snprintf(held, sizeof(held), "%s", sid(3));
	taken_id = held;
	silences_set_taken(f->s, taken, NULL);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"1h\"}", id, sizeof(id), err, sizeof(err)), 201);
	assert_string_equal(id, sid(4));
	silences_set_taken(f->s, NULL, NULL);
}

/* Another node's removal of an id not made yet blocks that id only. */
static void
test_a_removal_ahead_costs_an_id(void **state)
{
	struct fix *f = *state;
	char id[64], err[256];

	assert_int_equal(silences_apply(f->s, sid(1), NULL, NOW, "n2", NOW +
	    3600000, NOW), 1);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"1h\"}", id, sizeof(id), err, sizeof(err)), 201);
	assert_string_equal(id, sid(2));
	assert_string_equal(silences_match(f->s, NOW, "a", "n1", NULL), sid(2));
}

/* A silence stored before they were mesh-wide held back only this
 * node's notices: it still does; one whose node matcher named another
 * node held back nothing, and goes rather than hold back that node's. */
static void
test_an_old_silence_stays_this_nodes(void **state)
{
	struct fix *f = *state;
	char err[256], buf[512];
	json_t *list;

	snprintf(buf, sizeof(buf), "{\"next\": 3, \"silences\": [{\"id\": "
	    "\"sil-1\", \"matchers\": {\"rule\": \"b\", \"node\": \"n2\"}, "
	    "\"starts_ms\": %llu, \"ends_ms\": %llu, \"comment\": \"\", "
	    "\"created_by\": \"t\"}, {\"id\": \"sil-2\", \"matchers\": "
	    "{\"rule\": \"a\"}, \"starts_ms\": %llu, \"ends_ms\": %llu, "
	    "\"comment\": \"\", \"created_by\": \"t\"}]}",
	    (unsigned long long)NOW, (unsigned long long)(NOW + 3600000),
	    (unsigned long long)NOW, (unsigned long long)(NOW + 3600000));
	assert_int_equal(store_meta_set(f->store, "silences", buf), 0);
	silences_free(f->s);
	f->s = silences_new(f->store, "n1", err, sizeof(err));
	assert_non_null(f->s);
	assert_null(silences_match(f->s, NOW, "a", "n2", NULL));
	assert_string_equal(silences_match(f->s, NOW, "a", "n1", NULL), sid(3));
	assert_null(silences_match(f->s, NOW, "b", "n2", NULL));
	assert_null(silences_match(f->s, NOW, "b", "n1", NULL));
	list = silences_list(f->s, NOW);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(list, 0), "matchers"), "node")), "n1");
	json_decref(list);
}

/* Past 64 removals the one that ends first goes, as in the mesh's view
 * (sync_silences.c), not the oldest. */
static void
test_removals_past_the_bound_drop_the_first_to_end(void **state)
{
	struct fix *f = *state;
	json_t *w;

	for (int i = 1; i <= 65; i++)
		assert_int_equal(silences_apply(f->s, sid(i), NULL, NOW + (uint64_t)i,
		    "n1", NOW + (i == 30 ? 1000 : 3600000 + (uint64_t)i), NOW), 1);
	w = silences_word(f->s, sid(1), NOW);
	assert_non_null(w);
	json_decref(w);
	assert_null(silences_word(f->s, sid(30), NOW));
	w = silences_words(f->s, NOW);
	assert_int_equal(json_array_size(w), 64);
	json_decref(w);
}

/* At 64 removals our own new one is kept, though it ends first: the
 * one the mesh hears of (silences_word) is there to send. */
static void
test_our_removal_is_kept_past_the_bound(void **state)
{
	struct fix *f = *state;
	char id[64], err[256];
	json_t *w;

	for (int i = 1; i <= 64; i++)
		assert_int_equal(silences_apply(f->s, sid(100 + i), NULL, NOW,
		    "n2", NOW + 3600000 + (uint64_t)i, NOW), 1);
	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"1m\"}", id, sizeof(id), err, sizeof(err)), 201);
	assert_int_equal(silences_remove(f->s, id, NULL, NOW), 1);
	w = silences_word(f->s, id, NOW);
	assert_non_null(w);
	assert_true(json_is_true(json_object_get(w, "deleted")));
	json_decref(w);
	assert_null(silences_word(f->s, sid(101), NOW));
	w = silences_words(f->s, NOW);
	assert_int_equal(json_array_size(w), 64);
	json_decref(w);
}

/* The store's 256 KiB: the mesh's fat silences can fill it (one node's
 * 16 cannot), and then a POST here is 507 naming it, not a cut value. */
static void
test_the_store_bound_still_holds(void **state)
{
	struct fix *f = *state;
	char id[64], err[256], spec[8192], labels[6000], comment[257];
	char *p = labels;
	int i, rc = 1;

	/* 8 labels of 255 quotes: two bytes each, stored */
	for (i = 0; i < 8; i++) {
		p += snprintf(p, 16, "%s\"k%d\": \"", i > 0 ? ", " : "", i);
		for (int j = 0; j < 255; j++)
			p += snprintf(p, 3, "\\\"");
		p += snprintf(p, 2, "\"");
	}
	/* and a comment of 128 backslashes */
	memset(comment, '\\', 256);
	comment[256] = '\0';
	for (i = 1; i < SILENCES_MAX && rc == 1; i++) {
		snprintf(id, sizeof(id), "sil-%d-n2", i);
		snprintf(spec, sizeof(spec), "{\"id\": \"%s\", \"matchers\": "
		    "{\"labels\": {%s}}, \"starts_ms\": %llu, \"ends_ms\": "
		    "%llu, \"comment\": \"%s\", \"created_by\": \"t\", "
		    "\"node\": \"n2\"}", id, labels, (unsigned long long)NOW,
		    (unsigned long long)(NOW + 3600000), comment);
		rc = silences_apply(f->s, id, spec, NOW, "n2", NOW + 3600000,
		    NOW);
	}
	assert_int_equal(rc, -1);
	snprintf(spec, sizeof(spec), "{\"matchers\": {\"labels\": {%s}}, "
	    "\"for\": \"1h\", \"comment\": \"%s\"}", labels, comment);
	assert_int_equal(add(f, spec, NULL, 0, err, sizeof(err)), 507);
	assert_non_null(strstr(err, "KiB"));
}

/* Past 64 removals ours go last, though they end first: the removals
 * a node made while others were down are what keep those silences
 * removed when they come back (a share of 16 once forgot our 17th's
 * first, and main's "the one that ends first" forgot ours first). */
static void
test_our_removals_outlast_the_others(void **state)
{
	struct fix *f = *state;
	char ids[20][64], err[256];
	json_t *w;

	for (int i = 0; i < 20; i++) {
		assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, "
		    "\"for\": \"1m\"}", ids[i], sizeof(ids[i]), err,
		    sizeof(err)), 201);
		assert_int_equal(silences_remove(f->s, ids[i], NULL, NOW), 1);
	}
	for (int i = 1; i <= 64; i++)
		assert_int_equal(silences_apply(f->s, sid(100 + i), NULL, NOW,
		    "n2", NOW + 3600000 + (uint64_t)i, NOW), 1);
	for (int i = 0; i < 20; i++) {
		w = silences_word(f->s, ids[i], NOW);
		assert_non_null(w);
		assert_true(json_is_true(json_object_get(w, "deleted")));
		json_decref(w);
	}
	assert_null(silences_word(f->s, sid(120), NOW));
	assert_non_null(w = silences_word(f->s, sid(121), NOW));
	json_decref(w);
	w = silences_words(f->s, NOW);
	assert_int_equal(json_array_size(w), 64);
	json_decref(w);
}

/* Past 64 removals one the mesh's view no longer holds goes first (the
 * view forgot it by its ranks): the store keeps what the view keeps. */
static int
taken_but(const char *id, void *arg)
{
	return strcmp(id, (const char *)arg) != 0;
}

static void
test_removals_the_view_forgot_go_first(void **state)
{
	struct fix *f = *state;
	char gone[64];
	json_t *w;

	snprintf(gone, sizeof(gone), "%s", sid(140));
	silences_set_taken(f->s, taken_but, gone);
	for (int i = 1; i <= 65; i++)
		assert_int_equal(silences_apply(f->s, sid(100 + i), NULL, NOW,
		    "n2", NOW + 3600000 + (uint64_t)i, NOW), 1);
	assert_null(silences_word(f->s, sid(140), NOW));
	assert_non_null(w = silences_word(f->s, sid(101), NOW));
	json_decref(w);
	silences_set_taken(f->s, NULL, NULL);
}

/* A removal the store cannot keep (its write refused: a trigger on the
 * meta table, through a second connection) answers -1 and leaves the
 * silence live, here and in the store, as the API's 500 says. */
static void
test_a_removal_not_stored_leaves_the_silence(void **state)
{
	struct fix *f = *state;
	char id[64], err[256], path[160];
	sqlite3 *db;
	json_t *w;

	assert_int_equal(add(f, "{\"matchers\": {\"rule\": \"a\"}, \"for\": "
	    "\"1h\"}", id, sizeof(id), err, sizeof(err)), 201);
	snprintf(path, sizeof(path), "%s/agentflow.db", f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER no_meta BEFORE "
	    "UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'refused'); END; "
	    "CREATE TRIGGER no_meta_in BEFORE INSERT ON meta BEGIN SELECT "
	    "RAISE(ABORT, 'refused'); END;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(silences_remove(f->s, id, NULL, NOW), -1);
	assert_string_equal(silences_match(f->s, NOW, "a", "n1", NULL), id);
	w = silences_word(f->s, id, NOW);
	assert_non_null(w);
	assert_false(json_is_true(json_object_get(w, "deleted")));
	json_decref(w);
	silences_free(f->s);
	f->s = silences_new(f->store, "n1", err, sizeof(err));
	assert_non_null(f->s);
	assert_string_equal(silences_match(f->s, NOW, "a", "n1", NULL), id);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER no_meta; DROP TRIGGER "
	    "no_meta_in;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(silences_remove(f->s, id, NULL, NOW), 1);
	assert_null(silences_match(f->s, NOW, "a", "n1", NULL));
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
		cmocka_unit_test_setup_teardown(
		    test_another_nodes_silence_is_checked_then_held, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_a_hostile_silence_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_silence_ahead_is_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_removal_names_any_nodes_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_removal_ahead_costs_an_id,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_pass_those_the_mesh_holds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_old_silence_stays_this_nodes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_removals_past_the_bound_drop_the_first_to_end, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_removal_not_stored_leaves_the_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_our_removal_is_kept_past_the_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_our_removals_outlast_the_others, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_store_bound_still_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_removals_the_view_forgot_go_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
