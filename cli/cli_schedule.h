/*
 * The schedule commands, a table of their own (`agentflow schedule ...`),
 * clients of the local node's schedule API (schedules.h; any node holds
 * every schedule):
 *
 *   schedule add NAME --cron EXPR [--tz ZONE] [--misfire skip|run-once]
 *       [--grace 1h] [--overlap skip|queue|allow]
 *       (--task T [--to PLACEMENT] [--payload JSON|@FILE] | --job JSON|@FILE)
 *   schedule list                 each with its next and last fire
 *   schedule show NAME
 *   schedule rm NAME
 *   schedule pause NAME | resume NAME
 *
 * Exit 0 done, 1 refused (every error of a definition printed with its
 * path), 2 usage.
 */
#ifndef AGENTFLOW_CLI_SCHEDULE_H
#define AGENTFLOW_CLI_SCHEDULE_H

#include "cmd_table.h"

int cli_schedule_main(const struct cmd_entry *, int argc, char **argv);

#endif
