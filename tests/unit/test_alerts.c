/*
 * Unit tests of node/work/alerts.c: what the emit hook sees for metric,
 * task_failed and peer_unreachable rules, acks, restores and rule
 * validation.  Every emitted alert is also wrapped in a Frame and put
 * through frame_codec_check(), so nothing we emit would be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "frame_codec.h"
#include "mesh_names.h"

#define S		1000ull	/* ms per second */
#define MAX_SEEN	600

struct seen {
	char		id[64];
	char		rule[129];
	char		subject[256];
	char		message[1025];
	char		acked_by[129];
	int		severity;
	int		state;
	double		value;
	double		threshold;
	uint64_t	fired_ms;
	uint64_t	resolved_ms;
	uint64_t	acked_ms;
};

struct fx {
	struct alerts	*a;
	double		 cpu;		/* cpu_percent in members() samples */
	struct seen	 seen[MAX_SEEN];
	size_t		 n;
};

static void
copy(char *dst, size_t cap, const char *src)
{
	assert_non_null(src);
	assert_true(strlen(src) < cap);
	snprintf(dst, cap, "%s", src);
}

static void
emit_cb(const Agentflow__Mesh__V1__Alert *al, void *arg)
{
	struct fx *fx = arg;
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__Event *ep = &e;
	struct frame_codec_error err;
	struct seen *s;

	/* What a peer would refuse must never leave this module. */
	e.origin = "n1";
	e.incarnation = 1;
	e.seq = 1;
	e.time_ms = 1;
	e.hop_limit = 1;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ALERT;
	e.alert = (Agentflow__Mesh__V1__Alert *)al;
	b.n_events = 1;
	b.events = &ep;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;
	if (frame_codec_check(&f, &err) != FRAME_CODEC_OK)
		fail_msg("emitted alert refused: %s", err.detail);

	assert_true(fx->n < MAX_SEEN);
	s = &fx->seen[fx->n++];
	copy(s->id, sizeof(s->id), al->alert_id);
	copy(s->rule, sizeof(s->rule), al->rule);
	copy(s->subject, sizeof(s->subject), al->subject);
	copy(s->message, sizeof(s->message), al->message);
	copy(s->acked_by, sizeof(s->acked_by), al->acked_by);
	s->severity = al->severity;
	s->state = al->state;
	s->value = al->value;
	s->threshold = al->threshold;
	s->fired_ms = al->fired_ms;
	s->resolved_ms = al->resolved_ms;
	s->acked_ms = al->acked_ms;
}

/* Starts fx with rules given as JSON text (NULL: the defaults). */
static void
start(struct fx *fx, const char *rules, const char *prefix)
{
	struct alerts_hooks hooks = { emit_cb, fx };
	struct alerts_config cfg = { NULL, prefix != NULL ? prefix : "p1" };
	json_t *j = NULL;
	char err[256];

	memset(fx, 0, sizeof(*fx));
	if (rules != NULL) {
		j = json_loads(rules, 0, NULL);
		assert_non_null(j);
	}
	cfg.rules = j;
	fx->a = alerts_new(&cfg, &hooks, err, sizeof(err));
	if (fx->a == NULL)
		fail_msg("alerts_new: %s", err);
	json_decref(j);
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	alerts_free(fx->a);
	free(fx);
	return 0;
}

static int
setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state == NULL;
}

/* The latest emitted alert; fails when fewer than `want` were emitted in
 * total. */
static const struct seen *
last(const struct fx *fx, size_t want)
{
	assert_int_equal(fx->n, want);
	return &fx->seen[fx->n - 1];
}

static void
status(struct fx *fx, uint64_t t, double cpu, uint64_t mem_used,
    uint64_t mem_total, uint64_t disk_used, uint64_t disk_total)
{
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;

	st.cpu_percent = cpu;
	st.mem_used_bytes = mem_used;
	st.mem_total_bytes = mem_total;
	st.disk_used_bytes = disk_used;
	st.disk_total_bytes = disk_total;
	alerts_status(fx->a, t, &st);
}

static void
cpu(struct fx *fx, uint64_t t, double v)
{
	status(fx, t, v, 1, 100, 1, 100);
}

/* A status whose membership is "id=state id=state ..." (a, s, d, l). */
static void
members(struct fx *fx, uint64_t t, const char *spec)
{
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__MemberInfo mi[16], *mp[16];
	char ids[16][64], buf[256], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		assert_non_null(eq);
		assert_true(n < 16);
		*eq = '\0';
		mi[n] = (Agentflow__Mesh__V1__MemberInfo)
		    AGENTFLOW__MESH__V1__MEMBER_INFO__INIT;
		snprintf(ids[n], sizeof(ids[n]), "%s", tok);
		mi[n].node_id = ids[n];
		switch (eq[1]) {
		case 'a': mi[n].state = MESH_MEMBER_STATE(ALIVE); break;
		case 's': mi[n].state = MESH_MEMBER_STATE(SUSPECT); break;
		case 'd': mi[n].state = MESH_MEMBER_STATE(DEAD); break;
		case 'l': mi[n].state = MESH_MEMBER_STATE(LEFT); break;
		default: fail();
		}
		mp[n] = &mi[n];
		n++;
	}
	st.cpu_percent = fx->cpu;
	st.members = mp;
	st.n_members = n;
	alerts_status(fx->a, t, &st);
}

