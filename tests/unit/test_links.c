/*
 * Unit tests of node/mesh/links.c over the real transport (gRPC, mutual TLS on
 * loopback, one process, one loop), each side a mesh without state sync
 * built as the node builds its own (mesh.h): a link comes up between two honest
 * nodes; a node whose Hello names another id than its certificate is
 * refused; a revoked peer is refused, and a link open when its peer gets
 * revoked is closed by links_recheck; under --max-links a peer without a
 * limit keeps its link to a node that does not pick it, and a peer that
 * keeps closing a link gets redialled ever later; a forgotten peer's signal
 * entries are judged by the signal's clock; a link that comes back has
 * another generation; and a peer reached only over a route is alive and
 * not forgotten (with a store, so the mesh has its sync).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "forget.h"
#include "links.h"
#include "mesh.h"
#include "mesh_signed.h"
#include "origin_keys.h"
#include "pki.h"
#include "rng.h"
#include "store.h"
#include "sync.h"
#include "tmpdir.h"
#include "transport.h"
#include "trust.h"

struct side {
	const char		*id;		/* what its links claim to be */
	struct store		*store;		/* set before init: a mesh with sync */
	char			*cert, *key;
	struct mesh		*m;
	struct transport	*t;		/* the mesh's parts */
	struct links		*l;
	struct trust		*trust;
};

static struct event_base *base;
static struct pki_ca *ca;
static struct rng *rng;
static char dir[64], ca_path[128], crl_path[128];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A side linking to at most max_links ring neighbours (0: to all). */
static void
side_init_limited(struct side *s, const char *cert_id, const char *claimed_id,
    long max_links)
{
	struct pki_cert_params p = { 0 };
	char err[256];

	p.node_id = cert_id;
	p.days = 2;
	assert_int_equal(pki_ca_issue(ca, &p, &s->cert, &s->key, err, sizeof(err)), 0);
	s->id = claimed_id;
	s->trust = trust_new(ca_path, crl_path, err, sizeof(err));
	assert_non_null(s->trust);
	json_t *addrs = json_array(), *labels = json_object();
	struct mesh_config mc = { .self_id = claimed_id, .incarnation = 1,
	    .addresses = addrs, .labels = labels,
	    .transport = { .listen = "127.0.0.1:0", .ca_pem = pki_ca_cert_pem(ca),
	    .cert_pem = s->cert, .key_pem = s->key },
	    .rng = rng, .trust = s->trust, .ping_ms = 200, .dead_ms = 2000,
	    .max_links = max_links, .store = s->store };
	s->m = mesh_new(base, &mc, NULL, err, sizeof(err));
	assert_non_null(s->m);
	assert_true((mesh_sync(s->m) == NULL) == (s->store == NULL));
	s->t = mesh_transport(s->m);
	s->l = mesh_links(s->m);
	json_decref(addrs);
	json_decref(labels);
}

static void
side_init(struct side *s, const char *cert_id, const char *claimed_id)
{
	side_init_limited(s, cert_id, claimed_id, 0);
}

static void
side_clear(struct side *s)
{
	mesh_free(s->m);
	s->m = NULL;
	s->t = NULL;
	s->l = NULL;
	trust_free(s->trust);
	free(s->cert);
	pki_secret_free(s->key);
}

/* Tells a about b (as the signal would) so a dials it. */
static void
introduce(struct side *a, struct side *b, const char *b_id)
{
	char addr[64];
	json_t *peers;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", transport_port(b->t));
	peers = json_pack("[{s:s, s:[s]}]", "node_id", b_id, "addresses", addr);
	links_set_peers(a->l, peers);
	json_decref(peers);
}

/* The named peer's entry in l's status, or NULL (new reference). */
static json_t *
peer_status(struct links *l, const char *peer)
{
	json_t *all = links_status(l), *e, *found = NULL;
	size_t i;

	json_array_foreach(all, i, e)
		if (strcmp(json_string_value(json_object_get(e, "peer")), peer) == 0)
			found = json_incref(e);
	json_decref(all);
	return found;
}

