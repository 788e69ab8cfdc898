/*
 * Commands on their way (see commands.h, commands_priv.h): each node that
 * handles a copy either executes it (it is the destination) or hands it
 * to the next hop, appending itself to the path; a copy that cannot go on
 * is answered UNREACHABLE where it stopped.  Results travel back to the
 * requester the same way, where commands.c records them.
 *
 * On the destination a copy is executed at most once: its id is marked
 * with the result and the audit index in one commit, and a repeated copy
 * is answered with the stored result (receive_command).  Only what its
 * origin signed is executed: a member may not speak for another.
 */
#include "commands.h"
#include "commands_priv.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>


#include "audit.h"
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

/* --- sending ---------------------------------------------------------------- */

static void route_result(struct commands *, Agentflow__Mesh__V1__CommandResult *);
static void receive_command(struct commands *, const char *peer,
    const Agentflow__Mesh__V1__Command *);

/* Whether frames can leave at all: links, or the config's send hook. */
static int
can_send(const struct commands *c)
{
	return c->cfg.send != NULL || c->cfg.links != NULL;
}

static int
send_frame(struct commands *c, const char *hop,
    const Agentflow__Mesh__V1__Frame *f)
{
	if (c->cfg.send != NULL)
		return c->cfg.send(c->cfg.arg, hop, f);
	return c->cfg.links != NULL ? links_send_frame(c->cfg.links, hop, f) : -1;
}

int
command_route_send(struct commands *c, const char *hop,
    const Agentflow__Mesh__V1__Command *cmd)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;

	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND;
	f.command = (Agentflow__Mesh__V1__Command *)cmd;
	return send_frame(c, hop, &f);
}

/* A result of cmd made on this node; the strings stay cmd's, body's text
 * and the path arrays are freed by result_clear. */
struct made {
	Agentflow__Mesh__V1__CommandResult	 r;
	uint8_t					 sig[ORIGIN_KEYS_SIGNATURE];
	char					*self;
	char					*text;
	char					**cpath;
};

static void
result_make(struct commands *c, const Agentflow__Mesh__V1__Command *cmd,
    int status, const char *error, const json_t *body, int duplicate,
    struct made *m)
{
	Agentflow__Mesh__V1__CommandResult *r = &m->r;
	size_t npath;

	agentflow__mesh__v1__command_result__init(r);
	m->self = (char *)c->cfg.self_id;
	m->text = NULL;
	m->cpath = xcalloc(cmd->n_path + 1, sizeof(*m->cpath));
	for (size_t i = 0; i < cmd->n_path; i++)
		m->cpath[i] = cmd->path[i];
	/* A command for the issuing node itself already names it. */
	npath = cmd->n_path;
	if (npath == 0 || strcmp(cmd->path[npath - 1], m->self) != 0)
		m->cpath[npath++] = m->self;
	r->command_id = cmd->id;
	r->node = m->self;
	r->destination = cmd->destination;
	r->requester = cmd->origin;
	r->status = status;
	r->error = (char *)(error ? error : "");
	if (body != NULL && (m->text = json_dumps(body, JSON_COMPACT)) != NULL) {
		r->body_json.data = (uint8_t *)m->text;
		r->body_json.len = strlen(m->text);
	}
	r->finished_ms = clock_wall_ms();
	r->duplicate = duplicate;
	r->hop_limit = HOP_LIMIT;
	r->n_path = 1;
	r->path = &m->self;
	r->n_command_path = npath <= FRAME_CODEC_MAX_HOPS ? npath :
	    FRAME_CODEC_MAX_HOPS;
	r->command_path = m->cpath;
	if (c->cfg.keys != NULL)
		command_sign_result(c->cfg.keys, r, m->sig);
}

static void
result_clear(struct made *m)
{
	free(m->text);
	free(m->cpath);
}

/* Answers cmd from here: the destination's result, or a relay's refusal
 * (no route, hop limit). */
static void
answer(struct commands *c, const Agentflow__Mesh__V1__Command *cmd, int status,
    const char *error, const json_t *body, int duplicate)
{
	struct made m;

	result_make(c, cmd, status, error, body, duplicate, &m);
	route_result(c, &m.r);
	result_clear(&m);
}

/* A relay's record of a copy it handed on (result "ok", next_hop set) or
 * could not ("unreachable", with why); of a quiet read handed on, one an
 * hour (commands_quiet_skip). */
