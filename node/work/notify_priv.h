/*
 * For notify.c's siblings only (notify_channel.c: the channels and what
 * each is sent; notify_store.c: the notices in the node's database):
 * the structs notify.c keeps and the few functions they share.  Callers
 * outside node/work/notify*.c use notify.h.  Loop thread only.
 */
#ifndef AGENTFLOW_NOTIFY_PRIV_H
#define AGENTFLOW_NOTIFY_PRIV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "http_client.h"

struct node;
struct notify;
struct notify_mail;
struct notify_mail_send;
struct notify_mailer;

#define NOTIFY_CHANNELS_MAX	16
#define NOTIFY_WAITING_MAX	256	/* notices waiting, the oldest goes */
#define NOTIFY_GROUPS_MAX	256	/* open groups, the oldest goes out */
#define NOTIFY_ATTEMPTS_MAX	10
/* What became of notices: kept per alert and in all, oldest goes. */
#define NOTIFY_OUTCOMES_PER_ALERT	32
#define NOTIFY_OUTCOMES_MAX	512

enum notify_channel_type { CH_WEBHOOK, CH_NTFY, CH_GOTIFY, CH_EMAIL };

struct channel {
	char			 name[64];
	enum notify_channel_type type;
	char			*url;		/* the HTTP ones' */
	struct notify_mail	*mail;		/* email's */
	char			*secret;	/* webhook; "" none */
	char			*topic;		/* ntfy */
	char			*token;		/* ntfy, gotify; "" none */
	json_t			*rules;		/* names; NULL: every rule */
	int			 resolved;	/* send resolved notices */
	uint64_t		 group_wait_ms;	/* 0: a notice per alert */
};

/* One notice to one channel, until it is delivered or given up; row:
 * its notify_waiting row (notify_store.h). */
