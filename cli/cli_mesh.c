/*
 * `agentflow status | nodes | event`: the mesh as the local node sees it,
 * over its local API (cli_api.h says how the API and token are found).
 * Exit status: 0 done, 1 the node could not be asked or refused, 2 usage.
 */
#include "cli_mesh.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_api.h"
#include "clock.h"

static const char *
str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static void
ago(char *out, size_t len, json_int_t ms)
{
	uint64_t now = clock_wall_ms();

	if (ms <= 0)
		snprintf(out, len, "-");
	else if ((uint64_t)ms >= now)
		snprintf(out, len, "now");
	else if (now - (uint64_t)ms < 60000)
		snprintf(out, len, "%.1fs ago", (double)(now - (uint64_t)ms) / 1000.0);
	else
		snprintf(out, len, "%" PRIu64 "m ago", (now - (uint64_t)ms) / 60000);
}

static int
print_status(json_t *st)
{
	json_t *local = json_object_get(st, "local"), *sig, *r, *link, *s;
	size_t i;
	char seen[32], rtt[32];

	sig = json_object_get(local, "signal");
	printf("%-20s this node, incarnation %" JSON_INTEGER_FORMAT "; signal %s",
	    str(local, "node_id", "?"),
	    json_integer_value(json_object_get(local, "incarnation")),
	    json_is_true(json_object_get(sig, "reachable")) ? "reachable" :
	    json_array_size(json_object_get(sig, "signals")) ? "UNREACHABLE" :
	    "not configured");
	json_array_foreach(json_object_get(sig, "signals"), i, s)
		printf("%s%s", i ? ", " : " (", str(s, "url", "?"));
	printf("%s\n", json_array_size(json_object_get(sig, "signals")) ? ")" : "");
	json_array_foreach(json_object_get(st, "remote"), i, r) {
		link = json_object_get(r, "link");
		ago(seen, sizeof(seen), json_integer_value(json_object_get(r, "updated_ms")));
		if (json_is_number(json_object_get(link, "rtt_ms")) &&
		    strcmp(str(r, "path", ""), "direct") == 0)
			snprintf(rtt, sizeof(rtt), "%.2f ms",
			    json_number_value(json_object_get(link, "rtt_ms")));
		else
			snprintf(rtt, sizeof(rtt), "-");
		printf("%-20s %-8s %-8s %-24s rtt %-10s last seen %s\n",
		    str(r, "node_id", "?"), str(r, "member", "?"),
		    str(r, "path", "?"), str(link, "address", "-")[0] ?
		    str(link, "address", "-") : "-", rtt, seen);
	}
	return 0;
}

static int
print_nodes(json_t *st)
{
	json_t *all = json_array(), *n, *s;
	size_t i;

	json_array_append(all, json_object_get(json_object_get(st, "local"), "state"));
	json_array_foreach(json_object_get(st, "remote"), i, n)
		json_array_append(all, n);
	printf("%-20s %-8s %6s %14s %14s %8s %10s\n", "NODE", "MEMBER", "CPU%",
	    "MEMORY", "DISK", "LOAD1", "UPTIME");
	json_array_foreach(all, i, n) {
		if (!json_is_object(n))
			continue;
		s = json_object_get(n, "status");
		printf("%-20s %-8s %6.1f %6.1f/%-6.1fG %6.1f/%-6.1fG %8.2f %9" JSON_INTEGER_FORMAT "s\n",
		    str(n, "node_id", "?"), i == 0 ? "self" : str(n, "member", "?"),
		    json_number_value(json_object_get(s, "cpu_percent")),
		    json_number_value(json_object_get(s, "mem_used_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "mem_total_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "disk_used_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "disk_total_bytes")) / 1073741824.0,
		    json_number_value(json_array_get(json_object_get(s, "load"), 0)),
		    json_integer_value(json_object_get(s, "uptime_s")));
	}
	json_decref(all);
	return 0;
}

static int
show(int argc, char **argv, const char *usage, int (*print)(json_t *))
{
	struct cli_opts o;
	struct cli_reply r;
	int rc, first;

	if ((first = cli_api_opts(argc, argv, &o, usage, NULL, NULL, NULL, &rc)) < 0)
		return rc;
	if (first < argc) {
		fprintf(stderr, "agentflow: unexpected argument %s\nusage: agentflow %s\n",
		    argv[first], usage);
		return 2;
	}
	if (cli_api_call(&o, EVHTTP_REQ_GET, "/api/cluster/status", NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (o.json) {
		cli_api_print_json(r.body);
		rc = 0;
	} else
		rc = print(r.body);
	json_decref(r.body);
	return rc;
}

int
cli_status_main(int argc, char **argv)
{
	return show(argc, argv, "status [--api HOST:PORT] [--data-dir DIR] [--json]",
	    print_status);
}

int
cli_nodes_main(int argc, char **argv)
{
	return show(argc, argv, "nodes [--api HOST:PORT] [--data-dir DIR] [--json]",
	    print_nodes);
}

int
cli_event_main(int argc, char **argv)
{
	static const char usage[] = "event NAME [PAYLOAD] [--api HOST:PORT] "
	    "[--data-dir DIR] [--json]";
	struct cli_opts o;
	struct cli_reply r;
	json_t *body;
	int rc, first;

	if ((first = cli_api_opts(argc, argv, &o, usage, NULL, NULL, NULL, &rc)) < 0)
		return rc;
	if (first >= argc || argc - first > 2) {
		fprintf(stderr, "agentflow: %s\nusage: agentflow %s\n", first >= argc ?
		    "missing NAME" : "too many arguments", usage);
		return 2;
	}
	body = json_pack("{s:s, s:s}", "name", argv[first], "payload",
	    first + 1 < argc ? argv[first + 1] : "");
	if (cli_api_call(&o, EVHTTP_REQ_POST, "/api/events", body, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		json_decref(body);
		return 1;
	}
	if (o.json)
		json_dumpf(r.body, stdout, JSON_COMPACT);
	else
		printf("event %s sent by %s (incarnation %" JSON_INTEGER_FORMAT
		    ", seq %" JSON_INTEGER_FORMAT ")", argv[first],
		    str(r.body, "origin", "?"),
		    json_integer_value(json_object_get(r.body, "incarnation")),
		    json_integer_value(json_object_get(r.body, "seq")));
	printf("\n");
	json_decref(r.body);
	json_decref(body);
	return 0;
}
