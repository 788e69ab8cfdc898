/*
 * Fanned-out jobs (jobs_fanout.h): resolving "all" or a selector to its
 * nodes, storing a parent and its children together, and the parent's
 * state following its children's.
 *
 * Invariant: a parent's state is "running" while any of its children is
 * open; once final it is never changed by a child (a cancelled parent's
 * children end cancelled, noted in its history).  Children ids are
 * PARENT.N: a job id is a node id's syntax, so PARENT (17 bytes) and N
 * (at most JOBS_FANOUT_MAX) fit its 63.
 */
#include "jobs_fanout.h"
#include "jobs.h"
#include "jobs_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_target.h"
#include "fanout_summary.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "node.h"
#include "store.h"
#include "sync.h"
#include "xalloc.h"

/* What a child keeps of its parent's record: what runs, for whom, until
 * when.  Not the key (a repeat answers the parent), the callback (the
 * parent's), nor the placement. */
static const char *const inherited[] = { "task", "command", "args",
    "payload", "deadline_ms", "at_most_once", "args_hash", "issuer",
    "principal", "submitted_ms" };

int
jobs_fanout_is_parent(const json_t *rec)
{
	return json_is_array(json_object_get(rec, "children"));
}

/* A child's record for node, the n-th (new reference). */
static json_t *
child_new(const json_t *parent, const char *node, size_t n,
    const struct principal *p)
{
	json_t *c = json_object();
	char id[JOB_ID_MAX];

	for (size_t i = 0; i < sizeof(inherited) / sizeof(inherited[0]); i++)
		if (json_object_get(parent, inherited[i]) != NULL)
			json_object_set(c, inherited[i],
			    json_object_get(parent, inherited[i]));
	snprintf(id, sizeof(id), "%s.%zu",
	    json_string_value(json_object_get(parent, "id")), n);
	json_object_set_new(c, "id", json_string(id));
	json_object_set(c, "parent", json_object_get(parent, "id"));
	json_object_set_new(c, "to", json_string(node));
	json_object_set_new(c, "node", json_string(node));
	json_object_set_new(c, "any", json_false());
	json_object_set_new(c, "state", json_string("queued"));
	json_object_set_new(c, "epoch", json_integer(0));
	/* Its own grant: the executor checks the job id and "to". */
	if (p != NULL && p->token[0] != '\0')
		jobs_grant(c, p);
	return c;
}

json_t *
jobs_fanout_nodes(struct routing *routing, const json_t *to, int *status,
    char *err, size_t errlen)
{
	struct command_target t;
	const char *code;
	json_t *dests;

	if (command_target_resolve(routing, to, &t, &code, err, errlen) != 0) {
		*status = strcmp(code, "labels_unknown") == 0 ? 503 :
		    strcmp(code, "no_target") == 0 ? 404 : 400;
		return NULL;
	}
	/* Commands go to the matching nodes and list the skipped; a job
	 * promised to "every node matching" is refused instead. */
	if (json_array_size(t.skipped) > 0) {
		*status = 503;
		snprintf(err, errlen, "target: %zu node(s) whose labels are not "
		    "known here yet could match (first: %s): try again shortly",
		    json_array_size(t.skipped), json_string_value(json_object_get(
		    json_array_get(t.skipped, 0), "node")));
		command_target_clear(&t);
		return NULL;
	}
	if (json_array_size(t.dests) > JOBS_FANOUT_MAX) {
		*status = 400;
		snprintf(err, errlen, "to: matches %zu nodes, at most %d",
		    json_array_size(t.dests), JOBS_FANOUT_MAX);
		command_target_clear(&t);
		return NULL;
	}
	dests = json_incref(t.dests);
	command_target_clear(&t);
	return dests;
}

/* Stores parent and children (all in js->open) in one transaction: 0, or
 * -1 with nothing stored. */
