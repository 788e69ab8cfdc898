/*
 * The mesh's view of silences (sync_silences.h): id → the merged
 * SilenceUpdate, a heap copy.
 *
 * Where a word comes from decides whether it is taken, as for schedules
 * (sync_schedules.c):
 *   our own          sync_emit_silence, sync_silences_seed    always
 *   an event         apply_event → sync_silences_apply        its origin
 *                                                             signed it
 *   a snapshot       apply_snapshot → sync_silences_merge     only from
 *                                                             the origin
 * and then only when refusal() finds nothing wrong with it: an event's
 * author is its signer; a snapshot's is the word's claim.
 *
 * Invariant: at most SYNC_SILENCES_MAX live and SYNC_SILENCE_TOMBSTONES_MAX
 * removed ids, each once; a removed id never comes back to life.
 */
#include "sync.h"
#include "sync_priv.h"
#include "sync_silences.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "xalloc.h"

#define PB(name)	Agentflow__Mesh__V1__##name

static void
update_free(PB(SilenceUpdate) *u)
{
	if (u != NULL)
		agentflow__mesh__v1__silence_update__free_unpacked(u, NULL);
}

/* The latest end a removal u may have: the silence it removes started
 * at most a day ahead of u's clock (silences_check) and lasts 90 days. */
static uint64_t
removal_end_max(const PB(SilenceUpdate) *u)
{
	return u->updated_ms + SYNC_SILENCE_FOR_MAX_MS +
	    (uint64_t)SYNC_SILENCE_AHEAD_MAX_MS;
}

/* Whether removal u ends within the live silence held of its id (NULL:
 * none), which then bounds it instead of removal_end_max(). */
static int
within_live(const PB(SilenceUpdate) *held, const PB(SilenceUpdate) *u)
{
	return held != NULL && !held->deleted && u->ends_ms <= held->ends_ms;
}

/* Whether removal a is newer than removal b. */
static int
newer(const PB(SilenceUpdate) *a, const PB(SilenceUpdate) *b)
{
	if (a->updated_ms != b->updated_ms)
		return a->updated_ms > b->updated_ms;
	return strcmp(a->author != NULL ? a->author : "",
	    b->author != NULL ? b->author : "") > 0;
}

struct census {
	uint64_t		 now_ms;
	size_t			 live, dead;
	const char		*first_dead;	/* the removal that ends first */
	uint64_t		 first_ends_ms;
};

/* Counts, and forgets what has ended (hmap_sweep drops it on 1). */
static int
census_one(const char *id, void *value, void *arg)
{
	PB(SilenceUpdate) *u = value;
	struct census *c = arg;

	if (u->ends_ms <= c->now_ms) {
		update_free(u);
		return 1;
	}
	if (!u->deleted) {
		c->live++;
		return 0;
	}
	c->dead++;
	/* silences.c's tombstone() drops the same one: the one that ends
	 * first, of two the lesser id */
	if (c->first_dead == NULL || u->ends_ms < c->first_ends_ms ||
	    (u->ends_ms == c->first_ends_ms && strcmp(id, c->first_dead) < 0)) {
		c->first_dead = id;
		c->first_ends_ms = u->ends_ms;
	}
	return 0;
}

static struct census
census(struct sync *s)
{
	struct census c = { .now_ms = clock_wall_ms() };

	if (s->silences != NULL)
		hmap_sweep(s->silences, census_one, &c);
	return c;
}

/* Whether u fits in place of held (NULL: a new id), c the census before;
 * a removal past its bound makes room by forgetting the removal that
 * ends first.  Neither frees held. */
static int
room(struct sync *s, const struct census *c, const PB(SilenceUpdate) *u,
    const PB(SilenceUpdate) *held)
{
	PB(SilenceUpdate) *old;

	if (!u->deleted)
		return held != NULL || c->live < SYNC_SILENCES_MAX;
	if ((held != NULL && held->deleted) ||
	    c->dead < SYNC_SILENCE_TOMBSTONES_MAX)
		return 1;
	if ((old = hmap_del(s->silences, c->first_dead)) != NULL)
		update_free(old);
	return 1;
}

