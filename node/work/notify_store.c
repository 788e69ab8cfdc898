/*
 * The notices in the node's database (notify.h, store_notify.h): every
 * notice still waiting for its channel and every open group is a row of
 * notify_waiting, rewritten when it changes (a failed attempt, a
 * resolved notice parked behind it, an alert joining or leaving a group)
 * and deleted once it is done; what became of each notice is a row of
 * notify_outcomes.  At the start both are read back: the outcomes into
 * the memory notify_notices serves, the waiting notices as deliveries
 * that carry on with their attempts at their next try's time, the groups
 * with what is left of their wait.
 *
 * A row holds the channel's name and the alerts a notice speaks of (as
 * notify.c keeps them), never a URL, secret or token: the notice's body
 * is made again from them when it is read back.  Rows come from disk,
 * perhaps from another version: each is checked as input is, and a bad
 * one is logged, deleted and skipped.
 */
#include "notify_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json_check.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "notify_group.h"
#include "store.h"
#include "store_notify.h"
#include "store_work.h"
#include "text.h"

/* Waiting notices and open groups, in rows: each kind has its own
 * bound in memory, so the table holds at most their sum; a new row past
 * it (rows left behind by a failed delete) is refused and logged, never
 * made room for by deleting one still in use. */
#define ROWS_MAX	(NOTIFY_WAITING_MAX + NOTIFY_GROUPS_MAX + 1)	/* +1: a
		 * firing notice's row outlives it while the resolved notices
		 * it held are stored */
/* A stored next try is never further off than this (a wall clock that
 * jumped back meanwhile): the longest backoff, or group wait. */
#define DELAY_MAX_MS	(1000 * (uint64_t)NOTIFY_GROUP_WAIT_MAX_S)
/* Open alerts read back at the start, of each state. */
#define OPEN_MAX	4096
/* A row's id is at most this (a hand-edited one: no overflow). */
#define ROW_ID_MAX	((int64_t)1 << 53)

static void
stored(struct notify *nf, int rc)
{
	if (rc != 0)
		log_event(LOG_WARN, "cannot store a notification", "{s:s}",
		    "error", store_error(nf->n->store));
}

static void
put(struct notify *nf, int64_t *row, const char *kind,
    const struct channel *ch, const char *what, int attempts,
    int64_t next_ms, json_t *body)
{
	struct store_notify_row r = { .kind = kind, .channel = ch->name,
	    .what = what, .attempts = attempts, .next_ms = next_ms };
	char *text = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	if (nf->n->store == NULL || text == NULL) {
		free(text);
		return;
	}
	if (*row == 0 && nf->next_row == 0) {
		free(text);
		return;
	}
	if (*row == 0)
		*row = nf->next_row++;
	r.id = *row;
	r.body = text;
	stored(nf, store_notify_put(nf->n->store, &r, ROWS_MAX));
	free(text);
}

void
notify_store_delivery(struct delivery *d)
{
	json_t *body = json_pack("{s:O}", "alerts", d->alerts);

	if (body != NULL && d->after != NULL)
		json_object_set(body, "after", d->after);
	put(d->nf, &d->row, "notice", d->ch, d->what, d->attempts, d->next_ms,
	    body);
}

void
notify_store_group(struct group *g)
{
	put(g->nf, &g->row, "group", g->ch, g->state, 0, g->due_wall_ms,
	    json_pack("{s:O}", "alerts", g->alerts));
}

void
notify_store_forget(struct notify *nf, int64_t row)
{
	if (row != 0 && nf->n->store != NULL)
		stored(nf, store_notify_del(nf->n->store, row));
}

void
notify_store_outcome(struct notify *nf, const json_t *e)
{
	char *text;

	if (nf->n->store == NULL ||
	    (text = json_dumps(e, JSON_COMPACT)) == NULL)
		return;
	stored(nf, store_notify_outcome(nf->n->store, json_string_value(
	    json_object_get(e, "alert_id")), text, NOTIFY_OUTCOMES_PER_ALERT,
	    NOTIFY_OUTCOMES_MAX));
	free(text);
}

/* --- what a row must be ---------------------------------------------------- */

/* no_ctrl: no control characters (a message may have lines and tabs,
 * as alerts keep it). */
static int
is_text(const json_t *o, const char *key, size_t max, bool no_ctrl)
{
	return json_check_text(json_object_get(o, key), 0, max, no_ctrl);
}

