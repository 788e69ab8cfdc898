/*
 * agentflow: the command-line tool.  Its commands are one table, each row
 * a command's name, operands and options (usage, operand bounds, the
 * options beyond the common --api/--data-dir/--token/--json/--help), the
 * function that runs it and a line of help; cmd_table_main dispatches and
 * cli_cmd_parse reads a row's arguments.  Exit status: 0 done, 1 failed,
 * 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "certs_cli.h"
#include "cli_fmt.h"
#include "cli_audit.h"
#include "cli_cmd.h"
#include "cli_jobs.h"
#include "cli_replay.h"
#include "cli_list.h"
#include "cli_mesh.h"
#include "cli_token.h"
#include "cli_workflow.h"
#include "cli_schedule.h"
#include "cli_service.h"
#include "cli_artifact.h"
#include "cli_rollout.h"
#include "cli_silence.h"
#include "cli_work.h"
#include "cmd_table.h"
#include "man.h"

#define API_OPTS	"[--api HOST:PORT] [--data-dir DIR] [--json]"
#define COMMAND_OPTS	"[--timeout-ms N] [--key IDEMPOTENCY_KEY] " API_OPTS

static const struct option run_options[] = {
	{ "detach", no_argument, NULL, CLI_O_DETACH },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ NULL, 0, NULL, 0 },
};

static const struct option logs_options[] = {
	{ "follow", no_argument, NULL, 'f' },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static const struct option cancel_options[] = {
	{ "hard", no_argument, NULL, CLI_O_HARD },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ NULL, 0, NULL, 0 },
};

static const struct option command_options[] = {
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ NULL, 0, NULL, 0 },
};

static const struct option ack_options[] = {
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ "all", no_argument, NULL, CLI_O_ALL },
	{ "rule", required_argument, NULL, CLI_O_RULE },
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ NULL, 0, NULL, 0 },
};

static const struct option ping_options[] = {
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ "count", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

static const struct option freeze_options[] = {
	{ "stop", no_argument, NULL, CLI_O_STOP },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ NULL, 0, NULL, 0 },
};

static const struct option list_options[] = {
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "state", required_argument, NULL, CLI_O_STATE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option events_options[] = {
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option history_options[] = {
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "since", required_argument, NULL, CLI_O_SINCE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option purge_options[] = {
	{ "older-than", required_argument, NULL, CLI_O_OLDER_THAN },
	{ NULL, 0, NULL, 0 },
};

static const struct option audit_options[] = {
	{ "node", required_argument, NULL, CLI_O_NODE },
	{ "action", required_argument, NULL, CLI_O_ACTION },
	{ "actor", required_argument, NULL, CLI_O_ACTOR },
	{ "since", required_argument, NULL, CLI_O_SINCE },
	{ "file", required_argument, NULL, CLI_O_FILE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option submit_options[] = {
	{ "to", required_argument, NULL, CLI_O_TO },
	{ "payload", required_argument, NULL, CLI_O_PAYLOAD },
	{ "key", required_argument, NULL, CLI_O_KEY },
	{ "deadline", required_argument, NULL, CLI_O_DEADLINE },
	{ "at-most-once", no_argument, NULL, CLI_O_AT_MOST_ONCE },
	{ "wait", no_argument, NULL, CLI_O_WAIT },
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ "callback", required_argument, NULL, CLI_O_CALLBACK },
	{ "callback-secret-file", required_argument, NULL,
	  CLI_O_CALLBACK_SECRET_FILE },
	{ NULL, 0, NULL, 0 },
};

static const struct option jobs_options[] = {
	{ "state", required_argument, NULL, CLI_O_STATE },
	{ "limit", required_argument, NULL, CLI_O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

static const struct option wait_options[] = {
	{ "timeout-ms", required_argument, NULL, CLI_O_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

/* `version`: this program's, and the node's when it answers. */
static int
version(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_reply r = { 0 };
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	rc = cli_api_request(&a.o, EVHTTP_REQ_GET, "/healthz", NULL, 3, &r);
	if (a.o.json) {
		json_t *out = json_pack("{s:s, s:O?}", "cli", AGENTFLOW_VERSION,
		    "node", rc == 0 ? r.body : NULL);

		cli_api_print_json(out);
		json_decref(out);
	} else {
		printf("agentflow %s\n", AGENTFLOW_VERSION);
		if (rc == 0)
			printf("node %s: agentflow-node %s\n",
			    cli_fmt_str(r.body, "node_id", "?"),
			    cli_fmt_str(r.body, "version", "?"));
		else
			printf("node: not reached (%s)\n", r.error);
	}
	json_decref(r.body);
	return 0;
}

