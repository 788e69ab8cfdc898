/*
 * Unit tests of node/mesh/routing.c on hand-made graphs: a fake table of
 * live links for our side, routing_set_links for what the others' statuses
 * say.  Lines, rings and stars; links only one end reports are never used;
 * unreachable and unknown nodes; ties broken by id order; the cache
 * following both statuses and live links (but not our own status); the
 * forwarding fan-out, also of an origin whose status is not known yet;
 * label selection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_live.h"
#include "routing.h"

#define LINKS(r, id, ...) do {						\
	const char *const peers_[] = { __VA_ARGS__ };			\
	routing_set_links(r, id, peers_, sizeof(peers_) / sizeof(peers_[0])); \
} while (0)

/* The next hop towards dest, or "" when there is no route. */
static const char *
hop_to(struct routing *r, const char *dest)
{
	static char hop[64];

	if (routing_next_hop(r, dest, hop, sizeof(hop)) != 0)
		return "";
	return hop;
}

/* a - b - c - d, we are a. */
static void
test_line(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);

	(void)state;
	LIVE(&l, "b");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "b", "d");
	LINKS(r, "d", "c");
	assert_string_equal(hop_to(r, "b"), "b");
	assert_string_equal(hop_to(r, "c"), "b");
	assert_string_equal(hop_to(r, "d"), "b");
	assert_string_equal(hop_to(r, "a"), "");	/* ourselves */
	routing_free(r);
}

/* A ring of five: each way round takes the shorter side. */
static void
test_ring(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);

	(void)state;
	LIVE(&l, "b", "e");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "b", "d");
	LINKS(r, "d", "c", "e");
	LINKS(r, "e", "d", "a");
	assert_string_equal(hop_to(r, "c"), "b");
	assert_string_equal(hop_to(r, "d"), "e");
	/* The link to b goes down: everything goes round the other way. */
	LIVE(&l, "e");
	LINKS(r, "b", "c");
	assert_string_equal(hop_to(r, "b"), "e");
	assert_string_equal(hop_to(r, "c"), "e");
	routing_free(r);
}

/* A ring of four: c is two hops either way; the lower id wins. */
static void
test_hop_choice(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);

	(void)state;
	LIVE(&l, "d", "b");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "d", "b");
	LINKS(r, "d", "c", "a");
	assert_string_equal(hop_to(r, "c"), "b");
	/* A direct link beats any path, even one the graph lacks. */
	LIVE(&l, "d", "b", "c");
	assert_string_equal(hop_to(r, "c"), "c");
	routing_free(r);
}

/* We are a leaf of a star around hub. */
static void
test_star(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("b", &l);

	(void)state;
	LIVE(&l, "hub");
	LINKS(r, "hub", "b", "c", "d");
	LINKS(r, "c", "hub");
	LINKS(r, "d", "hub");
	assert_string_equal(hop_to(r, "c"), "hub");
	assert_string_equal(hop_to(r, "d"), "hub");
	assert_string_equal(hop_to(r, "hub"), "hub");
	routing_free(r);
}

/* Links only one end reports carry nothing. */
static void
test_one_way(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);

	(void)state;
	LIVE(&l, "b");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "d");		/* c does not report b */
	LINKS(r, "d", "c");
	assert_string_equal(hop_to(r, "c"), "");
	assert_string_equal(hop_to(r, "d"), "");
	/* c's next status lists b: both ends now report it. */
	LINKS(r, "c", "b", "d");
	assert_string_equal(hop_to(r, "c"), "b");
	assert_string_equal(hop_to(r, "d"), "b");
	/* b stops reporting us: our live link alone is one end only. */
	LINKS(r, "b", "c");
	assert_string_equal(hop_to(r, "b"), "b");	/* still direct */
	assert_string_equal(hop_to(r, "c"), "");
	routing_free(r);
}

static void
test_unreachable(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_new("a");
	struct routing_live live = { fake_generation, fake_is_up,
	    fake_foreach_up, &l };

	(void)state;
	/* No live links at all: no route, not even to a linked peer. */
	LIVE(&l, "b");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "b");
	assert_string_equal(hop_to(r, "b"), "");
	routing_set_live(r, &live);
	assert_string_equal(hop_to(r, "c"), "b");
	LINKS(r, "island");		/* a vertex with no links */
	assert_string_equal(hop_to(r, "island"), "");
	assert_string_equal(hop_to(r, "nobody"), "");	/* unknown */
	routing_set_live(r, NULL);
	assert_string_equal(hop_to(r, "c"), "");
	routing_free(r);
}

