/*
 * One dispatcher for command-line tools made of subcommands (`agentflow
 * <command>`, `agentflow certs <command>`): the subcommands are a table of
 * struct cmd_entry, in the manner of tmux's cmd_entry, and cmd_table_main
 * picks the row named by argv[1], or prints the list of commands.
 *
 * Exit status of the dispatcher itself: 0 after help, 2 (usage) for a
 * missing or unknown command; otherwise the row's exec decides (0 done,
 * 1 failed, 2 usage error by convention).
 */
#ifndef AGENTFLOW_CMD_TABLE_H
#define AGENTFLOW_CMD_TABLE_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#define CMD_TABLE_EXIT_USAGE	2

struct cmd_entry {
	const char		*name;
	/* Operands and options after the name, for usage lines; NULL when
	 * the command prints its own. */
	const char		*usage;
	int			 args_min;	/* operands it takes */
	int			 args_max;	/* -1: no upper bound */
	const struct option	*options;	/* its own, NULL-terminated; or NULL */
	/* Runs it with argv[0] = the name; getopt is reset before. */
	int			(*exec)(const struct cmd_entry *, int argc,
				    char **argv);
	const char		*help;		/* one line for the list */
	const void		*data;		/* what exec reads besides, or NULL */
};

/* A row's data that marks a group: its exec is another table's
 * cmd_table_main, so completion goes down into it. */
extern const char cmd_table_group[];

struct cmd_table {
	const char		*prog;	/* names the tool in messages */
	const char		*head;	/* usage text before the list of commands */
	const char		*tail;	/* and after it */
	const struct cmd_entry	*entries;
	size_t			 n;
};

/* The head, one line per command (name and help), the tail. */
void cmd_table_usage(const struct cmd_table *, FILE *);
/*
 * argv[0] is the tool, argv[1] the command; returns the exit status.
 *
 * argv[1] "__complete" (for the shell scripts `agentflow completion`
 * prints): argv[2..] are the words after the tool, the last one the word
 * being completed (maybe empty).  Prints the candidates, one a line: the
 * commands, a group's commands (rows whose data is cmd_table_group), or,
 * for a word starting with "-", the row's options (its struct option
 * names and every "--name" its usage line shows).  Nothing is run.
 *
 * argv[1] "__man" (and nothing after): the rows as roff paragraphs for a
 * manual page's COMMANDS section (man.h), a group's rows nested in its
 * own; the tool prints the page around them.  Nothing is run.
 */
int cmd_table_main(const struct cmd_table *, int argc, char **argv);

#endif
