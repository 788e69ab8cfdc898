/*
 * Manual pages in roff, written from the tables --help prints (opts.h for
 * the daemons, cmd_table.h for the CLI), so a man page and --help cannot
 * say two things.  These are the roff pieces both share: the page's head
 * and text made safe for roff.
 */
#ifndef AGENTFLOW_MAN_H
#define AGENTFLOW_MAN_H

#include <stddef.h>
#include <stdio.h>

/*
 * .TH and NAME: prog is the page's name (section 1), summary the text
 * after "prog - " (its first line, up to the first ". " or ":", is used).
 */
void man_head(FILE *out, const char *prog, const char *summary);

/*
 * The first len bytes of s as roff text: backslashes as \e, '-' as \- (so
 * options copy and paste as typed), a line that would start with '.' or
 * '\'' (a roff request) guarded by \&.  Newlines are kept.
 */
void man_text(FILE *out, const char *s, size_t len);

/* man_text of a NUL-terminated string. */
void man_puts(FILE *out, const char *s);

#endif
