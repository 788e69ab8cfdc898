/*
 * A schedule's definition checked (schedule_spec.h).  Each field's check
 * adds to one list of errors and goes on, so one answer lists them all;
 * the definition is built only when the list stays empty.  The job is
 * jobs_spec_parse's to check (one rule, one place): its one error is
 * listed under "job".
 */
#include "schedule_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "jobs_spec.h"
#include "workflow_spec.h"
#include "json_check.h"
#include "node_id.h"
#include "opts.h"
#include "text.h"

static void
add(json_t *errors, const char *path, const char *msg)
{
	char m[512];

	/* Cut at a byte count a character may be split: as text JSON takes. */
	snprintf(m, sizeof(m), "%s", msg);
	text_sanitize(m, strlen(m));
	json_array_append_new(errors, json_pack("{s:s, s:s}", "path", path,
	    "error", m));
}

static const char *
word(const json_t *def, const char *field, const char *const names[],
    size_t n, json_t *errors, const char *want)
{
	const json_t *v = json_object_get(def, field);

	if (v == NULL)
		return names[0];
	for (size_t i = 0; i < n; i++)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    names[i]) == 0)
			return names[i];
	/* The CLI's spelling of run_once is taken too. */
	if (json_is_string(v) && strcmp(json_string_value(v), "run-once") == 0)
		return "run_once";
	add(errors, field, want);
	return NULL;
}

static void
check_job(const json_t *job, const json_t *tasks, json_t *errors)
{
	const char *task;
	char err[512];
	json_t *rec;
	int status;

	if (job == NULL) {
		add(errors, "job", "required: the job each fire submits, as POST "
		    "/api/jobs takes it");
		return;
	}
	if (json_is_object(job) && json_object_get(job, "key") != NULL)
		add(errors, "job.key", "set by the schedule (schedule:NAME:FIRE_MS)");
	if ((rec = jobs_spec_parse(job, &status, err, sizeof(err))) == NULL) {
		char path[80];

		/* jobs_spec_parse's messages start with the field. */
		snprintf(path, sizeof(path), "job.%.*s", (int)strcspn(err, ":"),
		    err);
		add(errors, strchr(err, ':') != NULL ? path : "job", err);
		return;
	}
	task = json_string_value(json_object_get(rec, "task"));
	if (task != NULL && tasks != NULL && json_object_get(tasks, task) == NULL) {
		snprintf(err, sizeof(err), "no task named \"%s\" is defined here",
		    task);
		add(errors, "job.task", err);
	}
	json_decref(rec);
}

/* "workflow": {definition, set?}: the definition as POST /api/workflows
 * checks it, its errors listed under workflow.definition. */
static void
check_workflow(const json_t *w, json_t *errors)
{
	const json_t *set = json_object_get(w, "set");
	json_t *errs = NULL, *e, *checked;
	const char *k, *path;
	char p[256];
	size_t i;

	if (!json_is_object(w)) {
		add(errors, "workflow", "{definition, set?}: the workflow each "
		    "fire runs, as POST /api/workflows takes it");
		return;
	}
	json_object_foreach((json_t *)w, k, e)
		if (strcmp(k, "definition") != 0 && strcmp(k, "set") != 0) {
			snprintf(p, sizeof(p), "workflow.%s", k);
			add(errors, p, "not a field of a scheduled workflow "
			    "(definition, set)");
		}
	if (set != NULL && !json_is_object(set)) {
		add(errors, "workflow.set", "an object of KEY: \"value\"");
		set = NULL;
	}
	if (json_object_get(w, "definition") == NULL) {
		add(errors, "workflow.definition", "required: the workflow each "
		    "fire runs, as POST /api/workflows takes it");
		return;
	}
	checked = workflow_spec_check(json_object_get(w, "definition"), set,
	    &errs);
	json_decref(checked);
	json_array_foreach(errs, i, e) {
		path = json_string_value(json_object_get(e, "path"));
		snprintf(p, sizeof(p), "workflow.definition%s%s", path != NULL &&
		    path[0] != '\0' && path[0] != '[' ? "." : "", path != NULL ?
		    path : "");
		add(errors, p, json_string_value(json_object_get(e, "error")));
	}
	json_decref(errs);
}

