/*
 * The list command (see cli_list.h).  A list is its path, the key of the
 * array in the answer, a row of columns and an optional --state check;
 * the query is built from the filters given (--node, --state, --action,
 * --actor, --since, --limit, in that order).  A column is a title, a printf width
 * (negative: left-aligned; 0: the last, printed as it is) and how its
 * cell is made from a row; text other nodes wrote is cleaned and cut to
 * the column's cap.
 */
#include "cli_list.h"

#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_api.h"
#include "cli_cmd.h"
#include "cli_fmt.h"
#include "clock.h"
#include "mesh_names.h"

#define CELL_MAX	256
#define FILTER_MAX	128	/* --action, --actor */
#define REMOTE_WAIT_S	20
#define DETAILS_SHOWN	120

struct column;
typedef void (*cell_fn)(json_t *row, const struct column *, char *out,
    size_t len);

struct column {
	const char	*title;
	int		 width;
	const char	*key;		/* the row's field it shows */
	const char	*dflt;		/* when the field is missing */
	size_t		 cap;		/* longest text kept, + 1 */
	cell_fn		 cell;
};

#define COLUMNS_MAX	8

struct cli_list {
	const char	*path;		/* "/api/tasks" */
	const char	*key;		/* the answer's array */
	struct column	 columns[COLUMNS_MAX];	/* up to the first NULL title */
	int		(*state_parse)(const char *);	/* --state check, or NULL */
	const char	*state_what;	/* "a task state" */
};

/* --- cells ---------------------------------------------------------------- */

static void
cell_text(json_t *row, const struct column *c, char *out, size_t len)
{
	cli_fmt_clean(cli_fmt_str(row, c->key, c->dflt), out, c->cap < len ?
	    c->cap : len);
}

static void
cell_ago(json_t *row, const struct column *c, char *out, size_t len)
{
	cli_fmt_ago(json_object_get(row, c->key), out, len);
}

/* "  2/3  ": attempt of max_attempts. */
static void
cell_attempt(json_t *row, const struct column *c, char *out, size_t len)
{
	(void)c;
	snprintf(out, len, "%3" JSON_INTEGER_FORMAT "/%-3" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(row, "attempt")),
	    json_integer_value(json_object_get(row, "max_attempts")));
}

/* The signal that ended it, else the exit code of an ended task. */
static void
cell_exit(json_t *row, const struct column *c, char *out, size_t len)
{
	int state = mesh_names_task_state_parse(cli_fmt_str(row, "state", "?"));
	json_int_t sig = json_integer_value(json_object_get(row,
	    "term_signal"));

	(void)c;
	if (sig != 0)
		snprintf(out, len, "sig %" JSON_INTEGER_FORMAT, sig);
	else if (mesh_names_task_state_terminal(state) &&
	    state != MESH_TASK_STATE(CANCELLED))
		snprintf(out, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(row, "exit_code")));
	else
		snprintf(out, len, "-");
}

/* From the start to the end, or to now while it runs. */
static void
cell_took(json_t *row, const struct column *c, char *out, size_t len)
{
	json_t *s = json_object_get(row, "started_ms");
	json_t *f = json_object_get(row, "finished_ms");

	(void)c;
	if (json_is_integer(s))
		snprintf(out, len, "%.1fs", (double)((json_is_integer(f) ?
		    json_integer_value(f) : (json_int_t)clock_wall_ms()) -
		    json_integer_value(s)) / 1000.0);
	else
		snprintf(out, len, "-");
}

/* Local time of a ms timestamp. */
static void
cell_time(json_t *row, const struct column *c, char *out, size_t len)
{
	json_int_t ms = json_integer_value(json_object_get(row, c->key));
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, len, "-");
}

