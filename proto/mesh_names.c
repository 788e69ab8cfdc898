/*
 * The names of mesh.proto's enum values (see mesh_names.h): one table per
 * enum, each row a value, its name and whether it is terminal, read by one
 * lookup in each direction.  The names are part of the API and the store
 * (JSON rows keep them): change none.
 */
#include "mesh_names.h"

#include <string.h>

struct name {
	int		 value;
	const char	*name;
	int		 terminal;	/* a state that is never left */
};

#define NROWS(t)	(sizeof(t) / sizeof(t[0]))

static const struct name link_states[] = {
	{ MESH_LINK_STATE(CONNECTING), "connecting", 0 },
	{ MESH_LINK_STATE(UP), "up", 0 },
	{ MESH_LINK_STATE(DOWN), "down", 0 },
};

static const struct name member_states[] = {
	{ MESH_MEMBER_STATE(ALIVE), "alive", 0 },
	{ MESH_MEMBER_STATE(SUSPECT), "suspect", 0 },
	{ MESH_MEMBER_STATE(DEAD), "dead", 0 },
	{ MESH_MEMBER_STATE(LEFT), "left", 0 },
};

static const struct name task_states[] = {
	{ MESH_TASK_STATE(QUEUED), "queued", 0 },
	{ MESH_TASK_STATE(RUNNING), "running", 0 },
	{ MESH_TASK_STATE(SUCCEEDED), "succeeded", 1 },
	{ MESH_TASK_STATE(FAILED), "failed", 1 },
	{ MESH_TASK_STATE(CANCELLED), "cancelled", 1 },
	{ MESH_TASK_STATE(TIMED_OUT), "timed-out", 1 },
	{ MESH_TASK_STATE(RETRYING), "retrying", 0 },
};

static const struct name log_streams[] = {
	{ MESH_LOG_STREAM(STDOUT), "stdout", 0 },
	{ MESH_LOG_STREAM(STDERR), "stderr", 0 },
};

static const struct name alert_severities[] = {
	{ MESH_ALERT_SEVERITY(INFO), "info", 0 },
	{ MESH_ALERT_SEVERITY(WARNING), "warning", 0 },
	{ MESH_ALERT_SEVERITY(CRITICAL), "critical", 0 },
};

static const struct name alert_states[] = {
	{ MESH_ALERT_STATE(FIRING), "firing", 0 },
	{ MESH_ALERT_STATE(RESOLVED), "resolved", 0 },
	{ MESH_ALERT_STATE(ACKNOWLEDGED), "acknowledged", 0 },
};

static const struct name command_types[] = {
	{ MESH_COMMAND_TYPE(RUN_TASK), "run_task", 0 },
	{ MESH_COMMAND_TYPE(CANCEL_TASK), "cancel_task", 0 },
	{ MESH_COMMAND_TYPE(ACK_ALERT), "ack_alert", 0 },
	{ MESH_COMMAND_TYPE(PING), "ping", 0 },
	{ MESH_COMMAND_TYPE(FREEZE), "freeze", 0 },
	{ MESH_COMMAND_TYPE(UNFREEZE), "unfreeze", 0 },
	{ MESH_COMMAND_TYPE(TASK_LOGS), "task_logs", 0 },
	{ MESH_COMMAND_TYPE(FORGET_NODE), "forget_node", 0 },
	{ MESH_COMMAND_TYPE(AUDIT_QUERY), "audit_query", 0 },
	{ MESH_COMMAND_TYPE(JOB_RUN), "job_run", 0 },
	{ MESH_COMMAND_TYPE(JOB_RESULT), "job_result", 0 },
	{ MESH_COMMAND_TYPE(JOB_FENCE), "job_fence", 0 },
	{ MESH_COMMAND_TYPE(SERVICE), "service", 0 },
	{ MESH_COMMAND_TYPE(HISTORY_QUERY), "history_query", 0 },
};

static const struct name command_statuses[] = {
	{ MESH_COMMAND_STATUS(OK), "ok", 0 },
	{ MESH_COMMAND_STATUS(ERROR), "error", 0 },
	{ MESH_COMMAND_STATUS(TIMEOUT), "timeout", 0 },
	{ MESH_COMMAND_STATUS(REFUSED), "refused", 0 },
	{ MESH_COMMAND_STATUS(NOT_FOUND), "not_found", 0 },
	{ MESH_COMMAND_STATUS(UNSUPPORTED), "unsupported", 0 },
	{ MESH_COMMAND_STATUS(INVALID), "invalid", 0 },
	{ MESH_COMMAND_STATUS(UNREACHABLE), "unreachable", 0 },
};

static const struct name event_kinds[] = {
	{ MESH_EVENT_KIND(STATUS), "status", 0 },
	{ MESH_EVENT_KIND(TASK), "task", 0 },
	{ MESH_EVENT_KIND(LOG), "log", 0 },
	{ MESH_EVENT_KIND(ALERT), "alert", 0 },
	{ MESH_EVENT_KIND(USER), "user", 0 },
	{ MESH_EVENT_KIND(TOKEN_REVOKED), "token_revoked", 0 },
	{ MESH_EVENT_KIND(JOB), "job", 0 },
	{ MESH_EVENT_KIND(WORKFLOW), "workflow", 0 },
	{ MESH_EVENT_KIND(SERVICE), "service", 0 },
	{ MESH_EVENT_KIND(ARTIFACT), "artifact", 0 },
	{ MESH_EVENT_KIND(SCHEDULE), "schedule", 0 },
	{ MESH_EVENT_KIND(SILENCE), "silence", 0 },
};

static const struct name *
row_of(const struct name *t, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return &t[i];
	return NULL;
}

static const char *
name_of(const struct name *t, size_t n, int value)
{
	const struct name *r = row_of(t, n, value);

	return r != NULL ? r->name : "unknown";
}

static int
parse(const struct name *t, size_t n, const char *name)
{
	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return 0;
}

/* The name and parse accessors of one enum's table. */
#define ACCESSORS(enum_name, table)					\
const char *								\
mesh_names_##enum_name(int value)					\
{									\
	return name_of(table, NROWS(table), value);			\
}									\
									\
int									\
mesh_names_##enum_name##_parse(const char *name)			\
{									\
	return parse(table, NROWS(table), name);			\
}

ACCESSORS(link_state, link_states)
ACCESSORS(member_state, member_states)
ACCESSORS(task_state, task_states)
ACCESSORS(log_stream, log_streams)
ACCESSORS(alert_severity, alert_severities)
ACCESSORS(alert_state, alert_states)
ACCESSORS(command_type, command_types)
ACCESSORS(command_status, command_statuses)
ACCESSORS(event_kind, event_kinds)

int
mesh_names_task_state_terminal(int state)
{
	const struct name *r = row_of(task_states, NROWS(task_states), state);

	return r != NULL && r->terminal;
}
