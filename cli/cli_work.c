/*
 * The CLI's work commands (see cli_work.h): commands issued through
 * POST /api/commands and followed with GET /api/commands/{id}?wait_ms=
 * &results=K (each node's result printed as it arrives), a task followed
 * by polling GET /api/tasks/{node}/{id} and its /logs?after=SEQ.
 *
 * Invariants: every wait is bounded by a deadline on the monotonic clock
 * (--timeout-ms, else the command's default), and each long-poll asks the
 * node to hold the request no longer than what is left of it.  Operands
 * are checked before the node is asked, so a usage error never reaches
 * the API.  Strings that come from other nodes (errors, names, messages)
 * are printed with control characters replaced; a task's own output is
 * printed as the task wrote it.
 *
 * --json: the API's JSON.  Command records print as one indented
 * document; `run` and `logs` print a stream of compact
 * documents, one a line: run's command record, then (when it follows a
 * task) each log line and last the task; logs' log lines.
 */
#include "cli_work.h"

#include <errno.h>
#include <inttypes.h>
#include <event2/http.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "clock.h"
#include "fanout_summary.h"
#include "mesh_names.h"
#include "node_id.h"

#define RUN_TIMEOUT_MS		(10LL * 60 * 1000)	/* run, logs -f */
#define COMMAND_TIMEOUT_MS	(60LL * 1000)		/* cancel, ack, ping ... */
#define POLL_HOLD_MS		25000	/* longest long-poll we ask for */
#define TASK_POLL_MS		200	/* between looks at a task's state */
#define LOG_PAGE		1000
#define TARGET_MAX		1024

/* A node id, "all", or a label selector "k=v,k2=v2" (the node checks it). */
static int
target_valid(const char *s)
{
	size_t len = strlen(s);

	return strcmp(s, "all") == 0 || node_id_valid(s, len) ||
	    (strchr(s, '=') != NULL && len <= TARGET_MAX);
}

int
cli_work_target_valid(const char *s)
{
	return target_valid(s);
}

/* --- printing -------------------------------------------------------------- */

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
deadline_of(const struct cli_args *a, long long dflt)
{
	return now_ms() + (a->timeout_ms > 0 ? a->timeout_ms : dflt);
}

/* --- commands --------------------------------------------------------------- */

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
	const char *st = cli_fmt_str(res, "status", "?");
	char what[512], node[80], stbuf[32];

	if (strcmp(st, "ok") == 0 && describe != NULL)
		describe(res, what, sizeof(what));
	else
		cli_fmt_clean(cli_fmt_str(res, "error", st), what, sizeof(what));
	printf("%-20s %-11s %s  rtt %.1f ms%s\n",
	    cli_fmt_clean(cli_fmt_str(res, "node", "?"), node, sizeof(node)),
	    cli_fmt_clean(st, stbuf, sizeof(stbuf)), what,
	    json_number_value(json_object_get(res, "rtt_ms")),
	    json_is_true(json_object_get(res, "duplicate")) ?
	    " (executed before: its first result)" : "");
	fflush(stdout);
}

/* A command id the node gave us, checked before it goes into a URL. */
static const char *
record_id(json_t *rec)
{
	const char *id = cli_fmt_str(rec, "id", NULL);

	return id != NULL && node_id_valid(id, strlen(id)) ? id : NULL;
}

/* The nodes a selector may match that the node could not tell (their
 * labels are not known there yet), on stderr; how many. */
static size_t
print_skipped(json_t *rec)
{
	json_t *e, *skipped = json_object_get(rec, "skipped");
	char node[80], why[200];
	size_t i;

	json_array_foreach(skipped, i, e)
		fprintf(stderr, "agentflow: skipped %s: %s\n", cli_fmt_clean(
		    cli_fmt_str(e, "node", "?"), node, sizeof(node)),
		    cli_fmt_clean(cli_fmt_str(e, "reason", "?"), why, sizeof(why)));
	return json_array_size(skipped);
}

/* Issues a command: its first record (new reference), or NULL after
 * printing why it was not issued. */
