/*
 * bench/signal: load on a real agentflow-signal.
 *
 * Issues N node certificates in memory, starts the signal on a free
 * loopback port, registers every node (signed, as a node does) over a pool
 * of keep-alive connections, then heartbeats every node once per interval,
 * spread evenly, for a fixed duration; a node whose heartbeat reply shows a
 * new generation lists its peers with If-None-Match, as a node does.
 * Prints what the signal cost (CPU % of one core, RSS from /proc) and what
 * clients saw (requests/s, latency percentiles).
 *
 * Bounded: every phase has a deadline and the signal is stopped by PID.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <mbedtls/pk.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "opts.h"
#include "pki.h"
#include "rng.h"
#include "signed_request.h"
#include "xalloc.h"

struct bench_cfg {
	long		 nodes;
	long		 interval_s;
	long		 duration_s;
	long		 connections;
	long		 lists;
	const char	*signal_bin;
};

struct node {
	char		 id[32];
	char		*body;		/* signed register request */
	char		 sig[SIGNED_REQUEST_SIG_MAX];
	char		 token[65];
	int64_t		 generation;
	char		 etag[64];
	struct event	*beat;		/* every interval, from registration on */
	struct bench	*b;
};

enum req_kind { REQ_REGISTER, REQ_HEARTBEAT, REQ_PEERS };

struct pending {
	struct node	*node;
	enum req_kind	 kind;
};

/* Latency samples in microseconds. */
struct samples {
	uint32_t	*v;
	size_t		 n, cap;
};

struct conn {
	struct bench		*b;
	struct evhttp_connection *evcon;
	int			 busy;
	uint64_t		 sent_us;
	struct pending		 req;
};

struct bench {
	struct bench_cfg	 cfg;
	struct event_base	*base;
	struct conn		*conns;
	struct node		*nodes;
	/* FIFO of requests waiting for a free connection. */
	struct pending		*queue;
	size_t			 qhead, qlen, qcap;
	struct samples		 lat[3];
	uint64_t		 ok[3], failed[3], status304;
	size_t			 next_register, registered;
	int64_t			 last_generation;
	int			 phase;		/* 0 register, 1 join lists, 2 steady */
	uint64_t		 phase_start_us;
	struct event		*stop;
	unsigned short		 port;
	pid_t			 signal_pid;
};

static void
sample_add(struct samples *s, uint64_t us)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double
pct_ms(struct samples *s, double p)
{
	size_t i;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
	i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
	return s->v[i] / 1000.0;
}

/* utime + stime of pid in seconds, and its current and peak RSS in KiB. */
static int
proc_usage(pid_t pid, double *cpu_s, long *rss_kib, long *hwm_kib)
{
	char path[64], buf[4096], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL || (p = strrchr(buf, ')')) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* Fields after "comm)": state is 3rd; utime 14th, stime 15th. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	*rss_kib = *hwm_kib = 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		sscanf(buf, "VmRSS: %ld", rss_kib);
		sscanf(buf, "VmHWM: %ld", hwm_kib);
	}
	fclose(f);
	return 0;
}

static void dispatch(struct bench *);
static void beat_cb(evutil_socket_t, short, void *);

static void
enqueue(struct bench *b, struct node *n, enum req_kind kind)
{
	if (b->qlen == b->qcap) {
		struct pending *q = xcalloc(b->qcap ? b->qcap * 2 : 1024, sizeof(*q));
		for (size_t i = 0; i < b->qlen; i++)
			q[i] = b->queue[(b->qhead + i) % b->qcap];
		free(b->queue);
		b->queue = q;
		b->qhead = 0;
		b->qcap = b->qcap ? b->qcap * 2 : 1024;
	}
	b->queue[(b->qhead + b->qlen) % b->qcap] = (struct pending){ n, kind };
	b->qlen++;
}

