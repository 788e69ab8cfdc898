/*
 * Alert notifications (notify.h): the channels, what is sent when, and
 * the deliveries with their retries.
 */
#include "notify.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "callbacks.h"
#include "clock.h"
#include "http_client.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "notify_group.h"
#include "notify_mail.h"
#include "rng.h"
#include "silences.h"
#include "text.h"
#include "xalloc.h"

#define CHANNELS_MAX	16
#define SECRET_MAX	256
#define WAITING_MAX	256
#define ATTEMPTS_MAX	10
#define BASE_MS		1000
#define TIMEOUT_S	10
#define TRACKED_MAX	1024
#define NOTICES_MAX	512
#define GROUP_SLACK_MS	250

enum channel_type { CH_WEBHOOK, CH_NTFY, CH_GOTIFY, CH_EMAIL };
static const char *const type_names[] = { "webhook", "ntfy", "gotify",
    "email" };

struct channel {
	char			 name[64];
	enum channel_type	 type;
	char			*url;		/* the HTTP ones' */
	struct notify_mail	*mail;		/* email's */
	char			*secret;	/* webhook; "" none */
	char			*topic;		/* ntfy */
	char			*token;		/* ntfy, gotify; "" none */
	json_t			*rules;		/* names; NULL: every rule */
	int			 resolved;	/* send resolved notices */
	uint64_t		 group_wait_ms;	/* 0: a notice per alert */
};

/* One notice to one channel, until it is delivered or given up. */
struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	struct notify		*nf;
	const struct channel	*ch;
	char			*body;
	size_t			 len;
	char			 alert[64];	/* for the logs; a group's first */
	json_t			*ids;		/* a group's alert ids; NULL: one */
	json_t			*after;		/* resolved alerts of a firing
						 * group's, sent on ch once it
						 * is delivered; NULL: none */
	const char		*what;		/* firing, repeat, resolved */
	int			 attempts;
	struct event		*timer;
	struct http_client	 http;		/* while an attempt is in flight */
	struct notify_mail_send	*send;		/* email's, likewise */
	int			 answered;
	int			 ok;		/* the attempt delivered it */
	int			 status;
	char			 why[96];
};
TAILQ_HEAD(deliveries, delivery);

/*
 * The first notices (firing, or resolved) of one rule's alerts on one
 * channel, gathered for its group_wait from the first (notify_group.h):
 *
 *   (none) --send_all, channel with group_wait--> open (timer armed)
 *   open   --send_all, same rule and state------> open, one more alert
 *   open   --the alert resolves (firing group)--> open, one fewer
 *   open   --group_cb, or NOTIFY_GROUP_MAX------> sent: one delivery
 *                                                 (one alert: as if never
 *                                                 grouped), freed
 */
struct group {
	TAILQ_ENTRY(group)	 entry;
	struct notify		*nf;
	const struct channel	*ch;
	char			 rule[64];
	const char		*state;		/* "firing" or "resolved" */
	json_t			*alerts;	/* array of alert JSON */
	uint64_t		 due_ms;	/* monotonic */
	struct event		*timer;
};
TAILQ_HEAD(groups, group);

struct notify {
	struct node		*n;
	struct channel		 ch[CHANNELS_MAX];
	size_t			 nch;
	uint64_t		 repeat_ms;	/* 0: never */
	/* alert id → {alert, sent_mono, acked, held, announced}; announced:
	 * its firing notice went out; held: a silence
	 * kept its notices back (silences.h) */
	json_t			*firing;
	struct deliveries	 waiting;
	size_t			 nwaiting;
	struct groups		 groups;	/* open ones */
	struct event		*repeat;
	struct notify_mailer	*mailer;	/* with an email channel */
	uint64_t		 delivered, retried, failed, dropped;
	uint64_t		 silenced;	/* notices a silence kept back */
	/* What became of the last NOTICES_MAX notices, oldest first
	 * (notify_notices). */
	json_t			*notices;
};

/* --- the file ------------------------------------------------------------- */

