/*
 * mbedTLS under evhttp (see tls_server.h).
 *
 * Per connection:
 *
 *   client ⇄ [sock: dup of accepted fd] ⇄ mbedTLS ⇄ [plain: pair end B]
 *            ⇄ [pair end A, renumbered to the accepted fd] ⇄ evhttp
 *
 * States of a tls_conn:
 *   HANDSHAKE --handshake ok--> OPEN --evhttp closed A / close_notify--> CLOSING
 *   any --error, peer EOF, timeout--> DEAD (freed from a deferred event)
 *   CLOSING --sock output drained--> DEAD
 */
#include "tls_server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "rng.h"
#include "xalloc.h"

#define TLS_CHUNK		16384
#define HANDSHAKE_TIMEOUT_S	10

enum conn_state { CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSING, CONN_DEAD };

struct tls_conn {
	struct tls_server	*ts;
	struct bufferevent	*accepted;	/* evhttp's, until takeover */
	struct bufferevent	*sock;		/* ciphertext, real socket */
	struct bufferevent	*plain;		/* plaintext, pair end B */
	struct event		*ev;		/* takeover, then deferred free */
	mbedtls_ssl_context	 ssl;
	enum conn_state		 state;
	int			 sock_eof;
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

static void conn_kill(struct tls_conn *);

static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;

	if (bufferevent_write(c->sock, buf, len) != 0)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	return (int)len;
}

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	int n = evbuffer_remove(bufferevent_get_input(c->sock), buf, len);

	if (n > 0)
		return n;
	return c->sock_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
}

/* Plaintext from evhttp → TLS records to the client. */
static void
pump_out(struct tls_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->plain);
	size_t len;
	int rc;

	while (c->state == CONN_OPEN && (len = evbuffer_get_length(in)) > 0) {
		if (len > TLS_CHUNK)
			len = TLS_CHUNK;
		rc = mbedtls_ssl_write(&c->ssl, evbuffer_pullup(in, (ssize_t)len), len);
		if (rc <= 0) {
			log_event(LOG_DEBUG, "TLS write failed", "{s:i}", "mbedtls", rc);
			conn_kill(c);
			return;
		}
		evbuffer_drain(in, (size_t)rc);
	}
}

/* TLS records from the client → plaintext to evhttp. */
static void
pump_in(struct tls_conn *c)
{
	unsigned char buf[TLS_CHUNK];
	int rc;

	if (c->state == CONN_HANDSHAKE) {
		rc = mbedtls_ssl_handshake(&c->ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (rc != 0) {
			char why[128];
			mbedtls_strerror(rc, why, sizeof(why));
			log_event(LOG_INFO, "TLS handshake failed", "{s:s}", "error", why);
			conn_kill(c);
			return;
		}
		c->state = CONN_OPEN;
		bufferevent_set_timeouts(c->sock, NULL, NULL);
		pump_out(c);
	}
	while (c->state == CONN_OPEN) {
		rc = mbedtls_ssl_read(&c->ssl, buf, sizeof(buf));
		if (rc > 0) {
			bufferevent_write(c->plain, buf, (size_t)rc);
			continue;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		/* close_notify, EOF or error: tell evhttp the request side ended. */
		if (rc != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY && rc != 0)
			log_event(LOG_DEBUG, "TLS read ended", "{s:i}", "mbedtls", rc);
		conn_kill(c);
		return;
	}
}

static void
sock_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pump_in(arg);
}

static void
sock_write_cb(struct bufferevent *bev, void *arg)
{
	struct tls_conn *c = arg;

	/* Output drained: a closing connection is done. */
	if (c->state == CONN_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_kill(c);
}

static void
sock_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_EOF) {
		c->sock_eof = 1;
		pump_in(c);	/* deliver what is buffered, then it dies */
	}
	conn_kill(c);
}

static void
plain_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	pump_out(arg);
}

static void
plain_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_conn *c = arg;

	(void)bev;
	(void)what;
	/* evhttp closed its end: send what is left, close_notify, then go. */
	if (c->state == CONN_OPEN) {
		pump_out(c);
		if (c->state != CONN_OPEN)
			return;
		mbedtls_ssl_close_notify(&c->ssl);
		c->state = CONN_CLOSING;
		bufferevent_disable(c->plain, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(c->sock)) == 0)
			conn_kill(c);
		return;
	}
	conn_kill(c);
}

