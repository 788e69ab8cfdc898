/*
 * The subcommand dispatcher (see cmd_table.h).  It only finds the row and
 * resets getopt; parsing a row's options and operands is its tool's
 * business (the CLI's cli_cmd.c reads the row's usage, options and
 * operand bounds; each `certs` command parses its own).
 */
#include "cmd_table.h"

#include <string.h>

#include "man.h"

void
cmd_table_usage(const struct cmd_table *t, FILE *out)
{
	fputs(t->head, out);
	for (size_t i = 0; i < t->n; i++)
		fprintf(out, "  %-8s %s\n", t->entries[i].name,
		    t->entries[i].help);
	fputs(t->tail, out);
}

const char cmd_table_group[] = "group";

/* The candidates printed so far, so none is printed twice. */
struct seen {
	char	names[64][64];
	size_t	n;
};

static void
candidate(struct seen *seen, const char *word, const char *s, size_t len)
{
	if (len < strlen(word) || strncmp(s, word, strlen(word)) != 0 ||
	    len >= sizeof(seen->names[0]))
		return;
	for (size_t i = 0; i < seen->n; i++)
		if (strlen(seen->names[i]) == len &&
		    strncmp(seen->names[i], s, len) == 0)
			return;
	if (seen->n < sizeof(seen->names) / sizeof(seen->names[0]))
		snprintf(seen->names[seen->n++], sizeof(seen->names[0]), "%.*s",
		    (int)len, s);
	printf("%.*s\n", (int)len, s);
}

/* The options of e starting with word: its table's and its usage's. */
static void
complete_options(const struct cmd_entry *e, const char *word)
{
	struct seen seen = { .n = 0 };
	char name[64];
	const char *p;
	size_t len;

	for (const struct option *o = e->options; o != NULL && o->name != NULL;
	    o++) {
		len = (size_t)snprintf(name, sizeof(name), "--%s", o->name);
		candidate(&seen, word, name, len < sizeof(name) ? len : 0);
	}
	for (p = e->usage; p != NULL && (p = strstr(p, "--")) != NULL; p += len) {
		len = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz0123456789-");
		if (len > 2 && (p == e->usage || strchr(" [|(\n", p[-1]) != NULL))
			candidate(&seen, word, p, len);
	}
	candidate(&seen, word, "--help", 6);
}

static int
complete(const struct cmd_table *t, int argc, char **argv)
{
	const char *word = argc > 2 ? argv[argc - 1] : "";
	const struct cmd_entry *e = NULL;

	if (argc <= 3) {	/* the command itself */
		struct seen seen = { .n = 0 };

		for (size_t i = 0; i < t->n; i++)
			candidate(&seen, word, t->entries[i].name,
			    strlen(t->entries[i].name));
		return 0;
	}
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(argv[2], t->entries[i].name) == 0)
			e = &t->entries[i];
	if (e == NULL)
		return 0;
	if (e->data == cmd_table_group) {
		/* Its table's turn: [name, "__complete", the rest]. */
		char *sub[65];

		if (argc - 1 > 64)
			return 0;
		sub[argc - 1] = NULL;
		sub[0] = argv[2];
		sub[1] = argv[1];
		for (int i = 3; i < argc; i++)
			sub[i - 1] = argv[i];
		return e->exec(e, argc - 1, sub);
	}
	if (word[0] == '-')
		complete_options(e, word);
	return 0;
}

/*
 * The rows as roff .TP paragraphs: "prog name" and the usage's first line,
 * the help, then the rest of the usage as written.  A group's rows follow
 * its own, indented: its exec prints them (it is a cmd_table_main too).
 */
static int
man_rows(const struct cmd_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct cmd_entry *e = &t->entries[i];
		const char *u = e->usage, *rest = NULL;
		size_t len = 0;

		printf(".TP\n\\fB");
		man_puts(stdout, t->prog);
		printf(" ");
		man_puts(stdout, e->name);
		printf("\\fR");
		if (u != NULL) {
			len = strcspn(u, "\n");
			rest = u + len + strspn(u + len, "\n");
			printf(" ");
			man_text(stdout, u, len);
		} else if (e->data == cmd_table_group)
			printf(" \\fICOMMAND\\fR");
		printf("\n");
		man_puts(stdout, e->help);
		printf("\n");
		if (rest != NULL && rest[0] != '\0') {
			printf(".nf\n");
			man_puts(stdout, rest);
			printf("\n.fi\n");
		}
		if (e->data == cmd_table_group) {
			char *sub[] = { (char *)e->name, (char *)"__man", NULL };

			printf(".RS\n");
			e->exec(e, 2, sub);
			printf(".RE\n");
		}
	}
	return 0;
}

int
cmd_table_main(const struct cmd_table *t, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
		return complete(t, argc, argv);
	if (argc == 2 && strcmp(argv[1], "__man") == 0)
		return man_rows(t);
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
