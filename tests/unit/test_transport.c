/*
 * Unit tests of node/mesh/transport.c: real gRPC over real mutual TLS on
 * 127.0.0.1, with certificates made in memory (certs/pki.h).  One process,
 * one event loop, several transports; the frozen-peer case runs the server
 * in a child process (this binary with --serve) so it can be SIGSTOPped.
 *
 * Timing assertions have wide margins; the figures measured on the way
 * (ping-pong latency, messages per second, time to notice a dead peer)
 * are printed, not asserted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <grpc/compression.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pki.h"
#include "transport.h"

extern char **environ;

struct pem {
	char	*cert;
	char	*key;
};

static struct pki_ca *mesh_ca, *other_ca;
static struct pem alpha_pem, beta_pem, mallory_pem, twonames_pem;
static struct event_base *base;
static struct event *tick_ev;

/* What one transport's callbacks saw. */
struct side {
	const char		*name;
	struct transport	*t;
	struct transport_stream	*s;		/* last opened or dialed */
	int			 opened, closed;
	int			 inbound;
	char			 peer[64];
	char			 reason[512];
	uint64_t		 closed_at;
	uint64_t		 rx, rx_bytes, rx_bad;
	uint32_t		 next_seq;
	int			 echo;		/* send every message back */
	uint64_t		 close_after;	/* close from message() after this many */
	const char		*redial;	/* dial this address from closed(), once */
	/* ping-pong, on the side that starts it */
	int			 pings_left;
	struct timespec		 ping_sent;
	double			*rtt_us;
	int			 nrtt;
	/* drained(): how often, and the queue it saw the last time */
	int			 drained;
	size_t			 drained_queued;
	/* record: each message's first byte into order[] instead */
	int			 record;
	char			 order[64];
	size_t			 norder;
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
fill(uint8_t *buf, size_t len, uint32_t seq)
{
	buf[0] = (uint8_t)seq;
	buf[1] = (uint8_t)(seq >> 8);
	buf[2] = (uint8_t)(seq >> 16);
	buf[3] = (uint8_t)(seq >> 24);
	for (size_t i = 4; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i);
}

static int
check(const uint8_t *buf, size_t len, uint32_t seq)
{
	if (len < 4 || buf[0] != (uint8_t)seq || buf[1] != (uint8_t)(seq >> 8) ||
	    buf[2] != (uint8_t)(seq >> 16) || buf[3] != (uint8_t)(seq >> 24))
		return -1;
	for (size_t i = 4; i < len; i++)
		if (buf[i] != (uint8_t)(seq * 31u + i))
			return -1;
	return 0;
}

static void
on_opened(struct transport_stream *s, void *arg)
{
	struct side *d = arg;

	d->opened++;
	d->s = s;
	d->inbound = transport_is_inbound(s);
	snprintf(d->peer, sizeof(d->peer), "%s", transport_peer_id(s));
}

static void
on_message(struct transport_stream *s, const uint8_t *buf, size_t len,
    void *arg)
{
	struct side *d = arg;
	uint8_t one[4];

	if (d->pings_left > 0 || d->rtt_us != NULL) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		d->rtt_us[d->nrtt++] =
		    (double)(now.tv_sec - d->ping_sent.tv_sec) * 1e6 +
		    (double)(now.tv_nsec - d->ping_sent.tv_nsec) / 1e3;
		if (--d->pings_left > 0) {
			d->ping_sent = now;
			fill(one, sizeof(one), 0);
			assert_int_equal(transport_send(s, one, sizeof(one)), 0);
		}
		return;
	}
	if (d->echo) {
		assert_int_equal(transport_send(s, buf, len), 0);
		return;
	}
	if (d->record) {
		if (len > 0 && d->norder < sizeof(d->order) - 1)
			d->order[d->norder++] = (char)buf[0];
		d->rx++;
		return;
	}
	if (check(buf, len, d->next_seq) != 0)
		d->rx_bad++;
	d->next_seq++;
	d->rx++;
	d->rx_bytes += len;
	if (d->close_after != 0 && d->rx == d->close_after) {
		transport_close(s);
		/* Nothing more reaches a closing stream's owner. */
		assert_int_equal(transport_send(s, buf, len), -1);
	}
}

