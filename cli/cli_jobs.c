/*
 * Durable jobs from the command line (see cli_jobs.h).
 */
#include "cli_jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fanout.h"
#include "cli_fmt.h"
#include "clock.h"
#include "file.h"
#include "node_id.h"

#define PAYLOAD_FILE_MAX	(1u << 20)
#define WAIT_DEFAULT_MS		600000
#define POLL_MS			200

json_t *
cli_jobs_payload_arg(const char *what, const char *arg)
{
	char ferr[256], *text = NULL;
	json_error_t jerr;
	size_t len;
	json_t *v;

	if (arg[0] == '@') {
		if ((text = file_read(arg + 1, PAYLOAD_FILE_MAX, &len, NULL, ferr,
		    sizeof(ferr))) == NULL) {
			fprintf(stderr, "agentflow: %s %s: %s\n", what, arg, ferr);
			return NULL;
		}
		v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		    &jerr);
	} else
		v = json_loads(arg, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (v == NULL)
		fprintf(stderr, "agentflow: %s: not JSON: %s (line %d)\n", what,
		    jerr.text, jerr.line);
	return v;
}

static int
final_state(const char *s)
{
	static const char *const finals[] = { "succeeded", "failed", "cancelled",
	    "expired", "lost" };

	for (size_t i = 0; s != NULL && i < sizeof(finals) / sizeof(finals[0]); i++)
		if (strcmp(s, finals[i]) == 0)
			return 1;
	return 0;
}

/* Text other nodes wrote (a reason, a node, an event), printed: no
 * terminal escapes get through. */
#define CLEAN_MAX	1024
#define CLEAN(o, key, dflt, buf) \
	cli_fmt_clean(cli_fmt_str((o), (key), (dflt)), (buf), sizeof(buf))

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The fields of a history entry that print_entry shows in columns. */
static int
column(const char *k)
{
	static const char *const cols[] = { "time_ms", "event", "by", "node",
	    "epoch", "reason" };

	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (strcmp(k, cols[i]) == 0)
			return 1;
	return 0;
}

/*
 * One step of a job's story: its time (ago, or absolute UTC for a trace),
 * what happened, where, the epoch, why, and (trace) its other fields as
 * k=v in key order, as the dashboard's job page shows them.
 */
static void
print_entry(json_t *h, int trace)
{
	char when[64], c1[CLEAN_MAX], c2[CLEAN_MAX], c3[CLEAN_MAX];
	char c4[CLEAN_MAX], *text;
	const char **keys, *k;
	size_t n = 0, i;
	json_t *v;

	if (trace) {
		json_int_t ms = json_integer_value(json_object_get(h, "time_ms"));
		time_t t = (time_t)(ms / 1000);
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		else
			snprintf(when + strlen(when), sizeof(when) - strlen(when),
			    ".%03dZ", (int)(ms % 1000));
	} else
		cli_fmt_ago(json_object_get(h, "time_ms"), when, sizeof(when));
	printf("  %s %-10s by=%s node=%s epoch=%lld%s%s", when,
	    CLEAN(h, "event", "?", c1), CLEAN(h, "by", "-", c4),
	    CLEAN(h, "node", "-", c2),
	    (long long)json_integer_value(json_object_get(h, "epoch")),
	    json_object_get(h, "reason") ? " reason=" : "",
	    CLEAN(h, "reason", "", c3));
	if (trace) {
		keys = calloc(json_object_size(h) + 1, sizeof(*keys));
		json_object_foreach(h, k, v)
			if (!column(k) && !json_is_null(v) && keys != NULL)
				keys[n++] = k;
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (i = 0; i < n; i++) {
			v = json_object_get(h, keys[i]);
			text = json_is_string(v) ? NULL : json_dumps(v,
			    JSON_COMPACT | JSON_ENCODE_ANY);
			printf(" %s=%s", cli_fmt_clean(keys[i], c1, sizeof(c1)),
			    cli_fmt_clean(text != NULL ? text :
			    json_string_value(v), c2, sizeof(c2)));
			free(text);
		}
		free(keys);
	}
	printf("\n");
}

static void
print_job(json_t *job)
{
	char *res, c1[CLEAN_MAX], c2[CLEAN_MAX], c3[CLEAN_MAX];
	char c4[CLEAN_MAX], c5[CLEAN_MAX];
	json_t *h, *r = json_object_get(job, "result");
	size_t i;

	printf("%s %s (task %s, to %s, node %s, epoch %lld)\n",
	    CLEAN(job, "id", "?", c1), CLEAN(job, "state", "?", c2),
	    CLEAN(job, "task", "(ad-hoc)", c3), CLEAN(job, "to", "?", c4),
	    CLEAN(job, "node", "-", c5),
	    (long long)json_integer_value(json_object_get(job, "epoch")));
	if (json_object_get(job, "reason") != NULL)
		printf("  reason: %s\n", CLEAN(job, "reason", "", c1));
	if (json_is_integer(json_object_get(job, "exit_code")))
		printf("  exit: %lld\n", (long long)json_integer_value(
		    json_object_get(job, "exit_code")));
	if (r != NULL && !json_is_null(r)) {
		res = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  result: %s\n", res != NULL ? res : "?");
		free(res);
	}
	cli_fanout_print(job);
	json_array_foreach(json_object_get(job, "history"), i, h)
		print_entry(h, 0);
}

