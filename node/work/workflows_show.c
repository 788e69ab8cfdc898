/*
 * Workflows as the API and the mesh see them (workflows.h): a workflow
 * with its steps as shown, the list of ours, and the update that tells
 * the mesh of one.
 */
#include "workflows.h"
#include "workflows_priv.h"

#include "clock.h"
#include "node.h"
#include "store.h"
#include "store_workflows.h"
#include "workflows_events.h"

#define LIST_MAX	1000

/* A step as shown: its row with its definition's kind and needs, the
 * job's id as "job" and its duration. */
static json_t *
show_step(const struct wf *wf, const json_t *row)
{
	const json_t *def = wf_step_def(wf, json_string_value(json_object_get(
	    row, "name")));
	json_t *s = json_deep_copy(row);
	json_int_t start = json_integer_value(json_object_get(row, "started_ms"));
	json_int_t end = json_integer_value(json_object_get(row, "finished_ms"));

	json_object_del(s, "workflow_id");
	json_object_set(s, "kind", json_object_get(def, "kind"));
	json_object_set(s, "needs", json_object_get(def, "needs"));
	json_object_set(s, "job", json_object_get(row, "job_id"));
	if (json_object_get(def, "prompt") != NULL)
		json_object_set(s, "prompt", json_object_get(def, "prompt"));
	json_object_set_new(s, "duration_ms", start > 0 ? json_integer(
	    (end > 0 ? end : (json_int_t)clock_wall_ms()) - start) :
	    json_null());
	return s;
}

/* The workflow as the API shows it, without its history. */
static json_t *
wf_json(const struct wf *wf)
{
	json_t *out = json_deep_copy(wf->row), *steps = json_array(), *s;
	size_t i;

	json_array_foreach(wf->steps, i, s)
		json_array_append_new(steps, show_step(wf, s));
	json_object_set_new(out, "steps", steps);
	/* As the mesh's view names it (sync_workflow_json). */
	json_object_set(out, "epoch", json_object_get(wf->row,
	    "coordinator_epoch"));
	return out;
}

void
wf_publish(struct workflows *ws, const struct wf *wf, int seed)
{
	json_t *j = wf_json(wf);

	if (seed)
		workflows_events_seed(ws->n, j, workflow_state_done(wf->state));
	else
		workflows_events_changed(ws->n, j,
		    workflow_state_done(wf->state));
	json_decref(j);
}

json_t *
workflows_get(struct workflows *ws, const char *id)
{
	struct wf *wf = wf_load(ws, id);
	json_t *out, *h;

	if (wf == NULL)
		return NULL;
	out = wf_json(wf);
	h = json_array();
	store_workflow_history(ws->n->store, id, wf_load_cb, h);
	json_object_set_new(out, "history", h);
	wf_free(wf);
	return out;
}

json_t *
workflows_list(struct workflows *ws, const char *state, unsigned limit)
{
	json_t *a = json_array(), *w;
	size_t i;

	store_workflows_query(ws->n->store, state, limit != 0 && limit <
	    LIST_MAX ? limit : LIST_MAX, wf_load_cb, a);
	/* Summaries: the definition is the workflow's own page's.  One
	 * another node took over is that node's to list. */
	for (i = json_array_size(a); i-- > 0;)
		if (!wf_ours(ws, json_array_get(a, i)))
			json_array_remove(a, i);
	json_array_foreach(a, i, w) {
		json_object_set_new(w, "steps", json_integer((json_int_t)
		    json_array_size(json_object_get(json_object_get(w,
		    "definition"), "steps"))));
		json_object_del(w, "definition");
	}
	return a;
}
