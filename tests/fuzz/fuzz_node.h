/*
 * The slice of a node the fuzz targets drive, without a network: a real
 * store (and audit log) in a private temporary directory, state sync and
 * commands on one event_base, with no links (sync and commands then send
 * nothing, and routing finds no next hop).  One per process, made in
 * LLVMFuzzerInitialize.  State accumulates across inputs as on a node that
 * stays up, but every FUZZ_NODE_INPUTS inputs fuzz_node_next() tears the
 * node down and makes it again in a fresh directory, so that an input's
 * cost does not grow with everything the fuzzer invented before it
 * (thousands of origins, pending commands).  Header-only, like fuzz_util.h.
 *
 * Commands addressed to us run fuzz_exec below, which answers a ping and
 * refuses the rest: executing tasks is out of scope here.
 */
#ifndef AGENTFLOW_FUZZ_NODE_H
#define AGENTFLOW_FUZZ_NODE_H

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>
#include <jansson.h>

#include "audit.h"
#include "commands.h"
#include "fuzz_util.h"
#include "log.h"
#include "rng.h"
#include "routing.h"
#include "store.h"
#include "sync.h"
#include "sync_json.h"

#define FUZZ_SELF_ID	"fuzz-self"
#define FUZZ_NODE_INPUTS	2000

struct fuzz_node {
	struct event_base	*base;
	struct store		*store;
	struct audit		*audit;
	struct rng		*rng;
	struct sync		*sync;
	struct commands		*commands;
	json_t			*addresses, *labels;
	/* sync_set_applied's, set before fuzz_node_init (NULL: none). */
	void			(*applied)(const struct store_event *, void *);
	unsigned		 generation;	/* data directory node-<generation> */
	unsigned		 inputs;	/* since it was made */
	char			 dir[600];
};

static inline int
fuzz_exec(void *arg, const Agentflow__Mesh__V1__Command *cmd,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	(void)arg;
	(void)args;
	if (cmd->type == AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_PING) {
		*body = json_pack("{s:b}", "pong", 1);
		return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK;
	}
	snprintf(err, errlen, "not executed by the fuzzer");
	return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_REFUSED;
}

static inline void
fuzz_node_fail(const char *what, const char *why)
{
	fprintf(stderr, "fuzz: %s: %s\n", what, why);
	exit(1);
}

static inline void
fuzz_node_init(struct fuzz_node *n)
{
	struct sync_config sc = { 0 };
	struct commands_config cc = { 0 };
	const char *dir = n->dir;
	uint64_t inc;
	char err[512];

	if (n->base == NULL) {
		fuzz_log_init();
		if ((n->base = event_base_new()) == NULL)
			fuzz_node_fail("event_base_new", "failed");
		if ((n->rng = rng_new("agentflow-fuzz")) == NULL)
			fuzz_node_fail("rng_new", "failed");
	}
	snprintf(n->dir, sizeof(n->dir), "%s/node-%u", fuzz_tmpdir(),
	    n->generation);
	n->inputs = 0;
	if ((n->store = store_open(dir, err, sizeof(err))) == NULL)
		fuzz_node_fail("store_open", err);
	if (store_next_incarnation(n->store, &inc) != 0)
		fuzz_node_fail("store_next_incarnation", store_error(n->store));
	if ((n->audit = audit_open(dir, FUZZ_SELF_ID, n->store, err,
	    sizeof(err))) == NULL)
		fuzz_node_fail("audit_open", err);
	n->addresses = json_pack("[s]", "127.0.0.1:7443");
	n->labels = json_pack("{s:s, s:s}", "role", "fuzz", "zone", "a");
	sc.self_id = FUZZ_SELF_ID;
	sc.incarnation = inc;
	sc.addresses = n->addresses;
	sc.labels = n->labels;
	sc.store = n->store;
	sc.links = NULL;
	sc.events_kept = 10000;
	n->sync = sync_new(n->base, &sc);
	sync_set_applied(n->sync, n->applied, NULL);
	cc.self_id = FUZZ_SELF_ID;
	cc.store = n->store;
	cc.routing = sync_routing(n->sync);
	cc.links = NULL;
	cc.audit = n->audit;
	cc.rng = n->rng;
	cc.exec = fuzz_exec;
	n->commands = commands_new(n->base, &cc);
}

/* Closes everything but the loop and the generator; removes the data. */
static inline void
fuzz_node_clear(struct fuzz_node *n)
{
	commands_free(n->commands);
	sync_free(n->sync);
	audit_close(n->audit);
	store_close(n->store);
	json_decref(n->addresses);
	json_decref(n->labels);
	(void)tmpdir_remove(n->dir);
}

/* Runs what an input made ready (our batch flush, timers due). */
static inline void
fuzz_node_pump(struct fuzz_node *n)
{
	event_base_loop(n->base, EVLOOP_NONBLOCK);
}

/* At the end of an input: every FUZZ_NODE_INPUTS, a fresh node. */
static inline void
fuzz_node_next(struct fuzz_node *n)
{
	if (++n->inputs < FUZZ_NODE_INPUTS)
		return;
	fuzz_node_clear(n);
	n->generation++;
	fuzz_node_init(n);
}

#endif
