/*
 * The states a workflow and its steps move through on their coordinator
 * (workflows.h), and the one rule of which moves are allowed.  Pure: no
 * node, no store; the unit tests drive it directly and workflows.c
 * CHECKs every move against it.
 *
 * A workflow:
 *
 *   state            entered by                        left by
 *   pending          workflows_run (stored)            start → running
 *                                                      cancel → cancelled
 *   running          start; resume; retry              pause → paused
 *                                                      every step succeeded
 *                                                        → succeeded
 *                                                      a step failed and
 *                                                        nothing runs → failed
 *                                                      cancel → cancelled
 *                                                      budget → budget-exceeded
 *   paused           pause (running steps go on,       resume → running
 *                    nothing new is dispatched)        the steps end as above
 *                                                        → succeeded | failed
 *                                                      cancel → cancelled
 *                                                      budget → budget-exceeded
 *   failed,          as above                          retry → running
 *   cancelled,
 *   budget-exceeded
 *   succeeded        final: never left
 *
 * A step:
 *
 *   state             entered by                      left by
 *   pending           stored; a retry of the          its needs succeeded:
 *                     workflow                          job → running,
 *                                                       approval →
 *                                                       waiting-approval
 *                                                     its job cannot be
 *                                                       submitted → failed
 *                                                     a need failed
 *                                                       (continue) → skipped
 *                                                     cancel, budget → cancelled
 *   running           its job submitted (job id       job succeeded → succeeded
 *                     stored in the same write)       job failed, tries left
 *                                                       → retrying
 *                                                     job failed → failed
 *                                                     cancel, budget → cancelled
 *   retrying          a failed job with tries left    backoff over → running
 *                                                     its job cannot be
 *                                                       submitted → failed
 *                                                     cancel, budget, another
 *                                                       step failed (stop)
 *                                                       → cancelled
 *   waiting-approval  its needs succeeded             approve → succeeded
 *                                                     reject, timeout → failed
 *                                                     cancel, budget, another
 *                                                       step failed (stop)
 *                                                       → cancelled
 *   failed, skipped,  as above                        the workflow's retry
 *   cancelled                                           → pending
 *   succeeded         final: a retry keeps it
 */
#ifndef AGENTFLOW_WORKFLOW_STATE_H
#define AGENTFLOW_WORKFLOW_STATE_H

enum workflow_state {
	WF_PENDING,
	WF_RUNNING,
	WF_PAUSED,
	WF_SUCCEEDED,
	WF_FAILED,
	WF_CANCELLED,
	WF_BUDGET_EXCEEDED,
	WF_NSTATES
};

enum workflow_step_state {
	WFS_PENDING,
	WFS_RUNNING,
	WFS_RETRYING,
	WFS_WAITING_APPROVAL,
	WFS_SUCCEEDED,
	WFS_FAILED,
	WFS_CANCELLED,
	WFS_SKIPPED,
	WFS_NSTATES
};

/* "pending", "budget-exceeded", ...; NULL for a value out of range. */
const char *workflow_state_name(enum workflow_state);
/* The state named s (NULL allowed), or -1. */
int workflow_state_parse(const char *s);
/* 1 when nothing moves the workflow on by itself (succeeded, failed,
 * cancelled, budget-exceeded): only a retry leaves the last three. */
int workflow_state_done(enum workflow_state);
/* Whether a workflow may move from one state to another (the table). */
int workflow_state_may(enum workflow_state from, enum workflow_state to);

const char *workflow_step_state_name(enum workflow_step_state);
int workflow_step_state_parse(const char *s);
/* 1 for succeeded, failed, cancelled and skipped: nothing runs. */
int workflow_step_state_done(enum workflow_step_state);
int workflow_step_state_may(enum workflow_step_state from,
    enum workflow_step_state to);

#endif
