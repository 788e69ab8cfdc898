/*
 * E-mail notifications (notify.h, channel type "email"): the channel's
 * fields, the message, and its sending over SMTP by libcurl on a worker
 * thread of this module's, whose outcome comes back to the node's loop
 * (why not curl's multi-socket API on the loop: notify_mail.c).
 *
 *   {"name": "mail", "type": "email", "url": "smtp://mail.example.net:587",
 *    "starttls": "required", "from": "agentflow@example.net",
 *    "to": ["ops@example.net"], "username": "agentflow",
 *    "password_file": "/etc/agentflow/smtp-password",
 *    "subject_prefix": "[AgentFlow]"}
 *
 * The password is handed to curl alone: it is in no URL, no message and
 * no error text (an error is curl_easy_strerror's fixed text and the
 * server's reply code, never curl's error buffer or the server's words).
 *
 * Loop thread only.
 */
#ifndef AGENTFLOW_NOTIFY_MAIL_H
#define AGENTFLOW_NOTIFY_MAIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct notify_mail;		/* one channel's settings */
struct notify_mailer;		/* curl's multi handle on the loop */
struct notify_mail_send;	/* one message on its way */

/* The fields an email channel may have besides name, type, rules and
 * resolved, for the message that names an unknown one. */
#define NOTIFY_MAIL_FIELDS	"url, starttls, ca, from, to, username, " \
	"password, password_file, password_env, subject_prefix"
#define NOTIFY_MAIL_TO_MAX	16

/* Whether key is one of NOTIFY_MAIL_FIELDS. */
bool notify_mail_field(const char *key);

/* The email fields of channel object c (the password read from its file
 * or variable now); NULL with err starting with the field's name ("to:
 * ...") when one is wrong.  The error never holds the password. */
struct notify_mail *notify_mail_parse(const json_t *c, char *err,
    size_t errlen);
/* Wipes the password.  NULL: no-op. */
void notify_mail_free(struct notify_mail *);
/* Whether the channel logs in (for the start-up log line). */
bool notify_mail_auth(const struct notify_mail *);

/* The whole message (headers Date, Message-ID, From, To, Subject; plain
 * UTF-8 text with CRLF lines) for alert a (JSON, as notify.c keeps it):
 * subject is "PREFIX title", the body lists the alert's fields.  Caller
 * frees; *len is its length. */
char *notify_mail_compose(const struct notify_mail *, const char *node,
    const char *channel, const char *title, const json_t *a,
    int64_t now_ms, uint32_t nonce, size_t *len);

/* The worker thread, whose outcomes come back on base's loop.  NULL
 * when libcurl or the thread cannot start. */
struct notify_mailer *notify_mailer_new(struct event_base *base);
/* Cancels what is on its way (no done callbacks) and joins the worker
 * (back within about a second).  NULL: no-op. */
void notify_mailer_free(struct notify_mailer *);

/* ok: the server took the message; why: what failed (static or the
 * send's, valid during the call only), "" when ok. */
typedef void notify_mail_done_fn(void *arg, bool ok, const char *why);

/* Queues msg (copied) for m's server (m must outlive the mailer); done
 * runs once from the loop, never within this call.  The handle is valid
 * until done runs or notify_mail_cancel; NULL when the queue is full. */
struct notify_mail_send *notify_mail_send(struct notify_mailer *,
    const struct notify_mail *m, const char *msg, size_t len,
    notify_mail_done_fn *done, void *arg);
/* Stops a send whose done has not run; done will not run.  Not from
 * within a done callback of the same send.  NULL: no-op. */
void notify_mail_cancel(struct notify_mail_send *);

#endif
