/*
 * Alerts (see alerts.h): rules over this node's status samples and task
 * updates, turned into Alert transitions for the emit hook.
 *
 * Every alert this object knows lives in `by_id`: open ones (firing or
 * acknowledged) on the `open` list, the last RESOLVED_KEEP resolved ones
 * on the `resolved` list, so that an ack can tell "already resolved" from
 * "never heard of it".  An open alert produced by a rule is also in
 * `open_by_key` under "<rule>\t<subject>", which is what makes a rule
 * continue an alert (its own or a restored one) instead of opening a
 * second one for the same subject.  A condition that holds but has not
 * held for for_s yet is a `pending` entry under the same key.
 *
 *   state         event                                 next          by
 *   (none)        condition held for_s / task failed    FIRING        fire()
 *   (none)        alert read back from storage          FIRING|ACKED  alerts_restore()
 *   FIRING        acknowledged                          ACKNOWLEDGED  alerts_ack()
 *   ACKNOWLEDGED  acknowledged again                    (no change)   alerts_ack()
 *   FIRING|ACKED  condition clears, rule gone           RESOLVED      resolve()
 *   RESOLVED      acknowledged                          (ERROR)       alerts_ack()
 *
 * A restored alert whose rule is gone, or that the rule could not have
 * produced, or that repeats a rule and subject already open, or that is
 * over the open limit, is an "orphan": open, in no key map, with a reason
 * it is resolved with at the next alerts_status().
 *
 * Invariants (alert_check): at most FRAME_CODEC_MAX_ALERTS open alerts
 * fire here, so an origin snapshot can carry every open one; every string
 * handed to the hook is valid UTF-8 within the bounds of mesh.proto, so
 * frame_codec never refuses what we emit.
 */
#include "alerts.h"
#include "alerts_priv.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "check.h"
#include "frame_codec.h"
#include "hmap.h"
#include "mesh_names.h"
#include "node_id.h"
#include "text.h"
#include "xalloc.h"

#define RESOLVED_KEEP	256
#define OPEN_MAX	FRAME_CODEC_MAX_ALERTS
#define SUBJECT_MAX	FRAME_CODEC_MAX_HOSTNAME	/* mesh.proto: 0-255 bytes */
#define TEXT_MAX	FRAME_CODEC_MAX_TEXT
#define KEY_MAX		(NAME_MAX_LEN + 1 + SUBJECT_MAX + 1)

struct alert {
	TAILQ_ENTRY(alert)		 entry;		/* open or resolved list */
	char				 id[NODE_ID_MAX + 1];
	char				 rule[NAME_MAX_LEN + 1];
	char				 subject[SUBJECT_MAX + 1];
	char				*message;
	char				 acked_by[NAME_MAX_LEN + 1];
	Agentflow__Mesh__V1__AlertSeverity severity;
	Agentflow__Mesh__V1__AlertState	 state;
	double				 value;
	double				 threshold;
	uint64_t			 fired_ms;
	uint64_t			 resolved_ms;
	uint64_t			 acked_ms;
	bool				 keyed;		/* in open_by_key */
	const char			*orphan;	/* static reason, or NULL */
};
TAILQ_HEAD(alert_list, alert);

struct pending {
	TAILQ_ENTRY(pending)		 entry;
	const struct rule		*rule;
	char				 key[KEY_MAX];
	char				 subject[SUBJECT_MAX + 1];
	uint64_t			 since_ms;
};
TAILQ_HEAD(pending_list, pending);

struct alerts {
	struct alerts_hooks		 hooks;
	char				 prefix[NODE_ID_PREFIX_MAX + 1];
	uint64_t			 last_n;
	struct rule			*rules;
	size_t				 nrules;
	uint64_t			*fired;		/* per rule, since start */
	struct alert_list		 open;
	size_t				 nopen;
	struct alert_list		 resolved;
	size_t				 nresolved;
	struct hmap			*by_id;		/* every alert held */
	struct hmap			*open_by_key;	/* "<rule>\t<subject>" */
	struct pending_list		 pending;
	struct hmap			*pending_by_key;
};

