/*
 * Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/.
 * Usage: fuzz_gen_corpus DIR   (scripts/fuzz.sh --seeds runs it on
 * tests/fuzz/corpus).
 *
 * Frames are built as protobuf-c structs and encoded with the product's
 * own frame_codec_encode(), so every frame seed is one a peer may really
 * send; a seed the codec refuses stops the program, which keeps the seeds
 * honest as mesh.proto's bounds move.  The text seeds (JSON bodies, config
 * files, WebSocket sessions) are short, meaningful requests, a few valid
 * and a few just over a rule.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frame_codec.h"

#define PB(x)	Agentflow__Mesh__V1__##x

static const char *root;

static void
put(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
put_str(const char *target, const char *name, const char *text)
{
	put(target, name, text, strlen(text));
}

/* --- frames -------------------------------------------------------------- */

struct enc {
	uint8_t	*buf;
	size_t	 len;
};

static struct enc
encode(const PB(Frame) *f)
{
	struct frame_codec_error err;
	struct enc e;

	if (frame_codec_encode(f, &e.buf, &e.len, &err) != FRAME_CODEC_OK) {
		fprintf(stderr, "gen_corpus: a %s seed does not encode: %s\n",
		    frame_codec_body_name(f), err.detail);
		exit(1);
	}
	return e;
}

#define ART_ID	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A frame seed, for fuzz_frame as it is. */
static struct enc
frame_seed(const char *name, const PB(Frame) *f)
{
	struct enc e = encode(f);

	put("fuzz_frame", name, e.buf, e.len);
	return e;
}

/* fuzz_sync_apply's records: [peer][len lo][len hi][frame]... */
struct session {
	uint8_t	 buf[65536];
	size_t	 len;
};

static void
session_add(struct session *s, uint8_t peer, struct enc e)
{
	if (s->len + 3 + e.len > sizeof(s->buf) || e.len > 0xffff) {
		fprintf(stderr, "gen_corpus: session too long\n");
		exit(1);
	}
	s->buf[s->len++] = peer;
	s->buf[s->len++] = (uint8_t)(e.len & 0xff);
	s->buf[s->len++] = (uint8_t)(e.len >> 8);
	memcpy(s->buf + s->len, e.buf, e.len);
	s->len += e.len;
}

static PB(Label) label_role = { PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__label__descriptor),
    "role", "worker" };
static PB(Label) label_zone = { PROTOBUF_C_MESSAGE_INIT(&agentflow__mesh__v1__label__descriptor),
    "zone", "eu-1" };

static void
node_info(PB(NodeInfo) *ni, const char *id, uint64_t inc)
{
	static char *addrs[] = { "127.0.0.1:7443", "[::1]:7443" };
	static PB(Label) *labels[] = { &label_role, &label_zone };

	agentflow__mesh__v1__node_info__init(ni);
	ni->node_id = (char *)id;
	ni->incarnation = inc;
	ni->version = "0.1.0";
	ni->n_addresses = 2;
	ni->addresses = addrs;
	ni->n_labels = 2;
	ni->labels = labels;
	ni->hostname = "host-a";
	ni->started_ms = 1700000000000ull;
}

static PB(LinkInfo) link_self, link_b;
static PB(LinkInfo) *links[] = { &link_self, &link_b };
static PB(MemberInfo) member_self;
static PB(MemberInfo) *members[] = { &member_self };

static void
node_status(PB(NodeStatus) *st)
{
	agentflow__mesh__v1__node_status__init(st);
	agentflow__mesh__v1__link_info__init(&link_self);
	link_self.peer = "fuzz-self";
	link_self.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
	link_self.rtt_us = 350;
	link_self.since_ms = 1700000000000ull;
	agentflow__mesh__v1__link_info__init(&link_b);
	link_b.peer = "peer-b.example";
	link_b.state = AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_UP;
	agentflow__mesh__v1__member_info__init(&member_self);
	member_self.node_id = "fuzz-self";
	member_self.state = AGENTFLOW__MESH__V1__MEMBER_STATE__MEMBER_STATE_ALIVE;
	member_self.last_seen_ms = 1700000000000ull;
	member_self.direct = 1;
	st->cpu_percent = 12.5;
	st->cpu_count = 4;
	st->mem_used_bytes = 1u << 30;
	st->mem_total_bytes = 4ull << 30;
	st->load1 = 0.5;
	st->load5 = 0.25;
	st->load15 = 0.125;
	st->uptime_s = 3600;
	st->process_uptime_s = 60;
	st->n_links = 2;
	st->links = links;
	st->n_members = 1;
	st->members = members;
	st->signal_reachable = 1;
}

