/*
 * `agentflow replay` (cli_replay.h).  It parses its own options: the
 * batch's state flags and --dry-run/--again belong to no other command.
 */
#include "cli_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "cli_api.h"
#include "cli_fmt.h"
#include "clock.h"
#include "node_id.h"
#include "opts.h"

#define USAGE	"replay JOB | replay --failed|--cancelled|--lost|--expired " \
		"--since AGE [--task T] [--node N] [--dry-run] [--again]\n" \
		"       [--api HOST:PORT] [--data-dir DIR] [--json]\n\n" \
		"  a failed, cancelled, lost or expired job runs again as a new " \
		"job (same\n  task, args, payload and placement; a fresh deadline; " \
		"no key, no callback);\n  batch: every matching job issued on " \
		"this node since AGE (1h, 2d), at\n  most 1000 a call, each once " \
		"(--again: also those replayed before)"
#define TIMEOUT_S	60

enum {
	O_FAILED = 512, O_CANCELLED, O_LOST, O_EXPIRED, O_SINCE, O_TASK, O_NODE,
	O_DRY_RUN, O_AGAIN
};

static const struct option options[] = {
	{ "failed", no_argument, NULL, O_FAILED },
	{ "cancelled", no_argument, NULL, O_CANCELLED },
	{ "lost", no_argument, NULL, O_LOST },
	{ "expired", no_argument, NULL, O_EXPIRED },
	{ "since", required_argument, NULL, O_SINCE },
	{ "task", required_argument, NULL, O_TASK },
	{ "node", required_argument, NULL, O_NODE },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "again", no_argument, NULL, O_AGAIN },
	{ NULL, 0, NULL, 0 },
};

struct replay_args {
	json_t		*states;
	long long	 since_ms;	/* -1: not given */
	const char	*task;
	const char	*node;
	int		 dry_run;
	int		 again;
};

static int
on_option(int c, const char *arg, void *ctx)
{
	static const char *const names[] = { "failed", "cancelled", "lost",
	    "expired" };
	struct replay_args *ra = ctx;
	long s;

	switch (c) {
	case O_FAILED: case O_CANCELLED: case O_LOST: case O_EXPIRED: {
		/* --failed twice asks once (the node refuses a state twice). */
		json_t *st = json_string(names[c - O_FAILED]), *v;
		size_t i;
		json_array_foreach(ra->states, i, v)
			if (json_equal(v, st)) {
				json_decref(st);
				return 0;
			}
		json_array_append_new(ra->states, st);
		return 0;
	}
	case O_SINCE:
		if (opts_duration_parse(arg, &s) != 0 || s < 1 ||
		    s > INT64_MAX / 1000) {
			fprintf(stderr, "agentflow: --since: \"%s\" is not a "
			    "duration (30m, 1h, 2d)\n", arg);
			return -1;
		}
		ra->since_ms = (long long)clock_wall_ms() - (long long)s * 1000;
		if (ra->since_ms < 0)
			ra->since_ms = 0;
		return 0;
	case O_TASK:
	case O_NODE:
		if (!node_id_valid(arg, strlen(arg))) {
			fprintf(stderr, "agentflow: --%s: \"%s\" is not a name\n",
			    c == O_TASK ? "task" : "node", arg);
			return -1;
		}
		*(c == O_TASK ? &ra->task : &ra->node) = arg;
		return 0;
	case O_DRY_RUN: ra->dry_run = 1; return 0;
	case O_AGAIN: ra->again = 1; return 0;
	}
	return -1;
}

static int
usage_error(const char *why)
{
	fprintf(stderr, "agentflow: %s\nusage: agentflow %s\n", why, USAGE);
	return 2;
}