static void
audit_relay(struct commands *c, const Agentflow__Mesh__V1__Command *cmd,
    const char *hop, const char *result, const char *why)
{
	json_t *d;

	if (why == NULL && commands_quiet_skip(c, "command.forwarded",
	    cmd->principal, cmd->origin, (int)cmd->type))
		return;
	d = audit_command_details(cmd);

	if (hop != NULL)
		json_object_set_new(d, "next_hop", json_string(hop));
	if (why != NULL)
		json_object_set_new(d, "error", json_string(why));
	audit_record(c->cfg.audit, "command.forwarded", cmd->principal, result, d);
}

/* Hands a copy on towards its destination, or answers UNREACHABLE. */
void
command_route(struct commands *c, const char *from,
    const Agentflow__Mesh__V1__Command *cmd)
{
	Agentflow__Mesh__V1__Command copy;
	uint8_t sig[ORIGIN_KEYS_SIGNATURE];
	char hop[ID_MAX], why[160];
	char **path;

	if (strcmp(cmd->destination, c->cfg.self_id) == 0) {
		/* Ours, here: signed like any copy, as what it leaves behind
		 * (a freeze our Hellos carry) may travel on. */
		if (from == NULL && c->cfg.keys != NULL) {
			copy = *cmd;
			command_sign(c->cfg.keys, &copy, sig);
			receive_command(c, from, &copy);
		} else
			receive_command(c, from, cmd);
		return;
	}
	if (cmd->hops + 1 > cmd->hop_limit || cmd->n_path >= FRAME_CODEC_MAX_HOPS) {
		c->unreachable++;
		answer(c, cmd, MESH_COMMAND_STATUS(UNREACHABLE),
		    "hop limit reached", NULL, 0);
		audit_relay(c, cmd, NULL, "unreachable", "hop limit reached");
		return;
	}
	if (c->cfg.routing == NULL || routing_next_hop(c->cfg.routing,
	    cmd->destination, hop, sizeof(hop)) != 0) {
		c->unreachable++;
		snprintf(why, sizeof(why), "no route from %s to %s",
		    c->cfg.self_id, cmd->destination);
		answer(c, cmd, MESH_COMMAND_STATUS(UNREACHABLE), why, NULL, 0);
		if (from != NULL)
			audit_relay(c, cmd, NULL, "unreachable", why);
		return;
	}
	/* Link states just after a cut can point two nodes at each other:
	 * a hop the command already passed is a loop, not a route. */
	for (size_t i = 0; i < cmd->n_path; i++)
		if (strcmp(cmd->path[i], hop) == 0) {
			c->unreachable++;
			snprintf(why, sizeof(why), "no route from %s to %s (the "
			    "next hop, %s, is where it came from)",
			    c->cfg.self_id, cmd->destination, hop);
			answer(c, cmd, MESH_COMMAND_STATUS(UNREACHABLE), why,
			    NULL, 0);
			return;
		}
	copy = *cmd;
	path = xcalloc(cmd->n_path + 1, sizeof(*path));
	for (size_t i = 0; i < cmd->n_path; i++)
		path[i] = cmd->path[i];
	/* The origin is already the path's first entry. */
	copy.n_path = cmd->n_path;
	if (from != NULL)
		path[copy.n_path++] = (char *)c->cfg.self_id;
	copy.path = path;
	copy.hops = from != NULL ? cmd->hops + 1 : cmd->hops;
	/* Ours, for this destination: signed; others' go on as they came. */
	if (from == NULL && c->cfg.keys != NULL)
		command_sign(c->cfg.keys, &copy, sig);
	if (command_route_send(c, hop, &copy) != 0) {
		c->unreachable++;
		snprintf(why, sizeof(why), "link from %s to %s is not up",
		    c->cfg.self_id, hop);
		answer(c, cmd, MESH_COMMAND_STATUS(UNREACHABLE), why, NULL, 0);
		if (from != NULL)
			audit_relay(c, cmd, hop, "unreachable", why);
	} else if (from != NULL) {
		c->forwarded++;
		audit_relay(c, cmd, hop, "ok", NULL);
	}
	free(path);
}

static void
route_result(struct commands *c, Agentflow__Mesh__V1__CommandResult *r)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	char hop[ID_MAX];

	if (strcmp(r->requester, c->cfg.self_id) == 0) {
		commands_accept(c, r);
		return;
	}
	if (c->cfg.routing == NULL || !can_send(c) ||
	    routing_next_hop(c->cfg.routing, r->requester, hop,
	    sizeof(hop)) != 0 ||
	    r->hops + 1 > r->hop_limit) {
		c->dropped++;
		log_event(LOG_WARN, "no route back for a command result",
		    "{s:s, s:s}", "id", r->command_id, "requester", r->requester);
		return;
	}
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT;
	f.command_result = r;
	if (send_frame(c, hop, &f) != 0)
		c->dropped++;
}

