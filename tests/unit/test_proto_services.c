/*
 * The frame codec on ServiceUpdate (proto/mesh.proto): an event of kind
 * service and OriginState.services round-trip, and every bound mesh.proto
 * gives them (name syntax, state and protocol words, ports, counts of
 * endpoints and tags, text lengths, the encoded size, the count per
 * snapshot) is refused by the check, the encoder and the decoder alike:
 * a hostile peer's packing never reaches the mesh's view of services.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_codec.h"
#include "proto_check.h"

#define EV	"events.events[0].service"

struct fx {
	struct proto_frames	 f;
	PB(ServiceUpdate)	 u, **svcs;
	PB(ServiceEndpoint)	 eps[FRAME_CODEC_MAX_ENDPOINTS + 1];
	PB(ServiceEndpoint)	*eptrs[FRAME_CODEC_MAX_ENDPOINTS + 1];
	char			*tags[FRAME_CODEC_MAX_ENDPOINT_TAGS + 1];
	char			 long_tag[64];
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	static char *web[] = { "web", "public" };

	assert_non_null(x);
	agentflow__mesh__v1__service_update__init(&x->u);
	x->u.name = "api-gateway";
	x->u.desired = "running";
	x->u.state = "healthy";
	x->u.pid = 4242;
	x->u.started_ms = 1700000000000ull;
	x->u.restarts = 2;
	x->u.exited = 1;
	x->u.last_exit_code = -1;
	x->u.last_signal = 9;
	x->u.updated_ms = 1700000001000ull;
	x->u.reason = "check web passed";
	x->u.task_id = "svc-api-gateway-3";
	x->u.version = "sha256:0123abcd";
	for (size_t i = 0; i <= FRAME_CODEC_MAX_ENDPOINTS; i++) {
		PB(ServiceEndpoint) *p = &x->eps[i];
		agentflow__mesh__v1__service_endpoint__init(p);
		p->name = "http";
		p->protocol = "http";
		p->port = 8080;
		p->n_tags = 2;
		p->tags = web;
		x->eptrs[i] = p;
	}
	x->u.n_endpoints = 1;
	x->u.endpoints = x->eptrs;
	memset(x->long_tag, 't', sizeof(x->long_tag) - 1);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_ENDPOINT_TAGS; i++)
		x->tags[i] = "web";

	proto_frames_init(&x->f);
	x->f.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE;
	x->f.ev.service = &x->u;
	x->svcs = calloc(FRAME_CODEC_MAX_SERVICES + 1, sizeof(*x->svcs));
	assert_non_null(x->svcs);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_SERVICES; i++)
		x->svcs[i] = &x->u;
	x->f.st.n_services = 1;
	x->f.st.services = x->svcs;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	free(x->svcs);
	free(x);
	return 0;
}

static void
test_service_event_roundtrip(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->f.ev_frame);
	const PB(ServiceUpdate) *u;

	assert_int_equal(out->events->events[0]->kind_case,
	    AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE);
	u = out->events->events[0]->service;
	assert_string_equal(u->name, "api-gateway");
	assert_string_equal(u->state, "healthy");
	assert_int_equal(u->pid, 4242);
	assert_int_equal(u->last_exit_code, -1);
	assert_int_equal(u->n_endpoints, 1);
	assert_int_equal(u->endpoints[0]->port, 8080);
	assert_int_equal(u->endpoints[0]->n_tags, 2);
	assert_string_equal(u->endpoints[0]->tags[1], "public");
	assert_string_equal(u->version, "sha256:0123abcd");
	frame_codec_free(out);
}

static void
test_snapshot_services_counted(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->f.snap_frame);

	assert_int_equal(out->snapshot->origins[0]->n_services, 1);
	frame_codec_free(out);
	x->f.st.n_services = FRAME_CODEC_MAX_SERVICES;
	assert_int_equal(frame_codec_check(&x->f.snap_frame, NULL),
	    FRAME_CODEC_OK);
	x->f.st.n_services = FRAME_CODEC_MAX_SERVICES + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].services: 129 entries, limit 128");
	x->f.st.n_services = 1;
	x->u.name = "a.b";
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_BAD_STRING,
	    "snapshot.origins[0].services[0].name");
}

static void
test_service_fields_bounded(void **state)
{
	struct fx *x = *state;
	char long_text[FRAME_CODEC_MAX_TEXT + 2], long_version[82];

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memset(long_version, 'v', sizeof(long_version) - 1);
	long_version[sizeof(long_version) - 1] = '\0';

	x->u.name = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING, EV ".name");
	x->u.name = "web.1";	/* no dot: name syntax */
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING, EV ".name");
	x->u.name = x->long_tag;	/* 63: the longest */
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	x->u.name = "web";

	x->u.desired = "paused";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".desired");
	x->u.desired = "stopped";
	x->u.state = "Running";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE, EV ".state");
	x->u.state = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE, EV ".state");
	/* A state this version does not name passes: shown as it is. */
	x->u.state = "draining-soon";
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	x->u.state = "backing-off";

	x->u.last_signal = 129;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".last_signal: 129 outside 0..128");
	x->u.last_signal = 0;
	x->u.reason = long_text;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    EV ".reason: 1025 bytes, limit 1024");
	x->u.reason = "";
	x->u.task_id = "../t";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID, EV ".task_id");
	x->u.task_id = "";
	x->u.version = "v1\nv2";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    EV ".version");
	x->u.version = long_version;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    EV ".version: 81 bytes, limit 80");
	long_version[80] = '\0';
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	x->u.version = "";

	/* A removal needs only its name. */
	x->u.removed = 1;
	x->u.desired = "";
	x->u.state = "";
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	x->u.state = "Gone";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE, EV ".state");
}

