/*
 * When a sampled status goes out (status_pace.h).
 *
 * The "shape" of a status is its bytes with every measured figure set to
 * zero: two samples with the same shape differ only in figures.  The last
 * sent shape and figures are kept; a sample goes out when its shape
 * differs, a figure moved past its threshold, the mesh is settling, the
 * last one is idle_ms old, or someone watches.
 */
#include "status_pace.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct pace_shape {
	uint8_t		*bytes;
	size_t		 len;
};

struct status_pace {
	uint64_t	 idle_ms;
	uint64_t	 settle_ms;
	int		 any;		/* one was sent */
	uint64_t	 sent_ms;
	uint64_t	 mesh_gen;
	uint64_t	 settle_until;	/* every sample goes out until */
	struct pace_shape shape[PACE_PARTS];
	uint64_t	 mem, disk;
	uint64_t	 nsent, nheld;
	uint64_t	 nchanged[PACE_PARTS];
};

struct status_pace *
status_pace_new(uint64_t idle_ms, uint64_t settle_ms)
{
	struct status_pace *p = xcalloc(1, sizeof(*p));

	p->idle_ms = idle_ms;
	p->settle_ms = settle_ms;
	return p;
}

static void
shape_free(struct pace_shape part[PACE_PARTS])
{
	for (int i = 0; i < PACE_PARTS; i++) {
		free(part[i].bytes);
		part[i].bytes = NULL;
		part[i].len = 0;
	}
}

void
status_pace_free(struct status_pace *p)
{
	if (p == NULL)
		return;
	shape_free(p->shape);
	free(p);
}

/* s packed into a new buffer (ours to free). */
static uint8_t *
packed(const Agentflow__Mesh__V1__NodeStatus *s, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(&s->base);
	buf = xmalloc(*len + 1);
	protobuf_c_message_pack(&s->base, buf);
	return buf;
}

/*
 * st's bytes without its measured figures, in its parts (status_pace.h:
 * links, members, the rest), each packed alone so that a change can be
 * told by part.
 */
static void
shape_of(const Agentflow__Mesh__V1__NodeStatus *st,
    struct pace_shape part[PACE_PARTS])
{
	Agentflow__Mesh__V1__NodeStatus s = *st, one =
	    AGENTFLOW__MESH__V1__NODE_STATUS__INIT;
	Agentflow__Mesh__V1__LinkInfo *links = xcalloc(st->n_links + 1, sizeof(*links));
	Agentflow__Mesh__V1__LinkInfo **lp = xcalloc(st->n_links + 1, sizeof(*lp));
	Agentflow__Mesh__V1__MemberInfo *mem = xcalloc(st->n_members + 1, sizeof(*mem));
	Agentflow__Mesh__V1__MemberInfo **mp = xcalloc(st->n_members + 1, sizeof(*mp));
	size_t nmem = 0;

	s.cpu_percent = 0;
	s.mem_used_bytes = 0;
	s.load1 = s.load5 = s.load15 = 0;
	s.disk_used_bytes = 0;
	s.net_rx_bytes = s.net_tx_bytes = 0;
	s.net_rx_bytes_per_s = s.net_tx_bytes_per_s = 0;
	s.uptime_s = s.process_uptime_s = 0;
	for (size_t i = 0; i < st->n_links; i++) {
		links[i] = *st->links[i];
		links[i].rtt_us = 0;
		/* A dial to a neighbour not reached yet is no change peers
		 * act on (routing reads up links only): each redial of one
		 * made a status go out, over and over in a forming mesh. */
		links[i].since_ms = 0;
		if (links[i].state ==
		    AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_CONNECTING)
			links[i].state =
			    AGENTFLOW__MESH__V1__LINK_STATE__LINK_STATE_DOWN;
		lp[i] = &links[i];
	}
	/* A relayed member's state is what our link-state graph says of
	 * it, and every node computes that graph from the links part:
	 * repeating it tells peers nothing they act on.  In a forming mesh
	 * of 100 such states came and went with routes at nearly every
	 * sample, each one a status to all.  They go out with the next
	 * status sent for another reason (idle_ms, a dashboard watching). */
	for (size_t i = 0; i < st->n_members; i++) {
		if (!st->members[i]->direct)
			continue;
		mem[nmem] = *st->members[i];
		mem[nmem].last_seen_ms = 0;
		mp[nmem] = &mem[nmem];
		nmem++;
	}
	one.n_links = st->n_links;
	one.links = lp;
	part[PACE_LINKS].bytes = packed(&one, &part[PACE_LINKS].len);
	one.n_links = 0;
	one.n_members = nmem;
	one.members = mp;
	part[PACE_MEMBERS].bytes = packed(&one, &part[PACE_MEMBERS].len);
	s.n_links = s.n_members = 0;
	part[PACE_REST].bytes = packed(&s, &part[PACE_REST].len);
	free(links);
	free(lp);
	free(mem);
	free(mp);
}

/* |a - b| > permille of total. */
static int
moved(uint64_t a, uint64_t b, uint64_t total)
{
	uint64_t d = a > b ? a - b : b - a;

	return total > 0 && d > total / 1000 * PACE_BYTES_PERMILLE;
}

int
status_pace_due(struct status_pace *p, const Agentflow__Mesh__V1__NodeStatus *st,
    int watched, uint64_t mesh_gen, uint64_t now_ms)
{
	struct pace_shape shape[PACE_PARTS];
	int changed = !p->any || mesh_gen != p->mesh_gen;
	int due;

	shape_of(st, shape);
	for (int i = 0; i < PACE_PARTS && p->any; i++)
		if (shape[i].len != p->shape[i].len || memcmp(shape[i].bytes,
		    p->shape[i].bytes, shape[i].len) != 0) {
			p->nchanged[i]++;
			changed = 1;
		}
	if (changed)
		p->settle_until = now_ms + p->settle_ms;
	p->mesh_gen = mesh_gen;
	due = changed || watched || p->idle_ms == 0 || now_ms < p->settle_until ||
	    now_ms - p->sent_ms >= p->idle_ms ||
	    moved(st->mem_used_bytes, p->mem, st->mem_total_bytes) ||
	    moved(st->disk_used_bytes, p->disk, st->disk_total_bytes);
	if (!due) {
		shape_free(shape);
		p->nheld++;
		return 0;
	}
	shape_free(p->shape);
	memcpy(p->shape, shape, sizeof(shape));
	p->any = 1;
	p->sent_ms = now_ms;
	p->mem = st->mem_used_bytes;
	p->disk = st->disk_used_bytes;
	p->nsent++;
	return 1;
}

uint64_t
status_pace_sent(const struct status_pace *p)
{
	return p->nsent;
}

uint64_t
status_pace_held(const struct status_pace *p)
{
	return p->nheld;
}

uint64_t
status_pace_changed(const struct status_pace *p, enum pace_part part)
{
	return part < PACE_PARTS ? p->nchanged[part] : 0;
}
