/*
 * Replaying jobs on their issuer (jobs_replay.h): one job, or a batch
 * picked by state, age, task and node.  A replay is a submit (jobs_submit
 * checks, stores, grants and dispatches it), so nothing here touches the
 * dispatcher; what is added is the link between the two records.
 */
#include "jobs_replay.h"
#include "jobs.h"
#include "jobs_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "hmap.h"
#include "json_check.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "store.h"
#include "store_jobs.h"

static const enum jobs_state replayable[] = { JOBS_FAILED, JOBS_CANCELLED,
    JOBS_LOST, JOBS_EXPIRED };

static int
is_replayable(int s)
{
	for (size_t i = 0; i < sizeof(replayable) / sizeof(replayable[0]); i++)
		if (s == (int)replayable[i])
			return 1;
	return 0;
}

static int
load_cb(void *arg, const char *text)
{
	json_t **out = arg;

	*out = json_loads(text, 0, NULL);
	return 0;
}

/* Job id's record (new reference) and whether it is open, or NULL. */
static json_t *
record(struct jobs *js, const char *id, int *open)
{
	struct job *j = hmap_get(js->open, id);
	json_t *rec = NULL;

	*open = j != NULL && !j->final;
	if (j != NULL)
		return json_incref(j->rec);
	if (store_job_get(js->n->store, id, NULL, load_cb, &rec) != 1) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/*
 * The submit body that runs rec's job again (new reference): its task or
 * argv, args, payload, placement and at_most_once, and a deadline as long
 * as the first one's.  Neither the key nor the callback (jobs_replay.h).
 */
json_t *
jobs_replay_body(const json_t *rec)
{
	static const char *const same[] = { "task", "command", "args", "to",
	    "at_most_once" };
	json_t *body = json_object(), *payload;
	const char *text = json_string_value(json_object_get(rec, "payload"));
	json_int_t len = json_integer_value(json_object_get(rec, "deadline_ms")) -
	    json_integer_value(json_object_get(rec, "submitted_ms"));

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (json_object_get(rec, same[i]) != NULL &&
		    !json_is_null(json_object_get(rec, same[i])))
			json_object_set(body, same[i], json_object_get(rec, same[i]));
	/* Stored as the JSON text the task reads; submitted as JSON. */
	if (text != NULL && (payload = json_loads(text, JSON_DECODE_ANY,
	    NULL)) != NULL)
		json_object_set_new(body, "payload", payload);
	if (len < 1 || len > JOBS_DEADLINE_MAX_MS)
		len = JOBS_DEADLINE_DEFAULT_MS;
	json_object_set_new(body, "deadline_ms", json_integer(len));
	return body;
}

/* The first job's record says its newest replay (the batch's "replayed
 * before" test), stored whether it is still in memory or not. */
static void
link_first(struct jobs *js, const char *first, json_t *rec, const char *as)
{
	struct job *j = hmap_get(js->open, first), tmp;
	int s = jobs_state_parse(json_string_value(json_object_get(rec, "state")));

	if (j == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		snprintf(tmp.id, sizeof(tmp.id), "%s", first);
		tmp.rec = rec;
		tmp.state = (enum jobs_state)s;
		j = &tmp;
	}
	json_object_set_new(j->rec, "replayed_as", json_string(as));
	json_object_set_new(j->rec, "replays", json_integer(
	    json_integer_value(json_object_get(j->rec, "replays")) + 1));
	jobs_persist(js, j);
}

/* Replays the job of record rec (its id first): jobs_replay's statuses. */
static int
replay_rec(struct jobs *js, const char *first, json_t *rec,
    const struct principal *p, char *newid, size_t newidlen, char *err,
    size_t errlen)
{
	json_t *body = jobs_replay_body(rec);
	const char *who = p != NULL ? p->name : "";
	struct job *nj;
	int status;

	status = jobs_submit(js, body, p, newid, newidlen, err, errlen);
	json_decref(body);
	if (status != 202) {
		log_event(LOG_WARN, "job replay refused", "{s:s, s:i, s:s}", "job",
		    first, "status", status, "error", err);
		return status == 200 ? 500 : status;	/* no key: never 200 */
	}
	if ((nj = hmap_get(js->open, newid)) != NULL) {
		json_object_set_new(nj->rec, "replay_of", json_string(first));
		jobs_persist(js, nj);
	}
	link_first(js, first, rec, newid);
	jobs_history(js, first, "replayed", json_pack("{s:s, s:s}", "as", newid,
	    "principal", who));
	jobs_history(js, newid, "replay_of", json_pack("{s:s, s:s}", "of", first,
	    "principal", who));
	audit_record(js->n->audit, "job.replayed", who, "ok", json_pack(
	    "{s:s, s:s}", "job_id", first, "as", newid));
	log_event(LOG_INFO, "job replayed", "{s:s, s:s}", "job", first, "as",
	    newid);
	return 202;
}

int
jobs_replay(struct jobs *js, const char *id, const struct principal *p,
    char *newid, size_t newidlen, char *err, size_t errlen)
{
	json_t *rec;
	const char *state;
	int open, status;

	if ((rec = record(js, id, &open)) == NULL) {
		snprintf(err, errlen, "no job %s on this node (jobs are served and "
		    "replayed by their issuer)", id);
		return 404;
	}
	state = json_string_value(json_object_get(rec, "state"));
	if (open || !is_replayable(jobs_state_parse(state))) {
		snprintf(err, errlen, "job %s is %s: only a failed, cancelled, "
		    "lost or expired job is replayed", id, state != NULL ? state :
		    "?");
		json_decref(rec);
		return 409;
	}
	status = replay_rec(js, id, rec, p, newid, newidlen, err, errlen);
	json_decref(rec);
	return status;
}

/* --- batches ----------------------------------------------------------------- */

/* Rows a batch reads at most, matching or not: the store's walk is on
 * the loop thread, each row a record of up to two 64 KiB texts. */
#define READ_MAX	10000

struct pick {
	int64_t		 since_ms;
	const char	*node;
	int		 again;
	json_t		*found;		/* ids, newest first */
	size_t		 matched;
	size_t		 read;		/* rows read, all states */
};

static int
pick_cb(void *arg, const char *text)
{
	struct pick *pk = arg;
	json_t *rec = json_loads(text, 0, NULL);
	const char *node;

	if (rec == NULL)
		return ++pk->read >= READ_MAX;
	/* Newest first: the first one too old ends the walk. */
	if (json_integer_value(json_object_get(rec, "submitted_ms")) <
	    pk->since_ms) {
		json_decref(rec);
		return 1;
	}
	node = json_string_value(json_object_get(rec, "node"));
	/* A fanned-out job is replayed whole, by its parent (which matches
	 * when a child failed): its children too would run twice. */
	if (json_is_string(json_object_get(rec, "parent")) ||
	    (pk->node != NULL && (node == NULL || strcmp(node, pk->node) != 0)) ||
	    (!pk->again && json_object_get(rec, "replayed_as") != NULL)) {
		json_decref(rec);
		return ++pk->read >= READ_MAX;
	}
	/* One past the bound says "cut" without reading every record the
	 * store holds (each up to two 64 KiB texts) on the loop thread. */
	pk->matched++;
	if (json_array_size(pk->found) < JOBS_REPLAY_BATCH_MAX)
		json_array_append(pk->found, json_object_get(rec, "id"));
	json_decref(rec);
	return pk->matched > JOBS_REPLAY_BATCH_MAX || ++pk->read >= READ_MAX;
}

int
jobs_replay_check(const json_t *req, char *err, size_t errlen)
{
	static const char *const known[] = { "states", "since_ms", "task",
	    "node", "dry_run", "again" };
	json_t *v, *states = json_object_get(req, "states");
	const char *k;
	size_t i;

	if (!json_is_object(req)) {
		snprintf(err, errlen, "body: a JSON object {states?, since_ms?, "
		    "task?, node?, dry_run?, again?}");
		return -1;
	}
	json_object_foreach((json_t *)req, k, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%.64s: not a field of a batch replay",
			    k);
			return -1;
		}
	}
	if (states != NULL && (!json_is_array(states) ||
	    json_array_size(states) < 1 || json_array_size(states) >
	    sizeof(replayable) / sizeof(replayable[0]))) {
		snprintf(err, errlen, "states: 1-4 of failed, cancelled, lost, "
		    "expired");
		return -1;
	}
	json_array_foreach(states, i, v) {
		if (!is_replayable(jobs_state_parse(json_string_value(v)))) {
			snprintf(err, errlen, "states: 1-4 of failed, cancelled, "
			    "lost, expired");
			return -1;
		}
		/* A state twice would walk its jobs twice. */
		for (size_t d = 0; d < i; d++)
			if (json_equal(v, json_array_get(states, d))) {
				snprintf(err, errlen, "states: %s given twice",
				    json_string_value(v));
				return -1;
			}
	}
	if ((v = json_object_get(req, "since_ms")) != NULL &&
	    !json_check_int(v, 0, INT64_MAX, NULL)) {
		snprintf(err, errlen, "since_ms: ms since the epoch, >= 0");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		v = json_object_get(req, i == 0 ? "task" : "node");
		if (v != NULL && (!json_is_string(v) || !node_id_valid(
		    json_string_value(v), json_string_length(v)))) {
			snprintf(err, errlen, "%s: a name of 1-63 characters "
			    "[A-Za-z0-9._-]", i == 0 ? "task" : "node");
			return -1;
		}
	}
	for (i = 0; i < 2; i++) {
		v = json_object_get(req, i == 0 ? "dry_run" : "again");
		if (v != NULL && !json_is_boolean(v)) {
			snprintf(err, errlen, "%s: true or false", i == 0 ?
			    "dry_run" : "again");
			return -1;
		}
	}
	return 0;
}

