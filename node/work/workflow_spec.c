/*
 * A workflow's definition checked, and a step's payload rendered
 * (workflow_spec.h).
 *
 * The check goes on after an error, so that one answer lists them all:
 * each field's check adds to one list (struct check) and the definition
 * is built only when the list stays empty.  The graph is checked last,
 * once every step's name and needs are known: unknown names, then
 * cycles (Kahn's order; what it cannot order holds a cycle, walked to
 * name it), then each reference against the steps its step needs.
 */
#include "workflow_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs_spec.h"
#include "json_check.h"
#include "node_id.h"
#include "opts.h"
#include "text.h"

#define PATH_MAX_LEN	256
#define REF_MAX		256
#define DEPTH_MAX	32	/* a payload's nesting walked for references */
#define DURATION_MAX_S	(30L * 24 * 3600)

struct check {
	json_t	*errors;
	size_t	 more;		/* past WORKFLOW_ERRORS_MAX */
};

static void fail(struct check *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct check *c, const char *path, const char *fmt, ...)
{
	char msg[512], where[PATH_MAX_LEN];
	json_t *e;
	va_list ap;

	if (json_array_size(c->errors) >= WORKFLOW_ERRORS_MAX) {
		c->more++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Cut at a byte count (a %.64s, the buffer's end) a character may
	 * be split: as text JSON takes, or the error would vanish. */
	text_sanitize(msg, strlen(msg));
	snprintf(where, sizeof(where), "%s", path);
	text_sanitize(where, strlen(where));
	if ((e = json_pack("{s:s, s:s}", "path", where, "error", msg)) == NULL ||
	    json_array_append_new(c->errors, e) != 0)
		c->more++;
}

/* A duration field: absent (0), or text within lo..hi seconds. */
static long
duration(struct check *c, const char *path, const json_t *v, long lo, long hi)
{
	long s;

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || opts_duration_parse(json_string_value(v),
	    &s) != 0 || s < lo || s > hi) {
		fail(c, path, "a duration from %lds to %ldd, as \"90s\", \"10m\", "
		    "\"2h\" or \"7d\"", lo, hi / 86400);
		return -1;
	}
	return s;
}

static int
known_key(const char *k, const char *const known[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, known[i]) == 0)
			return 1;
	return 0;
}

static int
valid_name(const json_t *v)
{
	return json_check_text(v, 1, 63, true) &&
	    node_id_valid(json_string_value(v), json_string_length(v));
}

/* --- references --------------------------------------------------------------- */

/*
 * The reference in s[0..len) ("params.KEY" or "steps.NAME.result..."):
 * 0 with *kind 'p' and the key, or 's' and the step's name; -1 when it is
 * neither.
 */
static int
ref_parse(const char *s, size_t len, char *kind, char *name, size_t namelen)
{
	const char *dot;
	size_t n;

	if (len > 7 && strncmp(s, "params.", 7) == 0) {
		*kind = 'p';
		s += 7;
		len -= 7;
	} else if (len > 6 && strncmp(s, "steps.", 6) == 0) {
		*kind = 's';
		s += 6;
		len -= 6;
	} else
		return -1;
	dot = memchr(s, '.', len);
	n = *kind == 'p' || dot == NULL ? len : (size_t)(dot - s);
	if (n == 0 || n >= namelen || !node_id_valid(s, n))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (*kind == 'p')
		return 0;
	/* steps.NAME.result, then fields: a field is a name or an index. */
	if (dot == NULL || (size_t)(s + len - dot) < 7 ||
	    strncmp(dot, ".result", 7) != 0)
		return -1;
	for (const char *f = dot + 7, *end = s + len; f < end; ) {
		const char *next;
		if (*f != '.' || f + 1 >= end)
			return -1;
		next = memchr(f + 1, '.', (size_t)(end - f - 1));
		if (next == NULL)
			next = end;
		if (!node_id_valid(f + 1, (size_t)(next - f - 1)))
			return -1;
		f = next;
	}
	return 0;
}

/*
 * Calls fn on each reference in string s (len: the text between "${" and
 * "}"; closed 0 when no "}" ends it): 0, or fn's first non-zero.  "$${"
 * is a literal "${", not a reference.
 */