/*
 * `completion SHELL`: a script that asks `agentflow __complete WORDS`
 * for the candidates, so the command tables are the only list.
 */
static const struct {
	const char	*shell;
	const char	*script;
} completions[] = {
	{ "bash",
	  "# agentflow completion for bash: source it, or put it in\n"
	  "# /etc/bash_completion.d/agentflow\n"
	  "_agentflow() {\n"
	  "\tlocal cur=${COMP_WORDS[COMP_CWORD]}\n"
	  "\tlocal IFS=$'\\n'\n"
	  "\tCOMPREPLY=($(agentflow __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" "
	  "2>/dev/null))\n"
	  "\tif [ ${#COMPREPLY[@]} -eq 0 ]; then\n"
	  "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	  "\tfi\n"
	  "}\n"
	  "complete -o filenames -F _agentflow agentflow\n" },
	{ "zsh",
	  "#compdef agentflow\n"
	  "# agentflow completion for zsh: put it in a directory of $fpath as\n"
	  "# _agentflow, or source it after compinit\n"
	  "_agentflow() {\n"
	  "\tlocal -a c\n"
	  "\tc=(${(f)\"$(agentflow __complete \"${(@)words[2,CURRENT]}\" "
	  "2>/dev/null)\"})\n"
	  "\tif (( ${#c} )); then compadd -a c; else _files; fi\n"
	  "}\n"
	  "# autoloaded from $fpath: complete now; sourced: register\n"
	  "if [[ $funcstack[1] == _agentflow ]]; then _agentflow \"$@\"; "
	  "else compdef _agentflow agentflow; fi\n" },
	{ "fish",
	  "# agentflow completion for fish: put it in\n"
	  "# ~/.config/fish/completions/agentflow.fish\n"
	  "# (file names too, for the operands that are files)\n"
	  "complete -c agentflow -a '(agentflow __complete "
	  "(commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'\n" },
};

static int
completion(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(completions) / sizeof(completions[0]);
	    i++)
		if (strcmp(a.argv[0], completions[i].shell) == 0) {
			fputs(completions[i].script, stdout);
			return 0;
		}
	return cli_cmd_usage_error(&a, "no completion for \"%s\" (bash, zsh or "
	    "fish)", a.argv[0]);
}

static const struct option ui_options[] = {
	{ "role", required_argument, NULL, CLI_O_ROLE },
	{ "ttl", required_argument, NULL, CLI_O_TTL },
	{ NULL, 0, NULL, 0 },
};

/*
 * `ui`: the dashboard's address with a token of its own, minted for the
 * person at this terminal (read by default, 8 hours), so the address can
 * be opened or handed on without the node's own tokens.
 */
