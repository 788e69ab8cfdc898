/*
 * This node's NodeInfo message, built from its id, incarnation and the
 * JSON forms of its addresses (array of "host:port" strings) and labels
 * (object of string values) that main.c keeps.  Both the Hello that opens
 * a link and the snapshots state sync serves carry it.
 */
#ifndef AGENTFLOW_NODE_INFO_H
#define AGENTFLOW_NODE_INFO_H

#include <jansson.h>
#include <stdint.h>

#include "mesh.pb-c.h"

/*
 * An embedded struct: msg is ready to pack after node_info_init(), and the
 * arrays are what msg points into.  msg also borrows node_id and the
 * strings of addresses and labels, so those must outlive it and stay
 * unchanged until node_info_clear().
 */
struct node_info {
	Agentflow__Mesh__V1__NodeInfo	  msg;
	char				**addresses;
	Agentflow__Mesh__V1__Label	 *labels;
	Agentflow__Mesh__V1__Label	**label_ptrs;
};

/*
 * Fills ni: node_id, incarnation, this build's version, started_ms 0 (the
 * caller sets it when it means something), addresses and labels.
 */
void node_info_init(struct node_info *ni, const char *node_id,
    uint64_t incarnation, json_t *addresses, json_t *labels);

/* Frees the arrays node_info_init() made; ni->msg is unusable afterwards. */
void node_info_clear(struct node_info *ni);

#endif
