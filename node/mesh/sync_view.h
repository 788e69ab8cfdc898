/*
 * A view of what each origin says of its own things: per origin, the
 * latest message of each thing it owns (a job it issued, a workflow it
 * coordinates, a service it runs), as heap copies of protobuf messages of one type.  The
 * kind says how to read a message's id, its time and whether it is final.
 *
 * An update older (updated) than the one held is dropped.  A full
 * origin's list drops its oldest final thing for a new one, else (all
 * open) its oldest.  sync_jobs.c, sync_workflows.c and sync_services.c
 * are its users; which updates reach it (only an origin's own word) is
 * theirs and sync.c's to decide.
 *
 * Invariant: an origin's list holds at most kind->max things, each id at
 * most once.  Loop thread only.  Every function but sync_view_put takes
 * a NULL view as an empty one (a view is made at its first thing).
 */
#ifndef AGENTFLOW_SYNC_VIEW_H
#define AGENTFLOW_SYNC_VIEW_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

struct sync_view_kind {
	const char	*(*id)(const ProtobufCMessage *);
	uint64_t	 (*updated)(const ProtobufCMessage *);
	int		 (*final)(const ProtobufCMessage *);
	size_t		   max;		/* per origin */
	size_t		   snapshot;	/* of one origin per snapshot */
};

struct sync_view;

struct sync_view *sync_view_new(const struct sync_view_kind *);
void sync_view_free(struct sync_view *);	/* NULL: no-op */

/* Keeps a copy of m as origin's latest word on its thing (unless older). */
void sync_view_put(struct sync_view *, const char *origin,
    const ProtobufCMessage *m);
/* How many things origin has here. */
size_t sync_view_held(const struct sync_view *, const char *origin);
/* Forgets origin's things. */
void sync_view_forget(struct sync_view *, const char *origin);

/*
 * origin's things for a snapshot: open ones first, then the most recent
 * final ones, at most kind->snapshot.  *v is a new array (free it) of
 * borrowed messages, valid until the next change; *n its length.
 */
void sync_view_fill(const struct sync_view *, const char *origin,
    ProtobufCMessage ***v, size_t *n);

/* Calls fn for every thing of every origin but skip (may be NULL). */
void sync_view_each(const struct sync_view *, const char *skip,
    void (*fn)(const char *origin, const ProtobufCMessage *, void *arg),
    void *arg);

#endif
