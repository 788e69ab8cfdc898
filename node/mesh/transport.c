/*
 * The mesh transport over gRPC core (see transport.h).  This is the only
 * file of the node that calls gRPC; what it relies on was verified against
 * Debian's gRPC 1.51 (shared notes, grpc-core-c.md).
 *
 * Threads.  gRPC runs its own threads.  Every operation we start reports
 * to one completion queue (created _for_next), which one pump thread
 * drains with grpc_completion_queue_next(): it appends (tag, ok) to a
 * mutex-protected array and activates ready_ev on the loop, which runs
 * the completions in order.  The pump owns nothing else; all state below
 * is touched on the loop thread only.  transport_free() runs on the loop
 * too and, since the loop is not dispatching then, waits on the same array
 * through a condition variable.
 *
 * Tags.  A tag is a struct op: the server's one outstanding request for a
 * call (accept_op), its shutdown notification (shutdown_op), and one op per
 * batch kind of each stream.  Each stream has at most one batch of each
 * kind in flight, so gRPC's rule of one SEND_MESSAGE and one RECV_MESSAGE
 * at a time holds by construction; our own queue holds what waits to be
 * sent, bounded by max_queue_bytes.
 *
 * Stream states (s->state):
 *
 *   CONNECTING --on_start() verified--> OPEN          (outbound only)
 *   (accept) ---accept_done() verified--> OPEN        (inbound)
 *   CONNECTING, OPEN --stream_fail()--> CLOSING       (cancels the call)
 *   CLOSING --last batch completed, stream_check()--> DEAD
 *   DEAD --reap_cb(): closed(), stream_free()
 *
 * stream_fail() runs on whatever ends a stream: transport_close(), a
 * refused identity, the status batch completing, a failed batch.  The call
 * is cancelled so that every batch on it completes; only then (pending ==
 * 0) is the stream DEAD, and it is reaped from a separate event, so a
 * stream is never freed inside its own callback chain and never while gRPC
 * holds a pointer into it.
 */
#include "transport.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "decompress.h"
#include "log.h"
#include "node_id.h"
#include "xalloc.h"

#define LINK_METHOD		"/agentflow.mesh.v1.Mesh/Link"
#define DEFAULT_KEEPALIVE_MS	1000
#define DEFAULT_CONNECT_MS	5000
#define DEFAULT_QUEUE_BYTES	(8u * 1024 * 1024)
#define DEFAULT_MAX_MESSAGE	(4u * 1024 * 1024)
/* Compression accepted from peers (read_message() inflates them). */
#define ACCEPTED_COMPRESSION	(1 << GRPC_COMPRESS_NONE | \
	1 << GRPC_COMPRESS_DEFLATE | 1 << GRPC_COMPRESS_GZIP)
#define SHUTDOWN_WAIT_MS	5000	/* for gRPC's own threads at exit */
#define REASON_MAX		512
#define STREAM_WINDOW		(1 << 20)	/* HTTP/2 flow-control window per stream */

enum op_kind {
	OP_START,		/* client: send + recv initial metadata; server: send */
	OP_STATUS,		/* client: RECV_STATUS_ON_CLIENT; server: RECV_CLOSE_ON_SERVER */
	OP_RECV,		/* RECV_MESSAGE */
	OP_SEND,		/* SEND_MESSAGE */
	OP_STREAM_KINDS,
	OP_ACCEPT = OP_STREAM_KINDS,	/* grpc_server_request_registered_call */
	OP_SHUTDOWN,		/* grpc_server_shutdown_and_notify */
};

struct op {
	enum op_kind		 kind;
	struct transport_stream	*s;	/* NULL for the transport's own ops */
};

struct completion {
	struct op		*op;
	int			 ok;
};

struct msg {
	STAILQ_ENTRY(msg)	 entry;
	grpc_byte_buffer	*bb;
	size_t			 len;
};

enum stream_state { ST_CONNECTING, ST_OPEN, ST_CLOSING, ST_DEAD };

struct transport_stream {
	struct transport	*t;
	TAILQ_ENTRY(transport_stream) entry;	/* t->streams, or t->dead once DEAD */
	enum stream_state	 state;
	int			 inbound;
	int			 opened;	/* opened() was called */
	unsigned int		 pending;	/* batches in flight */
	struct op		 ops[OP_STREAM_KINDS];
	grpc_call		*call;
	grpc_channel		*channel;	/* outbound: ours alone */
	char			*address;	/* outbound, for logs */
	char			 peer_id[NODE_ID_MAX + 1];
	char			*peer_cert;	/* PEM of its verified certificate */
	char			 reason[REASON_MAX];
	void			*data;

	STAILQ_HEAD(, msg)	 queue;		/* waiting to be sent */
	size_t			 queued;	/* bytes in queue + in flight */
	struct msg		*sending;	/* the SEND_MESSAGE in flight */

