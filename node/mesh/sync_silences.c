/*
 * The mesh's view of silences (sync_silences.h): id → the merged
 * SilenceUpdate, a heap copy.
 *
 * Where a word comes from decides whether it is taken, as for schedules
 * (sync_schedules.c):
 *   our own          sync_emit_silence, sync_silences_seed    always
 *   our store's      sync_silences_seed                       another's
 *                                                             as a claim
 *   an event         sync_apply_event → sync_silences_apply   its origin
 *                                                             signed it
 *   a snapshot       apply_snapshot → sync_silences_merge     only from
 *                                                             the origin:
 *                                                             its own words
 *                                                             as signed
 * and then only when refusal() finds nothing wrong with it: an event's
 * author is its signer; a snapshot's is the word's claim.
 *
 * Invariant: at most SYNC_SILENCES_MAX live and SYNC_SILENCE_TOMBSTONES_MAX
 * removed ids, each once; a removed id never comes back to life.  Each
 * held word carries how far it is trusted (struct held), which decides
 * whose share it counts in and which removal is forgotten (rank()).
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

static const char claims_ours[] =
    "it claims to be ours, and we hold no such word";

/* What we hold of an id: the merged word, and how far to trust it. */
struct held {
	PB(SilenceUpdate)	*u;
	/* Its author's own word: ours (made here or kept in our store), or
	 * one the author signed.  A snapshot's word is only the claim of
	 * the node that sent it, and our store's word of another node only
	 * what we once took (perhaps a claim: the store does not say); it
	 * is never charged to the author's share and never makes another's
	 * word be forgotten. */
	int			 vouched;
	/* A removal of a silence live here when it came (or ours, or one
	 * our store kept): what stops that silence coming back, kept
	 * before any other removal and never charged to a share. */
	int			 kept;
};

/* Where a word comes from (put): FROM_STORE our own word in our store,
 * FROM_STORE_CLAIM another node's there. */
enum from {
	FROM_OURS, FROM_STORE, FROM_STORE_CLAIM, FROM_EVENT, FROM_SNAPSHOT
};

/* hmap_sweep: drops an end (uint64_t) that has passed, or every one
 * when arg is non-NULL. */
static int
ended_cb(const char *id, void *value, void *arg)
{
	uint64_t *end = value;

	(void)id;
	if (arg == NULL && *end > clock_wall_ms())
		return 0;
	free(end);
	return 1;
}

