/*
 * Asking peers for what we miss (sync_priv.h): a gap's snapshot, a
 * hole's events, an origin's NodeInfo or key, each at most so often.
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "links.h"

#define INFO_HEAL_REQUEST	1	/* any non-zero id; the answer echoes it */

/* Asks peer for origin o's state with what we hold (o's cursor), so that
 * it answers with just the events we miss; a non-zero request_id also
 * asks for o's snapshot when we miss none. */
static void
send_request(struct sync *s, const char *peer, struct origin *o,
    uint64_t request_id)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__SnapshotRequest r = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	Agentflow__Mesh__V1__Cursor cur, *curp = &cur;
	char *ids[1] = { o->id };

	r.n_origins = 1;
	r.origins = ids;
	r.request_id = request_id;
	if (o->incarnation != 0) {
		agentflow__mesh__v1__cursor__init(&cur);
		cur.origin = o->id;
		cur.incarnation = o->incarnation;
		/* With a hole, from its start: the peer replays it too. */
		cur.seq = o->hole_lo != 0 ? o->hole_lo - 1 : o->seq;
		r.n_cursors = 1;
		r.cursors = &curp;
	}
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &r;
	sync_send_frame(s, peer, &f);
	s->snapshot_requests++;
}

void
sync_ask_snapshot(struct sync *s, const char *peer, struct origin *o)
{
	uint64_t now = clock_mono_ms();

	/* One outstanding request per origin (re-asked after 5 s). */
	if (o->requested_ms != 0 && now - o->requested_ms < 5000)
		return;
	o->requested_ms = now;
	send_request(s, peer, o, 0);
}

/* Asks for o's hole when due: of the origin itself when it is linked (a
 * relay sent a snapshot because its log lacks the events), else of peer. */
void
sync_ask_hole(struct sync *s, const char *peer, struct origin *o)
{
	if (!sync_vouch_hole_due(s, o))
		return;
	send_request(s, s->links != NULL && links_is_up(s->links, o->id) ?
	    o->id : peer, o, 0);
}

/*
 * We apply o's events but do not know its NodeInfo (we restarted: it is
 * not persisted; or its status that carried it reached us before a
 * snapshot without it).  The peer that hands us its events may know it:
 * its snapshot, asked with our cursor (no cursor would ask for a replay
 * from seq 1 of what we hold) and a request_id (so that the answer holds
 * the snapshot even when we miss no event), at most every 5 s per origin
 * while we do not.
 */
void
sync_ask_info(struct sync *s, const char *peer, struct origin *o)
{
	uint64_t now = clock_mono_ms();

	if (o->info != NULL || (o->info_asked_ms != 0 &&
	    now - o->info_asked_ms < 5000))
		return;
	o->info_asked_ms = now;
	send_request(s, peer, o, INFO_HEAL_REQUEST);
}

/* A relayed event of o's came for a life whose key we lack: the snapshot
 * sync_ask_info asks for carries o's NodeInfo, and its key. */
void
sync_ask_key(struct sync *s, const char *peer, const char *id)
{
	struct origin *o = hmap_get(s->origins, id), unknown;
	uint64_t now = clock_mono_ms();

	if (o == NULL) {
		/* Nothing of it yet: no entry until it is vouched for, and
		 * one such question a second. */
		if (now - s->key_asked_ms < 1000)
			return;
		s->key_asked_ms = now;
		memset(&unknown, 0, sizeof(unknown));
		snprintf(unknown.id, sizeof(unknown.id), "%s", id);
		send_request(s, peer, &unknown, INFO_HEAL_REQUEST);
		return;
	}
	if (o->info_asked_ms != 0 && now - o->info_asked_ms < 5000)
		return;
	o->info_asked_ms = now;
	send_request(s, peer, o, INFO_HEAL_REQUEST);
}