static int
refs_each(const char *s, int (*fn)(const char *ref, size_t len, int closed,
    void *arg), void *arg)
{
	const char *p = s, *end;
	int rc;

	while ((p = strstr(p, "${")) != NULL) {
		if (p > s && p[-1] == '$') {
			p += 2;
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL)
			return fn(p + 2, strlen(p + 2), 0, arg);
		if ((rc = fn(p + 2, (size_t)(end - p - 2), 1, arg)) != 0)
			return rc;
		p = end + 1;
	}
	return 0;
}

struct refcheck {
	struct check	*c;
	const char	*path;
	json_t		*params;	/* declared */
	json_t		*reach;		/* step names this step needs, transitively */
	json_t		*used;		/* step names referenced (NULL: don't keep) */
};

static int
ref_check_one(const char *ref, size_t len, int closed, void *arg)
{
	struct refcheck *rc = arg;
	char kind, name[64];

	if (!closed) {
		fail(rc->c, rc->path, "\"${%.*s\" has no closing } (a literal "
		    "${ is written $${)", (int)(len < 64 ? len : 64), ref);
		return 0;
	}
	if (len > REF_MAX || ref_parse(ref, len, &kind, name,
	    sizeof(name)) != 0) {
		fail(rc->c, rc->path, "\"${%.*s}\" is not ${params.KEY} or "
		    "${steps.NAME.result[.FIELD...]}", (int)(len < 64 ? len : 64),
		    ref);
		return 0;
	}
	if (kind == 'p' && json_object_get(rc->params, name) == NULL)
		fail(rc->c, rc->path, "${params.%s}: not a parameter of this "
		    "workflow", name);
	if (kind == 's' && rc->reach != NULL &&
	    json_object_get(rc->reach, name) == NULL)
		fail(rc->c, rc->path, "${steps.%s...}: a step this one does not "
		    "need (directly or through others)", name);
	return 0;
}

/* Every string in v (a payload, depth levels in) checked for references. */
static void
refs_walk(struct refcheck *rc, const json_t *v, const char *path, int depth)
{
	char sub[PATH_MAX_LEN];
	const char *k;
	json_t *e;
	size_t i;

	if (depth > DEPTH_MAX)
		return;
	if (json_is_string(v)) {
		const char *saved = rc->path;
		rc->path = path;
		refs_each(json_string_value(v), ref_check_one, rc);
		rc->path = saved;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			snprintf(sub, sizeof(sub), "%s.%s", path, k);
			refs_walk(rc, e, sub, depth + 1);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			refs_walk(rc, e, sub, depth + 1);
		}
	}
}

/* --- steps ----------------------------------------------------------------------- */

/* A jobs_spec_parse message "field: why" as {steps[i].field, why}. */
static void
fail_job(struct check *c, const char *path, const char *err)
{
	char sub[PATH_MAX_LEN];
	const char *colon = strstr(err, ": ");
	size_t n = colon != NULL ? (size_t)(colon - err) : 0;

	if (n > 0 && n < 64 && memchr(err, ' ', n) == NULL) {
		snprintf(sub, sizeof(sub), "%s.%.*s", path, (int)n, err);
		fail(c, sub, "%s", colon + 2);
	} else
		fail(c, path, "%s", err);
}

