/*
 * The test-only "extra" build of agentflow-node (agentflow-node-extra,
 * tests/node.cmake): the same node, plus an Event kind and a Frame body
 * that the normal build does not know, standing in for the next version
 * of mesh.proto in a mixed mesh (tests/system/test_version_skew.py).
 *
 * Every EXTRA_EVERY_MS it emits one numbered event of the extra kind
 * (Event field 15, a string) and sends one Frame of the extra body (Frame
 * field 100) to each peer whose Hello lists "test_extra"; with
 * AGENTFLOW_TEST_EXTRA_IGNORE_FEATURES=1 in its environment, to every peer
 * (a peer that ignores features, to check the others survive it).
 */
#include "test_hooks.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_codec.h"
#include "links.h"
#include "log.h"
#include "mesh_features.h"
#include "node.h"
#include "sync.h"

#define EXTRA_EVERY_MS		300
#define EXTRA_EVENT_FIELD	15
#define EXTRA_BODY_FIELD	100

static struct event *tick;
static unsigned long count;

static void
send_extra_body(struct node *n, const char *peer, int ignore_features)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	/* A length-prefixed sub-message holding field 1 = count. */
	uint8_t data[12];
	ProtobufCMessageUnknownField uf;
	size_t len = 0;
	unsigned long v = count;

	if (!ignore_features && !links_peer_speaks(n->links, peer, "test_extra"))
		return;
	data[len++] = 0;		/* length, filled below */
	data[len++] = 0x08;		/* field 1, varint */
	do {
		data[len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0 && len < sizeof(data));
	data[0] = (uint8_t)(len - 1);
	uf.tag = EXTRA_BODY_FIELD;
	uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf.len = len;
	uf.data = data;
	f.base.n_unknown_fields = 1;
	f.base.unknown_fields = &uf;
	links_send_frame(n->links, peer, &f);
}

static int
each_peer(struct node *n, int ignore_features)
{
	json_t *peers = links_status(n->links), *p;
	size_t i;

	json_array_foreach(peers, i, p)
		if (strcmp(json_string_value(json_object_get(p, "state")),
		    "up") == 0)
			send_extra_body(n, json_string_value(json_object_get(p,
			    "peer")), ignore_features);
	json_decref(peers);
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	ProtobufCMessageUnknownField uf;
	char text[64];
	const char *env = getenv("AGENTFLOW_TEST_EXTRA_IGNORE_FEATURES");

	(void)fd;
	(void)what;
	count++;
	/* A length-prefixed string: "extra <count>". */
	snprintf(text + 1, sizeof(text) - 1, "extra %lu", count);
	text[0] = (char)strlen(text + 1);
	uf.tag = EXTRA_EVENT_FIELD;
	uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf.len = (size_t)text[0] + 1;
	uf.data = (uint8_t *)text;
	e.base.n_unknown_fields = 1;
	e.base.unknown_fields = &uf;
	if (sync_emit_event(n->sync, &e) == 0)
		log_event(LOG_WARN, "extra event not queued", NULL);
	each_peer(n, env != NULL && strcmp(env, "1") == 0);
}

void
test_hooks_start(struct node *n)
{
	struct timeval tv = { EXTRA_EVERY_MS / 1000,
	    (EXTRA_EVERY_MS % 1000) * 1000 };

	tick = event_new(n->base, -1, EV_PERSIST, tick_cb, n);
	event_add(tick, &tv);
	log_event(LOG_INFO, "extra build: emitting an extra event kind and "
	    "frame body", NULL);
}

void
test_hooks_stop(void)
{
	if (tick != NULL)
		event_free(tick);
	tick = NULL;
}
