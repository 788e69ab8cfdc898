/*
 * Task updates, task log lines and alerts as JSON, the one form the store
 * keeps, the API serves and the dashboard reads.  Each takes the origin
 * node id (the messages do not carry it) and returns a new reference.
 */
#ifndef AGENTFLOW_WORK_JSON_H
#define AGENTFLOW_WORK_JSON_H

#include <jansson.h>

#include "mesh.pb-c.h"

json_t *work_json_task(const char *node, const Agentflow__Mesh__V1__TaskUpdate *);
json_t *work_json_log(const char *node, uint64_t time_ms,
    const Agentflow__Mesh__V1__TaskLog *);
json_t *work_json_alert(const char *node, const Agentflow__Mesh__V1__Alert *);

/*
 * A job's summary as every node shows it (GET /api/jobs): {id, issuer,
 * state, task, to, node, epoch, exit_code, term_signal, reason,
 * principal, submitted_ms, updated_ms, finished_ms, parent?, replay_of?};
 * what is not known is null.
 */
json_t *work_json_job(const char *issuer, const Agentflow__Mesh__V1__JobUpdate *);

/*
 * Back from JSON (as the store keeps it) into a message whose strings
 * point into j: j must outlive the message.  The message is initialized
 * first; missing fields stay empty.
 */
void work_json_to_task(const json_t *j, Agentflow__Mesh__V1__TaskUpdate *);
void work_json_to_alert(const json_t *j, Agentflow__Mesh__V1__Alert *);
/* The latest time a task update carries (for ordering). */
uint64_t work_task_time(const Agentflow__Mesh__V1__TaskUpdate *);

/* The names of enum values are mesh_names.h's. */

#endif
