/* Token buckets in a hash map (see ratelimit.h). */
#include "ratelimit.h"

#include <math.h>
#include <stdlib.h>

#include "hmap.h"
#include "xalloc.h"

struct bucket {
	double		tokens;
	uint64_t	last_ms;
};

struct ratelimit {
	struct hmap	*buckets;
	double		 rate, burst;
	size_t		 max_keys;
};

struct ratelimit *
ratelimit_new(double rate, double burst, size_t max_keys)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->buckets = hmap_new();
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->max_keys = max_keys;
	return rl;
}

static int
free_bucket(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
	return 1;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	hmap_sweep(rl->buckets, free_bucket, NULL);
	hmap_free(rl->buckets);
	free(rl);
}

static void
refill(const struct ratelimit *rl, struct bucket *b, uint64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * rl->rate / 1000.0;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ms = now_ms;
	}
}

int
ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ms,
    unsigned *retry_after_s)
{
	struct bucket *b;

	if (rl->rate <= 0)
		return 1;
	if ((b = hmap_get(rl->buckets, key)) == NULL) {
		if (hmap_count(rl->buckets) >= rl->max_keys) {
			ratelimit_sweep(rl, now_ms);
			if (hmap_count(rl->buckets) >= rl->max_keys) {
				if (retry_after_s != NULL)
					*retry_after_s = 1;
				return 0;
			}
		}
		b = xmalloc(sizeof(*b));
		b->tokens = rl->burst;
		b->last_ms = now_ms;
		hmap_put(rl->buckets, key, b);
	}
	refill(rl, b, now_ms);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	if (retry_after_s != NULL)
		*retry_after_s = (unsigned)ceil((1.0 - b->tokens) / rl->rate);
	return 0;
}

struct sweep_ctx {
	const struct ratelimit	*rl;
	uint64_t		 now_ms;
};

static int
sweep_full(const char *key, void *value, void *arg)
{
	struct sweep_ctx *c = arg;
	struct bucket *b = value;

	(void)key;
	refill(c->rl, b, c->now_ms);
	if (b->tokens >= c->rl->burst) {
		free(b);
		return 1;
	}
	return 0;
}

void
ratelimit_sweep(struct ratelimit *rl, uint64_t now_ms)
{
	struct sweep_ctx c = { rl, now_ms };

	hmap_sweep(rl->buckets, sweep_full, &c);
}

size_t
ratelimit_count(const struct ratelimit *rl)
{
	return hmap_count(rl->buckets);
}