/* Polls the job until it is final or timeout_ms passes; the exit status. */
static int
wait_job(const struct cli_args *a, const char *id, long long timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms;
	struct cli_reply r = { 0 };
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/api/jobs/%s", id);
	for (;;) {
		memset(&r, 0, sizeof(r));
		if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
			fprintf(stderr, "agentflow: job %s: %s\n", id, r.error);
			json_decref(r.body);
			return 1;
		}
		if (final_state(cli_fmt_str(r.body, "state", NULL)))
			break;
		json_decref(r.body);
		if (clock_mono_ms() >= end) {
			fprintf(stderr, "agentflow: job %s is not final after %lld ms\n",
			    id, timeout_ms);
			return CLI_EXIT_EXPIRED;
		}
		nanosleep(&(struct timespec){ 0, POLL_MS * 1000000L }, NULL);
	}
	if (a->o.json)
		cli_api_print_json(r.body);
	else
		print_job(r.body);
	rc = cli_fanout_is_parent(r.body) ? cli_fanout_status(r.body) :
	    cli_fmt_exit_status(r.body);
	json_decref(r.body);
	return rc;
}

/*
 * body.callback from --callback and the secret: the first line of
 * --callback-secret-file, else $AGENTFLOW_CALLBACK_SECRET (never a flag's
 * value, which any local user could read in the process list).
 */
static int
callback_arg(const struct cli_args *a, json_t *body)
{
	char secret[300] = "";
	const char *env = getenv("AGENTFLOW_CALLBACK_SECRET");
	FILE *f;

	if (a->callback_secret_file != NULL) {
		if ((f = fopen(a->callback_secret_file, "re")) == NULL ||
		    fgets(secret, sizeof(secret), f) == NULL) {
			fprintf(stderr, "agentflow: --callback-secret-file %s: %s\n",
			    a->callback_secret_file, f == NULL ? strerror(errno) :
			    "empty");
			if (f != NULL)
				fclose(f);
			return -1;
		}
		fclose(f);
		secret[strcspn(secret, "\r\n")] = '\0';
	} else if (env != NULL)
		snprintf(secret, sizeof(secret), "%s", env);
	if (secret[0] == '\0') {
		fprintf(stderr, "agentflow: --callback needs a secret: "
		    "--callback-secret-file FILE or $AGENTFLOW_CALLBACK_SECRET\n");
		return -1;
	}
	json_object_set_new(body, "callback", json_pack("{s:s, s:s}", "url",
	    a->callback, "secret", secret));
	return 0;
}

int
cli_jobs_submit(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r = { 0 };
	json_t *body, *payload = NULL;
	char id[64];
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.to == NULL)
		return cli_cmd_usage_error(&a, "--to NODE|any|any:KEY=VALUE|all|"
		    "KEY=VALUE is required");
	if (a.payload != NULL && (payload = cli_jobs_payload_arg("--payload", a.payload)) == NULL)
		return 2;
	body = json_pack("{s:s, s:s, s:b}", "task", a.argv[0], "to", a.to,
	    "at_most_once", a.at_most_once);
	if (payload != NULL)
		json_object_set_new(body, "payload", payload);
	if (a.key != NULL)
		json_object_set_new(body, "key", json_string(a.key));
	if (a.deadline_ms > 0)
		json_object_set_new(body, "deadline_ms",
		    json_integer((json_int_t)a.deadline_ms));
	if (a.callback != NULL && callback_arg(&a, body) != 0) {
		json_decref(body);
		return 2;
	}
	rc = cli_api_request(&a.o, EVHTTP_REQ_POST, "/api/jobs", body, 0, &r);
	json_decref(body);
	if (rc != 0) {
		fprintf(stderr, "agentflow: submit: %s%s%s\n", r.error,
		    r.status == 409 ? "; first job " : "",
		    r.status == 409 ? cli_fmt_str(r.body, "job", "?") : "");
		json_decref(r.body);
		return 1;
	}
	snprintf(id, sizeof(id), "%s", cli_fmt_str(r.body, "id", ""));
	if (!a.wait) {
		if (a.o.json)
			cli_api_print_json(r.body);
		else
			printf("%s%s\n", id, r.status == 200 ?
			    " (the key's first job)" : "");
	}
	json_decref(r.body);
	if (!a.wait)
		return 0;
	return wait_job(&a, id, a.timeout_ms > 0 ? a.timeout_ms : WAIT_DEFAULT_MS);
}

