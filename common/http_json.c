/* JSON replies and request helpers over evhttp (see http_json.h). */
#include "http_json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

/*
 * Reason phrases of RFC 9110 (and 6585's 428/429/431, 4918's 423/507):
 * every status line we send takes its text from here, so a status added
 * to a handler cannot go out as "202 Status" again.  A status not listed
 * gets its class's name, as libevent does.
 */
static const struct {
	int		 status;
	const char	*reason;
} reasons[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" },
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 203, "Non-Authoritative Information" }, { 204, "No Content" },
	{ 205, "Reset Content" }, { 206, "Partial Content" },
	{ 300, "Multiple Choices" }, { 301, "Moved Permanently" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 402, "Payment Required" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" }, { 408, "Request Timeout" },
	{ 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" },
	{ 412, "Precondition Failed" }, { 413, "Content Too Large" },
	{ 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" }, { 417, "Expectation Failed" },
	{ 421, "Misdirected Request" }, { 422, "Unprocessable Content" },
	{ 423, "Locked" }, { 425, "Too Early" }, { 426, "Upgrade Required" },
	{ 428, "Precondition Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	{ 507, "Insufficient Storage" },
};

const char *
http_reason(int status)
{
	static const char *const classes[] = { "Informational", "Success",
	    "Redirection", "Client Error", "Server Error" };

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	if (status >= 100 && status < 600)
		return classes[status / 100 - 1];
	return "Unknown Status";
}

void
http_reply(struct evhttp_request *req, int status, struct evbuffer *body)
{
	char len[24];

	/* libevent 2.1 writes a body it is given even after HEAD: send its
	 * length alone (RFC 9110, 9.3.2), or a kept-alive connection would
	 * read the body as the start of the next reply. */
	if (body != NULL && evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
		body = NULL;
	}
	evhttp_send_reply(req, status, http_reason(status), body);
}

void
http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *buf = NULL;
	char *text;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(body);
		if (text == NULL) {
			/* Out of memory: still JSON, and still our text. */
			text = strdup("{\"error\":\"internal\",\"message\":"
			    "\"cannot encode the reply\"}");
			status = 500;
			if (text == NULL) {
				http_reply(req, 500, NULL);
				return;
			}
		}
		buf = evbuffer_new();
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
		free(text);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	http_reply(req, status, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

void
http_reply_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_reply_json(req, status, json_pack("{s:s, s:s}", "error", code,
	    "message", msg));
}

const char *
http_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	*len = evbuffer_get_length(in);
	if (*len == 0)
		return NULL;
	return (const char *)evbuffer_pullup(in, -1);
}

json_t *
http_body_json(struct evhttp_request *req)
{
	json_error_t jerr;
	json_t *body;
	const char *raw;
	size_t len;

	raw = http_body(req, &len);
	if (raw == NULL || (body = json_loadb(raw, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		http_reply_error(req, 400, "bad_json", "body is not valid JSON: %s",
		    raw == NULL ? "empty body" : jerr.text);
		return NULL;
	}
	return body;
}

const char *
http_bearer(struct evhttp_request *req)
{
	return http_bearer_value(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization"));
}

const char *
http_bearer_value(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

void
http_peer_ip(struct evhttp_request *req, char *out, size_t outlen)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;

	snprintf(out, outlen, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		/* Report v4-mapped addresses as plain IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)outlen);
		else
			inet_ntop(AF_INET6, a, out, (socklen_t)outlen);
	}
}

void
http_allow_every_method(struct evhttp *http)
{
	evhttp_set_allowed_methods(http, 0xffff);
}

int
http_method_known(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: case EVHTTP_REQ_POST: case EVHTTP_REQ_HEAD:
	case EVHTTP_REQ_PUT: case EVHTTP_REQ_DELETE: case EVHTTP_REQ_OPTIONS:
	case EVHTTP_REQ_TRACE: case EVHTTP_REQ_CONNECT: case EVHTTP_REQ_PATCH:
		return 1;
	}
	return 0;
}

void
http_close_after(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
	    "close");
}

const char *
http_method_str(struct evhttp_request *req)
{
	return http_method_name(evhttp_request_get_command(req));
}

const char *
http_method_name(enum evhttp_cmd_type method)
{
	switch (method) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "OTHER";
}

int
http_query(struct evhttp_request *req, struct evkeyvalq *q)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *s = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

	TAILQ_INIT(q);
	if (s != NULL && evhttp_parse_query_str(s, q) != 0) {
		TAILQ_INIT(q);
		return -1;
	}
	return 0;
}

int
http_query_int(const struct evkeyvalq *q, const char *name, long long min,
    long long max, long long *out)
{
	const char *v = evhttp_find_header(q, name);
	char *end;
	long long num;

	if (v == NULL)
		return 0;
	/* Digits after an optional '-', nothing else: strtoll also takes
	 * leading space and '+', and clamps what overflows to LLONG_MAX,
	 * which a max of LLONG_MAX would then accept. */
	if (*v != '-' && !isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	num = strtoll(v, &end, 10);
	if (errno == ERANGE || *end != '\0' || num < min || num > max)
		return -1;
	*out = num;
	return 1;
}

json_t *
http_error_text(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "error", buf);
}
