/*
 * What the frame codec's unit tests share: a round trip through encode
 * and decode, and a refusal checked on all three paths (the check, the
 * encoder, and the decoder of the raw packing a hostile peer would send).
 * Include after cmocka.h and frame_codec.h.
 */
#ifndef AGENTFLOW_TEST_PROTO_CHECK_H
#define AGENTFLOW_TEST_PROTO_CHECK_H

#define PB(name)	struct Agentflow__Mesh__V1__##name

/* Encodes f and decodes it back (caller frees). */
static inline PB(Frame) *
roundtrip(const PB(Frame) *f)
{
	struct frame_codec_error err;
	PB(Frame) *out = NULL;
	uint8_t *buf;
	size_t len;

	if (frame_codec_encode(f, &buf, &len, &err) != FRAME_CODEC_OK)
		fail_msg("encode: %s", err.detail);
	if (frame_codec_decode(buf, len, &out, &err) != FRAME_CODEC_OK)
		fail_msg("decode: %s", err.detail);
	free(buf);
	return out;
}

/* f is refused with want naming where: by the check, the encoder, and
 * the decoder of its raw packing (what a hostile peer would send). */
static inline void
expect_refused(const PB(Frame) *f, enum frame_codec_err want,
    const char *where)
{
	struct frame_codec_error err;
	PB(Frame) *out = NULL;
	uint8_t *buf;
	size_t len;

	memset(&err, 0, sizeof(err));
	assert_int_equal(frame_codec_check(f, &err), want);
	if (strstr(err.detail, where) == NULL)
		fail_msg("detail \"%s\" does not name \"%s\"", err.detail, where);
	assert_int_equal(frame_codec_encode(f, &buf, &len, &err), want);
	assert_null(buf);
	len = agentflow__mesh__v1__frame__get_packed_size(f);
	buf = malloc(len + 1);
	assert_non_null(buf);
	agentflow__mesh__v1__frame__pack(f, buf);
	assert_int_equal(frame_codec_decode(buf, len, &out, &err), want);
	assert_null(out);
	if (strstr(err.detail, where) == NULL)
		fail_msg("decode detail \"%s\" does not name \"%s\"", err.detail,
		    where);
	free(buf);
}

/* An event batch of one event from node-1, and a snapshot of node-1 alone:
 * the caller sets f->ev's kind and f->st's repeated field. */
struct proto_frames {
	PB(Frame)	 ev_frame, snap_frame;
	PB(EventBatch)	 batch;
	PB(Event)	 ev, *evp;
	PB(Snapshot)	 snap;
	PB(OriginState)	 st, *stp;
	PB(Cursor)	 cur;
};

static inline void
proto_frames_init(struct proto_frames *f)
{
	agentflow__mesh__v1__event__init(&f->ev);
	f->ev.origin = "node-1";
	f->ev.incarnation = 7;
	f->ev.seq = 3;
	f->ev.hop_limit = 8;
	f->evp = &f->ev;
	agentflow__mesh__v1__event_batch__init(&f->batch);
	f->batch.n_events = 1;
	f->batch.events = &f->evp;
	agentflow__mesh__v1__frame__init(&f->ev_frame);
	f->ev_frame.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f->ev_frame.events = &f->batch;
	agentflow__mesh__v1__cursor__init(&f->cur);
	f->cur.origin = "node-1";
	f->cur.incarnation = 7;
	f->cur.seq = 3;
	agentflow__mesh__v1__origin_state__init(&f->st);
	f->st.cursor = &f->cur;
	f->stp = &f->st;
	agentflow__mesh__v1__snapshot__init(&f->snap);
	f->snap.n_origins = 1;
	f->snap.origins = &f->stp;
	f->snap.last = 1;
	agentflow__mesh__v1__frame__init(&f->snap_frame);
	f->snap_frame.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f->snap_frame.snapshot = &f->snap;
}

#endif
