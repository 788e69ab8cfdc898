/*
 * agentflow-node: one member of the mesh.  This file reads its
 * configuration (flags, AGENTFLOW_* environment, optional config file) and
 * hands it to node.c, which takes the identity from the certificate, opens
 * the data directory, serves the Mesh service over mutual TLS, finds the
 * peers through the signal(s) and the stored list, links to them, and
 * serves the local API.  SIGINT/SIGTERM leave the signal and the mesh
 * gracefully.  Only this file exits.
 */
#include <event2/thread.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config_file.h"
#include "log.h"
#include "node.h"
#ifdef AGENTFLOW_TEST_HOOKS
#include "test_hooks.h"
#endif
#include "opts.h"
#include "tasks.h"

#define OPT(field) offsetof(struct node_config, field)

static const struct opt options[] = {
	{ "config", OPT_STRING, OPT(config), NULL, 0, 0,
	  "configuration file of \"flag-name = value\" lines (flags and environment win)" },
	{ "data-dir", OPT_STRING, OPT(data_dir), "./agentflow-data", 0, 0,
	  "directory for the node's database; one node per directory (a second exits)" },
	{ "ca", OPT_STRING, OPT(ca), NULL, 0, 0, "mesh CA certificate (PEM; required)" },
	{ "crl", OPT_STRING, OPT(crl), NULL, 0, 0,
	  "CRL of the mesh CA (PEM or DER): links of revoked peers are refused "
	  "and closed; re-read when the file changes" },
	{ "cert", OPT_STRING, OPT(cert), NULL, 0, 0,
	  "this node's certificate (PEM; required): its CN is the node id" },
	{ "key", OPT_STRING, OPT(key), NULL, 0, 0, "this node's private key (PEM; required)" },
	{ "listen", OPT_STRING, OPT(listen), "0.0.0.0:50051", 0, 0,
	  "address of the mesh (gRPC, mutual TLS) service; port 0 picks one" },
	{ "advertise", OPT_STRING, OPT(advertise), "", 0, 0,
	  "comma-separated HOST:PORTs peers should dial (empty: the address the "
	  "signal sees, with the --listen port)" },
	{ "labels", OPT_STRING, OPT(labels), "", 0, 0,
	  "comma-separated KEY=VALUE labels, e.g. role=storage,site=home" },
	{ "signal", OPT_STRING, OPT(signal), "", 0, 0,
	  "comma-separated signal URLs (http:// or https://); empty: stored peers only" },
	{ "signal-ca", OPT_STRING, OPT(signal_ca), NULL, 0, 0,
	  "CA bundle to verify https:// signals (default: the system's CAs)" },
	{ "api", OPT_STRING, OPT(api), "127.0.0.1:8080", 0, 0,
	  "address of the local HTTP API; port 0 picks one" },
	{ "max-links", OPT_INT, OPT(max_links), "0", 0, 1024,
	  "link to at most this many peers (ring neighbours); 0: to every peer. "
	  "The rest of the mesh is reached through forwarding" },
	{ "ping-ms", OPT_INT, OPT(ping_ms), "3000", 100, 60000,
	  "application ping period on each link (RTT and liveness: a link "
	  "silent for two periods and a second is closed)" },
	{ "dead-ms", OPT_INT, OPT(dead_ms), "10000", 1000, 3600000,
	  "a peer unreachable this long is marked dead (counted from the last "
	  "frame heard from it)" },
	{ "prune-after", OPT_DURATION, OPT(prune_after_s), "7d", 0, 315360000,
	  "a node dead this long is forgotten, as by agentflow forget: seconds, "
	  "or a number with s, m, h, d or w; 0: never" },
	{ "keepalive-ms", OPT_INT, OPT(keepalive_ms), "30000", 100, 60000,
	  "HTTP/2 keepalive on links, for idle NATs and firewalls (a link silent "
	  "for two ping periods and a second is closed anyway)" },
	{ "status-ms", OPT_INT, OPT(status_ms), "1000", 100, 3600000,
	  "how often the node samples its status; it goes out at each sample "
	  "while a dashboard is open on any node, else when it changed or "
	  "every --status-idle-ms" },
	{ "status-idle-ms", OPT_INT, OPT(status_idle_ms), "30000", 0, 3600000,
	  "with no dashboard open anywhere, a status that did not change goes "
	  "out this often; 0: every sample, on every node while this one is "
	  "in the mesh, as before pacing" },
	{ "workflow-takeover-ms", OPT_INT, OPT(workflow_takeover_ms), "30000",
	  5000, 86400000, "a workflow's coordinator not alive and silent this "
	  "long is taken over by another node that sees a majority" },
	{ "events-kept", OPT_INT, OPT(events_kept), "100000", 100, 100000000,
	  "events the local log keeps; over it, each origin is held to a fair "
	  "share and loses its oldest first" },
	{ "events-kept-mib", OPT_INT, OPT(events_kept_mib), "256", 1, 1048576,
	  "MiB of event bodies the local log keeps, shared among origins as "
	  "--events-kept is" },
	{ "retain-tasks", OPT_INT, OPT(retain_tasks), "10000", 10, 100000000,
	  "task records kept (finished ones dropped first, with their logs)" },
	{ "retain-log-lines", OPT_INT, OPT(retain_log_lines), "1000000", 100,
	  1000000000, "task log lines kept (oldest dropped first)" },
	{ "retain-commands", OPT_DURATION, OPT(retain_commands_s), "30d", 3600,
	  315360000, "how long command records, at-most-once ids and settled "
	  "jobs are kept: seconds, or a number with s, m, h, d or w" },
	{ "retain-jobs", OPT_DURATION, OPT(retain_jobs_s), "30d", 3600,
	  315360000, "how long settled jobs (succeeded, failed, cancelled, "
	  "expired, lost) and their history are kept: seconds, or a number "
	  "with s, m, h, d or w" },
	{ "audit-max-bytes", OPT_INT, OPT(audit_max_bytes), "67108864", 0,
	  1099511627776, "audit.jsonl is rotated to audit.jsonl.1 before it "
	  "grows past this (0: never)" },
	{ "audit-keep", OPT_INT, OPT(audit_keep), "10", 1, 10000,
	  "rotated audit files kept (audit.jsonl.1 the newest; older ones are "
	  "removed and their records leave the index)" },
	{ "log-level", OPT_STRING, OPT(log_level), "info", 0, 0,
	  "debug, info, warn or error" },
	{ "tasks", OPT_STRING, OPT(tasks), "", 0, 0,
	  "JSON file of the tasks this node may run: {name: {command: [argv], cwd, "
	  "env, timeout_s, retries, retry_backoff_ms, concurrency, allow_args}}" },
	{ "services", OPT_STRING, OPT(services), "", 0, 0,
	  "JSON file of the services this node keeps running: {name: {command: "
	  "[argv], cwd, env, restart, restart_policy, checks, endpoints, ...}} "
	  "(docs/services.md); added to those it stores" },
	{ "dns", OPT_STRING, OPT(dns_listen), "", 0, 0,
	  "HOST:PORT (UDP) of a DNS responder answering NAME.service.agentflow "
	  "A, AAAA and SRV from the mesh's ready services (empty: none)" },
	{ "artifact-max-mib", OPT_INT, OPT(artifact_max_mib), "512", 1, 65536,
	  "largest artifact this node takes, uploaded or fetched (MiB); its "
	  "unpacked tree may be 8 times that" },
	{ "alerts", OPT_STRING, OPT(alerts), "", 0, 0,
	  "JSON file of alert rules (empty: the defaults; see README)" },
	{ "notify", OPT_STRING, OPT(notify), "", 0, 0,
	  "JSON file of the channels this node's alerts are sent to: webhooks, "
	  "ntfy, Gotify and e-mail (docs/operations.md, \"Notifications\"; "
	  "empty: none)" },
	{ "allow-adhoc", OPT_BOOL, OPT(allow_adhoc), "0", 0, 1,
	  "run ad-hoc command lines sent by the mesh, and take service "
	  "definitions from the API and the mesh (off: only named tasks and "
	  "--services)" },
	{ "max-running", OPT_INT, OPT(max_running), "4", 1, 1024,
	  "tasks running at once on this node (more wait queued)" },
	{ "command-timeout-ms", OPT_INT, OPT(command_timeout_ms), "30000", 100,
	  3600000, "how long a command waits for each node's answer when it has "
	  "no deadline" },
	{ "token-read", OPT_STRING, OPT(token_read), "", 0, 0,
	  "API read-only token (none given: tokens.json in the data directory, "
	  "generated on first start)" },
	{ "token-read-next", OPT_STRING, OPT(token_read_next), "", 0, 0,
	  "second read-only token, for rotation" },
	{ "token-write", OPT_STRING, OPT(token_write), "", 0, 0,
	  "API read-write token" },
	{ "token-write-next", OPT_STRING, OPT(token_write_next), "", 0, 0,
	  "second read-write token, for rotation" },
	{ "token-admin", OPT_STRING, OPT(token_admin), "", 0, 0,
	  "API admin token (freeze, unfreeze, forget, tokens); none given: "
	  "the write tokens are admin" },
	{ "token-admin-next", OPT_STRING, OPT(token_admin_next), "", 0, 0,
	  "second admin token, for rotation" },
	{ "web-root", OPT_STRING, OPT(web_root), "", 0, 0,
	  "directory of the built dashboard (frontend/dist); empty: found next "
	  "to the binary, else in the install's share/agentflow/web, or none" },
	{ "write-rate", OPT_INT, OPT(write_rate), "20", 1, 100000,
	  "API writes per second allowed per token (bursts of twice that)" },
	{ "allow-origins", OPT_STRING, OPT(allow_origins), "", 0, 0,
	  "comma-separated origins, e.g. http://nas.local:8080, whose pages may "
	  "open the live feed: the dashboard reached by a name rather than an "
	  "address (names are refused otherwise, against DNS rebinding)" },
	{ "ws-snapshot-bytes", OPT_INT, OPT(ws_snapshot_bytes), "1048576", 65536,
	  3145728, "how big a /ws snapshot may grow: past it older events "
	  "are left out, and an event bigger than 8 KiB goes as a summary "
	  "(at most 3 MiB: a client's backlog is closed past 4 MiB)" },
	{ "header-timeout-ms", OPT_INT, OPT(header_timeout_ms), "10000", 100,
	  600000, "an API client has this long to send a whole request "
	  "(headers and body) after connecting or after the last answer on "
	  "its connection; then the connection is closed" },
	{ "max-per-address", OPT_INT, OPT(max_per_address), "64", 1, 100000,
	  "API connections (WebSockets included) one client address may hold "
	  "open at once; more are closed at once" },
	{ "hello-timeout-ms", OPT_INT, OPT(hello_timeout_ms), "10000", 100,
	  600000, "a mesh stream whose peer sends no Hello this long after it "
	  "opened is closed" },
};

