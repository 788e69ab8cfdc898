/*
 * The CLI's API client (see cli_api.h): one libevent HTTP request per
 * call, on a private event base.
 */
#include "cli_api.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_find.h"
#include "cli_fmt.h"

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

/* Where the node's API is, by cli_find's order. */
int
cli_api_address(const struct cli_opts *o, char *host, size_t hostlen,
    int *port, char *err, size_t errlen)
{
	struct cli_found f;

	if (cli_find(o, &f, err, errlen) != 0)
		return -1;
	snprintf(host, hostlen, "%s", f.host);
	*port = f.port;
	return 0;
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
	struct cli_found f;
	char hostport[300], auth[CLI_FIND_TOKEN_MAX + 16], places[800];

	memset(r, 0, sizeof(*r));
	if (cli_find(o, &f, r->error, sizeof(r->error)) != 0)
		return -1;
	base = event_base_new();
	p.base = base;
	p.r = r;
	evcon = evhttp_connection_base_new(base, NULL, f.host,
	    (unsigned short)f.port);
	evhttp_connection_set_timeout(evcon, timeout_s > 0 ? timeout_s :
	    API_TIMEOUT_S);
	req = evhttp_request_new(reply_cb, &p);
	snprintf(hostport, sizeof(hostport), "%s:%d", f.host, f.port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
	if (f.has_token) {
		snprintf(auth, sizeof(auth), "Bearer %s", f.token);
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
	if (r->status == 401 && !f.has_token) {	/* say where we looked */
		snprintf(r->error, sizeof(r->error), "the node at %.64s wants a "
		    "token and none was found: not in %s (give --token, or "
		    "--data-dir of the node's data directory)", hostport,
		    cli_find_token_places(&f, places, sizeof(places)));
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
			    "(else AGENTFLOW_API, DATA_DIR/api.json, cli.conf)\n"
			    "  --data-dir DIR    the node's data directory\n"
			    "  --token TOKEN     API token (else AGENTFLOW_TOKEN, "
			    "DATA_DIR/tokens.json, cli.conf)\n"
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
