/*
 * A command's arguments from its table row (see cli_cmd.h).
 */
#include "cli_cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "node_id.h"
#include "opts.h"
#include "token.h"

#define TIMEOUT_MAX_MS		(24LL * 3600 * 1000)
#define LIST_MAX		10000

static int
parse_int(const char *name, const char *arg, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "agentflow: --%s: an integer %lld-%lld is required, "
		    "got \"%s\"\n", name, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* --since: a duration with its unit (1h, 30m, 2d, as --prune-after's:
 * that long ago), or a plain number of ms since the epoch. */
static int
parse_since(const char *arg, long long *out)
{
	size_t len = strlen(arg);
	long s;

	if (len == 0 || !isalpha((unsigned char)arg[len - 1]))
		return parse_int("since", arg, 0, INT64_MAX, out);
	if (opts_duration_parse(arg, &s) != 0 || s > INT64_MAX / 1000) {
		fprintf(stderr, "agentflow: --since: \"%s\" is not a duration "
		    "(1h, 30m, 2d) or ms since the epoch\n", arg);
		return -1;
	}
	*out = (long long)clock_wall_ms() - (long long)s * 1000;
	if (*out < 0)
		*out = 0;
	return 0;
}

static int
on_option(int c, const char *arg, void *ctx)
{
	struct cli_args *a = ctx;

	switch (c) {
	case CLI_O_DETACH: a->detach = 1; return 0;
	case CLI_O_HARD: a->hard = 1; return 0;
	case CLI_O_STOP: a->stop = 1; return 0;
	case 'f': a->follow = 1; return 0;
	case CLI_O_TIMEOUT:
		return parse_int("timeout-ms", arg, 1, TIMEOUT_MAX_MS,
		    &a->timeout_ms);
	case CLI_O_SINCE:
		return parse_since(arg, &a->since);
	case CLI_O_LIMIT:
		return parse_int("limit", arg, 1, LIST_MAX, &a->limit);
	case CLI_O_KEY:
		if (*arg == '\0') {
			fprintf(stderr, "agentflow: --key: an empty key\n");
			return -1;
		}
		a->key = arg;
		return 0;
	case CLI_O_NODE:
		if (!node_id_valid(arg, strlen(arg))) {
			fprintf(stderr, "agentflow: --node: \"%s\" is not a node id\n",
			    arg);
			return -1;
		}
		a->node = arg;
		return 0;
	case CLI_O_NAME:
		if (!token_name_valid(arg, strlen(arg))) {
			fprintf(stderr, "agentflow: --name: 1-%d of [A-Za-z0-9._@-], "
			    "got \"%s\"\n", PRINCIPAL_NAME_MAX, arg);
			return -1;
		}
		a->name = arg;
		return 0;
	case CLI_O_ROLE:
		if (principal_role_parse(arg) == PRINCIPAL_NONE) {
			fprintf(stderr, "agentflow: --role: read, write or admin, got "
			    "\"%s\"\n", arg);
			return -1;
		}
		a->role = arg;
		return 0;
	case CLI_O_TTL: {
		int64_t ms;
		if (token_ttl_parse(arg, &ms) != 0) {
			fprintf(stderr, "agentflow: --ttl: 90s, 30m, 8h, 7d or seconds, "
			    "at most %lld days, got \"%s\"\n",
			    TOKEN_TTL_MAX_MS / 86400000, arg);
			return -1;
		}
		a->ttl = arg;
		return 0;
	}
	case CLI_O_DEADLINE:
		if (token_ttl_parse(arg, &a->deadline_ms) != 0) {
			fprintf(stderr, "agentflow: --deadline: 90s, 30m, 8h, 7d or "
			    "seconds, got \"%s\"\n", arg);
			return -1;
		}
		return 0;
	case CLI_O_TO: a->to = arg; return 0;
	case CLI_O_PAYLOAD: a->payload = arg; return 0;
	case CLI_O_AT_MOST_ONCE: a->at_most_once = 1; return 0;
	case CLI_O_WAIT: a->wait = 1; return 0;
	case CLI_O_CALLBACK: a->callback = arg; return 0;
	case CLI_O_CALLBACK_SECRET_FILE: a->callback_secret_file = arg; return 0;
	case CLI_O_STATE: a->state = arg; return 0;
	case CLI_O_ACTION: a->action = arg; return 0;
	case CLI_O_ACTOR: a->actor = arg; return 0;
	case CLI_O_FILE: a->file = arg; return 0;
	case CLI_O_OLDER_THAN: a->older_than = arg; return 0;
	case CLI_O_CRON: a->cron = arg; return 0;
	case CLI_O_TZ: a->tz = arg; return 0;
	case CLI_O_MISFIRE: a->misfire = arg; return 0;
	case CLI_O_GRACE: a->grace = arg; return 0;
	case CLI_O_OVERLAP: a->overlap = arg; return 0;
	case CLI_O_TASK: a->task = arg; return 0;
	case CLI_O_JOB: a->job = arg; return 0;
	case CLI_O_WORKFLOW: a->workflow = arg; return 0;
	case CLI_O_SET:
		if (strchr(arg, '=') == NULL || arg[0] == '=' ||
		    a->nsets == CLI_SETS_MAX) {
			fprintf(stderr, "agentflow: --set: KEY=VALUE, at most %d, "
			    "got \"%s\"\n", CLI_SETS_MAX, arg);
			return -1;
		}
		a->sets[a->nsets++] = arg;
		return 0;
	case CLI_O_COMMENT: a->comment = arg; return 0;
	case CLI_O_ALL: a->all = 1; return 0;
	case CLI_O_RULE:
		if (!node_id_valid(arg, strlen(arg))) {
			fprintf(stderr, "agentflow: --rule: \"%s\" is not a rule "
			    "name (1-63 of [A-Za-z0-9._-])\n", arg);
			return -1;
		}
		a->rule = arg;
		return 0;
	case CLI_O_LABEL:
		if (strchr(arg, '=') == NULL || arg[0] == '=' ||
		    a->nlabels == CLI_LABELS_MAX) {
			fprintf(stderr, "agentflow: --label: KEY=VALUE, at most %d, "
			    "got \"%s\"\n", CLI_LABELS_MAX, arg);
			return -1;
		}
		a->labels[a->nlabels++] = arg;
		return 0;
	case CLI_O_FOR: a->for_ = arg; return 0;
	case 'c':
		return parse_int("count", arg, 0, 1000000, &a->count);
	case CLI_O_MAX_PARALLEL:
		return parse_int("max-parallel", arg, 1, 8, &a->max_parallel);
	case CLI_O_MIN_HEALTHY:
		return parse_int("min-healthy", arg, 0, 600, &a->min_healthy_s);
	}
	return -1;
}

int
cli_cmd_parse(const struct cmd_entry *e, int argc, char **argv,
    struct cli_args *a, int *rc)
{
	int first, n;

	memset(a, 0, sizeof(*a));
	a->min_healthy_s = -1;
	a->count = 1;
	snprintf(a->usage, sizeof(a->usage), "%s %s", e->name, e->usage);
	if ((first = cli_api_opts(argc, argv, &a->o, a->usage, e->options,
	    on_option, a, rc)) < 0)
		return -1;
	n = argc - first;
	if (n < e->args_min || (e->args_max >= 0 && n > e->args_max)) {
		fprintf(stderr, "agentflow: %s\nusage: agentflow %s\n",
		    n < e->args_min ? "missing operand" : "too many operands",
		    a->usage);
		*rc = CMD_TABLE_EXIT_USAGE;
		return -1;
	}
	a->argc = n;
	a->argv = argv + first;
	return 0;
}

int
cli_cmd_usage_error(const struct cli_args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agentflow: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: agentflow %s\n", a->usage);
	return CMD_TABLE_EXIT_USAGE;
}
