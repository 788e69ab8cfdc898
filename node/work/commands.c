/*
 * Commands, the issuer's side (see commands.h): the record of each command
 * issued here, its deadline, the retransmission of copies not yet
 * answered, and the results accepted.  A copy's and a result's way through
 * the mesh, and execution on the destination, are command_route.c's.
 *
 * A record on the issuing node:
 *
 *   state        entered by                       left by
 *   PENDING      commands_issue (persisted, in    add_result, the last
 *                c->active, deadline timer        destination answered
 *                armed; retry armed while a        (commands_accept) -> DONE
 *                copy went to another node)       timeout_cb, the deadline
 *                                                  passed -> DONE
 *                                                 commands_free -> INTERRUPTED
 *   DONE         finish (persisted, out of        reap_cb frees it on the
 *                c->active, timers stopped, on     next loop pass
 *                c->dead)
 *   INTERRUPTED  commands_free (persisted as      freed there
 *                "interrupted": the node stopped
 *                before the answers came)
 *
 * Invariants (record_check): a record is in c->active exactly while it is
 * PENDING, and then its timer is armed; len(results) + len(pending) =
 * len(destinations).  A record is freed only by reap_cb or commands_free,
 * never in the callback chain that finished it: a result executed on this
 * node finishes its record inside commands_issue, a relayed result inside
 * commands_frame, a timeout inside the record's own timer.
 *
 * A copy or its result can be lost on the way: a link reset (a duplicate
 * link replaced, a keepalive timeout) drops what its stream still held.
 * So while a destination has not answered, the issuer sends its copy
 * again, after 1 s, then 2, 4 and every 8 s, each time only where a route
 * is up.  The destination executes an id once and answers a repeated copy
 * with the stored result (command_route.c), so a retransmission costs a
 * frame, never a second execution.
 */
#include "commands.h"
#include "commands_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>


#include "audit.h"
#include "audit_rate.h"
#include "check.h"
#include "clock.h"
#include "command_sign.h"
#include "command_target.h"
#include "frame_codec.h"
#include "hmap.h"
#include "json_check.h"
#include "links.h"
#include "log.h"
#include "mesh_names.h"
#include "node_id.h"
#include "rng.h"
#include "routing.h"
#include "store.h"
#include "store_work.h"
#include "text.h"
#include "xalloc.h"

/* --- records ---------------------------------------------------------------- */

static void
persist(struct commands *c, const json_t *rec)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *key = json_string_value(json_object_get(rec, "idempotency_key"));
	char *text = json_dumps(rec, JSON_COMPACT);

	if (text == NULL || store_command_put(c->cfg.store, id, key,
	    json_integer_value(json_object_get(rec, "issued_ms")), text) != 0)
		log_event(LOG_WARN, "cannot store a command", "{s:s, s:s}", "id", id,
		    "error", store_error(c->cfg.store));
	free(text);
}

static void
changed(struct commands *c, const char *id)
{
	if (c->cfg.changed != NULL)
		c->cfg.changed(id, c->cfg.arg);
}

static void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->retry != NULL)
		event_free(r->retry);
	free(r->wire);
	if (r->proof != NULL)
		command_proof_clear(r->proof);
	free(r->proof);
	json_decref(r->rec);
	json_decref(r->pending);
	free(r);
}

/* The invariants of a PENDING record (see the table above). */
static void
record_check(struct commands *c, const struct record *r)
{
	CHECK(hmap_get(c->active, r->id) == r);
	CHECK(evtimer_pending(r->timer, NULL));
	CHECK(json_array_size(json_object_get(r->rec, "results")) +
	    json_object_size(r->pending) ==
	    json_array_size(json_object_get(r->rec, "destinations")));
	(void)c;
	(void)r;
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct commands *c = arg;
	struct record *r;

	(void)fd;
	(void)what;
	while ((r = TAILQ_FIRST(&c->dead)) != NULL) {
		TAILQ_REMOVE(&c->dead, r, dead);
		record_free(r);
	}
}

int
commands_quiet_skip(struct commands *c, const char *action,
    const char *principal, const char *origin, int type)
{
	if (c->cfg.quiet == NULL || !c->cfg.quiet(type))
		return 0;
	return !audit_rate_admit(c->quiet_rows, principal, origin, type, action,
	    clock_mono_ms());
}

