/*
 * `agentflow audit` and `agentflow audit verify` (see cli_audit.h).  Both
 * ways of verifying print the same: "OK: N records" or "FILE:LINE: why".
 */
#include "cli_audit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit_chain.h"
#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_list.h"

/* Prints a verification ({"ok", "records", "file", "line"?, "error"?},
 * the node's shape); the exit status. */
static int
print_verdict(const struct cli_args *a, json_t *v)
{
	const char *file = json_string_value(json_object_get(v, "file"));
	const char *why = json_string_value(json_object_get(v, "error"));
	json_int_t line = json_integer_value(json_object_get(v, "line"));
	int ok = json_is_true(json_object_get(v, "ok"));

	if (a->o.json)
		cli_api_print_json(v);
	else if (ok)
		printf("OK: %" JSON_INTEGER_FORMAT " records in %s, chain intact\n",
		    json_integer_value(json_object_get(v, "records")), file);
	else if (line > 0)
		printf("%s:%" JSON_INTEGER_FORMAT ": %s\n", file, line, why);
	else
		printf("%s: %s\n", file, why);
	return ok ? 0 : 1;
}

static int
verify(const struct cli_args *a)
{
	struct audit_chain_report r;
	struct cli_reply rep;
	json_t *v;
	int rc;

	if (a->file == NULL) {
		if (cli_api_request(&a->o, EVHTTP_REQ_GET, "/api/audit/verify",
		    NULL, 60, &rep) != 0) {
			fprintf(stderr, "agentflow: %s\n", rep.error);
			json_decref(rep.body);
			return 1;
		}
		rc = print_verdict(a, rep.body);
		json_decref(rep.body);
		return rc;
	}
	rc = audit_chain_verify_file(a->file, &r);
	v = audit_chain_report_json(a->file, &r, rc);
	rc = print_verdict(a, v);
	json_decref(v);
	return rc;
}

int
cli_audit_exec(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.argc == 1 && strcmp(a.argv[0], "verify") == 0) {
		if (a.node != NULL || a.action != NULL || a.actor != NULL ||
		    a.since != 0 || a.limit != 0)
			return cli_cmd_usage_error(&a, "verify checks the local "
			    "node's whole log (or --file): it takes no filter");
		return verify(&a);
	}
	if (a.argc == 1)
		return cli_cmd_usage_error(&a, "\"%s\": the only subcommand is "
		    "verify", a.argv[0]);
	if (a.file != NULL)
		return cli_cmd_usage_error(&a, "--file is for audit verify");
	return cli_list_run(&cli_list_audit, &a);
}
