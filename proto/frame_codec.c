/*
 * Frame decoding with bounds (see frame_codec.h).
 *
 * Decoding is two steps: protobuf-c unpacks the bytes through an allocator
 * with a budget (a Frame of empty sub-messages costs ~50 bytes of heap per
 * byte of input, so the budget, not the frame size, bounds memory), then
 * check_frame() walks the result and refuses anything outside mesh.proto's
 * bounds.  Only a Frame that passed both reaches the caller.
 *
 * The walk costs nothing extra on success: a failing check records its
 * field name and message, and each enclosing level adds its own segment of
 * the path while returning, so the detail ("snapshot.origins[2].tasks[7].
 * reason: ...") is only built when something is wrong.
 */
#include "frame_codec.h"
#include "frame_codec_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_id.h"
#include "text.h"
#include "token.h"

static _Atomic uint64_t skipped[FRAME_CODEC_SKIP_N];

static const char *const skip_names[FRAME_CODEC_SKIP_N] = {
	[FRAME_CODEC_SKIP_FRAME_BODY] = "frame_body",
	[FRAME_CODEC_SKIP_EVENT_KIND] = "event_kind",
	[FRAME_CODEC_SKIP_COMMAND_TYPE] = "command_type",
	[FRAME_CODEC_SKIP_ENUM] = "enum",
	[FRAME_CODEC_SKIP_FIELD] = "field",
};

const char *
frame_codec_skip_name(enum frame_codec_skip what)
{
	return (unsigned)what < FRAME_CODEC_SKIP_N ? skip_names[what] : "?";
}

uint64_t
frame_codec_skipped(enum frame_codec_skip what)
{
	return (unsigned)what < FRAME_CODEC_SKIP_N ? skipped[what] : 0;
}

void
frame_codec_skip_count(enum frame_codec_skip what, uint64_t n)
{
	if ((unsigned)what < FRAME_CODEC_SKIP_N)
		skipped[what] += n;
}

static const char *const errstr[] = {
	[FRAME_CODEC_OK] = "ok",
	[FRAME_CODEC_ERR_TOO_LARGE] = "frame too large",
	[FRAME_CODEC_ERR_NOT_PROTOBUF] = "not a protobuf-encoded Frame",
	[FRAME_CODEC_ERR_MEMORY] = "frame needs too much memory to decode",
	[FRAME_CODEC_ERR_EMPTY] = "frame has no body",
	[FRAME_CODEC_ERR_MISSING] = "required field missing",
	[FRAME_CODEC_ERR_BAD_NODE_ID] = "invalid node id",
	[FRAME_CODEC_ERR_BAD_ID] = "invalid id",
	[FRAME_CODEC_ERR_BAD_STRING] = "invalid string",
	[FRAME_CODEC_ERR_TOO_LONG] = "string or bytes too long",
	[FRAME_CODEC_ERR_TOO_MANY] = "too many entries",
	[FRAME_CODEC_ERR_BAD_ENUM] = "invalid enum value",
	[FRAME_CODEC_ERR_BAD_VALUE] = "value out of range",
};

const char *
frame_codec_strerror(enum frame_codec_err code)
{
	if ((size_t)code >= sizeof(errstr) / sizeof(errstr[0]) ||
	    errstr[code] == NULL)
		return "unknown frame codec error";
	return errstr[code];
}

/* Frame body names by oneof case (the field numbers of mesh.proto). */
static const char *const body_names[] = {
	[AGENTFLOW__MESH__V1__FRAME__BODY_HELLO] = "hello",
	[AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST] = "snapshot_request",
	[AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT] = "snapshot",
	[AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS] = "events",
	[AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND] = "command",
	[AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT] = "command_result",
	[AGENTFLOW__MESH__V1__FRAME__BODY_PING] = "ping",
	[AGENTFLOW__MESH__V1__FRAME__BODY_PONG] = "pong",
	[AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE] = "leave",
	[AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST] = "artifact_request",
	[AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK] = "artifact_chunk",
	[AGENTFLOW__MESH__V1__FRAME__BODY_OFFER] = "offer",
};

static bool
body_known(const PB(Frame) *f)
{
	return (size_t)f->body_case < sizeof(body_names) / sizeof(body_names[0])
	    && body_names[f->body_case] != NULL;
}

const char *
frame_codec_body_name(const PB(Frame) *f)
{
	if (f == NULL || !body_known(f))
		return "none";
	return body_names[f->body_case];
}

static void
set_error(struct frame_codec_error *err, enum frame_codec_err code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_error(struct frame_codec_error *err, enum frame_codec_err code,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

static int
check_hops(struct ck *ck, uint32_t hops, uint32_t hop_limit)
{
	if (hop_limit < 1 || hop_limit > FRAME_CODEC_MAX_HOPS)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "hop_limit",
		    "%u outside 1..%d", hop_limit, FRAME_CODEC_MAX_HOPS);
	if (hops > hop_limit)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "hops",
		    "%u above hop_limit %u", hops, hop_limit);
	return 0;
}

