/*
 * Whom we dial and when (links_priv.h): which peers we link to under
 * --max-links (the ring of all known ids, ring.h), which of a peer's
 * registered addresses to try, the dial itself, and the redial after a
 * backoff that doubles, jittered, from BACKOFF_MIN_MS to BACKOFF_MAX_MS.
 * What happens to a stream once dialed (its Hello, its closing, the
 * backoff's reset when a link lasted) is links.c's.
 *
 * Invariants: we dial only a peer that is wanted, not up, not left, with
 * no dial of ours under way, and never while leaving; a peer has at most
 * one redial timer (p->redial), armed for a new neighbour at once with
 * its backoff reset, and after a failure or a lost link after the
 * backoff.
 */
#include "links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "hmap.h"
#include "hostport.h"
#include "log.h"
#include "mesh_features.h"
#include "ring.h"
#include "rng.h"
#include "transport.h"
#include "xalloc.h"

#include "links_priv.h"

/*
 * Which address to dial: the ones it registered, in turn.  One without a
 * port is skipped, and with none we do not dial: a guessed port (ours,
 * the default) is a stranger's, or nobody's.
 */
static int
pick_address(struct peer *p, char *out, size_t outlen)
{
	size_t n = json_array_size(p->addresses);
	char host[256];
	int port;

	for (size_t i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(p->addresses,
		    (p->attempt + i) % n));
		if (a == NULL || hostport_split(a, host, sizeof(host), &port) != 0 ||
		    port == 0)
			continue;
		p->attempt += (unsigned)i;
		snprintf(out, outlen, "%s", a);
		return 0;
	}
	return -1;
}

void
links_dial(struct peer *p)
{
	struct links *l = p->l;
	struct lstream *s;

	if (p->state == LINK_UP || p->dialing != NULL || p->member == MEMBER_LEFT ||
	    l->closing || !p->wanted)
		return;
	if (pick_address(p, p->address, sizeof(p->address)) != 0)
		return;
	p->attempt++;
	p->dialing = transport_dial(l->transport, p->address, p->id);
	if (p->dialing == NULL) {
		snprintf(p->last_error, sizeof(p->last_error), "cannot dial %s",
		    p->address);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->ts = p->dialing;
	s->peer = p;
	LIST_INSERT_HEAD(&l->streams, s, entry);
	transport_set_data(p->dialing, s);
	links_set_state(p, LINK_CONNECTING);
	log_event(LOG_DEBUG, "dialing", "{s:s, s:s}", "peer", p->id, "address",
	    p->address);
}

static void
redial_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	links_dial(arg);
}

void
links_dial_later(struct peer *p)
{
	long ms = rng_jitter(p->l->rng, p->backoff_ms);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    p->backoff_ms * 2;
	if (p->redial == NULL)
		p->redial = evtimer_new(p->l->base, redial_cb, p);
	evtimer_add(p->redial, &tv);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct id_list {
	const char	**ids;
	size_t		  n;
};

static int
collect_id(const char *id, void *value, void *arg)
{
	struct id_list *il = arg;

	/* A peer that left keeps its place: only its neighbours had its
	 * Leave, and with spread distances a ring without it would move
	 * picks far from it on those nodes only (links that one end keeps
	 * and the other closes).  Its neighbours keep one link fewer until
	 * it comes back or is forgotten (--prune-after). */
	(void)value;
	il->ids[il->n++] = id;
	return 0;
}

static int
want_all(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	((struct peer *)value)->wanted = 1;
	return 0;
}

/* Whether we and p pick by the spread ring (ring.h): we speak it (a test
 * build may not), and so does p, or we have not had its Hello yet (its
 * Hello tells, and we choose again). */
int
links_spreads(const struct peer *p)
{
	return mesh_features_index("spread_ring") >= 0 && (!p->hello_seen ||
	    mesh_features_has(p->features, "spread_ring"));
}

/* Whether the nodes at ring positions a and b of n keep a link: either
 * picks the other, a under its limit ka, b under kb. */
static int
pair_picks(size_t n, size_t a, size_t b, size_t ka, size_t kb, int spread)
{
	return ring_picks(n, a, b, ka, spread) || ring_picks(n, b, a, kb, spread);
}

/* How many ring neighbours p picks on a ring of n: its Hello's limit,
 * every node when it has none, ours when it did not say (older nodes). */
static size_t
peer_limit(const struct links *l, const struct peer *p, size_t n)
{
	if (p->max_links < 0)
		return n;
	return (size_t)(p->max_links > 0 ? p->max_links : l->max_links);
}

/*
 * Marks which peers we link to.  Without a limit, all of them.  With
 * max_links K: those on the ring of all known ids (ours included, sorted)
 * that we pick as neighbours or that pick us under their own limit (a
 * node without one picks everyone), so that both ends of a link agree on
 * keeping it whatever limits they run with.
 */
void
links_choose_neighbours(struct links *l)
{
	struct id_list il;
	size_t n = hmap_count(l->peers), self = 0, i;

	if (l->max_links <= 0) {
		hmap_sweep(l->peers, want_all, NULL);
		return;
	}
	il.ids = xcalloc(n + 2, sizeof(*il.ids));
	il.n = 0;
	hmap_sweep(l->peers, collect_id, &il);
	il.ids[il.n++] = l->self_id;
	qsort(il.ids, il.n, sizeof(*il.ids), cmp_str);
	for (i = 0; i < il.n; i++)
		if (strcmp(il.ids[i], l->self_id) == 0)
			self = i;
	for (i = 0; i < il.n; i++) {
		struct peer *p = hmap_get(l->peers, il.ids[i]);
		if (p == NULL)
			continue;
		size_t ours = (size_t)l->max_links, theirs = peer_limit(l, p, il.n);
		int was = p->wanted;
		/* A peer whose Hello we have not had may pick by either ring
		 * (an older node by the near one): a link where either rule
		 * makes one, and its Hello tells which one stays. */
		p->wanted = pair_picks(il.n, self, i, ours, theirs,
		    links_spreads(p)) || (!p->hello_seen &&
		    pair_picks(il.n, self, i, ours, theirs, 0));
		/* A new neighbour (the mesh grew, another rule) is dialled at
		 * the next pass, not after a backoff its old links ran up. */
		if (p->wanted && !was && p->state == LINK_DOWN) {
			struct timeval now = { 0, 0 };
			p->backoff_ms = BACKOFF_MIN_MS;
			if (p->redial == NULL)
				p->redial = evtimer_new(l->base, redial_cb, p);
			evtimer_add(p->redial, &now);
		}
	}
	free(il.ids);
}

