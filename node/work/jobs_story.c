/*
 * The executor's record in a job's story (jobs_hooks.h).  The issuer's
 * history says what the issuer saw: dispatched, running (when the
 * executor answered), the result.  The executor's own clock says more:
 * when its run was queued, started and finished, in the TaskUpdate events
 * it broadcasts, which every node keeps per origin in its tasks table.
 * A run is found by (node, task_id) from the history and the record, and
 * taken only when its task carries a JOB_RUN command id this issuer sent
 * for the job ("run_commands", written as each dispatch is sent), so a
 * task id a peer misreported cannot put another task in the story.
 * Nothing is stored: the entries are made at each read.
 */
#include "jobs_hooks.h"
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "store_work.h"
#include "xalloc.h"

/* JOB_RUN ids kept per job: a dispatch is resent with a new command
 * while unanswered, and a job moves at most a few times. */
#define RUN_COMMANDS_MAX	64
/* Runs looked up per read. */
#define RUNS_MAX		16

void
jobs_story_sent(struct jobs *js, struct job *j, const char *command_id)
{
	json_t *rc = json_object_get(j->rec, "run_commands");

	if (!json_is_object(rc)) {
		rc = json_object();
		json_object_set_new(j->rec, "run_commands", rc);
	}
	if (json_object_size(rc) >= RUN_COMMANDS_MAX)
		return;
	/* {command id: epoch}: what a task's command_id is looked up by. */
	json_object_set(rc, command_id, json_object_get(j->rec, "epoch"));
	jobs_persist(js, j);
}

static int
task_cb(void *arg, const char *text)
{
	json_t **out = arg;

	if (*out == NULL)
		*out = json_loads(text, 0, NULL);
	return 0;
}

/* The executor's entry for one moment of task t (NULL when it has none). */
static json_t *
entry(const json_t *t, const char *when, const char *event, json_int_t epoch)
{
	json_t *e, *ms = json_object_get(t, when);

	if (!json_is_integer(ms) || json_integer_value(ms) <= 0)
		return NULL;
	e = json_pack("{s:O, s:s, s:O, s:s, s:O, s:I, s:O, s:O}", "time_ms", ms,
	    "event", event, "by", json_object_get(t, "node"), "source",
	    "executor", "node", json_object_get(t, "node"), "epoch", epoch,
	    "task_id", json_object_get(t, "task_id"), "attempt",
	    json_object_get(t, "attempt"));
	if (strcmp(event, "finished") == 0) {
		json_object_set(e, "state", json_object_get(t, "state"));
		json_object_set(e, "exit_code", json_object_get(t, "exit_code"));
		if (json_integer_value(json_object_get(t, "term_signal")) > 0)
			json_object_set(e, "term_signal", json_object_get(t,
			    "term_signal"));
		if (json_is_string(json_object_get(t, "reason")) &&
		    json_string_length(json_object_get(t, "reason")) > 0)
			json_object_set(e, "reason", json_object_get(t, "reason"));
	}
	return e;
}

/* Adds the entries of the run (node, task_id) to out, once per run. */
static void
add_run(struct jobs *js, const json_t *rec, const char *node,
    const char *task_id, json_t *seen, json_t *out)
{
	struct store_task_query tq = { 0 };
	json_t *t = NULL, *cmds = json_object_get(rec, "run_commands"), *ep, *e;
	const char *cid;
	char key[256];
	static const char *const moments[][2] = { { "queued_ms", "queued" },
	    { "started_ms", "started" }, { "finished_ms", "finished" } };

	snprintf(key, sizeof(key), "%s/%s", node, task_id);
	if (json_object_get(seen, key) != NULL ||
	    json_object_size(seen) >= RUNS_MAX)
		return;
	json_object_set_new(seen, key, json_true());
	tq.node = node;
	tq.task_id = task_id;
	tq.limit = 1;
	if (store_tasks_query(js->n->store, &tq, task_cb, &t) < 0 || t == NULL)
		return;
	cid = json_string_value(json_object_get(t, "command_id"));
	if (cid == NULL || (ep = json_object_get(cmds, cid)) == NULL) {
		json_decref(t);
		return;
	}
	for (size_t i = 0; i < sizeof(moments) / sizeof(moments[0]); i++) {
		/* Only a run that ended has a finish time worth telling. */
		if (i == 2 && json_is_string(json_object_get(t, "state")) &&
		    (strcmp(json_string_value(json_object_get(t, "state")),
		    "running") == 0 || strcmp(json_string_value(
		    json_object_get(t, "state")), "queued") == 0))
			continue;
		if ((e = entry(t, moments[i][0], moments[i][1],
		    json_integer_value(ep))) != NULL)
			json_array_append_new(out, e);
	}
	json_decref(t);
}

struct sorted {
	json_t	*e;
	size_t	 i;
};

static int
cmp_time(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;
	json_int_t tx = json_integer_value(json_object_get(x->e, "time_ms"));
	json_int_t ty = json_integer_value(json_object_get(y->e, "time_ms"));

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void
jobs_story_merge(struct jobs *js, json_t *rec)
{
	json_t *h = json_object_get(rec, "history"), *seen, *extra, *e, *all;
	const char *node, *tid;
	struct sorted *s;
	size_t i, n;

	if (!json_is_array(h) || !json_is_object(json_object_get(rec,
	    "run_commands")))
		return;
	seen = json_object();
	extra = json_array();
	json_array_foreach(h, i, e) {
		node = json_string_value(json_object_get(e, "node"));
		tid = json_string_value(json_object_get(e, "task_id"));
		if (node != NULL && tid != NULL)
			add_run(js, rec, node, tid, seen, extra);
	}
	node = json_string_value(json_object_get(rec, "node"));
	tid = json_string_value(json_object_get(rec, "task_id"));
	if (node != NULL && tid != NULL)
		add_run(js, rec, node, tid, seen, extra);
	json_decref(seen);
	if (json_array_size(extra) == 0) {
		json_decref(extra);
		return;
	}
	/* The issuer's entries first among equal times: stable by index. */
	all = json_array();
	json_array_extend(all, h);
	json_array_extend(all, extra);
	json_decref(extra);
	n = json_array_size(all);
	s = xcalloc(n, sizeof(*s));
	json_array_foreach(all, i, e) {
		s[i].e = e;
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cmp_time);
	h = json_array();
	for (i = 0; i < n; i++)
		json_array_append(h, s[i].e);
	free(s);
	json_decref(all);
	json_object_set_new(rec, "history", h);
}