static void
task_update(PB(TaskUpdate) *t, const char *id, int state)
{
	agentflow__mesh__v1__task_update__init(t);
	t->task_id = (char *)id;
	t->name = "build";
	t->state = state;
	t->attempt = 1;
	t->max_attempts = 3;
	t->reason = "started by command";
	t->queued_ms = 1700000000000ull;
	t->started_ms = 1700000000100ull;
	if (state == AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_FAILED) {
		t->exit_code = 2;
		t->finished_ms = 1700000005000ull;
	}
	t->command_id = "c0123456789abcdef";
	t->principal = "api:admin";
}

static void
alert(PB(Alert) *a, int state)
{
	agentflow__mesh__v1__alert__init(a);
	a->alert_id = "a-cpu-1";
	a->rule = "cpu-high";
	a->severity = AGENTFLOW__MESH__V1__ALERT_SEVERITY__ALERT_SEVERITY_WARNING;
	a->state = state;
	a->value = 97.5;
	a->threshold = 90;
	a->subject = "cpu";
	a->message = "CPU above 90% for 60 s";
	a->fired_ms = 1700000000000ull;
	if (state == AGENTFLOW__MESH__V1__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED) {
		a->acked_ms = 1700000001000ull;
		a->acked_by = "api:admin";
	}
}

static void
event(PB(Event) *e, const char *origin, uint64_t inc, uint64_t seq)
{
	agentflow__mesh__v1__event__init(e);
	e->origin = (char *)origin;
	e->incarnation = inc;
	e->seq = seq;
	e->time_ms = 1700000000000ull + seq;
	e->hops = 0;
	e->hop_limit = 8;
}

