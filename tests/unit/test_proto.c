/*
 * Tests of proto/frame_codec.c over the generated mesh.proto code.
 *
 * Round trips build every message type, every event kind and every command
 * target form with every field set to a non-default value, encode, decode,
 * and compare field by field (and the re-encoding byte for byte).  The
 * refusals feed garbage, every prefix of a real frame, oversized buffers,
 * empty frames and frames that break one bound each (packed with protobuf-c
 * directly, since frame_codec_encode() refuses to produce them) and check
 * the error code and the field named in the detail.  Run under ASan, every
 * path is also checked for leaks.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_codec.h"
#include "node_id.h"

#define PB(name)	struct Agentflow__Mesh__V1__##name
#define E(prefix, v)	AGENTFLOW__MESH__V1__##prefix##__##prefix##_##v

/* ---- helpers ------------------------------------------------------------ */

/* Packs f with protobuf-c directly, bypassing the codec's checks. */
static uint8_t *
pack_raw(const PB(Frame) *f, size_t *len)
{
	uint8_t *buf;

	*len = agentflow__mesh__v1__frame__get_packed_size(f);
	buf = malloc(*len == 0 ? 1 : *len);
	assert_non_null(buf);
	assert_int_equal(agentflow__mesh__v1__frame__pack(f, buf), *len);
	return buf;
}

/* Decoding buf must fail with want, naming `where` in the detail. */
static void
expect_decode_error(const uint8_t *buf, size_t len, enum frame_codec_err want,
    const char *where)
{
	struct frame_codec_error err;
	PB(Frame) *out = (void *)1;
	enum frame_codec_err rc;

	memset(&err, 0, sizeof(err));
	rc = frame_codec_decode(buf, len, &out, &err);
	if (rc != want)
		fail_msg("decode gave %d (%s: %s), wanted %d (%s)", rc,
		    frame_codec_strerror(rc), err.detail, want,
		    frame_codec_strerror(want));
	assert_null(out);
	assert_int_equal(err.code, want);
	if (where != NULL && strstr(err.detail, where) == NULL)
		fail_msg("detail \"%s\" does not name \"%s\"", err.detail, where);
}

/* f is invalid: encode refuses it, and its raw packing is refused on decode. */
static void
expect_invalid(const PB(Frame) *f, enum frame_codec_err want, const char *where)
{
	struct frame_codec_error err;
	uint8_t *buf;
	size_t len;

	assert_int_equal(frame_codec_check(f, &err), want);
	assert_int_equal(frame_codec_encode(f, &buf, &len, &err), want);
	assert_null(buf);
	assert_int_equal(len, 0);
	if (where != NULL && strstr(err.detail, where) == NULL)
		fail_msg("detail \"%s\" does not name \"%s\"", err.detail, where);
	buf = pack_raw(f, &len);
	expect_decode_error(buf, len, want, where);
	free(buf);
}

/*
 * f holds something only a newer version knows (an enum value, a body, an
 * event kind): encode accepts it, and decoding its packing succeeds and
 * adds one to the what skip counter.
 */
static void
expect_skipped(const PB(Frame) *f, enum frame_codec_skip what)
{
	struct frame_codec_error err;
	uint64_t before = frame_codec_skipped(what);
	PB(Frame) *out = NULL;
	uint8_t *buf;
	size_t len;

	if (frame_codec_check(f, &err) != FRAME_CODEC_OK)
		fail_msg("check: %s", err.detail);
	buf = pack_raw(f, &len);
	if (frame_codec_decode(buf, len, &out, &err) != FRAME_CODEC_OK)
		fail_msg("decode: %s", err.detail);
	assert_non_null(out);
	assert_int_equal(frame_codec_skipped(what), before + 1);
	frame_codec_free(out);
	free(buf);
}

/*
 * Encodes f, decodes it, checks the decoding re-encodes to the same bytes,
 * and returns the decoded Frame (caller frees with frame_codec_free).
 */
static PB(Frame) *
roundtrip(const PB(Frame) *f)
{
	struct frame_codec_error err;
	uint8_t *buf, *again, *into;
	size_t len, len2, len3;
	PB(Frame) *out = NULL;

	if (frame_codec_encode(f, &buf, &len, &err) != FRAME_CODEC_OK)
		fail_msg("encode: %s", err.detail);
	assert_int_equal(len, frame_codec_encoded_size(f));

	into = malloc(len);
	assert_non_null(into);
	assert_int_equal(frame_codec_encode_into(f, into, len, &len3, &err),
	    FRAME_CODEC_OK);
	assert_int_equal(len3, len);
	assert_memory_equal(into, buf, len);
	if (len > 0)
		assert_int_equal(frame_codec_encode_into(f, into, len - 1, &len3,
		    &err), FRAME_CODEC_ERR_TOO_LARGE);
	free(into);

	if (frame_codec_decode(buf, len, &out, &err) != FRAME_CODEC_OK)
		fail_msg("decode: %s", err.detail);
	assert_non_null(out);
	assert_int_equal(out->body_case, f->body_case);
	assert_string_equal(frame_codec_body_name(out),
	    frame_codec_body_name(f));

	assert_int_equal(frame_codec_encode(out, &again, &len2, &err),
	    FRAME_CODEC_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(again, buf, len);
	free(again);
	free(buf);
	return out;
}

static void
cmp_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len > 0)
		assert_memory_equal(a->data, b->data, a->len);
}

static void
cmp_strings(size_t na, char **a, size_t nb, char **b)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
}

static void
cmp_labels(size_t na, PB(Label) **a, size_t nb, PB(Label) **b)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i]->key, b[i]->key);
		assert_string_equal(a[i]->value, b[i]->value);
	}
}

static void
cmp_node_info(const PB(NodeInfo) *a, const PB(NodeInfo) *b)
{
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->node_id, b->node_id);
	assert_true(a->incarnation == b->incarnation);
	assert_string_equal(a->version, b->version);
	cmp_strings(a->n_addresses, a->addresses, b->n_addresses, b->addresses);
	cmp_labels(a->n_labels, a->labels, b->n_labels, b->labels);
	assert_string_equal(a->hostname, b->hostname);
	assert_true(a->started_ms == b->started_ms);
}

static void
cmp_cursor(const PB(Cursor) *a, const PB(Cursor) *b)
{
	assert_string_equal(a->origin, b->origin);
	assert_true(a->incarnation == b->incarnation);
	assert_true(a->seq == b->seq);
}

static void
cmp_node_status(const PB(NodeStatus) *a, const PB(NodeStatus) *b)
{
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a->cpu_percent == b->cpu_percent);
	assert_int_equal(a->cpu_count, b->cpu_count);
	assert_true(a->mem_used_bytes == b->mem_used_bytes);
	assert_true(a->mem_total_bytes == b->mem_total_bytes);
	assert_true(a->load1 == b->load1);
	assert_true(a->load5 == b->load5);
	assert_true(a->load15 == b->load15);
	assert_true(a->disk_used_bytes == b->disk_used_bytes);
	assert_true(a->disk_total_bytes == b->disk_total_bytes);
	assert_true(a->net_rx_bytes == b->net_rx_bytes);
	assert_true(a->net_tx_bytes == b->net_tx_bytes);
	assert_true(a->net_rx_bytes_per_s == b->net_rx_bytes_per_s);
	assert_true(a->net_tx_bytes_per_s == b->net_tx_bytes_per_s);
	assert_true(a->uptime_s == b->uptime_s);
	assert_true(a->process_uptime_s == b->process_uptime_s);
	assert_int_equal(a->n_links, b->n_links);
	for (size_t i = 0; i < a->n_links; i++) {
		assert_string_equal(a->links[i]->peer, b->links[i]->peer);
		assert_int_equal(a->links[i]->state, b->links[i]->state);
		assert_true(a->links[i]->rtt_us == b->links[i]->rtt_us);
		assert_true(a->links[i]->since_ms == b->links[i]->since_ms);
	}
	assert_int_equal(a->n_members, b->n_members);
	for (size_t i = 0; i < a->n_members; i++) {
		assert_string_equal(a->members[i]->node_id,
		    b->members[i]->node_id);
		assert_int_equal(a->members[i]->state, b->members[i]->state);
		assert_true(a->members[i]->last_seen_ms ==
		    b->members[i]->last_seen_ms);
		assert_int_equal(a->members[i]->direct, b->members[i]->direct);
	}
	assert_int_equal(a->frozen, b->frozen);
	assert_int_equal(a->signal_reachable, b->signal_reachable);
}

