/*
 * The CLI's API client (see cli_api.h): one libevent HTTP request per
 * call, on a private event base.
 */
#include "cli_api.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_fmt.h"
#include "hostport.h"

#define API_TIMEOUT_S 5

struct pending {
	struct event_base	*base;
	struct cli_reply	*r;
};

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct pending *p = arg;
	struct evbuffer *in;

	/* The connection is kept alive: stop waiting once we have the answer. */
	event_base_loopexit(p->base, NULL);
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		snprintf(p->r->error, sizeof(p->r->error), "no answer");
		return;
	}
	p->r->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	p->r->body = json_loadb((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), 0, NULL);
}

/* --data-dir, $AGENTFLOW_DATA_DIR, ./agentflow-data when it holds a
 * node's files, else a host install's /var/lib/agentflow when it does. */
static const char *
data_dir(const struct cli_opts *o)
{
	const char *dir = o->data_dir ? o->data_dir : getenv("AGENTFLOW_DATA_DIR");

	if (dir != NULL)
		return dir;
	/* EACCES: there, but its user's (0700); unreadable() says so. */
	if (access("./agentflow-data/api.json", F_OK) != 0 &&
	    (access("/var/lib/agentflow/api.json", F_OK) == 0 || errno ==
	    EACCES))
		return "/var/lib/agentflow";
	return "./agentflow-data";
}

/*
 * DATA_DIR/file there but not readable by us (a host install's data
 * directory is the agentflow user's, 0700): -1 with r->error saying so,
 * rather than guessing the API's address or sending no token.
 */
static int
unreadable(const struct cli_opts *o, const char *file, struct cli_reply *r)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", data_dir(o), file);
	if (access(path, R_OK) == 0 || errno != EACCES)
		return 0;
	snprintf(r->error, sizeof(r->error), "cannot read %.300s: permission "
	    "denied (the node's data directory is its user's: run this as "
	    "root or that user, e.g. sudo agentflow ..., or give --api and "
	    "--token)", path);
	return -1;
}

/* Where the node's API is, by the precedence in the header. */
int
cli_api_address(const struct cli_opts *o, char *host, size_t hostlen,
    int *port)
{
	const char *api = o->api ? o->api : getenv("AGENTFLOW_API");
	char path[4096];
	json_t *j;

	if (api != NULL)
		return hostport_split(api, host, hostlen, port);
	snprintf(path, sizeof(path), "%s/api.json", data_dir(o));
	if ((j = json_load_file(path, 0, NULL)) != NULL) {
		const char *a = json_string_value(json_object_get(j, "address"));
		*port = (int)json_integer_value(json_object_get(j, "port"));
		snprintf(host, hostlen, "%s", a ? a : "127.0.0.1");
		json_decref(j);
		if (strcmp(host, "0.0.0.0") == 0)
			snprintf(host, hostlen, "127.0.0.1");
		else if (strcmp(host, "::") == 0)
			snprintf(host, hostlen, "::1");
		return *port > 0 ? 0 : -1;
	}
	snprintf(host, hostlen, "127.0.0.1");
	*port = 8080;
	return 0;
}

