/*
 * JSON forms of the work events (see work_json.h).  Names of enum values
 * come from mesh_names.c, the one table per enum.
 */
#include "work_json.h"

#include "mesh_names.h"

/* 0 ("not known") as null, so clients need not know the convention. */
static json_t *
ms(uint64_t v)
{
	return v != 0 ? json_integer((json_int_t)v) : json_null();
}

json_t *
work_json_task(const char *node, const Agentflow__Mesh__V1__TaskUpdate *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:s,"
	    " s:o, s:o, s:o, s:o, s:s?, s:s?}",
	    "node", node, "task_id", t->task_id, "name", t->name,
	    "state", mesh_names_task_state(t->state),
	    "attempt", (json_int_t)t->attempt,
	    "max_attempts", (json_int_t)t->max_attempts,
	    "exit_code", (int)t->exit_code, "term_signal", (int)t->term_signal,
	    "reason", t->reason,
	    "queued_ms", ms(t->queued_ms), "started_ms", ms(t->started_ms),
	    "finished_ms", ms(t->finished_ms),
	    "next_retry_ms", ms(t->next_retry_ms),
	    "command_id", t->command_id[0] ? t->command_id : NULL,
	    "principal", t->principal[0] ? t->principal : NULL);
}

json_t *
work_json_log(const char *node, uint64_t time_ms,
    const Agentflow__Mesh__V1__TaskLog *l)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:b, s:I}",
	    "node", node, "task_id", l->task_id, "line_seq", (json_int_t)l->line_seq,
	    "stream", mesh_names_log_stream(
	    l->stream == MESH_LOG_STREAM(STDERR) ? MESH_LOG_STREAM(STDERR) :
	    MESH_LOG_STREAM(STDOUT)), "text", l->text,
	    "dropped", (json_int_t)l->dropped,
	    "continued", l->continued, "time_ms", (json_int_t)time_ms);
}

json_t *
work_json_alert(const char *node, const Agentflow__Mesh__V1__Alert *a)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:o,"
	    " s:o, s:o, s:s?}",
	    "node", node, "alert_id", a->alert_id, "rule", a->rule,
	    "severity", mesh_names_alert_severity(a->severity),
	    "state", mesh_names_alert_state(a->state), "value", a->value,
	    "threshold", a->threshold, "subject", a->subject,
	    "message", a->message, "fired_ms", ms(a->fired_ms),
	    "resolved_ms", ms(a->resolved_ms), "acked_ms", ms(a->acked_ms),
	    "acked_by", a->acked_by[0] ? a->acked_by : NULL);
}

/* "" as null. */
static json_t *
opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
work_json_job(const char *issuer, const Agentflow__Mesh__V1__JobUpdate *u)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:o, s:o,"
	    " s:o, s:s, s:o, s:o, s:o}",
	    "id", u->job_id, "issuer", issuer, "state", u->state,
	    "task", opt(u->task), "to", u->to, "node", opt(u->node),
	    "epoch", (json_int_t)u->epoch,
	    "exit_code", u->exited ? json_integer(u->exit_code) : json_null(),
	    "term_signal", u->exited ? json_integer(u->term_signal) :
	    json_null(), "reason", opt(u->reason), "principal", u->principal,
	    "submitted_ms", ms(u->submitted_ms), "updated_ms",
	    ms(u->updated_ms), "finished_ms", ms(u->finished_ms));

	if (j != NULL && u->parent[0] != '\0')
		json_object_set_new(j, "parent", json_string(u->parent));
	if (j != NULL && u->replay_of[0] != '\0')
		json_object_set_new(j, "replay_of", json_string(u->replay_of));
	return j;
}

static char *
str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (char *)(s ? s : "");
}

static uint64_t
num(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

void
work_json_to_task(const json_t *j, Agentflow__Mesh__V1__TaskUpdate *t)
{
	agentflow__mesh__v1__task_update__init(t);
	t->task_id = str(j, "task_id");
	t->name = str(j, "name");
	t->state = mesh_names_task_state_parse(str(j, "state"));
	t->attempt = (uint32_t)num(j, "attempt");
	t->max_attempts = (uint32_t)num(j, "max_attempts");
	t->exit_code = (int32_t)json_integer_value(json_object_get(j, "exit_code"));
	t->term_signal = (int32_t)num(j, "term_signal");
	t->reason = str(j, "reason");
	t->queued_ms = num(j, "queued_ms");
	t->started_ms = num(j, "started_ms");
	t->finished_ms = num(j, "finished_ms");
	t->next_retry_ms = num(j, "next_retry_ms");
	t->command_id = str(j, "command_id");
	t->principal = str(j, "principal");
}

void
work_json_to_alert(const json_t *j, Agentflow__Mesh__V1__Alert *a)
{
	agentflow__mesh__v1__alert__init(a);
	a->alert_id = str(j, "alert_id");
	a->rule = str(j, "rule");
	a->severity = mesh_names_alert_severity_parse(str(j, "severity"));
	a->state = mesh_names_alert_state_parse(str(j, "state"));
	a->value = json_number_value(json_object_get(j, "value"));
	a->threshold = json_number_value(json_object_get(j, "threshold"));
	a->subject = str(j, "subject");
	a->message = str(j, "message");
	a->fired_ms = num(j, "fired_ms");
	a->resolved_ms = num(j, "resolved_ms");
	a->acked_ms = num(j, "acked_ms");
	a->acked_by = str(j, "acked_by");
}

uint64_t
work_task_time(const Agentflow__Mesh__V1__TaskUpdate *t)
{
	uint64_t m = t->queued_ms;

	if (t->started_ms > m)
		m = t->started_ms;
	if (t->finished_ms > m)
		m = t->finished_ms;
	return m;
}