static void
cmp_task_update(const PB(TaskUpdate) *a, const PB(TaskUpdate) *b)
{
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->task_id, b->task_id);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->attempt, b->attempt);
	assert_int_equal(a->max_attempts, b->max_attempts);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->term_signal, b->term_signal);
	assert_string_equal(a->reason, b->reason);
	assert_true(a->queued_ms == b->queued_ms);
	assert_true(a->started_ms == b->started_ms);
	assert_true(a->finished_ms == b->finished_ms);
	assert_true(a->next_retry_ms == b->next_retry_ms);
	assert_string_equal(a->command_id, b->command_id);
	assert_string_equal(a->principal, b->principal);
}

static void
cmp_alert(const PB(Alert) *a, const PB(Alert) *b)
{
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->alert_id, b->alert_id);
	assert_string_equal(a->rule, b->rule);
	assert_int_equal(a->severity, b->severity);
	assert_int_equal(a->state, b->state);
	assert_true(a->value == b->value);
	assert_true(a->threshold == b->threshold);
	assert_string_equal(a->subject, b->subject);
	assert_string_equal(a->message, b->message);
	assert_true(a->fired_ms == b->fired_ms);
	assert_true(a->resolved_ms == b->resolved_ms);
	assert_true(a->acked_ms == b->acked_ms);
	assert_string_equal(a->acked_by, b->acked_by);
}

/* ---- fixtures: one of everything, every field non-default -------------- */

static char *addresses[] = { "192.0.2.10:50051", "[2001:db8::10]:50051" };
static PB(Label) label_role = { PROTOBUF_C_MESSAGE_INIT(
    &agentflow__mesh__v1__label__descriptor), "role", "storage" };
static PB(Label) label_zone = { PROTOBUF_C_MESSAGE_INIT(
    &agentflow__mesh__v1__label__descriptor), "topology/zone", "h\xc3\xa9rault" };
static PB(Label) *labels[] = { &label_role, &label_zone };

static void
init_node_info(PB(NodeInfo) *n, char *id)
{
	agentflow__mesh__v1__node_info__init(n);
	n->node_id = id;
	n->incarnation = 1700000000123ull;
	n->version = "0.1.0";
	n->n_addresses = 2;
	n->addresses = addresses;
	n->n_labels = 2;
	n->labels = labels;
	n->hostname = "alpha.home.arpa";
	n->started_ms = 1700000000000ull;
}

static PB(LinkInfo) link_up = { PROTOBUF_C_MESSAGE_INIT(
    &agentflow__mesh__v1__link_info__descriptor), "beta",
    E(LINK_STATE, UP), 73, 1700000001000ull };
static PB(LinkInfo) link_conn = { PROTOBUF_C_MESSAGE_INIT(
    &agentflow__mesh__v1__link_info__descriptor), "gamma",
    E(LINK_STATE, CONNECTING), 0, 1700000002000ull };
static PB(LinkInfo) link_down = { PROTOBUF_C_MESSAGE_INIT(
    &agentflow__mesh__v1__link_info__descriptor), "delta",
    E(LINK_STATE, DOWN), 250, 1700000003000ull };
static PB(LinkInfo) *links[] = { &link_up, &link_conn, &link_down };

static PB(MemberInfo) members_arr[4] = {
	{ PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__member_info__descriptor),
	  "beta", E(MEMBER_STATE, ALIVE), 1700000004000ull, 1 },
	{ PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__member_info__descriptor),
	  "gamma", E(MEMBER_STATE, SUSPECT), 1700000005000ull, 0 },
	{ PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__member_info__descriptor),
	  "delta", E(MEMBER_STATE, DEAD), 1700000006000ull, 0 },
	{ PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__member_info__descriptor),
	  "epsilon", E(MEMBER_STATE, LEFT), 1700000007000ull, 0 },
};
static PB(MemberInfo) *members[] = { &members_arr[0], &members_arr[1],
    &members_arr[2], &members_arr[3] };

static void
init_node_status(PB(NodeStatus) *s)
{
	agentflow__mesh__v1__node_status__init(s);
	s->cpu_percent = 42.5;
	s->cpu_count = 8;
	s->mem_used_bytes = 3ull << 30;
	s->mem_total_bytes = 16ull << 30;
	s->load1 = 1.25;
	s->load5 = 0.75;
	s->load15 = 0.5;
	s->disk_used_bytes = 900ull << 30;
	s->disk_total_bytes = 1000ull << 30;
	s->net_rx_bytes = 123456789012ull;
	s->net_tx_bytes = 98765432109ull;
	s->net_rx_bytes_per_s = 125000.5;
	s->net_tx_bytes_per_s = 64000.25;
	s->uptime_s = 864000;
	s->process_uptime_s = 3600;
	s->n_links = 3;
	s->links = links;
	s->n_members = 4;
	s->members = members;
	s->frozen = 1;
	s->signal_reachable = 1;
}

static void
init_task_update(PB(TaskUpdate) *t, char *id, int state)
{
	agentflow__mesh__v1__task_update__init(t);
	t->task_id = id;
	t->name = "backup-db";
	t->state = state;
	t->attempt = 2;
	t->max_attempts = 3;
	t->exit_code = 3;
	t->term_signal = 15;
	t->reason = "exited with status 3\nsee logs";
	t->queued_ms = 1700000010000ull;
	t->started_ms = 1700000011000ull;
	t->finished_ms = 1700000012000ull;
	t->next_retry_ms = 1700000013000ull;
	t->command_id = "cmd-7f3a";
	t->principal = "rw";
}

static void
init_alert(PB(Alert) *a, char *id, int state)
{
	agentflow__mesh__v1__alert__init(a);
	a->alert_id = id;
	a->rule = "cpu_high";
	a->severity = E(ALERT_SEVERITY, CRITICAL);
	a->state = state;
	a->value = 97.5;
	a->threshold = -90.0;
	a->subject = "cpu";
	a->message = "CPU above 90% for 60 s";
	a->fired_ms = 1700000020000ull;
	a->resolved_ms = 1700000021000ull;
	a->acked_ms = 1700000022000ull;
	a->acked_by = "ops-token";
}

static void
init_event(PB(Event) *e, uint64_t seq)
{
	agentflow__mesh__v1__event__init(e);
	e->origin = "alpha";
	e->incarnation = 1700000000123ull;
	e->seq = seq;
	e->time_ms = 1700000030000ull + seq;
	e->hops = 1;
	e->hop_limit = 8;
}

static void
cmp_event_header(const PB(Event) *a, const PB(Event) *b)
{
	assert_string_equal(a->origin, b->origin);
	assert_true(a->incarnation == b->incarnation);
	assert_true(a->seq == b->seq);
	assert_true(a->time_ms == b->time_ms);
	assert_int_equal(a->hops, b->hops);
	assert_int_equal(a->hop_limit, b->hop_limit);
	assert_int_equal(a->kind_case, b->kind_case);
}

static char *cmd_path[] = { "alpha", "beta" };

static void
init_command(PB(Command) *c)
{
	static uint8_t args[] = "{\"task\":\"backup-db\",\"args\":[\"--full\"]}";

	agentflow__mesh__v1__command__init(c);
	c->id = "0b6f1c2e-8d0a-4f51-9a53-3c1d2e4f5a6b";
	c->origin = "alpha";
	c->destination = "gamma";
	c->principal = "rw";
	c->type = E(COMMAND_TYPE, RUN_TASK);
	c->args_json.data = args;
	c->args_json.len = sizeof(args) - 1;
	c->deadline_ms = 1700000040000ull;
	c->idempotency_key = "nightly-2023-11-14";
	c->issued_ms = 1700000039000ull;
	c->hops = 1;
	c->hop_limit = 4;
	c->n_path = 2;
	c->path = cmd_path;
}

