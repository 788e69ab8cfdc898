/*
 * Routing: the link-state graph of the mesh, the next hop towards a node,
 * the neighbours a batch of events is forwarded to, and label selection.
 *
 * A pure table: the caller (sync) feeds it what statuses and NodeInfos say
 * about each node (routing_set_*), and it reads our own side of every link
 * from the live links through struct routing_live.  Nothing here sends,
 * stores or decodes.
 *
 * The graph has a vertex for every node whose status we hold and for
 * ourselves.  An edge counts only if both ends report it (OSPF's two-way
 * check): a node that died or lost a link keeps claiming it in its last
 * status, and routing over that claim sent copies into links that were
 * down.  Our own edges are our live up links, never our own status.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_ROUTING_H
#define AGENTFLOW_ROUTING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct routing;

/*
 * Our live links.  generation changes whenever a link goes up or down;
 * is_up and foreach_up read the links as they are now.  arg is passed to
 * each (borrowed: it must outlive its use by the routing).
 */
struct routing_live {
	uint64_t	(*generation)(void *arg);
	int		(*is_up)(void *arg, const char *peer);
	void		(*foreach_up)(void *arg, void (*fn)(const char *peer,
			    void *fnarg), void *fnarg);
	void		*arg;
};

struct routing_label {
	const char	*key;
	const char	*value;
};

/* self_id is copied.  Until routing_set_live there is no route anywhere. */
struct routing *routing_new(const char *self_id);
void routing_free(struct routing *);
/* The live links (copied), or NULL: none (every route fails). */
void routing_set_live(struct routing *, const struct routing_live *);

/*
 * A node's up links as its latest status lists them (the strings are
 * copied).  The node becomes a vertex of the graph, with no links if n is
 * 0.  Ours are ignored: our side is the live links, so our own status
 * never invalidates the cached graph.
 */
void routing_set_links(struct routing *, const char *id,
    const char *const *peers, size_t n);
/* A node's labels as its NodeInfo lists them (copied).  Until they are
 * set, the node matches no selector but "all" (NULL). */
void routing_set_labels(struct routing *, const char *id,
    const struct routing_label *labels, size_t n);
/* Whether routing_select may name the node: some life of it is known and
 * it has not left.  0 until set. */
void routing_set_present(struct routing *, const char *id, int present);

/* Changes whenever a status brings a new vertex or edge, or a node is
 * forgotten: the mesh's link-state graph moved (status_pace.h). */
uint64_t routing_generation(const struct routing *);

/* Drops everything known of a node (agentflow forget): it is no vertex,
 * holds no labels and is selected by nothing until set again.  Ours is
 * kept. */
void routing_forget(struct routing *, const char *id);

/*
 * The neighbour to hand a message for dest to: dest itself when our link
 * to it is up, else the first hop of a shortest path, into hop (truncated
 * to hoplen).  0, or -1 when there is no route (dest is us, unknown, cut
 * off, or there are no live links).
 */
int routing_next_hop(struct routing *, const char *dest, char *hop,
    size_t hoplen);

/*
 * Forwarding a batch of events whose origins are roots[0..n): calls fn
 * once per neighbour we are the parent of in at least one root's
 * shortest-path tree, with the indices (into roots, ascending) of those
 * roots.  In a full mesh that is never (the origin is everybody's parent);
 * in a partial one exactly one node hands each event to each node.  An
 * origin whose status we do not hold yet (or whose status names no link
 * both ends report) is rooted at the nodes that report a link to it, so
 * its first events are relayed too; one nobody reports goes nowhere.
 * Neighbours come in id order; peer and which are valid during the call.
 */
void routing_fanout(struct routing *, const char *const *roots, size_t n,
    void (*fn)(const char *peer, const size_t *which, size_t nwhich, void *arg),
    void *arg);

/*
 * Sorted ids of the present nodes, ourselves included, whose labels hold
 * every key → value of match (NULL: all).  A new array reference.
 */
json_t *routing_select(const struct routing *, const json_t *match);
/*
 * Sorted ids of the present nodes whose labels are not known yet: any
 * selector may match them, and routing_select leaves them out.  A new
 * array reference.
 */
json_t *routing_unlabelled(const struct routing *);

#endif
