/*
 * `agentflow status | nodes | event | events | history | forget`: the mesh as the local node sees it,
 * over its local API (cli_api.h says how the API and token are found).
 * Exit status: 0 done, 1 the node could not be asked or refused, 2 usage.
 */
#include "cli_mesh.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "json_id.h"
#include "node_id.h"

/* An id of o, a number or a string (json_id.h); 0 when absent. */
static uint64_t
id_of(json_t *o, const char *key)
{
	uint64_t v = 0;

	(void)json_id_get(json_object_get(o, key), &v);
	return v;
}

/* st's remote nodes sorted by id (new reference): rows in a stable
 * order, whatever order the node holds them in. */
static json_t *
remote_sorted(json_t *st)
{
	json_t *out = json_array(), *r;
	size_t i, j;

	json_array_foreach(json_object_get(st, "remote"), i, r) {
		const char *id = cli_fmt_str(r, "node_id", "");

		for (j = 0; j < json_array_size(out); j++)
			if (strcmp(id, cli_fmt_str(json_array_get(out, j),
			    "node_id", "")) < 0)
				break;
		json_array_insert(out, j, r);
	}
	return out;
}

static int
print_status(json_t *st)
{
	json_t *local = json_object_get(st, "local"), *sig, *r, *link, *s;
	json_t *remote = remote_sorted(st);
	size_t i;
	char seen[32], rtt[32], path[96];

	sig = json_object_get(local, "signal");
	printf("%-20s this node, incarnation %" PRIu64 "; signal %s",
	    cli_fmt_str(local, "node_id", "?"),
	    id_of(local, "incarnation"),
	    json_is_true(json_object_get(sig, "reachable")) ? "reachable" :
	    json_array_size(json_object_get(sig, "signals")) ? "UNREACHABLE" :
	    "not configured");
	json_array_foreach(json_object_get(sig, "signals"), i, s)
		printf("%s%s", i ? ", " : " (", cli_fmt_str(s, "url", "?"));
	printf("%s\n", json_array_size(json_object_get(sig, "signals")) ? ")" : "");
	json_array_foreach(remote, i, r) {
		link = json_object_get(r, "link");
		if (json_is_string(json_object_get(r, "via")))
			snprintf(path, sizeof(path), "relayed via %s",
			    cli_fmt_str(r, "via", "?"));
		else
			snprintf(path, sizeof(path), "%s", cli_fmt_str(r, "path",
			    "?"));
		cli_fmt_ago(json_object_get(r, "updated_ms"), seen, sizeof(seen));
		if (json_is_number(json_object_get(link, "rtt_ms")) &&
		    strcmp(cli_fmt_str(r, "path", ""), "direct") == 0)
			snprintf(rtt, sizeof(rtt), "%.2f ms",
			    json_number_value(json_object_get(link, "rtt_ms")));
		else
			snprintf(rtt, sizeof(rtt), "-");
		printf("%-20s %-8s %-20s %-24s rtt %-10s last seen %s\n",
		    cli_fmt_str(r, "node_id", "?"), cli_fmt_str(r, "member", "?"),
		    path, cli_fmt_str(link, "address", "-")[0] ?
		    cli_fmt_str(link, "address", "-") : "-", rtt, seen);
	}
	json_decref(remote);
	return 0;
}

static int
print_nodes(json_t *st)
{
	json_t *all = json_array(), *n, *s;
	size_t i;

	json_t *remote = remote_sorted(st);

	json_array_append(all, json_object_get(json_object_get(st, "local"), "state"));
	json_array_foreach(remote, i, n)
		json_array_append(all, n);
	json_decref(remote);
	printf("%-20s %-8s %6s %14s %14s %8s %10s\n", "NODE", "MEMBER", "CPU%",
	    "MEMORY", "DISK", "LOAD1", "UPTIME");
	json_array_foreach(all, i, n) {
		char up[32];

		if (!json_is_object(n))
			continue;
		s = json_object_get(n, "status");
		printf("%-20s %-8s %6.1f %6.1f/%-6.1fG %6.1f/%-6.1fG %8.2f %10s\n",
		    cli_fmt_str(n, "node_id", "?"), i == 0 ? "self" : cli_fmt_str(n, "member", "?"),
		    json_number_value(json_object_get(s, "cpu_percent")),
		    json_number_value(json_object_get(s, "mem_used_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "mem_total_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "disk_used_bytes")) / 1073741824.0,
		    json_number_value(json_object_get(s, "disk_total_bytes")) / 1073741824.0,
		    json_number_value(json_array_get(json_object_get(s, "load"), 0)),
		    json_is_integer(json_object_get(s, "uptime_s")) ?
		    cli_fmt_duration(json_integer_value(json_object_get(s,
		    "uptime_s")), up, sizeof(up)) : "-");
	}
	json_decref(all);
	return 0;
}

