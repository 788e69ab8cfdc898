/*
 * mbedTLS under an evhttp server (see tls_server.h).
 *
 * evhttp_set_bevcb hands evhttp a socket bufferevent (fd -1) that evhttp
 * then gives the accepted fd.  A deferred event, which runs after evhttp
 * has finished setting up but before any read, takes the connection over:
 * it duplicates the socket for a TLS pump and puts one end of a fresh
 * socketpair under evhttp's fd number (dup3), so evhttp reads and writes
 * plaintext through the pump and still reports the client's real address.
 */
#include "tls_server.h"

#include <event2/bufferevent.h>
#include <fcntl.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "rng.h"
#include "tls_pump.h"
#include "xalloc.h"

/* An accepted connection: waiting for takeover, then running a pump. */
struct tls_conn {
	struct tls_server	*ts;
	struct bufferevent	*accepted;	/* evhttp's, until takeover */
	struct event		*takeover_ev;
	struct tls_pump		*pump;
	LIST_ENTRY(tls_conn)	 entry;
};

struct tls_server {
	struct event_base	*base;
	struct rng		*rng;
	mbedtls_ssl_config	 conf;
	mbedtls_x509_crt	 cert;
	mbedtls_pk_context	 key;
	LIST_HEAD(, tls_conn)	 conns;
};

static void
conn_free(struct tls_conn *c)
{
	LIST_REMOVE(c, entry);
	if (c->accepted != NULL)
		bufferevent_decref(c->accepted);
	if (c->takeover_ev != NULL)
		event_free(c->takeover_ev);
	tls_pump_free(c->pump);
	free(c);
}

/* The pump ended and freed itself. */
static void
pump_end_cb(void *arg)
{
	struct tls_conn *c = arg;

	c->pump = NULL;
	conn_free(c);
}

static void
takeover_cb(evutil_socket_t unused, short what, void *arg)
{
	struct tls_conn *c = arg;
	evutil_socket_t fd = bufferevent_getfd(c->accepted);
	short enabled;
	int sp[2] = { -1, -1 }, real = -1;

	(void)unused;
	(void)what;
	if (fd < 0) {		/* evhttp gave up on it already */
		conn_free(c);
		return;
	}
	enabled = bufferevent_get_enabled(c->accepted);
	bufferevent_disable(c->accepted, EV_READ | EV_WRITE);
	if ((real = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0 ||
	    dup3(sp[0], fd, O_CLOEXEC) < 0) {
		log_warn("TLS: cannot take over an accepted connection");
		if (real >= 0)
			close(real);
		if (sp[0] >= 0) {
			close(sp[0]);
			close(sp[1]);
		}
		bufferevent_enable(c->accepted, enabled);
		shutdown(fd, SHUT_RDWR);	/* evhttp sees EOF and frees it */
		conn_free(c);
		return;
	}
	close(sp[0]);
	bufferevent_enable(c->accepted, enabled);
	bufferevent_decref(c->accepted);
	c->accepted = NULL;
	c->pump = tls_pump_new(c->ts->base, &c->ts->conf, NULL, real, sp[1],
	    pump_end_cb, c);
	if (c->pump == NULL) {
		shutdown(fd, SHUT_RDWR);
		conn_free(c);
	}
}

struct bufferevent *
tls_server_bevcb(struct event_base *base, void *arg)
{
	struct tls_server *ts = arg;
	struct tls_conn *c = xcalloc(1, sizeof(*c));

	c->ts = ts;
	c->accepted = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->accepted == NULL) {
		free(c);
		return NULL;
	}
	/* Our reference keeps it valid until takeover even if evhttp drops it. */
	bufferevent_incref(c->accepted);
	LIST_INSERT_HEAD(&ts->conns, c, entry);
	c->takeover_ev = event_new(base, -1, 0, takeover_cb, c);
	event_active(c->takeover_ev, 0, 0);
	return c->accepted;
}

struct tls_server *
tls_server_new(struct event_base *base, struct evhttp *http,
    const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_server *ts = xcalloc(1, sizeof(*ts));
	int rc;

	ts->base = base;
	LIST_INIT(&ts->conns);
	mbedtls_ssl_config_init(&ts->conf);
	mbedtls_x509_crt_init(&ts->cert);
	mbedtls_pk_init(&ts->key);
	if ((ts->rng = rng_new("agentflow-tls-server")) == NULL) {
		snprintf(err, errlen, "cannot seed the random generator");
		goto fail;
	}
	if ((rc = mbedtls_x509_crt_parse_file(&ts->cert, cert_path)) != 0) {
		snprintf(err, errlen, "cannot load TLS certificate %s (mbedTLS -0x%04x)",
		    cert_path, (unsigned)-rc);
		goto fail;
	}
	if ((rc = mbedtls_pk_parse_keyfile(&ts->key, key_path, NULL)) != 0) {
		snprintf(err, errlen, "cannot load TLS key %s (mbedTLS -0x%04x)",
		    key_path, (unsigned)-rc);
		goto fail;
	}
	if (mbedtls_pk_check_pair(&ts->cert.pk, &ts->key) != 0) {
		snprintf(err, errlen, "TLS key %s does not belong to certificate %s",
		    key_path, cert_path);
		goto fail;
	}
	if (mbedtls_ssl_config_defaults(&ts->conf, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
		snprintf(err, errlen, "cannot configure TLS");
		goto fail;
	}
	mbedtls_ssl_conf_min_version(&ts->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);	/* TLS 1.2 and up */
	mbedtls_ssl_conf_rng(&ts->conf, rng_mbedtls, ts->rng);
	if ((rc = mbedtls_ssl_conf_own_cert(&ts->conf, &ts->cert, &ts->key)) != 0) {
		snprintf(err, errlen, "cannot use TLS certificate %s (mbedTLS -0x%04x)",
		    cert_path, (unsigned)-rc);
		goto fail;
	}
	evhttp_set_bevcb(http, tls_server_bevcb, ts);
	return ts;
fail:
	tls_server_free(ts);
	return NULL;
}

void
tls_server_free(struct tls_server *ts)
{
	struct tls_conn *c;

	if (ts == NULL)
		return;
	while ((c = LIST_FIRST(&ts->conns)) != NULL)
		conn_free(c);
	mbedtls_ssl_config_free(&ts->conf);
	mbedtls_x509_crt_free(&ts->cert);
	mbedtls_pk_free(&ts->key);
	rng_free(ts->rng);
	free(ts);
}
