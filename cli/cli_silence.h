/*
 * The silence commands, a table of their own (`agentflow silence ...`),
 * clients of the local node's silence API (silences.h: a silence added
 * on any node holds back the matching notices of every node):
 *
 *   silence add (--rule R | --node N | --label K=V ...) --for 2h
 *       [--comment TEXT]       prints the new silence's id
 *   silence ls                 the mesh's active ones, as the node learnt them
 *   silence rm ID
 *
 * Exit 0 done, 1 refused (the node's message), 2 usage.
 */
#ifndef AGENTFLOW_CLI_SILENCE_H
#define AGENTFLOW_CLI_SILENCE_H

#include "cmd_table.h"

int cli_silence_main(const struct cmd_entry *, int argc, char **argv);

#endif
