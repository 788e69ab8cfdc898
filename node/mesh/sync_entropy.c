/*
 * Anti-entropy (sync.h): what we hold, summed up in a digest every Ping
 * carries, and an ask for what we lack when a neighbour's digest differs
 * from ours on two pings in a row.
 *
 * Events reach a node over one forwarding tree per origin (routing.h),
 * which every node computes from the statuses it holds.  While two
 * neighbours hold different statuses (one lost in churn), their trees
 * differ, and an event can reach nobody who hands it to some node: one
 * that never heard of an origin, or holds only its first events, sees no
 * gap and never asks, and its missing statuses keep its trees different
 * from its neighbours' (a 50-node mesh at --max-links 6 never formed).
 * The digest closes that loop as Serf's push-pull does, at the cost of
 * eight bytes per ping while the neighbours agree: a node that holds less
 * than a neighbour sends it its cursors, and the neighbour answers with
 * the events (or snapshots) the node lacks, paced like a link-up's
 * catch-up (sync_catchup.c).
 *
 * Digests of two nodes differ for a moment whenever an event is on its
 * way, hence two pings in a row; they differ for good when a neighbour
 * holds an origin we refuse (beyond ORIGINS_MAX, a life we forgot), hence
 * asks that grow apart, 2, 4, 8 then every 16 pings while the digests
 * differ, and start over once they agree.
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdlib.h>

#include "hmap.h"
#include "xalloc.h"

#define FIRST_ASK	2	/* mismatched pings in a row before the first */
#define GAP_MAX		16	/* pings between asks, at most */

struct entropy {
	unsigned	mismatches;	/* pings in a row whose digest was not ours */
	unsigned	ask_at;		/* ask at this many */
	unsigned	gap;		/* then after this many more */
};

/* splitmix64's finaliser: every input bit moves about half the output. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a of a node id. */
static uint64_t
hash_id(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

uint64_t
sync_digest_of(const char *id, uint64_t incarnation, uint64_t seq)
{
	return mix(hash_id(id) ^ mix(incarnation ^ mix(seq)));
}

static int
add_origin(const char *id, void *value, void *arg)
{
	const struct origin *o = value;
	uint64_t *d = arg;

	if (o->incarnation != 0)
		*d ^= sync_digest_of(id, o->incarnation, o->seq);
	return 0;
}

uint64_t
sync_digest(struct sync *s)
{
	uint64_t d = 0;

	if (s == NULL)
		return 0;
	hmap_sweep(s->origins, add_origin, &d);
	return d != 0 ? d : 1;	/* 0 would say nothing */
}

/* Sends peer all our cursors: it answers with what we lack. */
static void
ask(struct sync *s, const char *peer)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__SnapshotRequest r = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;

	r.n_cursors = sync_cursors(&r.cursors, s);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &r;
	(void)sync_send_frame(s, peer, &f);	/* a full queue: the next ask */
	s->entropy_asks++;
}

void
sync_peer_digest(struct sync *s, const char *peer, uint64_t digest)
{
	struct entropy *e;

	if (s == NULL || digest == 0)
		return;
	if ((e = hmap_get(s->entropy, peer)) == NULL) {
		/* Peers hold valid certificates; still, no more of them
		 * than origins we would hold. */
		if (hmap_count(s->entropy) >= ORIGINS_MAX)
			return;
		e = xcalloc(1, sizeof(*e));
		hmap_put(s->entropy, peer, e);
	}
	if (digest == sync_digest(s)) {
		e->mismatches = 0;
		e->ask_at = FIRST_ASK;
		e->gap = FIRST_ASK;
		return;
	}
	if (e->ask_at == 0) {
		e->ask_at = FIRST_ASK;
		e->gap = FIRST_ASK;
	}
	if (++e->mismatches < e->ask_at)
		return;
	ask(s, peer);
	e->ask_at = e->mismatches + e->gap;
	if (e->gap < GAP_MAX)
		e->gap *= 2;
}

void
sync_entropy_free(struct sync *s)
{
	hmap_free_with(s->entropy, free);
	s->entropy = NULL;
}