static int
ui(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_reply r = { 0 };
	const char *user = getenv("USER");
	char host[256], name[80], url[2048];
	struct cli_args a;
	json_t *body;
	size_t n;
	int port, rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.role != NULL && strcmp(a.role, "read") != 0 &&
	    strcmp(a.role, "write") != 0)
		return cli_cmd_usage_error(&a, "--role: read or write (an admin "
		    "token does not belong in a URL)");
	if (cli_api_address(&a.o, host, sizeof(host), &port, r.error,
	    sizeof(r.error)) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		return 1;
	}
	snprintf(name, sizeof(name), "ui-%s", user != NULL ? user : "user");
	for (n = 0; name[n] != '\0'; n++)	/* a principal's name */
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._@-", name[n]) == NULL)
			name[n] = '_';
	name[64] = '\0';
	body = json_pack("{s:s, s:s, s:s}", "name", name, "role",
	    a.role != NULL ? a.role : "read", "ttl", a.ttl != NULL ? a.ttl :
	    "8h");
	rc = cli_api_request(&a.o, EVHTTP_REQ_POST, "/api/tokens", body, 0, &r);
	json_decref(body);
	if (rc != 0) {
		fprintf(stderr, "agentflow: no token minted for the dashboard: %s%s\n",
		    r.error, r.status == 403 ? " (minting needs the admin role: "
		    "give --token with an admin token, or run this where the "
		    "node's data directory is)" : "");
		json_decref(r.body);
		return 1;
	}
	snprintf(url, sizeof(url), "http://%s%s%s:%d/?token=%s", strchr(host,
	    ':') != NULL ? "[" : "", host, strchr(host, ':') != NULL ? "]" : "",
	    port, cli_fmt_str(r.body, "token", ""));
	if (a.o.json) {
		json_t *out = json_pack("{s:s, s:O, s:O, s:O, s:O}", "url", url,
		    "name", json_object_get(r.body, "name"), "role",
		    json_object_get(r.body, "role"), "exp", json_object_get(r.body,
		    "exp"), "token_id", json_object_get(r.body, "id"));

		cli_api_print_json(out);
		json_decref(out);
	} else {
		printf("%s\n", url);
		fprintf(stderr, "a %s token for %s, for %s (agentflow token revoke "
		    "%s ends it)\n", cli_fmt_str(r.body, "role", "?"), name,
		    a.ttl != NULL ? a.ttl : "8h", cli_fmt_str(r.body, "id", "?"));
	}
	json_decref(r.body);
	return 0;
}

/* `certs` parses its own subcommands (certs_cli.h). */
static int
certs(const struct cmd_entry *e, int argc, char **argv)
{
	(void)e;
	return certs_main(argc, argv);
}

