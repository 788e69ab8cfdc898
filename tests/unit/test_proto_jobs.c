/*
 * The frame codec on JobUpdate and ScheduleUpdate (proto/mesh.proto): an
 * event of kind job (schedule) and OriginState.jobs (.schedules)
 * round-trip, and every bound mesh.proto gives the fields is refused by
 * the checks, on encode and on decode alike (a hostile peer's packing
 * never reaches the mesh's view of jobs or schedules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_codec.h"
#include "proto_check.h"


/* An event batch of one job event, and a snapshot of one origin. */
struct fx {
	struct proto_frames	 f;
	PB(JobUpdate)		 u, **jobs;
};

static void
job_init(PB(JobUpdate) *u)
{
	agentflow__mesh__v1__job_update__init(u);
	u->job_id = "j0123456789abcdef";
	u->state = "succeeded";
	u->task = "backup";
	u->to = "any:role=storage";
	u->node = "node-2";
	u->epoch = 2;
	u->exited = 1;
	u->exit_code = 3;
	u->term_signal = 0;
	u->reason = "exited 3";
	u->principal = "alice";
	u->submitted_ms = 1700000000000ull;
	u->updated_ms = 1700000005000ull;
	u->finished_ms = 1700000005000ull;
	u->parent = "j00000000000000aa";
	u->replay_of = "";
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	job_init(&x->u);
	proto_frames_init(&x->f);
	x->f.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	x->f.ev.job = &x->u;
	x->jobs = calloc(FRAME_CODEC_MAX_JOBS + 1, sizeof(*x->jobs));
	assert_non_null(x->jobs);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_JOBS; i++)
		x->jobs[i] = &x->u;
	x->f.st.n_jobs = 1;
	x->f.st.jobs = x->jobs;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	free(x->jobs);
	free(x);
	return 0;
}

static void
cmp_job(const PB(JobUpdate) *a, const PB(JobUpdate) *b)
{
	assert_string_equal(a->job_id, b->job_id);
	assert_string_equal(a->state, b->state);
	assert_string_equal(a->task, b->task);
	assert_string_equal(a->to, b->to);
	assert_string_equal(a->node, b->node);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->exited, b->exited);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->term_signal, b->term_signal);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->principal, b->principal);
	assert_int_equal(a->submitted_ms, b->submitted_ms);
	assert_int_equal(a->updated_ms, b->updated_ms);
	assert_int_equal(a->finished_ms, b->finished_ms);
	assert_string_equal(a->parent, b->parent);
	assert_string_equal(a->replay_of, b->replay_of);
}

static void
test_job_event_roundtrip(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->f.ev_frame);

	assert_int_equal(out->events->events[0]->kind_case,
	    AGENTFLOW__MESH__V1__EVENT__KIND_JOB);
	cmp_job(&x->u, out->events->events[0]->job);
	frame_codec_free(out);

	/* What is not known is empty: an ad-hoc job, queued, no run yet. */
	x->u.task = "";
	x->u.node = "";
	x->u.reason = "";
	x->u.principal = "";
	x->u.parent = "";
	x->u.to = "";
	x->u.state = "queued";
	out = roundtrip(&x->f.ev_frame);
	cmp_job(&x->u, out->events->events[0]->job);
	frame_codec_free(out);
}

static void
test_snapshot_jobs_roundtrip_and_count(void **state)
{
	struct fx *x = *state;
	PB(Frame) *out = roundtrip(&x->f.snap_frame);

	assert_int_equal(out->snapshot->origins[0]->n_jobs, 1);
	cmp_job(&x->u, out->snapshot->origins[0]->jobs[0]);
	frame_codec_free(out);

	x->f.st.n_jobs = FRAME_CODEC_MAX_JOBS;
	assert_int_equal(frame_codec_check(&x->f.snap_frame, NULL), FRAME_CODEC_OK);
	x->f.st.n_jobs = FRAME_CODEC_MAX_JOBS + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].jobs: 1025 entries, limit 1024");
	/* Each entry is checked like an event's. */
	x->f.st.n_jobs = 1;
	x->u.state = "";
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].jobs[0].state");
}

