/*
 * The event log's share of the dashboard's snapshot, bounded in bytes, and
 * GET /api/events/{origin}/{incarnation}/{seq}: one whole event.
 *
 * A snapshot goes to every client that connects, and again to every one
 * that falls behind, so it must stay small whatever the mesh posted: 500
 * user events of 64 KiB made it 30 MB, and every client was closed as too
 * slow on every node.  So an event whose JSON is bigger than INLINE_MAX
 * goes out as a summary (its key, its size and the URL of the route below)
 * and the snapshot stops adding older events once the budget is spent,
 * saying so with "truncated": true.  GET /api/events?until= (a page of
 * older history for the timeline) summarises the same way: 1000 user
 * events of 64 KiB made one page 64 MB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_priv.h"
#include "http_json.h"
#include "json_id.h"
#include "log.h"
#include "mesh_names.h"
#include "node.h"
#include "node_id.h"
#include "store.h"

/* An event encoded bigger than this is summarised in a snapshot. */
#define INLINE_MAX	8192

static void
event_url(const struct store_event *ev, char *out, size_t outlen)
{
	snprintf(out, outlen, "/api/events/%s/%" PRIu64 "/%" PRIu64, ev->origin,
	    ev->incarnation, ev->seq);
}

/* The event without its body: what it is, how big its body is as stored
 * (bytes), where the rest is. */
static json_t *
summary_json(const struct store_event *ev, size_t bytes)
{
	char url[200];

	event_url(ev, url, sizeof(url));
	return json_pack("{s:s, s:o, s:o, s:s, s:I, s:I, s:n, s:b, s:I, s:s}",
	    "origin", ev->origin, "incarnation", json_id_new(ev->incarnation),
	    "seq", json_id_new(ev->seq), "kind", mesh_names_event_kind(ev->kind),
	    "time_ms", (json_int_t)ev->time_ms,
	    "received_ms", (json_int_t)ev->received_ms, "body", "summarized", 1,
	    "body_bytes", (json_int_t)bytes, "url", url);
}

static size_t
encoded_len(const json_t *j)
{
	return json_dumpb(j, NULL, 0, JSON_COMPACT);
}

int
api_events_inline_cb(void *arg, const struct store_event *ev)
{
	json_t *list = arg, *j = NULL;
	size_t len = ev->body_len;

	/* A body that big encodes bigger still: no need to build it. */
	if (len <= INLINE_MAX) {
		j = api_event_json(ev);
		if ((len = encoded_len(j)) > INLINE_MAX) {
			json_decref(j);
			j = NULL;
		}
	}
	json_array_append_new(list, j != NULL ? j :
	    summary_json(ev, ev->body_len));
	return 0;
}

json_t *
api_events_bounded(struct node *n, unsigned limit, size_t budget,
    int *truncated)
{
	struct store_event_query sq = { 0 };
	json_t *all = json_array(), *out = json_array();
	size_t i, used = 0, len;

	sq.limit = limit;
	sq.newest = 1;
	/* Statuses every second from every node would crowd out the rest;
	 * the latest of each is in the cluster view. */
	sq.not_kind = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	if (store_events_query(n->store, &sq, api_events_inline_cb, all) < 0)
		log_event(LOG_WARN, "cannot read the event log", "{s:s}", "error",
		    store_error(n->store));
	/* Newest first until the budget is spent, then back to oldest first. */
	*truncated = 0;
	for (i = json_array_size(all); i > 0; i--) {
		len = encoded_len(json_array_get(all, i - 1)) + 1;
		if (used + len > budget) {
			*truncated = 1;
			break;
		}
		used += len;
	}
	for (; i < json_array_size(all); i++)
		json_array_append(out, json_array_get(all, i));
	json_decref(all);
	return out;
}

struct one_event {
	uint64_t	 seq;
	json_t		*event;
};

static int
one_cb(void *arg, const struct store_event *ev)
{
	struct one_event *o = arg;

	if (ev->seq == o->seq && o->event == NULL)
		o->event = api_event_json(ev);
	return 0;
}

/* "123" as a uint64 in *out, the rest after it in *rest; -1 if none. */
static int
read_u64(const char *s, uint64_t *out, const char **rest)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	*rest = end;
	return 0;
}

/* GET /api/events/{origin}/{incarnation}/{seq}: the event whole, as
 * GET /api/events lists it; the URL a snapshot's summary gives. */
void
api_events_one(const struct api_call *call)
{
	const char *p = call->arg, *slash = strchr(p, '/');
	struct one_event o = { 0, NULL };
	uint64_t inc;
	char origin[NODE_ID_MAX + 1];
	size_t olen = slash != NULL ? (size_t)(slash - p) : 0;
	int rc;

	if (olen == 0 || olen >= sizeof(origin) || !node_id_valid(p, olen) ||
	    read_u64(slash + 1, &inc, &p) != 0 || *p != '/' ||
	    read_u64(p + 1, &o.seq, &p) != 0 || *p != '\0' || o.seq == 0) {
		http_reply_error(call->req, 400, "invalid_field", "expected "
		    "/api/events/{origin}/{incarnation}/{seq}");
		return;
	}
	memcpy(origin, call->arg, olen);
	origin[olen] = '\0';
	rc = store_events_after(call->n->store, origin, inc, o.seq - 1, 1, one_cb,
	    &o);
	if (rc < 0) {
		http_reply_error(call->req, 500, "internal", "cannot read the event "
		    "log: %s", store_error(call->n->store));
		return;
	}
	if (o.event == NULL) {
		http_reply_error(call->req, 404, "not_found", "no event %s/%" PRIu64
		    "/%" PRIu64 " is kept here", origin, inc, o.seq);
		return;
	}
	http_reply_json(call->req, 200, o.event);
}
