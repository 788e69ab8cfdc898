/*
 * What sync's unit tests share (test_sync.c, test_sync_forward.c,
 * test_sync_services.c, test_schedules.c): our sync ("self", life 1) on
 * a fresh store in a private temporary directory, with origin keys on
 * in-memory certificates or none; frames handed to it as a peer would
 * send them; n1's signature on an event and its signed user events.
 * Include after cmocka.h.
 */
#ifndef AGENTFLOW_TEST_SYNC_FIXTURE_H
#define AGENTFLOW_TEST_SYNC_FIXTURE_H

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame_codec.h"
#include "mesh_signed.h"
#include "origin_keys.h"
#include "pki.h"
#include "rng.h"
#include "store.h"
#include "sync.h"
#include "sync_json.h"
#include "tmpdir.h"
#include "trust.h"

struct fixture {
	char			 dir[64];
	struct event_base	*base;
	struct store		*st;
	struct sync		*sync;
	json_t			*addresses, *labels;
	/* setup_keyed only: a mesh CA, our keys and origin n1's */
	char			 ca_path[128];
	struct rng		*rng;
	struct pki_ca		*ca;
	struct trust		*trust;
	char			*cert[2], *key[2];
	struct origin_keys	*self, *n1;
	uint8_t			 sig[8][ORIGIN_KEYS_SIGNATURE];
};

/* Our sync on a fresh store, checking signatures with keys (or none). */
static inline int
open_sync(struct fixture *f, struct origin_keys *keys)
{
	struct sync_config c = { 0 };
	char err[256];

	if (tmpdir_make(f->dir, sizeof(f->dir), "test_sync") != 0 ||
	    (f->st = store_open(f->dir, err, sizeof(err))) == NULL)
		return -1;
	f->base = event_base_new();
	f->addresses = json_array();
	f->labels = json_object();
	c.self_id = "self";
	c.incarnation = 1;
	c.addresses = f->addresses;
	c.labels = f->labels;
	c.store = f->st;
	c.keys = keys;
	f->sync = sync_new(f->base, &c);
	return 0;
}

static inline int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || open_sync(f, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static inline struct origin_keys *
keys_of(struct fixture *f, int i, const char *id)
{
	struct pki_cert_params p = { 0 };
	struct origin_keys_config c;
	char err[256];
	struct origin_keys *k;

	p.node_id = id;
	p.days = 1;
	assert_int_equal(pki_ca_issue(f->ca, &p, &f->cert[i], &f->key[i], err,
	    sizeof(err)), 0);
	c = (struct origin_keys_config){ id, f->cert[i], f->key[i], f->rng,
	    f->trust };
	assert_non_null(k = origin_keys_new(&c, err, sizeof(err)));
	return k;
}

static inline int
setup_keyed(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256], dir[] = "/tmp/test_sync_ca.XXXXXX";
	FILE *fp;

	assert_non_null(f);
	assert_non_null(f->rng = rng_new("test_sync"));
	assert_non_null(f->ca = pki_ca_new("test CA", 0, 2, err, sizeof(err)));
	assert_non_null(mkdtemp(dir));
	snprintf(f->ca_path, sizeof(f->ca_path), "%s/ca.crt", dir);
	assert_non_null(fp = fopen(f->ca_path, "w"));
	fputs(pki_ca_cert_pem(f->ca), fp);
	fclose(fp);
	assert_non_null(f->trust = trust_new(f->ca_path, NULL, err, sizeof(err)));
	unlink(f->ca_path);
	rmdir(dir);
	f->self = keys_of(f, 0, "self");
	f->n1 = keys_of(f, 1, "n1");
	if (open_sync(f, f->self) != 0)
		return -1;
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	sync_free(f->sync);
	store_close(f->st);
	event_base_free(f->base);
	json_decref(f->addresses);
	json_decref(f->labels);
	rc = tmpdir_remove(f->dir);
	origin_keys_free(f->self);
	origin_keys_free(f->n1);
	trust_free(f->trust);
	for (int i = 0; i < 2; i++) {
		free(f->cert[i]);
		pki_secret_free(f->key[i]);
	}
	pki_ca_free(f->ca);
	rng_free(f->rng);
	free(f);
	return rc;
}

/* e, one batch, from peer. */
static inline void
send_batch(struct fixture *f, const char *peer, Agentflow__Mesh__V1__Event *e)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;

	b.n_events = 1;
	b.events = &e;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	fr.events = &b;
	sync_frame(peer, &fr, f->sync);
}