static void
frames(void)
{
	PB(Frame) f;
	PB(Hello) hello = AGENTFLOW__MESH__V1__HELLO__INIT;
	PB(NodeInfo) info_a, info_b;
	PB(Cursor) cur_b = AGENTFLOW__MESH__V1__CURSOR__INIT, *cursors[1] = { &cur_b };
	PB(Cursor) cur_a = AGENTFLOW__MESH__V1__CURSOR__INIT, *cursors_a[1] = { &cur_a };
	PB(Ping) ping = AGENTFLOW__MESH__V1__PING__INIT;
	PB(Pong) pong = AGENTFLOW__MESH__V1__PONG__INIT;
	PB(Leave) leave = AGENTFLOW__MESH__V1__LEAVE__INIT;
	PB(EventBatch) batch = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	PB(Event) ev[6], *evp[6];
	PB(NodeStatus) status;
	PB(TaskUpdate) task, task_failed;
	PB(TaskUpdate) *tasks[2] = { &task, &task_failed };
	PB(TaskLog) tlog = AGENTFLOW__MESH__V1__TASK_LOG__INIT;
	PB(Alert) al, al_acked, *alerts[1] = { &al_acked };
	PB(UserEvent) user = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	PB(JobUpdate) job = AGENTFLOW__MESH__V1__JOB_UPDATE__INIT, *jobs[1] = { &job };
	PB(ServiceUpdate) svc = AGENTFLOW__MESH__V1__SERVICE_UPDATE__INIT,
	    *svcs[1] = { &svc };
	PB(ArtifactUpdate) art = AGENTFLOW__MESH__V1__ARTIFACT_UPDATE__INIT,
	    *arts[1] = { &art };
	PB(ServiceEndpoint) ep = AGENTFLOW__MESH__V1__SERVICE_ENDPOINT__INIT,
	    *eps[1] = { &ep };
	static char *ep_tags[] = { "web", "public" };
	PB(Snapshot) snap = AGENTFLOW__MESH__V1__SNAPSHOT__INIT;
	PB(OriginState) os = AGENTFLOW__MESH__V1__ORIGIN_STATE__INIT, *osp[1] = { &os };
	PB(SnapshotRequest) req = AGENTFLOW__MESH__V1__SNAPSHOT_REQUEST__INIT;
	PB(Command) cmd = AGENTFLOW__MESH__V1__COMMAND__INIT;
	PB(CommandResult) res = AGENTFLOW__MESH__V1__COMMAND_RESULT__INIT;
	PB(LabelSelector) sel = AGENTFLOW__MESH__V1__LABEL_SELECTOR__INIT;
	PB(Label) *match[1] = { &label_role };
	static char *origins[] = { "peer-a" };
	static char *path[] = { "peer-a" };
	static char *rpath[] = { "fuzz-self" };
	static const char user_payload[] = "{\"deploy\":\"v2\"}";
	static const char args_run[] = "{\"name\":\"build\",\"timeout_s\":60}";
	static const char body_ping[] = "{\"pong\":true}";
	struct enc e_hello, e_batch1, e_batch2, e_gap, e_snap, e_req, e_cmd,
	    e_cmd_run, e_cmd_all, e_res, e_leave;
	struct session s;

	/* Hello from peer-a, which holds peer-b.example up to seq 2. */
	node_info(&info_a, "peer-a", 7);
	cur_b.origin = "peer-b.example";
	cur_b.incarnation = 3;
	cur_b.seq = 2;
	hello.info = &info_a;
	hello.protocol_version = FRAME_CODEC_PROTOCOL_VERSION;
	hello.n_cursors = 1;
	hello.cursors = cursors;
	hello.time_ms = 1700000000000ull;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_HELLO;
	f.hello = &hello;
	e_hello = frame_seed("hello", &f);

	ping.id = 1;
	ping.sent_us = 123456;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PING;
	f.ping = &ping;
	free(frame_seed("ping", &f).buf);
	pong.id = 1;
	pong.ping_sent_us = 123456;
	pong.sent_us = 123999;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_PONG;
	f.pong = &pong;
	free(frame_seed("pong", &f).buf);
	leave.node_id = "peer-a";
	leave.incarnation = 7;
	leave.reason = "shutting down";
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_LEAVE;
	f.leave = &leave;
	e_leave = frame_seed("leave", &f);

	/* Events of peer-a, incarnation 7: status, task, log, alert, user. */
	node_status(&status);
	task_update(&task, "t-1", AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_RUNNING);
	task_update(&task_failed, "t-0", AGENTFLOW__MESH__V1__TASK_STATE__TASK_STATE_FAILED);
	tlog.task_id = "t-1";
	tlog.stream = AGENTFLOW__MESH__V1__LOG_STREAM__LOG_STREAM_STDOUT;
	tlog.line_seq = 1;
	tlog.text = "compiling agentflow";
	alert(&al, AGENTFLOW__MESH__V1__ALERT_STATE__ALERT_STATE_FIRING);
	alert(&al_acked, AGENTFLOW__MESH__V1__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED);
	user.name = "deploy";
	user.payload.data = (uint8_t *)user_payload;
	user.payload.len = sizeof(user_payload) - 1;
	for (int i = 0; i < 6; i++) {
		event(&ev[i], "peer-a", 7, (uint64_t)i + 1);
		evp[i] = &ev[i];
	}
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	ev[0].status = &status;
	ev[1].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TASK;
	ev[1].task = &task;
	ev[2].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_LOG;
	ev[2].log = &tlog;
	ev[3].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ALERT;
	ev[3].alert = &al;
	ev[4].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	ev[4].user = &user;
	ev[5].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TASK;
	ev[5].task = &task_failed;
	ev[5].hops = 1;		/* relayed once */
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &batch;
	batch.n_events = 3;
	batch.events = evp;
	e_batch1 = frame_seed("events_status_task_log", &f);
	batch.n_events = 3;
	batch.events = evp + 3;
	e_batch2 = frame_seed("events_alert_user_task", &f);
	/* A gap: seq 9 of incarnation 8 (a new life, its start missed). */
	event(&ev[0], "peer-b.example", 8, 9);
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	ev[0].user = &user;
	batch.n_events = 1;
	batch.events = evp;
	e_gap = frame_seed("events_gap", &f);
	/* A job peer-a issued, final (sync_jobs.c's view takes it). */
	job.job_id = "j0123456789abcdef";
	job.state = "failed";
	job.task = "build";
	job.to = "any:role=builder";
	job.node = "peer-b.example";
	job.epoch = 2;
	job.exited = 1;
	job.exit_code = 3;
	job.reason = "exited 3";
	job.principal = "alice";
	job.submitted_ms = 1700000000000ull;
	job.updated_ms = job.finished_ms = 1700000004000ull;
	job.parent = "j00000000000000aa";
	event(&ev[0], "peer-a", 7, 7);
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_JOB;
	ev[0].job = &job;
	free(frame_seed("events_job", &f).buf);
	/* A service peer-a runs, backing off (sync_services.c's view). */
	ep.name = "http";
	ep.protocol = "tcp";
	ep.port = 8080;
	ep.n_tags = 2;
	ep.tags = ep_tags;
	svc.name = "api-gateway";
	svc.desired = "running";
	svc.state = "backing-off";
	svc.restarts = 3;
	svc.exited = 1;
	svc.last_exit_code = 1;
	svc.next_attempt_ms = 1700000008000ull;
	svc.updated_ms = 1700000004000ull;
	svc.reason = "exited 1";
	svc.n_endpoints = 1;
	svc.endpoints = eps;
	svc.task_id = "svc-api-gateway-3";
	svc.version = "sha256:0123abcd";
	event(&ev[0], "peer-a", 7, 8);
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SERVICE;
	ev[0].service = &svc;
	free(frame_seed("events_service", &f).buf);
	/* peer-a holds an artifact (sync_artifacts.c's view). */
	art.artifact = ART_ID;
	art.name = "app-1.2.tar.gz";
	art.size = 123456;
	art.updated_ms = 1700000004000ull;
	event(&ev[0], "peer-a", 7, 9);
	ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ARTIFACT;
	ev[0].artifact = &art;
	free(frame_seed("events_artifact", &f).buf);
	/* node-a's silence, as every node holds them (sync_silences.c). */
	{
		PB(SilenceUpdate) sil = AGENTFLOW__MESH__V1__SILENCE_UPDATE__INIT;

		sil.id = "sil-1-0123456789ab";
		sil.spec_json = "{\"id\":\"sil-1-0123456789ab\",\"matchers\":"
		    "{\"rule\":\"disk_full\"},\"starts_ms\":1700000000000,"
		    "\"ends_ms\":1700007200000,\"comment\":\"swap\","
		    "\"created_by\":\"token:write\",\"node\":\"peer-a\"}";
		sil.updated_ms = 1700000000000ull;
		sil.author = "peer-a";
		sil.ends_ms = 1700007200000ull;
		event(&ev[0], "peer-a", 7, 10);
		ev[0].kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_SILENCE;
		ev[0].silence = &sil;
		free(frame_seed("events_silence", &f).buf);
	}
	/* Asking for and sending its bytes (artifact_fetch.c). */
	{
		PB(Frame) af = AGENTFLOW__MESH__V1__FRAME__INIT;
		PB(ArtifactRequest) ar = AGENTFLOW__MESH__V1__ARTIFACT_REQUEST__INIT;
		PB(ArtifactChunk) ac = AGENTFLOW__MESH__V1__ARTIFACT_CHUNK__INIT;
		static uint8_t bytes[64];

		ar.artifact = ART_ID;
		ar.offset = 0;
		ar.length = 1 << 20;
		af.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_REQUEST;
		af.artifact_request = &ar;
		free(frame_seed("artifact_request", &af).buf);
		ac.artifact = ART_ID;
		ac.offset = 64;
		ac.size = 123456;
		ac.data.data = bytes;
		ac.data.len = sizeof(bytes);
		af.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_ARTIFACT_CHUNK;
		af.artifact_chunk = &ac;
		free(frame_seed("artifact_chunk", &af).buf);
	}

	/* A snapshot of peer-b.example, with its info, status, work. */
	node_info(&info_b, "peer-b.example", 8);
	cur_a.origin = "peer-b.example";
	cur_a.incarnation = 8;
	cur_a.seq = 12;
	os.cursor = &cur_a;
	os.info = &info_b;
	os.status = &status;
	os.status_ms = 1700000000500ull;
	os.n_tasks = 2;
	os.tasks = tasks;
	os.n_alerts = 1;
	os.alerts = alerts;
	os.n_jobs = 1;
	os.jobs = jobs;
	os.n_services = 1;
	os.services = svcs;
	os.n_artifacts = 1;
	os.artifacts = arts;
	snap.n_origins = 1;
	snap.origins = osp;
	snap.request_id = 5;
	snap.last = 1;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT;
	f.snapshot = &snap;
	e_snap = frame_seed("snapshot", &f);

	/* peer-b.example asks for peer-a, holding it up to seq 1. */
	cur_a.origin = "peer-a";
	cur_a.incarnation = 7;
	cur_a.seq = 1;
	req.n_origins = 1;
	req.origins = origins;
	req.request_id = 6;
	req.n_cursors = 1;
	req.cursors = cursors_a;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_SNAPSHOT_REQUEST;
	f.snapshot_request = &req;
	e_req = frame_seed("snapshot_request", &f);

	/* peer-b.example offers peer-a up to seq 1 (an anti-entropy answer). */
	{
		PB(Offer) offer = AGENTFLOW__MESH__V1__OFFER__INIT;
		offer.n_cursors = 1;
		offer.cursors = cursors_a;
		agentflow__mesh__v1__frame__init(&f);
		f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_OFFER;
		f.offer = &offer;
		free(frame_seed("offer", &f).buf);
	}

	/* Commands from peer-a: a ping for us, a run_task for all. */
	cmd.id = "c0123456789abcdef";
	cmd.origin = "peer-a";
	cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	cmd.node_id = "fuzz-self";
	cmd.destination = "fuzz-self";
	cmd.principal = "api:admin";
	cmd.type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_PING;
	cmd.issued_ms = 1700000000000ull;
	cmd.hop_limit = 8;
	cmd.n_path = 1;
	cmd.path = path;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = &cmd;
	e_cmd = frame_seed("command_ping", &f);
	cmd.id = "c1";
	cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR;
	sel.n_match = 1;
	sel.match = match;
	cmd.selector = &sel;
	cmd.destination = "p9";		/* not us: to be routed on */
	cmd.type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_RUN_TASK;
	cmd.args_json.data = (uint8_t *)args_run;
	cmd.args_json.len = sizeof(args_run) - 1;
	cmd.idempotency_key = "deploy-42";
	cmd.deadline_ms = 1700000060000ull;
	e_cmd_run = frame_seed("command_run_task_selector", &f);
	cmd.id = "c2";
	cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL;
	cmd.all = 1;
	cmd.destination = "fuzz-self";
	e_cmd_all = frame_seed("command_run_task_all", &f);

	res.command_id = "c0123456789abcdef";
	res.node = "fuzz-self";
	res.requester = "peer-a";
	res.status = AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK;
	res.body_json.data = (uint8_t *)body_ping;
	res.body_json.len = sizeof(body_ping) - 1;
	res.finished_ms = 1700000000001ull;
	res.hop_limit = 8;
	res.n_path = 1;
	res.path = rpath;
	res.n_command_path = 1;
	res.command_path = path;
	agentflow__mesh__v1__frame__init(&f);
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT;
	f.command_result = &res;
	e_res = frame_seed("command_result", &f);

	/* fuzz_sync_apply: sessions over those frames (peer byte: 0 peer-a,
	 * 1 peer-b.example, 2 p9, 3 ourselves). */
	s.len = 0;
	session_add(&s, 0, e_hello);
	session_add(&s, 0, e_batch1);
	session_add(&s, 0, e_batch2);
	put("fuzz_sync_apply", "hello_events", s.buf, s.len);
	s.len = 0;
	session_add(&s, 0, e_batch1);
	session_add(&s, 0, e_batch2);
	session_add(&s, 1, e_req);	/* answered from the log: a replay */
	put("fuzz_sync_apply", "events_then_request", s.buf, s.len);
	s.len = 0;
	session_add(&s, 1, e_gap);
	session_add(&s, 1, e_snap);
	session_add(&s, 2, e_batch1);
	put("fuzz_sync_apply", "gap_snapshot", s.buf, s.len);
	s.len = 0;
	session_add(&s, 0, e_cmd);
	session_add(&s, 0, e_cmd_run);
	session_add(&s, 0, e_cmd_all);
	session_add(&s, 2, e_res);
	put("fuzz_sync_apply", "commands", s.buf, s.len);
	s.len = 0;
	session_add(&s, 3, e_batch1);	/* our own id as the peer */
	session_add(&s, 0, e_leave);
	session_add(&s, 0, e_hello);
	put("fuzz_sync_apply", "self_and_leave", s.buf, s.len);

	free(e_hello.buf);
	free(e_batch1.buf);
	free(e_batch2.buf);
	free(e_gap.buf);
	free(e_snap.buf);
	free(e_req.buf);
	free(e_cmd.buf);
	free(e_cmd_run.buf);
	free(e_cmd_all.buf);
	free(e_res.buf);
	free(e_leave.buf);
}

