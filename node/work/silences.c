/*
 * Silences (silences.h): the checks of a new one, the list in the store's
 * meta, and the matching notify.c and GET /api/alerts ask for.
 *
 * Invariant: s->list holds at most SILENCES_MAX silences as they are
 * stored, each {id, matchers, starts_ms, ends_ms, comment, created_by};
 * the store holds the same list after every change that succeeded.
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
/* 64 silences of 8 labels of 63 + 255 bytes, a comment and the rest. */
#define META_MAX	(256 * 1024)

struct silences {
	struct store	*st;
	json_t		*list;		/* array, oldest first */
	uint64_t	 next;		/* the next id's number */
};

/* 0, -1 on a store failure, -2 when the list would not fit META_MAX
 * (a longer value would come back cut, and unreadable, at the start). */
static int
save(struct silences *s)
{
	json_t *doc = json_pack("{s:I, s:O}", "next", (json_int_t)s->next,
	    "silences", s->list);
	char *text = json_dumps(doc, JSON_COMPACT);
	int rc = text == NULL ? -1 : strlen(text) >= META_MAX ? -2 :
	    store_meta_set(s->st, META_KEY, text);

	free(text);
	json_decref(doc);
	return rc;
}

/* Drops the silences ended by now; stores the list when one went. */
static void
expire(struct silences *s, uint64_t now_ms)
{
	size_t i = 0, before = json_array_size(s->list);

	while (i < json_array_size(s->list)) {
		if (json_u64_of(json_array_get(s->list, i), "ends_ms") <= now_ms)
			json_array_remove(s->list, i);
		else
			i++;
	}
	if (json_array_size(s->list) != before)
		(void)save(s);	/* a failure leaves them to drop next time */
}

struct silences *
silences_new(struct store *st, char *err, size_t errlen)
{
	struct silences *s = xcalloc(1, sizeof(*s));
	char *buf = xmalloc(META_MAX);
	json_t *doc = NULL, *list;
	int rc;

	s->st = st;
	s->next = 1;
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
	free(s);
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

int
silences_add(struct silences *s, const json_t *body, const char *by,
    uint64_t now_ms, json_t **out, char *err, size_t errlen)
{
	static const char *const keys[] = { "matchers", "until_ms", "for",
	    "comment" };
	const json_t *comment;
	json_t *m, *sil;
	uint64_t ends;
	char id[32];
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
	snprintf(id, sizeof(id), "sil-%" PRIu64, s->next);
	sil = json_pack("{s:s, s:o, s:I, s:I, s:s, s:s}", "id", id,
	    "matchers", m, "starts_ms", (json_int_t)now_ms, "ends_ms",
	    (json_int_t)ends, "comment", comment != NULL ?
	    json_string_value(comment) : "", "created_by", by);
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

int
silences_remove(struct silences *s, const char *id, uint64_t now_ms)
{
	json_t *sil;
	size_t i;

	expire(s, now_ms);
	json_array_foreach(s->list, i, sil)
		if (strcmp(json_text_of(sil, "id"), id) == 0) {
			json_incref(sil);
			json_array_remove(s->list, i);
			if (save(s) != 0) {
				json_array_insert_new(s->list, i, sil);
				return -1;
			}
			json_decref(sil);
			return 1;
		}
	return 0;
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
		if (matches(json_object_get(sil, "matchers"), rule, node, labels))
			return json_text_of(sil, "id");
	return NULL;
}
