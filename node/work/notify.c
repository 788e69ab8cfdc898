/*
 * Alert notifications (notify.h): what is sent when, and the deliveries
 * with their retries.  The channels and their bodies are
 * notify_channel.c's; the rows that carry the waiting notices and their
 * outcomes over a restart notify_store.c's: every change of a waiting
 * notice or open group is written before the loop goes on, and a row is
 * deleted only once its notice is done (delivered, given up, dropped).
 */
#include "notify.h"
#include "notify_priv.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "notify_group.h"
#include "notify_mail.h"
#include "rng.h"
#include "silences.h"
#include "text.h"
#include "xalloc.h"

#define BASE_MS		1000
#define TRACKED_MAX	1024
#define GROUP_SLACK_MS	250

/* --- deliveries ----------------------------------------------------------- */

/* Timer ev goes off in ms. */
static void
arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	event_add(ev, &tv);
}

/* Keeps what became of a notice of alert id: the channel's name (NULL
 * for one a silence kept back from every channel), never its URL or
 * secrets. */
static void
noted(struct notify *nf, const char *id, const char *what,
    const struct channel *ch, const char *outcome, int attempts,
    const char *why)
{
	json_t *e = json_pack("{s:I, s:s, s:s, s:s, s:i}", "time_ms",
	    (json_int_t)clock_wall_ms(), "alert_id", id, "notice", what,
	    "outcome", outcome, "attempts", attempts);

	if (e == NULL)
		return;
	if (ch != NULL)
		json_object_set_new(e, "channel", json_string(ch->name));
	if (why != NULL && why[0] != '\0')
		json_object_set_new(e, "why", json_string(why));
	notify_outcome_keep(nf, e, 1);
}

void
notify_outcome_keep(struct notify *nf, json_t *e, int store)
{
	const char *id = json_string_value(json_object_get(e, "alert_id"));
	size_t i, first = 0, mine = 0;
	json_t *o;

	if (store)
		notify_store_outcome(nf, e);
	json_array_foreach(nf->notices, i, o)
		if (strcmp(json_string_value(json_object_get(o, "alert_id")),
		    id) == 0 && mine++ == 0)
			first = i;
	if (mine >= NOTIFY_OUTCOMES_PER_ALERT)
		json_array_remove(nf->notices, first);
	json_array_append_new(nf->notices, e);
	if (json_array_size(nf->notices) > NOTIFY_OUTCOMES_MAX)
		json_array_remove(nf->notices, 0);
}

/* noted() for each alert a delivery carries. */
static void
noted_all(const struct delivery *d, const char *outcome, const char *why)
{
	const json_t *v;
	size_t i;

	if (d->ids == NULL) {
		noted(d->nf, d->alert, d->what, d->ch, outcome, d->attempts, why);
		return;
	}
	json_array_foreach(d->ids, i, v)
		noted(d->nf, json_string_value(v), d->what, d->ch, outcome,
		    d->attempts, why);
}

static void
delivery_free(struct delivery *d)
{
	TAILQ_REMOVE(&d->nf->waiting, d, entry);
	d->nf->nwaiting--;
	http_client_close(&d->http);
	notify_mail_cancel(d->send);
	event_free(d->timer);
	json_decref(d->alerts);
	json_decref(d->ids);
	json_decref(d->after);
	free(d->body);
	free(d);
}

static void send_one(struct notify *, const struct channel *, const json_t *,
    const char *, int);

/* Whether f and a are alerts of one rule and subject. */
static int
same_incident(const json_t *f, const json_t *a)
{
	return json_equal(json_object_get(f, "rule"), json_object_get(a,
	    "rule")) && json_equal(json_object_get(f, "subject"),
	    json_object_get(a, "subject"));
}

/* Whether an alert of a's rule and subject fires now (a new incident,
 * under a new id): one this run saw fire, or one open at the start. */
static int
fires_again(const struct notify *nf, const json_t *a)
{
	const char *id;
	json_t *t;

	json_object_foreach(nf->firing, id, t)
		if (same_incident(json_object_get(t, "alert"), a))
			return 1;
	json_object_foreach(nf->open, id, t)
		if (same_incident(t, a))
			return 1;
	return 0;
}

