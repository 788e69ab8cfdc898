/*
 * The CLI's read-and-tell commands over the local node's API:
 * `agentflow status` (each peer, its member state, direct or relayed, RTT,
 * last seen), `agentflow nodes` (resources of every node), `agentflow
 * event NAME [PAYLOAD]` (a user event to the whole mesh).  Each takes
 * argv[0] = its name and returns the exit status.
 */
#ifndef AGENTFLOW_CLI_MESH_H
#define AGENTFLOW_CLI_MESH_H

int cli_status_main(int argc, char **argv);
int cli_nodes_main(int argc, char **argv);
int cli_event_main(int argc, char **argv);

#endif