/* Our own status never feeds the graph: our side is the live links. */
static void
test_own_status_ignored(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);

	(void)state;
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "b");
	LINKS(r, "a", "b");		/* our status says b is up... */
	assert_string_equal(hop_to(r, "c"), "");	/* ...the links do not */
	LIVE(&l, "b");
	assert_string_equal(hop_to(r, "c"), "b");
	LINKS(r, "a");			/* ...and it says b is down */
	assert_string_equal(hop_to(r, "c"), "b");
	routing_free(r);
}

struct fanout_log {
	char	 peers[8][16];
	size_t	 which[8][8];
	size_t	 nwhich[8];
	size_t	 n;
};

static void
log_fanout(const char *peer, const size_t *which, size_t n, void *arg)
{
	struct fanout_log *fl = arg;

	assert_true(fl->n < 8 && n <= 8);
	snprintf(fl->peers[fl->n], sizeof(fl->peers[0]), "%s", peer);
	memcpy(fl->which[fl->n], which, n * sizeof(*which));
	fl->nwhich[fl->n++] = n;
}

/* We are b in a - b - c and in a star's hub; no one in a full mesh. */
static void
test_fanout(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("b", &l);
	struct fanout_log fl;
	const char *roots[] = { "a", "c", "nobody", "b" };

	(void)state;
	LIVE(&l, "a", "c");
	LINKS(r, "a", "b");
	LINKS(r, "c", "b");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 4, log_fanout, &fl);
	/* a's events go on to c, c's to a, ours to both; an unknown
	 * origin's nowhere.  Neighbours come in id order. */
	assert_int_equal(fl.n, 2);
	assert_string_equal(fl.peers[0], "a");
	assert_int_equal(fl.nwhich[0], 2);
	assert_int_equal(fl.which[0][0], 1);
	assert_int_equal(fl.which[0][1], 3);
	assert_string_equal(fl.peers[1], "c");
	assert_int_equal(fl.nwhich[1], 2);
	assert_int_equal(fl.which[1][0], 0);
	assert_int_equal(fl.which[1][1], 3);

	/* Close the triangle: a and c hear each other directly. */
	LINKS(r, "a", "b", "c");
	LINKS(r, "c", "b", "a");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 3, log_fanout, &fl);
	assert_int_equal(fl.n, 0);

	/* A hub with three leaves hands a leaf's events to the other two. */
	routing_free(r);
	r = routing_with("hub", &l);
	LIVE(&l, "x", "y", "z");
	LINKS(r, "x", "hub");
	LINKS(r, "y", "hub");
	LINKS(r, "z", "hub");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, (const char *[]){ "y", "x" }, 2, log_fanout, &fl);
	assert_int_equal(fl.n, 3);
	assert_string_equal(fl.peers[0], "x");
	assert_int_equal(fl.nwhich[0], 1);
	assert_int_equal(fl.which[0][0], 0);	/* y's */
	assert_string_equal(fl.peers[1], "y");
	assert_int_equal(fl.which[1][0], 1);	/* x's */
	assert_string_equal(fl.peers[2], "z");
	assert_int_equal(fl.nwhich[2], 2);
	assert_int_equal(fl.which[2][0], 0);
	assert_int_equal(fl.which[2][1], 1);
	routing_free(r);
}

/*
 * An origin whose status we do not hold yet: its events are relayed from
 * the nodes that report a link to it, as if it hung from them.  We are b
 * in a - b - c; n is new.
 */
static void
test_fanout_before_status(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("b", &l);
	struct fanout_log fl;
	const char *roots[] = { "n", "nobody" };

	(void)state;
	LIVE(&l, "a", "c", "n");
	LINKS(r, "a", "b");
	LINKS(r, "c", "b");
	/* Only we report a link to n (our live one): we hand its events to
	 * a and c; nobody's go nowhere, as before. */
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 2, log_fanout, &fl);
	assert_int_equal(fl.n, 2);
	assert_string_equal(fl.peers[0], "a");
	assert_int_equal(fl.nwhich[0], 1);
	assert_int_equal(fl.which[0][0], 0);
	assert_string_equal(fl.peers[1], "c");
	assert_int_equal(fl.nwhich[1], 1);
	assert_int_equal(fl.which[1][0], 0);

	/* c reports a link to n too: c has them from n itself, a from us. */
	LINKS(r, "c", "b", "n");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 1, log_fanout, &fl);
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.peers[0], "a");

	/* Our link to n is down: its events come from c, and we hand them
	 * to a, the next one down the line. */
	LIVE(&l, "a", "c");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 1, log_fanout, &fl);
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.peers[0], "a");

	/* A status restored from the store, older than n's links, names
	 * none: the same as none at all. */
	LINKS(r, "n");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 1, log_fanout, &fl);
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.peers[0], "a");

	/* n's first status arrives (links to c only): the usual tree, the
	 * same answer. */
	LINKS(r, "n", "c");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 1, log_fanout, &fl);
	assert_int_equal(fl.n, 1);
	assert_string_equal(fl.peers[0], "a");

	/* A full mesh, n's status not here yet: everybody has its events
	 * from n, nothing is forwarded twice. */
	LIVE(&l, "a", "c", "n");
	LINKS(r, "a", "b", "c", "n");
	LINKS(r, "c", "b", "a", "n");
	LINKS(r, "n");
	memset(&fl, 0, sizeof(fl));
	routing_fanout(r, roots, 2, log_fanout, &fl);
	assert_int_equal(fl.n, 0);
	routing_free(r);
}

