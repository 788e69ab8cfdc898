/*
 * Taking a workflow over when its coordinator is gone (issue 17 item 3;
 * docs/workflows.md "When the coordinator dies").
 *
 * Every WorkflowUpdate a coordinator sends while the workflow is not
 * final carries a handover (mesh.proto: the definition, the budget's
 * deadline, each step's result and tries), so every node holds what it
 * needs to go on.  Once a second each node looks at the open workflows
 * of the mesh's view (sync_workflows_open); it takes one over when all
 * of these hold:
 *
 *   - its coordinator is not alive and nothing was heard from it for
 *     --workflow-takeover-ms;
 *   - this node has seen a majority of the known members alive for
 *     WORKFLOWS_SETTLE_MS without a break (quorum.h);
 *   - this node is the rendezvous owner of "workflow/ID" among the alive
 *     members (quorum_owner): nodes that see alike pick the same taker.
 *
 * The taker stores the workflow as its own with coordinator epoch + 1
 * and announces it; from then on the mesh's view shows the highest
 * epoch (sync_workflows.h).  A step the old coordinator had running is
 * submitted again under the same attempt's idempotency key to the node
 * it ran on (the epoch in its job id): that node's run answers it, with
 * the result it has or will have (job_runs.h), so the result is taken
 * once and the step does not run twice.  A step placed "any" whose node
 * is gone too runs again elsewhere.
 *
 * Fencing.  A coordinator moves its workflows only while it sees a
 * majority of the known members (and, after a start, for a second
 * first), and steps down as soon as the view shows a higher epoch for
 * one: the row is left as history naming the new coordinator, its
 * queued step jobs are cancelled (dispatched ones are left to run: the
 * taker's re-submission is answered by them).  The jobs module asks
 * before it sends a step's job or places one again (jobs_set_gate,
 * workflows_takeover_gate): held without a majority, or once the
 * workflow is not ours or a higher epoch is in view.  In a partition only the
 * side with a majority can take over, and a coordinator on the other
 * side stops moving before the takeover time has passed, so two nodes
 * never both advance one workflow — as long as --workflow-takeover-ms
 * is longer than it takes the minority side to see its peers not alive
 * (three status periods, --status-ms).
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_WORKFLOWS_TAKEOVER_H
#define AGENTFLOW_WORKFLOWS_TAKEOVER_H

#include <jansson.h>

#define WORKFLOWS_SETTLE_MS	3000	/* a majority in sight this long */
#define WORKFLOWS_RESUME_MS	1000	/* after a start, before moving */

/*
 * The handover's definition (the checked form workflow_spec_check
 * returns) is shaped as one: 0, or -1 with err.  A peer's handover is
 * hostile input like any.
 */
int workflows_takeover_check(const json_t *definition, char *err,
    size_t errlen);

#endif
