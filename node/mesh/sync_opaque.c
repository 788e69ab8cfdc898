/*
 * Opaque events of a newer kind in the event log (sync_opaque.h).  Such
 * an Event decodes with no kind and the newer kind as an unknown field
 * (frame_codec.h); that field, length-prefixed like every message kind,
 * is what the log keeps, and what a replay puts back.
 */
#include "sync_opaque.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The first Event field number after the kinds this version knows. */
#define FIRST_UNKNOWN_KIND	(AGENTFLOW__MESH__V1__EVENT__KIND_USER + 1)

int
sync_opaque_body(const Agentflow__Mesh__V1__Event *e, int *kind,
    const void **body, size_t *len)
{
	const ProtobufCMessageUnknownField *uf;

	if (e->kind_case != AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET)
		return 0;
	for (size_t i = 0; i < e->base.n_unknown_fields; i++) {
		uf = &e->base.unknown_fields[i];
		if (uf->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED ||
		    uf->tag < FIRST_UNKNOWN_KIND || uf->tag > 0x7fffffff ||
		    uf->len == 0)
			continue;
		*kind = (int)uf->tag;
		*body = uf->data;
		*len = uf->len;
		return 1;
	}
	return 0;
}

int
sync_opaque_event(Agentflow__Mesh__V1__Event *e, int kind, const void *body,
    size_t len)
{
	ProtobufCMessageUnknownField *uf;

	if (kind < FIRST_UNKNOWN_KIND || len == 0)
		return -1;
	uf = xcalloc(1, sizeof(*uf));
	uf->tag = (uint32_t)kind;
	uf->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	uf->len = len;
	uf->data = xmalloc(len);
	memcpy(uf->data, body, len);
	e->kind_case = AGENTFLOW__MESH__V1__EVENT__KIND__NOT_SET;
	e->base.n_unknown_fields = 1;
	e->base.unknown_fields = uf;
	return 0;
}
