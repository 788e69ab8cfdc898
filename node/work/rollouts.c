/*
 * Rollouts (rollouts.h): the steps, the watching and the calls
 * (rollouts_store.c: a rollout as JSON, and kept in the store).
 *
 * Each node's step is a short chain of "service" commands, one in flight
 * at a time; their answers come back through cmd_done.  Whether a node
 * is healthy is read from the mesh's view of its services (its
 * ServiceUpdates, sync_services.h) on a timer that runs only while a
 * rollout does.
 */
#include "rollouts_priv.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "command_target.h"
#include "commands.h"
#include "log.h"
#include "node.h"
#include "node_id.h"
#include "principal.h"
#include "rng.h"
#include "service_spec.h"
#include "sync.h"
#include "sync_services.h"
#include "xalloc.h"

static void advance(struct rollouts *, struct rollout *);
static void cmd_done(const char *, const json_t *, void *);

/* --- steps ------------------------------------------------------------------ */

static int
active(const struct rollout *r)
{
	return r->state == RO_RUNNING || r->state == RO_PAUSED;
}

static void
arm(struct rollouts *rs)
{
	struct timeval tv = { 0, TICK_MS * 1000 };

	for (size_t i = 0; i < rs->nv; i++)
		if (active(rs->v[i])) {
			if (!evtimer_pending(rs->tick, NULL))
				evtimer_add(rs->tick, &tv);
			return;
		}
}