/* Frees d, done; then the resolved notices that waited for it (a group's
 * firing notice) go, once it was delivered, or are dropped, as the
 * receiver never heard of the incident, or as the alert fired again
 * meanwhile (the late resolve would close the new incident there). */
static void
finish(struct delivery *d, int delivered)
{
	struct notify *nf = d->nf;
	const struct channel *ch = d->ch;
	json_t *after = d->after, *a;
	int64_t row = d->row;
	const char *why;
	size_t i;

	/* Its row goes last: the resolved notices it held are stored anew
	 * first, so that no crash between loses them. */
	d->after = NULL;
	delivery_free(d);
	json_array_foreach(after, i, a) {
		why = !delivered ? "its firing notice was not delivered" :
		    fires_again(nf, a) ? "it fired again before its turn" : NULL;
		if (why == NULL)
			send_one(nf, ch, a, "resolved", 0);
		else
			noted(nf, json_string_value(json_object_get(a,
			    "alert_id")), "resolved", ch, "dropped", 0, why);
	}
	json_decref(after);
	notify_store_forget(nf, row);
}

static void
answered(struct delivery *d)
{
	struct notify *nf = d->nf;
	uint64_t delay;

	http_client_close(&d->http);
	d->answered = 0;
	if (d->ok) {
		nf->delivered++;
		log_event(LOG_INFO, "notification delivered", "{s:s, s:s, s:i}",
		    "channel", d->ch->name, "alert", d->alert, "attempt",
		    d->attempts);
		noted_all(d, "delivered", NULL);
		finish(d, 1);
		return;
	}
	if (d->status > 0 && d->ch->type != CH_EMAIL)
		snprintf(d->why, sizeof(d->why), "HTTP %d", d->status);
	if (d->attempts >= NOTIFY_ATTEMPTS_MAX) {
		nf->failed++;
		log_event(LOG_WARN, "notification given up", "{s:s, s:s, s:i, s:s}",
		    "channel", d->ch->name, "alert", d->alert, "attempts",
		    d->attempts, "why", d->why);
		noted_all(d, "failed", d->why);
		finish(d, 0);
		return;
	}
	nf->retried++;
	delay = (uint64_t)rng_jitter(nf->n->rng, (long)(BASE_MS <<
	    (d->attempts - 1)));
	log_event(LOG_INFO, "notification not delivered", "{s:s, s:s, s:i, s:s,"
	    " s:I}", "channel", d->ch->name, "alert", d->alert, "attempt",
	    d->attempts, "why", d->why, "retry_ms", (json_int_t)delay);
	d->next_ms = (int64_t)(clock_wall_ms() + delay);
	notify_store_delivery(d);
	arm(d->timer, delay);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delivery *d = arg;

	(void)fd;
	(void)what;
	if (d->answered)
		answered(d);
	else
		notify_channel_attempt(d);
}

/* The literal for a notice's kind: firing, repeat or resolved. */
static const char *
what_literal(const char *what)
{
	static const char *const kinds[] = { "firing", "repeat", "resolved" };

	for (size_t i = 0; i < 3; i++)
		if (strcmp(what, kinds[i]) == 0)
			return kinds[i];
	return NULL;
}

