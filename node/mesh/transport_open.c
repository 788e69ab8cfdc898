/*
 * The transport's life (see transport.h, transport_priv.h): gRPC started
 * and stopped, the server listening, a link dialed, and the channel
 * arguments both sides of a link share.  transport.c runs the streams.
 */
#include <errno.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "log.h"
#include "node_id.h"
#include "transport_priv.h"
#include "xalloc.h"

/*
 * gRPC's initialisation is process-wide and reference-counted; the count
 * of live transports tells transport_free() whether it dropped the last
 * reference and should wait for gRPC's threads to finish.  This is the
 * module's one global, mirroring a global that gRPC itself keeps.
 */
static atomic_int live_transports;

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

/*
 * The arguments both ends of a link share into a (LINK_ARGS of them):
 * keepalive, the flow-control window, message limits and compression.
 */
#define LINK_ARGS	11
static void
link_args(const struct transport *t, grpc_arg *a)
{
	size_t n = 0;

	/*
	 * Keepalive keeps an idle NAT or firewall mapping open; the links'
	 * own pings notice a dead or frozen peer (links.c).  Its watchdog is
	 * where gRPC 1.51 ran a freed or twice-run closure on its timer
	 * thread when a loaded host answered pings late (100 nodes starting
	 * on two cores, keepalive 5 s: 8 of 73 nodes crashed; 60 s: none),
	 * hence the node's 30 s default.
	 */
	a[n++] = arg_int(GRPC_ARG_KEEPALIVE_TIME_MS, t->keepalive_ms);
	a[n++] = arg_int(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, t->keepalive_ms);
	a[n++] = arg_int(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
	a[n++] = arg_int(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
	/* No BDP pings (an extra frame, timer and wakeup per burst
	 * received: 10-15 % of an idle node's CPU in a 20-node mesh); the
	 * fixed window is large enough for a 4 MiB snapshot over a long
	 * home uplink instead. */
	a[n++] = arg_int(GRPC_ARG_HTTP2_BDP_PROBE, 0);
	a[n++] = arg_int(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, STREAM_WINDOW);
	a[n++] = arg_int(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
	    clamp_int(t->max_message));
	a[n++] = arg_int(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
	    clamp_int(t->max_message));
	/* Accept what a peer compressed with gRPC's standard gzip or
	 * deflate, inflated by read_message() within max_message, never by
	 * gRPC (unbounded). */
	a[n++] = arg_int(GRPC_COMPRESSION_CHANNEL_ENABLED_ALGORITHMS_BITSET,
	    ACCEPTED_COMPRESSION);
	a[n++] = arg_int(GRPC_ARG_ENABLE_PER_MESSAGE_DECOMPRESSION, 0);
	a[n++] = arg_int(GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM,
	    t->send_compression);
	CHECK(n == LINK_ARGS);
}

static int
start_server(struct transport *t, const struct transport_config *c,
    char *err, size_t errlen)
{
	grpc_ssl_pem_key_cert_pair pair = { c->key_pem, c->cert_pem };
	grpc_arg a[LINK_ARGS + 5] = {
		arg_int(GRPC_ARG_ALLOW_REUSEPORT, 0),
		/* Consent to the clients' keepalive pings, with margin
		 * for timer jitter; no strikes, so never "too many pings". */
		arg_int(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
		    t->keepalive_ms / 2),
		arg_int(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0),
		arg_int(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, t->connect_ms),
		/* A link is one call on its own connection; a few more
		 * cover a peer redialing before its old call ended. */
		arg_int(GRPC_ARG_MAX_CONCURRENT_STREAMS, 8),
	};
	grpc_channel_args args = { sizeof(a) / sizeof(a[0]), a };

	link_args(t, a + 5);
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
	transport_accept_call(t);
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
	t->low_water = c->low_water_bytes ? c->low_water_bytes :
	    DEFAULT_LOW_WATER;
	t->max_message = c->max_message ? c->max_message : DEFAULT_MAX_MESSAGE;
	t->send_compression = c->send_compression;
	t->accept_op.kind = OP_ACCEPT;
	t->shutdown_op.kind = OP_SHUTDOWN;
	TAILQ_INIT(&t->streams);
	TAILQ_INIT(&t->dead);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->ready_ev = event_new(base, -1, 0, transport_ready_cb, t);
	t->reap_ev = event_new(base, -1, 0, transport_reap_cb, t);

	gpr_set_log_function(transport_grpc_log);
	grpc_init();
	atomic_fetch_add(&live_transports, 1);
	t->cq = grpc_completion_queue_create_for_next(NULL);
	if (pthread_create(&t->pump, NULL, transport_pump_main, t) != 0) {
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
	grpc_arg a[LINK_ARGS + 5] = {
		arg_str(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, expected_id),
		arg_int(GRPC_ARG_ENABLE_RETRIES, 0),
		/* One connection per link: a reset link is a new TCP
		 * connection, not a stream on a shared, possibly stuck one. */
		arg_int(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1),
		/* Bounds connect + handshake (gRPC's default is 20 s). */
		arg_int(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, t->connect_ms),
		/* An http_proxy in the environment must not carry links. */
		arg_int(GRPC_ARG_ENABLE_HTTP_PROXY, 0),
	};
	grpc_channel_args args = { sizeof(a) / sizeof(a[0]), a };

	if (t->stopping || expected_id == NULL ||
	    !node_id_valid(expected_id, strlen(expected_id)))
		return NULL;
	s = transport_stream_new(t, 0);
	snprintf(s->peer_id, sizeof(s->peer_id), "%s", expected_id);
	s->address = xstrdup(address);
	link_args(t, a + 5);
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
	if (transport_start_batch(s, OP_START, ops, 2) == -1)
		goto fail;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &s->md_trailing;
	ops[0].data.recv_status_on_client.status = &s->status;
	ops[0].data.recv_status_on_client.status_details = &s->status_details;
	ops[0].data.recv_status_on_client.error_string = &s->error_string;
	if (transport_start_batch(s, OP_STATUS, ops, 1) == -1)
		goto fail;
	return s;
fail:
	/* closed() follows from the loop, as for any failed dial. */
	transport_stream_fail(s, "cannot start the call");
	transport_stream_check(s);
	return s;
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
		transport_stream_fail(s, "transport shutting down");
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
			transport_stream_check(s);
		}
		transport_reap(t);
		if (TAILQ_EMPTY(&t->streams) && !t->shutdown_pending &&
		    !t->accept_pending)
			break;
		wait_ready(t);
		transport_run_ready(t);
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
