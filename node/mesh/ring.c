/*
 * Ring neighbours under --max-links (ring.h).
 */
#include "ring.h"

/* The smallest b >= 2 with b^m >= n (n itself when m is 1). */
static size_t
spread_base(size_t n, size_t m)
{
	for (size_t b = 2;; b++) {
		size_t p = 1;

		for (size_t i = 0; i < m && p < n; i++)
			p *= b;
		if (p >= n)
			return b;
	}
}

/* One distance d: the next at d, then the previous (the same node when d
 * is half the ring), while fewer than k are picked.  1 when one is to. */
static int
pick_at(size_t n, size_t from, size_t to, size_t d, size_t k, size_t *picked)
{
	size_t next = (from + d) % n, prev = (from + n - d) % n;

	if (*picked >= k)
		return 0;
	if (next == to)
		return 1;
	(*picked)++;
	if (prev != next && *picked < k) {
		if (prev == to)
			return 1;
		(*picked)++;
	}
	return 0;
}

/* Whether d is one of the spread distances 1, b, ..., b^(levels-1). */
static int
spread_distance(size_t d, size_t b, size_t levels)
{
	size_t p = 1;

	for (size_t j = 0; j < levels; j++, p *= b)
		if (p == d)
			return 1;
	return 0;
}

int
ring_picks(size_t n, size_t from, size_t to, size_t k, int spread)
{
	size_t picked = 0, m, b = 0, levels = 0, d;

	if (n < 2 || from == to || from >= n || to >= n)
		return 0;
	if (k >= n - 1)
		return 1;
	if (spread) {
		m = (k + 1) / 2;
		b = spread_base(n, m);
		for (d = 1; levels < m && d <= n / 2; d *= b, levels++)
			if (pick_at(n, from, to, d, k, &picked))
				return 1;
	}
	for (d = 1; d <= n / 2 && picked < k; d++) {
		if (spread && spread_distance(d, b, levels))
			continue;
		if (pick_at(n, from, to, d, k, &picked))
			return 1;
	}
	return 0;
}
