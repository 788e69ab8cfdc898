/*
 * `agentflow status | nodes | event`: the mesh as the local node sees it,
 * over its local API (api.c).  Where the API is: --api HOST:PORT, else
 * AGENTFLOW_API, else DATA_DIR/api.json written by the node at start
 * (--data-dir, AGENTFLOW_DATA_DIR, default ./agentflow-data), else
 * 127.0.0.1:8080.  Exit status: 0 done, 1 the node could not be asked or
 * refused, 2 usage.
 */
#include "cli_mesh.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hostport.h"

#define API_TIMEOUT_S 5

struct cli_opts {
	const char	*api;
	const char	*data_dir;
	int		 json;
};

struct reply {
	struct event_base	*base;
	int			 status;
	json_t			*body;
	char			 error[640];
};

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct reply *r = arg;
	struct evbuffer *in;

	/* The connection is kept alive: stop waiting once we have the answer. */
	event_base_loopexit(r->base, NULL);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		snprintf(r->error, sizeof(r->error), "no answer");
		return;
	}
	r->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	r->body = json_loadb((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), 0, NULL);
}

/* Where the node's API is, by the precedence in the file comment. */
static int
api_address(const struct cli_opts *o, char *host, size_t hostlen, int *port)
{
	const char *api = o->api ? o->api : getenv("AGENTFLOW_API");
	const char *dir = o->data_dir ? o->data_dir : getenv("AGENTFLOW_DATA_DIR");
	char path[4096];
	json_t *j;

	if (api != NULL)
		return hostport_split(api, host, hostlen, port);
	snprintf(path, sizeof(path), "%s/api.json", dir ? dir : "./agentflow-data");
	if ((j = json_load_file(path, 0, NULL)) != NULL) {
		const char *a = json_string_value(json_object_get(j, "address"));
		*port = (int)json_integer_value(json_object_get(j, "port"));
		snprintf(host, hostlen, "%s", a ? a : "127.0.0.1");
		json_decref(j);
		if (strcmp(host, "0.0.0.0") == 0)
			snprintf(host, hostlen, "127.0.0.1");
		return *port > 0 ? 0 : -1;
	}
	snprintf(host, hostlen, "127.0.0.1");
	*port = 8080;
	return 0;
}

/* One request to the local API; the reply's JSON in r (caller decrefs). */
static int
call(const struct cli_opts *o, enum evhttp_cmd_type method, const char *path,
    json_t *body, struct reply *r)
{
	struct event_base *base = event_base_new();
	struct evhttp_connection *evcon;
	struct evhttp_request *req;
	char host[256], hostport[300];
	int port;

	memset(r, 0, sizeof(*r));
	r->base = base;
	if (api_address(o, host, sizeof(host), &port) != 0) {
		snprintf(r->error, sizeof(r->error), "bad API address (use --api "
		    "HOST:PORT)");
		event_base_free(base);
		return -1;
	}
	evcon = evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
	evhttp_connection_set_timeout(evcon, API_TIMEOUT_S);
	req = evhttp_request_new(reply_cb, r);
	snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
	if (body != NULL) {
		char *text = json_dumps(body, JSON_COMPACT);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
		free(text);
	}
	evhttp_make_request(evcon, req, method, path);
	event_base_dispatch(base);
	evhttp_connection_free(evcon);
	event_base_free(base);
	if (r->status == 0) {
		snprintf(r->error, sizeof(r->error), "cannot reach the node's API at "
		    "%s (is agentflow-node running? see --api, --data-dir)", hostport);
		return -1;
	}
	if (r->status != 200) {
		const char *m = json_string_value(json_object_get(r->body, "message"));
		snprintf(r->error, sizeof(r->error), "the node answered %d: %s",
		    r->status, m ? m : "(no message)");
		return -1;
	}
	if (r->body == NULL) {
		snprintf(r->error, sizeof(r->error), "the node's answer is not JSON");
		return -1;
	}
	return 0;
}

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

/* Parses the common options; returns the index of the first operand, or
 * -1 after printing usage (0 in *rc for --help, 2 for an error). */
static int
parse_opts(int argc, char **argv, struct cli_opts *o, const char *usage, int *rc)
{
	static const struct option lo[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o->api = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case 'j': o->json = 1; break;
		case 'h':
			printf("usage: agentflow %s\n\n  --api HOST:PORT   the node's API "
			    "(else AGENTFLOW_API, DATA_DIR/api.json, 127.0.0.1:8080)\n"
			    "  --data-dir DIR    the node's data directory\n"
			    "  --json            print the API's JSON\n", usage);
			*rc = 0;
			return -1;
		default:
			fprintf(stderr, "agentflow: unknown option %s\nusage: agentflow %s\n",
			    argv[optind - 1], usage);
			*rc = 2;
			return -1;
		}
	}
	return optind;
}

static int
show(int argc, char **argv, const char *usage, int (*print)(json_t *))
{
	struct cli_opts o;
	struct reply r;
	int rc, first;

	if ((first = parse_opts(argc, argv, &o, usage, &rc)) < 0)
		return rc;
	if (first < argc) {
		fprintf(stderr, "agentflow: unexpected argument %s\nusage: agentflow %s\n",
		    argv[first], usage);
		return 2;
	}
	if (call(&o, EVHTTP_REQ_GET, "/api/cluster/status", NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (o.json) {
		json_dumpf(r.body, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
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
	struct reply r;
	json_t *body;
	int rc, first;

	if ((first = parse_opts(argc, argv, &o, usage, &rc)) < 0)
		return rc;
	if (first >= argc || argc - first > 2) {
		fprintf(stderr, "agentflow: %s\nusage: agentflow %s\n", first >= argc ?
		    "missing NAME" : "too many arguments", usage);
		return 2;
	}
	body = json_pack("{s:s, s:s}", "name", argv[first], "payload",
	    first + 1 < argc ? argv[first + 1] : "");
	if (call(&o, EVHTTP_REQ_POST, "/api/events", body, &r) != 0) {
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
