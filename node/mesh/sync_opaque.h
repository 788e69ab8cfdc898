/*
 * Events of a kind this version does not know (a newer peer's), kept in
 * the event log as opaque bytes so that catching a peer up replays them
 * like any other: the log row's kind is the Event field number of the
 * newer kind, its body that field's bytes as they came.
 */
#ifndef AGENTFLOW_SYNC_OPAQUE_H
#define AGENTFLOW_SYNC_OPAQUE_H

#include <stddef.h>

#include "mesh.pb-c.h"

/*
 * If e is of a kind this version does not know, sets *kind and *body,
 * *len (pointing into e, valid while e is) and returns 1; else 0.
 */
int sync_opaque_body(const Agentflow__Mesh__V1__Event *e, int *kind,
    const void **body, size_t *len);

/*
 * Gives e (kind NOT_SET, freed with agentflow__mesh__v1__event__free_unpacked)
 * the kind and body of a row sync_opaque_body() described; 0, or -1 when
 * kind is one this version knows or the body is empty.
 */
int sync_opaque_event(Agentflow__Mesh__V1__Event *e, int kind,
    const void *body, size_t len);

#endif