json_t *
schedule_spec_check(const json_t *def, const json_t *tasks, json_t **errors)
{
	static const char *const known[] = { "name", "cron", "tz", "job",
	    "workflow", "misfire", "grace", "overlap", "paused" };
	static const char *const misfires[] = { "skip", "run_once" };
	static const char *const overlaps[] = { "skip", "queue", "allow" };
	const json_t *name, *cr, *tz, *grace, *paused;
	const char *misfire, *overlap, *k;
	json_t *errs = json_array(), *out, *v;
	char err[256];
	long grace_s = -1;
	size_t len;

	*errors = NULL;
	if (!json_is_object(def)) {
		add(errs, "", "a JSON object {name, cron, tz?, job | workflow, "
		    "misfire?, grace?, overlap?, paused?}");
		*errors = errs;
		return NULL;
	}
	json_object_foreach((json_t *)def, k, v) {
		size_t i = 0;

		while (i < sizeof(known) / sizeof(known[0]) &&
		    strcmp(k, known[i]) != 0)
			i++;
		if (i < sizeof(known) / sizeof(known[0]))
			continue;
		snprintf(err, sizeof(err), "not a field of a schedule (name, "
		    "cron, tz, job, workflow, misfire, grace, overlap, paused)");
		add(errs, k, err);
	}
	name = json_object_get(def, "name");
	if (!json_check_text(name, 1, 63, true) ||
	    !node_id_valid(json_string_value(name), json_string_length(name)))
		add(errs, "name", "required: 1-63 characters of [A-Za-z0-9._-]");
	cr = json_object_get(def, "cron");
	tz = json_object_get(def, "tz");
	if (tz != NULL && (!json_is_string(tz) ||
	    !cron_tz_valid(json_string_value(tz)))) {
		add(errs, "tz", "no such zone: UTC or an IANA name such as "
		    "Europe/Berlin");
		tz = NULL;
	}
	if (!json_is_string(cr))
		add(errs, "cron", "required: \"M H DOM MON DOW\", a macro "
		    "(@daily, ...) or \"@every DURATION\"");
	else {
		struct cron *c = cron_parse(json_string_value(cr),
		    json_string_value(tz), err, sizeof(err));
		if (c == NULL)
			add(errs, "cron", err);
		cron_free(c);
	}
	if (json_object_get(def, "workflow") == NULL)
		check_job(json_object_get(def, "job"), tasks, errs);
	else if (json_object_get(def, "job") != NULL)
		add(errs, "workflow", "a schedule fires a job or a workflow, "
		    "not both");
	else
		check_workflow(json_object_get(def, "workflow"), errs);
	misfire = word(def, "misfire", misfires, 2, errs,
	    "\"skip\" or \"run_once\"");
	overlap = word(def, "overlap", overlaps, 3, errs,
	    "\"skip\", \"queue\" or \"allow\"");
	grace = json_object_get(def, "grace");
	if (grace != NULL && (!json_is_string(grace) ||
	    opts_duration_parse(json_string_value(grace), &grace_s) != 0 ||
	    grace_s < 1 || grace_s > SCHEDULE_GRACE_MAX_S))
		add(errs, "grace", "a duration from 1s to 7d, as \"90s\", "
		    "\"10m\" or \"2h\"");
	paused = json_object_get(def, "paused");
	if (paused != NULL && !json_is_boolean(paused))
		add(errs, "paused", "true or false");
	if (json_array_size(errs) > 0) {
		*errors = errs;
		return NULL;
	}
	out = json_pack("{s:O, s:O, s:s, s:O, s:s, s:I, s:s, s:b}", "name", name,
	    "cron", cr, "tz", tz != NULL ? json_string_value(tz) : "UTC",
	    json_object_get(def, "job") != NULL ? "job" : "workflow",
	    json_object_get(def, json_object_get(def, "job") != NULL ? "job" :
	    "workflow"), "misfire", misfire, "grace_ms",
	    grace_s > 0 ? (json_int_t)grace_s * 1000 :
	    (json_int_t)SCHEDULE_GRACE_DEFAULT_MS, "overlap", overlap, "paused",
	    json_is_true(paused));
	char *text = json_dumps(out, JSON_COMPACT);
	len = text != NULL ? strlen(text) : SCHEDULE_SPEC_MAX + 1;
	free(text);
	if (len > SCHEDULE_SPEC_MAX) {
		snprintf(err, sizeof(err), "the definition is %zu bytes as "
		    "stored, at most %d (smaller)", len,
		    SCHEDULE_SPEC_MAX);
		add(errs, json_object_get(out, "job") != NULL ? "job.payload" :
		    "workflow.definition", err);
		json_decref(out);
		*errors = errs;
		return NULL;
	}
	json_decref(errs);
	return out;
}

enum schedule_misfire
schedule_spec_misfire(const json_t *def)
{
	const char *m = json_string_value(json_object_get(def, "misfire"));

	return m != NULL && strcmp(m, "run_once") == 0 ?
	    SCHEDULE_MISFIRE_RUN_ONCE : SCHEDULE_MISFIRE_SKIP;
}

enum schedule_overlap
schedule_spec_overlap(const json_t *def)
{
	const char *o = json_string_value(json_object_get(def, "overlap"));

	if (o != NULL && strcmp(o, "queue") == 0)
		return SCHEDULE_OVERLAP_QUEUE;
	if (o != NULL && strcmp(o, "allow") == 0)
		return SCHEDULE_OVERLAP_ALLOW;
	return SCHEDULE_OVERLAP_SKIP;
}
