/*
 * The channels of --notify's file (notify.h) and what each is sent: a
 * channel's fields checked once at start, the body of a notice of one
 * alert or of a group's (notify_group.h) in the channel's form, and one
 * attempt to send it as the channel's type wants (its headers, its
 * signature or token, or a mail).  When to try, and what an answer
 * means, is notify.c's.
 */
#include "notify_priv.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "clock.h"
#include "json_check.h"
#include "node.h"
#include "node_id.h"
#include "notify_group.h"
#include "notify_mail.h"
#include "rng.h"
#include "text.h"
#include "xalloc.h"

#define SECRET_MAX	256
#define TIMEOUT_S	10

static const char *const type_names[] = { "webhook", "ntfy", "gotify",
    "email" };

/* --- the file ------------------------------------------------------------- */

int
notify_bad(char *err, size_t errlen, const char *fmt, ...)
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

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (!json_check_text(v, 1, max, true))
		return notify_bad(err, errlen, "channels[%zu].%s: %s1-%zu bytes of text",
		    i, key, required ? "required, " : "", max);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int channel_filters(struct channel *, const json_t *, size_t, char *,
    size_t);

int
notify_channel_parse(struct channel *ch, const json_t *c, size_t i, char *err,
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
		return notify_bad(err, errlen, "channels[%zu]: an object {name, type, "
		    "url, ...}", i);
	json_object_foreach((json_t *)c, key, v) {
		int email = type != NULL && strcmp(type, "email") == 0;
		int ok = email && notify_mail_field(key);

		for (j = 0; j < (email ? COMMON : sizeof(known) /
		    sizeof(known[0])); j++)
			ok |= strcmp(key, known[j]) == 0;
		if (!ok)
			return notify_bad(err, errlen, "channels[%zu].%s: not a field of "
			    "%s channel (name, type, rules, resolved, group_wait_s, "
			    "%s)", i,
			    text_utf8_valid(key, strlen(key), true) &&
			    strlen(key) < 64 ? key : "?", email ? "an email" : "a",
			    email ? NOTIFY_MAIL_FIELDS : "url, secret, topic, "
			    "token");
	}
	if (name == NULL || !text_name_valid(name, strlen(name)) ||
	    strlen(name) >= sizeof(ch->name))
		return notify_bad(err, errlen, "channels[%zu].name: required, a name "
		    "(1-63 of [A-Za-z0-9_-])", i);
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	for (j = 0; j < sizeof(type_names) / sizeof(type_names[0]); j++)
		if (type != NULL && strcmp(type, type_names[j]) == 0)
			break;
	if (j == sizeof(type_names) / sizeof(type_names[0]))
		return notify_bad(err, errlen, "channels[%zu].type: \"webhook\", "
		    "\"ntfy\", \"gotify\" or \"email\"", i);
	ch->type = (enum notify_channel_type)j;
	if (ch->type == CH_EMAIL) {
		if ((ch->mail = notify_mail_parse(c, uerr, sizeof(uerr))) == NULL)
			return notify_bad(err, errlen, "channels[%zu].%s", i, uerr);
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
		return notify_bad(err, errlen, "channels[%zu].url: not http(s)://HOST"
		    "[:PORT][/PATH] (no user:password@)", i);
	if (text_field(c, i, "secret", SECRET_MAX, 0, &ch->secret, err,
	    errlen) != 0 || text_field(c, i, "token", SECRET_MAX,
	    ch->type == CH_GOTIFY, &ch->token, err, errlen) != 0 ||
	    text_field(c, i, "topic", 64, ch->type == CH_NTFY, &ch->topic, err,
	    errlen) != 0)
		return -1;
	if (ch->type == CH_WEBHOOK && (ch->topic != NULL || ch->token != NULL))
		return notify_bad(err, errlen, "channels[%zu]: topic and token are "
		    "ntfy's and gotify's; a webhook has a secret", i);
	if (ch->type != CH_WEBHOOK && ch->secret != NULL)
		return notify_bad(err, errlen, "channels[%zu].secret: %s takes a "
		    "token", i, type_names[ch->type]);
	if (ch->type == CH_GOTIFY && ch->topic != NULL)
		return notify_bad(err, errlen, "channels[%zu].topic: ntfy's; gotify "
		    "takes a token (its application's)", i);
	if (ch->type == CH_GOTIFY && strpbrk(ch->url, "?#") != NULL)
		return notify_bad(err, errlen, "channels[%zu].url: the Gotify server's "
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
			return notify_bad(err, errlen, "channels[%zu].url: too long", i);
	}
	if (ch->topic != NULL && strspn(ch->topic, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(ch->topic))
		return notify_bad(err, errlen, "channels[%zu].topic: 1-64 of "
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
			return notify_bad(err, errlen, "channels[%zu].rules: 1-64 rule "
			    "names", i);
		json_array_foreach(rules, j, v)
			if ((s = json_string_value(v)) == NULL ||
			    !node_id_valid(s, strlen(s)))	/* rules' syntax */
				return notify_bad(err, errlen, "channels[%zu].rules[%zu]: "
				    "a rule name", i, j);
		ch->rules = json_deep_copy(rules);
	}
	v = json_object_get(c, "resolved");
	if (v != NULL && !json_is_boolean(v))
		return notify_bad(err, errlen, "channels[%zu].resolved: true or false",
		    i);
	ch->resolved = v == NULL || json_is_true(v);
	v = json_object_get(c, "group_wait_s");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > NOTIFY_GROUP_WAIT_MAX_S))
		return notify_bad(err, errlen, "channels[%zu].group_wait_s: 0 (a notice "
		    "per alert) to %d seconds", i, NOTIFY_GROUP_WAIT_MAX_S);
	ch->group_wait_ms = 1000 * (uint64_t)(v != NULL ? json_integer_value(v) :
	    NOTIFY_GROUP_WAIT_DEFAULT_S);
	return 0;
}

void
notify_channel_clear(struct channel *ch)
{
	free(ch->url);
	notify_mail_free(ch->mail);
	free(ch->secret);
	free(ch->topic);
	free(ch->token);
	json_decref(ch->rules);
	memset(ch, 0, sizeof(*ch));
}
int
notify_channel_wants(const struct channel *ch, const char *rule,
    const char *state)
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

char *
notify_channel_render(const struct notify *nf, const struct channel *ch,
    const json_t *alerts, const char *what, size_t *len)
{
	const char *state = strcmp(what, "resolved") == 0 ? "resolved" :
	    "firing";
	json_t *body;
	char *text;

	*len = 0;
	if (json_array_size(alerts) == 1)
		return body_for(nf, ch, json_array_get(alerts, 0), state,
		    strcmp(what, "repeat") == 0, len);
	if (ch->type != CH_WEBHOOK) {
		body = notify_group_summary(alerts);
		text = body_for(nf, ch, body, state, 0, len);
		json_decref(body);
		return text;
	}
	body = notify_group_webhook(nf->n->id, state, alerts);
	text = json_dumps(body, JSON_COMPACT);
	*len = text != NULL ? strlen(text) : 0;
	json_decref(body);
	return text;
}

const char *
notify_channel_type(const struct channel *ch)
{
	return type_names[ch->type];
}

const struct channel *
notify_channel_find(const struct notify *nf, const char *name)
{
	for (size_t i = 0; i < nf->nch; i++)
		if (strcmp(nf->ch[i].name, name) == 0)
			return &nf->ch[i];
	return NULL;
}

/* --- one attempt ---------------------------------------------------------- */

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

void
notify_channel_attempt(struct delivery *d)
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