/* n bytes of a principal's name in buf (FRAME_CODEC_MAX_PRINCIPAL + 2). */
static char *
principal_of(char *buf, size_t n)
{
	memset(buf, 'p', n);
	buf[n] = '\0';
	return buf;
}

static void
test_job_fields_bounded(void **state)
{
	struct fx *x = *state;
	char long_text[FRAME_CODEC_MAX_TEXT + 2], long_name[FRAME_CODEC_MAX_NAME + 2];

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';

	x->u.job_id = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].job.job_id");
	x->u.job_id = "../etc/passwd";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].job.job_id");
	x->u.job_id = "j1";

	x->u.state = "Running";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].job.state");
	x->u.state = "a_state_name_of_thirty_three_byte";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].job.state");
	/* A state this version does not name passes: shown as it is. */
	x->u.state = "waiting_for_children";
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);

	x->u.task = "tab\there";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[0].job.task");
	x->u.task = long_name;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].job.task: 129 bytes, limit 128");
	x->u.task = "backup";

	x->u.to = long_text;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].job.to: 1025 bytes, limit 1024");
	x->u.to = "any";

	x->u.node = "not a node";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[0].job.node");
	x->u.node = "node-3";

	x->u.term_signal = 129;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].job.term_signal");
	x->u.term_signal = -1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].job.term_signal");
	x->u.term_signal = 9;

	x->u.reason = long_text;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].job.reason: 1025 bytes, limit 1024");
	x->u.reason = "\xff\xfe not UTF-8";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[0].job.reason");
	x->u.reason = "";

	x->u.principal = long_name;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].job.principal");
	x->u.principal = "bob";

	x->u.parent = "a/b";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].job.parent");
	x->u.parent = "";
	x->u.replay_of = "a b";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].job.replay_of");
	x->u.replay_of = "j2";
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL), FRAME_CODEC_OK);

	/* The kind set without its message (a caller's bug, caught). */
	x->f.ev.job = NULL;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_ERR_MISSING);
}

/* --- ScheduleUpdate (Event 18, OriginState.schedules) ------------------------- */

static void
schedule_init(PB(ScheduleUpdate) *u)
{
	agentflow__mesh__v1__schedule_update__init(u);
	u->name = "nightly";
	u->spec_json = "{\"name\":\"nightly\",\"cron\":\"0 2 * * *\"}";
	u->updated_ms = 1700000000000ull;
	u->author = "node-2";
	u->fire_ms = 1700000060000ull;
	u->fire_job = "j0123456789abcdef";
	u->fire_node = "node-3";
	u->fire_outcome = "succeeded";
	u->fire_updated_ms = 1700000065000ull;
	u->principal = "alice";
	u->principal_ms = u->updated_ms;
	u->principal_author = 1234567;
}

static void
cmp_schedule(const PB(ScheduleUpdate) *a, const PB(ScheduleUpdate) *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->spec_json, b->spec_json);
	assert_int_equal(a->updated_ms, b->updated_ms);
	assert_string_equal(a->author, b->author);
	assert_int_equal(a->deleted, b->deleted);
	assert_int_equal(a->fire_ms, b->fire_ms);
	assert_string_equal(a->fire_job, b->fire_job);
	assert_string_equal(a->fire_node, b->fire_node);
	assert_string_equal(a->fire_outcome, b->fire_outcome);
	assert_int_equal(a->fire_updated_ms, b->fire_updated_ms);
	assert_string_equal(a->principal, b->principal);
	assert_int_equal(a->principal_ms, b->principal_ms);
	assert_int_equal(a->principal_author, b->principal_author);
}

