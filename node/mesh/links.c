/*
 * The link manager (see links.h).
 *
 * Per peer, the link state:
 *
 *   DOWN --dial (timer)--> CONNECTING --Hello received--> UP
 *   CONNECTING --stream closed--> DOWN (redial after backoff)
 *   UP --stream closed / ping silence--> DOWN (redial after backoff)
 *
 * and the member state, our view of the peer:
 *
 *   ALIVE (link up) --link lost--> SUSPECT --dead_ms without a link--> DEAD
 *
 * where dead_ms counts from the last frame heard from the peer (or from
 * when we first heard of a peer never reached), whatever the redials do.
 *   any --Leave received--> LEFT;  any --link up--> ALIVE
 *   LEFT --a signal lists a registration dated after the Leave--> SUSPECT
 *
 * (links_set_peers; a list still naming the life that left changes
 * nothing, and a LEFT peer is never dialled).  A peer whose streams we
 * only ever refused is removed dead_ms after the last refusal
 * (links_expire_refused).
 *
 * That is our link's view.  What we report (status members, links_member,
 * links_status) is the mesh's: a suspect or dead peer that a route over
 * other nodes reaches (hooks.reachable) is alive, relayed.
 *
 * A peer may have several streams for a moment (we dialed while it dialed
 * us): each gets its Hello, and when a second one comes up the pair keeps
 * the stream dialed by the smaller node id and closes the other.  Both
 * sides apply the same rule, so they converge on the same stream.
 *
 * Invariants: peer->active is NULL unless state == UP; every stream's data
 * is a struct lstream whose peer is set once its identity is known.
 *
 * Whom we dial, which address, and the redial backoff are links_dial.c's;
 * this file takes a stream from the moment it opens, dialed or accepted.
 */
#include "links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "check.h"
#include "clock.h"
#include "forget.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "mesh_features.h"
#include "mesh_names.h"
#include "node_id.h"
#include "node_info.h"
#include "origin_keys.h"
#include "transport.h"
#include "trust.h"
#include "wall_timer.h"
#include "xalloc.h"

#define PROTOCOL_VERSION	1
#define LINKS_TICK_MS		250
#define LINKS_STALL_MS		1000	/* a tick this late: we stalled */
#define LINK_STABLE_MS		10000	/* a link up this long resets the backoff */
#define RTT_MAX_US		60000000ULL	/* a peer's RTT past this is not taken */

#include "links_priv.h"

/* Our states as mesh.proto's, which also give their names. */
const Agentflow__Mesh__V1__LinkState links_state_pb[] = {
	[LINK_DOWN] = MESH_LINK_STATE(DOWN),
	[LINK_CONNECTING] = MESH_LINK_STATE(CONNECTING),
	[LINK_UP] = MESH_LINK_STATE(UP),
};

const Agentflow__Mesh__V1__MemberState links_member_pb[] = {
	[MEMBER_ALIVE] = MESH_MEMBER_STATE(ALIVE),
	[MEMBER_SUSPECT] = MESH_MEMBER_STATE(SUSPECT),
	[MEMBER_DEAD] = MESH_MEMBER_STATE(DEAD),
	[MEMBER_LEFT] = MESH_MEMBER_STATE(LEFT),
};

const char *
links_link_name(enum link_state s)
{
	return mesh_names_link_state(links_state_pb[s]);
}

const char *
links_member_name(enum member_state m)
{
	return mesh_names_member_state(links_member_pb[m]);
}

static void
check_peer(const struct peer *p)
{
	/* Invariant: an active stream exactly when up. */
	CHECK((p->active != NULL) == (p->state == LINK_UP));
}