static int
store_all(struct jobs *js, struct job **jobs, size_t n)
{
	struct store *st = js->n->store;
	size_t i;

	/* A savepoint, not a batch: sync may hold a batch open across a turn
	 * of the loop, and a failure here must not drop its rows. */
	if (store_atomic_begin(st) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (jobs_persist(js, jobs[i]) != 0)
			return store_atomic_end(st, 0);
	/* The children's first history entry: where they came from. */
	for (i = 1; i < n; i++)
		jobs_history(js, jobs[i]->id, "submitted", json_pack("{s:O, s:O, "
		    "s:O}", "principal", json_object_get(jobs[i]->rec, "principal"),
		    "parent", json_object_get(jobs[i]->rec, "parent"), "node",
		    json_object_get(jobs[i]->rec, "node")));
	return store_atomic_end(st, 1);
}

int
jobs_fanout_store(struct jobs *js, json_t *rec, const struct principal *p,
    char *err, size_t errlen)
{
	json_t *dests, *children, *c, *d;
	struct job **jobs;
	size_t i, n;
	int status = 0, size;

	if ((dests = jobs_fanout_nodes(sync_routing(js->n->sync),
	    json_object_get(rec, "to"), &status, err, errlen)) == NULL) {
		json_decref(rec);
		return status;
	}
	n = json_array_size(dests);
	children = json_array();
	jobs = xcalloc(n + 1, sizeof(*jobs));
	json_array_foreach(dests, i, d) {
		c = child_new(rec, json_string_value(d), i + 1, p);
		json_object_set_new(c, "epoch", json_integer(INT64_MAX));
		if ((size = jobs_travel_size(c)) > FRAME_CODEC_MAX_PAYLOAD) {
			snprintf(err, errlen, "payload and args: %d bytes as the job "
			    "travels, at most %d", size, FRAME_CODEC_MAX_PAYLOAD);
			json_decref(c);
			status = 413;
			break;
		}
		json_object_set_new(c, "epoch", json_integer(0));
		json_array_append_new(children, json_pack("{s:O, s:O}", "id",
		    json_object_get(c, "id"), "node", d));
		jobs[i + 1] = jobs_open_add(js, c);
	}
	/* Never dispatched itself: no node, no grant, no "any". */
	json_object_del(rec, "grant");
	json_object_del(rec, "fanout");
	json_object_set_new(rec, "any", json_false());
	json_object_set_new(rec, "node", json_null());
	json_object_set_new(rec, "state", json_string(jobs_state_name(
	    JOBS_RUNNING)));
	json_object_set_new(rec, "children", children);
	jobs[0] = jobs_open_add(js, rec);
	if (status == 0 && store_all(js, jobs, n + 1) != 0) {
		snprintf(err, errlen, "cannot store the job: %s",
		    store_error(js->n->store));
		status = 500;
	}
	if (status != 0) {
		for (i = 0; i <= n; i++)
			if (jobs[i] != NULL)
				jobs_open_drop(js, jobs[i]);
	} else
		js->count[JC_SUBMITTED] += n;
	free(jobs);
	json_decref(dests);
	return status;
}

/* --- the parent following its children ------------------------------------ */

/* What a parent's page and history show of a child's record. */
static const char *const shown[] = { "state", "node", "epoch", "exit_code",
    "term_signal", "reason" };

static void
copy_shown(json_t *entry, const json_t *child)
{
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (json_object_get(child, shown[i]) != NULL)
			json_object_set(entry, shown[i],
			    json_object_get(child, shown[i]));
}

/* The entry of parent's children for child id, or NULL. */
static json_t *
entry_of(const json_t *parent, const char *id)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(parent, "children"), i, e)
		if (json_is_string(json_object_get(e, "id")) &&
		    strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
			return e;
	return NULL;
}

