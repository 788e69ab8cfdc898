/*
 * The silence commands (see cli_silence.h).
 */
#include "cli_silence.h"

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "clock.h"
#include "node_id.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"

static const struct option add_options[] = {
	{ "rule", required_argument, NULL, CLI_O_RULE },
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "label", required_argument, NULL, CLI_O_LABEL },
	{ "for", required_argument, NULL, CLI_O_FOR },
	{ "comment", required_argument, NULL, CLI_O_COMMENT },
	{ NULL, 0, NULL, 0 },
};

/* A silence's matchers for people: "rule=cpu_high node=n1 site=home". */
static const char *
matchers_text(json_t *m, char *buf, size_t len)
{
	json_t *v;
	const char *k;
	size_t at = 0;
	char clean[320];

	buf[0] = '\0';
	json_object_foreach(m, k, v) {
		if (json_is_object(v)) {
			const char *lk;
			json_t *lv;

			json_object_foreach(v, lk, lv)
				at += (size_t)snprintf(buf + at, at < len ? len - at :
				    0, "%s%s=%s", at ? " " : "", lk, cli_fmt_clean(
				    json_string_value(lv), clean, sizeof(clean)));
		} else
			at += (size_t)snprintf(buf + at, at < len ? len - at : 0,
			    "%s%s=%s", at ? " " : "", k, cli_fmt_clean(
			    json_string_value(v), clean, sizeof(clean)));
	}
	return buf;
}

static void
print_added(json_t *s)
{
	char m[512];

	printf("silence %s added: %s\n", cli_fmt_str(s, "id", "?"),
	    matchers_text(json_object_get(s, "matchers"), m, sizeof(m)));
}

static int
add(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	json_t *body, *m, *labels;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.rule == NULL && a.node == NULL && a.nlabels == 0)
		return cli_cmd_usage_error(&a, "give --rule, --node or --label "
		    "(at least one)");
	if (a.for_ == NULL)
		return cli_cmd_usage_error(&a, "--for DURATION is required "
		    "(90s, 15m, 2h, 7d)");
	m = json_object();
	if (a.rule != NULL)
		json_object_set_new(m, "rule", json_string(a.rule));
	if (a.node != NULL)
		json_object_set_new(m, "node", json_string(a.node));
	if (a.nlabels > 0) {
		labels = json_object();
		for (int i = 0; i < a.nlabels; i++) {
			const char *eq = strchr(a.labels[i], '=');
			char key[64];

			if (eq - a.labels[i] >= (ptrdiff_t)sizeof(key)) {
				json_decref(labels);
				json_decref(m);
				return cli_cmd_usage_error(&a, "--label: a key of at "
				    "most %zu bytes", sizeof(key) - 1);
			}
			snprintf(key, sizeof(key), "%.*s", (int)(eq - a.labels[i]),
			    a.labels[i]);
			json_object_set_new(labels, key, json_string(eq + 1));
		}
		json_object_set_new(m, "labels", labels);
	}
	body = json_pack("{s:o, s:s, s:s}", "matchers", m, "for", a.for_,
	    "comment", a.comment != NULL ? a.comment : "");
	if (body == NULL)
		return cli_cmd_usage_error(&a, "--label and --comment take UTF-8 "
		    "text");
	rc = cli_api_show(&a.o, EVHTTP_REQ_POST, "/api/silences", body,
	    print_added);
	json_decref(body);
	return rc;
}

static void
print_list(json_t *body)
{
	json_t *s;
	size_t i;
	long long now = (long long)clock_wall_ms();
	char m[512], left[32], by[80], comment[120];

	/* NODE: the one it was added on (silences are the mesh's). */
	printf("%-20s %-12s %-36s %-8s %-16s %s\n", "ID", "NODE", "MATCHERS",
	    "ENDS IN", "BY", "COMMENT");
	json_array_foreach(json_object_get(body, "silences"), i, s) {
		long long ends = (long long)json_integer_value(json_object_get(s,
		    "ends_ms"));

		printf("%-20s %-12s %-36s %-8s %-16s %s\n", cli_fmt_str(s, "id",
		    "?"), cli_fmt_str(s, "node", "-"), matchers_text(json_object_get(s, "matchers"), m, sizeof(m)),
		    cli_fmt_duration((ends - now) / 1000, left, sizeof(left)),
		    cli_fmt_clean(cli_fmt_str(s, "created_by", "-"), by,
		    sizeof(by)), cli_fmt_clean(cli_fmt_str(s, "comment", ""),
		    comment, sizeof(comment)));
	}
}

static int
ls(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	return cli_api_show(&a.o, EVHTTP_REQ_GET, "/api/silences", NULL,
	    print_list);
}

static void
print_removed(json_t *body)
{
	printf("silence %s removed\n", cli_fmt_str(body, "id", "?"));
}

static int
rm(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!node_id_valid(a.argv[0], strlen(a.argv[0])))
		return cli_cmd_usage_error(&a, "\"%s\" is not a silence id",
		    a.argv[0]);
	snprintf(path, sizeof(path), "/api/silences/%s", a.argv[0]);
	return cli_api_show(&a.o, EVHTTP_REQ_DELETE, path, NULL, print_removed);
}

static const struct cmd_entry commands[] = {
	{ "add", "(--rule RULE | --node NODE | --label KEY=VALUE ...) --for "
	  "DURATION [--comment TEXT] " API_OPTS "\n\n"
	  "  no notice goes out for the alerts of any node that match every\n"
	  "  matcher given, until DURATION (90s, 15m, 2h, 7d; at most 90d) has\n"
	  "  passed; they still fire and are listed, marked silenced.  --label\n"
	  "  matches the alert's node's labels (up to 8).  Added on any node,\n"
	  "  a silence reaches every node of the mesh",
	  0, 0, add_options, add,
	  "hold back the notices of matching alerts for a while", NULL },
	{ "ls", API_OPTS, 0, 0, NULL, ls,
	  "the mesh's active silences, with the node each was added on", NULL },
	{ "rm", "ID " API_OPTS "\n\n"
	  "  ends the silence, on every node, whichever node it was added on;\n"
	  "  an alert it held that still fires is notified once",
	  1, 1, NULL, rm, "end a silence", NULL },
};

static const struct cmd_table table = {
	"agentflow silence",
	"usage: agentflow silence <command> [arguments]\n\ncommands:\n",
	"\n`agentflow silence <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_silence_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