void
links_set_state(struct peer *p, enum link_state s)
{
	int up_changed = p->state == LINK_UP || s == LINK_UP;

	if (p->state == s)
		return;
	log_event(LOG_INFO, "link state", "{s:s, s:s, s:s}", "peer", p->id,
	    "from", links_link_name(p->state), "to", links_link_name(s));
	p->state = s;
	p->since_ms = clock_wall_ms();
	/* The dead clock runs from the last frame heard on the link that
	 * went down, not from when the loss was noticed, and failed redials
	 * (CONNECTING → DOWN) do not restart it: --dead-ms after a peer
	 * died, it is dead. */
	if (s == LINK_DOWN && up_changed)
		p->down_since_ms = p->heard_mono_ms;
	if (s == LINK_UP && p->member != MEMBER_ALIVE)
		p->member = MEMBER_ALIVE;
	else if (s == LINK_DOWN && p->member == MEMBER_ALIVE)
		p->member = MEMBER_SUSPECT;
	if (up_changed) {
		p->l->up_gen++;
		if (s == LINK_UP)
			p->link_gen = p->l->up_gen;	/* names this link */
		if (p->l->hooks.changed != NULL)
			p->l->hooks.changed(p->l->hooks.arg);
	}
}

/* Encodes f into *buf (the caller frees it); -1 after logging why not. */
static int
encode(const Agentflow__Mesh__V1__Frame *f, uint8_t **buf, size_t *len)
{
	struct frame_codec_error err;

	*buf = NULL;
	*len = 0;
	if (frame_codec_encode(f, buf, len, &err) != FRAME_CODEC_OK) {
		log_event(LOG_ERROR, "cannot encode frame", "{s:s}", "error",
		    err.detail);
		return -1;
	}
	return 0;
}

static int
send_frame(struct transport_stream *ts, const Agentflow__Mesh__V1__Frame *f)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (encode(f, &buf, &len) != 0)
		return -1;
	rc = transport_send(ts, buf, len);
	free(buf);
	return rc;
}

static void
send_hello(struct links *l, struct transport_stream *ts)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Hello h = AGENTFLOW__MESH__V1__HELLO__INIT;
	struct node_info info;

	node_info_init(&info, l->self_id, l->incarnation, l->addresses,
	    l->labels);
	if (l->keys != NULL)
		info.msg.key = (Agentflow__Mesh__V1__OriginKey *)
		    origin_keys_own(l->keys, l->incarnation);
	h.info = &info.msg;
	h.protocol_version = PROTOCOL_VERSION;
	h.n_features = mesh_features_ours((const char *const **)&h.features);
	if (l->hooks.cursors != NULL)
		h.n_cursors = l->hooks.cursors(&h.cursors, l->hooks.arg);
	h.time_ms = clock_wall_ms();
	h.max_links = l->max_links > 0 ? (int32_t)l->max_links : -1;
	if (l->freeze != NULL)
		h.freeze = agentflow__mesh__v1__command__unpack(NULL,
		    l->freeze_len, l->freeze);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	send_frame(ts, &f);
	if (h.freeze != NULL)
		agentflow__mesh__v1__command__free_unpacked(h.freeze, NULL);
	node_info_clear(&info);
}

static struct peer *
peer_get(struct links *l, const char *id)
{
	struct peer *p = hmap_get(l->peers, id);

	if (p != NULL)
		return p;
	links_unforget(l, id);	/* heard of again: a member like any other */
	p = xcalloc(1, sizeof(*p));
	p->l = l;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->addresses = json_array();
	p->state = LINK_DOWN;
	p->member = MEMBER_SUSPECT;	/* heard of, never reached yet */
	p->backoff_ms = BACKOFF_MIN_MS;
	p->since_ms = clock_wall_ms();
	p->down_since_ms = clock_mono_ms();
	hmap_put(l->peers, p->id, p);
	links_choose_neighbours(l);
	return p;
}

/*
 * Whether we ping p.  Between two nodes that speak "one_pinger" only the
 * one whose id sorts first does: its Ping and the other's Pong each say
 * the sender lives, as often as two Pings and two Pongs did, for half the
 * messages (most of what an idle link cost: a 20-node mesh idled at
 * 0.28-0.35 % of a core per node, 0.19-0.20 % with pings 10 s apart).
 * The Ping carries its RTT for the other end, the Pong the other's
 * digest.  An older peer pings on its own, and so do we.
 */
static int
pings(const struct links *l, const struct peer *p)
{
	return mesh_features_index("one_pinger") < 0 || !p->hello_seen ||
	    !mesh_features_has(p->features, "one_pinger") ||
	    strcmp(l->self_id, p->id) < 0;
}