/* A child ended: its entry and the parent's history say so. */
static void
note_child(struct jobs *js, struct job *parent, const json_t *child)
{
	json_t *e = entry_of(parent->rec, json_string_value(json_object_get(
	    child, "id")));

	if (e == NULL)
		return;
	copy_shown(e, child);
	jobs_history(js, parent->id, "child", json_pack("{s:O, s:O?, s:O?, "
	    "s:O?}", "child", json_object_get(child, "id"), "node",
	    json_object_get(child, "node"), "state", json_object_get(child,
	    "state"), "exit_code", json_object_get(child, "exit_code")));
}

/* Ends an open parent whose children all ended; else stores its entries. */
static void
settle(struct jobs *js, struct job *parent)
{
	struct fanout_summary sum = { 0 };
	char reason[JOBS_REASON_MAX];
	const char *state;
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(parent->rec, "children"), i, e)
		fanout_summary_add(&sum, json_string_value(json_object_get(e,
		    "state")));
	state = fanout_summary_state(&sum, reason, sizeof(reason));
	if (parent->final || strcmp(state, "running") == 0) {
		jobs_persist(js, parent);
		return;
	}
	if (strcmp(state, "succeeded") == 0)
		snprintf(reason, sizeof(reason), "all %u succeeded", sum.n);
	jobs_set_state(js, parent, (enum jobs_state)jobs_state_parse(state),
	    reason, NULL);
}

void
jobs_fanout_child_final(struct jobs *js, struct job *j)
{
	const char *pid = json_string_value(json_object_get(j->rec, "parent"));
	struct job *parent;

	/* Not in memory: swept once final, and then every child was. */
	if (pid == NULL || (parent = hmap_get(js->open, pid)) == NULL)
		return;
	note_child(js, parent, j->rec);
	settle(js, parent);
}

void
jobs_fanout_cancel(struct jobs *js, struct job *j, const struct principal *p)
{
	char err[256];
	struct job *c;
	json_t *e;
	size_t i;

	if (!jobs_fanout_is_parent(j->rec))
		return;
	json_array_foreach(json_object_get(j->rec, "children"), i, e) {
		c = hmap_get(js->open, json_string_value(json_object_get(e, "id")));
		if (c != NULL && !c->final && jobs_cancel(js, c->id, p, err,
		    sizeof(err)) != 200)
			log_event(LOG_WARN, "cannot cancel a child job", "{s:s, s:s}",
			    "job", c->id, "error", err);
	}
}

static int
reload_one(const char *id, void *value, void *arg)
{
	struct job *parent = value, *c;
	struct jobs *js = arg;
	json_t *e, *rec;
	const char *cid;
	size_t i;
	int s;

	(void)id;
	if (parent->final || !jobs_fanout_is_parent(parent->rec))
		return 0;
	json_array_foreach(json_object_get(parent->rec, "children"), i, e) {
		cid = json_string_value(json_object_get(e, "id"));
		s = jobs_state_parse(json_string_value(json_object_get(e, "state")));
		if (cid == NULL || (s >= 0 && jobs_state_final(s)) ||
		    ((c = hmap_get(js->open, cid)) != NULL && !c->final) ||
		    (rec = jobs_stored(js, cid)) == NULL)
			continue;
		note_child(js, parent, rec);
		json_decref(rec);
	}
	settle(js, parent);
	return 0;
}

void
jobs_fanout_reload(struct jobs *js)
{
	hmap_sweep(js->open, reload_one, js);
}

void
jobs_fanout_show(struct jobs *js, json_t *rec)
{
	struct job *c;
	json_t *e, *crec;
	size_t i;

	json_array_foreach(json_object_get(rec, "children"), i, e) {
		c = hmap_get(js->open, json_string_value(json_object_get(e, "id")));
		crec = c != NULL ? json_incref(c->rec) : jobs_stored(js,
		    json_string_value(json_object_get(e, "id")));
		if (crec != NULL)
			copy_shown(e, crec);
		json_decref(crec);
	}
}
