/*
 * The frame codec's checks of the work's messages (frame_codec_check.h):
 * tasks, logs, alerts, jobs, workflows, schedules, services and user
 * events, each field held to mesh.proto's bounds.
 */
#include "frame_codec_check.h"

int
fc_check_task_update(struct ck *ck, const PB(TaskUpdate) *t)
{
	CHECK(ck, check_present(ck, NULL, t), NULL, -1);
	CHECK(ck, check_id(ck, "task_id", t->task_id, true), NULL, -1);
	CHECK(ck, check_name(ck, "name", t->name), NULL, -1);
	CHECK(ck, check_enum(ck, "state",
	    &agentflow__mesh__v1__task_state__descriptor, (int)t->state), NULL,
	    -1);
	if (t->term_signal < 0 || t->term_signal > FRAME_CODEC_MAX_SIGNAL)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "term_signal",
		    "%d outside 0..%d", (int)t->term_signal,
		    FRAME_CODEC_MAX_SIGNAL);
	CHECK(ck, check_text(ck, "reason", t->reason, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	CHECK(ck, check_id(ck, "command_id", t->command_id, false), NULL, -1);
	return check_str(ck, "principal", t->principal, 0,
	    FRAME_CODEC_MAX_NAME, true);
}

int
fc_check_task_log(struct ck *ck, const PB(TaskLog) *l)
{
	CHECK(ck, check_id(ck, "task_id", l->task_id, true), NULL, -1);
	CHECK(ck, check_enum(ck, "stream",
	    &agentflow__mesh__v1__log_stream__descriptor, (int)l->stream), NULL,
	    -1);
	CHECK(ck, check_nonzero(ck, "line_seq", l->line_seq), NULL, -1);
	return check_text(ck, "text", l->text, FRAME_CODEC_MAX_LOG_LINE);
}

int
fc_check_alert(struct ck *ck, const PB(Alert) *a)
{
	CHECK(ck, check_present(ck, NULL, a), NULL, -1);
	CHECK(ck, check_id(ck, "alert_id", a->alert_id, true), NULL, -1);
	CHECK(ck, check_name(ck, "rule", a->rule), NULL, -1);
	CHECK(ck, check_enum(ck, "severity",
	    &agentflow__mesh__v1__alert_severity__descriptor, (int)a->severity),
	    NULL, -1);
	CHECK(ck, check_enum(ck, "state",
	    &agentflow__mesh__v1__alert_state__descriptor, (int)a->state), NULL,
	    -1);
	CHECK(ck, check_real(ck, "value", a->value, -HUGE_VAL, HUGE_VAL), NULL,
	    -1);
	CHECK(ck, check_real(ck, "threshold", a->threshold, -HUGE_VAL,
	    HUGE_VAL), NULL, -1);
	CHECK(ck, check_str(ck, "subject", a->subject, 0,
	    FRAME_CODEC_MAX_HOSTNAME, true), NULL, -1);
	CHECK(ck, check_text(ck, "message", a->message, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	return check_str(ck, "acked_by", a->acked_by, 0, FRAME_CODEC_MAX_NAME,
	    true);
}

/* A job's state is a lowercase word: a newer issuer's state name is
 * shown as it is, so only its syntax is checked (min 0: may be empty). */
static int
check_word(struct ck *ck, const char *field, const char *s, size_t min)
{
	const char *v = str(s);
	size_t len = strlen(v);

	if (len < min || len > FRAME_CODEC_MAX_JOB_STATE)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "%zu bytes, %zu-%d of [a-z_] required", len, min,
		    FRAME_CODEC_MAX_JOB_STATE);
	for (size_t i = 0; i < len; i++)
		if ((v[i] < 'a' || v[i] > 'z') && v[i] != '_')
			return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
			    "not %zu-%d of [a-z_]", min,
			    FRAME_CODEC_MAX_JOB_STATE);
	return 0;
}

static int
check_job_state(struct ck *ck, const char *s)
{
	return check_word(ck, "state", s, 1);
}

int
fc_check_job_update(struct ck *ck, const PB(JobUpdate) *j)
{
	CHECK(ck, check_present(ck, NULL, j), NULL, -1);
	CHECK(ck, check_id(ck, "job_id", j->job_id, true), NULL, -1);
	CHECK(ck, check_job_state(ck, j->state), NULL, -1);
	CHECK(ck, check_str(ck, "task", j->task, 0, FRAME_CODEC_MAX_NAME,
	    true), NULL, -1);
	CHECK(ck, check_str(ck, "to", j->to, 0, FRAME_CODEC_MAX_TEXT, true),
	    NULL, -1);
	if (str(j->node)[0] != '\0')
		CHECK(ck, check_node_id(ck, "node", j->node), NULL, -1);
	if (j->term_signal < 0 || j->term_signal > FRAME_CODEC_MAX_SIGNAL)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "term_signal",
		    "%d outside 0..%d", (int)j->term_signal,
		    FRAME_CODEC_MAX_SIGNAL);
	CHECK(ck, check_text(ck, "reason", j->reason, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	CHECK(ck, check_str(ck, "principal", j->principal, 0,
	    FRAME_CODEC_MAX_NAME, true), NULL, -1);
	CHECK(ck, check_id(ck, "parent", j->parent, false), NULL, -1);
	return check_id(ck, "replay_of", j->replay_of, false);
}

/* A workflow's, a step's or a service's state: 1-32 of [a-z_-]
 * ("waiting-approval", "backing-off"). */
static int
check_workflow_state(struct ck *ck, const char *field, const char *s)
{
	const char *v = str(s);
	size_t len = strlen(v);

	if (len == 0 || len > FRAME_CODEC_MAX_JOB_STATE ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz_-") != len)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "not 1-%d of [a-z_-]", FRAME_CODEC_MAX_JOB_STATE);
	return 0;
}

static int
check_workflow_step(struct ck *ck, const PB(WorkflowStepState) *st)
{
	CHECK(ck, check_present(ck, NULL, st), NULL, -1);
	CHECK(ck, check_name(ck, "name", st->name), NULL, -1);
	CHECK(ck, check_count(ck, "needs", st->n_needs, st->needs,
	    FRAME_CODEC_MAX_STEP_NEEDS), NULL, -1);
	for (size_t i = 0; i < st->n_needs; i++)
		CHECK(ck, check_name(ck, NULL, st->needs[i]), "needs", (long)i);
	CHECK(ck, check_workflow_state(ck, "state", st->state), NULL, -1);
	CHECK(ck, check_id(ck, "job_id", st->job_id, false), NULL, -1);
	if (str(st->node)[0] != '\0')
		CHECK(ck, check_node_id(ck, "node", st->node), NULL, -1);
	return check_str(ck, "decided_by", st->decided_by, 0,
	    FRAME_CODEC_MAX_NAME, true);
}

int
fc_check_workflow_update(struct ck *ck, const PB(WorkflowUpdate) *w)
{
	size_t len;

	CHECK(ck, check_present(ck, NULL, w), NULL, -1);
	len = protobuf_c_message_get_packed_size(&w->base);
	if (len > FRAME_CODEC_MAX_WORKFLOW_BYTES)
		return fail(ck, FRAME_CODEC_ERR_TOO_LONG, NULL,
		    "%zu bytes encoded, limit %d", len,
		    FRAME_CODEC_MAX_WORKFLOW_BYTES);
	CHECK(ck, check_id(ck, "workflow_id", w->workflow_id, true), NULL, -1);
	CHECK(ck, check_name(ck, "name", w->name), NULL, -1);
	CHECK(ck, check_workflow_state(ck, "state", w->state), NULL, -1);
	CHECK(ck, check_str(ck, "principal", w->principal, 0,
	    FRAME_CODEC_MAX_NAME, true), NULL, -1);
	CHECK(ck, check_nonzero(ck, "epoch", w->epoch), NULL, -1);
	CHECK(ck, check_text(ck, "reason", w->reason, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	CHECK(ck, check_count(ck, "steps", w->n_steps, w->steps,
	    FRAME_CODEC_MAX_WORKFLOW_STEPS), NULL, -1);
	for (size_t i = 0; i < w->n_steps; i++)
		CHECK(ck, check_workflow_step(ck, w->steps[i]), "steps",
		    (long)i);
	/* What it says is checked by a taker, as a definition is. */
	return check_str(ck, "handover_json", w->handover_json, 0,
	    FRAME_CODEC_MAX_WORKFLOW_BYTES, false);
}

/* A schedule: its definition is JSON text within its bound (what it
 * says is schedule_spec.h's to check when it is used); a tombstone has
 * none.  principal_ms dates a definition the word's updated_ms has
 * reached: updated_ms only grows, so no node makes one that is later. */
int
fc_check_schedule_update(struct ck *ck, const PB(ScheduleUpdate) *u)
{
	CHECK(ck, check_present(ck, NULL, u), NULL, -1);
	CHECK(ck, check_id(ck, "name", u->name, true), NULL, -1);
	CHECK(ck, check_str(ck, "spec_json", u->spec_json, u->deleted ? 0 : 2,
	    u->deleted ? 0 : FRAME_CODEC_MAX_SCHEDULE_SPEC, false), NULL, -1);
	CHECK(ck, check_nonzero(ck, "updated_ms", u->updated_ms), NULL, -1);
	CHECK(ck, check_node_id(ck, "author", u->author), NULL, -1);
	CHECK(ck, check_id(ck, "fire_job", u->fire_job, false), NULL, -1);
	if (str(u->fire_node)[0] != '\0')
		CHECK(ck, check_node_id(ck, "fire_node", u->fire_node), NULL, -1);
	CHECK(ck, check_str(ck, "principal", u->principal, 0,
	    FRAME_CODEC_MAX_PRINCIPAL, true), NULL, -1);
	CHECK(ck, check_time(ck, "principal_ms", u->principal_ms), NULL, -1);
	if (u->principal_ms > u->updated_ms)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "principal_ms",
		    "%llu is after updated_ms %llu",
		    (unsigned long long)u->principal_ms,
		    (unsigned long long)u->updated_ms);
	if (u->principal_author > FRAME_CODEC_MAX_PRINCIPAL_AUTHOR)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "principal_author",
		    "%lu outside 0..%d", (unsigned long)u->principal_author,
		    FRAME_CODEC_MAX_PRINCIPAL_AUTHOR);
	return check_word(ck, "fire_outcome", u->fire_outcome, 0);
}

/* A silence: its definition is JSON text within its bound (what it says
 * is silences.h's to check, as the API checks a new one: a bad one is the
 * receiver's to drop, not a reason to close the link); a removal has none. */
int
fc_check_silence_update(struct ck *ck, const PB(SilenceUpdate) *u)
{
	CHECK(ck, check_present(ck, NULL, u), NULL, -1);
	CHECK(ck, check_id(ck, "id", u->id, true), NULL, -1);
	CHECK(ck, check_str(ck, "spec_json", u->spec_json, u->deleted ? 0 : 2,
	    u->deleted ? 0 : FRAME_CODEC_MAX_SILENCE_SPEC, false), NULL, -1);
	CHECK(ck, check_nonzero(ck, "updated_ms", u->updated_ms), NULL, -1);
	CHECK(ck, check_nonzero(ck, "ends_ms", u->ends_ms), NULL, -1);
	CHECK(ck, check_time(ck, "ends_ms", u->ends_ms), NULL, -1);
	CHECK(ck, check_str(ck, "principal", u->principal, 0,
	    FRAME_CODEC_MAX_PRINCIPAL, true), NULL, -1);
	return check_node_id(ck, "author", u->author);
}

/* Name syntax (text_name_valid): services, endpoints, tags. */
static int
check_service_name(struct ck *ck, const char *field, const char *s)
{
	size_t len = strlen(str(s));

	if (!text_name_valid(str(s), len))
		return fail(ck, FRAME_CODEC_ERR_BAD_STRING, field,
		    "not a name (1-%d of [A-Za-z0-9_-], %zu bytes given)",
		    TEXT_NAME_MAX, len);
	return 0;
}

static int
check_endpoint(struct ck *ck, const PB(ServiceEndpoint) *p)
{
	const char *proto;
	size_t len;

	CHECK(ck, check_present(ck, NULL, p), NULL, -1);
	CHECK(ck, check_service_name(ck, "name", p->name), NULL, -1);
	/* tcp, udp, http, or a newer version's: shown as it is. */
	proto = str(p->protocol);
	len = strlen(proto);
	if (len == 0 || len > FRAME_CODEC_MAX_PROTOCOL ||
	    strspn(proto, "abcdefghijklmnopqrstuvwxyz") != len)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "protocol",
		    "not 1-%d of [a-z]", FRAME_CODEC_MAX_PROTOCOL);
	if (p->port < 1 || p->port > 65535)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "port",
		    "%u outside 1..65535", (unsigned)p->port);
	CHECK(ck, check_count(ck, "tags", p->n_tags, p->tags,
	    FRAME_CODEC_MAX_ENDPOINT_TAGS), NULL, -1);
	for (size_t i = 0; i < p->n_tags; i++)
		CHECK(ck, check_service_name(ck, NULL, p->tags[i]), "tags",
		    (long)i);
	return 0;
}

/* A service as its node tells it.  A removal needs only the name: what
 * else it says is not shown. */
int
fc_check_service_update(struct ck *ck, const PB(ServiceUpdate) *u)
{
	const char *desired;
	size_t len;

	CHECK(ck, check_present(ck, NULL, u), NULL, -1);
	len = protobuf_c_message_get_packed_size(&u->base);
	if (len > FRAME_CODEC_MAX_SERVICE_BYTES)
		return fail(ck, FRAME_CODEC_ERR_TOO_LONG, NULL,
		    "%zu bytes encoded, limit %d", len,
		    FRAME_CODEC_MAX_SERVICE_BYTES);
	CHECK(ck, check_service_name(ck, "name", u->name), NULL, -1);
	desired = str(u->desired);
	if (!(u->removed && desired[0] == '\0') &&
	    strcmp(desired, "running") != 0 && strcmp(desired, "stopped") != 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "desired",
		    "not \"running\" or \"stopped\"");
	if (!u->removed || str(u->state)[0] != '\0')
		CHECK(ck, check_workflow_state(ck, "state", u->state), NULL, -1);
	if (u->last_signal < 0 || u->last_signal > FRAME_CODEC_MAX_SIGNAL)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "last_signal",
		    "%d outside 0..%d", (int)u->last_signal,
		    FRAME_CODEC_MAX_SIGNAL);
	CHECK(ck, check_text(ck, "reason", u->reason, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	CHECK(ck, check_count(ck, "endpoints", u->n_endpoints, u->endpoints,
	    FRAME_CODEC_MAX_ENDPOINTS), NULL, -1);
	for (size_t i = 0; i < u->n_endpoints; i++)
		CHECK(ck, check_endpoint(ck, u->endpoints[i]), "endpoints",
		    (long)i);
	CHECK(ck, check_id(ck, "task_id", u->task_id, false), NULL, -1);
	return check_str(ck, "version", u->version, 0,
	    FRAME_CODEC_MAX_SERVICE_VERSION, true);
}

int
fc_check_user_event(struct ck *ck, const PB(UserEvent) *u)
{
	CHECK(ck, check_name(ck, "name", u->name), NULL, -1);
	return check_bytes(ck, "payload", &u->payload, FRAME_CODEC_MAX_PAYLOAD);
}

static int
check_artifact_id(struct ck *ck, const char *field, const char *s)
{
	if (!text_artifact_valid(str(s)))
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, field,
		    "not \"sha256:\" and 64 lowercase hex digits");
	return 0;
}

/* An artifact its origin holds (or no longer does).  The name is a file
 * name: text without '/'. */
int
fc_check_artifact_update(struct ck *ck, const PB(ArtifactUpdate) *u)
{
	CHECK(ck, check_present(ck, NULL, u), NULL, -1);
	CHECK(ck, check_artifact_id(ck, "artifact", u->artifact), NULL, -1);
	CHECK(ck, check_str(ck, "name", u->name, u->removed ? 0 : 1, 255,
	    true), NULL, -1);
	if (strchr(str(u->name), '/') != NULL)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "name",
		    "a file name has no '/'");
	return 0;
}

