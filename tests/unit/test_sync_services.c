/*
 * Unit tests of the mesh's view of services (node/mesh/sync_services.c)
 * through sync.c, without links, on a real store in a private temporary
 * directory: a service is taken only from the origin that runs it (its
 * events and its own snapshots, never another member's word), the newest
 * updated_ms wins, a removal hides it for good against older words, ours
 * are listed beside the others', the list is sorted and filtered, each
 * origin holds at most SYNC_SERVICES_MAX (tombstones dropped first),
 * forgetting an origin forgets its services, and a relayed update counts
 * only with its node's valid signature.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_names.h"
#include "sync_services.h"

#include "sync_fixture.h"

typedef Agentflow__Mesh__V1__ServiceUpdate ServiceUpdate;

static void
svc_init(ServiceUpdate *u, const char *name, const char *state,
    uint64_t updated_ms)
{
	agentflow__mesh__v1__service_update__init(u);
	u->name = (char *)name;
	u->desired = "running";
	u->state = (char *)state;
	u->updated_ms = updated_ms;
}

/* u as origin's event (incarnation 1, seq), sent by peer. */
static void
send_service(struct fixture *f, const char *peer, const char *origin,
    uint64_t seq, ServiceUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE;
	e.service = u;
	e.origin = (char *)origin;
	e.incarnation = 1;
	e.seq = seq;
	e.time_ms = 1;
	e.hop_limit = 8;
	send_batch(f, peer, &e);
}

/* peer's snapshot of origin at (1, seq) with services v[0..n). */
static void
snapshot_services(struct fixture *f, const char *peer, const char *origin,
    uint64_t seq, ServiceUpdate **v, size_t n)
{
	Agentflow__Mesh__V1__OriginState st = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;

	st.n_services = n;
	st.services = v;
	send_snapshot_of(f, peer, origin, seq, &st);
}

/* The one row of service name on node, its field k as a string ("" when
 * none); hold keeps the row. */
static const char *
field(struct fixture *f, const char *name, const char *node, const char *k,
    json_t **hold)
{
	json_t *l = sync_services_list(f->sync, name, node);
	const char *v;

	json_decref(*hold);
	assert_true(json_array_size(l) <= 1);
	*hold = json_incref(json_array_get(l, 0));
	json_decref(l);
	v = json_string_value(json_object_get(*hold, k));
	return v != NULL ? v : "";
}

static void
test_services_from_their_node_only(void **state)
{
	struct fixture *f = *state;
	ServiceUpdate u, w, *snap[1] = { &w };
	json_t *hold = NULL;
	uint64_t inc;

	svc_init(&u, "web", "starting", 100);
	send_service(f, "n1", "n1", 1, &u);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "starting");
	assert_int_equal(sync_services_count(f->sync), 1);

	/* n2 cannot speak for n1: its event in n1's name is not taken ... */
	svc_init(&w, "forged", "healthy", 200);
	send_service(f, "n2", "n1", 2, &w);
	assert_string_equal(field(f, "forged", NULL, "name", &hold), "");
	/* ... nor a snapshot of n1's state that it hands over. */
	snapshot_services(f, "n2", "n1", 50, snap, 1);
	assert_string_equal(field(f, "forged", NULL, "name", &hold), "");
	assert_int_equal(number(sync_json_vouch(f->sync), "work_ignored"), 1);
	assert_int_equal(sync_services_count(f->sync), 1);

	/* n1's next word replaces its last; an older one does not. */
	u.state = "healthy";
	u.pid = 4242;
	u.updated_ms = 300;
	send_service(f, "n1", "n1", 2, &u);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "healthy");
	svc_init(&w, "web", "failed", 250);
	snapshot_services(f, "n1", "n1", 2, snap, 1);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "healthy");
	assert_int_equal(json_integer_value(json_object_get(hold, "pid")), 4242);

	/* n1's own snapshot is merged, news or not. */
	svc_init(&w, "db", "running", 400);
	snapshot_services(f, "n1", "n1", 0, snap, 1);
	assert_string_equal(field(f, "db", "n1", "node", &hold), "n1");
	assert_int_equal(sync_services_count(f->sync), 2);

	/* Forgetting the node forgets its services. */
	assert_int_equal(sync_forget(f->sync, "n1", &inc), 1);
	assert_int_equal(sync_services_count(f->sync), 0);
	assert_string_equal(field(f, "web", NULL, "name", &hold), "");
	json_decref(hold);
}

/* A removal hides the service; an older word arriving after it (a
 * snapshot overtaken by live events) does not bring it back, a newer
 * one (defined again) does. */
