/*
 * Anti-entropy (sync.h): what we hold, summed up in a digest every Ping
 * carries, and an ask for what we lack when a neighbour's digest differs
 * from ours on two pings in a row (four while its own still moves).
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
 * catch-up (sync_catchup.c); a neighbour that pulls answers with an Offer
 * of what it holds more of, asked for of one neighbour (sync_pull.c).
 *
 * Digests of two nodes differ for a moment whenever an event is on its
 * way, hence two pings in a row, and two more while the neighbour's own
 * digest still moves (a burst going through); they differ for good when a neighbour
 * holds an origin we refuse (beyond ORIGINS_MAX, a life we forgot; those
 * come with cursors past them), or the neighbour is still busy catching
 * us up and ignores the ask: asks then come 2, then every 4 pings while
 * the digests differ, and start over once they agree.  (At 16 pings
 * apart, asks ignored while links came up left a node without a route
 * for 40 s under load.)
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdlib.h>

#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "links.h"
#include "xalloc.h"

#define FIRST_ASK	2	/* mismatched pings in a row before the first */
#define GAP_MAX		4	/* pings between asks, at most */
#define STILL_MOVING	2	/* pings more when its digest keeps moving */
#define FRESH_MS	100	/* a digest of ours this old is reused */

struct entropy {
	unsigned	mismatches;	/* pings in a row whose digest was not ours */
	unsigned	ask_at;		/* ask at this many */
	unsigned	gap;		/* then after this many more */
	uint64_t	last;		/* its digest on the ping before */
	uint64_t	asked_ms;	/* mono: we asked it, at (0: answered) */
	uint64_t	offered_ms;	/* mono: we answered its ask, at */
};

#define OFFER_WAIT_MS	10000	/* an Offer later than this answers nothing */
#define OFFER_EVERY_MS	1000	/* a peer's asks answered at most this often */

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
	s->digest = d != 0 ? d : 1;	/* 0 would say nothing */
	s->digest_ms = clock_mono_ms();
	return s->digest;
}

/* peer's run, made if need be. */
static struct entropy *
entropy_of(struct sync *s, const char *peer)
{
	struct entropy *e;

	if (s->entropy == NULL)
		s->entropy = hmap_new();
	if ((e = hmap_get(s->entropy, peer)) == NULL) {
		/* No more runs than origins we would hold: peers that came
		 * and went over a long life start over together. */
		if (hmap_count(s->entropy) >= ORIGINS_MAX) {
			hmap_free_with(s->entropy, free);
			s->entropy = hmap_new();
		}
		e = xcalloc(1, sizeof(*e));
		hmap_put(s->entropy, peer, e);
	}
	return e;
}

int
sync_entropy_offer_due(struct sync *s, const char *peer)
{
	struct entropy *e = entropy_of(s, peer);
	uint64_t now = clock_mono_ms();

	if (e->offered_ms != 0 && now - e->offered_ms < OFFER_EVERY_MS)
		return 0;
	e->offered_ms = now;
	return 1;
}

int
sync_entropy_answered(struct sync *s, const char *peer)
{
	struct entropy *e = s->entropy != NULL ? hmap_get(s->entropy, peer) : NULL;
	uint64_t asked;

	if (e == NULL || (asked = e->asked_ms) == 0)
		return 0;
	e->asked_ms = 0;
	return clock_mono_ms() - asked < OFFER_WAIT_MS;
}

/* Sends peer all our cursors, and a cursor past every life we forgot (a
 * neighbour that still holds one, pruned later or never, sends none of
 * it): it answers with what we lack. */
static void
ask(struct sync *s, const char *peer)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__SnapshotRequest r = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	Agentflow__Mesh__V1__Cursor **ours, *tombs;
	size_t n = sync_cursors(&ours, s), nt;

	tombs = xcalloc(FRAME_CODEC_MAX_NODES - n + 1, sizeof(*tombs));
	nt = sync_forgotten_cursors(s, tombs, FRAME_CODEC_MAX_NODES - n);
	r.cursors = xcalloc(n + nt + 1, sizeof(*r.cursors));
	for (size_t i = 0; i < n; i++)
		r.cursors[r.n_cursors++] = ours[i];
	for (size_t i = 0; i < nt; i++)
		r.cursors[r.n_cursors++] = &tombs[i];
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &r;
	(void)sync_send_frame(s, peer, &f);	/* a full queue: the next ask */
	s->entropy_asks++;
	entropy_of(s, peer)->asked_ms = clock_mono_ms();
	free(r.cursors);
	free(tombs);
}

struct relay_scan {
	const struct sync	*s;
	int			 relayed;
};

static int
find_relayed(const char *id, void *value, void *arg)
{
	struct relay_scan *r = arg;
	const struct origin *o = value;

	if (o != r->s->self && o->incarnation != 0 && !o->left &&
	    !links_is_up(r->s->links, id))
		r->relayed = 1;
	return 0;
}

/*
 * Whether some origin we hold reaches us through others, so that its
 * events are forwarded and forwarding can miss.  In a full mesh each
 * origin sends on its own link, in order, and a link-up's catch-up covers
 * what a reset lost: digests that differ there are events on their way,
 * and asks only brought back what was already coming (a 20-node full
 * mesh under a burst asked 64 times and dropped 139 duplicates).
 */
static int
forwarding(const struct sync *s)
{
	struct relay_scan r = { s, 0 };

	if (s->links == NULL)
		return 1;
	hmap_sweep(s->origins, find_relayed, &r);
	return r.relayed;
}

void
sync_peer_digest(struct sync *s, const char *peer, uint64_t digest)
{
	struct entropy *e;
	int same;

	if (s == NULL || digest == 0)
		return;
	e = entropy_of(s, peer);
	/* Ours costs a sweep over every origin: a peer that pings faster
	 * than --ping-ms (or many peers at once) is answered from the last
	 * one for FRESH_MS. */
	if (!forwarding(s) || digest == (clock_mono_ms() - s->digest_ms <
	    FRESH_MS ? s->digest : sync_digest(s))) {
		e->mismatches = 0;
		e->ask_at = FIRST_ASK;
		e->gap = FIRST_ASK;
		return;
	}
	if (e->ask_at == 0) {
		e->ask_at = FIRST_ASK;
		e->gap = FIRST_ASK;
	}
	same = digest == e->last;
	e->last = digest;
	/* A neighbour whose digest still moves has events on their way to
	 * us too: asking then only brings those twice (a burst of 20 events
	 * in a 5-node ring was answered with duplicates).  Its digest held
	 * across two pings, or STILL_MOVING more pings, and we ask. */
	if (++e->mismatches < e->ask_at ||
	    (!same && e->mismatches < e->ask_at + STILL_MOVING))
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
