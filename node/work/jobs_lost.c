/*
 * A named job whose node died and never came back stayed "running"
 * forever: its deadline was only checked before a run started.  Here its
 * deadline ends it as "lost" (jobs_hooks.h), with the node fenced as when
 * an "any" job's node dies.
 *
 * Only a node dead by --dead-ms (or gone) loses its job, as for an "any"
 * job: a route missing for a moment (a blip, or this issuer just
 * restarted and not linked yet) must not throw away the result of a run
 * still going there.  And not before --dead-ms has passed since this
 * node started: until then what it knows of its peers is what it stored.
 */
#include "jobs_hooks.h"
#include "jobs.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "node.h"
#include "sync.h"
#include "sync_json.h"

static int
member_gone(const json_t *view, const char *node)
{
	const char *m = json_string_value(json_object_get(
	    json_object_get(view, node), "member"));

	return m != NULL && (strcmp(m, "dead") == 0 || strcmp(m, "left") == 0);
}

/* When this node last heard from node (its last event), 0 when never. */
static uint64_t
last_heard(struct jobs *js, const char *node)
{
	json_t *o = sync_json_origin(js->n->sync, node, 0);
	uint64_t ms = (uint64_t)json_integer_value(json_object_get(o,
	    "updated_ms"));

	json_decref(o);
	return ms;
}

int
jobs_lost_at_deadline(struct jobs *js, struct job *j, const json_t *view,
    uint64_t now)
{
	const char *node = json_string_value(json_object_get(j->rec, "node"));
	uint64_t epoch = (uint64_t)json_integer_value(json_object_get(j->rec,
	    "epoch")), heard;
	char why[256], at[32], copy[JOB_ID_MAX];
	time_t secs;
	struct tm tm;

	if (j->final || (j->state != JOBS_DISPATCHED &&
	    j->state != JOBS_RUNNING) || node == NULL || epoch == 0 ||
	    now <= (uint64_t)json_integer_value(json_object_get(j->rec,
	    "deadline_ms")))
		return 0;
	if (!member_gone(view, node) || now < js->n->started_ms +
	    (uint64_t)js->n->cfg->dead_ms)
		return 0;
	snprintf(copy, sizeof(copy), "%s", node);
	heard = last_heard(js, copy);
	if (heard == 0) {
		snprintf(why, sizeof(why), "node %s dead or gone at the deadline "
		    "(never heard from)", copy);
	} else {
		secs = (time_t)(heard / 1000);
		gmtime_r(&secs, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(why, sizeof(why), "node %s dead or gone at the deadline: "
		    "last heard from at %s (%llu s before)", copy, at,
		    (unsigned long long)(now > heard ? (now - heard) / 1000 : 0));
	}
	log_event(LOG_WARN, "job lost at its deadline", "{s:s, s:s}", "job",
	    j->id, "node", copy);
	jobs_fence_add(js, j->id, copy, epoch);
	jobs_set_state(js, j, JOBS_LOST, why, heard != 0 ? json_pack("{s:I}",
	    "last_heard_ms", (json_int_t)heard) : NULL);
	return 1;
}
