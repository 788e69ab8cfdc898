/*
 * Our workflows to the mesh (workflows_events.h): the API's JSON of a
 * workflow cut down to a WorkflowUpdate.  Bounded as mesh.proto says: a
 * reason is cut; a name, state, id or node without the wire's syntax is
 * sent empty (the workflow's story stays whole on this node); and when
 * the whole is over FRAME_CODEC_MAX_WORKFLOW_BYTES the steps' needs are
 * left out (a receiver draws the steps without their edges) and then the
 * steps past what fits, never the workflow's own state.  Before either,
 * the handover (what a taker needs) is left out: a workflow that big
 * waits for its own coordinator.
 */
#include "workflows_events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "json_check.h"
#include "jobs_spec.h"
#include "node.h"
#include "node_id.h"
#include "sync.h"
#include "sync_workflows.h"
#include "xalloc.h"

typedef Agentflow__Mesh__V1__WorkflowUpdate WorkflowUpdate;
typedef Agentflow__Mesh__V1__WorkflowStepState StepState;

/* The update and what its pointers point into. */
struct wire {
	WorkflowUpdate	 u;
	StepState	*steps;
	StepState	**ptrs;
	char		**needs;	/* all steps' needs, one array */
	char		*handover;	/* owned; NULL: none */
	char		 reason[FRAME_CODEC_MAX_TEXT + 1];
};

/* An id (workflow, job, node): "" unless it has the syntax. */
/* Our own record's fields (json_check.h), as the message's strings. */
#define text(o, k)	((char *)json_text_of((o), (k)))
#define ms(o, k)	json_u64_of((o), (k))

static char *
id(const json_t *o, const char *k)
{
	char *s = text(o, k);

	return node_id_valid(s, strlen(s)) ? s : "";
}

/*
 * What a taker needs (workflows_takeover.h): the definition (its params
 * in it), the budget's deadline, and each step's result and tries.  NULL
 * for a final workflow: nothing is left to take over.
 */
static char *
handover(const json_t *wf, int final)
{
	json_t *h, *steps, *s;
	char *text;
	size_t i;

	if (final)
		return NULL;
	steps = json_object();
	json_array_foreach(json_object_get(wf, "steps"), i, s)
		if (json_is_string(json_object_get(s, "name")))
			json_object_set_new(steps, json_string_value(
			    json_object_get(s, "name")), json_pack("{s:O?, s:O?}",
			    "result", json_object_get(s, "result"), "tries",
			    json_object_get(s, "tries")));
	h = json_pack("{s:O?, s:O?, s:o}", "definition",
	    json_object_get(wf, "definition"), "budget_deadline_ms",
	    json_object_get(wf, "budget_deadline_ms"), "steps", steps);
	text = h != NULL ? json_dumps(h, JSON_COMPACT) : NULL;
	json_decref(h);
	return text;
}

static void
to_wire(const json_t *wf, int final, struct wire *w)
{
	const json_t *steps = json_object_get(wf, "steps");
	size_t n = json_array_size(steps), nneeds = 0, k = 0;

	if (n > FRAME_CODEC_MAX_WORKFLOW_STEPS)
		n = FRAME_CODEC_MAX_WORKFLOW_STEPS;
	for (size_t i = 0; i < n; i++)
		nneeds += json_array_size(json_object_get(json_array_get(steps,
		    i), "needs"));
	w->steps = xcalloc(n + 1, sizeof(*w->steps));
	w->ptrs = xcalloc(n + 1, sizeof(*w->ptrs));
	w->needs = xcalloc(nneeds + 1, sizeof(*w->needs));
	agentflow__mesh__v1__workflow_update__init(&w->u);
	w->u.workflow_id = id(wf, "id");
	w->u.name = text(wf, "name");
	w->u.state = text(wf, "state");
	w->u.principal = text(wf, "principal");
	w->u.epoch = ms(wf, "coordinator_epoch") != 0 ?
	    ms(wf, "coordinator_epoch") : 1;
	w->u.created_ms = ms(wf, "created_ms");
	w->u.updated_ms = ms(wf, "updated_ms");
	w->u.finished_ms = final ? (ms(wf, "finished_ms") != 0 ?
	    ms(wf, "finished_ms") : w->u.updated_ms) : 0;
	w->u.reason = jobs_clean_text(text(wf, "reason"), w->reason,
	    sizeof(w->reason));
	w->handover = handover(wf, final);
	w->u.handover_json = w->handover != NULL ? w->handover : "";
	for (size_t i = 0; i < n; i++) {
		const json_t *s = json_array_get(steps, i);
		const json_t *needs = json_object_get(s, "needs");
		StepState *st = &w->steps[i];

		agentflow__mesh__v1__workflow_step_state__init(st);
		st->name = text(s, "name");
		st->approval = strcmp(text(s, "kind"), "approval") == 0;
		st->state = text(s, "state");
		st->attempt = (uint32_t)ms(s, "attempt");
		st->job_id = id(s, "job");
		st->node = id(s, "node");
		st->started_ms = ms(s, "started_ms");
		st->finished_ms = ms(s, "finished_ms");
		st->decided_by = text(s, "approved_by");
		st->needs = &w->needs[k];
		for (size_t j = 0; j < json_array_size(needs) &&
		    j < FRAME_CODEC_MAX_STEP_NEEDS; j++)
			w->needs[k + st->n_needs++] = (char *)
			    json_string_value(json_array_get(needs, j));
		k += st->n_needs;
		/* A need that is not text would be a NULL string. */
		for (size_t j = 0; j < st->n_needs; j++)
			if (st->needs[j] == NULL)
				st->needs[j] = "";
		w->ptrs[i] = st;
	}
	w->u.steps = w->ptrs;
	w->u.n_steps = n;
	/* Over the wire's size: no handover (no node can take it over),
	 * then no edges, then fewer steps. */
	if (protobuf_c_message_get_packed_size(&w->u.base) >
	    FRAME_CODEC_MAX_WORKFLOW_BYTES)
		w->u.handover_json = "";
	if (protobuf_c_message_get_packed_size(&w->u.base) >
	    FRAME_CODEC_MAX_WORKFLOW_BYTES)
		for (size_t i = 0; i < n; i++)
			w->steps[i].n_needs = 0;
	while (w->u.n_steps > 0 && protobuf_c_message_get_packed_size(
	    &w->u.base) > FRAME_CODEC_MAX_WORKFLOW_BYTES)
		w->u.n_steps /= 2;
}

static void
wire_free(struct wire *w)
{
	free(w->steps);
	free(w->ptrs);
	free(w->needs);
	free(w->handover);
}

void
workflows_events_changed(struct node *n, const json_t *wf, int final)
{
	struct wire w;

	if (n->sync == NULL)
		return;
	to_wire(wf, final, &w);
	/* Refused (logged) only outside the bounds: the workflow goes on,
	 * unseen by the mesh until its next change. */
	sync_emit_workflow(n->sync, &w.u);
	wire_free(&w);
}

void
workflows_events_seed(struct node *n, const json_t *wf, int final)
{
	struct wire w;

	if (n->sync == NULL)
		return;
	to_wire(wf, final, &w);
	sync_workflows_seed(n->sync, &w.u);
	wire_free(&w);
}
