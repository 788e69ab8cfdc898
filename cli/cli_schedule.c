/*
 * The schedule commands (see cli_schedule.h).
 */
#include "cli_schedule.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "cli_jobs.h"
#include "cli_workflow.h"
#include "node_id.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"

static const struct option add_options[] = {
	{ "cron", required_argument, NULL, CLI_O_CRON },
	{ "tz", required_argument, NULL, CLI_O_TZ },
	{ "misfire", required_argument, NULL, CLI_O_MISFIRE },
	{ "grace", required_argument, NULL, CLI_O_GRACE },
	{ "overlap", required_argument, NULL, CLI_O_OVERLAP },
	{ "task", required_argument, NULL, CLI_O_TASK },
	{ "to", required_argument, NULL, CLI_O_TO },
	{ "payload", required_argument, NULL, CLI_O_PAYLOAD },
	{ "job", required_argument, NULL, CLI_O_JOB },
	{ "workflow", required_argument, NULL, CLI_O_WORKFLOW },
	{ "set", required_argument, NULL, CLI_O_SET },
	{ NULL, 0, NULL, 0 },
};

/* A time in ms as "2026-12-05 02:00:00Z", or "-". */
static const char *
when(json_t *v, char *buf, size_t len)
{
	time_t t;
	struct tm tm;

	if (!json_is_integer(v))
		return "-";
	t = (time_t)(json_integer_value(v) / 1000);
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
	return buf;
}

static void
print_one(json_t *s)
{
	json_t *last = json_object_get(s, "last_fire");
	char b1[32], b2[32], b3[64], b4[32], b5[64], b6[128];
	const char *kind = json_object_get(s, "workflow") != NULL ? "workflow" :
	    "job";
	json_t *what = json_object_get(s, "workflow") != NULL ?
	    json_object_get(json_object_get(s, "workflow"), "definition") :
	    json_object_get(s, "job");
	char *job = json_dumps(what, JSON_COMPACT);
	const char *by = cli_fmt_str(s, "principal", NULL);

	printf("%s\n  cron      %s (%s)%s\n  %-8s  %.200s\n  misfire   %s  "
	    "overlap %s\n  next      %s\n", cli_fmt_str(s, "name", "?"),
	    cli_fmt_str(s, "cron", "?"), cli_fmt_str(s, "tz", "UTC"),
	    json_is_true(json_object_get(s, "paused")) ? "  PAUSED" : "", kind,
	    job != NULL ? job : "?", cli_fmt_str(s, "misfire", "?"),
	    cli_fmt_str(s, "overlap", "?"), when(json_object_get(s,
	    "next_fire_ms"), b1, sizeof(b1)));
	/* Who made the definition: absent when the node names nobody. */
	printf("  changed   %s%s%s on %s\n", when(json_object_get(s,
	    "updated_ms"), b4, sizeof(b4)), by != NULL ? " by " : "",
	    by != NULL ? cli_fmt_clean(by, b6, sizeof(b6)) : "",
	    cli_fmt_clean(cli_fmt_str(s, "author", "-"), b5, sizeof(b5)));
	if (json_is_object(last))
		printf("  last      %s  %s  %s %s on %s\n", when(json_object_get(
		    last, "fire_ms"), b2, sizeof(b2)), cli_fmt_str(last, "outcome",
		    "?"), kind, cli_fmt_str(last, kind, "-"), cli_fmt_clean(cli_fmt_str(
		    last, "node", "-"), b3, sizeof(b3)));
	else
		printf("  last      -\n");
	free(job);
}

/* One request, its answer shown (cli_api_show). */
static int
call(const struct cli_args *a, enum evhttp_cmd_type m, const char *path,
    json_t *body, void (*show)(json_t *))
{
	return cli_api_show(&a->o, m, path, body, show);
}

static int
add(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	json_t *body, *job = NULL, *payload = NULL;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.cron == NULL)
		return cli_cmd_usage_error(&a, "--cron EXPR is required");
	if ((a.job != NULL) + (a.task != NULL) + (a.workflow != NULL) != 1)
		return cli_cmd_usage_error(&a, "give --task T (with --to, "
		    "--payload), --job JSON or --workflow FILE, exactly one");
	if (a.nsets > 0 && a.workflow == NULL)
		return cli_cmd_usage_error(&a, "--set goes with --workflow");
	if (a.job != NULL && (a.to != NULL || a.payload != NULL))
		return cli_cmd_usage_error(&a, "--to and --payload go with --task; "
		    "--job holds its own");
	if (a.job != NULL && (job = cli_jobs_payload_arg("--job", a.job)) == NULL)
		return 1;
	if (a.payload != NULL && (payload = cli_jobs_payload_arg("--payload",
	    a.payload)) == NULL)
		return 1;
	if (a.workflow != NULL && (a.to != NULL || a.payload != NULL))
		return cli_cmd_usage_error(&a, "--to and --payload go with --task");
	if (a.workflow != NULL && (job = cli_workflow_body(a.workflow, &a)) ==
	    NULL)
		return 1;
	if (job == NULL) {
		job = json_pack("{s:s, s:s}", "task", a.task, "to", a.to != NULL ?
		    a.to : "any");
		if (payload != NULL)
			json_object_set_new(job, "payload", payload);
	}
	body = json_pack("{s:s, s:s, s:o}", "name", a.argv[0], "cron", a.cron,
	    a.workflow != NULL ? "workflow" : "job", job);
	if (a.tz != NULL)
		json_object_set_new(body, "tz", json_string(a.tz));
	if (a.misfire != NULL)
		json_object_set_new(body, "misfire", json_string(a.misfire));
	if (a.grace != NULL)
		json_object_set_new(body, "grace", json_string(a.grace));
	if (a.overlap != NULL)
		json_object_set_new(body, "overlap", json_string(a.overlap));
	rc = call(&a, EVHTTP_REQ_POST, "/api/schedules", body, print_one);
	json_decref(body);
	return rc;
}