static const struct cmd_entry commands[] = {
	{ "version", API_OPTS, 0, 0, NULL, version,
	  "this program's version, and the node's when it answers", NULL },
	{ "ui", "[--role read|write] [--ttl 8h] " API_OPTS "\n\n"
	  "  prints the dashboard's address with a token minted for it (read,\n"
	  "  8 hours unless told); needs the admin role (a bootstrap install's\n"
	  "  write token has it)",
	  0, 0, ui_options, ui,
	  "the dashboard's address with a fresh short-lived token", NULL },
	{ "completion", "bash|zsh|fish\n\n"
	  "  prints the shell's completion script (commands, subcommands and\n"
	  "  options, from the same tables as --help):\n"
	  "    agentflow completion bash > /etc/bash_completion.d/agentflow",
	  1, 1, NULL, completion,
	  "the shell completion script for bash, zsh or fish", NULL },
	{ "status", API_OPTS, 0, 0, NULL, cli_mesh_status,
	  "the mesh as the local node sees it: peers, paths, RTT", NULL },
	{ "nodes", API_OPTS, 0, 0, NULL, cli_mesh_nodes,
	  "every node's resources: CPU, memory, disk, load", NULL },
	{ "event", "NAME [PAYLOAD] [--api HOST:PORT] [--data-dir DIR] [--json]",
	  1, 2, NULL, cli_mesh_event,
	  "send a user event to every node", NULL },
	{ "events", "[--node NODE] [--limit N] " API_OPTS "\n\n"
	  "  the user events this node keeps, oldest first (default: 100);\n"
	  "  a payload that is not text shows as \"binary, N bytes, base64 ...\"",
	  0, 0, events_options, cli_mesh_events,
	  "the user events kept here", NULL },
	{ "history", "[--node NODE] [--since WHEN] [--limit N] " API_OPTS "\n\n"
	  "  a node's metric history (default: this node's, the last hour),\n"
	  "  a line a point: CPU (mean and max), memory, disk, load, network\n"
	  "  --node NODE       that node's own history, over the mesh\n"
	  "  --since WHEN      1h, 30m, 2d, 7d ago, or ms since the epoch\n"
	  "  --limit N         at most N points, neighbours merged (default 60, "
	  "up to 1000)",
	  0, 0, history_options, cli_mesh_history,
	  "a node's CPU, memory, disk and network over time", NULL },
	{ "run", "TARGET TASK [ARGS...] [--detach] [--timeout-ms N] "
	  "[--key IDEMPOTENCY_KEY] " API_OPTS "\n\n"
	  "  TARGET: a node id, \"all\" or labels \"k=v,k2=v2\"; put -- before "
	  "ARGS that start with -\n"
	  "  --detach          print each node's answer, do not follow the tasks\n"
	  "  --timeout-ms N    bound of the whole wait (default 600000)\n"
	  "  --key KEY         idempotency key: a repeat runs nothing new\n"
	  "  each task is followed to its end, its output printed (after\n"
	  "  \"NODE | \" when several nodes run it); exit status: one node's\n"
	  "  task's own (128 + a signal, 124 timed out or no answer in time);\n"
	  "  several: 0 all succeeded, 1 any failed or did not run, else 124",
	  2, -1, run_options, cli_work_run,
	  "run a task on nodes; follow each to its end", NULL },
	{ "logs", "NODE TASK_ID [-f|--follow] [--timeout-ms N] " API_OPTS "\n\n"
	  "  stdout lines go to stdout, stderr lines to stderr\n"
	  "  -f, --follow      print new lines until the task ends\n"
	  "  --timeout-ms N    bound of -f (default 600000)",
	  2, 2, logs_options, cli_work_logs,
	  "a task's output (-f: follow it until the task ends)", NULL },
	{ "cancel", "NODE TASK_ID [--hard] " COMMAND_OPTS "\n\n"
	  "  --hard            SIGKILL at once (default: SIGTERM, then SIGKILL "
	  "after a grace period)",
	  2, 2, cancel_options, cli_work_cancel,
	  "cancel a task (--hard: kill at once)", NULL },
	{ "tasks", "[--node NODE] [--state STATE] [--limit N] " API_OPTS "\n\n"
	  "  STATE: queued, running, succeeded, failed, cancelled, timed-out, "
	  "retrying",
	  0, 0, list_options, cli_list_exec,
	  "the tasks this node knows of, on every node", &cli_list_tasks },
	{ "alerts", "[--node NODE] [--state STATE] [--limit N] " API_OPTS "\n\n"
	  "  STATE: firing, acknowledged, resolved",
	  0, 0, list_options, cli_list_exec,
	  "the alerts this node knows of, on every node", &cli_list_alerts },
	{ "ack", "NODE ALERT_ID | --all [--rule RULE] [--node NODE] "
	  COMMAND_OPTS "\n\n"
	  "  --all             every firing, unacknowledged alert this node "
	  "knows of\n"
	  "                    (only RULE's, only NODE's), one ack each; a line "
	  "an\n"
	  "                    alert, exit 1 when any was not acknowledged",
	  0, 2, ack_options, cli_work_ack,
	  "acknowledge an alert, or every firing one (--all)", NULL },
	{ "audit", "[verify [--file PATH]] [--node NODE] [--action ACTION] "
	  "[--actor PRINCIPAL] [--since WHEN] [--limit N] " API_OPTS "\n\n"
	  "  --node NODE       that node's records (fetched over the mesh)\n"
	  "  --action ACTION   command.issued, command.forwarded, "
	  "command.executed,\n"
	  "                    command.refused, command.done, api.event, "
	  "auth.failed, ...\n"
	  "  --actor P         records of one principal (token:NAME)\n"
	  "  --since WHEN      1h, 30m, 2d, 10s ago, or ms since the epoch\n"
	  "  verify            check the hash chain of the node's audit.jsonl "
	  "(exit 1\n"
	  "                    naming the first bad line); --file PATH checks a "
	  "file\n"
	  "                    offline, without a node",
	  0, 1, audit_options, cli_audit_exec,
	  "who did what, on any node; audit verify checks the log's chain", NULL },
	{ "freeze", "[TARGET] [--stop] " COMMAND_OPTS "\n\n"
	  "  read-only mode on TARGET (default: all): tasks and acks are "
	  "refused;\n"
	  "  a node that was away learns it on its first link\n"
	  "  --stop            also stop every unfinished task (SIGTERM, then "
	  "SIGKILL\n"
	  "                    after its grace)",
	  0, 1, freeze_options, cli_work_freeze,
	  "read-only mode on (default: every node)", NULL },
	{ "unfreeze", "[TARGET] " COMMAND_OPTS "\n\n"
	  "  read-only mode off on TARGET (default: all)",
	  0, 1, command_options, cli_work_unfreeze,
	  "read-only mode off (default: every node)", NULL },
	{ "ping", "TARGET [-c N] " COMMAND_OPTS "\n\n"
	  "  prints the path each node's command took and its round trip;\n"
	  "  -c N: N pings a second apart (-c 0: until interrupted); exit 0\n"
	  "  when every one was answered",
	  1, 1, ping_options, cli_work_ping,
	  "the path a command takes to a node, and its RTT", NULL },
	{ "forget", "NODE " API_OPTS "\n\n"
	  "  NODE must be dead or left (refused for a node alive or suspect);\n"
	  "  a node that comes back later is a new member again",
	  1, 1, NULL, cli_mesh_forget,
	  "drop a dead or left node from every node's view", NULL },
	{ "purge", "--older-than AGE " API_OPTS "\n\n"
	  "  removes the node's records older than AGE (at least 1h: 12h, 30d, "
	  "2w):\n"
	  "  finished tasks and their logs, command records, resolved alerts, "
	  "events,\n  settled jobs (as --retain-jobs does);\n"
	  "  never unfinished tasks or the audit log (it rotates by size)",
	  0, 0, purge_options, cli_mesh_purge,
	  "remove old records from a node (admin)", NULL },
	{ "submit", "TASK --to NODE|any|any:KEY=VALUE|all|KEY=VALUE "
	  "[--payload JSON|@FILE] "
	  "[--key K] [--deadline 60s] [--at-most-once] [--wait] [--timeout-ms N] "
	  "[--callback URL --callback-secret-file FILE] " API_OPTS "\n\n"
	  "  a durable job, issued by the local node: stored, sent when its "
	  "node is\n"
	  "  reachable, until its deadline (default 24h)\n"
	  "  --wait            block until the job is final; exit with its "
	  "status\n"
	  "                    (the task's exit status, 124 expired or lost)\n"
	  "  --to all, --to KEY=VALUE,...: one child job per matching node; "
	  "--wait\n"
	  "                    prints each node's state and exit code and exits\n"
	  "                    0 all succeeded, 1 any failed or cancelled, else\n"
	  "                    124 any expired or lost\n"
	  "  --callback URL    POST the result there when the job ends, signed\n"
	  "                    (HMAC-SHA256 with the secret in the file, or\n"
	  "                    $AGENTFLOW_CALLBACK_SECRET), retried until a 2xx",
	  1, 1, submit_options, cli_jobs_submit,
	  "submit a durable job to a node or to any matching node", NULL },
	{ "jobs", "[--state STATE] [--limit N] " API_OPTS "\n\n"
	  "  STATE: queued, dispatched, running, succeeded, failed, cancelled,\n"
	  "         expired, lost",
	  0, 0, jobs_options, cli_jobs_list,
	  "the jobs issued on this node", NULL },
	{ "job", "ID " API_OPTS, 1, 1, NULL, cli_jobs_show,
	  "one job and its history: every transition, node and epoch", NULL },
	{ "trace", "ID " API_OPTS "\n\n"
	  "  every step of the job in time order: submitted (by whom), dispatched\n"
	  "  (node, epoch), running, fenced, its result, callback attempts, with\n"
	  "  the fields each step recorded; --json the steps as JSON",
	  1, 1, NULL, cli_jobs_trace,
	  "a job's whole story, step by step", NULL },
	{ "wait", "ID [--timeout-ms N] " API_OPTS "\n\n"
	  "  exit status: the task's, 124 expired, lost or --timeout-ms passed;\n"
	  "  a job sent to all or KEY=VALUE: 0 all succeeded, 1 any failed or\n"
	  "  cancelled, else 124 any expired or lost",
	  1, 1, wait_options, cli_jobs_wait,
	  "block until a job is final; exit with its status", NULL },
	{ "replay", NULL, 0, -1, NULL, cli_replay,
	  "run a failed, cancelled, lost or expired job again (or a batch)",
	  NULL },
	{ "workflow", NULL, 0, -1, NULL, cli_workflow_main,
	  "workflows: run, watch, approve and steer multi-step work", cmd_table_group },
	{ "schedule", NULL, 0, -1, NULL, cli_schedule_main,
	  "schedules: jobs at cron times, fired by whichever node owns each",
	  cmd_table_group },
	{ "service", NULL, 0, -1, NULL, cli_service_main,
	  "services: processes kept running in their desired state, by name",
	  cmd_table_group },
	{ "artifact", NULL, 0, -1, NULL, cli_artifact_main,
	  "artifacts: files services run from, fetched over the mesh", cmd_table_group },
	{ "silence", NULL, 0, -1, NULL, cli_silence_main,
	  "silences: no notices for matching alerts for a while",
	  cmd_table_group },
	{ "rollout", NULL, 0, -1, NULL, cli_rollout_main,
	  "rollouts: a new service version to nodes, each kept once healthy",
	  cmd_table_group },
	{ "token", NULL, 0, -1, NULL, cli_token_main,
	  "signed, expiring API tokens: issue, ls, revoke (admin)", cmd_table_group },
	{ "certs", NULL, 0, -1, NULL, certs,
	  "manage the mesh PKI: CA, node certificates, revocation", cmd_table_group },
};

