/*
 * Forwarding (node/mesh/sync_forward.c) as a relay does it: our sync
 * ("self") with links up to n1, p2 and p3, the links module replaced by
 * the linker (--wrap, tests/node.cmake) with a fake whose sends are
 * decoded and recorded, and the real routing deciding who gets what from
 * the statuses the peers send.  What the mesh relies on: an applied event
 * goes to the neighbours routing makes us the parent of, never back to
 * whoever handed it to us nor to its origin; an event taken unchecked
 * from its origin reaches nobody unless its signature holds (checked
 * once, the log's row marked), nor while its origin's key is unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync_fixture.h"

struct links;

/* Up links of the fake, and what went out over them. */
static const char *const up[] = { "n1", "p2", "p3" };

struct sent {
	char		 peer[16];
	char		 origin[16];
	uint64_t	 seq;
	uint32_t	 hops;
};
static struct sent sent[64];
static size_t nsent;

/* The fake links object: sync only passes it back to the wraps below. */
static char fake_links;
#define FAKE_LINKS	((struct links *)(void *)&fake_links)

int __wrap_links_send_raw(struct links *, const char *, const uint8_t *,
    size_t);
int __wrap_links_send_bulk(struct links *, const char *, const uint8_t *,
    size_t);
size_t __wrap_links_broadcast_raw(struct links *, const uint8_t *, size_t);
uint64_t __wrap_links_up_generation(const struct links *);
uint64_t __wrap_links_link_generation(const struct links *, const char *);
int __wrap_links_is_up(const struct links *, const char *);
void __wrap_links_foreach_up(const struct links *,
    void (*)(const char *, void *), void *);
int __wrap_links_peer_speaks(const struct links *, const char *,
    const char *);
size_t __wrap_links_queued(const struct links *, const char *);
int __wrap_links_drop(struct links *, const char *, const char *);

static int
is_up(const char *peer)
{
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		if (strcmp(up[i], peer) == 0)
			return 1;
	return 0;
}

/* Each event of an EventBatch frame to peer, recorded; other frames
 * (asks for keys, snapshots) are not forwarding and pass unrecorded. */
int
__wrap_links_send_raw(struct links *l, const char *peer, const uint8_t *buf,
    size_t len)
{
	Agentflow__Mesh__V1__Frame *fr;

	assert_ptr_equal(l, FAKE_LINKS);
	assert_int_equal(frame_codec_decode(buf, len, &fr, NULL),
	    FRAME_CODEC_OK);
	if (fr->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS)
		for (size_t i = 0; i < fr->events->n_events; i++) {
			const Agentflow__Mesh__V1__Event *e =
			    fr->events->events[i];
			struct sent *s = &sent[nsent++];

			assert_true(nsent <= sizeof(sent) / sizeof(sent[0]));
			snprintf(s->peer, sizeof(s->peer), "%s", peer);
			snprintf(s->origin, sizeof(s->origin), "%s", e->origin);
			s->seq = e->seq;
			s->hops = e->hops;
		}
	frame_codec_free(fr);
	return is_up(peer) ? 0 : -1;
}

int
__wrap_links_send_bulk(struct links *l, const char *peer, const uint8_t *buf,
    size_t len)
{
	return __wrap_links_send_raw(l, peer, buf, len);
}

size_t
__wrap_links_broadcast_raw(struct links *l, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		(void)__wrap_links_send_raw(l, up[i], buf, len);
	return sizeof(up) / sizeof(up[0]);
}

uint64_t
__wrap_links_up_generation(const struct links *l)
{
	(void)l;
	return 1;	/* the up links never change here */
}

uint64_t
__wrap_links_link_generation(const struct links *l, const char *peer)
{
	(void)l;
	return is_up(peer) ? 1 : 0;
}

int
__wrap_links_is_up(const struct links *l, const char *peer)
{
	(void)l;
	return is_up(peer);
}

void
__wrap_links_foreach_up(const struct links *l, void (*fn)(const char *, void *),
    void *arg)
{
	(void)l;
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		fn(up[i], arg);
}

int
__wrap_links_peer_speaks(const struct links *l, const char *peer,
    const char *feature)
{
	(void)l;
	(void)peer;
	(void)feature;
	return 0;
}

size_t
__wrap_links_queued(const struct links *l, const char *peer)
{
	(void)l;
	(void)peer;
	return 0;
}

int
__wrap_links_drop(struct links *l, const char *peer, const char *why)
{
	(void)l;
	(void)peer;
	(void)why;
	return 0;
}

/* How often origin's event seq went to peer (its hops in *hops). */
static int
sent_to(const char *peer, const char *origin, uint64_t seq, uint32_t *hops)
{
	int n = 0;

	for (size_t i = 0; i < nsent; i++)
		if (strcmp(sent[i].peer, peer) == 0 &&
		    strcmp(sent[i].origin, origin) == 0 && sent[i].seq == seq) {
			n++;
			if (hops != NULL)
				*hops = sent[i].hops;
		}
	return n;
}

/* How many of p2 and p3 got n1's event seq. */
static int
n1_handed_on(uint64_t seq)
{
	return sent_to("p2", "n1", seq, NULL) + sent_to("p3", "n1", seq, NULL);
}

/* id's status seq, from id itself, naming its up links nbrs[0..n):
 * signed when n1's (its key is known by then), else unsigned (a node
 * whose key we lack is taken from its own link). */
