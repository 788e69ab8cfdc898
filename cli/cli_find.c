/*
 * Where the CLI finds the node's API and its token (see cli_find.h for
 * the order).  Each step answers one of GOT, NONE (not there: go on),
 * DENIED (there, not ours to read: go on, and say so if nothing later
 * has it) or BAD (there and wrong: stop, err says why), so the order is
 * the sequence of calls in cli_find() and nothing else.
 */
#include "cli_find.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_file.h"
#include "file.h"
#include "hostport.h"
#include "json_check.h"

#define CONF_MAX	(64 * 1024)	/* bytes of cli.conf or a token-file */

enum { GOT, NONE, DENIED, BAD };

/* The data directories looked at when none is named, in order. */
static const char *const implicit_dirs[] = { "./agentflow-data",
    "/var/lib/agentflow" };

/* The user's file as read: each key's value and its line (0: absent). */
struct conf {
	char		 api[300];
	char		 token[CLI_FIND_TOKEN_MAX + 1];
	char		 token_file[512];
	unsigned	 api_line, token_line, token_file_line;
};

/* A variable's value, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Whether s could be sent as a bearer token: printable ASCII, no blank. */
static int
token_valid(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
conf_cb(void *arg, unsigned line, const char *key, const char *value,
    char *err, size_t errlen)
{
	struct conf *c = arg;
	const struct {
		const char	*key;
		char		*val;
		size_t		 size;
		unsigned	*line;
	} keys[] = {
		{ "api", c->api, sizeof(c->api), &c->api_line },
		{ "token", c->token, sizeof(c->token), &c->token_line },
		{ "token-file", c->token_file, sizeof(c->token_file),
		  &c->token_file_line },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) != 0)
			continue;
		if (*keys[i].line != 0) {
			snprintf(err, errlen, "%s: given twice (first on line %u)",
			    key, *keys[i].line);
			return -1;
		}
		if (value[0] == '\0' || strlen(value) >= keys[i].size) {
			snprintf(err, errlen, "%s: empty or longer than %zu bytes",
			    key, keys[i].size - 1);
			return -1;
		}
		snprintf(keys[i].val, keys[i].size, "%s", value);
		*keys[i].line = line;
		return 0;
	}
	snprintf(err, errlen, "unknown key \"%.64s\" (api, token, token-file)",
	    key);
	return -1;
}

/* A token in a file others may read is refused, as ssh refuses a key. */
static int
private_enough(const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	if ((st->st_mode & 077) == 0)
		return 0;
	snprintf(err, errlen, "%.200s holds a token and others may read it "
	    "(mode %04o): refused; make it yours alone: chmod 600 %.200s",
	    path, (unsigned)(st->st_mode & 07777), path);
	return -1;
}

/* The user's file, or the token-file it names, must be the user's (or
 * root's) and written by nobody else: whoever may change it may send the
 * token where they like, or name another file as the token. */
static int
owned_enough(const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		snprintf(err, errlen, "%.200s belongs to uid %u, not to you: "
		    "refused", path, (unsigned)st->st_uid);
		return -1;
	}
	if ((st->st_mode & 022) != 0) {
		snprintf(err, errlen, "%.200s may be written by others (mode "
		    "%04o): refused; chmod go-w %.200s", path,
		    (unsigned)(st->st_mode & 07777), path);
		return -1;
	}
	return 0;
}

/* c->token from the first line of c->token_file (relative: to the
 * directory of conf, the user's file). */
