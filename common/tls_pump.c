/*
 * The TLS pump (see tls_pump.h).
 *
 *   peer ⇄ [sock: ciphertext] ⇄ mbedTLS ⇄ [plain: our socketpair end] ⇄ evhttp
 *
 * States:
 *   CONNECTING --connected--> HANDSHAKE   (client only: tls_pump_connect)
 *   HANDSHAKE --mbedtls_ssl_handshake ok--> OPEN
 *   OPEN --plain EOF (evhttp closed): close_notify--> CLOSING
 *   CLOSING --sock output drained--> DEAD
 *   any --error, sock EOF, handshake timeout--> DEAD
 * DEAD frees the pump from a deferred event, then calls on_end.
 */
#include "tls_pump.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <mbedtls/error.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"

#define TLS_CHUNK		16384
#define HANDSHAKE_TIMEOUT_S	10

enum pump_state { PUMP_CONNECTING, PUMP_HANDSHAKE, PUMP_OPEN, PUMP_CLOSING,
    PUMP_DEAD };

struct tls_pump {
	struct event_base	*base;
	struct bufferevent	*sock;
	struct bufferevent	*plain;
	struct event		*free_ev;
	mbedtls_ssl_context	 ssl;
	enum pump_state		 state;
	int			 sock_eof;
	int			 client;
	void			(*on_end)(void *);
	void			*arg;
	/* Whom the failures name: "host:port" dialed, or the address of
	 * the client that connected. */
	char			 peer[300];
};

static void pump_kill(struct tls_pump *);

static int
bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_pump *p = ctx;

	if (bufferevent_write(p->sock, buf, len) != 0)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	return (int)len;
}

static int
bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_pump *p = ctx;
	int n = evbuffer_remove(bufferevent_get_input(p->sock), buf, len);

	if (n > 0)
		return n;
	return p->sock_eof ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
}

/* Plaintext from evhttp → TLS records to the peer. */
static void
pump_out(struct tls_pump *p)
{
	struct evbuffer *in = bufferevent_get_input(p->plain);
	size_t len;
	int rc;

	while (p->state == PUMP_OPEN && (len = evbuffer_get_length(in)) > 0) {
		if (len > TLS_CHUNK)
			len = TLS_CHUNK;
		rc = mbedtls_ssl_write(&p->ssl, evbuffer_pullup(in, (ssize_t)len), len);
		if (rc <= 0) {
			log_event(LOG_DEBUG, "TLS write failed", "{s:i}", "mbedtls", rc);
			pump_kill(p);
			return;
		}
		evbuffer_drain(in, (size_t)rc);
	}
}

/* TLS records from the peer → plaintext to evhttp. */
static void
pump_in(struct tls_pump *p)
{
	unsigned char buf[TLS_CHUNK];
	char why[128];
	int rc;

	if (p->state == PUMP_HANDSHAKE) {
		rc = mbedtls_ssl_handshake(&p->ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (rc != 0) {
			mbedtls_strerror(rc, why, sizeof(why));
			log_event(LOG_WARN, "TLS handshake failed",
			    "{s:s, s:s, s:s}", "peer", p->peer, "error", why,
			    "side", p->client ? "client" : "server");
			pump_kill(p);
			return;
		}
		p->state = PUMP_OPEN;
		bufferevent_set_timeouts(p->sock, NULL, NULL);
		pump_out(p);
	}
	while (p->state == PUMP_OPEN) {
		rc = mbedtls_ssl_read(&p->ssl, buf, sizeof(buf));
		if (rc > 0) {
			bufferevent_write(p->plain, buf, (size_t)rc);
			continue;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		/* close_notify, EOF or error: the peer's side has ended. */
		if (rc != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY && rc != 0)
			log_event(LOG_DEBUG, "TLS read ended", "{s:i}", "mbedtls", rc);
		pump_kill(p);
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
	struct tls_pump *p = arg;

	if (p->state == PUMP_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		pump_kill(p);
}

static void
sock_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_pump *p = arg;

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) && p->state == PUMP_CONNECTING) {
		p->state = PUMP_HANDSHAKE;
		pump_in(p);	/* the client speaks first */
		return;
	}
	if (what & BEV_EVENT_EOF) {
		p->sock_eof = 1;
		pump_in(p);	/* deliver what is buffered, then end */
	} else if (what & BEV_EVENT_ERROR && p->state == PUMP_CONNECTING)
		log_event(LOG_WARN, "TLS connection failed", "{s:s, s:s}",
		    "peer", p->peer, "error",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_TIMEOUT)
		log_event(LOG_INFO, "TLS connection timed out", "{s:s}", "peer",
		    p->peer);
	pump_kill(p);
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
	struct tls_pump *p = arg;

	(void)bev;
	(void)what;
	/* evhttp closed its end: send what is left, close_notify, then go. */
	if (p->state == PUMP_OPEN) {
		pump_out(p);
		if (p->state != PUMP_OPEN)
			return;
		mbedtls_ssl_close_notify(&p->ssl);
		p->state = PUMP_CLOSING;
		bufferevent_disable(p->plain, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(p->sock)) == 0)
			pump_kill(p);
		return;
	}
	pump_kill(p);
}

