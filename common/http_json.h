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

/* The reason phrase of status ("Accepted" for 202); never NULL. */
const char *http_reason(int status);
/* evhttp_send_reply with http_reason(status): every reply goes through
 * here or http_reply_json.  body may be NULL; it is not freed. */
void http_reply(struct evhttp_request *req, int status, struct evbuffer *body);

/* {"error": text} from a printf format (text cut at 511 bytes): the
 * refusal a module's call hands back to the route that answers it
 * (services_put, artifacts_upload...), not yet the reply's shape. */
json_t *http_error_text(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Sends body (reference stolen; NULL sends no body) with status. */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);
/* Sends {"error": code, "message": <printf>} with status. */
void http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The request body parsed as JSON (new reference; duplicate keys
 * refused), or NULL after answering 400 bad_json. */
json_t *http_body_json(struct evhttp_request *req);

/* Request body as contiguous bytes (valid until the request is answered),
 * its length in *len.  NULL with *len = 0 when empty. */
const char *http_body(struct evhttp_request *req, size_t *len);

/* The token of "Authorization: Bearer <token>", or NULL.  Points into the
 * request's headers (valid until the request is answered). */
const char *http_bearer(struct evhttp_request *req);
/* The same of an Authorization header's value (NULL: none); points into
 * it. */
const char *http_bearer_value(const char *authorization);

/* Source IP of the request's connection as text ("127.0.0.1", "::1"). */
void http_peer_ip(struct evhttp_request *req, char *out, size_t outlen);

/*
 * Lets every method through to http's callbacks, also TRACE, CONNECT and
 * the ones libevent 2.1 does not know ("BREW"): it gives those the bit
 * EVHTTP_REQ_UNKNOWN_ (1 << 15, private to its http-internal.h) and,
 * unless the allowed mask has it, answers 501 in HTML before our code
 * runs.  With every bit set our dispatchers answer in JSON.
 * tests/system/test_api_replies.py notices if a libevent upgrade changes
 * this (docs/api.md, "What libevent answers itself").
 */
void http_allow_every_method(struct evhttp *http);
/* 0 for a method libevent does not know: the dispatcher answers 501 and
 * closes the connection (a body such a request carries was not read). */
int http_method_known(struct evhttp_request *req);
/* Marks the reply to close the connection after it. */
void http_close_after(struct evhttp_request *req);

/* "GET", "POST", ... for logs and Allow headers. */
const char *http_method_str(struct evhttp_request *req);
const char *http_method_name(enum evhttp_cmd_type);

/* The request's query parameters into q: empty when it has none or they
 * do not parse (then -1, else 0: a route may answer 400 or read none).
 * Values live until evhttp_clear_headers(q). */
int http_query(struct evhttp_request *req, struct evkeyvalq *q);
/* Parameter name of q as a decimal integer in [min, max]: 0 when absent
 * (*out untouched), 1 with it in *out, -1 when it is not such an integer
 * (the caller answers, with the message its API documents). */
int http_query_int(const struct evkeyvalq *q, const char *name, long long min,
    long long max, long long *out);

#endif
