/*
 * Pulling a catch-up (sync_priv.h).  Between two nodes that both speak
 * "pull_catchup" (proto/mesh_features.h), neither pushes what the other
 * lacks when their link comes up; each asks the other, with a
 * SnapshotRequest naming the origins and its cursors, for the origins
 * the other's Hello holds more of, unless another neighbour is already
 * sending that origin.
 *
 * Why: when every neighbour pushed, a node that came up among six
 * neighbours was sent each origin's history six times, and a forming
 * 100-node mesh at --max-links 6 replayed 3.5 million events in its first
 * 37 s for 820,000 deliveries it needed (bench/propagation/README.md).
 * The node that lacks the events is the one that knows who is already
 * sending them: one fetch per origin, from the first neighbour whose
 * Hello held more of it.
 *
 * A fetch is in flight while the link it was asked on is the same link
 * (links_link_generation), we hold less of the origin than the neighbour
 * said it held, and we got more of it within FETCH_MS (in_flight).  Of
 * the neighbours left aside meanwhile, the one holding most is the next
 * source, asked from where we are then once the fetch has ended, or for
 * a hole's events when the first source healed us by snapshot (NEXT_MS
 * timer).  Whatever a fetch still misses is found the ways it was
 * before: a gap in an origin's live events, the anti-entropy digest, the
 * next link's Hello.  Cursors are not vouched for: a peer that says it
 * holds more than it sends holds an origin's fetch FETCH_MS at most.
 *
 * An anti-entropy ask (sync_entropy.c) between two such nodes is answered
 * the same way: with an Offer, the cursors of what the asker lacks, of
 * which it asks as at link-up; when every neighbour whose digest differed
 * answered with the events, a node was sent them once per neighbour.  An
 * Offer is taken only as the answer to an ask of ours, and a peer's asks
 * get one at most once a second (sync_entropy.c).
 *
 * Towards a peer that does not speak it (an older version) nothing
 * changes: we push, as it does.
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "hmap.h"
#include "links.h"
#include "mesh_features.h"
#include "xalloc.h"

#define FEATURE		"pull_catchup"
#define FETCH_MS	5000	/* a fetch longer than this may be asked again */
#define NEXT_MS		500	/* looks for ended fetches with a next source */

/* One origin's fetch, and the source to ask when it ends. */
struct fetch {
	char		id[64];		/* the origin's */
	char		peer[64];	/* asked; "" none in flight */
	uint64_t	link;		/* links_link_generation of it, then */
	uint64_t	inc, seq;	/* what it said it held */
	uint64_t	asked_ms;	/* mono */
	uint64_t	moved_ms;	/* mono: we held more than before, at */
	uint64_t	held_inc, held_seq;	/* what we held then */
	char		next[64];	/* "" none */
	uint64_t	next_link, next_inc, next_seq;
};

/* A request being built for one peer. */
struct pull_req {
	const char			 *peer;
	char				**ids;
	Agentflow__Mesh__V1__Cursor	 *curs;
	Agentflow__Mesh__V1__Cursor	**ptrs;
	size_t				  n, ncurs;
};

int
sync_pulls(const struct sync *s, const char *peer)
{
	return s->links != NULL && mesh_features_index(FEATURE) >= 0 &&
	    links_peer_speaks(s->links, peer, FEATURE);
}

/* Whether (inc, seq) is past (than_inc, than_seq). */
static int
beyond(uint64_t inc, uint64_t seq, uint64_t than_inc, uint64_t than_seq)
{
	return inc > than_inc || (inc == than_inc && seq > than_seq);
}

/* Whether (inc, seq) is more than we hold of the origin o (NULL: none). */
static int
ahead_of(const struct origin *o, uint64_t inc, uint64_t seq)
{
	if (o == NULL || o->incarnation == 0)
		return inc != 0;
	return beyond(inc, seq, o->incarnation, o->seq);
}