int
notify_store_alert_valid(const json_t *a)
{
	static const char *const texts[] = { "rule", "severity", "state",
	    "subject", "message" };
	static const char *const ints[] = { "fired_ms", "resolved_ms" };
	const char *id = json_string_value(json_object_get(a, "alert_id"));

	if (!json_is_object(a) || id == NULL || !node_id_valid(id, strlen(id)))
		return 0;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (!is_text(a, texts[i], 4096, strcmp(texts[i],
		    "message") != 0))
			return 0;
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!json_is_integer(json_object_get(a, ints[i])))
			return 0;
	return json_is_number(json_object_get(a, "value")) &&
	    json_is_number(json_object_get(a, "threshold"));
}

/* Whether alerts is an array of 1 to NOTIFY_GROUP_MAX valid alerts of
 * one rule (0 allowed when empty_ok). */
static int
alerts_valid(const json_t *alerts, int empty_ok)
{
	const json_t *a, *rule;
	size_t i;

	if (!json_is_array(alerts) || json_array_size(alerts) >
	    NOTIFY_GROUP_MAX || (json_array_size(alerts) == 0 && !empty_ok))
		return 0;
	rule = json_object_get(json_array_get(alerts, 0), "rule");
	json_array_foreach(alerts, i, a)
		if (!notify_store_alert_valid(a) ||
		    !json_equal(json_object_get(a, "rule"), rule))
			return 0;
	return 1;
}

static int
row_bad(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return 0;
}

int
notify_store_row_valid(const json_t *row, char *why, size_t whylen)
{
	const char *kind = json_string_value(json_object_get(row, "kind"));
	const char *what = json_string_value(json_object_get(row, "what"));
	const json_t *body = json_object_get(row, "body"), *after;
	json_int_t attempts = json_integer_value(json_object_get(row,
	    "attempts"));
	int notice;

	if (!json_is_object(row) || json_integer_value(json_object_get(row,
	    "id")) <= 0 || json_integer_value(json_object_get(row, "id")) >
	    ROW_ID_MAX)
		return row_bad(why, whylen, "no id");
	if (kind == NULL || (strcmp(kind, "notice") != 0 &&
	    strcmp(kind, "group") != 0))
		return row_bad(why, whylen, "kind: not notice or group");
	notice = strcmp(kind, "notice") == 0;
	if (!is_text(row, "channel", 63, true))
		return row_bad(why, whylen, "channel: not a name");
	if (what == NULL || (strcmp(what, "firing") != 0 &&
	    strcmp(what, "resolved") != 0 && (!notice ||
	    strcmp(what, "repeat") != 0)))
		return row_bad(why, whylen, "what: not a notice's kind");
	if (!json_is_integer(json_object_get(row, "attempts")) ||
	    attempts < 0 || attempts >= NOTIFY_ATTEMPTS_MAX ||
	    (!notice && attempts != 0))
		return row_bad(why, whylen, "attempts: out of range");
	if (!json_is_integer(json_object_get(row, "next_ms")))
		return row_bad(why, whylen, "next_ms: not a time");
	if (!json_is_object(body) || !alerts_valid(json_object_get(body,
	    "alerts"), 0))
		return row_bad(why, whylen, "body.alerts: not 1-64 alerts of "
		    "one rule");
	after = json_object_get(body, "after");
	if (after != NULL && (!notice || !alerts_valid(after, 1)))
		return row_bad(why, whylen, "body.after: not alerts");
	return 1;
}

/* --- read back at the start ------------------------------------------------ */

static int
outcome_cb(void *arg, const char *text)
{
	struct notify *nf = arg;
	json_t *e = json_loads(text, 0, NULL);
	const char *id = json_string_value(json_object_get(e, "alert_id"));
	const json_t *ch = json_object_get(e, "channel");

	if (id == NULL || !node_id_valid(id, strlen(id)) ||
	    !is_text(e, "notice", 16, true) ||
	    !is_text(e, "outcome", 16, true) ||
	    !json_is_integer(json_object_get(e, "time_ms")) ||
	    !json_is_integer(json_object_get(e, "attempts")) ||
	    (ch != NULL && !is_text(e, "channel", 63, true)) ||
	    (json_object_get(e, "why") != NULL &&
	    !is_text(e, "why", 95, false))) {
		json_decref(e);		/* not ours to show */
		return 0;
	}
	notify_outcome_keep(nf, e, 0);
	return 0;
}

