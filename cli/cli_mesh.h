/*
 * The CLI's read-and-tell commands over the local node's API:
 * `agentflow status` (each peer, its member state, direct or relayed, RTT,
 * last seen), `agentflow nodes` (resources of every node), `agentflow
 * event NAME [PAYLOAD]` (a user event to the whole mesh), `agentflow
 * forget NODE` (a dead or left node out of every node's view).  Each is the
 * exec of its row in cli.c's table and returns the exit status.
 */
#ifndef AGENTFLOW_CLI_MESH_H
#define AGENTFLOW_CLI_MESH_H

#include "cmd_table.h"

int cli_mesh_status(const struct cmd_entry *, int argc, char **argv);
int cli_mesh_nodes(const struct cmd_entry *, int argc, char **argv);
int cli_mesh_event(const struct cmd_entry *, int argc, char **argv);
/* `agentflow events [--node NODE] [--limit N]`: the user events kept
 * here, a binary payload as its size and base64. */
int cli_mesh_events(const struct cmd_entry *, int argc, char **argv);
/* `agentflow history [--node NODE] [--since WHEN] [--limit N]`: a node's
 * metric history (GET /api/history), a line a point. */
int cli_mesh_history(const struct cmd_entry *, int argc, char **argv);
/* `agentflow forget NODE`: POST /api/nodes/NODE/forget. */
int cli_mesh_forget(const struct cmd_entry *, int argc, char **argv);

/* `agentflow purge --older-than AGE`: POST /api/purge. */
int cli_mesh_purge(const struct cmd_entry *, int argc, char **argv);

#endif
