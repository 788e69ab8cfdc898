/*
 * Workflows in the node's database (see store_workflows.h).  Every
 * statement is a literal bound with store_exec/store_query
 * (store_priv.h); rows are read back as JSON built by SQLite itself
 * (json_object), so the columns and the objects cannot drift apart.
 */
#include "store_workflows.h"

#include <stddef.h>
#include <stdlib.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

#define WF_DONE	"('succeeded', 'failed', 'cancelled', 'budget-exceeded')"

#define WF_ROW "SELECT json_object('id', id, 'name', name, 'definition'," \
	" json(definition), 'params', json(params), 'principal', principal," \
	" 'state', state, 'coordinator', coordinator, 'coordinator_epoch'," \
	" coordinator_epoch, 'budget_deadline_ms', budget_deadline_ms," \
	" 'created_ms', created_ms, 'updated_ms', updated_ms, 'finished_ms'," \
	" finished_ms, 'reason', reason) FROM workflows "

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t
num(const json_t *o, const char *k)
{
	return (int64_t)json_integer_value(json_object_get(o, k));
}

/* A JSON value's text (NULL for a missing or null value); free it. */
static char *
text(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return v == NULL || json_is_null(v) ? NULL :
	    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int
put_workflow(struct store *st, const char *id, const json_t *wf)
{
	char *def = text(wf, "definition"), *params = text(wf, "params");
	const struct arg a[] = { T(id), T(str(wf, "name")), T(def),
	    T(params != NULL ? params : "{}"), T(str(wf, "principal")),
	    T(str(wf, "state")), T(str(wf, "coordinator")),
	    I(num(wf, "coordinator_epoch") > 0 ? num(wf, "coordinator_epoch") : 1),
	    I(num(wf, "budget_deadline_ms")), I(num(wf, "created_ms")),
	    I(num(wf, "updated_ms")), I(num(wf, "finished_ms")),
	    T(str(wf, "reason")) };
	int rc;

	rc = store_exec(st, "INSERT OR REPLACE INTO workflows (id, name,"
	    " definition, params, principal, state, coordinator,"
	    " coordinator_epoch, budget_deadline_ms, created_ms, updated_ms,"
	    " finished_ms, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11, ?12, ?13)", a, N(a), "storing a workflow");
	free(def);
	free(params);
	return rc;
}

static int
put_step(struct store *st, const char *id, const json_t *s)
{
	char *result = text(s, "result");
	const struct arg a[] = { T(id), T(str(s, "name")), I(num(s, "idx")),
	    T(str(s, "state")), I(num(s, "attempt")), I(num(s, "tries")),
	    T(str(s, "job_id")), T(str(s, "node")), I(num(s, "started_ms")),
	    I(num(s, "finished_ms")), T(result), I(num(s, "next_retry_ms")),
	    T(str(s, "approved_by")), T(str(s, "comment")), T(str(s, "error")),
	    T(str(s, "reattach")) };
	int rc;

	rc = store_exec(st, "INSERT OR REPLACE INTO workflow_steps (workflow_id,"
	    " name, idx, state, attempt, tries, job_id, node, started_ms,"
	    " finished_ms, result, next_retry_ms, approved_by, comment, error,"
	    " reattach) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14, ?15, ?16)", a, N(a), "storing a workflow's step");
	free(result);
	return rc;
}

static int
put_history(struct store *st, const char *id, const json_t *h)
{
	char *body = json_dumps(h, JSON_COMPACT);
	const struct arg a[] = { T(id), I(num(h, "time_ms")), T(body) };
	int rc;

	rc = store_exec(st, "INSERT INTO workflow_history (workflow_id, time_ms,"
	    " body) VALUES (?1, ?2, ?3)", a, N(a), "storing a workflow's history");
	free(body);
	return rc;
}

int
store_workflow_write(struct store *st, const char *id, const json_t *wf,
    const json_t *steps, const json_t *history)
{
	const json_t *v;
	size_t i;
	int ok = 1;

	if (store_atomic_begin(st) != 0)
		return -1;
	if (wf != NULL)
		ok = put_workflow(st, id, wf) == 0;
	json_array_foreach(steps, i, v)
		ok = ok && put_step(st, id, v) == 0;
	json_array_foreach(history, i, v)
		ok = ok && put_history(st, id, v) == 0;
	return store_atomic_end(st, ok);
}

struct found {
	store_workflows_cb	 cb;
	void			*arg;
	int			 n;
};

static int
found_cb(void *arg, const char *json)
{
	struct found *f = arg;

	f->n++;
	return f->cb != NULL && f->cb(f->arg, json) != 0 ? 1 : 0;
}

int
store_workflow_get(struct store *st, const char *id, store_workflows_cb cb,
    void *arg)
{
	const struct arg a[] = { T(id) };
	struct found f = { cb, arg, 0 };

	if (store_query(st, WF_ROW "WHERE id = ?1", a, N(a), found_cb, &f,
	    "reading a workflow") < 0)
		return -1;
	return f.n > 0;
}

int
store_workflows_query(struct store *st, const char *state, unsigned limit,
    store_workflows_cb cb, void *arg)
{
	const struct arg a[] = { T(state), LIMIT(limit) };

	return store_query(st, WF_ROW "WHERE ?1 IS NULL OR state = ?1"
	    " ORDER BY created_ms DESC, rowid DESC LIMIT ?2", a, N(a), cb, arg,
	    "reading workflows");
}

int
store_workflows_open(struct store *st, store_workflows_cb cb, void *arg)
{
	return store_query(st, WF_ROW "WHERE state NOT IN " WF_DONE
	    " OR EXISTS (SELECT 1 FROM workflow_steps s WHERE s.workflow_id ="
	    " workflows.id AND s.state = 'running') ORDER BY created_ms, rowid",
	    NULL, 0, cb, arg, "reading open workflows");
}

int
store_workflow_steps(struct store *st, const char *id, store_workflows_cb cb,
    void *arg)
{
	const struct arg a[] = { T(id) };

	return store_query(st, "SELECT json_object('workflow_id', workflow_id,"
	    " 'name', name, 'idx', idx, 'state', state, 'attempt', attempt,"
	    " 'tries', tries, 'job_id', job_id, 'node', node, 'started_ms',"
	    " started_ms, 'finished_ms', finished_ms, 'result', json(result),"
	    " 'next_retry_ms', next_retry_ms, 'approved_by', approved_by,"
	    " 'comment', comment, 'error', error, 'reattach', reattach)"
	    " FROM workflow_steps"
	    " WHERE workflow_id = ?1 ORDER BY idx", a, N(a), cb, arg,
	    "reading a workflow's steps");
}

int
store_workflow_history(struct store *st, const char *id,
    store_workflows_cb cb, void *arg)
{
	const struct arg a[] = { T(id) };

	return store_query(st, "SELECT body FROM workflow_history WHERE"
	    " workflow_id = ?1 ORDER BY seq", a, N(a), cb, arg,
	    "reading a workflow's history");
}

/* Done and settled (no step still running), or another node's since it
 * took the workflow over (the row left here is history), and untouched
 * since before_ms. */
#define WF_PURGEABLE							\
	"((state IN " WF_DONE " AND NOT EXISTS (SELECT 1 FROM"		\
	" workflow_steps s WHERE s.workflow_id = workflows.id AND"	\
	" s.state = 'running')) OR coordinator <> ?2) AND updated_ms < ?1"

int
store_workflows_trim(struct store *st, int64_t before_ms, const char *self,
    uint64_t *removed)
{
	const struct arg a[] = { I(before_ms), T(self) };
	uint64_t gone = 0;
	int ok;

	if (store_atomic_begin(st) != 0)
		return -1;
	ok = store_exec(st, "DELETE FROM workflow_steps WHERE workflow_id IN"
	    " (SELECT id FROM workflows WHERE " WF_PURGEABLE ")", a, N(a),
	    "purging workflows' steps") == 0 &&
	    store_exec(st, "DELETE FROM workflow_history WHERE workflow_id IN"
	    " (SELECT id FROM workflows WHERE " WF_PURGEABLE ")", a, N(a),
	    "purging workflows' history") == 0 &&
	    store_exec(st, "DELETE FROM workflows WHERE " WF_PURGEABLE, a, N(a),
	    "purging workflows") == 0;
	if (ok)
		gone = (uint64_t)sqlite3_changes(store_db(st));
	if (removed != NULL)
		*removed = ok ? gone : 0;
	return store_atomic_end(st, ok);
}
