/*
 * The work the mesh carries, in the node's database (schema step 3 in
 * store.c): tasks and their log lines, alerts, commands issued here, the
 * at-most-once record of commands executed here, and the audit log.
 *
 * Tasks, log lines and alerts of every node are kept (ours and those the
 * events brought), keyed by (node, id).  Each row holds its whole record
 * as JSON, the form the API serves, next to the columns it is looked up
 * by.  Conventions as in store.h: 0 on success, -1 with store_error() set;
 * texts handed to callbacks are valid only during the callback, which must
 * not call into the store; a non-zero return from a callback stops the walk
 * and is returned.
 */
#ifndef AGENTFLOW_STORE_WORK_H
#define AGENTFLOW_STORE_WORK_H

#include <stddef.h>
#include <stdint.h>

struct store;

typedef int (*store_json_cb)(void *arg, const char *json);

/* Inserts or replaces the task (node, task_id). */
int store_task_put(struct store *, const char *node, const char *task_id,
    const char *name, const char *state, int64_t updated_ms, const char *json);
/* Tasks, newest update first; NULL filters match anything; limit 0 = all. */
struct store_task_query {
	const char	*node;
	const char	*task_id;
	const char	*state;
	unsigned	 limit;
};
int store_tasks_query(struct store *, const struct store_task_query *,
    store_json_cb, void *arg);

/* A log line; a line already stored is kept as it was. */
int store_task_log_put(struct store *, const char *node, const char *task_id,
    uint64_t line_seq, int64_t time_ms, const char *json);
/* Lines with line_seq > after, in order, at most limit (0 = all). */
int store_task_logs(struct store *, const char *node, const char *task_id,
    uint64_t after, unsigned limit, store_json_cb, void *arg);

int store_alert_put(struct store *, const char *node, const char *alert_id,
    const char *state, int64_t updated_ms, const char *json);
/* Alerts, newest update first; NULL filters match anything. */
int store_alerts_query(struct store *, const char *node, const char *state,
    unsigned limit, store_json_cb, void *arg);

/* A command issued on this node, replaced as results arrive.  A key
 * (idempotency_key, may be NULL) already used by another id fails. */
int store_command_put(struct store *, const char *id, const char *key,
    int64_t issued_ms, const char *json);
int store_command_get(struct store *, const char *id, store_json_cb, void *);
/* The id of the command first issued with key into id: 1 found, 0 not. */
int store_command_by_key(struct store *, const char *key, char *id,
    size_t idlen);
/* Newest first. */
int store_commands_list(struct store *, unsigned limit, store_json_cb, void *);

/*
 * At most once per command id on this node: marks id as received and sets
 * *fresh to 1, or to 0 when it was received before.  The result of the
 * first execution is kept with store_command_result and read back with
 * store_command_result_get (1 found, 0 not yet / none).
 */
int store_command_seen(struct store *, const char *id, const char *origin,
    int64_t now_ms, int *fresh);
int store_command_result(struct store *, const char *id, const void *result,
    size_t len);
typedef int (*store_blob_cb)(void *arg, const void *blob, size_t len);
int store_command_result_get(struct store *, const char *id, store_blob_cb,
    void *arg);

/* Appends an audit record; its sequence number into *seq if not NULL. */
int store_audit_append(struct store *, int64_t time_ms, const char *node,
    const char *action, const char *json, int64_t *seq);
/* Drops node's index rows up to and including the record whose hash is
 * hash (a rotated file was removed); none when no record has it. */
int store_audit_forget_through(struct store *, const char *node,
    const char *hash);
struct store_audit_query {
	int64_t		 since_ms;
	const char	*node;
	const char	*action;
	const char	*actor;		/* the record's "actor"; NULL: any */
	unsigned	 limit;
};
/* The newest limit records that match, oldest first. */
int store_audit_query(struct store *, const struct store_audit_query *,
    store_json_cb, void *arg);

/*
 * Retention: keeps the newest keep_tasks tasks (finished ones go first),
 * their log lines, the newest keep_lines log lines overall, and commands
 * and at-most-once records from the last keep_ms.  The audit log is never
 * trimmed here (it is the record of who did what).
 */
int store_work_trim(struct store *, unsigned keep_tasks, unsigned keep_lines,
    int64_t keep_ms, int64_t now_ms);

/*
 * `agentflow purge`: removes what is older than cutoff_ms — finished tasks
 * and their log lines, log lines, command records, resolved alerts and
 * events (by when they reached this node) — and at-most-once records older
 * than seen_cutoff_ms.  Never a queued, running or retrying task, never the
 * audit log.  The rows removed per table into *p.
 */
struct store_purged {
	uint64_t	tasks, task_logs, commands, commands_seen, alerts, events;
};
int store_work_purge(struct store *, int64_t cutoff_ms, int64_t seen_cutoff_ms,
    struct store_purged *p);

#endif
