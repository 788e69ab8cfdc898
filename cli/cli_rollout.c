/*
 * The rollout commands (see cli_rollout.h).
 */
#include "cli_rollout.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "cli_work.h"
#include "clock.h"
#include "node_id.h"
#include "text.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"
#define WAIT_DEFAULT_MS	3600000
#define POLL_MS		500

static const struct option start_options[] = {
	{ "to", required_argument, NULL, CLI_O_TO },
	{ "max-parallel", required_argument, NULL, CLI_O_MAX_PARALLEL },
	{ "deadline", required_argument, NULL, CLI_O_DEADLINE },
	{ "min-healthy", required_argument, NULL, CLI_O_MIN_HEALTHY },
	{ "wait", no_argument, NULL, CLI_O_WAIT },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static const struct option ls_options[] = {
	{ "name", required_argument, NULL, CLI_O_NAME },
	{ NULL, 0, NULL, 0 },
};

/* A service's name as the node checks it: 1-63 of [A-Za-z0-9_-]. */
static int
name_valid(const char *s)
{
	return text_name_valid(s, strlen(s));
}

static int
id_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 3 && n < 40 && strncmp(s, "ro-", 3) == 0 &&
	    strspn(s + 3, "0123456789abcdef-") == n - 3;
}

static void
print_nodes(json_t *r)
{
	char reason[200];
	json_t *x;
	size_t i;

	printf("  %-20s %-13s %-18s %-18s %s\n", "NODE", "STATE", "VERSION",
	    "PREVIOUS", "REASON");
	json_array_foreach(json_object_get(r, "nodes"), i, x)
		printf("  %-20s %-13s %-18s %-18s %s\n", cli_fmt_str(x, "node",
		    "?"), cli_fmt_str(x, "state", "?"), cli_fmt_str(x, "version",
		    "-"), cli_fmt_str(x, "previous_version", "-"),
		    cli_fmt_clean(cli_fmt_str(x, "reason", ""), reason,
		    sizeof(reason)));
}

static void
print_one(json_t *r)
{
	char reason[400];

	printf("rollout %s of %s: %s, %lld of %lld nodes healthy (by %s)\n",
	    cli_fmt_str(r, "id", "?"), cli_fmt_str(r, "service", "?"),
	    cli_fmt_str(r, "state", "?"),
	    (long long)json_integer_value(json_object_get(r, "healthy")),
	    (long long)json_integer_value(json_object_get(r, "total")),
	    cli_fmt_str(r, "principal", "?"));
	if (json_is_string(json_object_get(r, "reason")))
		printf("  %s\n", cli_fmt_clean(cli_fmt_str(r, "reason", ""),
		    reason, sizeof(reason)));
	print_nodes(r);
}

static void
print_list(json_t *body)
{
	char reason[120];
	json_t *r;
	size_t i;

	printf("%-32s %-20s %-10s %-8s %s\n", "ID", "SERVICE", "STATE",
	    "HEALTHY", "REASON");
	json_array_foreach(json_object_get(body, "rollouts"), i, r) {
		char n[32];

		snprintf(n, sizeof(n), "%lld/%lld",
		    (long long)json_integer_value(json_object_get(r, "healthy")),
		    (long long)json_integer_value(json_object_get(r, "total")));
		printf("%-32s %-20s %-10s %-8s %s\n", cli_fmt_str(r, "id", "?"),
		    cli_fmt_str(r, "service", "?"), cli_fmt_str(r, "state", "?"),
		    n, cli_fmt_clean(cli_fmt_str(r, "reason", ""), reason,
		    sizeof(reason)));
	}
}

/* "node-1,node-3" (no '='): a list of nodes, in that order. */
static json_t *
node_list(const char *to)
{
	json_t *a;
	char *copy, *p, *save = NULL;

	if (strchr(to, ',') == NULL || strchr(to, '=') != NULL)
		return NULL;
	a = json_array();
	copy = strdup(to);
	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(p));
	free(copy);
	return a;
}

static int
wait_done(const struct cli_args *a, const char *id, long long timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
	struct cli_reply r;
	const char *st;
	char path[96];
	int rc, warned = 0;

	snprintf(path, sizeof(path), "/api/rollouts/%s", id);
	for (;;) {
		memset(&r, 0, sizeof(r));
		if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
			/* The node may be restarting: the rollout goes on
			 * there.  Asked again until the timeout. */
			if (r.status == 404 || r.status == 401 || r.status == 403) {
				fprintf(stderr, "agentflow: rollout %s: %s\n", id,
				    r.error);
				json_decref(r.body);
				return 1;
			}
			if (!warned++)
				fprintf(stderr, "agentflow: rollout %s: %s (asking "
				    "again)\n", id, r.error);
			st = "running";
		} else
			st = cli_fmt_str(r.body, "state", "");
		if (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0)
			break;
		json_decref(r.body);
		if (clock_mono_ms() >= end) {
			fprintf(stderr, "agentflow: rollout %s is not done after "
			    "%lld ms\n", id, timeout_ms);
			return CLI_EXIT_EXPIRED;
		}
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
	}
	if (a->o.json)
		cli_api_print_json(r.body);
	else
		print_one(r.body);
	rc = strcmp(cli_fmt_str(r.body, "state", ""), "succeeded") == 0 ? 0 : 1;
	json_decref(r.body);
	return rc;
}

