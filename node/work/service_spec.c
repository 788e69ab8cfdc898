/*
 * A service's definition parsed and checked, and the restart policy's
 * arithmetic (service_spec.h).
 *
 * The check goes on after an error so that one answer lists them all, as
 * workflow_spec.c's does: each field's reader adds its error under the
 * field's path and leaves the default in place, and the spec is kept only
 * when this parse added no error.  A rule between two fields (timeout_s
 * <= interval_s, max_delay_s >= delay_s) is checked only when both fields
 * are valid, so one bad value is one error.
 *
 * spec->json is made from the parsed spec, not copied from the input: it
 * shows what the node will run, every default filled in, and parses back
 * to the same spec and the same JSON.
 */
#include "service_spec.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "node_id.h"
#include "text.h"
#include "xalloc.h"

#define ARGV_MAX	64
#define ARG_MAX_BYTES	4096
#define USER_MAX	32
#define HTTP_PATH_MAX	1024
#define FILE_SERVICES_MAX 128
#define PATH_LEN	256

/* The errors one parse adds to the caller's array. */
struct parse {
	json_t	*errors;
	size_t	 n;
};

/* Enum names in the order of their values (index = value). */
static const char *const restarts[] = { "always", "on-failure", "never" };
static const char *const check_types[] = { "http", "tcp", "exec" };
static const char *const protocols[] = { "tcp", "udp", "http" };
static const char *const modes[] = { "delay", "fail" };	/* mode_fail */
static const char *const desireds[] = { "stopped", "running" };
static const char *const signal_names[] = { "TERM", "INT", "HUP", "QUIT",
    "KILL", "USR1", "USR2" };
