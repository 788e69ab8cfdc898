/*
 * The one rule for node identities, shared by certificates, the signal and
 * the node: 1-63 characters of [A-Za-z0-9._-], starting with a letter or a
 * digit.  It fits a DNS label-like SAN and a file name, and needs no escaping
 * in logs, JSON or URLs.
 */
#ifndef AGENTFLOW_NODE_ID_H
#define AGENTFLOW_NODE_ID_H

#include <stdbool.h>
#include <stddef.h>

#define NODE_ID_MAX 63
/* The longest prefix of an id "<prefix>-<n>", n any uint64 (20 digits),
 * that keeps it within the rule: task and alert ids (node/work/work_ids.h). */
#define NODE_ID_PREFIX_MAX (NODE_ID_MAX - 1 - 20)

bool node_id_valid(const char *id, size_t len);

#endif
