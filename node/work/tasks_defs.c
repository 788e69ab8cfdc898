/*
 * Task definitions (tasks_priv.h): the JSON object of --tasks, name →
 * {command, cwd, env, timeout_s, retries, retry_backoff_ms, concurrency,
 * allow_args}, parsed and checked field by field at start-up, and shown
 * back to the API without the environment's values.
 *
 * A definition is immutable once parsed, except for its count of running
 * attempts, which the state machine in tasks.c keeps.
 */
#include "tasks_priv.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "json_check.h"
#include "text.h"
#include "xalloc.h"

#define ENV_MAX			256
#define TIMEOUT_MAX_S		31536000.0	/* a year; keeps timevals sane */

static void
def_free(struct taskdef *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	for (i = 0; i < d->envc; i++)
		free(d->env[i]);
	free(d->env);
	free(d->cwd);
	free(d->name);
	free(d->groups);
	free(d);
}

static const char *const def_keys[] = { "command", "cwd", "env", "timeout_s",
    "retries", "retry_backoff_ms", "concurrency", "allow_args" };

static struct taskdef *
def_parse(const char *name, const json_t *o, char *err, size_t errlen)
{
	struct taskdef *d;
	const json_t *v, *e;
	const char *k;
	json_int_t iv;
	size_t i, n;

#define BAD(...) do {							\
		int off_ = snprintf(err, errlen, "task \"%s\": ", name);	\
		if (off_ >= 0 && (size_t)off_ < errlen)			\
			snprintf(err + off_, errlen - (size_t)off_, __VA_ARGS__); \
		def_free(d);						\
		return NULL;						\
	} while (0)

	d = xcalloc(1, sizeof *d);
	d->name = xstrdup(name);
	d->backoff_ms = DEFAULT_BACKOFF_MS;
	d->concurrency = 1;
	if (!json_is_object(o))
		BAD("the definition must be an object");
	if ((k = json_check_keys(o, def_keys, sizeof def_keys /
	    sizeof def_keys[0])) != NULL)
		BAD("unknown field \"%s\"", k);

	v = json_object_get(o, "command");
	n = json_array_size(v);
	if (!json_is_array(v) || n < 1 || n > ARGV_MAX)
		BAD("\"command\" must be an array of 1-%d strings", ARGV_MAX);
	d->argv = xcalloc(n + 1, sizeof *d->argv);
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		if (!json_check_text(e, i == 0 ? 1 : 0, ARG_MAX_BYTES, false))
			BAD("\"command\" must be an array of 1-%d strings "
			    "(non-empty program, no NUL, at most %d bytes each)",
			    ARGV_MAX, ARG_MAX_BYTES);
		d->argv[i] = xstrdup(json_string_value(e));
		d->argc++;
	}

	if ((v = json_object_get(o, "cwd")) != NULL) {
		if (!json_check_text(v, 1, 4096, false))
			BAD("\"cwd\" must be a non-empty string");
		d->cwd = xstrdup(json_string_value(v));
	}

	if ((v = json_object_get(o, "env")) != NULL) {
		if (!json_is_object(v) || json_object_size(v) > ENV_MAX)
			BAD("\"env\" must be an object of at most %d strings",
			    ENV_MAX);
		d->env = xcalloc(json_object_size(v) + 1, sizeof *d->env);
		json_object_foreach((json_t *)v, k, e) {
			size_t klen = strlen(k), vlen;
			char *kv;

			if (!text_env_name_valid(k, klen))
				BAD("\"env\": \"%s\" is not a variable name "
				    "([A-Za-z_][A-Za-z0-9_]*)", k);
			if (!json_check_text(e, 0, ARG_MAX_BYTES, false))
				BAD("\"env\": \"%s\" must be a string of at "
				    "most %d bytes without NUL", k,
				    ARG_MAX_BYTES);
			vlen = json_string_length(e);
			kv = xmalloc(klen + vlen + 2);
			memcpy(kv, k, klen);
			kv[klen] = '=';
			memcpy(kv + klen + 1, json_string_value(e), vlen + 1);
			d->env[d->envc++] = kv;
		}
	}

	if ((v = json_object_get(o, "timeout_s")) != NULL) {
		if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
		    json_number_value(v) > TIMEOUT_MAX_S)
			BAD("\"timeout_s\" must be a number of seconds 0-%.0f "
			    "(0: none)", TIMEOUT_MAX_S);
		d->timeout_s = json_number_value(v);
	}
	if ((v = json_object_get(o, "retries")) != NULL) {
		if (!json_check_int(v, 0, 10, &iv))
			BAD("\"retries\" must be an integer 0-10");
		d->retries = (unsigned)iv;
	}
	if ((v = json_object_get(o, "retry_backoff_ms")) != NULL) {
		if (!json_check_int(v, 0, 3600000, &iv))
			BAD("\"retry_backoff_ms\" must be an integer 0-3600000");
		d->backoff_ms = (uint64_t)iv;
	}
	if ((v = json_object_get(o, "concurrency")) != NULL) {
		if (!json_check_int(v, 1, 64, &iv))
			BAD("\"concurrency\" must be an integer 1-64");
		d->concurrency = (unsigned)iv;
	}
	if ((v = json_object_get(o, "allow_args")) != NULL) {
		if (!json_is_boolean(v))
			BAD("\"allow_args\" must be true or false");
		d->allow_args = json_is_true(v);
	}
	return d;
#undef BAD
}

