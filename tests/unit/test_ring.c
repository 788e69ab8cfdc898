/*
 * Unit tests of node/mesh/ring.c: the near ring is what every version
 * picked, the spread ring keeps a 100-node mesh at K = 6 within the hops
 * an event may be forwarded, both give every node at most K links.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define HOPS	8	/* node/mesh/sync_priv.h's HOP_LIMIT */

/* What every version before the spread ring ran: next, previous, second
 * next, ... up to k. */
static int
near_before(size_t n, size_t from, size_t to, size_t k)
{
	size_t picked = 0;

	for (size_t d = 1; d < n && picked < k; d++) {
		size_t next = (from + d) % n, prev = (from + n - d) % n;
		if (next == to)
			return 1;
		picked++;
		if (prev != next && picked < k) {
			if (prev == to)
				return 1;
			picked++;
		}
	}
	return 0;
}

/* A link where either end picks the other. */
static unsigned char *
links_of(size_t n, size_t k, int spread)
{
	unsigned char *adj = calloc(n * n, 1);

	assert_non_null(adj);
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++)
			if (ring_picks(n, a, b, k, spread))
				adj[a * n + b] = adj[b * n + a] = 1;
	return adj;
}

/* The longest shortest path (the graph must be connected); *degree the
 * most links of one node. */
static size_t
diameter(size_t n, size_t k, int spread, size_t *degree)
{
	unsigned char *adj = links_of(n, k, spread);
	size_t *dist = calloc(n, sizeof(*dist)), *queue = calloc(n, sizeof(*queue));
	size_t most = 0;

	assert_non_null(dist);
	assert_non_null(queue);
	*degree = 0;
	for (size_t s = 0; s < n; s++) {
		size_t head = 0, tail = 0, deg = 0;

		for (size_t v = 0; v < n; v++) {
			dist[v] = SIZE_MAX;
			deg += adj[s * n + v];
		}
		if (deg > *degree)
			*degree = deg;
		dist[s] = 0;
		queue[tail++] = s;
		while (head < tail) {
			size_t u = queue[head++];
			for (size_t v = 0; v < n; v++)
				if (adj[u * n + v] && dist[v] == SIZE_MAX) {
					dist[v] = dist[u] + 1;
					queue[tail++] = v;
				}
		}
		assert_int_equal(tail, n);	/* connected */
		for (size_t v = 0; v < n; v++)
			if (dist[v] > most)
				most = dist[v];
	}
	free(adj);
	free(dist);
	free(queue);
	return most;
}

static void
test_near_ring_is_the_old_rule(void **state)
{
	(void)state;
	for (size_t n = 1; n <= 40; n++)
		for (size_t k = 1; k <= n + 1; k++)
			for (size_t a = 0; a < n; a++)
				for (size_t b = 0; b < n; b++)
					assert_int_equal(ring_picks(n, a, b, k, 0),
					    near_before(n, a, b, k));
}

/* K = 2 is one ring under both rules (a mixed mesh at 2 never differs);
 * K >= n - 1 picks everyone. */
static void
test_two_is_one_ring_and_many_is_all(void **state)
{
	(void)state;
	for (size_t n = 2; n <= 64; n++)
		for (size_t a = 0; a < n; a++)
			for (size_t b = 0; b < n; b++) {
				assert_int_equal(ring_picks(n, a, b, 2, 1),
				    ring_picks(n, a, b, 2, 0));
				assert_int_equal(ring_picks(n, a, b, n - 1, 1),
				    a != b);
			}
	assert_int_equal(ring_picks(5, 1, 1, 2, 1), 0);
	assert_int_equal(ring_picks(5, 1, 7, 2, 1), 0);
}

/* Each node picks exactly k distinct others. */
static void
test_spread_picks_k(void **state)
{
	(void)state;
	for (size_t n = 2; n <= 120; n++)
		for (size_t k = 1; k < n - 1; k++) {
			size_t picked = 0;
			for (size_t b = 0; b < n; b++)
				picked += (size_t)ring_picks(n, 7 % n, b, k, 1);
			assert_int_equal(picked, k);
		}
}

/* The figures ring.h gives: K = 6 at 50 and 100 nodes within the hops an
 * event may take (the near ring is not at 50); every node at most K links
 * (K + 1 where half the ring is one of the distances: that one picks a
 * single node, and the next distance only its next). */
static void
test_spread_diameter(void **state)
{
	size_t deg;

	(void)state;
	assert_true(diameter(50, 6, 0, &deg) > HOPS);	/* why the spread ring */
	for (size_t n = 7; n <= 200; n++) {
		size_t d = diameter(n, 6, 1, &deg);
		assert_true(d <= (n <= 100 ? 6 : HOPS));
		assert_true(deg <= 7);
	}
	assert_int_equal(diameter(50, 6, 1, &deg), 4);
	assert_int_equal(deg, 6);
	assert_int_equal(diameter(100, 6, 1, &deg), 6);
	assert_int_equal(deg, 6);
	assert_true(diameter(100, 8, 1, &deg) <= 5);
	assert_int_equal(deg, 8);
	assert_true(diameter(50, 4, 1, &deg) <= HOPS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_near_ring_is_the_old_rule),
		cmocka_unit_test(test_two_is_one_ring_and_many_is_all),
		cmocka_unit_test(test_spread_picks_k),
		cmocka_unit_test(test_spread_diameter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