static void
test_removed_stays_removed(void **state)
{
	struct fixture *f = *state;
	ServiceUpdate u, old, *snap[1] = { &old };
	json_t *hold = NULL, *l;

	svc_init(&u, "web", "running", 100);
	send_service(f, "n1", "n1", 1, &u);
	svc_init(&u, "web", "", 200);
	u.desired = "";
	u.removed = 1;
	send_service(f, "n1", "n1", 2, &u);
	assert_int_equal(sync_services_count(f->sync), 0);
	l = sync_services_list(f->sync, NULL, NULL);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);

	svc_init(&old, "web", "running", 150);
	snapshot_services(f, "n1", "n1", 1, snap, 1);
	assert_int_equal(sync_services_count(f->sync), 0);

	svc_init(&u, "web", "starting", 300);
	send_service(f, "n1", "n1", 3, &u);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "starting");
	json_decref(hold);
}

/* Ours: listed beside the others', emitted as events, removed at once;
 * one outside the wire's bounds is neither. */
static void
test_ours(void **state)
{
	struct fixture *f = *state;
	ServiceUpdate u;
	json_t *hold = NULL;
	json_int_t out;

	svc_init(&u, "web", "running", 100);
	assert_int_not_equal(sync_emit_service(f->sync, &u), 0);
	assert_string_equal(field(f, "web", "self", "state", &hold), "running");

	u.state = "Not A State";
	u.updated_ms = 200;
	assert_int_equal(sync_emit_service(f->sync, &u), 0);
	assert_string_equal(field(f, "web", "self", "state", &hold), "running");

	/* Seeded from before this life: listed, not sent. */
	out = number(sync_json_counters(f->sync), "events_out") +
	    number(sync_json_counters(f->sync), "pending");
	svc_init(&u, "db", "stopped", 50);
	u.desired = "stopped";
	sync_services_seed(f->sync, &u);
	assert_string_equal(field(f, "db", "self", "desired", &hold),
	    "stopped");
	assert_int_equal(number(sync_json_counters(f->sync), "events_out") +
	    number(sync_json_counters(f->sync), "pending"), out);

	svc_init(&u, "web", "", 300);
	u.desired = "";
	u.removed = 1;
	assert_int_not_equal(sync_emit_service(f->sync, &u), 0);
	assert_string_equal(field(f, "web", NULL, "name", &hold), "");
	assert_int_equal(sync_services_count(f->sync), 1);
	json_decref(hold);
}

/* The rows as the API shows them: sorted by name then node, filtered. */
static void
test_list_sorted_filtered_shaped(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__ServiceEndpoint ep =
	    AGENTFLOW__MESH__V1__SERVICE_ENDPOINT__INIT, *eps[1] = { &ep };
	static char *tags[] = { "web", "public" };
	ServiceUpdate u;
	json_t *l, *row, *x;

	svc_init(&u, "web", "healthy", 100);
	send_service(f, "n2", "n2", 1, &u);
	svc_init(&u, "api", "backing-off", 100);
	u.exited = 1;
	u.last_exit_code = 3;
	u.restarts = 4;
	u.next_attempt_ms = 5000;
	u.reason = "exited 3";
	ep.name = "http";
	ep.protocol = "tcp";
	ep.port = 8080;
	ep.n_tags = 2;
	ep.tags = tags;
	u.n_endpoints = 1;
	u.endpoints = eps;
	u.version = "sha256:ab";
	send_service(f, "n1", "n1", 1, &u);
	svc_init(&u, "web", "running", 100);
	u.pid = 77;
	u.task_id = "t-9";
	send_service(f, "n1", "n1", 2, &u);

	l = sync_services_list(f->sync, NULL, NULL);
	assert_int_equal(json_array_size(l), 3);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(l, 0), "name")), "api");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(l, 1), "node")), "n1");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(l, 2), "node")), "n2");

	row = json_array_get(l, 0);
	x = json_object_get(row, "last_exit");
	assert_int_equal(json_integer_value(json_object_get(x, "code")), 3);
	assert_int_equal(json_integer_value(json_object_get(x, "signal")), 0);
	assert_true(json_is_null(json_object_get(row, "pid")));
	assert_true(json_is_null(json_object_get(row, "task_id")));
	assert_int_equal(json_integer_value(json_object_get(row, "restarts")),
	    4);
	assert_int_equal(json_integer_value(json_object_get(row,
	    "next_attempt_ms")), 5000);
	assert_string_equal(json_string_value(json_object_get(row, "reason")),
	    "exited 3");
	assert_string_equal(json_string_value(json_object_get(row, "version")),
	    "sha256:ab");
	x = json_array_get(json_object_get(row, "endpoints"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "protocol")),
	    "tcp");
	assert_int_equal(json_integer_value(json_object_get(x, "port")), 8080);
	assert_string_equal(json_string_value(json_array_get(json_object_get(x,
	    "tags"), 1)), "public");
	assert_null(json_object_get(row, "removed"));
	row = json_array_get(l, 1);
	assert_true(json_is_null(json_object_get(row, "last_exit")));
	assert_int_equal(json_integer_value(json_object_get(row, "pid")), 77);
	assert_string_equal(json_string_value(json_object_get(row, "task_id")),
	    "t-9");
	json_decref(l);

	l = sync_services_list(f->sync, "web", NULL);
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	l = sync_services_list(f->sync, NULL, "n2");
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = sync_services_list(f->sync, "api", "n2");
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