static void
cmp_command(const PB(Command) *a, const PB(Command) *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->origin, b->origin);
	assert_int_equal(a->target_case, b->target_case);
	switch (a->target_case) {
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID:
		assert_string_equal(a->node_id, b->node_id);
		break;
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR:
		cmp_labels(a->selector->n_match, a->selector->match,
		    b->selector->n_match, b->selector->match);
		break;
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL:
		assert_int_equal(a->all, b->all);
		break;
	default:
		fail_msg("no target");
	}
	assert_string_equal(a->destination, b->destination);
	assert_string_equal(a->principal, b->principal);
	assert_int_equal(a->type, b->type);
	cmp_bytes(&a->args_json, &b->args_json);
	assert_true(a->deadline_ms == b->deadline_ms);
	assert_string_equal(a->idempotency_key, b->idempotency_key);
	assert_true(a->issued_ms == b->issued_ms);
	assert_int_equal(a->hops, b->hops);
	assert_int_equal(a->hop_limit, b->hop_limit);
	cmp_strings(a->n_path, a->path, b->n_path, b->path);
}

/* ---- round trips --------------------------------------------------------- */

static void
test_hello(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Hello) h = AGENTFLOW__MESH__V1__HELLO__INIT;
	PB(NodeInfo) info;
	PB(Cursor) c1 = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(Cursor) c2 = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(Cursor) *cursors[] = { &c1, &c2 };
	char *features[FRAME_CODEC_MAX_FEATURES + 1];

	(void)state;
	for (int i = 0; i <= FRAME_CODEC_MAX_FEATURES; i++)
		features[i] = i == 1 ? "future_thing" : "events";
	init_node_info(&info, "alpha");
	c1.origin = "beta";
	c1.incarnation = 11;
	c1.seq = 0;
	c2.origin = "gamma";
	c2.incarnation = UINT64_MAX;
	c2.seq = UINT64_MAX;
	h.info = &info;
	h.protocol_version = FRAME_CODEC_PROTOCOL_VERSION;
	h.n_cursors = 2;
	h.cursors = cursors;
	h.time_ms = 1700000000999ull;
	h.frozen = 1;
	h.n_features = 2;
	h.features = features;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_HELLO;
	f.hello = &h;

	out = roundtrip(&f);
	assert_int_equal(out->hello->n_features, 2);
	assert_string_equal(out->hello->features[1], "future_thing");
	cmp_node_info(&info, out->hello->info);
	assert_int_equal(out->hello->protocol_version, 1);
	assert_int_equal(out->hello->n_cursors, 2);
	cmp_cursor(&c1, out->hello->cursors[0]);
	cmp_cursor(&c2, out->hello->cursors[1]);
	assert_true(out->hello->time_ms == h.time_ms);
	assert_int_equal(out->hello->frozen, 1);
	assert_string_equal(frame_codec_body_name(out), "hello");
	frame_codec_free(out);

	/* Features: at most 32 names. */
	h.n_features = FRAME_CODEC_MAX_FEATURES + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY, "hello.features");
	h.n_features = 2;
	features[1] = "";
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "hello.features[1]");
	features[1] = "tab\there";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_STRING, "hello.features[1]");
}

static void
test_snapshot_request(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(SnapshotRequest) r = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	char *origins[] = { "alpha", "beta.lan", "g_3-x" };

	(void)state;
	r.n_origins = 3;
	r.origins = origins;
	r.request_id = 77;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &r;

	out = roundtrip(&f);
	cmp_strings(3, origins, out->snapshot_request->n_origins,
	    out->snapshot_request->origins);
	assert_true(out->snapshot_request->request_id == 77);
	frame_codec_free(out);

	/* Empty: "everything you hold". */
	r.n_origins = 0;
	r.origins = NULL;
	out = roundtrip(&f);
	assert_int_equal(out->snapshot_request->n_origins, 0);
	frame_codec_free(out);
}

static void
test_snapshot(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Snapshot) s = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	PB(OriginState) o1 = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	PB(OriginState) o2 = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	PB(OriginState) *origins[] = { &o1, &o2 };
	PB(Cursor) c1 = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(Cursor) c2 = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(NodeInfo) info;
	PB(NodeStatus) st;
	PB(TaskUpdate) t1, t2;
	PB(TaskUpdate) *tasks[] = { &t1, &t2 };
	PB(Alert) a1, a2;
	PB(Alert) *alerts[] = { &a1, &a2 };
	PB(OriginState) *g;

	(void)state;
	c1.origin = "alpha";
	c1.incarnation = 1700000000123ull;
	c1.seq = 4242;
	init_node_info(&info, "alpha");
	init_node_status(&st);
	init_task_update(&t1, "t-1", E(TASK_STATE, RUNNING));
	init_task_update(&t2, "t-2", E(TASK_STATE, RETRYING));
	init_alert(&a1, "al-1", E(ALERT_STATE, FIRING));
	init_alert(&a2, "al-2", E(ALERT_STATE, ACKNOWLEDGED));
	o1.cursor = &c1;
	o1.info = &info;
	o1.status = &st;
	o1.status_ms = 1700000050000ull;
	o1.n_tasks = 2;
	o1.tasks = tasks;
	o1.n_alerts = 2;
	o1.alerts = alerts;
	/* A second origin known only by its cursor, which has left. */
	c2.origin = "omega";
	c2.incarnation = 9;
	c2.seq = 1;
	o2.cursor = &c2;
	o2.left = 1;
	s.n_origins = 2;
	s.origins = origins;
	s.request_id = 77;
	s.last = 1;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = &s;

	out = roundtrip(&f);
	assert_int_equal(out->snapshot->n_origins, 2);
	assert_true(out->snapshot->request_id == 77);
	assert_int_equal(out->snapshot->last, 1);
	g = out->snapshot->origins[0];
	cmp_cursor(&c1, g->cursor);
	cmp_node_info(&info, g->info);
	cmp_node_status(&st, g->status);
	assert_true(g->status_ms == o1.status_ms);
	assert_int_equal(g->n_tasks, 2);
	cmp_task_update(&t1, g->tasks[0]);
	cmp_task_update(&t2, g->tasks[1]);
	assert_int_equal(g->n_alerts, 2);
	cmp_alert(&a1, g->alerts[0]);
	cmp_alert(&a2, g->alerts[1]);
	assert_int_equal(g->left, 0);
	g = out->snapshot->origins[1];
	cmp_cursor(&c2, g->cursor);
	assert_null(g->info);
	assert_null(g->status);
	assert_int_equal(g->n_tasks, 0);
	assert_int_equal(g->n_alerts, 0);
	assert_int_equal(g->left, 1);
	frame_codec_free(out);
}

static void
test_events_every_kind(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(EventBatch) b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	PB(Event) ev[5];
	PB(Event) *events[] = { &ev[0], &ev[1], &ev[2], &ev[3], &ev[4] };
	PB(NodeStatus) st;
	PB(TaskUpdate) tu;
	PB(TaskLog) tl = AGENTFLOW__MESH__V1__TASK_LOG__INIT;
	PB(Alert) al;
	PB(UserEvent) ue = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	uint8_t *payload;
	PB(Event) **o;

	(void)state;
	for (int i = 0; i < 5; i++)
		init_event(&ev[i], (uint64_t)i + 1);
	init_node_status(&st);
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	ev[0].status = &st;
	init_task_update(&tu, "t-9", E(TASK_STATE, FAILED));
	ev[1].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TASK;
	ev[1].task = &tu;
	tl.task_id = "t-9";
	tl.stream = E(LOG_STREAM, STDERR);
	tl.line_seq = 12;
	tl.text = "\x1b[31merror:\x1b[0m disk \xe2\x80\x94 full\t(\xf0\x9f\x92\xbe)";
	tl.dropped = 5;
	tl.continued = 1;
	ev[2].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_LOG;
	ev[2].log = &tl;
	init_alert(&al, "al-3", E(ALERT_STATE, RESOLVED));
	ev[3].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ALERT;
	ev[3].alert = &al;
	/* The largest user payload allowed, with every byte value in it. */
	payload = malloc(FRAME_CODEC_MAX_PAYLOAD);
	assert_non_null(payload);
	for (size_t i = 0; i < FRAME_CODEC_MAX_PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 7);
	ue.name = "deploy.finished";
	ue.payload.data = payload;
	ue.payload.len = FRAME_CODEC_MAX_PAYLOAD;
	ev[4].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	ev[4].user = &ue;
	ev[4].hops = 8;		/* hops == hop_limit is allowed */
	b.n_events = 5;
	b.events = events;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;

	out = roundtrip(&f);
	assert_int_equal(out->events->n_events, 5);
	o = out->events->events;
	for (int i = 0; i < 5; i++)
		cmp_event_header(&ev[i], o[i]);
	cmp_node_status(&st, o[0]->status);
	cmp_task_update(&tu, o[1]->task);
	assert_string_equal(o[2]->log->task_id, tl.task_id);
	assert_int_equal(o[2]->log->stream, tl.stream);
	assert_true(o[2]->log->line_seq == tl.line_seq);
	assert_string_equal(o[2]->log->text, tl.text);
	assert_int_equal(o[2]->log->dropped, tl.dropped);
	assert_int_equal(o[2]->log->continued, 1);
	cmp_alert(&al, o[3]->alert);
	assert_string_equal(o[4]->user->name, ue.name);
	cmp_bytes(&ue.payload, &o[4]->user->payload);
	frame_codec_free(out);
	free(payload);
}

