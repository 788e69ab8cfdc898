/*
 * The mesh: the transport, the links over it and state sync over the links,
 * wired together in one place.  The transport's callbacks go to the links;
 * the links' hooks go to sync (our cursors in each Hello, a link up, the
 * frames) and to the caller (a link changed, a frame to route, a peer we
 * keep failing to reach).  The daemon (node.c), the link benchmark and the
 * links' unit test all build their mesh here, so they cannot drift apart.
 *
 * Loop-thread only, like its parts.  mesh_free() takes them down in the one
 * safe order: the transport first (it closes its streams into the links),
 * then sync (its last flush still finds the links), then the links.
 */
#ifndef AGENTFLOW_MESH_H
#define AGENTFLOW_MESH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"
#include "transport.h"

struct event_base;
struct links;
struct mesh;
struct origin_keys;
struct rng;
struct store;
struct sync;
struct trust;

struct mesh_config {
	const char	*self_id;	/* what our Hello claims (copied) */
	uint64_t	 incarnation;
	json_t		*addresses;	/* our advertised addresses (borrowed) */
	json_t		*labels;	/* our labels (borrowed) */
	/* Appends our --listen host with the port the transport bound to
	 * addresses, before the links and sync read them (tests, benchmarks:
	 * port 0 is only known then). */
	int		 advertise_bound;
	struct transport_config transport;	/* PEMs borrowed for mesh_new() */
	struct rng	*rng;		/* borrowed; outlives the mesh */
	struct trust	*trust;		/* CA + CRL for the links; may be NULL */
	long		 ping_ms;	/* links_config's */
	long		 dead_ms;
	long		 silence_ms;
	long		 hello_ms;	/* links_config's */
	long		 max_links;
	/* The event log and origin states (borrowed; outlives the mesh).
	 * NULL: links only, no state sync. */
	struct store	*store;
	uint64_t	 events_kept;	/* retention of the event log */
	uint64_t	 events_bytes;	/* ... in bytes of bodies */
};

struct mesh_hooks {
	/* A link went up or down.  NULL: nothing. */
	void	(*changed)(void *arg);
	/* Every frame the links pass up.  NULL: all go to state sync. */
	void	(*frame)(const char *peer_id,
		    const Agentflow__Mesh__V1__Frame *frame, void *arg);
	/* Dialing peer_id failed several times in a row.  NULL: nothing. */
	void	(*stale_address)(const char *peer_id, void *arg);
	void	*arg;
	/*
	 * Who hears the transport.  NULL: the mesh itself.  A caller that
	 * watches the streams (the benchmark counts and times messages)
	 * passes its own callbacks, called with transport_arg, and forwards
	 * each call to mesh_stream_opened/message/closed/drained.
	 */
	const struct transport_callbacks *transport;
	void	*transport_arg;
	/*
	 * A peer knew a newer life of ours (a restored backup, a copied data
	 * directory): sync moved to incarnation, persisted, and the links
	 * took it.  NULL: nothing.
	 */
	void	(*reborn)(uint64_t incarnation, void *arg);
	/* A link came up: the peer's Hello (valid during the call), before
	 * state sync catches up on it.  NULL: nothing. */
	void	(*hello)(const char *peer_id,
		    const Agentflow__Mesh__V1__Hello *hello, void *arg);
};

/* Builds the mesh and starts serving (cfg->transport.listen).  hooks may be
 * NULL.  Returns NULL with why in err when the transport cannot start. */
struct mesh *mesh_new(struct event_base *, const struct mesh_config *cfg,
    const struct mesh_hooks *hooks, char *err, size_t errlen);
/* Frees the transport, sync and the links, in that order.  NULL: no-op. */
void mesh_free(struct mesh *);

/* The parts, owned by the mesh and valid until mesh_free(). */
struct transport *mesh_transport(const struct mesh *);
struct links *mesh_links(const struct mesh *);
/* What vouches for our data and checks others' (origin_keys.h). */
struct origin_keys *mesh_origin_keys(const struct mesh *);
/* NULL when the mesh was built without a store. */
struct sync *mesh_sync(const struct mesh *);

/* The transport's callbacks (struct transport_callbacks), arg = the mesh,
 * for a caller that passed its own in mesh_hooks.transport. */
void mesh_stream_opened(struct transport_stream *, void *mesh);
void mesh_stream_message(struct transport_stream *, const uint8_t *buf,
    size_t len, void *mesh);
void mesh_stream_closed(struct transport_stream *, const char *reason,
    void *mesh);
void mesh_stream_drained(struct transport_stream *, void *mesh);

#endif