/*
 * Whether f is still on its way: its link is the one it was asked on, we
 * hold less than the peer said it held, and we got more of the origin
 * within FETCH_MS (of the ask, or of the last time we saw what we hold
 * move: a long catch-up goes on, a peer that said more than it sends
 * does not keep the origin to itself).
 */
static int
in_flight(const struct sync *s, struct fetch *f, const struct origin *o,
    uint64_t now)
{
	uint64_t inc = o != NULL ? o->incarnation : 0, seq = o != NULL ? o->seq : 0;

	if (f->peer[0] == '\0' || f->link == 0 ||
	    f->link != sync_link_of(s, f->peer) || !ahead_of(o, f->inc, f->seq))
		return 0;
	if (inc != f->held_inc || seq != f->held_seq) {
		f->held_inc = inc;
		f->held_seq = seq;
		f->moved_ms = now;
	}
	return now - (f->moved_ms > f->asked_ms ? f->moved_ms : f->asked_ms) <
	    FETCH_MS;
}

static void
req_init(struct pull_req *r, const char *peer, size_t most)
{
	r->peer = peer;
	r->ids = xcalloc(most + 1, sizeof(*r->ids));
	r->curs = xcalloc(most + 1, sizeof(*r->curs));
	r->ptrs = xcalloc(most + 1, sizeof(*r->ptrs));
	r->n = r->ncurs = 0;
}

/* Names id in the request, with our cursor for it when we hold any. */
static void
req_add(struct pull_req *r, const char *id, const struct origin *o)
{
	r->ids[r->n++] = (char *)id;
	if (o == NULL || o->incarnation == 0)
		return;
	agentflow__mesh__v1__cursor__init(&r->curs[r->ncurs]);
	r->curs[r->ncurs].origin = (char *)o->id;
	r->curs[r->ncurs].incarnation = o->incarnation;
	/* With a hole, from its start: the peer replays it too. */
	r->curs[r->ncurs].seq = o->hole_lo != 0 ? o->hole_lo - 1 : o->seq;
	r->ptrs[r->ncurs] = &r->curs[r->ncurs];
	r->ncurs++;
}

static void
req_send(struct sync *s, struct pull_req *r)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__SnapshotRequest q = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;

	if (r->n > 0) {
		q.n_origins = r->n;
		q.origins = r->ids;
		q.n_cursors = r->ncurs;
		q.cursors = r->ptrs;
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
		f.snapshot_request = &q;
		if (sync_send_frame(s, r->peer, &f) == 0)
			s->pulled += r->n;
	}
	free(r->ids);
	free(r->curs);
	free(r->ptrs);
}

/* Fetches neither in flight nor with a source to ask next. */
struct spent {
	struct sync	 *s;
	uint64_t	  now;
	char		**ids;
	size_t		  n;
};

static int
find_spent(const char *id, void *value, void *arg)
{
	struct spent *sp = arg;
	struct fetch *f = value;

	if (f->next[0] == '\0' &&
	    !in_flight(sp->s, f, hmap_get(sp->s->origins, id), sp->now))
		sp->ids[sp->n++] = f->id;
	return 0;
}