static int
conf_token_file(const char *conf, struct conf *c, char *err, size_t errlen)
{
	char path[1100], why[128];
	const char *slash = strrchr(conf, '/');
	struct stat st;
	size_t n;
	char *text;

	if (c->token_file[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", c->token_file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - conf), conf,
		    c->token_file);
	if ((text = file_read(path, CONF_MAX, NULL, &st, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "%.200s:%u: token-file %.200s: %s", conf,
		    c->token_file_line, path, why);
		return BAD;
	}
	if (owned_enough(path, &st, err, errlen) != 0 ||
	    private_enough(path, &st, err, errlen) != 0) {
		free(text);
		return BAD;
	}
	n = strcspn(text, "\r\n");
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n == 0 || n > CLI_FIND_TOKEN_MAX) {
		snprintf(err, errlen, "%.200s: its first line is no token (empty "
		    "or longer than %d bytes)", path, CLI_FIND_TOKEN_MAX);
		free(text);
		return BAD;
	}
	memcpy(c->token, text, n);
	c->token[n] = '\0';
	free(text);
	return GOT;
}

/* The user's file at path into *c: GOT, NONE (no such file) or BAD. */
static int
conf_read(const char *path, struct conf *c, char *err, size_t errlen)
{
	char why[128], msg[512];
	struct stat st;
	size_t len;
	char *text;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((text = file_read(path, CONF_MAX, &len, &st, why,
	    sizeof(why))) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return NONE;
		snprintf(err, errlen, "cannot read %.300s: %s", path, why);
		return BAD;
	}
	if (owned_enough(path, &st, err, errlen) != 0) {
		free(text);
		return BAD;
	}
	rc = config_file_parse(path, text, len, conf_cb, c, NULL, msg,
	    sizeof(msg));
	free(text);
	if (rc != 0) {
		snprintf(err, errlen, "%s", msg);
		return BAD;
	}
	if (c->token_line != 0 && c->token_file_line != 0) {
		snprintf(err, errlen, "%.300s: token (line %u) and token-file "
		    "(line %u): give one of them", path, c->token_line,
		    c->token_file_line);
		return BAD;
	}
	if (c->token_line != 0 && private_enough(path, &st, err, errlen) != 0)
		return BAD;
	if (c->token_file_line != 0 && conf_token_file(path, c, err,
	    errlen) != GOT)
		return BAD;
	if ((c->token_line != 0 || c->token_file_line != 0) &&
	    !token_valid(c->token)) {
		snprintf(err, errlen, "%.300s: the token holds a blank or a "
		    "control character", path);
		return BAD;
	}
	return GOT;
}

/* $XDG_CONFIG_HOME/agentflow/cli.conf, else ~/.config/...; "" neither
 * is set (a relative $XDG_CONFIG_HOME is ignored, as the spec says). */
static void
conf_path(char *buf, size_t len)
{
	const char *xdg = env("XDG_CONFIG_HOME"), *home = env("HOME");

	int n = -1;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/agentflow/cli.conf", xdg);
	else if (home != NULL)
		n = snprintf(buf, len, "%s/.config/agentflow/cli.conf", home);
	/* A path cut short would be another file: none rather. */
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}

/* DIR/api.json into f's host and port. */
static int
dir_api(const char *dir, struct cli_found *f, char *err, size_t errlen)
{
	char path[600];
	const char *a;
	json_int_t port;
	json_t *j;

	snprintf(path, sizeof(path), "%s/api.json", dir);
	if (access(path, R_OK) != 0)
		return errno == EACCES ? DENIED : NONE;
	if ((j = json_load_file(path, 0, NULL)) == NULL)
		return NONE;	/* being written: as if not yet there */
	a = json_string_value(json_object_get(j, "address"));
	snprintf(f->host, sizeof(f->host), "%s", a != NULL ? a : "127.0.0.1");
	if (!json_check_int(json_object_get(j, "port"), 1, 65535, &port)) {
		json_decref(j);
		snprintf(err, errlen, "%.300s names no port: is it the node's?",
		    path);
		return BAD;
	}
	json_decref(j);
	f->port = (int)port;
	if (strcmp(f->host, "0.0.0.0") == 0)
		snprintf(f->host, sizeof(f->host), "127.0.0.1");
	else if (strcmp(f->host, "::") == 0)
		snprintf(f->host, sizeof(f->host), "::1");
	return GOT;
}

/* DIR/tokens.json's admin token, else write, else read, into f. */
static int
dir_token(const char *dir, struct cli_found *f)
{
	static const char *const keys[] = { "admin", "admin-next", "write",
	    "write-next", "read", "read-next" };
	char path[600];
	const char *t = NULL;
	json_t *j;

	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	if (access(path, R_OK) != 0)
		return errno == EACCES ? DENIED : NONE;
	if ((j = json_load_file(path, 0, NULL)) == NULL)
		return NONE;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && t == NULL; i++)
		t = json_string_value(json_object_get(j, keys[i]));
	if (t != NULL)
		snprintf(f->token, sizeof(f->token), "%s", t);
	json_decref(j);
	if (t == NULL)
		return NONE;
	f->has_token = 1;
	return GOT;
}