static void
test_command_targets(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Command) c;
	PB(LabelSelector) sel = AGENTFLOW__MESH__V1__LABEL_SELECTOR__INIT;

	(void)state;
	init_command(&c);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = &c;

	/* One node. */
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	c.node_id = "gamma";
	out = roundtrip(&f);
	cmp_command(&c, out->command);
	frame_codec_free(out);

	/* A label selector. */
	sel.n_match = 2;
	sel.match = labels;
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR;
	c.selector = &sel;
	c.type = E(COMMAND_TYPE, CANCEL_TASK);
	out = roundtrip(&f);
	cmp_command(&c, out->command);
	frame_codec_free(out);

	/* Every node; each command type, and one this version does not know. */
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL;
	c.all = 1;
	for (int t = 1; t <= 8; t++) {
		c.type = t == 8 ? 4242 : t;
		out = roundtrip(&f);
		cmp_command(&c, out->command);
		frame_codec_free(out);
	}
}

/* Command.principal_proof: its parts travel as they are, within bounds. */
static void
test_command_principal_proof(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Command) c;
	PB(PrincipalProof) p = AGENTFLOW__MESH__V1__PRINCIPAL_PROOF__INIT;
	uint8_t claims[801], isig[81], sig[64];

	(void)state;
	memset(claims, 'A', sizeof(claims));
	memset(isig, 0x30, sizeof(isig));
	memset(sig, 0x5a, sizeof(sig));
	init_command(&c);
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	c.node_id = "gamma";
	c.principal_proof = &p;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = &c;
	p.claims = (ProtobufCBinaryData){ 120, claims };
	p.issuer_sig = (ProtobufCBinaryData){ 71, isig };
	p.sig = (ProtobufCBinaryData){ sizeof(sig), sig };
	out = roundtrip(&f);
	assert_non_null(out->command->principal_proof);
	cmp_bytes(&p.claims, &out->command->principal_proof->claims);
	cmp_bytes(&p.issuer_sig, &out->command->principal_proof->issuer_sig);
	cmp_bytes(&p.sig, &out->command->principal_proof->sig);
	frame_codec_free(out);

	p.claims.len = sizeof(claims);
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG,
	    "command.principal_proof.claims");
	p.claims.len = 120;
	p.issuer_sig.len = sizeof(isig);
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG,
	    "command.principal_proof.issuer_sig");
	p.issuer_sig.len = 71;
	p.sig.len = 32;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "command.principal_proof");
	p.sig.len = sizeof(sig);
	p.claims.len = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "command.principal_proof");
}

static void
test_command_result(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(CommandResult) r = AGENTFLOW__MESH__V1__COMMAND_RESULT__INIT;
	static uint8_t body[] = "{\"task_id\":\"t-12\"}";
	char *path[] = { "gamma", "beta" };
	char *cpath[] = { "alpha", "beta", "gamma" };

	(void)state;
	r.command_id = "0b6f1c2e-8d0a-4f51-9a53-3c1d2e4f5a6b";
	r.node = "gamma";
	r.requester = "alpha";
	r.body_json.data = body;
	r.body_json.len = sizeof(body) - 1;
	r.error = "task \"x\" is not configured";
	r.finished_ms = 1700000060000ull;
	r.duplicate = 1;
	r.hops = 1;
	r.hop_limit = 4;
	r.n_path = 2;
	r.path = path;
	r.n_command_path = 3;
	r.command_path = cpath;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT;
	f.command_result = &r;

	for (int s = 1; s <= 8; s++) {
		PB(CommandResult) *o;

		r.status = s;
		out = roundtrip(&f);
		o = out->command_result;
		assert_string_equal(o->command_id, r.command_id);
		assert_string_equal(o->node, r.node);
		assert_string_equal(o->requester, r.requester);
		assert_int_equal(o->status, s);
		cmp_bytes(&r.body_json, &o->body_json);
		assert_string_equal(o->error, r.error);
		assert_true(o->finished_ms == r.finished_ms);
		assert_int_equal(o->duplicate, 1);
		assert_int_equal(o->hops, 1);
		assert_int_equal(o->hop_limit, 4);
		cmp_strings(2, path, o->n_path, o->path);
		cmp_strings(3, cpath, o->n_command_path, o->command_path);
		frame_codec_free(out);
	}
}

static void
test_ping_pong_leave(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Ping) ping = AGENTFLOW__MESH__V1__PING__INIT;
	PB(Pong) pong = AGENTFLOW__MESH__V1__PONG__INIT;
	PB(Leave) leave = AGENTFLOW__MESH__V1__LEAVE__INIT;

	(void)state;
	ping.id = 99;
	ping.sent_us = 1700000070000123ull;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PING;
	f.ping = &ping;
	out = roundtrip(&f);
	assert_true(out->ping->id == 99);
	assert_true(out->ping->sent_us == ping.sent_us);
	frame_codec_free(out);

	pong.id = 99;
	pong.ping_sent_us = ping.sent_us;
	pong.sent_us = 1700000070000456ull;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PONG;
	f.pong = &pong;
	out = roundtrip(&f);
	assert_true(out->pong->id == 99);
	assert_true(out->pong->ping_sent_us == pong.ping_sent_us);
	assert_true(out->pong->sent_us == pong.sent_us);
	frame_codec_free(out);

	/* A Ping with every field 0 still has a body. */
	ping.id = 0;
	ping.sent_us = 0;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PING;
	f.ping = &ping;
	out = roundtrip(&f);
	assert_int_equal(out->body_case, AGENTFLOW__MESH__V1__FRAME__BODY_PING);
	frame_codec_free(out);

	leave.node_id = "alpha";
	leave.incarnation = 1700000000123ull;
	leave.reason = "shutdown (SIGTERM)";
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE;
	f.leave = &leave;
	out = roundtrip(&f);
	assert_string_equal(out->leave->node_id, "alpha");
	assert_true(out->leave->incarnation == leave.incarnation);
	assert_string_equal(out->leave->reason, leave.reason);
	frame_codec_free(out);
}

static void
test_unknown_fields_kept(void **state)
{
	/* Ping{id: 5, field 100: 1}: a field from a newer version is kept
	 * and re-encoded, so a relay passes it on unchanged. */
	static const uint8_t newer[] = { 0x3a, 0x05, 0x08, 0x05, 0xa0, 0x06,
	    0x01 };
	struct frame_codec_error err;
	PB(Frame) *out;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(frame_codec_decode(newer, sizeof(newer), &out, &err),
	    FRAME_CODEC_OK);
	assert_true(out->ping->id == 5);
	assert_int_equal(out->ping->base.n_unknown_fields, 1);
	assert_int_equal(frame_codec_encode(out, &buf, &len, &err),
	    FRAME_CODEC_OK);
	assert_int_equal(len, sizeof(newer));
	assert_memory_equal(buf, newer, len);
	free(buf);
	frame_codec_free(out);
}

/*
 * What a newer peer sends decodes: a Frame body of a newer kind (field 100)
 * as a Frame with no body, an Event of a newer kind (field 15) as an Event
 * with no kind next to the others of its batch, both counted; an unknown
 * field inside a known message counted as a field.
 */