struct delivery *
notify_delivery_add(struct notify *nf, const struct channel *ch,
    json_t *alerts, const char *what, int attempts, uint64_t delay_ms,
    int64_t row)
{
	struct delivery *d;
	const json_t *a;
	size_t len = 0, i;
	char *text = NULL;

	if ((what = what_literal(what)) == NULL ||
	    json_array_size(alerts) == 0 ||
	    (text = notify_channel_render(nf, ch, alerts, what, &len)) == NULL) {
		json_decref(alerts);
		notify_store_forget(nf, row);
		return NULL;
	}
	if (nf->nwaiting >= NOTIFY_WAITING_MAX) {	/* the oldest goes */
		struct delivery *old = TAILQ_FIRST(&nf->waiting);

		nf->dropped++;
		log_event(LOG_WARN, "notification dropped", "{s:s, s:s, s:s}",
		    "channel", old->ch->name, "alert", old->alert, "why",
		    "too many waiting");
		noted_all(old, "dropped", "too many waiting");
		finish(old, 0);
	}
	d = xcalloc(1, sizeof(*d));
	d->nf = nf;
	d->ch = ch;
	d->row = row;
	d->alerts = alerts;
	d->body = text;
	d->len = len;
	snprintf(d->alert, sizeof(d->alert), "%s", json_string_value(
	    json_object_get(json_array_get(alerts, 0), "alert_id")));
	if (json_array_size(alerts) > 1) {
		d->ids = json_array();
		json_array_foreach(alerts, i, a)
			json_array_append(d->ids, json_object_get(a,
			    "alert_id"));
	}
	d->what = what;
	d->attempts = attempts;
	d->next_ms = (int64_t)(clock_wall_ms() + delay_ms);
	d->timer = evtimer_new(nf->n->base, timer_cb, d);
	TAILQ_INSERT_TAIL(&nf->waiting, d, entry);
	nf->nwaiting++;
	if (row == 0)
		notify_store_delivery(d);
	if (delay_ms == 0 && row == 0)
		notify_channel_attempt(d);
	else
		arm(d->timer, delay_ms);
	return d;
}

/* A new notice of alerts (taken) to ch, tried at once. */
static void
deliver(struct notify *nf, const struct channel *ch, json_t *alerts,
    const char *what)
{
	notify_delivery_add(nf, ch, alerts, what, 0, 0, 0);
}

static int waiting_on(const struct notify *, const char *,
    const struct channel *);

static const char *silenced(const struct notify *, const json_t *);
static void group_add(struct notify *, const struct channel *,
    const json_t *, const char *);

static struct delivery *group_notice(const struct notify *, const char *,
    const struct channel *);

/* One notice of a (JSON) to ch: a first one (firing, or resolved) waits
 * in its rule's group on a channel with a group_wait; a resolved one
 * waits for the firing group notice still on its way to ch that carries
 * the alert, so it never overtakes it. */
static void
send_one(struct notify *nf, const struct channel *ch, const json_t *a,
    const char *state, int repeat)
{
	const char *id = json_string_value(json_object_get(a, "alert_id"));
	int resolved = strcmp(state, "resolved") == 0;
	struct delivery *d;

	if (!repeat && resolved && (d = group_notice(nf, id, ch)) != NULL) {
		if (d->after == NULL)
			d->after = json_array();
		json_array_append_new(d->after, json_deep_copy(a));
		notify_store_delivery(d);
		return;
	}
	if (!repeat && ch->group_wait_ms > 0) {
		group_add(nf, ch, a, state);
		return;
	}
	deliver(nf, ch, json_pack("[O]", a), repeat ? "repeat" : resolved ?
	    "resolved" : "firing");
}

/* A repeat goes only where the notice before it was delivered; skip:
 * channels (bits by index) to leave out. */
static void
send_all(struct notify *nf, const json_t *a, const char *state, int repeat,
    unsigned skip)
{
	const char *rule = json_string_value(json_object_get(a, "rule"));
	const char *id = json_string_value(json_object_get(a, "alert_id"));

	for (size_t i = 0; i < nf->nch; i++)
		if (!(skip & (1u << i)) && notify_channel_wants(&nf->ch[i], rule, state) &&
		    !(repeat && waiting_on(nf, id, &nf->ch[i])))
			send_one(nf, &nf->ch[i], a, state, repeat);
}

/* Every channel's bit. */
static unsigned
all_channels(const struct notify *nf)
{
	return (1u << nf->nch) - 1;
}

/* --- groups ----------------------------------------------------------------- */

static void
group_free(struct group *g)
{
	TAILQ_REMOVE(&g->nf->groups, g, entry);
	g->nf->ngroups--;
	event_free(g->timer);
	json_decref(g->alerts);
	free(g);
}

static int told_before(const struct notify *, const char *, unsigned *);
static void arm_repeat(struct notify *);

/* Marks the firing alert a held back by a silence on ch (at its group's
 * end): no notice went there, so one goes when the silence ends.  Counted
 * silenced once for its firing notice, however many channels held it.
 * One open at the start (a group reopened) is tracked from here on, as
 * if this run had seen it fire: its notices reached the channels the
 * kept outcomes tell.  It is marked restored: like every alert still
 * firing at a restart it is not repeated, under the silence or after it
 * (only its silence's end is announced, once, and its resolve). */
