/*
 * Unit tests of node/work/service_spec.c: a service's definition parsed
 * whole (every error at once, each with its path relative to the
 * definition), the definition shown back with every default filled in,
 * a --services file (sorted, errors under "NAME."), and the restart
 * policy's delays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service_spec.h"

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_ALLOW_NUL, &e);

	if (v == NULL)
		fail_msg("test JSON: %s: %s", e.text, text);
	return v;
}

/* Parses text as service name; *errs (new) holds what was refused. */
static struct service_spec *
parse(const char *name, const char *text, json_t **errs)
{
	json_t *def = load(text);
	struct service_spec *s;

	*errs = json_array();
	s = service_spec_parse(name, def, *errs);
	json_decref(def);
	return s;
}

static void
dump(const char *what, const json_t *v)
{
	char *t = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS);

	print_message("%s: %s\n", what, t != NULL ? t : "(null)");
	free(t);
}

/* Whether errs has an entry at exactly path whose error contains what. */
static int
has_error(const json_t *errs, const char *path, const char *what)
{
	size_t i;
	json_t *v;

	json_array_foreach(errs, i, v)
		if (strcmp(json_string_value(json_object_get(v, "path")),
		    path) == 0 && strstr(json_string_value(json_object_get(v,
		    "error")), what) != NULL)
			return 1;
	dump("errors", errs);
	print_message("wanted %s: %s\n", path, what);
	return 0;
}

/* text refused with exactly one error, at path, saying what. */
static void
refused_once(const char *text, const char *path, const char *what)
{
	json_t *errs;
	struct service_spec *s = parse("svc", text, &errs);

	if (s != NULL)
		fail_msg("accepted: %s", text);
	if (json_array_size(errs) != 1) {
		dump("errors", errs);
		fail_msg("%zu errors for %s", json_array_size(errs), text);
	}
	assert_true(has_error(errs, path, what));
	json_decref(errs);
}

/*
 * head, n copies of item joined by commas ('#' in item: the copy's
 * index), then tail: refused once at path; with one copy fewer, taken.
 */
static void
many_refused(const char *head, const char *item, int n, const char *tail,
    const char *path, const char *what)
{
	size_t cap = strlen(head) + (strlen(item) + 12) * (size_t)n +
	    strlen(tail) + 1, o, cut = 0, mark = strcspn(item, "#");
	char *text = malloc(cap);
	json_t *errs, *def;
	struct service_spec *s;

	o = (size_t)snprintf(text, cap, "%s", head);
	for (int i = 0; i < n; i++) {
		cut = o;
		if (i > 0)
			text[o++] = ',';
		memcpy(text + o, item, mark);
		o += mark;
		if (item[mark] == '#')
			o += (size_t)snprintf(text + o, cap - o, "%d%s", i,
			    item + mark + 1);
	}
	snprintf(text + o, cap - o, "%s", tail);
	refused_once(text, path, what);
	snprintf(text + cut, cap - cut, "%s", tail);
	errs = json_array();
	def = load(text);
	if ((s = service_spec_parse("svc", def, errs)) == NULL)
		dump("errors", errs);
	assert_non_null(s);
	service_spec_free(s);
	json_decref(def);
	json_decref(errs);
	free(text);
}

static void
assert_json(const json_t *got, const char *want_text)
{
	json_t *want = load(want_text);

	if (!json_equal(got, want)) {
		dump("got", got);
		dump("want", want);
		fail_msg("the JSON differs");
	}
	json_decref(want);
}

/* spec->json parses back to a spec with the same JSON. */
static void
assert_round_trip(const struct service_spec *s)
{
	json_t *errs = json_array();
	struct service_spec *again = service_spec_parse(s->name, s->json, errs);

	if (again == NULL)
		dump("round trip refused", errs);
	assert_non_null(again);
	assert_true(json_equal(again->json, s->json));
	service_spec_free(again);
	json_decref(errs);
}