static void
on_closed(struct transport_stream *s, const char *reason, void *arg)
{
	struct side *d = arg;

	d->closed++;
	d->closed_at = clock_mono_ms();
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	if (d->s == s)
		d->s = NULL;
	if (d->redial != NULL) {
		d->s = transport_dial(d->t, d->redial, "beta");
		d->redial = NULL;
	}
}

static void
on_drained(struct transport_stream *s, void *arg)
{
	struct side *d = arg;

	d->drained++;
	d->drained_queued = transport_queued(s);
}

static const struct transport_callbacks cbs = { on_opened, on_message,
    on_closed, on_drained };

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Runs the loop until done(arg) or ms pass; returns done(arg). */
static int
run_until(int (*done)(void *), void *arg, int ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)ms;

	while (!done(arg) && clock_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	return done(arg);
}

static void
run_for(int ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)ms;

	while (clock_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
}

static int
is_opened(void *arg)
{
	return ((struct side *)arg)->opened > 0;
}

static int
is_closed(void *arg)
{
	return ((struct side *)arg)->closed > 0;
}

static struct transport *
make(struct side *d, const char *name, const struct pem *p, const char *ca,
    int listen, size_t max_queue)
{
	struct transport_config c = { 0 };
	char err[256];

	memset(d, 0, sizeof(*d));
	d->name = name;
	c.listen = listen ? "127.0.0.1:0" : NULL;
	c.ca_pem = ca;
	c.cert_pem = p->cert;
	c.key_pem = p->key;
	c.keepalive_ms = 1000;
	c.max_queue_bytes = max_queue;
	c.low_water_bytes = max_queue / 4;	/* 0: the default */
	c.max_message = 4u * 1024 * 1024;
	d->t = transport_new(base, &c, &cbs, d, err, sizeof(err));
	if (d->t == NULL)
		fail_msg("transport_new(%s): %s", name, err);
	return d->t;
}

static void
address_of(const struct side *d, char *buf, size_t len)
{
	snprintf(buf, len, "127.0.0.1:%d", transport_port(d->t));
}

struct want {
	struct side	*d;
	uint64_t	 n;
};

static int
opened_n(void *arg)
{
	struct want *w = arg;

	return (uint64_t)w->d->opened >= w->n;
}

/* alpha dials beta and both ends open (once more). */
static void
link_up(struct side *a, struct side *b)
{
	char addr[64];
	struct transport_stream *s;

	struct want wa = { a, (uint64_t)a->opened + 1 };
	struct want wb = { b, (uint64_t)b->opened + 1 };

	address_of(b, addr, sizeof(addr));
	s = transport_dial(a->t, addr, "beta");
	assert_non_null(s);
	assert_string_equal(transport_peer_id(s), "beta");
	assert_true(run_until(opened_n, &wa, 10000));
	assert_true(run_until(opened_n, &wb, 10000));
	assert_ptr_equal(a->s, s);
}

static void
issue(struct pki_ca *ca, const char *id, const char *const *dns, size_t ndns,
    struct pem *out)
{
	struct pki_cert_params p = { 0 };
	char err[256];

	p.node_id = id;
	p.days = 1;
	p.dns = dns;
	p.ndns = ndns;
	if (pki_ca_issue(ca, &p, &out->cert, &out->key, err, sizeof(err)) != 0)
		fail_msg("issue %s: %s", id, err);
}

static int
group_setup(void **state)
{
	static const char *const extra[] = { "beta.example" };
	char err[256];

	(void)state;
	mesh_ca = pki_ca_new("mesh CA", 0, 1, err, sizeof(err));
	other_ca = pki_ca_new("other CA", 0, 1, err, sizeof(err));
	if (mesh_ca == NULL || other_ca == NULL)
		return -1;
	issue(mesh_ca, "alpha", NULL, 0, &alpha_pem);
	issue(mesh_ca, "beta", NULL, 0, &beta_pem);
	/* The right name from the wrong CA. */
	issue(other_ca, "alpha", NULL, 0, &mallory_pem);
	/* A mesh certificate with a second DNS name. */
	issue(mesh_ca, "beta", extra, 1, &twonames_pem);
	base = event_base_new();
	/* Wakes EVLOOP_ONCE regularly so run_until() sees its deadline. */
	tick_ev = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick_ev, &(struct timeval){ 0, 20000 });
	return 0;
}

static void
pem_free(struct pem *p)
{
	free(p->cert);
	pki_secret_free(p->key);
}

