/*
 * Schedules in the node's database: every schedule of the mesh as this
 * node holds it (node/work/schedules.h), tombstones included, one row a
 * name; the row's body is the merged record (schedules.c's JSON).
 */
#ifndef AGENTFLOW_STORE_SCHEDULES_H
#define AGENTFLOW_STORE_SCHEDULES_H

#include <stdint.h>

struct store;

/* Stores (or replaces) name's record.  0, or -1 with store_error(). */
int store_schedule_put(struct store *, const char *name, int64_t updated_ms,
    const char *json);
/* Forgets name (a collected tombstone).  0, or -1. */
int store_schedule_del(struct store *, const char *name);
/* cb(arg, body) for every row (non-zero from cb stops); 0, or -1. */
int store_schedules_all(struct store *, int (*cb)(void *arg, const char *json),
    void *arg);

#endif
