/*
 * Our own messages before they go out (sync_priv.h): an event of ours
 * checked against the wire's bounds as it would travel, a heap copy of a
 * message the views keep (sync_jobs.c, sync_schedules.c), and a message
 * packed onto the heap (our events as sync_emit.c queues them, the
 * statuses and NodeInfos sync_origin.c keeps).
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdlib.h>

#include "frame_codec.h"
#include "log.h"
#include "xalloc.h"

int
sync_event_fits(const struct sync *s, const Agentflow__Mesh__V1__Event *kind,
    const char *what, const char *name)
{
	Agentflow__Mesh__V1__Frame f = AGENTFLOW__MESH__V1__FRAME__INIT;
	Agentflow__Mesh__V1__EventBatch b = AGENTFLOW__MESH__V1__EVENT_BATCH__INIT;
	Agentflow__Mesh__V1__Event e = *kind, *ep = &e;
	struct frame_codec_error err;

	e.origin = s->self_id;
	e.incarnation = s->incarnation;
	e.seq = 1;
	e.hop_limit = HOP_LIMIT;
	b.n_events = 1;
	b.events = &ep;
	f.body_case = AGENTFLOW__MESH__V1__FRAME__BODY_EVENTS;
	f.events = &b;
	if (frame_codec_check(&f, &err) == FRAME_CODEC_OK)
		return 1;
	log_event(LOG_ERROR, "update outside the wire's bounds; not sent",
	    "{s:s, s:s, s:s}", "kind", what, "name", name != NULL ? name : "",
	    "error", err.detail);
	return 0;
}

void *
sync_message_copy(const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = xmalloc(len + 1);
	ProtobufCMessage *c;

	protobuf_c_message_pack(m, buf);
	c = protobuf_c_message_unpack(m->descriptor, NULL, len, buf);
	free(buf);
	return c;
}

void *
sync_message_pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = xmalloc(*len ? *len : 1);
	protobuf_c_message_pack(m, buf);
	return buf;
}