static void
held_free(struct held *h)
{
	if (h == NULL)
		return;
	agentflow__mesh__v1__silence_update__free_unpacked(h->u, NULL);
	free(h);
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

static int
same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/*
 * How hard a removal is to forget, lowest first: 0 a snapshot's claim,
 * 1 its author's signed word, 2 and 3 the same of one that keeps a live
 * silence removed or came from our store, 4 ours.  A removal is forgotten only for one of the
 * same rank or above, and a snapshot's only for another snapshot's
 * (room()), so no claim of a snapshot pushes out a signed word and only
 * ours push out ours (when all 64 are ours: the bound holds).  Among
 * signed words the busiest author's go first, so a member's flood of
 * removals of its own live silences pushes out only its own.
 */
static int
rank(const struct sync *s, const PB(SilenceUpdate) *u, int vouched, int kept)
{
	if (same(u->author, s->self_id))
		return 4;
	return (kept ? 2 : 0) + (vouched != 0);
}

struct census {
	const struct sync	*s;
	uint64_t		 now_ms;
	const char		*author;	/* whose share to count */
	size_t			 live, dead;
	size_t			 live_of;	/* author's vouched live */
	size_t			 capped_of;	/* author's rank-1 removals */
};

/* Counts, and forgets what has ended (hmap_sweep drops it on 1). */
static int
census_one(const char *id, void *value, void *arg)
{
	struct held *h = value;
	struct census *c = arg;
	int mine = same(h->u->author, c->author);

	(void)id;
	if (h->u->ends_ms <= c->now_ms) {
		held_free(h);
		return 1;
	}
	if (!h->u->deleted) {
		c->live++;
		c->live_of += mine && h->vouched;
	} else {
		c->dead++;
		c->capped_of += mine && rank(c->s, h->u, h->vouched,
		    h->kept) == 1;
	}
	return 0;
}

/* author: whose share to count (NULL: nobody's). */
static struct census
census(struct sync *s, const char *author)
{
	struct census c = { .s = s, .now_ms = clock_wall_ms(),
	    .author = author };

	if (s->silences != NULL)
		hmap_sweep(s->silences, census_one, &c);
	return c;
}

struct victim {
	const struct sync	*s;
	const char		*author;	/* NULL: any */
	int			 min_rank, max_rank;	/* pick within */
	int			 claims_only;	/* only snapshots' words */
	const char		*id;		/* the pick, or NULL */
	const struct held	*h;
	int			 rank;
};

/* The removal forgotten first: the lowest rank, then the one that ends
 * first, of two the lesser id. */
static int
victim_one(const char *id, void *value, void *arg)
{
	const struct held *h = value;
	struct victim *v = arg;
	int r;

	if (!h->u->deleted || (v->author != NULL &&
	    !same(h->u->author, v->author)))
		return 0;
	r = rank(v->s, h->u, h->vouched, h->kept);
	if (r < v->min_rank || r > v->max_rank || (v->claims_only &&
	    h->vouched))
		return 0;
	if (v->id == NULL || r < v->rank || (r == v->rank &&
	    (h->u->ends_ms < v->h->u->ends_ms || (h->u->ends_ms ==
	    v->h->u->ends_ms && strcmp(id, v->id) < 0)))) {
		v->id = id;
		v->h = h;
		v->rank = r;
	}
	return 0;
}

/* Forgets the removal victim_one() picks, of author (NULL: any), of a
 * rank from min_rank to max_rank, and only a snapshot's when
 * claims_only: 1, or 0 when there is none. */
static int
forget_one(struct sync *s, const char *author, int min_rank, int max_rank,
    int claims_only)
{
	struct victim v = { .s = s, .author = author, .min_rank = min_rank,
	    .max_rank = max_rank, .claims_only = claims_only };

	hmap_sweep(s->silences, victim_one, &v);
	if (v.id == NULL)
		return 0;
	held_free(hmap_del(s->silences, v.id));
	return 1;
}

/* Each author's signed removals of rank 1 to max_rank (busiest()). */
struct tally {
	const struct sync	*s;
	int			 max_rank;
	size_t			 len;
	struct {
		const char	*author;
		size_t		 n;
		uint64_t	 first_end;	/* the earliest of its ends */
	}			 of[SYNC_SILENCE_TOMBSTONES_MAX];
};

static int
tally_one(const char *id, void *value, void *arg)
{
	const struct held *h = value;
	struct tally *t = arg;
	size_t i;
	int r;

	(void)id;
	if (!h->u->deleted || !h->vouched)
		return 0;
	r = rank(t->s, h->u, h->vouched, h->kept);
	if (r < 1 || r > t->max_rank)
		return 0;
	for (i = 0; i < t->len && !same(t->of[i].author, h->u->author); i++)
		continue;
	if (i == t->len) {
		if (t->len == SYNC_SILENCE_TOMBSTONES_MAX)
			return 0;	/* cannot be: at most that many held */
		t->of[t->len].author = h->u->author != NULL ? h->u->author : "";
		t->of[t->len].n = 0;
		t->of[t->len++].first_end = UINT64_MAX;
	}
	t->of[i].n++;
	if (h->u->ends_ms < t->of[i].first_end)
		t->of[i].first_end = h->u->ends_ms;
	return 0;
}

/* The author holding the most signed removals of rank 1 to max_rank, of
 * two the one whose first ends first; NULL when none. */
static const char *
busiest(struct sync *s, int max_rank, size_t *held_n)
{
	struct tally t = { .s = s, .max_rank = max_rank };
	size_t best = 0;

	hmap_sweep(s->silences, tally_one, &t);
	for (size_t i = 1; i < t.len; i++)
		if (t.of[i].n > t.of[best].n || (t.of[i].n == t.of[best].n &&
		    t.of[i].first_end < t.of[best].first_end))
			best = i;
	*held_n = t.len > 0 ? t.of[best].n : 0;
	return t.len > 0 ? t.of[best].author : NULL;
}

/*
 * Whether u (vouched, kept as put() found them) fits in place of held
 * (NULL: a new id), c the census before: 1, -1 when the view is full,
 * -2 when its author holds its share.  A new silence is refused past
 * SYNC_SILENCES_MAX, or an event's past its author's share.  A removal
 * past its author's share forgets one of the author's own; when there
 * are SYNC_SILENCE_TOMBSTONES_MAX, one of no higher rank (rank()): a
 * snapshot's claim first (a claim makes room for nothing else), then
 * the first-ending signed one of the author holding the most (busiest()),
 * ours only for ours.  Neither frees held.
 */
static int
room(struct sync *s, const struct census *c, const PB(SilenceUpdate) *u,
    const struct held *held, int vouched, int kept, enum from from)
{
	const char *who;
	size_t n;
	int r = rank(s, u, vouched, kept), top;

	if (!u->deleted) {
		if (held != NULL)
			return 1;
		if (c->live >= SYNC_SILENCES_MAX)
			return -1;
		return from == FROM_EVENT &&
		    c->live_of >= SYNC_SILENCE_SHARE_MAX ? -2 : 1;
	}
	/* charged unless it replaces a word already in the same share */
	if (r == 1 && c->capped_of >= SYNC_SILENCE_SHARE_MAX &&
	    !(held != NULL && held->u->deleted && same(held->u->author,
	    u->author) && rank(s, held->u, held->vouched, held->kept) == 1) &&
	    forget_one(s, u->author, 1, 1, 0))
		return 1;
	if (held != NULL && held->u->deleted)
		return 1;	/* in its place */
	if (c->dead < SYNC_SILENCE_TOMBSTONES_MAX)
		return 1;
	/* Full: a snapshot's claim goes first; then a signed word of the
	 * author holding the most, so one member's flood pushes out only
	 * its own; ours last. */
	if (forget_one(s, NULL, 0, r, 1))
		return 1;
	if (!vouched)
		return -1;
	top = r < 4 ? r : 3;
	if ((who = busiest(s, top, &n)) != NULL &&
	    forget_one(s, who, 1, top, 0))
		return 1;
	/* an author holding past its share of kept words yields one */
	if ((who = busiest(s, 3, &n)) != NULL &&
	    n > SYNC_SILENCE_SHARE_MAX && forget_one(s, who, 1, 3, 0))
		return 1;
	return r == 4 && forget_one(s, NULL, 4, 4, 0) ? 1 : -1;
}

/*
 * Merges u (from from) into what we hold of its id.  1 when that
 * changed, 0 when not, -1 when the view is full, -2 when u's author
 * holds its share.  *out (may be NULL) is what we hold after.  A removal
 * of a live silence lasts as long as the silence, whatever its end, so
 * the silence cannot outlive its removal and come back; any other
 * removal ends at most removal_end_max() unless from our store, which
 * kept it as it was taken.
 */
static int
put(struct sync *s, const PB(SilenceUpdate) *u, const PB(SilenceUpdate) **out,
    enum from from)
{
	struct held *held, *c;
	struct census cs;
	int vouched = from != FROM_SNAPSHOT && from != FROM_STORE_CLAIM;
	int kept, rc;

	if (s->silences == NULL)
		s->silences = hmap_new();
	if (out != NULL)
		*out = NULL;
	if (u->ends_ms <= clock_wall_ms())
		return 0;	/* ended: nothing to hold back, nothing to keep */
	cs = census(s, u->author);	/* first: it frees what has ended */
	held = hmap_get(s->silences, u->id);
	if (out != NULL && held != NULL)
		*out = held->u;
	/* A removal wins over the silence; the newer of two removals. */
	if (held != NULL && (!u->deleted || (held->u->deleted &&
	    !newer(u, held->u))))
		return 0;
	/* A claim never replaces a signed removal, nor takes its trust:
	 * else a claim in another's name would demote it to a claim, the
	 * first to be forgotten. */
	if (held != NULL && held->u->deleted && held->vouched && !vouched)
		return 0;
	/* Another node's removal in our store is kept, though a claim: it
	 * was taken (perhaps of a silence live then), so claims cannot push
	 * it out, and its author's word vouches it without charging it. */
	kept = from == FROM_OURS || from == FROM_STORE ||
	    (from == FROM_STORE_CLAIM && u->deleted) || (held != NULL &&
	    (!held->u->deleted || held->kept));
	if ((rc = room(s, &cs, u, held, vouched, kept, from)) < 0)
		return rc;
	c = xcalloc(1, sizeof(*c));
	if ((c->u = sync_message_copy(&u->base)) == NULL) {
		free(c);
		return 0;
	}
	c->vouched = vouched;
	c->kept = u->deleted && kept;
	if (from != FROM_STORE && from != FROM_STORE_CLAIM &&
	    c->u->deleted && c->u->ends_ms > removal_end_max(c->u) &&
	    !within_live(held != NULL ? held->u : NULL, c->u))
		c->u->ends_ms = removal_end_max(c->u);
	if (held != NULL && held->u->ends_ms > c->u->ends_ms)
		c->u->ends_ms = held->u->ends_ms;
	hmap_put(s->silences, u->id, c);
	held_free(held);
	if (out != NULL)
		*out = c->u;
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
	if ((rc = put(s, u, &held, FROM_OURS)) <= 0) {
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

/* Only our own words are trusted from the store: another node's was
 * kept whether it came signed or claimed, so it is held as a claim
 * until its author's word comes again (vouch()); a removal there is
 * also kept (put()), so a full table of them refuses a signed removal
 * of an id not live here. */
void
sync_silences_seed(struct sync *s, const PB(SilenceUpdate) *u)
{
	if (valid(s, u))
		(void)put(s, u, NULL, same(u->author, s->self_id) ?
		    FROM_STORE : FROM_STORE_CLAIM);
}

/* Remembers u's id, claimed as ours (at most SYNC_SILENCE_TOMBSTONES_MAX,
 * each until the word's end, at most removal_end_max()). */
static void
claimed(struct sync *s, const PB(SilenceUpdate) *u)
{
	uint64_t *end;

	if (s->silences_ours == NULL)
		s->silences_ours = hmap_new();
	if (hmap_count(s->silences_ours) >= SYNC_SILENCE_TOMBSTONES_MAX)
		hmap_sweep(s->silences_ours, ended_cb, NULL);
	if (hmap_count(s->silences_ours) >= SYNC_SILENCE_TOMBSTONES_MAX ||
	    hmap_get(s->silences_ours, u->id) != NULL)
		return;
	end = xmalloc(sizeof(*end));
	/* refusal() bounds a removal's end only by a live silence held */
	*end = u->ends_ms < removal_end_max(u) ? u->ends_ms :
	    removal_end_max(u);
	hmap_put(s->silences_ours, u->id, end);
}

int
sync_silences_claimed(const struct sync *s, const char *id)
{
	return s->silences_ours != NULL &&
	    hmap_get(s->silences_ours, id) != NULL;
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
 * origin (or it came in the origin's own snapshot, claiming the origin);
 * a snapshot carries every word its origin holds, whoever wrote it, so
 * there any other author is the word's claim only.
 */
static const char *
refusal(struct sync *s, const char *origin, const PB(SilenceUpdate) *u,
    int signed_by_author)
{
	const struct held *h = hmap_get(s->silences, u->id);
	const PB(SilenceUpdate) *held = h != NULL ? h->u : NULL;
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
	/* Only we speak for us: a word of ours we do not hold (a silence,
	 * or a removal of ours) is another node's invention, or from a
	 * life of ours before a wiped data directory.  Last, so that only a
	 * word that would otherwise be taken is remembered (claimed()). */
	if (same(u->author, s->self_id) && (held == NULL || (u->deleted &&
	    !(held->deleted && same(held->author, s->self_id)))))
		return claims_ours;
	return NULL;
}

/* Whether u is the word h holds: the same author's of the same time
 * (a live one also the same silence; a removal's end may have grown). */
static int
held_word(const struct held *h, const PB(SilenceUpdate) *u)
{
	if (h == NULL || h->u->deleted != u->deleted ||
	    h->u->updated_ms != u->updated_ms || h->u->author == NULL ||
	    u->author == NULL || strcmp(h->u->author, u->author) != 0)
		return 0;
	return u->deleted || (h->u->ends_ms == u->ends_ms &&
	    same(h->u->spec_json, u->spec_json));
}

/* Word u, held as a claim, now comes signed by its author: charged to its
 * share from now on.  A silence stays a claim while the author holds its
 * share; past the share a removal forgets one of the author's own (as
 * room() does for a new one). */
static void
vouch(struct sync *s, const PB(SilenceUpdate) *u)
{
	struct census c = census(s, u->author);	/* it may free what ended */
	struct held *h = hmap_get(s->silences, u->id);

	if (h == NULL)
		return;
	if (!h->u->deleted) {
		h->vouched = c.live_of < SYNC_SILENCE_SHARE_MAX;
		return;
	}
	if (rank(s, h->u, 1, h->kept) == 1 &&
	    c.capped_of >= SYNC_SILENCE_SHARE_MAX)
		(void)forget_one(s, u->author, 1, 1, 0);
	h->vouched = 1;
}

static void
apply_one(struct sync *s, const char *origin, const PB(SilenceUpdate) *u,
    int signed_by_author)
{
	const PB(SilenceUpdate) *merged;
	struct held *h;
	const char *why;
	int rc;

	if (s->silences == NULL)
		s->silences = hmap_new();
	h = hmap_get(s->silences, u->id);
	if (held_word(h, u)) {
		/* the word held: nothing to refuse or take, but now we
		 * have it from its author */
		if (signed_by_author && strcmp(u->author, origin) == 0 &&
		    !h->vouched)
			vouch(s, u);
		return;
	}
	if ((why = refusal(s, origin, u, signed_by_author)) != NULL) {
		if (why == claims_ours)
			claimed(s, u);
		refuse(s, origin, u, why);
		return;
	}
	if ((rc = put(s, u, &merged, signed_by_author ? FROM_EVENT :
	    FROM_SNAPSHOT)) < 0)
		refuse(s, origin, u, rc == -1 ? "too many silences" :
		    "its author holds its share of the silences");
	else if (rc > 0 && s->silence_changed != NULL)
		s->silence_changed(merged, s->silence_hook_arg);
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
	/* A word whose claimed author sent the snapshot is as good as
	 * signed: a snapshot is taken only from the node it describes
	 * (sync_vouch_state), so that author is its signer. */
	for (size_t i = 0; i < n; i++)
		apply_one(s, origin, v[i], same(v[i]->author, origin));
}

static int
fill_one(const char *id, void *value, void *arg)
{
	PB(OriginState) *st = arg;
	const struct held *h = value;

	(void)id;
	if (st->n_silences < FRAME_CODEC_MAX_SILENCES)
		st->silences[st->n_silences++] = h->u;
	return 0;
}

void
sync_silences_fill(struct sync *s, PB(OriginState) *st)
{
	st->n_silences = 0;
	st->silences = NULL;
	(void)census(s, NULL);	/* the ended ones go first */
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
	const struct held *h = s->silences != NULL ?
	    hmap_get(s->silences, id) : NULL;

	return h != NULL ? h->u : NULL;
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
	held_free(value);
	return 1;
}

void
sync_silences_free(struct sync *s)
{
	if (s->silences != NULL) {
		hmap_sweep(s->silences, free_one, NULL);
		hmap_free(s->silences);
		s->silences = NULL;
	}
	if (s->silences_ours != NULL) {
		hmap_sweep(s->silences_ours, ended_cb, s);
		hmap_free(s->silences_ours);
		s->silences_ours = NULL;
	}
}
