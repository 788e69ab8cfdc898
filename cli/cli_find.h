/*
 * Where the CLI finds the node's API and the token to send it, so that
 * on a host install `agentflow status` works without flags.  Each of the
 * two is taken from the first of these that has it:
 *
 *   1. --api / --token, then $AGENTFLOW_API / $AGENTFLOW_TOKEN (an empty
 *      variable is unset);
 *   2. a data directory's api.json / tokens.json (the node writes them):
 *      --data-dir or $AGENTFLOW_DATA_DIR when given (then only it), else
 *      ./agentflow-data when it holds api.json, else /var/lib/agentflow
 *      when it does (or is there but not ours to read);
 *   3. the user's file, $XDG_CONFIG_HOME/agentflow/cli.conf or
 *      ~/.config/agentflow/cli.conf, in the daemons' config syntax
 *      (config_file.h) with three keys: api = HOST:PORT, and token = T or
 *      token-file = FILE (its first line; a relative FILE is from the
 *      config's directory).  Not read when a data directory was named.
 *
 * A token read from a file goes only to the address read from the same
 * place, or to one given as a flag or variable: never the user's token
 * to an address a ./agentflow-data of anybody's names.  A token in a
 * file others may read (group or other bits set: the file holding
 * token =, or the token-file) is refused, as ssh refuses such a key; so
 * is the user's file or its token-file when another user owns it (root
 * aside) or others may write it.  No API found is an error naming every place looked at, in order,
 * and what to do; so is a data directory there but not ours to read (a
 * host install's is the agentflow user's, 0700) when the user's file does
 * not stand in for it.  No token found is not an error here: a node may
 * ask for none, and cli_api.c explains a 401 with cli_find_token_places.
 */
#ifndef AGENTFLOW_CLI_FIND_H
#define AGENTFLOW_CLI_FIND_H

#include <stddef.h>

#include "cli_api.h"

#define CLI_FIND_TOKEN_MAX	1024	/* bytes: token.h's TOKEN_TEXT_MAX */

struct cli_found {
	char	host[256];
	int	port;
	char	token[CLI_FIND_TOKEN_MAX + 1];	/* "" when none was found */
	int	has_token;	/* an explicit empty --token counts */
	char	dir[512];	/* the data directory read, "" none */
	char	conf[512];	/* the user's file's path, "" no $HOME */
};

/*
 * Finds the API and token by the order above into *f.  Returns 0, or -1
 * with err (a message for people, possibly several lines) set.
 */
int cli_find(const struct cli_opts *, struct cli_found *f, char *err,
    size_t errlen);

/* The places a token was looked for, in order, for a message: "--token,
 * $AGENTFLOW_TOKEN, DIR/tokens.json or CONF".  Returns buf. */
const char *cli_find_token_places(const struct cli_found *, char *buf,
    size_t len);

#endif
