/*
 * Events that arrive before the one they follow (sync_priv.h).
 *
 * Each node forwards an origin's events over a tree it computes from the
 * statuses it holds.  While links come and go the tree changes between
 * two events: the later one comes first by the new path while the
 * earlier one is still on its way by the old.  Dropping the later one
 * and asking at once made the sender replay everything past our cursor,
 * and the earlier one then arrived as a duplicate: a forming mesh of 100
 * counted 412,000 gaps and 10 million replayed events in five minutes.
 * So an early event is held a moment: when the one before it arrives,
 * the held ones follow in order; when it has not come after
 * EARLY_WAIT_MS, we ask as before and let the held ones go.
 *
 * Bounded: EARLY_EVENTS events and EARLY_BYTES per origin, EARLY_TOTAL
 * for the node; an event beyond is dropped as a gap as before.  Only
 * events whose origin vouched for them are held (sync_apply_event
 * checks first), and each is checked again when applied.
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "hmap.h"
#include "xalloc.h"

#define EARLY_WAIT_MS	500
#define EARLY_EVENTS	16
#define EARLY_BYTES	(256u * 1024)
#define EARLY_TOTAL	(8u * 1024 * 1024)
#define EARLY_AHEAD	64	/* at most this far past the cursor */

struct early {
	uint64_t	 seq;
	uint64_t	 statuses_from;	/* a status's word (sync_statuses_between) */
	char		 peer[64];	/* who handed it to us */
	uint8_t		*bytes;		/* the packed Event */
	size_t		 len;
};

struct early_set {
	uint64_t	 incarnation;
	uint64_t	 since_ms;	/* mono: the first held */
	struct early	 v[EARLY_EVENTS];
	size_t		 n;
	size_t		 bytes;
};

static void
drop_all(struct sync *s, struct origin *o)
{
	struct early_set *e = o->early;

	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].bytes);
	s->early_bytes -= e->bytes;
	free(e);
	o->early = NULL;
}

void
sync_early_forget(struct sync *s, struct origin *o)
{
	drop_all(s, o);
}

int
sync_early_hold(struct sync *s, struct origin *o, const char *peer,
    const Agentflow__Mesh__V1__Event *ev)
{
	struct early_set *e = o->early;
	size_t len = protobuf_c_message_get_packed_size(&ev->base), at;

	if (ev->incarnation != o->incarnation || ev->seq <= o->seq + 1 ||
	    ev->seq - o->seq > EARLY_AHEAD || strlen(peer) >= sizeof(e->v[0].peer))
		return 0;
	if (e != NULL && e->incarnation != ev->incarnation) {
		drop_all(s, o);
		e = NULL;
	}
	if (e != NULL) {
		for (at = 0; at < e->n && e->v[at].seq < ev->seq; at++)
			;
		if (at < e->n && e->v[at].seq == ev->seq)
			return 1;	/* held already: this copy is a duplicate */
	} else
		at = 0;
	if ((e != NULL && (e->n == EARLY_EVENTS || e->bytes + len >
	    EARLY_BYTES)) || len > EARLY_BYTES || s->early_bytes + len >
	    EARLY_TOTAL)
		return 0;
	if (e == NULL) {
		e = o->early = xcalloc(1, sizeof(*e));
		e->incarnation = ev->incarnation;
		e->since_ms = clock_mono_ms();
		if (s->early_ev != NULL && !evtimer_pending(s->early_ev, NULL)) {
			struct timeval tv = { 0, EARLY_WAIT_MS * 1000 };

			evtimer_add(s->early_ev, &tv);
		}
	}
	memmove(&e->v[at + 1], &e->v[at], (e->n - at) * sizeof(e->v[0]));
	e->v[at].seq = ev->seq;
	e->v[at].statuses_from =
	    ev->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS ?
	    ev->status->statuses_from : 0;
	memcpy(e->v[at].peer, peer, strlen(peer) + 1);
	e->v[at].bytes = xmalloc(len + 1);
	e->v[at].len = protobuf_c_message_pack(&ev->base, e->v[at].bytes);
	e->n++;
	e->bytes += len;
	s->early_bytes += len;
	s->early_held++;
	return 1;
}

