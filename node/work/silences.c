/*
 * Silences (silences.h): the checks of a new one, the list in the store's
 * meta, and the matching notify.c and GET /api/alerts ask for.
 *
 * Invariant: s->list holds at most SILENCES_MAX silences as they are
 * stored, each {id, matchers, starts_ms, ends_ms, comment, created_by,
 * node}; s->removed the removals not yet ended, each {id, updated_ms,
 * author, ends_ms} and who asked for it here (by), no id in both; the store holds the same after every
 * change that succeeded.
 */
#include "silences.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "log.h"
#include "node_id.h"
#include "opts.h"
#include "store.h"
#include "text.h"
#include "xalloc.h"

#define META_KEY	"silences"
/* 64 silences of 8 labels of 63 + 255 bytes, a comment and the rest,
 * and 64 removals. */
#define META_MAX	(256 * 1024)
#define REMOVED_MAX	64	/* sync_silences.h's tombstones */

struct silences {
	struct store	*st;
	char		 self[64];
	char		 hash[16];	/* of self, for ids */
	json_t		*list;		/* array, oldest first */
	json_t		*removed;	/* array, oldest first */
	uint64_t	 next;		/* the next id's number */
	int		(*taken)(const char *, void *);	/* the mesh's view */
	void		*taken_arg;
};

/* 12 hex digits of FNV-1a over id: the ids of two nodes meet only when
 * these do (2^-48 a pair). */
static void
hash_of(const char *id, char *out, size_t outlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(out, outlen, "%012" PRIx64, h >> 16);
}

static json_t *
find(json_t *arr, const char *id, size_t *at)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_text_of(v, "id"), id) == 0) {
			if (at != NULL)
				*at = i;
			return v;
		}
	return NULL;
}

/* 0, -1 on a store failure, -2 when the list would not fit META_MAX
 * (a longer value would come back cut, and unreadable, at the start). */
static int
save(struct silences *s)
{
	json_t *doc = json_pack("{s:I, s:O, s:O}", "next", (json_int_t)s->next,
	    "silences", s->list, "removed", s->removed);
	char *text = json_dumps(doc, JSON_COMPACT);
	int rc = text == NULL ? -1 : strlen(text) >= META_MAX ? -2 :
	    store_meta_set(s->st, META_KEY, text);

	free(text);
	json_decref(doc);
	return rc;
}

/* Drops the silences ended by now; stores the list when one went. */
static size_t
expire_in(json_t *arr, uint64_t now_ms)
{
	size_t i = 0, n = 0;

	while (i < json_array_size(arr)) {
		if (json_u64_of(json_array_get(arr, i), "ends_ms") <= now_ms) {
			json_array_remove(arr, i);
			n++;
		} else
			i++;
	}
	return n;
}

static void
expire(struct silences *s, uint64_t now_ms)
{
	if (expire_in(s->list, now_ms) + expire_in(s->removed, now_ms) > 0)
		(void)save(s);	/* a failure leaves them to drop next time */
}

/* A silence stored before they were mesh-wide: self's, under an id of
 * the mesh's form.  It held back only self's notices then; a node
 * matcher keeps it so now that every node holds it.  0 when it is to
 * go: its node matcher named another node, so it held back nothing
 * and would become active there. */
static int
adopt(struct silences *s, json_t *sil)
{
	json_t *m = json_object_get(sil, "matchers"), *node;
	char id[64];

	if (json_is_string(json_object_get(sil, "node")))
		return 1;
	node = json_object_get(m, "node");
	if (node != NULL && (!json_is_string(node) ||
	    strcmp(json_string_value(node), s->self) != 0))
		return 0;
	snprintf(id, sizeof(id), "sil-%" PRIu64 "-%s", s->next++, s->hash);
	json_object_set_new(sil, "id", json_string(id));
	json_object_set_new(sil, "node", json_string(s->self));
	if (json_is_object(m))
		json_object_set_new(m, "node", json_string(s->self));
	return 1;
}

