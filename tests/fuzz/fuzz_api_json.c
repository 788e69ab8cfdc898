/*
 * fuzz_api_json: the JSON bodies the local API accepts, past the HTTP
 * layer (evhttp) and the token check, on a real store and sync
 * (fuzz_node.h):
 *
 *  - POST /api/commands (node/api/api_work.c commands_post): the body's fields
 *    read by api_command_fields(), as the API reads them, then
 *    commands_issue(), which checks the type
 *    (mesh_names_command_type_parse), args, idempotency key and the
 *    target (node id, "all", "k=v,..." or {"labels": {...}}), and routes
 *    the command (to us: fuzz_exec; to others: unreachable, no links);
 *  - POST /api/events (node/api/api.c events_post_cb): name, and the payload
 *    as api_event_payload() makes it, into sync_emit_user();
 *  - node/work/work_json.c: the body read as a stored task and as a stored
 *    alert (work_json_to_task/alert), rendered back (work_json_task/
 *    alert) and packed as the snapshot that carries them would be;
 *  - POST /api/workflows/check (node/work/workflow_spec.c): the body's
 *    definition (or the body as one) with its set, and each checked
 *    step's payload rendered with the body standing for every result.
 *
 *  - POST /api/schedules (node/work/schedule_spec.c, cron.c): the body
 *    as a schedule's definition, and a checked one's cron asked for its
 *    next time.
 *  - a service's definition (node/work/service_spec.c): the body as one
 *    and as a --services file; a parsed one's JSON parses back the same,
 *    and its restart policy gives a delay or none.
 *
 * One input drives all six.  Invariants: an answer is an id or an error
 * code with a message; a task or alert read from any JSON renders again
 * and round-trips to the same message; a definition is either checked or
 * refused with at least one error, each with a path and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_priv.h"
#include "fuzz_node.h"
#include "mesh_names.h"
#include "work_json.h"
#include "workflow_spec.h"
#include "cron.h"
#include "schedule_spec.h"
#include "service_spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct principal fuzz_principal = { "fuzz", "", PRINCIPAL_WRITE, "" };

static struct fuzz_node node;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_node_init(&node);
	return 0;
}

static void
packs(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len + 1);

	if (buf == NULL || protobuf_c_message_pack(m, buf) != len)
		abort();
	free(buf);
}

static void
work_json(const json_t *body)
{
	Agentflow__Mesh__V1__TaskUpdate t, t2;
	Agentflow__Mesh__V1__Alert a, a2;
	json_t *j;

	work_json_to_task(body, &t);
	if ((j = work_json_task(FUZZ_SELF_ID, &t)) == NULL)
		abort();
	work_json_to_task(j, &t2);
	if (strcmp(t.task_id, t2.task_id) != 0 || t.state != t2.state ||
	    t.queued_ms != t2.queued_ms || strcmp(t.principal, t2.principal) != 0)
		abort();
	(void)work_task_time(&t2);
	packs(&t2.base);
	json_decref(j);

	work_json_to_alert(body, &a);
	if ((j = work_json_alert(FUZZ_SELF_ID, &a)) == NULL)
		abort();
	work_json_to_alert(j, &a2);
	if (strcmp(a.alert_id, a2.alert_id) != 0 || a.state != a2.state ||
	    a.severity != a2.severity || a.acked_ms != a2.acked_ms)
		abort();
	packs(&a2.base);
	json_decref(j);
}

/* commands_post, from its checks of the body's fields on. */
static void
commands_post(json_t *body)
{
	struct commands_request cr = { 0 };
	const char *code = "invalid";
	char id[64], err[512];
	long wait_ms = 0;
	json_t *rec;
	int dup = 0;

	err[0] = '\0';
	if (api_command_fields(body, &cr, &wait_ms, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();	/* a refusal says why */
		return;
	}
	cr.principal = &fuzz_principal;
	(void)mesh_names_command_type(mesh_names_command_type_parse(cr.type));
	err[0] = '\0';
	if (commands_issue(node.commands, &cr, id, sizeof(id), &dup, &code, err,
	    sizeof(err)) != 0) {
		if (code == NULL || err[0] == '\0')
			abort();
		return;
	}
	if ((rec = commands_get(node.commands, id)) == NULL)
		abort();	/* an issued command has a record */
	json_decref(rec);
}

/* events_post_cb, from its checks of the body's fields on. */
static void
events_post(json_t *body)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *raw;
	char *text, err[256];
	size_t plen;

	if (name == NULL)
		return;
	api_event_payload(json_object_get(body, "payload"), &raw, &plen, &text);
	err[0] = '\0';
	if (sync_emit_user(node.sync, name, raw, plen, err, sizeof(err)) == 0 &&
	    err[0] == '\0')
		abort();
	free(text);
}