json_t *
jobs_replay_batch(struct jobs *js, const json_t *req,
    const struct principal *p, int *status, char *err, size_t errlen)
{
	struct pick pk = { 0 };
	json_t *states, *v, *pairs, *errors, *rec;
	const char *task, *first;
	char newid[JOB_ID_MAX], why[512];
	int dry, rc;
	size_t i;

	*status = 400;
	if (jobs_replay_check(req, err, errlen) != 0)
		return NULL;
	states = json_object_get(req, "states");
	states = states != NULL ? json_incref(states) : json_pack("[s]",
	    "failed");
	task = json_string_value(json_object_get(req, "task"));
	pk.since_ms = json_integer_value(json_object_get(req, "since_ms"));
	pk.node = json_string_value(json_object_get(req, "node"));
	pk.again = json_is_true(json_object_get(req, "again"));
	pk.found = json_array();
	dry = json_is_true(json_object_get(req, "dry_run"));
	json_array_foreach(states, i, v)
		if (pk.matched <= JOBS_REPLAY_BATCH_MAX && pk.read < READ_MAX &&
		    store_jobs_query(js->n->store, json_string_value(v), task, 0,
		    pick_cb, &pk) < 0) {
			*status = 500;
			snprintf(err, errlen, "cannot read the jobs: %s",
			    store_error(js->n->store));
			json_decref(pk.found);
			json_decref(states);
			return NULL;
		}
	json_decref(states);
	pairs = json_array();
	errors = json_array();
	json_array_foreach(pk.found, i, v) {
		int open;
		first = json_string_value(v);
		if (first == NULL)
			continue;
		if (dry) {
			json_array_append_new(pairs, json_pack("{s:s, s:n}", "of",
			    first, "as"));
			continue;
		}
		/* Read again now: only the ids were kept, and an earlier
		 * replay of this batch may have changed it. */
		if ((rec = record(js, first, &open)) == NULL || open ||
		    (!pk.again && json_object_get(rec, "replayed_as") != NULL)) {
			json_decref(rec);
			continue;
		}
		rc = replay_rec(js, first, rec, p, newid, sizeof(newid), why,
		    sizeof(why));
		json_decref(rec);
		if (rc == 202)
			json_array_append_new(pairs, json_pack("{s:s, s:s}", "of",
			    first, "as", newid));
		else
			json_array_append_new(errors, json_pack("{s:s, s:i, s:s}",
			    "of", first, "status", rc, "error", why));
	}
	json_decref(pk.found);
	*status = 200;
	return json_pack("{s:o, s:o, s:I, s:b, s:b, s:i}", "pairs", pairs,
	    "errors", errors, "matched", (json_int_t)pk.matched, "cut",
	    pk.matched > JOBS_REPLAY_BATCH_MAX || pk.read >= READ_MAX,
	    "dry_run", dry, "max",
	    JOBS_REPLAY_BATCH_MAX);
}