static int
group_teardown(void **state)
{
	(void)state;
	event_free(tick_ev);
	event_base_free(base);
	pem_free(&alpha_pem);
	pem_free(&beta_pem);
	pem_free(&mallory_pem);
	pem_free(&twonames_pem);
	pki_ca_free(mesh_ca);
	pki_ca_free(other_ca);
	return 0;
}

static int
has_rx(void *arg)
{
	struct want *w = arg;

	return w->d->rx >= w->n;
}

static int
pings_done(void *arg)
{
	return ((struct side *)arg)->pings_left == 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define SMALL	10000
#define BIG	8
#define BIG_LEN	(1024u * 1024)

/*
 * Sends SMALL 100-byte messages with BIG 1 MiB ones spread among them,
 * starting right after the dial (queued until the stream opens).
 */
static void
send_mix(struct transport_stream *s)
{
	static uint8_t buf[BIG_LEN];
	uint32_t seq = 0;

	for (int i = 0; i < SMALL; i++) {
		fill(buf, 100, seq);
		assert_int_equal(transport_send(s, buf, 100), 0);
		seq++;
		if (i % (SMALL / BIG) == 0) {
			fill(buf, BIG_LEN, seq);
			assert_int_equal(transport_send(s, buf, BIG_LEN), 0);
			seq++;
		}
	}
}

static void
test_link_messages_both_ways(void **state)
{
	struct side a, b;
	struct want w;
	char addr[64];
	struct transport_stream *s;
	double t0, rtt[2000];
	uint8_t buf[100];
	uint32_t sent;
	const uint32_t n = 200000;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 1, 64u << 20);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 64u << 20);
	assert_int_not_equal(transport_port(a.t), 0);
	assert_int_not_equal(transport_port(b.t), transport_port(a.t));

	/* Messages sent before the stream opens wait for it. */
	address_of(&b, addr, sizeof(addr));
	s = transport_dial(a.t, addr, "beta");
	assert_non_null(s);
	assert_false(transport_is_inbound(s));
	send_mix(s);
	assert_true(transport_queued(s) > 0);
	assert_true(run_until(is_opened, &a, 10000));
	assert_true(run_until(is_opened, &b, 10000));
	assert_string_equal(a.peer, "beta");
	assert_int_equal(a.inbound, 0);
	assert_string_equal(b.peer, "alpha");
	assert_int_equal(b.inbound, 1);
	send_mix(b.s);

	w.d = &b;
	w.n = SMALL + BIG;
	assert_true(run_until(has_rx, &w, 30000));
	w.d = &a;
	assert_true(run_until(has_rx, &w, 30000));
	assert_int_equal(a.rx_bad, 0);
	assert_int_equal(b.rx_bad, 0);
	assert_int_equal(a.rx, SMALL + BIG);
	assert_int_equal(b.rx_bytes, SMALL * 100u + (uint64_t)BIG * BIG_LEN);
	assert_int_equal(transport_queued(a.s), 0);
	assert_int_equal(transport_queued(b.s), 0);

	/* Throughput, one 100-byte message per send. */
	b.rx = 0;
	b.next_seq = 0;
	sent = 0;
	t0 = now_us();
	w.d = &b;
	w.n = n;
	while (b.rx < n && now_us() - t0 < 60e6) {
		while (sent < n) {
			fill(buf, sizeof(buf), sent);
			if (transport_send(a.s, buf, sizeof(buf)) != 0)
				break;
			sent++;
		}
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_int_equal(b.rx, n);
	assert_int_equal(b.rx_bad, 0);
	print_message("throughput: %u x 100 B in %.0f ms: %.0f messages/s\n",
	    n, (now_us() - t0) / 1e3, n / ((now_us() - t0) / 1e6));

	/* Ping-pong latency: beta echoes, alpha times each round trip. */
	b.echo = 1;
	a.rtt_us = rtt;
	a.nrtt = 0;
	a.pings_left = (int)(sizeof(rtt) / sizeof(rtt[0]));
	clock_gettime(CLOCK_MONOTONIC, &a.ping_sent);
	fill(buf, 4, 0);
	assert_int_equal(transport_send(a.s, buf, 4), 0);
	assert_true(run_until(pings_done, &a, 30000));
	qsort(rtt, (size_t)a.nrtt, sizeof(rtt[0]), cmp_double);
	print_message("ping-pong: %d round trips, p50 %.0f us, p99 %.0f us, "
	    "max %.0f us\n", a.nrtt, rtt[a.nrtt / 2], rtt[a.nrtt * 99 / 100],
	    rtt[a.nrtt - 1]);
	assert_true(rtt[a.nrtt / 2] < 50000);
	a.rtt_us = NULL;
	b.echo = 0;

	/* Freeing with streams open: each end gets closed() for its own. */
	transport_free(a.t);
	assert_int_equal(a.closed, 1);
	assert_true(run_until(is_closed, &b, 5000));
	transport_free(b.t);
	assert_int_equal(b.closed, 1);
}