static void
test_schedule_roundtrip_and_bounds(void **state)
{
	struct fx *x = *state;
	PB(ScheduleUpdate) u, **v;
	char big[FRAME_CODEC_MAX_SCHEDULE_SPEC + 2];
	char pbuf[FRAME_CODEC_MAX_PRINCIPAL + 2];
	PB(Frame) *out;

	schedule_init(&u);
	x->f.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE;
	x->f.ev.schedule = &u;
	out = roundtrip(&x->f.ev_frame);
	assert_int_equal(out->events->events[0]->kind_case,
	    AGENTFLOW__MESH__V1__EVENT__KIND_SCHEDULE);
	cmp_schedule(&u, out->events->events[0]->schedule);
	frame_codec_free(out);

	/* A tombstone: no definition, no fire yet. */
	u.deleted = 1;
	u.spec_json = "";
	u.fire_ms = 0;
	u.fire_job = u.fire_node = u.fire_outcome = "";
	out = roundtrip(&x->f.ev_frame);
	cmp_schedule(&u, out->events->events[0]->schedule);
	frame_codec_free(out);
	schedule_init(&u);

	u.spec_json = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_MISSING,
	    "events.events[0].schedule.spec_json");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u.spec_json = big;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].schedule.spec_json: 8193 bytes, limit 8192");
	schedule_init(&u);
	u.name = "../x";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].schedule.name");
	schedule_init(&u);
	u.updated_ms = 0;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].schedule.updated_ms");
	schedule_init(&u);
	u.author = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[0].schedule.author");
	schedule_init(&u);
	u.fire_node = "no node!";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[0].schedule.fire_node");
	schedule_init(&u);
	u.fire_job = "a/b";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].schedule.fire_job");
	schedule_init(&u);
	u.fire_outcome = "Done!";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].schedule.fire_outcome");
	schedule_init(&u);
	u.principal = "al\nice";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[0].schedule.principal");
	/* as long as a principal can be, not a byte more */
	schedule_init(&u);
	u.principal = principal_of(pbuf, FRAME_CODEC_MAX_PRINCIPAL);
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	u.principal = principal_of(pbuf, FRAME_CODEC_MAX_PRINCIPAL + 1);
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].schedule.principal: 81 bytes, limit 80");
	/* principal_ms: a time to year 9999 (a receiver compares it) */
	schedule_init(&u);
	u.updated_ms = FRAME_CODEC_MAX_TIME_MS + 1;
	u.principal_ms = FRAME_CODEC_MAX_TIME_MS;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	u.principal_ms = FRAME_CODEC_MAX_TIME_MS + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].schedule.principal_ms: 253402300800000 is past "
	    "year 9999 (limit 253402300799999)");
	/* ... of a definition made by updated_ms at the latest: an older
	 * one's (a version without the field passed it on) or this one's,
	 * never a later one's (updated_ms only grows) */
	schedule_init(&u);
	u.principal_ms = u.updated_ms - 1;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	u.principal_ms = u.updated_ms + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].schedule.principal_ms: 1700000000001 is after "
	    "updated_ms 1700000000000");
	/* principal_author: a digest of at most 3 varint bytes */
	schedule_init(&u);
	u.principal_author = FRAME_CODEC_MAX_PRINCIPAL_AUTHOR;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	u.principal_author = FRAME_CODEC_MAX_PRINCIPAL_AUTHOR + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].schedule.principal_author: 2097152 outside "
	    "0..2097151");

	/* In snapshots: at most FRAME_CODEC_MAX_SCHEDULES, each checked. */
	schedule_init(&u);
	v = calloc(FRAME_CODEC_MAX_SCHEDULES + 1, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_SCHEDULES; i++)
		v[i] = &u;
	x->f.st.schedules = v;
	x->f.st.n_schedules = 1;
	out = roundtrip(&x->f.snap_frame);
	cmp_schedule(&u, out->snapshot->origins[0]->schedules[0]);
	frame_codec_free(out);
	x->f.st.n_schedules = FRAME_CODEC_MAX_SCHEDULES;
	assert_int_equal(frame_codec_check(&x->f.snap_frame, NULL), FRAME_CODEC_OK);
	x->f.st.n_schedules = FRAME_CODEC_MAX_SCHEDULES + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].schedules: 1153 entries, limit 1152");
	x->f.st.n_schedules = 1;
	u.author = "";
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "snapshot.origins[0].schedules[0].author");
	/* the same check of principal_ms as in an event */
	schedule_init(&u);
	u.principal_ms = u.updated_ms + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "snapshot.origins[0].schedules[0].principal_ms: 1700000000001 is "
	    "after updated_ms 1700000000000");
	free(v);
}