/* The issuer's record of how a command ended: each destination's status;
 * "ok" when every one answered ok, "failed" when none did, else
 * "partial".  A quiet read that went well leaves one an hour
 * (commands_quiet_skip). */
static void
audit_done(struct commands *c, const struct record *r)
{
	json_t *results = json_object_get(r->rec, "results"), *v, *sum;
	size_t i, ok = 0;

	json_array_foreach(results, i, v) {
		const char *st = json_string_value(json_object_get(v, "status"));
		ok += st != NULL && strcmp(st, "ok") == 0;
	}
	if (ok == json_array_size(results) && commands_quiet_skip(c,
	    "command.done", json_string_value(json_object_get(r->rec,
	    "principal")), json_string_value(json_object_get(r->rec, "origin")),
	    mesh_names_command_type_parse(json_string_value(json_object_get(
	    r->rec, "type")))))
		return;
	sum = json_array();
	json_array_foreach(results, i, v) {
		json_array_append_new(sum, json_pack("{s:O, s:O, s:O?}", "node",
		    json_object_get(v, "node"), "status", json_object_get(v,
		    "status"), "error", json_object_get(v, "error")));
	}
	audit_record(c->cfg.audit, "command.done", json_string_value(
	    json_object_get(r->rec, "principal")), ok == json_array_size(results) ?
	    "ok" : ok == 0 ? "failed" : "partial", json_pack("{s:s, s:O, s:o}",
	    "command_id", r->id, "type", json_object_get(r->rec, "type"),
	    "results", sum));
}

/* Ends a PENDING record: persisted as done, dropped from c->active, its
 * timers stopped; reap_cb frees it on the next loop pass. */
static void
finish(struct commands *c, struct record *r)
{
	CHECK(hmap_get(c->active, r->id) == r);
	json_object_set_new(r->rec, "state", json_string("done"));
	json_object_set_new(r->rec, "finished_ms", json_integer(
	    (json_int_t)clock_wall_ms()));
	json_object_set_new(r->rec, "pending", json_array());
	persist(c, r->rec);
	audit_done(c, r);
	hmap_del(c->active, r->id);
	evtimer_del(r->timer);
	if (r->retry != NULL)
		evtimer_del(r->retry);
	TAILQ_INSERT_TAIL(&c->dead, r, dead);
	event_active(c->reap, EV_TIMEOUT, 0);
	changed(c, r->id);
	if (r->done != NULL)
		r->done(r->id, r->rec, r->done_arg);
}

static json_t *
pending_array(const struct record *r)
{
	json_t *a = json_array(), *v;
	const char *node;

	json_object_foreach(r->pending, node, v)
		json_array_append_new(a, json_string(node));
	return a;
}

static json_t *
path_json(char **path, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(path[i]));
	return a;
}

/* A result for one destination of a pending record. */
static void
add_result(struct commands *c, struct record *r, const char *node, json_t *res)
{
	uint64_t us = clock_mono_us() - r->issued_us;

	record_check(c, r);
	CHECK(json_object_get(r->pending, node) != NULL);
	json_object_set_new(res, "rtt_ms", json_real((double)us / 1000.0));
	prom_hist_observe(&c->latency, (double)us / 1e6);
	json_array_append_new(json_object_get(r->rec, "results"), res);
	json_object_del(r->pending, node);
	json_object_set_new(r->rec, "pending", pending_array(r));
	if (json_object_size(r->pending) == 0) {
		finish(c, r);
		return;
	}
	/* Kept in memory while pending and written when done: a fan-out
	 * costs two writes, not one per node. */
	changed(c, r->id);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct record *r = arg;
	struct commands *c = r->c;
	const char *node;
	json_t *v, *tmp;

	(void)fd;
	(void)what;
	json_object_foreach_safe(r->pending, tmp, node, v) {
		json_t *res = json_pack("{s:s, s:s, s:s, s:I}", "node", node,
		    "status", "timeout", "error", "no answer before the deadline",
		    "finished_ms", (json_int_t)clock_wall_ms());
		c->timeouts++;
		json_object_set_new(res, "rtt_ms", json_real(
		    (double)(clock_mono_us() - r->issued_us) / 1000.0));
		json_array_append_new(json_object_get(r->rec, "results"), res);
		json_object_del(r->pending, node);
	}
	finish(c, r);
}

