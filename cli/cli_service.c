/*
 * The service commands (see cli_service.h).
 */
#include "cli_service.h"

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
#include "mesh_names.h"
#include "node_id.h"
#include "text.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"

static const struct option ls_options[] = {
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "name", required_argument, NULL, CLI_O_NAME },
	{ NULL, 0, NULL, 0 },
};

static const struct option to_options[] = {
	{ "to", required_argument, NULL, CLI_O_TO },
	{ NULL, 0, NULL, 0 },
};

/* A service's name as the node checks it: 1-63 of [A-Za-z0-9_-]. */
static int
name_valid(const char *s)
{
	return text_name_valid(s, strlen(s));
}

/* How long a process has run: "-", "42s", "12m", "3h4m", "2d3h". */
static const char *
uptime(json_t *started, char *buf, size_t len)
{
	long long s;

	if (!json_is_integer(started) || json_integer_value(started) <= 0)
		return "-";
	s = ((long long)time(NULL) * 1000 - json_integer_value(started)) / 1000;
	return cli_fmt_duration(s < 0 ? 0 : s, buf, len);
}

/* One request, its answer shown (cli_api_show). */
static int
call(const struct cli_args *a, enum evhttp_cmd_type m, const char *path,
    json_t *body, void (*show)(json_t *))
{
	return cli_api_show(&a->o, m, path, body, show);
}

static void
print_row(json_t *s)
{
	char node[80], reason[120], up[32];
	json_t *pid = json_object_get(s, "pid");

	printf("%-20s %-20s %-8s %-12s %-8lld %-8lld %-8s %s\n",
	    cli_fmt_clean(cli_fmt_str(s, "node", "?"), node, sizeof(node)),
	    cli_fmt_str(s, "name", "?"), cli_fmt_str(s, "desired", "?"),
	    cli_fmt_str(s, "state", "?"),
	    json_is_integer(pid) ? (long long)json_integer_value(pid) : 0LL,
	    (long long)json_integer_value(json_object_get(s, "restarts")),
	    uptime(json_object_get(s, "started_ms"), up, sizeof(up)),
	    cli_fmt_clean(cli_fmt_str(s, "reason", ""), reason,
	    sizeof(reason)));
}

static void
print_list(json_t *body)
{
	json_t *s;
	size_t i;

	printf("%-20s %-20s %-8s %-12s %-8s %-8s %-8s %s\n", "NODE", "NAME",
	    "DESIRED", "STATE", "PID", "RESTARTS", "UPTIME", "REASON");
	json_array_foreach(json_object_get(body, "services"), i, s)
		print_row(s);
}

static void
print_one(json_t *s)
{
	json_t *inst = json_object_get(s, "instances"), *c, *def;
	char *text;
	size_t i;

	printf("%s\n", cli_fmt_str(s, "name", "?"));
	if ((def = json_object_get(s, "definition")) != NULL &&
	    !json_is_null(def)) {
		text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
		printf("  here      %s, desired %s (version %s)\n  "
		    "definition %.400s\n", cli_fmt_str(s, "state", "?"),
		    cli_fmt_str(s, "desired", "?"), cli_fmt_str(s, "version",
		    "?"), text != NULL ? text : "?");
		free(text);
		json_array_foreach(json_object_get(s, "checks"), i, c)
			printf("  check     %s (%s): %s\n", cli_fmt_str(c, "name",
			    "?"), cli_fmt_str(c, "type", "?"), cli_fmt_str(c,
			    "status", "?"));
	}
	if (json_array_size(inst) > 0) {
		json_t *wrap = json_pack("{s:O}", "services", inst);

		printf("\n");
		print_list(wrap);
		json_decref(wrap);
	}
}

static int
ls(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[256];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.node != NULL && !node_id_valid(a.node, strlen(a.node)))
		return cli_cmd_usage_error(&a, "--node: \"%s\" is not a node id",
		    a.node);
	if (a.name != NULL && !name_valid(a.name))
		return cli_cmd_usage_error(&a, "--name: \"%s\" is not a service "
		    "name (1-63 of [A-Za-z0-9_-])", a.name);
	snprintf(path, sizeof(path), "/api/services%s%s%s%s%s",
	    a.name != NULL || a.node != NULL ? "?" : "",
	    a.name != NULL ? "name=" : "", a.name != NULL ? a.name : "",
	    a.name != NULL && a.node != NULL ? "&node=" : a.node != NULL ?
	    "node=" : "", a.node != NULL ? a.node : "");
	return call(&a, EVHTTP_REQ_GET, path, NULL, print_list);
}

static int
show(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!name_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "\"%s\" is not a service name "
		    "(1-63 of [A-Za-z0-9_-])", a.argv[0]);
	snprintf(path, sizeof(path), "/api/services/%s", a.argv[0]);
	return call(&a, EVHTTP_REQ_GET, path, NULL, print_one);
}