static const int signal_numbers[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
    SIGKILL, SIGUSR1, SIGUSR2 };

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void fail(struct parse *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct parse *p, const char *path, const char *fmt, ...)
{
	char msg[256], where[PATH_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s", path);
	/* A key in a path cut at the buffer's end may split a character. */
	text_sanitize(msg, strlen(msg));
	text_sanitize(where, strlen(where));
	json_array_append_new(p->errors, json_pack("{s:s, s:s}", "path", where,
	    "error", msg));
	p->n++;
}

/* The path of field under prefix ("" at the top), in buf. */
static const char *
at(char buf[PATH_LEN], const char *prefix, const char *field)
{
	snprintf(buf, PATH_LEN, "%s%s%s", prefix, prefix[0] != '\0' ? "." : "",
	    field);
	return buf;
}

int
service_name_valid(const char *s)
{
	/* A node's name without '.': a path reads "NAME.field" up to one. */
	return s != NULL && node_id_valid(s, strlen(s)) &&
	    strchr(s, '.') == NULL;
}

/* A user's name as useradd takes one; looked up only when starting. */
static bool
user_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > USER_MAX || !(s[0] == '_' ||
	    (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < n; i++)
		if (!(s[i] == '_' || s[i] == '.' || s[i] == '-' ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* '/' then visible ASCII: it goes into a request line as it is. */
static bool
http_path_valid(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/' || n > HTTP_PATH_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* --- field readers: each leaves *out as it was (the default) when the
 * field is absent, and returns false after adding an error when it is
 * bad. ----------------------------------------------------------------- */

static void
keys(struct parse *p, const json_t *o, const char *prefix,
    const char *const known[], size_t n)
{
	char path[PATH_LEN];
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (json_check_name(k, known, n, sizeof(known[0])) < 0)
			fail(p, at(path, prefix, k), "unknown field");
}

/* A number within lo..hi (HUGE_VAL: no bound above); unit for the error. */
static bool
number(struct parse *p, const json_t *o, const char *prefix,
    const char *field, double lo, double hi, const char *unit, double *out)
{
	const json_t *v = json_object_get(o, field);
	char path[PATH_LEN];
	double d = json_number_value(v);

	if (v == NULL)
		return true;
	if (!json_is_number(v) || !(d >= lo && d <= hi)) {
		at(path, prefix, field);
		if (hi == HUGE_VAL)
			fail(p, path, "must be a number >= %g", lo);
		else
			fail(p, path, "must be %s%g-%g%s", unit[0] != '\0' ? "" :
			    "a number ", lo, hi, unit);
		return false;
	}
	*out = d;
	return true;
}

/* Seconds within lo..hi, as milliseconds. */
static bool
seconds(struct parse *p, const json_t *o, const char *prefix,
    const char *field, double lo, double hi, uint64_t *out)
{
	double s = (double)*out / 1000;

	if (!number(p, o, prefix, field, lo, hi, " seconds", &s))
		return false;
	*out = (uint64_t)llround(s * 1000);
	return true;
}

static bool
integer(struct parse *p, const json_t *o, const char *prefix,
    const char *field, json_int_t lo, json_int_t hi, json_int_t *out)
{
	const json_t *v = json_object_get(o, field);
	char path[PATH_LEN];

	if (v == NULL)
		return true;
	if (!json_check_int(v, lo, hi, out)) {
		fail(p, at(path, prefix, field), "must be an integer %lld-%lld",
		    (long long)lo, (long long)hi);
		return false;
	}
	return true;
}

/* One of names (their index in *out); want lists them for the error. */
static bool
word(struct parse *p, const json_t *o, const char *prefix, const char *field,
    const char *const names[], size_t n, const char *want, int *out)
{
	const json_t *v = json_object_get(o, field);
	char path[PATH_LEN];
	int i;

	if (v == NULL)
		return true;
	if ((i = json_check_enum(v, names, n, sizeof(names[0]))) < 0) {
		fail(p, at(path, prefix, field), "must be %s", want);
		return false;
	}
	*out = i;
	return true;
}

static bool
flag(struct parse *p, const json_t *o, const char *prefix, const char *field,
    int *out)
{
	const json_t *v = json_object_get(o, field);
	char path[PATH_LEN];

	if (v == NULL)
		return true;
	if (!json_is_boolean(v)) {
		fail(p, at(path, prefix, field), "must be true or false");
		return false;
	}
	*out = json_is_true(v);
	return true;
}

/* A field that must be there: false (and the error) when it is not. */
static bool
required(struct parse *p, const json_t *o, const char *prefix,
    const char *field, const char *what)
{
	char path[PATH_LEN];

	if (json_object_get(o, field) != NULL)
		return true;
	fail(p, at(path, prefix, field), "required: %s", what);
	return false;
}

static void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **e = v; *e != NULL; e++)
		free(*e);
	free(v);
}

/* A command: 1-64 strings, the program (not empty) then its arguments. */
static char **
argv_parse(struct parse *p, const json_t *o, const char *prefix,
    size_t *argc)
{
	const json_t *v = json_object_get(o, "command"), *e;
	char path[PATH_LEN], sub[PATH_LEN + 32];
	size_t i, n = json_array_size(v), before = p->n;
	char **argv;

	at(path, prefix, "command");
	if (!required(p, o, prefix, "command", "the program and its arguments"))
		return NULL;
	if (!json_is_array(v) || n < 1 || n > ARGV_MAX) {
		fail(p, path, "must be an array of 1-%d strings", ARGV_MAX);
		return NULL;
	}
	json_array_foreach(v, i, e) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (i == 0 && !json_check_text(e, 1, ARG_MAX_BYTES, false))
			fail(p, sub, "must be the program: 1-%d bytes without NUL",
			    ARG_MAX_BYTES);
		else if (!json_check_text(e, 0, ARG_MAX_BYTES, false))
			fail(p, sub, "must be a string of at most %d bytes "
			    "without NUL", ARG_MAX_BYTES);
	}
	if (p->n != before)
		return NULL;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (i = 0; i < n; i++)
		argv[i] = xstrdup(json_string_value(json_array_get(v, i)));
	*argc = n;
	return argv;
}

/* An optional string field checked by valid; a copy, or NULL. */
static char *
text_field(struct parse *p, const json_t *o, const char *prefix,
    const char *field, bool (*valid)(const char *), const char *want)
{
	const json_t *v = json_object_get(o, field);
	char path[PATH_LEN];

	if (v == NULL)
		return NULL;
	if (!json_check_text(v, 1, ARG_MAX_BYTES, false) ||
	    !valid(json_string_value(v))) {
		fail(p, at(path, prefix, field), "must be %s", want);
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

static bool
absolute(const char *s)
{
	return s[0] == '/';
}

static void
env_parse(struct parse *p, const json_t *v, struct service_spec *s)
{
	char path[PATH_LEN];
	const char *k;
	json_t *e;
	size_t klen, vlen;

	/* Never NULL: a consumer walks it to its NULL as argv. */
	s->env = xcalloc(json_object_size(v) + 1, sizeof(*s->env));
	if (v == NULL)
		return;
	if (!json_is_object(v) || json_object_size(v) > SERVICE_ENV_MAX) {
		fail(p, "env", "must be an object of at most %d NAME: \"value\" "
		    "pairs", SERVICE_ENV_MAX);
		return;
	}
	json_object_foreach((json_t *)v, k, e) {
		at(path, "env", k);
		klen = strlen(k);
		if (!text_env_name_valid(k, klen))
			fail(p, path, "not a variable's name ([A-Za-z_]"
			    "[A-Za-z0-9_]*)");
		else if (!json_check_text(e, 0, ARG_MAX_BYTES, false))
			fail(p, path, "must be a string of at most %d bytes "
			    "without NUL", ARG_MAX_BYTES);
		else {
			vlen = json_string_length(e);
			s->env[s->envc] = xmalloc(klen + vlen + 2);
			memcpy(s->env[s->envc], k, klen);
			s->env[s->envc][klen] = '=';
			memcpy(s->env[s->envc] + klen + 1, json_string_value(e),
			    vlen + 1);
			s->envc++;
		}
	}
}

static void
stop_signal_parse(struct parse *p, const json_t *v, struct service_spec *s)
{
	const char *name = json_string_value(v);
	int i;

	s->stop_signal = SIGTERM;
	if (v == NULL)
		return;
	if (name != NULL && strncmp(name, "SIG", 3) == 0)
		name += 3;
	if ((i = json_check_name(name, signal_names, NELEM(signal_names),
	    sizeof(signal_names[0]))) < 0)
		fail(p, "stop_signal", "must be TERM, INT, HUP, QUIT, KILL, USR1 "
		    "or USR2 (SIGTERM... too)");
	else
		s->stop_signal = signal_numbers[i];
}

static void
policy_parse(struct parse *p, const json_t *o, struct service_policy *pol)
{
	static const char *const known[] = { "attempts", "interval_s",
	    "delay_s", "max_delay_s", "jitter", "mode" };
	const char *pre = "restart_policy";
	json_int_t attempts = 5;
	int mode = 1;
	bool delay_ok;

	pol->interval_ms = 300000;
	pol->delay_ms = 1000;
	pol->max_delay_ms = 60000;
	pol->jitter = 0.25;
	if (o != NULL && !json_is_object(o)) {
		fail(p, pre, "must be an object {attempts, interval_s, delay_s, "
		    "max_delay_s, jitter, mode}");
		o = NULL;
	}
	keys(p, o, pre, known, NELEM(known));
	integer(p, o, pre, "attempts", 0, 1000, &attempts);
	seconds(p, o, pre, "interval_s", 1, 86400, &pol->interval_ms);
	delay_ok = seconds(p, o, pre, "delay_s", 0, 3600, &pol->delay_ms);
	/* A delay set above the default cap raises the cap with it. */
	if (json_object_get(o, "max_delay_s") == NULL) {
		if (pol->delay_ms > pol->max_delay_ms)
			pol->max_delay_ms = pol->delay_ms;
	} else if (seconds(p, o, pre, "max_delay_s", 0, 3600,
	    &pol->max_delay_ms) && delay_ok &&
	    pol->max_delay_ms < pol->delay_ms)
		fail(p, "restart_policy.max_delay_s", "must be >= delay_s (%g)",
		    (double)pol->delay_ms / 1000);
	number(p, o, pre, "jitter", 0, 1, "", &pol->jitter);
	word(p, o, pre, "mode", modes, NELEM(modes), "fail or delay", &mode);
	pol->attempts = (unsigned)attempts;
	pol->mode_fail = mode;
}

static void
resources_parse(struct parse *p, const json_t *o, struct service_spec *s)
{
	static const char *const known[] = { "cpu_percent", "memory_mb" };

	if (o != NULL && !json_is_object(o)) {
		fail(p, "resources", "must be an object {cpu_percent, "
		    "memory_mb}");
		return;
	}
	keys(p, o, "resources", known, NELEM(known));
	number(p, o, "resources", "cpu_percent", 0, HUGE_VAL, "",
	    &s->cpu_percent);
	number(p, o, "resources", "memory_mb", 0, HUGE_VAL, "",
	    &s->memory_mb);
}

/* A check's or an endpoint's name: given, or the default; unique in seen. */
static void
item_name(struct parse *p, const json_t *o, const char *prefix,
    const char *dflt, json_t *seen, char name[SERVICE_NAME_MAX + 1])
{
	const json_t *v = json_object_get(o, "name");
	char path[PATH_LEN];
	const char *s = v != NULL ? json_string_value(v) : dflt;

	at(path, prefix, "name");
	if (s == NULL || !service_name_valid(s)) {
		fail(p, path, "must be a name: 1-%d of [A-Za-z0-9_-], starting "
		    "with a letter or digit", SERVICE_NAME_MAX);
		return;
	}
	if (json_object_get(seen, s) != NULL) {
		fail(p, path, "\"%s\"%s names another one too", s, v == NULL ?
		    " (the default name)" : "");
		return;
	}
	json_object_set_new(seen, s, json_true());
	snprintf(name, SERVICE_NAME_MAX + 1, "%s", s);
}

/* The fields only some types of check take: types is a mask of them. */
static const struct {
	const char	*name;
	unsigned	 types;
} check_only[] = {
	{ "port", 1u << SERVICE_CHECK_HTTP | 1u << SERVICE_CHECK_TCP },
	{ "path", 1u << SERVICE_CHECK_HTTP },
	{ "status_min", 1u << SERVICE_CHECK_HTTP },
	{ "status_max", 1u << SERVICE_CHECK_HTTP },
	{ "command", 1u << SERVICE_CHECK_EXEC },
};

static void
check_typed(struct parse *p, const json_t *o, const char *prefix,
    struct service_check *c)
{
	char path[PATH_LEN];
	json_int_t port = 0, lo = 200, hi = 399;
	bool lo_ok;

	for (size_t i = 0; i < NELEM(check_only); i++)
		if (!(check_only[i].types & 1u << c->type) &&
		    json_object_get(o, check_only[i].name) != NULL)
			fail(p, at(path, prefix, check_only[i].name), "not a "
			    "field of a check of type %s", check_types[c->type]);
	if (c->type == SERVICE_CHECK_EXEC) {
		c->argv = argv_parse(p, o, prefix, &c->argc);
		return;
	}
	if (required(p, o, prefix, "port", "the port on 127.0.0.1, 1-65535"))
		integer(p, o, prefix, "port", 1, 65535, &port);
	c->port = (uint16_t)port;
	if (c->type != SERVICE_CHECK_HTTP)
		return;
	if ((c->path = text_field(p, o, prefix, "path", http_path_valid,
	    "a URL's path: '/' then at most 1023 of visible ASCII")) == NULL)
		c->path = xstrdup("/");
	lo_ok = integer(p, o, prefix, "status_min", 100, 599, &lo);
	if (integer(p, o, prefix, "status_max", 100, 599, &hi) && lo_ok &&
	    hi < lo)
		fail(p, at(path, prefix, "status_max"), "must be >= status_min "
		    "(%lld)", (long long)lo);
	c->status_min = (int)lo;
	c->status_max = (int)hi;
}

static void
check_parse(struct parse *p, const json_t *o, size_t i, json_t *seen,
    struct service_check *c)
{
	static const char *const known[] = { "name", "type", "port", "path",
	    "status_min", "status_max", "command", "interval_s", "timeout_s",
	    "failures", "successes", "grace_s", "restart" };
	char prefix[32], dflt[32];
	json_int_t failures = 3, successes = 1;
	int type = -1;
	bool interval_ok, timeout_ok;

	snprintf(prefix, sizeof(prefix), "checks[%zu]", i);
	if (!json_is_object(o)) {
		fail(p, prefix, "must be an object {type, ...}");
		return;
	}
	keys(p, o, prefix, known, NELEM(known));
	if (required(p, o, prefix, "type", "http, tcp or exec") &&
	    word(p, o, prefix, "type", check_types, NELEM(check_types),
	    "http, tcp or exec", &type)) {
		c->type = (enum service_check_type)type;
		check_typed(p, o, prefix, c);
	}
	snprintf(dflt, sizeof(dflt), "%s-%zu", type >= 0 ? check_types[type] :
	    "check", i);
	item_name(p, o, prefix, dflt, seen, c->name);
	c->interval_ms = 10000;
	c->timeout_ms = 2000;
	interval_ok = seconds(p, o, prefix, "interval_s", 0.1, 3600,
	    &c->interval_ms);
	timeout_ok = seconds(p, o, prefix, "timeout_s", 0.1, 600,
	    &c->timeout_ms);
	/* The default timeout shrinks to a shorter interval set. */
	if (json_object_get(o, "timeout_s") == NULL &&
	    c->timeout_ms > c->interval_ms)
		c->timeout_ms = c->interval_ms;
	else if (interval_ok && timeout_ok && c->timeout_ms > c->interval_ms) {
		char path[PATH_LEN];

		fail(p, at(path, prefix, "timeout_s"), "must be <= interval_s "
		    "(%g)", (double)c->interval_ms / 1000);
	}
	integer(p, o, prefix, "failures", 1, 100, &failures);
	integer(p, o, prefix, "successes", 1, 100, &successes);
	c->failures = (unsigned)failures;
	c->successes = (unsigned)successes;
	c->grace_ms = 5000;
	seconds(p, o, prefix, "grace_s", 0, 3600, &c->grace_ms);
	flag(p, o, prefix, "restart", &c->restart);
}

static void
endpoint_parse(struct parse *p, const json_t *o, size_t i, json_t *seen,
    struct service_endpoint *ep)
{
	static const char *const known[] = { "name", "protocol", "port",
	    "tags" };
	char prefix[32], path[PATH_LEN], sub[PATH_LEN + 16];
	const json_t *tags, *t;
	json_int_t port = 0;
	int proto = 0;
	size_t j;

	snprintf(prefix, sizeof(prefix), "endpoints[%zu]", i);
	if (!json_is_object(o)) {
		fail(p, prefix, "must be an object {name, protocol, port, tags}");
		return;
	}
	keys(p, o, prefix, known, NELEM(known));
	if (required(p, o, prefix, "name", "the endpoint's name"))
		item_name(p, o, prefix, NULL, seen, ep->name);
	word(p, o, prefix, "protocol", protocols, NELEM(protocols),
	    "tcp, udp or http", &proto);
	snprintf(ep->protocol, sizeof(ep->protocol), "%s", protocols[proto]);
	if (required(p, o, prefix, "port", "1-65535"))
		integer(p, o, prefix, "port", 1, 65535, &port);
	ep->port = (uint16_t)port;
	tags = json_object_get(o, "tags");
	ep->tags = xcalloc(json_array_size(tags) + 1, sizeof(*ep->tags));
	if (tags == NULL)
		return;
	if (!json_is_array(tags) || json_array_size(tags) > SERVICE_TAGS_MAX) {
		fail(p, at(path, prefix, "tags"), "must be an array of at most "
		    "%d tags", SERVICE_TAGS_MAX);
		return;
	}
	json_array_foreach(tags, j, t) {
		snprintf(sub, sizeof(sub), "%s.tags[%zu]", prefix, j);
		/* No dot: DNS reads TAG.NAME.service.agentflow. */
		if (!json_is_string(t) || !text_name_valid(
		    json_string_value(t), json_string_length(t)))
			fail(p, sub, "must be a tag: 1-%d of [A-Za-z0-9_-]",
			    TEXT_NAME_MAX);
		else
			ep->tags[ep->ntags++] = xstrdup(json_string_value(t));
	}
}

/* checks or endpoints: an array of at most max objects, each parsed. */
static void
list_parse(struct parse *p, const json_t *def, const char *field, size_t max,
    const char *what, struct service_spec *s)
{
	const json_t *a = json_object_get(def, field), *o;
	json_t *seen;
	size_t i, n = json_array_size(a);

	if (a == NULL)
		return;
	if (!json_is_array(a) || n > max) {
		fail(p, field, "must be an array of at most %zu %s", max, what);
		return;
	}
	if (n == 0)
		return;
	seen = json_object();
	if (strcmp(field, "checks") == 0) {
		s->checks = xcalloc(n, sizeof(*s->checks));
		s->nchecks = n;
		json_array_foreach(a, i, o)
			check_parse(p, o, i, seen, &s->checks[i]);
	} else {
		s->endpoints = xcalloc(n, sizeof(*s->endpoints));
		s->nendpoints = n;
		json_array_foreach(a, i, o)
			endpoint_parse(p, o, i, seen, &s->endpoints[i]);
	}
	json_decref(seen);
}

/* --- the definition as the API shows it ---------------------------------- */

/* Milliseconds as seconds: an integer when whole, as most are written. */
static json_t *
secs_json(uint64_t ms)
{
	if (ms % 1000 == 0)
		return json_integer((json_int_t)(ms / 1000));
	return json_real((double)ms / 1000);
}

static json_t *
num_json(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)	/* 2^53 */
		return json_integer((json_int_t)d);
	return json_real(d);
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
check_json(const struct service_check *c)
{
	json_t *o = json_pack("{s:s, s:s}", "name", c->name, "type",
	    check_types[c->type]);

	if (c->type == SERVICE_CHECK_EXEC)
		json_object_set_new(o, "command", strv_json(c->argv, c->argc));
	else
		json_object_set_new(o, "port", json_integer(c->port));
	if (c->type == SERVICE_CHECK_HTTP) {
		json_object_set_new(o, "path", json_string(c->path));
		json_object_set_new(o, "status_min",
		    json_integer(c->status_min));
		json_object_set_new(o, "status_max",
		    json_integer(c->status_max));
	}
	json_object_set_new(o, "interval_s", secs_json(c->interval_ms));
	json_object_set_new(o, "timeout_s", secs_json(c->timeout_ms));
	json_object_set_new(o, "failures", json_integer(c->failures));
	json_object_set_new(o, "successes", json_integer(c->successes));
	json_object_set_new(o, "grace_s", secs_json(c->grace_ms));
	json_object_set_new(o, "restart", json_boolean(c->restart));
	return o;
}

static json_t *
spec_json(const struct service_spec *s)
{
	const struct service_policy *pol = &s->policy;
	json_t *o = json_object(), *env = json_object(), *list;
	const char *sig = "TERM";
	size_t i;

	json_object_set_new(o, "command", strv_json(s->argv, s->argc));
	if (s->cwd != NULL)
		json_object_set_new(o, "cwd", json_string(s->cwd));
	for (i = 0; i < s->envc; i++) {
		char *eq = strchr(s->env[i], '=');

		*eq = '\0';
		json_object_set_new(env, s->env[i], json_string(eq + 1));
		*eq = '=';
	}
	json_object_set_new(o, "env", env);
	if (s->user != NULL)
		json_object_set_new(o, "user", json_string(s->user));
	for (i = 0; i < NELEM(signal_numbers); i++)
		if (signal_numbers[i] == s->stop_signal)
			sig = signal_names[i];
	json_object_set_new(o, "stop_signal", json_string(sig));
	json_object_set_new(o, "stop_grace_s", secs_json(s->grace_ms));
	json_object_set_new(o, "restart", json_string(restarts[s->restart]));
	json_object_set_new(o, "restart_policy", json_pack("{s:i, s:o, s:o, "
	    "s:o, s:o, s:s}", "attempts", (int)pol->attempts, "interval_s",
	    secs_json(pol->interval_ms), "delay_s", secs_json(pol->delay_ms),
	    "max_delay_s", secs_json(pol->max_delay_ms), "jitter",
	    num_json(pol->jitter), "mode", modes[pol->mode_fail]));
	json_object_set_new(o, "resources", json_pack("{s:o, s:o}",
	    "cpu_percent", num_json(s->cpu_percent), "memory_mb",
	    num_json(s->memory_mb)));
	list = json_array();
	for (i = 0; i < s->nchecks; i++)
		json_array_append_new(list, check_json(&s->checks[i]));
	json_object_set_new(o, "checks", list);
	list = json_array();
	for (i = 0; i < s->nendpoints; i++) {
		const struct service_endpoint *ep = &s->endpoints[i];

		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:o}",
		    "name", ep->name, "protocol", ep->protocol, "port",
		    (int)ep->port, "tags", strv_json(ep->tags, ep->ntags)));
	}
	json_object_set_new(o, "endpoints", list);
	if (s->artifact != NULL)
		json_object_set_new(o, "artifact", json_string(s->artifact));
	json_object_set_new(o, "desired", json_string(
	    desireds[s->desired_running]));
	return o;
}

/* --- parsing ------------------------------------------------------------------ */

struct service_spec *
service_spec_parse(const char *name, const json_t *def, json_t *errors)
{
	static const char *const known[] = { "command", "cwd", "env", "user",
	    "stop_signal", "stop_grace_s", "restart", "restart_policy",
	    "resources", "checks", "endpoints", "artifact", "desired" };
	struct parse p = { errors, 0 };
	struct service_spec *s;
	int restart = SERVICE_RESTART_ALWAYS;

	if (!service_name_valid(name))
		fail(&p, "", "not a service's name: 1-%d of [A-Za-z0-9_-], "
		    "starting with a letter or digit", SERVICE_NAME_MAX);
	if (!json_is_object(def)) {
		fail(&p, "", "a service's definition is an object {command, "
		    "...}");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if (p.n == 0)
		snprintf(s->name, sizeof(s->name), "%s", name);
	keys(&p, def, "", known, NELEM(known));
	s->argv = argv_parse(&p, def, "", &s->argc);
	s->cwd = text_field(&p, def, "", "cwd", absolute, "an absolute path");
	env_parse(&p, json_object_get(def, "env"), s);
	s->user = text_field(&p, def, "", "user", user_valid, "a user's name: "
	    "1-32 of [A-Za-z0-9._-], starting with a letter or '_'");
	stop_signal_parse(&p, json_object_get(def, "stop_signal"), s);
	s->grace_ms = 5000;
	seconds(&p, def, "", "stop_grace_s", 0, 600, &s->grace_ms);
	word(&p, def, "", "restart", restarts, NELEM(restarts),
	    "always, on-failure or never", &restart);
	s->restart = (enum service_restart)restart;
	policy_parse(&p, json_object_get(def, "restart_policy"), &s->policy);
	resources_parse(&p, json_object_get(def, "resources"), s);
	list_parse(&p, def, "checks", SERVICE_CHECKS_MAX, "checks", s);
	list_parse(&p, def, "endpoints", SERVICE_ENDPOINTS_MAX, "endpoints", s);
	s->artifact = text_field(&p, def, "", "artifact", text_artifact_valid,
	    "\"sha256:\" and 64 lowercase hex digits");
	s->desired_running = 1;
	word(&p, def, "", "desired", desireds, NELEM(desireds),
	    "running or stopped", &s->desired_running);
	if (p.n > 0) {
		service_spec_free(s);
		return NULL;
	}
	s->json = spec_json(s);
	return s;
}

void
service_spec_free(struct service_spec *s)
{
	size_t i;

	if (s == NULL)
		return;
	strv_free(s->argv);
	strv_free(s->env);
	free(s->cwd);
	free(s->user);
	for (i = 0; i < s->nchecks; i++) {
		free(s->checks[i].path);
		strv_free(s->checks[i].argv);
	}
	free(s->checks);
	for (i = 0; i < s->nendpoints; i++)
		strv_free(s->endpoints[i].tags);
	free(s->endpoints);
	free(s->artifact);
	json_decref(s->json);
	free(s);
}

static int
spec_cmp(const void *a, const void *b)
{
	return strcmp((*(struct service_spec *const *)a)->name,
	    (*(struct service_spec *const *)b)->name);
}

int
service_spec_file(const json_t *file, struct service_spec ***specs,
    size_t *n, json_t *errors)
{
	struct parse p = { errors, 0 };
	struct service_spec **out, *s;
	const json_t *def;
	json_t *errs, *e;
	const char *name, *path;
	char where[PATH_LEN];
	size_t i, count = 0;

	*specs = NULL;
	*n = 0;
	if (!json_is_object(file)) {
		fail(&p, "", "a services file is an object: name → definition");
		return -1;
	}
	if (json_object_size(file) > FILE_SERVICES_MAX)
		fail(&p, "", "at most %d services", FILE_SERVICES_MAX);
	out = xcalloc(json_object_size(file) + 1, sizeof(*out));
	json_object_foreach((json_t *)file, name, def) {
		errs = json_array();
		if ((s = service_spec_parse(name, def, errs)) != NULL)
			out[count++] = s;
		json_array_foreach(errs, i, e) {
			path = json_string_value(json_object_get(e, "path"));
			snprintf(where, sizeof(where), "%s%s%s", name,
			    path[0] != '\0' ? "." : "", path);
			fail(&p, where, "%s", json_string_value(json_object_get(e,
			    "error")));
		}
		json_decref(errs);
	}
	if (p.n > 0) {
		for (i = 0; i < count; i++)
			service_spec_free(out[i]);
		free(out);
		return -1;
	}
	qsort(out, count, sizeof(*out), spec_cmp);
	*specs = out;
	*n = count;
	return 0;
}

/* --- the restart policy ------------------------------------------------------ */

int
service_policy_next(const struct service_policy *pol, const uint64_t *starts,
    size_t nstarts, uint64_t now_ms, double r01, uint64_t *delay_ms)
{
	size_t first = nstarts, within, i;
	uint64_t d, t;

	/* Oldest first: the restarts from first on are within the interval
	 * (one stamped after now, a clock stepped back, counts as now). */
	for (i = 0; i < nstarts; i++)
		if (starts[i] >= now_ms || now_ms - starts[i] <
		    pol->interval_ms) {
			first = i;
			break;
		}
	within = nstarts - first;
	if (within >= pol->attempts) {
		if (pol->mode_fail)
			return 0;
		/* Delay mode: the budget comes back as counted restarts leave
		 * the interval, the oldest first; with attempts 0 none is
		 * ever counted, so a whole interval between starts. */
		if (pol->attempts == 0) {
			*delay_ms = pol->interval_ms;
			return 1;
		}
		t = starts[first + within - pol->attempts];
		*delay_ms = t >= now_ms ? pol->interval_ms + (t - now_ms) :
		    pol->interval_ms - (now_ms - t);
		return 1;
	}
	d = pol->delay_ms;
	for (i = 0; i < within && d < pol->max_delay_ms; i++)
		d = d > pol->max_delay_ms / 2 ? pol->max_delay_ms : d * 2;
	if (d > pol->max_delay_ms)
		d = pol->max_delay_ms;
	if (!(r01 >= 0))
		r01 = 0;
	if (r01 > 1)
		r01 = 1;
	*delay_ms = (uint64_t)llround((double)d * (1 + pol->jitter *
	    (2 * r01 - 1)));
	return 1;
}