void
links_set_peers(struct links *l, json_t *peers)
{
	json_t *e, *addrs;
	const char *id;
	size_t i;

	json_array_foreach(peers, i, e) {
		struct peer *p;
		id = json_string_value(json_object_get(e, "node_id"));
		/* A signal is trusted with addresses, not with names: an id
		 * the signal itself would refuse (node_id.h) is skipped, so
		 * it reaches no log, metric label or API answer. */
		if (id == NULL || !node_id_valid(id, strlen(id)) ||
		    strcmp(id, l->self_id) == 0 || links_forgotten(l, id, e))
			continue;
		p = peer_get(l, id);
		/* A signal that has not had the registration of a node that
		 * left still lists it: it stays left, and is not dialled. */
		if (p->member == MEMBER_LEFT && links_left_stale(p, e))
			continue;
		/* An entry without addresses (a node between its first
		 * registration and the one with the address the signal saw)
		 * does not wipe those we hold. */
		addrs = json_object_get(e, "addresses");
		if (json_array_size(addrs) > 0 &&
		    !json_equal(addrs, p->addresses)) {
			json_decref(p->addresses);
			p->addresses = json_deep_copy(addrs);
			p->attempt = 0;
		}
		/* A node that registered again is not "left" any more. */
		if (p->member == MEMBER_LEFT) {
			log_event(LOG_INFO, "peer registered again after leaving",
			    "{s:s}", "peer", p->id);
			p->member = MEMBER_SUSPECT;
			p->down_since_ms = clock_mono_ms();
		}
	}
	links_choose_neighbours(l);
	json_array_foreach(peers, i, e) {
		struct peer *p;
		id = json_string_value(json_object_get(e, "node_id"));
		if (id == NULL || (p = hmap_get(l->peers, id)) == NULL)
			continue;
		if (p->state == LINK_DOWN && (p->redial == NULL ||
		    !evtimer_pending(p->redial, NULL)))
			links_dial(p);
	}
}

static int stream_trusted(struct links *, struct transport_stream *);

void
links_stream_opened(struct links *l, struct transport_stream *ts)
{
	struct lstream *s = transport_get_data(ts);
	const char *id = transport_peer_id(ts);

	if (s == NULL) {	/* inbound */
		s = xcalloc(1, sizeof(*s));
		s->ts = ts;
		LIST_INSERT_HEAD(&l->streams, s, entry);
		transport_set_data(ts, s);
	}
	if (id == NULL) {
		log_event(LOG_WARN, "stream without a peer identity; closing",
		    "{s:s}", "address", transport_address(ts));
		transport_close(ts);
		return;
	}
	s->peer = peer_get(l, id);
	s->opened_ms = clock_mono_ms();
	if (!stream_trusted(l, ts))
		return;
	send_hello(l, ts);
}

/*
 * gRPC checked the chain; our CRL it does not know.  A revoked (or since
 * expired) peer's stream is closed and the refusal logged.
 */
static int
stream_trusted(struct links *l, struct transport_stream *ts)
{
	const char *pem = transport_peer_cert(ts), *id = transport_peer_id(ts);
	struct lstream *s = transport_get_data(ts);
	enum trust_result r;
	char detail[256];

	if (l->trust == NULL)
		return 1;
	r = pem == NULL ? TRUST_BAD_CERT : trust_verify_pem(l->trust, pem,
	    strlen(pem), id, NULL, NULL, detail, sizeof(detail));
	if (r == TRUST_OK)
		return 1;
	if (pem == NULL)
		snprintf(detail, sizeof(detail), "no peer certificate to check");
	log_event(LOG_WARN, "link refused", "{s:s, s:s, s:s}", "peer", id,
	    "reason", trust_result_str(r), "detail", detail);
	if (s != NULL && s->peer != NULL) {
		snprintf(s->peer->last_error, sizeof(s->peer->last_error),
		    "refused: %s", detail);
		s->refused = 1;
		s->peer->refused_mono_ms = clock_mono_ms();
	}
	transport_close(ts);
	return 0;
}

static int
recheck_peer(const char *id, void *value, void *arg)
{
	struct peer *p = value;

	(void)id;
	if (p->state == LINK_UP)
		stream_trusted(arg, p->active);
	return 0;
}

