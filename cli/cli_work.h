/*
 * The CLI's commands that drive the mesh's work through the local node's
 * API (cli_api.h says how the API and token are found):
 *
 *   run TARGET TASK [ARGS...]   run a named task, print each node's answer;
 *                               for one node also follow the task's log to
 *                               its end (--detach: answers only)
 *   logs NODE TASK_ID [-f]      a task's output; -f follows it to the end
 *   cancel NODE TASK_ID         cancel a task (--hard: SIGKILL at once)
 *   ack NODE ALERT_ID           acknowledge an alert
 *   freeze | unfreeze [TARGET]  read-only mode on or off (default: all)
 *   ping TARGET                 the path a command takes, and its RTT
 *
 * (tasks, alerts and audit are the list command, cli_list.h.)  A task's
 * stdout lines go to stdout and its stderr lines to stderr, unprefixed,
 * so redirections split them as the task wrote them.
 *
 * Exit status: 0 done (for run, every node answered ok and a followed task
 * succeeded), 1 the node could not be asked, refused, or some answer was
 * not ok, 2 usage.  Each is the exec of its row in cli.c's table, which
 * declares its operands and options.
 */
#ifndef AGENTFLOW_CLI_WORK_H
#define AGENTFLOW_CLI_WORK_H

#include <jansson.h>
#include <stddef.h>

#include "cli_cmd.h"
#include "cmd_table.h"

/* What an ok result says, from its body (and path). */
typedef void (*describe_fn)(json_t *res, char *out, size_t len);

/* A node id, "all", or a label selector "k=v,k2=v2" (the node checks it). */
int cli_work_target_valid(const char *);
/* Issues a command of type with args (stolen) to target, prints each
 * node's answer (--json: the final record); 0 when every node answered
 * ok, else 1. */
int cli_work_command(const struct cli_args *, const char *target,
    const char *type, json_t *args, describe_fn describe);

int cli_work_run(const struct cmd_entry *, int argc, char **argv);
int cli_work_logs(const struct cmd_entry *, int argc, char **argv);
int cli_work_cancel(const struct cmd_entry *, int argc, char **argv);
int cli_work_ack(const struct cmd_entry *, int argc, char **argv);
int cli_work_freeze(const struct cmd_entry *, int argc, char **argv);
int cli_work_unfreeze(const struct cmd_entry *, int argc, char **argv);
int cli_work_ping(const struct cmd_entry *, int argc, char **argv);

#endif