static void
task(struct fx *fx, uint64_t t, const char *id, const char *name, int state,
    const char *reason)
{
	Agentflow__Mesh__V1__TaskUpdate tu = AGENTFLOW__MESH__V1__TASK_UPDATE__INIT;

	tu.task_id = (char *)id;
	tu.name = (char *)name;
	tu.state = state;
	tu.exit_code = state == MESH_TASK_STATE(FAILED) ? 3 : 0;
	tu.reason = (char *)(reason != NULL ? reason : "");
	alerts_task(fx->a, t, &tu);
}

/* ------------------------------------------------------------------ */

static void
test_metric_fires_after_for_s(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;

	start(fx, "[{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
	    " \"above\": 90, \"for_s\": 60}]", NULL);
	cpu(fx, 1000 * S, 95);
	cpu(fx, 1030 * S, 96);
	cpu(fx, 1060 * S - 1, 99);
	assert_int_equal(fx->n, 0);
	cpu(fx, 1060 * S, 97.2);
	s = last(fx, 1);
	assert_string_equal(s->id, "p1-1");
	assert_string_equal(s->rule, "cpu_high");
	assert_string_equal(s->subject, "cpu");
	assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
	assert_int_equal(s->severity, MESH_ALERT_SEVERITY(WARNING));
	assert_true(s->value == 97.2);
	assert_true(s->threshold == 90);
	assert_int_equal(s->fired_ms, 1060 * S);
	assert_int_equal(s->resolved_ms, 0);
	assert_string_equal(s->message, "cpu_percent 97.2 above 90 for 60 s");
	/* Still above: nothing new, and no second alert. */
	cpu(fx, 1070 * S, 99);
	cpu(fx, 1200 * S, 99);
	assert_int_equal(fx->n, 1);
	/* Exactly at the threshold is not above it: resolved. */
	cpu(fx, 1210 * S, 90);
	s = last(fx, 2);
	assert_string_equal(s->id, "p1-1");
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_int_equal(s->resolved_ms, 1210 * S);
	assert_int_equal(s->fired_ms, 1060 * S);
	assert_true(s->value == 97.2);
	assert_non_null(strstr(s->message, "no longer above 90"));
	/* A new episode is a new alert with a new id, after for_s again. */
	cpu(fx, 1300 * S, 95);
	assert_int_equal(fx->n, 2);
	cpu(fx, 1360 * S, 95);
	s = last(fx, 3);
	assert_string_equal(s->id, "p1-2");
	assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
}

static void
test_metric_dip_resets_timer(void **state)
{
	struct fx *fx = *state;

	start(fx, "[{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
	    " \"above\": 90, \"for_s\": 60}]", NULL);
	cpu(fx, 0, 95);
	cpu(fx, 30 * S, 80);		/* dip */
	cpu(fx, 40 * S, 95);		/* the wait starts again here */
	cpu(fx, 60 * S, 95);
	cpu(fx, 99 * S, 95);
	assert_int_equal(fx->n, 0);
	cpu(fx, 100 * S, 95);
	assert_int_equal(last(fx, 1)->state, MESH_ALERT_STATE(FIRING));
	assert_int_equal(last(fx, 1)->fired_ms, 100 * S);
}

static void
test_metric_below_rule(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;

	start(fx, "[{\"name\": \"mem_low\", \"metric\": \"mem_percent\","
	    " \"below\": 10, \"for_s\": 0, \"severity\": \"info\"}]", NULL);
	status(fx, 1 * S, 0, 50, 100, 0, 0);
	status(fx, 2 * S, 0, 10, 100, 0, 0);	/* equal: not below */
	assert_int_equal(fx->n, 0);
	status(fx, 3 * S, 0, 5, 100, 0, 0);
	s = last(fx, 1);
	assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
	assert_string_equal(s->subject, "memory");
	assert_int_equal(s->severity, MESH_ALERT_SEVERITY(INFO));
	assert_true(s->value == 5.0);
	assert_true(s->threshold == 10);
	assert_string_equal(s->message, "mem_percent 5.0 below 10");
	status(fx, 4 * S, 0, 50, 100, 0, 0);
	assert_int_equal(last(fx, 2)->state, MESH_ALERT_STATE(RESOLVED));
}

static void
test_disk_zero_total_ignored(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;

	start(fx, NULL, NULL);		/* disk_full: above 90 for 0 s, critical */
	status(fx, 1 * S, 1, 1, 100, 95, 0);
	status(fx, 2 * S, 1, 1, 100, 0, 0);
	assert_int_equal(fx->n, 0);
	status(fx, 3 * S, 1, 1, 100, 95, 100);
	s = last(fx, 1);
	assert_string_equal(s->rule, "disk_full");
	assert_string_equal(s->subject, "disk");
	assert_int_equal(s->severity, MESH_ALERT_SEVERITY(CRITICAL));
	assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
	/* A sample that cannot tell neither resolves nor re-fires. */
	status(fx, 4 * S, 1, 1, 100, 0, 0);
	assert_int_equal(fx->n, 1);
	status(fx, 5 * S, 1, 1, 100, 10, 100);
	s = last(fx, 2);
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_string_equal(s->id, "p1-1");
}

