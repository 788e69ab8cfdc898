/*
 * What each command type does on its destination: one table of
 * {type, handler}, called by commands.c (its commands_exec_fn) with the
 * node as argument.  Read-only mode (freeze) is enforced here: while
 * frozen, only ping, task_logs, audit_query, cancel_task, freeze,
 * unfreeze and forget_node run.
 */
#ifndef AGENTFLOW_COMMAND_EXEC_H
#define AGENTFLOW_COMMAND_EXEC_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"

/* A commands_exec_fn; arg is the struct node. */
int command_exec(void *arg, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);
/* Whether a command type still runs while frozen. */
int command_exec_allowed_frozen(int type);
/* Sets read-only mode, persists it and tells the task runner. */
struct node;
void command_exec_set_frozen(struct node *, int frozen);

#endif