static const struct cmd_table table = {
	"agentflow",
	"usage: agentflow <command> [arguments]\n\ncommands:\n",
	"\n`agentflow <command> --help` describes a command.\n",
	commands, sizeof(commands) / sizeof(commands[0]),
};

/*
 * `agentflow __man`: agentflow(1) in roff, the build's copy in
 * share/man/man1.  The commands are the tables' rows (cmd_table.h); this
 * is only what no table holds.
 */
static int
man_page(int argc, char **argv)
{
	int rc;

	man_head(stdout, "agentflow", "the AgentFlow command-line tool");
	fputs(".SH SYNOPSIS\n"
	    ".B agentflow\n"
	    "[\\-\\-api \\fIHOST:PORT\\fR] [\\-\\-data\\-dir \\fIDIR\\fR] "
	    "[\\-\\-token \\fITOKEN\\fR] [\\-\\-json]\n"
	    "\\fICOMMAND\\fR [\\fIARGUMENTS\\fR]\n"
	    ".SH DESCRIPTION\n"
	    "A client of an AgentFlow node's local HTTP API: the mesh, tasks, "
	    "jobs, workflows,\nservices and alerts as that node sees them, and "
	    "the mesh's certificates.\n"
	    "\\fBagentflow\\fR \\fICOMMAND\\fR \\-\\-help describes a command.\n"
	    ".SH COMMANDS\n", stdout);
	rc = cmd_table_main(&table, argc, argv);
	fputs(".SH ENVIRONMENT\n"
	    ".TP\n.B AGENTFLOW_API\nthe node's API, HOST:PORT (\\-\\-api wins)\n"
	    ".TP\n.B AGENTFLOW_TOKEN\nthe API token (\\-\\-token wins)\n"
	    ".TP\n.B AGENTFLOW_DATA_DIR\nthe node's data directory "
	    "(\\-\\-data\\-dir wins)\n"
	    ".TP\n.B XDG_CONFIG_HOME\nwhere the user's agentflow/cli.conf is "
	    "(unset: $HOME/.config; see FILES)\n"
	    ".SH FILES\n"
	    "Without \\-\\-api or \\-\\-token (or their variables), the "
	    "node's address and token are read\nfrom its data directory "
	    "(api.json, tokens.json): \\-\\-data\\-dir,\n"
	    "$AGENTFLOW_DATA_DIR, else ./agentflow\\-data, else a host "
	    "install's /var/lib/agentflow;\nelse, when no data directory was "
	    "named, from the user's file\n"
	    ".I $XDG_CONFIG_HOME/agentflow/cli.conf\n"
	    "(default ~/.config/agentflow/cli.conf),\n"
	    "lines of \\fBapi\\fR = \\fIHOST:PORT\\fR and "
	    "\\fBtoken\\-file\\fR = \\fIFILE\\fR (or \\fBtoken\\fR = "
	    "\\fITOKEN\\fR);\na file holding a token that others may read "
	    "is refused (chmod 600), and so is one\nanother user owns or "
	    "others may write. A token read from a file goes only to the\n"
	    "address read from the same place, or to one given.\n"
	    "When none has the address, the CLI names each place it looked "
	    "at.\n"
	    ".SH EXIT STATUS\n0 done, 1 failed, 2 usage error; run (on one "
	    "node), submit \\-\\-wait and wait exit with the task's status "
	    "(128 + a signal, 124 timed out); run on several nodes: 0 all "
	    "succeeded, 1 any failed or did not run, else 124.\n"
	    ".SH SEE ALSO\n.BR agentflow\\-node (1),\n"
	    ".BR agentflow\\-signal (1)\n", stdout);
	return rc;
}