void
tls_pump_free(struct tls_pump *p)
{
	if (p == NULL)
		return;
	if (p->sock != NULL)
		bufferevent_free(p->sock);
	if (p->plain != NULL)
		bufferevent_free(p->plain);
	if (p->free_ev != NULL)
		event_free(p->free_ev);
	mbedtls_ssl_free(&p->ssl);
	free(p);
}

static void
deferred_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_pump *p = arg;
	void (*on_end)(void *) = p->on_end;
	void *end_arg = p->arg;

	(void)fd;
	(void)what;
	tls_pump_free(p);
	if (on_end != NULL)
		on_end(end_arg);
}

static void
pump_kill(struct tls_pump *p)
{
	if (p->state == PUMP_DEAD)
		return;
	p->state = PUMP_DEAD;
	bufferevent_disable(p->sock, EV_READ | EV_WRITE);
	bufferevent_disable(p->plain, EV_READ | EV_WRITE);
	event_active(p->free_ev, 0, 0);
}

/* The numeric address of fd's peer, "[::1]:5000" or "10.0.0.2:40312". */
static void
peer_name(evutil_socket_t fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(out, outlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
}

struct tls_pump *
tls_pump_new(struct event_base *base, const mbedtls_ssl_config *conf,
    const char *hostname, evutil_socket_t sock_fd, evutil_socket_t plain_fd,
    void (*on_end)(void *), void *arg)
{
	struct tls_pump *p = xcalloc(1, sizeof(*p));

	p->base = base;
	p->on_end = on_end;
	p->arg = arg;
	p->state = sock_fd >= 0 ? PUMP_HANDSHAKE : PUMP_CONNECTING;
	p->client = hostname != NULL;
	if (sock_fd >= 0)
		peer_name(sock_fd, p->peer, sizeof(p->peer));
	mbedtls_ssl_init(&p->ssl);
	p->sock = bufferevent_socket_new(base, sock_fd, BEV_OPT_CLOSE_ON_FREE);
	p->plain = bufferevent_socket_new(base, plain_fd, BEV_OPT_CLOSE_ON_FREE);
	p->free_ev = event_new(base, -1, 0, deferred_free_cb, p);
	if (p->sock == NULL || p->plain == NULL || p->free_ev == NULL ||
	    mbedtls_ssl_setup(&p->ssl, conf) != 0 ||
	    (hostname != NULL && mbedtls_ssl_set_hostname(&p->ssl, hostname) != 0)) {
		if (p->sock == NULL && sock_fd >= 0)
			close(sock_fd);
		if (p->plain == NULL)
			close(plain_fd);
		tls_pump_free(p);
		return NULL;
	}
	mbedtls_ssl_set_bio(&p->ssl, p, bio_send, bio_recv, NULL);
	bufferevent_setcb(p->sock, sock_read_cb, sock_write_cb, sock_event_cb, p);
	bufferevent_setcb(p->plain, plain_read_cb, NULL, plain_event_cb, p);
	bufferevent_set_timeouts(p->sock,
	    &(struct timeval){ HANDSHAKE_TIMEOUT_S, 0 }, NULL);
	bufferevent_enable(p->sock, EV_READ | EV_WRITE);
	bufferevent_enable(p->plain, EV_READ | EV_WRITE);
	return p;
}

int
tls_pump_connect(struct tls_pump *p, struct evdns_base *dns, const char *host,
    int port)
{
	snprintf(p->peer, sizeof(p->peer), "%s:%d", host, port);
	if (bufferevent_socket_connect_hostname(p->sock, dns, AF_UNSPEC, host,
	    port) != 0) {
		pump_kill(p);
		return -1;
	}
	return 0;
}
