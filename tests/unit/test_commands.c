/*
 * Unit tests of node/work/commands.c without a mesh: a real store and
 * audit log in a private temporary directory, a real routing table over
 * hand-made statuses and fake live links (fake_live.h), and the config's
 * send hook capturing every frame instead of links.  They walk the
 * record's states (commands.c's table): PENDING → DONE by the last
 * result, by the deadline, at once when unreachable or executed here;
 * PENDING → INTERRUPTED at commands_free; and the other roles a node
 * plays: destination (at most once per id), relay of commands and results.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "command_exec.h"
#include "commands.h"
#include "fake_live.h"
#include "frame_codec.h"
#include "mesh_names.h"
#include "rng.h"
#include "routing.h"
#include "store.h"
#include "tmpdir.h"

#define SENT_MAX	16

struct fixture {
	char			 dir[64];
	struct event_base	*base;
	struct store		*st;
	struct audit		*audit;
	struct rng		*rng;
	struct fake_live	 live;
	struct routing		*routing;
	struct commands		*c;
	/* What the send hook saw. */
	Agentflow__Mesh__V1__Frame *sent[SENT_MAX];
	char			 sent_to[SENT_MAX][32];
	size_t			 nsent;
	int			 execs, changes;
};

static int
fake_exec(void *arg, const Agentflow__Mesh__V1__Command *cmd,
    const json_t *args, json_t **body, char *err, size_t errlen)
{
	struct fixture *f = arg;

	f->execs++;
	if (json_object_get(args, "fail") != NULL) {
		snprintf(err, errlen, "asked to fail");
		return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_REFUSED;
	}
	*body = json_pack("{s:s}", "pong", cmd->origin);
	return AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK;
}

static void
fake_changed(const char *id, void *arg)
{
	struct fixture *f = arg;

	assert_non_null(id);
	f->changes++;
}

/* Keeps a copy of every frame (through the wire form, as a peer gets it). */
static int
fake_send(void *arg, const char *peer, const Agentflow__Mesh__V1__Frame *fr)
{
	struct fixture *f = arg;
	size_t len = agentflow__mesh__v1__frame__get_packed_size(fr);
	uint8_t *buf = malloc(len + 1);

	assert_non_null(buf);
	assert_true(f->nsent < SENT_MAX);
	agentflow__mesh__v1__frame__pack(fr, buf);
	f->sent[f->nsent] = agentflow__mesh__v1__frame__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(f->sent[f->nsent]);
	snprintf(f->sent_to[f->nsent], sizeof(f->sent_to[0]), "%s", peer);
	f->nsent++;
	return 0;
}

static struct commands *
commands_for(struct fixture *f)
{
	struct commands_config cc = { 0 };

	cc.self_id = "self";
	cc.store = f->st;
	cc.routing = f->routing;
	cc.audit = f->audit;
	cc.rng = f->rng;
	cc.exec = fake_exec;
	cc.changed = fake_changed;
	cc.send = fake_send;
	cc.arg = f;
	return commands_new(f->base, &cc);
}

/*
 * self - n2 - n3, and n4 known but cut off.  self, n2 and n3 are present
 * with labels; n4 is present without a route.
 */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct routing_label web[] = { { "role", "web" } };
	const struct routing_label db[] = { { "role", "db" } };
	char err[256];

	if (f == NULL || tmpdir_make(f->dir, sizeof(f->dir), "test_commands") != 0 ||
	    (f->st = store_open(f->dir, err, sizeof(err))) == NULL ||
	    (f->audit = audit_open(f->dir, "self", f->st, err, sizeof(err))) == NULL)
		return -1;
	f->base = event_base_new();
	f->rng = rng_new("test_commands");
	f->routing = routing_with("self", &f->live);
	LIVE(&f->live, "n2");
	routing_set_links(f->routing, "n2", (const char *[]){ "self", "n3" }, 2);
	routing_set_links(f->routing, "n3", (const char *[]){ "n2" }, 1);
	routing_set_links(f->routing, "n4", NULL, 0);
	routing_set_present(f->routing, "self", 1);
	routing_set_labels(f->routing, "self", db, 1);
	routing_set_present(f->routing, "n2", 1);
	routing_set_labels(f->routing, "n2", web, 1);
	routing_set_present(f->routing, "n3", 1);
	routing_set_labels(f->routing, "n3", web, 1);
	routing_set_present(f->routing, "n4", 1);
	f->c = commands_for(f);
	*state = f;
	return 0;
}

