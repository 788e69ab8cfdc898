/*
 * A service's definition: the long-running process a node keeps in its
 * desired state (services.h), as JSON from --services FILE (an object,
 * name → definition) or the body of PUT /api/services/{name}.
 *
 *   {"command": ["/bin/prog", "arg"],   required, 1-64 strings of at
 *                                        most 4096 bytes without NUL,
 *                                        the program not empty
 *    "cwd": "/dir",                      optional, absolute
 *    "env": {"K": "V"},                  optional, <= 64 pairs; K is
 *                                        [A-Za-z_][A-Za-z0-9_]*
 *    "user": "name",                     optional, 1-32 of [A-Za-z0-9._-]
 *                                        from a letter or '_' (not looked
 *                                        up here); honoured only when the
 *                                        node runs as root
 *    "stop_signal": "TERM",              TERM INT HUP QUIT KILL USR1 USR2
 *                                        (with or without "SIG"); TERM
 *    "stop_grace_s": 5,                  0-600: then SIGKILL
 *    "restart": "always",                always | on-failure | never
 *    "restart_policy": {                 Nomad's terms:
 *        "attempts": 5,                  restarts allowed within interval,
 *                                        0-1000
 *        "interval_s": 300,              1-86400
 *        "delay_s": 1,                   first delay, 0-3600, doubled per
 *                                        restart within the interval
 *        "max_delay_s": 60,              the cap, >= delay_s, <= 3600
 *                                        (unset: 60, or delay_s if more)
 *        "jitter": 0.25,                 0-1: the delay ± that fraction
 *        "mode": "fail"},                fail: the budget spent → failed;
 *                                        delay: wait out the interval,
 *                                        then start again
 *    "resources": {"cpu_percent": 50, "memory_mb": 256},  hints, >= 0
 *    "checks": [CHECK, ...],             <= 8, see below
 *    "endpoints": [{"name": "http", "protocol": "tcp", "port": 8080,
 *                   "tags": ["web"]}],   <= 16; name (unique) and port
 *                                        1-65535 required; protocol tcp
 *                                        (default) | udp | http; <= 16
 *                                        tags of 1-63 [A-Za-z0-9_-]
 *    "artifact": "sha256:<64 hex>",      optional
 *    "desired": "running"}               running | stopped: the desired
 *                                        state a new definition starts in
 *
 *   CHECK: {"name": "web",               name syntax, unique; default
 *                                        "<type>-<i>" (i: its index)
 *           "type": "http" | "tcp" | "exec",   required
 *           http: "port": 8080 (required), "path": "/health" ('/' then
 *                 visible ASCII, <= 1024 bytes; "/"),
 *                 "status_min": 200, "status_max": 399 (100-599)
 *           tcp:  "port": 8080 (required)
 *           exec: "command": ["/bin/check", ...] (as "command" above)
 *           (another type's field is an error)
 *           "interval_s": 10,            0.1-3600
 *           "timeout_s": 2,              0.1-600, <= interval_s (unset:
 *                                        2, or interval_s if less)
 *           "failures": 3,               1-100 consecutive before unhealthy
 *           "successes": 1,              1-100 consecutive before healthy
 *           "grace_s": 5,                0-3600 after a start, not counted
 *           "restart": false}            unhealthy → restart (by policy)
 *
 * http and tcp checks connect to 127.0.0.1 (the service's own node).
 * Names are name syntax: 1-63 of [A-Za-z0-9_-], starting with a letter
 * or digit (a node's name without '.', so "NAME.field" reads one way).
 * Unknown fields are errors.  Durations in JSON are seconds (numbers);
 * here milliseconds.
 */
#ifndef AGENTFLOW_SERVICE_SPEC_H
#define AGENTFLOW_SERVICE_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SERVICE_NAME_MAX	63
#define SERVICE_CHECKS_MAX	8
#define SERVICE_ENV_MAX		64	/* env pairs */
#define SERVICE_ENDPOINTS_MAX	16
#define SERVICE_TAGS_MAX	16

enum service_restart {
	SERVICE_RESTART_ALWAYS,
	SERVICE_RESTART_ON_FAILURE,
	SERVICE_RESTART_NEVER
};

enum service_check_type {
	SERVICE_CHECK_HTTP,
	SERVICE_CHECK_TCP,
	SERVICE_CHECK_EXEC
};