static void
forward_result(struct commands *c, const Agentflow__Mesh__V1__CommandResult *in)
{
	Agentflow__Mesh__V1__CommandResult r = *in;
	char **path;

	if (strcmp(in->requester, c->cfg.self_id) == 0) {
		commands_accept(c, in);
		return;
	}
	if (in->n_path >= FRAME_CODEC_MAX_HOPS) {
		c->dropped++;
		return;
	}
	path = xcalloc(in->n_path + 1, sizeof(*path));
	for (size_t i = 0; i < in->n_path; i++)
		path[i] = in->path[i];
	path[in->n_path] = (char *)c->cfg.self_id;
	r.path = path;
	r.n_path = in->n_path + 1;
	r.hops = in->hops + 1;
	c->results_forwarded++;
	route_result(c, &r);
	free(path);
}

/* --- execution on the destination ------------------------------------------- */

struct stored_result {
	struct commands				*c;
	const Agentflow__Mesh__V1__Command	*cmd;
};

/* Answers a repeated copy with the first execution's result. */
static int
resend_stored(void *arg, const void *blob, size_t len)
{
	struct stored_result *sr = arg;
	Agentflow__Mesh__V1__CommandResult *r =
	    agentflow__mesh__v1__command_result__unpack(NULL, len, blob);

	if (r == NULL)
		return 0;
	r->duplicate = 1;
	route_result(sr->c, r);
	agentflow__mesh__v1__command_result__free_unpacked(r, NULL);
	return 0;
}

/* Keeps the first execution's result for repeated copies. */
static void
store_result(struct commands *c, const Agentflow__Mesh__V1__Command *cmd,
    int status, const char *error, const json_t *body)
{
	struct made m;
	uint8_t *buf;
	size_t len;

	result_make(c, cmd, status, error, body, 0, &m);
	len = agentflow__mesh__v1__command_result__get_packed_size(&m.r);
	buf = xmalloc(len + 1);
	agentflow__mesh__v1__command_result__pack(&m.r, buf);
	if (store_command_result(c->cfg.store, cmd->id, buf, len) != 0)
		log_event(LOG_WARN, "cannot store a command result", "{s:s, s:s}",
		    "id", cmd->id, "error", store_error(c->cfg.store));
	free(buf);
	result_clear(&m);
}

/* The destination's record: refused, or executed with its status, the
 * error, and the task it started; of a quiet read that went well, one
 * an hour (commands_quiet_skip: its answer is all it did). */
static void
audit_executed(struct commands *c, const Agentflow__Mesh__V1__Command *cmd,
    int status, const char *err, const json_t *body)
{
	json_t *d, *task;

	if (status == MESH_COMMAND_STATUS(OK) && commands_quiet_skip(c,
	    "command.executed", cmd->principal, cmd->origin, (int)cmd->type))
		return;
	d = audit_command_details(cmd);
	task = json_object_get(body, "task_id");

	if (status != MESH_COMMAND_STATUS(OK))
		json_object_set_new(d, "error", json_string(err));
	if (json_is_string(task))
		json_object_set(d, "task_id", task);
	audit_record(c->cfg.audit, status == MESH_COMMAND_STATUS(REFUSED) ?
	    "command.refused" : "command.executed", cmd->principal,
	    mesh_names_command_status(status), d);
}

/*
 * Another node's command must say its principal's role, and must not be
 * older than the at-most-once record is kept (a replay of a captured one
 * would run again once its record is gone).  0, or -1 with why in err.
 */
static int
command_fresh(const Agentflow__Mesh__V1__Command *cmd, char *err,
    size_t errlen)
{
	if (cmd->role == NULL || cmd->role[0] == '\0') {
		snprintf(err, errlen, "command %s carries no role", cmd->id);
		return -1;
	}
	if (cmd->issued_ms + COMMAND_MAX_AGE_MS < clock_wall_ms()) {
		snprintf(err, errlen, "command %s was issued more than %d days "
		    "ago", cmd->id, (int)(COMMAND_MAX_AGE_MS / 86400000));
		return -1;
	}
	return 0;
}