static void
test_full_definition(void **state)
{
	json_t *errs;
	struct service_spec *s = parse("web", "{"
	    "\"command\": [\"/usr/bin/web\", \"--port\", \"8080\", \"\"],"
	    "\"cwd\": \"/srv/web\", \"env\": {\"MODE\": \"prod\", \"_X1\": \"\"},"
	    "\"user\": \"www-data\", \"stop_signal\": \"SIGINT\","
	    "\"stop_grace_s\": 2.5, \"restart\": \"on-failure\","
	    "\"restart_policy\": {\"attempts\": 3, \"interval_s\": 60,"
	    " \"delay_s\": 0.5, \"max_delay_s\": 30, \"jitter\": 0,"
	    " \"mode\": \"delay\"},"
	    "\"resources\": {\"cpu_percent\": 50, \"memory_mb\": 256.5},"
	    "\"checks\": ["
	    " {\"type\": \"http\", \"port\": 8080, \"path\": \"/health?x=1\","
	    "  \"status_min\": 200, \"status_max\": 204, \"interval_s\": 5,"
	    "  \"timeout_s\": 1, \"failures\": 2, \"successes\": 2,"
	    "  \"grace_s\": 30, \"restart\": true},"
	    " {\"name\": \"port-open\", \"type\": \"tcp\", \"port\": 8080},"
	    " {\"type\": \"exec\", \"command\": [\"/bin/check\", \"-q\"],"
	    "  \"interval_s\": 0.1}],"
	    "\"endpoints\": [{\"name\": \"http\", \"protocol\": \"http\","
	    " \"port\": 8080, \"tags\": [\"web\", \"v1_2\"]},"
	    " {\"name\": \"metrics\", \"port\": 9100}],"
	    "\"artifact\": \"sha256:0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\","
	    "\"desired\": \"stopped\"}", &errs);

	(void)state;
	if (s == NULL)
		dump("errors", errs);
	assert_non_null(s);
	assert_int_equal(json_array_size(errs), 0);
	assert_string_equal(s->name, "web");
	assert_int_equal(s->argc, 4);
	assert_string_equal(s->argv[0], "/usr/bin/web");
	assert_string_equal(s->argv[3], "");
	assert_null(s->argv[4]);
	assert_string_equal(s->cwd, "/srv/web");
	assert_int_equal(s->envc, 2);
	assert_string_equal(s->env[0], "MODE=prod");
	assert_string_equal(s->env[1], "_X1=");
	assert_null(s->env[2]);
	assert_string_equal(s->user, "www-data");
	assert_int_equal(s->stop_signal, SIGINT);
	assert_int_equal(s->grace_ms, 2500);
	assert_int_equal(s->restart, SERVICE_RESTART_ON_FAILURE);
	assert_int_equal(s->policy.attempts, 3);
	assert_int_equal(s->policy.interval_ms, 60000);
	assert_int_equal(s->policy.delay_ms, 500);
	assert_int_equal(s->policy.max_delay_ms, 30000);
	assert_true(s->policy.jitter == 0);
	assert_int_equal(s->policy.mode_fail, 0);
	assert_true(s->cpu_percent == 50 && s->memory_mb == 256.5);
	assert_int_equal(s->nchecks, 3);
	assert_string_equal(s->checks[0].name, "http-0");
	assert_int_equal(s->checks[0].type, SERVICE_CHECK_HTTP);
	assert_int_equal(s->checks[0].port, 8080);
	assert_string_equal(s->checks[0].path, "/health?x=1");
	assert_int_equal(s->checks[0].status_max, 204);
	assert_int_equal(s->checks[0].interval_ms, 5000);
	assert_int_equal(s->checks[0].timeout_ms, 1000);
	assert_int_equal(s->checks[0].grace_ms, 30000);
	assert_int_equal(s->checks[0].restart, 1);
	assert_string_equal(s->checks[1].name, "port-open");
	assert_int_equal(s->checks[1].type, SERVICE_CHECK_TCP);
	assert_null(s->checks[1].path);
	assert_string_equal(s->checks[2].name, "exec-2");
	assert_int_equal(s->checks[2].argc, 2);
	assert_string_equal(s->checks[2].argv[1], "-q");
	assert_null(s->checks[2].argv[2]);
	/* The default timeout (2 s) cannot pass a shorter interval. */
	assert_int_equal(s->checks[2].interval_ms, 100);
	assert_int_equal(s->checks[2].timeout_ms, 100);
	assert_int_equal(s->nendpoints, 2);
	assert_string_equal(s->endpoints[0].protocol, "http");
	assert_int_equal(s->endpoints[0].ntags, 2);
	assert_string_equal(s->endpoints[0].tags[1], "v1_2");
	assert_null(s->endpoints[0].tags[2]);
	assert_string_equal(s->endpoints[1].protocol, "tcp");
	assert_int_equal(s->endpoints[1].ntags, 0);
	assert_null(s->endpoints[1].tags[0]);
	assert_string_equal(s->artifact, "sha256:0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(s->desired_running, 0);
	assert_json(s->json, "{"
	    "\"command\": [\"/usr/bin/web\", \"--port\", \"8080\", \"\"],"
	    "\"cwd\": \"/srv/web\", \"env\": {\"MODE\": \"prod\", \"_X1\": \"\"},"
	    "\"user\": \"www-data\", \"stop_signal\": \"INT\","
	    "\"stop_grace_s\": 2.5, \"restart\": \"on-failure\","
	    "\"restart_policy\": {\"attempts\": 3, \"interval_s\": 60,"
	    " \"delay_s\": 0.5, \"max_delay_s\": 30, \"jitter\": 0,"
	    " \"mode\": \"delay\"},"
	    "\"resources\": {\"cpu_percent\": 50, \"memory_mb\": 256.5},"
	    "\"checks\": ["
	    " {\"name\": \"http-0\", \"type\": \"http\", \"port\": 8080,"
	    "  \"path\": \"/health?x=1\", \"status_min\": 200,"
	    "  \"status_max\": 204, \"interval_s\": 5, \"timeout_s\": 1,"
	    "  \"failures\": 2, \"successes\": 2, \"grace_s\": 30,"
	    "  \"restart\": true},"
	    " {\"name\": \"port-open\", \"type\": \"tcp\", \"port\": 8080,"
	    "  \"interval_s\": 10, \"timeout_s\": 2, \"failures\": 3,"
	    "  \"successes\": 1, \"grace_s\": 5, \"restart\": false},"
	    " {\"name\": \"exec-2\", \"type\": \"exec\","
	    "  \"command\": [\"/bin/check\", \"-q\"], \"interval_s\": 0.1,"
	    "  \"timeout_s\": 0.1, \"failures\": 3, \"successes\": 1,"
	    "  \"grace_s\": 5, \"restart\": false}],"
	    "\"endpoints\": [{\"name\": \"http\", \"protocol\": \"http\","
	    " \"port\": 8080, \"tags\": [\"web\", \"v1_2\"]},"
	    " {\"name\": \"metrics\", \"protocol\": \"tcp\", \"port\": 9100,"
	    "  \"tags\": []}],"
	    "\"artifact\": \"sha256:0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\","
	    "\"desired\": \"stopped\"}");
	assert_round_trip(s);
	service_spec_free(s);
	json_decref(errs);
}

static void
test_minimal_definition(void **state)
{
	json_t *errs;
	struct service_spec *s = parse("sleeper",
	    "{\"command\": [\"sleep\"]}", &errs);

	(void)state;
	assert_non_null(s);
	assert_int_equal(json_array_size(errs), 0);
	/* What the JSON (made from the spec) cannot show. */
	assert_int_equal(s->argc, 1);
	assert_null(s->cwd);
	assert_null(s->user);
	assert_null(s->env[0]);
	assert_int_equal(s->stop_signal, SIGTERM);
	assert_null(s->artifact);
	assert_json(s->json, "{\"command\": [\"sleep\"], \"env\": {},"
	    "\"stop_signal\": \"TERM\", \"stop_grace_s\": 5,"
	    "\"restart\": \"always\", \"restart_policy\": {\"attempts\": 5,"
	    " \"interval_s\": 300, \"delay_s\": 1, \"max_delay_s\": 60,"
	    " \"jitter\": 0.25, \"mode\": \"fail\"},"
	    "\"resources\": {\"cpu_percent\": 0, \"memory_mb\": 0},"
	    "\"checks\": [], \"endpoints\": [], \"desired\": \"running\"}");
	assert_round_trip(s);
	service_spec_free(s);
	json_decref(errs);

	/* An http check alone: its defaults. */
	s = parse("w", "{\"command\": [\"w\"], \"checks\": [{\"type\": \"http\","
	    " \"port\": 80}]}", &errs);
	assert_non_null(s);
	assert_json(json_object_get(s->json, "checks"), "[{\"name\": "
	    "\"http-0\", \"type\": \"http\", \"port\": 80, \"path\": \"/\","
	    " \"status_min\": 200, \"status_max\": 399, \"interval_s\": 10,"
	    " \"timeout_s\": 2, \"failures\": 3, \"successes\": 1,"
	    " \"grace_s\": 5, \"restart\": false}]");
	service_spec_free(s);
	json_decref(errs);
}

/* One definition wrong in many places: each error, with its path, once. */
static void
test_every_error_at_once(void **state)
{
	json_t *errs;
	struct service_spec *s = parse("svc", "{"
	    "\"command\": [\"\", 7, \"ok\"],"
	    "\"cwd\": \"relative/dir\", \"env\": {\"1BAD\": \"x\", \"OK\": 1},"
	    "\"user\": \"9lives\", \"stop_signal\": \"STOP\","
	    "\"stop_grace_s\": 601, \"restart\": \"sometimes\","
	    "\"restart_policy\": {\"attempts\": -1, \"interval_s\": 0,"
	    " \"delay_s\": 10, \"max_delay_s\": 5, \"jitter\": 1.5,"
	    " \"mode\": \"retry\", \"backoff\": 2},"
	    "\"resources\": {\"cpu_percent\": -1, \"disk_mb\": 1},"
	    "\"checks\": ["
	    " {\"type\": \"tcp\", \"port\": 0, \"path\": \"/x\","
	    "  \"interval_s\": -1},"
	    " {\"type\": \"http\", \"port\": 65536, \"path\": \"health\","
	    "  \"status_min\": 300, \"status_max\": 200, \"interval_s\": 1,"
	    "  \"timeout_s\": 2, \"failures\": 0, \"successes\": 101,"
	    "  \"grace_s\": 3601, \"restart\": \"yes\", \"url\": \"x\"},"
	    " {\"type\": \"exec\", \"command\": [], \"port\": 1},"
	    " {\"type\": \"udp\", \"name\": \"bad name\"},"
	    " 5],"
	    "\"endpoints\": ["
	    " {\"name\": \"a\", \"protocol\": \"sctp\", \"port\": 0,"
	    "  \"tags\": [\"ok\", \"no spaces\", 3], \"weight\": 1},"
	    " {\"name\": \"a\", \"port\": 80},"
	    " {\"port\": 80, \"tags\": \"web\"}],"
	    "\"artifact\": \"sha256:ABC\", \"desired\": \"up\","
	    "\"image\": \"nginx\"}", &errs);
	static const struct {
		const char	*path, *what;
	} want[] = {
		{ "image", "unknown field" },
		{ "command[0]", "must be the program: 1-4096 bytes" },
		{ "command[1]", "must be a string of at most 4096 bytes" },
		{ "cwd", "must be an absolute path" },
		{ "env.1BAD", "not a variable's name" },
		{ "env.OK", "must be a string" },
		{ "user", "must be a user's name" },
		{ "stop_signal", "must be TERM, INT, HUP, QUIT, KILL, USR1 or "
		    "USR2" },
		{ "stop_grace_s", "must be 0-600 seconds" },
		{ "restart", "must be always, on-failure or never" },
		{ "restart_policy.backoff", "unknown field" },
		{ "restart_policy.attempts", "must be an integer 0-1000" },
		{ "restart_policy.interval_s", "must be 1-86400 seconds" },
		{ "restart_policy.max_delay_s", "must be >= delay_s (10)" },
		{ "restart_policy.jitter", "must be a number 0-1" },
		{ "restart_policy.mode", "must be fail or delay" },
		{ "resources.disk_mb", "unknown field" },
		{ "resources.cpu_percent", "must be a number >= 0" },
		{ "checks[0].path", "not a field of a check of type tcp" },
		{ "checks[0].port", "must be an integer 1-65535" },
		{ "checks[0].interval_s", "must be 0.1-3600 seconds" },
		{ "checks[1].url", "unknown field" },
		{ "checks[1].port", "must be an integer 1-65535" },
		{ "checks[1].path", "must be a URL's path" },
		{ "checks[1].status_max", "must be >= status_min (300)" },
		{ "checks[1].timeout_s", "must be <= interval_s (1)" },
		{ "checks[1].failures", "must be an integer 1-100" },
		{ "checks[1].successes", "must be an integer 1-100" },
		{ "checks[1].grace_s", "must be 0-3600 seconds" },
		{ "checks[1].restart", "must be true or false" },
		{ "checks[2].port", "not a field of a check of type exec" },
		{ "checks[2].command", "must be an array of 1-64 strings" },
		{ "checks[3].type", "must be http, tcp or exec" },
		{ "checks[3].name", "must be a name" },
		{ "checks[4]", "must be an object" },
		{ "endpoints[0].weight", "unknown field" },
		{ "endpoints[0].protocol", "must be tcp, udp or http" },
		{ "endpoints[0].port", "must be an integer 1-65535" },
		{ "endpoints[0].tags[1]", "must be a tag" },
		{ "endpoints[0].tags[2]", "must be a tag" },
		{ "endpoints[1].name", "\"a\" names another one too" },
		{ "endpoints[2].name", "required" },
		{ "endpoints[2].tags", "must be an array of at most 16 tags" },
		{ "artifact", "must be \"sha256:\" and 64 lowercase hex" },
		{ "desired", "must be running or stopped" },
	};

	(void)state;
	assert_null(s);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(has_error(errs, want[i].path, want[i].what));
	if (json_array_size(errs) != sizeof(want) / sizeof(want[0]))
		dump("errors", errs);
	assert_int_equal(json_array_size(errs), sizeof(want) / sizeof(want[0]));
	json_decref(errs);
}

static void
test_unknown_fields(void **state)
{
	(void)state;
	refused_once("{\"command\": [\"a\"], \"name\": \"svc\"}", "name",
	    "unknown field");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 1, \"host\": \"10.0.0.1\"}]}", "checks[0].host",
	    "unknown field");
	refused_once("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"e\","
	    " \"port\": 1}, {\"name\": \"f\", \"port\": 2, \"ip\": \"\"}]}",
	    "endpoints[1].ip", "unknown field");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": {\"tries\": 1}}",
	    "restart_policy.tries", "unknown field");
	refused_once("{\"command\": [\"a\"], \"resources\": {\"gpu\": 1}}",
	    "resources.gpu", "unknown field");
}

