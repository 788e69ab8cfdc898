/* Unit tests of common/http_json.c's reason phrases: every status our
 * handlers send has its own text, an unknown one its class's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