static int
row_cb(void *arg, const char *text)
{
	json_t *rows = arg, *row = json_loads(text, 0, NULL);

	if (row != NULL)
		json_array_append_new(rows, row);
	return 0;
}

static uint64_t
delay_of(const json_t *row)
{
	int64_t next = json_integer_value(json_object_get(row, "next_ms"));
	int64_t now = (int64_t)clock_wall_ms();

	if (next <= now)
		return 0;
	return (uint64_t)(next - now) < DELAY_MAX_MS ?
	    (uint64_t)(next - now) : DELAY_MAX_MS;
}

/* Alert a of row dropped (its notice what: the row's, or a resolved one
 * parked behind it): its story says why. */
static void
said_dropped(struct notify *nf, const json_t *row, const json_t *a,
    const char *what, const char *why)
{
	json_t *e = json_pack("{s:I, s:O, s:s, s:s, s:i, s:O, s:s}", "time_ms",
	    (json_int_t)clock_wall_ms(), "alert_id", json_object_get(a,
	    "alert_id"), "notice", what, "outcome", "dropped", "attempts",
	    strcmp(what, json_string_value(json_object_get(row, "what"))) ==
	    0 ? (int)json_integer_value(json_object_get(row, "attempts")) : 0,
	    "channel", json_object_get(row, "channel"), "why", why);

	if (e != NULL)
		notify_outcome_keep(nf, e, 1);
}

/* Whether alert a is in set: an object by id, or an array of alerts. */
static int
in_set(const json_t *set, const json_t *a)
{
	const char *id = json_string_value(json_object_get(a, "alert_id"));
	const json_t *b;
	size_t i;

	if (json_is_object(set))
		return json_object_get(set, id) != NULL;
	json_array_foreach(set, i, b)
		if (json_equal(json_object_get(b, "alert_id"), json_object_get(a,
		    "alert_id")))
			return 1;
	return 0;
}

/* Drops the alerts of arr (row's, its notice what) not in keep (NULL:
 * all), each said dropped for why.  Whether any went. */
static int
weed(struct notify *nf, const json_t *row, json_t *arr, const char *what,
    const json_t *keep, const char *why)
{
	size_t i = 0;
	int n = 0;

	while (i < json_array_size(arr))
		if (keep != NULL && in_set(keep, json_array_get(arr, i)))
			i++;
		else {
			said_dropped(nf, row, json_array_get(arr, i), what, why);
			json_array_remove(arr, i);
			n = 1;
		}
	return n;
}

/* Whether ch takes row's notices (its rules and "resolved" now), the
 * resolved ones parked behind a firing one too; those it does not are
 * dropped.  Then a firing notice's or group's alerts no longer open are
 * dropped (a notice of an incident that ended while the node was down,
 * or ran without --notify: the receiver hears of neither its start nor
 * its end), with the resolved notices parked behind them.  Whether the
 * row changed. */
static int
still_wanted(struct notify *nf, const struct channel *ch, json_t *row)
{
	const char *what = json_string_value(json_object_get(row, "what"));
	json_t *body = json_object_get(row, "body");
	json_t *alerts = json_object_get(body, "alerts");
	json_t *after = json_object_get(body, "after");
	const char *rule = json_string_value(json_object_get(json_array_get(
	    alerts, 0), "rule"));
	int firing = strcmp(what, "resolved") != 0, n;

	if (!notify_channel_wants(ch, rule, firing ? "firing" : "resolved"))
		return weed(nf, row, alerts, what, NULL, "its channel no longer "
		    "takes these notices");
	if (!firing)
		return 0;
	n = nf->open == NULL ? 0 : weed(nf, row, alerts, what, nf->open,
	    "it was no longer open at the start");
	if (after != NULL && !notify_channel_wants(ch, rule, "resolved"))
		n |= weed(nf, row, after, "resolved", NULL, "its channel no "
		    "longer takes these notices");
	if (after != NULL)
		n |= weed(nf, row, after, "resolved", alerts, "its firing "
		    "notice was dropped at the start");
	return n;
}

