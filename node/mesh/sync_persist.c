/*
 * Our cursors for a Hello, and the state we hold of others written to
 * the store, with the event log's trim (sync_priv.h).
 */
#include "sync.h"
#include "sync_priv.h"

#include "clock.h"
#include "frame_codec.h"
#include "hmap.h"
#include "log.h"
#include "store.h"
#include "store_trim.h"
#include "xalloc.h"

struct cursor_fill {
	struct sync	*s;
	size_t		 n;
};

static int
fill_cursor(const char *id, void *value, void *arg)
{
	struct cursor_fill *cf = arg;
	struct origin *o = value;
	Agentflow__Mesh__V1__Cursor *c;

	if (o->incarnation == 0 || cf->n >= FRAME_CODEC_MAX_NODES)
		return 0;
	c = &cf->s->cursor_buf[cf->n];
	agentflow__mesh__v1__cursor__init(c);
	c->origin = (char *)id;
	c->incarnation = o->incarnation;
	c->seq = o->seq;
	cf->s->cursor_ptrs[cf->n++] = c;
	return 0;
}

size_t
sync_cursors(Agentflow__Mesh__V1__Cursor ***out, void *arg)
{
	struct sync *s = arg;
	struct cursor_fill cf = { s, 0 };
	size_t n = hmap_count(s->origins) + 1;

	s->cursor_buf = xrealloc(s->cursor_buf, n * sizeof(*s->cursor_buf));
	s->cursor_ptrs = xrealloc(s->cursor_ptrs, n * sizeof(*s->cursor_ptrs));
	hmap_sweep(s->origins, fill_cursor, &cf);
	*out = s->cursor_ptrs;
	return cf.n;
}

static int
persist_origin(const char *id, void *value, void *arg)
{
	struct sync *s = arg;
	struct origin *o = value;
	struct store_remote r;

	if (!o->dirty || o == s->self)
		return 0;
	r.origin = id;
	r.incarnation = o->incarnation;
	r.seq = o->seq;
	r.status = o->status;
	r.status_len = o->status_len;
	r.updated_ms = (int64_t)o->updated_ms;
	if (store_remote_upsert(s->store, &r) != 0)
		log_event(LOG_WARN, "cannot persist remote state", "{s:s, s:s}",
		    "origin", id, "error", store_error(s->store));
	o->dirty = 0;
	return 0;
}

void
sync_persist_all(struct sync *s)
{
	store_batch_begin(s->store);		/* one commit for all origins */
	hmap_sweep(s->origins, persist_origin, s);
	if (store_batch_end(s->store) != 0)
		log_event(LOG_WARN, "cannot persist remote state", "{s:s}", "error",
		    store_error(s->store));
}

void
sync_persist_cb(void *arg)
{
	struct sync *s = arg;
	uint64_t now = clock_mono_ms(), deleted = 0;

	sync_persist_all(s);
	/* Every period, and sooner in a flood: a tenth over the count. */
	if (now - s->last_trim_ms >= TRIM_PERIOD_MS ||
	    s->events_in + s->self->seq - s->events_at_trim >
	    s->events_kept / 10) {
		s->last_trim_ms = now;
		s->events_at_trim = s->events_in + s->self->seq;
		if (store_events_trim_shares(s->store, s->events_kept,
		    s->events_bytes, &deleted) != 0)
			log_event(LOG_WARN, "cannot trim the event log", "{s:s}",
			    "error", store_error(s->store));
	}
}