void
links_set_incarnation(struct links *l, uint64_t incarnation)
{
	l->incarnation = incarnation;
}

void
links_recheck(struct links *l)
{
	hmap_sweep(l->peers, recheck_peer, l);
}

/* Keeps one stream per pair: the one dialed by the smaller node id. */
static int
keep_new_stream(struct links *l, struct peer *p, struct transport_stream *ts)
{
	int self_smaller = strcmp(l->self_id, p->id) < 0;
	int new_dialed_by_self = !transport_is_inbound(ts);

	return new_dialed_by_self == self_smaller;
}

static void
hello_received(struct links *l, struct lstream *s,
    const Agentflow__Mesh__V1__Hello *h)
{
	struct peer *p = s->peer;
	const char *cert_id = transport_peer_id(s->ts);
	struct transport_stream *old;
	int spread, first;

	if (h->info == NULL || strcmp(h->info->node_id, cert_id) != 0) {
		log_event(LOG_WARN, "link refused: Hello names another node than "
		    "the certificate", "{s:s, s:s}", "certificate", cert_id,
		    "hello", h->info ? h->info->node_id : "");
		snprintf(p->last_error, sizeof(p->last_error),
		    "refused: Hello named \"%s\", certificate \"%s\"",
		    h->info ? h->info->node_id : "", cert_id);
		s->refused = 1;
		p->refused_mono_ms = clock_mono_ms();
		transport_close(s->ts);
		return;
	}
	s->hello_in = 1;
	p->incarnation = h->info->incarnation;
	spread = links_spreads(p);
	first = !p->hello_seen;
	p->features = mesh_features_mask(h->features, h->n_features);
	p->hello_seen = 1;
	/* Whether it picks us, or by which rule, changed. */
	if (p->max_links != h->max_links || links_spreads(p) != spread ||
	    first) {
		p->max_links = h->max_links;
		links_choose_neighbours(l);
	}
	if (p->dialing == s->ts)
		p->dialing = NULL;
	if (p->state == LINK_UP && p->active != s->ts) {
		if (!keep_new_stream(l, p, s->ts)) {
			log_event(LOG_DEBUG, "duplicate link; keeping the older",
			    "{s:s}", "peer", p->id);
			transport_close(s->ts);
			return;
		}
		old = p->active;
		p->active = s->ts;
		log_event(LOG_DEBUG, "duplicate link; keeping the new one",
		    "{s:s}", "peer", p->id);
		transport_close(old);
		p->link_gen = ++l->up_gen;	/* another link, though still up */
		/* Frames in flight on the old stream are lost: resync. */
		if (l->hooks.up != NULL)
			l->hooks.up(p->id, h, l->hooks.arg);
		return;
	}
	p->active = s->ts;
	links_set_state(p, LINK_UP);
	p->up_mono_ms = clock_mono_ms();
	p->failures = 0;
	p->ever_up = 1;			/* a member: refusals no longer expire it */
	p->refused_mono_ms = 0;
	p->next_ping_ms = 0;		/* measure the RTT at once */
	p->heard_mono_ms = clock_mono_ms();
	p->last_error[0] = '\0';
	if (p->redial != NULL)
		evtimer_del(p->redial);
	log_event(LOG_INFO, "link up", "{s:s, s:s, s:I}", "peer", p->id,
	    "direction", transport_is_inbound(s->ts) ? "inbound" : "outbound",
	    "incarnation", (json_int_t)p->incarnation);
	check_peer(p);
	if (l->hooks.up != NULL)
		l->hooks.up(p->id, h, l->hooks.arg);
}