/* ------------------------------------------------------------------ */
/* Text (the rules are text.h's) */

static void
make_key(char *key, const char *rule, const char *subject)
{
	/* A rule name has no tab (no control characters), so the key is
	 * unambiguous whatever the subject holds. */
	snprintf(key, KEY_MAX, "%s\t%s", rule, subject);
}

/* ------------------------------------------------------------------ */
/* Alert state */

/* The invariants of one alert in its state (see the table above). */
static void
alert_check(const struct alerts *a, const struct alert *al)
{
	CHECK(node_id_valid(al->id, strlen(al->id)));
	CHECK(hmap_get(a->by_id, al->id) == al);
	switch (al->state) {
	case MESH_ALERT_STATE(FIRING):
		CHECK(al->resolved_ms == 0 && al->acked_ms == 0);
		CHECK(al->acked_by[0] == '\0');
		break;
	case MESH_ALERT_STATE(ACKNOWLEDGED):
		CHECK(al->resolved_ms == 0);
		break;
	case MESH_ALERT_STATE(RESOLVED):
		CHECK(!al->keyed && al->orphan == NULL);
		break;
	default:
		CHECK(!"alert in no state");
	}
	CHECK(!al->keyed || al->orphan == NULL);
}

static void
emit(struct alerts *a, const struct alert *al)
{
	Agentflow__Mesh__V1__Alert m = AGENTFLOW__MESH__V1__ALERT__INIT;

	alert_check(a, al);
	if (a->hooks.emit == NULL)
		return;
	/* The message's strings point into al; the hook copies what it keeps. */
	m.alert_id = (char *)al->id;
	m.rule = (char *)al->rule;
	m.severity = al->severity;
	m.state = al->state;
	m.value = al->value;
	m.threshold = al->threshold;
	m.subject = (char *)al->subject;
	m.message = al->message;
	m.fired_ms = al->fired_ms;
	m.resolved_ms = al->resolved_ms;
	m.acked_ms = al->acked_ms;
	m.acked_by = (char *)al->acked_by;
	a->hooks.emit(&m, a->hooks.arg);
}

static void
set_message(struct alert *al, const char *msg)
{
	char buf[TEXT_MAX + 1];

	text_copy(buf, sizeof(buf), msg, false);
	free(al->message);
	al->message = xstrdup(buf);
}

static void
alert_free(struct alert *al)
{
	if (al == NULL)
		return;
	free(al->message);
	free(al);
}

/* A fresh "<prefix>-<n>": the prefix differs per start, and the check
 * keeps even a restored alert of the same start from being shadowed. */
static void
next_id(struct alerts *a, char *id)
{
	do {
		snprintf(id, NODE_ID_MAX + 1, "%s-%" PRIu64, a->prefix,
		    ++a->last_n);
	} while (hmap_get(a->by_id, id) != NULL);
}

static void
open_insert(struct alerts *a, struct alert *al, bool keyed)
{
	char key[KEY_MAX];

	TAILQ_INSERT_TAIL(&a->open, al, entry);
	a->nopen++;
	hmap_put(a->by_id, al->id, al);
	if (keyed) {
		make_key(key, al->rule, al->subject);
		hmap_put(a->open_by_key, key, al);
		al->keyed = true;
	}
}

static struct alert *
open_get(const struct alerts *a, const struct rule *r, const char *subject)
{
	char key[KEY_MAX];

	make_key(key, r->name, subject);
	return hmap_get(a->open_by_key, key);
}

/* (none) → FIRING.  The caller checked that there is room. */
static void
fire(struct alerts *a, const struct rule *r, const char *subject,
    double value, double threshold, uint64_t now_ms, const char *msg)
{
	struct alert *al = xcalloc(1, sizeof(*al));

	CHECK(a->nopen < OPEN_MAX);
	next_id(a, al->id);
	snprintf(al->rule, sizeof(al->rule), "%s", r->name);
	text_copy(al->subject, sizeof(al->subject), subject, true);
	set_message(al, msg);
	al->severity = r->severity;
	al->state = MESH_ALERT_STATE(FIRING);
	al->value = value;
	al->threshold = threshold;
	al->fired_ms = now_ms;
	open_insert(a, al, true);
	CHECK(r >= a->rules && r < a->rules + a->nrules);
	a->fired[r - a->rules]++;
	emit(a, al);
}