static void
test_bounds(void **state)
{
	(void)state;
	/* Ports: 1 and 65535 are the ends. */
	refused_once("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"e\","
	    " \"port\": 0}]}", "endpoints[0].port", "1-65535");
	refused_once("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"e\","
	    " \"port\": 65536}]}", "endpoints[0].port", "1-65535");
	refused_once("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"e\","
	    " \"port\": 80.5}]}", "endpoints[0].port", "1-65535");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\"}]}",
	    "checks[0].port", "required");
	/* Durations. */
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 1, \"interval_s\": -5, \"timeout_s\": 1}]}",
	    "checks[0].interval_s", "0.1-3600 seconds");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 1, \"interval_s\": 0.05}]}",
	    "checks[0].interval_s", "0.1-3600 seconds");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 1, \"interval_s\": \"10s\"}]}",
	    "checks[0].interval_s", "0.1-3600 seconds");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 1, \"timeout_s\": 11}]}", "checks[0].timeout_s",
	    "must be <= interval_s (10)");
	refused_once("{\"command\": [\"a\"], \"stop_grace_s\": -1}",
	    "stop_grace_s", "0-600 seconds");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": {\"jitter\": "
	    "1.01}}", "restart_policy.jitter", "0-1");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": {\"delay_s\": "
	    "3601}}", "restart_policy.delay_s", "0-3600 seconds");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": {\"delay_s\": "
	    "2, \"max_delay_s\": 1.5}}", "restart_policy.max_delay_s",
	    "must be >= delay_s (2)");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": {\"attempts\": "
	    "1001}}", "restart_policy.attempts", "0-1000");
	refused_once("{\"command\": [\"a\"], \"restart_policy\": 5}",
	    "restart_policy", "must be an object");
	/* Counts: 8 checks, 16 endpoints, 16 tags, 64 env pairs, 64 args. */
	many_refused("{\"command\": [\"a\"], \"checks\": [", "{\"type\": "
	    "\"tcp\", \"port\": 1, \"name\": \"c#\"}", 9, "]}", "checks",
	    "at most 8 checks");
	many_refused("{\"command\": [\"a\"], \"endpoints\": [", "{\"name\": "
	    "\"e#\", \"port\": 1}", 17, "]}", "endpoints",
	    "at most 16 endpoints");
	many_refused("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"e\", "
	    "\"port\": 1, \"tags\": [", "\"t#\"", 17, "]}]}",
	    "endpoints[0].tags", "at most 16 tags");
	many_refused("{\"command\": [\"a\"], \"env\": {", "\"K#\": \"\"", 65,
	    "}}", "env", "at most 64");
	many_refused("{\"command\": [", "\"a#\"", 65, "]}", "command",
	    "1-64 strings");
	refused_once("{\"command\": []}", "command", "1-64 strings");
	refused_once("{\"cwd\": \"/\"}", "command", "required");
	/* An argument of 4097 bytes. */
	{
		char *arg = malloc(4098);
		json_t *def, *errs = json_array();

		memset(arg, 'x', 4097);
		arg[4097] = '\0';
		def = json_pack("{s:[s, s]}", "command", "a", arg);
		assert_null(service_spec_parse("svc", def, errs));
		assert_int_equal(json_array_size(errs), 1);
		assert_true(has_error(errs, "command[1]", "at most 4096 bytes"));
		arg[4096] = '\0';
		json_decref(def);
		json_decref(errs);
		errs = json_array();
		def = json_pack("{s:[s, s]}", "command", "a", arg);
		service_spec_free(service_spec_parse("svc", def, errs));
		assert_int_equal(json_array_size(errs), 0);
		json_decref(def);
		json_decref(errs);
		free(arg);
	}
	refused_once("{\"command\": [\"a\", \"b\\u0000c\"]}", "command[1]",
	    "without NUL");
	/* Artifacts. */
	refused_once("{\"command\": [\"a\"], \"artifact\": \"sha256:0123456789"
	    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}",
	    "artifact", "lowercase hex");
	refused_once("{\"command\": [\"a\"], \"artifact\": \"sha256:0123456789"
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcde\"}",
	    "artifact", "lowercase hex");
	refused_once("{\"command\": [\"a\"], \"artifact\": \"md5:0123456789"
	    "abcdef0123456789abcdef\"}", "artifact", "sha256:");
}

