/*
 * Rollouts (rollouts.h) as JSON, for the API and for the store's meta
 * table, where the last KEEP of them are kept as one document.
 */
#include "rollouts_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"
#include "store.h"
#include "text.h"
#include "xalloc.h"

const char *const rollouts_ro_names[] = { "running", "paused", "succeeded",
    "failed", "aborted" };
const char *const rollouts_rn_names[] = { "pending", "updating", "healthy",
    "rolling_back", "rolled_back", "error", "untouched" };

/* --- JSON ------------------------------------------------------------------- */

static json_t *
ms_or_null(uint64_t ms)
{
	return ms != 0 ? json_integer((json_int_t)ms) : json_null();
}

/* s, or null when empty.  A reason cut to its buffer may end inside a
 * character, and a peer's text may not be UTF-8: text_copy mends both. */
static json_t *
text_or_null(const char *s)
{
	char buf[1024];

	return text_copy(buf, sizeof(buf), s, false) > 0 ? json_string(buf) :
	    json_null();
}

static json_t *
node_json(const struct rn *x, int keep)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "node", x->node, "state", rollouts_rn_names[x->state],
	    "version", text_or_null(x->version),
	    "previous_version", text_or_null(x->previous_version),
	    "reason", text_or_null(x->reason),
	    "started_ms", ms_or_null(x->started_ms),
	    "finished_ms", ms_or_null(x->finished_ms));

	if (keep) {	/* what a restart needs to go on */
		json_object_set_new(o, "phase", json_integer(x->phase));
		json_object_set_new(o, "put_ms", json_integer((json_int_t)x->put_ms));
		json_object_set_new(o, "had_previous", json_boolean(x->had_previous));
		json_object_set_new(o, "previous_running",
		    json_boolean(x->previous_running));
		if (x->previous != NULL)
			json_object_set(o, "previous", x->previous);
	}
	return o;
}

json_t *
rollout_json(const struct rollout *r, int keep)
{
	json_t *nodes = json_array();
	size_t healthy = 0;

	for (size_t i = 0; i < r->nn; i++) {
		json_array_append_new(nodes, node_json(&r->nodes[i], keep));
		healthy += r->nodes[i].state == RN_HEALTHY;
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I, s:I, s:o,"
	    " s:I, s:I, s:I, s:O, s:o, s:I, s:I}",
	    "id", r->id, "service", r->service, "state", rollouts_ro_names[r->state],
	    "reason", text_or_null(r->reason), "principal", r->principal,
	    "created_ms", (json_int_t)r->created_ms,
	    "updated_ms", (json_int_t)r->updated_ms,
	    "finished_ms", ms_or_null(r->finished_ms),
	    "max_parallel", (json_int_t)r->max_parallel,
	    "deadline_s", (json_int_t)r->deadline_s,
	    "min_healthy_s", (json_int_t)r->min_healthy_s,
	    "definition", r->definition, "nodes", nodes,
	    "healthy", (json_int_t)healthy, "total", (json_int_t)r->nn);

	if (keep) {
		json_object_set_new(o, "role", json_string(
		    principal_role_name(r->role)));
		json_object_set_new(o, "ending", json_boolean(r->ending));
		json_object_set_new(o, "aborted", json_boolean(r->aborted));
		json_object_set_new(o, "has_checks", json_boolean(r->has_checks));
	}
	return o;
}