static void
held_back(struct notify *nf, const json_t *a, const struct channel *ch,
    const char *why)
{
	const char *id = json_string_value(json_object_get(a, "alert_id"));
	json_t *t = json_object_get(nf->firing, id);
	const json_t *o = json_object_get(nf->open, id);
	unsigned told;

	if (t == NULL && o != NULL &&
	    json_object_size(nf->firing) < TRACKED_MAX) {
		told_before(nf, id, &told);
		t = json_pack("{s:O, s:I, s:b, s:b, s:I, s:b, s:b}", "alert",
		    a, "sent_mono", (json_int_t)clock_mono_ms(), "acked",
		    json_is_true(json_object_get(o, "acked")), "held", 1,
		    "announced", (json_int_t)told, "counted", 0, "restored", 1);
		json_object_set_new(nf->firing, id, t);
		arm_repeat(nf);
	}
	if (t != NULL) {
		json_object_set_new(t, "held", json_true());
		json_object_set_new(t, "announced", json_integer(
		    json_integer_value(json_object_get(t, "announced")) &
		    ~(json_int_t)(1u << (ch - nf->ch))));
		if (json_is_true(json_object_get(t, "counted")))
			return;
		json_object_set_new(t, "counted", json_true());
	}
	nf->silenced++;
	noted(nf, id, "firing", NULL, "silenced", 0, why);
}

/* The group's one notice: its alerts less those a silence has come to
 * hold meanwhile; one alert goes as if never grouped. */
static void
group_send(struct group *g)
{
	struct notify *nf = g->nf;
	const char *why;
	json_t *a;
	size_t i = 0;

	while (strcmp(g->state, "firing") == 0 &&
	    i < json_array_size(g->alerts)) {
		a = json_array_get(g->alerts, i);
		if ((why = silenced(nf, a)) != NULL) {
			held_back(nf, a, g->ch, why);
			json_array_remove(g->alerts, i);
		} else
			i++;
	}
	if (json_array_size(g->alerts) > 0)
		deliver(nf, g->ch, json_incref(g->alerts), g->state);
	notify_store_forget(nf, g->row);
	group_free(g);
}

/* Every group that is due goes, in the order they opened (channel
 * order for one alert's): timers due at once fire in no set order, and a
 * mail channel's notice queued first would hold up the others' (mails go
 * one at a time).  Due within GROUP_SLACK_MS counts: libevent's timers
 * count from its cached loop time, a little before clock_mono_ms(). */
static void
group_cb(evutil_socket_t fd, short what, void *arg)
{
	struct group *g = arg, *it, *next;
	struct notify *nf = g->nf;
	uint64_t now = clock_mono_ms();

	(void)fd;
	(void)what;
	for (it = TAILQ_FIRST(&nf->groups); it != NULL; it = next) {
		next = TAILQ_NEXT(it, entry);
		if (it == g || it->due_ms <= now + GROUP_SLACK_MS)
			group_send(it);
	}
}

/* A new open group of ch (alerts taken), going out in ms; past
 * NOTIFY_GROUPS_MAX open, the oldest goes out now, its wait cut short
 * (an incident storm: the rows stay bounded, nothing is lost). */
static struct group *
group_open(struct notify *nf, const struct channel *ch, const char *state,
    const char *rule, json_t *alerts, uint64_t ms, int64_t row)
{
	struct group *g;

	if (nf->ngroups >= NOTIFY_GROUPS_MAX) {
		g = TAILQ_FIRST(&nf->groups);
		log_event(LOG_WARN, "notification group sent early", "{s:s, "
		    "s:s, s:s}", "channel", g->ch->name, "rule", g->rule, "why",
		    "too many open groups");
		group_send(g);
	}
	g = xcalloc(1, sizeof(*g));

	g->nf = nf;
	g->ch = ch;
	g->row = row;
	g->state = strcmp(state, "resolved") == 0 ? "resolved" : "firing";
	snprintf(g->rule, sizeof(g->rule), "%s", rule);
	g->alerts = alerts;
	g->timer = evtimer_new(nf->n->base, group_cb, g);
	g->due_ms = clock_mono_ms() + ms;
	g->due_wall_ms = (int64_t)(clock_wall_ms() + ms);
	TAILQ_INSERT_TAIL(&nf->groups, g, entry);
	nf->ngroups++;
	arm(g->timer, ms);
	return g;
}