static json_t *
issue(const struct cli_opts *o, struct issue *is)
{
	struct cli_reply r;
	json_t *body;

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
	if (record_id(r.body) == NULL) {
		fprintf(stderr, "agentflow: the node's answer has no command id\n");
		json_decref(r.body);
		return NULL;
	}
	return r.body;
}

/*
 * Follows an issued command's record rec (stolen) until it is done or the
 * deadline passes, printing each result as it arrives (unless quiet) and
 * the nodes skipped (always, on stderr).  Returns the last record seen
 * (new reference).  *all_ok: it is done, nothing was skipped and every
 * destination answered ok.
 */
static json_t *
follow(const struct cli_opts *o, json_t *rec, describe_fn describe,
    int64_t deadline, int quiet, int *all_ok)
{
	struct cli_reply r;
	json_t *res;
	char id[NODE_ID_MAX + 1], path[256];
	size_t seen = 0, i, skipped;
	int64_t hold;

	*all_ok = 0;
	/* Kept apart: rec is replaced by each answer. */
	snprintf(id, sizeof(id), "%s", record_id(rec));
	if (!quiet && json_is_true(json_object_get(rec, "duplicate")))
		printf("same idempotency key as command %s: its results follow\n", id);
	skipped = print_skipped(rec);
	for (;;) {
		json_t *results = json_object_get(rec, "results");

		if (!quiet)
			for (i = seen; i < json_array_size(results); i++)
				print_result(json_array_get(results, i), describe);
		seen = json_array_size(results);
		if (strcmp(cli_fmt_str(rec, "state", "?"), "pending") != 0 ||
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
	if (strcmp(cli_fmt_str(rec, "state", "?"), "done") != 0) {
		json_t *p;
		char node[80];

		fprintf(stderr, "agentflow: command %s is %s; no answer yet from",
		    id, cli_fmt_str(rec, "state", "?"));
		json_array_foreach(json_object_get(rec, "pending"), i, p)
			fprintf(stderr, "%s %s", i ? "," : "", cli_fmt_clean(
			    json_string_value(p) ? json_string_value(p) : "?", node,
			    sizeof(node)));
		fprintf(stderr, " (see GET /api/commands/%s)\n", id);
		return rec;
	}
	*all_ok = 1;
	json_array_foreach(json_object_get(rec, "results"), i, res)
		if (strcmp(cli_fmt_str(res, "status", "?"), "ok") != 0)
			*all_ok = 0;
	if (json_array_size(json_object_get(rec, "results")) == 0 || skipped > 0)
		*all_ok = 0;
	return rec;
}


/* issue, then follow (NULL when it was not issued). */
static json_t *
issue_and_follow(const struct cli_opts *o, struct issue *is, int64_t deadline,
    int quiet, int *all_ok)
{
	json_t *rec = issue(o, is);

	*all_ok = 0;
	return rec != NULL ? follow(o, rec, is->describe, deadline, quiet,
	    all_ok) : NULL;
}

/* Issues, prints each answer (or with --json the final record). */
static int
command_main(const struct cli_args *a, struct issue *is)
{
	json_t *rec;
	int ok;

	is->key = a->key;
	if ((rec = issue_and_follow(&a->o, is, deadline_of(a,
	    COMMAND_TIMEOUT_MS), a->o.json, &ok)) == NULL)
		return 1;
	if (a->o.json)
		cli_api_print_json(rec);
	json_decref(rec);
	return ok ? 0 : 1;
}

int
cli_work_command(const struct cli_args *a, const char *target,
    const char *type, json_t *args, describe_fn describe)
{
	struct issue is = { target, type, args, NULL, describe };

	return command_main(a, &is);
}

/* --- tasks and their logs --------------------------------------------------- */

/* A task followed to its end: where its log was printed to, its last
 * state.  prefix: each line printed after "NODE | " (a run on several
 * nodes); a piece of a line continued later then ends its line, since
 * another node's lines may come between. */
struct watch {
	char		 node[NODE_ID_MAX + 1];
	char		 id[NODE_ID_MAX + 1];
	int		 prefix;
	uint64_t	 after;		/* last line_seq printed */
	int		 open[2];	/* a continued piece is waiting for its end */
	json_t		*task;		/* last state seen, or NULL */
	int		 rc;		/* -1 unread, 0 ended, 1 still going */
};

static void
print_line(json_t *l, struct watch *w, int json)
{
	int err = strcmp(cli_fmt_str(l, "stream", "stdout"), "stderr") == 0;
	FILE *out = err ? stderr : stdout;
	json_int_t dropped = json_integer_value(json_object_get(l, "dropped"));
	json_t *text = json_object_get(l, "text");

	if (json) {
		if (w->prefix)
			json_object_set_new(l, "node", json_string(w->node));
		print_json_line(l);
		return;
	}
	if (dropped > 0)
		fprintf(stderr, "%s%s[%" JSON_INTEGER_FORMAT " lines dropped]\n",
		    w->prefix ? w->node : "", w->prefix ? " | " : "", dropped);
	if (w->prefix && !w->open[err])
		fprintf(out, "%s | ", w->node);
	fwrite(json_string_value(text) ? json_string_value(text) : "", 1,
	    json_string_length(text), out);
	w->open[err] = !w->prefix &&
	    json_is_true(json_object_get(l, "continued"));
	if (!w->open[err])
		fputc('\n', out);
	fflush(out);
}

static void
close_lines(struct watch *w)
{
	if (w->open[0])
		fputc('\n', stdout);
	if (w->open[1])
		fputc('\n', stderr);
	w->open[0] = w->open[1] = 0;
	fflush(stdout);
}

/* Prints the lines after w->after, page by page, at most pages of them
 * (0: every one there is, until the deadline).  0 when it printed all
 * there was, 1 when more wait, -1 after printing why. */
static int
drain_logs(const struct cli_opts *o, struct watch *w, int json, int pages,
    int64_t deadline)
{
	struct cli_reply r;
	json_t *lines, *l;
	char path[256];
	size_t i, n;
	int read = 0;

	do {
		snprintf(path, sizeof(path), "/api/tasks/%s/%s/logs?after=%" PRIu64
		    "&limit=%d", w->node, w->id, w->after, LOG_PAGE);
		if (cli_api_call(o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
			fprintf(stderr, "agentflow: reading the log of %s on %s: %s\n",
			    w->id, w->node, r.error);
			json_decref(r.body);
			return -1;
		}
		lines = json_object_get(r.body, "lines");
		n = json_array_size(lines);
		json_array_foreach(lines, i, l) {
			json_int_t seq = json_integer_value(json_object_get(l,
			    "line_seq"));
			/* A line at or before what we printed would loop us. */
			if (seq <= 0 || (uint64_t)seq <= w->after) {
				n = 0;
				break;
			}
			print_line(l, w, json);
			w->after = (uint64_t)seq;
		}
		json_decref(r.body);
		read++;
	} while (n == LOG_PAGE && now_ms() < deadline &&
	    (pages == 0 || read < pages));
	return n == LOG_PAGE ? 1 : 0;
}

/*
 * One look at a task: its state, then the log lines since the last look.
 * A task this node does not know yet (its state travels from its node)
 * is waited for only when following.  Sets w->rc: 0 when it ended (or,
 * not following, once its log is printed), 1 while it goes on, -1 after
 * printing why it could not be read.
 */
static void
look(const struct cli_opts *o, struct watch *w, int follow, int pages,
    int64_t deadline)
{
	struct cli_reply r;
	char path[256];
	int rc;

	snprintf(path, sizeof(path), "/api/tasks/%s/%s", w->node, w->id);
	w->rc = 1;
	if (cli_api_request(o, EVHTTP_REQ_GET, path, NULL, 0, &r) != 0 &&
	    (r.status != 404 || !follow)) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		w->rc = -1;
		return;
	}
	if (r.status != 200) {
		json_decref(r.body);
		return;
	}
	json_decref(w->task);
	w->task = r.body;
	/* The log before the state: every line of an ended task is stored
	 * before its end reaches this node. */
	if ((rc = drain_logs(o, w, o->json, pages, deadline)) < 0)
		w->rc = -1;
	else if (rc == 0 && (!follow || mesh_names_task_state_terminal(
	    mesh_names_task_state_parse(cli_fmt_str(w->task, "state", "")))))
		w->rc = 0;
}

/*
 * Prints the logs of the n tasks w and, when follow, waits for each to
 * end, printing lines as they come.  Each w[i].rc: 0 when it ended (or,
 * not following, when its log is printed), 1 when the deadline passed
 * first, -1 after printing why it could not be read; w[i].task its last
 * state (owned by w[i]).
 */
static void
watch_tasks(const struct cli_opts *o, struct watch *w, size_t n, int follow,
    int64_t deadline)
{
	size_t i, going;
	int64_t next;

	for (i = 0; i < n; i++)
		w[i].rc = 1;
	for (;;) {
		next = now_ms() + TASK_POLL_MS;
		for (i = going = 0; i < n; i++) {
			if (w[i].rc != 1)
				continue;
			if (now_ms() >= deadline) {	/* the rest still going */
				going++;
				continue;
			}
			look(o, &w[i], follow, n > 1 ? 1 : 0, deadline);
			if (w[i].rc != 1)
				close_lines(&w[i]);
			else
				going++;
		}
		if (going == 0 || now_ms() >= deadline)
			break;
		sleep_until(next < deadline ? next : deadline);
	}
	for (i = 0; i < n; i++)
		close_lines(&w[i]);
}

static void
watch_clear(struct watch *w)
{
	json_decref(w->task);
	w->task = NULL;
}

static int
succeeded(json_t *task)
{
	return mesh_names_task_state_parse(cli_fmt_str(task, "state", "")) ==
	    MESH_TASK_STATE(SUCCEEDED);
}

/* "succeeded (exit 0)", "failed (exit 3): why", "cancelled (signal 9): why" */
static void
task_outcome(json_t *t, char *out, size_t len)
{
	const char *state = cli_fmt_str(t, "state", "?");
	int st = mesh_names_task_state_parse(state);
	char reason[256];
	json_int_t sig = json_integer_value(json_object_get(t, "term_signal"));
	json_int_t code = json_integer_value(json_object_get(t, "exit_code"));

	cli_fmt_clean(cli_fmt_str(t, "reason", ""), reason, sizeof(reason));
	/* The exit code says all there is for a plain success or failure. */
	if (sig == 0 && (st == MESH_TASK_STATE(SUCCEEDED) ||
	    (st == MESH_TASK_STATE(FAILED) && code != 0)))
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
	    task != NULL ? cli_fmt_clean(cli_fmt_str(task, "state", "?"), state, sizeof(state)) :
	    "not known here yet", node, id);
}

/* --- run --------------------------------------------------------------------- */

static void
describe_run(json_t *res, char *out, size_t len)
{
	char id[80];

	snprintf(out, len, "task %s", cli_fmt_clean(cli_fmt_str(json_object_get(res, "body"),
	    "task_id", "?"), id, sizeof(id)));
}

/*
 * Follows every task the run started (each result ok with a task id) to
 * its end or the deadline, then prints each one's end.  With one
 * destination the exit status is its task's (cli_fmt_exit_status); with
 * several, each node's lines come after "NODE | " and the status is 0
 * when every destination ran its task and it succeeded, 1 when any did
 * not, else 124 when any had not ended in time.
 */
static int
follow_run(const struct cli_args *a, json_t *rec, int64_t deadline, int rc)
{
	json_t *results = json_object_get(rec, "results"), *res;
	size_t i, n = 0, nres = json_array_size(results);
	int several = json_array_size(json_object_get(rec, "destinations")) != 1;
	/* several: how the command and each task ended, summed by the rule a
	 * job sent to several nodes follows (a failure beats a timeout) */
	struct fanout_summary sum = { 0 };
	struct watch *w;
	char outcome[320];

	if (rc != 0)
		fanout_summary_add(&sum, rc == CLI_EXIT_EXPIRED ? "expired" :
		    "failed");
	if ((w = calloc(nres ? nres : 1, sizeof(*w))) == NULL) {
		fprintf(stderr, "agentflow: out of memory\n");
		return 1;
	}
	json_array_foreach(results, i, res) {
		const char *node = cli_fmt_str(res, "node", "");
		const char *id = cli_fmt_str(json_object_get(res, "body"),
		    "task_id", "");

		if (strcmp(cli_fmt_str(res, "status", ""), "ok") != 0 ||
		    !node_id_valid(node, strlen(node)) ||
		    !node_id_valid(id, strlen(id)))
			continue;
		snprintf(w[n].node, sizeof(w[n].node), "%s", node);
		snprintf(w[n].id, sizeof(w[n].id), "%s", id);
		w[n++].prefix = several;
	}
	watch_tasks(&a->o, w, n, 1, deadline);
	for (i = 0; i < n; i++) {
		if (w[i].rc == 0 && a->o.json)
			print_json_line(w[i].task);
		else if (w[i].rc == 0) {
			task_outcome(w[i].task, outcome, sizeof(outcome));
			printf("task %s on %s %s\n", w[i].id, w[i].node, outcome);
		} else if (w[i].rc == 1)
			task_timed_out(w[i].node, w[i].id, w[i].task,
			    a->timeout_ms > 0 ? a->timeout_ms : RUN_TIMEOUT_MS);
		if (!several)
			rc = w[i].rc == 0 ? cli_fmt_exit_status(w[i].task) :
			    w[i].rc == 1 ? CLI_EXIT_EXPIRED : 1;
		else	/* by how each ended, not its exit code (a task may
			 * exit 124 itself) */
			fanout_summary_add(&sum, w[i].rc == 1 ? "expired" :
			    w[i].rc == 0 && succeeded(w[i].task) ? "succeeded" :
			    "failed");
		watch_clear(&w[i]);
	}
	free(w);
	return several && sum.n > 0 ? fanout_summary_exit(&sum) : rc;
}

int
cli_work_run(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct issue is = { 0 };
	json_t *rec, *targs;
	int rc, ok;
	int64_t deadline;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!target_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "TARGET: \"%s\" is not a node id, "
		    "\"all\" or k=v", a.argv[0]);
	if (a.argv[1][0] == '\0')
		return cli_cmd_usage_error(&a, "TASK: an empty name");
	deadline = deadline_of(&a, RUN_TIMEOUT_MS);
	is.target = a.argv[0];
	is.type = mesh_names_command_type(MESH_COMMAND_TYPE(RUN_TASK));
	is.key = a.key;
	is.describe = describe_run;
	is.args = json_pack("{s:s}", "task", a.argv[1]);
	if (a.argc > 2) {
		targs = json_array();
		for (int i = 2; i < a.argc; i++)
			json_array_append_new(targs, json_string(a.argv[i]));
		json_object_set_new(is.args, "args", targs);
	}
	if ((rec = issue_and_follow(&a.o, &is, deadline, a.o.json, &ok)) == NULL)
		return 1;
	if (a.o.json)
		print_json_line(rec);
	/* What the command itself came to: every destination answered ok,
	 * or some did not (1), or some had not answered in time (124). */
	rc = ok ? 0 : strcmp(cli_fmt_str(rec, "state", ""), "done") != 0 ?
	    CLI_EXIT_EXPIRED : 1;
	if (!a.detach)
		rc = follow_run(&a, rec, deadline, rc);
	json_decref(rec);
	return rc;
}