/* GET path of the API and print the answer with print, or as JSON. */
static int
get_print(struct cli_args *a, const char *path, int (*print)(json_t *))
{
	struct cli_reply r;
	int rc;

	if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a->o.json) {
		cli_api_print_json(r.body);
		rc = 0;
	} else
		rc = print(r.body);
	json_decref(r.body);
	return rc;
}

/* GET /api/cluster/status and print it with print, or the JSON. */
static int
show(const struct cmd_entry *e, int argc, char **argv, int (*print)(json_t *))
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	return get_print(&a, "/api/cluster/status", print);
}

int
cli_mesh_status(const struct cmd_entry *e, int argc, char **argv)
{
	return show(e, argc, argv, print_status);
}

int
cli_mesh_nodes(const struct cmd_entry *e, int argc, char **argv)
{
	return show(e, argc, argv, print_nodes);
}

int
cli_mesh_event(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	json_t *body;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	body = json_pack("{s:s, s:s}", "name", a.argv[0], "payload",
	    a.argc > 1 ? a.argv[1] : "");
	if (cli_api_call(&a.o, EVHTTP_REQ_POST, "/api/events", body, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		json_decref(body);
		return 1;
	}
	if (a.o.json)
		json_dumpf(r.body, stdout, JSON_COMPACT);
	else
		printf("event %s sent by %s (incarnation %" PRIu64 ", seq %"
		    PRIu64 ")", a.argv[0], cli_fmt_str(r.body, "origin", "?"),
		    id_of(r.body, "incarnation"), id_of(r.body, "seq"));
	printf("\n");
	json_decref(r.body);
	json_decref(body);
	return 0;
}

/* One event a line: origin, incarnation/seq, kind, when; a user event's
 * name and payload: its text, or for bytes that are not text their size
 * and base64. */
static void
print_event(json_t *ev)
{
	json_t *body = json_object_get(ev, "body");
	const char *kind = cli_fmt_str(ev, "kind", "?");
	char when[32], text[200];

	cli_fmt_ago(json_object_get(ev, "time_ms"), when, sizeof(when));
	printf("%-20s %" PRIu64 "/%-6" PRIu64 " %-8s %-12s",
	    cli_fmt_str(ev, "origin", "?"), id_of(ev, "incarnation"),
	    id_of(ev, "seq"), kind, when);
	if (strcmp(kind, "user") == 0 && json_is_object(body)) {
		printf(" %s", cli_fmt_clean(cli_fmt_str(body, "name", "?"), text,
		    sizeof(text)));
		if (json_is_string(json_object_get(body, "payload")))
			printf(" %s", cli_fmt_clean(cli_fmt_str(body, "payload",
			    ""), text, sizeof(text)));
		else if (json_is_string(json_object_get(body, "payload_b64")))
			printf(" binary, %" JSON_INTEGER_FORMAT " bytes, base64 %s",
			    json_integer_value(json_object_get(body,
			    "payload_bytes")), cli_fmt_str(body, "payload_b64", ""));
	}
	printf("\n");
}

static int
print_events(json_t *body)
{
	json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(body, "events"), i, ev)
		print_event(ev);
	return 0;
}

int
cli_mesh_events(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[160];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.node != NULL && !node_id_valid(a.node, strlen(a.node))) {
		fprintf(stderr, "agentflow: --node: not a node id\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/api/events?kind=user&limit=%lld%s%s",
	    a.limit > 0 ? a.limit : 100, a.node ? "&node=" : "",
	    a.node ? a.node : "");
	return get_print(&a, path, print_events);
}