/* Names: the service's (given apart from the definition) and its parts'. */
static void
test_names(void **state)
{
	json_t *errs;
	struct service_spec *s;
	char name[80];

	(void)state;
	assert_true(service_name_valid("a"));
	assert_true(service_name_valid("web_1-b"));
	assert_false(service_name_valid(""));
	assert_false(service_name_valid("a.b"));
	assert_false(service_name_valid("-a"));
	assert_false(service_name_valid("a b"));
	assert_false(service_name_valid(NULL));
	memset(name, 'n', sizeof(name));
	name[63] = '\0';
	assert_true(service_name_valid(name));
	name[63] = 'n';
	name[64] = '\0';
	assert_false(service_name_valid(name));

	/* A bad name and a bad field: both said. */
	s = parse(name, "{\"command\": [\"a\"], \"desired\": 1}", &errs);
	assert_null(s);
	assert_int_equal(json_array_size(errs), 2);
	assert_true(has_error(errs, "", "not a service's name"));
	assert_true(has_error(errs, "desired", "running or stopped"));
	json_decref(errs);
	s = parse("svc", "[\"/bin/a\"]", &errs);
	assert_null(s);
	assert_true(has_error(errs, "", "is an object"));
	json_decref(errs);

	/* Default check names taken by a given one; endpoints' must differ. */
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"name\": \"tcp-1\","
	    " \"type\": \"tcp\", \"port\": 1}, {\"type\": \"tcp\", \"port\": 2}]}",
	    "checks[1].name", "\"tcp-1\" (the default name) names another");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"name\": \"c.1\","
	    " \"type\": \"tcp\", \"port\": 1}]}", "checks[0].name",
	    "must be a name");
	refused_once("{\"command\": [\"a\"], \"endpoints\": [{\"name\": \"\","
	    " \"port\": 1}]}", "endpoints[0].name", "must be a name");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"port\": 1}]}",
	    "checks[0].type", "required");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"exec\"}]}",
	    "checks[0].command", "required");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"exec\", "
	    "\"command\": [\"c\", 1]}]}", "checks[0].command[1]",
	    "must be a string");
	refused_once("{\"command\": [\"a\"], \"checks\": [{\"type\": \"http\", "
	    "\"port\": 1, \"path\": \"/a b\"}]}", "checks[0].path",
	    "URL's path");
}

