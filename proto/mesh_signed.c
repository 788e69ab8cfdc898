/*
 * The bytes signed for events, commands, results and OriginKeys
 * (mesh_signed.h): one small appender, one function per message.
 */
#include "mesh_signed.h"

#include <string.h>

#include "xalloc.h"

struct buf {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
put(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		while (b->len + n > b->cap)
			b->cap = b->cap ? 2 * b->cap : 256;
		b->p = xrealloc(b->p, b->cap);
	}
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
put_u64(struct buf *b, uint64_t v)
{
	uint8_t be[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		be[i] = (uint8_t)(v & 0xff);
	put(b, be, sizeof(be));
}

static void
put_bytes(struct buf *b, const void *data, size_t n)
{
	uint8_t be[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
	    (uint8_t)(n >> 8), (uint8_t)n };

	put(b, be, sizeof(be));
	put(b, data, n);
}

static void
put_str(struct buf *b, const char *s)
{
	put_bytes(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static uint8_t *
done(struct buf *b, size_t *len)
{
	*len = b->len;
	return b->p;
}

static struct buf
begin(const char *tag)
{
	struct buf b = { NULL, 0, 0 };

	put_str(&b, tag);
	return b;
}

uint8_t *
mesh_signed_event(const Agentflow__Mesh__V1__Event *e, int kind,
    const void *body, size_t body_len, size_t *len)
{
	struct buf b = begin("agentflow event v1");

	put_str(&b, e->origin);
	put_u64(&b, e->incarnation);
	put_u64(&b, e->seq);
	put_u64(&b, e->time_ms);
	put_u64(&b, (uint64_t)kind);
	put_bytes(&b, body, body_len);
	return done(&b, len);
}

/* The command's signed fields; with its principal proof appended when
 * with_proof and it carries one (a command without one signs as before
 * the proof existed). */
static uint8_t *
command_bytes(const Agentflow__Mesh__V1__Command *c, int with_proof,
    size_t *len)
{
	const Agentflow__Mesh__V1__PrincipalProof *p = c->principal_proof;
	struct buf b = begin("agentflow command v1");

	put_str(&b, c->id);
	put_str(&b, c->origin);
	put_u64(&b, (uint64_t)c->target_case);
	switch (c->target_case) {
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_NODE_ID:
		put_str(&b, c->node_id);
		break;
	case AGENTFLOW__MESH__V1__COMMAND__TARGET_SELECTOR:
		put_u64(&b, c->selector != NULL ? c->selector->n_match : 0);
		for (size_t i = 0; c->selector != NULL &&
		    i < c->selector->n_match; i++) {
			put_str(&b, c->selector->match[i]->key);
			put_str(&b, c->selector->match[i]->value);
		}
		break;
	default:
		put_u64(&b, c->all ? 1 : 0);
		break;
	}
	put_str(&b, c->destination);
	put_str(&b, c->principal);
	put_str(&b, c->role);
	put_u64(&b, (uint64_t)c->type);
	put_bytes(&b, c->args_json.data, c->args_json.len);
	put_u64(&b, c->deadline_ms);
	put_str(&b, c->idempotency_key);
	put_u64(&b, c->issued_ms);
	if (with_proof && p != NULL) {
		put_str(&b, "principal proof");
		put_bytes(&b, p->claims.data, p->claims.len);
		put_bytes(&b, p->issuer_sig.data, p->issuer_sig.len);
		put_bytes(&b, p->sig.data, p->sig.len);
	}
	return done(&b, len);
}

uint8_t *
mesh_signed_command(const Agentflow__Mesh__V1__Command *c, size_t *len)
{
	return command_bytes(c, 1, len);
}

uint8_t *
mesh_signed_command_for_proof(const Agentflow__Mesh__V1__Command *c,
    size_t *len)
{
	return command_bytes(c, 0, len);
}

uint8_t *
mesh_signed_result(const Agentflow__Mesh__V1__CommandResult *r, size_t *len)
{
	struct buf b = begin("agentflow result v1");

	put_str(&b, r->command_id);
	put_str(&b, r->node);
	put_str(&b, r->requester);
	put_str(&b, r->destination);
	put_u64(&b, (uint64_t)r->status);
	put_bytes(&b, r->body_json.data, r->body_json.len);
	put_str(&b, r->error);
	put_u64(&b, r->finished_ms);
	return done(&b, len);
}

uint8_t *
mesh_signed_origin_key(const char *node_id,
    const Agentflow__Mesh__V1__OriginKey *k, size_t *len)
{
	struct buf b = begin("agentflow origin key v1");

	put_str(&b, node_id);
	put_u64(&b, k->incarnation);
	put_bytes(&b, k->public_key.data, k->public_key.len);
	put_u64(&b, k->issued_ms);
	return done(&b, len);
}

uint8_t *
mesh_signed_job_grant(const char *job_id, const char *issuer,
    const char *principal, const char *args_hash, const char *to,
    int64_t deadline_ms, int64_t submitted_ms, size_t *len)
{
	struct buf b = { NULL, 0, 0 };

	put(&b, "agentflow job grant v1", sizeof("agentflow job grant v1"));
	put_str(&b, job_id);
	put_str(&b, issuer);
	put_str(&b, principal);
	put_str(&b, args_hash);
	put_str(&b, to);
	put_u64(&b, (uint64_t)deadline_ms);
	put_u64(&b, (uint64_t)submitted_ms);
	return done(&b, len);
}
