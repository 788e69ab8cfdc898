/*
 * Durable jobs in the node's database (see store_jobs.h).  Every
 * statement is a literal bound with store_exec/store_query (store_priv.h).
 */
#include "store_jobs.h"

#include <stddef.h>

#include "store.h"
#include "store_priv.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* The final states (jobs.h); a job in one of them is never dispatched. */
#define FINAL_STATES \
	"('succeeded', 'failed', 'cancelled', 'expired', 'lost')"

int
store_job_put(struct store *st, const char *id, const char *state,
    const char *task, const char *key, int64_t updated_ms, const char *json)
{
	const struct arg a[] = { T(id), T(state), T(task), T(key),
	    I(updated_ms), T(json) };

	/* Not INSERT OR REPLACE: that would delete another job holding the
	 * same key; a key conflict is an error. */
	return store_exec(st, "INSERT INTO jobs (id, state, task,"
	    " idempotency_key, updated_ms, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
	    " task = excluded.task, idempotency_key = excluded.idempotency_key,"
	    " updated_ms = excluded.updated_ms, body = excluded.body",
	    a, N(a), "storing a job");
}

struct found {
	store_jobs_cb	 cb;
	void		*arg;
	int		 n;
};

static int
found_cb(void *arg, const char *json)
{
	struct found *f = arg;

	f->n++;
	return f->cb(f->arg, json) != 0 ? 1 : 0;
}

int
store_job_get(struct store *st, const char *id, const char *key,
    store_jobs_cb cb, void *arg)
{
	const struct arg a[] = { T(id), T(key) };
	struct found f = { cb, arg, 0 };

	if (store_query(st, "SELECT body FROM jobs WHERE (?1 IS NOT NULL AND"
	    " id = ?1) OR (?1 IS NULL AND idempotency_key = ?2)", a, N(a),
	    found_cb, &f, "reading a job") < 0)
		return -1;
	return f.n > 0;
}

/* top: without the children of fanned-out jobs. */
static int
query(struct store *st, const char *state, const char *task, int top,
    unsigned limit, store_jobs_cb cb, void *arg)
{
	const struct arg a[] = { T(state), T(task), LIMIT(limit), I(top) };

	return store_query(st, "SELECT body FROM jobs WHERE (?1 IS NULL OR"
	    " state = ?1) AND (?2 IS NULL OR task = ?2) AND (?4 = 0 OR"
	    " json_extract(body, '$.parent') IS NULL)"
	    " ORDER BY rowid DESC LIMIT ?3", a, N(a), cb, arg, "reading jobs");
}

int
store_jobs_query(struct store *st, const char *state, const char *task,
    unsigned limit, store_jobs_cb cb, void *arg)
{
	return query(st, state, task, 0, limit, cb, arg);
}

int
store_jobs_query_top(struct store *st, const char *state, const char *task,
    unsigned limit, store_jobs_cb cb, void *arg)
{
	return query(st, state, task, 1, limit, cb, arg);
}

int
store_jobs_open(struct store *st, store_jobs_cb cb, void *arg)
{
	return store_query(st, "SELECT body FROM jobs WHERE state NOT IN "
	    FINAL_STATES " ORDER BY rowid", NULL, 0, cb, arg,
	    "reading open jobs");
}

int
store_job_history_add(struct store *st, const char *job_id, int64_t time_ms,
    const char *json)
{
	const struct arg a[] = { T(job_id), I(time_ms), T(json) };

	return store_exec(st, "INSERT INTO job_history (job_id, time_ms, body)"
	    " VALUES (?1, ?2, ?3)", a, N(a), "storing a job's history");
}

int
store_job_history(struct store *st, const char *job_id, store_jobs_cb cb,
    void *arg)
{
	const struct arg a[] = { T(job_id) };

	return store_query(st, "SELECT body FROM job_history WHERE job_id = ?1"
	    " ORDER BY seq", a, N(a), cb, arg, "reading a job's history");
}