/*
 * Merges u into what we hold of its id.  1 when that changed, 0 when
 * not, -1 when the view is full.  *out (may be NULL) is what we hold
 * after.  A removal of a live silence lasts as long as the silence,
 * whatever its end, so the silence cannot outlive its removal and come
 * back; any other removal ends at most removal_end_max() unless not
 * capped (one seeded from our store, which kept it as it was taken).
 */
static int
put(struct sync *s, const PB(SilenceUpdate) *u, const PB(SilenceUpdate) **out,
    int capped)
{
	PB(SilenceUpdate) *held, *c;
	struct census cs;

	if (s->silences == NULL)
		s->silences = hmap_new();
	if (out != NULL)
		*out = NULL;
	if (u->ends_ms <= clock_wall_ms())
		return 0;	/* ended: nothing to hold back, nothing to keep */
	cs = census(s);		/* first: it frees what has ended */
	held = hmap_get(s->silences, u->id);
	if (out != NULL)
		*out = held;
	/* A removal wins over the silence; the newer of two removals. */
	if (held != NULL && (!u->deleted || (held->deleted && !newer(u, held))))
		return 0;
	if (!room(s, &cs, u, held))
		return -1;
	if ((c = sync_message_copy(&u->base)) == NULL)
		return 0;
	if (capped && c->deleted && c->ends_ms > removal_end_max(c) &&
	    !within_live(held, c))
		c->ends_ms = removal_end_max(c);
	if (held != NULL && held->ends_ms > c->ends_ms)
		c->ends_ms = held->ends_ms;
	hmap_put(s->silences, u->id, c);
	update_free(held);
	if (out != NULL)
		*out = c;
	CHECK(hmap_count(s->silences) <= SYNC_SILENCES_MAX +
	    SYNC_SILENCE_TOMBSTONES_MAX);
	return 1;
}

/* u within mesh.proto's bounds, as an event of ours would carry it. */
static int
valid(const struct sync *s, const PB(SilenceUpdate) *u)
{
	PB(Event) e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
	e.silence = (PB(SilenceUpdate) *)u;
	return sync_event_fits(s, &e, "silence", u->id);
}

int
sync_emit_silence(struct sync *s, const PB(SilenceUpdate) *u)
{
	PB(Event) e = AGENTFLOW__MESH__V1__EVENT__INIT;
	const PB(SilenceUpdate) *held;
	int rc;

	if (!valid(s, u))
		return -1;
	if ((rc = put(s, u, &held, 1)) <= 0) {
		if (rc < 0)
			log_event(LOG_WARN, "too many silences; not kept",
			    "{s:s, s:i}", "silence", u->id, "max",
			    SYNC_SILENCES_MAX);
		return rc;
	}
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
	e.silence = (PB(SilenceUpdate) *)held;
	sync_emit_event(s, &e);
	return 1;
}

void
sync_silences_seed(struct sync *s, const PB(SilenceUpdate) *u)
{
	if (valid(s, u))
		(void)put(s, u, NULL, 0);	/* the store kept its end */
}

static void
refuse(struct sync *s, const char *origin, const PB(SilenceUpdate) *u,
    const char *why)
{
	s->silences_refused++;
	log_event(LOG_WARN, "silence from another node refused", "{s:s, s:s, "
	    "s:s}", "silence", u->id, "from", origin, "error", why);
}

/*
 * Why another node's word u cannot be taken, or NULL.  signed_by_author:
 * it came in an event, whose origin signed it, so its author must be that
 * origin; a snapshot carries every word its origin holds, whoever wrote
 * it, so there the author is the word's claim only.
 */
