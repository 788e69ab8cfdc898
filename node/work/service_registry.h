/*
 * Finding services by name (issue 18 item 4): the endpoints of every
 * ready instance (state running with no checks, or healthy) of a service
 * on every node, as the mesh's view holds them (sync_services.h), each
 * at its node's address: the host of the first address the node
 * advertises, else of the address our link to it uses.
 *
 * The same registry answers GET /api/discovery, GET /api/resolve and
 * the DNS responder (dns_server.h).  Loop thread only.
 */
#ifndef AGENTFLOW_SERVICE_REGISTRY_H
#define AGENTFLOW_SERVICE_REGISTRY_H

#include <jansson.h>

struct node;
struct service_registry;

struct service_registry *service_registry_new(void);
void service_registry_free(struct service_registry *);

/*
 * The ready instances of service name (tag, node, endpoint: filters, or
 * NULL), one entry per endpoint: [{node, service, endpoint, protocol,
 * address (null when the node's host is unknown), port, tags, state,
 * version}], by node then endpoint.  New reference.
 */
json_t *service_registry_instances(const struct node *, const char *name,
    const char *tag, const char *node, const char *endpoint);

/*
 * One instance of the above by strategy: "random", "round_robin" (per
 * service, in this node's order) or "hash" (key: the same key picks the
 * same instance while it is there; rendezvous hashing, so an instance
 * leaving moves only its own keys).  NULL with why in err: no ready
 * instance, or an unknown strategy (*bad set).
 */
json_t *service_registry_resolve(struct service_registry *, struct node *,
    const char *name, const char *tag, const char *strategy,
    const char *key, int *bad, char *err, size_t errlen);

/* The host part of "host:port" or "[v6]:port" into out; 0, or -1. */
int service_registry_host(const char *address, char *out, size_t len);

#endif
