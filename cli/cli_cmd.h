/*
 * A CLI command's arguments, parsed as its row of the command table
 * (cli.c) says: the common options (cli_api.h), the row's own options
 * (codes CLI_O_* below, or a letter for a short form) and between
 * args_min and args_max operands.  Every check here is made before the
 * node is asked, so a usage error never reaches the API.
 */
#ifndef AGENTFLOW_CLI_CMD_H
#define AGENTFLOW_CLI_CMD_H

#include <stdint.h>

#include "cli_api.h"
#include "cmd_table.h"

/* The option codes rows may list (struct option .val); -f is 'f'. */
enum {
	CLI_O_DETACH = 256, CLI_O_TIMEOUT, CLI_O_KEY, CLI_O_HARD, CLI_O_STOP, CLI_O_NODE,
	CLI_O_STATE, CLI_O_ACTION, CLI_O_SINCE, CLI_O_LIMIT, CLI_O_NAME,
	CLI_O_ROLE, CLI_O_TTL, CLI_O_ACTOR, CLI_O_FILE,
	CLI_O_OLDER_THAN,
	CLI_O_TO, CLI_O_PAYLOAD, CLI_O_DEADLINE, CLI_O_AT_MOST_ONCE, CLI_O_WAIT,
	CLI_O_CALLBACK, CLI_O_CALLBACK_SECRET_FILE,
	CLI_O_SET,
	/* schedule add (cli_schedule.c) */
	CLI_O_CRON, CLI_O_TZ, CLI_O_MISFIRE, CLI_O_GRACE, CLI_O_OVERLAP,
	CLI_O_TASK, CLI_O_JOB, CLI_O_WORKFLOW,
	CLI_O_COMMENT,
	/* rollout start (cli_rollout.c) */
	CLI_O_MAX_PARALLEL, CLI_O_MIN_HEALTHY,
	/* silence add, ack --all (cli_silence.c, cli_work.c) */
	CLI_O_ALL, CLI_O_RULE, CLI_O_LABEL, CLI_O_FOR
};

#define CLI_SETS_MAX	64	/* --set KEY=VALUE given */
#define CLI_LABELS_MAX	8	/* silence add --label k=v given */

struct cli_args {
	struct cli_opts	 o;
	long long	 timeout_ms;	/* 0: the command's default */
	const char	*key;		/* idempotency key */
	const char	*node;		/* a node id */
	const char	*state;
	const char	*action;
	const char	*actor;
	const char	*file;
	const char	*older_than;	/* purge: "30d" (opts_duration_parse) */
	long long	 since;		/* ms since the epoch */
	long long	 limit;		/* 0: the API's default */
	const char	*name;		/* a principal's name (token issue) */
	const char	*role;		/* read, write or admin */
	const char	*ttl;		/* "8h" (token_ttl_parse) */
	int		 detach;
	int		 hard;
	int		 stop;		/* freeze --stop */
	int		 follow;
	const char	*to;		/* a job's placement (submit --to) */
	const char	*payload;	/* JSON text or @file (submit) */
	const char	*callback;	/* submit: the result's URL */
	const char	*callback_secret_file;	/* submit: its secret's file */
	int64_t		 deadline_ms;	/* submit --deadline; 0: the node's */
	int		 at_most_once;
	int		 wait;		/* submit --wait */
	/* schedule add: as given, checked by the node (schedule_spec.h) */
	const char	*cron, *tz, *misfire, *grace, *overlap, *task, *job;
	const char	*workflow;	/* schedule add --workflow FILE */
	const char	*sets[CLI_SETS_MAX];	/* --set KEY=VALUE, as given */
	int		 nsets;
	const char	*comment;	/* workflow approve/reject --comment */
	long long	 max_parallel;	/* rollout start; 0: the node's default */
	long long	 min_healthy_s;	/* rollout start; -1: the node's */
	long long	 count;		/* ping -c; 0: until interrupted */
	int		 all;		/* ack --all */
	const char	*rule;		/* an alert rule's name (silence, ack) */
	const char	*labels[CLI_LABELS_MAX];	/* --label k=v, as given */
	int		 nlabels;
	const char	*for_;		/* silence add --for "2h" */
	int		 argc;		/* the operands */
	char		**argv;
	char		 usage[2048];	/* "name usage", for messages */
};

/*
 * Parses argv (argv[0] the command's name) into a.  0 when the command
 * should run; -1 with *rc the exit status otherwise (0 after --help, 2
 * after a usage error, which is printed).  Strings point into argv.
 */
int cli_cmd_parse(const struct cmd_entry *, int argc, char **argv,
    struct cli_args *a, int *rc);

int cli_cmd_usage_error(const struct cli_args *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
