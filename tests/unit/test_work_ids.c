/* Unit tests of node/work/work_ids.c: two nodes in the same incarnation
 * name their tasks and alerts apart, and the longest node id with the
 * longest incarnation and counter still makes an id of the id syntax. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node_id.h"
#include "work_ids.h"

/* The id of the counter's nth run of kind in incarnation, as tasks.c
 * and alerts.c make it: "<prefix>-<n>".  Checks it is an id. */
static void
make_id(char id[NODE_ID_MAX + 1], const char *node, char kind,
    uint64_t incarnation, uint64_t n)
{
	char prefix[NODE_ID_PREFIX_MAX + 1];
	int len;

	work_ids_prefix(prefix, node, kind, incarnation);
	assert_true(strlen(prefix) <= NODE_ID_PREFIX_MAX);
	len = snprintf(id, NODE_ID_MAX + 1, "%s-%" PRIu64, prefix, n);
	assert_true(len > 0 && len <= NODE_ID_MAX);
	assert_true(node_id_valid(id, (size_t)len));
}

static void
test_nodes_apart(void **state)
{
	char a[NODE_ID_MAX + 1], b[NODE_ID_MAX + 1];

	(void)state;
	/* Every node's first task of its first life was "t1-1". */
	make_id(a, "n1", 't', 1, 1);
	make_id(b, "n2", 't', 1, 1);
	assert_string_equal(a, "n1.t1-1");
	assert_string_equal(b, "n2.t1-1");
	make_id(a, "n2", 'a', 1, 3);
	assert_string_equal(a, "n2.a1-3");
	/* A node id with dots reads as itself: the kind follows the last. */
	make_id(a, "nas.home.arpa", 't', 12, 7);
	assert_string_equal(a, "nas.home.arpa.t12-7");
}

static void
test_longest_fits(void **state)
{
	char node[NODE_ID_MAX + 1], other[NODE_ID_MAX + 1];
	char a[NODE_ID_MAX + 1], b[NODE_ID_MAX + 1];

	(void)state;
	memset(node, 'x', NODE_ID_MAX);
	node[NODE_ID_MAX] = '\0';
	memcpy(other, node, sizeof(other));
	other[NODE_ID_MAX - 1] = 'y';
	make_id(a, node, 't', UINT64_MAX, UINT64_MAX);
	make_id(b, other, 't', UINT64_MAX, UINT64_MAX);
	assert_int_equal(strlen(a), NODE_ID_MAX);
	/* Same head, another hash: still apart. */
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, node, WORK_IDS_HEAD), 0);
	make_id(a, node, 'a', UINT64_MAX, UINT64_MAX);
	assert_int_equal(strlen(a), NODE_ID_MAX);
	/* The longest node id kept whole fits too, to the byte. */
	node[WORK_IDS_NODE_MAX] = '\0';
	make_id(a, node, 't', UINT64_MAX, UINT64_MAX);
	assert_int_equal(strlen(a), NODE_ID_MAX);
	assert_int_equal(strncmp(a, node, WORK_IDS_NODE_MAX), 0);
	assert_int_equal(a[WORK_IDS_NODE_MAX], '.');
}

static void
test_tag(void **state)
{
	char node[NODE_ID_MAX + 1], part[WORK_IDS_NODE_MAX + 1];
	char id[NODE_ID_MAX + 1];

	(void)state;
	/* Up to WORK_IDS_NODE_MAX the node's id is its part; one more and
	 * the part is a tag of that same length. */
	memset(node, 'k', WORK_IDS_NODE_MAX);
	node[WORK_IDS_NODE_MAX] = '\0';
	work_ids_node(part, node);
	assert_string_equal(part, node);
	strcat(node, "k");
	work_ids_node(part, node);
	assert_int_equal(strlen(part), WORK_IDS_NODE_MAX);
	assert_string_not_equal(part, node);
	/* The first WORK_IDS_HEAD characters, "-", 8 hex digits of the
	 * SHA-256 (python3: hashlib.sha256(b"livingroom-raspberrypi-4")). */
	work_ids_node(part, "livingroom-raspberrypi-4");
	assert_string_equal(part, "livingroom--6f2d0a59");
	make_id(id, "livingroom-raspberrypi-4", 't', 1, 7);
	assert_string_equal(id, "livingroom--6f2d0a59.t1-7");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_apart),
		cmocka_unit_test(test_longest_fits),
		cmocka_unit_test(test_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
