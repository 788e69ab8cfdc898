/*
 * Tests of proto/mesh_features.c: the names a Hello lists, the feature of
 * each Frame body, and what a peer is taken to speak from its Hello.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh.pb-c.h"
#include "mesh_features.h"

static void
test_ours_and_bodies(void **state)
{
	const char *const *ours;
	size_t n = mesh_features_ours(&ours);

	(void)state;
	assert_true(n >= 3 && n <= MESH_FEATURES_MAX);
	assert_string_equal(ours[0], "events");
	assert_int_equal(mesh_features_index("snapshots"), 1);
	assert_int_equal(mesh_features_index("commands"), 2);
	assert_int_equal(mesh_features_index("nope"), -1);
	assert_string_equal(mesh_features_of_body(
	    AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS), "events");
	assert_string_equal(mesh_features_of_body(
	    AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST), "snapshots");
	assert_string_equal(mesh_features_of_body(
	    AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT), "commands");
	assert_string_equal(mesh_features_of_body(
	    AGENTFLOW__MESH__V1__FRAME__BODY_OFFER), "pull_catchup");
	assert_null(mesh_features_of_body(AGENTFLOW__MESH__V1__FRAME__BODY_HELLO));
	assert_null(mesh_features_of_body(AGENTFLOW__MESH__V1__FRAME__BODY_PING));
	assert_null(mesh_features_of_body(100));
}

static void
test_peer_mask(void **state)
{
	char *some[] = { "commands", "from_the_future" };
	char *none[] = { NULL };
	unsigned m;

	(void)state;
	/* A peer from before features speaks the three of then. */
	m = mesh_features_mask(none, 0);
	assert_true(mesh_features_has(m, "events"));
	assert_true(mesh_features_has(m, "snapshots"));
	assert_true(mesh_features_has(m, "commands"));
	assert_true(mesh_features_has(m, NULL));
	assert_false(mesh_features_has(m, "from_the_future"));
	/* A peer listing some speaks those only; names we lack are ignored. */
	m = mesh_features_mask(some, 2);
	assert_true(mesh_features_has(m, "commands"));
	assert_false(mesh_features_has(m, "events"));
	assert_false(mesh_features_has(m, "from_the_future"));
	assert_true(mesh_features_has(m, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours_and_bodies),
		cmocka_unit_test(test_peer_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
