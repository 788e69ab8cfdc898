/*
 * 64-bit ids (sequence numbers, incarnations) in JSON that JavaScript
 * reads exactly.  A JavaScript number holds integers exactly only up to
 * 2^53 - 1 (Number.MAX_SAFE_INTEGER): past it, 2^53 + 1 reads as 2^53, and
 * jansson's signed json_int_t shows 2^63 and above as negative.  So an id
 * up to 2^53 - 1 is a JSON number, as it always was, and a bigger one is a
 * string of its decimal digits.  Readers take both forms.
 */
#ifndef AGENTFLOW_JSON_ID_H
#define AGENTFLOW_JSON_ID_H

#include <jansson.h>
#include <stdint.h>

/* The largest id written as a number: 2^53 - 1. */
#define JSON_ID_SAFE_MAX	((UINT64_C(1) << 53) - 1)

/* v as a new JSON value: a number up to JSON_ID_SAFE_MAX, else a string. */
json_t *json_id_new(uint64_t v);

/* The id in j into *out: a non-negative integer, or a string of 1-20
 * decimal digits up to 2^64 - 1 (no sign, space or leading zero).  0 when
 * it is one, -1 (*out untouched) when j is NULL or anything else. */
int json_id_get(const json_t *j, uint64_t *out);

#endif