void
rollouts_copy_text(char *dst, size_t len, const json_t *v)
{
	snprintf(dst, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int
name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static uint64_t
u64_of(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

void
rollout_free(struct rollout *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nn; i++)
		json_decref(r->nodes[i].previous);
	free(r->nodes);
	json_decref(r->definition);
	free(r);
}

/* One rollout as rollout_json(keep) wrote it, or NULL. */
static struct rollout *
rollout_load(const json_t *o)
{
	struct rollout *r = xcalloc(1, sizeof(*r));
	json_t *nodes = json_object_get(o, "nodes"), *x;
	int st;
	size_t i;

	rollouts_copy_text(r->id, sizeof(r->id), json_object_get(o, "id"));
	rollouts_copy_text(r->service, sizeof(r->service), json_object_get(o, "service"));
	rollouts_copy_text(r->principal, sizeof(r->principal),
	    json_object_get(o, "principal"));
	rollouts_copy_text(r->reason, sizeof(r->reason), json_object_get(o, "reason"));
	r->role = principal_role_parse(json_string_value(json_object_get(o,
	    "role")));
	st = name_index(rollouts_ro_names, 5, json_string_value(json_object_get(o,
	    "state")));
	r->definition = json_incref(json_object_get(o, "definition"));
	if (st < 0 || r->id[0] == '\0' || !service_name_valid(r->service) ||
	    !json_is_object(r->definition) || !json_is_array(nodes) ||
	    json_array_size(nodes) == 0 || json_array_size(nodes) > NODES_MAX) {
		rollout_free(r);
		return NULL;
	}
	r->state = (enum ro_state)st;
	r->ending = json_is_true(json_object_get(o, "ending"));
	r->aborted = json_is_true(json_object_get(o, "aborted"));
	r->has_checks = json_is_true(json_object_get(o, "has_checks"));
	r->max_parallel = (unsigned)u64_of(o, "max_parallel");
	r->deadline_s = (unsigned)u64_of(o, "deadline_s");
	r->min_healthy_s = (unsigned)u64_of(o, "min_healthy_s");
	r->created_ms = u64_of(o, "created_ms");
	r->updated_ms = u64_of(o, "updated_ms");
	r->finished_ms = u64_of(o, "finished_ms");
	if (r->max_parallel == 0 || r->max_parallel > PARALLEL_MAX)
		r->max_parallel = 1;
	r->nodes = xcalloc(json_array_size(nodes), sizeof(*r->nodes));
	json_array_foreach(nodes, i, x) {
		struct rn *y = &r->nodes[r->nn];

		rollouts_copy_text(y->node, sizeof(y->node), json_object_get(x, "node"));
		st = name_index(rollouts_rn_names, 7, json_string_value(json_object_get(x,
		    "state")));
		if (st < 0 || !node_id_valid(y->node, strlen(y->node)))
			continue;
		y->state = (enum rn_state)st;
		y->phase = (enum rn_phase)u64_of(x, "phase");
		if (y->phase > PH_BACK_DESIRED)
			y->phase = PH_NONE;
		rollouts_copy_text(y->version, sizeof(y->version), json_object_get(x,
		    "version"));
		rollouts_copy_text(y->previous_version, sizeof(y->previous_version),
		    json_object_get(x, "previous_version"));
		rollouts_copy_text(y->reason, sizeof(y->reason), json_object_get(x,
		    "reason"));
		y->started_ms = u64_of(x, "started_ms");
		y->finished_ms = u64_of(x, "finished_ms");
		y->put_ms = u64_of(x, "put_ms");
		y->had_previous = json_is_true(json_object_get(x, "had_previous"));
		y->previous_running = json_is_true(json_object_get(x,
		    "previous_running"));
		if (json_is_object(json_object_get(x, "previous")))
			y->previous = json_incref(json_object_get(x, "previous"));
		r->nn++;
	}
	if (r->nn == 0) {
		rollout_free(r);
		return NULL;
	}
	return r;
}

/* --- keeping ---------------------------------------------------------------- */

void
rollouts_save(struct rollouts *rs)
{
	json_t *all = json_array();
	char *text;

	for (size_t i = 0; i < rs->nv; i++)
		json_array_append_new(all, rollout_json(rs->v[i], 1));
	text = json_dumps(all, JSON_COMPACT);
	json_decref(all);
	if (text == NULL || strlen(text) >= STORE_MAX ||
	    store_meta_set(rs->n->store, STORE_KEY, text) != 0)
		log_event(LOG_ERROR, "rollouts not stored", "{s:s}", "error",
		    text == NULL ? "out of memory" : strlen(text) >= STORE_MAX ?
		    "too large" : store_error(rs->n->store));
	free(text);
}

void
rollouts_load(struct rollouts *rs)
{
	char *buf = malloc(STORE_MAX);
	json_t *all, *o;
	size_t i;

	if (buf == NULL || store_meta_get(rs->n->store, STORE_KEY, buf,
	    STORE_MAX) != 1) {
		free(buf);
		return;
	}
	all = json_loads(buf, 0, NULL);
	free(buf);
	json_array_foreach(all, i, o) {
		struct rollout *r;

		if (rs->nv < KEEP && (r = rollout_load(o)) != NULL)
			rs->v[rs->nv++] = r;
	}
	json_decref(all);
}

