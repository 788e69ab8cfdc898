/*
 * What a test-only build of agentflow-node adds to the node (main.c calls
 * these when built with AGENTFLOW_TEST_HOOKS): node_extra.c, a newer
 * version's stand-in (agentflow-node-extra); node_forger.c, a member that
 * tries to speak for others (agentflow-node-forger).
 */
#ifndef AGENTFLOW_TEST_HOOKS_H
#define AGENTFLOW_TEST_HOOKS_H

struct node;

/* Starts the build's timer on n's loop. */
void test_hooks_start(struct node *n);
/* Stops it; before node_free(). */
void test_hooks_stop(void);

#endif
