/*
 * POST /api/purge {"older_than": "30d"} (admin): removes this node's
 * records older than that (store_work_purge: finished tasks and their
 * logs, command records, resolved alerts, events; settled jobs with
 * store_jobs_purge, as --retain-jobs does; workflows done with
 * store_workflows_trim), answers how many of
 * each went, and audits it.  At-most-once ids younger than
 * SEEN_KEEP_MS stay whatever is asked: a command's copy still travelling
 * must not run a second time.  The audit log is never purged; it rotates
 * by size (audit.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api_priv.h"
#include "clock.h"
#include "http_json.h"
#include "node.h"
#include "opts.h"
#include "store.h"
#include "store_jobs.h"
#include "store_workflows.h"
#include "store_work.h"

#define OLDER_THAN_MIN_S	3600
/* Commands older than 7 days are refused (command_sign.c); a day more. */
#define SEEN_KEEP_MS		(8LL * 24 * 3600 * 1000)

void
api_purge_post(const struct api_call *call)
{
	struct evhttp_request *req = call->req;
	json_t *body = http_body_json(req), *v, *out;
	struct store_purged p;
	uint64_t jobs = 0, workflows = 0;
	int64_t now = (int64_t)clock_wall_ms(), cutoff, seen;
	const char *text;
	long s;

	if (body == NULL)
		return;		/* answered */
	v = json_object_get(body, "older_than");
	text = json_string_value(v);
	if (!json_is_object(body) || json_object_size(body) != 1 ||
	    text == NULL || opts_duration_parse(text, &s) != 0 ||
	    s < OLDER_THAN_MIN_S) {
		http_reply_error(req, 400, "invalid_field", "older_than: a "
		    "duration of at least 1h, e.g. \"30d\", \"12h\", \"2w\"");
		json_decref(body);
		return;
	}
	cutoff = now - (int64_t)s * 1000;
	seen = cutoff < now - SEEN_KEEP_MS ? cutoff : now - SEEN_KEEP_MS;
	if (store_work_purge(call->n->store, cutoff, seen, &p) != 0 ||
	    store_jobs_purge(call->n->store, cutoff, &jobs) != 0 ||
	    store_workflows_trim(call->n->store, cutoff, call->n->id,
	    &workflows) != 0) {
		http_reply_error(req, 500, "store", "purge stopped: %s",
		    store_error(call->n->store));
		api_audit(call, "purge", "error", json_pack("{s:s}", "older_than",
		    text));
		json_decref(body);
		return;
	}
	out = json_pack("{s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "older_than", text, "cutoff_ms", (json_int_t)cutoff, "removed",
	    "tasks", (json_int_t)p.tasks, "task_logs", (json_int_t)p.task_logs,
	    "commands", (json_int_t)p.commands, "commands_seen",
	    (json_int_t)p.commands_seen, "alerts", (json_int_t)p.alerts,
	    "events", (json_int_t)p.events);
	/* Settled jobs and their history (store_jobs.h), as --retain-jobs. */
	json_object_set_new(json_object_get(out, "removed"), "jobs",
	    json_integer((json_int_t)jobs));
	/* Workflows done, with their steps and history (store_workflows.h). */
	json_object_set_new(json_object_get(out, "removed"), "workflows",
	    json_integer((json_int_t)workflows));
	api_audit(call, "purge", "ok", json_deep_copy(out));
	http_reply_json(req, 200, out);
	json_decref(body);
}
