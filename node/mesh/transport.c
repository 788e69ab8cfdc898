/*
 * The mesh transport over gRPC core (see transport.h).  This file and
 * transport_open.c are the only ones of the node that call gRPC; what
 * they rely on was verified against Debian's gRPC 1.51 (shared notes,
 * grpc-core-c.md).
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
 * sent, bounded by max_queue_bytes, live messages ahead of bulk (a
 * catch-up's history), each in its order.  A queue that passed low_water and
 * has fallen back to it is reported once (drained()), so senders of bulk
 * (a catch-up) queue more as the link sends, never past the bound.
 *
 * Stream states (s->state):
 *
 *   CONNECTING --on_start() verified--> OPEN          (outbound only)
 *   (accept) ---accept_done() verified--> OPEN        (inbound)
 *   CONNECTING, OPEN --transport_stream_fail()--> CLOSING (cancels the call)
 *   CLOSING --last batch completed, transport_stream_check()--> DEAD
 *   DEAD --transport_reap_cb(): closed(), stream_free()
 *
 * transport_stream_fail() runs on whatever ends a stream:
 * transport_close(), a refused identity, the status batch completing, a failed batch.  The call
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
#include "transport_priv.h"

static void send_next(struct transport_stream *);
static void start_recv(struct transport_stream *);

/* gRPC's own log, where TLS handshake failures appear, goes into ours. */
void
transport_grpc_log(gpr_log_func_args *a)
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

void *
transport_pump_main(void *arg)
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

int
transport_start_batch(struct transport_stream *s, enum op_kind kind,
    const grpc_op *ops, size_t n)
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
	if (transport_start_batch(s, OP_RECV, &op, 1) == -1)
		transport_stream_fail(s, "cannot start receiving");
}

/*
 * Starts the next queued message, live before bulk, unless one is in
 * flight.  All but the last queued message go with GRPC_WRITE_BUFFER_HINT,
 * which lets gRPC coalesce writes; the last must go without it or it may
 * sit unflushed.
 */
static void
send_next(struct transport_stream *s)
{
	grpc_op op;
	struct msg *m;

	if (s->state != ST_OPEN || s->sending != NULL)
		return;
	if ((m = STAILQ_FIRST(&s->queue)) != NULL)
		STAILQ_REMOVE_HEAD(&s->queue, entry);
	else if ((m = STAILQ_FIRST(&s->bulk)) != NULL)
		STAILQ_REMOVE_HEAD(&s->bulk, entry);
	else
		return;
	s->sending = m;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.flags = STAILQ_EMPTY(&s->queue) && STAILQ_EMPTY(&s->bulk) ? 0 :
	    GRPC_WRITE_BUFFER_HINT;
	op.data.send_message.send_message = m->bb;
	if (transport_start_batch(s, OP_SEND, &op, 1) == -1)
		transport_stream_fail(s, "cannot start sending");
}

static void
msg_free(struct msg *m)
{
	grpc_byte_buffer_destroy(m->bb);
	free(m);
}

/* Frees what waits in both queues (nothing in flight); their bytes. */
static size_t
drop_queued(struct transport_stream *s)
{
	struct msg *m;
	size_t n = 0;

	while ((m = STAILQ_FIRST(&s->queue)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->queue, entry);
		n += m->len;
		msg_free(m);
	}
	while ((m = STAILQ_FIRST(&s->bulk)) != NULL) {
		STAILQ_REMOVE_HEAD(&s->bulk, entry);
		n += m->len;
		msg_free(m);
	}
	return n;
}

/* ---- stream life ---- */

struct transport_stream *
transport_stream_new(struct transport *t, int inbound)
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
	STAILQ_INIT(&s->bulk);
	grpc_metadata_array_init(&s->md_initial);
	grpc_metadata_array_init(&s->md_trailing);
	s->status_details = grpc_empty_slice();
	TAILQ_INSERT_TAIL(&t->streams, s, entry);
	return s;
}

