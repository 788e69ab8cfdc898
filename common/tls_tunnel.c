/*
 * Loopback listener → TLS client pumps (see tls_tunnel.h).  Each accepted
 * plaintext connection gets a tls_pump that connects to the upstream and
 * verifies it; the pump's end frees the connection's record.
 */
#include "tls_tunnel.h"

#include <arpa/inet.h>
#include <event2/listener.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "rng.h"
#include "tls_pump.h"
#include "xalloc.h"

struct tunnel_conn {
	struct tls_tunnel	*t;
	struct tls_pump		*pump;
	LIST_ENTRY(tunnel_conn)	 entry;
};

struct tls_tunnel {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct evconnlistener	*listener;
	char			*host;
	int			 port;
	int			 local_port;
	struct rng		*rng;
	mbedtls_ssl_config	 conf;
	mbedtls_x509_crt	 cas;
	LIST_HEAD(, tunnel_conn) conns;
};

static void
conn_end_cb(void *arg)
{
	struct tunnel_conn *c = arg;

	LIST_REMOVE(c, entry);
	free(c);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct tls_tunnel *t = arg;
	struct tunnel_conn *c = xcalloc(1, sizeof(*c));

	(void)l;
	(void)sa;
	(void)salen;
	c->t = t;
	c->pump = tls_pump_new(t->base, &t->conf, t->host, -1, fd, conn_end_cb, c);
	if (c->pump == NULL) {
		free(c);
		return;
	}
	LIST_INSERT_HEAD(&t->conns, c, entry);
	tls_pump_connect(c->pump, t->dns, t->host, t->port);
}

struct tls_tunnel *
tls_tunnel_new(struct event_base *base, struct evdns_base *dns, const char *host,
    int port, const char *ca_path, char *err, size_t errlen)
{
	struct tls_tunnel *t = xcalloc(1, sizeof(*t));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int rc;

	t->base = base;
	t->dns = dns;
	t->host = xstrdup(host);
	t->port = port;
	LIST_INIT(&t->conns);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_x509_crt_init(&t->cas);
	if (ca_path == NULL)
		ca_path = TLS_TUNNEL_SYSTEM_CAS;
	if ((t->rng = rng_new("agentflow-tls-client")) == NULL) {
		snprintf(err, errlen, "cannot seed the random generator");
		goto fail;
	}
	if ((rc = mbedtls_x509_crt_parse_file(&t->cas, ca_path)) < 0) {
		snprintf(err, errlen, "cannot load CA certificates %s (mbedTLS -0x%04x)",
		    ca_path, (unsigned)-rc);
		goto fail;
	}
	if (mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
		snprintf(err, errlen, "cannot configure TLS");
		goto fail;
	}
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->cas, NULL);
	mbedtls_ssl_conf_rng(&t->conf, rng_mbedtls, t->rng);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->listener = evconnlistener_new_bind(base, accept_cb, t,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (t->listener == NULL ||
	    getsockname(evconnlistener_get_fd(t->listener),
	    (struct sockaddr *)&sin, &len) != 0) {
		snprintf(err, errlen, "cannot open the loopback TLS tunnel");
		goto fail;
	}
	t->local_port = ntohs(sin.sin_port);
	return t;
fail:
	tls_tunnel_free(t);
	return NULL;
}

int
tls_tunnel_port(const struct tls_tunnel *t)
{
	return t->local_port;
}

void
tls_tunnel_free(struct tls_tunnel *t)
{
	struct tunnel_conn *c;

	if (t == NULL)
		return;
	if (t->listener != NULL)
		evconnlistener_free(t->listener);
	while ((c = LIST_FIRST(&t->conns)) != NULL) {
		LIST_REMOVE(c, entry);
		tls_pump_free(c->pump);
		free(c);
	}
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->cas);
	rng_free(t->rng);
	free(t->host);
	free(t);
}