/* v[i] of a history series, NAN when absent (an older node's answer). */
static double
point(json_t *series, const char *name, size_t i)
{
	json_t *v = json_array_get(json_object_get(series, name), i);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* One line a point: when, then each series' mean (CPU also its max). */
static int
print_history(json_t *h)
{
	json_t *t = json_object_get(h, "t_ms"), *mean = json_object_get(h,
	    "series"), *max = json_object_get(h, "max"), *ms;
	char when[32], rx[32], tx[32];
	struct tm tm;
	time_t sec;
	size_t i;

	printf("%s: %zu points from its %ss%s\n", cli_fmt_str(h, "node", "?"),
	    json_array_size(t), cli_fmt_str(h, "resolution", "?"),
	    json_is_true(json_object_get(h, "truncated")) ?
	    " (cut to fit one answer)" : "");
	if (json_array_size(t) == 0)
		return 0;
	printf("%-19s %6s %6s %6s %6s %6s %11s %11s\n", "TIME", "CPU", "MAX",
	    "MEM", "DISK", "LOAD", "RX/S", "TX/S");
	json_array_foreach(t, i, ms) {
		sec = (time_t)(json_integer_value(ms) / 1000);
		if (localtime_r(&sec, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		printf("%-19s %5.1f%% %5.1f%% %5.1f%% %5.1f%% %6.2f %11s %11s\n",
		    when, point(mean, "cpu_percent", i), point(max, "cpu_percent",
		    i), point(mean, "mem_used_percent", i), point(mean,
		    "disk_used_percent", i), point(mean, "load1", i),
		    cli_fmt_bytes((uint64_t)fmax(0, point(mean,
		    "net_rx_bytes_per_s", i)), rx, sizeof(rx)),
		    cli_fmt_bytes((uint64_t)fmax(0, point(mean,
		    "net_tx_bytes_per_s", i)), tx, sizeof(tx)));
	}
	return 0;
}

int
cli_mesh_history(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	char path[256];
	int n, rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.node != NULL && !node_id_valid(a.node, strlen(a.node)))
		return cli_cmd_usage_error(&a, "--node: \"%.64s\" is not a node "
		    "id", a.node);
	if (a.limit > 1000)
		return cli_cmd_usage_error(&a, "--limit: at most 1000 points");
	n = snprintf(path, sizeof(path), "/api/history?points=%lld",
	    a.limit > 0 ? a.limit : 60);
	if (a.since > 0)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&from_ms=%lld",
		    a.since);
	if (a.node != NULL)
		snprintf(path + n, sizeof(path) - (size_t)n, "&node=%s", a.node);
	return get_print(&a, path, print_history);
}

int
cli_mesh_forget(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	char path[256];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!node_id_valid(a.argv[0], strlen(a.argv[0]))) {
		fprintf(stderr, "agentflow: \"%.64s\" is not a node id\n", a.argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "/api/nodes/%s/forget", a.argv[0]);
	if (cli_api_call(&a.o, EVHTTP_REQ_POST, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a.o.json)
		cli_api_print_json(r.body);
	else
		printf("forgot %s (it was %s); every node is told by command %s\n",
		    a.argv[0], cli_fmt_str(r.body, "member", "?"),
		    cli_fmt_str(r.body, "command_id", "-"));
	json_decref(r.body);
	return 0;
}

int
cli_mesh_purge(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r;
	json_t *body, *n;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.older_than == NULL)
		return cli_cmd_usage_error(&a, "--older-than is required");
	body = json_pack("{s:s}", "older_than", a.older_than);
	rc = cli_api_call(&a.o, EVHTTP_REQ_POST, "/api/purge", body, &r);
	json_decref(body);
	if (rc != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a.o.json)
		cli_api_print_json(r.body);
	else {
		n = json_object_get(r.body, "removed");
		printf("removed records older than %s: %" JSON_INTEGER_FORMAT
		    " tasks, %" JSON_INTEGER_FORMAT " log lines, %"
		    JSON_INTEGER_FORMAT " commands, %" JSON_INTEGER_FORMAT
		    " alerts, %" JSON_INTEGER_FORMAT " events\n", a.older_than,
		    json_integer_value(json_object_get(n, "tasks")),
		    json_integer_value(json_object_get(n, "task_logs")),
		    json_integer_value(json_object_get(n, "commands")),
		    json_integer_value(json_object_get(n, "alerts")),
		    json_integer_value(json_object_get(n, "events")));
		if (json_object_get(n, "jobs") != NULL)
			printf("and %" JSON_INTEGER_FORMAT " settled jobs with their "
			    "history\n", json_integer_value(json_object_get(n,
			    "jobs")));
		if (json_object_get(n, "workflows") != NULL)
			printf("and %" JSON_INTEGER_FORMAT " finished workflows with "
			    "their steps and history\n", json_integer_value(
			    json_object_get(n, "workflows")));
	}
	json_decref(r.body);
	return 0;
}