	grpc_byte_buffer	*recv_bb;
	grpc_metadata_array	 md_initial;	/* client */
	grpc_metadata_array	 md_trailing;	/* client */
	grpc_status_code	 status;	/* client */
	grpc_slice		 status_details; /* client */
	const char		*error_string;	/* client, gpr_free() */
	int			 cancelled;	/* server */
};

TAILQ_HEAD(stream_list, transport_stream);

struct transport {
	struct event_base	*base;
	struct transport_callbacks cb;
	void			*arg;
	int			 keepalive_ms;
	int			 connect_ms;
	size_t			 max_queue;
	size_t			 max_message;
	int			 send_compression; /* grpc_compression_algorithm */

	grpc_completion_queue	*cq;
	grpc_channel_credentials *channel_creds;
	grpc_server_credentials	*server_creds;
	grpc_server		*server;
	void			*method;
	int			 port;
	int			 server_started;

	/* The server's outstanding request for a call. */
	struct op		 accept_op;
	int			 accept_pending;
	grpc_call		*accept_call;
	gpr_timespec		 accept_deadline;
	grpc_metadata_array	 accept_md;
	struct op		 shutdown_op;
	int			 shutdown_pending;

	/* Totals for /metrics (loop thread). */
	uint64_t		 bytes_in, bytes_out, messages_in, messages_out;

	/* Pump → loop hand-off; the only state shared between threads. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct completion	*ready;
	size_t			 nready, capready;
	struct completion	*work;		/* loop's copy, swapped with ready */
	size_t			 capwork;
	struct event		*ready_ev;
	pthread_t		 pump;
	int			 pump_started;

	struct stream_list	 streams;	/* not DEAD */
	struct stream_list	 dead;		/* waiting for reap_cb */
	struct event		*reap_ev;
	int			 stopping;
	int			 in_callback;
};

/*
 * gRPC's initialisation is process-wide and reference-counted; the count
 * of live transports tells transport_free() whether it dropped the last
 * reference and should wait for gRPC's threads to finish.  This is the
 * module's one global, mirroring a global that gRPC itself keeps.
 */
static atomic_int live_transports;

static void stream_fail(struct transport_stream *, const char *reason);
static void stream_check(struct transport_stream *);
static void send_next(struct transport_stream *);
static void start_recv(struct transport_stream *);
static void accept_call(struct transport *);

/* gRPC's own log, where TLS handshake failures appear, goes into ours. */
static void
grpc_log_cb(gpr_log_func_args *a)
{
	enum log_level level;

	switch (a->severity) {
	case GPR_LOG_SEVERITY_DEBUG:
		level = LOG_DEBUG;
		break;
	case GPR_LOG_SEVERITY_INFO:
		level = LOG_INFO;
		break;
	default:
		/* A peer's or the network's fault, most of the time. */
		level = LOG_WARN;
		break;
	}
	log_event(level, a->message, "{s:s, s:s, s:i}", "source", "grpc",
	    "file", a->file != NULL ? a->file : "", "line", a->line);
}

/* ---- pump thread ---- */

static void *
pump_main(void *arg)
{
	struct transport *t = arg;
	grpc_event ev;

	for (;;) {
		ev = grpc_completion_queue_next(t->cq,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		pthread_mutex_lock(&t->lock);
		if (t->nready == t->capready) {
			t->capready = t->capready ? t->capready * 2 : 64;
			t->ready = xrealloc(t->ready,
			    t->capready * sizeof(*t->ready));
		}
		t->ready[t->nready].op = ev.tag;
		t->ready[t->nready].ok = ev.success;
		t->nready++;
		event_active(t->ready_ev, EV_READ, 0);
		pthread_cond_signal(&t->cond);
		pthread_mutex_unlock(&t->lock);
	}
	return NULL;
}

/* ---- batches ---- */

static int
start_batch(struct transport_stream *s, enum op_kind kind, const grpc_op *ops,
    size_t n)
{
	grpc_call_error e;

	e = grpc_call_start_batch(s->call, ops, n, &s->ops[kind], NULL);
	if (e != GRPC_CALL_OK) {
		/* Our bug or gRPC's: no completion will come for it. */
		log_event(LOG_ERROR, "transport: gRPC refused a batch",
		    "{s:i, s:i, s:s}", "kind", (int)kind, "error", (int)e,
		    "peer", s->peer_id);
		return -1;
	}
	s->pending++;
	return 0;
}

static void
start_recv(struct transport_stream *s)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &s->recv_bb;
	if (start_batch(s, OP_RECV, &op, 1) == -1)
		stream_fail(s, "cannot start receiving");
}

/*
 * Starts the next queued message unless one is in flight.  All but the
 * last queued message go with GRPC_WRITE_BUFFER_HINT, which lets gRPC
 * coalesce writes; the last must go without it or it may sit unflushed.
 */