/* Signals with or without SIG; users, cwd and env as the OS reads them. */
static void
test_process_fields(void **state)
{
	json_t *errs;
	struct service_spec *s;
	char text[128];

	(void)state;
	s = parse("svc", "{\"command\": [\"a\"], \"stop_signal\": \"SIGKILL\","
	    " \"user\": \"_svc.user-1\"}", &errs);
	assert_non_null(s);
	assert_int_equal(s->stop_signal, SIGKILL);
	assert_string_equal(json_string_value(json_object_get(s->json,
	    "stop_signal")), "KILL");
	service_spec_free(s);
	json_decref(errs);
	s = parse("svc", "{\"command\": [\"a\"], \"stop_signal\": \"USR2\"}",
	    &errs);
	assert_int_equal(s->stop_signal, SIGUSR2);
	service_spec_free(s);
	json_decref(errs);
	refused_once("{\"command\": [\"a\"], \"stop_signal\": \"term\"}",
	    "stop_signal", "must be TERM");
	refused_once("{\"command\": [\"a\"], \"stop_signal\": 15}",
	    "stop_signal", "must be TERM");
	refused_once("{\"command\": [\"a\"], \"user\": \"a b\"}", "user",
	    "user's name");
	refused_once("{\"command\": [\"a\"], \"user\": \"-root\"}", "user",
	    "user's name");
	snprintf(text, sizeof(text), "{\"command\": [\"a\"], \"user\": "
	    "\"%.33s\"}", "u23456789012345678901234567890123");
	refused_once(text, "user", "1-32");
	refused_once("{\"command\": [\"a\"], \"cwd\": \"\"}", "cwd", "absolute");
	refused_once("{\"command\": [\"a\"], \"env\": {\"A=B\": \"c\"}}",
	    "env.A=B", "not a variable's name");
	refused_once("{\"command\": [\"a\"], \"env\": [\"A=B\"]}", "env",
	    "must be an object");
	refused_once("{\"command\": [\"a\"], \"restart\": \"on_failure\"}",
	    "restart", "always, on-failure or never");
}