struct group *
notify_group_reopen(struct notify *nf, const struct channel *ch,
    const char *state, json_t *alerts, uint64_t delay_ms, int64_t row)
{
	return group_open(nf, ch, state, json_string_value(json_object_get(
	    json_array_get(alerts, 0), "rule")), alerts, delay_ms, row);
}

static void
group_add(struct notify *nf, const struct channel *ch, const json_t *a,
    const char *state)
{
	const char *rule = json_string_value(json_object_get(a, "rule"));
	const char *st = strcmp(state, "resolved") == 0 ? "resolved" : "firing";
	struct group *g;

	TAILQ_FOREACH(g, &nf->groups, entry)
		if (g->ch == ch && strcmp(g->state, st) == 0 &&
		    strcmp(g->rule, rule) == 0)
			break;
	if (g == NULL)
		g = group_open(nf, ch, st, rule, json_array(), ch->group_wait_ms,
		    0);
	json_array_append_new(g->alerts, json_deep_copy(a));
	if (json_array_size(g->alerts) >= NOTIFY_GROUP_MAX)
		group_send(g);
	else
		notify_store_group(g);
}

/* Whether alert id waits in a group of ch (of state; NULL: any). */
static struct group *
grouped(const struct notify *nf, const char *id, const struct channel *ch,
    const char *state, size_t *at)
{
	struct group *g;
	const json_t *a;
	size_t i;

	TAILQ_FOREACH(g, &nf->groups, entry) {
		if (g->ch != ch || (state != NULL && strcmp(g->state, state) != 0))
			continue;
		json_array_foreach(g->alerts, i, a)
			if (strcmp(json_string_value(json_object_get(a,
			    "alert_id")), id) == 0) {
				if (at != NULL)
					*at = i;
				return g;
			}
	}
	return NULL;
}