/* NODE and an id (what the id is named in messages); 2 after a usage
 * error. */
static int
node_and_id(const struct cli_args *a, const char *what, const char *noun)
{
	if (!node_id_valid(a->argv[0], strlen(a->argv[0])))
		return cli_cmd_usage_error(a, "NODE: \"%s\" is not a node id",
		    a->argv[0]);
	if (!node_id_valid(a->argv[1], strlen(a->argv[1])))
		return cli_cmd_usage_error(a, "%s: \"%s\" is not %s", what,
		    a->argv[1], noun);
	return 0;
}

/* --- logs -------------------------------------------------------------------- */

int
cli_work_logs(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct watch w = { 0 };
	char outcome[320];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((rc = node_and_id(&a, "TASK_ID", "a task id")) != 0)
		return rc;
	snprintf(w.node, sizeof(w.node), "%s", a.argv[0]);
	snprintf(w.id, sizeof(w.id), "%s", a.argv[1]);
	watch_tasks(&a.o, &w, 1, a.follow, deadline_of(&a, RUN_TIMEOUT_MS));
	rc = w.rc;
	if (rc == 1)
		task_timed_out(w.node, w.id, w.task, a.timeout_ms > 0 ?
		    a.timeout_ms : RUN_TIMEOUT_MS);
	else if (rc == 0 && a.follow && !a.o.json && !succeeded(w.task)) {
		task_outcome(w.task, outcome, sizeof(outcome));
		fprintf(stderr, "agentflow: task %s %s\n", w.id, outcome);
	}
	watch_clear(&w);
	return rc == 0 ? 0 : 1;
}