/* A delay set above the default cap raises the cap with it. */
static void
test_policy_defaults_follow(void **state)
{
	json_t *errs;
	struct service_spec *s = parse("svc", "{\"command\": [\"a\"], "
	    "\"restart_policy\": {\"delay_s\": 120, \"attempts\": 0}}", &errs);

	(void)state;
	assert_non_null(s);
	assert_int_equal(s->policy.delay_ms, 120000);
	assert_int_equal(s->policy.max_delay_ms, 120000);
	assert_int_equal(s->policy.attempts, 0);
	assert_round_trip(s);
	service_spec_free(s);
	json_decref(errs);
}

/* Errors already in the array stay; a refusal adds and changes nothing. */
static void
test_errors_appended(void **state)
{
	json_t *errs = load("[{\"path\": \"x\", \"error\": \"earlier\"}]");
	json_t *def = load("{\"command\": 1}");

	(void)state;
	assert_null(service_spec_parse("svc", def, errs));
	assert_int_equal(json_array_size(errs), 2);
	assert_true(has_error(errs, "x", "earlier"));
	assert_true(has_error(errs, "command", "1-64 strings"));
	json_decref(def);
	json_decref(errs);
}

static void
test_file(void **state)
{
	json_t *file = load("{\"zeta\": {\"command\": [\"z\"]},"
	    " \"alpha\": {\"command\": [\"a\"]}, \"mid\": {\"command\": [\"m\"],"
	    " \"desired\": \"stopped\"}}");
	json_t *errs = json_array();
	struct service_spec **specs = (void *)1;
	size_t n = 99;

	(void)state;
	assert_int_equal(service_spec_file(file, &specs, &n, errs), 0);
	assert_int_equal(n, 3);
	assert_int_equal(json_array_size(errs), 0);
	assert_string_equal(specs[0]->name, "alpha");
	assert_string_equal(specs[1]->name, "mid");
	assert_int_equal(specs[1]->desired_running, 0);
	assert_string_equal(specs[2]->name, "zeta");
	for (size_t i = 0; i < n; i++)
		service_spec_free(specs[i]);
	free(specs);
	json_decref(file);

	/* Errors under "NAME."; a bad name is the path itself; none kept. */
	file = load("{\"good\": {\"command\": [\"g\"]},"
	    " \"bad\": {\"command\": [\"b\"], \"checks\": [{\"type\": \"tcp\","
	    " \"port\": 70000}], \"extra\": 1},"
	    " \"no.dots\": {\"command\": [\"n\"]},"
	    " \"notobj\": 3}");
	specs = (void *)1;
	n = 99;
	assert_int_equal(service_spec_file(file, &specs, &n, errs), -1);
	assert_null(specs);
	assert_int_equal(n, 0);
	assert_true(has_error(errs, "bad.checks[0].port", "1-65535"));
	assert_true(has_error(errs, "bad.extra", "unknown field"));
	assert_true(has_error(errs, "no.dots", "not a service's name"));
	assert_true(has_error(errs, "notobj", "is an object"));
	assert_int_equal(json_array_size(errs), 4);
	json_decref(file);
	json_decref(errs);

	/* 128 services are fine, 129 are not. */
	file = json_object();
	for (int i = 0; i < 129; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%03d", i);
		json_object_set_new(file, name, json_pack("{s:[s]}", "command",
		    "/bin/true"));
	}
	errs = json_array();
	assert_int_equal(service_spec_file(file, &specs, &n, errs), -1);
	assert_null(specs);
	assert_int_equal(json_array_size(errs), 1);
	assert_true(has_error(errs, "", "at most 128 services"));
	json_decref(errs);
	json_object_del(file, "s128");
	errs = json_array();
	assert_int_equal(service_spec_file(file, &specs, &n, errs), 0);
	assert_int_equal(n, 128);
	assert_string_equal(specs[127]->name, "s127");
	for (size_t i = 0; i < n; i++)
		service_spec_free(specs[i]);
	free(specs);
	json_decref(file);
	json_decref(errs);

	/* Not an object at all; an empty one is no services. */
	file = load("[]");
	errs = json_array();
	assert_int_equal(service_spec_file(file, &specs, &n, errs), -1);
	assert_true(has_error(errs, "", "is an object"));
	json_decref(file);
	json_decref(errs);
	file = json_object();
	errs = json_array();
	assert_int_equal(service_spec_file(file, &specs, &n, errs), 0);
	assert_int_equal(n, 0);
	free(specs);
	json_decref(file);
	json_decref(errs);
}

