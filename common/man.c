/*
 * roff for the generated manual pages (see man.h).  Only what man(7)
 * needs to show plain text as written: escapes, never formatting taken
 * from the text itself.
 */
#include "man.h"

#include <string.h>

void
man_text(FILE *out, const char *s, size_t len)
{
	int bol = 1;

	for (size_t i = 0; i < len && s[i] != '\0'; i++) {
		if (bol && (s[i] == '.' || s[i] == '\''))
			fputs("\\&", out);
		if (s[i] == '\\')
			fputs("\\e", out);
		else if (s[i] == '-')
			fputs("\\-", out);
		else
			fputc(s[i], out);
		bol = s[i] == '\n';
	}
}

void
man_puts(FILE *out, const char *s)
{
	man_text(out, s, strlen(s));
}

void
man_head(FILE *out, const char *prog, const char *summary)
{
	size_t len = strcspn(summary, ":\n");
	const char *stop = strstr(summary, ". ");

	if (stop != NULL && (size_t)(stop - summary) < len)
		len = (size_t)(stop - summary);
	if (len > 0 && summary[len - 1] == '.')
		len--;
	fputs(".TH \"", out);
	for (const char *p = prog; *p != '\0'; p++)	/* upper case, man(7) */
		fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
	fputs("\" 1 \"\" \"agentflow " AGENTFLOW_VERSION "\" \"AgentFlow\"\n"
	    ".SH NAME\n", out);
	man_puts(out, prog);
	fputs(" \\- ", out);
	man_text(out, summary, len);
	fputs("\n", out);
}
