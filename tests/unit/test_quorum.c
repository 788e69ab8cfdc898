/*
 * Unit tests of node/work/quorum.c's owners: every node scoring the same
 * members picks the same owner; an owner held while its member drops out
 * of sight, then moved once the hold has passed; a member that left is
 * no candidate at once; the majority counts members not left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "quorum.h"

/* A quorum as quorum_build leaves it, from "id=state" words. */
static void
make(struct quorum *q, const char *const *members, size_t n)
{
	char id[32];
	const char *eq;

	memset(q, 0, sizeof(*q));
	q->state = json_object();
	q->heard = json_object();
	q->alive = json_array();
	for (size_t i = 0; i < n; i++) {
		eq = strchr(members[i], '=');
		snprintf(id, sizeof(id), "%.*s", (int)(eq - members[i]), members[i]);
		json_object_set_new(q->state, id, json_string(eq + 1));
		if (strcmp(eq + 1, "left") != 0)
			q->known++;
		if (strcmp(eq + 1, "alive") == 0)
			json_array_append_new(q->alive, json_string(id));
	}
}

/* A key whose owner among q's alive members is want. */
static void
key_owned_by(const struct quorum *q, const char *want, char *key, size_t len)
{
	for (int i = 0; i < 10000; i++) {
		snprintf(key, len, "s/%d", i);
		if (strcmp(quorum_owner(q, key), want) == 0)
			return;
	}
	fail_msg("no key owned by %s", want);
}

static void
test_held_then_moved(void **state)
{
	static const char *const all[] = { "n1=alive", "n2=alive", "n3=alive",
	    "n4=alive", "n5=alive" };
	static const char *const cut[] = { "n1=alive", "n2=alive", "n3=alive",
	    "n4=dead", "n5=suspect" };
	struct quorum q;
	json_t *seen = json_object();
	char key[32];
	const char *o;

	(void)state;
	make(&q, all, 5);
	key_owned_by(&q, "n5", key, sizeof(key));
	quorum_seen_note(seen, &q, 1000, 3000);
	assert_string_equal(quorum_owner_held(&q, seen, key, 1000, 3000), "n5");
	quorum_clear(&q);

	/* n5 out of sight: held for 3 s from when it was last seen. */
	make(&q, cut, 5);
	quorum_seen_note(seen, &q, 2000, 3000);
	assert_true(quorum_majority(&q));
	assert_string_equal(quorum_owner_held(&q, seen, key, 2000, 3000), "n5");
	assert_string_equal(quorum_owner_held(&q, seen, key, 4000, 3000), "n5");
	/* Past the hold: an owner among the three alive, the same as the
	 * plain owner, and the seen map pruned of n4 and n5. */
	o = quorum_owner_held(&q, seen, key, 4001, 3000);
	assert_non_null(o);
	assert_string_equal(o, quorum_owner(&q, key));
	assert_true(strcmp(o, "n1") == 0 || strcmp(o, "n2") == 0 ||
	    strcmp(o, "n3") == 0);
	quorum_seen_note(seen, &q, 4001, 3000);
	assert_null(json_object_get(seen, "n5"));
	assert_int_equal(json_object_size(seen), 3);
	quorum_clear(&q);
	json_decref(seen);
}

static void
test_left_is_no_candidate(void **state)
{
	static const char *const all[] = { "a=alive", "b=alive", "c=alive" };
	static const char *const gone[] = { "a=alive", "b=alive", "c=left" };
	struct quorum q;
	json_t *seen = json_object();
	char key[32];

	(void)state;
	make(&q, all, 3);
	key_owned_by(&q, "c", key, sizeof(key));
	quorum_seen_note(seen, &q, 1000, 5000);
	quorum_clear(&q);
	make(&q, gone, 3);
	assert_int_equal(q.known, 2);
	assert_true(quorum_majority(&q));
	assert_string_not_equal(quorum_owner_held(&q, seen, key, 1001, 5000), "c");
	quorum_clear(&q);
	json_decref(seen);
}

static void
test_minority_and_none(void **state)
{
	static const char *const two[] = { "n1=dead", "n2=dead", "n3=suspect",
	    "n4=alive", "n5=alive" };
	struct quorum q;
	json_t *seen = json_object();

	(void)state;
	make(&q, two, 5);
	assert_false(quorum_majority(&q));
	quorum_clear(&q);
	make(&q, NULL, 0);
	assert_null(quorum_owner(&q, "k"));
	assert_null(quorum_owner_held(&q, seen, "k", 0, 1000));
	quorum_clear(&q);
	json_decref(seen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_then_moved),
		cmocka_unit_test(test_left_is_no_candidate),
		cmocka_unit_test(test_minority_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