static void
test_close_from_either_end(void **state)
{
	struct side a, b;
	uint64_t t0;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	assert_int_equal(transport_port(a.t), 0);

	/* The dialing end closes. */
	link_up(&a, &b);
	t0 = clock_mono_ms();
	transport_close(a.s);
	transport_close(a.s);		/* a no-op when already closing */
	assert_int_equal(a.closed, 0);	/* closed() comes from the loop */
	assert_int_equal(transport_send(a.s, (const uint8_t *)"x", 1), -1);
	assert_true(run_until(is_closed, &a, 5000));
	assert_true(run_until(is_closed, &b, 5000));
	assert_string_equal(a.reason, "closed locally");
	print_message("closed by the dialer: %" PRIu64 " ms; server: %s\n",
	    b.closed_at - t0, b.reason);

	/* The accepting end closes. */
	a.opened = a.closed = b.opened = b.closed = 0;
	link_up(&a, &b);
	t0 = clock_mono_ms();
	transport_close(b.s);
	assert_true(run_until(is_closed, &a, 5000));
	assert_true(run_until(is_closed, &b, 5000));
	assert_string_equal(b.reason, "closed locally");
	assert_non_null(strstr(a.reason, "closed locally"));
	print_message("closed by the server: %" PRIu64 " ms; dialer: %s\n",
	    a.closed_at - t0, a.reason);

	/* Closed before it opened: closed() without opened(). */
	a.opened = a.closed = 0;
	{
		char addr[64];
		struct transport_stream *s;

		address_of(&b, addr, sizeof(addr));
		s = transport_dial(a.t, addr, "beta");
		transport_close(s);
		assert_true(run_until(is_closed, &a, 5000));
		assert_int_equal(a.opened, 0);
	}
	transport_free(a.t);
	transport_free(b.t);
}

static int
second_open_and_flowing(void *arg)
{
	struct side *d = arg;

	return d->opened == 2 && d->rx >= 3;
}

static int
both_closed_twice(void *arg)
{
	struct side **d = arg;

	return d[0]->closed >= 2 && d[1]->closed >= 2;
}

/*
 * Streams ending with sends and receives in flight, closed from inside
 * message(), redialed from inside closed(), and transports freed with
 * full queues: the sanitizers check that nothing is used after it is freed.
 */
static void
test_close_under_load(void **state)
{
	struct side a, b, *both[2] = { &a, &b };
	struct want w;
	char addr[64];

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 64u << 20);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 64u << 20);
	address_of(&b, addr, sizeof(addr));

	/* beta closes after 5 messages while 20 MiB more are on the way;
	 * alpha redials from its closed() and queues again at once. */
	link_up(&a, &b);
	b.close_after = 5;
	a.redial = addr;
	send_mix(a.s);
	send_mix(b.s);
	assert_true(run_until(is_closed, &a, 10000));
	assert_true(run_until(is_closed, &b, 10000));
	assert_int_equal(b.rx, 5);
	assert_int_equal(b.rx_bad, 0);
	assert_non_null(a.s);			/* the redial */
	send_mix(a.s);
	b.close_after = 0;
	b.rx = 0;
	b.next_seq = 0;
	w.d = &a;
	w.n = 2;
	assert_true(run_until(opened_n, &w, 10000));
	assert_true(run_until(second_open_and_flowing, &b, 10000));
	/* Both ends close at once, mid-transfer. */
	transport_close(a.s);
	if (b.s != NULL)
		transport_close(b.s);
	assert_true(run_until(both_closed_twice, both, 10000));
	assert_int_equal(b.rx_bad, 0);

	/* A third link, freed from both ends with megabytes queued. */
	link_up(&a, &b);
	send_mix(a.s);
	send_mix(b.s);
	run_for(20);
	transport_free(b.t);
	transport_free(a.t);
	assert_int_equal(a.closed, 3);
	assert_int_equal(b.closed, 3);
}