static void
set_labels(struct routing *r, const char *id, const char *role, const char *zone)
{
	struct routing_label labels[] = { { "role", role }, { "zone", zone } };

	routing_set_labels(r, id, labels, 2);
}

static void
assert_selected(struct routing *r, const char *match_text, const char *want)
{
	json_t *match = match_text ? json_loads(match_text, 0, NULL) : NULL;
	json_t *got = routing_select(r, match);
	char *text = json_dumps(got, JSON_COMPACT);

	assert_string_equal(text, want);
	free(text);
	json_decref(got);
	json_decref(match);
}

static void
assert_unlabelled(struct routing *r, const char *want)
{
	json_t *got = routing_unlabelled(r);
	char *text = json_dumps(got, JSON_COMPACT);

	assert_string_equal(text, want);
	free(text);
	json_decref(got);
}

static void
test_select(void **state)
{
	struct routing *r = routing_new("m");

	(void)state;
	assert_selected(r, NULL, "[]");		/* not even us until present */
	routing_set_present(r, "m", 1);
	set_labels(r, "m", "db", "eu");
	routing_set_present(r, "z", 1);
	set_labels(r, "z", "web", "eu");
	routing_set_present(r, "b", 1);
	set_labels(r, "b", "web", "us");
	routing_set_present(r, "q", 1);		/* labels not known yet */
	routing_set_present(r, "gone", 0);	/* left */
	set_labels(r, "gone", "web", "eu");
	/* Sorted by id, ourselves included. */
	assert_selected(r, NULL, "[\"b\",\"m\",\"q\",\"z\"]");
	assert_selected(r, "{\"role\":\"web\"}", "[\"b\",\"z\"]");
	assert_selected(r, "{\"zone\":\"eu\"}", "[\"m\",\"z\"]");
	assert_selected(r, "{\"role\":\"web\",\"zone\":\"eu\"}", "[\"z\"]");
	/* We are left out where our labels do not match. */
	assert_selected(r, "{\"role\":\"db\"}", "[\"m\"]");
	assert_selected(r, "{\"role\":\"cache\"}", "[]");
	assert_selected(r, "{\"role\":1}", "[]");	/* values are strings */
	assert_selected(r, "{}", "[\"b\",\"m\",\"z\"]");	/* q: unknown labels */
	/* ...which is what routing_unlabelled names: present, no labels. */
	assert_unlabelled(r, "[\"q\"]");
	/* Labels are replaced, not merged; a node that comes back counts. */
	set_labels(r, "z", "db", "us");
	routing_set_present(r, "gone", 1);
	assert_selected(r, "{\"role\":\"web\"}", "[\"b\",\"gone\"]");
	routing_set_present(r, "m", 0);
	assert_selected(r, "{\"role\":\"db\"}", "[\"z\"]");
	set_labels(r, "q", "web", "us");
	assert_unlabelled(r, "[]");
	routing_free(r);
}

/* A forgotten node is no vertex (no route through or to it) and selected
 * by nothing; set again, it is a member like any other.  Forgetting
 * ourselves or an unknown node changes nothing. */
static void
test_forget(void **state)
{
	struct fake_live l = { 0 };
	struct routing *r = routing_with("a", &l);
	json_t *sel;

	(void)state;
	LIVE(&l, "b");
	LINKS(r, "b", "a", "c");
	LINKS(r, "c", "b");
	routing_set_present(r, "b", 1);
	routing_set_present(r, "c", 1);
	assert_string_equal(hop_to(r, "c"), "b");	/* cached */
	routing_forget(r, "c");
	routing_forget(r, "x");
	routing_forget(r, "a");
	assert_string_equal(hop_to(r, "c"), "");
	assert_string_equal(hop_to(r, "b"), "b");
	sel = routing_select(r, NULL);
	assert_int_equal(json_array_size(sel), 1);
	assert_string_equal(json_string_value(json_array_get(sel, 0)), "b");
	json_decref(sel);
	LINKS(r, "c", "b");
	routing_set_present(r, "c", 1);
	assert_string_equal(hop_to(r, "c"), "b");
	routing_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_hop_choice),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_one_way),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_own_status_ignored),
		cmocka_unit_test(test_fanout),
		cmocka_unit_test(test_fanout_before_status),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
