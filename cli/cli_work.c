/*
 * The CLI's work commands (see cli_work.h): commands issued through
 * POST /api/commands and followed with GET /api/commands/{id}?wait_ms=
 * &results=K (each node's result printed as it arrives), a task followed
 * by polling GET /api/tasks/{node}/{id} and its /logs?after=SEQ, and the
 * tables of tasks, alerts and audit records.
 *
 * Invariants: every wait is bounded by a deadline on the monotonic clock
 * (--timeout-ms, else the command's default), and each long-poll asks the
 * node to hold the request no longer than what is left of it.  Operands
 * are checked before the node is asked, so a usage error never reaches
 * the API.  Strings that come from other nodes (errors, names, messages)
 * are printed with control characters replaced; a task's own output is
 * printed as the task wrote it.
 *
 * --json: the API's JSON.  Tables and command records print as one
 * indented document; `run` and `logs` print a stream of compact
 * documents, one a line: run's command record, then (when it follows a
 * task) each log line and last the task; logs' log lines.
 */
#include "cli_work.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "clock.h"
#include "node_id.h"

#define RUN_TIMEOUT_MS		(10LL * 60 * 1000)	/* run, logs -f */
#define COMMAND_TIMEOUT_MS	(60LL * 1000)		/* cancel, ack, ping ... */
#define TIMEOUT_MAX_MS		(24LL * 3600 * 1000)
#define POLL_HOLD_MS		25000	/* longest long-poll we ask for */
#define TASK_POLL_MS		200	/* between looks at a task's state */
#define LOG_PAGE		1000
#define LIST_MAX		10000
#define TARGET_MAX		1024

static const char *const task_states[] = { "queued", "running", "succeeded",
    "failed", "cancelled", "timed-out", "retrying", NULL };
static const char *const terminal_states[] = { "succeeded", "failed",
    "cancelled", "timed-out", NULL };
static const char *const alert_states[] = { "firing", "acknowledged",
    "resolved", NULL };

/* --- options -------------------------------------------------------------- */

enum {
	O_DETACH = 256, O_TIMEOUT, O_KEY, O_HARD, O_NODE, O_STATE,
	O_ACTION, O_SINCE, O_LIMIT
};

struct work_opts {
	long long	 timeout_ms;	/* 0: the command's default */
	const char	*key;		/* idempotency key */
	const char	*node;
	const char	*state;
	const char	*action;
	long long	 since;
	long long	 limit;		/* 0: the API's default */
	int		 detach;
	int		 hard;
	int		 follow;
};

static int
parse_int(const char *name, const char *arg, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "agentflow: --%s: an integer %lld-%lld is required, "
		    "got \"%s\"\n", name, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int
on_extra(int c, const char *arg, void *ctx)
{
	struct work_opts *w = ctx;

	switch (c) {
	case O_DETACH: w->detach = 1; return 0;
	case O_HARD: w->hard = 1; return 0;
	case 'f': w->follow = 1; return 0;
	case O_TIMEOUT:
		return parse_int("timeout-ms", arg, 1, TIMEOUT_MAX_MS, &w->timeout_ms);
	case O_SINCE:
		return parse_int("since", arg, 0, INT64_MAX, &w->since);
	case O_LIMIT:
		return parse_int("limit", arg, 1, LIST_MAX, &w->limit);
	case O_KEY:
		if (*arg == '\0') {
			fprintf(stderr, "agentflow: --key: an empty key\n");
			return -1;
		}
		w->key = arg;
		return 0;
	case O_NODE:
		if (!node_id_valid(arg, strlen(arg))) {
			fprintf(stderr, "agentflow: --node: \"%s\" is not a node id\n",
			    arg);
			return -1;
		}
		w->node = arg;
		return 0;
	case O_STATE: w->state = arg; return 0;
	case O_ACTION: w->action = arg; return 0;
	}
	return -1;
}

/*
 * The common and extra options, then nmin..nmax operands (nmax < 0: no
 * upper bound).  Returns the index of the first operand, or -1 with *rc
 * the exit status (0 after --help, 2 after a usage error).
 */
static int
parse(int argc, char **argv, const char *usage, const struct option *extra,
    struct cli_opts *o, struct work_opts *w, int nmin, int nmax, int *rc)
{
	int first, n;

	memset(w, 0, sizeof(*w));
	if ((first = cli_api_opts(argc, argv, o, usage, extra, on_extra, w,
	    rc)) < 0)
		return -1;
	n = argc - first;
	if (n < nmin || (nmax >= 0 && n > nmax)) {
		fprintf(stderr, "agentflow: %s\nusage: agentflow %s\n", n < nmin ?
		    "missing operand" : "too many operands", usage);
		*rc = 2;
		return -1;
	}
	return first;
}

static int usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints what is wrong and the usage; returns the usage exit status. */
static int
usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agentflow: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: agentflow %s\n", usage);
	return 2;
}

