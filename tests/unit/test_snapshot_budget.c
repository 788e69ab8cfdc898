/*
 * Our own state's snapshot frame at its worst (sync_catchup.c sends it in
 * a frame of its own) fits FRAME_CODEC_MAX_FRAME: every part at the most
 * the senders put in it (SNAPSHOT_TASKS, SNAPSHOT_ALERTS,
 * SYNC_JOBS_SNAPSHOT, every schedule and tombstone, every silence and
 * removal, SYNC_WORKFLOWS_SNAPSHOT, SYNC_SERVICES_MAX), each message at the longest mesh.proto allows, and
 * a status of 1024 links and members.  The frame must pass the codec, so
 * nothing in it is bigger than a peer would take.  A bound raised without
 * room for it fails here rather than as a snapshot the encoder refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame_codec.h"
#include "proto_check.h"
#include "sync_jobs.h"
#include "sync_priv.h"
#include "sync_schedules.h"
#include "sync_silences.h"
#include "sync_services.h"
#include "sync_artifacts.h"
#include "sync_workflows.h"

#define ID_MAX		63	/* node and id syntax */
#define BIG		UINT64_MAX	/* the longest varint */

/* Strings made for the test, freed at the end. */
static char	*made[128];
static size_t	 nmade;

/* n bytes of c (a letter or digit first, so ids pass). */
static char *
text(size_t n, char c)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_true(nmade < sizeof(made) / sizeof(made[0]));
	memset(s, c, n);
	s[n] = '\0';
	made[nmade++] = s;
	return s;
}

/* v repeated n times, as a repeated field's array (freed at the end). */
static void *
times(void *v, size_t n)
{
	void **a = calloc(n + 1, sizeof(*a));

	assert_non_null(a);
	assert_true(nmade < sizeof(made) / sizeof(made[0]));
	for (size_t i = 0; i < n; i++)
		a[i] = v;
	made[nmade++] = (char *)a;
	return a;
}

static void
max_job(PB(JobUpdate) *j)
{
	agentflow__mesh__v1__job_update__init(j);
	j->job_id = text(ID_MAX, 'j');
	j->state = text(FRAME_CODEC_MAX_JOB_STATE, 's');
	j->task = text(FRAME_CODEC_MAX_NAME, 't');
	j->to = text(FRAME_CODEC_MAX_TEXT, 'o');
	j->node = text(ID_MAX, 'n');
	j->epoch = j->submitted_ms = j->updated_ms = j->finished_ms = BIG;
	j->exited = 1;
	j->exit_code = -1;
	j->term_signal = FRAME_CODEC_MAX_SIGNAL;
	j->reason = text(FRAME_CODEC_MAX_TEXT, 'r');
	j->principal = text(FRAME_CODEC_MAX_NAME, 'p');
	j->parent = j->replay_of = j->job_id;
}

static void
max_schedule(PB(ScheduleUpdate) *u, int deleted)
{
	agentflow__mesh__v1__schedule_update__init(u);
	u->name = text(ID_MAX, 'c');
	u->spec_json = deleted ? "" : text(FRAME_CODEC_MAX_SCHEDULE_SPEC, ' ');
	u->updated_ms = u->fire_ms = u->fire_updated_ms = BIG;
	u->author = u->fire_node = text(ID_MAX, 'a');
	u->deleted = deleted;
	u->fire_job = u->name;
	u->fire_outcome = text(FRAME_CODEC_MAX_JOB_STATE, 'w');
	u->principal = text(FRAME_CODEC_MAX_PRINCIPAL, 'p');
	u->principal_ms = FRAME_CODEC_MAX_TIME_MS;	/* the codec's bound */
	u->principal_author = FRAME_CODEC_MAX_PRINCIPAL_AUTHOR;
}

static void
max_silence(PB(SilenceUpdate) *u, int deleted)
{
	agentflow__mesh__v1__silence_update__init(u);
	u->id = text(ID_MAX, 's');
	u->spec_json = deleted ? "" : text(FRAME_CODEC_MAX_SILENCE_SPEC, ' ');
	u->updated_ms = BIG;
	u->ends_ms = FRAME_CODEC_MAX_TIME_MS;	/* the codec's bound */
	u->author = text(ID_MAX, 'a');
	u->principal = text(FRAME_CODEC_MAX_PRINCIPAL, 'p');
	u->deleted = deleted;
}