static int
bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "--notify: ");
	va_start(ap, fmt);
	vsnprintf(err + n, errlen > (size_t)n ? errlen - (size_t)n : 0, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string field of c at most max bytes, of text with no control
 * characters; NULL when absent (and not required). */
static int
text_field(const json_t *c, size_t i, const char *key, size_t max,
    int required, char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(c, key);
	const char *s = json_string_value(v);

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (s == NULL || s[0] == '\0' || strlen(s) > max ||
	    !text_utf8_valid(s, strlen(s), true))
		return bad(err, errlen, "channels[%zu].%s: %s1-%zu bytes of text",
		    i, key, required ? "required, " : "", max);
	*out = xstrdup(s);
	return 0;
}

static int channel_filters(struct channel *, const json_t *, size_t, char *,
    size_t);

static int
channel_parse(struct channel *ch, const json_t *c, size_t i, char *err,
    size_t errlen)
{
	/* The first COMMON are every type's; the rest the HTTP ones'
	 * (email's are notify_mail_field's). */
	enum { COMMON = 5 };
	static const char *const known[] = { "name", "type", "rules",
	    "resolved", "group_wait_s", "url", "secret", "topic", "token" };
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *type = json_string_value(json_object_get(c, "type"));
	const json_t *v;
	const char *key;
	char uerr[256];
	size_t j;

	if (!json_is_object(c))
		return bad(err, errlen, "channels[%zu]: an object {name, type, "
		    "url, ...}", i);
	json_object_foreach((json_t *)c, key, v) {
		int email = type != NULL && strcmp(type, "email") == 0;
		int ok = email && notify_mail_field(key);

		for (j = 0; j < (email ? COMMON : sizeof(known) /
		    sizeof(known[0])); j++)
			ok |= strcmp(key, known[j]) == 0;
		if (!ok)
			return bad(err, errlen, "channels[%zu].%s: not a field of "
			    "%s channel (name, type, rules, resolved, group_wait_s, "
			    "%s)", i,
			    text_utf8_valid(key, strlen(key), true) &&
			    strlen(key) < 64 ? key : "?", email ? "an email" : "a",
			    email ? NOTIFY_MAIL_FIELDS : "url, secret, topic, "
			    "token");
	}
	if (name == NULL || !text_name_valid(name, strlen(name)) ||
	    strlen(name) >= sizeof(ch->name))
		return bad(err, errlen, "channels[%zu].name: required, a name "
		    "(1-63 of [A-Za-z0-9_-])", i);
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	for (j = 0; j < sizeof(type_names) / sizeof(type_names[0]); j++)
		if (type != NULL && strcmp(type, type_names[j]) == 0)
			break;
	if (j == sizeof(type_names) / sizeof(type_names[0]))
		return bad(err, errlen, "channels[%zu].type: \"webhook\", "
		    "\"ntfy\", \"gotify\" or \"email\"", i);
	ch->type = (enum channel_type)j;
	if (ch->type == CH_EMAIL) {
		if ((ch->mail = notify_mail_parse(c, uerr, sizeof(uerr))) == NULL)
			return bad(err, errlen, "channels[%zu].%s", i, uerr);
		ch->secret = xstrdup("");
		ch->token = xstrdup("");
		return channel_filters(ch, c, i, err, errlen);
	}
	if (text_field(c, i, "url", HTTP_CLIENT_URL_MAX, 1, &ch->url, err,
	    errlen) != 0)
		return -1;
	/* The URL may hold a secret (a webhook's path, user:password): no
	 * message repeats it. */
	if (http_client_url_check(ch->url, "url", uerr, sizeof(uerr)) != 0 ||
	    strchr(ch->url, '@') != NULL)
		return bad(err, errlen, "channels[%zu].url: not http(s)://HOST"
		    "[:PORT][/PATH] (no user:password@)", i);
	if (text_field(c, i, "secret", SECRET_MAX, 0, &ch->secret, err,
	    errlen) != 0 || text_field(c, i, "token", SECRET_MAX,
	    ch->type == CH_GOTIFY, &ch->token, err, errlen) != 0 ||
	    text_field(c, i, "topic", 64, ch->type == CH_NTFY, &ch->topic, err,
	    errlen) != 0)
		return -1;
	if (ch->type == CH_WEBHOOK && (ch->topic != NULL || ch->token != NULL))
		return bad(err, errlen, "channels[%zu]: topic and token are "
		    "ntfy's and gotify's; a webhook has a secret", i);
	if (ch->type != CH_WEBHOOK && ch->secret != NULL)
		return bad(err, errlen, "channels[%zu].secret: %s takes a "
		    "token", i, type_names[ch->type]);
	if (ch->type == CH_GOTIFY && ch->topic != NULL)
		return bad(err, errlen, "channels[%zu].topic: ntfy's; gotify "
		    "takes a token (its application's)", i);
	if (ch->type == CH_GOTIFY && strpbrk(ch->url, "?#") != NULL)
		return bad(err, errlen, "channels[%zu].url: the Gotify server's "
		    "address, no query (the token goes in \"token\")", i);
	if (ch->type == CH_GOTIFY) {	/* its messages' route */
		size_t len = strlen(ch->url);
		char *u = xcalloc(1, len + sizeof("/message"));

		memcpy(u, ch->url, len);
		while (len > 0 && u[len - 1] == '/')
			u[--len] = '\0';
		memcpy(u + len, "/message", sizeof("/message"));
		free(ch->url);
		ch->url = u;
		if (http_client_url_check(ch->url, "url", uerr, sizeof(uerr)) != 0)
			return bad(err, errlen, "channels[%zu].url: too long", i);
	}
	if (ch->topic != NULL && strspn(ch->topic, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(ch->topic))
		return bad(err, errlen, "channels[%zu].topic: 1-64 of "
		    "[A-Za-z0-9_-]", i);
	if (ch->secret == NULL)
		ch->secret = xstrdup("");
	if (ch->token == NULL)
		ch->token = xstrdup("");
	return channel_filters(ch, c, i, err, errlen);
}

/* rules, resolved and group_wait_s, every type's. */
static int
channel_filters(struct channel *ch, const json_t *c, size_t i, char *err,
    size_t errlen)
{
	const json_t *rules = json_object_get(c, "rules"), *v;
	const char *s;
	size_t j;

	if (rules != NULL) {
		if (!json_is_array(rules) || json_array_size(rules) == 0 ||
		    json_array_size(rules) > 64)
			return bad(err, errlen, "channels[%zu].rules: 1-64 rule "
			    "names", i);
		json_array_foreach(rules, j, v)
			if ((s = json_string_value(v)) == NULL ||
			    !node_id_valid(s, strlen(s)))	/* rules' syntax */
				return bad(err, errlen, "channels[%zu].rules[%zu]: "
				    "a rule name", i, j);
		ch->rules = json_deep_copy(rules);
	}
	v = json_object_get(c, "resolved");
	if (v != NULL && !json_is_boolean(v))
		return bad(err, errlen, "channels[%zu].resolved: true or false",
		    i);
	ch->resolved = v == NULL || json_is_true(v);
	v = json_object_get(c, "group_wait_s");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > NOTIFY_GROUP_WAIT_MAX_S))
		return bad(err, errlen, "channels[%zu].group_wait_s: 0 (a notice "
		    "per alert) to %d seconds", i, NOTIFY_GROUP_WAIT_MAX_S);
	ch->group_wait_ms = 1000 * (uint64_t)(v != NULL ? json_integer_value(v) :
	    NOTIFY_GROUP_WAIT_DEFAULT_S);
	return 0;
}

