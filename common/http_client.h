/*
 * One evhttp client connection to the host of an http:// or https:// URL:
 * https goes through a tls_tunnel (mbedTLS, the certificate verified for
 * the URL's host).  Shared by the node's signal client (discovery.c) and
 * its job result callbacks (callbacks.c).
 */
#ifndef AGENTFLOW_HTTP_CLIENT_H
#define AGENTFLOW_HTTP_CLIENT_H

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

struct tls_tunnel;

#define HTTP_CLIENT_URL_MAX	2048

struct http_client {
	char				*host;	/* the URL's, for the Host header */
	int				 port;
	char				*path;	/* path and query; "/" when none */
	struct tls_tunnel		*tunnel;	/* https only */
	struct evhttp_connection	*evcon;
};

/*
 * Parses url (what names it in errors: "signal URL") and opens c's
 * connection, each request timing out after timeout_s and never retried
 * by evhttp.  ca: PEM bundle for https (NULL: the system's).  0, or -1
 * with err saying what is wrong and c closed.
 */
int http_client_open(struct http_client *c, struct event_base *,
    struct evdns_base *, const char *url, const char *what, const char *ca,
    int timeout_s, char *err, size_t errlen);
/* Only checks url as http_client_open would: 0, or -1 with err. */
int http_client_url_check(const char *url, const char *what, char *err,
    size_t errlen);
/* "host:port" for the Host header into out. */
void http_client_hostport(const struct http_client *c, char *out,
    size_t outlen);
/* What a request's error means, for people ("timed out", "connection
 * refused or closed", ...). */
const char *http_client_error_text(enum evhttp_request_error);
/* Frees pending requests without calling their callbacks.  Idempotent. */
void http_client_close(struct http_client *c);

#endif
