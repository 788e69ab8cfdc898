/*
 * For schedules.c and schedules_fire.c only: the module's state and the
 * calls between its two files.
 */
#ifndef AGENTFLOW_SCHEDULES_PRIV_H
#define AGENTFLOW_SCHEDULES_PRIV_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct hmap;
struct node;

struct schedules {
	struct node	*n;
	struct wall_timer	*tick;	/* SCHEDULES_TICK_MS, on the wall grid */
	/* name → struct sched_rt (schedules_fire.c): what this node
	 * computed of each schedule's fire times. */
	struct hmap	*rt;
	/* Since when this node has seen a majority of the known members
	 * alive without a break; 0: it does not now (schedules_fire.c). */
	int64_t		 majority_since_ms;
	/* id -> wall ms this node last saw it alive (quorum_seen_note):
	 * a fire time's owner is held while a member drops out of sight. */
	json_t		*seen;
};

/* Our word on a schedule: into the mesh's view, out as an event, and
 * into the store when it changed anything; sync_emit_schedule's return.
 * u may point into the record held (a copy of it changed): that record
 * is gone after the call. */
int schedules_emit(struct schedules *,
    const Agentflow__Mesh__V1__ScheduleUpdate *);
/* The definition of u (schedule_spec.h's stored form), or NULL for a
 * tombstone or a definition that is not a JSON object (new reference). */
json_t *schedules_def(const Agentflow__Mesh__V1__ScheduleUpdate *);

/* schedules_fire.c: one turn of the clock at now (unix ms); the runtime
 * state's end. */
void schedules_tick(struct schedules *, int64_t now);
void schedules_rt_free(struct schedules *);

#endif
