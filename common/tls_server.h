/*
 * HTTPS for an evhttp server through mbedTLS.
 *
 * libevent 2.1 can only do TLS with OpenSSL, and its filter bufferevents do
 * not receive the socket evhttp accepts.  So each accepted connection is
 * split in two: evhttp keeps its file descriptor number, which we turn into
 * one end of a socketpair carrying plaintext, and a duplicate of the real
 * socket goes to an mbedTLS session pumped by this module.  evhttp keeps
 * seeing the client's real address, and its own shutdown of "its" fd
 * half-closes the plaintext pipe, so responses are flushed through TLS
 * before the socket closes.
 */
#ifndef AGENTFLOW_TLS_SERVER_H
#define AGENTFLOW_TLS_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

struct tls_server;

/* Loads cert (PEM chain) and key and makes every connection http accepts
 * from now on TLS.  Returns NULL with a message in err on failure. */
struct tls_server *tls_server_new(struct event_base *, struct evhttp *,
    const char *cert_path, const char *key_path, char *err, size_t errlen);
/* The bevcb tls_server_new sets (arg: the tls_server), for a module that
 * wraps it (http_guard.h). */
struct bufferevent *tls_server_bevcb(struct event_base *, void *arg);
/* Call after evhttp_free(): frees sessions still open and the config. */
void tls_server_free(struct tls_server *);

#endif