/* HOST:PORT given by a flag, a variable or the user's file, into f. */
static int
split(const char *api, const char *from, struct cli_found *f, char *err,
    size_t errlen)
{
	if (hostport_split(api, f->host, sizeof(f->host), &f->port) == 0 &&
	    f->port > 0)
		return GOT;
	snprintf(err, errlen, "bad API address \"%.100s\" (from %.300s): give "
	    "HOST:PORT", api, from);
	return BAD;
}

/* The message for a data directory we may not read. */
static void
denied(const char *dir, const char *file, const char *conf, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "cannot read %.200s/%s: permission denied (the "
	    "node's data directory is its user's: run this as root or that "
	    "user, e.g. sudo agentflow ..., or give --api and --token%s%.200s)",
	    dir, file, conf[0] != '\0' ? ", or put api and token-file in " : "",
	    conf);
}

/* The message for no API anywhere: each place, in order, and why not. */
static void
nothing_found(const struct cli_found *f, const char *named,
    const int *dir_errno, int conf_rc, char *err, size_t errlen)
{
	size_t n = 0;

#define ADD(...) do {							\
	if (n < errlen)							\
		n += (size_t)snprintf(err + n, errlen - n, __VA_ARGS__); \
} while (0)
	ADD("no node's API found; looked, in order, at:\n"
	    "  --api, $AGENTFLOW_API: not given\n");
	if (named != NULL)
		ADD("  %.300s/api.json (the data directory given): not there "
		    "(is the node started with this --data-dir?)\n", named);
	else {
		for (size_t i = 0; i < sizeof(implicit_dirs) /
		    sizeof(implicit_dirs[0]); i++)
			if (dir_errno[i] >= 0)	/* -1: not looked at */
				ADD("  %s/api.json: %s\n", implicit_dirs[i],
				    dir_errno[i] != 0 ? strerror(dir_errno[i]) :
				    "no address in it (the node starting?)");
		if (f->conf[0] == '\0')
			ADD("  the user's cli.conf: not looked for ($HOME "
			    "unset)\n");
		else
			ADD("  %.300s: %s\n", f->conf, conf_rc == NONE ?
			    "No such file or directory" : "no api in it");
	}
	if (named != NULL)
		ADD("give --data-dir of the node's data directory (where it "
		    "writes api.json), or --api HOST:PORT and --token");
	else
		ADD("give --data-dir DIR (the node's data directory), or set "
		    "AGENTFLOW_API=HOST:PORT and AGENTFLOW_TOKEN,\nor write "
		    "\"api = HOST:PORT\" and \"token-file = FILE\" in %.300s "
		    "(see agentflow(1), FILES)", f->conf[0] != '\0' ? f->conf :
		    "~/.config/agentflow/cli.conf");
#undef ADD
}