static void
on_reply(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;
	struct bench *b = c->b;
	struct pending p = c->req;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	uint64_t lat = clock_mono_us() - c->sent_us;
	json_t *j = NULL;

	c->busy = 0;
	if (code == 200 || code == 304) {
		b->ok[p.kind]++;
		sample_add(&b->lat[p.kind], lat);
	} else {
		b->failed[p.kind]++;
		if (b->failed[p.kind] <= 3)
			fprintf(stderr, "bench: request kind %d for %s failed: HTTP %d\n",
			    p.kind, p.node->id, code);
	}
	if (code == 200 && p.kind != REQ_PEERS) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		j = json_loadb((const char *)evbuffer_pullup(in, -1),
		    evbuffer_get_length(in), 0, NULL);
	}
	if (p.kind == REQ_REGISTER && j != NULL) {
		snprintf(p.node->token, sizeof(p.node->token), "%s",
		    json_string_value(json_object_get(j, "token")));
		p.node->generation = json_integer_value(json_object_get(j,
		    "generation"));
		if (p.node->generation > b->last_generation)
			b->last_generation = p.node->generation;
		b->registered++;
		p.node->b = b;
		p.node->beat = event_new(b->base, -1, EV_PERSIST, beat_cb, p.node);
		event_add(p.node->beat, &(struct timeval){ b->cfg.interval_s, 0 });
	} else if (p.kind == REQ_HEARTBEAT && j != NULL && b->phase == 2) {
		/* While everybody is still joining, the generation moves with
		 * every registration; nodes follow it once the mesh is steady
		 * (the join cost of lists is measured on its own, phase 1). */
		int64_t gen = json_integer_value(json_object_get(j, "generation"));
		if (gen != p.node->generation) {
			p.node->generation = gen;
			enqueue(b, p.node, REQ_PEERS);
		}
	} else if (p.kind == REQ_PEERS && code == 200) {
		const char *etag = evhttp_find_header(
		    evhttp_request_get_input_headers(req), "ETag");
		snprintf(p.node->etag, sizeof(p.node->etag), "%s", etag ? etag : "");
	} else if (p.kind == REQ_PEERS && code == 304)
		b->status304++;
	json_decref(j);
	dispatch(b);
}

static void
send_req(struct bench *b, struct conn *c, struct pending p)
{
	struct evhttp_request *req = evhttp_request_new(on_reply, c);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char auth[96];

	c->busy = 1;
	c->req = p;
	evhttp_add_header(h, "Host", "127.0.0.1");
	if (p.kind == REQ_REGISTER) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evhttp_add_header(h, SIGNED_REQUEST_HEADER, p.node->sig);
		evbuffer_add(evhttp_request_get_output_buffer(req), p.node->body,
		    strlen(p.node->body));
	} else {
		snprintf(auth, sizeof(auth), "Bearer %s", p.node->token);
		evhttp_add_header(h, "Authorization", auth);
		if (p.kind == REQ_PEERS && p.node->etag[0] != '\0')
			evhttp_add_header(h, "If-None-Match", p.node->etag);
	}
	c->sent_us = clock_mono_us();
	if (evhttp_make_request(c->evcon, req,
	    p.kind == REQ_PEERS ? EVHTTP_REQ_GET : EVHTTP_REQ_POST,
	    p.kind == REQ_REGISTER ? "/v1/register" :
	    p.kind == REQ_HEARTBEAT ? "/v1/heartbeat" : "/v1/peers") != 0) {
		c->busy = 0;
		b->failed[p.kind]++;
	}
}

/* Gives queued requests (then, in phase 0, new registrations) to idle
 * connections. */
static void
dispatch(struct bench *b)
{
	for (long i = 0; i < b->cfg.connections; i++) {
		struct conn *c = &b->conns[i];
		if (c->busy)
			continue;
		if (b->qlen > 0) {
			struct pending p = b->queue[b->qhead];
			b->qhead = (b->qhead + 1) % b->qcap;
			b->qlen--;
			send_req(b, c, p);
		} else if (b->phase == 0 && b->next_register < (size_t)b->cfg.nodes) {
			send_req(b, c, (struct pending){
			    &b->nodes[b->next_register++], REQ_REGISTER });
		} else
			break;
	}
	if (b->phase == 0 && b->ok[REQ_REGISTER] + b->failed[REQ_REGISTER] ==
	    (uint64_t)b->cfg.nodes)
		event_base_loopbreak(b->base);
}

