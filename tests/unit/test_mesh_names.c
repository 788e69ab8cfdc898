/*
 * Tests of proto/mesh_names.c: every value each mesh.proto enum declares
 * (read from protoc-c's descriptors, so a value added to the proto without
 * a name fails here) has a name that parses back to it; UNSPECIFIED and
 * values the proto does not declare are "unknown"; names not in a table,
 * and NULL, parse to 0.  The spellings the API and the store rely on are
 * checked one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mesh_names.h"

struct vocabulary {
	const ProtobufCEnumDescriptor	*d;	/* NULL: the Event oneof */
	const char			*(*name)(int);
	int				 (*parse)(const char *);
};

static const struct vocabulary vocabularies[] = {
	{ &agentflow__mesh__v1__link_state__descriptor, mesh_names_link_state,
	  mesh_names_link_state_parse },
	{ &agentflow__mesh__v1__member_state__descriptor,
	  mesh_names_member_state, mesh_names_member_state_parse },
	{ &agentflow__mesh__v1__task_state__descriptor, mesh_names_task_state,
	  mesh_names_task_state_parse },
	{ &agentflow__mesh__v1__log_stream__descriptor, mesh_names_log_stream,
	  mesh_names_log_stream_parse },
	{ &agentflow__mesh__v1__alert_severity__descriptor,
	  mesh_names_alert_severity, mesh_names_alert_severity_parse },
	{ &agentflow__mesh__v1__alert_state__descriptor, mesh_names_alert_state,
	  mesh_names_alert_state_parse },
	{ &agentflow__mesh__v1__command_type__descriptor,
	  mesh_names_command_type, mesh_names_command_type_parse },
	{ &agentflow__mesh__v1__command_status__descriptor,
	  mesh_names_command_status, mesh_names_command_status_parse },
	{ NULL, mesh_names_event_kind, mesh_names_event_kind_parse },
};

#define NVOC	(sizeof(vocabularies) / sizeof(vocabularies[0]))

static void
test_every_value_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVOC; i++) {
		const struct vocabulary *v = &vocabularies[i];
		const ProtobufCEnumDescriptor *d = v->d;

		if (d == NULL)
			continue;
		for (unsigned k = 0; k < d->n_values; k++) {
			int value = d->values[k].value;
			const char *name = v->name(value);

			if (value == 0) {
				assert_string_equal(name, "unknown");
				continue;
			}
			assert_string_not_equal(name, "unknown");
			assert_int_equal(v->parse(name), value);
		}
		assert_string_equal(v->name(-1), "unknown");
		assert_string_equal(v->name((int)d->n_values), "unknown");
		assert_int_equal(v->parse("unknown"), 0);
		assert_int_equal(v->parse(""), 0);
		assert_int_equal(v->parse(NULL), 0);
	}
}

static void
test_event_kinds(void **state)
{
	static const struct { int kind; const char *name; } kinds[] = {
		{ MESH_EVENT_KIND(STATUS), "status" },
		{ MESH_EVENT_KIND(TASK), "task" },
		{ MESH_EVENT_KIND(LOG), "log" },
		{ MESH_EVENT_KIND(ALERT), "alert" },
		{ MESH_EVENT_KIND(USER), "user" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_string_equal(mesh_names_event_kind(kinds[i].kind),
		    kinds[i].name);
		assert_int_equal(mesh_names_event_kind_parse(kinds[i].name),
		    kinds[i].kind);
	}
	assert_string_equal(mesh_names_event_kind(
	    AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET), "unknown");
	assert_int_equal(mesh_names_event_kind_parse("Task"), 0);
	assert_int_equal(mesh_names_event_kind_parse(NULL), 0);
}

/* The spellings clients and the store depend on. */
static void
test_spellings(void **state)
{
	(void)state;
	assert_string_equal(mesh_names_task_state(MESH_TASK_STATE(TIMED_OUT)),
	    "timed-out");
	assert_string_equal(mesh_names_task_state(MESH_TASK_STATE(RETRYING)),
	    "retrying");
	assert_string_equal(mesh_names_alert_state(
	    MESH_ALERT_STATE(ACKNOWLEDGED)), "acknowledged");
	assert_string_equal(mesh_names_alert_severity(
	    MESH_ALERT_SEVERITY(CRITICAL)), "critical");
	assert_string_equal(mesh_names_command_type(
	    MESH_COMMAND_TYPE(TASK_LOGS)), "task_logs");
	assert_string_equal(mesh_names_command_type(
	    MESH_COMMAND_TYPE(HISTORY_QUERY)), "history_query");
	assert_string_equal(mesh_names_command_status(
	    MESH_COMMAND_STATUS(NOT_FOUND)), "not_found");
	assert_string_equal(mesh_names_member_state(MESH_MEMBER_STATE(LEFT)),
	    "left");
	assert_string_equal(mesh_names_link_state(MESH_LINK_STATE(CONNECTING)),
	    "connecting");
	assert_string_equal(mesh_names_log_stream(MESH_LOG_STREAM(STDERR)),
	    "stderr");
	/* Case matters: names are compared as given. */
	assert_int_equal(mesh_names_task_state_parse("Running"), 0);
	assert_int_equal(mesh_names_task_state_parse("timed_out"), 0);
}

static void
test_task_state_terminal(void **state)
{
	const ProtobufCEnumDescriptor *d =
	    &agentflow__mesh__v1__task_state__descriptor;
	int n = 0;

	(void)state;
	for (unsigned k = 0; k < d->n_values; k++)
		n += mesh_names_task_state_terminal(d->values[k].value);
	assert_int_equal(n, 4);
	assert_true(mesh_names_task_state_terminal(MESH_TASK_STATE(SUCCEEDED)));
	assert_true(mesh_names_task_state_terminal(MESH_TASK_STATE(FAILED)));
	assert_true(mesh_names_task_state_terminal(MESH_TASK_STATE(CANCELLED)));
	assert_true(mesh_names_task_state_terminal(MESH_TASK_STATE(TIMED_OUT)));
	assert_false(mesh_names_task_state_terminal(MESH_TASK_STATE(QUEUED)));
	assert_false(mesh_names_task_state_terminal(MESH_TASK_STATE(RUNNING)));
	assert_false(mesh_names_task_state_terminal(MESH_TASK_STATE(RETRYING)));
	assert_false(mesh_names_task_state_terminal(0));
	assert_false(mesh_names_task_state_terminal(99));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_value_round_trips),
		cmocka_unit_test(test_event_kinds),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_task_state_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
