/*
 * Whether an origin vouches for what a peer hands us (sync_priv.h).
 *
 * An origin's events are taken only with its signature (origin_keys.h)
 * over each, whoever hands them over; straight from an origin whose key we
 * lack (a node from before keys) its link's certificate vouches.  The state
 * a snapshot says an origin is in is taken whole from the origin itself.  A snapshot from another peer moves our cursor only when it
 * carries a signed event of the origin at or after that cursor
 * (OriginState.proof: the cursor cannot pass what the origin emitted) and
 * shows only a status such an event holds; its tasks and alerts come from the origin alone (a
 * replay of the origin's signed events from the log brings them too).
 *
 * A relayed snapshot of an origin's life we follow moves our cursor to a
 * point a signed event vouches for (kept in our log when it is the event
 * at the cursor), but the events we skipped are not given up: they stay
 * a hole we ask for (from the origin when it is linked, else the peer)
 * and take when they come, though below the cursor.
 *
 * A peer that hands us data its origin did not sign is closed after
 * STRIKES such items within STRIKE_WINDOW_MS: it is forging or relaying a
 * forger's data, and a link reset costs an honest relay little.
 */
#include "sync_priv.h"
#include "sync_opaque.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hmap.h"
#include "links.h"
#include "log.h"
#include "mesh_signed.h"
#include "origin_keys.h"
#include "store.h"
#include "xalloc.h"

#define STRIKES			16
#define STRIKE_WINDOW_MS	60000
#define HOLE_ASKS		5
#define HOLE_ASK_MS		5000

struct strike {
	unsigned	count;
	uint64_t	since_ms;
};

static void *
pack_body(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = xmalloc(*len + 1);
	protobuf_c_message_pack(m, buf);
	return buf;
}

int
sync_vouch_body(const Agentflow__Mesh__V1__Event *e, int *kind,
    const void **packed, size_t *len, void **buf)
{
	const ProtobufCMessage *body = NULL;

	*kind = (int)e->kind_case;
	*buf = NULL;
	switch (e->kind_case) {
	case AGENTFLOW__MESH__V1__EVENT__KIND_STATUS:
		body = &e->status->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_USER:
		body = &e->user->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TASK:
		body = &e->task->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_LOG:
		body = &e->log->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ALERT:
		body = &e->alert->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED:
		body = &e->token_revoked->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_JOB:
		body = &e->job->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW:
		body = &e->workflow->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE:
		body = &e->schedule->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE:
		body = &e->service->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE:
		body = &e->silence->base;
		break;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT:
		body = &e->artifact->base;
		break;
	default:	/* a newer kind: its bytes as they came */
		return sync_opaque_body(e, kind, packed, len) ? 0 : -1;
	}
	*packed = *buf = pack_body(body, len);
	return 0;
}

void
sync_vouch_sign(struct sync *s, Agentflow__Mesh__V1__Event *e, uint8_t *sig)
{
	const void *packed;
	void *buf;
	uint8_t *msg;
	size_t len, mlen;
	int kind;

	e->signature.len = 0;
	if (s->keys == NULL || sync_vouch_body(e, &kind, &packed, &len, &buf) != 0)
		return;
	msg = mesh_signed_event(e, kind, packed, len, &mlen);
	origin_keys_sign(s->keys, msg, mlen, sig);
	e->signature.data = sig;
	e->signature.len = ORIGIN_KEYS_SIGNATURE;
	free(msg);
	free(buf);
}

void
sync_vouch_strike(struct sync *s, const char *peer)
{
	struct strike *st = hmap_get(s->strikes, peer);
	uint64_t now = clock_mono_ms();

	if (st == NULL) {
		st = xcalloc(1, sizeof(*st));
		hmap_put(s->strikes, peer, st);
	}
	if (st->count == 0 || now - st->since_ms > STRIKE_WINDOW_MS) {
		st->count = 0;
		st->since_ms = now;
	}
	/* Every STRIKES within the window, also across reconnects: the rest
	 * of what a link had in flight adds to the next round. */
	if (++st->count % STRIKES != 0)
		return;
	s->vouch.links_closed++;
	s->vouch_dropped = 1;
	if (s->links != NULL)
		links_drop(s->links, peer, "it handed us data its origin did not "
		    "sign");
}

int
sync_vouch_learn(struct sync *s, const char *peer, const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k)
{
	char detail[256];

	int rc;

	if (k == NULL || s->keys == NULL)
		return -1;
	if ((rc = origin_keys_learn(s->keys, node_id, k, detail,
	    sizeof(detail))) == 0)
		return 0;
	s->vouch.keys_refused++;
	log_event(rc < 0 ? LOG_WARN : LOG_DEBUG, "origin key not taken",
	    "{s:s, s:s, s:s}", "origin", node_id, "from", peer, "why", detail);
	if (rc < 0)
		sync_vouch_strike(s, peer);
	return -1;
}