static json_t *
check_approval(struct check *c, const char *path, const json_t *step,
    json_t *out)
{
	static const char *const known[] = { "prompt", "timeout" };
	const json_t *a = json_object_get(step, "approval");
	char sub[PATH_MAX_LEN];
	const char *k;
	long t;

	snprintf(sub, sizeof(sub), "%s.approval", path);
	if (!json_is_object(a)) {
		fail(c, sub, "an object {prompt?, timeout?}");
		return out;
	}
	if ((k = json_check_keys(a, known, 2)) != NULL)
		fail(c, sub, "%.64s: not a field of an approval", k);
	if (json_object_get(a, "prompt") != NULL && !json_check_text(
	    json_object_get(a, "prompt"), 0, WORKFLOW_TEXT_MAX, false)) {
		snprintf(sub, sizeof(sub), "%s.approval.prompt", path);
		fail(c, sub, "text of at most %d bytes", WORKFLOW_TEXT_MAX);
	} else
		json_object_set_new(out, "prompt", json_string(
		    json_string_value(json_object_get(a, "prompt")) ?
		    json_string_value(json_object_get(a, "prompt")) : ""));
	snprintf(sub, sizeof(sub), "%s.approval.timeout", path);
	if ((t = duration(c, sub, json_object_get(a, "timeout"), 1,
	    DURATION_MAX_S)) >= 0)
		json_object_set_new(out, "timeout_ms", json_integer(
		    (json_int_t)t * 1000));
	for (size_t i = 0; i < 5; i++) {
		static const char *const job_only[] = { "task", "command",
		    "args", "to", "payload" };
		if (json_object_get(step, job_only[i]) != NULL) {
			snprintf(sub, sizeof(sub), "%s.%s", path, job_only[i]);
			fail(c, sub, "an approval step runs nothing: no %s",
			    job_only[i]);
		}
	}
	json_object_set_new(out, "kind", json_string("approval"));
	return out;
}

static json_t *
check_job(struct check *c, const char *path, const json_t *step, json_t *out)
{
	static const char *const job_keys[] = { "task", "command", "args",
	    "to", "payload", "at_most_once" };
	json_t *body = json_object(), *job;
	char sub[PATH_MAX_LEN], err[512];
	long t, b;
	json_int_t retries = 0;
	int status;

	for (size_t i = 0; i < sizeof(job_keys) / sizeof(job_keys[0]); i++)
		if (json_object_get(step, job_keys[i]) != NULL)
			json_object_set(body, job_keys[i],
			    json_object_get(step, job_keys[i]));
	snprintf(sub, sizeof(sub), "%s.timeout", path);
	if ((t = duration(c, sub, json_object_get(step, "timeout"), 1,
	    DURATION_MAX_S)) > 0)
		json_object_set_new(body, "deadline_ms", json_integer(
		    (json_int_t)t * 1000));
	if ((job = jobs_spec_parse(body, &status, err, sizeof(err))) == NULL)
		fail_job(c, path, err);
	else {
		json_object_del(job, "payload");
		json_object_del(job, "args_hash");
		json_object_set_new(out, "job", job);
	}
	json_decref(body);
	if (json_object_get(step, "payload") != NULL)
		json_object_set(out, "payload", json_object_get(step, "payload"));
	snprintf(sub, sizeof(sub), "%s.retries", path);
	if (json_object_get(step, "retries") != NULL && !json_check_int(
	    json_object_get(step, "retries"), 0, WORKFLOW_RETRIES_MAX, &retries))
		fail(c, sub, "an integer 0-%d", WORKFLOW_RETRIES_MAX);
	snprintf(sub, sizeof(sub), "%s.backoff", path);
	b = duration(c, sub, json_object_get(step, "backoff"), 1, 3600);
	json_object_set_new(out, "kind", json_string("job"));
	json_object_set_new(out, "retries", json_integer(retries));
	json_object_set_new(out, "backoff_ms", json_integer(
	    (json_int_t)(b > 0 ? b : 5) * 1000));
	json_object_set_new(out, "timeout_ms", json_integer(
	    (json_int_t)(t > 0 ? t : 0) * 1000));
	return out;
}