static void
test_endpoints_bounded(void **state)
{
	struct fx *x = *state;
	PB(ServiceEndpoint) *p = &x->eps[0];

	p->port = 0;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".endpoints[0].port: 0 outside 1..65535");
	p->port = 65536;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".endpoints[0].port: 65536 outside 1..65535");
	p->port = 65535;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);

	p->protocol = "TCP";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".endpoints[0].protocol");
	p->protocol = "ninechars";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".endpoints[0].protocol");
	p->protocol = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    EV ".endpoints[0].protocol");
	p->protocol = "quic";	/* a newer one: shown as it is */
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);

	p->name = "http port";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    EV ".endpoints[0].name");
	p->name = "http";

	p->tags = x->tags;
	p->n_tags = FRAME_CODEC_MAX_ENDPOINT_TAGS;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	p->n_tags = FRAME_CODEC_MAX_ENDPOINT_TAGS + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_MANY,
	    EV ".endpoints[0].tags: 17 entries, limit 16");
	p->n_tags = 3;
	x->tags[2] = "no/slash";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    EV ".endpoints[0].tags[2]");
	x->tags[2] = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    EV ".endpoints[0].tags[2]");
	x->tags[2] = "web";

	x->u.n_endpoints = FRAME_CODEC_MAX_ENDPOINTS;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
	x->u.n_endpoints = FRAME_CODEC_MAX_ENDPOINTS + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_MANY,
	    EV ".endpoints: 17 entries, limit 16");
}

/* 16 endpoints of 16 tags of 63 bytes fit every count and length but not
 * the 4 KiB of one update: refused whole. */
static void
test_service_bytes_bounded(void **state)
{
	struct fx *x = *state;

	for (size_t i = 0; i < FRAME_CODEC_MAX_ENDPOINT_TAGS; i++)
		x->tags[i] = x->long_tag;
	for (size_t i = 0; i < FRAME_CODEC_MAX_ENDPOINTS; i++) {
		x->eps[i].tags = x->tags;
		x->eps[i].n_tags = FRAME_CODEC_MAX_ENDPOINT_TAGS;
	}
	x->u.n_endpoints = FRAME_CODEC_MAX_ENDPOINTS;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    EV ": ");
	/* Three such endpoints (about 3.2 KiB) still fit. */
	x->u.n_endpoints = 3;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_service_event_roundtrip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_services_counted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_fields_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoints_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_bytes_bounded,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
