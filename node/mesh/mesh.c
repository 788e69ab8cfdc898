/*
 * The mesh (mesh.h): transport → links → sync and their hooks, built and
 * torn down in one place.  The links' hooks point here; each goes to sync
 * or to the caller's mesh_hooks, and a hook with nowhere to go is left
 * NULL in the links, exactly as if it had never been wired.
 */
#include "mesh.h"

#include <stdio.h>
#include <stdlib.h>

#include "forget.h"
#include "hostport.h"
#include "links.h"
#include "node_id.h"
#include "origin_keys.h"
#include "routing.h"
#include "store.h"
#include "sync.h"
#include "xalloc.h"

struct mesh {
	struct transport	*transport;
	struct links		*links;
	struct sync		*sync;		/* NULL without a store */
	struct origin_keys	*keys;
	struct mesh_hooks	 hooks;
};

void
mesh_stream_opened(struct transport_stream *ts, void *arg)
{
	links_stream_opened(((struct mesh *)arg)->links, ts);
}

void
mesh_stream_message(struct transport_stream *ts, const uint8_t *buf,
    size_t len, void *arg)
{
	links_stream_message(((struct mesh *)arg)->links, ts, buf, len);
}

void
mesh_stream_closed(struct transport_stream *ts, const char *reason, void *arg)
{
	struct mesh *m = arg;

	/* While mesh_new() builds the links, or after they are gone. */
	if (m->links != NULL)
		links_stream_closed(m->links, ts, reason);
}

void
mesh_stream_drained(struct transport_stream *ts, void *arg)
{
	struct mesh *m = arg;

	if (m->links != NULL)
		links_stream_drained(m->links, ts);
}

/* ---- the links' hooks -------------------------------------------------- */

static size_t
h_cursors(Agentflow__Mesh__V1__Cursor ***out, void *arg)
{
	return sync_cursors(out, ((struct mesh *)arg)->sync);
}

static void
h_up(const char *peer, const Agentflow__Mesh__V1__Hello *h, void *arg)
{
	struct mesh *m = arg;

	/* The node first: what the Hello says of the mesh (a freeze) holds
	 * before the peer's catch-up brings anything to act on. */
	if (m->hooks.hello != NULL)
		m->hooks.hello(peer, h, m->hooks.arg);
	sync_link_up(peer, h, m->sync);
}

static void
h_changed(void *arg)
{
	struct mesh *m = arg;

	m->hooks.changed(m->hooks.arg);
}

static void
h_frame(const char *peer, const Agentflow__Mesh__V1__Frame *f, void *arg)
{
	struct mesh *m = arg;

	if (m->hooks.frame != NULL)
		m->hooks.frame(peer, f, m->hooks.arg);
	else
		sync_frame(peer, f, m->sync);
}

static void
h_stale_address(const char *peer, void *arg)
{
	struct mesh *m = arg;

	m->hooks.stale_address(peer, m->hooks.arg);
}

/* Sync moved to a new incarnation: our next Hellos say so too. */
static void
s_reborn(uint64_t incarnation, void *arg)
{
	struct mesh *m = arg;

	links_set_incarnation(m->links, incarnation);
	if (m->hooks.reborn != NULL)
		m->hooks.reborn(incarnation, m->hooks.arg);
}

/* The links ask the routing sync feeds whether others relay to a peer. */
static int
h_reachable(const char *peer, void *arg)
{
	char hop[NODE_ID_MAX + 1];

	return routing_next_hop(sync_routing(((struct mesh *)arg)->sync), peer,
	    hop, sizeof(hop)) == 0;
}

static uint64_t
h_digest(void *arg)
{
	return sync_digest(((struct mesh *)arg)->sync);
}

static void
h_peer_digest(const char *peer, uint64_t digest, void *arg)
{
	sync_peer_digest(((struct mesh *)arg)->sync, peer, digest);
}

/* A link sent what was queued on it: a catch-up in turns goes on. */
static void
h_drained(const char *peer, void *arg)
{
	sync_link_drained(peer, ((struct mesh *)arg)->sync);
}