/* Step i: its checked form (kept even with errors, for the graph's checks). */
static json_t *
check_step(struct check *c, size_t i, const json_t *step, json_t *names)
{
	static const char *const known[] = { "name", "task", "command", "args",
	    "to", "payload", "at_most_once", "timeout", "retries", "backoff",
	    "needs", "approval" };
	char path[64], sub[PATH_MAX_LEN];
	const json_t *name, *needs, *v;
	json_t *out = json_object(), *edges = json_array();
	const char *k;
	size_t j;

	snprintf(path, sizeof(path), "steps[%zu]", i);
	json_object_set_new(out, "needs", edges);
	if (!json_is_object(step)) {
		fail(c, path, "a step is an object {name, task | command | "
		    "approval, ...}");
		return out;
	}
	json_object_foreach((json_t *)step, k, v)
		if (!known_key(k, known, sizeof(known) / sizeof(known[0]))) {
			snprintf(sub, sizeof(sub), "%s.%.64s", path, k);
			fail(c, sub, "not a field of a step");
		}
	name = json_object_get(step, "name");
	snprintf(sub, sizeof(sub), "%s.name", path);
	/* No dot: a reference reads ${steps.NAME.result...} up to one. */
	if (!valid_name(name) || strchr(json_string_value(name), '.') != NULL)
		fail(c, sub, "a step's name: 1-63 characters [A-Za-z0-9_-]");
	else if (json_object_get(names, json_string_value(name)) != NULL)
		fail(c, sub, "\"%s\" names another step too",
		    json_string_value(name));
	else {
		json_object_set_new(names, json_string_value(name),
		    json_integer((json_int_t)i));
		json_object_set(out, "name", (json_t *)name);
	}
	needs = json_object_get(step, "needs");
	snprintf(sub, sizeof(sub), "%s.needs", path);
	if (needs != NULL && (!json_is_array(needs) ||
	    json_array_size(needs) > WORKFLOW_NEEDS_MAX))
		fail(c, sub, "an array of at most %d step names",
		    WORKFLOW_NEEDS_MAX);
	else if (needs != NULL)
		json_array_foreach(needs, j, v) {
			snprintf(sub, sizeof(sub), "%s.needs[%zu]", path, j);
			if (!valid_name(v))
				fail(c, sub, "a step's name");
			else
				json_array_append(edges, (json_t *)v);
		}
	if (json_object_get(step, "approval") != NULL)
		return check_approval(c, path, step, out);
	return check_job(c, path, step, out);
}

/* --- the graph ---------------------------------------------------------------- */

/* "a → b → ... → a": the cycle through a step left unordered (each such
 * step needs another one left, so walking needs must come back). */
static void
name_cycle(struct check *c, json_t *steps, const json_t *names,
    const int *left)
{
	size_t n = json_array_size(steps), at = 0, len = 0;
	size_t *seen = calloc(n, sizeof(*seen)), *path = calloc(n + 1,
	    sizeof(*path));
	char text[512] = "";

	if (seen == NULL || path == NULL)
		goto out;
	while (at < n && !left[at])
		at++;
	/* Walk to an unordered need until a step comes round again. */
	while (at < n && seen[at] == 0) {
		json_t *v;
		size_t j, next = n;
		seen[at] = ++len;
		path[len - 1] = at;
		json_array_foreach(json_object_get(json_array_get(steps, at),
		    "needs"), j, v) {
			json_t *idx = json_object_get(names, json_string_value(v));
			if (idx != NULL && left[json_integer_value(idx)]) {
				next = (size_t)json_integer_value(idx);
				break;
			}
		}
		at = next;
	}
	if (at < n) {
		for (size_t i = seen[at] - 1; i < len; i++) {
			size_t used = strlen(text);
			snprintf(text + used, sizeof(text) - used, "%s → ",
			    json_string_value(json_object_get(json_array_get(
			    steps, path[i]), "name")));
		}
		size_t used = strlen(text);
		snprintf(text + used, sizeof(text) - used, "%s",
		    json_string_value(json_object_get(json_array_get(steps, at),
		    "name")));
	}
out:
	fail(c, "steps", "the needs form a cycle: %s", text[0] != '\0' ? text :
	    "(unnamed)");
	free(seen);
	free(path);
}

/* Kahn's order of the steps; on a cycle, named, NULL. */
static json_t *
order_steps(struct check *c, json_t *steps, const json_t *names)
{
	size_t n = json_array_size(steps), done = 0, i, j;
	int *left = calloc(n ? n : 1, sizeof(*left));
	json_t *order = json_array(), *v;

	for (i = 0; i < n; i++)
		left[i] = 1;
	/* Each pass takes every step whose needs are all ordered: at most n
	 * passes of n steps (n <= WORKFLOW_STEPS_MAX). */
	for (int progress = 1; progress && done < n; ) {
		progress = 0;
		for (i = 0; i < n; i++) {
			int ready = left[i];
			json_array_foreach(json_object_get(json_array_get(steps,
			    i), "needs"), j, v)
				ready = ready && !left[json_integer_value(
				    json_object_get(names, json_string_value(v)))];
			if (ready) {
				left[i] = 0;
				done++;
				progress = 1;
				json_array_append(order, json_object_get(
				    json_array_get(steps, i), "name"));
			}
		}
	}
	if (done < n) {
		name_cycle(c, steps, names, left);
		json_decref(order);
		order = NULL;
	}
	free(left);
	return order;
}

