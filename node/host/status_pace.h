/*
 * When a sampled status goes out (issue 21).
 *
 * A node samples its status every --status-ms: its own alerts and
 * its API read each sample.  Broadcasting each one cost every node a
 * message from every peer every second, most of an idle mesh's CPU.  So
 * a sample goes out only when
 *
 *   - the caller says someone watches (a dashboard is open here, or a
 *     node's status said one is open there: status.watch_ms), or
 *   - something a peer acts on changed: links (up or not: a dial going
 *     on is not a change, nor a link's since_ms), the state of a member
 *     we link to (not of a relayed one: that is our link-state graph's
 *     word, which every node computes from the links), freeze, the
 *     signal, the node's info, anything but the measured figures below, or
 *   - memory or disk use moved by PACE_BYTES_PERMILLE of its total, or
 *   - within settle_ms of a change of ours as above (links come and go
 *     in bursts: peers see each step), or
 *   - the last one sent is idle_ms old (0: every sample goes out).
 *
 * and, in a mesh of at most PACE_GRAPH_NODES, within settle_ms of any
 * status that moved the mesh's link-state graph (mesh_gen): while links
 * come and go a relayed status can miss a node whose route was not known
 * yet, and repeating ours gives every node its latest, as the 1 Hz
 * statuses did.  Not in a larger mesh: there every node sending every
 * sample while any link anywhere moved kept two cores saturated, links
 * timing out and the graph moving (100 nodes never formed); anti-entropy
 * repairs a missed status there (sync_entropy.c, within a few pings).
 *
 * The measured figures (CPU, memory, load, disk, network counters and
 * rates, uptimes, link RTTs, members' last-seen times) change every
 * sample; they alone never make a sample go out.  CPU in particular
 * swings by tens of points between samples on a busy host: the origin's
 * own alert rules read every sample, and an open dashboard gets them all.
 */
#ifndef AGENTFLOW_STATUS_PACE_H
#define AGENTFLOW_STATUS_PACE_H

#include <stdint.h>

#include "mesh.pb-c.h"

#define PACE_BYTES_PERMILLE	100	/* 10 % */
#define PACE_SETTLE_MS		5000
#define PACE_GRAPH_NODES	32	/* graph moves settle up to this many */

struct status_pace;

/* settle_ms: how long every sample goes out after a change (at least
 * three samples: PACE_SETTLE_MS is the node's floor). */
struct status_pace *status_pace_new(uint64_t idle_ms, uint64_t settle_ms);
void status_pace_free(struct status_pace *);

/*
 * 1 when st is to go out now (and is remembered as the last one sent),
 * 0 when it is held.  watched: someone watches, send every sample.
 * mesh_gen: the link-state graph's generation (routing_generation), or a
 * constant where graph moves are not to settle.  now_ms: a monotonic
 * clock.  st is borrowed for the call.
 */
int status_pace_due(struct status_pace *, const Agentflow__Mesh__V1__NodeStatus *st,
    int watched, uint64_t mesh_gen, uint64_t now_ms);

/* Samples sent and held since start. */
uint64_t status_pace_sent(const struct status_pace *);
uint64_t status_pace_held(const struct status_pace *);

/* The parts of a status's shape, and how many samples changed each
 * against the last one sent: what makes a node chatter. */
enum pace_part { PACE_LINKS, PACE_MEMBERS, PACE_REST, PACE_PARTS };
uint64_t status_pace_changed(const struct status_pace *, enum pace_part);

#endif
