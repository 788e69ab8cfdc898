/*
 * Alert notifications: this node's alerts sent to the channels of
 * --notify FILE (docs/operations.md, "Notifications"), so a firing alert
 * reaches a person, not only a dashboard.
 *
 *   {"channels": [
 *      {"name": "hook", "type": "webhook", "url": "https://…",
 *       "secret": "…"},
 *      {"name": "phone", "type": "ntfy", "url": "https://ntfy.sh",
 *       "topic": "…", "token": "…"},
 *      {"name": "gotify", "type": "gotify", "url": "https://gotify.…",
 *       "token": "…"},
 *      {"name": "mail", "type": "email", "url": "smtp://mail.…:587",
 *       "from": "…", "to": ["…"], "username": "…", "password_file": "…"}],
 *    "repeat_s": 3600}
 *
 * Each channel may list "rules" (only those), "resolved": false (no
 * notice when an alert resolves) and "group_wait_s" (default 10, 0-600):
 * the first notices of one rule's alerts within that wait go to the
 * channel as one (notify_group.h), firing and resolved apart; 0: a notice
 * per alert at once.  Repeats, retries and silences stay per alert.  A webhook gets the alert as JSON,
 * signed as job callbacks are (X-AgentFlow-Timestamp and
 * X-AgentFlow-Signature: HMAC-SHA256 of "timestamp.body" with its secret);
 * ntfy gets its JSON publish (topic, title, message, priority, tags) with
 * the token as a bearer; Gotify its POST /message (title, message,
 * priority) with the application's token in X-Gotify-Key; an email
 * channel a plain-text mail over SMTP (notify_mail.h), sent by libcurl
 * from a worker thread.
 *
 * One notice when an alert fires, again every repeat_s while it fires
 * unacknowledged (0: never; a repeat goes to a channel only once the
 * notice before it was delivered there), and one when it resolves (which
 * drops any notice of it still waiting); an alert whose message or value
 * changes while firing sends nothing new.  While a silence matches an
 * alert (silences.h), none of its notices go out, firing, repeat nor
 * resolved; when the silence ends while it still fires unacknowledged,
 * one firing notice does.  An alert still firing when
 * the node restarts is not repeated, only resolved.  Each notice
 * is tried until the channel answers 2xx (a mail server: takes the
 * message): 1 s, 2 s, 4 s … up to 10
 * attempts (about 8 minutes), at most 256 notices waiting at once (the
 * oldest goes) and 256 groups open (the oldest goes out early).  Secrets and tokens appear in no log line, API answer or
 * audit record; logs name the channel.
 *
 * Over a restart (notify_store.c, the node's database): each waiting
 * notice (channel by name, the alerts it speaks of, attempts made, when
 * the next is due), each open group (when it goes) and what became of
 * each alert's notices (32 an alert, 512 in all, oldest goes) are
 * stored as they change; at the start the notices are tried on from
 * where they were and the groups wait out what was left.  A row holds no
 * URL, secret or token: the body is made again from the file's channel
 * (one no longer in the file, or whose rules or "resolved" now leave a
 * notice out: its notices are dropped, and say so).  A firing notice or
 * group of an alert no longer open at the start (it resolved while the
 * node was down or ran without --notify) is dropped, with the resolved
 * notice parked behind it: no receiver heard of that incident, so none
 * hears of its start or end, however old; a resolved notice still goes.
 * An alert restored at the start whose group ends under a silence is
 * held, and announced once when the silence ends (never repeated, as no
 * alert restored at the start is).  An
 * alert restored at the start and resolved later gets its resolved
 * notice on the channels its firing notice reached (or is still on its
 * way to), as the stored outcomes tell; none when they tell of none.
 *
 * At-least-once: a notice's row goes only after the channel took it, so
 * a crash between the channel's 2xx (or the mail server's "250") and
 * that write sends it again after the start (the same alert and state;
 * a receiver that must not see it twice keys on alert_id and state).
 * What a crash may still lose: a notice whose row write failed (logged
 * "cannot store a notification"; it is still tried until the stop), and
 * the outcome of one delivered just before.  A clean stop loses nothing:
 * an attempt in flight is tried again after the start.
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_NOTIFY_H
#define AGENTFLOW_NOTIFY_H

#include <jansson.h>
#include <stddef.h>

#include "mesh.pb-c.h"

struct node;
struct notify;

/* The channels of doc (--notify's file, parsed; NULL: none, and NULL
 * with err empty).  NULL with err naming the field and the problem when
 * it is invalid. */
struct notify *notify_new(struct node *, const json_t *doc, char *err,
    size_t errlen);
/* Drops what waits.  NULL: no-op. */
void notify_free(struct notify *);

/* One of this node's alerts changed (alerts' emit hook).  NULL: no-op. */
void notify_alert(struct notify *, const Agentflow__Mesh__V1__Alert *);

/*
 * What became of this node's recent notices (the last 512, at most 32
 * an alert, kept over a restart; oldest first), of alert_id's only
 * (NULL: all): a new array of
 * {time_ms, alert_id, notice: firing|repeat|resolved, channel (absent for
 * one a silence kept back), outcome: delivered|failed|dropped|silenced,
 * attempts, why?} (why: the last failure, or the silence's id), the
 * caller's.  No URL, secret or token.  NULL nf: an empty array.
 */
json_t *notify_notices(const struct notify *, const char *alert_id);

/* Counters for /metrics: {delivered, retried, failed, dropped,
 * silenced (notices a silence kept back), waiting}. */
json_t *notify_counters(const struct notify *);

#endif
