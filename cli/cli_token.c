/*
 * The token commands (see cli_token.h): a table of their own, dispatched
 * like the top level's.
 */
#include "cli_token.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "cli_list.h"
#include "token.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"

static const struct option issue_options[] = {
	{ "name", required_argument, NULL, CLI_O_NAME },
	{ "role", required_argument, NULL, CLI_O_ROLE },
	{ "ttl", required_argument, NULL, CLI_O_TTL },
	{ NULL, 0, NULL, 0 },
};

/* Prints the node's refusal and returns 1. */
static int
failed(struct cli_reply *r)
{
	fprintf(stderr, "agentflow: %s\n", r->error);
	json_decref(r->body);
	return 1;
}

static int
issue(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	json_t *body;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.name == NULL || a.role == NULL || a.ttl == NULL)
		return cli_cmd_usage_error(&a, "--name, --role and --ttl are "
		    "required");
	body = json_pack("{s:s, s:s, s:s}", "name", a.name, "role", a.role,
	    "ttl", a.ttl);
	rc = cli_api_call(&a.o, EVHTTP_REQ_POST, "/api/tokens", body, &r);
	json_decref(body);
	if (rc != 0)
		return failed(&r);
	if (a.o.json)
		cli_api_print_json(r.body);
	else {
		printf("%s\n", cli_fmt_str(r.body, "token", ""));
		fprintf(stderr, "token %s for %s (%s), expires in %s; it is not "
		    "shown again\n", cli_fmt_str(r.body, "id", "?"),
		    cli_fmt_str(r.body, "name", "?"), cli_fmt_str(r.body, "role",
		    "?"), a.ttl);
	}
	json_decref(r.body);
	return 0;
}

static int
revoke(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	char path[128];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!token_id_valid(a.argv[0], strlen(a.argv[0])))
		return cli_cmd_usage_error(&a, "\"%.64s\" is not a token id (hex, "
		    "as `agentflow token ls` shows)", a.argv[0]);
	snprintf(path, sizeof(path), "/api/tokens/%s/revoke", a.argv[0]);
	if (cli_api_call(&a.o, EVHTTP_REQ_POST, path, NULL, &r) != 0)
		return failed(&r);
	if (a.o.json)
		cli_api_print_json(r.body);
	else
		printf("revoked token %s\n", a.argv[0]);
	json_decref(r.body);
	return 0;
}

static const struct cmd_entry commands[] = {
	{ "issue", "--name NAME --role read|write|admin --ttl TTL " API_OPTS
	  "\n\n  TTL: 90s, 30m, 8h, 7d or seconds (at most 30 days)\n"
	  "  prints the token on stdout, once",
	  0, 0, issue_options, issue,
	  "mint a signed token for a named person or tool", NULL },
	{ "ls", API_OPTS, 0, 0, NULL, cli_list_exec,
	  "the tokens this node issued (never their text)", &cli_list_tokens },
	{ "revoke", "ID " API_OPTS, 1, 1, NULL, revoke,
	  "refuse a token from now on", NULL },
};

static const struct cmd_table table = {
	"agentflow token",
	"usage: agentflow token <command> [arguments]\n\ncommands:\n",
	"\nThese need an admin token.  `agentflow token <command> --help` "
	"describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

int
cli_token_main(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return cmd_table_main(&table, argc, argv);
}