static void
test_wrong_server_id_refused(void **state)
{
	struct side a, b;
	char addr[64];

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	address_of(&b, addr, sizeof(addr));
	assert_non_null(transport_dial(a.t, addr, "gamma"));
	assert_true(run_until(is_closed, &a, 10000));
	assert_int_equal(a.opened, 0);
	assert_true(a.reason[0] != '\0');
	print_message("dial expecting gamma: %s\n", a.reason);
	run_for(200);
	assert_int_equal(b.opened, 0);

	/* Nor does an invalid id get as far as a stream. */
	assert_null(transport_dial(a.t, addr, "not a node id"));
	transport_free(a.t);
	transport_free(b.t);
}

static void
test_client_from_other_ca_refused(void **state)
{
	struct side m, b;
	char addr[64];

	(void)state;
	/* Trusts the mesh CA, but its own certificate is from another. */
	make(&m, "mallory", &mallory_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	address_of(&b, addr, sizeof(addr));
	assert_non_null(transport_dial(m.t, addr, "beta"));
	assert_true(run_until(is_closed, &m, 10000));
	assert_int_equal(m.opened, 0);
	print_message("client from another CA: %s\n", m.reason);
	run_for(200);
	assert_int_equal(b.opened, 0);
	assert_int_equal(b.closed, 0);
	transport_free(m.t);
	transport_free(b.t);
}

static void
test_certificate_with_two_names_refused(void **state)
{
	struct side a, b;
	char addr[64];

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &twonames_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	address_of(&b, addr, sizeof(addr));
	assert_non_null(transport_dial(a.t, addr, "beta"));
	assert_true(run_until(is_closed, &a, 10000));
	assert_int_equal(a.opened, 0);
	assert_non_null(strstr(a.reason, "DNS names"));
	print_message("server certificate with two DNS names: %s\n", a.reason);
	transport_free(a.t);
	transport_free(b.t);
}

static void
test_queue_bound(void **state)
{
	struct side a, b;
	static uint8_t buf[4u * 1024 * 1024 + 1];
	const size_t bound = 64 * 1024;
	struct want w;
	int n = 0;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, bound);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(&a, &b);

	/* Without the loop running nothing completes: the queue fills. */
	for (;;) {
		fill(buf, 1024, (uint32_t)n);
		if (transport_send(a.s, buf, 1024) != 0)
			break;
		n++;
		assert_true(n <= 64);
	}
	assert_int_equal(n, 64);
	assert_int_equal(transport_queued(a.s), bound);
	/* Over max_message, whatever the queue holds. */
	assert_int_equal(transport_send(b.s, buf, sizeof(buf)), -1);

	w.d = &b;
	w.n = (uint64_t)n;
	assert_true(run_until(has_rx, &w, 10000));
	assert_int_equal(b.rx_bad, 0);
	assert_true(run_until(has_rx, &w, 10000));
	run_for(50);
	assert_int_equal(transport_queued(a.s), 0);
	fill(buf, 1024, (uint32_t)n);
	assert_int_equal(transport_send(a.s, buf, 1024), 0);
	w.n++;
	assert_true(run_until(has_rx, &w, 10000));
	transport_free(a.t);
	transport_free(b.t);
}

/*
 * drained() comes once the queue falls back to the low-water mark after
 * passing it, and only then: a sender that never passed it hears nothing.
 */
static void
test_drained_below_low_water(void **state)
{
	struct side a, b;
	static uint8_t buf[1024];
	const size_t bound = 64 * 1024;
	struct want w = { &b, 0 };
	int n;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, bound);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(&a, &b);

	/* Below the mark (a quarter of the bound): no drained(). */
	for (n = 0; n < 8; n++) {
		fill(buf, sizeof(buf), (uint32_t)w.n);
		assert_int_equal(transport_send(a.s, buf, sizeof(buf)), 0);
		w.n++;
	}
	assert_true(run_until(has_rx, &w, 10000));
	run_for(50);
	assert_int_equal(a.drained, 0);

	/* Filled to the bound without the loop, then sent: one drained(),
	 * at or below the mark. */
	for (n = 0; n < 64; n++) {
		fill(buf, sizeof(buf), (uint32_t)w.n);
		assert_int_equal(transport_send(a.s, buf, sizeof(buf)), 0);
		w.n++;
	}
	assert_int_equal(transport_queued(a.s), bound);
	assert_true(run_until(has_rx, &w, 10000));
	run_for(50);
	assert_int_equal(a.drained, 1);
	assert_true(a.drained_queued <= bound / 4);
	assert_int_equal(b.rx_bad, 0);
	assert_int_equal(b.drained, 0);
	transport_free(a.t);
	transport_free(b.t);
}

