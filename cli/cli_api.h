/*
 * The CLI's client of the local node's API, shared by every subcommand
 * that talks to a node.  Where the API is and which token to send are
 * found by cli_find.h's order: flags, the environment, a data directory
 * (named, ./agentflow-data or /var/lib/agentflow), the user's cli.conf;
 * nothing found is an error that names each place looked at.
 */
#ifndef AGENTFLOW_CLI_API_H
#define AGENTFLOW_CLI_API_H

#include <event2/http.h>
#include <getopt.h>
#include <jansson.h>

struct cli_opts {
	const char	*api;
	const char	*data_dir;
	const char	*token;
	int		 json;
};

struct cli_reply {
	int	 status;	/* HTTP status, 0: no answer */
	json_t	*body;		/* the answer's JSON (caller decrefs), or NULL */
	char	 error[1536];	/* why the call failed, for people */
};

/*
 * Parses the common options (--api, --data-dir, --token, --json, --help)
 * and a command's own (extra, handled by on_extra, which returns 0 or -1
 * after printing why).  Returns the index of the first operand, or -1
 * after printing usage with *rc 0 (--help) or 2 (an error).
 */
int cli_api_opts(int argc, char **argv, struct cli_opts *, const char *usage,
    const struct option *extra, int (*on_extra)(int c, const char *arg,
    void *ctx), void *ctx, int *rc);

/*
 * One request (body may be NULL), waiting at most timeout_s (0: 5 s).
 * 0 when the node answered 2xx with JSON; -1 otherwise with r->error set
 * (the node's own message for a refusal).  r->body is kept either way.
 */
int cli_api_request(const struct cli_opts *, enum evhttp_cmd_type,
    const char *path, json_t *body, int timeout_s, struct cli_reply *r);
/* The same with a body of len bytes of type ctype (NULL: no body). */
int cli_api_send(const struct cli_opts *, enum evhttp_cmd_type,
    const char *path, const char *ctype, const void *data, size_t len,
    int timeout_s, struct cli_reply *r);
/* The same with the default timeout, answering 200 only. */
int cli_api_call(const struct cli_opts *, enum evhttp_cmd_type,
    const char *path, json_t *body, struct cli_reply *r);

/*
 * One request (cli_api_request), its answer shown: with --json the body
 * as it came; a refusal on stderr with each {path, error} of its
 * "errors" (a definition's); else show(body) when show is not NULL.
 * Returns the exit status: 0, or 1 refused.
 */
int cli_api_show(const struct cli_opts *, enum evhttp_cmd_type,
    const char *path, json_t *body, void (*show)(json_t *));

/* Where the node's API is (cli_find.h): 0, or -1 with err saying why
 * none was found. */
int cli_api_address(const struct cli_opts *, char *host, size_t hostlen,
    int *port, char *err, size_t errlen);

/* Prints the reply's JSON (for --json). */
void cli_api_print_json(json_t *);

#endif
