/*
 * `agentflow token issue | ls | revoke`: signed API tokens for named
 * principals, through the node's /api/tokens routes (admin role).
 *   token issue --name NAME --role read|write|admin --ttl 8h
 *                          prints the token once (it is never shown again)
 *   token ls               the tokens issued by this node (cli_list.h)
 *   token revoke ID        refuses the token from now on
 */
#ifndef AGENTFLOW_CLI_TOKEN_H
#define AGENTFLOW_CLI_TOKEN_H

#include "cmd_table.h"

/* The `token` row's exec: dispatches to its own table. */
int cli_token_main(const struct cmd_entry *, int argc, char **argv);

#endif