/* FIRING | ACKNOWLEDGED → RESOLVED; the acked fields stay as they were. */
static void
resolve(struct alerts *a, struct alert *al, uint64_t now_ms, const char *msg)
{
	char key[KEY_MAX];
	struct alert *old;

	CHECK(al->state != MESH_ALERT_STATE(RESOLVED));
	if (al->keyed) {
		make_key(key, al->rule, al->subject);
		hmap_del(a->open_by_key, key);
		al->keyed = false;
	}
	al->orphan = NULL;
	TAILQ_REMOVE(&a->open, al, entry);
	a->nopen--;
	al->state = MESH_ALERT_STATE(RESOLVED);
	/* 0 means "not yet" on the wire, so a resolution at time 0 would
	 * read as unresolved; clocks here are unix times, but be exact. */
	al->resolved_ms = now_ms != 0 ? now_ms : 1;
	set_message(al, msg);
	TAILQ_INSERT_TAIL(&a->resolved, al, entry);
	a->nresolved++;
	emit(a, al);
	while (a->nresolved > RESOLVED_KEEP) {
		old = TAILQ_FIRST(&a->resolved);
		TAILQ_REMOVE(&a->resolved, old, entry);
		a->nresolved--;
		hmap_del(a->by_id, old->id);
		alert_free(old);
	}
}

/* ------------------------------------------------------------------ */
/* Pending conditions */

static struct pending *
pending_get(const struct alerts *a, const struct rule *r, const char *subject)
{
	char key[KEY_MAX];

	make_key(key, r->name, subject);
	return hmap_get(a->pending_by_key, key);
}

/* The condition holds now: since when (now, if it did not hold before). */
static struct pending *
pending_hold(struct alerts *a, const struct rule *r, const char *subject,
    uint64_t now_ms)
{
	struct pending *p = pending_get(a, r, subject);

	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->rule = r;
		text_copy(p->subject, sizeof(p->subject), subject, true);
		make_key(p->key, r->name, subject);
		p->since_ms = now_ms;
		TAILQ_INSERT_TAIL(&a->pending, p, entry);
		hmap_put(a->pending_by_key, p->key, p);
	}
	/* A clock stepped back: restart the wait rather than fire early or
	 * wrap around. */
	if (now_ms < p->since_ms)
		p->since_ms = now_ms;
	return p;
}

static void
pending_drop(struct alerts *a, struct pending *p)
{
	if (p == NULL)
		return;
	hmap_del(a->pending_by_key, p->key);
	TAILQ_REMOVE(&a->pending, p, entry);
	free(p);
}

static bool
pending_due(const struct pending *p, uint32_t for_s, uint64_t now_ms)
{
	return now_ms - p->since_ms >= (uint64_t)for_s * 1000;
}

/* ------------------------------------------------------------------ */
/* Rules: evaluation */

/* The metric's value in st; false when the sample cannot say (a total of
 * 0, or a value that is not a finite number). */
static bool
metric_value(const Agentflow__Mesh__V1__NodeStatus *st, enum metric m,
    double *v)
{
	switch (m) {
	case METRIC_CPU:
		*v = st->cpu_percent;
		break;
	case METRIC_MEM:
		if (st->mem_total_bytes == 0)
			return false;
		*v = 100.0 * (double)st->mem_used_bytes /
		    (double)st->mem_total_bytes;
		break;
	case METRIC_DISK:
		if (st->disk_total_bytes == 0)
			return false;
		*v = 100.0 * (double)st->disk_used_bytes /
		    (double)st->disk_total_bytes;
		break;
	case METRIC_LOAD1:
		*v = st->load1;
		break;
	default:
		return false;
	}
	return isfinite(*v);
}