static void
send_next(struct transport_stream *s)
{
	grpc_op op;
	struct msg *m;

	if (s->state != ST_OPEN || s->sending != NULL ||
	    (m = STAILQ_FIRST(&s->queue)) == NULL)
		return;
	STAILQ_REMOVE_HEAD(&s->queue, entry);
	s->sending = m;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.flags = STAILQ_EMPTY(&s->queue) ? 0 : GRPC_WRITE_BUFFER_HINT;
	op.data.send_message.send_message = m->bb;
	if (start_batch(s, OP_SEND, &op, 1) == -1)
		stream_fail(s, "cannot start sending");
}

static void
msg_free(struct msg *m)
{
	grpc_byte_buffer_destroy(m->bb);
	free(m);
}

/* ---- stream life ---- */

static struct transport_stream *
stream_new(struct transport *t, int inbound)
{
	struct transport_stream *s = xcalloc(1, sizeof(*s));

	s->t = t;
	s->inbound = inbound;
	s->state = inbound ? ST_OPEN : ST_CONNECTING;
	for (int k = 0; k < OP_STREAM_KINDS; k++) {
		s->ops[k].kind = (enum op_kind)k;
		s->ops[k].s = s;
	}
	STAILQ_INIT(&s->queue);
	grpc_metadata_array_init(&s->md_initial);
	grpc_metadata_array_init(&s->md_trailing);
	s->status_details = grpc_empty_slice();
	TAILQ_INSERT_TAIL(&t->streams, s, entry);
	return s;
}