void
links_stream_message(struct links *l, struct transport_stream *ts,
    const uint8_t *buf, size_t len)
{
	struct lstream *s = transport_get_data(ts);
	struct frame_codec_error err;
	Agentflow__Mesh__V1__Frame *f = NULL;
	struct peer *p;

	if (s == NULL || s->peer == NULL)
		return;
	p = s->peer;
	if (frame_codec_decode(buf, len, &f, &err) != FRAME_CODEC_OK) {
		log_event(LOG_WARN, "bad frame from peer; closing the link",
		    "{s:s, s:s}", "peer", p->id, "error", err.detail);
		snprintf(p->last_error, sizeof(p->last_error), "bad frame: %s",
		    err.detail);
		transport_close(ts);
		return;
	}
	p->last_seen_ms = clock_wall_ms();
	p->heard_mono_ms = clock_mono_ms();
	if (!s->hello_in) {
		if (f->body_case != AGENTFLOW__MESH__V1__FRAME__BODY_HELLO) {
			log_event(LOG_WARN, "link refused: first frame is not Hello",
			    "{s:s, s:s}", "peer", p->id, "frame",
			    frame_codec_body_name(f));
			transport_close(ts);
		} else
			hello_received(l, s, f->hello);
		frame_codec_free(f);
		return;
	}
	if (p->active != ts) {		/* a stream on its way out */
		frame_codec_free(f);
		return;
	}
	switch (f->body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_PING: {
		Agentflow__Mesh__V1__Frame r = AGENTFLOW__MESH__V1__FRAME__INIT;
		Agentflow__Mesh__V1__Pong pong = AGENTFLOW__MESH__V1__PONG__INIT;
		if (f->ping->digest != 0 && l->hooks.peer_digest != NULL)
			l->hooks.peer_digest(p->id, f->ping->digest, l->hooks.arg);
		pong.id = f->ping->id;
		pong.ping_sent_us = f->ping->sent_us;
		pong.sent_us = clock_mono_us();
		/* It pings, we do not: its RTT is ours, our digest goes back. */
		if (!pings(l, p)) {
			if (f->ping->rtt_us > 0 && f->ping->rtt_us <= RTT_MAX_US)
				p->rtt_us = f->ping->rtt_us;
			if (l->hooks.digest != NULL)
				pong.digest = l->hooks.digest(l->hooks.arg);
		}
		r.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PONG;
		r.pong = &pong;
		send_frame(ts, &r);
		break;
	}
	case AGENTFLOW__MESH__V1__FRAME__BODY_PONG: {
		uint64_t now_us = clock_mono_us();
		if (f->pong->ping_sent_us <= now_us)
			p->rtt_us = now_us - f->pong->ping_sent_us;
		if (f->pong->digest != 0 && l->hooks.peer_digest != NULL)
			l->hooks.peer_digest(p->id, f->pong->digest, l->hooks.arg);
		break;
	}
	case AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE:
		log_event(LOG_INFO, "peer left", "{s:s, s:s}", "peer", p->id,
		    "reason", f->leave->reason);
		p->member = MEMBER_LEFT;
		/* Registrations the signals date before this are its
		 * leaving life's (links_left_stale). */
		p->left_signal_ms = links_signal_now(l);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_HELLO:
		log_event(LOG_WARN, "second Hello on a link; ignored", "{s:s}",
		    "peer", p->id);
		break;
	default:
		if (l->hooks.frame != NULL)
			l->hooks.frame(p->id, f, l->hooks.arg);
		break;
	}
	frame_codec_free(f);
}

