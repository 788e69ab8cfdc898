/*
 * agentflow: the command-line tool.  main() only dispatches: each
 * subcommand is a `int name_main(int argc, char **argv)` owned by its
 * module, called with argv[0] set to the subcommand's name, and its return
 * value is the exit status (0 done, 1 failed, 2 usage error).
 */
#include <stdio.h>
#include <string.h>

#include "certs_cli.h"
#include "cli_mesh.h"
#include "cli_work.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} commands[] = {
	{ "status", cli_status_main, "the mesh as the local node sees it: peers, paths, RTT" },
	{ "nodes", cli_nodes_main, "every node's resources: CPU, memory, disk, load" },
	{ "event", cli_event_main, "send a user event to every node" },
	{ "run", cli_run_main, "run a task on nodes; follow one node's task to its end" },
	{ "logs", cli_logs_main, "a task's output (-f: follow it until the task ends)" },
	{ "cancel", cli_cancel_main, "cancel a task (--hard: kill at once)" },
	{ "tasks", cli_tasks_main, "the tasks this node knows of, on every node" },
	{ "alerts", cli_alerts_main, "the alerts this node knows of, on every node" },
	{ "ack", cli_ack_main, "acknowledge an alert" },
	{ "audit", cli_audit_main, "who did what: commands issued, executed, refused" },
	{ "freeze", cli_freeze_main, "read-only mode on (default: every node)" },
	{ "unfreeze", cli_unfreeze_main, "read-only mode off (default: every node)" },
	{ "ping", cli_ping_main, "the path a command takes to a node, and its RTT" },
	{ "certs", certs_main, "manage the mesh PKI: CA, node certificates, revocation" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: agentflow <command> [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n`agentflow <command> --help` describes a command.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("agentflow %s\n", AGENTFLOW_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "agentflow: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
