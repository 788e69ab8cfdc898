/*
 * One client connection to a URL's host (see http_client.h).
 */
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_tunnel.h"
#include "xalloc.h"

/* The URL's scheme, host and port, or -1 with err. */
static int
parse(const char *url, const char *what, struct evhttp_uri **out, int *https,
    char *err, size_t errlen)
{
	struct evhttp_uri *u = NULL;
	const char *scheme, *host;

	if (strlen(url) > HTTP_CLIENT_URL_MAX ||
	    (u = evhttp_uri_parse(url)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(u)) == NULL ||
	    (host = evhttp_uri_get_host(u)) == NULL || host[0] == '\0' ||
	    evhttp_uri_get_userinfo(u) != NULL ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "%s \"%.200s\" is not http://HOST[:PORT] "
		    "or https://HOST[:PORT] (with an optional path)", what, url);
		if (u != NULL)
			evhttp_uri_free(u);
		return -1;
	}
	*https = strcmp(scheme, "https") == 0;
	*out = u;
	return 0;
}

int
http_client_url_check(const char *url, const char *what, char *err,
    size_t errlen)
{
	struct evhttp_uri *u;
	int https;

	if (parse(url, what, &u, &https, err, errlen) != 0)
		return -1;
	evhttp_uri_free(u);
	return 0;
}

int
http_client_open(struct http_client *c, struct event_base *base,
    struct evdns_base *dns, const char *url, const char *what, const char *ca,
    int timeout_s, char *err, size_t errlen)
{
	struct evhttp_uri *u;
	const char *path, *query;
	int https, port;

	memset(c, 0, sizeof(*c));
	if (parse(url, what, &u, &https, err, errlen) != 0)
		return -1;
	port = evhttp_uri_get_port(u);
	if (port <= 0)
		port = https ? 443 : 80;
	c->host = xstrdup(evhttp_uri_get_host(u));
	c->port = port;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || path[0] == '\0')
		path = "/";
	c->path = xmalloc(strlen(path) + (query != NULL ? strlen(query) + 1 : 0) +
	    1);
	sprintf(c->path, "%s%s%s", path, query != NULL ? "?" : "",
	    query != NULL ? query : "");
	evhttp_uri_free(u);
	if (https) {
		c->tunnel = tls_tunnel_new(base, dns, c->host, port, ca, err,
		    errlen);
		if (c->tunnel == NULL) {
			http_client_close(c);
			return -1;
		}
		c->evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1",
		    (unsigned short)tls_tunnel_port(c->tunnel));
	} else
		c->evcon = evhttp_connection_base_new(base, dns, c->host,
		    (unsigned short)port);
	if (c->evcon == NULL) {
		snprintf(err, errlen, "cannot create an HTTP connection for %.200s",
		    url);
		http_client_close(c);
		return -1;
	}
	evhttp_connection_set_timeout(c->evcon, timeout_s);
	evhttp_connection_set_retries(c->evcon, 0);
	return 0;
}

void
http_client_hostport(const struct http_client *c, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s:%d", c->host, c->port);
}

void
http_client_close(struct http_client *c)
{
	if (c->evcon != NULL)
		evhttp_connection_free(c->evcon);
	tls_tunnel_free(c->tunnel);
	free(c->host);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

const char *
http_client_error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "connection refused or closed";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid answer";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection error";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "answer too long";
	default:
		return "request failed";
	}
}