/* A node's heartbeat timer: every interval from its registration on, as
 * a real node does (so the early ones do not expire during a long
 * registration phase). */
static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;

	(void)fd;
	(void)what;
	enqueue(n->b, n, REQ_HEARTBEAT);
	dispatch(n->b);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int
write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(data);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

/* Starts the signal and waits (bounded) for its "listening" line. */
static int
start_signal(struct bench *b, const char *dir)
{
	char ca[512], log[512], maxn[32], line[1024], *p;
	uint64_t deadline = clock_mono_ms() + 10000;

	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(log, sizeof(log), "%s/signal.log", dir);
	snprintf(maxn, sizeof(maxn), "%ld", b->cfg.nodes + 16);
	b->signal_pid = fork();
	if (b->signal_pid < 0)
		return -1;
	if (b->signal_pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execl(b->cfg.signal_bin, b->cfg.signal_bin, "--listen", "127.0.0.1:0",
		    "--ca", ca, "--rate", "0", "--max-nodes", maxn, (char *)NULL);
		_exit(127);
	}
	while (clock_mono_ms() < deadline) {
		FILE *f = fopen(log, "r");
		while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
			if (strstr(line, "\"listening\"") &&
			    (p = strstr(line, "\"port\":")) != NULL) {
				b->port = (unsigned short)atoi(p + 7);
				fclose(f);
				return 0;
			}
		}
		if (f != NULL)
			fclose(f);
		if (waitpid(b->signal_pid, NULL, WNOHANG) == b->signal_pid) {
			fprintf(stderr, "bench: the signal exited; see %s\n", log);
			return -1;
		}
		usleep(20000);
	}
	return -1;
}

static void
stop_signal(struct bench *b)
{
	uint64_t deadline = clock_mono_ms() + 5000;

	if (b->signal_pid <= 0)
		return;
	kill(b->signal_pid, SIGTERM);
	while (clock_mono_ms() < deadline) {
		if (waitpid(b->signal_pid, NULL, WNOHANG) == b->signal_pid)
			return;
		usleep(10000);
	}
	kill(b->signal_pid, SIGKILL);
	waitpid(b->signal_pid, NULL, 0);
}

