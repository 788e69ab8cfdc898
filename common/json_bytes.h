/*
 * Bytes in JSON as base64 (RFC 4648, with padding): a user event's
 * payload that is not text goes out as "payload_b64", and comes in the
 * same way.
 */
#ifndef AGENTFLOW_JSON_BYTES_H
#define AGENTFLOW_JSON_BYTES_H

#include <jansson.h>
#include <stddef.h>

/* The len bytes at p as a new JSON string of their base64. */
json_t *json_b64_new(const void *p, size_t len);

/* The base64 string j decoded into a new buffer (*out, the caller frees
 * it; *len its length, which may be 0).  -1 when j is not a string of
 * base64 or decodes to more than max bytes. */
int json_b64_get(const json_t *j, size_t max, unsigned char **out,
    size_t *len);

#endif
