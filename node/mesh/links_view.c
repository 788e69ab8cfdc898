/*
 * What the links report (links.h): the member state the mesh sees, the
 * status sample's links and members, /api/links, and counts and walks
 * over the peers.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "json_id.h"
#include "links_priv.h"
#include "mesh_features.h"
#include "transport.h"
#include "xalloc.h"

/* The member state we report: our link's, but alive while a route over
 * other nodes leads to a peer our link does not reach. */
static enum member_state
reported_member(const struct peer *p)
{
	const struct links_hooks *h = &p->l->hooks;

	if (p->state != LINK_UP && (p->member == MEMBER_SUSPECT ||
	    p->member == MEMBER_DEAD) && h->reachable != NULL &&
	    h->reachable(p->id, h->arg))
		return MEMBER_ALIVE;
	return p->member;
}

/* A peer we do not link to by design (max_links): it has no link state. */
static int
not_a_neighbour(const struct peer *p)
{
	return !p->wanted && p->state == LINK_DOWN;
}

struct without {
	const char	*feature;
	int		 found;
};

static int
up_without(const char *id, void *value, void *arg)
{
	const struct peer *p = value;
	struct without *w = arg;

	(void)id;
	if (p->state == LINK_UP && !mesh_features_has(p->features, w->feature))
		w->found = 1;
	return 0;
}

int
links_up_without(const struct links *l, const char *feature)
{
	struct without w = { feature, 0 };

	hmap_sweep(l->peers, up_without, &w);
	return w.found;
}

int
links_peer_speaks(const struct links *l, const char *peer_id,
    const char *feature)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p != NULL && mesh_features_has(p->features, feature);
}

const char *
links_member(const struct links *l, const char *peer_id)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p != NULL ? links_member_name(reported_member(p)) : NULL;
}

static int
fill_peer(const char *id, void *value, void *arg)
{
	struct peer *p = value;
	Agentflow__Mesh__V1__NodeStatus *st = arg;
	Agentflow__Mesh__V1__LinkInfo *li;
	Agentflow__Mesh__V1__MemberInfo *mi = st->members[st->n_members] =
	    xcalloc(1, sizeof(*mi));

	if (!not_a_neighbour(p)) {
		li = st->links[st->n_links++] = xcalloc(1, sizeof(*li));
		agentflow__mesh__v1__link_info__init(li);
		li->peer = (char *)id;
		li->state = links_state_pb[p->state];
		li->rtt_us = p->state == LINK_UP ? p->rtt_us : 0;
		li->since_ms = p->since_ms;
	}
	agentflow__mesh__v1__member_info__init(mi);
	mi->node_id = (char *)id;
	mi->state = links_member_pb[reported_member(p)];
	mi->last_seen_ms = p->last_seen_ms;
	mi->direct = p->state == LINK_UP;
	st->n_members++;
	return 0;
}

void
links_fill_status(const struct links *l, Agentflow__Mesh__V1__NodeStatus *st)
{
	size_t n = hmap_count(l->peers);

	st->links = xcalloc(n + 1, sizeof(*st->links));
	st->members = xcalloc(n + 1, sizeof(*st->members));
	st->n_links = st->n_members = 0;
	hmap_sweep(l->peers, fill_peer, st);
}

void
links_status_free(Agentflow__Mesh__V1__NodeStatus *st)
{
	for (size_t i = 0; i < st->n_links; i++)
		free(st->links[i]);
	for (size_t i = 0; i < st->n_members; i++)
		free(st->members[i]);
	free(st->links);
	free(st->members);
	st->links = NULL;
	st->members = NULL;
	st->n_links = st->n_members = 0;
}

static int
status_peer(const char *id, void *value, void *arg)
{
	const struct peer *p = value;
	json_t *a = arg, *o;
	const char *address;

	if (not_a_neighbour(p))
		return 0;	/* not linked, by design (--max-links) */
	/* The address we dialed, else the first one it advertises. */
	address = p->address[0] != '\0' ? p->address :
	    json_string_value(json_array_get(p->addresses, 0));
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:o}",
	    "peer", id, "state", links_link_name(p->state),
	    "member", links_member_name(reported_member(p)),
	    "address", address ? address : "",
	    "since_ms", (json_int_t)p->since_ms, "reconnects", (int)p->reconnects,
	    "last_error", p->last_error, "incarnation", json_id_new(p->incarnation));
	json_object_set_new(o, "direction", p->active == NULL ? json_null() :
	    json_string(transport_is_inbound(p->active) ? "inbound" : "outbound"));
	json_object_set_new(o, "rtt_ms", p->state == LINK_UP && p->rtt_us > 0 ?
	    json_real((double)p->rtt_us / 1000.0) : json_null());
	json_object_set_new(o, "last_seen_ms", p->last_seen_ms > 0 ?
	    json_integer((json_int_t)p->last_seen_ms) : json_null());
	json_array_append_new(a, o);
	return 0;
}

json_t *
links_status(const struct links *l)
{
	json_t *a = json_array();

	hmap_sweep(l->peers, status_peer, a);
	return a;
}

static int
count_up(const char *id, void *value, void *arg)
{
	(void)id;
	if (((struct peer *)value)->state == LINK_UP)
		(*(size_t *)arg)++;
	return 0;
}

int
links_is_up(const struct links *l, const char *peer_id)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p != NULL && p->state == LINK_UP;
}

size_t
links_queued(const struct links *l, const char *peer_id)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p != NULL && p->state == LINK_UP ? transport_queued(p->active) : 0;
}

/* Calls fn for each peer, or only those with a link up. */
struct foreach {
	void	(*fn)(const char *, void *);
	void	*arg;
	int	 only_up;
};

static int
foreach_one(const char *id, void *value, void *arg)
{
	struct foreach *f = arg;

	if (!f->only_up || ((struct peer *)value)->state == LINK_UP)
		f->fn(id, f->arg);
	return 0;
}

void
links_foreach_up(const struct links *l, void (*fn)(const char *, void *),
    void *arg)
{
	struct foreach f = { fn, arg, 1 };

	hmap_sweep(l->peers, foreach_one, &f);
}

void
links_foreach_peer(const struct links *l, void (*fn)(const char *, void *),
    void *arg)
{
	struct foreach f = { fn, arg, 0 };

	hmap_sweep(l->peers, foreach_one, &f);
}

uint64_t
links_up_generation(const struct links *l)
{
	return l->up_gen;
}

uint64_t
links_link_generation(const struct links *l, const char *peer_id)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p != NULL && p->state == LINK_UP ? p->link_gen : 0;
}

uint64_t
links_stalls(const struct links *l)
{
	return l->stalls;
}

size_t
links_up(const struct links *l)
{
	size_t n = 0;

	hmap_sweep(l->peers, count_up, &n);
	return n;
}

int
links_silent(const struct links *l, const char *peer_id, uint64_t ms)
{
	const struct peer *p = hmap_get(l->peers, peer_id);

	return p == NULL || (p->state != LINK_UP && p->member != MEMBER_ALIVE &&
	    clock_mono_ms() - p->down_since_ms >= ms);
}