/* Whether delivery d (a group's) carries alert id. */
static int
carries(const struct delivery *d, const char *id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(d->ids, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/* The firing group notice on its way to ch that carries alert id, or
 * NULL. */
static struct delivery *
group_notice(const struct notify *nf, const char *id,
    const struct channel *ch)
{
	struct delivery *d;

	TAILQ_FOREACH(d, &nf->waiting, entry)
		if (d->ch == ch && d->ids != NULL && strcmp(d->what,
		    "firing") == 0 && carries(d, id))
			return d;
	return NULL;
}

/* Alert id resolved: out of the firing groups it waits in, said nowhere
 * yet, so its resolved notice goes to none of those channels either.
 * The channels (bits by index). */
static unsigned
ungroup(struct notify *nf, const char *id)
{
	struct group *g;
	unsigned mask = 0;
	size_t at;

	for (size_t i = 0; i < nf->nch; i++)
		if ((g = grouped(nf, id, &nf->ch[i], "firing", &at)) != NULL) {
			json_array_remove(g->alerts, at);
			mask |= 1u << i;
			noted(nf, id, "firing", &nf->ch[i], "dropped", 0,
			    "resolved before its group went out");
			if (json_array_size(g->alerts) > 0)
				notify_store_group(g);
			else {
				notify_store_forget(nf, g->row);
				group_free(g);
			}
		}
	return mask;
}

/* The id of a silence over this node's alert a (JSON), or NULL. */
static const char *
silenced(const struct notify *nf, const json_t *a)
{
	return silences_match(nf->n->silences, clock_wall_ms(),
	    json_string_value(json_object_get(a, "rule")), nf->n->id,
	    nf->n->labels);
}

/* The repeat timer runs each second while an alert fires, not at rest:
 * it sends the repeats and the notice of a silence's end. */
static void
arm_repeat(struct notify *nf)
{
	struct timeval tv = { 1, 0 };

	if (nf->repeat != NULL && json_object_size(nf->firing) > 0 &&
	    !evtimer_pending(nf->repeat, NULL))
		evtimer_add(nf->repeat, &tv);
}

/* Drops what still waits for alert id (on channel ch; NULL: any). */
static int
drop_waiting(struct notify *nf, const char *id, const struct channel *ch)
{
	struct delivery *d, *next;
	int n = 0;

	/* A group's notice stays: it speaks of others too. */
	for (d = TAILQ_FIRST(&nf->waiting); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->ids == NULL && strcmp(d->alert, id) == 0 &&
		    (ch == NULL || d->ch == ch)) {
			notify_store_forget(nf, d->row);
			delivery_free(d);
			n++;
		}
	}
	return n;
}

/* Whether a notice of alert id still waits on channel ch. */
static int
waiting_on(const struct notify *nf, const char *id, const struct channel *ch)
{
	const struct delivery *d;

	if (grouped(nf, id, ch, NULL, NULL) != NULL)
		return 1;
	TAILQ_FOREACH(d, &nf->waiting, entry)
		if (d->ch == ch && (d->ids == NULL ? strcmp(d->alert, id) == 0 :
		    carries(d, id)))
			return 1;
	return 0;
}

static void
repeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nf = arg;
	uint64_t now = clock_mono_ms();
	const char *id;
	json_t *t;

	(void)fd;
	(void)what;
	json_object_foreach(nf->firing, id, t) {
		uint64_t sent = (uint64_t)json_integer_value(json_object_get(t,
		    "sent_mono"));
		const json_t *a = json_object_get(t, "alert");
		int acked = json_is_true(json_object_get(t, "acked"));
		/* An alert restored at the start is not repeated
		 * (notify.h), silenced or not. */
		int due = !acked && nf->repeat_ms > 0 &&
		    now - sent >= nf->repeat_ms &&
		    !json_is_true(json_object_get(t, "restored"));

		if (silenced(nf, a) != NULL) {
			/* Held from the silence's start; a repeat it keeps
			 * back counts as silenced. */
			json_object_set_new(t, "held", json_true());
			if (due) {
				json_object_set_new(t, "sent_mono",
				    json_integer((json_int_t)now));
				nf->silenced++;
				noted(nf, id, "repeat", NULL, "silenced", 0,
				    silenced(nf, a));
			}
			continue;
		}
		if (json_is_true(json_object_get(t, "held"))) {
			/* The silence ended while it fires: one notice to
			 * each channel none went to before it began (then
			 * repeats go on as they would have). */
			unsigned told = (unsigned)json_integer_value(
			    json_object_get(t, "announced"));

			json_object_set_new(t, "held", json_false());
			if (!acked && told != all_channels(nf)) {
				json_object_set_new(t, "sent_mono",
				    json_integer((json_int_t)now));
				json_object_set_new(t, "announced", json_integer(
				    all_channels(nf)));
				send_all(nf, a, "firing", 0, told);
			}
			continue;
		}
		if (!due)
			continue;
		json_object_set_new(t, "sent_mono", json_integer((json_int_t)now));
		send_all(nf, a, "firing", 1, 0);
	}
	arm_repeat(nf);
}

/* For an alert this run has not seen fire (restored at the start):
 * the channels its firing notice reached or is still on its way to, as
 * the kept outcomes and the waiting notices tell.  Whether they know of
 * it at all (no: it fired before they were kept). */
static int
told_before(const struct notify *nf, const char *id, unsigned *told)
{
	const struct channel *ch;
	const char *what, *name;
	const json_t *e;
	int known = 0;
	size_t i;

	*told = 0;
	json_array_foreach(nf->notices, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "alert_id")),
		    id) != 0)
			continue;
		known = 1;
		what = json_string_value(json_object_get(e, "notice"));
		name = json_string_value(json_object_get(e, "channel"));
		ch = name != NULL ? notify_channel_find(nf, name) : NULL;
		if (ch != NULL && strcmp(what, "resolved") != 0 &&
		    strcmp(json_string_value(json_object_get(e, "outcome")),
		    "delivered") == 0)
			*told |= 1u << (ch - nf->ch);
	}
	for (i = 0; i < nf->nch; i++)
		if (waiting_on(nf, id, &nf->ch[i])) {
			known = 1;
			*told |= 1u << i;
		}
	return known;
}