struct silences *
silences_new(struct store *st, const char *self, char *err, size_t errlen)
{
	struct silences *s = xcalloc(1, sizeof(*s));
	char *buf = xmalloc(META_MAX);
	json_t *doc = NULL, *list, *removed;
	size_t i;
	int rc;

	s->st = st;
	s->next = 1;
	snprintf(s->self, sizeof(s->self), "%s", self);
	hash_of(self, s->hash, sizeof(s->hash));
	rc = store_meta_get(st, META_KEY, buf, META_MAX);
	if (rc > 0) {
		doc = json_loads(buf, 0, NULL);
		list = json_object_get(doc, "silences");
		if (!json_is_array(list) || json_array_size(list) > SILENCES_MAX) {
			/* Not a reason to stay down: alerts then page as
			 * they would with no silence. */
			log_event(LOG_WARN, "the stored silences are unreadable; "
			    "starting with none", "{s:i}", "max", SILENCES_MAX);
		} else {
			s->list = json_incref(list);
			s->next = json_u64_of(doc, "next");
			if (s->next == 0)
				s->next = 1;
			for (i = 0; i < json_array_size(list); )
				if (adopt(s, json_array_get(list, i)))
					i++;
				else
					json_array_remove(list, i);
			removed = json_object_get(doc, "removed");
			if (json_is_array(removed) &&
			    json_array_size(removed) <= REMOVED_MAX)
				s->removed = json_incref(removed);
		}
	} else if (rc < 0) {
		snprintf(err, errlen, "cannot read the stored silences");
	}
	json_decref(doc);
	free(buf);
	if (rc < 0) {
		silences_free(s);
		return NULL;
	}
	if (s->list == NULL)
		s->list = json_array();
	if (s->removed == NULL)
		s->removed = json_array();
	if (s->next == 0)
		s->next = 1;
	return s;
}

void
silences_free(struct silences *s)
{
	if (s == NULL)
		return;
	json_decref(s->list);
	json_decref(s->removed);
	free(s);
}

void
silences_set_taken(struct silences *s, int (*taken)(const char *, void *),
    void *arg)
{
	s->taken = taken;
	s->taken_arg = arg;
}