static void
node_end(struct rollout *r, struct rn *x, enum rn_state st, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
node_end(struct rollout *r, struct rn *x, enum rn_state st, const char *fmt,
    ...)
{
	char reason[sizeof(x->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	memcpy(x->reason, reason, sizeof(reason));
	x->state = st;
	x->phase = PH_NONE;
	x->send = 0;
	x->finished_ms = clock_wall_ms();
	json_decref(x->previous);	/* needed no more */
	x->previous = NULL;
	r->updated_ms = x->finished_ms;
	log_event(st == RN_HEALTHY ? LOG_INFO : LOG_WARN, "rollout node done",
	    "{s:s, s:s, s:s, s:s, s:s}", "rollout", r->id, "service",
	    r->service, "node", x->node, "state", rollouts_rn_names[st], "reason",
	    x->reason);
	/* The first failure ends the rollout: no further node starts. */
	if ((st == RN_ERROR || st == RN_ROLLED_BACK) && !r->ending) {
		r->ending = 1;
		snprintf(r->reason, sizeof(r->reason), "%.63s: %.500s", x->node,
		    x->reason);
	}
}

/* The next command of x's step goes out from advance. */
static void
next(struct rollout *r, struct rn *x, enum rn_phase phase)
{
	x->phase = phase;
	x->send = 1;
	x->retry_ms = 0;
	x->first_fail_ms = 0;
	r->updated_ms = clock_wall_ms();
}

static void
rollback(struct rollout *r, struct rn *x, const char *why)
{
	snprintf(x->reason, sizeof(x->reason), "%s", why);
	x->state = RN_ROLLING_BACK;
	next(r, x, PH_BACK);
	log_event(LOG_WARN, "rollout rolling back", "{s:s, s:s, s:s, s:s}",
	    "rollout", r->id, "service", r->service, "node", x->node, "why",
	    why);
}

/*
 * A command that could not go, or was not answered: tried again each
 * second for RETRY_MS (a node not routed yet after our restart, a link
 * cut for a moment), then given up.
 */
static void
not_sent(struct rollout *r, struct rn *x, const char *why)
{
	uint64_t now = clock_mono_ms();

	if (x->first_fail_ms == 0)
		x->first_fail_ms = now;
	if (now - x->first_fail_ms < RETRY_MS) {
		x->send = 1;
		x->retry_ms = now + 1000;
		return;
	}
	switch (x->phase) {
	case PH_GET:
		node_end(r, x, RN_ERROR, "%s (nothing changed there)", why);
		break;
	case PH_PUT:		/* it may have been put all the same */
	case PH_START:
		rollback(r, x, why);
		break;
	default:
		node_end(r, x, RN_ERROR, "%s; the rollback could not be sent, "
		    "it may still run version %s: %s", x->reason, x->version,
		    why);
	}
}

static void
send_step(struct rollouts *rs, struct rollout *r, struct rn *x)
{
	static const char *const actions[] = { "", "get", "put", "start", "",
	    "put", "start" };
	struct commands_request cr = { 0 };
	struct principal p = { .role = r->role };
	const char *action = actions[x->phase], *code;
	json_t *target = json_string(x->node), *args, *def = NULL;
	char err[512];
	int dup, rc;

	if (x->phase == PH_PUT)
		def = r->definition;
	else if (x->phase == PH_BACK && x->had_previous)
		def = x->previous;
	else if (x->phase == PH_BACK)
		action = "delete";
	else if (x->phase == PH_BACK_DESIRED && !x->previous_running)
		action = "stop";
	/* Signed as this node, with the person's role: a signed token's
	 * proof is not kept for the rollout's life.  "by" names the person
	 * in the target's audit (it keeps a command's args). */
	args = json_pack("{s:s, s:s, s:s, s:s}", "name", r->service, "action",
	    action, "rollout", r->id, "by", r->principal);
	if (def != NULL)
		json_object_set(args, "definition", def);
	snprintf(p.name, sizeof(p.name), "node:%s", rs->n->id);
	cr.target = target;
	cr.type = "service";
	cr.args = args;
	cr.principal = &p;
	cr.deadline_ms = CMD_DEADLINE_MS;
	cr.done = cmd_done;
	cr.done_arg = rs;
	x->send = 0;
	x->waiting = 1;
	/* The id is written before the command goes, and this node's own
	 * answer comes before commands_issue returns. */
	rc = commands_issue(rs->n->commands, &cr, x->cid, sizeof(x->cid), &dup,
	    &code, err, sizeof(err));
	json_decref(args);
	json_decref(target);
	if (rc != 0) {
		x->waiting = 0;
		x->cid[0] = '\0';
		not_sent(r, x, err);
	}
}

/* A command's answer, for the step it belongs to. */
static void
answered(struct rollout *r, struct rn *x, const char *status,
    const json_t *body, const char *error)
{
	int ok = strcmp(status, "ok") == 0;
	const json_t *def = json_object_get(body, "definition");
	const char *desired;
	char why[600];
	char *text;

	snprintf(why, sizeof(why), "%s (%s)", error != NULL ? error :
	    "no reason given", status);
	if (!ok && (strcmp(status, "timeout") == 0 ||
	    strcmp(status, "unreachable") == 0) && x->phase != PH_WATCH) {
		not_sent(r, x, why);
		return;
	}
	switch (x->phase) {
	case PH_GET:
		if (ok && json_is_object(def)) {
			text = json_dumps(def, JSON_COMPACT);
			if (text == NULL || strlen(text) > DEF_MAX) {
				free(text);
				node_end(r, x, RN_ERROR, "its definition is larger "
				    "than a rollout keeps to go back to (%d "
				    "bytes)", DEF_MAX);
				break;
			}
			free(text);
			desired = json_string_value(json_object_get(body,
			    "desired"));
			x->had_previous = 1;
			json_decref(x->previous);
			x->previous = json_deep_copy(def);
			x->previous_running = desired != NULL &&
			    strcmp(desired, "running") == 0;
			rollouts_copy_text(x->previous_version, sizeof(x->previous_version),
			    json_object_get(body, "version"));
		} else if (strcmp(status, "not_found") != 0) {
			node_end(r, x, RN_ERROR, "reading its %s: %s", r->service,
			    why);
			break;
		}
		if (r->ending)		/* ended meanwhile: nothing changed */
			node_end(r, x, RN_UNTOUCHED, "the rollout ended first");
		else
			next(r, x, PH_PUT);
		break;
	case PH_PUT:
		if (!ok) {
			node_end(r, x, RN_ERROR, "the new definition: %s", why);
			break;
		}
		rollouts_copy_text(x->version, sizeof(x->version), json_object_get(body,
		    "version"));
		x->put_ms = clock_wall_ms();
		if (r->aborted)
			rollback(r, x, "the rollout was aborted");
		else
			next(r, x, PH_START);
		break;
	case PH_START:
		if (!ok) {
			rollback(r, x, why);
			break;
		}
		x->phase = PH_WATCH;
		x->healthy_since_ms = 0;
		x->put_ms = r->updated_ms = clock_wall_ms();
		break;
	case PH_BACK:
		if (!ok)
			node_end(r, x, RN_ERROR, "%s; the rollback failed, it may "
			    "still run version %s: %s", x->reason, x->version, why);
		else if (!x->had_previous)
			node_end(r, x, RN_ROLLED_BACK, "%s; removed (it had no %s "
			    "before)", x->reason, r->service);
		else
			next(r, x, PH_BACK_DESIRED);
		break;
	case PH_BACK_DESIRED:
		node_end(r, x, RN_ROLLED_BACK, ok ? "%s; back to version %s" :
		    "%s; back to version %s, but its desired state was not set "
		    "again", x->reason, x->previous_version[0] != '\0' ?
		    x->previous_version : "(unknown)");
		break;
	default:
		break;
	}
}

static void
cmd_done(const char *id, const json_t *rec, void *arg)
{
	struct rollouts *rs = arg;
	json_t *res = json_array_get(json_object_get(rec, "results"), 0);
	const char *status = json_string_value(json_object_get(res, "status"));

	for (size_t i = 0; i < rs->nv; i++) {
		struct rollout *r = rs->v[i];

		for (size_t j = 0; j < r->nn; j++) {
			struct rn *x = &r->nodes[j];

			if (!x->waiting || strcmp(x->cid, id) != 0)
				continue;
			x->waiting = 0;
			x->cid[0] = '\0';
			answered(r, x, status != NULL ? status : "timeout",
			    json_object_get(res, "body"), json_string_value(
			    json_object_get(res, "error")));
			if (!rs->advancing) {
				advance(rs, r);
				rollouts_save(rs);
				arm(rs);
			}
			return;
		}
	}
}

/* The node's instance as the mesh shows it: healthy, failed, or neither. */
static void
watch(struct rollouts *rs, struct rollout *r, struct rn *x, uint64_t now,
    uint64_t mono)
{
	json_t *list = sync_services_list(rs->n->sync, r->service, x->node);
	json_t *inst = json_array_get(list, 0);
	const char *state = json_string_value(json_object_get(inst, "state"));
	const char *version = json_string_value(json_object_get(inst,
	    "version"));
	const char *reason = json_string_value(json_object_get(inst, "reason"));
	char why[600];
	int ours = version != NULL && state != NULL &&
	    strcmp(version, x->version) == 0;
	int healthy = ours && (strcmp(state, "healthy") == 0 ||
	    (!r->has_checks && strcmp(state, "running") == 0));

	if (healthy) {
		if (x->healthy_since_ms == 0)
			x->healthy_since_ms = mono;
		if (mono - x->healthy_since_ms >= 1000ull * r->min_healthy_s)
			node_end(r, x, RN_HEALTHY, "version %s %s", x->version,
			    state);
	} else {
		x->healthy_since_ms = 0;
		if (ours && strcmp(state, "failed") == 0) {
			snprintf(why, sizeof(why), "version %s failed: %s",
			    x->version, reason != NULL ? reason : "");
			rollback(r, x, why);
		} else if (now >= x->put_ms + 1000ull * r->deadline_s) {
			snprintf(why, sizeof(why), "version %s not healthy "
			    "within %us (%s%s%s)", x->version, r->deadline_s,
			    ours ? state : "not seen running",
			    ours && reason != NULL ? ": " : "",
			    ours && reason != NULL ? reason : "");
			rollback(r, x, why);
		}
	}
	json_decref(list);
}

/*
 * Moves r on: watches the nodes updated, sends each step's next command,
 * starts pending nodes while slots are free, and ends the rollout when
 * nothing is left to do.  This node's own commands are answered at once,
 * so a few rounds run in one call.
 */
static void
advance(struct rollouts *rs, struct rollout *r)
{
	uint64_t now = clock_wall_ms(), mono = clock_mono_ms();
	size_t busy, open = 0, bad = 0;
	int did = 1;

	/* Frozen: nothing is sent and no deadline runs out; it goes on
	 * once the node is unfrozen. */
	if (!active(r) || rs->advancing || rs->n->frozen)
		return;
	rs->advancing = 1;
	for (int round = 0; did && round < 8; round++) {
		did = 0;
		busy = 0;
		for (size_t i = 0; i < r->nn; i++) {
			struct rn *x = &r->nodes[i];

			if (x->state == RN_UPDATING && r->aborted && !x->waiting &&
			    x->phase != PH_GET)
				rollback(r, x, "the rollout was aborted");
			else if (x->state == RN_UPDATING && x->phase == PH_WATCH)
				watch(rs, r, x, now, mono);
			if (x->send && !x->waiting && mono >= x->retry_ms) {
				send_step(rs, r, x);
				did = 1;
			}
			busy += x->state == RN_UPDATING ||
			    x->state == RN_ROLLING_BACK;
		}
		for (size_t i = 0; i < r->nn && !r->ending &&
		    r->state == RO_RUNNING && busy < r->max_parallel; i++) {
			struct rn *x = &r->nodes[i];

			if (x->state != RN_PENDING)
				continue;
			x->state = RN_UPDATING;
			x->started_ms = clock_wall_ms();	/* after the last ended */
			x->reason[0] = '\0';
			next(r, x, PH_GET);
			busy++;
			did = 1;
		}
	}
	rs->advancing = 0;
	for (size_t i = 0; i < r->nn; i++) {
		enum rn_state s = r->nodes[i].state;

		open += s == RN_UPDATING || s == RN_ROLLING_BACK ||
		    (s == RN_PENDING && !r->ending);
		bad += s == RN_ROLLED_BACK || s == RN_ERROR;
	}
	if (open > 0)
		return;
	for (size_t i = 0; i < r->nn; i++)
		if (r->nodes[i].state == RN_PENDING) {
			r->nodes[i].state = RN_UNTOUCHED;
			snprintf(r->nodes[i].reason, sizeof(r->nodes[i].reason),
			    "the rollout ended first");
		}
	r->state = r->aborted ? RO_ABORTED : bad > 0 ? RO_FAILED : RO_SUCCEEDED;
	if (r->state == RO_SUCCEEDED)
		snprintf(r->reason, sizeof(r->reason), "every node runs the new "
		    "version healthy");
	r->finished_ms = r->updated_ms = now;
	log_event(r->state == RO_SUCCEEDED ? LOG_INFO : LOG_WARN,
	    "rollout finished", "{s:s, s:s, s:s, s:s}", "rollout", r->id,
	    "service", r->service, "state", rollouts_ro_names[r->state], "reason",
	    r->reason);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rollouts *rs = arg;
	int changed = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < rs->nv; i++) {
		struct rollout *r = rs->v[i];
		uint64_t before = r->updated_ms;

		advance(rs, r);
		changed |= r->updated_ms != before;
	}
	if (changed)
		rollouts_save(rs);
	arm(rs);
}

/* --- the calls -------------------------------------------------------------- */

struct rollouts *
rollouts_new(struct node *n)
{
	struct rollouts *rs = xcalloc(1, sizeof(*rs));

	rs->n = n;
	rs->tick = evtimer_new(n->base, tick_cb, rs);
	rollouts_load(rs);
	/* A command in flight when the node stopped is sent again (each
	 * step's commands may be repeated) once the first tick comes: the
	 * links are not up yet. */
	for (size_t i = 0; i < rs->nv; i++)
		for (size_t j = 0; j < rs->v[i]->nn; j++) {
			struct rn *x = &rs->v[i]->nodes[j];

			if (x->state == RN_UPDATING && x->phase == PH_NONE)
				x->phase = PH_GET;	/* from the start */
			if (x->state == RN_ROLLING_BACK && x->phase < PH_BACK)
				x->phase = PH_BACK;
			if (x->phase == PH_WATCH)	/* a fresh deadline: the
							 * mesh's view comes back */
				x->put_ms = clock_wall_ms();
			else if (x->state == RN_UPDATING ||
			    x->state == RN_ROLLING_BACK)
				x->send = 1;
		}
	arm(rs);
	return rs;
}

void
rollouts_free(struct rollouts *rs)
{
	if (rs == NULL)
		return;
	if (rs->tick != NULL)
		event_free(rs->tick);
	for (size_t i = 0; i < rs->nv; i++)
		rollout_free(rs->v[i]);
	free(rs);
}

static struct rollout *
find(const struct rollouts *rs, const char *id)
{
	for (size_t i = 0; i < rs->nv; i++)
		if (strcmp(rs->v[i]->id, id) == 0)
			return rs->v[i];
	return NULL;
}

static void
bad(json_t *errors, const char *path, const char *error)
{
	json_array_append_new(errors, json_pack("{s:s, s:s}", "path", path,
	    "error", error));
}

/* An integer field within [lo, hi], or def when absent. */
static unsigned
field_uint(const json_t *req, const char *key, unsigned lo, unsigned hi,
    unsigned def, json_t *errors)
{
	const json_t *v = json_object_get(req, key);
	char msg[96];

	if (v == NULL)
		return def;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(msg, sizeof(msg), "an integer %u-%u", lo, hi);
		bad(errors, key, msg);
		return def;
	}
	return (unsigned)json_integer_value(v);
}

/* The nodes of "nodes" (in order) or "target" (sorted), into r. */
static void
nodes_of(struct rollouts *rs, struct rollout *r, const json_t *req,
    json_t *errors)
{
	const json_t *list = json_object_get(req, "nodes"), *v;
	const json_t *target = json_object_get(req, "target");
	struct command_target t;
	const char *code, *id;
	char err[512];
	size_t i;

	if (list != NULL && target != NULL) {
		bad(errors, "nodes", "give nodes or target, not both");
		return;
	}
	if (list == NULL) {
		json_t *all = target == NULL ? json_string("all") : NULL;

		if (command_target_resolve(sync_routing(rs->n->sync), all != NULL ?
		    all : target, &t, &code, err, sizeof(err)) != 0) {
			json_decref(all);
			bad(errors, "target", err);
			return;
		}
		json_decref(all);
		list = t.dests;
		if (json_array_size(t.skipped) > 0) {
			char *s = json_dumps(t.skipped, JSON_COMPACT);

			snprintf(err, sizeof(err), "the selector may match nodes "
			    "whose labels are not known here yet: %.400s", s);
			free(s);
			bad(errors, "target", err);
			command_target_clear(&t);
			return;
		}
	} else
		t.dests = NULL;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > NODES_MAX) {
		snprintf(err, sizeof(err), "1-%d node ids", NODES_MAX);
		bad(errors, list == json_object_get(req, "nodes") ? "nodes" :
		    "target", err);
		goto out;
	}
	r->nodes = xcalloc(json_array_size(list), sizeof(*r->nodes));
	json_array_foreach(list, i, v) {
		id = json_string_value(v);
		if (id == NULL || !node_id_valid(id, strlen(id))) {
			bad(errors, "nodes", "not a node id");
			goto out;
		}
		for (size_t j = 0; j < r->nn; j++)
			if (strcmp(r->nodes[j].node, id) == 0) {
				bad(errors, "nodes", "a node named twice");
				goto out;
			}
		snprintf(r->nodes[r->nn++].node, sizeof(r->nodes[0].node), "%s",
		    id);
	}
out:
	if (t.dests != NULL)
		command_target_clear(&t);
}

