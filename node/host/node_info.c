/*
 * NodeInfo from the node's JSON configuration (see node_info.h).  Nothing
 * is copied: the message points at the caller's strings, and the only
 * memory of its own is the pointer and Label arrays protobuf-c wants.
 */
#include "node_info.h"

#include <stdlib.h>

#include "xalloc.h"

void
node_info_init(struct node_info *ni, const char *node_id, uint64_t incarnation,
    json_t *addresses, json_t *labels)
{
	const char *key;
	json_t *v;
	size_t i, n = 0;

	agentflow__mesh__v1__node_info__init(&ni->msg);
	/* protobuf-c's fields are not const; it never writes through them. */
	ni->msg.node_id = (char *)node_id;
	ni->msg.incarnation = incarnation;
	ni->msg.version = AGENTFLOW_VERSION;
	ni->msg.started_ms = 0;
	ni->msg.n_addresses = json_array_size(addresses);
	ni->addresses = xcalloc(ni->msg.n_addresses + 1,
	    sizeof(*ni->addresses));
	json_array_foreach(addresses, i, v)
		ni->addresses[i] = (char *)json_string_value(v);
	ni->msg.addresses = ni->addresses;
	ni->labels = xcalloc(json_object_size(labels) + 1, sizeof(*ni->labels));
	ni->label_ptrs = xcalloc(json_object_size(labels) + 1,
	    sizeof(*ni->label_ptrs));
	json_object_foreach(labels, key, v) {
		agentflow__mesh__v1__label__init(&ni->labels[n]);
		ni->labels[n].key = (char *)key;
		ni->labels[n].value = (char *)json_string_value(v);
		ni->label_ptrs[n] = &ni->labels[n];
		n++;
	}
	ni->msg.n_labels = n;
	ni->msg.labels = ni->label_ptrs;
}

void
node_info_clear(struct node_info *ni)
{
	free(ni->addresses);
	free(ni->labels);
	free(ni->label_ptrs);
	ni->addresses = NULL;
	ni->labels = NULL;
	ni->label_ptrs = NULL;
}