/* --- cancel, ack, freeze, unfreeze, ping --------------------------------------- */

static void
describe_cancel(json_t *res, char *out, size_t len)
{
	json_t *b = json_object_get(res, "body");
	char id[80];

	snprintf(out, len, "%s cancel of task %s", strcmp(cli_fmt_str(b, "cancel", ""),
	    "hard") == 0 ? "hard" : "soft", cli_fmt_clean(cli_fmt_str(b, "task_id", "?"), id,
	    sizeof(id)));
}

static void
describe_ack(json_t *res, char *out, size_t len)
{
	char id[80];

	snprintf(out, len, "alert %s acknowledged", cli_fmt_clean(cli_fmt_str(json_object_get(res,
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
		    "", cli_fmt_clean(json_string_value(hop), id, sizeof(id)));
		prev = json_string_value(hop);
	}
	if (out[0] == '\0')
		snprintf(out, len, "(no path)");
}

int
cli_work_cancel(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct issue is = { 0 };
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if ((rc = node_and_id(&a, "TASK_ID", "a task id")) != 0)
		return rc;
	is.target = a.argv[0];
	is.type = mesh_names_command_type(MESH_COMMAND_TYPE(CANCEL_TASK));
	is.args = json_pack("{s:s, s:b}", "task_id", a.argv[1], "hard",
	    a.hard);
	is.describe = describe_cancel;
	return command_main(&a, &is);
}

/*
 * ack --all: every firing (open, unacknowledged) alert this node knows
 * of that matches --rule and --node, one ack command each, each printing
 * its own line.  All are issued before any is followed, so alerts of
 * nodes that do not answer cost one command timeout, not one each.  1
 * when any was not acknowledged.
 */
static int
ack_all(struct cli_args *a)
{
	struct cli_reply r = { 0 };
	struct issue is = { 0 };
	int64_t deadline = deadline_of(a, COMMAND_TIMEOUT_MS);
	char path[160];
	int failed = 0, ok;
	json_t *al, *issued, *rec;
	size_t i;

	if (a->key != NULL)
		return cli_cmd_usage_error(a, "--key names one command; --all "
		    "issues one an alert");
	issued = json_array();
	snprintf(path, sizeof(path), "/api/alerts?state=firing&limit=10000%s%s",
	    a->node != NULL ? "&node=" : "", a->node != NULL ? a->node : "");
	if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		json_decref(issued);
		return 1;
	}
	json_array_foreach(json_object_get(r.body, "alerts"), i, al) {
		const char *node = cli_fmt_str(al, "node", "");
		const char *id = cli_fmt_str(al, "alert_id", "");

		if (a->rule != NULL && strcmp(cli_fmt_str(al, "rule", ""),
		    a->rule) != 0)
			continue;
		if (!node_id_valid(node, strlen(node)) ||
		    !node_id_valid(id, strlen(id)))
			continue;	/* not a row we could name */
		is.target = node;
		is.type = mesh_names_command_type(MESH_COMMAND_TYPE(ACK_ALERT));
		is.args = json_pack("{s:s}", "alert_id", id);
		if ((rec = issue(&a->o, &is)) == NULL)
			failed++;
		else
			json_array_append_new(issued, rec);
	}
	json_decref(r.body);
	json_array_foreach(issued, i, rec) {
		rec = follow(&a->o, json_incref(rec), describe_ack, deadline,
		    a->o.json, &ok);
		if (a->o.json)
			cli_api_print_json(rec);
		json_decref(rec);
		if (!ok)
			failed++;
	}
	if (json_array_size(issued) == 0 && failed == 0)
		printf(a->o.json ? "[]\n" : "no firing alert matches\n");
	json_decref(issued);
	return failed > 0 ? 1 : 0;
}

int
cli_work_ack(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct issue is = { 0 };
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.all) {
		if (a.argc != 0)
			return cli_cmd_usage_error(&a, "--all takes no NODE "
			    "ALERT_ID");
		return ack_all(&a);
	}
	if (a.rule != NULL || a.node != NULL)
		return cli_cmd_usage_error(&a, "--rule and --node go with --all");
	if (a.argc != 2)
		return cli_cmd_usage_error(&a, "NODE ALERT_ID, or --all");
	if ((rc = node_and_id(&a, "ALERT_ID", "an alert id")) != 0)
		return rc;
	is.target = a.argv[0];
	is.type = mesh_names_command_type(MESH_COMMAND_TYPE(ACK_ALERT));
	is.args = json_pack("{s:s}", "alert_id", a.argv[1]);
	is.describe = describe_ack;
	return command_main(&a, &is);
}

