/*
 * `agentflow tasks | alerts | audit | token ls`: one list command, driven by the
 * description its table row carries (cmd_entry.data): the API path, the
 * array in the answer, the columns, and which filters it takes.  With
 * --json it prints the API's answer as it came.
 */
#ifndef AGENTFLOW_CLI_LIST_H
#define AGENTFLOW_CLI_LIST_H

#include "cmd_table.h"

struct cli_list;

extern const struct cli_list cli_list_tasks;
extern const struct cli_list cli_list_alerts;
extern const struct cli_list cli_list_audit;
extern const struct cli_list cli_list_tokens;	/* token ls */

/* The exec of every list row; e->data is one of the above. */
int cli_list_exec(const struct cmd_entry *e, int argc, char **argv);
/* The same with the arguments already parsed (a, cli_cmd.h). */
struct cli_args;
int cli_list_run(const struct cli_list *, struct cli_args *a);

#endif
