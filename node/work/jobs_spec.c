/*
 * The job states and the validation of a submitted job (jobs_spec.h).
 */
#include "jobs_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "callbacks.h"
#include "command_target.h"
#include "json_check.h"
#include "node_id.h"

#define ARGV_MAX	64
#define ARG_MAX		4096

static const char *const names[JOBS_NSTATES] = {
	[JOBS_QUEUED] = "queued",
	[JOBS_DISPATCHED] = "dispatched",
	[JOBS_RUNNING] = "running",
	[JOBS_SUCCEEDED] = "succeeded",
	[JOBS_FAILED] = "failed",
	[JOBS_CANCELLED] = "cancelled",
	[JOBS_EXPIRED] = "expired",
	[JOBS_LOST] = "lost",
};

/* may[from] is the set of states a job in from may move to (bit per state). */
#define B(s)	(1u << (s))
#define ENDS	(B(JOBS_SUCCEEDED) | B(JOBS_FAILED) | B(JOBS_CANCELLED))
static const unsigned may[JOBS_NSTATES] = {
	/* queued → queued: requeued with a new reason (its node cleared, or
	 * refused while frozen) before it left the queue. */
	[JOBS_QUEUED] = B(JOBS_QUEUED) | B(JOBS_DISPATCHED) | B(JOBS_EXPIRED) |
	    B(JOBS_CANCELLED) | B(JOBS_LOST) | B(JOBS_FAILED),
	[JOBS_DISPATCHED] = B(JOBS_RUNNING) | B(JOBS_QUEUED) | B(JOBS_LOST) |
	    B(JOBS_EXPIRED) | ENDS,
	[JOBS_RUNNING] = B(JOBS_QUEUED) | B(JOBS_LOST) | ENDS,
};

const char *
jobs_state_name(enum jobs_state s)
{
	return (unsigned)s < JOBS_NSTATES ? names[s] : NULL;
}

int
jobs_state_parse(const char *s)
{
	for (int i = 0; s != NULL && i < JOBS_NSTATES; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int
jobs_state_final(enum jobs_state s)
{
	return s >= JOBS_SUCCEEDED && s < JOBS_NSTATES;
}

int
jobs_state_may(enum jobs_state from, enum jobs_state to)
{
	if ((unsigned)from >= JOBS_NSTATES || (unsigned)to >= JOBS_NSTATES)
		return 0;
	return (may[from] & B(to)) != 0;
}

/* An array of 1-ARGV_MAX (min 0 or 1) strings of at most ARG_MAX bytes. */
static int
valid_argv(const json_t *a, size_t min)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) < min ||
	    json_array_size(a) > ARGV_MAX)
		return 0;
	json_array_foreach(a, i, v)
		if (!json_check_text(v, 0, ARG_MAX, false) ||
		    (i == 0 && min > 0 && json_string_length(v) == 0))
			return 0;
	return 1;
}

/* "to": a node id, "any", "any:SEL", "all" or "SEL" into out; 0 or -1
 * with err. */
static int
placement(json_t *out, const json_t *to, char *err, size_t errlen)
{
	const char *s = json_string_value(to);
	char serr[256];
	json_t *sel;

	if (s == NULL || s[0] == '\0') {
		snprintf(err, errlen, "to: a node id, \"any\", \"any:KEY=VALUE,...\", "
		    "\"all\" or \"KEY=VALUE,...\" is required");
		return -1;
	}
	if (strcmp(s, "any") == 0)
		return 0;
	if (strncmp(s, "any:", 4) == 0) {
		if ((sel = command_target_selector(s + 4, serr, sizeof(serr))) == NULL) {
			snprintf(err, errlen, "to: bad selector \"%.64s\": %s", s + 4,
			    serr);
			return -1;
		}
		if (json_object_size(sel) == 0) {
			json_decref(sel);
			snprintf(err, errlen, "to: any: needs KEY=VALUE labels");
			return -1;
		}
		json_object_set_new(out, "selector", sel);
		return 0;
	}
	/* Fanned out (jobs_fanout.h): resolved to its nodes at submit. */
	if (strcmp(s, "all") == 0 || strchr(s, '=') != NULL) {
		if (strcmp(s, "all") != 0 && (sel = command_target_selector(s,
		    serr, sizeof(serr))) == NULL) {
			snprintf(err, errlen, "to: bad selector \"%.64s\": %s", s,
			    serr);
			return -1;
		}
		if (strcmp(s, "all") != 0)
			json_object_set_new(out, "selector", sel);
		json_object_set_new(out, "fanout", json_true());
		return 0;
	}
	if (!node_id_valid(s, strlen(s))) {
		snprintf(err, errlen, "to: \"%.64s\" is not a node id, \"any\" or "
		    "\"any:KEY=VALUE,...\"", s);
		return -1;
	}
	json_object_set_new(out, "node", json_string(s));
	return 0;
}