int
cli_find(const struct cli_opts *o, struct cli_found *f, char *err,
    size_t errlen)
{
	const char *api = o->api != NULL ? o->api : env("AGENTFLOW_API");
	const char *named = o->data_dir != NULL ? o->data_dir :
	    env("AGENTFLOW_DATA_DIR");
	const char *tok = o->token;	/* an empty --token is sent as given */
	int dir_errno[sizeof(implicit_dirs) / sizeof(implicit_dirs[0])];
	int got_api = 0, api_rc = NONE, token_rc = NONE, conf_rc = NONE;
	int explicit_api, conf_api = 0;
	struct conf c;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(dir_errno) / sizeof(dir_errno[0]); i++)
		dir_errno[i] = -1;
	if (tok == NULL)
		tok = env("AGENTFLOW_TOKEN");
	if (tok != NULL) {
		if (strlen(tok) > CLI_FIND_TOKEN_MAX) {
			snprintf(err, errlen, "the token given is longer than %d "
			    "bytes", CLI_FIND_TOKEN_MAX);
			return -1;
		}
		snprintf(f->token, sizeof(f->token), "%s", tok);
		f->has_token = 1;
	}
	if (api != NULL) {
		if (split(api, o->api != NULL ? "--api" : "$AGENTFLOW_API", f,
		    err, errlen) != GOT)
			return -1;
		got_api = 1;
	}
	if (got_api && f->has_token)
		return 0;
	/* A token read from a file goes only to the address read from the
	 * same place, or to one given (flag or variable): never to an
	 * address another place named, which may be anybody's (a directory
	 * of a clone, a node's api.json being rewritten). */
	explicit_api = got_api;

	/* 2. a data directory: the one named, else the first that has one */
	if (named != NULL) {
		if ((size_t)snprintf(f->dir, sizeof(f->dir), "%s", named) >=
		    sizeof(f->dir)) {
			snprintf(err, errlen, "the data directory's path is "
			    "longer than %zu bytes", sizeof(f->dir) - 1);
			return -1;
		}
	} else
		for (size_t i = 0; i < sizeof(implicit_dirs) /
		    sizeof(implicit_dirs[0]) && f->dir[0] == '\0'; i++) {
			char path[600];

			snprintf(path, sizeof(path), "%s/api.json",
			    implicit_dirs[i]);
			if (access(path, F_OK) == 0 || errno == EACCES) {
				snprintf(f->dir, sizeof(f->dir), "%s",
				    implicit_dirs[i]);
				dir_errno[i] = 0;
			} else
				dir_errno[i] = errno;
		}
	if (f->dir[0] != '\0') {
		if (!got_api && (api_rc = dir_api(f->dir, f, err, errlen)) == BAD)
			return -1;
		got_api = got_api || api_rc == GOT;
		if (!f->has_token && (explicit_api || api_rc == GOT))
			token_rc = dir_token(f->dir, f);
	}

	/* 3. the user's file, unless a data directory was named */
	if (named == NULL)
		conf_path(f->conf, sizeof(f->conf));
	if ((!got_api || !f->has_token) && f->conf[0] != '\0') {
		if ((conf_rc = conf_read(f->conf, &c, err, errlen)) == BAD)
			return -1;
		if (conf_rc == GOT && !got_api && c.api_line != 0) {
			if (split(c.api, f->conf, f, err, errlen) != GOT)
				return -1;
			got_api = conf_api = 1;
		}
		if (conf_rc == GOT && !f->has_token && c.token[0] != '\0' &&
		    (explicit_api || conf_api)) {
			snprintf(f->token, sizeof(f->token), "%s", c.token);
			f->has_token = 1;
		}
	}

	if (!got_api && api_rc == DENIED)
		denied(f->dir, "api.json", f->conf, err, errlen);
	else if (!got_api)
		nothing_found(f, named, dir_errno, conf_rc, err, errlen);
	else if (!f->has_token && token_rc == DENIED)
		denied(f->dir, "tokens.json", f->conf, err, errlen);
	else
		return 0;
	return -1;
}

const char *
cli_find_token_places(const struct cli_found *f, char *buf, size_t len)
{
	snprintf(buf, len, "--token, $AGENTFLOW_TOKEN%s%.300s%s%s%.300s",
	    f->dir[0] != '\0' ? ", " : "", f->dir, f->dir[0] != '\0' ?
	    "/tokens.json" : "", f->conf[0] != '\0' ? " or " : "", f->conf);
	return buf;
}
