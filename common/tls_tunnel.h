/*
 * HTTPS for evhttp clients through mbedTLS: a listener on 127.0.0.1 (port
 * chosen by the kernel) whose every connection is carried over TLS to one
 * upstream host:port.  An evhttp connection to the tunnel's port then
 * speaks HTTPS to the upstream, with the certificate verified for its host
 * name.  The tunnel adds no credentials of its own, so a local process
 * using it gains nothing it could not do by connecting to the upstream
 * itself.
 */
#ifndef AGENTFLOW_TLS_TUNNEL_H
#define AGENTFLOW_TLS_TUNNEL_H

#include <event2/dns.h>
#include <event2/event.h>
#include <stddef.h>

/* Debian's bundle of the system's trusted CAs. */
#define TLS_TUNNEL_SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"

struct tls_tunnel;

/* ca_path: PEM bundle to verify the upstream against (NULL: the system's).
 * Returns NULL with a message in err on failure. */
struct tls_tunnel *tls_tunnel_new(struct event_base *, struct evdns_base *,
    const char *host, int port, const char *ca_path, char *err, size_t errlen);
int tls_tunnel_port(const struct tls_tunnel *);
void tls_tunnel_free(struct tls_tunnel *);

#endif