/* The matchers of a POST, checked: a new object, or NULL with err set. */
static json_t *
matchers_check(const json_t *m, char *err, size_t errlen)
{
	static const char *const keys[] = { "rule", "node", "labels" };
	const json_t *v;
	const char *k;
	json_t *out;

	if (!json_is_object(m)) {
		snprintf(err, errlen, "matchers: an object {rule, node, labels}");
		return NULL;
	}
	if ((k = json_check_keys(m, keys, 3)) != NULL) {
		snprintf(err, errlen, "matchers.%.64s: not a field (rule, node, "
		    "labels)", text_utf8_valid(k, strlen(k), true) ? k : "?");
		return NULL;
	}
	out = json_object();
	for (size_t i = 0; i < 2; i++) {
		if ((v = json_object_get(m, keys[i])) == NULL)
			continue;
		if (!json_is_string(v) || !node_id_valid(json_string_value(v),
		    json_string_length(v))) {
			snprintf(err, errlen, "matchers.%s: a %s name (1-63 of "
			    "[A-Za-z0-9._-])", keys[i], i == 0 ? "rule" : "node");
			goto fail;
		}
		json_object_set(out, keys[i], (json_t *)v);
	}
	if ((v = json_object_get(m, "labels")) != NULL) {
		if (!json_is_object(v) || json_object_size(v) == 0 ||
		    json_object_size(v) > SILENCES_LABELS_MAX) {
			snprintf(err, errlen, "matchers.labels: an object of 1-%d "
			    "labels", SILENCES_LABELS_MAX);
			goto fail;
		}
		json_object_foreach((json_t *)v, k, m) {
			if (!text_label_key_valid(k, strlen(k))) {
				snprintf(err, errlen, "matchers.labels: not a label "
				    "key (1-63 of [A-Za-z0-9._/-])");
				goto fail;
			}
			if (!json_is_string(m) || !text_label_value_valid(
			    json_string_value(m), json_string_length(m))) {
				snprintf(err, errlen, "matchers.labels.%s: a label "
				    "value (text of at most 255 bytes)", k);
				goto fail;
			}
		}
		json_object_set(out, "labels", (json_t *)v);
	}
	if (json_object_size(out) == 0) {
		snprintf(err, errlen, "matchers: at least one of rule, node, labels");
		goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* The end of the silence body asks for, or 0 with err set. */
static uint64_t
ends_check(const json_t *body, uint64_t now_ms, char *err, size_t errlen)
{
	const json_t *until = json_object_get(body, "until_ms");
	const json_t *dur = json_object_get(body, "for");
	json_int_t ms;
	long s;

	if ((until == NULL) == (dur == NULL)) {
		snprintf(err, errlen, "until_ms: one of until_ms (a wall time in ms) "
		    "or for (\"2h\") is required");
		return 0;
	}
	if (until != NULL) {
		if (!json_check_int(until, (json_int_t)now_ms + 1,
		    (json_int_t)(now_ms + SILENCES_FOR_MAX_MS), &ms)) {
			snprintf(err, errlen, "until_ms: a time to come, at most 90 "
			    "days on");
			return 0;
		}
		return (uint64_t)ms;
	}
	if (!json_is_string(dur) || json_string_length(dur) > 16 ||
	    opts_duration_parse(json_string_value(dur), &s) != 0 || s <= 0 ||
	    (uint64_t)s > SILENCES_FOR_MAX_MS / 1000) {
		snprintf(err, errlen, "for: a duration such as \"90s\", \"15m\", "
		    "\"2h\", \"7d\" (at most 90 days)");
		return 0;
	}
	return now_ms + (uint64_t)s * 1000;
}

/* How many of the live silences were added on node. */
static size_t
live_of(const struct silences *s, const char *node)
{
	const json_t *v;
	size_t i, n = 0;

	json_array_foreach(s->list, i, v)
		n += strcmp(json_text_of(v, "node"), node) == 0;
	return n;
}

int
silences_add(struct silences *s, const json_t *body, const char *by,
    uint64_t now_ms, json_t **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "matchers", "until_ms", "for",
	    "comment" };
	const json_t *comment;
	json_t *m, *sil;
	uint64_t ends;
	char id[64];
	const char *k;
	int rc;

	*out = NULL;
	if (!json_is_object(body)) {
		snprintf(err, errlen, "body: an object {matchers, until_ms | "
		    "for, comment}");
		return 400;
	}
	if ((k = json_check_keys(body, keys, 4)) != NULL) {
		snprintf(err, errlen, "%.64s: not a field (matchers, until_ms, "
		    "for, comment)", text_utf8_valid(k, strlen(k), true) ? k :
		    "?");
		return 400;
	}
	comment = json_object_get(body, "comment");
	if (comment != NULL && !json_check_text(comment, 0,
	    SILENCES_COMMENT_MAX, true)) {
		snprintf(err, errlen, "comment: text of at most %d bytes",
		    SILENCES_COMMENT_MAX);
		return 400;
	}
	if ((m = matchers_check(json_object_get(body, "matchers"), err,
	    errlen)) == NULL)
		return 400;
	if ((ends = ends_check(body, now_ms, err, errlen)) == 0) {
		json_decref(m);
		return 400;
	}
	expire(s, now_ms);
	if (json_array_size(s->list) >= SILENCES_MAX) {
		json_decref(m);
		snprintf(err, errlen, "%d silences are active already: remove "
		    "one first", SILENCES_MAX);
		return 507;
	}
	if (live_of(s, s->self) >= SILENCES_SHARE_MAX) {
		json_decref(m);
		snprintf(err, errlen, "this node holds %d of its own silences, "
		    "its share of the mesh's %d: remove one of them first",
		    SILENCES_SHARE_MAX, SILENCES_MAX);
		return 409;
	}
	/* an id the mesh holds (ours before a wiped data directory, or
	 * removed ahead by another member) would go nowhere: the mesh
	 * keeps the word it has */
	for (;;) {
		snprintf(id, sizeof(id), "sil-%" PRIu64 "-%s", s->next, s->hash);
		if (find(s->list, id, NULL) == NULL &&
		    find(s->removed, id, NULL) == NULL &&
		    (s->taken == NULL || !s->taken(id, s->taken_arg)))
			break;
		s->next++;
	}
	sil = json_pack("{s:s, s:o, s:I, s:I, s:s, s:s, s:s}", "id", id,
	    "matchers", m, "starts_ms", (json_int_t)now_ms, "ends_ms",
	    (json_int_t)ends, "comment", comment != NULL ?
	    json_string_value(comment) : "", "created_by", by, "node", s->self);
	json_array_append(s->list, sil);
	s->next++;
	if ((rc = save(s)) != 0) {
		json_array_remove(s->list, json_array_size(s->list) - 1);
		s->next--;
		json_decref(sil);
		if (rc == -2) {
			snprintf(err, errlen, "the silences would take more than "
			    "%d KiB: remove one first", META_MAX / 1024);
			return 507;
		}
		snprintf(err, errlen, "cannot store the silence");
		return 500;
	}
	*out = sil;
	return 201;
}

/*
 * The removal forgotten past REMOVED_MAX: one the mesh's view holds no
 * more (it forgot it first, by its ranks: sync_silences.c), else one
 * not ours; of those the one that ends first, of two the lesser id.
 * Ours go last: a removal made here while others were down is what
 * keeps that silence removed when they come back.
 */
static size_t
first_to_end(const struct silences *s)
{
	size_t i, at = 0;
	const json_t *v, *best = NULL;
	int rank, best_rank = 0;

	json_array_foreach(s->removed, i, v) {
		uint64_t e = json_u64_of(v, "ends_ms");
		const char *id = json_text_of(v, "id");

		rank = s->taken != NULL && !s->taken(id, s->taken_arg) ? 0 :
		    strcmp(json_text_of(v, "author"), s->self) != 0 ? 1 : 2;
		if (best == NULL || rank < best_rank || (rank == best_rank &&
		    e < json_u64_of(best, "ends_ms")) || (rank == best_rank &&
		    e == json_u64_of(best, "ends_ms") && strcmp(id,
		    json_text_of(best, "id")) < 0)) {
			best = v;
			best_rank = rank;
			at = i;
		}
	}
	return at;
}

/* Keeps a removal of id by author at updated_ms, asked by principal by
 * (NULL or empty: nobody named, or another node's); at REMOVED_MAX the
 * one first_to_end() picks goes to make room. */
static void
tombstone(struct silences *s, const char *id, uint64_t updated_ms,
    const char *author, uint64_t ends_ms, const char *by)
{
	json_t *t;

	/* first, as sync_silences.c's room(): the new one is always kept */
	while (json_array_size(s->removed) >= REMOVED_MAX)
		json_array_remove(s->removed, first_to_end(s));
	t = json_pack("{s:s, s:I, s:s, s:I}", "id", id, "updated_ms",
	    (json_int_t)updated_ms, "author", author, "ends_ms",
	    (json_int_t)ends_ms);
	if (by != NULL && by[0] != '\0')
		json_object_set_new(t, "by", json_string(by));
	json_array_append_new(s->removed, t);
}

/* Stores the change just made, or puts back what was: list and removed
 * as they were before (copies the caller took). */
static int
commit(struct silences *s, json_t *list, json_t *removed)
{
	if (save(s) == 0) {
		json_decref(list);
		json_decref(removed);
		return 0;
	}
	json_decref(s->list);
	json_decref(s->removed);
	s->list = list;
	s->removed = removed;
	return -1;
}

int
silences_remove(struct silences *s, const char *id, const char *by,
    uint64_t now_ms)
{
	json_t *list, *removed, *sil;
	size_t i;

	expire(s, now_ms);
	if ((sil = find(s->list, id, &i)) == NULL)
		return 0;
	list = json_copy(s->list);
	removed = json_copy(s->removed);
	tombstone(s, id, now_ms, s->self, json_u64_of(sil, "ends_ms"), by);
	json_array_remove(s->list, i);
	return commit(s, list, removed) == 0 ? 1 : -1;
}

/* {id, deleted, spec_json?, updated_ms, author, ends_ms} of a silence
 * (live) or a removal. */
static json_t *
word_of(const json_t *v, int live)
{
	char *spec;
	json_t *w;

	if (!live)
		return json_pack("{s:O, s:b, s:O, s:O, s:O, s:s}", "id",
		    json_object_get(v, "id"), "deleted", 1, "updated_ms",
		    json_object_get(v, "updated_ms"), "author",
		    json_object_get(v, "author"), "ends_ms",
		    json_object_get(v, "ends_ms"), "principal",
		    json_text_of(v, "by"));
	spec = json_dumps(v, JSON_COMPACT);
	w = json_pack("{s:O, s:b, s:s?, s:O, s:O, s:O}", "id",
	    json_object_get(v, "id"), "deleted", 0, "spec_json", spec,
	    "updated_ms", json_object_get(v, "starts_ms"), "author",
	    json_object_get(v, "node"), "ends_ms", json_object_get(v,
	    "ends_ms"));
	free(spec);
	return w;
}

json_t *
silences_word(struct silences *s, const char *id, uint64_t now_ms)
{
	const json_t *v;

	expire(s, now_ms);
	if ((v = find(s->list, id, NULL)) != NULL)
		return word_of(v, 1);
	if ((v = find(s->removed, id, NULL)) != NULL)
		return word_of(v, 0);
	return NULL;
}

json_t *
silences_words(struct silences *s, uint64_t now_ms)
{
	json_t *out = json_array(), *v;
	size_t i;

	expire(s, now_ms);
	json_array_foreach(s->list, i, v)
		json_array_append_new(out, word_of(v, 1));
	json_array_foreach(s->removed, i, v)
		json_array_append_new(out, word_of(v, 0));
	return out;
}

/* The <hash> of id when it is "sil-<n>-<hash>" with n one silences_add
 * can give (1 to UINT64_MAX, as PRIu64 writes it), else NULL. */
static const char *
id_hash(const char *id)
{
	const char *p = id + 4, *dash;
	size_t len;

	if (strncmp(id, "sil-", 4) != 0 || (dash = strchr(p, '-')) == NULL)
		return NULL;
	len = (size_t)(dash - p);
	if (len == 0 || len > 20 || *p == '0' ||
	    strspn(p, "0123456789") != len ||
	    (len == 20 && strncmp(p, "18446744073709551615", 20) > 0))
		return NULL;
	return dash + 1;
}

static int
id_of_node(const char *id, const char *node)
{
	const char *h = id_hash(id);
	char hash[16];

	hash_of(node, hash, sizeof(hash));
	return h != NULL && strcmp(h, hash) == 0;
}

int
silences_check(const char *id, const char *spec, size_t len,
    const char *author, uint64_t updated_ms, uint64_t ends_ms,
    uint64_t now_ms, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "matchers", "starts_ms",
	    "ends_ms", "comment", "created_by", "node" };
	json_t *j = json_loadb(spec, len, JSON_REJECT_DUPLICATES, NULL), *m;
	const json_t *node;
	json_int_t starts = 0;
	const char *bad = NULL;

	if (!json_is_object(j))
		bad = "spec: not a JSON object";
	else if (json_check_keys(j, keys, 7) != NULL || json_object_size(j) != 7)
		bad = "spec: not the fields {id, matchers, starts_ms, ends_ms, "
		    "comment, created_by, node}";
	else if (!json_is_string(node = json_object_get(j, "node")) ||
	    !node_id_valid(json_string_value(node), json_string_length(node)) ||
	    strcmp(json_string_value(node), author) != 0)
		bad = "node: the node id of the word's author";
	else if (!json_is_string(json_object_get(j, "id")) ||
	    strcmp(json_text_of(j, "id"), id) != 0 ||
	    !id_of_node(id, json_string_value(node)))
		bad = "id: not sil-<n>-<its node's hash>";
	else if (!json_check_text(json_object_get(j, "comment"), 0,
	    SILENCES_COMMENT_MAX, true))
		bad = "comment: text of at most 256 bytes";
	else if (!json_check_text(json_object_get(j, "created_by"), 0, 128,
	    true))
		bad = "created_by: text of at most 128 bytes";
	else if (json_u64_of(j, "ends_ms") != ends_ms ||
	    !json_check_int(json_object_get(j, "starts_ms"), 1,
	    (json_int_t)ends_ms - 1, &starts) ||
	    ends_ms - (uint64_t)starts > SILENCES_FOR_MAX_MS ||
	    ends_ms > now_ms + SILENCES_FOR_MAX_MS + SILENCES_AHEAD_MAX_MS)
		bad = "ends_ms: after starts_ms, at most 90 days on";
	else if ((uint64_t)starts > now_ms + SILENCES_AHEAD_MAX_MS)
		bad = "starts_ms: more than a day ahead of our clock";
	else if ((uint64_t)starts != updated_ms)
		bad = "starts_ms: not the word's updated_ms";
	if (bad != NULL) {
		snprintf(err, errlen, "%s", bad);
		json_decref(j);
		return -1;
	}
	m = matchers_check(json_object_get(j, "matchers"), err, errlen);
	json_decref(j);
	if (m == NULL)
		return -1;
	json_decref(m);
	return 0;
}