static void
describe(json_t *res, char *out, size_t len)
{
	json_t *b = json_object_get(res, "body");

	if (json_is_true(json_object_get(b, "deleted")))
		snprintf(out, len, "deleted");
	else
		snprintf(out, len, "%s, desired %s", cli_fmt_str(b, "state", "?"),
		    cli_fmt_str(b, "desired", "?"));
}

static void
print_state(json_t *b)
{
	if (json_is_true(json_object_get(b, "deleted")))
		printf("service %s deleted\n", cli_fmt_str(b, "name", "?"));
	else
		printf("service %s: %s, desired %s\n", cli_fmt_str(b, "name", "?"),
		    cli_fmt_str(b, "state", "?"), cli_fmt_str(b, "desired", "?"));
}

static json_t *
read_definition(const char *file)
{
	json_error_t err;
	json_t *j;

	j = strcmp(file, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES,
	    &err) : json_load_file(file, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL)
		fprintf(stderr, "agentflow: %s: line %d: %s\n", file, err.line,
		    err.text);
	return j;
}

/* put, rm: here, or with --to as a command on TARGET. */
static int
define(const struct cmd_entry *e, int argc, char **argv)
{
	int put = strcmp(e->name, "put") == 0;
	json_t *def = NULL;
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!name_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "\"%s\" is not a service name "
		    "(1-63 of [A-Za-z0-9_-])", a.argv[0]);
	if (a.to != NULL && !cli_work_target_valid(a.to))
		return cli_cmd_usage_error(&a, "--to: \"%s\" is not a node id, "
		    "\"all\" or k=v", a.to);
	if (put && (def = read_definition(a.argv[1])) == NULL)
		return 1;
	if (a.to != NULL)
		return cli_work_command(&a, a.to, mesh_names_command_type(
		    MESH_COMMAND_TYPE(SERVICE)), put ? json_pack("{s:s, s:s, s:o}",
		    "name", a.argv[0], "action", "put", "definition", def) :
		    json_pack("{s:s, s:s}", "name", a.argv[0], "action",
		    "delete"), describe);
	snprintf(path, sizeof(path), "/api/services/%s", a.argv[0]);
	rc = call(&a, put ? EVHTTP_REQ_PUT : EVHTTP_REQ_DELETE, path, def,
	    print_state);
	json_decref(def);
	return rc;
}

/* start, stop, restart TARGET NAME */
static int
act(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!cli_work_target_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "TARGET: \"%s\" is not a node id, "
		    "\"all\" or k=v", a.argv[0]);
	if (!name_valid(a.argv[1]))
		return cli_cmd_usage_error(&a, "\"%s\" is not a service name "
		    "(1-63 of [A-Za-z0-9_-])", a.argv[1]);
	return cli_work_command(&a, a.argv[0], mesh_names_command_type(
	    MESH_COMMAND_TYPE(SERVICE)), json_pack("{s:s, s:s}", "name",
	    a.argv[1], "action", e->name), describe);
}

static const struct cmd_entry commands[] = {
	{ "ls", "[--node NODE] [--name NAME] " API_OPTS, 0, 0, ls_options, ls,
	  "every service on every node: desired and actual state, restarts",
	  NULL },
	{ "show", "NAME " API_OPTS, 1, 1, NULL, show,
	  "this node's definition, state and checks of NAME, and every "
	  "instance", NULL },
	{ "put", "NAME FILE [--to TARGET] " API_OPTS "\n\n"
	  "  FILE: the definition as JSON (\"-\": stdin); see docs/services.md.\n"
	  "  Every error is printed with its field; nothing changes then.\n"
	  "  --to TARGET: on that node, \"all\" or the nodes matching k=v\n"
	  "  instead of this one",
	  2, 2, to_options, define, "add or replace a service's definition",
	  NULL },
	{ "rm", "NAME [--to TARGET] " API_OPTS, 1, 1, to_options, define,
	  "stop a service and remove its definition", NULL },
	{ "start", "TARGET NAME " API_OPTS, 2, 2, NULL, act,
	  "desired state running on TARGET (node id, all, k=v)", NULL },
	{ "stop", "TARGET NAME " API_OPTS, 2, 2, NULL, act,
	  "desired state stopped on TARGET; kept over restarts", NULL },
	{ "restart", "TARGET NAME " API_OPTS, 2, 2, NULL, act,
	  "stop and start again on TARGET (a failed one gets a new budget)",
	  NULL },
};

static const struct cmd_table table = {
	"agentflow service",
	"usage: agentflow service <command> [arguments]\n\ncommands:\n",
	"\n`agentflow service <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_service_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
