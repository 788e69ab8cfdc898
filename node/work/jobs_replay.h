/*
 * Replaying jobs on their issuer (issue 16, point 7): a job that ended
 * failed, cancelled, lost or expired runs again as a new job with the
 * same task or argv, args, payload, placement and at_most_once, a fresh
 * deadline of the same length, submitted by the caller through
 * jobs_submit (so a signed token's caller gets the new job's own grant).
 * The new record says "replay_of": FIRST; the first gets "replayed_as"
 * (the newest replay) and a history entry "replayed" {as, principal}.
 *
 * Not copied: the idempotency key (the replay is a new run on purpose)
 * and the callback (its secret is never stored, so it cannot be).
 *
 * A fenced run alone does not make a job replayable: fencing records a
 * run that lost its lease, while the job itself went on (to another node,
 * or to lost or expired, both replayable).  A succeeded job is not
 * replayed: submit it again.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_JOBS_REPLAY_H
#define AGENTFLOW_JOBS_REPLAY_H

#include <jansson.h>
#include <stddef.h>

#include "principal.h"

struct jobs;

/* At most this many jobs are replayed by one batch call (the rest are
 * counted and the answer says "cut"). */
#define JOBS_REPLAY_BATCH_MAX	1000

/*
 * Replays job id for principal p (may be NULL).  Returns the HTTP status:
 * 202 with the new job's id in newid; 404 unknown here; 409 a job still
 * open or not in a replayable state; other statuses as jobs_submit's.
 * err says why.
 */
int jobs_replay(struct jobs *, const char *id, const struct principal *p,
    char *newid, size_t newidlen, char *err, size_t errlen);

/*
 * A batch replay (POST /api/jobs/replay): req is {states?: [names]
 * (default ["failed"]), since_ms?: submitted at or after, task?, node?,
 * dry_run?, again?}.  Each matching job issued here and not replayed
 * before (unless again) is replayed, newest first, at most
 * JOBS_REPLAY_BATCH_MAX.  A fanned-out job's children are left out: its
 * parent, failed when one of them failed, is replayed whole.  Returns the answer {pairs: [{of, as}],
 * matched (counted up to one past the bound), cut, dry_run, errors:
 * [{of, status, error}]} (new reference) with
 * *status 200, or NULL with *status 400 and err naming the field.
 */
json_t *jobs_replay_batch(struct jobs *, const json_t *req,
    const struct principal *p, int *status, char *err, size_t errlen);

/* The two rules above as pure functions, for the unit test: the submit
 * body that runs job record rec again (new reference), and whether req
 * is a well-formed batch request (0, or -1 with err naming the field). */
json_t *jobs_replay_body(const json_t *rec);
int jobs_replay_check(const json_t *req, char *err, size_t errlen);

#endif