int
silences_check_removal(const char *id, const char *author, char *err,
    size_t errlen)
{
	const char *h = id_hash(id);

	if (h == NULL || strlen(h) != 12 || strspn(h, "0123456789abcdef") != 12) {
		snprintf(err, errlen, "id: not sil-<n>-<12 hex digits>");
		return -1;
	}
	if (author == NULL || !node_id_valid(author, strlen(author))) {
		snprintf(err, errlen, "author: not a node id");
		return -1;
	}
	return 0;
}

/* Whether a removal (updated_ms, author) is newer than the one held. */
static int
removal_newer(const json_t *held, uint64_t updated_ms, const char *author)
{
	uint64_t at = json_u64_of(held, "updated_ms");

	if (updated_ms != at)
		return updated_ms > at;
	return strcmp(author, json_text_of(held, "author")) > 0;
}

int
silences_apply(struct silences *s, const char *id, const char *spec,
    uint64_t updated_ms, const char *author, uint64_t ends_ms,
    uint64_t now_ms)
{
	json_t *list, *removed, *held, *sil;
	size_t i;

	expire(s, now_ms);
	if (ends_ms <= now_ms)
		return 0;
	held = find(s->removed, id, &i);
	if (spec != NULL && (held != NULL || find(s->list, id, NULL) != NULL))
		return 0;	/* removed, or held already */
	if (spec == NULL && held != NULL && !removal_newer(held, updated_ms,
	    author))
		return 0;
	if (spec != NULL && json_array_size(s->list) >= SILENCES_MAX)
		return -1;
	if (spec != NULL && (sil = json_loads(spec, 0, NULL)) == NULL)
		return -1;
	list = json_copy(s->list);
	removed = json_copy(s->removed);
	if (spec != NULL)
		json_array_append_new(s->list, sil);
	else {
		if (held != NULL)
			json_array_remove(s->removed, i);
		if (find(s->list, id, &i) != NULL)
			json_array_remove(s->list, i);
		tombstone(s, id, updated_ms, author, ends_ms, NULL);
	}
	return commit(s, list, removed) == 0 ? 1 : -1;
}

