/*
 * Fanned-out jobs in the CLI (cli_fanout.h).
 */
#include "cli_fanout.h"

#include <stdio.h>

#include "cli_fmt.h"
#include "fanout_summary.h"

#define CLEAN_MAX	256

int
cli_fanout_is_parent(json_t *job)
{
	return json_is_array(json_object_get(job, "children"));
}

void
cli_fanout_print(json_t *job)
{
	char c1[CLEAN_MAX], c2[CLEAN_MAX], c3[CLEAN_MAX], code[32];
	json_t *c, *x;
	size_t i;

	json_array_foreach(json_object_get(job, "children"), i, c) {
		x = json_object_get(c, "exit_code");
		if (json_is_integer(x))
			snprintf(code, sizeof(code), "%lld",
			    (long long)json_integer_value(x));
		else
			snprintf(code, sizeof(code), "-");
		/* Other nodes' text: no terminal escapes get through. */
		printf("  %-20s %-10s exit=%-4s %s\n",
		    cli_fmt_clean(cli_fmt_str(c, "node", "?"), c1, sizeof(c1)),
		    cli_fmt_clean(cli_fmt_str(c, "state", "queued"), c2, sizeof(c2)),
		    code, cli_fmt_clean(cli_fmt_str(c, "id", "?"), c3, sizeof(c3)));
	}
}

int
cli_fanout_status(json_t *job)
{
	struct fanout_summary s = { 0 };
	json_t *c;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(job, "children"), i, c)
		fanout_summary_add(&s, cli_fmt_str(c, "state", NULL));
	/* A parent final with a child still open cannot be (cancel ends
	 * them all), but a status is owed: the parent's own. */
	if ((rc = fanout_summary_exit(&s)) < 0)
		rc = 1;
	return rc;
}