static void
conn_free(struct tls_conn *c)
{
	LIST_REMOVE(c, entry);
	if (c->accepted != NULL)
		bufferevent_decref(c->accepted);
	if (c->sock != NULL)
		bufferevent_free(c->sock);
	if (c->plain != NULL)
		bufferevent_free(c->plain);
	if (c->ev != NULL)
		event_free(c->ev);
	mbedtls_ssl_free(&c->ssl);
	free(c);
}

static void
deferred_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_free(arg);
}

/* Marks the connection dead and frees it from the next loop pass, never
 * inside its own callbacks. */
static void
conn_kill(struct tls_conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->state = CONN_DEAD;
	if (c->sock != NULL)
		bufferevent_disable(c->sock, EV_READ | EV_WRITE);
	if (c->plain != NULL)
		bufferevent_disable(c->plain, EV_READ | EV_WRITE);
	event_free(c->ev);
	c->ev = event_new(c->ts->base, -1, 0, deferred_free_cb, c);
	event_active(c->ev, 0, 0);
}

/*
 * Runs right after evhttp has accepted and set up the connection, before
 * any of its reads: swaps the socket under evhttp's fd number for the
 * plaintext end of a socketpair.
 */
static void
takeover_cb(evutil_socket_t unused, short what, void *arg)
{
	struct tls_conn *c = arg;
	evutil_socket_t fd = bufferevent_getfd(c->accepted);
	short enabled;
	int sp[2], real;

	(void)unused;
	(void)what;
	if (fd < 0) {		/* evhttp gave up on it already */
		conn_kill(c);
		return;
	}
	enabled = bufferevent_get_enabled(c->accepted);
	bufferevent_disable(c->accepted, EV_READ | EV_WRITE);
	if ((real = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) != 0) {
		log_warn("TLS: cannot set up the connection");
		if (real >= 0)
			close(real);
		bufferevent_enable(c->accepted, enabled);
		shutdown(fd, SHUT_RDWR);	/* evhttp sees EOF and frees it */
		conn_kill(c);
		return;
	}
	if (dup3(sp[0], fd, O_CLOEXEC) < 0) {
		log_warn("TLS: cannot set up the connection");
		close(sp[0]);
		close(sp[1]);
		close(real);
		bufferevent_enable(c->accepted, enabled);
		shutdown(fd, SHUT_RDWR);
		conn_kill(c);
		return;
	}
	close(sp[0]);
	bufferevent_enable(c->accepted, enabled);
	bufferevent_decref(c->accepted);
	c->accepted = NULL;

	c->sock = bufferevent_socket_new(c->ts->base, real, BEV_OPT_CLOSE_ON_FREE);
	c->plain = bufferevent_socket_new(c->ts->base, sp[1], BEV_OPT_CLOSE_ON_FREE);
	if (c->sock == NULL || c->plain == NULL ||
	    mbedtls_ssl_setup(&c->ssl, &c->ts->conf) != 0) {
		conn_kill(c);
		return;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	bufferevent_setcb(c->sock, sock_read_cb, sock_write_cb, sock_event_cb, c);
	bufferevent_setcb(c->plain, plain_read_cb, NULL, plain_event_cb, c);
	bufferevent_set_timeouts(c->sock,
	    &(struct timeval){ HANDSHAKE_TIMEOUT_S, 0 }, NULL);
	bufferevent_enable(c->sock, EV_READ | EV_WRITE);
	bufferevent_enable(c->plain, EV_READ | EV_WRITE);
}

static struct bufferevent *
bevcb(struct event_base *base, void *arg)
{
	struct tls_server *ts = arg;
	struct tls_conn *c = xcalloc(1, sizeof(*c));

	c->ts = ts;
	c->state = CONN_HANDSHAKE;
	mbedtls_ssl_init(&c->ssl);
	c->accepted = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->accepted == NULL) {
		free(c);
		return NULL;
	}
	/* Our reference keeps it valid until takeover even if evhttp drops it. */
	bufferevent_incref(c->accepted);
	LIST_INSERT_HEAD(&ts->conns, c, entry);
	c->ev = event_new(base, -1, 0, takeover_cb, c);
	event_active(c->ev, 0, 0);
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
		snprintf(err, errlen, "TLS key %s does not fit certificate %s "
		    "(mbedTLS -0x%04x)", key_path, cert_path, (unsigned)-rc);
		goto fail;
	}
	evhttp_set_bevcb(http, bevcb, ts);
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