/*
 * One metric rule against one sample.  A sample without the metric
 * restarts the wait (the condition is not known to have held) but leaves
 * an open alert alone (nor is it known to have cleared).
 */
static void
eval_metric(struct alerts *a, const struct rule *r, uint64_t now_ms,
    const Agentflow__Mesh__V1__NodeStatus *st)
{
	const char *subject = alerts_rules_metrics[r->metric].subject;
	const char *dir = r->below ? "below" : "above";
	struct alert *al = open_get(a, r, subject);
	struct pending *p;
	char val[64], msg[512];
	double v;
	bool holds;

	if (!metric_value(st, r->metric, &v)) {
		pending_drop(a, pending_get(a, r, subject));
		return;
	}
	holds = r->below ? v < r->threshold : v > r->threshold;
	snprintf(val, sizeof(val), "%.*f", alerts_rules_metrics[r->metric].digits, v);
	if (al != NULL) {
		if (!holds) {
			snprintf(msg, sizeof(msg), "%s %s, no longer %s %g",
			    alerts_rules_metrics[r->metric].name, val, dir, r->threshold);
			resolve(a, al, now_ms, msg);
		}
		return;
	}
	if (!holds) {
		pending_drop(a, pending_get(a, r, subject));
		return;
	}
	p = pending_hold(a, r, subject, now_ms);
	if (!pending_due(p, r->for_s, now_ms) || a->nopen >= OPEN_MAX)
		return;
	if (r->for_s > 0)
		snprintf(msg, sizeof(msg), "%s %s %s %g for %" PRIu32 " s",
		    alerts_rules_metrics[r->metric].name, val, dir, r->threshold, r->for_s);
	else
		snprintf(msg, sizeof(msg), "%s %s %s %g",
		    alerts_rules_metrics[r->metric].name, val, dir, r->threshold);
	pending_drop(a, p);
	fire(a, r, subject, v, r->threshold, now_ms, msg);
}

/*
 * One peer_unreachable rule against the membership in a sample: a member
 * not alive (suspect or dead) fires once it has been so for for_s, counted
 * from the first sample that showed it; alive, left (a goodbye, not a
 * failure) or gone from the list resolves.  value is the seconds it has
 * been unreachable, threshold the rule's for_s.
 */
static void
eval_peers(struct alerts *a, const struct rule *r, uint64_t now_ms,
    const Agentflow__Mesh__V1__NodeStatus *st, const struct hmap *members)
{
	struct alert *al, *anext;
	struct pending *p, *pnext;
	char msg[512];	/* room for any subject */

	for (size_t i = 0; i < st->n_members; i++) {
		const Agentflow__Mesh__V1__MemberInfo *m = st->members[i];
		const char *id;

		if (m == NULL || m->node_id == NULL ||
		    !node_id_valid(m->node_id, strlen(m->node_id)))
			continue;
		id = m->node_id;
		al = open_get(a, r, id);
		switch (m->state) {
		case MESH_MEMBER_STATE(ALIVE):
		case MESH_MEMBER_STATE(LEFT):
			pending_drop(a, pending_get(a, r, id));
			if (al != NULL) {
				snprintf(msg, sizeof(msg),
				    m->state == MESH_MEMBER_STATE(LEFT) ?
				    "peer %s left the mesh" :
				    "peer %s is alive again", id);
				resolve(a, al, now_ms, msg);
			}
			break;
		case MESH_MEMBER_STATE(SUSPECT):
		case MESH_MEMBER_STATE(DEAD):
			if (al != NULL)
				break;
			p = pending_hold(a, r, id, now_ms);
			if (!pending_due(p, r->for_s, now_ms) ||
			    a->nopen >= OPEN_MAX)
				break;
			snprintf(msg, sizeof(msg),
			    "peer %s unreachable (%s) for %" PRIu64 " s", id,
			    mesh_names_member_state(m->state),
			    (now_ms - p->since_ms) / 1000);
			fire(a, r, id, (double)(now_ms - p->since_ms) / 1000.0,
			    (double)r->for_s, now_ms, msg);
			pending_drop(a, p);
			break;
		default:
			/* Not a state we know: neither proof of life nor of
			 * death, so nothing changes. */
			break;
		}
	}

	/* Members no longer listed are no longer ours to worry about. */
	for (p = TAILQ_FIRST(&a->pending); p != NULL; p = pnext) {
		pnext = TAILQ_NEXT(p, entry);
		if (p->rule == r && hmap_get(members, p->subject) == NULL)
			pending_drop(a, p);
	}
	for (al = TAILQ_FIRST(&a->open); al != NULL; al = anext) {
		anext = TAILQ_NEXT(al, entry);
		if (!al->keyed || strcmp(al->rule, r->name) != 0 ||
		    hmap_get(members, al->subject) != NULL)
			continue;
		snprintf(msg, sizeof(msg), "peer %s is no longer a member",
		    al->subject);
		resolve(a, al, now_ms, msg);
	}
}

