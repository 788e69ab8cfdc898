/*
 * The people's actions on a workflow (workflows.h's workflows_act): one
 * table row per action with the workflow states it is taken in, each
 * move written with its history in one transaction and audited with the
 * person's principal.  An action refused changes nothing: it answers
 * which state stood in the way.
 */
#include "workflows.h"
#include "workflows_priv.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "node.h"

struct act {
	struct workflows	*ws;
	struct wf		*wf;
	const char		*step;		/* NULL: none given */
	const char		*comment;	/* NULL: none given */
	const char		*who;
	char			*err;
	size_t			 errlen;
};

/* The step an action names, waiting for a person: NULL after err. */
static json_t *
waiting_step(struct act *a, int *status)
{
	json_t *s = wf_step(a->wf, a->step);

	if (s == NULL) {
		snprintf(a->err, a->errlen, "workflow %s has no step %s",
		    wf_id(a->wf), a->step);
		*status = 404;
		return NULL;
	}
	if (wf_step_state(s) != WFS_WAITING_APPROVAL) {
		snprintf(a->err, a->errlen, "step %s is %s, not waiting-approval",
		    a->step, workflow_step_state_name(wf_step_state(s)));
		*status = 409;
		return NULL;
	}
	return s;
}

static int
approve(struct act *a)
{
	json_t *s;
	int status;

	if ((s = waiting_step(a, &status)) == NULL)
		return status;
	json_object_set_new(s, "approved_by", json_string(a->who));
	json_object_set_new(s, "comment", a->comment != NULL ?
	    json_string(a->comment) : json_null());
	json_object_set_new(s, "result", json_pack("{s:s, s:s?}", "approved_by",
	    a->who, "comment", a->comment));
	wf_step_set(a->wf, s, WFS_SUCCEEDED, "approved", a->who);
	return 200;
}

static int
reject(struct act *a)
{
	char why[WORKFLOWS_COMMENT_MAX + 128];
	json_t *s;
	int status;

	if ((s = waiting_step(a, &status)) == NULL)
		return status;
	json_object_set_new(s, "comment", a->comment != NULL ?
	    json_string(a->comment) : json_null());
	snprintf(why, sizeof(why), "rejected by %s%s%s", a->who,
	    a->comment != NULL ? ": " : "", a->comment != NULL ? a->comment : "");
	wf_step_set(a->wf, s, WFS_FAILED, why, a->who);
	return 200;
}

static int
pause_wf(struct act *a)
{
	wf_set(a->wf, WF_PAUSED, "paused by request", a->who);
	return 200;
}

static int
resume_wf(struct act *a)
{
	wf_set(a->wf, WF_RUNNING, "resumed by request", a->who);
	return 200;
}

static int
cancel_wf(struct act *a)
{
	json_t *s;
	size_t i;

	json_array_foreach(a->wf->steps, i, s) {
		enum workflow_step_state st = wf_step_state(s);
		if (st == WFS_RUNNING || st == WFS_RETRYING ||
		    st == WFS_WAITING_APPROVAL)
			wf_step_cancel(a->ws, a->wf, s, "the workflow was "
			    "cancelled", a->who);
	}
	wf_set(a->wf, WF_CANCELLED, "cancelled by request", a->who);
	return 200;
}

static int
may_rerun(enum workflow_step_state s)
{
	return s == WFS_FAILED || s == WFS_CANCELLED || s == WFS_SKIPPED;
}

/* Whether step def needs one of the names in again (a JSON object). */
static int
after(const json_t *def, const json_t *again)
{
	json_t *need;
	size_t i;

	json_array_foreach(json_object_get(def, "needs"), i, need)
		if (json_object_get(again, json_string_value(need)) != NULL)
			return 1;
	return 0;
}

/* The failed (or the named) steps again, and every step after them that
 * did not succeed; succeeded steps are kept. */