static const char *
refusal(struct sync *s, const char *origin, const PB(SilenceUpdate) *u,
    int signed_by_author)
{
	const PB(SilenceUpdate) *held = hmap_get(s->silences, u->id);
	uint64_t now = clock_wall_ms();

	if (u->updated_ms > now + SYNC_SILENCE_AHEAD_MAX_MS)
		return "dated ahead of our clock";
	if (signed_by_author && (u->author == NULL ||
	    strcmp(u->author, origin) != 0))
		return "its author is not the node that signed it";
	/* A removal of the live silence we hold cannot outlive it, however
	 * its end lies (the remover's clock may be behind the one that
	 * made it); any other ends at most a silence's longest after it. */
	if (u->deleted && (u->ends_ms < u->updated_ms ||
	    u->ends_ms > removal_end_max(u)) && !within_live(held, u))
		return "a removal that ends more than 91 days on";
	/* The hook's rules: a removal may name any node's id, held yet or
	 * not (removal wins when the silence comes later; its node skips
	 * an id the mesh holds). */
	if (s->silence_check != NULL &&
	    s->silence_check(u, s->silence_hook_arg) != 0)
		return "not a silence the API would take";
	return NULL;
}

static void
apply_one(struct sync *s, const char *origin, const PB(SilenceUpdate) *u,
    int signed_by_author)
{
	const PB(SilenceUpdate) *held;
	const char *why;
	int rc;

	if (s->silences == NULL)
		s->silences = hmap_new();
	held = hmap_get(s->silences, u->id);
	if (u->deleted && held != NULL && held->deleted &&
	    held->updated_ms == u->updated_ms && held->author != NULL &&
	    u->author != NULL && strcmp(held->author, u->author) == 0)
		return;		/* the word held: nothing to refuse or take */
	if ((why = refusal(s, origin, u, signed_by_author)) != NULL) {
		refuse(s, origin, u, why);
		return;
	}
	if ((rc = put(s, u, &held, 1)) < 0)
		refuse(s, origin, u, "too many silences");
	else if (rc > 0 && s->silence_changed != NULL)
		s->silence_changed(held, s->silence_hook_arg);
}

void
sync_silences_apply(struct sync *s, const char *origin,
    const PB(SilenceUpdate) *u)
{
	apply_one(s, origin, u, 1);
}

void
sync_silences_merge(struct sync *s, const char *origin,
    PB(SilenceUpdate) *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		apply_one(s, origin, v[i], 0);
}

static int
fill_one(const char *id, void *value, void *arg)
{
	PB(OriginState) *st = arg;

	(void)id;
	if (st->n_silences < FRAME_CODEC_MAX_SILENCES)
		st->silences[st->n_silences++] = value;
	return 0;
}

void
sync_silences_fill(struct sync *s, PB(OriginState) *st)
{
	st->n_silences = 0;
	st->silences = NULL;
	(void)census(s);	/* the ended ones go first */
	if (s->silences == NULL || hmap_count(s->silences) == 0)
		return;
	st->silences = xcalloc(hmap_count(s->silences), sizeof(*st->silences));
	hmap_sweep(s->silences, fill_one, st);
}

size_t
sync_silences_held(const struct sync *s)
{
	return s->silences != NULL ? hmap_count(s->silences) : 0;
}

const PB(SilenceUpdate) *
sync_silences_get(const struct sync *s, const char *id)
{
	return s->silences != NULL ? hmap_get(s->silences, id) : NULL;
}

uint64_t
sync_silences_refused(const struct sync *s)
{
	return s->silences_refused;
}

void
sync_set_silence_hooks(struct sync *s,
    int (*check)(const PB(SilenceUpdate) *, void *),
    void (*changed)(const PB(SilenceUpdate) *, void *), void *arg)
{
	s->silence_check = check;
	s->silence_changed = changed;
	s->silence_hook_arg = arg;
}

static int
free_one(const char *id, void *value, void *arg)
{
	(void)id;
	(void)arg;
	update_free(value);
	return 1;
}

void
sync_silences_free(struct sync *s)
{
	if (s->silences == NULL)
		return;
	hmap_sweep(s->silences, free_one, NULL);
	hmap_free(s->silences);
	s->silences = NULL;
}