static void
sent_clear(struct fixture *f)
{
	for (size_t i = 0; i < f->nsent; i++)
		agentflow__mesh__v1__frame__free_unpacked(f->sent[i], NULL);
	f->nsent = 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	commands_free(f->c);
	sent_clear(f);
	routing_free(f->routing);
	rng_free(f->rng);
	audit_close(f->audit);
	store_close(f->st);
	event_base_free(f->base);
	rc = tmpdir_remove(f->dir);
	free(f);
	return rc;
}

static const struct principal tester = { "tester", "", PRINCIPAL_WRITE, "" };

/* Issues type to target (a JSON text); the command's id into id. */
static int
issue(struct fixture *f, const char *target, const char *type,
    const char *key, uint64_t deadline_ms, char *id, const char **code)
{
	json_t *t = json_loads(target, JSON_DECODE_ANY, NULL);
	struct commands_request req = { t, type, NULL, key, deadline_ms, &tester,
	    NULL, NULL };
	char err[256];
	int dup = 0, rc;

	rc = commands_issue(f->c, &req, id, 64, &dup, code, err, sizeof(err));
	json_decref(t);
	return rc;
}

static json_t *
record(struct fixture *f, const char *id)
{
	json_t *r = commands_get(f->c, id);

	assert_non_null(r);
	return r;
}

static const char *
field(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

static const char *
result_field(json_t *rec, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(
	    json_object_get(rec, "results"), i), key));
}

static json_int_t
counter(struct fixture *f, const char *name)
{
	json_t *c = commands_counters(f->c);
	json_int_t v = json_integer_value(json_object_get(c, name));

	json_decref(c);
	return v;
}

/* Runs the loop for ms (deferred events and timers). */
static void
run_for(struct fixture *f, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

/* The result frame node would answer the command in frame with. */
static void
answer_frame(struct fixture *f, const Agentflow__Mesh__V1__Command *cmd,
    const char *node, const char *from)
{
	Agentflow__Mesh__V1__Frame fr = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__CommandResult r =
	    AGENTFLOW__MESH__V1__COMMAND_RESULT__INIT;
	char *path[] = { (char *)node };

	r.command_id = cmd->id;
	r.node = (char *)node;
	r.destination = cmd->destination;
	r.requester = cmd->origin;
	r.status = AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK;
	r.finished_ms = 1;
	r.hop_limit = 8;
	r.n_path = 1;
	r.path = path;
	r.n_command_path = cmd->n_path;
	r.command_path = cmd->path;
	fr.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT;
	fr.command_result = &r;
	commands_frame(f->c, from, &fr);
}

/* PENDING → DONE at once: the only destination is this node. */
static void
test_issue_self(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64];
	json_t *rec;

	assert_int_equal(issue(f, "\"self\"", "ping", NULL, 0, id, &code), 0);
	assert_int_equal(f->execs, 1);
	assert_int_equal(f->nsent, 0);
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "done");
	assert_string_equal(result_field(rec, 0, "status"), "ok");
	assert_int_equal(json_array_size(json_object_get(rec, "pending")), 0);
	json_decref(rec);
	assert_true(f->changes >= 1);
	assert_int_equal(counter(f, "active"), 0);
	run_for(f, 10);		/* the record is reaped */
	rec = record(f, id);	/* now read back from the store */
	assert_string_equal(field(rec, "state"), "done");
	json_decref(rec);
}