static void
test_newer_peer_skipped(void **state)
{
	static const uint8_t future[] = { 0xa2, 0x06, 0x02, 0x08, 0x01 };
	static uint8_t kind_data[] = { 0x03, 'n', 'e', 'w' };
	static const uint8_t ping_field[] = { 0x3a, 0x05, 0x08, 0x05, 0xa0,
	    0x06, 0x01 };
	ProtobufCMessageUnknownField uf = { 15,
	    PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, sizeof(kind_data), kind_data };
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(EventBatch) b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	PB(Event) ev[2] = { AGENTFLOW__MESH__V1__EVENT__INIT,
	    AGENTFLOW__MESH__V1__EVENT__INIT };
	PB(Event) *evp[2] = { &ev[0], &ev[1] };
	PB(UserEvent) ue = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	struct frame_codec_error err;
	uint64_t body0, kind0, field0;
	uint8_t *buf;
	size_t len;

	(void)state;
	body0 = frame_codec_skipped(FRAME_CODEC_SKIP_FRAME_BODY);
	kind0 = frame_codec_skipped(FRAME_CODEC_SKIP_EVENT_KIND);
	field0 = frame_codec_skipped(FRAME_CODEC_SKIP_FIELD);
	assert_int_equal(frame_codec_decode(future, sizeof(future), &out,
	    &err), FRAME_CODEC_OK);
	assert_int_equal(out->body_case,
	    AGENTFLOW__MESH__V1__FRAME__BODY__NOT_SET);
	assert_string_equal(frame_codec_body_name(out), "none");
	frame_codec_free(out);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_FRAME_BODY),
	    body0 + 1);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_FIELD), field0);

	ue.name = "hello";
	for (int i = 0; i < 2; i++) {
		ev[i].origin = "alpha";
		ev[i].incarnation = 1;
		ev[i].seq = (uint64_t)i + 1;
		ev[i].hop_limit = 4;
	}
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	ev[0].user = &ue;
	ev[1].base.n_unknown_fields = 1;
	ev[1].base.unknown_fields = &uf;
	b.n_events = 2;
	b.events = evp;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;
	buf = pack_raw(&f, &len);
	assert_int_equal(frame_codec_decode(buf, len, &out, &err),
	    FRAME_CODEC_OK);
	assert_int_equal(out->events->n_events, 2);
	assert_string_equal(out->events->events[0]->user->name, "hello");
	assert_int_equal(out->events->events[1]->kind_case,
	    AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET);
	assert_true(out->events->events[1]->seq == 2);
	/* Re-encoded as it came: a relay forwards the newer kind intact. */
	{
		uint8_t *again;
		size_t len2;

		assert_int_equal(frame_codec_encode(out, &again, &len2, &err),
		    FRAME_CODEC_OK);
		assert_int_equal(len2, len);
		assert_memory_equal(again, buf, len);
		free(again);
	}
	frame_codec_free(out);
	free(buf);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_EVENT_KIND),
	    kind0 + 1);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_FIELD), field0);

	assert_int_equal(frame_codec_decode(ping_field, sizeof(ping_field),
	    &out, &err), FRAME_CODEC_OK);
	frame_codec_free(out);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_FIELD),
	    field0 + 1);

	/* Only successful decodes count: checking for encode does not. */
	assert_int_equal(frame_codec_check(&f, &err), FRAME_CODEC_OK);
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_EVENT_KIND),
	    kind0 + 1);
	/* An event with no kind and nothing unknown is still refused. */
	ev[1].base.n_unknown_fields = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "events.events[1].kind");
	assert_string_equal(frame_codec_skip_name(FRAME_CODEC_SKIP_EVENT_KIND),
	    "event_kind");
}

/* ---- refusals: bytes ------------------------------------------------------ */

/* A large real frame: a snapshot with one full origin. */
static uint8_t *
real_frame(size_t *len)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Snapshot) s = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	PB(OriginState) o = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	PB(OriginState) *origins[] = { &o };
	PB(Cursor) c = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(NodeInfo) info;
	PB(NodeStatus) st;
	PB(TaskUpdate) t;
	PB(TaskUpdate) *tasks[] = { &t };
	PB(Alert) a;
	PB(Alert) *alerts[] = { &a };
	struct frame_codec_error err;
	uint8_t *buf;

	c.origin = "alpha";
	c.incarnation = 5;
	c.seq = 6;
	init_node_info(&info, "alpha");
	init_node_status(&st);
	init_task_update(&t, "t-1", E(TASK_STATE, SUCCEEDED));
	init_alert(&a, "al-1", E(ALERT_STATE, FIRING));
	o.cursor = &c;
	o.info = &info;
	o.status = &st;
	o.n_tasks = 1;
	o.tasks = tasks;
	o.n_alerts = 1;
	o.alerts = alerts;
	s.n_origins = 1;
	s.origins = origins;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = &s;
	assert_int_equal(frame_codec_encode(&f, &buf, len, &err),
	    FRAME_CODEC_OK);
	return buf;
}

static void
test_truncated(void **state)
{
	uint8_t *buf, *copy;
	size_t len;
	PB(Frame) *out;

	(void)state;
	buf = real_frame(&len);
	assert_true(len > 500);
	/*
	 * Every proper prefix cuts the body's length-delimited field short.
	 * Each prefix is copied to its own heap block so ASan would catch a
	 * read past its end.
	 */
	expect_decode_error(buf, 0, FRAME_CODEC_ERR_EMPTY, NULL);
	for (size_t n = 1; n < len; n++) {
		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, buf, n);
		expect_decode_error(copy, n, FRAME_CODEC_ERR_NOT_PROTOBUF, NULL);
		free(copy);
	}
	assert_int_equal(frame_codec_decode(buf, len, &out, NULL),
	    FRAME_CODEC_OK);
	frame_codec_free(out);
	free(buf);
}

static void
test_garbage(void **state)
{
	static const uint8_t ff[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff };
	static const uint8_t text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	/* Field 4 (events) claims 100 bytes, 2 present. */
	static const uint8_t short_len[] = { 0x22, 0x64, 0x0a, 0x00 };
	/* Field 1 with wire type 7 (invalid). */
	static const uint8_t bad_wire[] = { 0x0f, 0x00 };
	static const uint8_t field0[] = { 0x2a, 0x00, 0x80, 0x00, 0x00, 0x3a,
	    0x00, 0x80, 0x00, 0x00 };
	static const uint8_t field0_nested[] = { 0x3a, 0x03, 0x80, 0x00, 0x00 };
	uint8_t *buf, *copy;
	size_t len, nrefused = 0;
	uint32_t x = 0x12345678;
	PB(Frame) *out;
	struct frame_codec_error err;

	(void)state;
	expect_decode_error(ff, sizeof(ff), FRAME_CODEC_ERR_NOT_PROTOBUF, NULL);
	expect_decode_error(text, sizeof(text) - 1,
	    FRAME_CODEC_ERR_NOT_PROTOBUF, NULL);
	expect_decode_error(short_len, sizeof(short_len),
	    FRAME_CODEC_ERR_NOT_PROTOBUF, NULL);
	expect_decode_error(bad_wire, sizeof(bad_wire),
	    FRAME_CODEC_ERR_NOT_PROTOBUF, NULL);
	/* Field number 0, which protobuf-c accepts but cannot round-trip
	 * (found by fuzzing), at the top and inside a Ping. */
	expect_decode_error(field0, sizeof(field0),
	    FRAME_CODEC_ERR_NOT_PROTOBUF, "Frame: field number 0");
	expect_decode_error(field0_nested, sizeof(field0_nested),
	    FRAME_CODEC_ERR_NOT_PROTOBUF, "Ping: field number 0");

	/* Random buffers and random corruptions of a real frame: never a
	 * crash or a leak; anything accepted passes the checks again. */
	buf = real_frame(&len);
	copy = malloc(len);
	assert_non_null(copy);
	for (int round = 0; round < 4000; round++) {
		size_t n = round < 2000 ? (size_t)(round % 97) + 1 : len;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			if (round < 2000)
				copy[i] = (uint8_t)x;
			else
				copy[i] = (x % 50 == 0) ? (uint8_t)(x >> 8) :
				    buf[i];
		}
		if (frame_codec_decode(copy, n, &out, &err) == FRAME_CODEC_OK) {
			assert_int_equal(frame_codec_check(out, NULL),
			    FRAME_CODEC_OK);
			frame_codec_free(out);
		} else {
			assert_null(out);
			assert_true(err.detail[0] != '\0');
			nrefused++;
		}
	}
	assert_true(nrefused > 2000);
	free(copy);
	free(buf);
}

