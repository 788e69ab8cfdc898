/*
 * The workflow commands (see cli_workflow.h).
 */
#include "cli_workflow.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "file.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"
#define DEFINITION_MAX	(1u << 20)

static const struct option check_options[] = {
	{ "set", required_argument, NULL, CLI_O_SET },
	{ NULL, 0, NULL, 0 },
};

/* The definition in path (JSON), or NULL after printing why. */
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
	if ((v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		fprintf(stderr, "agentflow: %s:%d:%d: not JSON: %s\n", path,
		    jerr.line, jerr.column, jerr.text);
	free(text);
	return v;
}

static int
check(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	json_t *def, *set, *body, *v, *step;
	size_t i;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((def = definition(a.argv[0])) == NULL)
		return 1;
	set = json_object();
	for (int k = 0; k < a.nsets; k++) {
		const char *eq = strchr(a.sets[k], '=');
		char key[128];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - a.sets[k]),
		    a.sets[k]);
		json_object_set_new(set, key, json_string(eq + 1));
	}
	body = json_pack("{s:o, s:o}", "definition", def, "set", set);
	rc = cli_api_request(&a.o, EVHTTP_REQ_POST, "/api/workflows/check", body,
	    0, &r);
	json_decref(body);
	if (a.o.json && r.body != NULL) {
		cli_api_print_json(r.body);
		json_decref(r.body);
		return rc == 0 ? 0 : 1;
	}
	if (rc != 0) {
		if (json_is_array(json_object_get(r.body, "errors"))) {
			fprintf(stderr, "%s: %s\n", a.argv[0], r.error);
			json_array_foreach(json_object_get(r.body, "errors"), i, v)
				fprintf(stderr, "  %s: %s\n", cli_fmt_str(v, "path",
				    ""), cli_fmt_str(v, "error", ""));
		} else
			fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
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

static const struct cmd_entry commands[] = {
	{ "check", "FILE [--set KEY=VALUE]... " API_OPTS "\n\n"
	  "  FILE: a workflow definition (JSON; see docs/workflows.md)\n"
	  "  prints every error with the path to its field, or the order the\n"
	  "  steps would run in; runs nothing.  Exit 0 valid, 1 invalid",
	  1, 1, check_options, check,
	  "check a workflow definition whole, before anything runs", NULL },
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