static void
restore_row(struct notify *nf, json_t *row)
{
	const json_t *body = json_object_get(row, "body");
	const json_t *alerts = json_object_get(body, "alerts");
	const char *what = json_string_value(json_object_get(row, "what"));
	int64_t id = json_integer_value(json_object_get(row, "id"));
	const struct channel *ch;
	struct delivery *d;
	struct group *g;
	char why[96];
	int changed;

	if (!notify_store_row_valid(row, why, sizeof(why))) {
		log_event(LOG_WARN, "a stored notification is unreadable; "
		    "dropped", "{s:I, s:s}", "row", (json_int_t)id, "why", why);
		notify_store_forget(nf, id);
		return;
	}
	ch = notify_channel_find(nf, json_string_value(json_object_get(row,
	    "channel")));
	if (ch == NULL)
		weed(nf, row, (json_t *)alerts, what, NULL, "its channel is no "
		    "longer in the file");
	changed = ch != NULL && still_wanted(nf, ch, row);
	if (json_array_size(alerts) == 0) {
		notify_store_forget(nf, id);
		return;
	}
	if (strcmp(json_string_value(json_object_get(row, "kind")),
	    "group") == 0) {
		g = notify_group_reopen(nf, ch, what, json_deep_copy(alerts),
		    delay_of(row), id);
		if (changed)
			notify_store_group(g);
		return;
	}
	d = notify_delivery_add(nf, ch, json_deep_copy(alerts), what,
	    (int)json_integer_value(json_object_get(row, "attempts")),
	    delay_of(row), id);
	if (d != NULL && json_array_size(json_object_get(body, "after")) > 0)
		d->after = json_deep_copy(json_object_get(body, "after"));
	if (d != NULL && changed)
		notify_store_delivery(d);
}

/* This node's alert open in the store (nf->open). */
static int
open_cb(void *arg, const char *text)
{
	struct notify *nf = arg;
	json_t *a = json_loads(text, 0, NULL);
	const char *id = json_string_value(json_object_get(a, "alert_id"));
	const char *state = json_string_value(json_object_get(a, "state"));

	if (id != NULL && node_id_valid(id, strlen(id)) && state != NULL)
		json_object_set_new(nf->open, id, json_pack("{s:O?, s:O?, s:b}",
		    "rule", json_object_get(a, "rule"), "subject",
		    json_object_get(a, "subject"), "acked",
		    strcmp(state, "acknowledged") == 0));
	json_decref(a);
	return 0;
}

void
notify_store_restore(struct notify *nf)
{
	json_t *rows = json_array(), *row;
	int64_t last = 0, cut;
	int failed = 0;
	size_t i;

	nf->next_row = 1;
	if (nf->n->store == NULL) {
		json_decref(rows);
		return;
	}
	if (store_alerts_query(nf->n->store, nf->n->id, "firing", OPEN_MAX,
	    open_cb, nf) < 0 ||
	    store_alerts_query(nf->n->store, nf->n->id, "acknowledged",
	    OPEN_MAX, open_cb, nf) < 0) {
		/* Not known: no row is weighed against them. */
		json_decref(nf->open);
		nf->open = NULL;
		failed = 1;
	}
	if (store_notify_outcomes_load(nf->n->store, NOTIFY_OUTCOMES_MAX,
	    outcome_cb, nf) < 0 ||
	    store_notify_load(nf->n->store, ROWS_MAX, row_cb, rows) < 0)
		failed = 1;
	/* Read whatever the loads did: without it a new row would take the
	 * id of one still in the table. */
	if ((last = store_notify_last_id(nf->n->store, ROW_ID_MAX)) < 0)
		failed = 1;
	if (failed)
		log_event(LOG_WARN, "cannot read the stored notifications",
		    "{s:s}", "error", store_error(nf->n->store));
	/* More rows than the bound (put there by hand): those not read
	 * would fill the table for good. */
	if (json_array_size(rows) == ROWS_MAX && last > (cut = json_integer_value(
	    json_object_get(json_array_get(rows, ROWS_MAX - 1), "id")))) {
		log_event(LOG_WARN, "stored notifications past the bound; dropped",
		    "{s:I}", "after_row", (json_int_t)cut);
		stored(nf, store_notify_del_after(nf->n->store, cut));
		last = cut;
	}
	/* Past every row, read or not: a new one never replaces another;
	 * with the last id unknown, no new row is stored this run (the
	 * notices still go, a restart does not see them). */
	nf->next_row = last >= 0 ? last + 1 : 0;
	json_array_foreach(rows, i, row)
		restore_row(nf, row);
	if (json_array_size(rows) > 0)
		log_event(LOG_INFO, "notifications restored", "{s:i, s:i}",
		    "waiting", (int)nf->nwaiting, "rows",
		    (int)json_array_size(rows));
	json_decref(rows);
}
