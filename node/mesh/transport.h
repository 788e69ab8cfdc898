/*
 * The mesh transport: mutual-TLS gRPC bidirectional streams (the Mesh.Link
 * call of proto/mesh.proto) carrying opaque messages.  Every gRPC core call
 * of the node lives behind this interface, so a gRPC upgrade touches
 * transport.c only.
 *
 * One struct transport per process serves the Mesh service (optional),
 * dials peers and owns one completion queue and the thread that pumps it.
 * Everything here is called on the loop thread of the event_base given to
 * transport_new(), and every callback runs on it; gRPC's own threads never
 * reach the caller.  The program must call evthread_use_pthreads() before
 * event_base_new().
 *
 * Identity: the server requires a client certificate issued by the mesh CA;
 * a client accepts a server only if its certificate is from the mesh CA and
 * names the node id it expected.  Either way the peer's id is the single DNS
 * SAN of its verified certificate (a certificate with none or several is
 * refused).
 *
 * A stream's life: transport_dial() (outbound) or an accepted call
 * (inbound) → opened() once the peer is verified → message() for each
 * message received, in order → closed() exactly once, after which the
 * stream is freed.  A stream that fails before it is verified gets closed()
 * without opened().  Streams are freed by the transport only; a
 * struct transport_stream pointer is valid until closed() returns.
 */
#ifndef AGENTFLOW_TRANSPORT_H
#define AGENTFLOW_TRANSPORT_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

struct transport;
struct transport_stream;

struct transport_config {
	/* "HOST:PORT" to serve the Mesh service on (port 0: any), or NULL to
	 * dial only. */
	const char	*listen;
	/* PEM strings, borrowed for the transport_new() call: the mesh CA,
	 * our certificate and our private key. */
	const char	*ca_pem;
	const char	*cert_pem;
	const char	*key_pem;
	/* HTTP/2 keepalive ping interval and timeout; a silent dead peer is
	 * noticed within about twice this.  0: 1000. */
	int		 keepalive_ms;
	/* Bound on a dial's TCP connect + TLS handshake, and on an inbound
	 * handshake.  0: 5000. */
	int		 connect_timeout_ms;
	/* Per-stream bound on bytes accepted by transport_send() and not yet
	 * handed to gRPC.  0: 8 MiB. */
	size_t		 max_queue_bytes;
	/* Largest message sent or received; a peer sending more has its
	 * stream closed.  0: 4 MiB (frame_codec's limit).  A message a peer
	 * compressed (gzip or deflate, both accepted) is held to it after
	 * inflating. */
	size_t		 max_message;
	/* The grpc_compression_algorithm for what this transport sends.
	 * Nodes send uncompressed (0); a test plays a peer that compresses. */
	int		 send_compression;
	/* A stream whose queue went above this many bytes and has fallen
	 * back to it or below gets drained().  0: 1 MiB. */
	size_t		 low_water_bytes;
};

/* All run on the loop thread.  A callback may call transport_send(),
 * transport_close() and transport_dial(), never transport_free(). */
struct transport_callbacks {
	/* Inbound call accepted, or outbound call answered; the peer id is
	 * known and verified. */
	void	(*opened)(struct transport_stream *, void *arg);
	/* One message; buf is valid during the call only. */
	void	(*message)(struct transport_stream *, const uint8_t *buf,
		    size_t len, void *arg);
	/* The last call for this stream: every dialed stream gets it, opened
	 * or not, and every inbound stream that was opened (the caller never
	 * sees one refused before).  The stream is freed when this returns.
	 * reason says why, for a log line. */
	void	(*closed)(struct transport_stream *, const char *reason,
		    void *arg);
	/* The stream's queue (transport_queued()) was above low_water_bytes
	 * and has fallen to it or below, so a sender that held back (a
	 * catch-up in turns) may queue more.  Once per crossing, on an open
	 * stream only.  NULL: nobody listens. */
	void	(*drained)(struct transport_stream *, void *arg);
};

/*
 * Initialises gRPC, and starts serving when config->listen is set.  cb is
 * copied; arg is passed to every callback.  Returns NULL with a message in
 * err when a PEM string is refused or the address cannot be bound.
 */
struct transport *transport_new(struct event_base *,
    const struct transport_config *, const struct transport_callbacks *,
    void *arg, char *err, size_t errlen);

/*
 * Cancels every stream (each gets closed() before this returns), shuts the
 * server and gRPC down in the order gRPC needs, and frees everything.  When
 * it frees the process's last transport it also waits (at most a few
 * seconds) until gRPC has finished its own shutdown, so a leak checker sees
 * a clean exit.  Not from within a callback.  NULL is a no-op.
 */
void transport_free(struct transport *);

/* The port the server is bound to, or 0 when not serving. */
int transport_port(const struct transport *);

/*
 * Opens a Link stream to address ("HOST:PORT") whose server certificate
 * must name expected_id.  Always returns a stream (both strings are
 * copied), whose opened() or closed() follows; NULL only when the
 * transport is being freed or expected_id is not a valid node id.
 * Messages may be sent at once: they are queued until the stream is open.
 */
struct transport_stream *transport_dial(struct transport *,
    const char *address, const char *expected_id);

/*
 * Queues a copy of len bytes as one message.  Returns 0, or -1 when the
 * stream is closing, len exceeds max_message, or the queue would exceed
 * max_queue_bytes: the peer cannot keep up and the caller should reset
 * the link (transport_close()) and resynchronise on a new one.
 */
int transport_send(struct transport_stream *, const uint8_t *buf, size_t len);

/*
 * The same for bulk (a catch-up's history): queued behind every message
 * transport_send() queues, before or after, that gRPC does not hold yet,
 * so bulk delays a live message by at most the one message in flight.
 * Bulk messages keep their own order; the bound is shared.
 */
int transport_send_bulk(struct transport_stream *, const uint8_t *buf,
    size_t len);

/* Bytes accepted by transport_send() whose sending has not completed;
 * drained() says when it falls back to the low-water mark. */
size_t transport_queued(const struct transport_stream *);

/* Totals since start: message bytes (our frames, before gRPC framing and
 * TLS) and counts; bytes queued on all streams now; streams open. */
struct transport_stats {
	uint64_t	bytes_in, bytes_out;
	uint64_t	messages_in, messages_out;
	size_t		queued_bytes;
	size_t		streams;
};
void transport_stats(const struct transport *, struct transport_stats *);

/*
 * The peer's node id from its verified certificate: valid from opened()
 * until the stream is freed; for an outbound stream not yet opened, the
 * expected id.
 */
const char *transport_peer_id(const struct transport_stream *);
/* PEM of the peer's verified leaf certificate once opened (NULL before),
 * valid as long as the stream, for checks gRPC does not make (our CRL). */
const char *transport_peer_cert(const struct transport_stream *);

/* 1 for a stream the peer dialed, 0 for one we dialed. */
int transport_is_inbound(const struct transport_stream *);
/* For logs: the address we dialed ("host:port"), or gRPC's name of the
 * caller's ("ipv4:10.0.0.2:40312"); "" if unknown.  Valid as long as the
 * stream. */
const char *transport_address(const struct transport_stream *);

/*
 * Cancels the stream; closed() follows from the loop (never from within
 * this call).  A no-op on a stream already closing.
 */
void transport_close(struct transport_stream *);

/* A pointer the caller attaches to a stream; the transport never reads it. */
void transport_set_data(struct transport_stream *, void *);
void *transport_get_data(const struct transport_stream *);

#endif