/* The hash that tells "the same job" from "another job under the same
 * key": what runs and with what, not where or until when. */
json_t *
jobs_spec_args_hash(const json_t *job)
{
	json_t *what = json_pack("{s:O?, s:O?, s:O?, s:O?}", "task",
	    json_object_get(job, "task"), "command",
	    json_object_get(job, "command"), "args", json_object_get(job, "args"),
	    "payload", json_object_get(job, "payload"));
	char *text = json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *h = audit_sha256_json(text, strlen(text));

	free(text);
	json_decref(what);
	return h;
}

/* The callback of a job, when given: {url, secret, deadline_ms?}. */
static int
callback_check(const json_t *cb, char *err, size_t errlen)
{
	const char *k;
	json_t *v, *dl;
	char why[300];

	if (cb == NULL)
		return 0;
	if (!json_is_object(cb)) {
		snprintf(err, errlen, "callback: an object {url, secret, "
		    "deadline_ms?}");
		return -1;
	}
	json_object_foreach((json_t *)cb, k, v)
		if (strcmp(k, "url") != 0 && strcmp(k, "secret") != 0 &&
		    strcmp(k, "deadline_ms") != 0) {
			snprintf(err, errlen, "callback.%.64s: not a field of a "
			    "callback", k);
			return -1;
		}
	if (callbacks_check(json_string_value(json_object_get(cb, "url")),
	    json_string_value(json_object_get(cb, "secret")), why,
	    sizeof(why)) != 0) {
		snprintf(err, errlen, "callback: %s", why);
		return -1;
	}
	dl = json_object_get(cb, "deadline_ms");
	if (dl != NULL && !json_check_int(dl, 1000, JOBS_DEADLINE_MAX_MS, NULL)) {
		snprintf(err, errlen, "callback.deadline_ms: an integer 1000-%lld",
		    (long long)JOBS_DEADLINE_MAX_MS);
		return -1;
	}
	return 0;
}

