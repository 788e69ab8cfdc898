/*
 * A command's target resolved into its destinations (command_target.h).
 * The selector rules are the wire's: at most FRAME_CODEC_MAX_LABELS labels,
 * keys by text.h's label rule, values bounded text.  A target that
 * matches no known node is refused here, before anything is recorded.
 * A selector never reaches a silently smaller set: nodes whose labels are
 * not known yet (they could match) are listed as skipped, and refuse the
 * command when no known node matches.
 */
#include "command_target.h"

#include <stdio.h>
#include <string.h>

#include "frame_codec.h"
#include "json_check.h"
#include "node_id.h"
#include "routing.h"
#include "text.h"

#define SELECTOR_MAX	FRAME_CODEC_MAX_LABELS

/* "k=v,k2=v2" → {"k": "v", "k2": "v2"}, or NULL. */
static json_t *
parse_selector_text(const char *s, char *err, size_t errlen)
{
	json_t *m = json_object();
	struct text_kv kv;
	int rc;

	while ((rc = text_kv_next(&s, &kv)) != 0) {
		if (rc < 0) {
			snprintf(err, errlen, "target: \"%.*s\" is not key=value",
			    (int)kv.item_len, kv.item);
			json_decref(m);
			return NULL;
		}
		json_object_setn_new(m, kv.key, kv.key_len,
		    json_stringn(kv.value, kv.value_len));
	}
	return m;
}

static int
valid_selector(const json_t *m, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m) || json_object_size(m) == 0 ||
	    json_object_size(m) > SELECTOR_MAX) {
		snprintf(err, errlen, "target: a selector needs 1-%d labels",
		    SELECTOR_MAX);
		return -1;
	}
	json_object_foreach((json_t *)m, k, v) {
		if (!text_label_key_valid(k, strlen(k))) {
			snprintf(err, errlen, "target: label key \"%.64s\" must be 1-%d "
			    "of [A-Za-z0-9._/-]", k, FRAME_CODEC_MAX_LABEL_KEY);
			return -1;
		}
		if (!json_check_text(v, 0, FRAME_CODEC_MAX_LABEL_VALUE, false)) {
			snprintf(err, errlen, "target: label \"%s\" needs a string "
			    "value of at most %d bytes", k, FRAME_CODEC_MAX_LABEL_VALUE);
			return -1;
		}
	}
	return 0;
}

/*
 * The present nodes whose labels we do not know, as skipped entries: only
 * those a route leads to.  A dead node whose info went with a restart
 * could not run the command anyway, and would otherwise turn every
 * selector into "skipped" (or 503) until it is pruned.
 */
static json_t *
skipped_unlabelled(struct routing *routing)
{
	json_t *ids = routing_unlabelled(routing), *out = json_array(), *id;
	char hop[NODE_ID_MAX + 1];
	size_t i;

	json_array_foreach(ids, i, id) {
		if (routing_next_hop(routing, json_string_value(id), hop,
		    sizeof(hop)) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:O, s:s}", "node", id,
		    "reason", "its labels are not known here yet"));
	}
	json_decref(ids);
	return out;
}

/* "a, b, c" of skipped's nodes into buf (cut with "..." when long). */
static void
skipped_names(const json_t *skipped, char *buf, size_t len)
{
	size_t i, at = 0;
	json_t *e;
	int n;

	buf[0] = '\0';
	json_array_foreach(skipped, i, e) {
		n = snprintf(buf + at, len - at, "%s%s", i ? ", " : "",
		    json_string_value(json_object_get(e, "node")));
		if (n < 0 || (size_t)n >= len - at) {
			snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len,
			    "...");
			return;
		}
		at += (size_t)n;
	}
}

int
command_target_resolve(struct routing *routing, const json_t *t,
    struct command_target *out,
    const char **code, char *err, size_t errlen)
{
	const char *s = json_string_value(t);

	memset(out, 0, sizeof(*out));
	*code = "invalid_target";
	if (json_is_object(t)) {
		json_t *labels = json_object_get(t, "labels");
		if (json_object_size(t) != 1 || labels == NULL) {
			snprintf(err, errlen, "target: an object target is "
			    "{\"labels\": {key: value}}");
			return -1;
		}
		out->match = json_deep_copy(labels);
	} else if (s == NULL || json_string_length(t) == 0 ||
	    json_string_length(t) > 1024) {
		snprintf(err, errlen, "target: a node id, \"all\", \"key=value\" or "
		    "{\"labels\": {...}} is required");
		return -1;
	} else if (strcmp(s, "all") == 0) {
		out->all = 1;
	} else if (strchr(s, '=') != NULL) {
		if ((out->match = parse_selector_text(s, err, errlen)) == NULL)
			return -1;
	} else if (node_id_valid(s, strlen(s))) {
		out->node = s;
	} else {
		snprintf(err, errlen, "target: \"%.64s\" is not a node id", s);
		return -1;
	}
	if (out->match != NULL && valid_selector(out->match, err, errlen) != 0) {
		json_decref(out->match);
		return -1;
	}
	if (out->node != NULL) {
		out->dests = json_pack("[s]", out->node);
		out->display = json_string(out->node);
	} else {
		out->dests = routing_select(routing, out->match);
		out->display = out->all ? json_string("all") :
		    json_pack("{s:O}", "labels", out->match);
	}
	out->skipped = out->match != NULL ? skipped_unlabelled(routing) :
	    json_array();
	if (json_array_size(out->dests) == 0 &&
	    json_array_size(out->skipped) > 0) {
		char names[512];

		*code = "labels_unknown";
		skipped_names(out->skipped, names, sizeof(names));
		snprintf(err, errlen, "target matches none of the nodes whose "
		    "labels are known here; those of %s are not known yet: try "
		    "again shortly", names);
	} else if (json_array_size(out->dests) == 0) {
		*code = "no_target";
		snprintf(err, errlen, "target matches no known node");
	}
	if (json_array_size(out->dests) == 0) {
		json_decref(out->skipped);
		json_decref(out->dests);
		json_decref(out->display);
		json_decref(out->match);
		return -1;
	}
	return 0;
}

void
command_target_clear(struct command_target *t)
{
	json_decref(t->display);
	json_decref(t->dests);
	json_decref(t->match);
	json_decref(t->skipped);
}

json_t *
command_target_selector(const char *text, char *err, size_t errlen)
{
	json_t *m = parse_selector_text(text, err, errlen);

	if (m != NULL && valid_selector(m, err, errlen) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}
