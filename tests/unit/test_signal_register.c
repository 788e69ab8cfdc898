/* Unit tests of signal/signal_register.c: what a registration body may
 * hold, and that each violation names its field and refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "signal_register.h"

static const struct signal_config cfg = { .max_addresses = 2, .max_labels = 2 };

#define CERT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define NONCE "abcdefghijklmnop"

/* Parses text and checks the verdict; msg must mention `mention`. */
static void
check(const char *text, int ok, enum signal_refusal want, const char *mention)
{
	struct signal_reg_fields f;
	enum signal_refusal why = REFUSE_COUNT;
	char msg[512] = "";
	json_error_t jerr;
	/* ALLOW_NUL: the rules must hold even for strings the server's parser
	 * would already refuse. */
	json_t *body = json_loads(text, JSON_ALLOW_NUL, &jerr);

	if (body == NULL)
		fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
	if (ok) {
		if (signal_register_parse(&cfg, body, &f, &why, msg, sizeof(msg)) != 0)
			fail_msg("refused %s: %s", text, msg);
		assert_string_equal(f.node_id, "alpha");
		assert_int_equal(f.cert_len, strlen(CERT));
	} else {
		if (signal_register_parse(&cfg, body, &f, &why, msg, sizeof(msg)) == 0)
			fail_msg("accepted %s", text);
		assert_int_equal(why, want);
		if (strstr(msg, mention) == NULL)
			fail_msg("message \"%s\" does not mention \"%s\"", msg, mention);
	}
	json_decref(body);
}

#define BASE "\"node_id\":\"alpha\",\"cert\":\"" "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n" "\",\"timestamp\":1,\"nonce\":\"" NONCE "\""

static void
test_valid_bodies(void **state)
{
	(void)state;
	check("{" BASE "}", 1, 0, NULL);
	check("{" BASE ",\"addresses\":[\"192.0.2.1:50051\",\"[2001:db8::1]:1\"]}", 1, 0, NULL);
	check("{" BASE ",\"addresses\":[\"host.example:65535\"]}", 1, 0, NULL);
	check("{" BASE ",\"labels\":{\"role\":\"storage\",\"k8s.io/zone\":\"\"}}", 1, 0, NULL);
	check("{" BASE ",\"version\":\"1.2.3-rc.1+g0ab\"}", 1, 0, NULL);
}

static void
test_invalid_fields(void **state)
{
	(void)state;
	check("{" BASE ",\"extra\":1}", 0, REFUSE_INVALID_FIELD, "extra");
	check("{\"cert\":\"" "x" "\",\"timestamp\":1,\"nonce\":\"" NONCE "\"}", 0,
	    REFUSE_INVALID_FIELD, "node_id");
	check("{\"node_id\":\"-alpha\",\"cert\":\"x\",\"timestamp\":1,\"nonce\":\"" NONCE "\"}",
	    0, REFUSE_INVALID_FIELD, "node_id");
	check("{\"node_id\":\"al\\u0000pha\",\"cert\":\"x\",\"timestamp\":1,\"nonce\":\"" NONCE "\"}",
	    0, REFUSE_INVALID_FIELD, "node_id");
	check("{\"node_id\":\"alpha\",\"cert\":\"\",\"timestamp\":1,\"nonce\":\"" NONCE "\"}",
	    0, REFUSE_INVALID_FIELD, "cert");
	check("{\"node_id\":\"alpha\",\"cert\":\"x\",\"timestamp\":\"1\",\"nonce\":\"" NONCE "\"}",
	    0, REFUSE_INVALID_FIELD, "timestamp");
	check("{\"node_id\":\"alpha\",\"cert\":\"x\",\"timestamp\":1.5,\"nonce\":\"" NONCE "\"}",
	    0, REFUSE_INVALID_FIELD, "timestamp");
	check("{\"node_id\":\"alpha\",\"cert\":\"x\",\"timestamp\":1,\"nonce\":\"short\"}",
	    0, REFUSE_INVALID_FIELD, "nonce");
	check("{\"node_id\":\"alpha\",\"cert\":\"x\",\"timestamp\":1,\"nonce\":\"abcdefghijklmno!\"}",
	    0, REFUSE_INVALID_FIELD, "nonce");
	check("{" BASE ",\"version\":\"1 2\"}", 0, REFUSE_INVALID_FIELD, "version");
	check("{" BASE ",\"version\":7}", 0, REFUSE_INVALID_FIELD, "version");
}

static void
test_addresses(void **state)
{
	(void)state;
	check("{" BASE ",\"addresses\":\"192.0.2.1:1\"}", 0, REFUSE_INVALID_FIELD, "addresses");
	check("{" BASE ",\"addresses\":[\"a:1\",\"b:2\",\"c:3\"]}", 0,
	    REFUSE_TOO_MANY_ADDRESSES, "3 given, at most 2");
	static const char *const bad[] = { "host", "host:", ":80", "host:0",
	    "host:65536", "host:8x", "::1:80", "[::1]", "[zz::1]:80", "[]:80",
	    "a b:80", "h\\u00e9:80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), "{" BASE ",\"addresses\":[\"%s\"]}", bad[i]);
		check(text, 0, REFUSE_INVALID_FIELD, "addresses[0]");
	}
	check("{" BASE ",\"addresses\":[1]}", 0, REFUSE_INVALID_FIELD, "addresses[0]");
}

static void
test_labels(void **state)
{
	(void)state;
	check("{" BASE ",\"labels\":[]}", 0, REFUSE_INVALID_FIELD, "labels");
	check("{" BASE ",\"labels\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}", 0,
	    REFUSE_TOO_MANY_LABELS, "3 given, at most 2");
	check("{" BASE ",\"labels\":{\"bad key\":\"1\"}}", 0, REFUSE_INVALID_FIELD, "bad key");
	check("{" BASE ",\"labels\":{\"\":\"1\"}}", 0, REFUSE_INVALID_FIELD, "labels");
	check("{" BASE ",\"labels\":{\"k\":1}}", 0, REFUSE_INVALID_FIELD, "labels.k");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_bodies),
		cmocka_unit_test(test_invalid_fields),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