/* --- JSON bodies, config files ------------------------------------------- */

static void
signal_register(void)
{
	static const char cert[] = "-----BEGIN CERTIFICATE-----\\n"
	    "MIIBszCCAVmgAwIBAgIUKq3bXQ==\\n-----END CERTIFICATE-----\\n";
	char body[2048];

	snprintf(body, sizeof(body), "{\"node_id\":\"peer-a\",\"cert\":\"%s\","
	    "\"addresses\":[\"192.0.2.1:7443\",\"[2001:db8::1]:7443\"],"
	    "\"labels\":{\"role\":\"worker\",\"zone\":\"eu-1\"},"
	    "\"version\":\"0.1.0\",\"timestamp\":1700000000,"
	    "\"nonce\":\"c2VjcmV0LW5vbmNlLTEyMw==\"}", cert);
	put_str("fuzz_signal_register", "valid_full", body);
	snprintf(body, sizeof(body), "{\"node_id\":\"n1\",\"cert\":\"%s\","
	    "\"timestamp\":1700000000,\"nonce\":\"0123456789abcdef\"}", cert);
	put_str("fuzz_signal_register", "valid_minimal", body);
	snprintf(body, sizeof(body), "{\"node_id\":\"peer-a\",\"cert\":\"%s\","
	    "\"addresses\":[\"192.0.2.1\",\"::1:80\",\"[::1]:0\"],"
	    "\"timestamp\":1700000000,\"nonce\":\"0123456789abcdef\"}", cert);
	put_str("fuzz_signal_register", "bad_addresses", body);
	snprintf(body, sizeof(body), "{\"node_id\":\"peer-a\",\"cert\":\"%s\","
	    "\"labels\":{\"bad key\":\"v\"},\"timestamp\":1700000000,"
	    "\"nonce\":\"0123456789abcdef\"}", cert);
	put_str("fuzz_signal_register", "bad_label", body);
	put_str("fuzz_signal_register", "unknown_field",
	    "{\"node_id\":\"peer-a\",\"extra\":1}");
	put_str("fuzz_signal_register", "duplicate_key",
	    "{\"node_id\":\"a\",\"node_id\":\"b\"}");
}