/* o's fetch, made if need be; NULL when ORIGINS_MAX are on their way. */
static struct fetch *
fetch_of(struct sync *s, const char *id, const struct origin *o, uint64_t now)
{
	struct fetch *f;

	if (s->fetches == NULL)
		s->fetches = hmap_new();
	if ((f = hmap_get(s->fetches, id)) != NULL)
		return f;
	/* An origin we could not hold is not asked for. */
	if (o == NULL && hmap_count(s->origins) >= ORIGINS_MAX)
		return NULL;
	/* No more than origins we would hold: those spent go first, and
	 * while all are on their way (a peer offering invented origins
	 * fills them for FETCH_MS at most) a new one waits. */
	if (hmap_count(s->fetches) >= ORIGINS_MAX) {
		struct spent sp = { s, now, NULL, 0 };
		sp.ids = xcalloc(hmap_count(s->fetches) + 1, sizeof(*sp.ids));
		hmap_sweep(s->fetches, find_spent, &sp);
		for (size_t i = 0; i < sp.n; i++)
			free(hmap_del(s->fetches, sp.ids[i]));
		free(sp.ids);
		if (hmap_count(s->fetches) >= ORIGINS_MAX)
			return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	hmap_put(s->fetches, id, f);
	return f;
}

static void
fetch_start(struct sync *s, struct fetch *f, const struct origin *o,
    const char *peer, uint64_t inc, uint64_t seq, uint64_t now)
{
	f->held_inc = o != NULL ? o->incarnation : 0;
	f->held_seq = o != NULL ? o->seq : 0;
	snprintf(f->peer, sizeof(f->peer), "%s", peer);
	f->link = sync_link_of(s, peer);
	f->inc = inc;
	f->seq = seq;
	f->asked_ms = now;
	f->moved_ms = now;
	if (strcmp(f->next, peer) == 0)
		f->next[0] = '\0';
}

static void next_cb(evutil_socket_t, short, void *);
static void offer(struct sync *, const char *,
    Agentflow__Mesh__V1__Cursor *const *, size_t);

static void
arm_next(struct sync *s)
{
	static const struct timeval later = { 0, NEXT_MS * 1000 };

	if (s->pull_ev == NULL)
		s->pull_ev = evtimer_new(s->base, next_cb, s);
	if (!evtimer_pending(s->pull_ev, NULL))
		evtimer_add(s->pull_ev, &later);
}

void
sync_pull(struct sync *s, const char *peer,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t n)
{
	uint64_t now = clock_mono_ms();
	struct pull_req r;

	req_init(&r, peer, n);
	for (size_t i = 0; i < n; i++) {
		const Agentflow__Mesh__V1__Cursor *c = cursors[i];
		struct origin *o;
		struct fetch *f;

		if (strcmp(c->origin, s->self_id) == 0 ||
		    sync_forgotten(s, c->origin, c->incarnation))
			continue;
		o = hmap_get(s->origins, c->origin);
		if (!ahead_of(o, c->incarnation, c->seq))
			continue;
		if ((f = fetch_of(s, c->origin, o, now)) == NULL)
			continue;
		if (in_flight(s, f, o, now)) {
			/* Another neighbour is sending it: this one is asked
			 * once that ended, if it still holds more than we do
			 * then (or the events of a hole the first left us):
			 * the one holding most, the first of those. */
			s->pull_deferred++;
			if (strcmp(f->peer, peer) == 0 ||
			    (f->next[0] != '\0' && !beyond(c->incarnation,
			    c->seq, f->next_inc, f->next_seq)))
				continue;
			snprintf(f->next, sizeof(f->next), "%s", peer);
			f->next_link = sync_link_of(s, peer);
			f->next_inc = c->incarnation;
			f->next_seq = c->seq;
			arm_next(s);
			continue;
		}
		fetch_start(s, f, o, peer, c->incarnation, c->seq, now);
		req_add(&r, c->origin, o);
	}
	req_send(s, &r);
}

/* Whether the next source of f holds the events of o's hole (a source
 * whose log lacked them healed us by snapshot: sync_vouch.c). */
static int
holds_hole(const struct fetch *f, const struct origin *o)
{
	return o != NULL && o->hole_lo != 0 && f->next_inc == o->incarnation &&
	    f->next_seq >= o->hole_hi;
}

/* Ended fetches whose next source is still up and still ahead. */
struct due {
	struct sync	*s;
	uint64_t	 now;
	struct fetch	**fs;
	size_t		 n;
	int		 waiting;	/* a next source not due yet */
};

static int
find_due(const char *id, void *value, void *arg)
{
	struct due *d = arg;
	struct fetch *f = value;
	const struct origin *o = hmap_get(d->s->origins, id);

	if (f->next[0] == '\0')
		return 0;
	if (f->next_link != sync_link_of(d->s, f->next) ||
	    (!ahead_of(o, f->next_inc, f->next_seq) && !holds_hole(f, o))) {
		f->next[0] = '\0';	/* gone, or nothing left to get */
		return 0;
	}
	if (in_flight(d->s, f, o, d->now)) {
		d->waiting = 1;
		return 0;
	}
	d->fs[d->n++] = f;
	return 0;
}

static int
by_next(const void *a, const void *b)
{
	const struct fetch *x = *(struct fetch *const *)a;
	const struct fetch *y = *(struct fetch *const *)b;

	return strcmp(x->next, y->next);
}

/* Asks each next source, one request per peer, for what it holds more. */
static void
next_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync *s = arg;
	struct due d = { s, clock_mono_ms(), NULL, 0, 0 };

	(void)fd;
	(void)what;
	d.fs = xcalloc(hmap_count(s->fetches) + 1, sizeof(*d.fs));
	hmap_sweep(s->fetches, find_due, &d);
	qsort(d.fs, d.n, sizeof(*d.fs), by_next);
	for (size_t i = 0; i < d.n;) {
		struct pull_req r;
		char peer[64];
		snprintf(peer, sizeof(peer), "%s", d.fs[i]->next);
		req_init(&r, peer, d.n - i);
		for (; i < d.n && strcmp(d.fs[i]->next, peer) == 0; i++) {
			struct fetch *f = d.fs[i];
			const struct origin *o = hmap_get(s->origins, f->id);
			fetch_start(s, f, o, peer, f->next_inc, f->next_seq, d.now);
			req_add(&r, f->id, o);
		}
		req_send(s, &r);
	}
	free(d.fs);
	if (d.waiting)
		arm_next(s);
}