static void
receive_command(struct commands *c, const char *peer,
    const Agentflow__Mesh__V1__Command *cmd)
{
	struct stored_result sr = { c, cmd };
	json_t *args = NULL, *body = NULL;
	json_error_t jerr;
	char err[1024] = "";
	int fresh = 0, status;

	/*
	 * From another node, only what its origin signed: a member may not
	 * speak for another (nor its principal, whose proof is checked
	 * there; ours was checked by our API).  Refused before the
	 * at-most-once mark, so a forgery cannot spend a real command's id.
	 */
	if ((peer != NULL && c->cfg.keys != NULL &&
	    (command_sign_check(c->cfg.keys, cmd, err, sizeof(err)) != 0 ||
	    command_fresh(cmd, err, sizeof(err)) != 0)) ||
	    (peer != NULL && c->cfg.principal_check != NULL &&
	    c->cfg.principal_check(c->cfg.arg, cmd, err, sizeof(err)) != 0)) {
		c->forged++;
		log_event(LOG_WARN, "command refused: not its origin's, no role, "
		    "too old, or its principal unproved",
		    "{s:s, s:s, s:s, s:s}", "id", cmd->id, "origin", cmd->origin,
		    "from", peer, "why", err);
		audit_record(c->cfg.audit, "command.refused", cmd->principal,
		    "forged", json_pack("{s:s, s:s, s:s, s:s}", "command_id",
		    cmd->id, "origin", cmd->origin, "from", peer, "error", err));
		answer(c, cmd, MESH_COMMAND_STATUS(REFUSED), err, NULL, 0);
		return;
	}
	/* The at-most-once mark, the result and the audit index: one commit. */
	store_batch_begin(c->cfg.store);
	if (store_command_seen(c->cfg.store, cmd->id, cmd->origin,
	    (int64_t)clock_wall_ms(), &fresh) != 0) {
		store_batch_end(c->cfg.store);
		answer(c, cmd, MESH_COMMAND_STATUS(ERROR),
		    "cannot record the command", NULL, 0);
		return;
	}
	if (!fresh) {
		c->duplicates++;
		store_batch_end(c->cfg.store);
		if (store_command_result_get(c->cfg.store, cmd->id, resend_stored,
		    &sr) != 1)
			answer(c, cmd, MESH_COMMAND_STATUS(ERROR),
			    "received before; its result was not kept", NULL,
			    1);
		return;
	}
	if (cmd->deadline_ms != 0 && clock_wall_ms() > cmd->deadline_ms) {
		status = MESH_COMMAND_STATUS(TIMEOUT);
		snprintf(err, sizeof(err), "deadline passed before it reached %s",
		    c->cfg.self_id);
	} else if (mesh_names_command_type_parse(
	    mesh_names_command_type(cmd->type)) == 0) {
		status = MESH_COMMAND_STATUS(UNSUPPORTED);
		snprintf(err, sizeof(err), "command type %d is not known to %s",
		    (int)cmd->type, c->cfg.self_id);
		/* A newer requester's type: answered, and counted in /metrics. */
		frame_codec_skip_count(FRAME_CODEC_SKIP_COMMAND_TYPE, 1);
	} else if (cmd->args_json.len > 0 && ((args = json_loadb(
	    (const char *)cmd->args_json.data, cmd->args_json.len,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(args))) {
		status = MESH_COMMAND_STATUS(INVALID);
		snprintf(err, sizeof(err), "args: %s", args == NULL ? jerr.text :
		    "must be a JSON object");
	} else {
		json_t *empty = args == NULL ? json_object() : NULL;
		status = c->cfg.exec(c->cfg.arg, cmd, args ? args : empty, &body,
		    err, sizeof(err));
		json_decref(empty);
	}
	c->executed++;
	store_result(c, cmd, status, status == MESH_COMMAND_STATUS(OK) ?
	    NULL : err, body);
	audit_executed(c, cmd, status, err, body);
	if (store_batch_end(c->cfg.store) != 0)
		log_event(LOG_WARN, "cannot commit a command's record", "{s:s, s:s}",
		    "id", cmd->id, "error", store_error(c->cfg.store));
	answer(c, cmd, status, status == MESH_COMMAND_STATUS(OK) ? NULL : err,
	    body, 0);
	json_decref(body);
	json_decref(args);
}

void
commands_frame(struct commands *c, const char *peer,
    const Agentflow__Mesh__V1__Frame *f)
{
	if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND)
		command_route(c, peer, f->command);
	else if (f->body_case == AGENTFLOW__MESH__V1__FRAME__BODY_COMMAND_RESULT)
		forward_result(c, f->command_result);
}