/*
 * The common options may come before the command (`agentflow --api H:P
 * status`): they are moved to just after it (after a group's command),
 * where each command's parser reads them, and before any "--".
 */
static char **
globals_after_command(int argc, char **argv, int *nargc)
{
	static const char *const with_value[] = { "--api", "--data-dir",
	    "--token" };
	char **out;
	int g = 1, at, k = 0;

	while (g < argc) {
		int known = strcmp(argv[g], "--json") == 0, value = 0;

		for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]);
		    i++)
			if (strcmp(argv[g], with_value[i]) == 0)
				known = value = 1;
			else if (strncmp(argv[g], with_value[i],
			    strlen(with_value[i])) == 0 &&
			    argv[g][strlen(with_value[i])] == '=')
				known = 1;
		if (!known || (value && g + 1 >= argc))
			break;
		g += 1 + value;
	}
	if (g == 1)
		return NULL;
	if ((out = calloc((size_t)argc + 1, sizeof(*out))) == NULL)
		return NULL;
	out[k++] = argv[0];
	if (g >= argc) {	/* options, and no command after them */
		*nargc = k;
		return out;
	}
	at = g + 1;		/* after the command, or its group's command */
	for (size_t i = 0; i < table.n; i++)
		if (strcmp(argv[g], table.entries[i].name) == 0 &&
		    table.entries[i].data == cmd_table_group) {
			if (at >= argc) {	/* no subcommand: its usage */
				out[k++] = argv[g];
				*nargc = k;
				return out;
			}
			at++;
		}
	for (int i = g; i < at; i++)
		out[k++] = argv[i];
	for (int i = 1; i < g; i++)
		out[k++] = argv[i];
	for (int i = at; i < argc; i++)
		out[k++] = argv[i];
	*nargc = k;
	return out;
}

int
main(int argc, char **argv)
{
	char **moved;
	int rc, nargc;

	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("agentflow %s\n", AGENTFLOW_VERSION);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "__man") == 0)
		return man_page(argc, argv);
	if ((moved = globals_after_command(argc, argv, &nargc)) == NULL)
		return cmd_table_main(&table, argc, argv);
	if (nargc == 1) {	/* never the options' values in a message */
		fprintf(stderr, "agentflow: a command is needed after the "
		    "options\n\n");
		cmd_table_usage(&table, stderr);
		rc = CMD_TABLE_EXIT_USAGE;
	} else if (strcmp(moved[1], "--version") == 0) {
		printf("agentflow %s\n", AGENTFLOW_VERSION);
		rc = 0;
	} else
		rc = cmd_table_main(&table, nargc, moved);
	free(moved);
	return rc;
}