/* Event e of origin (incarnation 1, seq), its kind set by the caller, as
 * the origin itself sends it over its link (a relayed event needs the
 * origin's signature: test_a_relayed_snapshot_keeps_the_events_it_skips). */
static inline void
deliver_event(struct fixture *f, Agentflow__Mesh__V1__Event *e,
    const char *origin, uint64_t seq)
{
	e->origin = (char *)origin;
	e->incarnation = 1;
	e->seq = seq;
	e->time_ms = 1;
	e->hop_limit = 8;
	send_batch(f, origin, e);
}

/* Schedule word u as n1 sends it in its event seq. */
static inline void
schedule_from(struct fixture *f, uint64_t seq,
    Agentflow__Mesh__V1__ScheduleUpdate *u)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE;
	e.schedule = u;
	deliver_event(f, &e, "n1", seq);
}

/* A number of counters (a new reference, dropped here). */
static inline json_int_t
number(json_t *counters, const char *name)
{
	json_int_t v = json_integer_value(json_object_get(counters, name));

	json_decref(counters);
	return v;
}

/* Signs e (its kind's message body) as n1 (sig slot e->seq % 8). */
static inline void
n1_sign(struct fixture *f, Agentflow__Mesh__V1__Event *e,
    const ProtobufCMessage *body)
{
	uint8_t buf[2048], *msg;
	size_t blen, mlen;

	e->origin = "n1";
	e->incarnation = 1;
	e->time_ms = 1000 + e->seq;
	e->hop_limit = 8;
	assert_true(protobuf_c_message_get_packed_size(body) <= sizeof(buf));
	blen = protobuf_c_message_pack(body, buf);
	msg = mesh_signed_event(e, (int)e->kind_case, buf, blen, &mlen);
	origin_keys_sign(f->n1, msg, mlen, f->sig[e->seq % 8]);
	free(msg);
	e->signature.data = f->sig[e->seq % 8];
	e->signature.len = ORIGIN_KEYS_SIGNATURE;
}

/* n1's user event seq (life 1) in e, signed. */
static inline void
n1_event(struct fixture *f, Agentflow__Mesh__V1__Event *e,
    Agentflow__Mesh__V1__UserEvent *u, uint64_t seq)
{
	agentflow__mesh__v1__event__init(e);
	agentflow__mesh__v1__user_event__init(u);
	u->name = "ev";
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	e->user = u;
	e->seq = seq;
	n1_sign(f, e, &u->base);
}

/* store_events_after's callback: flags[seq] (seq < 8) is the row's
 * unchecked mark (0 checked, 1 not yet, STORE_EVENT_FORGED). */
static inline int
unchecked_row(void *arg, const struct store_event *row)
{
	int *flags = arg;

	if (row->seq < 8)
		flags[row->seq] = row->unchecked;
	return 0;
}

/* n1's first status (seq 1, from n1 itself), carrying its key: n1's
 * signed events are taken from any relay after it. */
static inline void
n1_key_status(struct fixture *f)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__NodeStatus ns = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__NodeInfo in = AGENTFLOW__MESH__V1__NODE_INFO__INIT;

	in.node_id = "n1";
	in.incarnation = 1;
	in.key = (Agentflow__Mesh__V1__OriginKey *)origin_keys_own(f->n1, 1);
	ns.info = &in;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &ns;
	e.seq = 1;
	n1_sign(f, &e, &ns.base);
	send_batch(f, "n1", &e);
}

/* peer's snapshot of st's origin at (1, seq): st has its work set, the
 * cursor is set here. */
static inline void
send_snapshot_of(struct fixture *f, const char *peer, const char *origin,
    uint64_t seq, Agentflow__Mesh__V1__OriginState *st)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__Snapshot snap = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	Agentflow__Mesh__V1__Cursor c = AGENTFLOW__MESH__V1__CURSOR__INIT;

	c.origin = (char *)origin;
	c.incarnation = 1;
	c.seq = seq;
	st->cursor = &c;
	snap.n_origins = 1;
	snap.origins = &st;
	snap.last = 1;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	fr.snapshot = &snap;
	assert_int_equal(frame_codec_check(&fr, NULL), FRAME_CODEC_OK);
	sync_frame(peer, &fr, f->sync);
	st->cursor = NULL;
}

#endif