void
links_stream_closed(struct links *l, struct transport_stream *ts,
    const char *reason)
{
	struct lstream *s = transport_get_data(ts);
	struct peer *p = s != NULL ? s->peer : NULL;
	int refused = s != NULL && s->refused;

	if (s != NULL) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	if (p == NULL)
		return;
	if (p->dialing == ts)
		p->dialing = NULL;
	if (!refused && reason != NULL && reason[0] != '\0')
		snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
	if (p->active == ts) {
		p->active = NULL;
		p->reconnects++;
		/* Only a link that lasted resets the backoff: one closed soon
		 * after it came up (by a peer that does not want it, say) is
		 * redialled ever later, not at once. */
		if (clock_mono_ms() - p->up_mono_ms >= LINK_STABLE_MS)
			p->backoff_ms = BACKOFF_MIN_MS;
		log_event(LOG_INFO, "link down", "{s:s, s:s, s:s}", "peer", p->id,
		    "address", transport_address(ts), "reason", reason ? reason : "");
		links_set_state(p, LINK_DOWN);
	} else if (p->state == LINK_CONNECTING && p->dialing == NULL) {
		/* A dial that never came up: no connection, a TLS handshake
		 * refused, no Hello.  Said once per attempt (the backoff
		 * spaces them, log.c's limit holds a storm back); a refusal
		 * was said where it was refused. */
		/* A warning the first time, then info: a peer that stays
		 * away is redialled until --prune-after, and would fill
		 * journalctl -p warning. */
		if (!refused)
			log_event(p->failures == 0 ? LOG_WARN : LOG_INFO,
			    "cannot link to peer",
			    "{s:s, s:s, s:s, s:i}", "peer", p->id, "address",
			    transport_address(ts), "reason", reason != NULL &&
			    reason[0] != '\0' ? reason : p->last_error, "attempt",
			    (int)p->failures + 1);
		links_set_state(p, LINK_DOWN);
		if (++p->failures % 3 == 0 && l->hooks.stale_address != NULL)
			l->hooks.stale_address(p->id, l->hooks.arg);
	}
	check_peer(p);
	if (p->state == LINK_DOWN && p->member != MEMBER_LEFT && !l->closing)
		links_dial_later(p);
}

void
links_stream_drained(struct links *l, struct transport_stream *ts)
{
	struct lstream *s = transport_get_data(ts);
	struct peer *p = s != NULL ? s->peer : NULL;

	/* Only the stream the link uses: a losing duplicate says nothing. */
	if (p != NULL && p->state == LINK_UP && p->active == ts &&
	    l->hooks.drained != NULL)
		l->hooks.drained(p->id, l->hooks.arg);
}

static int
tick_peer(const char *id, void *value, void *arg)
{
	struct peer *p = value;
	struct links *l = arg;
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Ping ping = AGENTFLOW__MESH__V1__PING__INIT;

	(void)id;
	/* The mesh grew, or the peer's Hello named the other ring, and no
	 * end picks this link any more: closed once that held for --dead-ms
	 * (the time we give a peer's absence), as nodes learn of a join a
	 * signal heartbeat apart, and a link closed on a view about to
	 * change is a link redialled. */
	if (p->state != LINK_UP || p->wanted)
		p->unwanted_mono_ms = 0;
	else if (p->unwanted_mono_ms == 0)
		p->unwanted_mono_ms = clock_mono_ms();
	else if (clock_mono_ms() - p->unwanted_mono_ms >= (uint64_t)l->dead_ms) {
		log_event(LOG_INFO, "closing a link that is no longer a neighbour's",
		    "{s:s}", "peer", p->id);
		transport_close(p->active);
		return 0;
	}
	/* Each side pings every ping_ms: a link that has been silent for
	 * much longer has a dead or frozen peer behind it.  Silent to us:
	 * while our own loop stalled, its frames may be waiting in our
	 * queue, so silence counts from the end of our last stall. */
	if (p->state == LINK_UP && l->silence_ms > 0 &&
	    clock_mono_ms() - (p->heard_mono_ms > l->awake_mono_ms ?
	    p->heard_mono_ms : l->awake_mono_ms) > (uint64_t)l->silence_ms) {
		log_event(LOG_INFO, "link silent; closing it", "{s:s, s:I}", "peer",
		    p->id, "silent_ms", (json_int_t)(clock_mono_ms() - p->heard_mono_ms));
		snprintf(p->last_error, sizeof(p->last_error), "silent for %lld ms",
		    (long long)(clock_mono_ms() - p->heard_mono_ms));
		transport_close(p->active);
		return 0;
	}
	/* Due within half a tick: the tick and the ping share the wall
	 * grid, and a tick a little early must not put a ping a tick late. */
	if (p->state == LINK_UP && clock_mono_ms() + LINKS_TICK_MS / 2 >=
	    p->next_ping_ms && pings(l, p)) {
		/* On the multiples of ping_ms on the wall clock, like the
		 * tick (wall_timer.h): our pings to every peer, and theirs to
		 * us, go in one turn, their pongs come back in one, where
		 * pings at each link's own phase woke every node once per
		 * ping. */
		p->next_ping_ms = clock_mono_ms() + wall_timer_delay(
		    clock_wall_ms(), (uint64_t)l->ping_ms, 0);
		ping.id = ++l->ping_seq;
		ping.sent_us = clock_mono_us();
		ping.rtt_us = p->rtt_us;
		if (l->hooks.digest != NULL)
			ping.digest = l->hooks.digest(l->hooks.arg);
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PING;
		f.ping = &ping;
		if (send_frame(p->active, &f) != 0) {
			log_event(LOG_WARN, "peer cannot keep up; resetting the link",
			    "{s:s}", "peer", p->id);
			transport_close(p->active);
		}
	} else if (p->state != LINK_UP && p->member == MEMBER_SUSPECT &&
	    clock_mono_ms() - p->down_since_ms >= (uint64_t)l->dead_ms) {
		p->member = MEMBER_DEAD;
		log_event(LOG_INFO, "peer dead", "{s:s, s:I}", "peer", p->id,
		    "unreachable_ms", (json_int_t)(clock_mono_ms() - p->down_since_ms));
	}
	return 0;
}

