/*
 * The audit log: who did what, when, and with what result — every command
 * issued, forwarded, executed or refused here, every write through the
 * API, every authentication failure.
 *
 * Each record is appended to <data dir>/audit.jsonl (one JSON object per
 * line, opened O_APPEND and never rewritten) and indexed in the store's
 * audit table for GET /api/audit.  The file is the record of truth; the
 * table is its index.
 */
#ifndef AGENTFLOW_AUDIT_H
#define AGENTFLOW_AUDIT_H

#include <jansson.h>
#include <stddef.h>

struct audit;
struct store;

#define AUDIT_FILE	"audit.jsonl"

/* Opens (creating, mode 0600) dir/audit.jsonl.  NULL with err set. */
struct audit *audit_open(const char *dir, const char *self_id,
    struct store *, char *err, size_t errlen);
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

#endif