static const char usage[] =
    "usage: agentflow-node --ca FILE --cert FILE --key FILE [options]\n\n"
    "One member of the AgentFlow mesh.";

int
main(int argc, char **argv)
{
	struct node_config cfg;
	struct node *n;
	struct config_file *cf = NULL;
	enum log_level level;
	char err[512];
	int rc;

	/* The node's run guardian (tasks.h) is this binary, exec'd so. */
	if (argc == 2 && strcmp(argv[1], TASKS_GUARD_FLAG) == 0)
		return tasks_guard_main();
	/*
	 * Two malloc arenas, set before any thread starts: glibc opens up to
	 * 8 per core for gRPC's threads, and each keeps the free memory of
	 * the bursts it served.  At N=50 (--max-links 6) nodes with two had
	 * 0.9 MiB less private memory in the same run; CPU per delivery did
	 * not change at N=20 (issue 21: RSS <= 20 MiB).
	 */
#ifdef M_ARENA_MAX
	(void)mallopt(M_ARENA_MAX, 2);
#endif
	memset(&cfg, 0, sizeof(cfg));
	switch (config_file_opts_parse(options, sizeof(options) / sizeof(options[0]),
	    &cfg, argc, argv, usage, NULL, "config", &cf, err, sizeof(err))) {
	case OPTS_HELP:
		return 0;
	case OPTS_ERROR:
		fprintf(stderr, "agentflow-node: %s (see --help)\n", err);
		return 2;
	case OPTS_OK:
		break;
	}
	if (log_level_parse(cfg.log_level, &level) != 0) {
		fprintf(stderr, "agentflow-node: --log-level: \"%s\" is not one of "
		    "debug, info, warn, error\n", cfg.log_level);
		config_file_free(cf);
		return 2;
	}
	/* An empty value (AGENTFLOW_CRL= in a container) means unset. */
	if (cfg.crl != NULL && cfg.crl[0] == '\0')
		cfg.crl = NULL;
	if (cfg.signal_ca != NULL && cfg.signal_ca[0] == '\0')
		cfg.signal_ca = NULL;
	if (cfg.ca == NULL || cfg.cert == NULL || cfg.key == NULL) {
		fprintf(stderr, "agentflow-node: --ca, --cert and --key are required "
		    "(or AGENTFLOW_CA, AGENTFLOW_CERT, AGENTFLOW_KEY)\n");
		config_file_free(cf);
		return 2;
	}
	log_init("node", level);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	if ((n = node_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "agentflow-node: %s\n", err);
		rc = 1;
	} else {
#ifdef AGENTFLOW_TEST_HOOKS	/* tests/extra: test-only builds */
		test_hooks_start(n);
		node_run(n);
		test_hooks_stop();
#else
		node_run(n);
#endif
		node_free(n);
		log_event(LOG_INFO, "stopped", NULL);
		rc = 0;
	}
	config_file_free(cf);
	return rc;
}
