/*
 * agentflow-signal: the mesh's rendezvous.  Parses configuration, loads the
 * CA, binds the listener (HTTP, or HTTPS through mbedTLS), runs the loop
 * until SIGINT/SIGTERM and shuts down cleanly.  Only this file exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostport.h"
#include "http_guard.h"
#include "http_json.h"
#include "log.h"
#include "opts.h"
#include "signal_api.h"
#include "tls_server.h"
#include "trust.h"
#include "ws_policy.h"

#define OPT(field) offsetof(struct signal_config, field)

static const struct opt options[] = {
	{ "listen", OPT_STRING, OPT(listen), "127.0.0.1:7000", 0, 0,
	  "address and port to serve on (HOST:PORT, [V6]:PORT; port 0 picks a free one)" },
	{ "ca", OPT_STRING, OPT(ca), NULL, 0, 0,
	  "mesh CA certificate (PEM); registrations must chain to it (required)" },
	{ "crl", OPT_STRING, OPT(crl), NULL, 0, 0,
	  "CRL of the mesh CA (PEM or DER); re-read when the file changes" },
	{ "tls-cert", OPT_STRING, OPT(tls_cert), NULL, 0, 0,
	  "serve HTTPS with this certificate (PEM, may include the chain)" },
	{ "tls-key", OPT_STRING, OPT(tls_key), NULL, 0, 0,
	  "private key of --tls-cert (PEM)" },
	{ "plain-http", OPT_BOOL, OPT(plain_http), "0", 0, 1,
	  "allow plain HTTP on a non-loopback address (only behind a TLS ingress)" },
	{ "trust-proxy", OPT_BOOL, OPT(trust_proxy), "0", 0, 1,
	  "take the observed address from the last X-Forwarded-For entry" },
	{ "ttl", OPT_INT, OPT(ttl_s), "30", 1, 86400,
	  "seconds without a heartbeat before a node is evicted" },
	{ "heartbeat", OPT_INT, OPT(heartbeat_s), "10", 1, 86400,
	  "heartbeat interval told to nodes, in seconds" },
	{ "sweep-ms", OPT_INT, OPT(sweep_ms), "1000", 10, 60000,
	  "how often expired nodes are evicted, in milliseconds" },
	{ "max-nodes", OPT_INT, OPT(max_nodes), "16384", 1, 1000000,
	  "most nodes the table holds" },
	{ "max-body", OPT_INT, OPT(max_body), "16384", 1024, 1048576,
	  "largest request body accepted, in bytes" },
	{ "max-addresses", OPT_INT, OPT(max_addresses), "8", 0, 64,
	  "most addresses one node may advertise" },
	{ "max-labels", OPT_INT, OPT(max_labels), "16", 0, 256,
	  "most labels one node may carry" },
	{ "rate", OPT_INT, OPT(rate), "50", 0, 1000000,
	  "requests per second allowed from one source address (0: no limit)" },
	{ "burst", OPT_INT, OPT(burst), "100", 1, 1000000,
	  "requests one source address may make at once" },
	{ "skew", OPT_INT, OPT(skew_s), "300", 1, 86400,
	  "largest difference between a registration's timestamp and our clock, in seconds" },
	{ "verify-threads", OPT_INT, OPT(verify_threads), "0", 0, 64,
	  "threads verifying registration signatures (0: one per CPU)" },
	{ "log-level", OPT_STRING, OPT(log_level), "info", 0, 0,
	  "debug, info, warn or error" },
	{ "cors-origins", OPT_STRING, OPT(cors_origins), NULL, 0, 0,
	  "browser origins (scheme://host[:port], comma-separated) allowed to "
	  "call the API cross-site; default none: no CORS headers" },
	{ "header-timeout-ms", OPT_INT, OPT(header_timeout_ms), "10000", 100,
	  600000, "a client has this long to send a whole request (headers and "
	  "body) after connecting or after the last answer on its connection; "
	  "then the connection is closed" },
	{ "max-per-address", OPT_INT, OPT(max_per_address), "64", 1, 100000,
	  "connections one client address may hold open at once; more are "
	  "closed at once" },
};

static const char usage[] =
    "usage: agentflow-signal --ca FILE [options]\n\n"
    "The AgentFlow rendezvous: nodes register (signed with their certificate),\n"
    "heartbeat, list each other and leave.  See signal/API.md.";

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_event(LOG_INFO, "shutting down", "{s:i}", "signal", (int)sig);
	event_base_loopexit(arg, NULL);
}

static int
bound_port(struct evhttp_bound_socket *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd = evhttp_bound_socket_get_fd(h);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * When accept() fails (typically out of file descriptors), evhttp's
 * listener would spin: pause accepting for a second instead.  The error
 * callback's argument is evhttp's own, so the pause is a one-shot event.
 */
static void
resume_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void
accept_error_cb(struct evconnlistener *listener, void *arg)
{
	(void)arg;
	log_event(LOG_WARN, "accept failed; pausing new connections for 1 s",
	    "{s:s}", "error", strerror(errno));
	evconnlistener_disable(listener);
	event_base_once(evconnlistener_get_base(listener), -1, EV_TIMEOUT,
	    resume_accept_cb, listener, &(struct timeval){ 1, 0 });
}

/* Sets everything up, runs the loop, tears down.  Every exit path frees
 * what it made, so a failed start is as clean as a stop. */