/* PENDING → DONE by the last result; a second answer is late. */
static void
test_issue_remote(void **state)
{
	struct fixture *f = *state;
	const Agentflow__Mesh__V1__Command *cmd;
	const char *code;
	char id[64];
	json_t *rec;

	assert_int_equal(issue(f, "\"n3\"", "ping", NULL, 0, id, &code), 0);
	assert_int_equal(f->execs, 0);
	assert_int_equal(f->nsent, 1);
	assert_string_equal(f->sent_to[0], "n2");	/* n3 is behind n2 */
	cmd = f->sent[0]->command;
	assert_non_null(cmd);
	assert_string_equal(cmd->id, id);
	assert_string_equal(cmd->destination, "n3");
	assert_int_equal(cmd->n_path, 1);
	assert_string_equal(cmd->path[0], "self");
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "pending");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(rec, "pending"), 0)), "n3");
	json_decref(rec);
	assert_int_equal(counter(f, "active"), 1);

	answer_frame(f, cmd, "n3", "n2");
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "done");
	assert_string_equal(result_field(rec, 0, "node"), "n3");
	assert_string_equal(result_field(rec, 0, "status"), "ok");
	json_decref(rec);
	assert_int_equal(counter(f, "active"), 0);
	answer_frame(f, cmd, "n3", "n2");
	assert_int_equal(counter(f, "late"), 1);
	run_for(f, 10);
}

/* No route: answered UNREACHABLE on the spot, nothing sent. */
static void
test_unreachable(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64];
	json_t *rec;

	assert_int_equal(issue(f, "\"n4\"", "ping", NULL, 0, id, &code), 0);
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "done");
	assert_string_equal(result_field(rec, 0, "status"), "unreachable");
	json_decref(rec);
	assert_int_equal(counter(f, "unreachable"), 1);
	/* The retry timer was armed for the remote copy, then stopped. */
	run_for(f, 1200);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(counter(f, "retransmitted"), 0);
}

/* PENDING → DONE by the deadline, after a retransmission. */
static void
test_timeout_and_retry(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64];
	json_t *rec;

	assert_int_equal(issue(f, "\"n2\"", "ping", NULL, 1400, id, &code), 0);
	assert_int_equal(f->nsent, 1);
	run_for(f, 1200);
	assert_int_equal(counter(f, "retransmitted"), 1);
	assert_int_equal(f->nsent, 2);
	assert_string_equal(f->sent[1]->command->id, id);
	assert_string_equal(f->sent[1]->command->destination, "n2");
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "pending");
	json_decref(rec);
	run_for(f, 400);
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "done");
	assert_string_equal(result_field(rec, 0, "status"), "timeout");
	json_decref(rec);
	assert_int_equal(counter(f, "timeouts"), 1);
	assert_int_equal(counter(f, "active"), 0);
}

/* A selector fans out to the matching nodes in id order; ours runs here. */
/* n4 reachable over n3 (both ends report the link), or cut off again. */
static void
route_n4(struct fixture *f, int on)
{
	if (on) {
		routing_set_links(f->routing, "n3", (const char *[]){ "n2", "n4" }, 2);
		routing_set_links(f->routing, "n4", (const char *[]){ "n3" }, 1);
	} else {
		routing_set_links(f->routing, "n3", (const char *[]){ "n2" }, 1);
		routing_set_links(f->routing, "n4", NULL, 0);
	}
}

