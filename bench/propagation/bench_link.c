/*
 * bench/propagation/bench_link: user events per second over ONE mesh link.
 *
 * Two endpoints, A and B, live in this one process and share ONE libevent
 * loop.  Each is a mesh built as the node builds its own (node/mesh/mesh.h):
 * a transport (mutual-TLS gRPC, 127.0.0.1:0) whose callbacks go to the
 * links, a store (SQLite in a private temporary directory), state sync
 * whose hooks the links call.  Certificates are issued in memory
 * (certs/pki.h).  A learns B's address (links_set_peers), dials it, and
 * once the link is up on both sides A emits user events (sync_emit_user)
 * in bursts of --burst per loop pass for --duration seconds.  The window of events emitted by A and not
 * yet applied by B (B's events_in counter) and the bytes queued on A's
 * stream are both bounded, so A never outruns B and the transport's queue
 * bound (a link reset) is never reached: what is measured is the rate B
 * sustains.
 *
 * Each payload size (--sizes, default 0,100,1024 bytes) runs on a fresh
 * pair of endpoints (fresh databases), once as the node does it and once
 * with the event log's SQLite append skipped (--no-store-pass): the
 * append is intercepted with the linker's --wrap (bench/propagation/
 * CMakeLists.txt), so no node code changes; the wrapper also times every
 * real append, which gives the store's share of the loop's time.
 *
 * Bounded: every phase has a deadline; temporary directories are removed.
 * Both endpoints share one loop thread, so the figures are those of a
 * single core doing the sender's and the receiver's work; two nodes in two
 * processes each do half of it.
 */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "links.h"
#include "log.h"
#include "mesh.h"
#include "opts.h"
#include "pki.h"
#include "trust.h"
#include "rng.h"
#include "store.h"
#include "sync.h"
#include "sync_json.h"
#include "transport.h"
#include "xalloc.h"

/* ---- the store interception (-Wl,--wrap=store_event_append) -------------- */

int __real_store_event_append(struct store *, const struct store_event *, int *);
int __wrap_store_event_append(struct store *, const struct store_event *, int *);

static int	 g_skip_store;		/* skip the event log append */
static uint64_t	 g_store_ns;		/* time inside real appends */
static uint64_t	 g_store_calls;