static int
serve(struct signal_config *cfg, const char *host, unsigned short port)
{
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *bound;
	struct signal_api *api = NULL;
	struct tls_server *tls = NULL;
	struct http_guard *guard = NULL;
	struct http_guard_config gc = { cfg->header_timeout_ms,
	    cfg->max_per_address, "signal" };
	struct trust *trust;
	struct event *sigint = NULL, *sigterm = NULL;
	char err[512];
	int rc = 1;

	if ((trust = trust_new(cfg->ca, cfg->crl, err, sizeof(err))) == NULL) {
		fprintf(stderr, "agentflow-signal: %s\n", err);
		return 1;
	}
	if ((base = event_base_new()) == NULL || (http = evhttp_new(base)) == NULL) {
		fprintf(stderr, "agentflow-signal: cannot create the event loop\n");
		trust_free(trust);
		goto out;
	}
	/* evhttp answers bodies far above our limit itself (413, in HTML) so a
	 * client cannot make us buffer megabytes; up to that we answer in JSON. */
	evhttp_set_max_body_size(http, cfg->max_body * 4);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, 30);
	/* TRACE, CONNECT and unknown methods too: we answer them in JSON. */
	http_allow_every_method(http);
	if (cfg->tls_cert != NULL &&
	    (tls = tls_server_new(base, http, cfg->tls_cert, cfg->tls_key, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "agentflow-signal: %s\n", err);
		trust_free(trust);
		goto out;
	}
	guard = http_guard_new(base, http, &gc, tls ? tls_server_bevcb : NULL, tls);
	/* From here on the API owns trust. */
	if ((api = signal_api_new(base, http, cfg, trust, err, sizeof(err))) == NULL) {
		fprintf(stderr, "agentflow-signal: %s\n", err);
		goto out;
	}
	signal_api_set_guard(api, guard);
	if ((bound = evhttp_bind_socket_with_handle(http, host, port)) == NULL) {
		fprintf(stderr, "agentflow-signal: cannot listen on %s: %s\n",
		    cfg->listen, strerror(errno));
		goto out;
	}
	evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bound),
	    accept_error_cb);
	log_event(LOG_INFO, "listening", "{s:s, s:i, s:s, s:s}", "address", host,
	    "port", bound_port(bound), "scheme", tls ? "https" : "http",
	    "version", AGENTFLOW_VERSION);

	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	event_base_dispatch(base);
	rc = 0;
out:
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	/* Before evhttp_free: registrations being verified hold its requests. */
	signal_api_free(api);
	if (http != NULL)
		evhttp_free(http);
	http_guard_free(guard);
	tls_server_free(tls);
	if (base != NULL)
		event_base_free(base);
	if (rc == 0)
		log_event(LOG_INFO, "stopped", NULL);
	return rc;
}

int
main(int argc, char **argv)
{
	struct signal_config cfg;
	enum log_level level;
	char err[512], host[256];
	int port;

	memset(&cfg, 0, sizeof(cfg));
	switch (opts_parse(options, sizeof(options) / sizeof(options[0]), &cfg,
	    argc, argv, usage, NULL, err, sizeof(err))) {
	case OPTS_HELP:
		return 0;
	case OPTS_ERROR:
		fprintf(stderr, "agentflow-signal: %s (see --help)\n", err);
		return 2;
	case OPTS_OK:
		break;
	}
	if (log_level_parse(cfg.log_level, &level) != 0) {
		fprintf(stderr, "agentflow-signal: --log-level: \"%s\" is not one of "
		    "debug, info, warn, error\n", cfg.log_level);
		return 2;
	}
	log_init("signal", level);
	if (cfg.ca == NULL) {
		fprintf(stderr, "agentflow-signal: --ca (or AGENTFLOW_CA) is required: "
		    "the mesh CA certificate registrations must chain to\n");
		return 2;
	}
	/* An empty value (AGENTFLOW_TLS_CERT= in a container) means unset. */
	if (cfg.tls_cert != NULL && cfg.tls_cert[0] == '\0')
		cfg.tls_cert = NULL;
	if (cfg.tls_key != NULL && cfg.tls_key[0] == '\0')
		cfg.tls_key = NULL;
	if ((cfg.tls_cert == NULL) != (cfg.tls_key == NULL)) {
		fprintf(stderr, "agentflow-signal: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cfg.cors_origins != NULL && cfg.cors_origins[0] == '\0')
		cfg.cors_origins = NULL;
	if (ws_policy_check_origin_list("--cors-origins", cfg.cors_origins, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "agentflow-signal: %s\n", err);
		return 2;
	}
	if (hostport_split(cfg.listen, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "agentflow-signal: --listen \"%s\" is not HOST:PORT\n",
		    cfg.listen);
		return 2;
	}
	if (cfg.tls_cert == NULL && !cfg.plain_http &&
	    !hostport_is_loopback(host)) {
		fprintf(stderr, "agentflow-signal: refusing plain HTTP on non-loopback "
		    "address %s: session tokens would cross the network in clear "
		    "text; give --tls-cert/--tls-key, or --plain-http when a TLS "
		    "ingress terminates in front of the signal\n", host);
		return 2;
	}
	if (cfg.verify_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg.verify_threads = n < 1 ? 1 : n > 64 ? 64 : n;
	}
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	return serve(&cfg, host, (unsigned short)port);
}