static void
test_selector(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64];
	json_t *rec, *dests;

	/* n4 cut off: no route, so not a node the command could reach. */
	assert_int_equal(issue(f, "\"role=web\"", "ping", NULL, 0, id, &code), 0);
	rec = record(f, id);
	assert_int_equal(json_array_size(json_object_get(rec, "skipped")), 0);
	json_decref(rec);
	sent_clear(f);
	route_n4(f, 1);
	assert_int_equal(issue(f, "\"role=web\"", "ping", NULL, 0, id, &code), 0);
	assert_int_equal(f->execs, 0);
	assert_int_equal(f->nsent, 2);
	assert_string_equal(f->sent[0]->command->destination, "n2");
	assert_string_equal(f->sent[1]->command->destination, "n3");
	assert_int_equal(f->sent[0]->command->target_case,
	    AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR);
	rec = record(f, id);
	dests = json_object_get(rec, "destinations");
	assert_int_equal(json_array_size(dests), 2);
	/* n4 could match: its labels are unknown, it is named, not dropped. */
	assert_int_equal(json_array_size(json_object_get(rec, "skipped")), 1);
	assert_string_equal(field(json_array_get(json_object_get(rec, "skipped"),
	    0), "node"), "n4");
	json_decref(rec);
	sent_clear(f);

	/* Its labels known, nothing is skipped. */
	routing_set_labels(f->routing, "n4", (const struct routing_label[]){
	    { "role", "db" } }, 1);
	assert_int_equal(issue(f, "\"role=web\"", "ping", NULL, 0, id, &code), 0);
	rec = record(f, id);
	assert_int_equal(json_array_size(json_object_get(rec, "destinations")), 2);
	assert_int_equal(json_array_size(json_object_get(rec, "skipped")), 0);
	json_decref(rec);
	sent_clear(f);

	route_n4(f, 0);
	/* "all": the four present nodes, ourselves executed at once. */
	assert_int_equal(issue(f, "\"all\"", "ping", NULL, 0, id, &code), 0);
	assert_int_equal(f->execs, 1);
	rec = record(f, id);
	assert_int_equal(json_array_size(json_object_get(rec, "destinations")), 4);
	assert_string_equal(field(rec, "state"), "pending");
	/* self answered, n4 is unreachable: n2 and n3 are pending. */
	assert_int_equal(json_array_size(json_object_get(rec, "results")), 2);
	assert_int_equal(json_array_size(json_object_get(rec, "pending")), 2);
	json_decref(rec);
	run_for(f, 10);
}

static void
test_invalid(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64], id2[64];
	json_t *t;
	struct commands_request req = { NULL, "ping", NULL, "k1", 0, &tester,
	    NULL, NULL };
	char err[256];
	int dup = 0;

	assert_int_equal(issue(f, "\"self\"", "reboot", NULL, 0, id, &code), -1);
	assert_string_equal(code, "unknown_type");
	/* n4 cut off: nothing known matches and n4 could not run it. */
	assert_int_equal(issue(f, "\"role=cache\"", "ping", NULL, 0, id, &code), -1);
	assert_string_equal(code, "no_target");
	/* A route to n4: no known node matches, but n4 might: refused,
	 * naming n4. */
	route_n4(f, 1);
	t = json_string("role=cache");
	req.target = t;
	req.idempotency_key = NULL;
	assert_int_equal(commands_issue(f->c, &req, id, sizeof(id), &dup, &code,
	    err, sizeof(err)), -1);
	assert_string_equal(code, "labels_unknown");
	assert_non_null(strstr(err, "n4"));
	json_decref(t);
	req.idempotency_key = "k1";
	/* Once every node's labels are known: no node matches. */
	routing_set_labels(f->routing, "n4", (const struct routing_label[]){
	    { "role", "db" } }, 1);
	assert_int_equal(issue(f, "\"role=cache\"", "ping", NULL, 0, id, &code), -1);
	assert_string_equal(code, "no_target");
	assert_int_equal(issue(f, "\"not a node!\"", "ping", NULL, 0, id, &code), -1);
	assert_string_equal(code, "invalid_target");
	assert_int_equal(issue(f, "{\"x\": 1}", "ping", NULL, 0, id, &code), -1);
	assert_string_equal(code, "invalid_target");
	assert_int_equal(f->execs, 0);
	assert_int_equal(counter(f, "issued"), 0);

	/* A repeated idempotency key names the first command. */
	t = json_string("self");
	req.target = t;
	assert_int_equal(commands_issue(f->c, &req, id, sizeof(id), &dup, &code,
	    err, sizeof(err)), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(commands_issue(f->c, &req, id2, sizeof(id2), &dup, &code,
	    err, sizeof(err)), 0);
	assert_int_equal(dup, 1);
	assert_string_equal(id, id2);
	assert_int_equal(f->execs, 1);
	json_decref(t);
	run_for(f, 10);
}

/* A ping with id from origin for dest, as it reaches us from peer n2
 * after path; frame and cmd are the caller's (kept for resending). */
