/*
 * The node's context: its configuration, identity and subsystems, built and
 * owned by node.c (node_new/node_free) and passed to the parts that need
 * more than one subsystem (the local API).  Loop-thread only, like
 * everything it points to.
 */
#ifndef AGENTFLOW_NODE_H
#define AGENTFLOW_NODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct alerts;
struct api;
struct api_auth;
struct audit;
struct collector;
struct history;
struct commands;
struct discovery;
struct event_base;
struct links;
struct mesh;
struct store;
struct sync;
struct trust;
struct transport;
struct tasks;
struct rng;
struct work;
struct ws_hub;
struct feed;
struct jobs;
struct workflows;
struct callbacks;
struct evdns_base;
struct job_runs;
struct schedules;
struct artifacts;
struct rollouts;
struct notify;

struct node_config {
	const char	*config;
	const char	*data_dir;
	const char	*ca;
	const char	*crl;
	const char	*cert;
	const char	*key;
	const char	*listen;
	const char	*advertise;
	const char	*labels;
	const char	*signal;
	const char	*signal_ca;
	const char	*api;
	const char	*log_level;
	long		 ping_ms;
	long		 dead_ms;
	long		 workflow_takeover_ms;	/* a coordinator gone this long */
	long		 prune_after_s;	/* dead this long: forgotten; 0 never */
	long		 keepalive_ms;
	long		 status_ms;
	long		 status_idle_ms;	/* unchanged status sent this often */
	long		 max_links;
	long		 events_kept;
	long		 events_kept_mib;
	long		 retain_tasks;		/* task records kept */
	long		 retain_log_lines;	/* task log lines kept */
	long		 retain_commands_s;	/* command records kept this long */
	long		 retain_jobs_s;		/* settled jobs kept this long */
	long		 audit_max_bytes;	/* rotate audit.jsonl past it; 0 never */
	long		 audit_keep;		/* rotated audit files kept */
	const char	*tasks;		/* JSON task definitions file */
	const char	*services;	/* JSON service definitions file */
	const char	*dns_listen;	/* --dns HOST:PORT; empty: no responder */
	long		 artifact_max_mib;	/* one artifact's bound */
	const char	*alerts;	/* JSON alert rules file */
	const char	*notify;	/* JSON notification channels file */
	int		 allow_adhoc;
	long		 max_running;
	long		 command_timeout_ms;
	const char	*token_read, *token_read_next;
	const char	*token_write, *token_write_next;
	const char	*token_admin, *token_admin_next;
	long		 write_rate;
	const char	*web_root;	/* dashboard files; "" finds them */
	const char	*allow_origins;	/* more origins /ws accepts (ws.h) */
	long		 ws_snapshot_bytes;	/* a /ws snapshot's budget */
	long		 header_timeout_ms;	/* http_guard.h */
	long		 max_per_address;
	long		 hello_timeout_ms;	/* links_config.hello_ms */
};

struct node {
	const struct node_config *cfg;
	struct event_base	*base;
	char			 id[64];
	uint64_t		 incarnation;
	uint64_t		 started_ms;
	json_t			*addresses;	/* advertised, array */
	json_t			*labels;	/* object */
	struct store		*store;
	struct mesh		*mesh;		/* owns transport, links, sync */
	struct transport	*transport;
	struct links		*links;
	struct discovery	*discovery;	/* NULL without --signal */
	struct sync		*sync;
	struct collector	*collector;
	struct history		*history;	/* our own samples (history.h) */
	struct trust		*trust;		/* CA + CRL for links */
	struct rng		*rng;
	struct tasks		*tasks;
	struct alerts		*alerts;
	struct commands		*commands;
	struct audit		*audit;
	struct api_auth		*auth;
	struct api		*api;
	struct work		*work;
	struct ws_hub		*ws;		/* the dashboard's live feed */
	struct feed		*feed;
	struct http_guard	*http_guard;	/* the API's deadlines, caps */
	struct wall_timer	*status_timer;	/* samples and sends our status */
	struct status_pace	*status_pace;	/* which samples go out */
	int			 status_watching; /* our last sample had watch_ms */
	const char		*web_root;	/* NULL: no dashboard here */
	int			 frozen;	/* read-only mode (freeze) */
	uint64_t		 freeze_epoch;	/* of the freeze state held (freeze.h) */
	struct jobs		*jobs;		/* jobs issued here (jobs.h) */
	struct callbacks	*callbacks;	/* their result callbacks */
	struct evdns_base	*dns;		/* the loop's resolver */
	struct job_runs		*job_runs;	/* job runs held here (job_runs.h) */
	struct schedules	*schedules;	/* the mesh's schedules (schedules.h) */
	struct workflows	*workflows;	/* coordinated here (workflows.h) */
	struct services		*services;	/* kept running here (services.h) */
	struct artifacts	*artifacts;	/* held here (artifacts.h) */
	struct rollouts		*rollouts;	/* run here (rollouts.h) */
	struct notify		*notify;	/* alerts to people (notify.h) */
	struct silences		*silences;	/* notices held back (silences.h) */
	struct service_registry	*registry;	/* services found by name */
	struct dns_server	*dns_server;	/* --dns; NULL: none */
};

/*
 * Starts the node's subsystems in node.c's one ordered list.  cfg is
 * borrowed and must outlive the node.  Returns the node (free with
 * node_free), or NULL with why in err after stopping what had started.
 */
struct node *node_new(const struct node_config *cfg, char *err, size_t errlen);
/* Serves until SIGINT or SIGTERM. */
void node_run(struct node *);
/* Samples and considers our status now: a dashboard just connected here
 * (feed.c), so it goes out at once with its watch lease. */
void node_status_soon(struct node *);
/* Stops every subsystem, last started first; after node_run() it leaves
 * the signals and the mesh gracefully on the way.  NULL: no-op. */
void node_free(struct node *);

#endif