/* A stream whose peer holds a valid certificate but sends no Hello holds
 * a gRPC call and its buffers: it gets hello_ms. */
static void
hello_deadline(struct links *l)
{
	struct lstream *s;
	uint64_t now = clock_mono_ms();

	if (l->hello_ms <= 0)
		return;
	LIST_FOREACH(s, &l->streams, entry) {
		if (s->hello_in || s->refused || s->opened_ms == 0 ||
		    s->peer == NULL || now - s->opened_ms <= (uint64_t)l->hello_ms)
			continue;
		log_event(LOG_WARN, "link refused: no Hello in time", "{s:s, s:I}",
		    "peer", s->peer->id, "hello_ms", (json_int_t)l->hello_ms);
		snprintf(s->peer->last_error, sizeof(s->peer->last_error),
		    "refused: no Hello within %ld ms", l->hello_ms);
		s->refused = 1;
		/* Not a reason to forget the peer (links_expire_refused): a
		 * node slow at its start is one, and a peer the signals list
		 * comes back only with a new list. */
		transport_close(s->ts);
	}
}

static void
tick_cb(void *arg)
{
	struct links *l = arg;
	uint64_t now = clock_mono_ms();

	/* A tick LINKS_STALL_MS late: our loop stalled (an overloaded
	 * host, a long write) and heard nothing meanwhile, whatever the
	 * peers sent.  Closing their links for it made an overloaded mesh
	 * of 100 redial and replay all the more. */
	if (l->tick_mono_ms != 0 && now - l->tick_mono_ms > LINKS_STALL_MS) {
		log_event(LOG_INFO, "our loop stalled; links' silence counts from "
		    "now", "{s:I}", "stalled_ms", (json_int_t)(now -
		    l->tick_mono_ms));
		l->awake_mono_ms = now;
		l->stalls++;
	}
	l->tick_mono_ms = now;
	hmap_sweep(l->peers, tick_peer, l);
	hello_deadline(l);
	links_expire_refused(l);
}

struct links *
links_new(struct event_base *base, struct transport *transport, struct rng *rng,
    const struct links_config *cfg, const struct links_hooks *hooks)
{
	struct links *l = xcalloc(1, sizeof(*l));

	l->base = base;
	l->transport = transport;
	l->rng = rng;
	l->self_id = xstrdup(cfg->self_id);
	l->incarnation = cfg->incarnation;
	l->addresses = json_incref(cfg->addresses);
	l->labels = json_incref(cfg->labels);
	l->ping_ms = cfg->ping_ms;
	l->dead_ms = cfg->dead_ms;
	l->max_links = cfg->max_links;
	l->silence_ms = cfg->silence_ms;
	l->hello_ms = cfg->hello_ms;
	l->trust = cfg->trust;
	l->keys = cfg->keys;
	l->peers = hmap_new();
	LIST_INIT(&l->streams);
	if (hooks != NULL)
		l->hooks = *hooks;
	/* Member states and pruning move at this pace; pings at ping_ms. */
	l->tick = wall_timer_new(base, LINKS_TICK_MS, 0, tick_cb, l);
	return l;
}

