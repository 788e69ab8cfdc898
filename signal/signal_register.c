/* Registration body rules (see signal_register.h). */
#include "signal_register.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"
#include "node_id.h"
#include "text.h"

#define MAX_CERT_PEM	8192
#define MAX_ADDRESS_LEN	255
#define MAX_VERSION_LEN	32
#define NONCE_MIN	16
#define NONCE_MAX	128

static const char *const known[] = { "node_id", "cert", "addresses",
    "labels", "version", "timestamp", "nonce" };

static int
charset_ok(const char *s, size_t len, const char *extra)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c))))
			return 0;
	}
	return 1;
}

/* host:port or [v6]:port; host printable without spaces, port 1-65535. */
static int
address_ok(const char *a, size_t len)
{
	const char *colon, *host_end;
	char *end;
	long port;

	if (len == 0 || len > MAX_ADDRESS_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (a[i] <= ' ' || a[i] > '~')
			return 0;
	if ((colon = strrchr(a, ':')) == NULL || colon == a)
		return 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 1 || port > 65535)
		return 0;
	host_end = colon;
	if (a[0] == '[') {
		struct in6_addr a6;
		char host[64];
		size_t hl = (size_t)(host_end - a);
		if (hl < 3 || host_end[-1] != ']' || hl - 2 >= sizeof(host))
			return 0;
		memcpy(host, a + 1, hl - 2);
		host[hl - 2] = '\0';
		return inet_pton(AF_INET6, host, &a6) == 1;
	}
	/* A bare IPv6 address must be bracketed. */
	return memchr(a, ':', (size_t)(host_end - a)) == NULL;
}


int
signal_register_parse(const struct signal_config *cfg, json_t *body,
    struct signal_reg_fields *f, enum signal_refusal *why, char *msg, size_t msglen)
{
	json_t *v;
	const char *key;
	size_t i;

	*why = REFUSE_INVALID_FIELD;
	if ((key = json_check_keys(body, known, sizeof(known) /
	    sizeof(known[0]))) != NULL) {
		snprintf(msg, msglen, "unknown field \"%.64s\"", key);
		return -1;
	}
	v = json_object_get(body, "node_id");
	if (!json_is_string(v)) {
		snprintf(msg, msglen, "node_id: required string");
		return -1;
	}
	f->node_id = json_string_value(v);
	if (!node_id_valid(f->node_id, json_string_length(v)) ||
	    strlen(f->node_id) != json_string_length(v)) {
		snprintf(msg, msglen, "node_id: 1-%d characters of [A-Za-z0-9._-] "
		    "starting with a letter or digit", NODE_ID_MAX);
		return -1;
	}
	v = json_object_get(body, "cert");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > MAX_CERT_PEM) {
		snprintf(msg, msglen, "cert: required PEM string of at most %d bytes",
		    MAX_CERT_PEM);
		return -1;
	}
	f->cert = json_string_value(v);
	f->cert_len = json_string_length(v);

	v = json_object_get(body, "addresses");
	if (v != NULL && !json_is_array(v)) {
		snprintf(msg, msglen, "addresses: must be an array of \"host:port\" strings");
		return -1;
	}
	if (v != NULL && json_array_size(v) > (size_t)cfg->max_addresses) {
		*why = REFUSE_TOO_MANY_ADDRESSES;
		snprintf(msg, msglen, "addresses: %zu given, at most %ld allowed",
		    json_array_size(v), cfg->max_addresses);
		return -1;
	}
	f->addresses = v;
	json_t *a;
	json_array_foreach(f->addresses, i, a) {
		if (!json_is_string(a) ||
		    strlen(json_string_value(a)) != json_string_length(a) ||
		    !address_ok(json_string_value(a), json_string_length(a))) {
			snprintf(msg, msglen, "addresses[%zu]: not a \"host:port\" "
			    "or \"[v6]:port\" string of at most %d characters",
			    i, MAX_ADDRESS_LEN);
			return -1;
		}
	}

	v = json_object_get(body, "labels");
	if (v != NULL && !json_is_object(v)) {
		snprintf(msg, msglen, "labels: must be an object of strings");
		return -1;
	}
	if (v != NULL && json_object_size(v) > (size_t)cfg->max_labels) {
		*why = REFUSE_TOO_MANY_LABELS;
		snprintf(msg, msglen, "labels: %zu given, at most %ld allowed",
		    json_object_size(v), cfg->max_labels);
		return -1;
	}
	f->labels = v;
	if (v != NULL) {
		json_t *lv;
		json_object_foreach(f->labels, key, lv) {
			if (!text_label_key_valid(key, strlen(key))) {
				snprintf(msg, msglen, "labels: key \"%.64s\" must be "
				    "1-%d characters of [A-Za-z0-9._/-]", key,
				    TEXT_LABEL_KEY_MAX);
				return -1;
			}
			if (!json_is_string(lv) || json_string_length(lv) > TEXT_LABEL_VALUE_MAX) {
				snprintf(msg, msglen, "labels.%s: value must be a "
				    "string of at most %d characters", key,
				    TEXT_LABEL_VALUE_MAX);
				return -1;
			}
		}
	}

	v = json_object_get(body, "version");
	f->version = NULL;
	if (v != NULL) {
		if (!json_is_string(v) || json_string_length(v) > MAX_VERSION_LEN ||
		    !charset_ok(json_string_value(v), json_string_length(v), ".+_-~")) {
			snprintf(msg, msglen, "version: string of at most %d "
			    "characters of [A-Za-z0-9.+_~-]", MAX_VERSION_LEN);
			return -1;
		}
		f->version = json_string_value(v);
	}

	v = json_object_get(body, "timestamp");
	if (!json_is_integer(v)) {
		snprintf(msg, msglen, "timestamp: required integer (Unix seconds)");
		return -1;
	}
	f->timestamp = json_integer_value(v);

	v = json_object_get(body, "nonce");
	if (!json_is_string(v) || json_string_length(v) < NONCE_MIN ||
	    json_string_length(v) > NONCE_MAX ||
	    !charset_ok(json_string_value(v), json_string_length(v), "+/=_-")) {
		snprintf(msg, msglen, "nonce: required string of %d-%d characters "
		    "of [A-Za-z0-9+/=_-]", NONCE_MIN, NONCE_MAX);
		return -1;
	}
	f->nonce = json_string_value(v);
	return 0;
}
