/*
 * An mbedTLS session between two bufferevents: ciphertext on a socket, and
 * plaintext on one end of a socketpair whose other end belongs to evhttp.
 * libevent 2.1 speaks TLS only through OpenSSL, so this is how our HTTP
 * server (tls_server.c) and client (tls_tunnel.c) get TLS from mbedTLS
 * while evhttp keeps doing all of HTTP.
 *
 * A pump ends itself: on a TLS or socket error, on either side's EOF, or on
 * a handshake that does not finish within 10 s.  It is freed from a
 * deferred event (never inside its own callbacks) and then tells its owner
 * through on_end.
 */
#ifndef AGENTFLOW_TLS_PUMP_H
#define AGENTFLOW_TLS_PUMP_H

#include <event2/dns.h>
#include <event2/event.h>
#include <mbedtls/ssl.h>

struct tls_pump;

/*
 * Takes ownership of sock_fd (a connected socket, or -1 when the pump is
 * to connect with tls_pump_connect) and plain_fd (our end of the
 * plaintext socketpair).  hostname: NULL on a server; on a client, the name
 * sent as SNI and checked against the server's certificate.  conf must
 * outlive the pump.  on_end(arg) runs once, from the loop, after the pump
 * was freed.  Returns NULL (both fds closed) on failure.
 */
struct tls_pump *tls_pump_new(struct event_base *, const mbedtls_ssl_config *conf,
    const char *hostname, evutil_socket_t sock_fd, evutil_socket_t plain_fd,
    void (*on_end)(void *arg), void *arg);
/* Client: resolves and connects to host:port, then starts the handshake. */
int tls_pump_connect(struct tls_pump *, struct evdns_base *, const char *host,
    int port);
/* Frees at once (for owners shutting down); on_end is not called. */
void tls_pump_free(struct tls_pump *);

#endif