/* The event log shows a service event as the list shows a service. */
static void
test_event_body_json(void **state)
{
	ServiceUpdate u;
	uint8_t buf[256];
	size_t len;
	json_t *j;

	(void)state;
	svc_init(&u, "web", "", 9);
	u.desired = "";
	u.removed = 1;
	len = agentflow__mesh__v1__service_update__pack(&u, buf);
	j = sync_json_event_body("n1", AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE,
	    buf, len);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "n1");
	assert_true(json_is_true(json_object_get(j, "removed")));
	json_decref(j);
	assert_string_equal(mesh_names_event_kind(
	    AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE), "service");
}

/* A full node's list drops a tombstone first, else its oldest. */
static void
test_bounded_tombstones_first(void **state)
{
	struct fixture *f = *state;
	ServiceUpdate *u, **v, extra;
	char (*names)[16];
	json_t *hold = NULL;

	u = calloc(SYNC_SERVICES_MAX, sizeof(*u));
	v = calloc(SYNC_SERVICES_MAX, sizeof(*v));
	names = calloc(SYNC_SERVICES_MAX, sizeof(*names));
	assert_non_null(u);
	assert_non_null(v);
	assert_non_null(names);
	/* Full: service 0 the oldest, service 1 removed. */
	for (size_t i = 0; i < SYNC_SERVICES_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "s%zu", i);
		svc_init(&u[i], names[i], "running", 1000 + i);
		v[i] = &u[i];
	}
	u[1].removed = 1;
	snapshot_services(f, "n1", "n1", 1, v, SYNC_SERVICES_MAX);
	assert_int_equal(sync_services_count(f->sync), SYNC_SERVICES_MAX - 1);

	svc_init(&extra, "new", "starting", 5000);
	send_service(f, "n1", "n1", 2, &extra);
	assert_int_equal(sync_services_count(f->sync), SYNC_SERVICES_MAX);
	assert_string_equal(field(f, "s0", "n1", "name", &hold), "s0");
	/* None removed left: the oldest goes. */
	svc_init(&extra, "newer", "starting", 6000);
	send_service(f, "n1", "n1", 3, &extra);
	assert_int_equal(sync_services_count(f->sync), SYNC_SERVICES_MAX);
	assert_string_equal(field(f, "s0", "n1", "name", &hold), "");
	assert_string_equal(field(f, "newer", "n1", "name", &hold), "newer");
	json_decref(hold);
	free(names);
	free(v);
	free(u);
}

/* With keys: n1's signed service event relayed by p is n1's; one the
 * relay changed after n1 signed it is refused (forged) and shown nowhere. */
static void
test_relayed_services_need_the_nodes_signature(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	ServiceUpdate u;
	json_t *hold = NULL;

	n1_key_status(f);

	svc_init(&u, "web", "starting", 100);
	agentflow__mesh__v1__event__init(&e);
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE;
	e.service = &u;
	e.seq = 2;
	n1_sign(f, &e, &u.base);
	send_batch(f, "p", &e);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "starting");

	e.seq = 3;
	u.updated_ms = 200;
	n1_sign(f, &e, &u.base);
	u.state = "failed";
	send_batch(f, "p", &e);
	assert_string_equal(field(f, "web", "n1", "state", &hold), "starting");
	assert_int_equal(number(sync_json_vouch(f->sync), "forged"), 1);
	json_decref(hold);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_services_from_their_node_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_stays_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sorted_filtered_shaped,
		    setup, teardown),
		cmocka_unit_test(test_event_body_json),
		cmocka_unit_test_setup_teardown(test_bounded_tombstones_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_relayed_services_need_the_nodes_signature, setup_keyed,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