static int
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* A node id, "all", or a label selector "k=v,k2=v2" (the node checks it). */
static int
target_valid(const char *s)
{
	size_t len = strlen(s);

	return strcmp(s, "all") == 0 || node_id_valid(s, len) ||
	    (strchr(s, '=') != NULL && len <= TARGET_MAX);
}

/* --- printing -------------------------------------------------------------- */

static const char *
str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* s with control characters replaced, for text other nodes wrote. */
static const char *
clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void
ago(char *out, size_t len, json_t *v)
{
	uint64_t now = clock_wall_ms();
	json_int_t ms = json_integer_value(v);

	if (ms <= 0)
		snprintf(out, len, "-");
	else if ((uint64_t)ms >= now)
		snprintf(out, len, "now");
	else if (now - (uint64_t)ms < 60000)
		snprintf(out, len, "%.1fs ago", (double)(now - (uint64_t)ms) / 1000.0);
	else if (now - (uint64_t)ms < 3600000)
		snprintf(out, len, "%" PRIu64 "m ago", (now - (uint64_t)ms) / 60000);
	else
		snprintf(out, len, "%" PRIu64 "h ago", (now - (uint64_t)ms) / 3600000);
}

static void
print_json_line(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("\n");
	fflush(stdout);
}

/* --- time ------------------------------------------------------------------ */

static int64_t
now_ms(void)
{
	return (int64_t)clock_mono_ms();
}