static void
peer_command(Agentflow__Mesh__V1__Frame *fr, Agentflow__Mesh__V1__Command *cmd,
    const char *id, const char *origin, const char *dest, char **path,
    size_t npath)
{
	agentflow__mesh__v1__frame__init(fr);
	agentflow__mesh__v1__command__init(cmd);
	cmd->id = (char *)id;
	cmd->origin = (char *)origin;
	cmd->destination = (char *)dest;
	cmd->target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
	cmd->node_id = (char *)dest;
	cmd->type = AGENTFLOW__MESH__V1__COMMAND_TYPE__COMMAND_TYPE_PING;
	cmd->hop_limit = 8;
	cmd->hops = npath - 1;
	cmd->n_path = npath;
	cmd->path = path;
	fr->body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	fr->command = cmd;
}

/* A command for us from a peer: executed once, answered back each time. */
static void
test_destination(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Frame fr;
	Agentflow__Mesh__V1__Command cmd;
	char *path[] = { (char *)"n3", (char *)"n2" };
	const Agentflow__Mesh__V1__CommandResult *r;

	peer_command(&fr, &cmd, "cabc", "n3", "self", path, 2);
	commands_frame(f->c, "n2", &fr);
	assert_int_equal(f->execs, 1);
	assert_int_equal(f->nsent, 1);
	assert_string_equal(f->sent_to[0], "n2");	/* back towards n3 */
	r = f->sent[0]->command_result;
	assert_non_null(r);
	assert_string_equal(r->command_id, "cabc");
	assert_string_equal(r->requester, "n3");
	assert_string_equal(r->node, "self");
	assert_int_equal(r->status,
	    AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_OK);
	assert_false(r->duplicate);
	assert_int_equal(r->n_command_path, 3);
	assert_string_equal(r->command_path[2], "self");

	/* A retransmitted copy: the stored result again, not a second run. */
	commands_frame(f->c, "n2", &fr);
	assert_int_equal(f->execs, 1);
	assert_int_equal(f->nsent, 2);
	assert_true(f->sent[1]->command_result->duplicate);
	assert_int_equal(counter(f, "duplicates"), 1);
	assert_int_equal(counter(f, "executed"), 1);
}

/*
 * A command of a type only a newer version knows: answered "unsupported",
 * never run, and counted as skipped in /metrics.
 */
static void
test_newer_command_type(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Frame fr;
	Agentflow__Mesh__V1__Command cmd;
	char *path[] = { (char *)"n3", (char *)"n2" };
	uint64_t before = frame_codec_skipped(FRAME_CODEC_SKIP_COMMAND_TYPE);
	const Agentflow__Mesh__V1__CommandResult *r;

	peer_command(&fr, &cmd, "cnew", "n3", "self", path, 2);
	cmd.type = 999;
	commands_frame(f->c, "n2", &fr);
	assert_int_equal(f->execs, 0);
	assert_int_equal(f->nsent, 1);
	r = f->sent[0]->command_result;
	assert_non_null(r);
	assert_int_equal(r->status,
	    AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_UNSUPPORTED);
	assert_non_null(strstr(r->error, "999"));
	assert_int_equal(frame_codec_skipped(FRAME_CODEC_SKIP_COMMAND_TYPE),
	    before + 1);
}

/* The relay's two command.forwarded records of id: unreachable, then
 * ok by way of n4. */
static void
assert_relayed(struct fixture *f, const char *id)
{
	char err[256];
	json_t *v = audit_query_json(f->audit, &(struct audit_query){ .action =
	    "command.forwarded" }, err, sizeof(err));
	json_t *recs = json_object_get(v, "records"), *d;
	const char *results[] = { "unreachable", "ok" };

	assert_int_equal(json_array_size(recs), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *rec = json_array_get(recs, i);
		assert_string_equal(json_string_value(json_object_get(rec,
		    "result")), results[i]);
		d = json_object_get(rec, "details");
		assert_string_equal(json_string_value(json_object_get(d,
		    "command_id")), id);
		assert_string_equal(json_string_value(json_object_get(d,
		    "destination")), "n4");
		assert_int_equal(json_string_length(json_object_get(d,
		    "args_sha256")), 64);
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(recs, 1), "details"), "next_hop")), "n4");
	json_decref(v);
}