/* --- retransmission -------------------------------------------------------- */

/* Sends the copy for each pending destination again where a route is up;
 * never answers (a missing route now may be back before the timeout). */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct record *r = arg;
	struct commands *c = r->c;
	Agentflow__Mesh__V1__Command *cmd;
	char hop[ID_MAX];
	const char *node;
	json_t *v;

	(void)fd;
	(void)what;
	cmd = agentflow__mesh__v1__command__unpack(NULL, r->wire_len, r->wire);
	if (cmd == NULL)
		return;
	json_object_foreach(r->pending, node, v) {
		uint8_t sig[ORIGIN_KEYS_SIGNATURE];
		cmd->destination = (char *)node;
		/* The kept wire form is unsigned: each copy is signed anew. */
		if (r->proof != NULL)
			command_proof_sign(r->proof, cmd);
		if (c->cfg.keys != NULL)
			command_sign(c->cfg.keys, cmd, sig);
		if (c->cfg.routing != NULL && routing_next_hop(c->cfg.routing,
		    node, hop, sizeof(hop)) == 0 && command_route_send(c, hop, cmd) == 0)
			c->retransmitted++;
		cmd->issuer_key = NULL;		/* borrowed, not cmd's to free */
		cmd->principal_proof = NULL;
		cmd->signature.data = NULL;
		cmd->signature.len = 0;
	}
	cmd->destination = NULL;	/* node's, not the message's */
	agentflow__mesh__v1__command__free_unpacked(cmd, NULL);
	r->retry_ms = r->retry_ms * 2 < RETRY_MAX_MS ? r->retry_ms * 2 :
	    RETRY_MAX_MS;
	struct timeval tv = { r->retry_ms / 1000, (r->retry_ms % 1000) * 1000 };
	evtimer_add(r->retry, &tv);
}

/* Keeps cmd's wire form on r and arms the first retransmission. */
static void
arm_retry(struct record *r, Agentflow__Mesh__V1__Command *cmd)
{
	cmd->destination = (char *)"";
	r->wire_len = agentflow__mesh__v1__command__get_packed_size(cmd);
	r->wire = xmalloc(r->wire_len + 1);
	agentflow__mesh__v1__command__pack(cmd, r->wire);
	r->retry_ms = RETRY_FIRST_MS;
	r->retry = evtimer_new(r->c->base, retry_cb, r);
	struct timeval tv = { r->retry_ms / 1000, (r->retry_ms % 1000) * 1000 };
	evtimer_add(r->retry, &tv);
}

/* --- results ---------------------------------------------------------------- */

void
commands_accept(struct commands *c, const Agentflow__Mesh__V1__CommandResult *r)
{
	struct record *rec = hmap_get(c->active, r->command_id);
	/* A relay's UNREACHABLE answers for the destination it could not
	 * reach, not for itself. */
	const char *dest = r->destination[0] != '\0' ? r->destination : r->node;
	json_t *res, *body = NULL;
	char why[512];

	/* Only the destination answers for itself; another node only to say
	 * it could not reach it (a signed result names its maker, not whom
	 * it answers for). */
	if (strcmp(dest, r->node) != 0 &&
	    r->status != MESH_COMMAND_STATUS(UNREACHABLE)) {
		c->forged_results++;
		log_event(LOG_WARN, "command result refused: a node answered for "
		    "another", "{s:s, s:s, s:s}", "id", r->command_id, "node",
		    r->node, "for", dest);
		return;
	}
	if (rec == NULL || json_object_get(rec->pending, dest) == NULL) {
		/* After its timeout, or a duplicate answer: the record is final. */
		c->late++;
		log_event(LOG_DEBUG, "late or unexpected command result",
		    "{s:s, s:s}", "id", r->command_id, "node", r->node);
		return;
	}
	/* Only the node it names may answer (a relay for UNREACHABLE). */
	if (c->cfg.keys != NULL && command_sign_result_check(c->cfg.keys, r,
	    why, sizeof(why)) != 0) {
		c->forged_results++;
		log_event(LOG_WARN, "command result refused", "{s:s, s:s, s:s}",
		    "id", r->command_id, "node", r->node, "why", why);
		return;
	}
	if (r->body_json.len > 0)
		body = json_loadb((const char *)r->body_json.data, r->body_json.len,
		    JSON_REJECT_DUPLICATES, NULL);
	res = json_pack("{s:s, s:s, s:o, s:s?, s:I, s:b, s:o, s:o, s:s?}",
	    "node", dest, "status", mesh_names_command_status(r->status),
	    "body", body ? body : json_null(),
	    "error", r->error[0] ? r->error : NULL,
	    "finished_ms", (json_int_t)r->finished_ms, "duplicate", r->duplicate,
	    "path", path_json(r->command_path, r->n_command_path),
	    "result_path", path_json(r->path, r->n_path),
	    "answered_by", strcmp(dest, r->node) != 0 ? r->node : NULL);
	if (res != NULL)
		add_result(c, rec, dest, res);
}