/* A command whose only operand is a target, "all" when it is optional
 * and not given. */
static int
target_command(const struct cmd_entry *e, int argc, char **argv, int type,
    describe_fn describe)
{
	struct cli_args a;
	struct issue is = { 0 };
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	is.target = a.argc > 0 ? a.argv[0] : "all";
	if (!target_valid(is.target))
		return cli_cmd_usage_error(&a, "TARGET: \"%s\" is not a node id, "
		    "\"all\" or k=v", is.target);
	is.type = mesh_names_command_type(type);
	is.args = json_object();
	if (a.stop)
		json_object_set_new(is.args, "stop", json_true());
	is.describe = describe;
	return command_main(&a, &is);
}

int
cli_work_freeze(const struct cmd_entry *e, int argc, char **argv)
{
	return target_command(e, argc, argv, MESH_COMMAND_TYPE(FREEZE),
	    describe_freeze);
}

int
cli_work_unfreeze(const struct cmd_entry *e, int argc, char **argv)
{
	return target_command(e, argc, argv, MESH_COMMAND_TYPE(UNFREEZE),
	    describe_freeze);
}

/*
 * Set by SIGINT during `ping -c 0` or -c N: the ping under way ends (its
 * request is bounded by the command's timeout), then the summary.  A
 * signal handler can only set a flag, hence this one static.
 */
