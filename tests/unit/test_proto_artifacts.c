/*
 * The frame codec on artifacts (proto/mesh.proto): an ArtifactUpdate
 * event and OriginState.artifacts, an ArtifactRequest and an
 * ArtifactChunk round-trip, and every bound mesh.proto gives them (the id
 * syntax, a file name without '/', the length asked, a chunk's data
 * within the size it states, data and an error never together, the count
 * per snapshot) is refused by the check, the encoder and the decoder
 * alike: a hostile peer cannot make a fetcher write past what it asked.
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

#define ID	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fx {
	struct proto_frames	 f;
	PB(ArtifactUpdate)	 u, **arts;
	PB(Frame)		 req_frame, chunk_frame;
	PB(ArtifactRequest)	 req;
	PB(ArtifactChunk)	 chunk;
	uint8_t			 data[FRAME_CODEC_MAX_CHUNK + 1];
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	agentflow__mesh__v1__artifact_update__init(&x->u);
	x->u.artifact = ID;
	x->u.name = "app-1.2.tar.gz";
	x->u.size = 123456;
	x->u.updated_ms = 1700000000000ull;
	proto_frames_init(&x->f);
	x->f.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT;
	x->f.ev.artifact = &x->u;
	x->arts = calloc(FRAME_CODEC_MAX_ARTIFACTS + 1, sizeof(*x->arts));
	assert_non_null(x->arts);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_ARTIFACTS; i++)
		x->arts[i] = &x->u;
	x->f.st.n_artifacts = 1;
	x->f.st.artifacts = x->arts;

	agentflow__mesh__v1__artifact_request__init(&x->req);
	x->req.artifact = ID;
	x->req.offset = 1 << 20;
	x->req.length = 1 << 20;
	agentflow__mesh__v1__frame__init(&x->req_frame);
	x->req_frame.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST;
	x->req_frame.artifact_request = &x->req;

	agentflow__mesh__v1__artifact_chunk__init(&x->chunk);
	x->chunk.artifact = ID;
	x->chunk.offset = 65536;
	x->chunk.size = 3 * 65536;
	x->chunk.data.data = x->data;
	x->chunk.data.len = 65536;
	memset(x->data, 0xa5, sizeof(x->data));
	agentflow__mesh__v1__frame__init(&x->chunk_frame);
	x->chunk_frame.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK;
	x->chunk_frame.artifact_chunk = &x->chunk;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	free(x->arts);
	free(x);
	return 0;
}

static void
test_artifact_event_and_snapshot(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->f.ev_frame);

	assert_int_equal(out->events->events[0]->kind_case,
	    AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT);
	assert_string_equal(out->events->events[0]->artifact->artifact, ID);
	assert_string_equal(out->events->events[0]->artifact->name,
	    "app-1.2.tar.gz");
	assert_int_equal(out->events->events[0]->artifact->size, 123456);
	frame_codec_free(out);
	out = roundtrip(&x->f.snap_frame);
	assert_int_equal(out->snapshot->origins[0]->n_artifacts, 1);
	frame_codec_free(out);
	x->f.st.n_artifacts = FRAME_CODEC_MAX_ARTIFACTS + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].artifacts: 257 entries, limit 256");
}

static void
test_artifact_update_bounded(void **state)
{
	struct fx *x = *state;

	x->u.artifact = "sha256:0123";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].artifact.artifact");
	x->u.artifact = "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
	    "0123456789abcdef";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].artifact.artifact");
	x->u.artifact = "../../../../etc/passwd";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].artifact.artifact");
	x->u.artifact = ID;
	x->u.name = "../evil";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].artifact.name");
	x->u.name = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_MISSING,
	    "events.events[0].artifact.name");
	/* A removal needs no name. */
	x->u.removed = 1;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
}

static void
test_request_bounded(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->req_frame);

	assert_string_equal(out->artifact_request->artifact, ID);
	assert_int_equal(out->artifact_request->offset, 1 << 20);
	frame_codec_free(out);
	x->req.length = 0;
	expect_refused(&x->req_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_request.length");
	x->req.length = FRAME_CODEC_MAX_ARTIFACT_ASK + 1;
	expect_refused(&x->req_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_request.length");
	x->req.length = 10;
	x->req.offset = UINT64_MAX - 5;
	expect_refused(&x->req_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_request.offset");
	x->req.offset = 0;
	x->req.artifact = "sha256:";
	expect_refused(&x->req_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_request.artifact");
}

static void
test_chunk_bounded(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->chunk_frame);

	assert_int_equal(out->artifact_chunk->data.len, 65536);
	assert_int_equal(out->artifact_chunk->size, 3 * 65536);
	frame_codec_free(out);
	/* Past the size it states. */
	x->chunk.offset = 2 * 65536 + 1;
	expect_refused(&x->chunk_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_chunk.offset");
	x->chunk.offset = UINT64_MAX;
	x->chunk.size = UINT64_MAX;
	expect_refused(&x->chunk_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_chunk.offset");
	x->chunk.offset = 0;
	x->chunk.size = 1 << 20;
	x->chunk.data.len = FRAME_CODEC_MAX_CHUNK + 1;
	expect_refused(&x->chunk_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "artifact_chunk.data");
	x->chunk.data.len = 1;
	x->chunk.error = "busy";
	expect_refused(&x->chunk_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "artifact_chunk.data");
	x->chunk.data.len = 0;
	out = roundtrip(&x->chunk_frame);
	assert_string_equal(out->artifact_chunk->error, "busy");
	frame_codec_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_artifact_event_and_snapshot,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_artifact_update_bounded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chunk_bounded, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
