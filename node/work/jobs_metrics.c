/*
 * Per-task job counters (jobs_hooks.h): the totals of jobs.c split by
 * task name, for /metrics.  Task names come from submitters, so the set
 * is bounded: the first JOBS_METRICS_TASKS names seen since the start
 * are told apart, every later one counts as "(other)".  Counters start at
 * zero with the process, like the totals.
 */
#include "jobs_hooks.h"

#include <string.h>

#include "hmap.h"
#include "node.h"
#include "store_jobs.h"

#define OTHER	"(other)"
#define ADHOC	"(ad-hoc)"

static const char *const what[JC_COUNT] = {
	"submitted", "dispatched", "redispatched", "fenced", "lost",
	"succeeded", "failed", "expired", "cancelled",
};

void
jobs_task_count(struct jobs *js, enum jobs_counter c, const json_t *rec)
{
	const char *task = json_string_value(json_object_get(rec, "task"));
	json_t *t;

	if (c >= JC_COUNT)
		return;
	if (js->by_task == NULL)
		js->by_task = json_object();
	if (task == NULL)
		task = ADHOC;
	if ((t = json_object_get(js->by_task, task)) == NULL) {
		/* The bound: JOBS_METRICS_TASKS names, then "(other)". */
		if (json_object_size(js->by_task) -
		    (json_object_get(js->by_task, OTHER) != NULL) >=
		    JOBS_METRICS_TASKS)
			task = OTHER;
		if ((t = json_object_get(js->by_task, task)) == NULL) {
			t = json_object();
			json_object_set_new(js->by_task, task, t);
		}
	}
	json_object_set_new(t, what[c], json_integer(json_integer_value(
	    json_object_get(t, what[c])) + 1));
}

static int
load_cb(void *arg, const char *text)
{
	json_t **out = arg;

	*out = json_loads(text, 0, NULL);
	return 0;
}

void
jobs_task_count_id(struct jobs *js, enum jobs_counter c, const char *job_id)
{
	struct job *j = hmap_get(js->open, job_id);
	json_t *rec = NULL;

	if (j != NULL) {
		jobs_task_count(js, c, j->rec);
		return;
	}
	if (store_job_get(js->n->store, job_id, NULL, load_cb, &rec) == 1)
		jobs_task_count(js, c, rec);
	json_decref(rec);
}

void
jobs_task_count_final(struct jobs *js, enum jobs_state s, const json_t *rec)
{
	switch (s) {
	case JOBS_SUCCEEDED: jobs_task_count(js, JC_SUCCEEDED, rec); break;
	case JOBS_FAILED: jobs_task_count(js, JC_FAILED, rec); break;
	case JOBS_EXPIRED: jobs_task_count(js, JC_EXPIRED, rec); break;
	case JOBS_LOST: jobs_task_count(js, JC_LOST, rec); break;
	case JOBS_CANCELLED: jobs_task_count(js, JC_CANCELLED, rec); break;
	default: break;
	}
}

json_t *
jobs_task_counters(struct jobs *js)
{
	json_t *o = js->by_task != NULL ? json_deep_copy(js->by_task) :
	    json_object(), *t;
	const char *task;

	/* Every counter of a task named, zeros included: a series that
	 * appears late reads as a reset. */
	json_object_foreach(o, task, t)
		for (int i = 0; i < JC_COUNT; i++)
			if (json_object_get(t, what[i]) == NULL)
				json_object_set_new(t, what[i], json_integer(0));
	return o;
}