/*
 * Bulk goes behind live: what transport_send() queues overtakes every
 * bulk message not yet in flight, and each kind keeps its order.
 */
static void
test_bulk_behind_live(void **state)
{
	struct side a, b;
	static uint8_t buf[1024];
	struct want w = { &b, 8 };
	int n;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(&a, &b);
	b.record = 1;

	/* The first bulk message is in flight at once; the rest wait. */
	for (n = 0; n < 4; n++) {
		memset(buf, 'a' + n, sizeof(buf));
		assert_int_equal(transport_send_bulk(a.s, buf, sizeof(buf)), 0);
	}
	for (n = 0; n < 4; n++) {
		memset(buf, 'A' + n, sizeof(buf));
		assert_int_equal(transport_send(a.s, buf, sizeof(buf)), 0);
	}
	assert_int_equal(transport_queued(a.s), 8 * sizeof(buf));
	assert_true(run_until(has_rx, &w, 10000));
	assert_string_equal(b.order, "aABCDbcd");
	run_for(50);
	assert_int_equal(transport_queued(a.s), 0);
	transport_free(a.t);
	transport_free(b.t);
}

/* A peer sending over our max_message loses its stream. */
static void
test_oversized_message_closes(void **state)
{
	struct side a, b;
	struct transport_config c = { 0 };
	size_t len = 5u * 1024 * 1024;
	uint8_t *buf = calloc(1, len);
	char err[256];

	(void)state;
	memset(&a, 0, sizeof(a));
	c.ca_pem = pki_ca_cert_pem(mesh_ca);
	c.cert_pem = alpha_pem.cert;
	c.key_pem = alpha_pem.key;
	c.max_message = 2 * len;
	c.max_queue_bytes = 2 * len;
	a.t = transport_new(base, &c, &cbs, &a, err, sizeof(err));
	assert_non_null(a.t);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(&a, &b);
	fill(buf, 100, 0);
	assert_int_equal(transport_send(a.s, buf, 100), 0);
	fill(buf, len, 1);
	assert_int_equal(transport_send(a.s, buf, len), 0);
	assert_true(run_until(is_closed, &a, 10000));
	assert_true(run_until(is_closed, &b, 10000));
	assert_int_equal(b.rx, 1);
	print_message("oversized message: sender: %s; receiver: %s\n",
	    a.reason, b.reason);
	free(buf);
	transport_free(a.t);
	transport_free(b.t);
}

