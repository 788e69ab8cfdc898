/*
 * A fake of our live links for unit tests that drive routing.c (and what
 * sits on it) without a mesh: the peers listed are up, gen changes with
 * every live_set.
 */
#ifndef AGENTFLOW_TEST_FAKE_LIVE_H
#define AGENTFLOW_TEST_FAKE_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "routing.h"

#define MAX_LIVE	8

/* Our live links, as the links module would show them. */
struct fake_live {
	const char	*up[MAX_LIVE];
	size_t		 n;
	uint64_t	 gen;
};

static inline uint64_t
fake_generation(void *arg)
{
	return ((struct fake_live *)arg)->gen;
}

static inline int
fake_is_up(void *arg, const char *peer)
{
	struct fake_live *l = arg;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->up[i], peer) == 0)
			return 1;
	return 0;
}

static inline void
fake_foreach_up(void *arg, void (*fn)(const char *, void *), void *fnarg)
{
	struct fake_live *l = arg;

	for (size_t i = 0; i < l->n; i++)
		fn(l->up[i], fnarg);
}

static inline void
live_set(struct fake_live *l, const char *const *up, size_t n)
{
	for (size_t i = 0; i < n; i++)
		l->up[i] = up[i];
	l->n = n;
	l->gen++;
}

static inline struct routing *
routing_with(const char *self, struct fake_live *l)
{
	struct routing *r = routing_new(self);
	struct routing_live live = { fake_generation, fake_is_up,
	    fake_foreach_up, l };

	routing_set_live(r, &live);
	return r;
}

#define LIVE(l, ...) do {						\
	const char *const up_[] = { __VA_ARGS__ };			\
	live_set(l, up_, sizeof(up_) / sizeof(up_[0]));			\
} while (0)

#endif