static void
api_json(void)
{
	put_str("fuzz_api_json", "command_ping_self",
	    "{\"target\":\"fuzz-self\",\"type\":\"ping\",\"wait_ms\":0}");
	put_str("fuzz_api_json", "command_run_all",
	    "{\"target\":\"all\",\"type\":\"run_task\",\"args\":{\"name\":\"build\"},"
	    "\"idempotency_key\":\"deploy-42\",\"deadline_ms\":60000}");
	put_str("fuzz_api_json", "command_selector_text",
	    "{\"target\":\"role=fuzz,zone=a\",\"type\":\"freeze\"}");
	put_str("fuzz_api_json", "command_selector_object",
	    "{\"target\":{\"labels\":{\"role\":\"fuzz\"}},\"type\":\"task_logs\","
	    "\"args\":{\"task_id\":\"t-1\"}}");
	put_str("fuzz_api_json", "command_unreachable",
	    "{\"target\":\"peer-a\",\"type\":\"cancel_task\",\"args\":{\"task_id\":\"t-1\"}}");
	put_str("fuzz_api_json", "command_bad_type",
	    "{\"target\":\"all\",\"type\":\"reboot\"}");
	put_str("fuzz_api_json", "event_user",
	    "{\"name\":\"deploy\",\"payload\":{\"version\":\"v2\"}}");
	put_str("fuzz_api_json", "task_json",
	    "{\"node\":\"peer-a\",\"task_id\":\"t-1\",\"name\":\"build\",\"state\":"
	    "\"failed\",\"attempt\":2,\"max_attempts\":3,\"exit_code\":-1,"
	    "\"term_signal\":9,\"reason\":\"killed\",\"queued_ms\":1700000000000,"
	    "\"started_ms\":1700000000100,\"finished_ms\":1700000005000,"
	    "\"next_retry_ms\":null,\"command_id\":\"c1\",\"principal\":\"api:admin\"}");
	put_str("fuzz_api_json", "alert_json",
	    "{\"node\":\"peer-a\",\"alert_id\":\"a-cpu-1\",\"rule\":\"cpu-high\","
	    "\"severity\":\"critical\",\"state\":\"acknowledged\",\"value\":97.5,"
	    "\"threshold\":90,\"subject\":\"cpu\",\"message\":\"hot\","
	    "\"fired_ms\":1700000000000,\"resolved_ms\":null,"
	    "\"acked_ms\":1700000001000,\"acked_by\":\"api:admin\"}");
	put_str("fuzz_api_json", "workflow_valid",
	    "{\"definition\":{\"name\":\"w\",\"params\":{\"d\":null},"
	    "\"budget\":\"2h\",\"on_failure\":\"continue\",\"steps\":["
	    "{\"name\":\"a\",\"task\":\"t\",\"to\":\"any:role=x\",\"retries\":2,"
	    "\"backoff\":\"5s\",\"timeout\":\"1h\",\"payload\":{\"p\":\"${params.d}\"}},"
	    "{\"name\":\"ok\",\"approval\":{\"prompt\":\"go?\"},\"needs\":[\"a\"]},"
	    "{\"name\":\"b\",\"command\":[\"/bin/true\"],\"to\":\"n1\",\"needs\":"
	    "[\"ok\"],\"payload\":[\"${steps.a.result.x.0}\",\"n=${steps.a.result}\"]}]},"
	    "\"set\":{\"d\":\"/srv\"}}");
	put_str("fuzz_api_json", "workflow_cycle",
	    "{\"name\":\"w\",\"steps\":[{\"name\":\"a\",\"task\":\"t\",\"to\":"
	    "\"n1\",\"needs\":[\"b\"]},{\"name\":\"b\",\"task\":\"t\",\"to\":"
	    "\"n1\",\"needs\":[\"a\"]}]}");
}