static int
check_node_ids(struct ck *ck, const char *field, size_t n, char **ids,
    size_t max)
{
	size_t i;

	CHECK(ck, check_count(ck, NULL, n, ids, max), field, -1);
	for (i = 0; i < n; i++)
		if (check_node_id(ck, NULL, ids[i]) != 0)
			return up(ck, field, (long)i);
	return 0;
}

static int
check_label(struct ck *ck, const PB(Label) *l)
{
	CHECK(ck, check_present(ck, NULL, l), NULL, -1);
	if (!text_label_key_valid(str(l->key), strlen(str(l->key))))
		return fail(ck, FRAME_CODEC_ERR_BAD_STRING, "key",
		    "not a label key (1-%d of [A-Za-z0-9._/-])",
		    FRAME_CODEC_MAX_LABEL_KEY);
	return check_str(ck, "value", l->value, 0,
	    FRAME_CODEC_MAX_LABEL_VALUE, true);
}

/* Labels: each valid, keys unique (at most 32, so quadratic is fine). */
static int
check_labels(struct ck *ck, const char *field, size_t n, PB(Label) **labels,
    size_t min)
{
	size_t i, j;

	CHECK(ck, check_count(ck, NULL, n, labels, FRAME_CODEC_MAX_LABELS),
	    field, -1);
	if (n < min)
		return fail(ck, FRAME_CODEC_ERR_MISSING, field,
		    "at least %zu entries required", min);
	for (i = 0; i < n; i++) {
		CHECK(ck, check_label(ck, labels[i]), field, (long)i);
		for (j = 0; j < i; j++)
			if (strcmp(str(labels[i]->key), str(labels[j]->key)) ==
			    0) {
				fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "key",
				    "duplicate label key \"%s\"",
				    str(labels[i]->key));
				return up(ck, field, (long)i);
			}
	}
	return 0;
}

/* ---- messages ---------------------------------------------------------- */

/* An Ed25519 signature: 64 bytes, or none (a sender from before them). */
static int
check_signature(struct ck *ck, const char *field, const ProtobufCBinaryData *b)
{
	CHECK(ck, check_bytes(ck, field, b, FRAME_CODEC_SIGNATURE), NULL, -1);
	if (b->len != 0 && b->len != FRAME_CODEC_SIGNATURE)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "%zu bytes; an Ed25519 signature has %u", b->len,
		    FRAME_CODEC_SIGNATURE);
	return 0;
}

static int
check_origin_key(struct ck *ck, const PB(OriginKey) *k)
{
	CHECK(ck, check_bytes(ck, "cert", &k->cert, FRAME_CODEC_MAX_CERT), NULL,
	    -1);
	if (k->cert.len == 0)
		return fail(ck, FRAME_CODEC_ERR_MISSING, "cert", "empty");
	CHECK(ck, check_nonzero(ck, "incarnation", k->incarnation), NULL, -1);
	if (k->public_key.len != FRAME_CODEC_PUBLIC_KEY ||
	    k->public_key.data == NULL)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "public_key",
		    "%zu bytes; an Ed25519 key has %u", k->public_key.len,
		    FRAME_CODEC_PUBLIC_KEY);
	CHECK(ck, check_bytes(ck, "signature", &k->signature,
	    FRAME_CODEC_MAX_KEY_SIGNATURE), NULL, -1);
	if (k->signature.len == 0)
		return fail(ck, FRAME_CODEC_ERR_MISSING, "signature", "empty");
	return 0;
}

static int
check_node_info(struct ck *ck, const PB(NodeInfo) *n)
{
	size_t i;

	if (n->key != NULL)
		CHECK(ck, check_origin_key(ck, n->key), "key", -1);

	CHECK(ck, check_node_id(ck, "node_id", n->node_id), NULL, -1);
	CHECK(ck, check_nonzero(ck, "incarnation", n->incarnation), NULL, -1);
	CHECK(ck, check_str(ck, "version", n->version, 0,
	    FRAME_CODEC_MAX_VERSION, true), NULL, -1);
	CHECK(ck, check_count(ck, "addresses", n->n_addresses, n->addresses,
	    FRAME_CODEC_MAX_ADDRESSES), NULL, -1);
	for (i = 0; i < n->n_addresses; i++)
		if (check_str(ck, NULL, n->addresses[i], 1,
		    FRAME_CODEC_MAX_ADDRESS_LEN, true) != 0)
			return up(ck, "addresses", (long)i);
	CHECK(ck, check_labels(ck, "labels", n->n_labels, n->labels, 0),
	    NULL, -1);
	return check_str(ck, "hostname", n->hostname, 0,
	    FRAME_CODEC_MAX_HOSTNAME, true);
}

