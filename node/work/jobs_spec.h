/*
 * What a job is, apart from where it runs: the states a job moves
 * through on its issuer and the rule of which moves are allowed, and the
 * one validation of a submitted job (POST /api/jobs, `agentflow submit`).
 * Pure functions, no node: the unit tests drive them directly.
 *
 *   state        entered by                         left by
 *   queued       jobs_submit; a redispatch (node     dispatch → dispatched
 *                dead, "node restarted")             deadline → expired
 *                                                    cancel → cancelled
 *                                                    requeue → queued (its
 *                                                    node cleared, a reason)
 *                                                    "node restarted" with
 *                                                    at_most_once → lost
 *   dispatched   a JOB_RUN sent (jobs.c dispatch)    answer "running" → running
 *                                                    no answer → queued (same
 *                                                    epoch, same node)
 *                                                    node dead → queued
 *                                                    (epoch + 1) | lost
 *   running      the executor started the task       result → succeeded |
 *                                                    failed | cancelled
 *                                                    node dead → queued
 *                                                    (epoch + 1) | lost
 *   succeeded, failed, cancelled, expired, lost      final: never left
 *
 * A final job is never dispatched again and takes no other result: an
 * older epoch's result is recorded in its history as a fenced run.
 */
#ifndef AGENTFLOW_JOBS_SPEC_H
#define AGENTFLOW_JOBS_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "principal.h"

/* What travels must fit one command's args (64 KiB, the frame codec's
 * bound): a payload leaves 1 KiB to the dispatch's envelope (jobs_submit
 * checks the whole), a result 2 KiB to its reason and times. */
#define JOBS_PAYLOAD_MAX	(65536 - 1024)
#define JOBS_RESULT_MAX		(65536 - 2048)
#define JOBS_DEADLINE_DEFAULT_MS	(24LL * 3600 * 1000)
#define JOBS_DEADLINE_MAX_MS	(30LL * 24 * 3600 * 1000)
#define JOBS_KEY_MAX		128

enum jobs_state {
	JOBS_QUEUED,
	JOBS_DISPATCHED,
	JOBS_RUNNING,
	JOBS_SUCCEEDED,
	JOBS_FAILED,
	JOBS_CANCELLED,
	JOBS_EXPIRED,
	JOBS_LOST,
	JOBS_NSTATES
};

/* "queued", ...; NULL for a value out of range. */
const char *jobs_state_name(enum jobs_state);
/* The state named s, or -1. */
int jobs_state_parse(const char *s);
int jobs_state_final(enum jobs_state);
/* Whether a job may move from one state to another (the table above). */
int jobs_state_may(enum jobs_state from, enum jobs_state to);

/* The principal node-internal job commands (JOB_RESULT, JOB_FENCE) carry:
 * "node:<id>" of the node that issues them, role admin.  No API token's
 * name has a colon, so no user can issue one. */
void jobs_node_principal(struct principal *, const char *node_id);
/* 1 when a command carries its origin's node principal. */
int jobs_from_node(const char *principal, const char *origin);

/* What a peer may tell: an executor ends a run succeeded, failed or
 * cancelled (expired and lost are the issuer's own verdicts); 1 when
 * state s is one of those. */
int jobs_state_from_executor(int s);

/* Epochs a peer sends are bounded: at most JOBS_EPOCH_MAX, and at most
 * JOBS_EPOCH_AHEAD above the newest held for that issuer's job (held 0:
 * none), so a JOB_RUN or JOB_FENCE cannot claim a job's whole future.
 * 1 when epoch may be taken. */
#define JOBS_EPOCH_MAX		1000000000ULL
#define JOBS_EPOCH_AHEAD	1000ULL
int jobs_epoch_ok(uint64_t epoch, uint64_t held);

/* A peer's text (a reason) as it may be kept: at most len - 1 bytes of
 * it, control bytes as '?', cut on a character boundary; returns out. */
#define JOBS_REASON_MAX		1024
char *jobs_clean_text(const char *in, char *out, size_t len);

/*
 * A submitted job, checked: returns the job's stored fields as a new
 * object {task | command, args?, payload (text or null), to, selector?
 * (object, for any:SEL and SEL), node? (for a named node), fanout? (true
 * for "all" and SEL: jobs_fanout.h), key?, deadline_ms
 * (relative), at_most_once, args_hash}, or NULL with err naming the
 * field.  *status is the HTTP status to answer (400, or 413 for an
 * oversized payload).
 */
json_t *jobs_spec_parse(const json_t *body, int *status, char *err,
    size_t errlen);
/* The args_hash of a job's (or a JOB_RUN's args') task, command, args and
 * payload: what the executor recomputes (new reference). */
json_t *jobs_spec_args_hash(const json_t *job);

#endif
