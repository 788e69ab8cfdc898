/*
 * A workflow's definition, checked whole before anything runs: every
 * error at once, each with the path to the bad field.  Pure functions, no
 * node: the unit tests drive them directly, the API answers with them.
 *
 *   {
 *     "name": "nightly-backup",           1-63 of [A-Za-z0-9._-]
 *     "params": {"KEY": "default", ...},  optional; null: must be --set
 *     "budget": "2h",                     optional: the whole run's time
 *     "on_failure": "stop",               or "continue": branches that do
 *                                         not need a failed step go on
 *     "steps": [                          1-WORKFLOW_STEPS_MAX
 *       {"name": "collect", "task": "backup", "to": "any:role=storage",
 *        "payload": {...}, "timeout": "10m", "retries": 2,
 *        "backoff": "5s", "needs": []},
 *       {"name": "ok", "approval": {"prompt": "Prune?"},
 *        "needs": ["collect"]}
 *     ]
 *   }
 *
 * A step is a job (task or command, to, payload, at_most_once: as
 * jobs_spec_parse takes them; timeout is the job's deadline) or an
 * approval that waits for a person.  needs names earlier or later steps;
 * the edges must form a DAG (a cycle is refused, named).  Durations are
 * text: "90s", "10m", "2h", "7d" (opts_duration_parse).
 *
 * Strings in a payload may hold references, replaced when the step is
 * dispatched (workflow_spec_render): ${params.KEY} and
 * ${steps.NAME.result} or ${steps.NAME.result.FIELD...}, a step's JSON
 * result, where NAME must be a step this one needs, directly or through
 * others.  A string that is one reference whole becomes the referenced
 * value (any JSON); inside other text the value's text.  "$${" is a
 * literal "${"; a "${" with no closing "}" is refused.  A step's name is
 * 1-63 of [A-Za-z0-9_-] (no dot: references are read up to one).
 */
#ifndef AGENTFLOW_WORKFLOW_SPEC_H
#define AGENTFLOW_WORKFLOW_SPEC_H

#include <jansson.h>
#include <stddef.h>

#define WORKFLOW_STEPS_MAX	256
#define WORKFLOW_NEEDS_MAX	64
#define WORKFLOW_PARAMS_MAX	64
#define WORKFLOW_RETRIES_MAX	20
#define WORKFLOW_ERRORS_MAX	100	/* errors listed; the rest counted */
#define WORKFLOW_TEXT_MAX	1024	/* a prompt, a parameter's value */

/*
 * Checks definition def with the parameters set (object KEY → string,
 * may be NULL: --set KEY=VALUE).  Returns the definition as it will run
 * (new reference):
 *
 *   {name, params: {KEY: value}, budget_ms (0: none), on_failure,
 *    order: [step names, each after every step it needs],
 *    steps: [{name, kind: "job" | "approval", needs: [...],
 *             job?: the jobs_spec_parse fields but payload,
 *             payload?: the template, retries, backoff_ms, timeout_ms,
 *             prompt?}]}
 *
 * or NULL with *errors an array of {path, error} (new reference), at
 * most WORKFLOW_ERRORS_MAX of them and then {path: "", error: "N more"}.
 */
json_t *workflow_spec_check(const json_t *def, const json_t *set,
    json_t **errors);

/*
 * A step's payload template with its references replaced: params the
 * checked definition's, results an object step name → that step's JSON
 * result.  New reference, or NULL with err naming the reference.
 */
json_t *workflow_spec_render(const json_t *tmpl, const json_t *params,
    const json_t *results, char *err, size_t errlen);

#endif