/* e's signature checked against its origin's key for its life. */
static enum origin_keys_verdict
check(struct sync *s, const Agentflow__Mesh__V1__Event *e)
{
	enum origin_keys_verdict v;
	const void *packed;
	void *buf;
	uint8_t *msg;
	size_t len, mlen;
	int kind;

	if (s->keys == NULL)
		return ORIGIN_KEYS_UNKNOWN;
	if (e->signature.len == 0)
		return ORIGIN_KEYS_FORGED;
	if (sync_vouch_body(e, &kind, &packed, &len, &buf) != 0)
		return ORIGIN_KEYS_FORGED;
	msg = mesh_signed_event(e, kind, packed, len, &mlen);
	v = origin_keys_verify(s->keys, e->origin, e->incarnation, msg, mlen,
	    &e->signature);
	free(msg);
	free(buf);
	return v;
}

enum origin_keys_verdict
sync_vouch_event(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__Event *e, int *unchecked)
{
	enum origin_keys_verdict v;
	int direct, known;

	/* Its first status of a life carries its key. */
	if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS &&
	    s->keys != NULL && e->status->info != NULL &&
	    e->status->info->key != NULL &&
	    (strcmp(peer, e->origin) == 0 || !origin_keys_known(s->keys,
	    e->origin, e->incarnation)))
		sync_vouch_learn(s, peer, e->origin, e->status->info->key);
	direct = strcmp(peer, e->origin) == 0;
	known = s->keys != NULL && origin_keys_known(s->keys, e->origin,
	    e->incarnation);
	/* Straight from a node whose key we lack (a version before keys):
	 * its link's certificate names it.  Else its signature must hold
	 * here too, or an honest relay would hand on what its next hop then
	 * strikes it for. */
	/* A signed one is checked when handed on all the same: its key
	 * may be known by then, and the next hop may know it already. */
	if (direct && !known) {
		if (unchecked != NULL && e->signature.len > 0)
			*unchecked = 1;
		return ORIGIN_KEYS_VALID;
	}
	/*
	 * Straight from its origin, of a life whose key we hold, its
	 * certificate still good: the link's certificate names the origin,
	 * so the event is its word and is taken without the signature's
	 * check (18 % of a receiver's CPU in a burst).  The check waits until
	 * the event is handed on (sync_vouch_recheck), so that we never
	 * hand on what its next hop would strike us for.  A status is
	 * always checked: its signature is the proof our snapshots carry.
	 */
	if (direct && unchecked != NULL &&
	    e->kind_case != AGENTFLOW__MESH__V1__EVENT__KIND_STATUS &&
	    e->kind_case != AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET &&
	    e->signature.len > 0 &&
	    origin_keys_standing(s->keys, e->origin, e->incarnation) ==
	    ORIGIN_KEYS_VALID) {
		*unchecked = 1;
		return ORIGIN_KEYS_VALID;
	}
	if (s->keys == NULL || (!known && e->signature.len == 0))
		v = ORIGIN_KEYS_UNKNOWN;
	else
		v = check(s, e);
	switch (v) {
	case ORIGIN_KEYS_VALID:
		break;
	case ORIGIN_KEYS_FORGED:
		s->vouch.forged++;
		log_event(LOG_DEBUG, "event its origin did not sign; dropped",
		    "{s:s, s:s, s:I, s:b}", "origin", e->origin, "from", peer,
		    "seq", (json_int_t)e->seq, "direct", direct);
		sync_vouch_strike(s, peer);
		break;
	case ORIGIN_KEYS_UNKNOWN:
		s->vouch.unknown_key++;
		log_event(LOG_DEBUG, "no key yet for a relayed event's origin; "
		    "dropped", "{s:s, s:s, s:I, s:I}", "origin", e->origin, "from",
		    peer, "incarnation", (json_int_t)e->incarnation, "seq",
		    (json_int_t)e->seq);
		break;
	case ORIGIN_KEYS_REVOKED:
		s->vouch.revoked++;
		break;
	}
	return v;
}

enum origin_keys_verdict
sync_vouch_recheck(struct sync *s, const char *from,
    const Agentflow__Mesh__V1__Event *e)
{
	enum origin_keys_verdict v = check(s, e);

	/* Unknown (a restart forgot keys; an origin that kept its key from
	 * us), revoked or expired since: not handed on, no fault of anyone's
	 * (the caller asks for an unknown key). */
	if (v != ORIGIN_KEYS_VALID && v != ORIGIN_KEYS_FORGED)
		return v;
	s->vouch.rechecked++;
	if (v == ORIGIN_KEYS_VALID)
		return v;
	s->vouch.forged++;
	log_event(LOG_DEBUG, "event its origin did not sign, taken on its "
	    "link's word; not handed on", "{s:s, s:I, s:I}", "origin",
	    e->origin, "incarnation", (json_int_t)e->incarnation, "seq",
	    (json_int_t)e->seq);
	if (from != NULL)
		sync_vouch_strike(s, from);
	return v;
}

