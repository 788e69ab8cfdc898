/*
 * Workflow and step states (see workflow_state.h): names, and the
 * allowed moves as one bit mask per state, read off the header's tables.
 */
#include "workflow_state.h"

#include <stddef.h>
#include <string.h>

#define B(s)	(1u << (s))

static const char *const wf_names[WF_NSTATES] = {
	[WF_PENDING] = "pending",
	[WF_RUNNING] = "running",
	[WF_PAUSED] = "paused",
	[WF_SUCCEEDED] = "succeeded",
	[WF_FAILED] = "failed",
	[WF_CANCELLED] = "cancelled",
	[WF_BUDGET_EXCEEDED] = "budget-exceeded",
};

static const unsigned wf_moves[WF_NSTATES] = {
	[WF_PENDING] = B(WF_RUNNING) | B(WF_CANCELLED),
	[WF_RUNNING] = B(WF_PAUSED) | B(WF_SUCCEEDED) | B(WF_FAILED) |
	    B(WF_CANCELLED) | B(WF_BUDGET_EXCEEDED),
	[WF_PAUSED] = B(WF_RUNNING) | B(WF_SUCCEEDED) | B(WF_FAILED) |
	    B(WF_CANCELLED) | B(WF_BUDGET_EXCEEDED),
	[WF_SUCCEEDED] = 0,
	[WF_FAILED] = B(WF_RUNNING),
	[WF_CANCELLED] = B(WF_RUNNING),
	[WF_BUDGET_EXCEEDED] = B(WF_RUNNING),
};

static const char *const step_names[WFS_NSTATES] = {
	[WFS_PENDING] = "pending",
	[WFS_RUNNING] = "running",
	[WFS_RETRYING] = "retrying",
	[WFS_WAITING_APPROVAL] = "waiting-approval",
	[WFS_SUCCEEDED] = "succeeded",
	[WFS_FAILED] = "failed",
	[WFS_CANCELLED] = "cancelled",
	[WFS_SKIPPED] = "skipped",
};

static const unsigned step_moves[WFS_NSTATES] = {
	[WFS_PENDING] = B(WFS_RUNNING) | B(WFS_WAITING_APPROVAL) |
	    B(WFS_FAILED) | B(WFS_SKIPPED) | B(WFS_CANCELLED),
	[WFS_RUNNING] = B(WFS_SUCCEEDED) | B(WFS_RETRYING) | B(WFS_FAILED) |
	    B(WFS_CANCELLED),
	[WFS_RETRYING] = B(WFS_RUNNING) | B(WFS_FAILED) | B(WFS_CANCELLED),
	[WFS_WAITING_APPROVAL] = B(WFS_SUCCEEDED) | B(WFS_FAILED) |
	    B(WFS_CANCELLED),
	[WFS_SUCCEEDED] = 0,
	[WFS_FAILED] = B(WFS_PENDING),
	[WFS_CANCELLED] = B(WFS_PENDING),
	[WFS_SKIPPED] = B(WFS_PENDING),
};

static int
parse(const char *s, const char *const names[], int n)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *
workflow_state_name(enum workflow_state s)
{
	return (unsigned)s < WF_NSTATES ? wf_names[s] : NULL;
}

int
workflow_state_parse(const char *s)
{
	return parse(s, wf_names, WF_NSTATES);
}

int
workflow_state_done(enum workflow_state s)
{
	return s == WF_SUCCEEDED || s == WF_FAILED || s == WF_CANCELLED ||
	    s == WF_BUDGET_EXCEEDED;
}

int
workflow_state_may(enum workflow_state from, enum workflow_state to)
{
	return (unsigned)from < WF_NSTATES && (unsigned)to < WF_NSTATES &&
	    (wf_moves[from] & B(to)) != 0;
}

const char *
workflow_step_state_name(enum workflow_step_state s)
{
	return (unsigned)s < WFS_NSTATES ? step_names[s] : NULL;
}

int
workflow_step_state_parse(const char *s)
{
	return parse(s, step_names, WFS_NSTATES);
}

int
workflow_step_state_done(enum workflow_step_state s)
{
	return s == WFS_SUCCEEDED || s == WFS_FAILED || s == WFS_CANCELLED ||
	    s == WFS_SKIPPED;
}

int
workflow_step_state_may(enum workflow_step_state from,
    enum workflow_step_state to)
{
	return (unsigned)from < WFS_NSTATES && (unsigned)to < WFS_NSTATES &&
	    (step_moves[from] & B(to)) != 0;
}
