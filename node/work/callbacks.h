/*
 * Job result callbacks: the issuing node POSTs a job's result to the URL
 * the submitter named, signed, and tries again until the receiver answers
 * 2xx or the callback's deadline passes.
 *
 * Each request carries
 *   Content-Type: application/json
 *   X-AgentFlow-Job: <job id>
 *   X-AgentFlow-Attempt: <1, 2, ...>
 *   X-AgentFlow-Timestamp: <Unix ms when this attempt was signed>
 *   X-AgentFlow-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>
 * so a receiver checks the signature with the secret it shares with the
 * submitter and refuses a timestamp older than it allows (a replayed
 * delivery); the body is the same on every attempt, the timestamp and
 * signature are new each time.
 *
 * Attempts are spaced by exponential backoff with jitter (rng_jitter):
 * base, 2 base, 4 base ... up to the cap.  A callback is
 *
 *   waiting --callbacks_fire (the job ended)--> pending
 *   pending --2xx--> delivered
 *   pending --next attempt would fall past the deadline--> failed
 *
 * A job's callback is registered when the job is submitted (waiting: the
 * URL and secret kept here, never in the job's record) and fired with the
 * result's body when the job ends, however long after and across
 * restarts.
 *
 * Every callback and every attempt is in the store (store_callbacks.h), so
 * a restart goes on where it was: what was pending is tried again at its
 * next time.  An attempt in flight when the node stopped counts as not
 * answered; the receiver may so see a delivery twice, with the same
 * X-AgentFlow-Job, and should treat a repeat as one delivery.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_CALLBACKS_H
#define AGENTFLOW_CALLBACKS_H

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct callbacks;
struct rng;
struct store;

#define CALLBACK_BODY_MAX	(128 * 1024)
#define CALLBACK_SECRET_MAX	256
#define CALLBACK_HEADER_SIGNATURE	"X-AgentFlow-Signature"
#define CALLBACK_HEADER_TIMESTAMP	"X-AgentFlow-Timestamp"

struct callbacks_config {
	struct store		*store;
	struct rng		*rng;
	struct evdns_base	*dns;		/* may be NULL: numeric hosts only */
	const char		*ca_path;	/* https: PEM bundle; NULL: the system's */
	uint64_t		 base_ms;	/* first retry delay; 0: 1000 */
	uint64_t		 cap_ms;	/* longest delay; 0: 300000 */
	int			 timeout_s;	/* one attempt; 0: 10 */
	/* An attempt ended (entry: {n, at_ms, ms, outcome, status}); the
	 * callback is delivered, failed or still pending (state).  May be
	 * NULL. */
	void	(*attempted)(const char *job_id, const json_t *entry,
		    const char *state, void *arg);
	void	*arg;
};

/* NULL with err when the store cannot be read.  Resumes what is pending. */
struct callbacks *callbacks_new(struct event_base *,
    const struct callbacks_config *, char *err, size_t errlen);
/* Stops; what is pending stays in the store.  NULL: no-op. */
void callbacks_free(struct callbacks *);

/* Whether url and secret would be accepted: 0, or -1 with err (for the
 * API to refuse a job before it stores it). */
int callbacks_check(const char *url, const char *secret, char *err,
    size_t errlen);
/*
 * Records job_id's callback and makes its first attempt now: 0, or -1 with
 * err (bad url or secret, body over CALLBACK_BODY_MAX, job_id already has
 * one, the store failed).  deadline_ms: wall ms after which no attempt is
 * made.
 */
int callbacks_add(struct callbacks *, const char *job_id, const char *url,
    const char *secret, const char *body, size_t len, int64_t deadline_ms,
    char *err, size_t errlen);
/*
 * Registers job_id's callback, to be fired later: 0, or -1 with err (as
 * callbacks_add).  after_ms: how long after the firing attempts go on
 * (0: 24 h).
 */
int callbacks_wait(struct callbacks *, const char *job_id, const char *url,
    const char *secret, int64_t after_ms, char *err, size_t errlen);
/* Fires job_id's waiting callback with body: its first attempt now.
 * 0, or -1 when job_id has no waiting callback or body is too large. */
int callbacks_fire(struct callbacks *, const char *job_id, const char *body,
    size_t len);

/* job_id's callback as the API shows it: {url, state, attempts,
 * next_ms, deadline_ms, history: [...]}, never the secret; NULL if none
 * (new reference). */
json_t *callbacks_get(struct callbacks *, const char *job_id);
/* Counters for /metrics: {attempts, delivered, failed, pending}. */
json_t *callbacks_counters(const struct callbacks *);

/* The signature header's value for body at timestamp_ms into out
 * ("sha256=" and 64 hex digits, NUL-terminated; outlen >= 72): 0 or -1. */
int callbacks_sign(const char *secret, int64_t timestamp_ms, const char *body,
    size_t len, char *out, size_t outlen);

#endif