static void
config_file(void)
{
	put_str("fuzz_config_file", "valid",
	    "# node configuration\n"
	    "name = \"a \\\"quoted\\\" value with a \\\\ and # inside\"\n"
	    "signal    = https://signal.example:7000   # a comment\n"
	    "max-links = 8\r\n"
	    "port=7443\n"
	    "verbose   = yes\n"
	    "\n"
	    "   \t\n"
	    "tls = false\n");
	put_str("fuzz_config_file", "duplicate", "port = 1\nport = 2\n");
	put_str("fuzz_config_file", "out_of_range", "max-links = 65\n");
	put_str("fuzz_config_file", "unknown_key", "colour = blue\n");
	put_str("fuzz_config_file", "unterminated", "name = \"open\n");
	put_str("fuzz_config_file", "trailing_after_quote", "name = \"x\" y\n");
	put_str("fuzz_config_file", "no_equals", "verbose\n");
	put_str("fuzz_config_file", "callback_refusal", "refuse = 1\n");
}

/* --- text rules ------------------------------------------------------------ */

static void
text(void)
{
	put_str("fuzz_text", "labels", "role=db,site=home,,zone/x=eu-1");
	put_str("fuzz_text", "bad_labels", "bad key!=x,=v,novalue,k=a=b");
	put_str("fuzz_text", "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	put_str("fuzz_text", "overlong_surrogate",
	    "\xc0\xaf\xe0\x9f\xbf\xed\xa0\x80\xf4\x90\x80\x80");
	put_str("fuzz_text", "truncated", "\x10line\tend\xe2\x82");
	put("fuzz_text", "nul", "a\0b\xff", 4);
}

