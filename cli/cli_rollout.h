/*
 * The rollout commands, a table of their own (`agentflow rollout ...`;
 * docs/services.md, "Rollouts"):
 *
 *   rollout start NAME FILE [--to TARGET] [--max-parallel N]
 *           [--deadline 60s] [--min-healthy S] [--wait]
 *                                      take FILE's definition of NAME to
 *                                      TARGET's nodes (a node id, "all",
 *                                      k=v, or node ids joined by ","),
 *                                      one at a time or N
 *   rollout ls [--name NAME]           the rollouts this node runs
 *   rollout show ID                    one, node by node
 *   rollout pause|resume|abort ID
 *
 * Exit 0 done (--wait: the rollout succeeded), 1 refused or (--wait)
 * failed or aborted, 2 usage, 124 --wait's --timeout-ms passed.
 */
#ifndef AGENTFLOW_CLI_ROLLOUT_H
#define AGENTFLOW_CLI_ROLLOUT_H

#include "cmd_table.h"

int cli_rollout_main(const struct cmd_entry *, int argc, char **argv);

#endif
