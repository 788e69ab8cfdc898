/*
 * Forgetting (agentflow forget, --prune-after): a forgotten peer's
 * tombstone keeps the signal's and the stored lists' stale entries from
 * bringing it back, until it is heard of again (links.h).  Likewise a peer
 * that left: the signals' entries of the life that left do not make it a
 * suspect again, only a registration after the Leave does.  And peers we
 * only ever refused (a revoked certificate, a Hello naming another node,
 * no Hello) are dropped dead_ms after the last refusal, so they do not
 * stay listed until a restart; one accepted later is a member again.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "forget.h"
#include "hmap.h"
#include "links_priv.h"
#include "log.h"
#include "transport.h"
#include "xalloc.h"

static int
free_forgotten(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	free(value);
	return 1;
}

void
links_unforget(struct links *l, const char *id)
{
	if (l->forgotten == NULL)
		return;
	if (id != NULL)
		free(hmap_del(l->forgotten, id));
	else {
		hmap_sweep(l->forgotten, free_forgotten, NULL);
		hmap_free(l->forgotten);
		l->forgotten = NULL;
	}
}

/*
 * Whether a signal's (or the stored list's) entry names a node we forgot
 * and that has not been heard of since.  Both sides of the comparison are
 * the signal's clock: the entry's last heartbeat or registration
 * ("last_seen", "registered_at", Unix ms) against the signal's time at
 * the forget as we estimated it (links_set_signal_offset), so a signal
 * whose clock runs ahead of ours cannot bring back a stale entry.  An
 * entry without those times (our stored list) is not news either.  A
 * node that comes back heartbeats or registers again: a new member.
 */
int
links_forgotten(const struct links *l, const char *id, const json_t *entry)
{
	const struct tombstone *t = l->forgotten != NULL ?
	    hmap_get(l->forgotten, id) : NULL;
	json_int_t seen = json_integer_value(json_object_get(entry, "last_seen"));
	json_int_t reg = json_integer_value(json_object_get(entry,
	    "registered_at"));

	if (reg > seen)
		seen = reg;
	return t != NULL && (seen <= 0 || seen <= t->signal_ms);
}

int64_t
links_signal_now(const struct links *l)
{
	/* Plus a second for what its Date header (whole seconds) and the
	 * reply's flight leave unknown. */
	return (int64_t)clock_wall_ms() + l->signal_offset_ms + 1000;
}

/*
 * Every registration of the life that left happened before its Leave, so
 * before left_signal_ms; a restarted node registers after it.  A restart
 * quicker than the estimate's error is missed here, but that node dials
 * us itself, and its link makes it alive.
 */
int
links_left_stale(const struct peer *p, const json_t *entry)
{
	return json_integer_value(json_object_get(entry, "registered_at")) <=
	    p->left_signal_ms;
}

void
links_set_signal_offset(struct links *l, int64_t offset_ms)
{
	l->signal_offset_ms = offset_ms;
}

static struct tombstone *
tombstone_put(struct links *l, const char *id)
{
	return forget_tombstone_put(&l->forgotten, id, sizeof(struct tombstone),
	    "peer");
}

void
links_forgotten_restore(struct links *l, const char *peer_id, uint64_t at,
    int64_t signal_ms)
{
	struct tombstone *t;

	if (strcmp(peer_id, l->self_id) == 0 || hmap_get(l->peers, peer_id))
		return;
	t = tombstone_put(l, peer_id);
	t->at = at;
	if (signal_ms > t->signal_ms)
		t->signal_ms = signal_ms;
}

int
links_forget(struct links *l, const char *peer_id, int64_t *signal_ms)
{
	struct peer *p = hmap_get(l->peers, peer_id);
	struct tombstone *t;
	uint64_t now = clock_wall_ms();

	if (p != NULL && p->state == LINK_UP)
		return -1;
	/* An entry the signal lists as seen after this is news. */
	*signal_ms = links_signal_now(l);
	/* A tombstone only for a peer we knew (or forgot before), and at
	 * most FORGET_TOMBSTONES_MAX of them: the oldest goes first. */
	if (p == NULL && (l->forgotten == NULL ||
	    hmap_get(l->forgotten, peer_id) == NULL))
		return 0;
	t = tombstone_put(l, peer_id);
	t->at = now;
	t->signal_ms = *signal_ms;
	if (p == NULL)
		return 0;
	log_event(LOG_INFO, "peer forgotten", "{s:s, s:s}", "peer", peer_id,
	    "member", links_member_name(p->member));
	links_peer_remove(l, p);
	return 1;
}

void
links_peer_remove(struct links *l, struct peer *p)
{
	struct transport_stream **close;
	struct lstream *s;
	size_t n = 0;

	/* Its streams (a dial, a handshake) lose their peer before they
	 * close, so their callbacks never see it again. */
	close = xcalloc(1, sizeof(*close));
	LIST_FOREACH(s, &l->streams, entry)
		if (s->peer == p) {
			s->peer = NULL;
			close = xrealloc(close, (n + 1) * sizeof(*close));
			close[n++] = s->ts;
		}
	hmap_del(l->peers, p->id);
	links_peer_free(p);
	for (size_t i = 0; i < n; i++)
		transport_close(close[i]);
	free(close);
	links_choose_neighbours(l);
}

struct expired {
	struct peer	**peers;
	size_t		  n;
};

static int
find_expired(const char *id, void *value, void *arg)
{
	struct peer *p = value;
	struct expired *e = arg;

	(void)id;
	if (p->ever_up || p->refused_mono_ms == 0 || p->state != LINK_DOWN ||
	    clock_mono_ms() - p->refused_mono_ms < (uint64_t)p->l->dead_ms)
		return 0;
	e->peers = xrealloc(e->peers, (e->n + 1) * sizeof(*e->peers));
	e->peers[e->n++] = p;
	return 0;
}

void
links_expire_refused(struct links *l)
{
	struct expired e = { NULL, 0 };

	hmap_sweep(l->peers, find_expired, &e);
	for (size_t i = 0; i < e.n; i++) {
		log_event(LOG_INFO, "refused peer expired", "{s:s, s:s}", "peer",
		    e.peers[i]->id, "last_error", e.peers[i]->last_error);
		links_peer_remove(l, e.peers[i]);
	}
	free(e.peers);
}