/* A workflow of exactly FRAME_CODEC_MAX_WORKFLOW_BYTES: its handover
 * fills what the rest leaves. */
static void
max_workflow(PB(WorkflowUpdate) *w)
{
	size_t base;

	agentflow__mesh__v1__workflow_update__init(w);
	w->workflow_id = text(ID_MAX, 'w');
	w->name = text(FRAME_CODEC_MAX_NAME, 'n');
	w->state = text(FRAME_CODEC_MAX_JOB_STATE, 's');
	w->principal = text(FRAME_CODEC_MAX_NAME, 'p');
	w->epoch = w->created_ms = w->updated_ms = w->finished_ms = BIG;
	w->reason = text(FRAME_CODEC_MAX_TEXT, 'r');
	base = protobuf_c_message_get_packed_size(&w->base);
	/* 1 byte of tag and 3 of length for 16 KiB-2 MiB. */
	w->handover_json = text(FRAME_CODEC_MAX_WORKFLOW_BYTES - base - 4, 'h');
	assert_int_equal(protobuf_c_message_get_packed_size(&w->base),
	    FRAME_CODEC_MAX_WORKFLOW_BYTES);
}

/*
 * A service of FRAME_CODEC_MAX_SERVICE_BYTES (or one byte less): every
 * field at its longest, endpoints of 16 tags of 63 bytes while they fit,
 * then one with the tags that still fit, then a reason filling the rest.
 */
static void
max_service(PB(ServiceUpdate) *u, PB(ServiceEndpoint) *ep,
    PB(ServiceEndpoint) *part)
{
	char **tags = times(text(ID_MAX, 'g'), FRAME_CODEC_MAX_ENDPOINT_TAGS);
	char *reason = text(FRAME_CODEC_MAX_TEXT, 'r');
	PB(ServiceEndpoint) **eps;
	size_t n, r;

	agentflow__mesh__v1__service_endpoint__init(ep);
	ep->name = text(ID_MAX, 'e');
	ep->protocol = text(FRAME_CODEC_MAX_PROTOCOL, 'p');
	ep->port = 65535;
	ep->n_tags = FRAME_CODEC_MAX_ENDPOINT_TAGS;
	ep->tags = tags;
	*part = *ep;
	agentflow__mesh__v1__service_update__init(u);
	u->name = text(ID_MAX, 'v');
	u->desired = "running";
	u->state = text(FRAME_CODEC_MAX_JOB_STATE, 's');
	u->pid = u->restarts = UINT32_MAX;
	u->started_ms = u->next_attempt_ms = u->updated_ms = BIG;
	u->exited = 1;
	u->last_exit_code = -1;
	u->last_signal = FRAME_CODEC_MAX_SIGNAL;
	u->reason = "";
	u->task_id = text(ID_MAX, 't');
	u->version = text(FRAME_CODEC_MAX_SERVICE_VERSION, 'V');
	eps = times(ep, FRAME_CODEC_MAX_ENDPOINTS);
	u->endpoints = eps;
	for (n = 0; n < FRAME_CODEC_MAX_ENDPOINTS; n++) {
		u->n_endpoints = n + 1;
		if (protobuf_c_message_get_packed_size(&u->base) >
		    FRAME_CODEC_MAX_SERVICE_BYTES)
			break;
	}
	assert_true(n < FRAME_CODEC_MAX_ENDPOINTS);
	eps[n] = part;
	do
		part->n_tags--;
	while (protobuf_c_message_get_packed_size(&u->base) >
	    FRAME_CODEC_MAX_SERVICE_BYTES);
	u->reason = reason;
	for (r = FRAME_CODEC_MAX_TEXT; ; r--) {
		reason[r] = '\0';
		if (protobuf_c_message_get_packed_size(&u->base) <=
		    FRAME_CODEC_MAX_SERVICE_BYTES)
			break;
	}
	assert_true(protobuf_c_message_get_packed_size(&u->base) + 1 >=
	    FRAME_CODEC_MAX_SERVICE_BYTES);
}

static void
max_task(PB(TaskUpdate) *t)
{
	agentflow__mesh__v1__task_update__init(t);
	t->task_id = text(ID_MAX, 't');
	t->name = text(FRAME_CODEC_MAX_NAME, 'n');
	t->state = AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_RETRYING;
	t->attempt = t->max_attempts = UINT32_MAX;
	t->exit_code = -1;
	t->term_signal = FRAME_CODEC_MAX_SIGNAL;
	t->reason = text(FRAME_CODEC_MAX_TEXT, 'r');
	t->queued_ms = t->started_ms = t->finished_ms = t->next_retry_ms = BIG;
	t->command_id = t->task_id;
	t->principal = text(FRAME_CODEC_MAX_NAME, 'p');
}

