/*
 * For rollouts.c (the steps and the calls) and rollouts_store.c (a
 * rollout as JSON, and kept in the store).  Callers elsewhere use
 * rollouts.h.
 */
#ifndef AGENTFLOW_ROLLOUTS_PRIV_H
#define AGENTFLOW_ROLLOUTS_PRIV_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "node_id.h"
#include "principal.h"
#include "rollouts.h"
#include "service_spec.h"

#define KEEP		16		/* rollouts kept, the newest */
#define ACTIVE_MAX	4		/* under way at once */
#define NODES_MAX	64
#define PARALLEL_MAX	8
#define DEF_MAX		32768		/* a definition, as compact JSON: with
					 * the rest of a service it must fit a
					 * command's 64 KiB answer */
#define TICK_MS		250
#define CMD_DEADLINE_MS	30000
#define RETRY_MS	30000
#define STORE_KEY	"rollouts"
#define STORE_MAX	(8u << 20)

enum ro_state { RO_RUNNING, RO_PAUSED, RO_SUCCEEDED, RO_FAILED, RO_ABORTED };
extern const char *const rollouts_ro_names[];	/* by enum ro_state */

enum rn_state { RN_PENDING, RN_UPDATING, RN_HEALTHY, RN_ROLLING_BACK,
    RN_ROLLED_BACK, RN_ERROR, RN_UNTOUCHED };
extern const char *const rollouts_rn_names[];	/* by enum rn_state */

/* Where a node's step is: the command in flight, or what it waits for. */
enum rn_phase { PH_NONE, PH_GET, PH_PUT, PH_START, PH_WATCH, PH_BACK,
    PH_BACK_DESIRED };

struct rn {
	char		 node[NODE_ID_MAX + 1];
	enum rn_state	 state;
	enum rn_phase	 phase;
	int		 send;		/* phase's command is to go out */
	int		 waiting;	/* a command is in flight */
	char		 cid[64];
	json_t		*previous;	/* its definition before; NULL: none */
	int		 had_previous;
	int		 previous_running;
	char		 version[81];
	char		 previous_version[81];
	char		 reason[512];
	uint64_t	 started_ms, finished_ms;
	uint64_t	 put_ms;	/* the deadline counts from here */
	uint64_t	 healthy_since_ms;	/* clock_mono_ms */
	uint64_t	 retry_ms, first_fail_ms;	/* clock_mono_ms */
};

struct rollout {
	char		 id[40];
	char		 service[SERVICE_NAME_MAX + 1];
	json_t		*definition;
	int		 has_checks;
	char		 principal[PRINCIPAL_NAME_MAX + 16];
	enum principal_role role;
	enum ro_state	 state;
	int		 ending;	/* failed or aborted: no node starts */
	int		 aborted;	/* those under way go back too */
	char		 reason[600];
	unsigned	 max_parallel, deadline_s, min_healthy_s;
	uint64_t	 created_ms, updated_ms, finished_ms;
	struct rn	*nodes;
	size_t		 nn;
};

struct rollouts {
	struct node	*n;
	struct rollout	*v[KEEP];
	size_t		 nv;
	struct event	*tick;
	int		 advancing;	/* inside advance */
};

/* A rollout as the API shows it; keep: with what a restart needs to go
 * on (new reference). */
json_t *rollout_json(const struct rollout *, int keep);
void rollout_free(struct rollout *);
/* dst gets v's text, or "" when v is not a string. */
void rollouts_copy_text(char *dst, size_t len, const json_t *v);
/* Every rollout into the store's meta table, and back at start. */
void rollouts_save(struct rollouts *);
void rollouts_load(struct rollouts *);

#endif