/* Refused with errors that each have a path and a message. */
static void
refusal_says_why(const json_t *errors)
{
	json_t *e;
	size_t i;

	if (json_array_size(errors) == 0)
		abort();
	json_array_foreach(errors, i, e)
		if (!json_is_string(json_object_get(e, "path")) ||
		    json_string_length(json_object_get(e, "error")) == 0)
			abort();
}

/* workflow_spec_check, then each step's payload rendered. */
static void
workflow_check(const json_t *body)
{
	/* As the API takes it, {definition, set}, or a definition alone. */
	const json_t *def = json_object_get(body, "definition") != NULL ?
	    json_object_get(body, "definition") : body;
	json_t *errors, *wf = workflow_spec_check(def, json_object_get(body,
	    "set"), &errors), *step, *results, *out, *e;
	const char *name;
	char err[512];
	size_t i;

	if (wf == NULL) {
		refusal_says_why(errors);
		json_decref(errors);
		return;
	}
	if (errors != NULL)
		abort();
	results = json_object();
	json_array_foreach(json_object_get(wf, "order"), i, e)
		json_object_set(results, json_string_value(e), (json_t *)body);
	json_array_foreach(json_object_get(wf, "steps"), i, step) {
		name = json_string_value(json_object_get(step, "name"));
		if (name == NULL)
			abort();
		if (json_object_get(step, "payload") == NULL)
			continue;
		out = workflow_spec_render(json_object_get(step, "payload"),
		    json_object_get(wf, "params"), results, err, sizeof(err));
		json_decref(out);
	}
	json_decref(results);
	json_decref(wf);
}

/* POST /api/schedules' check (schedule_spec.c, cron.c): refused with
 * errors that each have a path and a message, or checked into a
 * definition whose cron parses again and has a next time or none. */
static void
schedule_check(const json_t *body)
{
	json_t *errors, *def = schedule_spec_check(body, NULL, &errors);
	struct cron *c;
	char err[256];

	if (def == NULL) {
		refusal_says_why(errors);
		json_decref(errors);
		return;
	}
	c = cron_parse(json_string_value(json_object_get(def, "cron")),
	    json_string_value(json_object_get(def, "tz")), err, sizeof(err));
	if (c == NULL || cron_next(c, 1700000000000LL) < -1)
		abort();
	cron_free(c);
	json_decref(def);
}

/* A service's definition (service_spec.c), and the body as a file. */
static void
service_check(const json_t *body)
{
	static const uint64_t starts[3] = { 1000, 50000, 90000 };
	json_t *errors = json_array();
	struct service_spec *s = service_spec_parse("svc", body, errors), *again;
	struct service_spec **specs;
	uint64_t delay;
	size_t n;

	if (s == NULL)
		refusal_says_why(errors);
	else {
		if (json_array_size(errors) != 0)
			abort();
		again = service_spec_parse("svc", s->json, errors);
		if (again == NULL || !json_equal(again->json, s->json))
			abort();
		service_spec_free(again);
		if (service_policy_next(&s->policy, starts, 3, 100000, 0.5,
		    &delay) == 0 && !s->policy.mode_fail)
			abort();	/* delay mode always starts again */
	}
	service_spec_free(s);
	json_decref(errors);
	errors = json_array();
	if (service_spec_file(body, &specs, &n, errors) != 0) {
		refusal_says_why(errors);
		if (specs != NULL || n != 0)
			abort();
	} else {
		for (size_t i = 1; i < n; i++)
			if (strcmp(specs[i - 1]->name, specs[i]->name) >= 0)
				abort();	/* sorted, each name once */
		for (size_t i = 0; i < n; i++)
			service_spec_free(specs[i]);
		free(specs);
	}
	json_decref(errors);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body;

	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (body == NULL)
		return 0;
	work_json(body);
	workflow_check(body);
	schedule_check(body);
	service_check(body);
	if (json_is_object(body)) {
		commands_post(body);
		events_post(body);
	}
	json_decref(body);
	fuzz_node_pump(&node);	/* our events' flush, commands' timers */
	fuzz_node_next(&node);
	return 0;
}
