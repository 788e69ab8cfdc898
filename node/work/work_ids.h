/*
 * The prefix of this node's task and alert ids, unique mesh-wide.
 *
 * A task run is named "<prefix>-<n>" (tasks.h) and an alert likewise
 * (alerts.h), with n counting from 1 in each incarnation.  The prefix is
 * "<node>.<kind><incarnation>" (kind 't' for tasks, 'a' for alerts), so
 * node n2's seventh task of its first life is "n2.t1-7": the incarnation,
 * never reused, keeps a node's ids apart across restarts, and the node's
 * own id keeps two nodes' ids apart.  A task or alert is still addressed
 * by node and id (/api/tasks/{node}/{id}); the node in the id makes the id
 * alone enough wherever it is shown on its own (a log line, a notice, an
 * audit record, a job's result).
 *
 * Ids keep the id syntax (node_id.h): the wire's fields, older nodes (to
 * which ids are opaque strings), the data directory (runs/<id>) and
 * fixed buffers all bound them to NODE_ID_MAX bytes.  With the longest
 * incarnation and counter (20 digits each) that leaves WORK_IDS_NODE_MAX
 * characters for the node.  A longer node id is replaced by a tag of
 * exactly that length: its first WORK_IDS_HEAD characters, "-" and the
 * first 8 hex digits of its SHA-256: livingroom-raspberrypi-4's seventh
 * task is "livingroom--6f2d0a59.t1-7".  The head keeps it readable, the
 * hash keeps two nodes with the same head apart: k such nodes share a
 * tag by chance with odds of about k^2 / 2^33 (1e-6 at 100), and a node
 * named after another node's tag on purpose shares its ids.  Every
 * lookup is by node and id, so a shared id is ambiguous only where it is
 * shown alone.  A restored data directory repeats its life's ids until
 * a peer moves it to a new incarnation (sync_incarnation.c).  The choice depends on the node id alone, so a node's
 * ids keep one shape over all its lives.
 *
 * Ids made before (t1-1, a1-1) stay valid: nothing parses an id.
 */
#ifndef AGENTFLOW_WORK_IDS_H
#define AGENTFLOW_WORK_IDS_H

#include <stdint.h>

#include "node_id.h"

#define WORK_IDS_U64_DIGITS	20	/* UINT64_MAX in decimal */
/* The prefix is at most NODE_ID_PREFIX_MAX (node_id.h: "-<n>" follows);
 * ".<kind><incarnation>" follows the node. */
#define WORK_IDS_NODE_MAX	(NODE_ID_PREFIX_MAX - 2 - WORK_IDS_U64_DIGITS)
#define WORK_IDS_HASH_HEX	8
#define WORK_IDS_HEAD		(WORK_IDS_NODE_MAX - 1 - WORK_IDS_HASH_HEX)

/* The node's part of its ids into out: node_id itself when it has at most
 * WORK_IDS_NODE_MAX characters, else its tag.  node_id is a valid id. */
void work_ids_node(char out[WORK_IDS_NODE_MAX + 1], const char *node_id);

/* The prefix of the ids of kind ('t' or 'a') node_id makes in
 * incarnation into out: an id of at most NODE_ID_PREFIX_MAX characters. */
void work_ids_prefix(char out[NODE_ID_PREFIX_MAX + 1], const char *node_id,
    char kind, uint64_t incarnation);

#endif