static void
sleep_until(int64_t when)
{
	int64_t left = when - now_ms();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int64_t
deadline_of(const struct work_opts *w, long long dflt)
{
	return now_ms() + (w->timeout_ms > 0 ? w->timeout_ms : dflt);
}

/* --- commands --------------------------------------------------------------- */

/* What an ok result says, from its body (and path). */
typedef void (*describe_fn)(json_t *res, char *out, size_t len);

struct issue {
	const char	*target;
	const char	*type;
	json_t		*args;		/* stolen */
	const char	*key;		/* or NULL */
	describe_fn	 describe;
};

static void
print_result(json_t *res, describe_fn describe)
{
	const char *st = str(res, "status", "?");
	char what[512], node[80], stbuf[32];

	if (strcmp(st, "ok") == 0 && describe != NULL)
		describe(res, what, sizeof(what));
	else
		clean(str(res, "error", st), what, sizeof(what));
	printf("%-20s %-11s %s  rtt %.1f ms%s\n",
	    clean(str(res, "node", "?"), node, sizeof(node)),
	    clean(st, stbuf, sizeof(stbuf)), what,
	    json_number_value(json_object_get(res, "rtt_ms")),
	    json_is_true(json_object_get(res, "duplicate")) ?
	    " (executed before: its first result)" : "");
	fflush(stdout);
}

/* A command id the node gave us, checked before it goes into a URL. */
static const char *
record_id(json_t *rec)
{
	const char *id = str(rec, "id", NULL);

	return id != NULL && node_id_valid(id, strlen(id)) ? id : NULL;
}

/*
 * Issues a command and follows its record until it is done or the
 * deadline passes, printing each result as it arrives (unless quiet).
 * Returns the last record seen (new reference), or NULL after printing
 * why the command was not issued.  *all_ok: it is done and every
 * destination answered ok.
 */
static json_t *
issue_and_follow(const struct cli_opts *o, struct issue *is, int64_t deadline,
    int quiet, int *all_ok)
{
	struct cli_reply r;
	json_t *body, *rec, *res;
	char id[NODE_ID_MAX + 1], path[256];
	size_t seen = 0, i;
	int64_t hold;

	*all_ok = 0;
	body = json_pack("{s:s, s:s, s:o}", "target", is->target, "type",
	    is->type, "args", is->args);
	if (is->key != NULL)
		json_object_set_new(body, "idempotency_key", json_string(is->key));
	if (cli_api_request(o, EVHTTP_REQ_POST, "/api/commands", body, 0, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		json_decref(body);
		return NULL;
	}
	json_decref(body);
	rec = r.body;
	if (record_id(rec) == NULL) {
		fprintf(stderr, "agentflow: the node's answer has no command id\n");
		json_decref(rec);
		return NULL;
	}
	/* Kept apart: rec is replaced by each answer. */
	snprintf(id, sizeof(id), "%s", record_id(rec));
	if (!quiet && json_is_true(json_object_get(rec, "duplicate")))
		printf("same idempotency key as command %s: its results follow\n", id);
	for (;;) {
		json_t *results = json_object_get(rec, "results");

		if (!quiet)
			for (i = seen; i < json_array_size(results); i++)
				print_result(json_array_get(results, i), is->describe);
		seen = json_array_size(results);
		if (strcmp(str(rec, "state", "?"), "pending") != 0 ||
		    (hold = deadline - now_ms()) <= 0)
			break;
		if (hold > POLL_HOLD_MS)
			hold = POLL_HOLD_MS;
		snprintf(path, sizeof(path), "/api/commands/%s?wait_ms=%" PRId64
		    "&results=%zu", id, hold, seen);
		if (cli_api_request(o, EVHTTP_REQ_GET, path, NULL,
		    (int)(hold / 1000) + 5, &r) != 0) {
			fprintf(stderr, "agentflow: following command %s: %s\n", id,
			    r.error);
			json_decref(r.body);
			return rec;
		}
		json_decref(rec);
		rec = r.body;
	}
	if (strcmp(str(rec, "state", "?"), "done") != 0) {
		json_t *p;
		char node[80];

		fprintf(stderr, "agentflow: command %s is %s; no answer yet from",
		    id, str(rec, "state", "?"));
		json_array_foreach(json_object_get(rec, "pending"), i, p)
			fprintf(stderr, "%s %s", i ? "," : "", clean(
			    json_string_value(p) ? json_string_value(p) : "?", node,
			    sizeof(node)));
		fprintf(stderr, " (see GET /api/commands/%s)\n", id);
		return rec;
	}
	*all_ok = 1;
	json_array_foreach(json_object_get(rec, "results"), i, res)
		if (strcmp(str(res, "status", "?"), "ok") != 0)
			*all_ok = 0;
	if (json_array_size(json_object_get(rec, "results")) == 0)
		*all_ok = 0;
	return rec;
}

/* Issues, prints each answer (or with --json the final record). */
static int
command_main(const struct cli_opts *o, const struct work_opts *w,
    struct issue *is)
{
	json_t *rec;
	int ok;

	is->key = w->key;
	if ((rec = issue_and_follow(o, is, deadline_of(w, COMMAND_TIMEOUT_MS),
	    o->json, &ok)) == NULL)
		return 1;
	if (o->json)
		cli_api_print_json(rec);
	json_decref(rec);
	return ok ? 0 : 1;
}

/* --- tasks and their logs --------------------------------------------------- */

struct log_pos {
	uint64_t	 after;		/* last line_seq printed */
	int		 open[2];	/* a continued piece is waiting for its end */
};

static void
print_line(json_t *l, struct log_pos *pos, int json)
{
	int err = strcmp(str(l, "stream", "stdout"), "stderr") == 0;
	FILE *out = err ? stderr : stdout;
	json_int_t dropped = json_integer_value(json_object_get(l, "dropped"));
	json_t *text = json_object_get(l, "text");

	if (json) {
		print_json_line(l);
		return;
	}
	if (dropped > 0)
		fprintf(stderr, "[%" JSON_INTEGER_FORMAT " lines dropped]\n",
		    dropped);
	fwrite(json_string_value(text) ? json_string_value(text) : "", 1,
	    json_string_length(text), out);
	pos->open[err] = json_is_true(json_object_get(l, "continued"));
	if (!pos->open[err])
		fputc('\n', out);
	fflush(out);
}

static void
close_lines(struct log_pos *pos)
{
	if (pos->open[0])
		fputc('\n', stdout);
	if (pos->open[1])
		fputc('\n', stderr);
	pos->open[0] = pos->open[1] = 0;
	fflush(stdout);
}

/* Prints the lines after pos->after, page by page.  -1 after printing why. */
static int
drain_logs(const struct cli_opts *o, const char *node, const char *id,
    struct log_pos *pos, int json, int64_t deadline)
{
	struct cli_reply r;
	json_t *lines, *l;
	char path[256];
	size_t i, n;

	do {
		snprintf(path, sizeof(path), "/api/tasks/%s/%s/logs?after=%" PRIu64
		    "&limit=%d", node, id, pos->after, LOG_PAGE);
		if (cli_api_call(o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
			fprintf(stderr, "agentflow: reading the log of %s: %s\n", id,
			    r.error);
			json_decref(r.body);
			return -1;
		}
		lines = json_object_get(r.body, "lines");
		n = json_array_size(lines);
		json_array_foreach(lines, i, l) {
			json_int_t seq = json_integer_value(json_object_get(l,
			    "line_seq"));
			/* A line at or before what we printed would loop us. */
			if (seq <= 0 || (uint64_t)seq <= pos->after) {
				n = 0;
				break;
			}
			print_line(l, pos, json);
			pos->after = (uint64_t)seq;
		}
		json_decref(r.body);
	} while (n == LOG_PAGE && now_ms() < deadline);
	return 0;
}

/*
 * Prints a task's log and, when follow, waits for the task to end,
 * printing lines as they come.  A task this node does not know yet (its
 * state travels from its node) is waited for only when following.
 * Returns 0 with *task its last state (new reference) when it ended (or,
 * not following, when the log is printed), 1 when the deadline passed
 * first, -1 after printing why it could not be read.
 */
static int
watch_task(const struct cli_opts *o, const char *node, const char *id,
    int follow, int64_t deadline, json_t **task)
{
	struct log_pos pos = { 0 };
	struct cli_reply r;
	char path[256];
	int64_t next;

	*task = NULL;
	snprintf(path, sizeof(path), "/api/tasks/%s/%s", node, id);
	for (;;) {
		next = now_ms() + TASK_POLL_MS;
		if (cli_api_request(o, EVHTTP_REQ_GET, path, NULL, 0, &r) != 0 &&
		    (r.status != 404 || !follow)) {
			fprintf(stderr, "agentflow: %s\n", r.error);
			json_decref(r.body);
			close_lines(&pos);
			return -1;
		}
		if (r.status == 200) {
			json_decref(*task);
			*task = r.body;
			/* The log before the state: every line of an ended task
			 * is stored before its end reaches this node. */
			if (drain_logs(o, node, id, &pos, o->json, deadline) != 0) {
				close_lines(&pos);
				return -1;
			}
			if (!follow || in_list(terminal_states, str(*task, "state",
			    "")))
				break;
		} else
			json_decref(r.body);
		if (now_ms() >= deadline) {
			close_lines(&pos);
			return 1;
		}
		sleep_until(next < deadline ? next : deadline);
	}
	close_lines(&pos);
	return 0;
}

/* "succeeded (exit 0)", "failed (exit 3): why", "cancelled (signal 9): why" */
static void
task_outcome(json_t *t, char *out, size_t len)
{
	const char *state = str(t, "state", "?");
	char reason[256];
	json_int_t sig = json_integer_value(json_object_get(t, "term_signal"));

	json_int_t code = json_integer_value(json_object_get(t, "exit_code"));

	clean(str(t, "reason", ""), reason, sizeof(reason));
	/* The exit code says all there is for a plain success or failure. */
	if (sig == 0 && (strcmp(state, "succeeded") == 0 ||
	    (strcmp(state, "failed") == 0 && code != 0)))
		reason[0] = '\0';
	if (sig != 0)
		snprintf(out, len, "%s (signal %" JSON_INTEGER_FORMAT ")%s%s", state,
		    sig, reason[0] ? ": " : "", reason);
	else
		snprintf(out, len, "%s (exit %" JSON_INTEGER_FORMAT ")%s%s", state,
		    code, reason[0] ? ": " : "", reason);
}

static void
task_timed_out(const char *node, const char *id, json_t *task, long long ms)
{
	char state[32];

	fprintf(stderr, "agentflow: task %s on %s has not ended after %lld ms "
	    "(%s); follow it with `agentflow logs -f %s %s`\n", id, node, ms,
	    task != NULL ? clean(str(task, "state", "?"), state, sizeof(state)) :
	    "not known here yet", node, id);
}

/* --- run --------------------------------------------------------------------- */

static void
describe_run(json_t *res, char *out, size_t len)
{
	char id[80];

	snprintf(out, len, "task %s", clean(str(json_object_get(res, "body"),
	    "task_id", "?"), id, sizeof(id)));
}

int
cli_run_main(int argc, char **argv)
{
	static const char usage[] = "run TARGET TASK [ARGS...] [--detach] "
	    "[--timeout-ms N] [--key IDEMPOTENCY_KEY] [--api HOST:PORT] "
	    "[--data-dir DIR] [--json]\n\n  TARGET: a node id, \"all\" or "
	    "labels \"k=v,k2=v2\"; put -- before ARGS that start with -\n"
	    "  --detach          print each node's answer, do not follow the task\n"
	    "  --timeout-ms N    bound of the whole wait (default 600000)\n"
	    "  --key KEY         idempotency key: a repeat runs nothing new";
	static const struct option extra[] = {
		{ "detach", no_argument, NULL, O_DETACH },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "key", required_argument, NULL, O_KEY },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o;
	struct work_opts w;
	struct issue is = { 0 };
	json_t *rec, *res, *task = NULL, *targs;
	const char *node, *id;
	char outcome[320];
	int first, rc, ok;
	int64_t deadline;

	if ((first = parse(argc, argv, usage, extra, &o, &w, 2, -1, &rc)) < 0)
		return rc;
	if (!target_valid(argv[first]))
		return usage_error(usage, "TARGET: \"%s\" is not a node id, \"all\" "
		    "or k=v", argv[first]);
	if (argv[first + 1][0] == '\0')
		return usage_error(usage, "TASK: an empty name");
	deadline = deadline_of(&w, RUN_TIMEOUT_MS);
	is.target = argv[first];
	is.type = "run_task";
	is.key = w.key;
	is.describe = describe_run;
	is.args = json_pack("{s:s}", "task", argv[first + 1]);
	if (argc - first > 2) {
		targs = json_array();
		for (int i = first + 2; i < argc; i++)
			json_array_append_new(targs, json_string(argv[i]));
		json_object_set_new(is.args, "args", targs);
	}
	if ((rec = issue_and_follow(&o, &is, deadline, o.json, &ok)) == NULL)
		return 1;
	if (o.json)
		print_json_line(rec);
	/* One destination that started the task: follow it to its end. */
	res = json_array_get(json_object_get(rec, "results"), 0);
	node = str(res, "node", "");
	id = str(json_object_get(res, "body"), "task_id", "");
	if (w.detach || !ok ||
	    json_array_size(json_object_get(rec, "destinations")) != 1 ||
	    !node_id_valid(node, strlen(node)) || !node_id_valid(id, strlen(id))) {
		json_decref(rec);
		return ok ? 0 : 1;
	}
	rc = watch_task(&o, node, id, 1, deadline, &task);
	if (rc == 0 && o.json)
		print_json_line(task);
	else if (rc == 0) {
		task_outcome(task, outcome, sizeof(outcome));
		printf("task %s on %s %s\n", id, node, outcome);
	} else if (rc == 1)
		task_timed_out(node, id, task, w.timeout_ms > 0 ? w.timeout_ms :
		    RUN_TIMEOUT_MS);
	rc = rc == 0 && strcmp(str(task, "state", ""), "succeeded") == 0 ? 0 : 1;
	json_decref(task);
	json_decref(rec);
	return rc;
}

/* --- logs -------------------------------------------------------------------- */

int
cli_logs_main(int argc, char **argv)
{
	static const char usage[] = "logs NODE TASK_ID [-f|--follow] "
	    "[--timeout-ms N] [--api HOST:PORT] [--data-dir DIR] [--json]\n\n"
	    "  stdout lines go to stdout, stderr lines to stderr\n"
	    "  -f, --follow      print new lines until the task ends\n"
	    "  --timeout-ms N    bound of -f (default 600000)";
	static const struct option extra[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o;
	struct work_opts w;
	json_t *task = NULL;
	char outcome[320];
	int first, rc;

	if ((first = parse(argc, argv, usage, extra, &o, &w, 2, 2, &rc)) < 0)
		return rc;
	if (!node_id_valid(argv[first], strlen(argv[first])))
		return usage_error(usage, "NODE: \"%s\" is not a node id", argv[first]);
	if (!node_id_valid(argv[first + 1], strlen(argv[first + 1])))
		return usage_error(usage, "TASK_ID: \"%s\" is not a task id",
		    argv[first + 1]);
	rc = watch_task(&o, argv[first], argv[first + 1], w.follow,
	    deadline_of(&w, RUN_TIMEOUT_MS), &task);
	if (rc == 1)
		task_timed_out(argv[first], argv[first + 1], task, w.timeout_ms > 0 ?
		    w.timeout_ms : RUN_TIMEOUT_MS);
	else if (rc == 0 && w.follow && !o.json &&
	    strcmp(str(task, "state", ""), "succeeded") != 0) {
		task_outcome(task, outcome, sizeof(outcome));
		fprintf(stderr, "agentflow: task %s %s\n", argv[first + 1], outcome);
	}
	json_decref(task);
	return rc == 0 ? 0 : 1;
}

/* --- cancel, ack, freeze, unfreeze, ping --------------------------------------- */

static void
describe_cancel(json_t *res, char *out, size_t len)
{
	json_t *b = json_object_get(res, "body");
	char id[80];

	snprintf(out, len, "%s cancel of task %s", strcmp(str(b, "cancel", ""),
	    "hard") == 0 ? "hard" : "soft", clean(str(b, "task_id", "?"), id,
	    sizeof(id)));
}

static void
describe_ack(json_t *res, char *out, size_t len)
{
	char id[80];

	snprintf(out, len, "alert %s acknowledged", clean(str(json_object_get(res,
	    "body"), "alert_id", "?"), id, sizeof(id)));
}

static void
describe_freeze(json_t *res, char *out, size_t len)
{
	snprintf(out, len, "%s", json_is_true(json_object_get(json_object_get(res,
	    "body"), "frozen")) ? "frozen (read-only)" : "unfrozen");
}

/* The hops the command took, origin first: "node-1 -> node-3 -> node-2". */
static void
describe_ping(json_t *res, char *out, size_t len)
{
	json_t *hop;
	size_t i, at = 0;
	const char *prev = NULL;
	char id[80];

	out[0] = '\0';
	json_array_foreach(json_object_get(res, "path"), i, hop) {
		/* A command to the issuing node itself lists it twice. */
		if (!json_is_string(hop) || at >= len || (prev != NULL &&
		    strcmp(prev, json_string_value(hop)) == 0))
			continue;
		at += (size_t)snprintf(out + at, len - at, "%s%s", prev ? " -> " :
		    "", clean(json_string_value(hop), id, sizeof(id)));
		prev = json_string_value(hop);
	}
	if (out[0] == '\0')
		snprintf(out, len, "(no path)");
}

static const struct option command_extra[] = {
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "key", required_argument, NULL, O_KEY },
	{ NULL, 0, NULL, 0 },
};

#define COMMAND_OPTS	"[--timeout-ms N] [--key IDEMPOTENCY_KEY] " \
	"[--api HOST:PORT] [--data-dir DIR] [--json]"

int
cli_cancel_main(int argc, char **argv)
{
	static const char usage[] = "cancel NODE TASK_ID [--hard] " COMMAND_OPTS
	    "\n\n  --hard            SIGKILL at once (default: SIGTERM, then "
	    "SIGKILL after a grace period)";
	static const struct option extra[] = {
		{ "hard", no_argument, NULL, O_HARD },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "key", required_argument, NULL, O_KEY },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o;
	struct work_opts w;
	struct issue is = { 0 };
	int first, rc;

	if ((first = parse(argc, argv, usage, extra, &o, &w, 2, 2, &rc)) < 0)
		return rc;
	if (!node_id_valid(argv[first], strlen(argv[first])))
		return usage_error(usage, "NODE: \"%s\" is not a node id", argv[first]);
	if (!node_id_valid(argv[first + 1], strlen(argv[first + 1])))
		return usage_error(usage, "TASK_ID: \"%s\" is not a task id",
		    argv[first + 1]);
	is.target = argv[first];
	is.type = "cancel_task";
	is.args = json_pack("{s:s, s:b}", "task_id", argv[first + 1], "hard",
	    w.hard);
	is.describe = describe_cancel;
	return command_main(&o, &w, &is);
}

int
cli_ack_main(int argc, char **argv)
{
	static const char usage[] = "ack NODE ALERT_ID " COMMAND_OPTS;
	struct cli_opts o;
	struct work_opts w;
	struct issue is = { 0 };
	int first, rc;

	if ((first = parse(argc, argv, usage, command_extra, &o, &w, 2, 2,
	    &rc)) < 0)
		return rc;
	if (!node_id_valid(argv[first], strlen(argv[first])))
		return usage_error(usage, "NODE: \"%s\" is not a node id", argv[first]);
	if (!node_id_valid(argv[first + 1], strlen(argv[first + 1])))
		return usage_error(usage, "ALERT_ID: \"%s\" is not an alert id",
		    argv[first + 1]);
	is.target = argv[first];
	is.type = "ack_alert";
	is.args = json_pack("{s:s}", "alert_id", argv[first + 1]);
	is.describe = describe_ack;
	return command_main(&o, &w, &is);
}

/* A command whose only operand is an optional (or required) target. */
static int
target_command(int argc, char **argv, const char *usage, const char *type,
    const char *dflt, describe_fn describe)
{
	struct cli_opts o;
	struct work_opts w;
	struct issue is = { 0 };
	int first, rc;

	if ((first = parse(argc, argv, usage, command_extra, &o, &w,
	    dflt ? 0 : 1, 1, &rc)) < 0)
		return rc;
	is.target = first < argc ? argv[first] : dflt;
	if (!target_valid(is.target))
		return usage_error(usage, "TARGET: \"%s\" is not a node id, \"all\" "
		    "or k=v", is.target);
	is.type = type;
	is.args = json_object();
	is.describe = describe;
	return command_main(&o, &w, &is);
}

int
cli_freeze_main(int argc, char **argv)
{
	return target_command(argc, argv, "freeze [TARGET] " COMMAND_OPTS
	    "\n\n  read-only mode on TARGET (default: all): tasks and acks are "
	    "refused", "freeze", "all", describe_freeze);
}

int
cli_unfreeze_main(int argc, char **argv)
{
	return target_command(argc, argv, "unfreeze [TARGET] " COMMAND_OPTS
	    "\n\n  read-only mode off on TARGET (default: all)", "unfreeze",
	    "all", describe_freeze);
}

int
cli_ping_main(int argc, char **argv)
{
	return target_command(argc, argv, "ping TARGET " COMMAND_OPTS
	    "\n\n  prints the path each node's command took and its round trip",
	    "ping", NULL, describe_ping);
}

/* --- tables ------------------------------------------------------------------ */

/* GETs path and prints its `key` array with row(), or the JSON. */
static int
table(const struct cli_opts *o, const char *path, const char *key,
    const char *header, void (*row)(json_t *))
{
	struct cli_reply r;
	json_t *v;
	size_t i;

	if (cli_api_call(o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (o->json)
		cli_api_print_json(r.body);
	else {
		printf("%s\n", header);
		json_array_foreach(json_object_get(r.body, key), i, v)
			if (json_is_object(v))
				row(v);
	}
	json_decref(r.body);
	return 0;
}

static void
task_row(json_t *t)
{
	char node[80], id[80], name[80], state[32], ex[32], started[32], took[32];
	const char *st = str(t, "state", "?");
	json_t *s = json_object_get(t, "started_ms"), *f;
	json_int_t sig = json_integer_value(json_object_get(t, "term_signal"));

	if (sig != 0)
		snprintf(ex, sizeof(ex), "sig %" JSON_INTEGER_FORMAT, sig);
	else if (in_list(terminal_states, st) && strcmp(st, "cancelled") != 0)
		snprintf(ex, sizeof(ex), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(t, "exit_code")));
	else
		snprintf(ex, sizeof(ex), "-");
	ago(started, sizeof(started), s);
	f = json_object_get(t, "finished_ms");
	if (json_is_integer(s))
		snprintf(took, sizeof(took), "%.1fs", (double)((json_is_integer(f) ?
		    json_integer_value(f) : (json_int_t)clock_wall_ms()) -
		    json_integer_value(s)) / 1000.0);
	else
		snprintf(took, sizeof(took), "-");
	printf("%-16s %-24s %-16s %-10s %3" JSON_INTEGER_FORMAT "/%-3"
	    JSON_INTEGER_FORMAT " %6s %12s %10s\n",
	    clean(str(t, "node", "?"), node, sizeof(node)),
	    clean(str(t, "task_id", "?"), id, sizeof(id)),
	    clean(str(t, "name", "?"), name, sizeof(name)),
	    clean(st, state, sizeof(state)),
	    json_integer_value(json_object_get(t, "attempt")),
	    json_integer_value(json_object_get(t, "max_attempts")), ex, started,
	    took);
}

static void
alert_row(json_t *a)
{
	char node[80], id[80], rule[80], state[32], sev[32], fired[32], msg[256];

	ago(fired, sizeof(fired), json_object_get(a, "fired_ms"));
	printf("%-16s %-24s %-13s %-9s %-20s %12s %s\n",
	    clean(str(a, "node", "?"), node, sizeof(node)),
	    clean(str(a, "alert_id", "?"), id, sizeof(id)),
	    clean(str(a, "state", "?"), state, sizeof(state)),
	    clean(str(a, "severity", "?"), sev, sizeof(sev)),
	    clean(str(a, "rule", "?"), rule, sizeof(rule)), fired,
	    clean(str(a, "message", ""), msg, sizeof(msg)));
}

static void
audit_row(json_t *a)
{
	char when[32], node[80], action[64], actor[80], result[32], details[200];
	char *text = json_dumps(json_object_get(a, "details"), JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_int_t ms = json_integer_value(json_object_get(a, "time_ms"));
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "-");
	clean(text != NULL ? text : "", details, sizeof(details));
	if (strlen(details) > 120)
		memcpy(details + 117, "...", 4);
	printf("%-19s %-16s %-20s %-16s %-11s %s\n", when,
	    clean(str(a, "node", "?"), node, sizeof(node)),
	    clean(str(a, "action", "?"), action, sizeof(action)),
	    clean(str(a, "actor", "?"), actor, sizeof(actor)),
	    clean(str(a, "result", "?"), result, sizeof(result)), details);
	free(text);
}

/* "?node=..&state=..&limit=.." from what was given, into q. */
static void
query(char *q, size_t len, const struct work_opts *w, const char *action)
{
	size_t at = 0;

#define ADD(...) do {							\
	if (at < len)							\
		at += (size_t)snprintf(q + at, len - at, __VA_ARGS__);	\
} while (0)
	q[0] = '\0';
	if (w->node != NULL)
		ADD("%snode=%s", at ? "&" : "?", w->node);
	if (w->state != NULL)
		ADD("%sstate=%s", at ? "&" : "?", w->state);
	if (action != NULL)
		ADD("%saction=%s", at ? "&" : "?", action);
	if (w->since > 0)
		ADD("%ssince=%lld", at ? "&" : "?", w->since);
	if (w->limit > 0)
		ADD("%slimit=%lld", at ? "&" : "?", w->limit);
#undef ADD
}

static const struct option list_extra[] = {
	{ "node", required_argument, NULL, O_NODE },
	{ "state", required_argument, NULL, O_STATE },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ NULL, 0, NULL, 0 },
};

int
cli_tasks_main(int argc, char **argv)
{
	static const char usage[] = "tasks [--node NODE] [--state STATE] "
	    "[--limit N] [--api HOST:PORT] [--data-dir DIR] [--json]\n\n"
	    "  STATE: queued, running, succeeded, failed, cancelled, timed-out, "
	    "retrying";
	struct cli_opts o;
	struct work_opts w;
	char q[256], path[300], header[200];
	int rc;

	if (parse(argc, argv, usage, list_extra, &o, &w, 0, 0, &rc) < 0)
		return rc;
	if (w.state != NULL && !in_list(task_states, w.state))
		return usage_error(usage, "--state: \"%s\" is not a task state",
		    w.state);
	query(q, sizeof(q), &w, NULL);
	snprintf(path, sizeof(path), "/api/tasks%s", q);
	snprintf(header, sizeof(header), "%-16s %-24s %-16s %-10s %7s %6s %12s "
	    "%10s", "NODE", "TASK", "NAME", "STATE", "ATTEMPT", "EXIT", "STARTED",
	    "TOOK");
	return table(&o, path, "tasks", header, task_row);
}

int
cli_alerts_main(int argc, char **argv)
{
	static const char usage[] = "alerts [--node NODE] [--state STATE] "
	    "[--limit N] [--api HOST:PORT] [--data-dir DIR] [--json]\n\n"
	    "  STATE: firing, acknowledged, resolved";
	struct cli_opts o;
	struct work_opts w;
	char q[256], path[300], header[200];
	int rc;

	if (parse(argc, argv, usage, list_extra, &o, &w, 0, 0, &rc) < 0)
		return rc;
	if (w.state != NULL && !in_list(alert_states, w.state))
		return usage_error(usage, "--state: \"%s\" is not an alert state",
		    w.state);
	query(q, sizeof(q), &w, NULL);
	snprintf(path, sizeof(path), "/api/alerts%s", q);
	snprintf(header, sizeof(header), "%-16s %-24s %-13s %-9s %-20s %12s %s",
	    "NODE", "ALERT", "STATE", "SEVERITY", "RULE", "FIRED", "MESSAGE");
	return table(&o, path, "alerts", header, alert_row);
}

int
cli_audit_main(int argc, char **argv)
{
	static const char usage[] = "audit [--node NODE] [--action ACTION] "
	    "[--since MS] [--limit N] [--api HOST:PORT] [--data-dir DIR] "
	    "[--json]\n\n  ACTION: command.issued, command.executed, ...\n"
	    "  --since MS        records from this time on (ms since the epoch)";
	static const struct option extra[] = {
		{ "node", required_argument, NULL, O_NODE },
		{ "action", required_argument, NULL, O_ACTION },
		{ "since", required_argument, NULL, O_SINCE },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o;
	struct work_opts w;
	char q[512], path[600], header[200], *action = NULL;
	int rc;

	if (parse(argc, argv, usage, extra, &o, &w, 0, 0, &rc) < 0)
		return rc;
	if (w.action != NULL && (w.action[0] == '\0' || strlen(w.action) > 64))
		return usage_error(usage, "--action: \"%s\" is not an action",
		    w.action);
	if (w.action != NULL && (action = evhttp_encode_uri(w.action)) == NULL) {
		fprintf(stderr, "agentflow: out of memory\n");
		return 1;
	}
	query(q, sizeof(q), &w, action);
	free(action);
	snprintf(path, sizeof(path), "/api/audit%s", q);
	snprintf(header, sizeof(header), "%-19s %-16s %-20s %-16s %-11s %s",
	    "TIME", "NODE", "ACTION", "ACTOR", "RESULT", "DETAILS");
	return table(&o, path, "records", header, audit_row);
}