int
fc_check_artifact_request(struct ck *ck, const PB(ArtifactRequest) *r)
{
	CHECK(ck, check_artifact_id(ck, "artifact", r->artifact), NULL, -1);
	if (r->length < 1 || r->length > FRAME_CODEC_MAX_ARTIFACT_ASK)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "length",
		    "%u outside 1..%u", (unsigned)r->length,
		    FRAME_CODEC_MAX_ARTIFACT_ASK);
	if (r->offset > UINT64_MAX - r->length)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "offset",
		    "offset + length past 2^64");
	return 0;
}

/* Data or an error, never both; data within the size it states. */
int
fc_check_artifact_chunk(struct ck *ck, const PB(ArtifactChunk) *c)
{
	CHECK(ck, check_artifact_id(ck, "artifact", c->artifact), NULL, -1);
	CHECK(ck, check_bytes(ck, "data", &c->data, FRAME_CODEC_MAX_CHUNK),
	    NULL, -1);
	CHECK(ck, check_text(ck, "error", c->error, FRAME_CODEC_MAX_TEXT),
	    NULL, -1);
	if (str(c->error)[0] != '\0' && c->data.len > 0)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "data",
		    "data with an error");
	if (c->offset > c->size || c->data.len > c->size - c->offset)
		return fail(ck, FRAME_CODEC_ERR_BAD_VALUE, "offset",
		    "%zu bytes at %llu past the size %llu", c->data.len,
		    (unsigned long long)c->offset,
		    (unsigned long long)c->size);
	return 0;
}