int
cli_jobs_wait(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (!node_id_valid(a.argv[0], strlen(a.argv[0])))
		return cli_cmd_usage_error(&a, "\"%s\" is not a job id", a.argv[0]);
	return wait_job(&a, a.argv[0], a.timeout_ms > 0 ? a.timeout_ms :
	    WAIT_DEFAULT_MS);
}

/* Parses `CMD ID` and fetches job ID: its record (new reference), or
 * NULL with the exit status in *rc after saying why. */
static json_t *
fetch_job(const struct cmd_entry *e, int argc, char **argv,
    struct cli_args *a, int *rc)
{
	struct cli_reply r = { 0 };
	char path[128];

	if (cli_cmd_parse(e, argc, argv, a, rc) < 0)
		return NULL;
	if (!node_id_valid(a->argv[0], strlen(a->argv[0]))) {
		*rc = cli_cmd_usage_error(a, "\"%s\" is not a job id", a->argv[0]);
		return NULL;
	}
	snprintf(path, sizeof(path), "/api/jobs/%s", a->argv[0]);
	if (cli_api_call(&a->o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: %s %s: %s\n", e->name, a->argv[0],
		    r.error);
		json_decref(r.body);
		*rc = 1;
		return NULL;
	}
	return r.body;
}

int
cli_jobs_show(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	json_t *job;
	int rc;

	if ((job = fetch_job(e, argc, argv, &a, &rc)) == NULL)
		return rc;
	if (a.o.json)
		cli_api_print_json(job);
	else
		print_job(job);
	json_decref(job);
	return 0;
}

int
cli_jobs_list(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	struct cli_reply r = { 0 };
	char path[256], ago[64], c1[CLEAN_MAX], c2[CLEAN_MAX], c3[CLEAN_MAX];
	char c4[CLEAN_MAX], c5[CLEAN_MAX];
	json_t *j;
	size_t i;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	if (a.state != NULL && strspn(a.state, "abcdefghijklmnopqrstuvwxyz") !=
	    strlen(a.state))
		return cli_cmd_usage_error(&a, "--state: a job state");
	snprintf(path, sizeof(path), "/api/jobs?limit=%lld%s%s",
	    a.limit > 0 ? a.limit : 100, a.state ? "&state=" : "",
	    a.state ? a.state : "");
	if (cli_api_call(&a.o, EVHTTP_REQ_GET, path, NULL, &r) != 0) {
		fprintf(stderr, "agentflow: jobs: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a.o.json) {
		cli_api_print_json(r.body);
	} else {
		/* Every issuer's jobs (the mesh's view): whose each is. */
		printf("%-18s %-10s %-16s %-16s %5s %-16s %s\n", "ID", "STATE",
		    "TASK", "NODE", "EPOCH", "ISSUER", "SUBMITTED");
		json_array_foreach(json_object_get(r.body, "jobs"), i, j)
			printf("%-18s %-10s %-16s %-16s %5lld %-16s %s\n",
			    CLEAN(j, "id", "?", c1), CLEAN(j, "state", "?", c2),
			    CLEAN(j, "task", "(ad-hoc)", c3),
			    CLEAN(j, "node", "-", c4),
			    (long long)json_integer_value(json_object_get(j, "epoch")),
			    CLEAN(j, "issuer", "?", c5),
			    cli_fmt_ago(json_object_get(j, "submitted_ms"), ago,
			    sizeof(ago)));
	}
	json_decref(r.body);
	return 0;
}

int
cli_jobs_trace(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	json_t *h, *job, *story;
	char c1[CLEAN_MAX], c2[CLEAN_MAX], c3[CLEAN_MAX], c4[CLEAN_MAX];
	char c5[CLEAN_MAX], c6[CLEAN_MAX];
	size_t i;
	int rc;

	if ((job = fetch_job(e, argc, argv, &a, &rc)) == NULL)
		return rc;
	/* The issuer's history, appended in time order. */
	story = json_object_get(job, "history");
	if (a.o.json)
		if (story != NULL)
			cli_api_print_json(story);
		else
			printf("[]\n");
	else {
		printf("%s %s: %s (to %s) issued on %s by %s\n",
		    CLEAN(job, "id", "?", c1), CLEAN(job, "state", "?", c2),
		    CLEAN(job, "task", "(ad-hoc)", c3), CLEAN(job, "to", "?", c4),
		    CLEAN(job, "issuer", "?", c5),
		    CLEAN(job, "principal", "?", c6));
		json_array_foreach(story, i, h)
			print_entry(h, 1);
	}
	json_decref(job);
	return 0;
}