void
alerts_status(struct alerts *a, uint64_t now_ms,
    const Agentflow__Mesh__V1__NodeStatus *st)
{
	struct hmap *members = NULL;
	struct alert *al, *next;

	if (a == NULL || st == NULL)
		return;
	/* Orphans first: they hold room that live rules may need. */
	for (al = TAILQ_FIRST(&a->open); al != NULL; al = next) {
		next = TAILQ_NEXT(al, entry);
		if (al->orphan != NULL)
			resolve(a, al, now_ms, al->orphan);
	}
	for (size_t i = 0; i < a->nrules; i++) {
		const struct rule *r = &a->rules[i];

		switch (r->kind) {
		case RULE_METRIC:
			eval_metric(a, r, now_ms, st);
			break;
		case RULE_PEER_UNREACHABLE:
			if (members == NULL) {
				members = hmap_new();
				for (size_t k = 0; k < st->n_members; k++)
					if (st->members[k] != NULL &&
					    st->members[k]->node_id != NULL)
						hmap_put(members,
						    st->members[k]->node_id,
						    st->members[k]);
			}
			eval_peers(a, r, now_ms, st, members);
			break;
		case RULE_TASK_FAILED:
		case RULE_SERVICE_UNHEALTHY:
			break;
		}
	}
	hmap_free(members);
}

/*
 * A task_failed alert: one per rule and task name, opened by a FAILED or
 * TIMED_OUT update (a RETRYING one will try again, a CANCELLED one was
 * asked for) and resolved by a later SUCCEEDED update of the same name.
 * A failure while one is open changes nothing.  value is the exit status
 * as a shell shows it (128 + signal when a signal ended it), threshold 0.
 */
void
alerts_task(struct alerts *a, uint64_t now_ms,
    const Agentflow__Mesh__V1__TaskUpdate *tu)
{
	char name[SUBJECT_MAX + 1], id[NODE_ID_MAX * 4 + 1];
	char reason[TEXT_MAX + 1], msg[2 * TEXT_MAX];
	bool failed, timed_out, succeeded;
	struct alert *al;
	double value;

	if (a == NULL || tu == NULL)
		return;
	failed = tu->state == MESH_TASK_STATE(FAILED);
	timed_out = tu->state == MESH_TASK_STATE(TIMED_OUT);
	succeeded = tu->state == MESH_TASK_STATE(SUCCEEDED);
	if (!failed && !timed_out && !succeeded)
		return;
	text_copy(name, sizeof(name), tu->name != NULL && tu->name[0] != '\0' ?
	    tu->name : "adhoc", true);
	text_copy(id, sizeof(id), tu->task_id, true);
	text_copy(reason, sizeof(reason), tu->reason, false);
	value = tu->term_signal != 0 ? 128.0 + tu->term_signal :
	    (double)tu->exit_code;

	for (size_t i = 0; i < a->nrules; i++) {
		const struct rule *r = &a->rules[i];

		if (r->kind != RULE_TASK_FAILED)
			continue;
		if (r->task != NULL && strcmp(r->task, name) != 0)
			continue;
		al = open_get(a, r, name);
		if (succeeded) {
			if (al != NULL) {
				snprintf(msg, sizeof(msg),
				    "task %s succeeded (task id %s)", name, id);
				resolve(a, al, now_ms, msg);
			}
			continue;
		}
		/* An event has no later sample to fire from: when every
		 * open slot is taken, this failure goes unalerted. */
		if (al != NULL || a->nopen >= OPEN_MAX)
			continue;
		snprintf(msg, sizeof(msg), "task %s (task id %s) %s%s%s", name,
		    id, timed_out ? "timed out" : "failed",
		    reason[0] != '\0' ? ": " : "", reason);
		fire(a, r, name, value, 0, now_ms, msg);
	}
}

