/*
 * JSON over evhttp: replies, errors in our one error shape
 * {"error": code, "message": text}, and bounded access to request bodies
 * and bearer tokens.  Shared by the signal and the node's local API.
 */
#ifndef AGENTFLOW_HTTP_JSON_H
#define AGENTFLOW_HTTP_JSON_H

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

/* Sends body (reference stolen; NULL sends no body) with status. */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* Sends {"error": code, "message": <printf>} with status. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Request body as contiguous bytes (valid until the request is answered),
 * its length in *len.  NULL with *len = 0 when empty. */
const char *http_body(struct evhttp_request *req, size_t *len);

/* The token of "Authorization: Bearer <token>", or NULL.  Points into the
 * request's headers (valid until the request is answered). */
const char *http_bearer(struct evhttp_request *req);

/* Source IP of the request's connection as text ("127.0.0.1", "::1"). */
void http_peer_ip(struct evhttp_request *req, char *out, size_t outlen);

/* "GET", "POST", ... for logs. */
const char *http_method_str(struct evhttp_request *req);

#endif