static int
replay_one(const struct cli_opts *o, const char *id)
{
	struct cli_reply r = { 0 };
	char path[128], c1[256], c2[256];

	snprintf(path, sizeof(path), "/api/jobs/%s/replay", id);
	if (cli_api_request(o, EVHTTP_REQ_POST, path, NULL, 0, &r) != 0) {
		fprintf(stderr, "agentflow: replay %s: %s\n", id, r.error);
		json_decref(r.body);
		return 1;
	}
	if (o->json)
		cli_api_print_json(r.body);
	else
		printf("%s -> %s\n", id, cli_fmt_clean(cli_fmt_str(r.body, "id",
		    "?"), c1, sizeof(c1)));
	fprintf(stderr, "%s\n", cli_fmt_clean(cli_fmt_str(r.body, "note", ""),
	    c2, sizeof(c2)));
	json_decref(r.body);
	return 0;
}

static int
replay_batch(const struct cli_opts *o, const struct replay_args *ra)
{
	struct cli_reply r = { 0 };
	json_t *body, *p;
	char c1[256], c2[256], c3[512];
	size_t i;
	int rc;

	body = json_pack("{s:O, s:I, s:b, s:b}", "states", ra->states,
	    "since_ms", (json_int_t)ra->since_ms, "dry_run", ra->dry_run,
	    "again", ra->again);
	if (ra->task != NULL)
		json_object_set_new(body, "task", json_string(ra->task));
	if (ra->node != NULL)
		json_object_set_new(body, "node", json_string(ra->node));
	rc = cli_api_request(o, EVHTTP_REQ_POST, "/api/jobs/replay", body,
	    TIMEOUT_S, &r);
	json_decref(body);
	if (rc != 0) {
		fprintf(stderr, "agentflow: replay: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (o->json) {
		cli_api_print_json(r.body);
	} else {
		json_array_foreach(json_object_get(r.body, "pairs"), i, p)
			printf("%s -> %s\n", cli_fmt_clean(cli_fmt_str(p, "of", "?"),
			    c1, sizeof(c1)), cli_fmt_clean(cli_fmt_str(p, "as", "-"),
			    c2, sizeof(c2)));
		json_array_foreach(json_object_get(r.body, "errors"), i, p)
			fprintf(stderr, "agentflow: replay %s: %s\n",
			    cli_fmt_clean(cli_fmt_str(p, "of", "?"), c1, sizeof(c1)),
			    cli_fmt_clean(cli_fmt_str(p, "error", "?"), c3,
			    sizeof(c3)));
		fprintf(stderr, "%lld matched%s%s\n", (long long)
		    json_integer_value(json_object_get(r.body, "matched")),
		    json_is_true(json_object_get(r.body, "dry_run")) ?
		    ", dry run: nothing replayed" : "",
		    json_is_true(json_object_get(r.body, "cut")) ?
		    "; cut at 1000: run it again for the rest" : "");
	}
	rc = json_array_size(json_object_get(r.body, "errors")) > 0 ? 1 : 0;
	json_decref(r.body);
	return rc;
}

int
cli_replay(const struct cmd_entry *e, int argc, char **argv)
{
	struct replay_args ra = { .since_ms = -1 };
	struct cli_opts o;
	int first, rc, n;

	(void)e;
	ra.states = json_array();
	if ((first = cli_api_opts(argc, argv, &o, USAGE, options, on_option, &ra,
	    &rc)) < 0) {
		json_decref(ra.states);
		return rc;
	}
	n = argc - first;
	if (n == 1 && json_array_size(ra.states) == 0 && ra.since_ms < 0 &&
	    ra.task == NULL && ra.node == NULL && !ra.dry_run && !ra.again) {
		json_decref(ra.states);
		if (!node_id_valid(argv[first], strlen(argv[first])))
			return usage_error("not a job id");
		return replay_one(&o, argv[first]);
	}
	if (n != 0 || json_array_size(ra.states) == 0 || ra.since_ms < 0) {
		json_decref(ra.states);
		return usage_error(n != 0 ? "a JOB or a batch's options, not both" :
		    "a batch needs a state (--failed ...) and --since AGE");
	}
	rc = replay_batch(&o, &ra);
	json_decref(ra.states);
	return rc;
}
