/*
 * Our own events (sync.h, sync_priv.h): each is numbered (our
 * incarnation, the next seq), signed (sync_vouch_sign), applied to our
 * own origin, and queued; the queue is logged in one transaction and
 * sent as one EventBatch to every up link at the next loop pass, or at
 * once when a batch is full (sync_flush).
 *
 * Invariants: the own origin's cursor is (our incarnation, last seq
 * emitted): within a life only emit() moves it (a life starts at seq 0:
 * sync_new, sync_incarnation.c), and nothing received ever does.
 * kept_seq is our last event that is not a plain status, which every
 * status's statuses_from is computed from.  An event that cannot be
 * queued (too large, or its copy does not unpack) takes no seq.
 */
#include "sync.h"
#include "sync_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "frame_codec.h"
#include "log.h"
#include "store.h"

/*
 * Whether a status of ours is one no catch-up leaves out: it carries our
 * NodeInfo (said once per change), or it turns freeze on or off (the kill
 * switch: every node's timeline shows when, whenever it joined).
 */
static int
status_kept(const struct sync *s, const Agentflow__Mesh__V1__NodeStatus *st)
{
	return st->info != NULL || st->frozen != s->frozen_sent;
}

/* Numbers, applies, logs and queues one of our own events. */
static uint64_t
emit(struct sync *s, Agentflow__Mesh__V1__Event *e)
{
	uint8_t sig[ORIGIN_KEYS_SIGNATURE];
	size_t len;
	uint8_t *buf;

	e->origin = s->self_id;
	e->incarnation = s->incarnation;
	e->seq = s->self->seq + 1;
	e->time_ms = clock_wall_ms();
	e->hops = 0;
	e->hop_limit = HOP_LIMIT;
	/* A plain status says since when we sent nothing else; one every
	 * catch-up carries, as our other events, says itself. */
	if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS)
		e->status->statuses_from = status_kept(s, e->status) ? e->seq :
		    s->kept_seq + 1;
	sync_vouch_sign(s, e, sig);
	/* A heap copy of our own, owned by the pending batch. */
	buf = sync_message_pack(&e->base, &len);
	if (len > FRAME_CODEC_MAX_FRAME / 2) {
		free(buf);
		return 0;
	}
	s->pending[s->npending] = agentflow__mesh__v1__event__unpack(NULL, len, buf);
	free(buf);
	if (s->pending[s->npending] == NULL)
		return 0;
	s->npending++;
	s->pending_bytes += len;
	s->self->seq = e->seq;
	s->self->updated_ms = e->time_ms;
	if (e->kind_case != AGENTFLOW__MESH__V1__EVENT__KIND_STATUS ||
	    status_kept(s, e->status))
		s->kept_seq = e->seq;
	if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS)
		s->frozen_sent = e->status->frozen;
	/* Our own row of the graph is our live links (links_up_generation),
	 * so routing leaves it out: our status does not change the graph. */
	if (e->kind_case == AGENTFLOW__MESH__V1__EVENT__KIND_STATUS)
		sync_origin_set_status(s, s->self, e->status, e->time_ms,
		    e->seq, &e->signature);
	/* Logged with the rest of its batch at flush, in one transaction. */
	if (s->npending >= BATCH_MAX_EVENTS || s->pending_bytes >= BATCH_MAX_BYTES)
		sync_flush(s);
	else
		event_active(s->flush_ev, EV_TIMEOUT, 0);
	return e->seq;
}

/*
 * Our status; the first after our NodeInfo was set carries it, so that it
 * travels like every event to every node, neighbour or not.
 */
