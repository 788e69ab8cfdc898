/*
 * The audit log: who did what, when, and with what result — every command
 * issued, forwarded, executed or refused here, every write through the
 * API, every authentication failure.
 *
 * Each record is appended to <data dir>/audit.jsonl (one JSON object per
 * line, opened O_APPEND and never rewritten) and indexed in the store's
 * audit table for GET /api/audit.  The file is the record of truth; the
 * table is its index.  Records are hash-chained (audit_chain.h): each
 * carries the previous record's hash as "prev" and its own as "hash".
 *
 * At start the chain goes on from the file's last record.  When the file
 * and the index disagree — the file is missing or empty while the index
 * holds records, its last line is incomplete or not a record, or its last
 * record is not the last one indexed — the node does not start a new
 * chain silently: it logs the damage, goes on from the last indexed hash
 * (so `audit verify` names the line after the gap) and appends an
 * "audit.damaged" record saying what it found.
 */
#ifndef AGENTFLOW_AUDIT_H
#define AGENTFLOW_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct audit;
struct store;

#define AUDIT_FILE		"audit.jsonl"
#define AUDIT_QUERY_MAX_BYTES	65536	/* an audit_query command's answer */

/* Opens (creating, mode 0600) dir/audit.jsonl.  NULL with err set. */
struct audit *audit_open(const char *dir, const char *self_id,
    struct store *, char *err, size_t errlen);
/*
 * Rotation by size: before a record would take the live file past
 * max_bytes (0: never), it becomes audit.jsonl.1 (.1 becomes .2 ...; the
 * one past keep, >= 1, is removed, and its records leave the index).  The
 * chain runs on across the files; `audit verify` checks them oldest first
 * from where the removed ones ended (kept in the store).
 */
void audit_set_rotation(struct audit *, uint64_t max_bytes, unsigned keep);
void audit_close(struct audit *);

/*
 * Records one action: action ("command.issued", "auth.failed", ...), actor
 * (a token name, "node:<id>", or a client address), result ("ok",
 * "refused", a command status...) and details (an object, stolen; may be
 * NULL).  Failures to write are logged, never fatal: the action itself has
 * already happened or been refused.
 */
void audit_record(struct audit *, const char *action, const char *actor,
    const char *result, json_t *details);

/*
 * What a record says about a command (new reference): its id, type,
 * origin, destination (when set), principal, its args in full (an ad-hoc
 * run's argv, a task's args) and "args_sha256", the hash of the args as
 * they travel.
 */
json_t *audit_command_details(const Agentflow__Mesh__V1__Command *);

/* The SHA-256 (hex) of bytes, as records give payloads' hashes (new
 * reference to a JSON string). */
json_t *audit_sha256_json(const void *data, size_t len);

struct audit_query {
	const char	*action;	/* NULL: any */
	const char	*actor;		/* NULL: any */
	int64_t		 since_ms;
	unsigned	 limit;		/* 0: the store's default */
	size_t		 max_bytes;	/* 0: unbounded */
};

/*
 * This node's records that match, oldest first, as the API and the
 * audit_query command answer them: {"node", "records": [...], "truncated":
 * bool} (new reference).  With max_bytes the records kept are the newest
 * that fit in that much JSON, and "truncated" says some were cut.  NULL
 * with err set when the store cannot be read.
 */
json_t *audit_query_json(struct audit *, const struct audit_query *,
    char *err, size_t errlen);

/*
 * Checks this node's audit.jsonl (audit_chain_verify_file) and that it
 * ends at the last record indexed: {"ok": bool, "records": n, "file":
 * path, "line": n?, "error": why?} (new reference).
 */
json_t *audit_verify_json(struct audit *);

#endif
