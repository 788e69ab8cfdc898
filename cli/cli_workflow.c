/*
 * The workflow commands (see cli_workflow.h): check, run, list, show and
 * the people's actions, each one request to the node's API
 * (docs/workflows.md); run --wait polls until the workflow is done.
 */
#include "cli_workflow.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "clock.h"
#include "file.h"
#include "yaml_json.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"
#define DEFINITION_MAX	(1u << 20)
#define WAIT_DEFAULT_MS	3600000
#define POLL_MS		300

static const struct option run_options[] = {
	{ "set", required_argument, NULL, CLI_O_SET },
	{ "wait", no_argument, NULL, CLI_O_WAIT },
	{ "timeout", required_argument, NULL, CLI_O_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static const struct option list_options[] = {
	{ "state", required_argument, NULL, CLI_O_STATE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option comment_options[] = {
	{ "comment", required_argument, NULL, CLI_O_COMMENT },
	{ NULL, 0, NULL, 0 },
};

static const struct option check_options[] = {
	{ "set", required_argument, NULL, CLI_O_SET },
	{ NULL, 0, NULL, 0 },
};

/* A file named *.yaml or *.yml holds YAML. */
static int
yaml_named(const char *path)
{
	size_t n = strlen(path);

	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* The definition in path (JSON, or YAML by its name), or NULL after
 * printing why. */
static json_t *
definition(const char *path)
{
	char ferr[256], *text;
	json_error_t jerr;
	size_t len;
	json_t *v;

	if ((text = file_read(path, DEFINITION_MAX, &len, NULL, ferr,
	    sizeof(ferr))) == NULL) {
		fprintf(stderr, "agentflow: %s: %s\n", path, ferr);
		return NULL;
	}
	if (yaml_named(path)) {
		if ((v = yaml_json_load(text, len, ferr, sizeof(ferr))) == NULL)
			fprintf(stderr, "agentflow: %s: not YAML as JSON holds it: "
			    "%s\n", path, ferr);
	} else if ((v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL)
		fprintf(stderr, "agentflow: %s:%d:%d: not JSON: %s\n", path,
		    jerr.line, jerr.column, jerr.text);
	free(text);
	return v;
}

/*
 * POSTs {definition: FILE's, set: --set's} to path.  0 with the answer
 * in r (2xx, not --json); else the exit status after printing the
 * answer (--json) or every error of the definition.
 */
json_t *
cli_workflow_body(const char *file, const struct cli_args *a)
{
	json_t *def, *set;

	if ((def = definition(file)) == NULL)
		return NULL;
	set = json_object();
	for (int k = 0; k < a->nsets; k++) {
		const char *eq = strchr(a->sets[k], '=');
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a->sets[k]),
		    a->sets[k]);
		json_object_set_new(set, key, json_string(eq + 1));
	}
	return json_pack("{s:o, s:o}", "definition", def, "set", set);
}

static int
send_definition(const struct cli_args *a, const char *path,
    struct cli_reply *r)
{
	json_t *body, *v;
	size_t i;
	int rc;

	if ((body = cli_workflow_body(a->argv[0], a)) == NULL)
		return 1;
	rc = cli_api_request(&a->o, EVHTTP_REQ_POST, path, body, 0, r);
	json_decref(body);
	if (a->o.json && r->body != NULL && (rc != 0 || !a->wait)) {
		cli_api_print_json(r->body);
		json_decref(r->body);
		return rc == 0 ? -1 : 1;
	}
	if (rc == 0)
		return 0;
	if (json_is_array(json_object_get(r->body, "errors"))) {
		fprintf(stderr, "%s: %s\n", a->argv[0], r->error);
		json_array_foreach(json_object_get(r->body, "errors"), i, v)
			fprintf(stderr, "  %s: %s\n", cli_fmt_str(v, "path", ""),
			    cli_fmt_str(v, "error", ""));
	} else
		fprintf(stderr, "agentflow: %s\n", r->error);
	json_decref(r->body);
	return 1;
}

static int
check(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	json_t *v, *step;
	size_t i;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((rc = send_definition(&a, "/api/workflows/check", &r)) != 0)
		return rc < 0 ? 0 : rc;
	v = json_object_get(r.body, "workflow");
	printf("%s: workflow %s is valid: %zu steps\n  order:", a.argv[0],
	    cli_fmt_str(v, "name", "?"), json_array_size(json_object_get(v,
	    "steps")));
	json_array_foreach(json_object_get(v, "order"), i, step)
		printf("%s %s", i > 0 ? " →" : "", json_string_value(step));
	printf("\n");
	json_decref(r.body);
	return 0;
}

static int
done_state(const char *s)
{
	return s != NULL && (strcmp(s, "succeeded") == 0 ||
	    strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0 ||
	    strcmp(s, "budget-exceeded") == 0);
}

static void
duration(json_t *v, char *buf, size_t len)
{
	json_int_t ms = json_integer_value(v);

	if (!json_is_integer(v))
		snprintf(buf, len, "-");
	else if (ms < 10000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else
		snprintf(buf, len, "%llds", (long long)(ms / 1000));
}

/* The DAG as a table: step, needs, state, node, attempt, duration. */
static void
print_workflow(json_t *wf)
{
	char needs[256], dur[32], clean[256];
	json_t *s, *n;
	size_t i, j;

	printf("workflow %s (%s): %s%s%s\n", cli_fmt_str(wf, "id", "?"),
	    cli_fmt_str(wf, "name", "?"), cli_fmt_str(wf, "state", "?"),
	    json_is_string(json_object_get(wf, "reason")) ? ": " : "",
	    cli_fmt_clean(cli_fmt_str(wf, "reason", ""), clean, sizeof(clean)));
	printf("  by %s, coordinated by %s\n", cli_fmt_str(wf, "principal", "?"),
	    cli_fmt_str(wf, "coordinator", "?"));
	printf("  %-20s %-20s %-16s %-12s %-7s %s\n", "STEP", "NEEDS", "STATE",
	    "NODE", "ATTEMPT", "DURATION");
	json_array_foreach(json_object_get(wf, "steps"), i, s) {
		needs[0] = '\0';
		json_array_foreach(json_object_get(s, "needs"), j, n)
			snprintf(needs + strlen(needs), sizeof(needs) -
			    strlen(needs), "%s%s", j > 0 ? "," : "",
			    json_string_value(n));
		duration(json_object_get(s, "duration_ms"), dur, sizeof(dur));
		printf("  %-20s %-20s %-16s %-12s %-7lld %s\n", cli_fmt_str(s,
		    "name", "?"), needs[0] != '\0' ? needs : "-",
		    cli_fmt_str(s, "state", "?"), cli_fmt_str(s, "node", "-"),
		    (long long)json_integer_value(json_object_get(s, "attempt")),
		    dur);
		if (json_is_string(json_object_get(s, "error")))
			printf("      %s\n", cli_fmt_clean(cli_fmt_str(s, "error",
			    ""), clean, sizeof(clean)));
		if (strcmp(cli_fmt_str(s, "state", ""), "waiting-approval") == 0)
			printf("      waits for a person: %s\n", cli_fmt_clean(
			    cli_fmt_str(s, "prompt", ""), clean, sizeof(clean)));
		if (json_is_string(json_object_get(s, "approved_by")))
			printf("      approved by %s%s%s\n", cli_fmt_str(s,
			    "approved_by", ""), json_is_string(json_object_get(s,
			    "comment")) ? ": " : "", cli_fmt_clean(cli_fmt_str(s,
			    "comment", ""), clean, sizeof(clean)));
	}
}

/* GET /api/workflows/ID into r: 0, or 1 after printing why. */
static int
fetch(const struct cli_args *a, const char *id, struct cli_reply *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/api/workflows/%s", id);
	memset(r, 0, sizeof(*r));
	if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, r) != 0) {
		fprintf(stderr, "agentflow: workflow %s: %s\n", id, r->error);
		json_decref(r->body);
		return 1;
	}
	return 0;
}

/* Shows the workflow (or its JSON): 0 when it succeeded, else 1. */
static int
show_done(const struct cli_args *a, json_t *wf)
{
	int rc = strcmp(cli_fmt_str(wf, "state", ""), "succeeded") == 0 ? 0 : 1;

	if (a->o.json)
		cli_api_print_json(wf);
	else
		print_workflow(wf);
	return rc;
}

static int
run(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	char id[64];
	uint64_t end;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((rc = send_definition(&a, "/api/workflows", &r)) != 0)
		return rc < 0 ? 0 : rc;
	snprintf(id, sizeof(id), "%s", cli_fmt_str(r.body, "id", ""));
	if (!a.wait)
		printf("workflow %s running on %s\n", id, cli_fmt_str(r.body,
		    "coordinator", "?"));
	json_decref(r.body);
	if (!a.wait)
		return 0;
	end = clock_mono_ms() + (uint64_t)(a.timeout_ms > 0 ? a.timeout_ms :
	    WAIT_DEFAULT_MS);
	for (;;) {
		if (fetch(&a, id, &r) != 0)
			return 1;
		if (done_state(cli_fmt_str(r.body, "state", NULL)))
			break;
		json_decref(r.body);
		if (clock_mono_ms() >= end) {
			fprintf(stderr, "agentflow: workflow %s is not done\n", id);
			return CLI_EXIT_EXPIRED;
		}
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
	}
	rc = show_done(&a, r.body);
	json_decref(r.body);
	return rc;
}

static int
list(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	char path[160], ago[32];
	json_t *w;
	size_t i;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	snprintf(path, sizeof(path), "/api/workflows?limit=%lld%s%s",
	    a.limit > 0 ? a.limit : 100, a.state != NULL ? "&state=" : "",
	    a.state != NULL ? a.state : "");
	if (cli_api_call(&a.o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a.o.json)
		cli_api_print_json(r.body);
	else {
		printf("%-18s %-24s %-16s %-6s %-16s %s\n", "ID", "NAME", "STATE",
		    "STEPS", "BY", "CREATED");
		json_array_foreach(json_object_get(r.body, "workflows"), i, w)
			printf("%-18s %-24s %-16s %-6lld %-16s %s\n", cli_fmt_str(w,
			    "id", "?"), cli_fmt_str(w, "name", "?"), cli_fmt_str(w,
			    "state", "?"), (long long)json_integer_value(
			    json_object_get(w, "steps")), cli_fmt_str(w,
			    "principal", "?"), cli_fmt_ago(json_object_get(w,
			    "created_ms"), ago, sizeof(ago)));
	}
	json_decref(r.body);
	return 0;
}

static int
show(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (fetch(&a, a.argv[0], &r) != 0)
		return 1;
	if (a.o.json)
		cli_api_print_json(r.body);
	else
		print_workflow(r.body);
	json_decref(r.body);
	return 0;
}

/* pause, resume, cancel, approve, reject, retry: e->data is the verb. */
static int
act(const struct cmd_entry *e, int argc, char **argv)
{
	const char *verb = e->data;
	struct cli_args a;
	struct cli_reply r;
	char path[200];
	json_t *body;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	body = json_object();
	if (a.argc > 1)
		json_object_set_new(body, "step", json_string(a.argv[1]));
	if (a.comment != NULL)
		json_object_set_new(body, "comment", json_string(a.comment));
	snprintf(path, sizeof(path), "/api/workflows/%s/%s", a.argv[0], verb);
	rc = cli_api_call(&a.o, EVHTTP_REQ_POST, path, body, &r);
	json_decref(body);
	if (rc != 0) {
		if (a.o.json && r.body != NULL)
			cli_api_print_json(r.body);
		fprintf(stderr, "agentflow: workflow %s: %s\n", a.argv[0],
		    r.error);
		json_decref(r.body);
		return 1;
	}
	if (a.o.json)
		cli_api_print_json(r.body);
	else
		printf("workflow %s: %s%s%s: now %s\n", a.argv[0], verb,
		    a.argc > 1 ? " " : "", a.argc > 1 ? a.argv[1] : "",
		    cli_fmt_str(r.body, "state", "?"));
	json_decref(r.body);
	return 0;
}

static const struct cmd_entry commands[] = {
	{ "check", "FILE [--set KEY=VALUE]... " API_OPTS "\n\n"
	  "  FILE: a workflow definition (JSON; see docs/workflows.md)\n"
	  "  prints every error with the path to its field, or the order the\n"
	  "  steps would run in; runs nothing.  Exit 0 valid, 1 invalid",
	  1, 1, check_options, check,
	  "check a workflow definition whole, before anything runs", NULL },
	{ "run", "FILE [--set KEY=VALUE]... [--wait [--timeout MS]] "
	  API_OPTS "\n\n"
	  "  runs the workflow on this node, its coordinator; --wait polls\n"
	  "  until it is done and shows it.  Exit 0 submitted (--wait:\n"
	  "  succeeded), 1 invalid or not succeeded, 124 not done in time",
	  1, 1, run_options, run, "run a workflow", NULL },
	{ "list", "[--state STATE] [--limit N] " API_OPTS, 0, 0, list_options,
	  list, "list the workflows coordinated here, newest first", NULL },
	{ "show", "ID " API_OPTS, 1, 1, NULL, show,
	  "a workflow's steps as a table: needs, state, node, attempt, "
	  "duration", NULL },
	{ "pause", "ID " API_OPTS, 1, 1, NULL, act,
	  "dispatch no new step (running ones go on)", "pause" },
	{ "resume", "ID " API_OPTS, 1, 1, NULL, act,
	  "dispatch again after a pause", "resume" },
	{ "approve", "ID STEP [--comment TEXT] " API_OPTS, 2, 2,
	  comment_options, act, "approve a step waiting for a person",
	  "approve" },
	{ "reject", "ID STEP [--comment TEXT] " API_OPTS, 2, 2,
	  comment_options, act, "reject a step waiting for a person: it fails",
	  "reject" },
	{ "cancel", "ID " API_OPTS, 1, 1, NULL, act,
	  "cancel a workflow and the jobs of its running steps", "cancel" },
	{ "retry", "ID [STEP] " API_OPTS, 1, 2, NULL, act,
	  "run the failed (or the named) steps again, and the steps after "
	  "them", "retry" },
};

static const struct cmd_table table = {
	"agentflow workflow",
	"usage: agentflow workflow <command> [arguments]\n\ncommands:\n",
	"\n`agentflow workflow <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_workflow_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