static void
print_list(json_t *body)
{
	json_t *s, *last;
	char b1[32], b2[32];
	size_t i;

	printf("%-24s %-20s %-21s %-21s %s\n", "NAME", "CRON", "NEXT", "LAST",
	    "OUTCOME");
	json_array_foreach(json_object_get(body, "schedules"), i, s) {
		last = json_object_get(s, "last_fire");
		printf("%-24s %-20s %-21s %-21s %s%s\n", cli_fmt_str(s, "name", "?"),
		    cli_fmt_str(s, "cron", "?"), when(json_object_get(s,
		    "next_fire_ms"), b1, sizeof(b1)), when(json_object_get(last,
		    "fire_ms"), b2, sizeof(b2)), cli_fmt_str(last, "outcome", "-"),
		    json_is_true(json_object_get(s, "paused")) ? " (paused)" : "");
	}
}

static int
list(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	return call(&a, EVHTTP_REQ_GET, "/api/schedules", NULL, print_list);
}

static void
print_deleted(json_t *body)
{
	printf("schedule %s deleted\n", cli_fmt_str(body, "name", "?"));
}

/* show, rm, pause, resume: one NAME, one request. */
static int
named(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[160];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!node_id_valid(a.argv[0], strlen(a.argv[0])))
		return cli_cmd_usage_error(&a, "\"%s\" is not a schedule name "
		    "(1-63 of [A-Za-z0-9._-])", a.argv[0]);
	if (strcmp(e->name, "show") == 0) {
		snprintf(path, sizeof(path), "/api/schedules/%s", a.argv[0]);
		return call(&a, EVHTTP_REQ_GET, path, NULL, print_one);
	}
	if (strcmp(e->name, "rm") == 0) {
		snprintf(path, sizeof(path), "/api/schedules/%s", a.argv[0]);
		return call(&a, EVHTTP_REQ_DELETE, path, NULL, print_deleted);
	}
	snprintf(path, sizeof(path), "/api/schedules/%s/%s", a.argv[0], e->name);
	return call(&a, EVHTTP_REQ_POST, path, NULL, print_one);
}

static const struct cmd_entry commands[] = {
	{ "add", "NAME --cron EXPR [--tz ZONE] [--misfire skip|run-once] "
	  "[--grace DURATION] [--overlap skip|queue|allow] (--task T [--to "
	  "PLACEMENT] [--payload JSON|@FILE] | --job JSON|@FILE | --workflow "
	  "FILE [--set KEY=VALUE]...) " API_OPTS "\n\n"
	  "  EXPR: \"M H DOM MON DOW\", @daily (and the other macros) or\n"
	  "  \"@every 5m\"; ZONE: UTC (default) or an IANA name.  Adding a\n"
	  "  name that exists replaces it.  --workflow FILE: the workflow each\n"
	  "  fire runs (the fire's owner coordinates it).  Every error of the\n"
	  "  definition is printed with its field; nothing is stored then\n"
	  "  (exit 1)",
	  1, 1, add_options, add,
	  "add (or replace) a schedule: a job or workflow run at cron times",
	  NULL },
	{ "list", API_OPTS, 0, 0, NULL, list,
	  "every schedule of the mesh, with its next and last fire", NULL },
	{ "show", "NAME " API_OPTS, 1, 1, NULL, named,
	  "one schedule: its definition, next fire, last fire and outcome",
	  NULL },
	{ "rm", "NAME " API_OPTS, 1, 1, NULL, named,
	  "delete a schedule on every node", NULL },
	{ "pause", "NAME " API_OPTS, 1, 1, NULL, named,
	  "stop a schedule firing (everywhere) until resumed", NULL },
	{ "resume", "NAME " API_OPTS, 1, 1, NULL, named,
	  "fire a paused schedule again, from its next fire time", NULL },
};

static const struct cmd_table table = {
	"agentflow schedule",
	"usage: agentflow schedule <command> [arguments]\n\ncommands:\n",
	"\n`agentflow schedule <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_schedule_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
