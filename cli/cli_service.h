/*
 * The service commands, a table of their own (`agentflow service ...`):
 *
 *   service ls [--node N] [--name S]   every service on every node
 *   service show NAME                  this node's NAME and every instance
 *   service put NAME FILE [--to TARGET]
 *                                      add or replace a definition (JSON,
 *                                      "-" for stdin) here, or on TARGET
 *   service rm NAME [--to TARGET]      stop and remove it
 *   service start|stop|restart TARGET NAME
 *                                      desired state on TARGET: a node id,
 *                                      "all" or a label selector k=v
 *
 * Exit 0 done, 1 refused (every error of a definition printed with its
 * path; for a TARGET, any node's answer not ok), 2 usage.
 */
#ifndef AGENTFLOW_CLI_SERVICE_H
#define AGENTFLOW_CLI_SERVICE_H

#include "cmd_table.h"

int cli_service_main(const struct cmd_entry *, int argc, char **argv);

#endif