/* alpha, compressing what it sends with gzip, dialled up to beta. */
static void
gzip_link_up(struct side *a, struct side *b, size_t a_max)
{
	struct transport_config c = { 0 };
	char err[256];

	memset(a, 0, sizeof(*a));
	c.ca_pem = pki_ca_cert_pem(mesh_ca);
	c.cert_pem = alpha_pem.cert;
	c.key_pem = alpha_pem.key;
	c.max_message = a_max;
	c.max_queue_bytes = 2 * a_max;
	c.send_compression = GRPC_COMPRESS_GZIP;
	a->t = transport_new(base, &c, &cbs, a, err, sizeof(err));
	assert_non_null(a->t);
	make(b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(a, b);
}

/*
 * A peer using gRPC's standard gzip message compression is understood:
 * its messages arrive intact (and ours, uncompressed, reach it).
 */
static void
test_gzip_peer_understood(void **state)
{
	struct side a, b;
	struct want w;
	static uint8_t buf[BIG_LEN];

	(void)state;
	gzip_link_up(&a, &b, 4u * 1024 * 1024);
	w.d = &b;
	w.n = 3;
	for (uint32_t seq = 0; seq < 3; seq++) {
		size_t len = seq == 1 ? BIG_LEN : 100;

		fill(buf, len, seq);
		assert_int_equal(transport_send(a.s, buf, len), 0);
	}
	assert_true(run_until(has_rx, &w, 10000));
	assert_int_equal(b.rx_bad, 0);
	assert_int_equal(b.rx_bytes, 200 + BIG_LEN);
	assert_int_equal(b.closed, 0);
	/* And back: beta's sends are not compressed, alpha reads them. */
	w.d = &a;
	w.n = 1;
	fill(buf, 100, 0);
	assert_int_equal(transport_send(b.s, buf, 100), 0);
	assert_true(run_until(has_rx, &w, 10000));
	assert_int_equal(a.rx_bad, 0);
	assert_int_equal(a.closed, 0);
	transport_free(a.t);
	transport_free(b.t);
}

/*
 * A compressed message that inflates beyond max_message (8 MiB of zeros,
 * a few KiB on the wire) closes the stream without taking the memory.
 */
static void
test_gzip_bomb_refused(void **state)
{
	struct side a, b;
	size_t len = 8u * 1024 * 1024;
	uint8_t *buf = calloc(1, len);

	(void)state;
	assert_non_null(buf);
	gzip_link_up(&a, &b, 2 * len);
	fill(buf, 100, 0);
	assert_int_equal(transport_send(a.s, buf, 100), 0);
	memset(buf, 0, len);
	assert_int_equal(transport_send(a.s, buf, len), 0);
	assert_true(run_until(is_closed, &b, 10000));
	assert_true(run_until(is_closed, &a, 10000));
	assert_int_equal(b.rx, 1);
	assert_non_null(strstr(b.reason, "inflates to over"));
	print_message("gzip bomb: sender: %s; receiver: %s\n", a.reason,
	    b.reason);
	free(buf);
	transport_free(a.t);
	transport_free(b.t);
}

static void
test_peer_freed_closes_link(void **state)
{
	struct side a, b;
	uint64_t t0;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	link_up(&a, &b);
	t0 = clock_mono_ms();
	transport_free(b.t);
	assert_int_equal(b.closed, 1);
	assert_true(run_until(is_closed, &a, 5000));
	print_message("peer freed: closed after %" PRIu64 " ms: %s\n",
	    a.closed_at - t0, a.reason);
	transport_free(a.t);
}

static void
test_dial_nobody(void **state)
{
	struct side a, b;
	char addr[64];
	uint64_t t0;

	(void)state;
	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	address_of(&b, addr, sizeof(addr));
	transport_free(b.t);
	t0 = clock_mono_ms();
	assert_non_null(transport_dial(a.t, addr, "beta"));
	assert_true(run_until(is_closed, &a, 10000));
	assert_int_equal(a.opened, 0);
	print_message("dial to a closed port: %" PRIu64 " ms: %s\n",
	    a.closed_at - t0, a.reason);
	transport_free(a.t);
}

/* A server that accepts TCP and never speaks TLS: the dial gives up. */
static void
test_dial_silent_server(void **state)
{
	struct side a;
	struct transport_config c = { 0 };
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char addr[64], err[256];
	uint64_t t0;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));

	memset(&a, 0, sizeof(a));
	c.ca_pem = pki_ca_cert_pem(mesh_ca);
	c.cert_pem = alpha_pem.cert;
	c.key_pem = alpha_pem.key;
	c.connect_timeout_ms = 1500;
	a.t = transport_new(base, &c, &cbs, &a, err, sizeof(err));
	assert_non_null(a.t);
	t0 = clock_mono_ms();
	assert_non_null(transport_dial(a.t, addr, "beta"));
	assert_true(run_until(is_closed, &a, 15000));
	print_message("dial to a silent server: %" PRIu64 " ms: %s\n",
	    a.closed_at - t0, a.reason);
	assert_true(a.closed_at - t0 >= 1000 && a.closed_at - t0 < 6000);
	assert_int_equal(a.opened, 0);
	transport_free(a.t);
	close(fd);
}