static volatile sig_atomic_t ping_interrupted;

static void
ping_interrupt_cb(int sig)
{
	(void)sig;
	ping_interrupted = 1;
}

int
cli_work_ping(const struct cmd_entry *e, int argc, char **argv)
{
	struct sigaction sa;
	struct cli_args a;
	struct issue is;
	int rc, one, failed = 0;
	long long i;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!target_valid(a.argv[0]))
		return cli_cmd_usage_error(&a, "TARGET: \"%s\" is not a node id, "
		    "\"all\" or k=v", a.argv[0]);
	/* One key names one command: its repeats would be answered with
	 * the first one's results. */
	if (a.key != NULL && a.count != 1)
		return cli_cmd_usage_error(&a, "--key names one command: not "
		    "with -c");
	if (a.count != 1) {	/* no SA_RESTART: the pause between ends */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = ping_interrupt_cb;
		/* A second Ctrl-C ends the CLI at once, should the ping under
		 * way wait for a node that does not answer. */
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGINT, &sa, NULL) != 0)
			fprintf(stderr, "agentflow: Ctrl-C will not print the "
			    "summary: %s\n", strerror(errno));
	}
	for (i = 0; !ping_interrupted && (a.count == 0 || i < a.count); i++) {
		if (i > 0) {
			fflush(stdout);
			nanosleep(&(struct timespec){ 1, 0 }, NULL);
			if (ping_interrupted)
				break;
		}
		memset(&is, 0, sizeof(is));
		is.target = a.argv[0];
		is.type = mesh_names_command_type(MESH_COMMAND_TYPE(PING));
		is.args = json_object();
		is.describe = describe_ping;
		one = command_main(&a, &is);
		failed += one != 0;
	}
	if (a.count != 1 && !a.o.json)
		printf("%lld pings, %lld answered by every node\n", i,
		    i - (long long)failed);
	return failed > 0 ? 1 : 0;
}