/* --- issuing ---------------------------------------------------------------- */

static int
valid_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n <= max && text_utf8_valid(s, n, true);
}

/* The issuer's record: the command in full, where it goes, whom it
 * skipped, and the signed token it was issued with (p may be NULL).  A
 * quiet read has one an hour (commands_quiet_skip): its done row says
 * when it failed. */
static void
audit_issued(struct commands *c, const Agentflow__Mesh__V1__Command *cmd,
    const struct command_target *t, const struct principal *p)
{
	json_t *d;

	if (commands_quiet_skip(c, "command.issued", cmd->principal,
	    cmd->origin, (int)cmd->type))
		return;
	d = audit_command_details(cmd);

	if (p != NULL && p->token_id[0] != '\0')
		json_object_set_new(d, "token_id", json_string(p->token_id));
	json_object_set(d, "target", t->display);
	json_object_set(d, "destinations", t->dests);
	if (t->skipped != NULL)
		json_object_set(d, "skipped", t->skipped);
	audit_record(c->cfg.audit, "command.issued", cmd->principal, "ok", d);
}

int
commands_issue(struct commands *c, const struct commands_request *req,
    char *id, size_t idlen, int *duplicate, const char **code, char *err,
    size_t errlen)
{
	Agentflow__Mesh__V1__Command cmd = AGENTFLOW__MESH__V1__COMMAND__INIT;
	Agentflow__Mesh__V1__LabelSelector sel = AGENTFLOW__MESH__V1__LABEL_SELECTOR__INIT;
	Agentflow__Mesh__V1__Label *labels = NULL, **lptrs = NULL;
	struct command_target t;
	struct record *r;
	char *args_text = NULL, hex[17], *origin = (char *)c->cfg.self_id;
	uint64_t now = clock_wall_ms(), wait;
	size_t nl = 0, i;
	const char *key, *who = req->principal != NULL ? req->principal->name : "";
	json_t *v, *dest;
	int type;

	*duplicate = 0;
	*code = "invalid";
	if ((type = mesh_names_command_type_parse(req->type)) == 0) {
		*code = "unknown_type";
		snprintf(err, errlen, "type: \"%.64s\" is not a command type (run_task, "
		    "cancel_task, ack_alert, ping, freeze, unfreeze, task_logs, "
		    "forget_node, audit_query, history_query, ...)",
		    req->type ? req->type : "");
		return -1;
	}
	if (req->args != NULL && !json_is_object(req->args)) {
		snprintf(err, errlen, "args: must be a JSON object");
		return -1;
	}
	if (req->args != NULL && (args_text = json_dumps(req->args,
	    JSON_COMPACT)) != NULL && strlen(args_text) > ARGS_MAX) {
		*code = "too_large";
		snprintf(err, errlen, "args: %zu bytes, at most %d allowed",
		    strlen(args_text), ARGS_MAX);
		free(args_text);
		return -1;
	}
	if (req->idempotency_key != NULL && (req->idempotency_key[0] == '\0' ||
	    !valid_text(req->idempotency_key, KEY_MAX))) {
		snprintf(err, errlen, "idempotency_key: 1-%d bytes without control "
		    "characters", KEY_MAX);
		free(args_text);
		return -1;
	}
	if (req->idempotency_key != NULL) {
		int found = store_command_by_key(c->cfg.store, req->idempotency_key,
		    id, idlen);
		if (found == 1) {
			*duplicate = 1;
			free(args_text);
			return 0;
		}
	}
	if (command_target_resolve(c->cfg.routing, req->target, &t, code,
	    err, errlen) != 0) {
		free(args_text);
		return -1;
	}
	rng_hex(c->cfg.rng, hex, (sizeof(hex) - 1) / 2);
	snprintf(id, idlen, "c%s", hex);

	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->done = req->done;
	r->done_arg = req->done_arg;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->issued_us = clock_mono_us();
	r->pending = json_object();
	wait = req->deadline_ms != 0 ? req->deadline_ms :
	    c->cfg.timeout_ms ? c->cfg.timeout_ms : DEFAULT_TIMEOUT_MS;
	r->rec = json_pack("{s:s, s:s, s:O, s:s, s:o, s:s, s:s?, s:I, s:o,"
	    " s:I, s:s, s:O, s:[], s:[]}",
	    "id", id, "origin", origin, "target", t.display, "type", req->type,
	    "args", req->args ? json_deep_copy(req->args) : json_object(),
	    "principal", who,
	    "idempotency_key", req->idempotency_key, "issued_ms", (json_int_t)now,
	    "deadline_ms", req->deadline_ms ? json_integer((json_int_t)(now +
	    req->deadline_ms)) : json_null(), "timeout_ms", (json_int_t)wait,
	    "state", "pending", "destinations", t.dests, "results", "pending");
	json_array_foreach(t.dests, i, dest)
		json_object_set_new(r->pending, json_string_value(dest), json_true());
	json_object_set_new(r->rec, "pending", pending_array(r));
	json_object_set(r->rec, "skipped", t.skipped);
	/* As audit_command_details: a job grant is not for readers. */
	json_object_del(json_object_get(r->rec, "args"), "grant");
	hmap_put(c->active, r->id, r);
	struct timeval tv = { (time_t)(wait / 1000),
	    (suseconds_t)(wait % 1000) * 1000 };
	r->timer = evtimer_new(c->base, timeout_cb, r);
	evtimer_add(r->timer, &tv);
	persist(c, r->rec);
	c->issued++;

	/* The wire form, one copy per destination. */
	cmd.id = id;
	cmd.origin = origin;
	if (t.node != NULL) {
		cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID;
		cmd.node_id = (char *)t.node;
	} else if (t.all) {
		cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_ALL;
		cmd.all = 1;
	} else {
		labels = xcalloc(json_object_size(t.match) + 1, sizeof(*labels));
		lptrs = xcalloc(json_object_size(t.match) + 1, sizeof(*lptrs));
		json_object_foreach(t.match, key, v) {
			agentflow__mesh__v1__label__init(&labels[nl]);
			labels[nl].key = (char *)key;
			labels[nl].value = (char *)json_string_value(v);
			lptrs[nl] = &labels[nl];
			nl++;
		}
		sel.n_match = nl;
		sel.match = lptrs;
		cmd.target_case = AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR;
		cmd.selector = &sel;
	}
	cmd.principal = (char *)who;
	/* Signed with the rest: the destination checks it (command_exec.c).
	 * No principal: the node itself (a prune), which may all it asks. */
	cmd.role = (char *)(req->principal == NULL ? "admin" :
	    req->principal->role != PRINCIPAL_NONE ?
	    principal_role_name(req->principal->role) : "");
	cmd.type = type;
	if (args_text != NULL) {
		cmd.args_json.data = (uint8_t *)args_text;
		cmd.args_json.len = strlen(args_text);
	}
	cmd.deadline_ms = req->deadline_ms ? now + req->deadline_ms : 0;
	cmd.idempotency_key = (char *)(req->idempotency_key ?
	    req->idempotency_key : "");
	cmd.issued_ms = now;
	cmd.hop_limit = HOP_LIMIT;
	cmd.n_path = 1;
	cmd.path = &origin;
	audit_issued(c, &cmd, &t, req->principal);
	if (json_array_size(t.dests) > 1 || t.node == NULL ||
	    strcmp(t.node, c->cfg.self_id) != 0)
		arm_retry(r, &cmd);
	/* A signed token's principal proves each copy (command_sign.h). */
	if (req->principal != NULL && req->principal->token[0] != '\0') {
		r->proof = xmalloc(sizeof(*r->proof));
		if (command_proof_init(r->proof, req->principal->token) != 0) {
			free(r->proof);
			r->proof = NULL;
		}
	}
	/* Copy the destinations: a local execution may finish the record. */
	dest = json_deep_copy(t.dests);
	json_array_foreach(dest, i, v) {
		cmd.destination = (char *)json_string_value(v);
		if (r->proof != NULL)
			command_proof_sign(r->proof, &cmd);
		command_route(c, NULL, &cmd);
	}
	json_decref(dest);
	free(labels);
	free(lptrs);
	free(args_text);
	command_target_clear(&t);
	return 0;
}