static void
max_alert(PB(Alert) *a)
{
	agentflow__mesh__v1__alert__init(a);
	a->alert_id = text(ID_MAX, 'a');
	a->rule = text(FRAME_CODEC_MAX_NAME, 'r');
	a->severity = AGENTFLOW__MESH__V1__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL;
	a->state = AGENTFLOW__MESH__V1__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED;
	a->value = a->threshold = 1e300;
	a->subject = text(FRAME_CODEC_MAX_HOSTNAME, 's');
	a->message = text(FRAME_CODEC_MAX_TEXT, 'm');
	a->fired_ms = a->resolved_ms = a->acked_ms = BIG;
	a->acked_by = text(FRAME_CODEC_MAX_NAME, 'b');
}

static void
test_own_state_fits_a_frame(void **state)
{
	static uint8_t cert[FRAME_CODEC_MAX_CERT], pub[FRAME_CODEC_PUBLIC_KEY],
	    sig[FRAME_CODEC_MAX_KEY_SIGNATURE];
	static char keys[FRAME_CODEC_MAX_LABELS][ID_MAX + 1];
	struct proto_frames f;
	PB(JobUpdate) job;
	PB(ScheduleUpdate) live, gone;
	PB(ScheduleUpdate) **schedules;
	PB(SilenceUpdate) sil, sil_gone, **silences;
	PB(WorkflowUpdate) wf;
	PB(ServiceUpdate) svc;
	PB(ServiceEndpoint) ep, part;
	PB(ArtifactUpdate) art = AGENTFLOW__MESH__V1__ARTIFACT_UPDATE__INIT;
	static char art_name[256];
	PB(TaskUpdate) task;
	PB(Alert) alert;
	PB(NodeInfo) info = AGENTFLOW__MESH__V1__NODE_INFO__INIT;
	PB(OriginKey) key = AGENTFLOW__MESH__V1__ORIGIN_KEY__INIT;
	PB(Label) labels[FRAME_CODEC_MAX_LABELS], *lptrs[FRAME_CODEC_MAX_LABELS];
	PB(NodeStatus) status = AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	PB(LinkInfo) link = AGENTFLOW__MESH__V1__LINK_INFO__INIT;
	PB(MemberInfo) member = AGENTFLOW__MESH__V1__MEMBER_INFO__INIT;
	struct frame_codec_error err;
	size_t len, n_live = SYNC_SCHEDULES_MAX,
	    n_gone = SYNC_SCHEDULE_TOMBSTONES_MAX;

	(void)state;
	proto_frames_init(&f);
	f.cur.origin = f.ev.origin = text(ID_MAX, 'o');
	f.cur.incarnation = f.cur.seq = BIG;
	f.st.status_ms = BIG;

	/* Our NodeInfo at its longest, in the state and in the status. */
	key.cert.data = cert;
	key.cert.len = sizeof(cert);
	key.public_key.data = pub;
	key.public_key.len = sizeof(pub);
	key.signature.data = sig;
	key.signature.len = sizeof(sig);
	key.incarnation = key.issued_ms = BIG;
	info.node_id = f.cur.origin;
	info.incarnation = info.started_ms = BIG;
	info.version = text(FRAME_CODEC_MAX_VERSION, 'v');
	info.n_addresses = FRAME_CODEC_MAX_ADDRESSES;
	info.addresses = times(text(FRAME_CODEC_MAX_ADDRESS_LEN, 'a'),
	    FRAME_CODEC_MAX_ADDRESSES);
	for (size_t i = 0; i < FRAME_CODEC_MAX_LABELS; i++) {
		agentflow__mesh__v1__label__init(&labels[i]);
		snprintf(keys[i], sizeof(keys[i]), "%02zu%061d", i, 0);
		labels[i].key = keys[i];
		labels[i].value = i == 0 ? text(FRAME_CODEC_MAX_LABEL_VALUE,
		    'l') : labels[0].value;
		lptrs[i] = &labels[i];
	}
	info.n_labels = FRAME_CODEC_MAX_LABELS;
	info.labels = lptrs;
	info.hostname = text(FRAME_CODEC_MAX_HOSTNAME, 'h');
	info.key = &key;
	f.st.info = &info;

	/* A status of 1024 links and members, every number at its longest. */
	link.peer = member.node_id = text(ID_MAX, 'p');
	link.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
	link.rtt_us = link.since_ms = member.last_seen_ms = BIG;
	member.state = AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_SUSPECT;
	member.direct = 1;
	status.cpu_percent = 99.5;
	status.load1 = status.load5 = status.load15 = 1e300;
	status.net_rx_bytes_per_s = status.net_tx_bytes_per_s = 1e300;
	status.cpu_count = UINT32_MAX;
	status.mem_used_bytes = status.mem_total_bytes = BIG;
	status.disk_used_bytes = status.disk_total_bytes = BIG;
	status.net_rx_bytes = status.net_tx_bytes = BIG;
	status.uptime_s = status.process_uptime_s = BIG;
	status.n_links = status.n_members = FRAME_CODEC_MAX_NODES;
	status.links = times(&link, FRAME_CODEC_MAX_NODES);
	status.members = times(&member, FRAME_CODEC_MAX_NODES);
	status.frozen = status.signal_reachable = 1;
	status.watch_ms = status.idle_ms = UINT32_MAX;
	status.statuses_from = BIG;
	status.info = &info;
	f.st.status = &status;

	/* The work, as many of each as our snapshot carries. */
	max_task(&task);
	f.st.n_tasks = SNAPSHOT_TASKS;
	f.st.tasks = times(&task, SNAPSHOT_TASKS);
	max_alert(&alert);
	f.st.n_alerts = SNAPSHOT_ALERTS;
	f.st.alerts = times(&alert, SNAPSHOT_ALERTS);
	max_job(&job);
	f.st.n_jobs = SYNC_JOBS_SNAPSHOT;
	f.st.jobs = times(&job, SYNC_JOBS_SNAPSHOT);
	max_schedule(&live, 0);
	max_schedule(&gone, 1);
	schedules = times(&live, n_live + n_gone);
	for (size_t i = n_live; i < n_live + n_gone; i++)
		schedules[i] = &gone;
	f.st.n_schedules = n_live + n_gone;
	f.st.schedules = schedules;
	max_silence(&sil, 0);
	max_silence(&sil_gone, 1);
	silences = times(&sil, SYNC_SILENCES_MAX + SYNC_SILENCE_TOMBSTONES_MAX);
	for (size_t i = SYNC_SILENCES_MAX; i < SYNC_SILENCES_MAX +
	    SYNC_SILENCE_TOMBSTONES_MAX; i++)
		silences[i] = &sil_gone;
	f.st.n_silences = SYNC_SILENCES_MAX + SYNC_SILENCE_TOMBSTONES_MAX;
	f.st.silences = silences;
	max_workflow(&wf);
	f.st.n_workflows = SYNC_WORKFLOWS_SNAPSHOT;
	f.st.workflows = times(&wf, SYNC_WORKFLOWS_SNAPSHOT);
	max_service(&svc, &ep, &part);
	f.st.n_services = SYNC_SERVICES_MAX;
	f.st.services = times(&svc, SYNC_SERVICES_MAX);
	/* Artifacts held: an id and a 255-byte name each. */
	memset(art_name, 'n', sizeof(art_name) - 1);
	art.artifact = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef";
	art.name = art_name;
	art.size = UINT64_MAX;
	art.updated_ms = UINT64_MAX;
	f.st.n_artifacts = SYNC_ARTIFACTS_MAX;
	f.st.artifacts = times(&art, SYNC_ARTIFACTS_MAX);

	len = agentflow__mesh__v1__frame__get_packed_size(&f.snap_frame);
	print_message("our own state at its worst: %zu bytes of %u "
	    "(services %zu)\n", len, FRAME_CODEC_MAX_FRAME,
	    (size_t)SYNC_SERVICES_MAX *
	    protobuf_c_message_get_packed_size(&svc.base));
	memset(&err, 0, sizeof(err));
	if (frame_codec_check(&f.snap_frame, &err) != FRAME_CODEC_OK)
		fail_msg("refused: %s", err.detail);
	assert_true(len <= FRAME_CODEC_MAX_FRAME);

	for (size_t i = 0; i < nmade; i++)
		free(made[i]);
	nmade = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_state_fits_a_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