static int
retry(struct act *a)
{
	json_t *again = json_object(), *s, *name;
	json_int_t budget;
	size_t i;

	if (a->step != NULL) {
		if ((s = wf_step(a->wf, a->step)) == NULL) {
			snprintf(a->err, a->errlen, "workflow %s has no step %s",
			    wf_id(a->wf), a->step);
			json_decref(again);
			return 404;
		}
		if (!may_rerun(wf_step_state(s))) {
			snprintf(a->err, a->errlen, "step %s is %s: a retry re-runs "
			    "a failed, cancelled or skipped step", a->step,
			    workflow_step_state_name(wf_step_state(s)));
			json_decref(again);
			return 409;
		}
		json_object_set_new(again, a->step, json_true());
	} else
		json_array_foreach(a->wf->steps, i, s)
			if (wf_step_state(s) == WFS_FAILED ||
			    wf_step_state(s) == WFS_CANCELLED)
				json_object_set(again, json_string_value(
				    json_object_get(s, "name")), json_true());
	/* In the order the steps run: a step after one again is again. */
	json_array_foreach(json_object_get(json_object_get(a->wf->row,
	    "definition"), "order"), i, name) {
		s = wf_step(a->wf, json_string_value(name));
		if (s != NULL && may_rerun(wf_step_state(s)) && after(wf_step_def(
		    a->wf, json_string_value(name)), again))
			json_object_set(again, json_string_value(name), json_true());
	}
	json_array_foreach(a->wf->steps, i, s) {
		if (json_object_get(again, json_string_value(json_object_get(s,
		    "name"))) == NULL || !may_rerun(wf_step_state(s)))
			continue;
		json_object_set_new(s, "tries", json_integer(0));
		json_object_set_new(s, "next_retry_ms", json_integer(0));
		json_object_set_new(s, "job_id", json_null());
		json_object_set_new(s, "result", json_null());
		json_object_set_new(s, "started_ms", json_integer(0));
		wf_step_set(a->wf, s, WFS_PENDING, "retried by request", a->who);
		json_object_set_new(s, "error", json_null());
	}
	json_decref(again);
	/* A new run, a new budget. */
	budget = json_integer_value(json_object_get(json_object_get(a->wf->row,
	    "definition"), "budget_ms"));
	json_object_set_new(a->wf->row, "budget_deadline_ms", json_integer(
	    budget > 0 ? (json_int_t)clock_wall_ms() + budget : 0));
	wf_set(a->wf, WF_RUNNING, "retried by request", a->who);
	return 200;
}

#define B(s)	(1u << (s))

static const struct action {
	const char	*name;
	int		 step;		/* 1: needs a step; 2: may take one */
	unsigned	 from;		/* the workflow states it is taken in */
	int		(*fn)(struct act *);
} actions[] = {
	{ "approve", 1, B(WF_RUNNING) | B(WF_PAUSED), approve },
	{ "reject", 1, B(WF_RUNNING) | B(WF_PAUSED), reject },
	{ "pause", 0, B(WF_RUNNING), pause_wf },
	{ "resume", 0, B(WF_PAUSED), resume_wf },
	{ "cancel", 0, B(WF_PENDING) | B(WF_RUNNING) | B(WF_PAUSED), cancel_wf },
	{ "retry", 2, B(WF_FAILED) | B(WF_CANCELLED) | B(WF_BUDGET_EXCEEDED),
	  retry },
};

/* "running or paused": the states an action is taken in. */
static void
states_text(unsigned from, char *buf, size_t len)
{
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	for (int s = 0; s < WF_NSTATES; s++)
		if (from & B(s)) {
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    n++ > 0 ? " or " : "", workflow_state_name(
			    (enum workflow_state)s));
			if (used >= len)
				return;
		}
}

int
workflows_act(struct workflows *ws, const char *id, const char *action,
    const char *step, const char *comment, const struct principal *p,
    char *err, size_t errlen)
{
	const struct action *ac = NULL;
	struct act a = { ws, NULL, step, comment, p != NULL ? p->name : "", err,
	    errlen };
	char states[96], what[64];
	int status;

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, action) == 0)
			ac = &actions[i];
	if (ac == NULL) {
		snprintf(err, errlen, "no action %.32s: approve, reject, pause, "
		    "resume, cancel or retry", action);
		return 404;
	}
	if (p != NULL && p->role < PRINCIPAL_WRITE) {
		snprintf(err, errlen, "%s needs the write role", action);
		return 403;
	}
	if ((ac->step == 1 && step == NULL) || (ac->step == 0 && step != NULL)) {
		snprintf(err, errlen, "%s %s", action, ac->step == 1 ?
		    "needs a step" : "takes no step");
		return 400;
	}
	if (comment != NULL && strlen(comment) > WORKFLOWS_COMMENT_MAX) {
		snprintf(err, errlen, "comment: at most %d bytes",
		    WORKFLOWS_COMMENT_MAX);
		return 400;
	}
	if ((a.wf = wf_load(ws, id)) == NULL) {
		snprintf(err, errlen, "no workflow %s on this node (a workflow is "
		    "served by its coordinator)", id);
		return 404;
	}
	if ((ac->from & B(a.wf->state)) == 0) {
		states_text(ac->from, states, sizeof(states));
		snprintf(err, errlen, "workflow %s is %s: %s needs it %s", id,
		    workflow_state_name(a.wf->state), action, states);
		wf_free(a.wf);
		return 409;
	}
	if ((status = ac->fn(&a)) == 200 && wf_save(ws, a.wf) != 0) {
		snprintf(err, errlen, "cannot store the workflow's move");
		status = 500;
	}
	if (status == 200) {
		snprintf(what, sizeof(what), "workflow.%s", action);
		audit_record(ws->n->audit, what, a.who, "ok", json_pack(
		    "{s:s, s:s?, s:s?}", "workflow_id", id, "step", step,
		    "comment", comment));
		workflows_kick(ws, id);
	}
	wf_free(a.wf);
	return status;
}