/* Runs the loop until cond holds or ms pass; returns cond. */
static int
run_until(int (*cond)(void *), void *arg, unsigned ms)
{
	uint64_t deadline = clock_mono_ms() + ms;

	while (!cond(arg) && clock_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(2000);
	return cond(arg);
}

struct pair {
	struct side	*a, *b;
	const char	*a_id, *b_id;
};

static int
both_up(void *arg)
{
	struct pair *p = arg;

	return links_is_up(p->a->l, p->b_id) && links_is_up(p->b->l, p->a_id);
}

static int
b_refused(void *arg)
{
	struct pair *p = arg;
	json_t *st = peer_status(p->b->l, p->a_id);
	int refused = st != NULL && strstr(json_string_value(json_object_get(st,
	    "last_error")), "Hello") != NULL;

	json_decref(st);
	return refused;
}

static void
test_honest_link_comes_up(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };

	(void)state;
	side_init(&a, "alpha", "alpha");
	side_init(&b, "beta", "beta");
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 10000));
	side_clear(&a);
	side_clear(&b);
}

static int
a_lost_beta(void *arg)
{
	return !links_is_up(((struct pair *)arg)->a->l, "beta");
}

/* Each link up has its own generation (what a pending catch-up checks it
 * still goes to): none while down, another once the peer is back. */
static void
test_a_link_back_has_another_generation(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };
	uint64_t first;

	(void)state;
	side_init(&a, "alpha", "alpha");
	side_init(&b, "beta", "beta");
	assert_true(links_link_generation(a.l, "beta") == 0);
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 10000));
	first = links_link_generation(a.l, "beta");
	assert_true(first != 0);
	assert_true(links_link_generation(a.l, "gamma") == 0);
	side_clear(&b);			/* beta goes away */
	assert_true(run_until(a_lost_beta, &p, 10000));
	assert_true(links_link_generation(a.l, "beta") == 0);
	side_init(&b, "beta", "beta");	/* and comes back */
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 15000));
	assert_true(links_link_generation(a.l, "beta") != 0);
	assert_true(links_link_generation(a.l, "beta") != first);
	side_clear(&a);
	side_clear(&b);
}

/* Each side records the features the other's Hello listed. */
static void
test_peer_features_recorded(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };

	(void)state;
	side_init(&a, "alpha", "alpha");
	side_init(&b, "beta", "beta");
	assert_false(links_peer_speaks(a.l, "beta", "events"));
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 10000));
	assert_true(links_peer_speaks(a.l, "beta", "events"));
	assert_true(links_peer_speaks(a.l, "beta", "snapshots"));
	assert_true(links_peer_speaks(b.l, "alpha", "commands"));
	assert_true(links_peer_speaks(b.l, "alpha", NULL));
	assert_false(links_peer_speaks(b.l, "alpha", "from_the_future"));
	assert_false(links_peer_speaks(b.l, "gamma", NULL));
	side_clear(&a);
	side_clear(&b);
}

static void
test_hello_naming_another_id_is_refused(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };

	(void)state;
	/* a holds alpha's certificate but its Hello says "mallory". */
	side_init(&a, "alpha", "mallory");
	side_init(&b, "beta", "beta");
	introduce(&a, &b, "beta");
	assert_true(run_until(b_refused, &p, 10000));
	/* and it never came up, on either side */
	run_until(both_up, &p, 1000);
	assert_false(links_is_up(b.l, "alpha"));
	assert_false(links_is_up(b.l, "mallory"));
	side_clear(&a);
	side_clear(&b);
}

struct revoked {
	struct side	*b;
};

static int
b_has_revocation_error(void *arg)
{
	struct side *b = arg;
	json_t *st = peer_status(b->l, "alpha");
	int yes = st != NULL && strstr(json_string_value(json_object_get(st,
	    "last_error")), "revoked") != NULL;

	json_decref(st);
	return yes;
}

static int
b_link_down(void *arg)
{
	return !links_is_up(((struct side *)arg)->l, "alpha");
}