/* reach[name] = every step name it needs, directly or not, in order. */
static json_t *
reach_of(json_t *steps, const json_t *names, const json_t *order)
{
	json_t *reach = json_object(), *name, *v;
	size_t i, j;

	json_array_foreach(order, i, name) {
		json_t *step = json_array_get(steps, (size_t)json_integer_value(
		    json_object_get(names, json_string_value(name))));
		json_t *r = json_object();
		json_array_foreach(json_object_get(step, "needs"), j, v) {
			json_object_set_new(r, json_string_value(v), json_true());
			json_object_update(r, json_object_get(reach,
			    json_string_value(v)));
		}
		json_object_set_new(reach, json_string_value(name), r);
	}
	return reach;
}

static void
check_graph(struct check *c, json_t *def_steps, json_t *steps, json_t *names,
    json_t *params, json_t **order)
{
	char path[PATH_MAX_LEN];
	json_t *v, *reach;
	size_t i, j;
	int unknown = 0;

	json_array_foreach(steps, i, v) {
		json_t *need;
		json_array_foreach(json_object_get(v, "needs"), j, need) {
			snprintf(path, sizeof(path), "steps[%zu].needs[%zu]", i, j);
			if (json_object_get(names, json_string_value(need)) == NULL) {
				fail(c, path, "\"%s\" is not a step of this "
				    "workflow", json_string_value(need));
				unknown = 1;
			} else if (json_equal(need, json_object_get(v, "name"))) {
				fail(c, path, "a step cannot need itself");
				unknown = 1;
			}
		}
	}
	/* Without every name, no order; a step without one has no edges in. */
	if (unknown || json_object_size(names) != json_array_size(steps))
		return;
	if ((*order = order_steps(c, steps, names)) == NULL)
		return;
	reach = reach_of(steps, names, *order);
	json_array_foreach(steps, i, v) {
		struct refcheck rc = { c, NULL, params, json_object_get(reach,
		    json_string_value(json_object_get(v, "name"))), NULL };
		snprintf(path, sizeof(path), "steps[%zu].payload", i);
		refs_walk(&rc, json_object_get(json_array_get(def_steps, i),
		    "payload"), path, 0);
	}
	json_decref(reach);
}

/* params with set applied: every declared key with a value. */
static json_t *
check_params(struct check *c, const json_t *decl, const json_t *set)
{
	json_t *out = json_object(), *v;
	char path[PATH_MAX_LEN];
	const char *k;

	if (decl != NULL && (!json_is_object(decl) ||
	    json_object_size(decl) > WORKFLOW_PARAMS_MAX)) {
		fail(c, "params", "an object of at most %d KEY: default (text, or "
		    "null for one --set must give)", WORKFLOW_PARAMS_MAX);
		return out;
	}
	json_object_foreach((json_t *)decl, k, v) {
		snprintf(path, sizeof(path), "params.%.64s", k);
		if (!node_id_valid(k, strlen(k)))
			fail(c, path, "a parameter's name: 1-63 characters "
			    "[A-Za-z0-9._-]");
		else if (!json_is_null(v) && !json_check_text(v, 0,
		    WORKFLOW_TEXT_MAX, false))
			fail(c, path, "a default: text of at most %d bytes, or "
			    "null", WORKFLOW_TEXT_MAX);
		else
			json_object_set(out, k, v);
	}
	json_object_foreach((json_t *)set, k, v) {
		snprintf(path, sizeof(path), "set.%.64s", k);
		if (json_object_get(decl, k) == NULL)
			fail(c, path, "not a parameter of this workflow");
		else if (!json_check_text(v, 0, WORKFLOW_TEXT_MAX, false))
			fail(c, path, "text of at most %d bytes", WORKFLOW_TEXT_MAX);
		else
			json_object_set(out, k, v);
	}
	json_object_foreach(out, k, v)
		if (json_is_null(v)) {
			snprintf(path, sizeof(path), "params.%.64s", k);
			fail(c, path, "has no default: give it with --set %s=VALUE",
			    k);
		}
	return out;
}

