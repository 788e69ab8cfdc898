/*
 * A fanned-out job (submitted --to all or --to KEY=VALUE,...) as the CLI
 * shows it: one line per child (node, state, exit code, child id), and
 * the summary exit status of `wait` and `submit --wait`: 0 when every
 * child succeeded, 1 when any failed or was cancelled, else 124 when any
 * expired or was lost (fanout_summary.h: a failure beats a timeout).
 */
#ifndef AGENTFLOW_CLI_FANOUT_H
#define AGENTFLOW_CLI_FANOUT_H

#include <jansson.h>

/* 1 when job (GET /api/jobs/ID's body) is a fanned-out job's parent. */
int cli_fanout_is_parent(json_t *job);
/* Prints a parent's children, one line each (nothing for another job). */
void cli_fanout_print(json_t *job);
/* The summary exit status of a final parent. */
int cli_fanout_status(json_t *job);

#endif