void
notify_alert(struct notify *nf, const Agentflow__Mesh__V1__Alert *a)
{
	const char *state;
	unsigned skip = 0, told = 0;
	json_t *aj, *t;
	int hold, known = 0;

	if (nf == NULL || nf->nch == 0)
		return;
	state = mesh_names_alert_state(a->state);
	t = json_object_get(nf->firing, a->alert_id);
	if (a->state == MESH_ALERT_STATE(ACKNOWLEDGED)) {
		if (t != NULL)		/* no more repeats */
			json_object_set_new(t, "acked", json_true());
		if (json_object_get(nf->open, a->alert_id) != NULL)
			json_object_set_new(json_object_get(nf->open,
			    a->alert_id), "acked", json_true());
		return;
	}
	if (a->state == MESH_ALERT_STATE(RESOLVED)) {	/* no stale "firing" */
		json_object_del(nf->open, a->alert_id);
		if (t == NULL)
			known = told_before(nf, a->alert_id, &told);
		drop_waiting(nf, a->alert_id, NULL);
		skip = ungroup(nf, a->alert_id);
	}
	if (a->state == MESH_ALERT_STATE(FIRING) && t != NULL)
		return;		/* its value or message moved: said already */
	if (a->state != MESH_ALERT_STATE(FIRING) &&
	    a->state != MESH_ALERT_STATE(RESOLVED))
		return;
	aj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:I, s:I}",
	    "alert_id", a->alert_id, "rule", a->rule, "severity",
	    mesh_names_alert_severity(a->severity), "state", state,
	    "subject", a->subject, "message", a->message, "value", a->value,
	    "threshold", a->threshold, "fired_ms", (json_int_t)a->fired_ms,
	    "resolved_ms", (json_int_t)a->resolved_ms);
	if (aj == NULL)
		return;
	hold = silenced(nf, aj) != NULL;
	/* A resolved alert is said resolved where its firing notice went,
	 * silenced or not (a receiver would keep the incident open), and
	 * nowhere else. */
	if (t != NULL && a->state == MESH_ALERT_STATE(RESOLVED)) {
		told = (unsigned)json_integer_value(json_object_get(t,
		    "announced"));
		hold = told == 0;
		skip |= ~told;
	} else if (known) {
		/* Restored: where its firing notice reached, as kept. */
		if (told == 0) {
			noted(nf, a->alert_id, "resolved", NULL, "dropped", 0,
			    "its firing notice reached no channel");
			json_decref(aj);
			return;
		}
		hold = 0;
		skip |= ~told;
	}
	if (a->state == MESH_ALERT_STATE(FIRING) &&
	    json_object_size(nf->firing) < TRACKED_MAX)
		json_object_set_new(nf->firing, a->alert_id, json_pack("{s:O, "
		    "s:I, s:b, s:b, s:I, s:b}", "alert", aj, "sent_mono",
		    (json_int_t)clock_mono_ms(), "acked", 0, "held", hold,
		    "announced", (json_int_t)(hold ? 0 : all_channels(nf)),
		    "counted", hold));
	else
		json_object_del(nf->firing, a->alert_id);
	if (hold) {
		nf->silenced++;
		noted(nf, a->alert_id, a->state == MESH_ALERT_STATE(RESOLVED) ?
		    "resolved" : "firing", NULL, "silenced", 0, silenced(nf, aj));
	} else
		send_all(nf, aj, state, 0, skip);
	json_decref(aj);
	arm_repeat(nf);
}

/* --- life ----------------------------------------------------------------- */

