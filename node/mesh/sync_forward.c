/*
 * Forwarding (see sync_priv.h): an event sync.c applied is handed on
 * along the link-state graph, to the neighbours we are the parent of in
 * its origin's shortest-path tree (routing_fanout), never back to the
 * peer it came from nor to its origin, and only while its hop limit
 * allows.
 *
 * Invariant: an event taken unchecked on its origin's link's word
 * (sync_vouch_event) has its signature checked once, at its first
 * hand-on (sync_vouch_recheck), before it reaches any neighbour; the
 * log's row is marked with the verdict (sync_vouch_mark), and a forged
 * one, or one whose key we do not hold now, goes to nobody.
 */
#include "sync_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "routing.h"
#include "store.h"
#include "xalloc.h"

struct forward_ctx {
	struct sync			 *s;
	const char			 *from;
	Agentflow__Mesh__V1__Event	**events;	/* new events of this batch */
	int8_t				 *checked;	/* each: 1 ok, 0 not yet, -1 bad */
	Agentflow__Mesh__V1__Event	**out;
};

/* Whether events[i] may be handed on: one taken unchecked is checked
 * now, once, at its first hand-on (sync_vouch_recheck), and the log's
 * mark says how that went; without its key now, its origin's link is
 * asked for it and the event is not handed on. */
static int
handed_on(struct forward_ctx *fc, size_t i)
{
	const Agentflow__Mesh__V1__Event *e = fc->events[i];
	enum origin_keys_verdict v;
	int mark;

	if (fc->checked[i] != 0)
		return fc->checked[i] > 0;
	v = sync_vouch_recheck(fc->s, fc->from, e);
	fc->checked[i] = v == ORIGIN_KEYS_VALID ? 1 : -1;
	if ((mark = sync_vouch_mark(v)) >= 0)
		(void)store_event_mark(fc->s->store, e->origin, e->incarnation,
		    e->seq, mark);
	else if (v == ORIGIN_KEYS_UNKNOWN)
		sync_ask_key(fc->s, fc->from, e->origin);
	return fc->checked[i] > 0;
}

/* Sends neighbour peer the events of which[] it gets from us (routing_fanout). */
static void
forward_to(const char *peer, const size_t *which, size_t nwhich, void *arg)
{
	struct forward_ctx *fc = arg;
	size_t n = 0;

	if (strcmp(peer, fc->from) == 0)
		return;
	for (size_t i = 0; i < nwhich; i++) {
		Agentflow__Mesh__V1__Event *e = fc->events[which[i]];
		if (strcmp(peer, e->origin) == 0 || e->hops + 1 >= e->hop_limit ||
		    !handed_on(fc, which[i]))
			continue;
		fc->out[n++] = e;
	}
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		fc->out[i]->hops++;
	sync_send_events(fc->s, peer, fc->out, n, 0);
	for (size_t i = 0; i < n; i++)
		fc->out[i]->hops--;
	fc->s->forwarded += n;
}

/* unchecked[i]: events[i] was taken unchecked (NULL: none was). */
void
sync_forward(struct sync *s, const char *from, Agentflow__Mesh__V1__Event **events,
    const int8_t *unchecked, size_t n)
{
	struct forward_ctx fc = { s, from, events, NULL, NULL };
	const char **roots;

	if (n == 0 || s->links == NULL)
		return;
	fc.checked = xcalloc(n, sizeof(*fc.checked));
	for (size_t i = 0; i < n; i++)
		fc.checked[i] = unchecked != NULL && unchecked[i] ? 0 : 1;
	roots = xcalloc(n, sizeof(*roots));
	for (size_t i = 0; i < n; i++)
		roots[i] = events[i]->origin;
	fc.out = xcalloc(n + 1, sizeof(*fc.out));
	routing_fanout(s->routing, roots, n, forward_to, &fc);
	free(fc.checked);
	free(fc.out);
	free(roots);
}

/*
 * Applies origin's held events that follow its cursor now, in order
 * (sync_early.c), and forwards each as from the peer that handed it to
 * us.  fresh[0..*nfresh), the batch's new events so far, go out first,
 * so that every neighbour gets an origin's events in order.
 */
void
sync_forward_held(struct sync *s, const char *peer, const char *origin,
    Agentflow__Mesh__V1__Event **fresh, int8_t *unchecked, size_t *nfresh)
{
	struct origin *o = hmap_get(s->origins, origin);
	Agentflow__Mesh__V1__Event *e;
	char from[64];

	if (o == NULL || o->early == NULL)
		return;
	sync_forward(s, peer, fresh, unchecked, *nfresh);
	*nfresh = 0;
	while (o->early != NULL &&
	    (e = sync_early_next(s, o, from, sizeof(from))) != NULL) {
		int held_unchecked;
		int applied = sync_apply_event(s, from, e, &held_unchecked);
		int8_t flag = (int8_t)held_unchecked;

		if (applied)
			sync_forward(s, from, &e, &flag, 1);
		agentflow__mesh__v1__event__free_unpacked(e, NULL);
		if (!applied)
			break;
	}
}