int
rollouts_start(struct rollouts *rs, const json_t *req,
    const struct principal *p, json_t **out)
{
	static const char *const known[] = { "service", "definition", "target",
	    "nodes", "max_parallel", "deadline_s", "min_healthy_s" };
	struct rollout *r;
	json_t *errors = json_array(), *derr;
	const char *key, *name = json_string_value(json_object_get(req,
	    "service"));
	struct service_spec *spec = NULL;
	const json_t *v;
	size_t nactive = 0;
	char *text;

	*out = NULL;
	if (!json_is_object(req)) {
		*out = json_pack("{s:s}", "error", "a rollout is an object "
		    "{service, definition, target, ...}");
		json_decref(errors);
		return 400;
	}
	json_object_foreach((json_t *)req, key, v) {
		int ok = 0;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= strcmp(known[i], key) == 0;
		if (!ok)
			bad(errors, key, "not a field of a rollout");
	}
	r = xcalloc(1, sizeof(*r));
	if (name == NULL || !service_name_valid(name))
		bad(errors, "service", "a service name (1-63 of [A-Za-z0-9_-])");
	else {
		snprintf(r->service, sizeof(r->service), "%s", name);
		derr = json_array();
		spec = service_spec_parse(name, json_object_get(req,
		    "definition"), derr);
		for (size_t i = 0; i < json_array_size(derr); i++) {
			json_t *e = json_array_get(derr, i);
			char path[160];
			const char *sub = json_string_value(json_object_get(e,
			    "path"));

			snprintf(path, sizeof(path), "definition%s%s",
			    sub != NULL && sub[0] != '\0' ? "." : "",
			    sub != NULL ? sub : "");
			bad(errors, path, json_string_value(json_object_get(e,
			    "error")));
		}
		json_decref(derr);
	}
	text = json_dumps(json_object_get(req, "definition"), JSON_COMPACT);
	if (text != NULL && strlen(text) > DEF_MAX)
		bad(errors, "definition", "at most 32768 bytes as JSON");
	free(text);
	r->max_parallel = field_uint(req, "max_parallel", 1, PARALLEL_MAX, 1,
	    errors);
	r->deadline_s = field_uint(req, "deadline_s", 1, 3600, 60, errors);
	r->min_healthy_s = field_uint(req, "min_healthy_s", 0, 600, 5, errors);
	nodes_of(rs, r, req, errors);
	if (json_array_size(errors) > 0) {
		*out = json_pack("{s:s, s:o}", "error", "invalid rollout",
		    "errors", errors);
		service_spec_free(spec);
		rollout_free(r);
		return 400;
	}
	json_decref(errors);
	r->has_checks = spec->nchecks > 0;
	r->definition = json_deep_copy(json_object_get(req, "definition"));
	service_spec_free(spec);
	for (size_t i = 0; i < rs->nv; i++) {
		nactive += active(rs->v[i]);
		if (active(rs->v[i]) && strcmp(rs->v[i]->service, r->service) == 0) {
			*out = json_pack("{s:o, s:s}", "error", json_sprintf(
			    "rollout %s of %s is under way: wait for it to end "
			    "or abort it", rs->v[i]->id, r->service), "rollout",
			    rs->v[i]->id);
			rollout_free(r);
			return 409;
		}
	}
	if (nactive >= ACTIVE_MAX) {
		*out = json_pack("{s:s}", "error", "too many rollouts under way "
		    "(at most 4)");
		rollout_free(r);
		return 507;
	}
	r->created_ms = r->updated_ms = clock_wall_ms();
	{
		char hex[9];

		if (rng_hex(rs->n->rng, hex, 4) != 0)
			snprintf(hex, sizeof(hex), "%08x", (unsigned)rs->nv);
		snprintf(r->id, sizeof(r->id), "ro-%" PRIu64 "-%s",
		    r->created_ms, hex);
	}
	snprintf(r->principal, sizeof(r->principal), "%s", p != NULL ?
	    p->name : "");
	r->role = p != NULL ? p->role : PRINCIPAL_NONE;
	r->state = RO_RUNNING;
	/* Room: the oldest finished one goes. */
	if (rs->nv == KEEP) {
		size_t old = KEEP;

		for (size_t i = 0; i < rs->nv; i++)
			if (!active(rs->v[i]) && (old == KEEP ||
			    rs->v[i]->created_ms < rs->v[old]->created_ms))
				old = i;
		rollout_free(rs->v[old]);
		rs->v[old] = rs->v[--rs->nv];
	}
	rs->v[rs->nv++] = r;
	log_event(LOG_INFO, "rollout started", "{s:s, s:s, s:I, s:s}",
	    "rollout", r->id, "service", r->service, "nodes", (json_int_t)r->nn,
	    "principal", r->principal);
	advance(rs, r);
	rollouts_save(rs);
	arm(rs);
	*out = rollout_json(r, 0);
	return 201;
}

