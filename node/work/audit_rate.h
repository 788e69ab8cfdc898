/*
 * How often a quiet read (command_exec_quiet: history_query) is audited
 * when it goes well: each of its rows (command.issued, forwarded,
 * executed, done) once per principal, origin node and command type an
 * hour, so the audit still says who read what from where while a node
 * page left open on a remote node, asking once a minute, adds a row an
 * hour instead of sixty.  Failures and refusals do not ask: they are
 * always written.  The table is memory only (a restart audits the next
 * read again) and bounded: when full, the key written longest ago makes
 * room.
 */
#ifndef AGENTFLOW_AUDIT_RATE_H
#define AGENTFLOW_AUDIT_RATE_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_RATE_KEYS		256
#define AUDIT_RATE_WINDOW_MS	(3600ULL * 1000)

struct audit_rate;

/* A table of at most keys keys (>= 1), each written at most once every
 * window_ms. */
struct audit_rate *audit_rate_new(size_t keys, uint64_t window_ms);
void audit_rate_free(struct audit_rate *);
/*
 * 1 when the row for (principal, origin, type, action) is to be written
 * at now_ms (a monotonic clock): none of its key written in the window
 * before, and now_ms is kept as its time; 0 when one was.  NULL strings
 * read as empty.
 */
int audit_rate_admit(struct audit_rate *, const char *principal,
    const char *origin, int type, const char *action, uint64_t now_ms);
/* Keys held (at most the table's keys). */
size_t audit_rate_count(const struct audit_rate *);

#endif