/* "HOST:PORT" of cfg's listen address with the bound port, into addresses. */
static int
advertise_bound(const struct mesh_config *cfg, int port, char *err,
    size_t errlen)
{
	char host[256];
	int ignored;

	if (cfg->transport.listen == NULL || hostport_split(cfg->transport.listen,
	    host, sizeof(host), &ignored) != 0) {
		snprintf(err, errlen, "cannot advertise \"%s\": not HOST:PORT",
		    cfg->transport.listen != NULL ? cfg->transport.listen : "");
		return -1;
	}
	json_array_append_new(cfg->addresses, json_sprintf("%s:%d", host, port));
	return 0;
}

struct mesh *
mesh_new(struct event_base *base, const struct mesh_config *cfg,
    const struct mesh_hooks *hooks, char *err, size_t errlen)
{
	static const struct transport_callbacks own = { mesh_stream_opened,
	    mesh_stream_message, mesh_stream_closed, mesh_stream_drained };
	struct mesh *m = xcalloc(1, sizeof(*m));
	const struct transport_callbacks *tcb = &own;
	void *targ = m;

	if (hooks != NULL)
		m->hooks = *hooks;
	if (m->hooks.transport != NULL) {
		tcb = m->hooks.transport;
		targ = m->hooks.transport_arg;
	}
	struct origin_keys_config kc = { cfg->self_id, cfg->transport.cert_pem,
	    cfg->transport.key_pem, cfg->rng, cfg->trust };

	if ((m->keys = origin_keys_new(&kc, err, errlen)) == NULL ||
	    (m->transport = transport_new(base, &cfg->transport, tcb, targ, err,
	    errlen)) == NULL ||
	    (cfg->advertise_bound && advertise_bound(cfg,
	    transport_port(m->transport), err, errlen) != 0)) {
		mesh_free(m);
		return NULL;
	}

	if (cfg->store != NULL) {
		struct sync_config sc = {
			.self_id = cfg->self_id, .incarnation = cfg->incarnation,
			.addresses = cfg->addresses, .labels = cfg->labels,
			.store = cfg->store, .events_kept = cfg->events_kept,
			.events_bytes = cfg->events_bytes,
			.keys = m->keys,
		};
		m->sync = sync_new(base, &sc);
	}
	struct links_config lc = {
		.self_id = cfg->self_id, .incarnation = cfg->incarnation,
		.addresses = cfg->addresses, .labels = cfg->labels,
		.ping_ms = cfg->ping_ms, .dead_ms = cfg->dead_ms,
		.silence_ms = cfg->silence_ms, .max_links = cfg->max_links,
		.hello_ms = cfg->hello_ms,
		.trust = cfg->trust, .keys = m->keys,
	};
	struct links_hooks lh = {
		.cursors = m->sync != NULL ? h_cursors : NULL,
		.up = m->sync != NULL ? h_up : NULL,
		.changed = m->hooks.changed != NULL ? h_changed : NULL,
		.frame = m->hooks.frame != NULL || m->sync != NULL ? h_frame : NULL,
		.stale_address = m->hooks.stale_address != NULL ?
		    h_stale_address : NULL,
		.reachable = m->sync != NULL ? h_reachable : NULL,
		.drained = m->sync != NULL ? h_drained : NULL,
		.digest = m->sync != NULL ? h_digest : NULL,
		.peer_digest = m->sync != NULL ? h_peer_digest : NULL,
		.arg = m,
	};
	m->links = links_new(base, m->transport, cfg->rng, &lc, &lh);
	if (m->sync != NULL) {
		sync_set_links(m->sync, m->links);
		sync_set_reborn(m->sync, s_reborn, m);
		/* Nodes forgotten before a restart stay forgotten. */
		if (forget_load(m->links, m->sync, cfg->store) != 0) {
			snprintf(err, errlen, "cannot read the forgotten nodes: %s",
			    store_error(cfg->store));
			mesh_free(m);
			return NULL;
		}
	}
	return m;
}

void
mesh_free(struct mesh *m)
{
	if (m == NULL)
		return;
	/* The transport closes its streams into the links, then links go. */
	transport_free(m->transport);
	sync_free(m->sync);
	links_free(m->links);
	origin_keys_free(m->keys);
	free(m);
}

struct transport *
mesh_transport(const struct mesh *m)
{
	return m->transport;
}

struct links *
mesh_links(const struct mesh *m)
{
	return m->links;
}

struct origin_keys *
mesh_origin_keys(const struct mesh *m)
{
	return m->keys;
}

struct sync *
mesh_sync(const struct mesh *m)
{
	return m->sync;
}