static void
channel_clear(struct channel *ch)
{
	free(ch->url);
	notify_mail_free(ch->mail);
	free(ch->secret);
	free(ch->topic);
	free(ch->token);
	json_decref(ch->rules);
	memset(ch, 0, sizeof(*ch));
}

/* --- deliveries ----------------------------------------------------------- */

static void attempt(struct delivery *);

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
	json_array_append_new(nf->notices, e);
	if (json_array_size(nf->notices) > NOTICES_MAX)
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
	json_decref(d->ids);
	json_decref(d->after);
	free(d->body);
	free(d);
}

static void send_one(struct notify *, const struct channel *, const json_t *,
    const char *, int);

/* Whether an alert of a's rule and subject fires now (a new incident,
 * under a new id). */
static int
fires_again(const struct notify *nf, const json_t *a)
{
	const char *id;
	json_t *t, *f;

	json_object_foreach(nf->firing, id, t) {
		f = json_object_get(t, "alert");
		if (json_equal(json_object_get(f, "rule"), json_object_get(a,
		    "rule")) && json_equal(json_object_get(f, "subject"),
		    json_object_get(a, "subject")))
			return 1;
	}
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
	const char *why;
	size_t i;

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
	if (d->attempts >= ATTEMPTS_MAX) {
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
	event_add(d->timer, &(struct timeval){ (time_t)(delay / 1000),
	    (suseconds_t)(delay % 1000) * 1000 });
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
		attempt(d);
}

static void
error_cb(enum evhttp_request_error e, void *arg)
{
	struct delivery *d = arg;

	snprintf(d->why, sizeof(d->why), "%s", http_client_error_text(e));
}

static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct delivery *d = arg;

	d->status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	d->ok = d->status >= 200 && d->status <= 299;
	if (d->status == 0 && d->why[0] == '\0')
		snprintf(d->why, sizeof(d->why), "connection refused or closed");
	d->answered = 1;
	event_active(d->timer, EV_TIMEOUT, 0);
}