/* --- signed API tokens ------------------------------------------------------ */

static void
tokens(void)
{
	put_str("fuzz_token", "good_shape", "af1.eyJleHAiOjE3NjcyNTQ0MDAwMDAsImlh"
	    "dCI6MTc2NzIyNTYwMDAwMCwiaWQiOiIwMTIzNDU2Nzg5YWJjZGVmIiwiaXNzIjoibm9k"
	    "ZS0xIiwibmFtZSI6ImFsaWNlIiwicm9sZSI6IndyaXRlIn0.MEUCIQDx");
	put_str("fuzz_token", "bad_claims", "af1.eyJleHAiOjEsImlhdCI6MiwiaWQiOi"
	    "J4IiwiaXNzIjoibm9kZS0xIiwibmFtZSI6ImEgYiIsInJvbGUiOiJyb290IiwiZXh0cm"
	    "EiOjF9.AA");
	put_str("fuzz_token", "ttl", "8h");
	put_str("fuzz_token", "static", "writer-0123456789abcdef");
}

/* --- WebSocket sessions ----------------------------------------------------- */

/* Appends a masked client frame (RFC 6455 5.2) with mask key 0x37fa213d. */
static size_t
ws_frame(uint8_t *out, int fin, int op, const void *data, size_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	const uint8_t *p = data;
	size_t n = 0;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126)
		out[n++] = (uint8_t)(0x80 | len);
	else {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	memcpy(out + n, mask, 4);
	n += 4;
	for (size_t i = 0; i < len; i++)
		out[n++] = p[i] ^ mask[i % 4];
	return n;
}

