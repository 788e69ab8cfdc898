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
 *   tasks | alerts | audit      tables of what this node knows
 *
 * A task's stdout lines go to stdout and its stderr lines to stderr,
 * unprefixed, so redirections split them as the task wrote them.
 *
 * Exit status: 0 done (for run, every node answered ok and a followed task
 * succeeded), 1 the node could not be asked, refused, or some answer was
 * not ok, 2 usage.  Each takes argv[0] = its name.
 */
#ifndef AGENTFLOW_CLI_WORK_H
#define AGENTFLOW_CLI_WORK_H

int cli_run_main(int argc, char **argv);
int cli_logs_main(int argc, char **argv);
int cli_cancel_main(int argc, char **argv);
int cli_ack_main(int argc, char **argv);
int cli_freeze_main(int argc, char **argv);
int cli_unfreeze_main(int argc, char **argv);
int cli_ping_main(int argc, char **argv);
int cli_tasks_main(int argc, char **argv);
int cli_alerts_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);

#endif
