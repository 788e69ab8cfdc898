/*
 * Our incarnation never goes back (sync_priv.h).  It is a counter in the
 * data directory, bumped at every start; a restored backup or a copied
 * data directory counts from an older value, so the node may start with
 * an incarnation a previous life already used, or a lower one.  Peers
 * then drop its events as stale or duplicates.
 *
 * Every peer's Hello holds its cursor for us: the newest life of ours it
 * knows.  When that is newer than the life we run — a higher incarnation,
 * or ours with more events than we emitted — another life had it: we move
 * to an incarnation above it (persisted first, so it is never handed out
 * again) and number our events from the start of that new life.  The peer
 * that told us is then behind on our origin and gets our snapshot at once
 * (sync_link_up's catch-up); every other peer sees seq 1 of a new life, or
 * asks for a snapshot when it misses it.  The events this node emitted
 * before the move carried the used incarnation: peers holding that life
 * dropped them as duplicates; what they changed (tasks, open alerts,
 * status, NodeInfo) reaches them in the snapshot, and the move is logged
 * with their count.
 *
 * A cursor equal to ours with no more events than we emitted is this life
 * as far as it can tell (a link that came back); an older life of the same
 * incarnation that emitted fewer events than this one before the link came
 * up cannot be told apart from it.
 *
 * A Hello is a peer's word, and a peer may lie: a node moves at most once
 * per run (a restored node needs one move; two processes that share an
 * identity would otherwise bump each other for ever), and never by more
 * than JUMP_MAX above its own incarnation, so a forged cursor cannot push
 * the counter to its limit.  Claims past either bound are logged and
 * ignored.
 */
#include "sync_priv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "log.h"
#include "origin_keys.h"
#include "store.h"
#include "xalloc.h"

/* How far above our own incarnation a peer's claim may lead us: far
 * more restarts than a real node makes between two backups. */
#define JUMP_MAX	((uint64_t)1 << 20)

/* The peer's cursor for us when it names a life we are not: its incarnation. */
static int
other_life(const struct sync *s, const Agentflow__Mesh__V1__Hello *h,
    uint64_t *seen)
{
	for (size_t i = 0; i < h->n_cursors; i++) {
		const Agentflow__Mesh__V1__Cursor *c = h->cursors[i];

		if (strcmp(c->origin, s->self_id) != 0)
			continue;
		if (c->incarnation > s->incarnation ||
		    (c->incarnation == s->incarnation && c->seq > s->self->seq)) {
			*seen = c->incarnation;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* Our NodeInfo, as snapshots carry it, with the new incarnation. */
static void
info_set_incarnation(struct sync *s, struct origin *self, uint64_t inc)
{
	Agentflow__Mesh__V1__NodeInfo *in;
	Agentflow__Mesh__V1__OriginKey *had;

	if (self->info == NULL || (in = agentflow__mesh__v1__node_info__unpack(
	    NULL, self->info_len, self->info)) == NULL)
		return;
	in->incarnation = inc;
	in->started_ms = clock_wall_ms();
	/* The new life's key: ours, borrowed while packing. */
	had = in->key;
	if (s->keys != NULL)
		in->key = (Agentflow__Mesh__V1__OriginKey *)origin_keys_own(
		    s->keys, inc);
	free(self->info);
	self->info_len = protobuf_c_message_get_packed_size(&in->base);
	self->info = xmalloc(self->info_len ? self->info_len : 1);
	protobuf_c_message_pack(&in->base, self->info);
	in->key = had;
	agentflow__mesh__v1__node_info__free_unpacked(in, NULL);
}

int
sync_incarnation_check(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Hello *h)
{
	uint64_t seen, inc, old = s->incarnation, emitted;

	if (!other_life(s, h, &seen))
		return 0;
	if (s->reborn_count > 0 || seen - s->incarnation > JUMP_MAX) {
		log_event(LOG_WARN, "a peer claims a newer life of ours; ignored "
		    "(we move once per run, and at most 2^20 above our own)",
		    "{s:s, s:I, s:I, s:I}", "peer", peer, "seen",
		    (json_int_t)seen, "incarnation", (json_int_t)s->incarnation,
		    "moves", (json_int_t)s->reborn_count);
		return 0;
	}
	/* What is numbered in the old life goes out in it. */
	sync_flush(s);
	emitted = s->self->seq;
	if (store_incarnation_above(s->store, seen, &inc) != 0) {
		log_event(LOG_WARN, "a peer holds a newer life of ours, but we "
		    "cannot move above it", "{s:s, s:I, s:s}", "peer", peer,
		    "seen", (json_int_t)seen, "error", store_error(s->store));
		return 0;
	}
	s->incarnation = inc;
	s->self->incarnation = inc;
	s->self->seq = 0;
	s->kept_seq = 0;
	s->self->updated_ms = clock_wall_ms();
	info_set_incarnation(s, s->self, inc);
	s->info_unsent = 1;	/* the new life's first status carries it */
	s->reborn_count++;
	log_event(LOG_WARN, "a peer holds a newer life of ours (a restored "
	    "backup or a copied data directory?); starting a new incarnation "
	    "above it", "{s:s, s:I, s:I, s:I, s:I}", "peer", peer, "seen",
	    (json_int_t)seen, "was", (json_int_t)old, "incarnation",
	    (json_int_t)inc, "events_before", (json_int_t)emitted);
	if (s->reborn != NULL)
		s->reborn(inc, s->reborn_arg);
	return 1;
}