static void
test_task_failed(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;
	char id[64];

	start(fx, NULL, NULL);
	task(fx, 1 * S, "t-1", "backup", MESH_TASK_STATE(RUNNING), NULL);
	task(fx, 2 * S, "t-0", "backup", MESH_TASK_STATE(RETRYING),
	    "exit status 3");
	task(fx, 2 * S, "t-0", "backup", MESH_TASK_STATE(CANCELLED),
	    "cancelled");
	assert_int_equal(fx->n, 0);
	task(fx, 3 * S, "t-1", "backup", MESH_TASK_STATE(FAILED),
	    "exit status 3");
	s = last(fx, 1);
	snprintf(id, sizeof(id), "%s", s->id);
	assert_string_equal(s->rule, "task_failed");
	assert_string_equal(s->subject, "backup");
	assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
	assert_int_equal(s->fired_ms, 3 * S);
	assert_true(s->value == 3);
	assert_non_null(strstr(s->message, "t-1"));
	assert_non_null(strstr(s->message, "exit status 3"));
	/* A second failure while open: no second alert. */
	task(fx, 4 * S, "t-2", "backup", MESH_TASK_STATE(TIMED_OUT),
	    "timeout 10 s");
	assert_int_equal(fx->n, 1);
	/* Another task's success resolves nothing. */
	task(fx, 5 * S, "t-3", "report", MESH_TASK_STATE(SUCCEEDED), NULL);
	assert_int_equal(fx->n, 1);
	/* Another task's failure is its own alert. */
	task(fx, 5 * S, "t-4", "report", MESH_TASK_STATE(TIMED_OUT),
	    "timeout 10 s");
	s = last(fx, 2);
	assert_string_equal(s->subject, "report");
	assert_non_null(strstr(s->message, "timed out"));
	task(fx, 6 * S, "t-5", "backup", MESH_TASK_STATE(SUCCEEDED), NULL);
	s = last(fx, 3);
	assert_string_equal(s->id, id);
	assert_string_equal(s->subject, "backup");
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_int_equal(s->resolved_ms, 6 * S);
	/* Resolved once: a second success changes nothing. */
	task(fx, 7 * S, "t-6", "backup", MESH_TASK_STATE(SUCCEEDED), NULL);
	assert_int_equal(fx->n, 3);
}

static void
test_task_filter(void **state)
{
	struct fx *fx = *state;

	start(fx, "[{\"name\": \"backup_failed\", \"on\": \"task_failed\","
	    " \"task\": \"backup\", \"severity\": \"critical\"}]", NULL);
	task(fx, 1 * S, "t-1", "report", MESH_TASK_STATE(FAILED),
	    "exit status 3");
	assert_int_equal(fx->n, 0);
	task(fx, 2 * S, "t-2", "backup", MESH_TASK_STATE(FAILED),
	    "exit status 3");
	assert_string_equal(last(fx, 1)->subject, "backup");
	assert_string_equal(last(fx, 1)->rule, "backup_failed");
	assert_int_equal(last(fx, 1)->severity, MESH_ALERT_SEVERITY(CRITICAL));
}

static void
test_task_strings_bounded(void **state)
{
	struct fx *fx = *state;
	char reason[3000], name[400];
	const struct seen *s;

	start(fx, NULL, NULL);
	/* Invalid UTF-8 and controls in, a reason past the message bound:
	 * the hook's frame check fails if any of it leaks through. */
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	reason[5] = '\xff';
	reason[1020] = '\xc3';	/* a lone lead byte */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	name[3] = '\n';
	task(fx, 1 * S, "t-1", name, MESH_TASK_STATE(FAILED), reason);
	s = last(fx, 1);
	assert_true(strlen(s->message) <= 1024);
	assert_true(strlen(s->subject) <= 255);
	assert_null(strchr(s->subject, '\n'));
}

static void
test_peer_unreachable(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;

	start(fx, NULL, NULL);		/* peer_unreachable for 60 s */
	members(fx, 0, "n2=s n3=a n4=l n5=d n6=d");
	members(fx, 30 * S, "n2=d n3=a n4=l n5=d n6=d");
	members(fx, 59 * S, "n2=d n3=a n4=l n5=d n6=d");
	assert_int_equal(fx->n, 0);
	members(fx, 60 * S, "n2=d n3=a n4=l n5=d n6=d");
	assert_int_equal(fx->n, 3);
	for (size_t i = 0; i < 3; i++) {
		s = &fx->seen[i];
		assert_string_equal(s->rule, "peer_unreachable");
		assert_int_equal(s->state, MESH_ALERT_STATE(FIRING));
		assert_true(s->value == 60);
		assert_true(s->threshold == 60);
	}
	assert_string_equal(fx->seen[0].subject, "n2");
	assert_string_equal(fx->seen[1].subject, "n5");
	assert_string_equal(fx->seen[2].subject, "n6");
	assert_non_null(strstr(fx->seen[0].message, "n2"));
	/* n2 alive again, n5 left (a goodbye resolves), n6 gone from the
	 * list; n4 left long ago and never fired. */
	members(fx, 90 * S, "n2=a n3=a n4=l n5=l");
	assert_int_equal(fx->n, 6);
	for (size_t i = 3; i < 6; i++) {
		assert_int_equal(fx->seen[i].state, MESH_ALERT_STATE(RESOLVED));
		assert_string_equal(fx->seen[i].id, fx->seen[i - 3].id);
		assert_int_equal(fx->seen[i].resolved_ms, 90 * S);
	}
	members(fx, 500 * S, "n2=a n3=a n4=l n5=l");
	assert_int_equal(fx->n, 6);
}