/* --- the restart policy --------------------------------------------------- */

static const struct service_policy policy = {
	.attempts = 5, .interval_ms = 300000, .delay_ms = 1000,
	.max_delay_ms = 10000, .jitter = 0, .mode_fail = 1
};

static uint64_t
next(const struct service_policy *p, const uint64_t *starts, size_t n,
    uint64_t now, double r01)
{
	uint64_t d = 12345678;

	assert_int_equal(service_policy_next(p, starts, n, now, r01, &d), 1);
	return d;
}

static void
test_policy_doubles_and_caps(void **state)
{
	struct service_policy p = policy;
	uint64_t starts[8] = { 1000, 2000, 3000, 4000, 5000 };

	(void)state;
	p.attempts = 8;
	assert_int_equal(next(&p, starts, 0, 10000, 0.5), 1000);
	assert_int_equal(next(&p, starts, 1, 10000, 0.5), 2000);
	assert_int_equal(next(&p, starts, 2, 10000, 0.5), 4000);
	assert_int_equal(next(&p, starts, 3, 10000, 0.5), 8000);
	assert_int_equal(next(&p, starts, 4, 10000, 0.5), 10000);	/* cap */
	assert_int_equal(next(&p, starts, 5, 10000, 0.5), 10000);
	/* No overflow however many restarts count. */
	p.attempts = 1000;
	p.max_delay_ms = 3600000;
	{
		uint64_t many[999];

		for (size_t i = 0; i < 999; i++)
			many[i] = 1000 + i;
		assert_int_equal(next(&p, many, 999, 5000, 0.5), 3600000);
	}
	/* A zero delay stays zero. */
	p.delay_ms = 0;
	assert_int_equal(next(&p, starts, 3, 10000, 0.5), 0);
}

