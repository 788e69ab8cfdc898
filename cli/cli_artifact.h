/*
 * `agentflow artifact`: files that services run from (docs/services.md,
 * "Artifacts").
 *
 *   artifact add FILE [--name NAME]   hash FILE, upload it to this node in
 *                                     pieces (resumed where the node's
 *                                     copy ends); the mesh learns that
 *                                     this node holds it
 *   artifact ls                       which node holds which artifact,
 *                                     and this node's fetches
 *   artifact rm ID                    remove it from this node
 *
 * Exit 0 done, 1 refused or failed, 2 usage.
 */
#ifndef AGENTFLOW_CLI_ARTIFACT_H
#define AGENTFLOW_CLI_ARTIFACT_H

#include "cmd_table.h"

int cli_artifact_main(const struct cmd_entry *, int argc, char **argv);

#endif
