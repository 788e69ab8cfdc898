/*
 * Schedules as mesh state: every node holds every schedule (the
 * definitions and each one's last fire), and the newest word on each
 * wins everywhere whatever order the words arrive in.  A definition is
 * ordered by (updated_ms, author), a last fire by (fire_ms,
 * fire_updated_ms), each apart (mesh.proto, ScheduleUpdate): merging is
 * commutative and idempotent, so events and snapshots may cross.
 *
 * Our changes go out as ScheduleUpdate events; every schedule we hold
 * rides our snapshots (a node that joins late has them all from any
 * member).  Bounded: SYNC_SCHEDULES_MAX live definitions and
 * SYNC_SCHEDULE_TOMBSTONES_MAX deletions (kept, never collected by age).
 * The store is node/work/schedules.c's: it seeds this view at start and
 * is told of every change another node's word made (the hook).
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SYNC_SCHEDULES_H
#define AGENTFLOW_SYNC_SCHEDULES_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct sync;

#define SYNC_SCHEDULES_MAX	128	/* live definitions */
/* Deletions remembered, so a node that was away cannot bring a deleted
 * schedule back; past it the oldest is forgotten.  Live and deleted
 * together are FRAME_CODEC_MAX_SCHEDULES. */
#define SYNC_SCHEDULE_TOMBSTONES_MAX	1024
/* A word dated further ahead of our clock than this is refused: a
 * member's clock years ahead (or a hostile one) would otherwise silence a
 * schedule for good. */
#define SYNC_SCHEDULE_AHEAD_MAX_MS	(24LL * 3600 * 1000)

/*
 * Our word on a schedule: merged into what we hold and, when it changed
 * anything, emitted as an event.  u is copied (it may point into the
 * record held, which a change frees: read nothing of it after).  1 when it changed what
 * we hold, 0 when what we hold was as new, -1 when u breaks mesh.proto's
 * bounds or the view is full (logged).
 */
int sync_emit_schedule(struct sync *, const Agentflow__Mesh__V1__ScheduleUpdate *u);
/* A schedule from our store (at start): merged, not emitted. */
void sync_schedules_seed(struct sync *,
    const Agentflow__Mesh__V1__ScheduleUpdate *u);
/* What we hold of name, or NULL; valid until the next change. */
const Agentflow__Mesh__V1__ScheduleUpdate *sync_schedules_get(
    const struct sync *, const char *name);
/* fn for every schedule held, tombstones too (fn must not change the
 * view). */
void sync_schedules_foreach(const struct sync *,
    void (*fn)(const Agentflow__Mesh__V1__ScheduleUpdate *, void *), void *arg);
/*
 * Who made u's definition: u->principal when principal_ms dates it to
 * that definition (equals updated_ms) and principal_author, when set,
 * is the digest of its author; else "" (nobody named, or a definition a
 * version without these fields changed or took while passing on the
 * principal before it: mesh.proto).  Valid while u is.
 */
const char *sync_schedules_principal(
    const Agentflow__Mesh__V1__ScheduleUpdate *u);
/* ScheduleUpdate.principal_author of a definition node_id made: 1 +
 * FNV-1a 64 of the id mod FRAME_CODEC_MAX_PRINCIPAL_AUTHOR. */
uint32_t sync_schedules_author_digest(const char *node_id);
/* How many live (not deleted) schedules the view holds. */
size_t sync_schedules_count(const struct sync *);
/*
 * fn(merged, arg) after another node's word changed what we hold of a
 * schedule (merged: what we hold now, valid during the call).  NULL
 * fn: none.
 */
void sync_set_schedule_hook(struct sync *,
    void (*fn)(const Agentflow__Mesh__V1__ScheduleUpdate *, void *), void *arg);

#endif
