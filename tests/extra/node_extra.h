/*
 * The test-only extra build's additions (node_extra.c): started by main.c
 * when built with AGENTFLOW_TEST_EXTRA_KIND.
 */
#ifndef AGENTFLOW_NODE_EXTRA_H
#define AGENTFLOW_NODE_EXTRA_H

struct node;

/* Starts the extra kind's timer on n's loop. */
void node_extra_start(struct node *n);
/* Stops it; before node_free(). */
void node_extra_stop(void);

#endif