int
sync_vouch_mark(enum origin_keys_verdict v)
{
	if (v == ORIGIN_KEYS_VALID)
		return 0;
	return v == ORIGIN_KEYS_FORGED ? STORE_EVENT_FORGED : -1;
}

void
sync_vouch_state(struct sync *s, const char *peer,
    const Agentflow__Mesh__V1__OriginState *st, struct sync_vouched *out)
{
	const Agentflow__Mesh__V1__Cursor *c = st->cursor;

	memset(out, 0, sizeof(*out));
	if (strcmp(peer, c->origin) == 0) {
		/* The origin's own word on itself. */
		if (st->info != NULL && st->info->key != NULL)
			sync_vouch_learn(s, peer, c->origin, st->info->key);
		out->cursor = 1;
		out->info = st->info;
		out->status = st->status;
		out->status_ms = st->status_ms;
		out->work = 1;
		return;
	}
	/* Its NodeInfo only with a key its certificate signs, for its life. */
	if (st->info != NULL && st->info->key != NULL &&
	    st->info->incarnation == c->incarnation &&
	    st->info->key->incarnation == c->incarnation &&
	    sync_vouch_learn(s, peer, c->origin, st->info->key) == 0)
		out->info = st->info;
	for (size_t i = 0; i < st->n_proof; i++) {
		const Agentflow__Mesh__V1__Event *e = st->proof[i];
		if (e->incarnation != c->incarnation ||
		    sync_vouch_event(s, peer, e, NULL) != ORIGIN_KEYS_VALID)
			continue;
		/* The cursor cannot pass what the origin emitted. */
		if (e->seq >= c->seq)
			out->cursor = 1;
		if (e->seq == c->seq)
			out->at = e;
		if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS &&
		    e->seq <= c->seq && (out->status == NULL ||
		    e->time_ms > out->status_ms)) {
			out->status = e->status;
			out->status_ms = e->time_ms;
			out->status_seq = e->seq;
			out->status_sig = &e->signature;
		}
	}
	if (!out->cursor) {
		s->vouch.states_refused++;
		out->status = NULL;
	}
	if (st->n_tasks > 0 || st->n_alerts > 0 || st->n_jobs > 0 ||
	    st->n_workflows > 0 || st->n_schedules > 0 || st->n_services > 0 ||
	    st->n_silences > 0 ||
	    st->n_artifacts > 0)
		s->vouch.work_ignored++;
}

void
sync_vouch_hole_open(struct sync *s, struct origin *o, uint64_t lo,
    uint64_t hi)
{
	if (lo > hi)
		return;
	/* An older hole still open is kept: it widens. */
	if (o->hole_lo == 0 || lo < o->hole_lo)
		o->hole_lo = lo;
	if (hi > o->hole_hi)
		o->hole_hi = hi;
	o->hole_asks = 0;
	o->hole_asked_ms = 0;
	s->vouch.holes_opened++;
	log_event(LOG_INFO, "a relayed snapshot moved a cursor past events; "
	    "asking for them", "{s:s, s:I, s:I}", "origin", o->id, "from",
	    (json_int_t)o->hole_lo, "to", (json_int_t)o->hole_hi);
}

int
sync_vouch_hole_fill(struct sync *s, struct origin *o,
    const Agentflow__Mesh__V1__Event *e)
{
	uint64_t seq = e->seq;

	if (o->hole_lo == 0 || seq < o->hole_lo || seq > o->hole_hi)
		return 0;
	s->vouch.hole_events++;
	o->hole_asks = 0;
	/* Replays come in order: the hole shrinks from its start, past the
	 * statuses a sparse replay leaves out when e is a status taken past
	 * them.  One that came out of order is taken and asked for again
	 * (a duplicate). */
	if ((seq == o->hole_lo || sync_statuses_between(e, o->hole_lo - 1)) &&
	    (o->hole_lo = seq + 1) > o->hole_hi)
		o->hole_lo = o->hole_hi = 0;
	return 1;
}

int
sync_vouch_hole_due(struct sync *s, struct origin *o)
{
	uint64_t now = clock_mono_ms();

	if (o->hole_lo == 0 || (o->hole_asked_ms != 0 &&
	    now - o->hole_asked_ms < HOLE_ASK_MS))
		return 0;
	if (o->hole_asks >= HOLE_ASKS) {
		/* No peer has them (trimmed everywhere): given up. */
		s->vouch.holes_abandoned++;
		log_event(LOG_WARN, "events of an origin are lost here: no peer "
		    "had them", "{s:s, s:I, s:I}", "origin", o->id, "from",
		    (json_int_t)o->hole_lo, "to", (json_int_t)o->hole_hi);
		o->hole_lo = o->hole_hi = 0;
		return 0;
	}
	o->hole_asks++;
	o->hole_asked_ms = now;
	return 1;
}

void
sync_vouch_free(struct sync *s)
{
	hmap_free_with(s->strikes, free);
	s->strikes = NULL;
}