static int
load_json_cb(void *arg, const char *text)
{
	json_t **out = arg;

	*out = json_loads(text, 0, NULL);
	return 1;
}

static int
append_json_cb(void *arg, const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v != NULL)
		json_array_append_new(arg, v);
	return 0;
}

json_t *
commands_get(struct commands *c, const char *id)
{
	struct record *r = hmap_get(c->active, id);
	json_t *out = NULL;

	if (r != NULL)
		return json_deep_copy(r->rec);
	if (store_command_get(c->cfg.store, id, load_json_cb, &out) < 0)
		log_event(LOG_WARN, "cannot read a command", "{s:s}", "error",
		    store_error(c->cfg.store));
	return out;
}

json_t *
commands_list(struct commands *c, unsigned limit)
{
	json_t *a = json_array();

	if (store_commands_list(c->cfg.store, limit, append_json_cb, a) < 0)
		log_event(LOG_WARN, "cannot list commands", "{s:s}", "error",
		    store_error(c->cfg.store));
	return a;
}

/* --- lifetime ------------------------------------------------------------------ */

struct commands *
commands_new(struct event_base *base, const struct commands_config *cfg)
{
	struct commands *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->cfg = *cfg;
	c->active = hmap_new();
	c->quiet_rows = audit_rate_new(AUDIT_RATE_KEYS, AUDIT_RATE_WINDOW_MS);
	prom_hist_init(&c->latency, prom_hist_seconds, prom_hist_seconds_n);
	TAILQ_INIT(&c->dead);
	c->reap = event_new(base, -1, 0, reap_cb, c);
	return c;
}