static int
leave_peer(const char *id, void *value, void *arg)
{
	struct peer *p = value;
	const char *reason = arg;
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Leave lv = AGENTFLOW__MESH__V1__LEAVE__INIT;

	(void)id;
	if (p->state != LINK_UP)
		return 0;
	lv.node_id = p->l->self_id;
	lv.incarnation = p->l->incarnation;
	lv.reason = (char *)reason;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE;
	f.leave = &lv;
	send_frame(p->active, &f);
	return 0;
}

void
links_leave(struct links *l, const char *reason)
{
	l->closing = 1;
	hmap_sweep(l->peers, leave_peer, (void *)reason);
}

int
links_send_frame(struct links *l, const char *peer_id,
    const Agentflow__Mesh__V1__Frame *f)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (!links_peer_speaks(l, peer_id, mesh_features_of_body(f->body_case)))
		return -1;	/* a body it would not understand */
	if (encode(f, &buf, &len) != 0)
		return -1;
	rc = links_send_raw(l, peer_id, buf, len);
	free(buf);
	return rc;
}

void
links_set_freeze(struct links *l, const uint8_t *packed, size_t len)
{
	free(l->freeze);
	l->freeze = NULL;
	l->freeze_len = 0;
	if (packed == NULL || len == 0)
		return;
	l->freeze = xmalloc(len);
	memcpy(l->freeze, packed, len);
	l->freeze_len = len;
}

int
links_drop(struct links *l, const char *peer_id, const char *why)
{
	struct peer *p = hmap_get(l->peers, peer_id);

	if (p == NULL || p->state != LINK_UP)
		return -1;
	log_event(LOG_WARN, "closing the link", "{s:s, s:s}", "peer", p->id,
	    "why", why);
	transport_close(p->active);
	return 0;
}

static int
send_on(struct links *l, const char *peer_id, const uint8_t *buf, size_t len,
    int bulk)
{
	struct peer *p = hmap_get(l->peers, peer_id);

	if (p == NULL || p->state != LINK_UP)
		return -1;
	if ((bulk ? transport_send_bulk(p->active, buf, len) :
	    transport_send(p->active, buf, len)) != 0) {
		log_event(LOG_WARN, "peer cannot keep up; resetting the link",
		    "{s:s, s:I}", "peer", p->id, "queued",
		    (json_int_t)transport_queued(p->active));
		transport_close(p->active);
		return -1;
	}
	return 0;
}

int
links_send_raw(struct links *l, const char *peer_id, const uint8_t *buf,
    size_t len)
{
	return send_on(l, peer_id, buf, len, 0);
}

int
links_send_bulk(struct links *l, const char *peer_id, const uint8_t *buf,
    size_t len)
{
	return send_on(l, peer_id, buf, len, 1);
}

struct bcast {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 sent;
};

static int
broadcast_peer(const char *id, void *value, void *arg)
{
	struct peer *p = value;
	struct bcast *b = arg;

	if (p->state == LINK_UP &&
	    links_send_raw(p->l, id, b->buf, b->len) == 0)
		b->sent++;
	return 0;
}

size_t
links_broadcast_raw(struct links *l, const uint8_t *buf, size_t len)
{
	struct bcast b = { buf, len, 0 };

	hmap_sweep(l->peers, broadcast_peer, &b);
	return b.sent;
}

void
links_peer_free(struct peer *p)
{
	if (p->redial != NULL)
		event_free(p->redial);
	json_decref(p->addresses);
	free(p);
}

static int
free_peer(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	links_peer_free(value);
	return 1;
}

/* Streams still open belong to the transport, freed after this. */
void
links_free(struct links *l)
{
	struct lstream *s;

	if (l == NULL)
		return;
	while ((s = LIST_FIRST(&l->streams)) != NULL) {
		LIST_REMOVE(s, entry);
		transport_set_data(s->ts, NULL);
		free(s);
	}
	wall_timer_free(l->tick);
	links_unforget(l, NULL);
	hmap_sweep(l->peers, free_peer, NULL);
	hmap_free(l->peers);
	json_decref(l->addresses);
	json_decref(l->labels);
	free(l->self_id);
	free(l->freeze);
	free(l);
}