json_t *
workflow_spec_check(const json_t *def, const json_t *set, json_t **errors)
{
	static const char *const known[] = { "name", "params", "budget",
	    "on_failure", "steps" };
	struct check c = { json_array(), 0 };
	json_t *steps = json_array(), *names = json_object(), *params;
	json_t *order = NULL, *out = NULL, *v;
	const json_t *dsteps;
	const char *k, *of;
	char path[PATH_MAX_LEN];
	long budget = 0;
	size_t i;

	*errors = NULL;
	if (!json_is_object(def)) {
		fail(&c, "", "a workflow is an object {name, steps, params?, "
		    "budget?, on_failure?}");
		goto out;
	}
	json_object_foreach((json_t *)def, k, v)
		if (!known_key(k, known, sizeof(known) / sizeof(known[0]))) {
			snprintf(path, sizeof(path), "%.64s", k);
			fail(&c, path, "not a field of a workflow");
		}
	if (!valid_name(json_object_get(def, "name")))
		fail(&c, "name", "a workflow's name: 1-63 characters "
		    "[A-Za-z0-9._-]");
	budget = duration(&c, "budget", json_object_get(def, "budget"), 1,
	    DURATION_MAX_S);
	of = json_string_value(json_object_get(def, "on_failure"));
	if (json_object_get(def, "on_failure") != NULL && (of == NULL ||
	    (strcmp(of, "stop") != 0 && strcmp(of, "continue") != 0)))
		fail(&c, "on_failure", "\"stop\" or \"continue\"");
	params = check_params(&c, json_object_get(def, "params"), set);
	dsteps = json_object_get(def, "steps");
	if (!json_is_array(dsteps) || json_array_size(dsteps) == 0 ||
	    json_array_size(dsteps) > WORKFLOW_STEPS_MAX)
		fail(&c, "steps", "an array of 1-%d steps", WORKFLOW_STEPS_MAX);
	else {
		json_array_foreach(dsteps, i, v)
			json_array_append_new(steps, check_step(&c, i, v, names));
		check_graph(&c, (json_t *)dsteps, steps, names, params, &order);
	}
	if (json_array_size(c.errors) == 0 && c.more == 0)
		out = json_pack("{s:O, s:o, s:I, s:s, s:o, s:O}", "name",
		    json_object_get(def, "name"), "params", params, "budget_ms",
		    (json_int_t)(budget > 0 ? budget : 0) * 1000, "on_failure",
		    of != NULL ? of : "stop", "order", order, "steps", steps);
	else {
		json_decref(params);
		json_decref(order);
	}
out:
	if (out == NULL) {
		if (c.more > 0) {
			snprintf(path, sizeof(path), "%zu more errors", c.more);
			json_array_append_new(c.errors, json_pack("{s:s, s:s}",
			    "path", "", "error", path));
		}
		*errors = c.errors;
	} else
		json_decref(c.errors);
	json_decref(steps);
	json_decref(names);
	return out;
}

/* --- rendering ------------------------------------------------------------------ */

