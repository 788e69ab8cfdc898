/* Unit tests of common/hostport.c: splitting HOST:PORT and loopback checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hostport.h"

static void
test_split_v4(void **state)
{
	char host[64];
	int port = -1;

	(void)state;
	assert_int_equal(hostport_split("127.0.0.1:7000", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7000);
	assert_int_equal(hostport_split("example.org:0", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 0);
	assert_int_equal(hostport_split("0.0.0.0:65535", host, sizeof(host),
	    &port), 0);
	assert_int_equal(port, 65535);
}

static void
test_split_v6_brackets(void **state)
{
	char host[64];
	int port = -1;

	(void)state;
	assert_int_equal(hostport_split("[::1]:50051", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 50051);
	assert_int_equal(hostport_split("[fe80::1:2]:8080", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "fe80::1:2");
	assert_int_equal(port, 8080);
}

static void
test_split_bad_port(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(hostport_split("h:65536", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("h:-1", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("h:80x", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("h:http", host, sizeof(host), &port), -1);
}

static void
test_split_missing_port(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(hostport_split("localhost", host, sizeof(host), &port),
	    -1);
	assert_int_equal(hostport_split("localhost:", host, sizeof(host), &port),
	    -1);
	assert_int_equal(hostport_split("", host, sizeof(host), &port), -1);
}

static void
test_split_empty_host(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(hostport_split(":7000", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("[]:7000", host, sizeof(host), &port),
	    -1);
}

static void
test_split_too_long(void **state)
{
	char host[8];
	int port = -1;

	(void)state;
	/* Seven characters and the NUL fit; eight do not. */
	assert_int_equal(hostport_split("1234567:1", host, sizeof(host), &port),
	    0);
	assert_string_equal(host, "1234567");
	assert_int_equal(hostport_split("12345678:1", host, sizeof(host), &port),
	    -1);
	assert_int_equal(hostport_split("[1234567]:1", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "1234567");
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(hostport_is_loopback("127.0.0.1"));
	assert_true(hostport_is_loopback("127.1.2.3"));
	assert_true(hostport_is_loopback("::1"));
	assert_true(hostport_is_loopback("localhost"));
}

static void
test_not_loopback(void **state)
{
	(void)state;
	assert_false(hostport_is_loopback("0.0.0.0"));
	assert_false(hostport_is_loopback("10.0.0.1"));
	assert_false(hostport_is_loopback("128.0.0.1"));
	assert_false(hostport_is_loopback("::"));
	assert_false(hostport_is_loopback("::2"));
	assert_false(hostport_is_loopback("example.org"));
	assert_false(hostport_is_loopback(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_v4),
		cmocka_unit_test(test_split_v6_brackets),
		cmocka_unit_test(test_split_bad_port),
		cmocka_unit_test(test_split_missing_port),
		cmocka_unit_test(test_split_empty_host),
		cmocka_unit_test(test_split_too_long),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_not_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