/* Issues certificates and signs one register request per node. */
static int
prepare_nodes(struct bench *b, const char *dir)
{
	struct pki_ca *ca;
	struct rng *rng = rng_new("agentflow-bench");
	char err[256], path[512], nonce[33];
	uint64_t t0 = clock_mono_ms();

	if (rng == NULL || (ca = pki_ca_new("bench CA", 0, 2, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench: cannot create CA\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (write_file(path, pki_ca_cert_pem(ca)) != 0)
		return -1;
	b->nodes = xcalloc((size_t)b->cfg.nodes, sizeof(*b->nodes));
	for (long i = 0; i < b->cfg.nodes; i++) {
		struct node *n = &b->nodes[i];
		struct pki_cert_params params = { 0 };
		mbedtls_pk_context key;
		char *cert = NULL, *keypem = NULL, addr[64];
		json_t *body;

		snprintf(n->id, sizeof(n->id), "bench-%06ld", i);
		params.node_id = n->id;
		params.days = 2;
		if (pki_ca_issue(ca, &params, &cert, &keypem, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench: issue %s: %s\n", n->id, err);
			return -1;
		}
		rng_hex(rng, nonce, 16);
		snprintf(addr, sizeof(addr), "10.%ld.%ld.%ld:50051",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255);
		body = json_pack("{s:s, s:s, s:[s], s:{s:s}, s:s, s:I, s:s}",
		    "node_id", n->id, "cert", cert, "addresses", addr,
		    "labels", "role", "bench", "version", "0.1.0",
		    "timestamp", (json_int_t)time(NULL), "nonce", nonce);
		n->body = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		mbedtls_pk_init(&key);
		if (mbedtls_pk_parse_key(&key, (const unsigned char *)keypem,
		    strlen(keypem) + 1, NULL, 0) != 0 ||
		    signed_request_sign(&key, rng, n->body, strlen(n->body), n->sig,
		    sizeof(n->sig)) != 0) {
			fprintf(stderr, "bench: cannot sign for %s\n", n->id);
			return -1;
		}
		mbedtls_pk_free(&key);
		free(cert);
		pki_secret_free(keypem);
	}
	printf("setup: %ld certificates issued and requests signed in %.1f s\n",
	    b->cfg.nodes, (double)(clock_mono_ms() - t0) / 1000.0);
	pki_ca_free(ca);
	rng_free(rng);
	return 0;
}

#define OPT(f) offsetof(struct bench_cfg, f)
static const struct opt options[] = {
	{ "nodes", OPT_INT, OPT(nodes), "10000", 1, 100000, "simulated nodes" },
	{ "interval", OPT_INT, OPT(interval_s), "10", 1, 3600, "heartbeat interval per node, seconds" },
	{ "duration", OPT_INT, OPT(duration_s), "60", 1, 3600, "length of the heartbeat phase, seconds" },
	{ "connections", OPT_INT, OPT(connections), "32", 1, 1024, "keep-alive client connections" },
	{ "lists", OPT_INT, OPT(lists), "100", 0, 100000, "nodes that fetch the full peer list after joining" },
	{ "signal-bin", OPT_STRING, OPT(signal_bin), "build/bin/agentflow-signal", 0, 0,
	  "agentflow-signal binary to start" },
};

int
main(int argc, char **argv)
{
	struct bench b;
	char err[256], dir[] = "/tmp/agentflow-bench-signal-XXXXXX", cmd[600];
	double cpu0, cpu1, cpu2, wall;
	long rss, hwm;
	uint64_t t0, t1, reg_failed;
	int rc = 1;

	memset(&b, 0, sizeof(b));
	switch (opts_parse(options, sizeof(options) / sizeof(options[0]), &b.cfg,
	    argc, argv, "usage: agentflow-bench-signal [options]\n\n"
	    "Registers and heartbeats simulated nodes against a real signal and "
	    "prints its cost.", NULL, err, sizeof(err))) {
	case OPTS_HELP:
		return 0;
	case OPTS_ERROR:
		fprintf(stderr, "agentflow-bench-signal: %s\n", err);
		return 2;
	case OPTS_OK:
		break;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mkdtemp(dir) == NULL || prepare_nodes(&b, dir) != 0)
		goto out;
	if (start_signal(&b, dir) != 0) {
		fprintf(stderr, "bench: cannot start %s\n", b.cfg.signal_bin);
		goto out;
	}
	b.base = event_base_new();
	b.conns = xcalloc((size_t)b.cfg.connections, sizeof(*b.conns));
	for (long i = 0; i < b.cfg.connections; i++) {
		b.conns[i].b = &b;
		b.conns[i].evcon = evhttp_connection_base_new(b.base, NULL,
		    "127.0.0.1", b.port);
		evhttp_connection_set_timeout(b.conns[i].evcon, 30);
	}

	/* Phase 0: register everybody as fast as the signal answers. */
	proc_usage(b.signal_pid, &cpu0, &rss, &hwm);
	t0 = clock_mono_us();
	dispatch(&b);
	event_base_dispatch(b.base);
	t1 = clock_mono_us();
	proc_usage(b.signal_pid, &cpu1, &rss, &hwm);
	wall = (double)(t1 - t0) / 1e6;
	printf("register: %" PRIu64 " ok, %" PRIu64 " failed in %.2f s = %.0f registrations/s; "
	    "latency p50 %.2f ms p99 %.2f ms (%ld connections); signal CPU %.0f %% of one core\n",
	    b.ok[REQ_REGISTER], b.failed[REQ_REGISTER], wall,
	    (double)b.ok[REQ_REGISTER] / wall, pct_ms(&b.lat[REQ_REGISTER], 50),
	    pct_ms(&b.lat[REQ_REGISTER], 99), b.cfg.connections,
	    100.0 * (cpu1 - cpu0) / wall);

	reg_failed = b.failed[REQ_REGISTER];

	/* Phase 1: a sample of nodes fetch the full list, as each does once
	 * when it joins; then every node holds the final generation. */
	b.phase = 1;
	for (long i = 0; i < b.cfg.lists && i < b.cfg.nodes; i++)
		enqueue(&b, &b.nodes[i * (b.cfg.nodes / (b.cfg.lists < b.cfg.nodes ?
		    b.cfg.lists : b.cfg.nodes))], REQ_PEERS);
	t0 = clock_mono_us();
	dispatch(&b);
	while (b.ok[REQ_PEERS] + b.failed[REQ_PEERS] < (uint64_t)(b.cfg.lists <
	    b.cfg.nodes ? b.cfg.lists : b.cfg.nodes))
		event_base_loop(b.base, EVLOOP_ONCE);
	printf("join lists: %" PRIu64 " full peer lists of %ld nodes in %.2f s; "
	    "latency p50 %.2f ms p99 %.2f ms\n", b.ok[REQ_PEERS], b.cfg.nodes,
	    (double)(clock_mono_us() - t0) / 1e6, pct_ms(&b.lat[REQ_PEERS], 50),
	    pct_ms(&b.lat[REQ_PEERS], 99));
	for (long i = 0; i < b.cfg.nodes; i++)
		b.nodes[i].generation = b.last_generation;
	b.ok[REQ_PEERS] = 0;
	b.lat[REQ_PEERS].n = 0;
	proc_usage(b.signal_pid, &cpu1, &rss, &hwm);

	/* Phase 2: steady heartbeats, counted from here. */
	b.phase = 2;
	b.phase_start_us = clock_mono_us();
	memset(b.ok, 0, sizeof(b.ok));
	memset(b.failed, 0, sizeof(b.failed));
	b.lat[REQ_HEARTBEAT].n = 0;
	b.stop = event_new(b.base, -1, 0, stop_cb, b.base);
	event_add(b.stop, &(struct timeval){ b.cfg.duration_s, 0 });
	event_base_dispatch(b.base);
	t1 = clock_mono_us();
	proc_usage(b.signal_pid, &cpu2, &rss, &hwm);
	wall = (double)(t1 - b.phase_start_us) / 1e6;
	printf("steady: %ld nodes heartbeating every %ld s for %.0f s: %" PRIu64
	    " heartbeats (%.0f/s), %" PRIu64 " failed; %" PRIu64 " peer lists (%" PRIu64
	    " answered 304)\n", b.cfg.nodes, b.cfg.interval_s, wall,
	    b.ok[REQ_HEARTBEAT], (double)(b.ok[REQ_HEARTBEAT] + b.ok[REQ_PEERS]) / wall,
	    b.failed[REQ_HEARTBEAT], b.ok[REQ_PEERS], b.status304);
	printf("steady: heartbeat latency p50 %.2f ms p99 %.2f ms; peers p50 %.2f ms p99 %.2f ms\n",
	    pct_ms(&b.lat[REQ_HEARTBEAT], 50), pct_ms(&b.lat[REQ_HEARTBEAT], 99),
	    pct_ms(&b.lat[REQ_PEERS], 50), pct_ms(&b.lat[REQ_PEERS], 99));
	printf("signal: CPU %.2f %% of one core while steady; RSS %.1f MiB (peak %.1f MiB)\n",
	    100.0 * (cpu2 - cpu1) / wall, rss / 1024.0, hwm / 1024.0);
	rc = reg_failed + b.failed[REQ_HEARTBEAT] == 0 ? 0 : 1;
out:
	stop_signal(&b);
	for (long i = 0; b.conns != NULL && i < b.cfg.connections; i++)
		evhttp_connection_free(b.conns[i].evcon);
	if (b.stop != NULL)
		event_free(b.stop);
	for (long i = 0; b.nodes != NULL && i < b.cfg.nodes; i++)
		if (b.nodes[i].beat != NULL)
			event_free(b.nodes[i].beat);
	if (b.base != NULL)
		event_base_free(b.base);
	for (long i = 0; b.nodes != NULL && i < b.cfg.nodes; i++)
		free(b.nodes[i].body);
	free(b.nodes);
	free(b.conns);
	free(b.queue);
	for (int i = 0; i < 3; i++)
		free(b.lat[i].v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return rc;
}