/* The first held event let go. */
static void
drop_first(struct sync *s, struct early_set *e)
{
	free(e->v[0].bytes);
	e->bytes -= e->v[0].len;
	s->early_bytes -= e->v[0].len;
	memmove(&e->v[0], &e->v[1], (e->n - 1) * sizeof(e->v[0]));
	e->n--;
}

/* o's held events still ahead of its cursor, or NULL: those at or below
 * it (a snapshot or a replay went past) and another life's let go. */
static struct early_set *
still_ahead(struct sync *s, struct origin *o)
{
	struct early_set *e = o->early;

	if (e != NULL && e->incarnation != o->incarnation)
		drop_all(s, o);
	else
		while (e != NULL && e->n > 0 && e->v[0].seq <= o->seq)
			drop_first(s, e);
	if (o->early != NULL && o->early->n == 0)
		drop_all(s, o);
	return o->early;
}

Agentflow__Mesh__V1__Event *
sync_early_next(struct sync *s, struct origin *o, char *peer, size_t peerlen)
{
	struct early_set *e = still_ahead(s, o);
	Agentflow__Mesh__V1__Event *ev;

	/* The next one, or a status past statuses only since then. */
	if (e == NULL || (e->v[0].seq != o->seq + 1 &&
	    !sync_statuses_since(e->v[0].statuses_from, o->seq)))
		return NULL;
	ev = agentflow__mesh__v1__event__unpack(NULL, e->v[0].len,
	    e->v[0].bytes);
	snprintf(peer, peerlen, "%s", e->v[0].peer);
	drop_first(s, e);
	if (ev != NULL)
		s->early_applied++;
	if (e->n == 0)
		drop_all(s, o);
	else
		e->since_ms = clock_mono_ms();	/* moving: wait again */
	return ev;
}

struct sweep {
	struct sync	*s;
	uint64_t	 now;
	uint64_t	 next;		/* the earliest wait still going */
};

/* An origin's held events waited long enough: what they follow is lost,
 * not late; ask for it as a gap, and let them go (the answer brings
 * them). */
static int
sweep_one(const char *id, void *value, void *arg)
{
	struct origin *o = value;
	struct sweep *w = arg;
	struct early_set *e = o->early;
	char peer[64];

	(void)id;
	if (e == NULL || (e = still_ahead(w->s, o)) == NULL)
		return 0;
	if (w->now - e->since_ms < EARLY_WAIT_MS) {
		if (w->next == 0 || e->since_ms + EARLY_WAIT_MS < w->next)
			w->next = e->since_ms + EARLY_WAIT_MS;
		return 0;
	}
	memcpy(peer, e->v[0].peer, sizeof(peer));
	drop_all(w->s, o);
	w->s->gaps++;
	sync_ask_snapshot(w->s, peer, o);
	return 0;
}

static void
early_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync *s = arg;
	struct sweep w = { s, clock_mono_ms(), 0 };

	(void)fd;
	(void)what;
	hmap_sweep(s->origins, sweep_one, &w);
	if (w.next != 0) {
		uint64_t ms = w.next > w.now ? w.next - w.now : 1;
		struct timeval tv = { (time_t)(ms / 1000),
		    (suseconds_t)(ms % 1000) * 1000 };

		evtimer_add(s->early_ev, &tv);
	}
}

void
sync_early_init(struct sync *s)
{
	s->early_ev = evtimer_new(s->base, early_cb, s);
}

void
sync_early_free(struct sync *s)
{
	if (s->early_ev != NULL)
		event_free(s->early_ev);
	s->early_ev = NULL;
}
