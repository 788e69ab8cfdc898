/*
 * fuzz_signal_register: a POST /v1/register body as the signal handles it
 * before and after the signature check (signal/signal_api.c register_cb
 * and register_done), without a server:
 *
 *   json_loadb(JSON_REJECT_DUPLICATES) -> must be an object ->
 *   signal_register_parse() with the signal's default limits ->
 *   nonce cache -> signal_table_register() -> the peer list rendered.
 *
 * The signature and certificate checks are skipped (they are mbedTLS's):
 * what the fuzzer explores is every body a node with a valid certificate
 * could send.  Invariants: a refusal names its field in a NUL-terminated
 * message; an accepted body is stored, and GET /v1/peers renders valid
 * JSON holding it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "fuzz_util.h"
#include "nonce_cache.h"
#include "signal_register.h"
#include "signal_table.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* signal/main.c's defaults, for the fields the body rules read. */
static const struct signal_config cfg = {
	.ttl_s = 30, .heartbeat_s = 10, .max_nodes = 16384, .max_body = 16384,
	.max_addresses = 8, .max_labels = 16, .skew_s = 300,
};
static struct nonce_cache *nonces;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	nonces = nonce_cache_new(64);
	return 0;
}

/* What register_done stores, and what the peer list then shows. */
static void
store_and_render(const struct signal_reg_fields *f)
{
	static const unsigned char serial[] = { 0x01, 0x02, 0x03 };
	struct signal_table *t = signal_table_new(4);
	struct signal_reg reg = { 0 };
	struct evbuffer *out = evbuffer_new();
	json_t *empty_arr = NULL, *empty_obj = NULL, *peers, *p;
	char token[SIGNAL_TOKEN_HEX + 1];

	memset(token, 'a', SIGNAL_TOKEN_HEX);
	token[SIGNAL_TOKEN_HEX] = '\0';
	reg.node_id = f->node_id;
	reg.addresses = f->addresses ? f->addresses : (empty_arr = json_array());
	reg.labels = f->labels ? f->labels : (empty_obj = json_object());
	reg.version = f->version;
	reg.observed = "192.0.2.7";
	reg.fingerprint = "sha256:00";
	reg.serial = serial;
	reg.serial_len = sizeof(serial);
	if (t == NULL || out == NULL || signal_table_register(t, &reg, token,
	    1000) != 0 || signal_table_lookup_token(t, token, 1000, 1) == NULL)
		abort();
	signal_table_peers_render(t, out);
	peers = json_loadb((const char *)evbuffer_pullup(out, -1),
	    evbuffer_get_length(out), 0, NULL);
	if (!json_is_array(peers) || json_array_size(peers) != 1)
		abort();	/* the peer list must stay valid JSON */
	p = json_array_get(peers, 0);
	if (!json_is_string(json_object_get(p, "node_id")) ||
	    strcmp(json_string_value(json_object_get(p, "node_id")),
	    f->node_id) != 0)
		abort();
	json_decref(peers);
	if (signal_table_leave(t, token) != 0 || signal_table_count(t) != 0)
		abort();
	evbuffer_free(out);
	signal_table_free(t);
	json_decref(empty_arr);
	json_decref(empty_obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signal_reg_fields f;
	enum signal_refusal why;
	json_error_t jerr;
	json_t *body;
	char msg[512];

	if (size > (size_t)cfg.max_body)
		return 0;	/* refused before parsing */
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL)
		return 0;
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	memset(&f, 0, sizeof(f));
	msg[0] = '\0';
	if (signal_register_parse(&cfg, body, &f, &why, msg, sizeof(msg)) != 0) {
		if (msg[0] == '\0' || signal_refusal_code(why) == NULL ||
		    (why != REFUSE_INVALID_FIELD && why != REFUSE_TOO_MANY_ADDRESSES &&
		    why != REFUSE_TOO_MANY_LABELS))
			abort();
		json_decref(body);
		return 0;
	}
	if (f.node_id == NULL || f.cert == NULL || f.nonce == NULL ||
	    strlen(f.cert) > f.cert_len)
		abort();
	(void)nonce_cache_check_and_add(nonces, f.node_id, f.nonce, 2000);
	if (nonce_cache_count(nonces) > 64)
		abort();
	store_and_render(&f);
	json_decref(body);
	return 0;
}
