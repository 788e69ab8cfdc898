/*
 * The optional DNS responder (--dns ADDR:PORT, UDP): existing programs
 * find services by name with no code change.  It answers, from the
 * service registry (service_registry.h), with TTL 0 and the authoritative
 * flag:
 *
 *   NAME.service.agentflow      A / AAAA: the hosts of NAME's ready
 *                               instances (their nodes' addresses that
 *                               are IP literals); SRV: one record per
 *                               endpoint (priority 1, weight 1, its port,
 *                               target NODE.node.agentflow, whose address
 *                               goes in the additional section)
 *   TAG.NAME.service.agentflow  the same, only endpoints with that tag
 *   NODE.node.agentflow         A / AAAA: that node's host
 *
 * A name under service.agentflow or node.agentflow with nothing ready is
 * NXDOMAIN; any other name or class is REFUSED.  At most DNS_ANSWERS_MAX
 * answers (libevent sets TC past 512 bytes).  Loop thread only.
 */
#ifndef AGENTFLOW_DNS_SERVER_H
#define AGENTFLOW_DNS_SERVER_H

#include <stddef.h>

struct node;
struct dns_server;

#define DNS_ANSWERS_MAX	16

/* Binds listen ("127.0.0.1:8600", "[::1]:8600") and serves; NULL with
 * err when it cannot. */
struct dns_server *dns_server_new(struct node *, const char *listen,
    char *err, size_t errlen);
void dns_server_free(struct dns_server *);
/* The UDP port bound (for --dns 127.0.0.1:0). */
int dns_server_port(const struct dns_server *);

#endif