struct service_policy {
	unsigned	 attempts;
	uint64_t	 interval_ms;
	uint64_t	 delay_ms;
	uint64_t	 max_delay_ms;
	double		 jitter;	/* 0-1 */
	int		 mode_fail;	/* 1: fail, 0: delay */
};

struct service_check {
	char			 name[SERVICE_NAME_MAX + 1];
	enum service_check_type	 type;
	uint16_t		 port;		/* http, tcp */
	char			*path;		/* http; owned */
	int			 status_min;	/* http */
	int			 status_max;
	char			**argv;		/* exec; owned, NULL-terminated */
	size_t			 argc;
	uint64_t		 interval_ms;
	uint64_t		 timeout_ms;
	unsigned		 failures;
	unsigned		 successes;
	uint64_t		 grace_ms;
	int			 restart;
};

struct service_endpoint {
	char		 name[SERVICE_NAME_MAX + 1];
	char		 protocol[8];	/* "tcp", "udp", "http" */
	uint16_t	 port;
	char		**tags;		/* owned, NULL-terminated */
	size_t		 ntags;
};

struct service_spec {
	char			 name[SERVICE_NAME_MAX + 1];
	char			**argv;		/* NULL-terminated */
	size_t			 argc;
	char			*cwd;		/* NULL: the node's */
	char			**env;		/* "K=V", NULL-terminated */
	size_t			 envc;
	char			*user;		/* NULL: the node's */
	int			 stop_signal;
	uint64_t		 grace_ms;
	enum service_restart	 restart;
	struct service_policy	 policy;
	double			 cpu_percent;	/* hints; 0: none */
	double			 memory_mb;
	struct service_check	*checks;
	size_t			 nchecks;
	struct service_endpoint	*endpoints;
	size_t			 nendpoints;
	char			*artifact;	/* "sha256:…" or NULL */
	int			 desired_running;
	json_t			*json;		/* the definition with every default
						 * filled in, as the API shows it */
};

/* Name syntax: 1-63 of [A-Za-z0-9_-], starting with a letter or digit. */
int service_name_valid(const char *);

/*
 * Parses and validates one definition.  NULL when it is invalid: then
 * every error found is appended to errors (a JSON array) as {"path":
 * "checks[0].interval_s", "error": "must be 0.1-3600 seconds"}, paths
 * relative to the definition ("" for the name and the definition as a
 * whole), and nothing else changes.  Otherwise the spec is the caller's
 * (service_spec_free); argv, env and each endpoint's tags are never
 * NULL.  json holds every field but cwd, user and artifact when unset,
 * env's values included (an API showing it to readers who may not see
 * secrets leaves them out), and parses back to the same spec.
 */
struct service_spec *service_spec_parse(const char *name, const json_t *def,
    json_t *errors);
void service_spec_free(struct service_spec *);

/*
 * A --services file: an object name → definition (<= 128 services).
 * Fills *specs (n of them, sorted by name; the caller frees each and the
 * array) and returns 0, or -1 with every error in errors, paths prefixed
 * by "NAME." ("NAME" alone for the name itself or a definition that is
 * not an object; *specs NULL, *n 0).
 */
int service_spec_file(const json_t *file, struct service_spec ***specs,
    size_t *n, json_t *errors);

/*
 * The restart policy (Nomad's): starts is the times of the restarts
 * counted so far (oldest first, at most policy.attempts kept by the
 * caller), now the time of this exit, r01 a uniform random number in
 * [0, 1).  Returns the delay before the next start in *delay_ms and 1,
 * or 0 when the budget is spent in fail mode (attempts 0: at once, no
 * restart at all).  In delay mode a spent budget waits until the oldest
 * counted restart leaves the interval (attempts 0: a whole interval),
 * without jitter.  Otherwise the delay is delay_ms × 2^(restarts within
 * the interval), capped at max_delay_ms, then ± jitter: × (1 + jitter ×
 * (2 r01 - 1)), so it may pass the cap by that fraction.  A restart
 * stamped after now (a clock stepped back) counts as within.
 */
int service_policy_next(const struct service_policy *, const uint64_t *starts,
    size_t nstarts, uint64_t now_ms, double r01, uint64_t *delay_ms);

#endif