static uint64_t
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
__wrap_store_event_append(struct store *st, const struct store_event *ev,
    int *added)
{
	uint64_t t0;
	int rc;

	g_store_calls++;
	if (g_skip_store) {
		if (added != NULL)
			*added = 1;
		return 0;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	rc = __real_store_event_append(st, ev, added);
	g_store_ns += now_ns(CLOCK_MONOTONIC) - t0;
	return rc;
}

/* ---- configuration --------------------------------------------------------- */

struct cfg {
	long		 duration_s;
	const char	*sizes;
	long		 burst;
	long		 window;
	long		 max_queued_kib;
	int		 no_store_pass;
	const char	*tmp;
	const char	*log_level;
	long		 store_rows;
};

#define OPT(f) offsetof(struct cfg, f)

static const struct opt options[] = {
	{ "duration", OPT_INT, OPT(duration_s), "10", 1, 600,
	  "seconds of sending per measurement" },
	{ "sizes", OPT_STRING, OPT(sizes), "0,100,1024", 0, 0,
	  "comma-separated user payload sizes in bytes (0-65536)" },
	{ "burst", OPT_INT, OPT(burst), "256", 1, 1024,
	  "events emitted per loop pass" },
	{ "window", OPT_INT, OPT(window), "16384", 1, 10000000,
	  "events emitted by A and not yet applied by B, at most" },
	{ "max-queued-kib", OPT_INT, OPT(max_queued_kib), "2048", 64, 7168,
	  "bytes queued on A's stream before A pauses (KiB; the reset bound is 8 MiB)" },
	{ "no-store-pass", OPT_BOOL, OPT(no_store_pass), "1", 0, 0,
	  "also measure each size with the event log append skipped" },
	{ "tmp", OPT_STRING, OPT(tmp), NULL, 0, 0,
	  "where the temporary databases go (default $TMPDIR or /tmp)" },
	{ "store-rows", OPT_INT, OPT(store_rows), "20000", 0, 1000000,
	  "rows per size for the store-only measurement (0: skip it)" },
	{ "log-level", OPT_STRING, OPT(log_level), "warn", 0, 0,
	  "the node modules' log level (info logs one line per user event)" },
};

static const char usage[] =
    "usage: agentflow-bench-link [options]\n\n"
    "User events per second over one mesh link: two endpoints wired as\n"
    "agentflow-node wires itself, in one process and one event loop.";

/* ---- endpoints ------------------------------------------------------------- */

struct bench;

struct endpoint {
	struct bench		*b;
	const char		*name;		/* "A", "B" */
	char			 id[32];
	char			 dir[512];
	struct store		*store;
	struct mesh		*mesh;
	struct transport	*transport;	/* the mesh's parts */
	struct links		*links;
	struct sync		*sync;
	json_t			*addresses, *labels;
	struct transport_stream	*stream;	/* the last opened one */
	uint64_t		 rx_bytes;	/* messages received */
	uint64_t		 rx_msgs;
	uint64_t		 rx_ns;		/* time in message callbacks */
};

struct phase {
	size_t		 payload;
	int		 skip_store;
	/* results */
	uint64_t	 emitted, applied_at_end, applied_start;
	uint64_t	 rx_bytes;
	double		 secs;
	uint64_t	 loop_cpu_ns, proc_cpu_ns, emit_ns, recv_ns, store_ns;
	uint64_t	 store_calls;
	int		 drained, reset, gaps, dups;
	uint64_t	 max_inflight;
	size_t		 max_queued;
};

struct bench {
	struct cfg		 cfg;
	struct event_base	*base;
	struct rng		*rng;
	struct pki_ca		*ca;
	struct trust		*trust;		/* the CA, so B checks A's keys as a node does */
	char			 root[512];
	struct endpoint		 a, b;
	struct phase		*ph;
	/* pacing */
	struct event		*burst_ev;
	struct event		*stop_ev;
	struct event		*watch_ev;
	int			 sending;	/* within the duration */
	int			 waiting;	/* window full, burst_ev idle */
	uint8_t			*payload;
	uint64_t		 deadline_ms;
	int			 done;
	const char		*failure;
};

static volatile sig_atomic_t g_stop;

static uint64_t
counter(const struct sync *s, const char *name)
{
	json_t *c = sync_json_counters(s);
	uint64_t v = (uint64_t)json_integer_value(json_object_get(c, name));

	json_decref(c);
	return v;
}

static void
t_opened(struct transport_stream *ts, void *arg)
{
	struct endpoint *e = arg;

	e->stream = ts;
	mesh_stream_opened(ts, e->mesh);
}

static void schedule_burst(struct bench *b);

static void
t_message(struct transport_stream *ts, const uint8_t *buf, size_t len, void *arg)
{
	struct endpoint *e = arg;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	e->rx_bytes += len;
	e->rx_msgs++;
	mesh_stream_message(ts, buf, len, e->mesh);
	e->rx_ns += now_ns(CLOCK_MONOTONIC) - t0;
	if (e == &e->b->b && e->b->waiting)
		schedule_burst(e->b);
}

static void
t_closed(struct transport_stream *ts, const char *reason, void *arg)
{
	struct endpoint *e = arg;

	if (e->stream == ts) {
		e->stream = NULL;
		if (e->b->ph != NULL)
			e->b->ph->reset = 1;	/* a link lost mid-measurement */
	}
	if (e->mesh != NULL)
		mesh_stream_closed(ts, reason, e->mesh);
}

static void
t_drained(struct transport_stream *ts, void *arg)
{
	struct endpoint *e = arg;

	if (e->mesh != NULL)
		mesh_stream_drained(ts, e->mesh);
}

static int
endpoint_start(struct bench *b, struct endpoint *e, const char *name,
    const char *id, const char *parent)
{
	static const struct transport_callbacks tcb = { t_opened, t_message,
	    t_closed, t_drained };
	struct mesh_config mc = { 0 };
	struct mesh_hooks mh = { .transport = &tcb, .transport_arg = e };
	char *cert = NULL, *key = NULL, err[512];
	struct pki_cert_params params = { 0 };
	int rc = -1;

	memset(e, 0, sizeof(*e));
	e->b = b;
	e->name = name;
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->dir, sizeof(e->dir), "%s/%s", parent, id);
	params.node_id = e->id;
	params.days = 1;
	if (pki_ca_issue(b->ca, &params, &cert, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-link: issue %s: %s\n", id, err);
		goto out;
	}
	if ((e->store = store_open(e->dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-link: store %s: %s\n", e->dir, err);
		goto out;
	}
	e->addresses = json_array();
	e->labels = json_object();
	mc.self_id = e->id;
	mc.incarnation = 1;
	mc.addresses = e->addresses;
	mc.labels = e->labels;
	mc.advertise_bound = 1;
	mc.transport.listen = "127.0.0.1:0";
	mc.transport.ca_pem = pki_ca_cert_pem(b->ca);
	mc.transport.cert_pem = cert;
	mc.transport.key_pem = key;
	mc.transport.keepalive_ms = 1000;
	mc.rng = b->rng;
	mc.trust = b->trust;
	mc.ping_ms = 1000;
	mc.dead_ms = 10000;
	mc.store = e->store;
	mc.events_kept = 100000;
	if ((e->mesh = mesh_new(b->base, &mc, &mh, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-link: transport %s: %s\n", id, err);
		goto out;
	}
	e->transport = mesh_transport(e->mesh);
	e->links = mesh_links(e->mesh);
	e->sync = mesh_sync(e->mesh);
	rc = 0;
out:
	free(cert);
	pki_secret_free(key);
	return rc;
}

static void
endpoint_stop(struct endpoint *e)
{
	/* The mesh (transport, sync, links), then the store it wrote to. */
	mesh_free(e->mesh);
	store_close(e->store);
	json_decref(e->addresses);
	json_decref(e->labels);
	e->mesh = NULL;
	e->transport = NULL;
	e->sync = NULL;
	e->links = NULL;
	e->store = NULL;
	e->addresses = NULL;
	e->labels = NULL;
}

static const struct timeval tv_now = { 0, 0 }, tv_1ms = { 0, 1000 };

/* ---- pacing ------------------------------------------------------------------ */

static void
schedule_burst(struct bench *b)
{
	b->waiting = 0;
	evtimer_add(b->burst_ev, &tv_now);	/* re-arms a pending one */
}

static void
burst_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	struct phase *ph = b->ph;
	uint64_t applied, inflight, t0;
	size_t queued;
	char err[256];

	(void)fd;
	(void)what;
	if (!b->sending)
		return;
	if (b->a.stream == NULL) {
		b->failure = "A's stream closed while sending";
		b->sending = 0;
		return;
	}
	applied = counter(b->b.sync, "events_in");
	inflight = ph->emitted - (applied - ph->applied_start);
	queued = transport_queued(b->a.stream);
	if (inflight > ph->max_inflight)
		ph->max_inflight = inflight;
	if (queued > ph->max_queued)
		ph->max_queued = queued;
	if (inflight + (uint64_t)b->cfg.burst > (uint64_t)b->cfg.window ||
	    queued > (size_t)b->cfg.max_queued_kib * 1024) {
		/* Woken by B's next message; a 1 ms timer in case none comes. */
		b->waiting = 1;
		evtimer_add(b->burst_ev, &tv_1ms);
		return;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < b->cfg.burst; i++) {
		if (sync_emit_user(b->a.sync, "bench.link", b->payload, ph->payload,
		    err, sizeof(err)) == 0) {
			fprintf(stderr, "bench-link: emit: %s\n", err);
			b->failure = "emit failed";
			b->sending = 0;
			return;
		}
		ph->emitted++;
	}
	ph->emit_ns += now_ns(CLOCK_MONOTONIC) - t0;
	/* The next burst after this loop pass (sync flushes on it). */
	evtimer_add(b->burst_ev, &tv_now);
}

static void
stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	b->sending = 0;
}

/* Every 10 ms: link up?  drained?  deadline?  Ctrl-C? */
static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	if (g_stop) {
		b->failure = "interrupted";
		b->sending = 0;
		event_base_loopbreak(b->base);
		return;
	}
	if (clock_mono_ms() > b->deadline_ms) {
		b->failure = b->ph == NULL ? "the link did not come up" :
		    "B did not apply every event in time";
		event_base_loopbreak(b->base);
		return;
	}
	if (b->ph == NULL) {
		if (links_up(b->a.links) == 1 && links_up(b->b.links) == 1 &&
		    b->a.stream != NULL)
			event_base_loopbreak(b->base);
		return;
	}
	if (!b->sending && counter(b->b.sync, "events_in") - b->ph->applied_start >=
	    b->ph->emitted) {
		b->ph->drained = 1;
		event_base_loopbreak(b->base);
	}
}

/* ---- one measurement ------------------------------------------------------- */

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static int
run_phase(struct bench *b, struct phase *ph, int index)
{
	char sub[600];
	uint64_t wall0, loop0, proc0, store0, calls0;
	struct rusage ru;
	int rc = -1;

	snprintf(sub, sizeof(sub), "%s/p%d", b->root, index);
	if (mkdir(sub, 0700) != 0) {
		b->failure = "cannot create a temporary directory";
		return -1;
	}
	if (endpoint_start(b, &b->a, "A", "link-a", sub) != 0 ||
	    endpoint_start(b, &b->b, "B", "link-b", sub) != 0) {
		b->failure = "could not start the endpoints";
		goto out;
	}

	/* A learns B as the signal would tell it, and dials. */
	json_t *peers = json_pack("[{s:s, s:O, s:s}]", "node_id", b->b.id,
	    "addresses", b->b.addresses, "observed_address", "127.0.0.1");
	links_set_peers(b->a.links, peers);
	json_decref(peers);

	b->ph = NULL;
	b->failure = NULL;
	b->deadline_ms = clock_mono_ms() + 15000;
	event_base_dispatch(b->base);
	if (b->failure != NULL)
		goto out;

	/* Let the Hello/snapshot exchange finish. */
	event_base_loopexit(b->base, &(struct timeval){ 0, 300000 });
	event_base_dispatch(b->base);

	b->ph = ph;
	g_skip_store = ph->skip_store;
	ph->applied_start = counter(b->b.sync, "events_in");
	uint64_t gaps0 = counter(b->b.sync, "gaps"), dups0 = counter(b->b.sync,
	    "duplicates");
	uint64_t rxb0 = b->b.rx_bytes, rxns0 = b->b.rx_ns;
	b->sending = 1;
	b->waiting = 0;
	b->deadline_ms = clock_mono_ms() + (uint64_t)b->cfg.duration_s * 1000 + 20000;
	store0 = g_store_ns;
	calls0 = g_store_calls;
	getrusage(RUSAGE_SELF, &ru);
	proc0 = (uint64_t)ru.ru_utime.tv_sec * 1000000000u + (uint64_t)ru.ru_utime.tv_usec * 1000u +
	    (uint64_t)ru.ru_stime.tv_sec * 1000000000u + (uint64_t)ru.ru_stime.tv_usec * 1000u;
	loop0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	wall0 = now_ns(CLOCK_MONOTONIC);
	struct timeval tv_duration = { b->cfg.duration_s, 0 };
	evtimer_add(b->stop_ev, &tv_duration);
	schedule_burst(b);
	/* Sample the figures at the end of the sending window: the watch
	 * runs every 10 ms, and stop_cb ends sending; a second dispatch
	 * drains what is in flight. */
	{
		uint64_t applied_end = 0, rx_end = 0, rxns_end = 0, loop_end = 0,
		    proc_end = 0, store_end = 0, calls_end = 0;
		int sampled = 0;
		while (b->failure == NULL && !ph->drained) {
			event_base_loop(b->base, EVLOOP_ONCE);
			if (!b->sending && !sampled && b->failure == NULL) {
				sampled = 1;
				applied_end = counter(b->b.sync, "events_in") -
				    ph->applied_start;
				rx_end = b->b.rx_bytes - rxb0;
				rxns_end = b->b.rx_ns - rxns0;
				loop_end = now_ns(CLOCK_THREAD_CPUTIME_ID) - loop0;
				getrusage(RUSAGE_SELF, &ru);
				proc_end = (uint64_t)ru.ru_utime.tv_sec * 1000000000u +
				    (uint64_t)ru.ru_utime.tv_usec * 1000u +
				    (uint64_t)ru.ru_stime.tv_sec * 1000000000u +
				    (uint64_t)ru.ru_stime.tv_usec * 1000u - proc0;
				store_end = g_store_ns - store0;
				calls_end = g_store_calls - calls0;
				ph->secs = (double)(now_ns(CLOCK_MONOTONIC) - wall0) / 1e9;
			}
		}
		ph->applied_at_end = applied_end;
		ph->rx_bytes = rx_end;
		ph->recv_ns = rxns_end;
		ph->loop_cpu_ns = loop_end;
		ph->proc_cpu_ns = proc_end;
		ph->store_ns = store_end;
		ph->store_calls = calls_end;
	}
	ph->gaps = (int)(counter(b->b.sync, "gaps") - gaps0);
	ph->dups = (int)(counter(b->b.sync, "duplicates") - dups0);
	if (b->failure == NULL && ph->drained)
		rc = 0;
out:
	evtimer_del(b->burst_ev);
	evtimer_del(b->stop_ev);
	b->sending = 0;
	b->ph = NULL;
	g_skip_store = 0;
	endpoint_stop(&b->a);
	endpoint_stop(&b->b);
	nftw(sub, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

static void
print_phase(const struct bench *b, const struct phase *ph)
{
	double rate = (double)ph->applied_at_end / ph->secs;
	double n = ph->applied_at_end ? (double)ph->applied_at_end : 1.0;

	printf("%6zu  %-7s %10.0f %9.1f %9.1f   %6.2f %6.2f %6.2f %6.2f   %5.0f%% %5.0f%%  %s\n",
	    ph->payload, ph->skip_store ? "skipped" : "SQLite",
	    rate, (double)ph->rx_bytes / ph->secs / 1048576.0,
	    rate * (double)ph->payload / 1048576.0,
	    (double)ph->loop_cpu_ns / 1000.0 / n,
	    (double)ph->emit_ns / 1000.0 / n,
	    (double)ph->recv_ns / 1000.0 / n,
	    ph->skip_store ? 0.0 : (double)ph->store_ns / 1000.0 / n,
	    100.0 * (double)ph->loop_cpu_ns / 1e9 / ph->secs,
	    100.0 * (double)ph->proc_cpu_ns / 1e9 / ph->secs,
	    ph->drained && !ph->reset && ph->gaps == 0 && ph->dups == 0 ? "ok" :
	    ph->reset ? "LINK RESET" : ph->gaps ? "GAPS" : ph->dups ? "DUPLICATES" :
	    "NOT DRAINED");
	(void)b;
}

/* ---- the event log alone ---------------------------------------------------- */

/* The node's INSERT (store.c, S_EVENT_PUT), for the batched comparison. */
static const char event_put_sql[] =
    "INSERT INTO events (origin, incarnation, seq, kind,"
    " time_ms, body, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT DO NOTHING";

/*
 * Appends rows of a payload-sized body to a fresh store: first through
 * store_event_append (one autocommit transaction each, as the node does),
 * then the same INSERT through a second connection on another fresh store
 * file, 256 rows per transaction.  Returns 0 and the two costs in µs/row.
 */
static int
store_bench(const char *root, int index, long rows, size_t payload,
    const uint8_t *bytes, double *auto_us, double *batch_us)
{
	char dir[600], path[700], err[512];
	struct store *st;
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL;
	uint8_t *body = xmalloc(payload + 32);
	int64_t now = (int64_t)clock_wall_ms();
	uint64_t t0;
	int rc = -1;

	/* Roughly an encoded UserEvent: name, payload. */
	memset(body, 'n', 32);
	memcpy(body + 32, bytes, payload);
	snprintf(dir, sizeof(dir), "%s/s%d-auto", root, index);
	if ((st = store_open(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-link: %s\n", err);
		goto out;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < rows; i++) {
		struct store_event ev = { "link-a", 1, (uint64_t)i + 1,
		    AGENTFLOW__MESH__V1__EVENT__KIND_USER, now, body, payload + 32,
		    now, NULL, 0, 0 };
		if (__real_store_event_append(st, &ev, NULL) != 0) {
			fprintf(stderr, "bench-link: append: %s\n", store_error(st));
			store_close(st);
			goto out;
		}
	}
	*auto_us = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1000.0 / (double)rows;
	store_close(st);

	snprintf(dir, sizeof(dir), "%s/s%d-batch", root, index);
	if ((st = store_open(dir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-link: %s\n", err);
		goto out;
	}
	store_close(st);		/* the schema, as the node makes it */
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	    " PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, event_put_sql, -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench-link: sqlite: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < rows; i++) {
		if (i % 256 == 0 && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
		    NULL) != SQLITE_OK)
			goto sqlerr;
		sqlite3_bind_text(ins, 1, "link-a", -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, 1);
		sqlite3_bind_int64(ins, 3, i + 1);
		sqlite3_bind_int(ins, 4, AGENTFLOW__MESH__V1__EVENT__KIND_USER);
		sqlite3_bind_int64(ins, 5, now);
		sqlite3_bind_blob(ins, 6, body, (int)(payload + 32), SQLITE_STATIC);
		sqlite3_bind_int64(ins, 7, now);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto sqlerr;
		sqlite3_reset(ins);
		if ((i % 256 == 255 || i == rows - 1) &&
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto sqlerr;
	}
	*batch_us = (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1000.0 / (double)rows;
	rc = 0;
	goto out;
sqlerr:
	fprintf(stderr, "bench-link: sqlite: %s\n", sqlite3_errmsg(db));
out:
	sqlite3_finalize(ins);
	if (db != NULL)
		sqlite3_close(db);
	free(body);
	return rc;
}

static void
on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct phase phases[32];
	size_t nphases = 0, sizes[16], nsizes = 0;
	enum log_level level;
	char err[512];
	const char *tmp;
	int failed = 0;

	memset(&b, 0, sizeof(b));
	switch (opts_parse(options, sizeof(options) / sizeof(options[0]), &b.cfg,
	    argc, argv, usage, NULL, err, sizeof(err))) {
	case OPTS_HELP:
		return 0;
	case OPTS_ERROR:
		fprintf(stderr, "bench-link: %s (see --help)\n", err);
		return 2;
	case OPTS_OK:
		break;
	}
	if (log_level_parse(b.cfg.log_level, &level) != 0) {
		fprintf(stderr, "bench-link: --log-level: debug, info, warn or error\n");
		return 2;
	}
	for (const char *p = b.cfg.sizes; *p != '\0' && nsizes < 16; ) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > 65536 || (*end != ',' && *end != '\0')) {
			fprintf(stderr, "bench-link: --sizes: comma-separated 0-65536\n");
			return 2;
		}
		sizes[nsizes++] = (size_t)v;
		p = *end == ',' ? end + 1 : end;
	}
	for (size_t i = 0; i < nsizes; i++) {
		phases[nphases++] = (struct phase){ .payload = sizes[i], .skip_store = 0 };
		if (b.cfg.no_store_pass)
			phases[nphases++] = (struct phase){ .payload = sizes[i],
			    .skip_store = 1 };
	}

	log_init("bench-link", level);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	evthread_use_pthreads();
	if ((b.rng = rng_new("agentflow-bench-link")) == NULL ||
	    (b.ca = pki_ca_new("bench CA", 0, 2, err, sizeof(err))) == NULL ||
	    (b.base = event_base_new()) == NULL) {
		fprintf(stderr, "bench-link: cannot start: %s\n", err);
		return 1;
	}
	tmp = b.cfg.tmp ? b.cfg.tmp : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(b.root, sizeof(b.root), "%s/af-bench-link-XXXXXX", tmp);
	if (mkdtemp(b.root) == NULL) {
		fprintf(stderr, "bench-link: mkdtemp %s: %s\n", b.root, strerror(errno));
		return 1;
	}
	/* The mesh CA as a file, as a node has it: origin keys are checked
	 * against it, and so each event's signature on B. */
	{
		char capath[600];
		FILE *f;

		snprintf(capath, sizeof(capath), "%s/ca.crt", b.root);
		if ((f = fopen(capath, "w")) == NULL ||
		    fputs(pki_ca_cert_pem(b.ca), f) < 0 || fclose(f) != 0 ||
		    (b.trust = trust_new(capath, NULL, err, sizeof(err))) == NULL) {
			fprintf(stderr, "bench-link: the CA file: %s\n", err);
			return 1;
		}
	}
	b.burst_ev = evtimer_new(b.base, burst_cb, &b);
	b.stop_ev = evtimer_new(b.base, stop_cb, &b);
	b.watch_ev = event_new(b.base, -1, EV_PERSIST, watch_cb, &b);
	event_add(b.watch_ev, &(struct timeval){ 0, 10000 });
	b.payload = xmalloc(65536);
	for (size_t i = 0; i < 65536; i++)
		b.payload[i] = (uint8_t)('a' + i % 26);

	printf("bench-link: one link A -> B, both endpoints in one process and one "
	    "event loop; %ld s per row, bursts of %ld events, window %ld events / "
	    "%ld KiB queued; %ld CPUs\n", b.cfg.duration_s, b.cfg.burst,
	    b.cfg.window, b.cfg.max_queued_kib, sysconf(_SC_NPROCESSORS_ONLN));
	printf("event log: \"SQLite\" = appended as the node does (one autocommit "
	    "INSERT per event on A and on B); \"skipped\" = append intercepted\n\n");
	printf("%6s  %-7s %10s %9s %9s   %6s %6s %6s %6s   %6s %6s  %s\n",
	    "bytes", "log", "events/s", "frame", "payload", "loop", "emit", "recv",
	    "store", "loop", "proc", "check");
	printf("%6s  %-7s %10s %9s %9s   %6s %6s %6s %6s   %6s %6s\n",
	    "", "", "at B", "MiB/s", "MiB/s", "us/ev", "us/ev", "us/ev", "us/ev",
	    "CPU", "CPU");
	fflush(stdout);
	for (size_t i = 0; i < nphases && !g_stop; i++) {
		if (run_phase(&b, &phases[i], (int)i) != 0) {
			printf("%6zu  %-7s  failed: %s\n", phases[i].payload,
			    phases[i].skip_store ? "skipped" : "SQLite",
			    b.failure ? b.failure : "could not start the endpoints");
			failed = 1;
		} else {
			print_phase(&b, &phases[i]);
			if (phases[i].reset || phases[i].gaps || phases[i].dups)
				failed = 1;
		}
		fflush(stdout);
	}
	if (b.cfg.store_rows > 0 && !g_stop) {
		printf("\nthe event log alone (%ld rows per size, fresh database in %s):\n",
		    b.cfg.store_rows, tmp);
		printf("%6s  %22s  %22s\n", "bytes", "autocommit (as node)",
		    "256 rows/transaction");
		for (size_t i = 0; i < nsizes && !g_stop; i++) {
			double au = 0, bu = 0;
			if (store_bench(b.root, (int)i, b.cfg.store_rows, sizes[i],
			    b.payload, &au, &bu) != 0) {
				printf("%6zu  failed\n", sizes[i]);
				failed = 1;
				continue;
			}
			printf("%6zu  %7.2f us = %7.0f/s  %7.2f us = %7.0f/s\n",
			    sizes[i], au, 1e6 / au, bu, 1e6 / bu);
			fflush(stdout);
		}
	}
	printf("\nevents/s at B: events B applied during the sending window / its "
	    "length.  frame MiB/s: encoded Frame bytes B received (before gRPC "
	    "framing and TLS).\n"
	    "us/ev: per event applied at B: loop = the one loop thread's CPU, "
	    "emit = A's sync_emit_user (incl. A's own log append), recv = B's "
	    "frame handling (decode, apply, log append), store = time inside "
	    "store_event_append on A and B together.  CPU %% of one core: loop "
	    "thread, whole process (gRPC's threads too).\n");

	event_free(b.burst_ev);
	event_free(b.stop_ev);
	event_free(b.watch_ev);
	event_base_free(b.base);
	pki_ca_free(b.ca);
	trust_free(b.trust);
	rng_free(b.rng);
	free(b.payload);
	nftw(b.root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return failed || g_stop ? 1 : 0;
}