/*
 * A service_unhealthy alert: one per rule and service, opened when the
 * service is unhealthy or failed (its restart budget spent) and resolved
 * when it is healthy or running again, or stopped on purpose.  Other
 * states (starting, backing-off, stopping) change nothing.  value is 1
 * for unhealthy, 2 for failed; threshold 0.
 */
void
alerts_service(struct alerts *a, uint64_t now_ms, const char *service,
    const char *state, const char *reason)
{
	char name[SUBJECT_MAX + 1], why[TEXT_MAX + 1], msg[2 * TEXT_MAX];
	bool bad, good;
	struct alert *al;

	if (a == NULL || service == NULL || state == NULL)
		return;
	bad = strcmp(state, "unhealthy") == 0 || strcmp(state, "failed") == 0;
	good = strcmp(state, "healthy") == 0 || strcmp(state, "running") == 0 ||
	    strcmp(state, "stopped") == 0;
	if (!bad && !good)
		return;
	text_copy(name, sizeof(name), service, true);
	text_copy(why, sizeof(why), reason != NULL ? reason : "", false);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct rule *r = &a->rules[i];

		if (r->kind != RULE_SERVICE_UNHEALTHY ||
		    (r->task != NULL && strcmp(r->task, name) != 0))
			continue;
		al = open_get(a, r, name);
		if (good) {
			if (al != NULL) {
				snprintf(msg, sizeof(msg), "service %s is %s",
				    name, state);
				resolve(a, al, now_ms, msg);
			}
			continue;
		}
		if (al != NULL || a->nopen >= OPEN_MAX)
			continue;
		snprintf(msg, sizeof(msg), "service %s %s%s%s", name, state,
		    why[0] != '\0' ? ": " : "", why);
		fire(a, r, name, strcmp(state, "failed") == 0 ? 2.0 : 1.0, 0,
		    now_ms, msg);
	}
}

/* ------------------------------------------------------------------ */
/* Acknowledgement and restore */

/*
 * Acknowledging an acknowledged alert is OK and changes nothing, not even
 * acked_by: the first person who took it keeps it, and a retried command
 * emits no second event.
 */
int
alerts_ack(struct alerts *a, const char *alert_id, const char *principal,
    uint64_t now_ms, char *msg, size_t msglen)
{
	char dummy[1];
	struct alert *al = NULL;
	bool valid;

	if (msg == NULL || msglen == 0) {
		msg = dummy;
		msglen = sizeof(dummy);
	}
	msg[0] = '\0';
	valid = alert_id != NULL && node_id_valid(alert_id, strlen(alert_id));
	if (a != NULL && valid)
		al = hmap_get(a->by_id, alert_id);
	if (al == NULL) {
		/* Only an id of valid syntax is echoed back to people. */
		if (valid)
			snprintf(msg, msglen, "no alert %s", alert_id);
		else
			snprintf(msg, msglen, "no such alert (not an alert id)");
		return MESH_COMMAND_STATUS(NOT_FOUND);
	}
	switch (al->state) {
	case MESH_ALERT_STATE(RESOLVED):
		snprintf(msg, msglen, "alert %s is already resolved", al->id);
		return MESH_COMMAND_STATUS(ERROR);
	case MESH_ALERT_STATE(ACKNOWLEDGED):
		return MESH_COMMAND_STATUS(OK);
	case MESH_ALERT_STATE(FIRING):
		al->state = MESH_ALERT_STATE(ACKNOWLEDGED);
		al->acked_ms = now_ms != 0 ? now_ms : 1;
		text_copy(al->acked_by, sizeof(al->acked_by), principal, true);
		emit(a, al);
		return MESH_COMMAND_STATUS(OK);
	default:
		CHECK(!"alert in no state");
		return MESH_COMMAND_STATUS(ERROR);
	}
}