void
commands_set_links(struct commands *c, struct links *l)
{
	c->cfg.links = l;
}

static int
free_record(const char *id, void *value, void *arg)
{
	struct record *r = value;

	(void)id;
	(void)arg;
	/* Left pending on disk: the node stopped before the answers came. */
	json_object_set_new(r->rec, "state", json_string("interrupted"));
	persist(r->c, r->rec);
	record_free(r);
	return 1;
}

void
commands_free(struct commands *c)
{
	if (c == NULL)
		return;
	hmap_sweep(c->active, free_record, NULL);
	hmap_free(c->active);
	reap_cb(-1, 0, c);
	event_free(c->reap);
	audit_rate_free(c->quiet_rows);
	free(c);
}

const struct prom_hist *
commands_latency(const struct commands *c)
{
	return &c->latency;
}

json_t *
commands_counters(const struct commands *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I}",
	    "issued", (json_int_t)c->issued, "executed", (json_int_t)c->executed,
	    "duplicates", (json_int_t)c->duplicates,
	    "forwarded", (json_int_t)c->forwarded,
	    "results_forwarded", (json_int_t)c->results_forwarded,
	    "unreachable", (json_int_t)c->unreachable,
	    "timeouts", (json_int_t)c->timeouts, "late", (json_int_t)c->late,
	    "dropped", (json_int_t)c->dropped,
	    "retransmitted", (json_int_t)c->retransmitted,
	    "forged", (json_int_t)c->forged,
	    "forged_results", (json_int_t)c->forged_results,
	    "active", (json_int_t)hmap_count(c->active));
}
