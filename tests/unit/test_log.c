/* Unit tests of common/log.c's rate limit: a repeated message is printed
 * 20 times in its window, other call sites are not held back, fatal never
 * is, and the summary after the 10 s window leaves the log whole (also
 * tests/system/test_budgets.py). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "log.h"

static char path[] = "/tmp/agentflow-test-log-XXXXXX";

/* Lines of the captured stderr that start with prefix and contain needle. */
static int
count_prefixed(const char *prefix, const char *needle)
{
	char line[4096];
	FILE *f;
	int n = 0;

	fflush(stderr);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, prefix, strlen(prefix)) == 0 &&
		    strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Lines of the captured stderr that contain needle. */
static int
count(const char *needle)
{
	return count_prefixed("", needle);
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

static void
test_journal_priority_prefix(void **state)
{
	struct stat st;
	char env[64];

	(void)state;
	/* Inherited but naming another stream: plain lines. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init("test", LOG_INFO);
	log_warnx("not the journal");
	assert_int_equal(count_prefixed("{", "not the journal"), 1);
	/* stderr is the stream it names: "<N>" by level. */
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("test", LOG_DEBUG);
	log_warnx("journal warning");
	log_info("journal info");
	log_event(LOG_ERROR, "journal error", NULL);
	log_debug("journal debug");
	assert_int_equal(count_prefixed("<4>{", "journal warning"), 1);
	assert_int_equal(count_prefixed("<6>{", "journal info"), 1);
	assert_int_equal(count_prefixed("<3>{", "journal error"), 1);
	assert_int_equal(count_prefixed("<7>{", "journal debug"), 1);
	unsetenv("JOURNAL_STREAM");
	log_init("test", LOG_INFO);
	log_warnx("after the journal");
	assert_int_equal(count_prefixed("{", "after the journal"), 1);
}

/*
 * jansson's memory, for the summary test: a block jansson frees is filled
 * with GRAVE and kept, never given back, so a write to it after its free
 * shows (libjansson is not built with ASan, which sees none of its
 * accesses).  Blocks are plain malloc's, their sizes noted aside: what
 * jansson hands out to be freed with free() (json_dumps) still may be.
 */
#define GRAVE		0xab
#define BLOCKS_MAX	200000
static struct block {
	unsigned char	*p;
	size_t		 size;
	int		 dead;
} blocks[BLOCKS_MAX];
static size_t nblocks;

static void *
kept_malloc(size_t size)
{
	unsigned char *p = malloc(size);

	assert_non_null(p);
	assert_true(nblocks < BLOCKS_MAX);
	blocks[nblocks++] = (struct block){ p, size, 0 };
	return p;
}

static void
kept_free(void *ptr)
{
	size_t i = nblocks;

	if (ptr == NULL)
		return;
	while (i > 0 && (blocks[i - 1].p != ptr || blocks[i - 1].dead))
		i--;
	assert_true(i > 0);	/* only what kept_malloc gave */
	memset(ptr, GRAVE, blocks[i - 1].size);
	blocks[i - 1].dead = 1;
}

/* Blocks written after their free. */
static size_t
graves_touched(size_t *dead)
{
	size_t n = 0;

	*dead = 0;
	for (size_t i = 0; i < nblocks; i++) {
		if (!blocks[i].dead)
			continue;
		(*dead)++;
		for (size_t b = 0; b < blocks[i].size; b++)
			if (blocks[i].p[b] != GRAVE) {
				n++;
				break;
			}
	}
	return n;
}

/* The summary of a window that held lines back: printed once its window
 * is over, with the count, and nothing of it written after it was freed
 * (it was freed while the list of summaries still held it, whose free
 * then wrote to it: on a loaded node, whose link lines were summarised,
 * into whatever malloc had put there since, which corrupted its heap). */
static void
test_a_summary_then_more_lines(void **state)
{
	size_t dead;

	(void)state;
	json_set_alloc_funcs(kept_malloc, kept_free);
	for (int i = 0; i < 33; i++)
		log_event(LOG_WARN, "summarised", "{s:i}", "i", i);
	usleep(10200 * 1000);		/* the 10 s window ends */
	log_info("after the window");
	assert_int_equal(count("\"13 more like this in the last 10 s\""), 1);
	assert_int_equal(count("\"like\":\"summarised\""), 1);
	for (int i = 0; i < 200; i++)
		log_event(LOG_INFO, "after", "{s:i, s:s}", "i", i, "pad",
		    "some text to allocate");
	assert_int_equal(count("\"msg\":\"after\""), 20);
	json_set_alloc_funcs(malloc, free);	/* the graves stay: few KiB */
	assert_int_equal(graves_touched(&dead), 0);
	assert_true(dead > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeats_are_held_back),
		cmocka_unit_test(test_levels_below_the_minimum_do_not_count),
		cmocka_unit_test(test_journal_priority_prefix),
		cmocka_unit_test(test_a_summary_then_more_lines),
	};
	int fd = mkstemp(path), rc;

	if (fd < 0 || freopen(path, "w", stderr) == NULL)
		return 1;
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_init("test", LOG_INFO);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
