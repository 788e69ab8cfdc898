/*
 * The subcommand dispatcher (see cmd_table.h).  It only finds the row and
 * resets getopt; parsing a row's options and operands is its tool's
 * business (the CLI's cli_cmd.c reads the row's usage, options and
 * operand bounds; each `certs` command parses its own).
 */
#include "cmd_table.h"

#include <string.h>

void
cmd_table_usage(const struct cmd_table *t, FILE *out)
{
	fputs(t->head, out);
	for (size_t i = 0; i < t->n; i++)
		fprintf(out, "  %-8s %s\n", t->entries[i].name,
		    t->entries[i].help);
	fputs(t->tail, out);
}

int
cmd_table_main(const struct cmd_table *t, int argc, char **argv)
{
	if (argc < 2) {
		cmd_table_usage(t, stderr);
		return CMD_TABLE_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cmd_table_usage(t, stdout);
		return 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(argv[1], t->entries[i].name) == 0) {
			optind = 0;	/* glibc: a full getopt reset */
			opterr = 0;
			return t->entries[i].exec(&t->entries[i], argc - 1,
			    argv + 1);
		}
	}
	fprintf(stderr, "%s: unknown command \"%s\"\n\n", t->prog, argv[1]);
	cmd_table_usage(t, stderr);
	return CMD_TABLE_EXIT_USAGE;
}
