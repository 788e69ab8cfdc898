/*
 * The workflow routes (workflow_spec.h).  So far one:
 *
 *   POST /api/workflows/check {"definition": {...}, "set": {KEY: "v"}}
 *
 * checks a definition whole, changes nothing and answers 200 {valid:
 * true, workflow: the definition as it would run (order, durations in
 * ms, parameters filled)} or 400 {error: "invalid_workflow", message,
 * errors: [{path, error}, ...]} with every error at once.  Running,
 * coordinating and the people in the loop come with the next parts of
 * the workflows issue.
 */
#include <jansson.h>
#include <stdio.h>

#include "api_priv.h"
#include "http_json.h"
#include "json_check.h"
#include "workflow_spec.h"

void
api_workflows_check(const struct api_call *call)
{
	static const char *const known[] = { "definition", "set" };
	struct evhttp_request *req = call->req;
	json_t *body = http_body_json(req), *wf, *errors, *set;
	char msg[128];

	if (body == NULL)
		return;		/* answered */
	set = json_object_get(body, "set");
	if (!json_is_object(body) || json_object_get(body, "definition") == NULL ||
	    json_check_keys(body, known, 2) != NULL ||
	    (set != NULL && !json_is_object(set))) {
		http_reply_error(req, 400, "invalid_field", "body: {\"definition\": "
		    "{...}, \"set\"?: {KEY: \"value\"}}");
		json_decref(body);
		return;
	}
	if ((wf = workflow_spec_check(json_object_get(body, "definition"), set,
	    &errors)) == NULL) {
		snprintf(msg, sizeof(msg), "%zu error%s in the definition",
		    json_array_size(errors), json_array_size(errors) == 1 ? "" :
		    "s");
		http_reply_json(req, 400, json_pack("{s:s, s:s, s:o}", "error",
		    "invalid_workflow", "message", msg, "errors", errors));
	} else
		http_reply_json(req, 200, json_pack("{s:b, s:o}", "valid", 1,
		    "workflow", wf));
	json_decref(body);
}