static void
test_oversized(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(EventBatch) b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	PB(Event) ev[65];
	PB(Event) *events[65];
	PB(UserEvent) ue = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	struct frame_codec_error err;
	uint8_t *buf, *enc, small[8];
	size_t len;

	(void)state;
	/* A buffer one byte over the limit is refused before parsing. */
	buf = calloc(1, FRAME_CODEC_MAX_FRAME + 1);
	assert_non_null(buf);
	expect_decode_error(buf, FRAME_CODEC_MAX_FRAME + 1,
	    FRAME_CODEC_ERR_TOO_LARGE, "limit 4194304");
	free(buf);

	/* Every event is valid, the batch is not: 65 x 64 KiB > 4 MiB. */
	buf = calloc(1, FRAME_CODEC_MAX_PAYLOAD);
	assert_non_null(buf);
	ue.name = "blob";
	ue.payload.data = buf;
	ue.payload.len = FRAME_CODEC_MAX_PAYLOAD;
	for (int i = 0; i < 65; i++) {
		init_event(&ev[i], (uint64_t)i + 1);
		ev[i].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
		ev[i].user = &ue;
		events[i] = &ev[i];
	}
	b.n_events = 65;
	b.events = events;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;
	assert_int_equal(frame_codec_check(&f, &err), FRAME_CODEC_OK);
	assert_int_equal(frame_codec_encode(&f, &enc, &len, &err),
	    FRAME_CODEC_ERR_TOO_LARGE);
	assert_null(enc);
	assert_non_null(strstr(err.detail, "limit 4194304"));
	enc = pack_raw(&f, &len);
	assert_true(len > FRAME_CODEC_MAX_FRAME);
	expect_decode_error(enc, len, FRAME_CODEC_ERR_TOO_LARGE,
	    "limit 4194304");
	free(enc);
	assert_int_equal(frame_codec_encode_into(&f, small, sizeof(small),
	    &len, &err), FRAME_CODEC_ERR_TOO_LARGE);
	assert_int_equal(len, 0);
	free(buf);
}

static void
test_memory_budget(void **state)
{
	uint8_t *buf;
	size_t n = 1000000, len = 4 + 2 * n;

	(void)state;
	/*
	 * Frame{events: EventBatch{events: [Event{}] x 1e6}}: 2 MB of input
	 * that protobuf-c would turn into ~100 MB of structs.  The budget
	 * stops it during unpacking, before the count check could.
	 */
	buf = malloc(len);
	assert_non_null(buf);
	buf[0] = 0x22;			/* field 4, length-delimited */
	buf[1] = 0x80 | ((2 * n) & 0x7f);
	buf[2] = 0x80 | (((2 * n) >> 7) & 0x7f);
	buf[3] = (uint8_t)((2 * n) >> 14);
	for (size_t i = 0; i < n; i++) {
		buf[4 + 2 * i] = 0x0a;	/* field 1, length-delimited */
		buf[5 + 2 * i] = 0x00;	/* empty Event */
	}
	expect_decode_error(buf, len, FRAME_CODEC_ERR_MEMORY, "memory");
	free(buf);
}

static void
test_empty_frame(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	struct frame_codec_error err;
	uint8_t *enc = (void *)1;
	size_t len = 1;

	(void)state;
	expect_decode_error(NULL, 0, FRAME_CODEC_ERR_EMPTY, "no body");
	expect_invalid(&f, FRAME_CODEC_ERR_EMPTY, "no body");
	assert_int_equal(frame_codec_check(NULL, &err), FRAME_CODEC_ERR_EMPTY);
	assert_string_equal(frame_codec_body_name(&f), "none");
	assert_string_equal(frame_codec_body_name(NULL), "none");

	/* A body case set with no body behind it (caller bug on encode). */
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PING;
	assert_int_equal(frame_codec_check(&f, &err), FRAME_CODEC_ERR_MISSING);
	assert_int_equal(frame_codec_encode(&f, &enc, &len, &err),
	    FRAME_CODEC_ERR_MISSING);
	assert_null(enc);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.detail, "ping: absent"));
}

/* ---- refusals: bounds ---------------------------------------------------- */

static void
test_bad_node_ids(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Hello) h = AGENTFLOW__MESH__V1__HELLO__INIT;
	PB(NodeInfo) info;
	PB(Cursor) c = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(Cursor) *cursors[] = { &c };
	char long_id[NODE_ID_MAX + 2];
	static char *bad[] = { "", "-alpha", "al pha", "alpha/..", "al\xc3\xa9" };

	(void)state;
	init_node_info(&info, "alpha");
	c.origin = "beta";
	c.incarnation = 1;
	h.info = &info;
	h.protocol_version = 1;
	h.n_cursors = 1;
	h.cursors = cursors;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		info.node_id = bad[i];
		expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID,
		    "hello.info.node_id: not a node id");
	}
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	info.node_id = long_id;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "64 bytes given");
	long_id[NODE_ID_MAX] = '\0';	/* 63: the longest valid id */
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);

	info.node_id = "alpha";
	c.origin = "beta!";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "hello.cursors[0].origin");
	c.origin = "beta";

	/* Missing NodeInfo, zero incarnation, zero protocol version. */
	h.info = NULL;
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "hello.info: absent");
	h.info = &info;
	info.incarnation = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "hello.info.incarnation");
	info.incarnation = 1;
	h.protocol_version = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "hello.protocol_version");
	h.protocol_version = 1;

	/* max_links: -1 (no limit), 0 (not said) .. 1024, nothing else. */
	h.max_links = -1;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	h.max_links = FRAME_CODEC_MAX_LINKS;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	h.max_links = -2;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "hello.max_links");
	h.max_links = FRAME_CODEC_MAX_LINKS + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "hello.max_links");
}

static void
test_bad_labels_and_addresses(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Hello) h = AGENTFLOW__MESH__V1__HELLO__INIT;
	PB(NodeInfo) info;
	PB(Label) l[FRAME_CODEC_MAX_LABELS + 1];
	PB(Label) *lp[FRAME_CODEC_MAX_LABELS + 1];
	char keys[FRAME_CODEC_MAX_LABELS + 1][8];
	char *addrs[FRAME_CODEC_MAX_ADDRESSES + 1];
	char long_addr[FRAME_CODEC_MAX_ADDRESS_LEN + 2];

	(void)state;
	init_node_info(&info, "alpha");
	h.info = &info;
	h.protocol_version = 1;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_HELLO;
	f.hello = &h;
	for (int i = 0; i <= FRAME_CODEC_MAX_LABELS; i++) {
		agentflow__mesh__v1__label__init(&l[i]);
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		l[i].key = keys[i];
		l[i].value = "v";
		lp[i] = &l[i];
	}
	info.labels = lp;
	info.n_labels = FRAME_CODEC_MAX_LABELS;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	info.n_labels = FRAME_CODEC_MAX_LABELS + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY,
	    "hello.info.labels: 33 entries, limit 32");
	info.n_labels = 3;
	l[2].key = "k0";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE,
	    "hello.info.labels[2].key: duplicate");
	l[2].key = "bad key";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_STRING, "hello.info.labels[2].key");
	l[2].key = "k2";
	l[2].value = "line\nbreak";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_STRING,
	    "hello.info.labels[2].value");
	l[2].value = "v";

	for (int i = 0; i <= FRAME_CODEC_MAX_ADDRESSES; i++)
		addrs[i] = "192.0.2.1:50051";
	info.addresses = addrs;
	info.n_addresses = FRAME_CODEC_MAX_ADDRESSES;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	info.n_addresses = FRAME_CODEC_MAX_ADDRESSES + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY, "hello.info.addresses");
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	addrs[1] = long_addr;
	info.n_addresses = 2;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG,
	    "hello.info.addresses[1]: 256 bytes, limit 255");
	addrs[1] = "";
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "hello.info.addresses[1]");
	addrs[1] = "192.0.2.1:50051";
	info.version = "0.1.0-with-a-very-long-suffix-xyz";
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG, "hello.info.version");
}

/* A batch of n copies of one user event with the given payload length. */
struct batch {
	PB(Frame)	 f;
	PB(EventBatch)	 b;
	PB(Event)	*ev;
	PB(Event)	**evp;
	PB(UserEvent)	 ue;
	uint8_t		*payload;
};

