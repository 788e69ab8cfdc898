/*
 * The workflow commands, a table of their own (`agentflow workflow ...`),
 * clients of the local node's workflow API (workflow_spec.h):
 *
 *   workflow check FILE [--set KEY=VALUE]...
 *       checks a definition (JSON) whole: every error with its path, or
 *       the order its steps would run in.  Exit 0 valid, 1 invalid.
 */
#ifndef AGENTFLOW_CLI_WORKFLOW_H
#define AGENTFLOW_CLI_WORKFLOW_H

#include <jansson.h>

#include "cmd_table.h"

struct cli_args;

/* {definition: FILE's JSON, set: a's --set KEY=VALUE}, as POST
 * /api/workflows and a schedule's "workflow" take it; NULL after
 * printing why FILE cannot be read. */
json_t *cli_workflow_body(const char *file, const struct cli_args *a);

int cli_workflow_main(const struct cmd_entry *, int argc, char **argv);

#endif
