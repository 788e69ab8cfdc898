/*
 * The features a node names in its Hello (Hello.features): what it
 * speaks beyond the Frame bodies every version has (hello, ping, pong,
 * leave).  A peer is sent a Frame body only if it named that body's
 * feature; a peer whose Hello names none (a version before features) is
 * taken to speak the ones every version then had.  A new Frame body or
 * Event kind comes with a new feature name here.
 *
 * Numbered events are the exception: every event goes to every peer
 * whatever its kind, because a withheld event would leave a gap in its
 * origin's sequence; a peer that does not know a kind skips and counts it
 * (frame_codec.h) and still forwards it.
 *
 * Returned strings are static.
 */
#ifndef AGENTFLOW_MESH_FEATURES_H
#define AGENTFLOW_MESH_FEATURES_H

#include <stddef.h>

#define MESH_FEATURES_MAX	32	/* names per Hello */

/* The names this build speaks, for its Hello: *out gets a static array. */
size_t mesh_features_ours(const char *const **out);

/* The feature a Frame body case needs, or NULL for the ones every version
 * speaks (hello, ping, pong, leave) and cases this build does not know. */
const char *mesh_features_of_body(int body_case);

/* Index of name in mesh_features_ours(), or -1. */
int mesh_features_index(const char *name);

/*
 * The features of ours a peer speaks, as bits by mesh_features_index(),
 * from the n names of its Hello (names we do not know are left out; none
 * at all: the ones every peer from before features speaks).
 */
unsigned mesh_features_mask(char *const *names, size_t n);

/* 1 if mask (from mesh_features_mask) holds feature (NULL: always). */
int mesh_features_has(unsigned mask, const char *feature);

#endif