static const struct rule *
rule_find(const struct alerts *a, const char *name)
{
	for (size_t i = 0; i < a->nrules; i++)
		if (strcmp(a->rules[i].name, name) == 0)
			return &a->rules[i];
	return NULL;
}

/* Whether rule r could have opened an alert about subject. */
static bool
rule_fits(const struct rule *r, const char *subject)
{
	switch (r->kind) {
	case RULE_METRIC:
		return strcmp(subject, alerts_rules_metrics[r->metric].subject) == 0;
	case RULE_TASK_FAILED:
		return subject[0] != '\0' &&
		    (r->task == NULL || strcmp(r->task, subject) == 0);
	case RULE_PEER_UNREACHABLE:
		return node_id_valid(subject, strlen(subject));
	case RULE_SERVICE_UNHEALTHY:
		return subject[0] != '\0' &&
		    (r->task == NULL || strcmp(r->task, subject) == 0);
	}
	return false;
}

/*
 * Storage is ours, but it may come from another version: every field is
 * checked and bounded as if from the network.  An id already held is
 * ignored (restored twice); a resolved alert only joins the history, so
 * an ack of it says "already resolved".
 */
void
alerts_restore(struct alerts *a, const Agentflow__Mesh__V1__Alert *m)
{
	const struct rule *r;
	struct alert *al;
	bool open;

	if (a == NULL || m == NULL || m->alert_id == NULL ||
	    !node_id_valid(m->alert_id, strlen(m->alert_id)) ||
	    hmap_get(a->by_id, m->alert_id) != NULL)
		return;
	if (m->state != MESH_ALERT_STATE(FIRING) &&
	    m->state != MESH_ALERT_STATE(ACKNOWLEDGED) &&
	    m->state != MESH_ALERT_STATE(RESOLVED))
		return;
	open = m->state != MESH_ALERT_STATE(RESOLVED);

	al = xcalloc(1, sizeof(*al));
	snprintf(al->id, sizeof(al->id), "%s", m->alert_id);
	text_copy(al->rule, sizeof(al->rule), m->rule, true);
	if (al->rule[0] == '\0')
		snprintf(al->rule, sizeof(al->rule), "unknown");
	text_copy(al->subject, sizeof(al->subject), m->subject, true);
	set_message(al, m->message);
	al->severity = m->severity;
	if (al->severity != MESH_ALERT_SEVERITY(INFO) &&
	    al->severity != MESH_ALERT_SEVERITY(WARNING) &&
	    al->severity != MESH_ALERT_SEVERITY(CRITICAL))
		al->severity = MESH_ALERT_SEVERITY(WARNING);
	al->state = m->state;
	al->value = isfinite(m->value) ? m->value : 0;
	al->threshold = isfinite(m->threshold) ? m->threshold : 0;
	al->fired_ms = m->fired_ms;
	if (m->state != MESH_ALERT_STATE(FIRING)) {
		al->acked_ms = m->acked_ms;
		text_copy(al->acked_by, sizeof(al->acked_by), m->acked_by,
		    true);
	}

	if (!open) {
		al->resolved_ms = m->resolved_ms != 0 ? m->resolved_ms : 1;
		TAILQ_INSERT_TAIL(&a->resolved, al, entry);
		a->nresolved++;
		hmap_put(a->by_id, al->id, al);
		if (a->nresolved > RESOLVED_KEEP) {
			struct alert *old = TAILQ_FIRST(&a->resolved);

			TAILQ_REMOVE(&a->resolved, old, entry);
			a->nresolved--;
			hmap_del(a->by_id, old->id);
			alert_free(old);
		}
		return;
	}

	r = rule_find(a, al->rule);
	if (r == NULL)
		al->orphan = "rule removed";
	else if (!rule_fits(r, al->subject))
		al->orphan = "rule changed";
	else if (open_get(a, r, al->subject) != NULL)
		al->orphan = "duplicate of another open alert";
	else if (a->nopen >= OPEN_MAX)
		al->orphan = "too many open alerts";
	if (al->orphan == NULL)
		/* Continued: the rule's condition will be checked against it
		 * at the next sample; nothing is waiting any more. */
		pending_drop(a, pending_get(a, r, al->subject));
	open_insert(a, al, al->orphan == NULL);
	alert_check(a, al);
}