int
store_job_run_put(struct store *st, const char *job_id, uint64_t epoch,
    const char *issuer, const char *key, const char *state, int delivered,
    int64_t updated_ms, const char *json)
{
	const struct arg a[] = { T(job_id), I(epoch), T(issuer), T(key),
	    T(state), I(delivered), I(updated_ms), T(json) };

	return store_exec(st, "INSERT OR REPLACE INTO job_runs (job_id, epoch,"
	    " issuer, key, state, delivered, updated_ms, body)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", a, N(a),
	    "storing a job run");
}

int
store_job_runs(struct store *st, const char *job_id, const char *key,
    int undelivered, store_jobs_cb cb, void *arg)
{
	const struct arg a[] = { T(job_id), T(key), I(undelivered) };

	return store_query(st, "SELECT body FROM job_runs WHERE"
	    " (?1 IS NULL OR job_id = ?1) AND (?2 IS NULL OR key = ?2) AND"
	    " (?3 = 0 OR delivered = 0) ORDER BY job_id, epoch", a, N(a), cb,
	    arg, "reading job runs");
}

int
store_job_runs_in(struct store *st, const char *state, store_jobs_cb cb,
    void *arg)
{
	const struct arg a[] = { T(state) };

	return store_query(st, "SELECT body FROM job_runs WHERE state = ?1"
	    " ORDER BY job_id, epoch", a, N(a), cb, arg, "reading job runs");
}

int
store_job_fence_put(struct store *st, const char *job_id, const char *node,
    uint64_t epoch)
{
	const struct arg a[] = { T(job_id), T(node), I(epoch) };

	return store_exec(st, "INSERT OR REPLACE INTO job_fences (job_id, node,"
	    " epoch) VALUES (?1, ?2, ?3)", a, N(a), "storing a job fence");
}

int
store_job_fence_del(struct store *st, const char *job_id, const char *node,
    uint64_t epoch)
{
	const struct arg a[] = { T(job_id), T(node), I(epoch) };

	/* Only that epoch's: a newer fence of the same (job, node) replaced
	 * it and is still to send. */
	return store_exec(st, "DELETE FROM job_fences WHERE job_id = ?1 AND"
	    " node = ?2 AND epoch = ?3", a, N(a), "removing a job fence");
}

int
store_job_fences(struct store *st, store_jobs_cb cb, void *arg)
{
	return store_query(st, "SELECT json_object('job_id', job_id, 'node',"
	    " node, 'epoch', epoch) FROM job_fences ORDER BY rowid", NULL, 0,
	    cb, arg, "reading job fences");
}

int
store_jobs_trim(struct store *st, int64_t before_ms)
{
	const struct arg a[] = { I(before_ms) };

	if (store_exec(st, "DELETE FROM jobs WHERE state IN " FINAL_STATES
	    " AND updated_ms < ?1", a, N(a), "trimming jobs") != 0 ||
	    store_exec(st, "DELETE FROM job_history WHERE NOT EXISTS (SELECT 1"
	    " FROM jobs j WHERE j.id = job_history.job_id)", NULL, 0,
	    "trimming the history of trimmed jobs") != 0 ||
	    store_exec(st, "DELETE FROM job_fences WHERE NOT EXISTS (SELECT 1"
	    " FROM jobs j WHERE j.id = job_fences.job_id)", NULL, 0,
	    "trimming the fences of trimmed jobs") != 0 ||
	    store_exec(st, "DELETE FROM job_runs WHERE delivered = 1 AND"
	    " updated_ms < ?1", a, N(a), "trimming job runs") != 0)
		return -1;
	return 0;
}

int
store_jobs_purge(struct store *st, int64_t before_ms, uint64_t *removed)
{
	const struct arg a[] = { I(before_ms) };

	*removed = 0;
	if (store_exec(st, "DELETE FROM jobs WHERE state IN " FINAL_STATES
	    " AND updated_ms < ?1", a, N(a), "purging jobs") != 0)
		return -1;
	*removed = (uint64_t)sqlite3_changes(store_db(st));
	/* Their history, fences and delivered runs. */
	return store_jobs_trim(st, before_ms);
}
