/*
 * Task and alert id prefixes unique mesh-wide (see work_ids.h for the
 * shape and why).  Pure: no state, no I/O.
 */
#include "work_ids.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit_chain.h"
#include "check.h"

_Static_assert(WORK_IDS_HEAD >= 1, "a tag keeps some of the node's id");

void
work_ids_node(char out[WORK_IDS_NODE_MAX + 1], const char *node_id)
{
	char hash[AUDIT_CHAIN_HEX];
	size_t len = strlen(node_id);

	CHECK(node_id_valid(node_id, len));
	if (len <= WORK_IDS_NODE_MAX) {
		memcpy(out, node_id, len + 1);
		return;
	}
	audit_chain_sha256_hex(node_id, len, hash);
	snprintf(out, WORK_IDS_NODE_MAX + 1, "%.*s-%.*s", WORK_IDS_HEAD,
	    node_id, WORK_IDS_HASH_HEX, hash);
}

void
work_ids_prefix(char out[NODE_ID_PREFIX_MAX + 1], const char *node_id,
    char kind, uint64_t incarnation)
{
	char node[WORK_IDS_NODE_MAX + 1];

	CHECK(isalpha((unsigned char)kind));
	work_ids_node(node, node_id);
	snprintf(out, NODE_ID_PREFIX_MAX + 1, "%s.%c%" PRIu64, node, kind,
	    incarnation);
}