uint64_t
sync_emit_status(struct sync *s, const Agentflow__Mesh__V1__NodeStatus *st)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__NodeStatus with = *st;
	Agentflow__Mesh__V1__NodeInfo *info = NULL;	/* ours to free */
	uint64_t seq;

	if (s->info_unsent && s->self->info != NULL &&
	    (info = agentflow__mesh__v1__node_info__unpack(NULL,
	    s->self->info_len, s->self->info)) != NULL)
		with.info = info;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_STATUS;
	e.status = &with;
	seq = emit(s, &e);
	if (info != NULL) {
		if (seq != 0)
			s->info_unsent = 0;
		agentflow__mesh__v1__node_info__free_unpacked(info, NULL);
	}
	return seq;
}

int
sync_info_unsent(const struct sync *s)
{
	return s->info_unsent;
}

uint64_t
sync_emit_user(struct sync *s, const char *name, const void *payload, size_t len,
    char *err, size_t errlen)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__UserEvent u = AGENTFLOW__MESH__V1__USER_EVENT__INIT;
	size_t nlen = strlen(name);

	if (nlen == 0 || nlen > NAME_MAX_LEN) {
		snprintf(err, errlen, "name: 1-%d bytes required", NAME_MAX_LEN);
		return 0;
	}
	for (size_t i = 0; i < nlen; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			snprintf(err, errlen, "name: control characters are not allowed");
			return 0;
		}
	}
	if (len > USER_PAYLOAD_MAX) {
		snprintf(err, errlen, "payload: %zu bytes, at most %d allowed", len,
		    USER_PAYLOAD_MAX);
		return 0;
	}
	u.name = (char *)name;
	u.payload.data = (uint8_t *)payload;
	u.payload.len = len;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_USER;
	e.user = &u;
	if (emit(s, &e) == 0) {
		snprintf(err, errlen, "cannot queue the event");
		return 0;
	}
	log_event(LOG_DEBUG, "user event emitted", "{s:s, s:I, s:i}", "name", name,
	    "seq", (json_int_t)s->self->seq, "bytes", (int)len);
	return s->self->seq;
}

uint64_t
sync_emit_task(struct sync *s, const Agentflow__Mesh__V1__TaskUpdate *t)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TASK;
	e.task = (Agentflow__Mesh__V1__TaskUpdate *)t;
	return emit(s, &e);
}

uint64_t
sync_emit_log(struct sync *s, const Agentflow__Mesh__V1__TaskLog *l)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_LOG;
	e.log = (Agentflow__Mesh__V1__TaskLog *)l;
	return emit(s, &e);
}

uint64_t
sync_emit_alert(struct sync *s, const Agentflow__Mesh__V1__Alert *a)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;

	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_ALERT;
	e.alert = (Agentflow__Mesh__V1__Alert *)a;
	return emit(s, &e);
}

uint64_t
sync_emit_token_revoked(struct sync *s, const char *token_id)
{
	Agentflow__Mesh__V1__Event e = AGENTFLOW__MESH__V1__EVENT__INIT;
	Agentflow__Mesh__V1__TokenRevoked t = AGENTFLOW__MESH__V1__TOKEN_REVOKED__INIT;

	t.token_id = (char *)token_id;
	e.kind_case = AGENTFLOW__MESH__V1__EVENT__KIND_TOKEN_REVOKED;
	e.token_revoked = &t;
	return emit(s, &e);
}

uint64_t
sync_emit_event(struct sync *s, Agentflow__Mesh__V1__Event *e)
{
	return emit(s, e);
}

void
sync_flush(struct sync *s)
{
	if (s->npending == 0)
		return;
	store_batch_begin(s->store);
	for (size_t i = 0; i < s->npending; i++)
		sync_log_event_row(s, s->pending[i], NULL, 0, 0);
	if (store_batch_end(s->store) != 0)
		log_event(LOG_WARN, "cannot log our events", "{s:s}", "error",
		    store_error(s->store));
	sync_send_events(s, NULL, s->pending, s->npending, 0);
	s->events_out += s->npending;
	for (size_t i = 0; i < s->npending; i++)
		agentflow__mesh__v1__event__free_unpacked(s->pending[i], NULL);
	s->npending = 0;
	s->pending_bytes = 0;
}

void
sync_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sync_flush(arg);
}