static void
batch_init(struct batch *bt, size_t n, size_t payload_len)
{
	agentflow__mesh__v1__frame__init(&bt->f);
	agentflow__mesh__v1__event_batch__init(&bt->b);
	agentflow__mesh__v1__user_event__init(&bt->ue);
	bt->payload = calloc(1, payload_len + 1);
	bt->ev = calloc(n + 1, sizeof(*bt->ev));
	bt->evp = calloc(n + 1, sizeof(*bt->evp));
	assert_non_null(bt->payload);
	assert_non_null(bt->ev);
	assert_non_null(bt->evp);
	bt->ue.name = "ping";
	bt->ue.payload.data = bt->payload;
	bt->ue.payload.len = payload_len;
	for (size_t i = 0; i < n; i++) {
		init_event(&bt->ev[i], i + 1);
		bt->ev[i].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
		bt->ev[i].user = &bt->ue;
		bt->evp[i] = &bt->ev[i];
	}
	bt->b.n_events = n;
	bt->b.events = bt->evp;
	bt->f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	bt->f.events = &bt->b;
}

static void
batch_clear(struct batch *bt)
{
	free(bt->payload);
	free(bt->ev);
	free(bt->evp);
}

static void
test_bad_events(void **state)
{
	struct batch bt;
	PB(Event) *e;
	PB(TaskLog) tl = AGENTFLOW__MESH__V1__TASK_LOG__INIT;
	PB(NodeStatus) st;
	PB(TaskUpdate) tu;
	PB(Alert) al;
	char line[FRAME_CODEC_MAX_LOG_LINE + 2];
	PB(Frame) *out;

	(void)state;
	/* Counts: 1024 events pass, 1025 and 0 do not. */
	batch_init(&bt, FRAME_CODEC_MAX_EVENTS + 1, 16);
	bt.b.n_events = FRAME_CODEC_MAX_EVENTS;
	out = roundtrip(&bt.f);
	assert_int_equal(out->events->n_events, FRAME_CODEC_MAX_EVENTS);
	frame_codec_free(out);
	bt.b.n_events = FRAME_CODEC_MAX_EVENTS + 1;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_TOO_MANY,
	    "events.events: 1025 entries, limit 1024");
	bt.b.n_events = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_MISSING, "events.events: empty");
	batch_clear(&bt);

	/* Payload: 64 KiB passes (test_events_every_kind), one more does not. */
	batch_init(&bt, 3, FRAME_CODEC_MAX_PAYLOAD + 1);
	expect_invalid(&bt.f, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].user.payload: 65537 bytes, limit 65536");
	bt.ue.payload.len = 10;

	/* Header fields, on the third event. */
	e = &bt.ev[2];
	e->origin = "no such/node";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[2].origin");
	e->origin = "alpha";
	e->seq = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE, "events.events[2].seq");
	e->seq = 3;
	e->incarnation = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].incarnation");
	e->incarnation = 1;
	e->hop_limit = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].hop_limit");
	e->hop_limit = FRAME_CODEC_MAX_HOPS + 1;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].hop_limit");
	e->hop_limit = 4;
	e->hops = 5;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE, "events.events[2].hops");
	e->hops = 0;
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_MISSING, "events.events[2].kind");
	bt.ue.name = "";
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_MISSING,
	    "events.events[0].user.name");
	bt.ue.name = "ping";

	/* Task log: enum, seq, text. */
	tl.task_id = "t-1";
	tl.stream = E(LOG_STREAM, STDOUT);
	tl.line_seq = 1;
	tl.text = "ok";
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_LOG;
	e->log = &tl;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	tl.stream = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_ENUM,
	    "events.events[2].log.stream: unspecified");
	tl.stream = 3;		/* a newer peer's value: kept, counted */
	expect_skipped(&bt.f, FRAME_CODEC_SKIP_ENUM);
	tl.stream = E(LOG_STREAM, STDOUT);
	tl.line_seq = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].log.line_seq");
	tl.line_seq = 1;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	tl.text = line;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[2].log.text: 4097 bytes, limit 4096");
	line[FRAME_CODEC_MAX_LOG_LINE] = '\0';
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	tl.text = "bad \xc3\x28 utf-8";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[2].log.text: not valid UTF-8");
	tl.text = "overlong \xc0\xaf slash";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[2].log.text");
	tl.text = "surrogate \xed\xa0\x80";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[2].log.text");
	tl.text = "cut \xe2\x82";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[2].log.text");
	tl.text = "ok";
	tl.task_id = "../etc/passwd";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[2].log.task_id");
	tl.task_id = "t-1";

	/* Node status: numbers and the link table. */
	init_node_status(&st);
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e->status = &st;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	st.cpu_percent = NAN;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].status.cpu_percent: not a finite number");
	st.cpu_percent = 100.5;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].status.cpu_percent");
	st.cpu_percent = 1;
	st.load5 = INFINITY;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].status.load5");
	st.load5 = 1;
	st.net_tx_bytes_per_s = -1;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].status.net_tx_bytes_per_s");
	st.net_tx_bytes_per_s = 1;
	link_conn.peer = "gamma gamma";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[2].status.links[1].peer");
	link_conn.peer = "gamma";
	link_down.state = 9;
	expect_skipped(&bt.f, FRAME_CODEC_SKIP_ENUM);
	link_down.state = E(LINK_STATE, DOWN);
	members_arr[3].state = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_ENUM,
	    "events.events[2].status.members[3].state");
	members_arr[3].state = E(MEMBER_STATE, LEFT);
	st.n_links = FRAME_CODEC_MAX_NODES + 1;
	assert_int_equal(frame_codec_check(&bt.f, NULL),
	    FRAME_CODEC_ERR_TOO_MANY);
	st.n_links = 3;
	/* statuses_from past the event's seq is not the frame's fault: an
	 * older relay passes on an origin's lie, and a refused frame would
	 * close its link (sync_statuses_between ignores it) */
	st.statuses_from = e->seq + 1;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	st.statuses_from = 0;

	/* Task update. */
	init_task_update(&tu, "t-1", E(TASK_STATE, TIMED_OUT));
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TASK;
	e->task = &tu;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	tu.state = 8;
	expect_skipped(&bt.f, FRAME_CODEC_SKIP_ENUM);
	tu.state = E(TASK_STATE, CANCELLED);
	tu.term_signal = 129;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].task.term_signal");
	tu.term_signal = 0;
	tu.name = "tab\tname";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[2].task.name");
	tu.name = "backup";
	tu.command_id = "";	/* optional */
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	tu.command_id = "not an id";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[2].task.command_id");
	tu.command_id = "";
	e->task = NULL;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_ERR_MISSING);

	/* Alert. */
	init_alert(&al, "al-1", E(ALERT_STATE, FIRING));
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ALERT;
	e->alert = &al;
	assert_int_equal(frame_codec_check(&bt.f, NULL), FRAME_CODEC_OK);
	al.severity = 0;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_ENUM,
	    "events.events[2].alert.severity");
	al.severity = E(ALERT_SEVERITY, INFO);
	al.value = -NAN;
	expect_invalid(&bt.f, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[2].alert.value");
	al.value = -5;
	al.rule = "";
	expect_invalid(&bt.f, FRAME_CODEC_ERR_MISSING,
	    "events.events[2].alert.rule");
	batch_clear(&bt);
}

