/* Unit tests of common/http_json.c's reason phrases (every status our
 * handlers send has its own text, an unknown one its class's) and of its
 * integer query parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <limits.h>
#include <string.h>
#include <sys/queue.h>

#include "http_json.h"

static void
test_reasons(void **state)
{
	static const struct {
		int		 status;
		const char	*reason;
	} cases[] = {
		{ 101, "Switching Protocols" }, { 200, "OK" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 409, "Conflict" },
		{ 413, "Content Too Large" }, { 423, "Locked" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
		{ 507, "Insufficient Storage" },
		/* not listed: the class's name, never "Status" */
		{ 299, "Success" }, { 499, "Client Error" }, { 599, "Server Error" },
		{ 99, "Unknown Status" }, { 600, "Unknown Status" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(http_reason(cases[i].status), cases[i].reason);
}

static void
test_query_int(void **state)
{
	static const char *const bad[] = {
		"", " 5", "+5", "5 ", "-", "- 5", "0x10", "12x",
		"9223372036854775808", "99999999999999999999",
		"-9223372036854775809",
	};
	struct evkeyvalq q;
	long long v = 7;

	(void)state;
	TAILQ_INIT(&q);
	assert_int_equal(http_query_int(&q, "n", 0, LLONG_MAX, &v), 0);
	assert_int_equal(v, 7);
	evhttp_add_header(&q, "n", "9223372036854775807");
	assert_int_equal(http_query_int(&q, "n", 0, LLONG_MAX, &v), 1);
	assert_true(v == LLONG_MAX);
	evhttp_clear_headers(&q);
	evhttp_add_header(&q, "n", "-12");
	assert_int_equal(http_query_int(&q, "n", LLONG_MIN, 0, &v), 1);
	assert_int_equal(v, -12);
	assert_int_equal(http_query_int(&q, "n", 0, 10, &v), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		evhttp_clear_headers(&q);
		evhttp_add_header(&q, "n", bad[i]);
		v = 7;
		if (http_query_int(&q, "n", LLONG_MIN, LLONG_MAX, &v) != -1)
			fail_msg("\"%s\" taken as %lld", bad[i], v);
	}
	evhttp_clear_headers(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_query_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
