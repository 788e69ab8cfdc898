/*
 * The kill switch as mesh state with an epoch.  Each freeze or unfreeze
 * carries "epoch" (the issuer's latest plus one); a node applies one only
 * when its epoch is above the one it holds, keeps the command as its
 * issuer signed it, persists both, and hands it to its links, whose
 * Hellos carry it (Hello.freeze).  A peer's Hello with a newer one, whose
 * signature verifies and whose principal holds the admin role, is
 * applied before that link's catch-up: a node that was down or cut off
 * during a freeze is read-only on its first link.  "stop": true also
 * cancels every unfinished task (soft: SIGTERM, then SIGKILL after the
 * task's grace).
 */
#ifndef AGENTFLOW_FREEZE_H
#define AGENTFLOW_FREEZE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.pb-c.h"

struct node;

/* The state the store holds (at work start): read-only mode, epoch, and
 * the command for our Hellos. */
void freeze_load(struct node *);
/* The epoch a freeze or unfreeze issued here carries. */
uint64_t freeze_next_epoch(const struct node *);
/* A freeze or unfreeze was issued here with epoch: later ones go above
 * it, whether or not this node is one of its destinations. */
void freeze_issued(struct node *, uint64_t epoch);
/* The executor's handler for FREEZE and UNFREEZE (command_exec.c). */
int freeze_command(struct node *, const Agentflow__Mesh__V1__Command *,
    const json_t *args, json_t **body, char *err, size_t errlen);
/* A link came up: applies the peer's Hello.freeze when it is newer. */
void freeze_hello(struct node *, const char *peer,
    const Agentflow__Mesh__V1__Hello *);

#endif