/* A JSON value on one line, cut with "..." past DETAILS_SHOWN. */
static void
cell_json(json_t *row, const struct column *c, char *out, size_t len)
{
	char *text = json_dumps(json_object_get(row, c->key), JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	cli_fmt_clean(text != NULL ? text : "", out, c->cap < len ? c->cap :
	    len);
	free(text);
	if (strlen(out) > DETAILS_SHOWN)
		memcpy(out + DETAILS_SHOWN - 3, "...", 4);
}

/* A token's state: revoked, expired or valid. */
static void
cell_token_state(json_t *row, const struct column *c, char *out, size_t len)
{
	(void)c;
	snprintf(out, len, "%s", json_is_true(json_object_get(row, "revoked")) ?
	    "revoked" : json_is_true(json_object_get(row, "expired")) ?
	    "expired" : "valid");
}

/* --- the lists -------------------------------------------------------------- */

const struct cli_list cli_list_tasks = {
	"/api/tasks", "tasks", {
		{ "NODE", -16, "node", "?", 80, cell_text },
		{ "TASK", -28, "task_id", "?", 80, cell_text },
		{ "NAME", -16, "name", "?", 80, cell_text },
		{ "STATE", -10, "state", "?", 32, cell_text },
		{ "ATTEMPT", 7, NULL, NULL, 0, cell_attempt },
		{ "EXIT", 6, NULL, NULL, 0, cell_exit },
		{ "STARTED", 12, "started_ms", NULL, 0, cell_ago },
		{ "TOOK", 10, NULL, NULL, 0, cell_took },
	}, mesh_names_task_state_parse, "a task state",
};

const struct cli_list cli_list_alerts = {
	"/api/alerts", "alerts", {
		{ "NODE", -16, "node", "?", 80, cell_text },
		{ "ALERT", -28, "alert_id", "?", 80, cell_text },
		{ "STATE", -13, "state", "?", 32, cell_text },
		{ "SEVERITY", -9, "severity", "?", 32, cell_text },
		{ "RULE", -20, "rule", "?", 80, cell_text },
		{ "FIRED", 12, "fired_ms", NULL, 0, cell_ago },
		{ "MESSAGE", 0, "message", "", 256, cell_text },
	}, mesh_names_alert_state_parse, "an alert state",
};

const struct cli_list cli_list_audit = {
	"/api/audit", "records", {
		{ "TIME", -19, "time_ms", NULL, 0, cell_time },
		{ "NODE", -16, "node", "?", 80, cell_text },
		{ "ACTION", -20, "action", "?", 64, cell_text },
		{ "ACTOR", -16, "actor", "?", 80, cell_text },
		{ "RESULT", -11, "result", "?", 32, cell_text },
		{ "DETAILS", 0, "details", NULL, 200, cell_json },
	}, NULL, NULL,
};

const struct cli_list cli_list_tokens = {
	"/api/tokens", "tokens", {
		{ "ID", -32, "id", "?", 40, cell_text },
		{ "NAME", -16, "name", "?", 80, cell_text },
		{ "ROLE", -6, "role", "?", 16, cell_text },
		{ "ISSUED", -19, "iat", NULL, 0, cell_time },
		{ "EXPIRES", -19, "exp", NULL, 0, cell_time },
		{ "KID", -16, "kid", "-", 17, cell_text },
		{ "STATE", 0, NULL, NULL, 0, cell_token_state },
	}, NULL, NULL,
};

/* --- the command ------------------------------------------------------------- */

static void
print_columns(const struct cli_list *l, json_t *row)
{
	char cell[CELL_MAX];

	for (size_t i = 0; i < COLUMNS_MAX && l->columns[i].title != NULL; i++) {
		const struct column *c = &l->columns[i];

		if (row != NULL)
			c->cell(row, c, cell, sizeof(cell));
		printf("%s%*s", i ? " " : "", c->width, row != NULL ? cell :
		    c->title);
	}
	printf("\n");
}

/* "?node=..&state=..&limit=.." from what was given, into q; action and
 * actor come URI-encoded. */
static void
query(char *q, size_t len, const struct cli_args *a, const char *action,
    const char *actor)
{
	size_t at = 0;

#define ADD(...) do {							\
	if (at < len)							\
		at += (size_t)snprintf(q + at, len - at, __VA_ARGS__);	\
} while (0)
	q[0] = '\0';
	if (a->node != NULL)
		ADD("%snode=%s", at ? "&" : "?", a->node);
	if (a->state != NULL)
		ADD("%sstate=%s", at ? "&" : "?", a->state);
	if (action != NULL)
		ADD("%saction=%s", at ? "&" : "?", action);
	if (actor != NULL)
		ADD("%sactor=%s", at ? "&" : "?", actor);
	if (a->since > 0)
		ADD("%ssince=%lld", at ? "&" : "?", a->since);
	if (a->limit > 0)
		ADD("%slimit=%lld", at ? "&" : "?", a->limit);
#undef ADD
}

int
cli_list_exec(const struct cmd_entry *e, int argc, char **argv)
{
	struct cli_args a;
	int rc;

	if (cli_cmd_parse(e, argc, argv, &a, &rc) < 0)
		return rc;
	return cli_list_run(e->data, &a);
}

/* A filter's text, checked and URI-encoded into *out (freed by the
 * caller): 0, 2 after a usage error, 1 out of memory. */
static int
filter(const struct cli_args *a, const char *name, const char *v, char **out)
{
	*out = NULL;
	if (v == NULL)
		return 0;
	if (v[0] == '\0' || strlen(v) > FILTER_MAX)
		return cli_cmd_usage_error(a, "--%s: 1-%d bytes, got \"%s\"", name,
		    FILTER_MAX, v);
	if ((*out = evhttp_encode_uri(v)) == NULL) {
		fprintf(stderr, "agentflow: out of memory\n");
		return 1;
	}
	return 0;
}

int
cli_list_run(const struct cli_list *l, struct cli_args *a)
{
	struct cli_reply r;
	char q[1024], path[1100], *action = NULL, *actor = NULL;
	json_t *v;
	size_t i;
	int rc;

	if (a->state != NULL && (l->state_parse == NULL ||
	    l->state_parse(a->state) == 0))
		return cli_cmd_usage_error(a, "--state: \"%s\" is not %s",
		    a->state, l->state_what != NULL ? l->state_what : "a state");
	if ((rc = filter(a, "action", a->action, &action)) != 0 ||
	    (rc = filter(a, "actor", a->actor, &actor)) != 0) {
		free(action);
		return rc;
	}
	query(q, sizeof(q), a, action, actor);
	free(action);
	free(actor);
	snprintf(path, sizeof(path), "%s%s", l->path, q);
	/* Another node's audit comes over the mesh: allow it the time. */
	if (cli_api_request(&a->o, EVHTTP_REQ_GET, path, NULL, REMOTE_WAIT_S,
	    &r) != 0) {
		fprintf(stderr, "agentflow: %s\n", r.error);
		json_decref(r.body);
		return 1;
	}
	if (a->o.json)
		cli_api_print_json(r.body);
	else {
		print_columns(l, NULL);
		json_array_foreach(json_object_get(r.body, l->key), i, v)
			if (json_is_object(v))
				print_columns(l, v);
		if (json_is_true(json_object_get(r.body, "truncated")))
			printf("(truncated: older records did not fit in one "
			    "answer; narrow with --since, --action or --actor)\n");
	}
	json_decref(r.body);
	return 0;
}