/* An email attempt's end (notify_mail.h): why is curl's fixed text,
 * never the password. */
static void
mail_done(void *arg, bool ok, const char *why)
{
	struct delivery *d = arg;

	d->send = NULL;
	d->ok = ok;
	snprintf(d->why, sizeof(d->why), "%s", why);
	d->answered = 1;
	event_active(d->timer, EV_TIMEOUT, 0);
}

static void
attempt(struct delivery *d)
{
	struct notify *nf = d->nf;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char err[256], sig[80], ts[24], hostport[300], auth[300];
	int64_t now = (int64_t)clock_wall_ms();

	d->attempts++;
	d->status = 0;
	d->ok = 0;
	d->why[0] = '\0';
	if (d->ch->type == CH_EMAIL) {
		d->send = notify_mail_send(nf->mailer, d->ch->mail, d->body,
		    d->len, mail_done, d);
		if (d->send == NULL) {
			snprintf(d->why, sizeof(d->why), "cannot start a mail");
			d->answered = 1;
			event_active(d->timer, EV_TIMEOUT, 0);
		}
		return;
	}
	if (http_client_open(&d->http, nf->n->base, nf->n->dns, d->ch->url,
	    "notification URL", NULL, TIMEOUT_S, err, sizeof(err)) != 0) {
		snprintf(d->why, sizeof(d->why), "cannot open a connection");
		d->answered = 1;
		event_active(d->timer, EV_TIMEOUT, 0);
		return;
	}
	req = evhttp_request_new(reply_cb, d);
	evhttp_request_set_error_cb(req, error_cb);
	h = evhttp_request_get_output_headers(req);
	http_client_hostport(&d->http, hostport, sizeof(hostport));
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "User-Agent", "agentflow-node/" AGENTFLOW_VERSION);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (d->ch->type == CH_WEBHOOK && d->ch->secret[0] != '\0' &&
	    callbacks_sign(d->ch->secret, now, d->body, d->len, sig,
	    sizeof(sig)) == 0) {
		snprintf(ts, sizeof(ts), "%lld", (long long)now);
		evhttp_add_header(h, CALLBACK_HEADER_TIMESTAMP, ts);
		evhttp_add_header(h, CALLBACK_HEADER_SIGNATURE, sig);
	}
	if (d->ch->type == CH_NTFY && d->ch->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Bearer %s", d->ch->token);
		evhttp_add_header(h, "Authorization", auth);
	}
	if (d->ch->type == CH_GOTIFY)
		evhttp_add_header(h, "X-Gotify-Key", d->ch->token);
	evbuffer_add(evhttp_request_get_output_buffer(req), d->body, d->len);
	if (evhttp_make_request(d->http.evcon, req, EVHTTP_REQ_POST,
	    d->http.path) != 0) {
		snprintf(d->why, sizeof(d->why), "request not sent");
		d->answered = 1;
		event_active(d->timer, EV_TIMEOUT, 0);
	}
}