int
rollouts_action(struct rollouts *rs, const char *id, const char *action,
    json_t **out)
{
	struct rollout *r = find(rs, id);

	*out = NULL;
	if (r == NULL) {
		*out = json_pack("{s:s}", "error", "no such rollout");
		return 404;
	}
	if (strcmp(action, "pause") == 0 && r->state == RO_RUNNING && !r->ending)
		r->state = RO_PAUSED;
	else if (strcmp(action, "resume") == 0 && r->state == RO_PAUSED)
		r->state = RO_RUNNING;
	else if (strcmp(action, "abort") == 0 && active(r) && !r->ending) {
		r->ending = r->aborted = 1;
		r->state = RO_RUNNING;	/* to take back what is under way */
		snprintf(r->reason, sizeof(r->reason), "aborted");
	} else if (strcmp(action, "pause") != 0 && strcmp(action, "resume") != 0 &&
	    strcmp(action, "abort") != 0) {
		*out = json_pack("{s:s}", "error", "no such action (pause, resume "
		    "or abort)");
		return 400;
	} else {
		*out = json_pack("{s:o}", "error", json_sprintf("the rollout is "
		    "%s%s", rollouts_ro_names[r->state], r->ending && active(r) ?
		    " and ending" : ""));
		return 409;
	}
	r->updated_ms = clock_wall_ms();
	log_event(LOG_INFO, "rollout changed", "{s:s, s:s, s:s}", "rollout",
	    r->id, "action", action, "state", rollouts_ro_names[r->state]);
	advance(rs, r);
	rollouts_save(rs);
	arm(rs);
	*out = rollout_json(r, 0);
	return 200;
}

json_t *
rollouts_get(const struct rollouts *rs, const char *id)
{
	const struct rollout *r = find(rs, id);

	return r != NULL ? rollout_json(r, 0) : NULL;
}

json_t *
rollouts_list(const struct rollouts *rs, const char *service)
{
	const struct rollout *order[KEEP];
	json_t *a = json_array();
	size_t n = 0;

	for (size_t i = 0; i < rs->nv; i++)
		if (service == NULL || strcmp(rs->v[i]->service, service) == 0)
			order[n++] = rs->v[i];
	for (size_t i = 1; i < n; i++)	/* newest first; n <= 16 */
		for (size_t j = i; j > 0 && order[j]->created_ms >
		    order[j - 1]->created_ms; j--) {
			const struct rollout *t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, rollout_json(order[i], 0));
	return a;
}

json_t *
rollouts_counters(const struct rollouts *rs)
{
	json_t *o = json_object();

	for (size_t s = 0; s < 5; s++) {
		size_t c = 0;

		for (size_t i = 0; rs != NULL && i < rs->nv; i++)
			c += rs->v[i]->state == s;
		json_object_set_new(o, rollouts_ro_names[s], json_integer((json_int_t)c));
	}
	return o;
}