static void
stream_free(struct transport_stream *s)
{
	CHECK(s->pending == 0 && s->sending == NULL && s->recv_bb == NULL);
	(void)drop_queued(s);
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
void
transport_stream_fail(struct transport_stream *s, const char *reason)
{
	if (reason != NULL && s->reason[0] == '\0')
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (s->state >= ST_CLOSING)
		return;
	s->state = ST_CLOSING;
	s->queued -= drop_queued(s);
	/* A server's status reaches the client, which logs it as the reason. */
	grpc_call_cancel_with_status(s->call,
	    s->inbound ? GRPC_STATUS_UNAVAILABLE : GRPC_STATUS_CANCELLED,
	    s->reason[0] != '\0' ? s->reason : "link closed", NULL);
}

/* A CLOSING stream whose batches have all completed goes to reap_cb. */
void
transport_stream_check(struct transport_stream *s)
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
	s = transport_stream_new(t, 1);
	s->call = t->accept_call;
	t->accept_call = NULL;
	transport_accept_call(t);
	{
		/* "ipv4:127.0.0.1:5000": whom the logs of a refused or
		 * failed inbound link name before we know its id. */
		char *peer = grpc_call_get_peer(s->call);

		s->address = xstrdup(peer != NULL ? peer : "");
		gpr_free(peer);
	}

	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (transport_start_batch(s, OP_START, ops, 1) == -1)
		goto refuse;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[0].data.recv_close_on_server.cancelled = &s->cancelled;
	if (transport_start_batch(s, OP_STATUS, ops, 1) == -1)
		goto refuse;
	if (t->stopping) {
		snprintf(why, sizeof(why), "transport shutting down");
		goto fail;
	}
	if (peer_identity(s->call, s->peer_id, sizeof(s->peer_id), &s->peer_cert,
	    why, sizeof(why)) == -1) {
		log_event(LOG_WARN, "transport: inbound link refused",
		    "{s:s, s:s}", "address", s->address, "reason", why);
		goto fail;
	}
	start_recv(s);
	if (s->state == ST_OPEN)
		call_opened(s);
	return;
refuse:
	snprintf(why, sizeof(why), "cannot answer the call");
fail:
	/* With no batch in flight (the first refused), nothing completes to
	 * reap the stream: check it here. */
	transport_stream_fail(s, why);
	transport_stream_check(s);
}

void
transport_accept_call(struct transport *t)
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
			transport_stream_fail(s, NULL);
		return;
	}
	if (!ok) {
		transport_stream_fail(s, NULL);	/* the status says why */
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
		transport_stream_fail(s, why);
		return;
	}
	if (strcmp(id, s->peer_id) != 0) {
		snprintf(why, sizeof(why), "server certificate names %s", id);
		log_event(LOG_WARN, "transport: outbound link refused",
		    "{s:s, s:s, s:s}", "address", s->address,
		    "expected", s->peer_id, "reason", why);
		transport_stream_fail(s, why);
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
	transport_stream_fail(s, why);
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
		transport_stream_fail(s, NULL);
		grpc_byte_buffer_destroy(bb);
		return;
	}
	if (read_message(t, bb, &slice, why, sizeof(why)) != 0) {
		grpc_byte_buffer_destroy(bb);
		transport_stream_fail(s, why);
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

/*
 * The queue fell back to the low-water mark after passing it: tells the
 * caller once, so a sender that holds back until the link has sent what
 * it queued (a catch-up in turns) goes on at the link's pace, not a
 * timer's.  After send_next(), so the link is busy while it decides.
 */
static void
check_drained(struct transport_stream *s)
{
	struct transport *t = s->t;

	if (!s->above_low || s->queued > t->low_water || s->state != ST_OPEN)
		return;
	s->above_low = 0;
	if (t->cb.drained == NULL)
		return;
	t->in_callback++;
	t->cb.drained(s, t->arg);
	t->in_callback--;
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
		transport_stream_fail(s, NULL);
		return;
	}
	send_next(s);
	check_drained(s);
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
	transport_stream_check(s);
}

/* Runs what the pump handed over, in order. */
void
transport_run_ready(struct transport *t)
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

void
transport_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	transport_run_ready(arg);
}

void
transport_reap(struct transport *t)
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

void
transport_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	transport_reap(arg);
}

static int
enqueue(struct transport_stream *s, const uint8_t *buf, size_t len, int bulk)
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
	if (bulk)
		STAILQ_INSERT_TAIL(&s->bulk, m, entry);
	else
		STAILQ_INSERT_TAIL(&s->queue, m, entry);
	s->queued += len;
	if (s->queued > t->low_water)
		s->above_low = 1;
	send_next(s);
	return 0;
}

int
transport_send(struct transport_stream *s, const uint8_t *buf, size_t len)
{
	return enqueue(s, buf, len, 0);
}

int
transport_send_bulk(struct transport_stream *s, const uint8_t *buf, size_t len)
{
	return enqueue(s, buf, len, 1);
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

const char *
transport_address(const struct transport_stream *s)
{
	return s->address != NULL ? s->address : "";
}

void
transport_close(struct transport_stream *s)
{
	transport_stream_fail(s, "closed locally");
	transport_stream_check(s);
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