static void
silence_init(PB(SilenceUpdate) *u)
{
	agentflow__mesh__v1__silence_update__init(u);
	u->id = "sil-1-0123456789ab";
	u->spec_json = "{\"id\":\"sil-1-0123456789ab\"}";
	u->updated_ms = 1700000000000ull;
	u->author = "node-1";
	u->ends_ms = 1700003600000ull;
}

/* A silence's bounds are the wire's only (its content is silences.c's to
 * check, the link staying up); a snapshot carries at most 128. */
static void
test_silence_roundtrip_and_bounds(void **state)
{
	struct fx *x = *state;
	PB(SilenceUpdate) u, **v;
	char big[FRAME_CODEC_MAX_SILENCE_SPEC + 2];
	char pbuf[FRAME_CODEC_MAX_PRINCIPAL + 2];
	PB(Frame) *out;

	silence_init(&u);
	x->f.ev.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
	x->f.ev.silence = &u;
	out = roundtrip(&x->f.ev_frame);
	assert_string_equal(out->events->events[0]->silence->spec_json,
	    u.spec_json);
	assert_int_equal(out->events->events[0]->silence->ends_ms, u.ends_ms);
	frame_codec_free(out);
	u.deleted = 1;
	u.spec_json = "";
	u.principal = "bob";
	out = roundtrip(&x->f.ev_frame);
	assert_true(out->events->events[0]->silence->deleted);
	assert_string_equal(out->events->events[0]->silence->principal, "bob");
	frame_codec_free(out);

	silence_init(&u);
	u.spec_json = "";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_MISSING,
	    "events.events[0].silence.spec_json");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	u.spec_json = big;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].silence.spec_json: 8193 bytes, limit 8192");
	silence_init(&u);
	u.id = "../x";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_ID,
	    "events.events[0].silence.id");
	silence_init(&u);
	u.ends_ms = 0;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].silence.ends_ms");
	/* 9e15 ms: no Date holds it, and the dashboard once threw on it */
	u.ends_ms = 9000000000000000ull;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].silence.ends_ms: 9000000000000000 is past year 9999");
	u.ends_ms = FRAME_CODEC_MAX_TIME_MS + 1;
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_VALUE,
	    "events.events[0].silence.ends_ms");
	u.ends_ms = FRAME_CODEC_MAX_TIME_MS;
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	silence_init(&u);
	u.author = "no node!";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_NODE_ID,
	    "events.events[0].silence.author");
	silence_init(&u);
	u.principal = "b\x01ob";
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_BAD_STRING,
	    "events.events[0].silence.principal");
	silence_init(&u);
	u.principal = principal_of(pbuf, FRAME_CODEC_MAX_PRINCIPAL);
	assert_int_equal(frame_codec_check(&x->f.ev_frame, NULL),
	    FRAME_CODEC_OK);
	u.principal = principal_of(pbuf, FRAME_CODEC_MAX_PRINCIPAL + 1);
	expect_refused(&x->f.ev_frame, FRAME_CODEC_ERR_TOO_LONG,
	    "events.events[0].silence.principal: 81 bytes, limit 80");

	silence_init(&u);
	v = calloc(FRAME_CODEC_MAX_SILENCES + 1, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i <= FRAME_CODEC_MAX_SILENCES; i++)
		v[i] = &u;
	x->f.st.silences = v;
	x->f.st.n_silences = FRAME_CODEC_MAX_SILENCES;
	assert_int_equal(frame_codec_check(&x->f.snap_frame, NULL), FRAME_CODEC_OK);
	x->f.st.n_silences = FRAME_CODEC_MAX_SILENCES + 1;
	expect_refused(&x->f.snap_frame, FRAME_CODEC_ERR_TOO_MANY,
	    "snapshot.origins[0].silences: 129 entries, limit 128");
	x->f.st.n_silences = 0;
	x->f.st.silences = NULL;
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_job_event_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_snapshot_jobs_roundtrip_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_fields_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_schedule_roundtrip_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_silence_roundtrip_and_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