void
sync_pull_offer(struct sync *s, const char *peer,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors)
{
	if (!sync_entropy_offer_due(s, peer))
		return;		/* asked more often than a peer asks */
	offer(s, peer, cursors, ncursors);
}

void
sync_pull_offered(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Offer *o)
{
	/* Only the answer to an ask of ours: an Offer nobody asked for
	 * would steer our fetches at will. */
	if (!sync_entropy_answered(s, peer)) {
		s->offers_ignored++;
		return;
	}
	sync_pull(s, peer, o->cursors, o->n_cursors);
}

static void
offer(struct sync *s, const char *peer,
    Agentflow__Mesh__V1__Cursor *const *cursors, size_t ncursors)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Offer offer = AGENTFLOW__MESH__V1__OFFER__INIT;
	struct origin **list = xcalloc(hmap_count(s->origins) + 1, sizeof(*list));
	size_t n = sync_catchup_behind(s, cursors, ncursors, NULL, 0, list);
	Agentflow__Mesh__V1__Cursor *curs = xcalloc(n + 1, sizeof(*curs));

	offer.cursors = xcalloc(n + 1, sizeof(*offer.cursors));
	for (size_t i = 0; i < n; i++) {
		/* Never its own life (its Hello's business). */
		if (strcmp(list[i]->id, peer) == 0)
			continue;
		agentflow__mesh__v1__cursor__init(&curs[offer.n_cursors]);
		curs[offer.n_cursors].origin = list[i]->id;
		curs[offer.n_cursors].incarnation = list[i]->incarnation;
		curs[offer.n_cursors].seq = list[i]->seq;
		offer.cursors[offer.n_cursors] = &curs[offer.n_cursors];
		offer.n_cursors++;
	}
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_OFFER;
	f.offer = &offer;
	if (offer.n_cursors > 0)
		(void)sync_send_frame(s, peer, &f);
	free(offer.cursors);
	free(curs);
	free(list);
}

void
sync_pull_free(struct sync *s)
{
	if (s->pull_ev != NULL)
		event_free(s->pull_ev);
	s->pull_ev = NULL;
	if (s->fetches != NULL)
		hmap_free_with(s->fetches, free);
	s->fetches = NULL;
}