static void
test_policy_jitter(void **state)
{
	struct service_policy p = policy;
	uint64_t starts[2] = { 1000, 2000 }, d;

	(void)state;
	p.jitter = 0.25;
	/* 4000 ms ± 25 %: [3000, 5000). */
	assert_int_equal(next(&p, starts, 2, 10000, 0), 3000);
	d = next(&p, starts, 2, 10000, 0.999);
	assert_true(d >= 4990 && d < 5000);
	assert_int_equal(next(&p, starts, 2, 10000, 0.5), 4000);
	/* Jitter applies after the cap: it may pass it by its fraction. */
	p.max_delay_ms = 2000;
	assert_int_equal(next(&p, starts, 2, 10000, 0), 1500);
	d = next(&p, starts, 2, 10000, 0.999);
	assert_true(d > 2000 && d < 2500);
	/* Full jitter: 0 to twice the delay. */
	p.jitter = 1;
	assert_int_equal(next(&p, starts, 0, 10000, 0), 0);
	d = next(&p, starts, 0, 10000, 0.999);
	assert_true(d >= 1990 && d < 2000);
	/* r01 out of range is held to [0, 1]. */
	assert_int_equal(next(&p, starts, 0, 10000, -3), 0);
	assert_int_equal(next(&p, starts, 0, 10000, 7), 2000);
}

static void
test_policy_budget(void **state)
{
	struct service_policy p = policy;
	uint64_t starts[5] = { 100000, 200000, 250000, 260000, 270000 }, d;

	(void)state;
	/* Five restarts within the last 300 s: spent, in fail mode. */
	d = 777;
	assert_int_equal(service_policy_next(&p, starts, 5, 300000, 0.5, &d), 0);
	assert_int_equal(d, 777);
	/* Delay mode: until the oldest (100 s) leaves, at 400 s. */
	p.mode_fail = 0;
	assert_int_equal(next(&p, starts, 5, 300000, 0.5), 100000);
	assert_int_equal(next(&p, starts, 5, 399999, 0.5), 1);
	/* At 400 s the oldest is out: four count, so 2^4 s, capped at 10. */
	assert_int_equal(next(&p, starts, 5, 400000, 0.5), 10000);
	/* Old restarts outside the interval are not counted. */
	p.mode_fail = 1;
	p.max_delay_ms = 60000;
	assert_int_equal(next(&p, starts, 5, 520000, 0.5), 8000);	/* 3 */
	assert_int_equal(next(&p, starts, 5, 560000, 0.5), 2000);	/* 1 */
	assert_int_equal(next(&p, starts, 5, 570000, 0.5), 1000);	/* 0 */
	assert_int_equal(next(&p, starts, 5, 10000000, 0.5), 1000);
	/* A restart stamped after now (a clock stepped back) counts. */
	{
		uint64_t future[1] = { 500000 };

		assert_int_equal(next(&p, future, 1, 400000, 0.5), 2000);
		p.attempts = 1;
		p.mode_fail = 0;
		assert_int_equal(next(&p, future, 1, 400000, 0.5), 400000);
	}
}

static void
test_policy_no_attempts(void **state)
{
	struct service_policy p = policy;
	uint64_t d = 777;

	(void)state;
	/* attempts 0, fail mode: no restart at all. */
	p.attempts = 0;
	assert_int_equal(service_policy_next(&p, NULL, 0, 5000, 0.5, &d), 0);
	assert_int_equal(d, 777);
	/* attempts 0, delay mode: a whole interval between starts. */
	p.mode_fail = 0;
	assert_int_equal(next(&p, NULL, 0, 5000, 0.5), 300000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_definition),
		cmocka_unit_test(test_minimal_definition),
		cmocka_unit_test(test_every_error_at_once),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_process_fields),
		cmocka_unit_test(test_policy_defaults_follow),
		cmocka_unit_test(test_errors_appended),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_policy_doubles_and_caps),
		cmocka_unit_test(test_policy_jitter),
		cmocka_unit_test(test_policy_budget),
		cmocka_unit_test(test_policy_no_attempts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