static void
test_revoked_peer_is_refused_and_cut_off(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };
	char err[256], *crl = NULL, *empty = NULL;
	struct timeval later[2];

	(void)state;
	side_init(&a, "alpha", "alpha");
	side_init(&b, "beta", "beta");
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 10000));

	/* alpha is revoked while linked: b closes the link on recheck */
	assert_int_equal(pki_ca_revoke(ca, NULL, a.cert, 0, &crl, NULL, err,
	    sizeof(err)), 0);
	write_file(crl_path, crl);
	gettimeofday(&later[0], NULL);
	later[0].tv_sec += 10;
	later[1] = later[0];
	utimes(crl_path, later);
	assert_int_equal(trust_reload_crl(b.trust, err, sizeof(err)), 1);
	links_recheck(b.l);
	assert_true(run_until(b_link_down, &b, 10000));
	/* and alpha cannot come back while revoked */
	assert_true(run_until(b_has_revocation_error, &b, 10000));
	run_until(both_up, &p, 1500);
	assert_false(links_is_up(b.l, "alpha"));

	side_clear(&a);
	side_clear(&b);
	assert_int_equal(pki_ca_revoke(ca, NULL, NULL, 0, &empty, NULL, err,
	    sizeof(err)), 0);
	write_file(crl_path, empty);
	free(crl);
	free(empty);
}

/* a's count of links to b lost, from its status. */
static int
reconnects(struct side *a, const char *b_id)
{
	json_t *st = peer_status(a->l, b_id);
	int n = st != NULL ? (int)json_integer_value(json_object_get(st,
	    "reconnects")) : -1;

	json_decref(st);
	return n;
}

static int
never(void *arg)
{
	(void)arg;
	return 0;
}

/*
 * delta links to 1 neighbour on the ring alpha, beta, delta, gamma: it
 * picks gamma and is picked by beta (both never reached here), not alpha.
 */
static void
delta_limited(struct side *d)
{
	json_t *peers = json_pack("[{s:s, s:[s]}, {s:s, s:[s]}]", "node_id",
	    "beta", "addresses", "127.0.0.1:1", "node_id", "gamma", "addresses",
	    "127.0.0.1:1");

	side_init_limited(d, "delta", "delta", 1);
	links_set_peers(d->l, peers);
	json_decref(peers);
}

static void
test_unlimited_peer_keeps_its_link_to_a_limited_node(void **state)
{
	struct side a = { 0 }, d = { 0 };
	struct pair p = { &a, &d, "alpha", "delta" };

	(void)state;
	side_init(&a, "alpha", "alpha");		/* links to everyone */
	delta_limited(&d);
	introduce(&a, &d, "delta");
	introduce(&d, &a, "alpha");
	assert_true(run_until(both_up, &p, 10000));
	/* alpha's Hello says it picks everyone: delta keeps the link */
	run_until(never, NULL, 2000);
	assert_true(both_up(&p));
	assert_int_equal(reconnects(&a, "delta"), 0);
	assert_int_equal(reconnects(&d, "alpha"), 0);
	side_clear(&a);
	side_clear(&d);
}

static void
test_a_link_closed_at_once_is_redialled_ever_later(void **state)
{
	struct side a = { 0 }, d = { 0 };
	struct pair p = { &a, &d, "alpha", "delta" };
	int n;

	(void)state;
	/* alpha (1 link, knowing only delta) picks delta; delta does not
	 * pick alpha and closes each link alpha dials. */
	side_init_limited(&a, "alpha", "alpha", 1);
	delta_limited(&d);
	introduce(&a, &d, "delta");
	assert_true(run_until(both_up, &p, 10000));
	/* Redials after 0.5, 1, 2, 4 s (+-25%): at most 4 more links in 6 s,
	 * where a backoff reset at every link up would make about 8. */
	run_until(never, NULL, 6000);
	n = reconnects(&a, "delta");
	assert_in_range(n, 1, 5);
	side_clear(&a);
	side_clear(&d);
}