struct delivery {
	TAILQ_ENTRY(delivery)	 entry;
	struct notify		*nf;
	const struct channel	*ch;
	int64_t			 row;
	json_t			*alerts;	/* what it speaks of: 1, or a
						 * group's (alert JSON) */
	char			*body;
	size_t			 len;
	char			 alert[64];	/* for the logs; a group's first */
	json_t			*ids;		/* a group's alert ids; NULL: one */
	json_t			*after;		/* resolved alerts of a firing
						 * group's, sent on ch once it
						 * is delivered; NULL: none */
	const char		*what;		/* firing, repeat, resolved */
	int			 attempts;
	int64_t			 next_ms;	/* wall: its next try, for
						 * its row */
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
 *
 * An open group is also a notify_waiting row (due_wall_ms its end), so
 * a restart reopens it with what is left of its wait.
 */
struct group {
	TAILQ_ENTRY(group)	 entry;
	struct notify		*nf;
	const struct channel	*ch;
	int64_t			 row;
	char			 rule[64];
	const char		*state;		/* "firing" or "resolved" */
	json_t			*alerts;	/* array of alert JSON */
	uint64_t		 due_ms;	/* monotonic */
	int64_t			 due_wall_ms;
	struct event		*timer;
};
TAILQ_HEAD(groups, group);

struct notify {
	struct node		*n;
	struct channel		 ch[NOTIFY_CHANNELS_MAX];
	size_t			 nch;
	uint64_t		 repeat_ms;	/* 0: never */
	/* alert id → {alert, sent_mono, acked, held, announced, counted,
	 * restored?}; announced: its firing notice went out; held: a silence
	 * kept its notices back (silences.h); restored: open at the start,
	 * never repeated */
	json_t			*firing;
	/* alert id → {rule, subject, acked}: this node's alerts open in
	 * the store at the start (restored, not in firing), until they
	 * resolve; NULL when the store could not say */
	json_t			*open;
	struct deliveries	 waiting;
	size_t			 nwaiting;
	struct groups		 groups;	/* open ones */
	size_t			 ngroups;
	int64_t			 next_row;	/* notify_waiting's next id */
	struct event		*repeat;
	struct notify_mailer	*mailer;	/* with an email channel */
	uint64_t		 delivered, retried, failed, dropped;
	uint64_t		 silenced;	/* notices a silence kept back */
	/* What became of the last NOTIFY_OUTCOMES_MAX notices, oldest
	 * first (notify_notices). */
	json_t			*notices;
};

/* --- notify_channel.c: the channels, and what each is sent --------------- */

/* "--notify: " and fmt in err; -1. */
int notify_bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Channel i of the file, c, into ch (zeroed); 0, or -1 with err naming
 * the field.  notify_channel_clear frees what it took, either way. */
int notify_channel_parse(struct channel *ch, const json_t *c, size_t i,
    char *err, size_t errlen);
void notify_channel_clear(struct channel *);
/* "webhook", "ntfy", "gotify" or "email". */
const char *notify_channel_type(const struct channel *);
/* Whether ch takes notices of rule in state (firing, resolved). */
int notify_channel_wants(const struct channel *, const char *rule,
    const char *state);
/* The notice ch is sent of alerts (an array of alert JSON of one rule
 * and state: one alert, or a group's 2 or more), what: firing, repeat or
 * resolved.  A new text and *len, or NULL. */
char *notify_channel_render(const struct notify *, const struct channel *,
    const json_t *alerts, const char *what, size_t *len);
/* One attempt to send d (d->attempts counted): its end, d->ok, d->why
 * and d->status set, comes through d->timer with d->answered set, never
 * within this call. */
void notify_channel_attempt(struct delivery *d);
/* The channel named name, or NULL. */
const struct channel *notify_channel_find(const struct notify *,
    const char *name);

/* --- notify.c, for notify_store.c's restore ------------------------------ */

/* A notice (its alerts taken) waiting on ch, attempted after delay_ms
 * with attempts already made; row its notify_waiting row (0: a new one,
 * stored now). */
struct delivery *notify_delivery_add(struct notify *, const struct channel *,
    json_t *alerts, const char *what, int attempts, uint64_t delay_ms,
    int64_t row);
/* An open group of ch reopened (alerts taken), going out in delay_ms. */
struct group *notify_group_reopen(struct notify *, const struct channel *,
    const char *state, json_t *alerts, uint64_t delay_ms, int64_t row);
/* Keeps e (taken), what became of a notice, in memory (bounded as the
 * store is); stored too when store is set. */
void notify_outcome_keep(struct notify *, json_t *e, int store);

/* --- notify_store.c: the notices in the node's database ------------------ */

/* Stores d's or g's row (a new id the first time).  A failure is logged:
 * the notice still goes, only a restart would lose it. */
void notify_store_delivery(struct delivery *);
void notify_store_group(struct group *);
/* Deletes a row that is done with (0: none). */
void notify_store_forget(struct notify *, int64_t row);
/* Stores what became of a notice (notify_outcome_keep's e). */
void notify_store_outcome(struct notify *, const json_t *e);
/* Reads back this node's open alerts (into nf->open), the outcomes and
 * the waiting notices and groups: those on a channel no longer in the
 * file, or that the channel's rules and "resolved" now leave out, are
 * dropped, and so are the alerts of a firing notice or group no longer
 * open (with the resolved notices parked behind them); an outcome says
 * so.  Bad rows are skipped and deleted. */
void notify_store_restore(struct notify *);
/* Whether a is an alert as notify.c keeps it (alert_id, rule, severity,
 * state, subject, message as text; value, threshold, fired_ms,
 * resolved_ms as numbers): what a stored row's alerts must be. */
int notify_store_alert_valid(const json_t *a);
/* Whether row (store_notify_load's JSON) is one to restore: kind,
 * channel, what, attempts below NOTIFY_ATTEMPTS_MAX, 1 to
 * NOTIFY_GROUP_MAX valid alerts of one rule, after's valid too; why
 * names the fault when not. */
int notify_store_row_valid(const json_t *row, char *why, size_t whylen);

#endif