/* The token by the precedence in the header, into buf; NULL if none. */
static const char *
token(const struct cli_opts *o, char *buf, size_t len)
{
	static const char *const keys[] = { "admin", "admin-next", "write",
	    "write-next", "read", "read-next" };
	const char *t = o->token ? o->token : getenv("AGENTFLOW_TOKEN");
	char path[4096];
	json_t *j;

	/* An empty $AGENTFLOW_TOKEN is none; an empty --token is asked for. */
	if (t != NULL && (t[0] != '\0' || o->token != NULL))
		return t;
	t = NULL;
	snprintf(path, sizeof(path), "%s/tokens.json", data_dir(o));
	if ((j = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && t == NULL; i++)
		if ((t = json_string_value(json_object_get(j, keys[i]))) != NULL)
			snprintf(buf, len, "%s", t);
	json_decref(j);
	return t != NULL ? buf : NULL;
}

int
cli_api_request(const struct cli_opts *o, enum evhttp_cmd_type method,
    const char *path, json_t *body, int timeout_s, struct cli_reply *r)
{
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	int rc = cli_api_send(o, method, path, text != NULL ?
	    "application/json" : NULL, text, text != NULL ? strlen(text) : 0,
	    timeout_s, r);

	free(text);
	return rc;
}

int
cli_api_send(const struct cli_opts *o, enum evhttp_cmd_type method,
    const char *path, const char *ctype, const void *data, size_t len,
    int timeout_s, struct cli_reply *r)
{
	struct event_base *base;
	struct evhttp_connection *evcon;
	struct evhttp_request *req;
	struct pending p;
	char host[256], hostport[300], tok[300], auth[320];
	const char *t;
	int port;

	memset(r, 0, sizeof(*r));
	if ((o->api == NULL && getenv("AGENTFLOW_API") == NULL &&
	    unreadable(o, "api.json", r) != 0) || (o->token == NULL &&
	    getenv("AGENTFLOW_TOKEN") == NULL && unreadable(o, "tokens.json",
	    r) != 0))
		return -1;
	if (cli_api_address(o, host, sizeof(host), &port) != 0) {
		snprintf(r->error, sizeof(r->error), "bad API address (use --api "
		    "HOST:PORT)");
		return -1;
	}
	base = event_base_new();
	p.base = base;
	p.r = r;
	evcon = evhttp_connection_base_new(base, NULL, host, (unsigned short)port);
	evhttp_connection_set_timeout(evcon, timeout_s > 0 ? timeout_s :
	    API_TIMEOUT_S);
	req = evhttp_request_new(reply_cb, &p);
	snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
	if ((t = token(o, tok, sizeof(tok))) != NULL) {
		snprintf(auth, sizeof(auth), "Bearer %s", t);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Authorization", auth);
	}
	if (ctype != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", ctype);
		evbuffer_add(evhttp_request_get_output_buffer(req), data, len);
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
	if (r->status == 401 && t == NULL) {	/* say where we looked */
		snprintf(r->error, sizeof(r->error), "the node at %.64s wants a "
		    "token and none was found: not in --token, $AGENTFLOW_TOKEN "
		    "or %.200s/tokens.json (give --token, or --data-dir of the "
		    "node's data directory)", hostport, data_dir(o));
		return -1;
	}
	if (r->status < 200 || r->status > 299) {
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

int
cli_api_call(const struct cli_opts *o, enum evhttp_cmd_type method,
    const char *path, json_t *body, struct cli_reply *r)
{
	if (cli_api_request(o, method, path, body, 0, r) != 0)
		return -1;
	if (r->status != 200) {
		snprintf(r->error, sizeof(r->error), "the node answered %d", r->status);
		return -1;
	}
	return 0;
}

void
cli_api_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
}

int
cli_api_opts(int argc, char **argv, struct cli_opts *o, const char *usage,
    const struct option *extra, int (*on_extra)(int c, const char *arg,
    void *ctx), void *ctx, int *rc)
{
	static const struct option common[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "token", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t ncommon = sizeof(common) / sizeof(common[0]), nextra = 0;
	struct option lo[32];
	char shorts[64];
	int c;

	while (extra != NULL && extra[nextra].name != NULL && nextra < 16)
		nextra++;
	memcpy(lo, common, sizeof(common));
	if (nextra > 0)
		memcpy(lo + ncommon, extra, nextra * sizeof(*extra));
	memset(&lo[ncommon + nextra], 0, sizeof(lo[0]));
	/* Short forms: an extra option whose val is a printable letter. */
	snprintf(shorts, sizeof(shorts), "h");
	for (size_t i = 0; i < nextra; i++) {
		size_t n = strlen(shorts);
		if (extra[i].flag == NULL && extra[i].val > ' ' && extra[i].val < 127 &&
		    n + 3 < sizeof(shorts)) {
			shorts[n++] = (char)extra[i].val;
			if (extra[i].has_arg == required_argument)
				shorts[n++] = ':';
			shorts[n] = '\0';
		}
	}
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (c) {
		case 'a': o->api = optarg; break;
		case 'd': o->data_dir = optarg; break;
		case 't': o->token = optarg; break;
		case 'j': o->json = 1; break;
		case 'h':
			printf("usage: agentflow %s\n\n  --api HOST:PORT   the node's API "
			    "(else AGENTFLOW_API, DATA_DIR/api.json, 127.0.0.1:8080)\n"
			    "  --data-dir DIR    the node's data directory\n"
			    "  --token TOKEN     API token (else AGENTFLOW_TOKEN, "
			    "DATA_DIR/tokens.json)\n"
			    "  --json            print the API's JSON\n", usage);
			*rc = 0;
			return -1;
		default:
			if (c != '?' && on_extra != NULL && on_extra(c, optarg, ctx) == 0)
				break;
			if (c == '?')
				fprintf(stderr, "agentflow: unknown option %s\n",
				    argv[optind - 1]);
			fprintf(stderr, "usage: agentflow %s\n", usage);
			*rc = 2;
			return -1;
		}
	}
	return optind;
}

int
cli_api_show(const struct cli_opts *o, enum evhttp_cmd_type m,
    const char *path, json_t *body, void (*show)(json_t *))
{
	struct cli_reply r;
	int rc = cli_api_request(o, m, path, body, 0, &r);
	size_t i;
	json_t *v;

	if (o->json && r.body != NULL)
		cli_api_print_json(r.body);
	else if (rc != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_array_foreach(json_object_get(r.body, "errors"), i, v)
			fprintf(stderr, "  %s: %s\n", cli_fmt_str(v, "path", ""),
			    cli_fmt_str(v, "error", ""));
	} else if (show != NULL)
		show(r.body);
	json_decref(r.body);
	return rc == 0 ? 0 : 1;
}
