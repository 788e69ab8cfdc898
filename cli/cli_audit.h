/*
 * `agentflow audit`: the audit list (cli_list.h) with its filters, and
 * `agentflow audit verify [--file PATH]`, which checks a log's hash chain
 * offline (--file: no node needed) or asks the node to check its own
 * (GET /api/audit/verify).  verify exits 0 when the chain holds, 1 naming
 * the first bad line.
 */
#ifndef AGENTFLOW_CLI_AUDIT_H
#define AGENTFLOW_CLI_AUDIT_H

#include "cmd_table.h"

int cli_audit_exec(const struct cmd_entry *e, int argc, char **argv);

#endif
