/*
 * The transport's insides, shared by its two files: transport.c (streams,
 * batches, the pump and its completions) and transport_open.c (channel
 * arguments, starting and stopping gRPC, the server, dialing).  Both are
 * the node's only callers of gRPC (transport.h); nothing else includes
 * this.
 */
#ifndef AGENTFLOW_TRANSPORT_PRIV_H
#define AGENTFLOW_TRANSPORT_PRIV_H

#include <event2/event.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "node_id.h"
#include "transport.h"

#define LINK_METHOD		"/agentflow.mesh.v1.Mesh/Link"
#define DEFAULT_KEEPALIVE_MS	1000
#define DEFAULT_CONNECT_MS	5000
#define DEFAULT_QUEUE_BYTES	(8u * 1024 * 1024)
#define DEFAULT_LOW_WATER	(1u * 1024 * 1024)	/* drained() below it */
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
	char			*address;	/* dialed, or the caller's; for logs */
	char			 peer_id[NODE_ID_MAX + 1];
	char			*peer_cert;	/* PEM of its verified certificate */
	char			 reason[REASON_MAX];
	void			*data;

	STAILQ_HEAD(, msg)	 queue;		/* waiting to be sent, before */
	STAILQ_HEAD(, msg)	 bulk;		/* waiting behind them */
	size_t			 queued;	/* bytes in queue + in flight */
	int			 above_low;	/* queued passed t->low_water: drained() due */
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
	size_t			 low_water;	/* drained() at or below it */
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

/* transport.c */
void transport_grpc_log(gpr_log_func_args *);
void *transport_pump_main(void *);
void transport_ready_cb(evutil_socket_t, short, void *);
void transport_reap_cb(evutil_socket_t, short, void *);
void transport_accept_call(struct transport *);
struct transport_stream *transport_stream_new(struct transport *, int inbound);
int transport_start_batch(struct transport_stream *, enum op_kind,
    const grpc_op *, size_t);
void transport_stream_fail(struct transport_stream *, const char *reason);
void transport_stream_check(struct transport_stream *);
void transport_reap(struct transport *);
void transport_run_ready(struct transport *);

#endif
