/*
 * The node's context: its configuration, identity and subsystems, owned by
 * main.c and passed to the parts that need more than one subsystem (the
 * local API).  Loop-thread only, like everything it points to.
 */
#ifndef AGENTFLOW_NODE_H
#define AGENTFLOW_NODE_H

#include <jansson.h>
#include <stdint.h>

struct collector;
struct discovery;
struct event_base;
struct links;
struct store;
struct sync;
struct trust;
struct transport;

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
	long		 keepalive_ms;
	long		 status_ms;
	long		 max_links;
	long		 events_kept;
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
	struct transport	*transport;
	struct links		*links;
	struct discovery	*discovery;	/* NULL without --signal */
	struct sync		*sync;
	struct collector	*collector;
	struct trust		*trust;		/* CA + CRL for links */
};

#endif
