/*
 * The one vocabulary of mesh.proto's enums: the name each value has in
 * JSON, logs, the API's filters and the CLI ("running", "timed-out",
 * "not_found"...), with one table per enum in mesh_names.c, shared by the
 * node and the CLI.  A name is "unknown" for a value the table does not
 * hold (UNSPECIFIED, or a value from a newer peer); parsing a name that is
 * not in the table gives 0, which no enum of mesh.proto uses for a valid
 * value (UNSPECIFIED, or the oneof's NOT_SET for the event kind).
 *
 * Returned names are static strings.
 *
 * The shorthands below are the one spelling of protoc-c's long value
 * names: MESH_TASK_STATE(RUNNING) is
 * AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_RUNNING.
 */
#ifndef AGENTFLOW_MESH_NAMES_H
#define AGENTFLOW_MESH_NAMES_H

#include "mesh.pb-c.h"

#define MESH_LINK_STATE(x)	AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_##x
#define MESH_MEMBER_STATE(x)	AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_##x
#define MESH_TASK_STATE(x)	AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_##x
#define MESH_LOG_STREAM(x)	AGENTFLOW__MESH__V1__LOG_STREAM__LOG_STREAM_##x
#define MESH_ALERT_SEVERITY(x)	AGENTFLOW__MESH__V1__ALERT_SEVERITY__ALERT_SEVERITY_##x
#define MESH_ALERT_STATE(x)	AGENTFLOW__MESH__V1__ALERT_STATE__ALERT_STATE_##x
#define MESH_COMMAND_TYPE(x)	AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_##x
#define MESH_COMMAND_STATUS(x)	AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_##x
/* The Event oneof's cases (field numbers), not a proto enum. */
#define MESH_EVENT_KIND(x)	AGENTFLOW__MESH__V1__EVENT__KIND_##x

/* "connecting", "up", "down". */
const char *mesh_names_link_state(int state);
int mesh_names_link_state_parse(const char *name);
/* "alive", "suspect", "dead", "left". */
const char *mesh_names_member_state(int state);
int mesh_names_member_state_parse(const char *name);
/* "queued", "running", "succeeded", "failed", "cancelled", "timed-out",
 * "retrying". */
const char *mesh_names_task_state(int state);
int mesh_names_task_state_parse(const char *name);
/* 1 for the states a task never leaves: succeeded, failed, cancelled,
 * timed-out. */
int mesh_names_task_state_terminal(int state);
/* "stdout", "stderr". */
const char *mesh_names_log_stream(int stream);
int mesh_names_log_stream_parse(const char *name);
/* "info", "warning", "critical". */
const char *mesh_names_alert_severity(int severity);
int mesh_names_alert_severity_parse(const char *name);
/* "firing", "resolved", "acknowledged". */
const char *mesh_names_alert_state(int state);
int mesh_names_alert_state_parse(const char *name);
/* "run_task", "cancel_task", "ack_alert", "ping", "freeze", "unfreeze",
 * "task_logs". */
const char *mesh_names_command_type(int type);
int mesh_names_command_type_parse(const char *name);
/* "ok", "error", "timeout", "refused", "not_found", "unsupported",
 * "invalid", "unreachable". */
const char *mesh_names_command_status(int status);
int mesh_names_command_status_parse(const char *name);
/* "status", "task", "log", "alert", "user". */
const char *mesh_names_event_kind(int kind);
int mesh_names_event_kind_parse(const char *name);

#endif