json_t *
jobs_spec_parse(const json_t *body, int *status, char *err, size_t errlen)
{
	static const char *const known[] = { "task", "command", "args",
	    "payload", "to", "key", "deadline_ms", "at_most_once", "callback" };
	json_t *out, *v, *task, *cmd, *args, *payload, *key, *dl, *amo;
	const char *k;
	char *text;
	size_t i;

	*status = 400;
	if (!json_is_object(body)) {
		snprintf(err, errlen, "body: must be a JSON object {task | command, "
		    "to, payload?, args?, key?, deadline_ms?, at_most_once?}");
		return NULL;
	}
	json_object_foreach((json_t *)body, k, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%.64s: not a field of a job", k);
			return NULL;
		}
	}
	task = json_object_get(body, "task");
	cmd = json_object_get(body, "command");
	args = json_object_get(body, "args");
	payload = json_object_get(body, "payload");
	key = json_object_get(body, "key");
	dl = json_object_get(body, "deadline_ms");
	amo = json_object_get(body, "at_most_once");
	if ((task == NULL) == (cmd == NULL)) {
		snprintf(err, errlen, "task: give a task name or an ad-hoc "
		    "command (argv array), exactly one");
		return NULL;
	}
	if (task != NULL && (!json_check_text(task, 1, 128, false) ||
	    !node_id_valid(json_string_value(task), json_string_length(task)))) {
		snprintf(err, errlen, "task: a task name of 1-63 characters "
		    "[A-Za-z0-9._-]");
		return NULL;
	}
	if (cmd != NULL && !valid_argv(cmd, 1)) {
		snprintf(err, errlen, "command: an array of 1-%d strings (a "
		    "non-empty program), each at most %d bytes", ARGV_MAX, ARG_MAX);
		return NULL;
	}
	if (args != NULL && (cmd != NULL || !valid_argv(args, 0))) {
		snprintf(err, errlen, "args: an array of at most %d strings for a "
		    "named task", ARGV_MAX);
		return NULL;
	}
	if (key != NULL && !json_check_text(key, 1, JOBS_KEY_MAX, true)) {
		snprintf(err, errlen, "key: 1-%d bytes of text without control "
		    "characters", JOBS_KEY_MAX);
		return NULL;
	}
	if (dl != NULL && !json_check_int(dl, 1, JOBS_DEADLINE_MAX_MS, NULL)) {
		snprintf(err, errlen, "deadline_ms: an integer 1-%lld",
		    (long long)JOBS_DEADLINE_MAX_MS);
		return NULL;
	}
	if (amo != NULL && !json_is_boolean(amo)) {
		snprintf(err, errlen, "at_most_once: true or false");
		return NULL;
	}
	if (callback_check(json_object_get(body, "callback"), err, errlen) != 0)
		return NULL;
	out = json_pack("{s:O?, s:O?, s:O?, s:O?, s:I, s:b}", "task", task,
	    "command", cmd, "args", args, "key", key, "deadline_ms",
	    dl != NULL ? json_integer_value(dl) : JOBS_DEADLINE_DEFAULT_MS,
	    "at_most_once", json_is_true(amo));
	/* Only what was given: a null means "not given" nowhere. */
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (json_is_null(json_object_get(out, known[i])))
			json_object_del(out, known[i]);
	if ((v = json_object_get(body, "callback")) != NULL)
		json_object_set_new(out, "callback", json_pack("{s:O, s:I}", "url",
		    json_object_get(v, "url"), "deadline_ms",
		    json_is_integer(json_object_get(v, "deadline_ms")) ?
		    json_integer_value(json_object_get(v, "deadline_ms")) :
		    JOBS_DEADLINE_DEFAULT_MS));
	json_object_set(out, "to", json_object_get(body, "to"));
	if (placement(out, json_object_get(body, "to"), err, errlen) != 0) {
		json_decref(out);
		return NULL;
	}
	/* The payload travels as JSON text: the task reads it from a file. */
	text = payload != NULL ? json_dumps(payload, JSON_COMPACT |
	    JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
	if (text != NULL && strlen(text) > JOBS_PAYLOAD_MAX) {
		*status = 413;
		snprintf(err, errlen, "payload: %zu bytes of JSON, at most %d",
		    strlen(text), JOBS_PAYLOAD_MAX);
		free(text);
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "payload", text != NULL ? json_string(text) :
	    json_null());
	free(text);
	json_object_set_new(out, "args_hash", jobs_spec_args_hash(out));
	return out;
}

void
jobs_node_principal(struct principal *p, const char *node_id)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "node:%s", node_id);
	p->role = PRINCIPAL_ADMIN;
}

int
jobs_from_node(const char *principal, const char *origin)
{
	return principal != NULL && origin != NULL &&
	    strncmp(principal, "node:", 5) == 0 && strcmp(principal + 5,
	    origin) == 0;
}

int
jobs_state_from_executor(int s)
{
	return s == JOBS_SUCCEEDED || s == JOBS_FAILED || s == JOBS_CANCELLED;
}

int
jobs_epoch_ok(uint64_t epoch, uint64_t held)
{
	return epoch >= 1 && epoch <= JOBS_EPOCH_MAX &&
	    epoch <= held + JOBS_EPOCH_AHEAD;
}

char *
jobs_clean_text(const char *in, char *out, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return out;
	for (; in != NULL && in[i] != '\0' && i < len - 1; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? '?' :
		    in[i];
	/* Cut inside a UTF-8 sequence: the sequence goes whole. */
	if (in != NULL && ((unsigned char)in[i] & 0xc0) == 0x80) {
		while (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && ((unsigned char)out[i - 1] & 0xc0) == 0xc0)
			i--;
	}
	out[i] = '\0';
	return out;
}
