/*
 * The command layer's insides, shared by its two files: commands.c (the
 * issuer's records, their timers and retransmissions, results accepted)
 * and command_route.c (copies and results on their way through the mesh,
 * and execution on the destination).  Nothing outside them includes this.
 */
#ifndef AGENTFLOW_COMMANDS_PRIV_H
#define AGENTFLOW_COMMANDS_PRIV_H

#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "commands.h"
#include "frame_codec.h"
#include "mesh.pb-c.h"
#include "prom.h"

struct audit_rate;
struct command_proof;
struct hmap;


/* The oldest another node's command may be: well inside the 30 days its
 * at-most-once record is kept (work.c), clocks' skew included. */
#define COMMAND_MAX_AGE_MS	(7LL * 24 * 3600 * 1000)

#define DEFAULT_TIMEOUT_MS	30000
#define RETRY_FIRST_MS		1000
#define RETRY_MAX_MS		8000
#define HOP_LIMIT		8
#define ID_MAX			64
#define ARGS_MAX		FRAME_CODEC_MAX_PAYLOAD
#define KEY_MAX			FRAME_CODEC_MAX_NAME

struct record {
	struct commands	*c;
	char		 id[ID_MAX];
	json_t		*rec;		/* the record as the API shows it */
	json_t		*pending;	/* object: node id → true */
	struct event	*timer;
	uint64_t	 issued_us;	/* monotonic, for round-trip times */
	uint8_t		*wire;		/* the packed Command, no destination */
	size_t		 wire_len;
	struct event	*retry;		/* armed while a remote copy is pending */
	unsigned	 retry_ms;
	/* Proves each copy (and retransmission) for its destination; NULL:
	 * a principal without a signed token's key. */
	struct command_proof *proof;
	void		(*done)(const char *, const json_t *, void *);
	void		*done_arg;
	TAILQ_ENTRY(record) dead;	/* on c->dead once DONE */
};

TAILQ_HEAD(records, record);

struct commands {
	struct event_base	*base;
	struct commands_config	 cfg;
	struct hmap		*active;	/* id → struct record */
	struct records		 dead;		/* DONE, freed by reap_cb */
	struct event		*reap;
	uint64_t		 issued, executed, duplicates, forwarded;
	uint64_t		 results_forwarded, unreachable, timeouts, late;
	uint64_t		 dropped, retransmitted;
	uint64_t		 forged, forged_results;	/* unsigned by their maker */
	/* Seconds from issuing to each destination's answer (timeouts are
	 * not answers: they count in timeouts, not here). */
	struct prom_hist	 latency;
	/* When each quiet read's rows were last written (audit_rate.h). */
	struct audit_rate	*quiet_rows;
};

/* Whether the audit leaves out this row (action: "command.issued",
 * forwarded, executed, done) of a command that went well: a quiet type's
 * (commands_config.quiet) already written for its principal, origin and
 * type within the hour (audit_rate.h; commands.c). */
int commands_quiet_skip(struct commands *, const char *action,
    const char *principal, const char *origin, int type);
/* Sends cmd towards hop: 0, or -1 when no frame can leave (command_route.c). */
int command_route_send(struct commands *, const char *hop,
    const Agentflow__Mesh__V1__Command *);
/* Executes cmd here when it is for this node, else hands it on towards
 * its destination or answers UNREACHABLE; from is the peer it came from,
 * NULL for our own (command_route.c). */
void command_route(struct commands *, const char *from,
    const Agentflow__Mesh__V1__Command *);
/* A result that reached its requester, this node: recorded when it is
 * the awaited, signed answer of a pending destination (commands.c). */
void commands_accept(struct commands *,
    const Agentflow__Mesh__V1__CommandResult *);

#endif