json_t *
silences_list(struct silences *s, uint64_t now_ms)
{
	expire(s, now_ms);
	return json_deep_copy(s->list);
}

size_t
silences_active(struct silences *s, uint64_t now_ms)
{
	expire(s, now_ms);
	return json_array_size(s->list);
}

static int
matches(const json_t *m, const char *rule, const char *node,
    const json_t *labels)
{
	const json_t *v, *want = json_object_get(m, "labels");
	const char *k;

	/* The list is our own store's, checked when made: a type that
	 * is not a string there matches nothing rather than crash. */
	if ((v = json_object_get(m, "rule")) != NULL && (!json_is_string(v) ||
	    strcmp(json_string_value(v), rule) != 0))
		return 0;
	if ((v = json_object_get(m, "node")) != NULL && (!json_is_string(v) ||
	    strcmp(json_string_value(v), node) != 0))
		return 0;
	json_object_foreach((json_t *)want, k, v) {
		const json_t *have = json_object_get(labels, k);

		if (!json_is_string(have) || !json_equal(have, (json_t *)v))
			return 0;
	}
	return 1;
}

const char *
silences_match(struct silences *s, uint64_t now_ms, const char *rule,
    const char *node, const json_t *labels)
{
	json_t *sil;
	size_t i;

	if (s == NULL)
		return NULL;
	expire(s, now_ms);
	json_array_foreach(s->list, i, sil)
		if (json_u64_of(sil, "starts_ms") <= now_ms &&
		    matches(json_object_get(sil, "matchers"), rule, node, labels))
			return json_text_of(sil, "id");
	return NULL;
}