static int
start(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_reply r = { 0 };
	json_error_t jerr;
	struct cli_args a;
	json_t *def, *body, *nodes;
	char id[48];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!name_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "\"%s\" is not a service name "
		    "(1-63 of [A-Za-z0-9_-])", a.argv[0]);
	nodes = a.to != NULL ? node_list(a.to) : NULL;
	if (a.to != NULL && nodes == NULL && !cli_work_target_valid(a.to))
		return cli_cmd_usage_error(&a, "--to: \"%s\" is not a node id, "
		    "\"all\", k=v or node ids joined by \",\"", a.to);
	def = strcmp(a.argv[1], "-") == 0 ? json_loadf(stdin,
	    JSON_REJECT_DUPLICATES, &jerr) : json_load_file(a.argv[1],
	    JSON_REJECT_DUPLICATES, &jerr);
	if (def == NULL) {
		json_decref(nodes);
		fprintf(stderr, "agentflow: %s: line %d: %s\n", a.argv[1],
		    jerr.line, jerr.text);
		return 1;
	}
	body = json_pack("{s:s, s:o}", "service", a.argv[0], "definition", def);
	if (nodes != NULL)
		json_object_set_new(body, "nodes", nodes);
	else if (a.to != NULL)
		json_object_set_new(body, "target", json_string(a.to));
	if (a.max_parallel > 0)
		json_object_set_new(body, "max_parallel",
		    json_integer(a.max_parallel));
	if (a.deadline_ms > 0)
		json_object_set_new(body, "deadline_s",
		    json_integer((json_int_t)((a.deadline_ms + 999) / 1000)));
	if (a.min_healthy_s >= 0)
		json_object_set_new(body, "min_healthy_s",
		    json_integer(a.min_healthy_s));
	if (!a.wait) {
		rc = cli_api_show(&a.o, EVHTTP_REQ_POST, "/api/rollouts", body,
		    print_one);
		json_decref(body);
		return rc;
	}
	rc = cli_api_request(&a.o, EVHTTP_REQ_POST, "/api/rollouts", body, 0,
	    &r);
	json_decref(body);
	if (rc != 0 || !json_is_string(json_object_get(r.body, "id"))) {
		fprintf(stderr, "agentflow: rollout refused: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	snprintf(id, sizeof(id), "%s", cli_fmt_str(r.body, "id", ""));
	json_decref(r.body);
	if (!a.o.json)
		printf("rollout %s started\n", id);
	return wait_done(&a, id, a.timeout_ms > 0 ? a.timeout_ms :
	    WAIT_DEFAULT_MS);
}

static int
ls(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.name != NULL && !name_valid(a.name))
		return cli_cmd_usage_error(&a, "--name: \"%s\" is not a service "
		    "name (1-63 of [A-Za-z0-9_-])", a.name);
	snprintf(path, sizeof(path), "/api/rollouts%s%s", a.name != NULL ?
	    "?service=" : "", a.name != NULL ? a.name : "");
	return cli_api_show(&a.o, EVHTTP_REQ_GET, path, NULL, print_list);
}

/* show ID, and pause, resume, abort ID */
static int
one(const struct cmd_entry *e, int argc, char **argv)
{
	int show = strcmp(e->name, "show") == 0;
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!id_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "\"%s\" is not a rollout id "
		    "(ro-...)", a.argv[0]);
	snprintf(path, sizeof(path), "/api/rollouts/%s%s%s", a.argv[0],
	    show ? "" : "/", show ? "" : e->name);
	return cli_api_show(&a.o, show ? EVHTTP_REQ_GET : EVHTTP_REQ_POST, path,
	    NULL, print_one);
}

static const struct cmd_entry commands[] = {
	{ "start", "NAME FILE [--to TARGET] [--max-parallel N] [--deadline D] "
	  "[--min-healthy S] [--wait [--timeout-ms MS]] " API_OPTS "\n\n"
	  "  FILE: the new definition as JSON (\"-\": stdin); see\n"
	  "  docs/services.md.  TARGET: a node id, \"all\" (the default), k=v,\n"
	  "  or node ids joined by \",\" (taken in that order).  --max-parallel:\n"
	  "  nodes changed at once (1).  --deadline: how long a node has to\n"
	  "  become healthy before it is rolled back (60s).  --min-healthy:\n"
	  "  seconds it must stay healthy first (5).  --wait: until the rollout\n"
	  "  ends; exit 0 only if it succeeded",
	  2, 2, start_options, start,
	  "take a new definition of a service to nodes, a few at a time",
	  NULL },
	{ "ls", "[--name NAME] " API_OPTS, 0, 0, ls_options, ls,
	  "the rollouts this node runs, newest first", NULL },
	{ "show", "ID " API_OPTS, 1, 1, NULL, one,
	  "one rollout, node by node", NULL },
	{ "pause", "ID " API_OPTS, 1, 1, NULL, one,
	  "start no further node (those under way finish)", NULL },
	{ "resume", "ID " API_OPTS, 1, 1, NULL, one,
	  "go on with a paused rollout", NULL },
	{ "abort", "ID " API_OPTS, 1, 1, NULL, one,
	  "end it: nodes under way go back, pending ones are left as they are",
	  NULL },
};

static const struct cmd_table table = {
	"agentflow rollout",
	"usage: agentflow rollout <command> [arguments]\n\ncommands:\n",
	"\n`agentflow rollout <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_rollout_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