static int
def_cmp(const void *a, const void *b)
{
	return strcmp((*(struct taskdef *const *)a)->name,
	    (*(struct taskdef *const *)b)->name);
}

int
tasks_defs_load(struct tasks *t, const json_t *defs, char *err,
    size_t errlen)
{
	const char *name;
	const json_t *o;
	struct taskdef *d;

	t->defs = xcalloc(json_object_size(defs) + 1, sizeof *t->defs);
	json_object_foreach((json_t *)defs, name, o) {
		if (!node_id_valid(name, strlen(name))) {
			snprintf(err, errlen, "task \"%s\": the name must "
			    "be 1-%d characters of [A-Za-z0-9._-] "
			    "starting with a letter or digit", name,
			    NODE_ID_MAX);
			return -1;
		}
		if ((d = def_parse(name, o, err, errlen)) == NULL)
			return -1;
		t->defs[t->ndefs++] = d;
		hmap_put(t->byname, name, d);
	}
	qsort(t->defs, t->ndefs, sizeof *t->defs, def_cmp);
	return 0;
}

void
tasks_defs_clear(struct tasks *t)
{
	size_t i;

	for (i = 0; i < t->ndefs; i++)
		def_free(t->defs[i]);
	free(t->defs);
	t->defs = NULL;
	t->ndefs = 0;
}

json_t *
tasks_defs_json(const struct tasks *t)
{
	json_t *a = json_array(), *o, *cmd, *keys;
	const struct taskdef *d;
	size_t i, j;

	for (i = 0; i < t->ndefs; i++) {
		d = t->defs[i];
		cmd = json_array();
		for (j = 0; j < d->argc; j++)
			json_array_append_new(cmd, json_string(d->argv[j]));
		/* Environment values often hold secrets: names only. */
		keys = json_array();
		for (j = 0; j < d->envc; j++)
			json_array_append_new(keys, json_stringn(d->env[j],
			    (size_t)(strchr(d->env[j], '=') - d->env[j])));
		o = json_pack("{s:s, s:o, s:o, s:f, s:i, s:I, s:i, s:b}",
		    "name", d->name, "command", cmd, "env_keys", keys,
		    "timeout_s", d->timeout_s, "retries", (int)d->retries,
		    "retry_backoff_ms", (json_int_t)d->backoff_ms,
		    "concurrency", (int)d->concurrency,
		    "allow_args", d->allow_args);
		json_object_set_new(o, "cwd", d->cwd != NULL ?
		    json_string(d->cwd) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

int
tasks_user_lookup(const char *user, uid_t *uid, gid_t *gid, gid_t **groups,
    int *ngroups, char *msg, size_t msglen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	int n = 64, rc;

	*groups = NULL;
	*ngroups = 0;
	if (geteuid() != 0) {
		snprintf(msg, msglen, "the node does not run as root, so it "
		    "cannot run anything as user %s", user);
		return -1;
	}
	if ((rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res)) != 0 ||
	    res == NULL) {
		snprintf(msg, msglen, "no user named %s%s%s", user, rc != 0 ?
		    ": " : "", rc != 0 ? strerror(rc) : "");
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	for (;;) {
		int got = n;

		*groups = xrealloc(*groups, (size_t)n * sizeof(**groups));
		if (getgrouplist(user, pw.pw_gid, *groups, &got) != -1) {
			*ngroups = got;
			return 0;
		}
		if (got <= n || got > 65536) {
			free(*groups);
			*groups = NULL;
			snprintf(msg, msglen, "cannot list the groups of %s", user);
			return -1;
		}
		n = got;
	}
}

void
tasks_def_free(struct taskdef *d)
{
	def_free(d);
}

static char **
strv_copy(char *const *v, size_t max, size_t *n)
{
	char **out;
	size_t i, len = 0;

	while (v != NULL && v[len] != NULL)
		if (++len > max)
			return NULL;
	out = xcalloc(len + 1, sizeof *out);
	for (i = 0; i < len; i++)
		out[i] = xstrdup(v[i]);
	*n = len;
	return out;
}

struct taskdef *
tasks_def_service(const struct tasks_service *sv, char *msg, size_t msglen)
{
	struct taskdef *d = xcalloc(1, sizeof *d);
	size_t i;

	d->name = xstrdup(sv->task_name);
	if ((d->argv = strv_copy(sv->argv, ARGV_MAX, &d->argc)) == NULL ||
	    d->argc == 0 || d->argv[0][0] == '\0') {
		snprintf(msg, msglen, "a service's command must be 1-%d "
		    "strings, the program not empty", ARGV_MAX);
		goto bad;
	}
	for (i = 0; i < d->argc; i++)
		if (strlen(d->argv[i]) > ARG_MAX_BYTES) {
			snprintf(msg, msglen, "a service's command strings "
			    "must be at most %d bytes", ARG_MAX_BYTES);
			goto bad;
		}
	if ((d->env = strv_copy(sv->env, ENV_MAX, &d->envc)) == NULL) {
		snprintf(msg, msglen, "a service's env has over %d entries",
		    ENV_MAX);
		goto bad;
	}
	if (sv->cwd != NULL)
		d->cwd = xstrdup(sv->cwd);
	if (sv->user != NULL && tasks_user_lookup(sv->user, &d->uid, &d->gid,
	    &d->groups, &d->ngroups, msg, msglen) == -1)
		goto bad;
	d->as_user = sv->user != NULL;
	return d;
bad:
	def_free(d);
	return NULL;
}