/* The value a reference names (borrowed), or NULL with err. */
static json_t *
ref_value(const char *ref, size_t len, const json_t *params,
    const json_t *results, char *err, size_t errlen)
{
	char kind, name[64];
	const char *f, *end = ref + len;
	json_t *v;

	if (len > REF_MAX || ref_parse(ref, len, &kind, name, sizeof(name)) != 0) {
		snprintf(err, errlen, "${%.*s}: not a reference", (int)(len < 64 ?
		    len : 64), ref);
		return NULL;
	}
	if (kind == 'p') {
		if ((v = json_object_get(params, name)) == NULL)
			snprintf(err, errlen, "${params.%s}: no such parameter",
			    name);
		return v;
	}
	if ((v = json_object_get(results, name)) == NULL) {
		snprintf(err, errlen, "${steps.%s.result}: %s left no result",
		    name, name);
		return NULL;
	}
	f = (const char *)memchr(ref + 6, '.', len - 6) + 7;	/* past ".result" */
	while (f < end) {
		const char *next = memchr(f + 1, '.', (size_t)(end - f - 1));
		char field[64];
		size_t n;
		if (next == NULL)
			next = end;
		n = (size_t)(next - f - 1);
		snprintf(field, sizeof(field), "%.*s", (int)n, f + 1);
		if (json_is_array(v) && strspn(field, "0123456789") == n)
			v = json_array_get(v, strtoul(field, NULL, 10));
		else
			v = json_object_get(v, field);
		if (v == NULL) {
			snprintf(err, errlen, "${%.*s}: %s's result has no %.*s",
			    (int)(len < 128 ? len : 128), ref, name,
			    (int)(next - ref), ref);
			return NULL;
		}
		f = next;
	}
	return v;
}

/* A growing text; len -1 once out of memory. */
struct text {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void
put(struct text *t, const char *s, size_t n)
{
	char *ns;

	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		if ((ns = realloc(t->s, cap)) == NULL) {
			t->oom = 1;
			return;
		}
		t->s = ns;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

/*
 * s with its references replaced (as refs_each finds them: "$${" a
 * literal "${"); a string that is one reference whole becomes its value.
 */
static json_t *
render_string(const char *s, const json_t *params, const json_t *results,
    char *err, size_t errlen)
{
	struct text t = { NULL, 0, 0, 0 };
	const char *p = s, *close;
	json_t *v, *out;
	char *text;

	if (strncmp(s, "${", 2) == 0 && (close = strchr(s, '}')) != NULL &&
	    close[1] == '\0') {
		v = ref_value(s + 2, (size_t)(close - s - 2), params, results,
		    err, errlen);
		return v != NULL ? json_incref(v) : NULL;
	}
	put(&t, "", 0);
	while (*p != '\0') {
		if (strncmp(p, "$${", 3) == 0) {
			put(&t, "${", 2);
			p += 3;
			continue;
		}
		if (strncmp(p, "${", 2) != 0) {
			put(&t, p, 1);
			p++;
			continue;
		}
		if ((close = strchr(p + 2, '}')) == NULL) {
			snprintf(err, errlen, "\"%.64s\" has no closing }", p);
			text_sanitize(err, strlen(err));
			free(t.s);
			return NULL;
		}
		if ((v = ref_value(p + 2, (size_t)(close - p - 2), params,
		    results, err, errlen)) == NULL) {
			free(t.s);
			return NULL;
		}
		text = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text != NULL)
			put(&t, text, strlen(text));
		else
			t.oom = 1;
		free(text);
		p = close + 1;
	}
	out = t.oom ? NULL : json_string(t.s);
	if (out == NULL)
		snprintf(err, errlen, "out of memory rendering a payload");
	free(t.s);
	return out;
}

static json_t *
render(const json_t *t, const json_t *params, const json_t *results,
    int depth, char *err, size_t errlen)
{
	json_t *out, *e, *r;
	const char *k;
	size_t i;

	if (depth > DEPTH_MAX || !(json_is_string(t) || json_is_object(t) ||
	    json_is_array(t)))
		return json_deep_copy(t);
	if (json_is_string(t))
		return render_string(json_string_value(t), params, results, err,
		    errlen);
	out = json_is_object(t) ? json_object() : json_array();
	if (json_is_object(t))
		json_object_foreach((json_t *)t, k, e) {
			if ((r = render(e, params, results, depth + 1, err,
			    errlen)) == NULL)
				goto fail;
			json_object_set_new(out, k, r);
		}
	else
		json_array_foreach(t, i, e) {
			if ((r = render(e, params, results, depth + 1, err,
			    errlen)) == NULL)
				goto fail;
			json_array_append_new(out, r);
		}
	return out;
fail:
	json_decref(out);
	return NULL;
}

json_t *
workflow_spec_render(const json_t *tmpl, const json_t *params,
    const json_t *results, char *err, size_t errlen)
{
	return render(tmpl, params, results, 0, err, errlen);
}