static void
test_port_taken_refused(void **state)
{
	struct side b, b2;
	struct transport_config c = { 0 };
	char addr[64], err[256];

	(void)state;
	make(&b, "beta", &beta_pem, pki_ca_cert_pem(mesh_ca), 1, 0);
	address_of(&b, addr, sizeof(addr));
	memset(&b2, 0, sizeof(b2));
	c.listen = addr;
	c.ca_pem = pki_ca_cert_pem(mesh_ca);
	c.cert_pem = beta_pem.cert;
	c.key_pem = beta_pem.key;
	err[0] = '\0';
	assert_null(transport_new(base, &c, &cbs, &b2, err, sizeof(err)));
	assert_non_null(strstr(err, addr));
	print_message("second bind: %s\n", err);
	transport_free(b.t);
}

/* ---- the frozen peer, in a child process ---- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void
spit(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* --serve DIR: serve beta until killed, printing the port. */
static int
serve_main(const char *dir)
{
	struct transport_config c = { 0 };
	struct side d;
	char path[512], err[256], *ca, *cert, *key;

	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	ca = slurp(path);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	cert = slurp(path);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	key = slurp(path);
	if (ca == NULL || cert == NULL || key == NULL)
		return 2;
	memset(&d, 0, sizeof(d));
	base = event_base_new();
	c.listen = "127.0.0.1:0";
	c.ca_pem = ca;
	c.cert_pem = cert;
	c.key_pem = key;
	c.keepalive_ms = 1000;
	d.t = transport_new(base, &c, &cbs, &d, err, sizeof(err));
	if (d.t == NULL) {
		fprintf(stderr, "serve: %s\n", err);
		return 2;
	}
	printf("%d\n", transport_port(d.t));
	fflush(stdout);
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	return 0;
}

static void
test_frozen_peer_noticed(void **state)
{
	struct side a;
	char dir[] = "/tmp/test_transport.XXXXXX", arg[64], addr[64];
	char self[512], port[16];
	posix_spawn_file_actions_t fa;
	int fds[2], status;
	ssize_t n;
	pid_t pid;
	uint64_t t0;
	char *argv[4];

	(void)state;
	assert_non_null(mkdtemp(dir));
	spit(dir, "ca.pem", pki_ca_cert_pem(mesh_ca));
	spit(dir, "cert.pem", beta_pem.cert);
	spit(dir, "key.pem", beta_pem.key);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(arg, sizeof(arg), "%s", "--serve");
	argv[0] = self;
	argv[1] = arg;
	argv[2] = dir;
	argv[3] = NULL;
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	assert_int_equal(posix_spawn(&pid, self, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	memset(port, 0, sizeof(port));
	n = read(fds[0], port, sizeof(port) - 1);
	close(fds[0]);
	assert_true(n > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", atoi(port));

	make(&a, "alpha", &alpha_pem, pki_ca_cert_pem(mesh_ca), 0, 0);
	assert_non_null(transport_dial(a.t, addr, "beta"));
	assert_true(run_until(is_opened, &a, 10000));
	/* Healthy and idle, the link stays up across keepalive pings. */
	run_for(3000);
	assert_int_equal(a.closed, 0);

	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = clock_mono_ms();
	assert_true(run_until(is_closed, &a, 15000));
	print_message("frozen peer noticed after %" PRIu64 " ms: %s\n",
	    a.closed_at - t0, a.reason);
	assert_true(a.closed_at - t0 < 8000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	transport_free(a.t);
	snprintf(self, sizeof(self), "%s/ca.pem", dir);
	unlink(self);
	snprintf(self, sizeof(self), "%s/cert.pem", dir);
	unlink(self);
	snprintf(self, sizeof(self), "%s/key.pem", dir);
	unlink(self);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_messages_both_ways),
		cmocka_unit_test(test_close_from_either_end),
		cmocka_unit_test(test_close_under_load),
		cmocka_unit_test(test_wrong_server_id_refused),
		cmocka_unit_test(test_client_from_other_ca_refused),
		cmocka_unit_test(test_certificate_with_two_names_refused),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_drained_below_low_water),
		cmocka_unit_test(test_bulk_behind_live),
		cmocka_unit_test(test_oversized_message_closes),
		cmocka_unit_test(test_gzip_peer_understood),
		cmocka_unit_test(test_gzip_bomb_refused),
		cmocka_unit_test(test_peer_freed_closes_link),
		cmocka_unit_test(test_dial_nobody),
		cmocka_unit_test(test_dial_silent_server),
		cmocka_unit_test(test_port_taken_refused),
		cmocka_unit_test(test_frozen_peer_noticed),
	};

	evthread_use_pthreads();
	log_init("test_transport", LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return serve_main(argv[2]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
