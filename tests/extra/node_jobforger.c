/*
 * The test-only hostile-jobs build of agentflow-node
 * (agentflow-node-jobforger, tests/node.cmake): a member with a valid
 * certificate that sends the job commands the test hands it, in its own
 * name and properly signed (jobs_node_command), for tests/system/
 * test_jobs.py: another issuer's job id, epochs out of bounds, results in
 * states an executor may not give.  No forged origin: the threat is a
 * member abusing what it may send.
 *
 * AGENTFLOW_TEST_JOBFORGE=PATH: every FORGE_MS the node reads PATH, a
 * JSON array of {"target", "type", "args", "tag"}, renames it PATH.taken
 * and sends each; every answer is logged as "jobforge answer" {tag,
 * status, error, body}.
 *
 * An entry {"silence": {id, spec_json, updated_ms, author, deleted,
 * ends_ms}, "tag"} is instead sent as a SilenceUpdate event in the
 * forger's own name, properly signed, past the checks its own API would
 * make (sync_emit_silence checks only mesh.proto's bounds), for
 * tests/system/test_notify.py; logged as "jobforge silence" {tag, rc}.
 */
#include "test_hooks.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "json_check.h"
#include "log.h"
#include "node.h"
#include "sync_silences.h"

#define FORGE_MS	300

static struct event *tick;

/* Sends the word w as the forger's own SilenceUpdate. */
static void
forge_silence(struct node *n, const json_t *w, const char *tag)
{
	Agentflow__Mesh__V1__SilenceUpdate u =
	    AGENTFLOW__MESH__V1__SILENCE_UPDATE__INIT;

	u.id = (char *)json_text_of(w, "id");
	u.spec_json = (char *)json_text_of(w, "spec_json");
	u.updated_ms = json_u64_of(w, "updated_ms");
	u.author = (char *)json_text_of(w, "author");
	u.deleted = json_is_true(json_object_get(w, "deleted"));
	u.ends_ms = json_u64_of(w, "ends_ms");
	log_event(LOG_INFO, "jobforge silence", "{s:s, s:i}", "tag", tag, "rc",
	    sync_emit_silence(n->sync, &u));
}
static char path[4096];

static void
answered(const char *cid, const json_t *rec, void *arg)
{
	json_t *res = json_array_get(json_object_get(rec, "results"), 0);

	(void)cid;
	log_event(LOG_INFO, "jobforge answer", "{s:s, s:O?, s:O?, s:O?}", "tag",
	    (const char *)arg, "status", json_object_get(res, "status"), "error",
	    json_object_get(res, "error"), "body", json_object_get(res, "body"));
	free(arg);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	char taken[sizeof(path) + 8], err[512], *tag;
	json_t *cmds, *c;
	size_t i;

	(void)fd;
	(void)what;
	if ((cmds = json_load_file(path, 0, NULL)) == NULL)
		return;
	snprintf(taken, sizeof(taken), "%s.taken", path);
	if (rename(path, taken) != 0) {
		json_decref(cmds);
		return;
	}
	json_array_foreach(cmds, i, c) {
		tag = strdup(json_string_value(json_object_get(c, "tag")) ?
		    json_string_value(json_object_get(c, "tag")) : "?");
		if (json_is_object(json_object_get(c, "silence"))) {
			forge_silence(n, json_object_get(c, "silence"), tag);
			free(tag);
		} else if (jobs_node_command(n, json_string_value(json_object_get(c,
		    "target")), json_string_value(json_object_get(c, "type")),
		    json_object_get(c, "args"), answered, tag, err,
		    sizeof(err)) != 0) {
			log_event(LOG_INFO, "jobforge answer", "{s:s, s:s, s:s}",
			    "tag", tag, "status", "not_sent", "error", err);
			free(tag);
		}
	}
	json_decref(cmds);
}

void
test_hooks_start(struct node *n)
{
	struct timeval tv = { 0, FORGE_MS * 1000 };
	const char *env = getenv("AGENTFLOW_TEST_JOBFORGE");

	if (env == NULL || env[0] == '\0') {
		log_event(LOG_WARN, "jobforger build without "
		    "AGENTFLOW_TEST_JOBFORGE: sending nothing", NULL);
		return;
	}
	snprintf(path, sizeof(path), "%s", env);
	tick = event_new(n->base, -1, EV_PERSIST, tick_cb, n);
	event_add(tick, &tv);
}

void
test_hooks_stop(void)
{
	if (tick != NULL)
		event_free(tick);
	tick = NULL;
}
