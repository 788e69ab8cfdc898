/*
 * `agentflow replay`, a client of the local node's replay routes
 * (jobs_replay.h):
 *
 *   replay JOB                          run a failed, cancelled, lost or
 *                                       expired job again as a new job
 *   replay --failed|--cancelled|--lost|--expired ... --since AGE
 *       [--task T] [--node N] [--dry-run] [--again]
 *                                       the same for every matching job
 *
 * Prints "FIRST -> NEW" a line (NEW "-" in a dry run).  Exit status: 0
 * done, 1 refused or some replays failed, 2 usage.
 */
#ifndef AGENTFLOW_CLI_REPLAY_H
#define AGENTFLOW_CLI_REPLAY_H

#include "cmd_table.h"

int cli_replay(const struct cmd_entry *, int argc, char **argv);

#endif
