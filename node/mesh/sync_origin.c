/*
 * The table of origins (sync_priv.h): every node some life of which we
 * hold, ourselves included, by id, each with its cursor, its NodeInfo and
 * latest NodeStatus as packed protobuf, and what routing learns from
 * those: its up links (the graph forwarding follows), its labels and
 * whether it is present (for selectors).  Which event or snapshot may
 * change an origin, and when, is decided by sync.c (peers' events in
 * order) and sync_emit.c (our own); this file only keeps the table and
 * routing in step.
 *
 * Invariants: at most ORIGINS_MAX origins, the one past it refused and
 * counted (a Hello holds no more cursors); a status or NodeInfo taken here
 * is handed to routing in the same call.  A status's watch lease is taken
 * here and read by sync_watched, and the seen_ms the API shows is set here
 * at each status sample (sync_note_routes).
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "routing.h"
#include "xalloc.h"

static void
set_blob(uint8_t **dst, size_t *dlen, const ProtobufCMessage *m)
{
	free(*dst);
	*dst = m != NULL ? sync_message_pack(m, dlen) : NULL;
	if (m == NULL)
		*dlen = 0;
}

/* Takes an origin's new status: its bytes, and its up links for the
 * link-state graph that forwarding follows (routing ignores ours). */
void
sync_origin_set_status(struct sync *s, struct origin *o,
    const Agentflow__Mesh__V1__NodeStatus *st, uint64_t time_ms, uint64_t seq,
    const ProtobufCBinaryData *sig)
{
	const char **nbrs = xcalloc(st->n_links + 1, sizeof(*nbrs));
	size_t n = 0;

	for (size_t i = 0; i < st->n_links; i++)
		if (st->links[i]->state == AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP)
			nbrs[n++] = st->links[i]->peer;
	routing_set_links(s->routing, o->id, nbrs, n);
	free(nbrs);
	set_blob(&o->status, &o->status_len, &st->base);
	o->status_ms = time_ms;
	/* What vouches for it when we hand it on (sync_catchup.c). */
	o->status_seq = seq;
	o->status_sig_len = 0;
	if (sig != NULL && sig->len == sizeof(o->status_sig)) {
		memcpy(o->status_sig, sig->data, sig->len);
		o->status_sig_len = sig->len;
	}
	/* Our statuses go out every sample until the lease runs out
	 * (status_pace.h): a dashboard is open there (watch_ms), or it is an
	 * older node (no idle_ms), which closes a link silent for three
	 * seconds and judges a relayed node by a status a second.  A peer
	 * may keep us busy this way only as long as it renews the lease; a
	 * replayed status from long ago costs one lease at most (its time is
	 * not checked: another host's clock may be minutes off). */
	o->idle_ms = st->idle_ms;
	o->watch_until = 0;
	if (st->watch_ms != 0 || st->idle_ms == 0)
		o->watch_until = clock_mono_ms() + (st->watch_ms == 0 ?
		    SYNC_OLD_LEASE_MS : st->watch_ms < SYNC_WATCH_MAX_MS ?
		    st->watch_ms : SYNC_WATCH_MAX_MS);
	/* The codec checked it is the origin's own (check_status_owner). */
	if (st->info != NULL)
		sync_origin_set_info(s, o, st->info);
}

/* Takes an origin's NodeInfo: its bytes, and its labels for selectors. */
void
sync_origin_set_info(struct sync *s, struct origin *o,
    const Agentflow__Mesh__V1__NodeInfo *in)
{
	struct routing_label *labels = xcalloc(in->n_labels + 1, sizeof(*labels));

	for (size_t i = 0; i < in->n_labels; i++) {
		labels[i].key = in->labels[i]->key;
		labels[i].value = in->labels[i]->value;
	}
	routing_set_labels(s->routing, o->id, labels, in->n_labels);
	free(labels);
	set_blob(&o->info, &o->info_len, &in->base);
}

/* Selectors name the origins some life of which we know and that did not
 * leave; call after either changes. */
void
sync_origin_set_present(struct sync *s, const struct origin *o)
{
	routing_set_present(s->routing, o->id, !o->left && o->incarnation != 0);
}

struct origin *
sync_origin_get(struct sync *s, const char *id)
{
	struct origin *o = hmap_get(s->origins, id);

	if (o == NULL) {
		/* Every origin costs memory, a row and a vertex of the graph
		 * each batch is forwarded over; a Hello holds at most this many
		 * cursors, so a larger mesh could not sync anyway. */
		if (hmap_count(s->origins) >= ORIGINS_MAX) {
			s->refused_origins++;
			return NULL;
		}
		o = xcalloc(1, sizeof(*o));
		snprintf(o->id, sizeof(o->id), "%s", id);
		hmap_put(s->origins, o->id, o);
	}
	return o;
}

/* A sweep over the origins but ourselves (sync_watched, sync_note_routes). */
struct origin_scan {
	struct sync	*s;
	uint64_t	 now;
	int		 found;
};

static int
watching(const char *id, void *value, void *arg)
{
	const struct origin *o = value;
	struct origin_scan *w = arg;

	(void)id;
	if (o != w->s->self && o->watch_until > w->now)
		w->found = 1;
	return 0;
}

static int
note_route(const char *id, void *value, void *arg)
{
	struct origin *o = value;
	struct origin_scan *w = arg;
	char hop[128];

	(void)id;
	if (o != w->s->self && !o->left &&
	    routing_next_hop(w->s->routing, o->id, hop, sizeof(hop)) == 0)
		o->seen_ms = w->now;
	return 0;
}

void
sync_note_routes(struct sync *s)
{
	struct origin_scan w = { s, clock_wall_ms(), 0 };

	hmap_sweep(s->origins, note_route, &w);
}

int
sync_watched(struct sync *s)
{
	struct origin_scan w = { s, clock_mono_ms(), 0 };

	hmap_sweep(s->origins, watching, &w);
	return w.found;
}

void
sync_origin_free(struct sync *s, struct origin *o)
{
	sync_early_forget(s, o);
	free(o->info);
	free(o->status);
	free(o);
}

static int
free_origin(const char *id, void *value, void *arg)
{
	(void)id;
	sync_origin_free(arg, value);
	return 1;
}

void
sync_origin_free_all(struct sync *s)
{
	hmap_sweep(s->origins, free_origin, s);
}