static void
test_bad_snapshot(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Snapshot) s = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	PB(OriginState) o = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT;
	PB(OriginState) *origins[] = { &o, NULL };
	PB(Cursor) c = AGENTFLOW__MESH__V1__CURSOR__INIT;
	PB(NodeInfo) info, info2;
	PB(NodeStatus) st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	PB(Alert) a;
	PB(Alert) **alerts;
	char reason[FRAME_CODEC_MAX_TEXT + 2];
	PB(TaskUpdate) t;
	PB(TaskUpdate) *tasks[] = { &t };

	(void)state;
	c.origin = "alpha";
	c.incarnation = 5;
	init_node_info(&info, "alpha");
	init_node_info(&info2, "alpha");
	info2.incarnation = 5;
	o.cursor = &c;
	o.info = &info;
	s.n_origins = 1;
	s.origins = origins;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = &s;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);

	info.node_id = "beta";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].info: node_id \"beta\" is not the cursor's");
	info.node_id = "alpha";
	o.cursor = NULL;
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING,
	    "snapshot.origins[0].cursor: absent");
	o.cursor = &c;
	c.incarnation = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].cursor.incarnation");
	c.incarnation = 5;

	/* A status carries its own origin's NodeInfo, checked like the rest. */
	st.info = &info2;
	o.status = &st;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	info2.node_id = "beta";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].status.info: node_id \"beta\" is not the origin");
	info2.node_id = "alpha";
	info2.incarnation = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].status.info.incarnation");
	info2.incarnation = 5;
	o.status = NULL;

	/* Alerts: 256 pass, 257 do not. */
	init_alert(&a, "al-1", E(ALERT_STATE, FIRING));
	alerts = calloc(FRAME_CODEC_MAX_ALERTS + 1, sizeof(*alerts));
	assert_non_null(alerts);
	for (int i = 0; i <= FRAME_CODEC_MAX_ALERTS; i++)
		alerts[i] = &a;
	o.alerts = alerts;
	o.n_alerts = FRAME_CODEC_MAX_ALERTS;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	o.n_alerts = FRAME_CODEC_MAX_ALERTS + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].alerts: 257 entries, limit 256");
	o.n_alerts = 0;
	free(alerts);

	/* A task's reason one byte too long. */
	init_task_update(&t, "t-1", E(TASK_STATE, QUEUED));
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	t.reason = reason;
	o.n_tasks = 1;
	o.tasks = tasks;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG,
	    "snapshot.origins[0].tasks[0].reason: 1025 bytes, limit 1024");
	t.reason = "";

	/* A NULL origin entry (caller bug, caught on encode). */
	s.n_origins = 2;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_ERR_MISSING);
}

static void
test_bad_commands(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Command) c;
	PB(LabelSelector) sel = AGENTFLOW__MESH__V1__LABEL_SELECTOR__INIT;
	PB(CommandResult) r = AGENTFLOW__MESH__V1__COMMAND_RESULT__INIT;
	struct frame_codec_error err;
	char *long_path[FRAME_CODEC_MAX_HOPS + 1];
	uint8_t *args;

	(void)state;
	init_command(&c);
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	c.node_id = "gamma";
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = &c;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);

	c.node_id = "gam ma";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "command.node_id");
	c.node_id = "gamma";
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET__NOT_SET;
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "command.target");
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL;
	c.all = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "command.all");
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR;
	c.selector = &sel;
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "command.selector.match");
	/* On the wire an absent selector is no target at all (above); only a
	 * caller can build this, and encode refuses it. */
	c.selector = NULL;
	assert_int_equal(frame_codec_check(&f, &err), FRAME_CODEC_ERR_MISSING);
	assert_string_equal(err.detail, "command.selector: absent");
	c.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	c.node_id = "gamma";	/* the oneof shares storage */

	c.id = "";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_ID, "command.id");
	c.id = "c-1";
	c.destination = "";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "command.destination");
	c.destination = "gamma";
	c.type = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_ENUM, "command.type");
	c.type = -3;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_ENUM, "command.type");
	c.type = E(COMMAND_TYPE, PING);
	c.principal = "";
	expect_invalid(&f, FRAME_CODEC_ERR_MISSING, "command.principal");
	c.principal = "rw";

	args = calloc(1, FRAME_CODEC_MAX_PAYLOAD + 1);
	assert_non_null(args);
	c.args_json.data = args;
	c.args_json.len = FRAME_CODEC_MAX_PAYLOAD + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_LONG,
	    "command.args_json: 65537 bytes, limit 65536");
	c.args_json.len = 2;
	free(args);
	c.args_json.data = (uint8_t *)"{}";

	c.hops = 5;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "command.hops");
	c.hops = 0;
	for (int i = 0; i <= FRAME_CODEC_MAX_HOPS; i++)
		long_path[i] = "relay";
	c.path = long_path;
	c.n_path = FRAME_CODEC_MAX_HOPS + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY,
	    "command.path: 17 entries, limit 16");
	c.n_path = 2;
	long_path[1] = "re lay";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "command.path[1]");
	c.n_path = 0;

	r.command_id = "c-1";
	r.node = "gamma";
	r.requester = "alpha";
	r.status = E(COMMAND_STATUS, OK);
	r.hop_limit = 2;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT;
	f.command_result = &r;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	r.status = 0;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_ENUM, "command_result.status");
	r.status = 99;
	expect_skipped(&f, FRAME_CODEC_SKIP_ENUM);
	r.status = E(COMMAND_STATUS, ERROR);
	r.requester = "alpha!";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "command_result.requester");
	r.requester = "alpha";
	r.command_path = long_path;
	r.n_command_path = 2;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "command_result.command_path[1]");
	r.n_command_path = 0;
	r.error = "bad \xff byte";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_STRING, "command_result.error");
}

static void
test_bad_leave_and_request(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT;
	PB(Leave) l = AGENTFLOW__MESH__V1__LEAVE__INIT;
	PB(SnapshotRequest) r = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	char **origins;

	(void)state;
	l.node_id = "alpha";
	l.incarnation = 0;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE;
	f.leave = &l;
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_VALUE, "leave.incarnation");
	l.incarnation = 1;
	l.node_id = ".alpha";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "leave.node_id");

	origins = calloc(FRAME_CODEC_MAX_NODES + 1, sizeof(*origins));
	assert_non_null(origins);
	for (int i = 0; i <= FRAME_CODEC_MAX_NODES; i++)
		origins[i] = "alpha";
	r.origins = origins;
	r.n_origins = FRAME_CODEC_MAX_NODES;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &r;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	r.n_origins = FRAME_CODEC_MAX_NODES + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot_request.origins: 1025 entries, limit 1024");
	free(origins);
}

/* An Offer (sync_pull.c): cursors, bounded and checked like a request's. */
static void
test_offer(void **state)
{
	PB(Frame) f = AGENTFLOW__MESH__V1__FRAME__INIT, *out;
	PB(Offer) o = AGENTFLOW__MESH__V1__OFFER__INIT;
	PB(Cursor) c = AGENTFLOW__MESH__V1__CURSOR__INIT, **many;

	(void)state;
	c.origin = "beta.lan";
	c.incarnation = 3;
	c.seq = 41;
	many = calloc(FRAME_CODEC_MAX_NODES + 1, sizeof(*many));
	assert_non_null(many);
	for (int i = 0; i <= FRAME_CODEC_MAX_NODES; i++)
		many[i] = &c;
	o.cursors = many;
	o.n_cursors = 1;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_OFFER;
	f.offer = &o;
	out = roundtrip(&f);
	assert_int_equal(out->offer->n_cursors, 1);
	assert_string_equal(out->offer->cursors[0]->origin, "beta.lan");
	assert_true(out->offer->cursors[0]->seq == 41);
	frame_codec_free(out);
	assert_string_equal(frame_codec_body_name(&f), "offer");

	o.n_cursors = FRAME_CODEC_MAX_NODES;
	assert_int_equal(frame_codec_check(&f, NULL), FRAME_CODEC_OK);
	o.n_cursors = FRAME_CODEC_MAX_NODES + 1;
	expect_invalid(&f, FRAME_CODEC_ERR_TOO_MANY,
	    "offer.cursors: 1025 entries, limit 1024");
	o.n_cursors = 1;
	c.origin = "../etc";
	expect_invalid(&f, FRAME_CODEC_ERR_BAD_NODE_ID, "offer.cursors[0].origin");
	free(many);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(frame_codec_strerror(FRAME_CODEC_OK), "ok");
	for (int c = FRAME_CODEC_ERR_TOO_LARGE; c <= FRAME_CODEC_ERR_BAD_VALUE;
	    c++) {
		const char *s = frame_codec_strerror(c);

		assert_non_null(s);
		assert_string_not_equal(s, "unknown frame codec error");
	}
	assert_string_equal(frame_codec_strerror(999),
	    "unknown frame codec error");
	frame_codec_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_snapshot_request),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_events_every_kind),
		cmocka_unit_test(test_command_targets),
		cmocka_unit_test(test_command_principal_proof),
		cmocka_unit_test(test_command_result),
		cmocka_unit_test(test_ping_pong_leave),
		cmocka_unit_test(test_unknown_fields_kept),
		cmocka_unit_test(test_newer_peer_skipped),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_memory_budget),
		cmocka_unit_test(test_empty_frame),
		cmocka_unit_test(test_bad_node_ids),
		cmocka_unit_test(test_bad_labels_and_addresses),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_bad_snapshot),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_bad_leave_and_request),
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