static bool
prefix_valid(const char *prefix)
{
	return prefix != NULL && strlen(prefix) <= NODE_ID_PREFIX_MAX &&
	    node_id_valid(prefix, strlen(prefix));
}

int
alerts_set_id_prefix(struct alerts *a, const char *prefix)
{
	if (!prefix_valid(prefix))
		return -1;
	snprintf(a->prefix, sizeof(a->prefix), "%s", prefix);
	return 0;
}

struct alerts *
alerts_new(const struct alerts_config *cfg, const struct alerts_hooks *hooks,
    char *err, size_t errlen)
{
	struct alerts *a;
	struct rule *parsed;
	size_t n;

	CHECK(cfg != NULL);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!prefix_valid(cfg->id_prefix)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "alert id prefix: must be 1-%d of "
			    "[A-Za-z0-9._-] starting with a letter or digit",
			    NODE_ID_PREFIX_MAX);
		return NULL;
	}
	if ((parsed = alerts_rules_parse(cfg->rules, &n, err, errlen)) == NULL)
		return NULL;

	a = xcalloc(1, sizeof(*a));
	if (hooks != NULL)
		a->hooks = *hooks;
	snprintf(a->prefix, sizeof(a->prefix), "%s", cfg->id_prefix);
	a->rules = parsed;
	a->nrules = n;
	a->fired = xcalloc(n > 0 ? n : 1, sizeof(*a->fired));
	TAILQ_INIT(&a->open);
	TAILQ_INIT(&a->resolved);
	TAILQ_INIT(&a->pending);
	a->by_id = hmap_new();
	a->open_by_key = hmap_new();
	a->pending_by_key = hmap_new();
	return a;
}

void
alerts_free(struct alerts *a)
{
	struct alert *al;
	struct pending *p;

	if (a == NULL)
		return;
	while ((al = TAILQ_FIRST(&a->open)) != NULL) {
		TAILQ_REMOVE(&a->open, al, entry);
		alert_free(al);
	}
	while ((al = TAILQ_FIRST(&a->resolved)) != NULL) {
		TAILQ_REMOVE(&a->resolved, al, entry);
		alert_free(al);
	}
	while ((p = TAILQ_FIRST(&a->pending)) != NULL) {
		TAILQ_REMOVE(&a->pending, p, entry);
		free(p);
	}
	hmap_free(a->by_id);
	hmap_free(a->open_by_key);
	hmap_free(a->pending_by_key);
	alerts_rules_free(a->rules, a->nrules);
	free(a->fired);
	free(a);
}

json_t *
alerts_rules_json(const struct alerts *a)
{
	return alerts_rules_dump(a != NULL ? a->rules : NULL,
	    a != NULL ? a->nrules : 0);
}

size_t
alerts_open_count(const struct alerts *a, int state, int severity)
{
	const struct alert *al;
	size_t n = 0;

	if (a == NULL)
		return 0;
	TAILQ_FOREACH(al, &a->open, entry)
		n += (int)al->state == state && (int)al->severity == severity;
	return n;
}

const char *
alerts_rule_fired(const struct alerts *a, size_t i, uint64_t *fired)
{
	if (a == NULL || i >= a->nrules)
		return NULL;
	*fired = a->fired[i];
	return a->rules[i].name;
}
