/*
 * Commands: issued through the local API on any node, routed to their
 * target nodes over the links (directly, or hop by hop along the shortest
 * path of the link-state graph), executed there at most once per id, and
 * answered by results routed back the same way.
 *
 * On the issuing node each command has a record: its request, the
 * destinations it fanned out to, and each destination's result in the
 * order they arrived.  A destination that has not answered by the
 * command's deadline (or the per-node timeout) gets a "timeout" result,
 * so every record ends "done".  Records are persisted (store_work.h).
 *
 * Loop thread only, like everything in the node.
 */
#ifndef AGENTFLOW_COMMANDS_H
#define AGENTFLOW_COMMANDS_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "principal.h"

struct audit;
struct commands;
struct links;
struct origin_keys;
struct prom_hist;
struct rng;
struct routing;
struct store;

/*
 * Executes a command addressed to this node; returns a CommandStatus and
 * sets *body (an object, or NULL) or err.  Runs synchronously: a command
 * that starts work (run_task) answers once it has started.
 */
typedef int (*commands_exec_fn)(void *arg, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);

struct commands_config {
	const char	*self_id;
	struct store	*store;
	struct routing	*routing;	/* next hops and selectors (borrowed) */
	struct links	*links;		/* may come later: commands_set_links */
	struct audit	*audit;
	struct rng	*rng;
	uint64_t	 timeout_ms;	/* per-node answer timeout; 0: 30 s */
	commands_exec_fn exec;
	/* A record changed (a result arrived, or it finished). */
	void		(*changed)(const char *id, void *arg);
	/* Sends a Command or CommandResult frame to neighbour peer: 0, or -1
	 * when it cannot go.  NULL: links_send_frame over links (the unit
	 * tests' fake network sets it). */
	int		(*send)(void *arg, const char *peer,
			    const Agentflow__Mesh__V1__Frame *);
	void		*arg;		/* exec's, changed's and send's */
	/* Signs what we issue and answer, checks what others do
	 * (command_sign.h); borrowed.  NULL: nothing signed or checked (the
	 * unit tests' fake network). */
	struct origin_keys *keys;
	/* Whether a command's principal may ask for it (its proof,
	 * command_sign.h): 0, or -1 with why; refused as forged.  NULL:
	 * not checked. */
	int		(*principal_check)(void *arg,
			    const Agentflow__Mesh__V1__Command *, char *err,
			    size_t errlen);
	/* Whether a command type is a read the audit thins when it goes
	 * well (command_exec_quiet): its command.issued, forwarded,
	 * executed and done rows are each written once an hour per
	 * principal and origin node (audit_rate.h); a failure or refusal
	 * is always written.  NULL: every command is audited in full. */
	int		(*quiet)(int type);
};

struct commands *commands_new(struct event_base *, const struct commands_config *);
void commands_set_links(struct commands *, struct links *);
void commands_free(struct commands *);

struct commands_request {
	const json_t	*target;	/* "node-id", "all", "k=v,k2=v2", {"labels": {}} */
	const char	*type;		/* "run_task", "ping", ... */
	const json_t	*args;		/* object, or NULL for {} */
	const char	*idempotency_key; /* or NULL */
	uint64_t	 deadline_ms;	/* from now; 0: none (the per-node timeout applies) */
	/* Who asks (borrowed for the call; NULL: nobody named).  Its name
	 * travels as Command.principal and is the audit's actor; its token
	 * id goes in the audit's details; its role is what the caller
	 * checked, for the executing node to check again once the wire
	 * carries it. */
	const struct principal *principal;
	/* Called once with the record when it is done (every destination
	 * answered or timed out), possibly before commands_issue returns;
	 * never when the node stops first.  rec is borrowed for the call.
	 * NULL: not called. */
	void		(*done)(const char *id, const json_t *rec, void *arg);
	void		*done_arg;
};

/*
 * Issues a command: 0 with its id (for a repeated idempotency key, the
 * first command's id, and *duplicate = 1), or -1 with err saying what is
 * wrong with the request (err_code gets a short machine-readable code).
 */
int commands_issue(struct commands *, const struct commands_request *,
    char *id, size_t idlen, int *duplicate, const char **err_code, char *err,
    size_t errlen);
/* A record as JSON (new reference), or NULL if unknown. */
json_t *commands_get(struct commands *, const char *id);
/* Recent records, newest first (new reference). */
json_t *commands_list(struct commands *, unsigned limit);

/* Command and CommandResult frames from the links. */
void commands_frame(struct commands *, const char *peer,
    const Agentflow__Mesh__V1__Frame *);

/* Counters for /metrics (new reference). */
json_t *commands_counters(const struct commands *);
/* Command latency, issued here → each destination's answer, in seconds
 * (valid while c lives; for /metrics). */
const struct prom_hist *commands_latency(const struct commands *);

#endif
