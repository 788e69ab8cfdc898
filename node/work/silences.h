/*
 * Silences, as Alertmanager users know them: "no notice for alerts that
 * match these matchers until then".  A silenced alert still fires and is
 * listed (GET /api/alerts shows the silence's id); only notify.c holds
 * its notices back, and sends one when the silence ends while it fires.
 *
 *   {"matchers": {"rule": "cpu_high"?, "node": "n1"?,
 *                 "labels": {"site": "home"}?},
 *    "until_ms": 1700000000000 | "for": "2h",
 *    "comment": "disk swap tonight"}
 *
 * A silence matches an alert when every matcher given does: the alert's
 * rule, its node, and each label on the alert's node.  At least one
 * matcher; exactly one of until_ms (a wall time to come) or for (90s, 15m,
 * 2h, 7d: opts_duration_parse), at most 90 days on; comment 0-256 bytes of
 * text; at most 8 labels; unknown keys are refused.  At most 64 silences
 * at once, and 16 of them added on one node (its share), so one member,
 * or one user of its API, cannot take every place.
 *
 * Mesh-wide: a silence added on any node holds back the matching notices
 * of every node (node/mesh/sync_silences.h carries them; silences_mesh.c
 * joins the two).  This object holds them all, each with the node it was
 * added on ("node"), and the removals until the silence would have ended
 * (so a late word cannot bring a removed one back), in the store's meta
 * (key "silences").  Ids are "sil-<n>-<h>": n counting on across restarts
 * on the node that added it, h 12 hex digits of a hash of that node's id,
 * so ids of different nodes do not meet.  An expired silence drops out at
 * the next list, match or change.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_SILENCES_H
#define AGENTFLOW_SILENCES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct silences;
struct store;

#define SILENCES_MAX		64
/* Of them, added on one node (sync_silences.h's SYNC_SILENCE_SHARE_MAX):
 * four busy members fill the list, no fewer. */
#define SILENCES_SHARE_MAX	16
#define SILENCES_LABELS_MAX	8
#define SILENCES_COMMENT_MAX	256
#define SILENCES_FOR_MAX_MS	(90ULL * 86400 * 1000)
/* How far another node's silence may start ahead of our clock. */
#define SILENCES_AHEAD_MAX_MS	(24ULL * 3600 * 1000)

/* Loads those held in st (borrowed; outlives the object) for node self
 * (copied).  A silence stored by a version before mesh-wide silences is
 * taken as self's, under a new id.  NULL with err set when what is
 * stored cannot be read. */
struct silences *silences_new(struct store *st, const char *self, char *err,
    size_t errlen);
void silences_free(struct silences *);	/* NULL: no-op */

/*
 * Checks body (a POST's) and, when it is valid, adds and stores the
 * silence made by "by" (a principal's name): 201 with *out the silence (new
 * reference).  400 with err naming the field, 507 when SILENCES_MAX are
 * active, 409 when SILENCES_SHARE_MAX of them are this node's own, 500
 * when it cannot be stored (err says why).
 */
int silences_add(struct silences *, const json_t *body, const char *by,
    uint64_t now_ms, json_t **out, char *err, size_t errlen);
/* taken(id, arg) (NULL: none): whether the mesh's view holds id, live or
 * removed; silences_add skips such ids as it does those it holds, and
 * past the removals' bound one the view has forgotten goes first. */
void silences_set_taken(struct silences *,
    int (*taken)(const char *id, void *arg), void *arg);
/* Ends silence id (added on any node) for principal by (NULL: nobody
 * named; its removal word names it): 1, 0 when there is no such active
 * one, -1 when it cannot be stored. */
int silences_remove(struct silences *, const char *id, const char *by,
    uint64_t now_ms);

/*
 * The words the mesh carries (SilenceUpdate as JSON): {id, deleted,
 * spec_json (text; absent when deleted), updated_ms, author, ends_ms},
 * and a removal's principal ("" when this node did not make it or nobody
 * was named).
 * silences_word: of id, live or removed (new reference), or NULL;
 * silences_words: all (new reference), for the mesh's view at start.
 */
json_t *silences_word(struct silences *, const char *id, uint64_t now_ms);
json_t *silences_words(struct silences *, uint64_t now_ms);
/*
 * Whether spec (a silence as another node sends it, JSON text of len
 * bytes) is one this node's API would have made: the same fields and
 * bounds as silences_add, its id id, its end ends_ms, its node author
 * (the node the word says added it), its start updated_ms and at most
 * SILENCES_AHEAD_MAX_MS after now_ms, at most 90 days long.  0, or -1
 * with err naming the field.
 */
int silences_check(const char *id, const char *spec, size_t len,
    const char *author, uint64_t updated_ms, uint64_t ends_ms,
    uint64_t now_ms, char *err, size_t errlen);
/*
 * Whether a removal by author of id may be taken: id of the form any
 * node's silences_add gives ("sil-<n>-<12 hex digits>"), author a node
 * id.  Any member may remove any node's silence, held here yet or not;
 * an id removed before its silence is made is skipped by silences_add
 * (silences_set_taken), so it costs that node an id, no more.  0, or -1
 * with err set.
 */
int silences_check_removal(const char *id, const char *author, char *err,
    size_t errlen);
/*
 * The mesh's word on id (checked): spec NULL for a removal by node author
 * at updated_ms.  Kept and stored; a removal wins over the silence.  1
 * when it changed what is held, 0 when not, -1 when it cannot be kept.
 */
int silences_apply(struct silences *, const char *id, const char *spec,
    uint64_t updated_ms, const char *author, uint64_t ends_ms,
    uint64_t now_ms);
/* The active silences (new reference), oldest first. */
json_t *silences_list(struct silences *, uint64_t now_ms);
size_t silences_active(struct silences *, uint64_t now_ms);
/*
 * The id of an active silence that matches an alert of rule on node,
 * whose labels are labels (an object; NULL: none), or NULL.  Valid until
 * the next call.  NULL object: NULL.
 */
const char *silences_match(struct silences *, uint64_t now_ms,
    const char *rule, const char *node, const json_t *labels);

#endif