/* text: the notice as the channel takes it, ours; len its length; ids
 * a group's alert ids (taken; NULL: alert_id's notice alone). */
static void
deliver(struct notify *nf, const struct channel *ch, char *text, size_t len,
    const char *alert_id, json_t *ids, const char *what)
{
	struct delivery *d;

	if (text == NULL) {
		json_decref(ids);
		return;
	}
	if (nf->nwaiting >= WAITING_MAX) {	/* the oldest goes */
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
	d->body = text;
	d->len = len;
	snprintf(d->alert, sizeof(d->alert), "%s", alert_id);
	d->ids = ids;
	d->what = what;
	d->timer = evtimer_new(nf->n->base, timer_cb, d);
	TAILQ_INSERT_TAIL(&nf->waiting, d, entry);
	nf->nwaiting++;
	attempt(d);
}

/* --- what is sent ----------------------------------------------------------- */

static int
wants(const struct channel *ch, const char *rule, const char *state)
{
	json_t *v;
	size_t i;

	if (strcmp(state, "resolved") == 0 && !ch->resolved)
		return 0;
	if (ch->rules == NULL)
		return 1;
	json_array_foreach(ch->rules, i, v)
		if (strcmp(json_string_value(v), rule) == 0)
			return 1;
	return 0;
}

static json_t *body_json(const struct notify *, const struct channel *,
    const json_t *, const char *, int);

/* The channel's notice of alert a (JSON, as the API shows alerts): its
 * text, ours, and *len. */
static char *
body_for(const struct notify *nf, const struct channel *ch, const json_t *a,
    const char *state, int repeat, size_t *len)
{
	json_t *body = body_json(nf, ch, a, state, repeat);
	char *text = json_dumps(body, JSON_COMPACT);
	uint32_t nonce = 0;

	if (ch->type == CH_EMAIL) {
		free(text);
		rng_bytes(nf->n->rng, &nonce, sizeof(nonce));
		text = notify_mail_compose(ch->mail, nf->n->id, ch->name,
		    json_string_value(json_object_get(body, "title")), a,
		    (int64_t)clock_wall_ms(), nonce, len);
	} else if (text != NULL)
		*len = strlen(text);
	json_decref(body);
	return text;
}

/* The channel's JSON body for alert a; email's is its title. */
static json_t *
body_json(const struct notify *nf, const struct channel *ch, const json_t *a,
    const char *state, int repeat)
{
	const char *rule = json_string_value(json_object_get(a, "rule"));
	const char *subject = json_string_value(json_object_get(a, "subject"));
	const char *message = json_string_value(json_object_get(a, "message"));
	const char *sev = json_string_value(json_object_get(a, "severity"));
	json_int_t count = json_integer_value(json_object_get(a, "count"));
	char many[32] = "";
	json_t *title;

	if (ch->type == CH_WEBHOOK)
		return json_pack("{s:s, s:s, s:s, s:b, s:O}", "kind", "alert",
		    "state", state, "node", nf->n->id, "repeat", repeat,
		    "alert", a);
	if (count > 1)		/* a group's summary (notify_group.h) */
		snprintf(many, sizeof(many), "%lld x ", (long long)count);
	title = json_sprintf("[%s%s] %s%s on %s%s%s", state, repeat ? ", again" :
	    "", many, rule, nf->n->id, subject[0] != '\0' ? ": " : "", subject);
	if (ch->type == CH_EMAIL)
		return json_pack("{s:o}", "title", title);
	if (ch->type == CH_GOTIFY)	/* priority 0-10 */
		return json_pack("{s:o, s:s, s:i}", "title", title, "message",
		    message[0] != '\0' ? message : rule, "priority",
		    strcmp(state, "resolved") == 0 ? 2 :
		    strcmp(sev, "critical") == 0 ? 8 : 5);
	return json_pack("{s:s, s:o, s:s, s:i, s:[s]}", "topic", ch->topic,
	    "title", title, "message", message[0] != '\0' ? message : rule,
	    "priority", strcmp(state, "resolved") == 0 ? 2 :
	    strcmp(sev, "critical") == 0 ? 5 : 4, "tags",
	    strcmp(state, "resolved") == 0 ? "white_check_mark" :
	    "rotating_light");
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
	size_t len = 0;
	char *text;

	if (!repeat && resolved && (d = group_notice(nf, id, ch)) != NULL) {
		if (d->after == NULL)
			d->after = json_array();
		json_array_append_new(d->after, json_deep_copy(a));
		return;
	}
	if (!repeat && ch->group_wait_ms > 0) {
		group_add(nf, ch, a, state);
		return;
	}
	text = body_for(nf, ch, a, state, repeat, &len);
	deliver(nf, ch, text, len, id, NULL, repeat ? "repeat" : resolved ?
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
		if (!(skip & (1u << i)) && wants(&nf->ch[i], rule, state) &&
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
	event_free(g->timer);
	json_decref(g->alerts);
	free(g);
}

/* Marks the firing alert a held back by a silence on ch (at its group's
 * end): no notice went there, so one goes when the silence ends.  Counted
 * silenced once for its firing notice, however many channels held it. */
static void
held_back(struct notify *nf, const json_t *a, const struct channel *ch,
    const char *why)
{
	const char *id = json_string_value(json_object_get(a, "alert_id"));
	json_t *t = json_object_get(nf->firing, id);

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
	json_t *a, *body;
	size_t i = 0, len = 0;
	char *text;

	while (strcmp(g->state, "firing") == 0 &&
	    i < json_array_size(g->alerts)) {
		a = json_array_get(g->alerts, i);
		if ((why = silenced(nf, a)) != NULL) {
			held_back(nf, a, g->ch, why);
			json_array_remove(g->alerts, i);
		} else
			i++;
	}
	if (json_array_size(g->alerts) == 1) {
		a = json_array_get(g->alerts, 0);
		text = body_for(nf, g->ch, a, g->state, 0, &len);
		deliver(nf, g->ch, text, len, json_string_value(json_object_get(a,
		    "alert_id")), NULL, g->state);
	} else if (json_array_size(g->alerts) > 1) {
		json_t *ids = json_array();

		json_array_foreach(g->alerts, i, a)
			json_array_append(ids, json_object_get(a, "alert_id"));
		if (g->ch->type == CH_WEBHOOK) {
			body = notify_group_webhook(nf->n->id, g->state, g->alerts);
			text = json_dumps(body, JSON_COMPACT);
			len = text != NULL ? strlen(text) : 0;
		} else {
			body = notify_group_summary(g->alerts);
			text = body_for(nf, g->ch, body, g->state, 0, &len);
		}
		json_decref(body);
		deliver(nf, g->ch, text, len, json_string_value(json_array_get(ids,
		    0)), ids, g->state);
	}
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

static void
group_add(struct notify *nf, const struct channel *ch, const json_t *a,
    const char *state)
{
	const char *rule = json_string_value(json_object_get(a, "rule"));
	const char *st = strcmp(state, "resolved") == 0 ? "resolved" : "firing";
	uint64_t ms = ch->group_wait_ms;
	struct group *g;

	TAILQ_FOREACH(g, &nf->groups, entry)
		if (g->ch == ch && strcmp(g->state, st) == 0 &&
		    strcmp(g->rule, rule) == 0)
			break;
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->nf = nf;
		g->ch = ch;
		g->state = st;
		snprintf(g->rule, sizeof(g->rule), "%s", rule);
		g->alerts = json_array();
		g->timer = evtimer_new(nf->n->base, group_cb, g);
		g->due_ms = clock_mono_ms() + ms;
		TAILQ_INSERT_TAIL(&nf->groups, g, entry);
		event_add(g->timer, &(struct timeval){ (time_t)(ms / 1000),
		    (suseconds_t)(ms % 1000) * 1000 });
	}
	json_array_append_new(g->alerts, json_deep_copy(a));
	if (json_array_size(g->alerts) >= NOTIFY_GROUP_MAX)
		group_send(g);
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
			if (json_array_size(g->alerts) == 0)
				group_free(g);
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
		int due = !acked && nf->repeat_ms > 0 && now - sent >= nf->repeat_ms;

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

void
notify_alert(struct notify *nf, const Agentflow__Mesh__V1__Alert *a)
{
	const char *state;
	unsigned skip = 0;
	json_t *aj, *t;
	int hold;

	if (nf == NULL || nf->nch == 0)
		return;
	state = mesh_names_alert_state(a->state);
	t = json_object_get(nf->firing, a->alert_id);
	if (a->state == MESH_ALERT_STATE(ACKNOWLEDGED)) {
		if (t != NULL)		/* no more repeats */
			json_object_set_new(t, "acked", json_true());
		return;
	}
	if (a->state == MESH_ALERT_STATE(RESOLVED)) {	/* no stale "firing" */
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
		unsigned told = (unsigned)json_integer_value(json_object_get(t,
		    "announced"));

		hold = told == 0;
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
		bad(err, errlen, "an object {channels: [...], repeat_s}");
		return NULL;
	}
	json_object_foreach((json_t *)doc, key, v)
		if (strcmp(key, "channels") != 0 && strcmp(key, "repeat_s") != 0) {
			bad(err, errlen, "%s: not a field (channels, repeat_s)",
			    text_utf8_valid(key, strlen(key), true) &&
			    strlen(key) < 64 ? key : "?");
			return NULL;
		}
	if (!json_is_array(chans) || json_array_size(chans) == 0 ||
	    json_array_size(chans) > CHANNELS_MAX) {
		bad(err, errlen, "channels: 1-%d channels", CHANNELS_MAX);
		return NULL;
	}
	v = json_object_get(doc, "repeat_s");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 7 * 86400)) {
		bad(err, errlen, "repeat_s: 0 (never) to 604800 seconds");
		return NULL;
	}
	nf = xcalloc(1, sizeof(*nf));
	nf->n = n;
	TAILQ_INIT(&nf->waiting);
	TAILQ_INIT(&nf->groups);
	nf->firing = json_object();
	nf->notices = json_array();
	nf->repeat_ms = v != NULL ? 1000 * (uint64_t)json_integer_value(v) : 0;
	json_array_foreach(chans, i, v) {
		if (channel_parse(&nf->ch[i], v, i, err, errlen) != 0) {
			nf->nch = i + 1;
			notify_free(nf);
			return NULL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(nf->ch[j].name, nf->ch[i].name) == 0) {
				bad(err, errlen, "channels[%zu].name: %s is "
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
			bad(err, errlen, "channels[%zu]: libcurl or its thread "
			    "did not start", i);
			notify_free(nf);
			return NULL;
		}
	/* With no repeats too: a silence's end is seen on this timer. */
	nf->repeat = evtimer_new(n->base, repeat_cb, nf);
	for (i = 0; i < nf->nch; i++)
		log_event(LOG_INFO, "notification channel", "{s:s, s:s, s:b}",
		    "channel", nf->ch[i].name, "type",
		    type_names[nf->ch[i].type], "signed",
		    nf->ch[i].secret[0] != '\0' || nf->ch[i].token[0] != '\0' ||
		    (nf->ch[i].mail != NULL && notify_mail_auth(nf->ch[i].mail)));
	return nf;
}

void
notify_free(struct notify *nf)
{
	if (nf == NULL)
		return;
	while (!TAILQ_EMPTY(&nf->groups))
		group_free(TAILQ_FIRST(&nf->groups));
	while (!TAILQ_EMPTY(&nf->waiting))
		delivery_free(TAILQ_FIRST(&nf->waiting));
	if (nf->repeat != NULL)
		event_free(nf->repeat);
	notify_mailer_free(nf->mailer);
	for (size_t i = 0; i < nf->nch; i++)
		channel_clear(&nf->ch[i]);
	json_decref(nf->firing);
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
