/* Unit tests of common/log.c's rate limit: a repeated message is printed
 * 20 times in its window, other call sites are not held back, fatal never
 * is.  (The summary after the 10 s window: tests/system/test_budgets.py.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char path[] = "/tmp/agentflow-test-log-XXXXXX";

/* Lines of the captured stderr that contain needle. */
static int
count(const char *needle)
{
	char line[4096];
	FILE *f;
	int n = 0;

	fflush(stderr);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

static void
test_repeats_are_held_back(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		log_event(LOG_INFO, "flood", "{s:i}", "i", i);
	for (int i = 0; i < 5; i++)
		log_info("other site %d", i);
	assert_int_equal(count("\"msg\":\"flood\""), 20);
	assert_int_equal(count("other site"), 5);
	/* the 20 printed are the first ones */
	assert_int_equal(count("\"i\":19"), 1);
	assert_int_equal(count("\"i\":20"), 0);
}

static void
test_levels_below_the_minimum_do_not_count(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++)
		log_event(LOG_DEBUG, "quiet", NULL);
	log_set_level(LOG_DEBUG);
	for (int i = 0; i < 30; i++)
		log_event(LOG_DEBUG, "quiet", NULL);
	log_set_level(LOG_INFO);
	assert_int_equal(count("\"msg\":\"quiet\""), 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats_are_held_back),
		cmocka_unit_test(test_levels_below_the_minimum_do_not_count),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0 || freopen(path, "w", stderr) == NULL)
		return 1;
	close(fd);
	log_init("test", LOG_INFO);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