static int
setup(void **state)
{
	char err[256], *crl = NULL;

	(void)state;
	evthread_use_pthreads();
	base = event_base_new();
	rng = rng_new("test-links");
	ca = pki_ca_new("links test CA", 0, 2, err, sizeof(err));
	assert_non_null(ca);
	snprintf(dir, sizeof(dir), "/tmp/af-test-links-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
	snprintf(crl_path, sizeof(crl_path), "%s/ca.crl", dir);
	write_file(ca_path, pki_ca_cert_pem(ca));
	assert_int_equal(pki_ca_revoke(ca, NULL, NULL, 0, &crl, NULL, err,
	    sizeof(err)), 0);
	write_file(crl_path, crl);
	free(crl);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(ca_path);
	unlink(crl_path);
	rmdir(dir);
	pki_ca_free(ca);
	rng_free(rng);
	event_base_free(base);
	return 0;
}

/* A signal peer entry for id, seen (last_seen) and registered at the
 * signal's clock (new reference). */
static json_t *
entry(const char *id, int64_t seen, int64_t registered)
{
	return json_pack("{s:s, s:[s], s:I, s:I}", "node_id", id, "addresses",
	    "127.0.0.1:1", "last_seen", (json_int_t)seen, "registered_at",
	    (json_int_t)registered);
}

static int
forgotten(struct links *l, const char *id, int64_t seen, int64_t registered)
{
	json_t *e = entry(id, seen, registered);
	int rc = links_forgotten(l, id, e);

	json_decref(e);
	return rc;
}

/*
 * A forgotten peer's signal entry is compared with the signal's clock, not
 * ours: with the signal a minute ahead, its stale entry (seen "later" than
 * our forget by our clock) stays forgotten; a heartbeat or a registration
 * after the forget by the signal's clock brings the node back.  A
 * tombstone restored after a restart holds the same way, and an entry of
 * our stored list (no times) never brings a node back.
 */
static void
test_forgotten_entries_use_the_signals_clock(void **state)
{
	struct side a = { 0 };
	const int64_t ahead = 60000;
	int64_t now, sig, seen;
	json_t *list;

	(void)state;
	side_init(&a, "alpha", "alpha");
	now = (int64_t)clock_wall_ms();
	seen = now + ahead - 3000;	/* its last heartbeat, 3 s ago */
	links_set_signal_offset(a.l, ahead);
	list = json_pack("[o]", entry("ghost", seen, seen - 5000));
	links_set_peers(a.l, list);
	json_decref(list);
	assert_int_equal(links_forget(a.l, "ghost", &sig), 1);
	assert_true(sig >= now + ahead);
	assert_true(forgotten(a.l, "ghost", seen, seen - 5000));
	assert_true(forgotten(a.l, "ghost", 0, 0));
	/* news by the signal's clock */
	assert_false(forgotten(a.l, "ghost", sig + 1, seen - 5000));
	assert_false(forgotten(a.l, "ghost", seen, sig + 1));
	/* the list skips the stale entry: ghost is not a peer again */
	list = json_pack("[o]", entry("ghost", seen, seen - 5000));
	links_set_peers(a.l, list);
	json_decref(list);
	assert_int_equal(links_forget(a.l, "ghost", &sig), 0);
	/* a restart: the tombstone comes back from the store */
	side_clear(&a);
	side_init(&a, "alpha", "alpha");
	assert_false(forgotten(a.l, "ghost", seen, seen - 5000));
	links_forgotten_restore(a.l, "ghost", (uint64_t)now, sig);
	links_forgotten_restore(a.l, "alpha", (uint64_t)now, sig);
	assert_true(forgotten(a.l, "ghost", seen, seen - 5000));
	assert_false(forgotten(a.l, "ghost", sig + 1000, 0));
	assert_false(forgotten(a.l, "alpha", seen, 0));
	side_clear(&a);
}

/* A status event of origin at seq (incarnation 1) reporting up links to
 * peers, delivered to s's sync as its peer "beta" would relay it. */
static void
relay_status(struct side *s, const char *origin, uint64_t seq,
    const char *const *peers, size_t n, struct origin_keys *keys)
{
	uint8_t sig[ORIGIN_KEYS_SIGNATURE], body[512], *msg;
	size_t blen, mlen;
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT, *ep = &e;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__LinkInfo li[4], *lp[4];

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		agentflow__mesh__v1__link_info__init(&li[i]);
		li[i].peer = (char *)peers[i];
		li[i].state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
		lp[i] = &li[i];
	}
	st.n_links = n;
	st.links = lp;
	e.origin = (char *)origin;
	e.incarnation = 1;
	e.seq = seq;
	e.time_ms = clock_wall_ms();
	e.hop_limit = 8;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &st;
	/* A node whose key alpha knows signs, as the node does (sync_vouch.c). */
	if (keys != NULL) {
		assert_true(agentflow__mesh__v1__node_status__get_packed_size(&st) <=
		    sizeof(body));
		blen = agentflow__mesh__v1__node_status__pack(&st, body);
		msg = mesh_signed_event(&e, (int)e.kind_case, body, blen, &mlen);
		origin_keys_sign(keys, msg, mlen, sig);
		free(msg);
		e.signature.data = sig;
		e.signature.len = sizeof(sig);
	}
	b.n_events = 1;
	b.events = &ep;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	fr.events = &b;
	/* Handed over as its origin's own: a relayed one would need the
	 * origin's signature (test_origin_keys, system test_trust). */
	sync_frame(origin, &fr, mesh_sync(s->m));
}

