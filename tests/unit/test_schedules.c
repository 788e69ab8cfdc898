/*
 * Unit tests of node/work/schedules.c on a real store in a private
 * directory: who made a schedule's definition is kept over a restart.
 * The store's row is the merged record as JSON; the node reads it back
 * at start, so a principal named before the restart (our own change, or
 * another node's word the hook stored) is named after it, and one a
 * version without principal_ms passed on stays unnamed, in the view and
 * in what the API shows.
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

#include "node.h"
#include "principal.h"
#include "schedules.h"
#include "sync_schedules.h"
#include "sync_fixture.h"

#define PB(name)	Agentflow__Mesh__V1__##name

/* The node's parts schedules.c uses: its loop, id, store and sync. */
static void
node_of(struct fixture *f, struct node *n)
{
	memset(n, 0, sizeof(*n));
	n->base = f->base;
	snprintf(n->id, sizeof(n->id), "self");
	n->store = f->st;
	n->sync = f->sync;
}

/* The node stopped and started again on the same data directory: a
 * fresh sync (an empty view) on the store reopened. */
static void
restart(struct fixture *f)
{
	struct sync_config c = { 0 };
	char err[256];

	sync_free(f->sync);
	store_close(f->st);
	assert_non_null(f->st = store_open(f->dir, err, sizeof(err)));
	c.self_id = "self";
	c.incarnation = 2;
	c.addresses = f->addresses;
	c.labels = f->labels;
	c.store = f->st;
	assert_non_null(f->sync = sync_new(f->base, &c));
}

/* What we hold of name: its principal_ms, and who is named. */
static uint64_t
held(struct fixture *f, const char *name, const char **by)
{
	const PB(ScheduleUpdate) *h = sync_schedules_get(f->sync, name);

	assert_non_null(h);
	*by = sync_schedules_principal(h);
	return h->principal_ms;
}

/* Who GET /api/schedules/NAME names ("" when nobody). */
static void
assert_shown(struct schedules *sc, const char *name, const char *want)
{
	json_t *v = schedules_get(sc, name);
	const char *by;

	assert_non_null(v);
	by = json_string_value(json_object_get(v, "principal"));
	assert_string_equal(by != NULL ? by : "", want);
	json_decref(v);
}

static void
test_principal_kept_over_a_restart(void **state)
{
	struct fixture *f = *state;
	PB(ScheduleUpdate) u = AGENTFLOW__MESH__V1__SCHEDULE_UPDATE__INIT;
	struct principal alice = { .name = "alice", .role = PRINCIPAL_WRITE };
	struct schedules *sc;
	struct node n;
	uint64_t paused_ms;
	const char *by;

	node_of(f, &n);
	sc = schedules_new(&n);
	/* alice pauses a schedule here: our change, stored as we emit it */
	u.name = "nightly";
	u.spec_json = "{\"name\":\"nightly\",\"cron\":\"0 2 * * *\"}";
	u.updated_ms = 100;
	u.author = "self";
	assert_int_equal(sync_emit_schedule(f->sync, &u), 1);
	assert_int_equal(schedules_pause(sc, "nightly", 1, &alice), 200);
	paused_ms = held(f, "nightly", &by);
	assert_true(paused_ms > 100);
	assert_string_equal(by, "alice");
	/* bob's definition made on n1: stored through the hook */
	u.name = "weekly";
	u.spec_json = "{\"name\":\"weekly\",\"cron\":\"@weekly\"}";
	u.updated_ms = 200;
	u.author = "n1";
	u.principal = "bob";
	u.principal_ms = 200;
	schedule_from(f, 1, &u);
	assert_int_equal(held(f, "weekly", &by), 200);
	assert_string_equal(by, "bob");
	/* a version without principal_ms changed carol's definition (of
	 * 250) and passed her name on: nobody is named */
	u.name = "daily";
	u.spec_json = "{\"name\":\"daily\",\"cron\":\"@daily\"}";
	u.updated_ms = 300;
	u.principal = "carol";
	u.principal_ms = 250;
	schedule_from(f, 2, &u);
	assert_int_equal(held(f, "daily", &by), 250);
	assert_string_equal(by, "");
	schedules_free(sc);

	restart(f);
	node_of(f, &n);
	assert_null(sync_schedules_get(f->sync, "nightly"));
	sc = schedules_new(&n);
	assert_int_equal(held(f, "nightly", &by), paused_ms);
	assert_string_equal(by, "alice");
	assert_int_equal(sync_schedules_get(f->sync, "nightly")->
	    principal_author, sync_schedules_author_digest("self"));
	assert_int_equal(held(f, "weekly", &by), 200);
	assert_string_equal(by, "bob");
	assert_int_equal(held(f, "daily", &by), 250);
	assert_string_equal(by, "");
	assert_string_equal(sync_schedules_get(f->sync, "daily")->principal,
	    "carol");
	/* and the API shows the same */
	assert_shown(sc, "nightly", "alice");
	assert_shown(sc, "weekly", "bob");
	assert_shown(sc, "daily", "");
	schedules_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_principal_kept_over_a_restart,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