struct notify *
notify_new(struct node *n, const json_t *doc, char *err, size_t errlen)
{
	const json_t *chans = json_object_get(doc, "channels"), *v;
	struct notify *nf;
	const char *key;
	size_t i;

	err[0] = '\0';
	if (doc == NULL)
		return NULL;
	if (!json_is_object(doc)) {
		notify_bad(err, errlen, "an object {channels: [...], repeat_s}");
		return NULL;
	}
	json_object_foreach((json_t *)doc, key, v)
		if (strcmp(key, "channels") != 0 && strcmp(key, "repeat_s") != 0) {
			notify_bad(err, errlen, "%s: not a field (channels, repeat_s)",
			    text_utf8_valid(key, strlen(key), true) &&
			    strlen(key) < 64 ? key : "?");
			return NULL;
		}
	if (!json_is_array(chans) || json_array_size(chans) == 0 ||
	    json_array_size(chans) > NOTIFY_CHANNELS_MAX) {
		notify_bad(err, errlen, "channels: 1-%d channels", NOTIFY_CHANNELS_MAX);
		return NULL;
	}
	v = json_object_get(doc, "repeat_s");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 7 * 86400)) {
		notify_bad(err, errlen, "repeat_s: 0 (never) to 604800 seconds");
		return NULL;
	}
	nf = xcalloc(1, sizeof(*nf));
	nf->n = n;
	TAILQ_INIT(&nf->waiting);
	TAILQ_INIT(&nf->groups);
	nf->firing = json_object();
	nf->open = json_object();
	nf->notices = json_array();
	nf->repeat_ms = v != NULL ? 1000 * (uint64_t)json_integer_value(v) : 0;
	json_array_foreach(chans, i, v) {
		if (notify_channel_parse(&nf->ch[i], v, i, err, errlen) != 0) {
			nf->nch = i + 1;
			notify_free(nf);
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(nf->ch[j].name, nf->ch[i].name) == 0) {
				notify_bad(err, errlen, "channels[%zu].name: %s is "
				    "named twice", i, nf->ch[i].name);
				nf->nch = i + 1;
				notify_free(nf);
				return NULL;
			}
	}
	nf->nch = json_array_size(chans);
	for (i = 0; i < nf->nch && nf->mailer == NULL; i++)
		if (nf->ch[i].type == CH_EMAIL &&
		    (nf->mailer = notify_mailer_new(n->base)) == NULL) {
			notify_bad(err, errlen, "channels[%zu]: libcurl or its thread "
			    "did not start", i);
			notify_free(nf);
			return NULL;
		}
	/* With no repeats too: a silence's end is seen on this timer. */
	nf->repeat = evtimer_new(n->base, repeat_cb, nf);
	for (i = 0; i < nf->nch; i++)
		log_event(LOG_INFO, "notification channel", "{s:s, s:s, s:b}",
		    "channel", nf->ch[i].name, "type",
		    notify_channel_type(&nf->ch[i]), "signed",
		    nf->ch[i].secret[0] != '\0' || nf->ch[i].token[0] != '\0' ||
		    (nf->ch[i].mail != NULL && notify_mail_auth(nf->ch[i].mail)));
	notify_store_restore(nf);
	return nf;
}

void
notify_free(struct notify *nf)
{
	if (nf == NULL)
		return;
	/* Their rows stay: the next start carries on with them. */
	while (!TAILQ_EMPTY(&nf->groups))
		group_free(TAILQ_FIRST(&nf->groups));
	while (!TAILQ_EMPTY(&nf->waiting))
		delivery_free(TAILQ_FIRST(&nf->waiting));
	if (nf->repeat != NULL)
		event_free(nf->repeat);
	notify_mailer_free(nf->mailer);
	for (size_t i = 0; i < nf->nch; i++)
		notify_channel_clear(&nf->ch[i]);
	json_decref(nf->firing);
	json_decref(nf->open);
	json_decref(nf->notices);
	free(nf);
}

json_t *
notify_counters(const struct notify *nf)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "delivered", (json_int_t)(nf ? nf->delivered : 0),
	    "retried", (json_int_t)(nf ? nf->retried : 0),
	    "failed", (json_int_t)(nf ? nf->failed : 0),
	    "dropped", (json_int_t)(nf ? nf->dropped : 0),
	    "silenced", (json_int_t)(nf ? nf->silenced : 0),
	    "waiting", (json_int_t)(nf ? nf->nwaiting : 0));
}

json_t *
notify_notices(const struct notify *nf, const char *alert_id)
{
	json_t *out = json_array(), *e;
	size_t i;

	if (nf == NULL)
		return out;
	json_array_foreach(nf->notices, i, e)
		if (alert_id == NULL || strcmp(json_string_value(
		    json_object_get(e, "alert_id")), alert_id) == 0)
			json_array_append(out, e);
	return out;
}