static void
status_from(struct fixture *f, const char *id, uint64_t seq,
    const char *const *nbrs, size_t n)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__NodeStatus ns = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__LinkInfo li[4], *lp[4];

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		agentflow__mesh__v1__link_info__init(&li[i]);
		li[i].peer = (char *)nbrs[i];
		li[i].state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
		lp[i] = &li[i];
	}
	ns.n_links = n;
	ns.links = lp;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &ns;
	if (strcmp(id, "n1") != 0) {
		deliver_event(f, &e, id, seq);
		return;
	}
	e.seq = seq;
	n1_sign(f, &e, &ns.base);
	send_batch(f, id, &e);
}

/* The relay's view: p2 and p3 each report their link to us; then our
 * links come up (the fake's), and nothing has been sent yet. */
static void
relay(struct fixture *f)
{
	static const char *const self[] = { "self" };

	status_from(f, "p2", 1, self, 1);
	status_from(f, "p3", 1, self, 1);
	sync_set_links(f->sync, FAKE_LINKS);
	nsent = 0;
}

static json_int_t
vouch_count(struct fixture *f, const char *name)
{
	return number(sync_json_vouch(f->sync), name);
}

/* n1's log rows' unchecked marks, seq < 8 (-1: no row). */
static void
n1_rows(struct fixture *f, int *flags)
{
	for (int i = 0; i < 8; i++)
		flags[i] = -1;
	assert_int_equal(store_events_after(f->st, "n1", 1, 0, 0, unchecked_row,
	    flags), 0);
}

/*
 * An event n1 hands us (its first status, no links named yet: rooted at
 * us) goes to p2 and p3, one hop further, and not back to n1; n1's event
 * p2 hands us goes to p3 only, and one with its last hop spent to
 * nobody.  Once n1 and p3 report a link of their own, n1's tree reaches
 * p3 straight from n1: we hand n1's events to p2 alone.
 */
static void
test_an_event_goes_where_routing_says_not_back(void **state)
{
	struct fixture *f = *state;
	static const char *const n1_p3[] = { "self", "p3" };
	static const char *const p3_n1[] = { "self", "n1" };
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;
	uint32_t hops = 0;

	relay(f);
	n1_key_status(f);
	assert_int_equal(sent_to("p2", "n1", 1, &hops), 1);
	assert_int_equal(hops, 1);
	assert_int_equal(sent_to("p3", "n1", 1, NULL), 1);
	assert_int_equal(sent_to("n1", "n1", 1, NULL), 0);

	n1_event(f, &e, &u, 2);
	send_batch(f, "p2", &e);
	assert_int_equal(sent_to("p3", "n1", 2, NULL), 1);
	assert_int_equal(sent_to("p2", "n1", 2, NULL), 0);
	assert_int_equal(sent_to("n1", "n1", 2, NULL), 0);

	/* Its last hop spent: taken, handed to nobody. */
	n1_event(f, &e, &u, 3);
	e.hops = 7;
	send_batch(f, "n1", &e);
	assert_int_equal(n1_handed_on(3), 0);

	status_from(f, "p3", 2, p3_n1, 2);
	status_from(f, "n1", 4, n1_p3, 2);
	nsent = 0;
	n1_event(f, &e, &u, 5);
	send_batch(f, "n1", &e);
	assert_int_equal(sent_to("p2", "n1", 5, NULL), 1);
	assert_int_equal(sent_to("p3", "n1", 5, NULL), 0);
	assert_int_equal(nsent, 1);
}

/*
 * n1's events straight from n1, whose key we hold, are taken unchecked.
 * A good one is checked once as it is handed on, to both p2 and p3, and
 * its row marked checked; a bad one goes to nobody, is counted forged
 * and its row marked so.
 */
static void
test_an_unchecked_event_is_handed_on_only_if_its_signature_holds(
    void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;
	int flags[8];

	relay(f);
	n1_key_status(f);
	assert_int_equal(sent_to("p2", "n1", 1, NULL), 1);

	n1_event(f, &e, &u, 2);
	send_batch(f, "n1", &e);
	assert_int_equal(vouch_count(f, "unchecked"), 1);
	assert_int_equal(vouch_count(f, "rechecked"), 1);
	assert_int_equal(n1_handed_on(2), 2);
	n1_rows(f, flags);
	assert_int_equal(flags[2], 0);

	n1_event(f, &e, &u, 3);
	u.name = "changed after signing";
	send_batch(f, "n1", &e);
	assert_int_equal(vouch_count(f, "unchecked"), 2);
	assert_int_equal(vouch_count(f, "forged"), 1);
	assert_int_equal(vouch_count(f, "rechecked"), 2);
	assert_int_equal(n1_handed_on(3), 0);
	n1_rows(f, flags);
	assert_int_equal(flags[3], STORE_EVENT_FORGED);
}

/*
 * n1's signed event straight from n1 before we know its key: taken on
 * its link's word, but handed to nobody; the row stays unchecked.
 */
static void
test_an_event_whose_key_is_unknown_is_not_handed_on(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e;
	Agentflow__Mesh__V1__UserEvent u;
	int flags[8];

	relay(f);
	n1_event(f, &e, &u, 1);
	send_batch(f, "n1", &e);
	n1_rows(f, flags);
	assert_int_equal(flags[1], 1);
	assert_int_equal(n1_handed_on(1), 0);
	assert_int_equal(vouch_count(f, "rechecked"), 0);
	assert_int_equal(vouch_count(f, "forged"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_an_event_goes_where_routing_says_not_back,
		    setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_unchecked_event_is_handed_on_only_if_its_signature_holds,
		    setup_keyed, teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_event_whose_key_is_unknown_is_not_handed_on,
		    setup_keyed, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
