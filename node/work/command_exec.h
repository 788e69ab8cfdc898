/*
 * What each command type does on its destination: one table of {type,
 * handler, role}, called by commands.c (its commands_exec_fn) with the
 * node as argument; the API checks the same roles before issuing.
 * Read-only mode (freeze) is enforced here: while frozen, only ping,
 * task_logs, audit_query, history_query, cancel_task, freeze, unfreeze
 * and forget_node run.
 */
#ifndef AGENTFLOW_COMMAND_EXEC_H
#define AGENTFLOW_COMMAND_EXEC_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"
#include "principal.h"

/* A commands_exec_fn; arg is the struct node. */
int command_exec(void *arg, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);
/* Whether a command type still runs while frozen. */
int command_exec_allowed_frozen(int type);
/* Whether a command type is a quiet read (history_query): the audit
 * writes it once an hour per principal and origin when it goes well
 * (commands_config.quiet). */
int command_exec_quiet(int type);
/*
 * The least role that may issue a command type (read: ping, task_logs,
 * audit_query, history_query; write: run_task, cancel_task, ack_alert; admin: freeze,
 * unfreeze, forget_node); PRINCIPAL_NONE for a type not known here.  A
 * command that carries its issuer's role below this is refused.
 */
enum principal_role command_exec_role(int type);

/*
 * commands_config.principal_check for a node (arg): a command whose
 * principal holds a signed token must carry its proof, checked here
 * against the type's role (command_sign_check_principal).  0, or -1 with
 * why in err.
 */
int command_exec_principal(void *arg, const Agentflow__Mesh__V1__Command *,
    char *err, size_t errlen);
/* Sets read-only mode, persists it and tells the task runner. */
struct node;
void command_exec_set_frozen(struct node *, int frozen);

#endif
