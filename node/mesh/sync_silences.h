/*
 * Silences as mesh state (node/work/silences.h holds back the notices):
 * every node holds every silence, whichever node it was added on, so a
 * silence added anywhere holds back the matching notices everywhere (as
 * one Alertmanager silence covers its cluster).  Carried as schedules are
 * (sync_schedules.h): our changes go out as SilenceUpdate events, every
 * silence we hold rides our snapshots, and the merge is commutative and
 * idempotent.  A silence is never edited, so the rule is a two-phase
 * set: a removal wins over the silence, of two removals the newer
 * (updated_ms, author).  A silence or removal whose end has passed is
 * forgotten: it holds nothing back any more, and a word about it arriving
 * later is forgotten as soon.
 *
 * Another node's word is checked before it is taken: dated at most a day
 * ahead; in an event its author the signing origin (a snapshot's author
 * is only the word's claim); a removal of a live silence held here
 * ending no later than it, any other at most 90 days and a day after it
 * was made; then the hook's check (silences.c, the API's own rules) for
 * every word.  A bad one is dropped and counted
 * (sync_silences_refused), never a reason to close the link; the removal
 * held already, heard again, is neither.  A removal of a live silence
 * keeps the later of both ends, so the silence cannot outlive it.
 *
 * Bounded on every path: SYNC_SILENCES_MAX live (past it a new one is
 * refused) and SYNC_SILENCE_TOMBSTONES_MAX removed.  Each author (the
 * node a silence was added on) has a share: another node's event adding
 * a silence past SYNC_SILENCE_SHARE_MAX of its author's live ones is
 * refused and counted, so one member cannot take every place.  Past the
 * removals' bound one is forgotten, never one that ranks above the new
 * one: lowest a snapshot's claim (a snapshot's author is not
 * authenticated: never charged a share, it never pushes out a signed
 * word), then a removal its author signed of an id not live here (at
 * most SYNC_SILENCE_SHARE_MAX of one author: its 17th forgets its own),
 * then a removal of a silence live here when it came (what stops that
 * silence coming back: never charged a share), then ours, never for
 * another's; of one rank the one that ends first.  A snapshot's word
 * pushes out only another snapshot's.  A word claiming to
 * be ours that we do not hold is refused.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SYNC_SILENCES_H
#define AGENTFLOW_SYNC_SILENCES_H

#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct sync;

#define SYNC_SILENCES_MAX		64	/* live: silences.h's SILENCES_MAX */
#define SYNC_SILENCE_TOMBSTONES_MAX	64
/* One author's live silences, and removals it signed of ids not live
 * here: silences.h's SILENCES_SHARE_MAX. */
#define SYNC_SILENCE_SHARE_MAX		16
/* A word dated further ahead of our clock than this is refused, as
 * schedules' are (SYNC_SCHEDULE_AHEAD_MAX_MS). */
#define SYNC_SILENCE_AHEAD_MAX_MS	(24LL * 3600 * 1000)
/* A removal ends at most this plus SYNC_SILENCE_AHEAD_MAX_MS after it
 * was made (silences.h's SILENCES_FOR_MAX_MS and SILENCES_AHEAD_MAX_MS:
 * it outlives the silence it removes, no more). */
#define SYNC_SILENCE_FOR_MAX_MS		(90ULL * 86400 * 1000)

/*
 * Our word on a silence: merged and, when it changed anything, emitted
 * as an event.  u is copied.  1 when it changed what we hold, 0 when not,
 * -1 when u breaks mesh.proto's bounds or the view is full (logged).
 */
int sync_emit_silence(struct sync *, const Agentflow__Mesh__V1__SilenceUpdate *u);
/* A silence from our store (at start): merged, not emitted; trusted as
 * ours when its author is this node, else held as a snapshot's claim
 * (the store does not say whether its author signed it). */
void sync_silences_seed(struct sync *,
    const Agentflow__Mesh__V1__SilenceUpdate *u);
/* What we hold of id, or NULL; valid until the next change. */
const Agentflow__Mesh__V1__SilenceUpdate *sync_silences_get(
    const struct sync *, const char *id);
/* Whether another node's word named id as ours while we held nothing of
 * it (a life before a wiped data directory, or an invention): refused,
 * but an id not to give again (silences_set_taken). */
int sync_silences_claimed(const struct sync *, const char *id);
/* Another node's words refused (bad, dated ahead, no room, past its
 * author's share, or claiming to be ours). */
uint64_t sync_silences_refused(const struct sync *);
/*
 * check(u, arg) before another node's word is taken: 0 takes it, -1
 * drops it (counted).  changed(merged, arg) after another node's word
 * changed what we hold (merged valid during the call).  NULL: none.
 */
void sync_set_silence_hooks(struct sync *,
    int (*check)(const Agentflow__Mesh__V1__SilenceUpdate *, void *),
    void (*changed)(const Agentflow__Mesh__V1__SilenceUpdate *, void *),
    void *arg);

#endif
