/* JSON replies and request helpers over evhttp (see http_json.h). */
#include "http_json.h"

#include <arpa/inet.h>
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

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Status";
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
			evhttp_send_error(req, 500, "cannot encode reply");
			return;
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
	evhttp_send_reply(req, status, reason_phrase(status), buf);
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

void
http_query(struct evhttp_request *req, struct evkeyvalq *q)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *s = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

	TAILQ_INIT(q);
	if (s != NULL && evhttp_parse_query_str(s, q) != 0)
		TAILQ_INIT(q);
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
	num = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || num < min || num > max)
		return -1;
	*out = num;
	return 1;
}