/* Relaying: n2's command for n4 has no route on; n3's result goes on. */
static void
test_relay(void **state)
{
	struct fixture *f = *state;
	Agentflow__Mesh__V1__Frame fr;
	Agentflow__Mesh__V1__Command cmd;
	char *path[] = { (char *)"n2" };
	const Agentflow__Mesh__V1__CommandResult *r;

	peer_command(&fr, &cmd, "crelay", "n2", "n4", path, 1);
	commands_frame(f->c, "n2", &fr);
	/* No route to n4: we answer UNREACHABLE for it, back to n2. */
	assert_int_equal(f->nsent, 1);
	r = f->sent[0]->command_result;
	assert_non_null(r);
	assert_string_equal(r->destination, "n4");
	assert_int_equal(r->status,
	    AGENTFLOW__MESH__V1__COMMAND_STATUS__COMMAND_STATUS_UNREACHABLE);
	assert_int_equal(counter(f, "unreachable"), 1);

	/* A link to n4 comes up (and n4 reports it): the copy goes on. */
	routing_set_links(f->routing, "n4", (const char *[]){ "self" }, 1);
	LIVE(&f->live, "n2", "n4");
	commands_frame(f->c, "n2", &fr);
	assert_int_equal(f->nsent, 2);
	assert_string_equal(f->sent_to[1], "n4");
	assert_int_equal(f->sent[1]->command->hops, 1);
	assert_int_equal(f->sent[1]->command->n_path, 2);
	assert_string_equal(f->sent[1]->command->path[1], "self");
	assert_int_equal(counter(f, "forwarded"), 1);

	/* n4's result for n2 passes through us. */
	answer_frame(f, f->sent[1]->command, "n4", "n4");
	assert_int_equal(f->nsent, 3);
	assert_string_equal(f->sent_to[2], "n2");
	r = f->sent[2]->command_result;
	assert_int_equal(r->n_path, 2);
	assert_string_equal(r->path[1], "self");
	assert_int_equal(counter(f, "results_forwarded"), 1);

	/* Both copies are in our audit: the one that could not go on, and
	 * the one handed to n4, each with the command's principal and hash. */
	assert_relayed(f, "crelay");
}

/* PENDING → INTERRUPTED: the node stops before the answer. */
static void
test_interrupted(void **state)
{
	struct fixture *f = *state;
	const char *code;
	char id[64];
	json_t *rec;

	assert_int_equal(issue(f, "\"n2\"", "ping", NULL, 0, id, &code), 0);
	commands_free(f->c);
	f->c = commands_for(f);
	rec = record(f, id);
	assert_string_equal(field(rec, "state"), "interrupted");
	json_decref(rec);
}

/* The least role each type needs: reads, writes, and the kill switch and
 * forget for admin; a type not known here needs none it could name. */
static void
test_roles(void **state)
{
	static const struct {
		int			 type;
		enum principal_role	 role;
	} want[] = {
		{ MESH_COMMAND_TYPE(PING), PRINCIPAL_READ },
		{ MESH_COMMAND_TYPE(TASK_LOGS), PRINCIPAL_READ },
		{ MESH_COMMAND_TYPE(AUDIT_QUERY), PRINCIPAL_READ },
		{ MESH_COMMAND_TYPE(HISTORY_QUERY), PRINCIPAL_READ },
		{ MESH_COMMAND_TYPE(RUN_TASK), PRINCIPAL_WRITE },
		{ MESH_COMMAND_TYPE(CANCEL_TASK), PRINCIPAL_WRITE },
		{ MESH_COMMAND_TYPE(ACK_ALERT), PRINCIPAL_WRITE },
		{ MESH_COMMAND_TYPE(FREEZE), PRINCIPAL_ADMIN },
		{ MESH_COMMAND_TYPE(UNFREEZE), PRINCIPAL_ADMIN },
		{ MESH_COMMAND_TYPE(FORGET_NODE), PRINCIPAL_ADMIN },
		{ 0, PRINCIPAL_NONE },
		{ 9999, PRINCIPAL_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(command_exec_role(want[i].type), want[i].role);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_issue_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_selector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_command_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted, setup, teardown),
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