static void
test_peer_left_never_fires(void **state)
{
	struct fx *fx = *state;

	start(fx, "[{\"name\": \"peer_down\", \"on\": \"peer_unreachable\","
	    " \"for_s\": 0}]", NULL);
	members(fx, 1 * S, "n4=l");
	members(fx, 100 * S, "n4=l");
	assert_int_equal(fx->n, 0);
	/* With for_s 0, the first sample that shows it suspect fires. */
	members(fx, 101 * S, "n4=s");
	assert_int_equal(last(fx, 1)->state, MESH_ALERT_STATE(FIRING));
	assert_true(last(fx, 1)->value == 0);
}

/* service_unhealthy: unhealthy or failed fires once; healthy, running
 * or stopped resolves; the transient states change nothing. */
static void
test_service_unhealthy(void **state)
{
	struct fx *fx = *state;

	start(fx, NULL, NULL);
	alerts_service(fx->a, 1 * S, "web", "starting", NULL);
	alerts_service(fx->a, 2 * S, "web", "healthy", NULL);
	assert_int_equal(fx->n, 0);
	alerts_service(fx->a, 3 * S, "web", "unhealthy", "check http: HTTP 503");
	assert_int_equal(fx->n, 1);
	assert_int_equal(last(fx, 1)->state, MESH_ALERT_STATE(FIRING));
	assert_string_equal(last(fx, 1)->rule, "service_unhealthy");
	assert_string_equal(last(fx, 1)->subject, "web");
	assert_non_null(strstr(last(fx, 1)->message, "HTTP 503"));
	assert_true(last(fx, 1)->value == 1);
	/* Still bad, or on its way: nothing new. */
	alerts_service(fx->a, 4 * S, "web", "unhealthy", NULL);
	alerts_service(fx->a, 5 * S, "web", "backing-off", NULL);
	alerts_service(fx->a, 6 * S, "web", "failed", "budget spent");
	assert_int_equal(fx->n, 1);
	alerts_service(fx->a, 7 * S, "web", "healthy", NULL);
	assert_int_equal(fx->n, 2);
	assert_int_equal(last(fx, 2)->state, MESH_ALERT_STATE(RESOLVED));
	assert_int_equal(last(fx, 2)->resolved_ms, 7 * S);
	/* Failed is 2; a stop on purpose resolves it. */
	alerts_service(fx->a, 8 * S, "db", "failed", "budget spent");
	assert_int_equal(fx->n, 3);
	assert_true(last(fx, 3)->value == 2);
	alerts_service(fx->a, 9 * S, "db", "stopped", NULL);
	assert_int_equal(last(fx, 4)->state, MESH_ALERT_STATE(RESOLVED));

	/* A rule for one service leaves the others alone. */
	alerts_free(fx->a);
	start(fx, "[{\"name\": \"web_down\", \"on\": \"service_unhealthy\","
	    " \"service\": \"web\", \"severity\": \"critical\"}]", NULL);
	alerts_service(fx->a, 10 * S, "db", "failed", NULL);
	assert_int_equal(fx->n, 0);
	alerts_service(fx->a, 11 * S, "web", "unhealthy", NULL);
	assert_int_equal(fx->n, 1);
	assert_int_equal(last(fx, 1)->severity, MESH_ALERT_SEVERITY(CRITICAL));
}