static const char *
member_of(struct side *s, const char *peer)
{
	const char *m = links_member(s->l, peer);

	return m != NULL ? m : "(unknown)";
}

/*
 * far, a peer alpha never reaches itself, is reported alive while a route
 * over beta leads to it (the links' reachable hook), and forget's rule
 * refuses to forget it then; once no route is left it is not alive any
 * more and may be forgotten.
 */
static void
test_a_relayed_peer_is_alive_and_not_forgotten(void **state)
{
	struct side a = { 0 }, b = { 0 };
	struct pair p = { &a, &b, "alpha", "beta" };
	const char *beta_links[] = { "alpha", "far" }, *far_links[] = { "beta" };
	char sdir[64], err[256];
	json_t *far;

	(void)state;
	assert_int_equal(tmpdir_make(sdir, sizeof(sdir), "test_links"), 0);
	assert_non_null(a.store = store_open(sdir, err, sizeof(err)));
	side_init(&a, "alpha", "alpha");
	side_init(&b, "beta", "beta");
	far = json_pack("[{s:s, s:[s]}]", "node_id", "far", "addresses",
	    "127.0.0.1:1");
	links_set_peers(a.l, far);	/* known, never reached */
	json_decref(far);
	introduce(&a, &b, "beta");
	assert_true(run_until(both_up, &p, 10000));
	assert_string_equal(member_of(&a, "far"), "suspect");
	assert_int_equal(forget_may(a.l, mesh_sync(a.m), "far", 0), 1);

	/* beta and far report their link: a route over beta */
	relay_status(&a, "beta", 1, beta_links, 2, mesh_origin_keys(b.m));
	relay_status(&a, "far", 1, far_links, 1, NULL);
	assert_string_equal(member_of(&a, "far"), "alive");
	assert_string_equal(member_of(&a, "beta"), "alive");
	assert_int_equal(forget_may(a.l, mesh_sync(a.m), "far", 0), 0);
	assert_int_equal(forget_may(a.l, mesh_sync(a.m), "beta", 0), 0);

	/* far loses its link: no route, not alive, may be forgotten */
	relay_status(&a, "far", 2, NULL, 0, NULL);
	assert_string_not_equal(member_of(&a, "far"), "alive");
	assert_int_equal(forget_may(a.l, mesh_sync(a.m), "far", 0), 1);
	assert_int_equal(forget_node(a.l, mesh_sync(a.m), "alpha", "far"),
	    FORGET_DONE);
	assert_null(links_member(a.l, "far"));
	side_clear(&a);
	side_clear(&b);
	store_close(a.store);
	assert_int_equal(tmpdir_remove(sdir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest_link_comes_up),
		cmocka_unit_test(test_a_link_back_has_another_generation),
		cmocka_unit_test(test_peer_features_recorded),
		cmocka_unit_test(test_hello_naming_another_id_is_refused),
		cmocka_unit_test(test_revoked_peer_is_refused_and_cut_off),
		cmocka_unit_test(test_unlimited_peer_keeps_its_link_to_a_limited_node),
		cmocka_unit_test(test_a_link_closed_at_once_is_redialled_ever_later),
		cmocka_unit_test(test_forgotten_entries_use_the_signals_clock),
		cmocka_unit_test(test_a_relayed_peer_is_alive_and_not_forgotten),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