static int
check_cursor(struct ck *ck, const PB(Cursor) *c)
{
	CHECK(ck, check_present(ck, NULL, c), NULL, -1);
	CHECK(ck, check_node_id(ck, "origin", c->origin), NULL, -1);
	return check_nonzero(ck, "incarnation", c->incarnation);
}

static int check_command(struct ck *, const PB(Command) *);

static int
check_hello(struct ck *ck, const PB(Hello) *h)
{
	size_t i;

	CHECK(ck, check_present(ck, "info", h->info), NULL, -1);
	CHECK(ck, check_node_info(ck, h->info), "info", -1);
	if (h->protocol_version == 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "protocol_version",
		    "must not be 0");
	CHECK(ck, check_count(ck, "cursors", h->n_cursors, h->cursors,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (i = 0; i < h->n_cursors; i++)
		CHECK(ck, check_cursor(ck, h->cursors[i]), "cursors", (long)i);
	if (h->max_links < -1 || h->max_links > FRAME_CODEC_MAX_LINKS)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "max_links",
		    "must be -1..1024");
	CHECK(ck, check_count(ck, "features", h->n_features, h->features,
	    FRAME_CODEC_MAX_FEATURES), NULL, -1);
	for (i = 0; i < h->n_features; i++)
		if (check_name(ck, NULL, h->features[i]) != 0)
			return up(ck, "features", (long)i);
	if (h->freeze != NULL)
		CHECK(ck, check_command(ck, h->freeze), "freeze", -1);
	return 0;
}

static int
check_snapshot_request(struct ck *ck, const PB(SnapshotRequest) *r)
{
	size_t i;

	CHECK(ck, check_node_ids(ck, "origins", r->n_origins, r->origins,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	CHECK(ck, check_count(ck, "cursors", r->n_cursors, r->cursors,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (i = 0; i < r->n_cursors; i++)
		CHECK(ck, check_cursor(ck, r->cursors[i]), "cursors", (long)i);
	return 0;
}

static int
check_offer(struct ck *ck, const PB(Offer) *o)
{
	CHECK(ck, check_count(ck, "cursors", o->n_cursors, o->cursors,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (size_t i = 0; i < o->n_cursors; i++)
		CHECK(ck, check_cursor(ck, o->cursors[i]), "cursors", (long)i);
	return 0;
}

static int
check_link_info(struct ck *ck, const PB(LinkInfo) *l)
{
	CHECK(ck, check_present(ck, NULL, l), NULL, -1);
	CHECK(ck, check_node_id(ck, "peer", l->peer), NULL, -1);
	return check_enum(ck, "state", &agentflow__mesh__v1__link_state__descriptor,
	    (int)l->state);
}

static int
check_member_info(struct ck *ck, const PB(MemberInfo) *m)
{
	CHECK(ck, check_present(ck, NULL, m), NULL, -1);
	CHECK(ck, check_node_id(ck, "node_id", m->node_id), NULL, -1);
	return check_enum(ck, "state",
	    &agentflow__mesh__v1__member_state__descriptor, (int)m->state);
}

static int
check_node_status(struct ck *ck, const PB(NodeStatus) *s)
{
	size_t i;

	CHECK(ck, check_real(ck, "cpu_percent", s->cpu_percent, 0, 100), NULL,
	    -1);
	CHECK(ck, check_real(ck, "load1", s->load1, 0, HUGE_VAL), NULL, -1);
	CHECK(ck, check_real(ck, "load5", s->load5, 0, HUGE_VAL), NULL, -1);
	CHECK(ck, check_real(ck, "load15", s->load15, 0, HUGE_VAL), NULL, -1);
	CHECK(ck, check_real(ck, "net_rx_bytes_per_s", s->net_rx_bytes_per_s,
	    0, HUGE_VAL), NULL, -1);
	CHECK(ck, check_real(ck, "net_tx_bytes_per_s", s->net_tx_bytes_per_s,
	    0, HUGE_VAL), NULL, -1);
	CHECK(ck, check_count(ck, "links", s->n_links, s->links,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (i = 0; i < s->n_links; i++)
		CHECK(ck, check_link_info(ck, s->links[i]), "links", (long)i);
	CHECK(ck, check_count(ck, "members", s->n_members, s->members,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (i = 0; i < s->n_members; i++)
		CHECK(ck, check_member_info(ck, s->members[i]), "members",
		    (long)i);
	if (s->info != NULL)
		CHECK(ck, check_node_info(ck, s->info), "info", -1);
	return 0;
}

/* A status speaks for its origin only: the NodeInfo it carries is that
 * node's (checked after check_node_status). */
static int
check_status_owner(struct ck *ck, const PB(NodeStatus) *s, const char *origin)
{
	if (s->info != NULL && strcmp(str(s->info->node_id), str(origin)) != 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "info",
		    "node_id \"%s\" is not the origin \"%s\"",
		    str(s->info->node_id), str(origin));
	return 0;
}

static int check_event(struct ck *, const PB(Event) *);

static int
check_origin_state(struct ck *ck, const PB(OriginState) *o)
{
	size_t i;

	CHECK(ck, check_present(ck, NULL, o), NULL, -1);
	CHECK(ck, check_present(ck, "cursor", o->cursor), NULL, -1);
	CHECK(ck, check_cursor(ck, o->cursor), "cursor", -1);
	if (o->info != NULL) {
		CHECK(ck, check_node_info(ck, o->info), "info", -1);
		if (strcmp(str(o->info->node_id), str(o->cursor->origin)) != 0)
			return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "info",
			    "node_id \"%s\" is not the cursor's origin \"%s\"",
			    str(o->info->node_id), str(o->cursor->origin));
	}
	if (o->status != NULL) {
		CHECK(ck, check_node_status(ck, o->status), "status", -1);
		CHECK(ck, check_status_owner(ck, o->status, o->cursor->origin),
		    "status", -1);
	}
	CHECK(ck, check_count(ck, "tasks", o->n_tasks, o->tasks,
	    FRAME_CODEC_MAX_TASKS), NULL, -1);
	for (i = 0; i < o->n_tasks; i++)
		CHECK(ck, fc_check_task_update(ck, o->tasks[i]), "tasks", (long)i);
	CHECK(ck, check_count(ck, "alerts", o->n_alerts, o->alerts,
	    FRAME_CODEC_MAX_ALERTS), NULL, -1);
	for (i = 0; i < o->n_alerts; i++)
		CHECK(ck, fc_check_alert(ck, o->alerts[i]), "alerts", (long)i);
	CHECK(ck, check_count(ck, "jobs", o->n_jobs, o->jobs,
	    FRAME_CODEC_MAX_JOBS), NULL, -1);
	for (i = 0; i < o->n_jobs; i++)
		CHECK(ck, fc_check_job_update(ck, o->jobs[i]), "jobs", (long)i);
	CHECK(ck, check_count(ck, "workflows", o->n_workflows, o->workflows,
	    FRAME_CODEC_MAX_WORKFLOWS), NULL, -1);
	for (i = 0; i < o->n_workflows; i++)
		CHECK(ck, fc_check_workflow_update(ck, o->workflows[i]),
		    "workflows", (long)i);
	CHECK(ck, check_count(ck, "schedules", o->n_schedules, o->schedules,
	    FRAME_CODEC_MAX_SCHEDULES), NULL, -1);
	for (i = 0; i < o->n_schedules; i++)
		CHECK(ck, fc_check_schedule_update(ck, o->schedules[i]), "schedules",
		    (long)i);
	CHECK(ck, check_count(ck, "silences", o->n_silences, o->silences,
	    FRAME_CODEC_MAX_SILENCES), NULL, -1);
	for (i = 0; i < o->n_silences; i++)
		CHECK(ck, fc_check_silence_update(ck, o->silences[i]), "silences",
		    (long)i);
	CHECK(ck, check_count(ck, "services", o->n_services, o->services,
	    FRAME_CODEC_MAX_SERVICES), NULL, -1);
	for (i = 0; i < o->n_services; i++)
		CHECK(ck, fc_check_service_update(ck, o->services[i]),
		    "services", (long)i);
	CHECK(ck, check_count(ck, "artifacts", o->n_artifacts, o->artifacts,
	    FRAME_CODEC_MAX_ARTIFACTS), NULL, -1);
	for (i = 0; i < o->n_artifacts; i++)
		CHECK(ck, fc_check_artifact_update(ck, o->artifacts[i]),
		    "artifacts", (long)i);
	CHECK(ck, check_count(ck, "proof", o->n_proof, o->proof,
	    FRAME_CODEC_MAX_PROOF), NULL, -1);
	for (i = 0; i < o->n_proof; i++) {
		CHECK(ck, check_event(ck, o->proof[i]), "proof", (long)i);
		if (strcmp(str(o->proof[i]->origin), str(o->cursor->origin)) != 0)
			return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "proof",
			    "an event of \"%s\", not of the cursor's origin",
			    str(o->proof[i]->origin));
	}
	return 0;
}

static int
check_snapshot(struct ck *ck, const PB(Snapshot) *s)
{
	size_t i;

	CHECK(ck, check_count(ck, "origins", s->n_origins, s->origins,
	    FRAME_CODEC_MAX_NODES), NULL, -1);
	for (i = 0; i < s->n_origins; i++)
		CHECK(ck, check_origin_state(ck, s->origins[i]), "origins",
		    (long)i);
	return 0;
}

static int
check_event(struct ck *ck, const PB(Event) *e)
{
	CHECK(ck, check_present(ck, NULL, e), NULL, -1);
	CHECK(ck, check_node_id(ck, "origin", e->origin), NULL, -1);
	CHECK(ck, check_nonzero(ck, "incarnation", e->incarnation), NULL, -1);
	CHECK(ck, check_nonzero(ck, "seq", e->seq), NULL, -1);
	CHECK(ck, check_hops(ck, e->hops, e->hop_limit), NULL, -1);
	CHECK(ck, check_signature(ck, "signature", &e->signature), NULL, -1);
	switch (e->kind_case) {
	case AGENTFLOW__MESH__V1__EVENT__KIND_STATUS:
		CHECK(ck, check_present(ck, "status", e->status), NULL, -1);
		CHECK(ck, check_node_status(ck, e->status), "status", -1);
		CHECK(ck, check_status_owner(ck, e->status, e->origin), "status",
		    -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TASK:
		CHECK(ck, fc_check_task_update(ck, e->task), "task", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_LOG:
		CHECK(ck, check_present(ck, "log", e->log), NULL, -1);
		CHECK(ck, fc_check_task_log(ck, e->log), "log", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ALERT:
		CHECK(ck, fc_check_alert(ck, e->alert), "alert", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_USER:
		CHECK(ck, check_present(ck, "user", e->user), NULL, -1);
		CHECK(ck, fc_check_user_event(ck, e->user), "user", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_JOB:
		CHECK(ck, fc_check_job_update(ck, e->job), "job", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_WORKFLOW:
		CHECK(ck, fc_check_workflow_update(ck, e->workflow), "workflow",
		    -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE:
		CHECK(ck, fc_check_schedule_update(ck, e->schedule), "schedule", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE:
		CHECK(ck, fc_check_service_update(ck, e->service), "service", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE:
		CHECK(ck, fc_check_silence_update(ck, e->silence), "silence", -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT:
		CHECK(ck, fc_check_artifact_update(ck, e->artifact), "artifact",
		    -1);
		return 0;
	case AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED:
		CHECK(ck, check_present(ck, "token_revoked", e->token_revoked),
		    NULL, -1);
		if (!token_id_valid(str(e->token_revoked->token_id),
		    strlen(str(e->token_revoked->token_id))))
			return fail(ck, FRAME_CODEC_ERR_BAD_VALUE,
			    "token_revoked.token_id", "not 1-32 lowercase hex "
			    "digits");
		return 0;
	default:
		if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET &&
		    e->base.n_unknown_fields > 0) {
			ck->skips[FRAME_CODEC_SKIP_EVENT_KIND]++;
			return 0;	/* a newer kind: numbered, not applied */
		}
		return fail(ck, FRAME_CODEC_ERR_MISSING, "kind",
		    "no event kind this version knows");
	}
}

static int
check_event_batch(struct ck *ck, const PB(EventBatch) *b)
{
	size_t i;

	CHECK(ck, check_count(ck, "events", b->n_events, b->events,
	    FRAME_CODEC_MAX_EVENTS), NULL, -1);
	if (b->n_events == 0)
		return fail(ck, FRAME_CODEC_ERR_MISSING, "events",
		    "empty batch");
	for (i = 0; i < b->n_events; i++)
		CHECK(ck, check_event(ck, b->events[i]), "events", (long)i);
	return 0;
}

/* Command.principal_proof: every part present and within its bound. */
static int
check_principal_proof(struct ck *ck, const PB(PrincipalProof) *p)
{
	CHECK(ck, check_bytes(ck, "claims", &p->claims, 800), NULL, -1);
	CHECK(ck, check_bytes(ck, "issuer_sig", &p->issuer_sig, 80), NULL, -1);
	if (p->claims.len == 0 || p->issuer_sig.len == 0 ||
	    p->sig.len != FRAME_CODEC_SIGNATURE)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, NULL, "claims, "
		    "issuer_sig and a %u-byte sig are required",
		    FRAME_CODEC_SIGNATURE);
	return check_signature(ck, "sig", &p->sig);
}

static int
check_command(struct ck *ck, const PB(Command) *c)
{
	CHECK(ck, check_id(ck, "id", c->id, true), NULL, -1);
	CHECK(ck, check_node_id(ck, "origin", c->origin), NULL, -1);
	switch (c->target_case) {
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID:
		CHECK(ck, check_node_id(ck, "node_id", c->node_id), NULL, -1);
		break;
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR:
		CHECK(ck, check_present(ck, "selector", c->selector), NULL, -1);
		CHECK(ck, check_labels(ck, "match", c->selector->n_match,
		    c->selector->match, 1), "selector", -1);
		break;
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL:
		if (!c->all)
			return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "all",
			    "set but false");
		break;
	default:
		return fail(ck, FRAME_CODEC_ERR_MISSING, "target",
		    "no target (node_id, selector or all)");
	}
	CHECK(ck, check_node_id(ck, "destination", c->destination), NULL, -1);
	CHECK(ck, check_name(ck, "principal", c->principal), NULL, -1);
	/* Any non-zero type travels: only the destination knows its types. */
	if ((int)c->type <= 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_ENUM, "type",
		    "%d is not a command type", (int)c->type);
	CHECK(ck, check_bytes(ck, "args_json", &c->args_json,
	    FRAME_CODEC_MAX_PAYLOAD), NULL, -1);
	CHECK(ck, check_str(ck, "idempotency_key", c->idempotency_key, 0,
	    FRAME_CODEC_MAX_NAME, true), NULL, -1);
	CHECK(ck, check_hops(ck, c->hops, c->hop_limit), NULL, -1);
	CHECK(ck, check_signature(ck, "signature", &c->signature), NULL, -1);
	if (c->issuer_key != NULL)
		CHECK(ck, check_origin_key(ck, c->issuer_key), "issuer_key", -1);
	CHECK(ck, check_str(ck, "role", c->role, 0, FRAME_CODEC_MAX_ROLE, true),
	    NULL, -1);
	if (c->principal_proof != NULL)
		CHECK(ck, check_principal_proof(ck, c->principal_proof),
		    "principal_proof", -1);
	return check_node_ids(ck, "path", c->n_path, c->path,
	    FRAME_CODEC_MAX_HOPS);
}

static int
check_command_result(struct ck *ck, const PB(CommandResult) *r)
{
	CHECK(ck, check_id(ck, "command_id", r->command_id, true), NULL, -1);
	CHECK(ck, check_node_id(ck, "node", r->node), NULL, -1);
	CHECK(ck, check_node_id(ck, "requester", r->requester), NULL, -1);
	if (str(r->destination)[0] != '\0')
		CHECK(ck, check_node_id(ck, "destination", r->destination), NULL, -1);
	CHECK(ck, check_enum(ck, "status",
	    &agentflow__mesh__v1__command_status__descriptor, (int)r->status),
	    NULL, -1);
	CHECK(ck, check_bytes(ck, "body_json", &r->body_json,
	    FRAME_CODEC_MAX_PAYLOAD), NULL, -1);
	CHECK(ck, check_text(ck, "error", r->error, FRAME_CODEC_MAX_TEXT), NULL,
	    -1);
	CHECK(ck, check_hops(ck, r->hops, r->hop_limit), NULL, -1);
	CHECK(ck, check_signature(ck, "signature", &r->signature), NULL, -1);
	if (r->signer_key != NULL)
		CHECK(ck, check_origin_key(ck, r->signer_key), "signer_key", -1);
	CHECK(ck, check_node_ids(ck, "path", r->n_path, r->path,
	    FRAME_CODEC_MAX_HOPS), NULL, -1);
	return check_node_ids(ck, "command_path", r->n_command_path,
	    r->command_path, FRAME_CODEC_MAX_HOPS);
}

static int
check_leave(struct ck *ck, const PB(Leave) *l)
{
	CHECK(ck, check_node_id(ck, "node_id", l->node_id), NULL, -1);
	CHECK(ck, check_nonzero(ck, "incarnation", l->incarnation), NULL, -1);
	return check_text(ck, "reason", l->reason, FRAME_CODEC_MAX_TEXT);
}

/* A Frame or Event whose body or kind is a newer one (unknown fields only). */
static bool
newer_kind(const ProtobufCMessage *m)
{
	if (m->descriptor == &agentflow__mesh__v1__frame__descriptor)
		return ((const PB(Frame) *)m)->body_case ==
		    AGENTFLOW__MESH__V1__FRAME__BODY__NOT_SET;
	if (m->descriptor == &agentflow__mesh__v1__event__descriptor)
		return ((const PB(Event) *)m)->kind_case ==
		    AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET;
	return false;
}

/*
 * protobuf-c keeps fields it does not know (good: a relay re-encoding a
 * newer node's event keeps them), but it also accepts field number 0, which
 * protobuf forbids and which it then packs into bytes that it refuses to
 * unpack.  Refuse it anywhere in the tree, walking the descriptors; the
 * schema has no recursion, so the walk is as deep as mesh.proto's nesting.
 */
static int
check_field_numbers(struct ck *ck, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	unsigned i;

	for (i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return fail(ck, FRAME_CODEC_ERR_NOT_PROTOBUF, d->short_name,
			    "field number 0");
	if (!newer_kind(m))	/* a newer body or kind is counted as such */
		ck->skips[FRAME_CODEC_SKIP_FIELD] += m->n_unknown_fields;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const ProtobufCMessage *const *v;
		size_t n, k;

		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + fd->quantifier_offset);
			v = *(const ProtobufCMessage *const *const *)(base +
			    fd->offset);
		} else {
			n = 1;
			v = (const ProtobufCMessage *const *)(base + fd->offset);
		}
		for (k = 0; v != NULL && k < n; k++)
			if (v[k] != NULL && check_field_numbers(ck, v[k]) != 0)
				return -1;
	}
	return 0;
}

/* The body pointer of f, whatever its case (NULL when none). */
static const void *
body_ptr(const PB(Frame) *f)
{
	switch (f->body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_HELLO:
		return f->hello;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST:
		return f->snapshot_request;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT:
		return f->snapshot;
	case AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS:
		return f->events;
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND:
		return f->command;
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT:
		return f->command_result;
	case AGENTFLOW__MESH__V1__FRAME__BODY_PING:
		return f->ping;
	case AGENTFLOW__MESH__V1__FRAME__BODY_PONG:
		return f->pong;
	case AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE:
		return f->leave;
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST:
		return f->artifact_request;
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK:
		return f->artifact_chunk;
	case AGENTFLOW__MESH__V1__FRAME__BODY_OFFER:
		return f->offer;
	default:
		return NULL;
	}
}

static int
check_frame(struct ck *ck, const PB(Frame) *f)
{
	const char *name = frame_codec_body_name(f);

	if (!body_known(f)) {
		if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY__NOT_SET &&
		    f->base.n_unknown_fields > 0) {
			/* A newer body: the caller ignores the Frame. */
			ck->skips[FRAME_CODEC_SKIP_FRAME_BODY]++;
			return check_field_numbers(ck, &f->base);
		}
		return fail(ck, FRAME_CODEC_ERR_EMPTY, NULL, "no body set");
	}
	CHECK(ck, check_present(ck, name, body_ptr(f)), NULL, -1);
	switch (f->body_case) {
	case AGENTFLOW__MESH__V1__FRAME__BODY_HELLO:
		CHECK(ck, check_hello(ck, f->hello), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST:
		CHECK(ck, check_snapshot_request(ck, f->snapshot_request), name,
		    -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT:
		CHECK(ck, check_snapshot(ck, f->snapshot), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS:
		CHECK(ck, check_event_batch(ck, f->events), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND:
		CHECK(ck, check_command(ck, f->command), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT:
		CHECK(ck, check_command_result(ck, f->command_result), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE:
		CHECK(ck, check_leave(ck, f->leave), name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST:
		CHECK(ck, fc_check_artifact_request(ck, f->artifact_request),
		    name, -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK:
		CHECK(ck, fc_check_artifact_chunk(ck, f->artifact_chunk), name,
		    -1);
		break;
	case AGENTFLOW__MESH__V1__FRAME__BODY_OFFER:
		CHECK(ck, check_offer(ck, f->offer), name, -1);
		break;
	default:
		/* Ping and Pong are numbers only: any value is fine. */
		break;
	}
	/* Last: the walk trusts the counts the checks above have bounded. */
	return check_field_numbers(ck, &f->base);
}

/* frame_codec_check(), leaving in ck what the walk skipped. */
static enum frame_codec_err
check_walk(struct ck *ck, const PB(Frame) *f, struct frame_codec_error *err)
{
	memset(ck, 0, sizeof(*ck));
	if (f == NULL) {
		set_error(err, FRAME_CODEC_ERR_EMPTY, "no frame");
		return FRAME_CODEC_ERR_EMPTY;
	}
	if (check_frame(ck, f) == 0) {
		set_error(err, FRAME_CODEC_OK, "ok");
		return FRAME_CODEC_OK;
	}
	ck_detail(ck, err);
	return ck->code;
}

enum frame_codec_err
frame_codec_check(const PB(Frame) *f, struct frame_codec_error *err)
{
	struct ck ck;

	return check_walk(&ck, f, err);
}

/* ---- decode ------------------------------------------------------------ */

/*
 * protobuf-c's allocator with a budget for one unpack.  Only allocation is
 * counted (what protobuf-c frees while unpacking is not credited back), so
 * the budget bounds the peak.  Freeing needs no state, which lets
 * frame_codec_free() use the same functions without the budget.
 */
struct budget {
	size_t	 used;
	size_t	 limit;
	bool	 exceeded;
};

static void *
budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	void *p;

	if (b != NULL) {
		if (size > b->limit - b->used) {
			b->exceeded = true;
			return NULL;
		}
		b->used += size;
	}
	p = malloc(size == 0 ? 1 : size);
	if (p == NULL && b != NULL)
		b->exceeded = true;
	return p;
}

static void
budget_free(void *data, void *p)
{
	(void)data;
	free(p);
}

void
frame_codec_free(PB(Frame) *f)
{
	ProtobufCAllocator a = { budget_alloc, budget_free, NULL };

	if (f != NULL)
		agentflow__mesh__v1__frame__free_unpacked(f, &a);
}

enum frame_codec_err
frame_codec_decode(const uint8_t *buf, size_t len, PB(Frame) **out,
    struct frame_codec_error *err)
{
	static const uint8_t none[1];
	struct budget b;
	ProtobufCAllocator a = { budget_alloc, budget_free, &b };
	enum frame_codec_err rc;
	struct ck ck;
	PB(Frame) *f;

	*out = NULL;
	if (len > FRAME_CODEC_MAX_FRAME) {
		set_error(err, FRAME_CODEC_ERR_TOO_LARGE,
		    "%zu bytes, limit %u", len, FRAME_CODEC_MAX_FRAME);
		return FRAME_CODEC_ERR_TOO_LARGE;
	}
	b.used = 0;
	b.limit = len * FRAME_CODEC_DECODE_RATIO + 65536;
	if (b.limit > FRAME_CODEC_MAX_DECODED)
		b.limit = FRAME_CODEC_MAX_DECODED;
	b.exceeded = false;
	f = agentflow__mesh__v1__frame__unpack(&a, len,
	    buf == NULL ? none : buf);
	if (f == NULL) {
		if (b.exceeded) {
			set_error(err, FRAME_CODEC_ERR_MEMORY,
			    "%zu bytes would need over %zu bytes of memory",
			    len, b.limit);
			return FRAME_CODEC_ERR_MEMORY;
		}
		set_error(err, FRAME_CODEC_ERR_NOT_PROTOBUF,
		    "%zu bytes are not a valid encoding", len);
		return FRAME_CODEC_ERR_NOT_PROTOBUF;
	}
	rc = check_walk(&ck, f, err);
	if (rc != FRAME_CODEC_OK) {
		frame_codec_free(f);
		return rc;
	}
	for (int i = 0; i < FRAME_CODEC_SKIP_N; i++)
		frame_codec_skip_count((enum frame_codec_skip)i, ck.skips[i]);
	*out = f;
	return FRAME_CODEC_OK;
}

/* ---- encode ------------------------------------------------------------ */

size_t
frame_codec_encoded_size(const PB(Frame) *f)
{
	return agentflow__mesh__v1__frame__get_packed_size(f);
}

/* Checks f and returns its packed size through *size. */
static enum frame_codec_err
encode_prepare(const PB(Frame) *f, size_t *size, struct frame_codec_error *err)
{
	enum frame_codec_err rc;

	rc = frame_codec_check(f, err);
	if (rc != FRAME_CODEC_OK)
		return rc;
	*size = agentflow__mesh__v1__frame__get_packed_size(f);
	if (*size > FRAME_CODEC_MAX_FRAME) {
		set_error(err, FRAME_CODEC_ERR_TOO_LARGE,
		    "%s frame of %zu bytes, limit %u", frame_codec_body_name(f),
		    *size, FRAME_CODEC_MAX_FRAME);
		return FRAME_CODEC_ERR_TOO_LARGE;
	}
	return FRAME_CODEC_OK;
}

enum frame_codec_err
frame_codec_encode_into(const PB(Frame) *f, uint8_t *buf, size_t cap,
    size_t *outlen, struct frame_codec_error *err)
{
	enum frame_codec_err rc;
	size_t size;

	*outlen = 0;
	if ((rc = encode_prepare(f, &size, err)) != FRAME_CODEC_OK)
		return rc;
	if (size > cap) {
		set_error(err, FRAME_CODEC_ERR_TOO_LARGE,
		    "%zu bytes do not fit in %zu", size, cap);
		return FRAME_CODEC_ERR_TOO_LARGE;
	}
	*outlen = agentflow__mesh__v1__frame__pack(f, buf);
	return FRAME_CODEC_OK;
}

enum frame_codec_err
frame_codec_encode(const PB(Frame) *f, uint8_t **out, size_t *outlen,
    struct frame_codec_error *err)
{
	enum frame_codec_err rc;
	size_t size;

	*out = NULL;
	*outlen = 0;
	if ((rc = encode_prepare(f, &size, err)) != FRAME_CODEC_OK)
		return rc;
	if ((*out = malloc(size == 0 ? 1 : size)) == NULL) {
		set_error(err, FRAME_CODEC_ERR_MEMORY,
		    "cannot allocate %zu bytes", size);
		return FRAME_CODEC_ERR_MEMORY;
	}
	*outlen = agentflow__mesh__v1__frame__pack(f, *out);
	return FRAME_CODEC_OK;
}