static void
ws(void)
{
	static const char ping[] = "{\"type\":\"ping\",\"id\":7}";
	static const char close_ok[] = "\x03\xe8" "bye";	/* 1000 */
	uint8_t buf[4096];
	size_t n;

	/* Mode byte 0: after the fixed upgrade. */
	n = 0;
	buf[n++] = 0;
	n += ws_frame(buf + n, 1, 0x1, ping, sizeof(ping) - 1);
	put("fuzz_ws", "text_ping", buf, n);
	n = 0;
	buf[n++] = 0;
	n += ws_frame(buf + n, 0, 0x1, ping, 10);	/* fragmented */
	n += ws_frame(buf + n, 0, 0x9, "hb", 2);	/* a ping in between */
	n += ws_frame(buf + n, 1, 0x0, ping + 10, sizeof(ping) - 1 - 10);
	n += ws_frame(buf + n, 1, 0x8, close_ok, sizeof(close_ok) - 1);
	put("fuzz_ws", "fragmented_then_close", buf, n);
	n = 0;
	buf[n++] = 0;
	n += ws_frame(buf + n, 1, 0xa, "", 0);		/* unsolicited pong */
	n += ws_frame(buf + n, 1, 0x2, "\x00\x01\x02", 3);	/* binary */
	n += ws_frame(buf + n, 1, 0x1, "not json", 8);
	put("fuzz_ws", "pong_binary_garbage", buf, n);
	n = 0;
	buf[n++] = 0;
	buf[n++] = 0x81;	/* unmasked: a protocol error from a client */
	buf[n++] = 2;
	buf[n++] = '{';
	buf[n++] = '}';
	put("fuzz_ws", "unmasked", buf, n);
	n = 0;
	buf[n++] = 0;
	buf[n++] = 0x81;	/* 127: a 64-bit length, over max_message */
	buf[n++] = 0x80 | 127;
	memcpy(buf + n, "\x00\x00\x00\x00\x00\x10\x00\x00" "\x37\xfa\x21\x3d", 12);
	n += 12;
	put("fuzz_ws", "oversized_length", buf, n);

	/* Mode byte 1: the request is the fuzzer's too. */
	n = (size_t)snprintf((char *)buf, sizeof(buf), "%c"
	    "GET /ws?token=write-token-0123456789abcdef HTTP/1.1\r\n"
	    "Host: 127.0.0.1:8080\r\n"
	    "Origin: http://127.0.0.1:8080\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", 1);
	n += ws_frame(buf + n, 1, 0x1, ping, sizeof(ping) - 1);
	put("fuzz_ws", "raw_query_token_origin", buf, n);
	put_str("fuzz_ws", "raw_bearer_bad_origin", "\x01"
	    "GET /ws HTTP/1.1\r\n"
	    "Host: node.example\r\n"
	    "Origin: http://evil.example\r\n"
	    "Authorization: Bearer read-token-0123456789abcdef\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n");
	put_str("fuzz_ws", "raw_wrong_version_post", "\x01"
	    "POST /ws HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Version: 8\r\n"
	    "Content-Length: 0\r\n\r\n");
	put_str("fuzz_ws", "raw_bad_subprotocol", "\x01"
	    "GET /ws HTTP/1.1\r\n"
	    "Host: [::1]:80\r\n"
	    "Upgrade: WebSocket\r\n"
	    "Connection: upgrade\r\n"
	    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Sec-WebSocket-Protocol: chat, token.nope\r\n\r\n");
}

/* --- fuzz_ws_policy: upgrade request heads -------------------------------- */

static void
ws_policy(void)
{
	static const struct {
		const char	*name;
		const char	*head;
	} seeds[] = {
		{ "query_token_own_origin", "GET /ws?token=t HTTP/1.1\r\n"
		  "Host: 192.0.2.1:8080\r\nOrigin: http://192.0.2.1:8080\r\n"
		  "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		  "Sec-WebSocket-Version: 13\r\n" },
		{ "subprotocol_token_listed", "GET /ws HTTP/1.1\r\n"
		  "Host: nas.example:8443\r\nOrigin: https://nas.example:8443\r\n"
		  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
		  "Sec-WebSocket-Version: 13\r\n"
		  "Sec-WebSocket-Protocol: agentflow.v1, token.abc\r\n" },
		{ "rebinding", "GET /ws HTTP/1.1\r\nHost: evil.example:8080\r\n"
		  "Origin: http://evil.example:8080\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		  "Sec-WebSocket-Version: 13\r\n" },
		{ "loopback_v6_bearer", "GET /ws HTTP/1.1\r\nHost: [::1]:8080\r\n"
		  "Origin: http://[::1]:5173\r\nAuthorization: Bearer b\r\n"
		  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		  "Sec-WebSocket-Version: 13\r\n" },
		{ "post_version_8", "POST /ws HTTP/1.1\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\n" },
		{ "origin_list", "http://dash.example, https://NAS.example:8443,"
		  "http://[::1]:1" },
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		put_str("fuzz_ws_policy", seeds[i].name, seeds[i].head);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_gen_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	frames();
	signal_register();
	api_json();
	config_file();
	ws();
	ws_policy();
	text();
	tokens();
	return 0;
}