static void
stream_free(struct transport_stream *s)
{
	struct msg *m;

	CHECK(s->pending == 0 && s->sending == NULL && s->recv_bb == NULL);
	while ((m = STAILQ_FIRST(&s->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->queue, entry);
		msg_free(m);
	}
	if (s->call != NULL)
		grpc_call_unref(s->call);
	if (s->channel != NULL)
		grpc_channel_destroy(s->channel);
	grpc_metadata_array_destroy(&s->md_initial);
	grpc_metadata_array_destroy(&s->md_trailing);
	grpc_slice_unref(s->status_details);
	gpr_free((void *)s->error_string);
	free(s->address);
	free(s->peer_cert);
	free(s);
}

/*
 * Ends the stream: keeps the first reason given (NULL: let a later event,
 * normally the call's status, say why), drops what was not yet sent and
 * cancels the call so every batch on it completes.
 */
static void
stream_fail(struct transport_stream *s, const char *reason)
{
	struct msg *m;

	if (reason != NULL && s->reason[0] == '\0')
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (s->state >= ST_CLOSING)
		return;
	s->state = ST_CLOSING;
	while ((m = STAILQ_FIRST(&s->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->queue, entry);
		s->queued -= m->len;
		msg_free(m);
	}
	/* A server's status reaches the client, which logs it as the reason. */
	grpc_call_cancel_with_status(s->call,
	    s->inbound ? GRPC_STATUS_UNAVAILABLE : GRPC_STATUS_CANCELLED,
	    s->reason[0] != '\0' ? s->reason : "link closed", NULL);
}

/* A CLOSING stream whose batches have all completed goes to reap_cb. */
static void
stream_check(struct transport_stream *s)
{
	struct transport *t = s->t;

	if (s->state != ST_CLOSING || s->pending != 0)
		return;
	s->state = ST_DEAD;
	TAILQ_REMOVE(&t->streams, s, entry);
	TAILQ_INSERT_TAIL(&t->dead, s, entry);
	event_active(t->reap_ev, EV_WRITE, 0);
}

/*
 * Reads the peer's node id from the call's verified certificate: the one
 * DNS SAN (gRPC's generic "peer identity" mixes every SAN, so it is not
 * used).  Returns 0, or -1 with why.
 */
static int
peer_identity(grpc_call *call, char *id, size_t idlen, char **pem, char *why,
    size_t whylen)
{
	grpc_auth_context *ctx;
	grpc_auth_property_iterator it;
	const grpc_auth_property *p;
	int n = 0, rc = -1;

	if ((ctx = grpc_call_auth_context(call)) == NULL) {
		snprintf(why, whylen, "no TLS security context");
		return -1;
	}
	if (!grpc_auth_context_peer_is_authenticated(ctx)) {
		snprintf(why, whylen, "peer is not authenticated");
		goto out;
	}
	it = grpc_auth_context_find_properties_by_name(ctx,
	    GRPC_PEER_DNS_PROPERTY_NAME);
	while ((p = grpc_auth_property_iterator_next(&it)) != NULL) {
		if (n++ == 0) {
			if (p->value_length >= idlen ||
			    !node_id_valid(p->value, p->value_length)) {
				snprintf(why, whylen, "certificate DNS name "
				    "is not a node id");
				goto out;
			}
			memcpy(id, p->value, p->value_length);
			id[p->value_length] = '\0';
		}
	}
	if (n != 1) {
		snprintf(why, whylen, "certificate has %d DNS names, "
		    "a node certificate has exactly one", n);
		goto out;
	}
	/* The verified leaf certificate, for checks above us (revocation). */
	it = grpc_auth_context_find_properties_by_name(ctx,
	    GRPC_X509_PEM_CERT_PROPERTY_NAME);
	if (pem != NULL && (p = grpc_auth_property_iterator_next(&it)) != NULL) {
		free(*pem);
		*pem = xstrndup(p->value, p->value_length);
	}
	rc = 0;
out:
	grpc_auth_context_release(ctx);
	return rc;
}

static void
call_opened(struct transport_stream *s)
{
	struct transport *t = s->t;

	s->opened = 1;
	log_event(LOG_DEBUG, "transport: stream opened", "{s:s, s:b}",
	    "peer", s->peer_id, "inbound", s->inbound);
	t->in_callback++;
	t->cb.opened(s, t->arg);
	t->in_callback--;
}

/* ---- completions, on the loop thread ---- */

static void
accept_done(struct transport *t, int ok)
{
	struct transport_stream *s;
	grpc_op ops[1];
	char why[128];

	t->accept_pending = 0;
	grpc_metadata_array_destroy(&t->accept_md);
	if (!ok) {
		/* Only the server's shutdown fails a request. */
		return;
	}
	s = stream_new(t, 1);
	s->call = t->accept_call;
	t->accept_call = NULL;
	accept_call(t);

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (start_batch(s, OP_START, ops, 1) == -1) {
		stream_fail(s, "cannot answer the call");
		return;
	}
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[0].data.recv_close_on_server.cancelled = &s->cancelled;
	if (start_batch(s, OP_STATUS, ops, 1) == -1) {
		stream_fail(s, "cannot answer the call");
		return;
	}
	if (t->stopping) {
		stream_fail(s, "transport shutting down");
		return;
	}
	if (peer_identity(s->call, s->peer_id, sizeof(s->peer_id), &s->peer_cert,
	    why, sizeof(why)) == -1) {
		log_event(LOG_WARN, "transport: inbound link refused",
		    "{s:s}", "reason", why);
		stream_fail(s, why);
		return;
	}
	start_recv(s);
	if (s->state == ST_OPEN)
		call_opened(s);
}

static void
accept_call(struct transport *t)
{
	grpc_call_error e;

	if (t->stopping || t->server == NULL)
		return;
	grpc_metadata_array_init(&t->accept_md);
	e = grpc_server_request_registered_call(t->server, t->method,
	    &t->accept_call, &t->accept_deadline, &t->accept_md, NULL, t->cq,
	    t->cq, &t->accept_op);
	if (e != GRPC_CALL_OK) {
		log_event(LOG_ERROR, "transport: cannot request a call",
		    "{s:i}", "error", (int)e);
		grpc_metadata_array_destroy(&t->accept_md);
		return;
	}
	t->accept_pending = 1;
}

/* Client: the server answered (or the call failed before it could). */
static void
on_start(struct transport_stream *s, int ok)
{
	char id[NODE_ID_MAX + 1], why[128];

	if (s->inbound || s->state != ST_CONNECTING) {
		if (!ok)
			stream_fail(s, NULL);
		return;
	}
	if (!ok) {
		stream_fail(s, NULL);	/* the status says why */
		return;
	}
	if (peer_identity(s->call, id, sizeof(id), &s->peer_cert, why,
	    sizeof(why)) == -1) {
		/*
		 * A failed call can report its initial metadata done with
		 * no security context; its status then tells the real
		 * cause, so only a live call's refusal is ours to name.
		 */
		log_event(LOG_WARN, "transport: outbound link refused",
		    "{s:s, s:s, s:s}", "address", s->address,
		    "expected", s->peer_id, "reason", why);
		stream_fail(s, why);
		return;
	}
	if (strcmp(id, s->peer_id) != 0) {
		snprintf(why, sizeof(why), "server certificate names %s", id);
		log_event(LOG_WARN, "transport: outbound link refused",
		    "{s:s, s:s, s:s}", "address", s->address,
		    "expected", s->peer_id, "reason", why);
		stream_fail(s, why);
		return;
	}
	s->state = ST_OPEN;
	start_recv(s);
	if (s->state != ST_OPEN)
		return;
	call_opened(s);
	send_next(s);
}

static void
on_status(struct transport_stream *s, int ok)
{
	char why[REASON_MAX];

	if (s->inbound) {
		snprintf(why, sizeof(why), "%s", !ok ? "call failed" :
		    s->cancelled ? "stream cancelled: the peer closed it "
		    "or the connection was lost" : "peer ended the stream");
	} else {
		snprintf(why, sizeof(why), "status %d: %.*s", (int)s->status,
		    (int)GRPC_SLICE_LENGTH(s->status_details),
		    (const char *)GRPC_SLICE_START_PTR(s->status_details));
	}
	stream_fail(s, why);
}

/*
 * The bytes of a received message, into a new *slice.  gRPC's own
 * decompression is off (it inflates without bound before the size limit
 * applies): a message a peer compressed (gzip or deflate, the algorithms
 * the channels accept) arrives compressed, and is inflated here within
 * max_message.
 */
static int
read_message(struct transport *t, grpc_byte_buffer *bb, grpc_slice *slice,
    char *why, size_t whylen)
{
	grpc_byte_buffer_reader reader;
	grpc_compression_algorithm alg = bb->data.raw.compression;
	grpc_slice packed;
	uint8_t *out;
	size_t outlen;
	int rc;

	if (alg != GRPC_COMPRESS_NONE && alg != GRPC_COMPRESS_GZIP &&
	    alg != GRPC_COMPRESS_DEFLATE) {
		snprintf(why, whylen, "message compressed with algorithm %d",
		    (int)alg);
		return -1;
	}
	/* The reader would inflate: read the raw slices with it uncompressed. */
	bb->data.raw.compression = GRPC_COMPRESS_NONE;
	rc = grpc_byte_buffer_reader_init(&reader, bb);
	bb->data.raw.compression = alg;
	if (!rc) {
		snprintf(why, whylen, "cannot read a received message");
		return -1;
	}
	packed = grpc_byte_buffer_reader_readall(&reader);
	grpc_byte_buffer_reader_destroy(&reader);
	if (alg == GRPC_COMPRESS_NONE) {
		*slice = packed;
		return 0;
	}
	rc = decompress_message(alg == GRPC_COMPRESS_GZIP ? DECOMPRESS_GZIP :
	    DECOMPRESS_DEFLATE, GRPC_SLICE_START_PTR(packed),
	    GRPC_SLICE_LENGTH(packed), t->max_message, &out, &outlen, why,
	    whylen);
	grpc_slice_unref(packed);
	if (rc != 0)
		return -1;
	*slice = grpc_slice_new(out, outlen, free);
	return 0;
}

static void
on_recv(struct transport_stream *s, int ok)
{
	struct transport *t = s->t;
	grpc_slice slice;
	grpc_byte_buffer *bb = s->recv_bb;
	char why[256];

	s->recv_bb = NULL;
	if (!ok || bb == NULL) {
		/*
		 * No message: the stream ended (a half-close, which our
		 * peers never do on a live link, or the call's end).  The
		 * status batch, which completes next, says why.
		 */
		stream_fail(s, NULL);
		grpc_byte_buffer_destroy(bb);
		return;
	}
	if (read_message(t, bb, &slice, why, sizeof(why)) != 0) {
		grpc_byte_buffer_destroy(bb);
		stream_fail(s, why);
		return;
	}
	grpc_byte_buffer_destroy(bb);
	t->bytes_in += GRPC_SLICE_LENGTH(slice);
	t->messages_in++;
	if (s->state == ST_OPEN) {
		t->in_callback++;
		t->cb.message(s, GRPC_SLICE_START_PTR(slice),
		    GRPC_SLICE_LENGTH(slice), t->arg);
		t->in_callback--;
	}
	grpc_slice_unref(slice);
	if (s->state == ST_OPEN)
		start_recv(s);
}

static void
on_send(struct transport_stream *s, int ok)
{
	struct msg *m = s->sending;

	s->sending = NULL;
	s->queued -= m->len;
	if (ok) {
		s->t->bytes_out += m->len;
		s->t->messages_out++;
	}
	msg_free(m);
	if (!ok) {
		stream_fail(s, NULL);
		return;
	}
	send_next(s);
}

static void
complete(struct transport *t, struct op *op, int ok)
{
	struct transport_stream *s = op->s;

	switch (op->kind) {
	case OP_ACCEPT:
		accept_done(t, ok);
		return;
	case OP_SHUTDOWN:
		t->shutdown_pending = 0;
		return;
	default:
		break;
	}
	CHECK(s != NULL && s->pending > 0);
	s->pending--;
	switch (op->kind) {
	case OP_START:
		on_start(s, ok);
		break;
	case OP_STATUS:
		on_status(s, ok);
		break;
	case OP_RECV:
		on_recv(s, ok);
		break;
	case OP_SEND:
		on_send(s, ok);
		break;
	default:
		CHECK(!"an operation of no known kind");
	}
	stream_check(s);
}

/* Runs what the pump handed over, in order. */
static void
run_ready(struct transport *t)
{
	struct completion *c;
	size_t n, cap;

	pthread_mutex_lock(&t->lock);
	c = t->ready;
	n = t->nready;
	cap = t->capready;
	t->ready = t->work;
	t->capready = t->capwork;
	t->nready = 0;
	pthread_mutex_unlock(&t->lock);
	t->work = c;
	t->capwork = cap;
	for (size_t i = 0; i < n; i++)
		complete(t, c[i].op, c[i].ok);
}

static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_ready(arg);
}

static void
reap(struct transport *t)
{
	struct transport_stream *s;

	while ((s = TAILQ_FIRST(&t->dead)) != NULL) {
		TAILQ_REMOVE(&t->dead, s, entry);
		log_event(LOG_DEBUG, "transport: stream closed",
		    "{s:s, s:b, s:s}", "peer", s->peer_id,
		    "inbound", s->inbound, "reason", s->reason);
		/* The caller never saw an inbound stream that did not open. */
		if (s->opened || !s->inbound) {
			t->in_callback++;
			t->cb.closed(s, s->reason[0] != '\0' ? s->reason :
			    "closed", t->arg);
			t->in_callback--;
		}
		stream_free(s);
	}
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reap(arg);
}

/* ---- public API ---- */

static grpc_arg
arg_int(const char *key, int value)
{
	grpc_arg a;

	memset(&a, 0, sizeof(a));
	a.type = GRPC_ARG_INTEGER;
	a.key = (char *)key;
	a.value.integer = value;
	return a;
}

static grpc_arg
arg_str(const char *key, const char *value)
{
	grpc_arg a;

	memset(&a, 0, sizeof(a));
	a.type = GRPC_ARG_STRING;
	a.key = (char *)key;
	a.value.string = (char *)value;
	return a;
}

static int
clamp_int(size_t v)
{
	return v > (size_t)0x7fffffff ? 0x7fffffff : (int)v;
}

static int
start_server(struct transport *t, const struct transport_config *c,
    char *err, size_t errlen)
{
	grpc_ssl_pem_key_cert_pair pair = { c->key_pem, c->cert_pem };
	grpc_arg a[] = {
		arg_int(GRPC_ARG_ALLOW_REUSEPORT, 0),
		arg_int(GRPC_ARG_KEEPALIVE_TIME_MS, t->keepalive_ms),
		arg_int(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, t->keepalive_ms),
		arg_int(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1),
		arg_int(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0),
		/* No BDP pings (an extra frame, timer and wakeup per burst
		 * received: 10-15 % of an idle node's CPU in a 20-node mesh);
		 * the fixed window is large enough for a 4 MiB snapshot
		 * over a long home uplink instead. */
		arg_int(GRPC_ARG_HTTP2_BDP_PROBE, 0),
		arg_int(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, STREAM_WINDOW),
		/* Consent to the clients' keepalive pings, with margin
		 * for timer jitter; no strikes, so never "too many pings". */
		arg_int(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
		    t->keepalive_ms / 2),
		arg_int(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0),
		arg_int(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		    clamp_int(t->max_message)),
		arg_int(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
		    clamp_int(t->max_message)),
		arg_int(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, t->connect_ms),
		/* A link is one call on its own connection; a few more
		 * cover a peer redialing before its old call ended. */
		arg_int(GRPC_ARG_MAX_CONCURRENT_STREAMS, 8),
		/* Accept what a peer compressed with gRPC's standard gzip
		 * or deflate, inflated by read_message() within
		 * max_message, never by gRPC (unbounded). */
		arg_int(GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET,
		    ACCEPTED_COMPRESSION),
		arg_int(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0),
		arg_int(GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
		    t->send_compression),
	};
	grpc_channel_args args = { sizeof(a) / sizeof(a[0]), a };

	t->server_creds = grpc_ssl_server_credentials_create_ex(c->ca_pem,
	    &pair, 1, GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
	    NULL);
	if (t->server_creds == NULL) {
		snprintf(err, errlen, "cannot create TLS server credentials");
		return -1;
	}
	t->server = grpc_server_create(&args, NULL);
	grpc_server_register_completion_queue(t->server, t->cq, NULL);
	t->method = grpc_server_register_method(t->server, LINK_METHOD, NULL,
	    GRPC_SRM_PAYLOAD_NONE, 0);
	if (t->method == NULL) {
		snprintf(err, errlen, "cannot register %s", LINK_METHOD);
		return -1;
	}
	t->port = grpc_server_add_http2_port(t->server, c->listen,
	    t->server_creds);
	if (t->port == 0) {
		/* gRPC logged the cause (through grpc_log_cb). */
		snprintf(err, errlen, "cannot listen on %s: address in use, "
		    "not an address, or refused TLS material", c->listen);
		return -1;
	}
	grpc_server_start(t->server);
	t->server_started = 1;
	accept_call(t);
	return 0;
}

struct transport *
transport_new(struct event_base *base, const struct transport_config *c,
    const struct transport_callbacks *cb, void *arg, char *err, size_t errlen)
{
	struct transport *t;
	grpc_ssl_pem_key_cert_pair pair;

	if (c->ca_pem == NULL || c->cert_pem == NULL || c->key_pem == NULL) {
		snprintf(err, errlen, "TLS material missing: the mesh CA, "
		    "this node's certificate and its key are all needed");
		return NULL;
	}
	if (c->keepalive_ms < 0 || c->connect_timeout_ms < 0) {
		snprintf(err, errlen, "negative keepalive or connect timeout");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->base = base;
	t->cb = *cb;
	t->arg = arg;
	t->keepalive_ms = c->keepalive_ms ? c->keepalive_ms : DEFAULT_KEEPALIVE_MS;
	t->connect_ms = c->connect_timeout_ms ? c->connect_timeout_ms :
	    DEFAULT_CONNECT_MS;
	t->max_queue = c->max_queue_bytes ? c->max_queue_bytes :
	    DEFAULT_QUEUE_BYTES;
	t->max_message = c->max_message ? c->max_message : DEFAULT_MAX_MESSAGE;
	t->send_compression = c->send_compression;
	t->accept_op.kind = OP_ACCEPT;
	t->shutdown_op.kind = OP_SHUTDOWN;
	TAILQ_INIT(&t->streams);
	TAILQ_INIT(&t->dead);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->ready_ev = event_new(base, -1, 0, ready_cb, t);
	t->reap_ev = event_new(base, -1, 0, reap_cb, t);

	gpr_set_log_function(grpc_log_cb);
	grpc_init();
	atomic_fetch_add(&live_transports, 1);
	t->cq = grpc_completion_queue_create_for_next(NULL);
	if (pthread_create(&t->pump, NULL, pump_main, t) != 0) {
		snprintf(err, errlen, "cannot start the gRPC pump thread: %s",
		    strerror(errno));
		transport_free(t);
		return NULL;
	}
	t->pump_started = 1;

	pair.private_key = c->key_pem;
	pair.cert_chain = c->cert_pem;
	t->channel_creds = grpc_ssl_credentials_create(c->ca_pem, &pair, NULL,
	    NULL);
	if (t->channel_creds == NULL) {
		snprintf(err, errlen, "cannot create TLS client credentials");
		transport_free(t);
		return NULL;
	}
	if (c->listen != NULL && start_server(t, c, err, errlen) == -1) {
		transport_free(t);
		return NULL;
	}
	return t;
}

int
transport_port(const struct transport *t)
{
	return t->port;
}

struct transport_stream *
transport_dial(struct transport *t, const char *address,
    const char *expected_id)
{
	struct transport_stream *s;
	grpc_op ops[2];
	grpc_arg a[] = {
		arg_str(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, expected_id),
		arg_int(GRPC_ARG_KEEPALIVE_TIME_MS, t->keepalive_ms),
		arg_int(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, t->keepalive_ms),
		arg_int(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1),
		arg_int(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0),
		/* No BDP pings (an extra frame, timer and wakeup per burst
		 * received: 10-15 % of an idle node's CPU in a 20-node mesh);
		 * the fixed window is large enough for a 4 MiB snapshot
		 * over a long home uplink instead. */
		arg_int(GRPC_ARG_HTTP2_BDP_PROBE, 0),
		arg_int(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, STREAM_WINDOW),
		arg_int(GRPC_ARG_ENABLE_RETRIES, 0),
		arg_int(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
		    clamp_int(t->max_message)),
		arg_int(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
		    clamp_int(t->max_message)),
		/* One connection per link: a reset link is a new TCP
		 * connection, not a stream on a shared, possibly stuck one. */
		arg_int(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1),
		/* Bounds connect + handshake (gRPC's default is 20 s). */
		arg_int(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, t->connect_ms),
		/* An http_proxy in the environment must not carry links. */
		arg_int(GRPC_ARG_ENABLE_HTTP_PROXY, 0),
		arg_int(GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET,
		    ACCEPTED_COMPRESSION),
		arg_int(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0),
		arg_int(GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
		    t->send_compression),
	};
	grpc_channel_args args = { sizeof(a) / sizeof(a[0]), a };

	if (t->stopping || expected_id == NULL ||
	    !node_id_valid(expected_id, strlen(expected_id)))
		return NULL;
	s = stream_new(t, 0);
	snprintf(s->peer_id, sizeof(s->peer_id), "%s", expected_id);
	s->address = xstrdup(address);
	s->channel = grpc_channel_create(address, t->channel_creds, &args);
	s->call = grpc_channel_create_call(s->channel, NULL,
	    GRPC_PROPAGATE_DEFAULTS, t->cq,
	    grpc_slice_from_static_string(LINK_METHOD), NULL,
	    gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata =
	    &s->md_initial;
	if (start_batch(s, OP_START, ops, 2) == -1)
		goto fail;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &s->md_trailing;
	ops[0].data.recv_status_on_client.status = &s->status;
	ops[0].data.recv_status_on_client.status_details = &s->status_details;
	ops[0].data.recv_status_on_client.error_string = &s->error_string;
	if (start_batch(s, OP_STATUS, ops, 1) == -1)
		goto fail;
	return s;
fail:
	/* closed() follows from the loop, as for any failed dial. */
	stream_fail(s, "cannot start the call");
	stream_check(s);
	return s;
}

int
transport_send(struct transport_stream *s, const uint8_t *buf, size_t len)
{
	struct transport *t = s->t;
	grpc_slice slice;
	struct msg *m;

	if (s->state >= ST_CLOSING || len > t->max_message ||
	    len > t->max_queue || s->queued > t->max_queue - len)
		return -1;
	slice = grpc_slice_malloc(len);
	if (len > 0)
		memcpy(GRPC_SLICE_START_PTR(slice), buf, len);
	m = xmalloc(sizeof(*m));
	m->bb = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	m->len = len;
	STAILQ_INSERT_TAIL(&s->queue, m, entry);
	s->queued += len;
	send_next(s);
	return 0;
}

size_t
transport_queued(const struct transport_stream *s)
{
	return s->queued;
}

void
transport_stats(const struct transport *t, struct transport_stats *st)
{
	const struct transport_stream *s;

	st->bytes_in = t->bytes_in;
	st->bytes_out = t->bytes_out;
	st->messages_in = t->messages_in;
	st->messages_out = t->messages_out;
	st->queued_bytes = 0;
	st->streams = 0;
	TAILQ_FOREACH(s, &t->streams, entry) {
		st->queued_bytes += s->queued;
		st->streams++;
	}
}

const char *
transport_peer_id(const struct transport_stream *s)
{
	return s->peer_id;
}

const char *
transport_peer_cert(const struct transport_stream *s)
{
	return s->peer_cert;
}

int
transport_is_inbound(const struct transport_stream *s)
{
	return s->inbound;
}

void
transport_close(struct transport_stream *s)
{
	stream_fail(s, "closed locally");
	stream_check(s);
}

void
transport_set_data(struct transport_stream *s, void *data)
{
	s->data = data;
}

void *
transport_get_data(const struct transport_stream *s)
{
	return s->data;
}

/* Waits up to a second for the pump to hand something over. */
static void
wait_ready(struct transport *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 1;
	pthread_mutex_lock(&t->lock);
	while (t->nready == 0) {
		if (pthread_cond_timedwait(&t->cond, &t->lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&t->lock);
}

/*
 * The order gRPC needs: cancel every call and let its batches complete
 * (each stream then unrefs its call and destroys its channel); shut the
 * server down and drain until its notification and every call are done;
 * destroy the server; shut the queue down and let the pump see
 * GRPC_QUEUE_SHUTDOWN; destroy the queue; release the credentials;
 * grpc_shutdown().
 */
void
transport_free(struct transport *t)
{
	struct transport_stream *s, *next;
	uint64_t since, warned;

	if (t == NULL)
		return;
	CHECK(t->in_callback == 0);
	t->stopping = 1;
	TAILQ_FOREACH(s, &t->streams, entry)
		stream_fail(s, "transport shutting down");
	if (t->server != NULL) {
		grpc_server_shutdown_and_notify(t->server, t->cq,
		    &t->shutdown_op);
		t->shutdown_pending = 1;
		grpc_server_cancel_all_calls(t->server);
	}
	since = warned = clock_mono_ms();
	for (;;) {
		/* A stream may have just become DEAD. */
		for (s = TAILQ_FIRST(&t->streams); s != NULL; s = next) {
			next = TAILQ_NEXT(s, entry);
			stream_check(s);
		}
		reap(t);
		if (TAILQ_EMPTY(&t->streams) && !t->shutdown_pending &&
		    !t->accept_pending)
			break;
		wait_ready(t);
		run_ready(t);
		if (clock_mono_ms() - warned >= 5000) {
			warned = clock_mono_ms();
			log_event(LOG_WARN, "transport: shutdown still waiting "
			    "for gRPC", "{s:i, s:b, s:b}", "waited_ms",
			    (int)(warned - since), "server",
			    t->shutdown_pending, "streams",
			    !TAILQ_EMPTY(&t->streams));
		}
	}
	if (t->server != NULL)
		grpc_server_destroy(t->server);
	grpc_completion_queue_shutdown(t->cq);
	if (t->pump_started)
		pthread_join(t->pump, NULL);
	else
		while (grpc_completion_queue_next(t->cq,
		    gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
		    GRPC_QUEUE_SHUTDOWN)
			;
	grpc_completion_queue_destroy(t->cq);
	if (t->server_creds != NULL)
		grpc_server_credentials_release(t->server_creds);
	if (t->channel_creds != NULL)
		grpc_channel_credentials_release(t->channel_creds);
	grpc_shutdown();

	/*
	 * After failed handshakes gRPC holds its own init references for a
	 * moment and finishes shutting down on one of its threads; wait for
	 * it (bounded) when this was the last transport.
	 */
	if (atomic_fetch_sub(&live_transports, 1) == 1) {
		since = clock_mono_ms();
		while (grpc_is_initialized() &&
		    clock_mono_ms() - since < SHUTDOWN_WAIT_MS) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (grpc_is_initialized())
			log_event(LOG_WARN, "transport: gRPC still running "
			    "after shutdown", "{s:i}", "waited_ms",
			    SHUTDOWN_WAIT_MS);
		else
			log_event(LOG_DEBUG, "transport: gRPC shut down",
			    "{s:i}", "waited_ms",
			    (int)(clock_mono_ms() - since));
	}

	event_free(t->ready_ev);
	event_free(t->reap_ev);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->ready);
	free(t->work);
	free(t);
}