static void
test_ack_then_resolve_keeps_acked_by(void **state)
{
	struct fx *fx = *state;
	const struct seen *s;
	char msg[128], id[64];

	start(fx, NULL, NULL);
	task(fx, 1 * S, "t-1", "backup", MESH_TASK_STATE(FAILED),
	    "exit status 3");
	snprintf(id, sizeof(id), "%s", last(fx, 1)->id);
	assert_int_equal(alerts_ack(fx->a, id, "alice", 2 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(OK));
	s = last(fx, 2);
	assert_string_equal(s->id, id);
	assert_int_equal(s->state, MESH_ALERT_STATE(ACKNOWLEDGED));
	assert_string_equal(s->acked_by, "alice");
	assert_int_equal(s->acked_ms, 2 * S);
	assert_int_equal(s->resolved_ms, 0);
	/* Again, by someone else: OK, nothing emitted, alice keeps it. */
	assert_int_equal(alerts_ack(fx->a, id, "bob", 3 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(OK));
	assert_int_equal(fx->n, 2);
	/* An acknowledged alert still resolves, acked fields intact. */
	task(fx, 4 * S, "t-2", "backup", MESH_TASK_STATE(SUCCEEDED), NULL);
	s = last(fx, 3);
	assert_string_equal(s->id, id);
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_string_equal(s->acked_by, "alice");
	assert_int_equal(s->acked_ms, 2 * S);
	assert_int_equal(s->resolved_ms, 4 * S);
	/* Resolved: an ack is an error that says so. */
	assert_int_equal(alerts_ack(fx->a, id, "alice", 5 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(ERROR));
	assert_string_equal(msg, "alert p1-1 is already resolved");
	assert_int_equal(fx->n, 3);
}

static void
test_ack_unknown_not_found(void **state)
{
	struct fx *fx = *state;
	char msg[128];

	start(fx, NULL, NULL);
	assert_int_equal(alerts_ack(fx->a, "p1-9", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(NOT_FOUND));
	assert_string_equal(msg, "no alert p1-9");
	assert_int_equal(alerts_ack(fx->a, "../etc\n", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(NOT_FOUND));
	assert_null(strchr(msg, '\n'));
	assert_int_equal(alerts_ack(fx->a, NULL, NULL, 1, NULL, 0),
	    MESH_COMMAND_STATUS(NOT_FOUND));
	assert_int_equal(fx->n, 0);
}

static void
test_resolved_history_bounded(void **state)
{
	struct fx *fx = *state;
	char msg[128], name[32];

	start(fx, NULL, NULL);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "job%d", i);
		task(fx, (uint64_t)i * S + 1, "t-1", name,
		    MESH_TASK_STATE(FAILED), NULL);
		task(fx, (uint64_t)i * S + 2, "t-2", name,
		    MESH_TASK_STATE(SUCCEEDED),
		    NULL);
	}
	assert_int_equal(fx->n, 600);
	/* The oldest are forgotten; the last 256 are known resolved. */
	assert_int_equal(alerts_ack(fx->a, "p1-1", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(NOT_FOUND));
	assert_int_equal(alerts_ack(fx->a, "p1-44", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(NOT_FOUND));
	assert_int_equal(alerts_ack(fx->a, "p1-45", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(ERROR));
	assert_int_equal(alerts_ack(fx->a, "p1-300", "alice", 1, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(ERROR));
}

static void
test_open_alerts_bounded(void **state)
{
	struct fx *fx = *state;
	Agentflow__Mesh__V1__NodeStatus st = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	static Agentflow__Mesh__V1__MemberInfo mi[300];
	static Agentflow__Mesh__V1__MemberInfo *mp[300];
	static char ids[300][16];

	start(fx, "[{\"name\": \"peer_down\", \"on\": \"peer_unreachable\","
	    " \"for_s\": 0}]", NULL);
	for (int i = 0; i < 300; i++) {
		mi[i] = (Agentflow__Mesh__V1__MemberInfo)
		    AGENTFLOW__MESH__V1__MEMBER_INFO__INIT;
		snprintf(ids[i], sizeof(ids[i]), "n%d", i);
		mi[i].node_id = ids[i];
		mi[i].state = MESH_MEMBER_STATE(DEAD);
		mp[i] = &mi[i];
	}
	st.members = mp;
	st.n_members = 300;
	alerts_status(fx->a, 1 * S, &st);
	/* No more open than a snapshot carries... */
	assert_int_equal(fx->n, 256);
	/* ...and the rest fire once there is room. */
	for (int i = 0; i < 50; i++)
		mi[i].state = MESH_MEMBER_STATE(ALIVE);
	alerts_status(fx->a, 2 * S, &st);
	assert_int_equal(fx->n, 256 + 50 + 44);
	assert_string_equal(fx->seen[fx->n - 1].subject, "n299");
	assert_int_equal(fx->seen[fx->n - 1].state, MESH_ALERT_STATE(FIRING));
}

static void
restored(Agentflow__Mesh__V1__Alert *m, const char *id, const char *rule,
    const char *subject, int st)
{
	*m = (Agentflow__Mesh__V1__Alert)AGENTFLOW__MESH__V1__ALERT__INIT;
	m->alert_id = (char *)id;
	m->rule = (char *)rule;
	m->subject = (char *)subject;
	m->severity = MESH_ALERT_SEVERITY(WARNING);
	m->state = st;
	m->value = 97;
	m->threshold = 90;
	m->message = "cpu_percent 97.0 above 90 for 60 s";
	m->fired_ms = 500;
}

static void
test_restore_continues(void **state)
{
	struct fx *fx = *state;
	Agentflow__Mesh__V1__Alert m;
	const struct seen *s;
	char msg[128];

	start(fx, NULL, "p2");
	restored(&m, "p1-7", "cpu_high", "cpu", MESH_ALERT_STATE(FIRING));
	alerts_restore(fx->a, &m);
	restored(&m, "p1-8", "peer_unreachable", "n2",
	    MESH_ALERT_STATE(ACKNOWLEDGED));
	m.acked_ms = 600;
	m.acked_by = "alice";
	alerts_restore(fx->a, &m);
	restored(&m, "p1-3", "task_failed", "backup",
	    MESH_ALERT_STATE(RESOLVED));
	m.resolved_ms = 400;
	alerts_restore(fx->a, &m);
	assert_int_equal(fx->n, 0);

	/* Still high and still dead: continued, no duplicate opened. */
	fx->cpu = 99;
	members(fx, 100 * S, "n2=d");
	members(fx, 200 * S, "n2=d");
	members(fx, 400 * S, "n2=d");
	assert_int_equal(fx->n, 0);
	/* A restored alert can be acknowledged; a restored resolved one
	 * cannot. */
	assert_int_equal(alerts_ack(fx->a, "p1-3", "bob", 401 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(ERROR));
	assert_int_equal(alerts_ack(fx->a, "p1-7", "bob", 401 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(OK));
	s = last(fx, 1);
	assert_string_equal(s->id, "p1-7");
	assert_int_equal(s->state, MESH_ALERT_STATE(ACKNOWLEDGED));
	assert_int_equal(s->fired_ms, 500);

	fx->cpu = 10;
	members(fx, 500 * S, "n2=d");
	s = last(fx, 2);
	assert_string_equal(s->id, "p1-7");
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_string_equal(s->acked_by, "bob");
	members(fx, 600 * S, "n2=a");
	s = last(fx, 3);
	assert_string_equal(s->id, "p1-8");
	assert_string_equal(s->subject, "n2");
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_string_equal(s->acked_by, "alice");
	assert_int_equal(s->acked_ms, 600);
	/* New alerts take this start's prefix. */
	fx->cpu = 99;
	members(fx, 700 * S, "n2=a");
	members(fx, 760 * S, "n2=a");
	assert_string_equal(last(fx, 4)->id, "p2-1");
}

static void
test_restore_removed_rule_resolves(void **state)
{
	struct fx *fx = *state;
	Agentflow__Mesh__V1__Alert m;
	const struct seen *s;

	start(fx, "[{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
	    " \"above\": 90}]", "p2");
	restored(&m, "p1-4", "load_high", "load", MESH_ALERT_STATE(FIRING));
	alerts_restore(fx->a, &m);
	assert_int_equal(fx->n, 0);
	cpu(fx, 10 * S, 5);
	s = last(fx, 1);
	assert_string_equal(s->id, "p1-4");
	assert_string_equal(s->rule, "load_high");
	assert_int_equal(s->state, MESH_ALERT_STATE(RESOLVED));
	assert_int_equal(s->resolved_ms, 10 * S);
	assert_string_equal(s->message, "rule removed");
	cpu(fx, 20 * S, 5);
	assert_int_equal(fx->n, 1);
}

static void
test_restore_duplicate_and_same_prefix(void **state)
{
	struct fx *fx = *state;
	Agentflow__Mesh__V1__Alert m;

	start(fx, "[{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
	    " \"above\": 90, \"for_s\": 0}]", "p1");
	restored(&m, "p1-1", "cpu_high", "cpu", MESH_ALERT_STATE(FIRING));
	alerts_restore(fx->a, &m);
	alerts_restore(fx->a, &m);	/* the same id twice: ignored */
	restored(&m, "p1-2", "cpu_high", "cpu", MESH_ALERT_STATE(FIRING));
	alerts_restore(fx->a, &m);	/* same rule and subject: a duplicate */
	cpu(fx, 10 * S, 99);
	assert_int_equal(fx->n, 1);
	assert_string_equal(fx->seen[0].id, "p1-2");
	assert_int_equal(fx->seen[0].state, MESH_ALERT_STATE(RESOLVED));
	cpu(fx, 20 * S, 5);
	assert_string_equal(last(fx, 2)->id, "p1-1");
	/* An id taken by a restored alert is skipped, not reused. */
	cpu(fx, 30 * S, 99);
	assert_string_equal(last(fx, 3)->id, "p1-3");
}

static void
test_invalid_rules(void **state)
{
	static const struct {
		const char	*rules;
		const char	*err;
	} cases[] = {
		{ "{}", "alert rules: must be an array of objects" },
		{ "[1]", "alert rule 0: must be an object" },
		{ "[{\"metric\": \"cpu_percent\", \"above\": 1}]",
		  "alert rule 0: \"name\" must be 1-63 of [A-Za-z0-9._-] "
		  "starting with a letter or digit" },
		{ "[{\"name\": \"-x\", \"metric\": \"cpu_percent\", \"above\": 1}]",
		  "alert rule 0: \"name\" must be 1-63 of [A-Za-z0-9._-] "
		  "starting with a letter or digit" },
		{ "[{\"name\": \"a\", \"on\": \"task_failed\"},"
		  " {\"name\": \"a\", \"on\": \"task_failed\"}]",
		  "alert rule 1 (\"a\"): \"name\" repeats rule 0" },
		{ "[{\"name\": \"a\", \"on\": \"task_failed\"},"
		  " {\"name\": \"b\", \"on\": \"task_failed\"},"
		  " {\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
		  " \"above\": \"90\"}]",
		  "alert rule 2 (\"cpu_high\"): \"above\" must be a number" },
		{ "[{\"name\": \"c\", \"metric\": \"cpu_percent\", \"below\": null}]",
		  "alert rule 0 (\"c\"): \"below\" must be a number" },
		{ "[{\"name\": \"c\", \"metric\": \"cpu_percent\", \"above\": 1,"
		  " \"below\": 2}]",
		  "alert rule 0 (\"c\"): exactly one of \"above\" and \"below\" "
		  "is required" },
		{ "[{\"name\": \"c\", \"metric\": \"cpu_percent\"}]",
		  "alert rule 0 (\"c\"): exactly one of \"above\" and \"below\" "
		  "is required" },
		{ "[{\"name\": \"c\", \"metric\": \"swap\", \"above\": 1}]",
		  "alert rule 0 (\"c\"): \"metric\" must be one of cpu_percent, "
		  "mem_percent, disk_percent, load1" },
		{ "[{\"name\": \"c\", \"above\": 1}]",
		  "alert rule 0 (\"c\"): exactly one of \"metric\" and \"on\" "
		  "is required" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"on\": \"task_failed\","
		  " \"above\": 1}]",
		  "alert rule 0 (\"c\"): exactly one of \"metric\" and \"on\" "
		  "is required" },
		{ "[{\"name\": \"c\", \"on\": \"reboot\"}]",
		  "alert rule 0 (\"c\"): \"on\" must be one of task_failed, "
		  "peer_unreachable, service_unhealthy" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"for_s\": 86401}]",
		  "alert rule 0 (\"c\"): \"for_s\" must be an integer 0-86400" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"for_s\": -1}]",
		  "alert rule 0 (\"c\"): \"for_s\" must be an integer 0-86400" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"for_s\": 1.5}]",
		  "alert rule 0 (\"c\"): \"for_s\" must be an integer 0-86400" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"severity\": \"fatal\"}]",
		  "alert rule 0 (\"c\"): \"severity\" must be one of info, "
		  "warning, critical" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"treshold\": 2}]",
		  "alert rule 0 (\"c\"): unknown key \"treshold\"" },
		{ "[{\"name\": \"c\", \"on\": \"task_failed\", \"for_s\": 5}]",
		  "alert rule 0 (\"c\"): \"for_s\" does not apply to \"on\": "
		  "\"task_failed\"" },
		{ "[{\"name\": \"c\", \"on\": \"peer_unreachable\", \"task\": \"x\"}]",
		  "alert rule 0 (\"c\"): \"task\" applies only to \"on\": "
		  "\"task_failed\"" },
		{ "[{\"name\": \"c\", \"on\": \"task_failed\", \"task\": \"\"}]",
		  "alert rule 0 (\"c\"): \"task\" must be a task name (1-128 "
		  "bytes of text without control characters)" },
		{ "[{\"name\": \"c\", \"on\": \"peer_unreachable\", \"below\": 1}]",
		  "alert rule 0 (\"c\"): \"below\" applies only to metric rules" },
		{ "[{\"name\": \"c\", \"on\": \"service_unhealthy\", \"for_s\": 5}]",
		  "alert rule 0 (\"c\"): \"for_s\" does not apply to \"on\": "
		  "\"service_unhealthy\"" },
		{ "[{\"name\": \"c\", \"on\": \"task_failed\", \"service\": \"x\"}]",
		  "alert rule 0 (\"c\"): \"service\" applies only to \"on\": "
		  "\"service_unhealthy\"" },
		{ "[{\"name\": \"c\", \"metric\": \"load1\", \"above\": 1,"
		  " \"service\": \"x\"}]",
		  "alert rule 0 (\"c\"): \"service\" applies only to \"on\": "
		  "\"service_unhealthy\"" },
	};
	struct alerts_hooks hooks = { NULL, NULL };
	struct alerts_config cfg = { NULL, "p1" };
	char err[256];
	json_t *many;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_error_t jerr;
		json_t *j = json_loads(cases[i].rules, 0, &jerr);

		if (j == NULL)
			fail_msg("case %zu: %s", i, jerr.text);
		cfg.rules = j;
		memset(err, 'x', sizeof(err));
		assert_null(alerts_new(&cfg, &hooks, err, sizeof(err)));
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err,
			    cases[i].err);
		json_decref(j);
	}

	many = json_array();
	for (int i = 0; i < 65; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%d", i);
		json_array_append_new(many, json_pack("{s:s, s:s}", "name",
		    name, "on", "task_failed"));
	}
	cfg.rules = many;
	assert_null(alerts_new(&cfg, &hooks, err, sizeof(err)));
	assert_string_equal(err, "alert rules: 65 rules, at most 64");
	json_decref(many);

	cfg.rules = NULL;
	cfg.id_prefix = "bad prefix";
	assert_null(alerts_new(&cfg, &hooks, err, sizeof(err)));
	assert_non_null(strstr(err, "alert id prefix"));
}

static void
test_defaults_and_rules_json(void **state)
{
	struct fx *fx = *state;
	struct alerts_hooks hooks = { NULL, NULL };
	struct alerts_config cfg = { NULL, "p1" };
	json_t *want, *got, *defaults, *again;
	struct alerts *b;
	char err[256];

	start(fx, NULL, NULL);
	want = json_loads("["
	    "{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\", \"above\": 90.0,"
	    " \"for_s\": 60, \"severity\": \"warning\"},"
	    "{\"name\": \"mem_high\", \"metric\": \"mem_percent\", \"above\": 90.0,"
	    " \"for_s\": 60, \"severity\": \"warning\"},"
	    "{\"name\": \"disk_full\", \"metric\": \"disk_percent\", \"above\": 90.0,"
	    " \"for_s\": 0, \"severity\": \"critical\"},"
	    "{\"name\": \"task_failed\", \"on\": \"task_failed\","
	    " \"severity\": \"warning\"},"
	    "{\"name\": \"peer_unreachable\", \"on\": \"peer_unreachable\","
	    " \"for_s\": 60, \"severity\": \"warning\"},"
	    "{\"name\": \"service_unhealthy\", \"on\": \"service_unhealthy\","
	    " \"severity\": \"warning\"}]", 0, NULL);
	assert_non_null(want);
	got = alerts_rules_json(fx->a);
	assert_true(json_equal(got, want));

	/* The defaults given explicitly parse to the same rules. */
	defaults = alerts_default_rules();
	assert_int_equal(json_array_size(defaults), 6);
	cfg.rules = defaults;
	b = alerts_new(&cfg, &hooks, err, sizeof(err));
	assert_non_null(b);
	again = alerts_rules_json(b);
	assert_true(json_equal(again, want));
	alerts_free(b);
	json_decref(again);

	/* What rules_json shows is accepted back unchanged. */
	cfg.rules = got;
	b = alerts_new(&cfg, &hooks, err, sizeof(err));
	assert_non_null(b);
	again = alerts_rules_json(b);
	assert_true(json_equal(again, got));
	alerts_free(b);
	json_decref(again);
	json_decref(got);
	json_decref(want);
	json_decref(defaults);

	/* Omitted for_s and severity are filled in per metric. */
	alerts_free(fx->a);
	start(fx, "[{\"name\": \"l\", \"metric\": \"load1\", \"above\": 4},"
	    " {\"name\": \"d\", \"metric\": \"disk_percent\", \"above\": 80},"
	    " {\"name\": \"p\", \"on\": \"peer_unreachable\"},"
	    " {\"name\": \"t\", \"on\": \"task_failed\", \"task\": \"backup\"}]",
	    NULL);
	got = alerts_rules_json(fx->a);
	want = json_loads("["
	    "{\"name\": \"l\", \"metric\": \"load1\", \"above\": 4.0,"
	    " \"for_s\": 60, \"severity\": \"warning\"},"
	    "{\"name\": \"d\", \"metric\": \"disk_percent\", \"above\": 80.0,"
	    " \"for_s\": 0, \"severity\": \"warning\"},"
	    "{\"name\": \"p\", \"on\": \"peer_unreachable\", \"for_s\": 60,"
	    " \"severity\": \"warning\"},"
	    "{\"name\": \"t\", \"on\": \"task_failed\", \"task\": \"backup\","
	    " \"severity\": \"warning\"}]", 0, NULL);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	alerts_free(NULL);
}

/* What /metrics reads: open alerts by state and severity (restored ones
 * too), and the alerts each rule fired in this life (not restored ones). */
static void
test_counts_for_metrics(void **state)
{
	struct fx *fx = *state;
	Agentflow__Mesh__V1__Alert m;
	uint64_t fired = 99;
	char msg[128], id[64];
	const int firing = MESH_ALERT_STATE(FIRING);
	const int acked = MESH_ALERT_STATE(ACKNOWLEDGED);
	const int warning = MESH_ALERT_SEVERITY(WARNING);
	const int critical = MESH_ALERT_SEVERITY(CRITICAL);

	start(fx, "[{\"name\": \"cpu_high\", \"metric\": \"cpu_percent\","
	    " \"above\": 90, \"for_s\": 0, \"severity\": \"critical\"},"
	    " {\"name\": \"task_failed\", \"on\": \"task_failed\"}]", "p2");
	assert_int_equal(alerts_open_count(fx->a, firing, critical), 0);
	assert_string_equal(alerts_rule_fired(fx->a, 0, &fired), "cpu_high");
	assert_int_equal(fired, 0);
	assert_string_equal(alerts_rule_fired(fx->a, 1, &fired), "task_failed");
	assert_int_equal(fired, 0);
	assert_null(alerts_rule_fired(fx->a, 2, &fired));
	/* Restored: open, but not fired in this life. */
	restored(&m, "p1-7", "task_failed", "backup", MESH_ALERT_STATE(FIRING));
	m.severity = MESH_ALERT_SEVERITY(WARNING);
	alerts_restore(fx->a, &m);
	assert_int_equal(alerts_open_count(fx->a, firing, warning), 1);
	alerts_rule_fired(fx->a, 1, &fired);
	assert_int_equal(fired, 0);

	cpu(fx, 1 * S, 95);
	assert_int_equal(alerts_open_count(fx->a, firing, critical), 1);
	assert_int_equal(alerts_open_count(fx->a, firing, warning), 1);
	alerts_rule_fired(fx->a, 0, &fired);
	assert_int_equal(fired, 1);
	/* Acknowledged: it moves from one state to the other. */
	snprintf(id, sizeof(id), "%s", last(fx, 1)->id);
	assert_int_equal(alerts_ack(fx->a, id, "alice", 2 * S, msg,
	    sizeof(msg)), MESH_COMMAND_STATUS(OK));
	assert_int_equal(alerts_open_count(fx->a, firing, critical), 0);
	assert_int_equal(alerts_open_count(fx->a, acked, critical), 1);
	/* Resolved: open no more; fired stays counted, and a new episode
	 * counts again. */
	cpu(fx, 3 * S, 10);
	assert_int_equal(alerts_open_count(fx->a, acked, critical), 0);
	cpu(fx, 4 * S, 95);
	alerts_rule_fired(fx->a, 0, &fired);
	assert_int_equal(fired, 2);
	assert_int_equal(alerts_open_count(fx->a, firing, critical), 1);
	assert_int_equal(alerts_open_count(NULL, firing, critical), 0);
	assert_null(alerts_rule_fired(NULL, 0, &fired));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_metric_fires_after_for_s),
		T(test_metric_dip_resets_timer),
		T(test_metric_below_rule),
		T(test_disk_zero_total_ignored),
		T(test_task_failed),
		T(test_task_filter),
		T(test_task_strings_bounded),
		T(test_peer_unreachable),
		T(test_peer_left_never_fires),
		T(test_service_unhealthy),
		T(test_ack_then_resolve_keeps_acked_by),
		T(test_ack_unknown_not_found),
		T(test_resolved_history_bounded),
		T(test_open_alerts_bounded),
		T(test_restore_continues),
		T(test_restore_removed_rule_resolves),
		T(test_restore_duplicate_and_same_prefix),
		T(test_defaults_and_rules_json),
		T(test_counts_for_metrics),
#undef T
		cmocka_unit_test(test_invalid_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
