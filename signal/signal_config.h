/*
 * The signal's configuration, as main.c fills it from the command line and
 * the configuration file (opts.h) and as the API and the registration
 * rules read it.  Plain data; its strings are main's.
 */
#ifndef AGENTFLOW_SIGNAL_CONFIG_H
#define AGENTFLOW_SIGNAL_CONFIG_H

struct signal_config {
	const char	*listen;
	const char	*ca;
	const char	*crl;
	const char	*tls_cert;
	const char	*tls_key;
	const char	*log_level;
	const char	*cors_origins;	/* NULL: no CORS */
	int		 plain_http;
	int		 trust_proxy;
	long		 ttl_s;
	long		 heartbeat_s;
	long		 sweep_ms;
	long		 max_nodes;
	long		 max_body;
	long		 max_addresses;
	long		 max_labels;
	long		 rate;
	long		 burst;
	long		 skew_s;
	long		 verify_threads;
	long		 header_timeout_ms;	/* http_guard.h */
	long		 max_per_address;
};

#endif
