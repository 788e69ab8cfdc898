/*
 * The node's work subsystems (audit, tasks, alerts, commands) started and
 * stopped together, and the hooks main.c calls into them.
 */
#ifndef AGENTFLOW_WORK_H
#define AGENTFLOW_WORK_H

#include <stddef.h>

#include "mesh.pb-c.h"

struct node;

/* After store, sync and links exist.  -1 with err on a bad --tasks or
 * --alerts file or an unwritable audit log. */
int work_start(struct node *, char *err, size_t errlen);
/* Stops running tasks (recorded as failed) and frees the subsystems. */
void work_stop(struct node *);
/* n->incarnation changed: new task and alert ids carry the new one, so
 * they never repeat ids a previous life of the same incarnation used. */
void work_set_incarnation(struct node *);
/* Adds our part to a status sample (frozen) and feeds the alert rules. */
void work_status(struct node *, Agentflow__Mesh__V1__NodeStatus *);
/* Frames from the links: commands and results here, the rest to sync. */
void work_frame(struct node *, const char *peer,
    const Agentflow__Mesh__V1__Frame *);

#endif
