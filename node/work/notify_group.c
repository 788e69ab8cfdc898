/*
 * What a group's notice says (notify_group.h).
 */
#include "notify_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int
severity_rank(const char *s)
{
	static const char *const order[] = { "info", "warning", "critical" };

	for (int i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, order[i]) == 0)
			return i;
	return -1;
}

static const char *
str_of(const json_t *a, const char *k)
{
	const char *s = json_string_value(json_object_get(a, k));

	return s != NULL ? s : "";
}

/* "a, b, c and 2 more": subjects (or ids, when a subject is empty) of
 * alerts, within NOTIFY_GROUP_SUBJECT_MAX bytes. */
static json_t *
subjects(const json_t *alerts)
{
	char buf[NOTIFY_GROUP_SUBJECT_MAX + 32];
	size_t n = json_array_size(alerts), used = 0, i;
	const json_t *a;

	buf[0] = '\0';
	json_array_foreach(alerts, i, a) {
		const char *s = str_of(a, "subject");
		size_t len;

		if (s[0] == '\0')
			s = str_of(a, "alert_id");
		len = strlen(s) + (i > 0 ? 2 : 0);
		if (used + len > NOTIFY_GROUP_SUBJECT_MAX) {
			snprintf(buf + used, sizeof(buf) - used, " and %zu more",
			    n - i);
			break;
		}
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
		    i > 0 ? ", " : "", s);
	}
	return json_string(buf);
}

/* head (NULL: none) and each string of parts, sep before each but a
 * first with no head: a new string. */
static json_t *
joined(const char *head, const json_t *parts, const char *sep)
{
	size_t total = (head != NULL ? strlen(head) : 0) + 1, used = 0, k;
	const json_t *v;
	json_t *out;
	char *text;

	json_array_foreach(parts, k, v)
		total += strlen(sep) + json_string_length(v);
	text = xmalloc(total);
	used = (size_t)snprintf(text, total, "%s", head != NULL ? head : "");
	json_array_foreach(parts, k, v)
		used += (size_t)snprintf(text + used, total - used, "%s%s",
		    head != NULL || k > 0 ? sep : "", json_string_value(v));
	out = json_string(text);
	free(text);
	return out;
}

json_t *
notify_group_summary(const json_t *alerts)
{
	const json_t *first = json_array_get(alerts, 0), *a;
	json_t *out = json_deep_copy(first), *ids = json_array();
	json_t *lines = json_array();
	const char *sev = str_of(first, "severity");
	json_int_t fired = json_integer_value(json_object_get(first, "fired_ms"));
	json_int_t resolved = 0;
	char head[32];
	size_t i;

	json_array_foreach(alerts, i, a) {
		json_int_t f = json_integer_value(json_object_get(a, "fired_ms"));
		json_int_t r = json_integer_value(json_object_get(a,
		    "resolved_ms"));

		if (severity_rank(str_of(a, "severity")) > severity_rank(sev))
			sev = str_of(a, "severity");
		if (f > 0 && (fired == 0 || f < fired))
			fired = f;
		if (r > resolved)
			resolved = r;
		json_array_append(ids, json_object_get(a, "alert_id"));
		json_array_append_new(lines, json_sprintf("%s%s%s",
		    str_of(a, "subject")[0] != '\0' ? str_of(a, "subject") :
		    str_of(a, "alert_id"), str_of(a, "message")[0] != '\0' ?
		    ": " : "", str_of(a, "message")));
	}
	snprintf(head, sizeof(head), "%zu alerts", json_array_size(alerts));
	json_object_set_new(out, "severity", json_string(sev));
	json_object_set_new(out, "subject", subjects(alerts));
	json_object_set_new(out, "message", joined(head, lines, "\n"));
	json_object_set_new(out, "alert_id", joined(NULL, ids, " "));
	json_object_set_new(out, "fired_ms", json_integer(fired));
	json_object_set_new(out, "resolved_ms", json_integer(resolved));
	json_object_set_new(out, "count", json_integer((json_int_t)
	    json_array_size(alerts)));
	json_decref(lines);
	json_decref(ids);
	return out;
}

json_t *
notify_group_webhook(const char *node, const char *state,
    const json_t *alerts)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:O}", "kind",
	    "alert_group", "state", state, "node", node, "repeat", 0, "rule",
	    str_of(json_array_get(alerts, 0), "rule"), "count",
	    (json_int_t)json_array_size(alerts), "alerts", alerts);
}
