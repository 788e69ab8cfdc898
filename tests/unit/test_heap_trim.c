/*
 * heap_trim.h: the heap is trimmed only after private memory grew by
 * HEAP_TRIM_GROWTH, and a trim gives freed memory back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "heap_trim.h"

#define CHUNKS	4096
#define CHUNK	4000	/* below malloc's mmap threshold: kept in the heap */

static void
test_trims_after_growth_only(void **state)
{
	long page = sysconf(_SC_PAGESIZE), at, before, after;
	char **p;

	(void)state;
#ifdef __SANITIZE_ADDRESS__
	/* ASan's allocator and quarantine hold freed memory; glibc's
	 * malloc_trim has nothing of it to give back. */
	skip();
	return;
#endif
	p = calloc(CHUNKS, sizeof(*p));
	assert_non_null(p);
	at = heap_trim_private_pages();
	assert_true(at > 0);
	/* no growth: nothing to do */
	assert_int_equal(heap_trim_tick(&at), 0);
	/* 16 MB touched, then freed but the last chunk (which keeps the
	 * heap's top in place, so only a trim gives the rest back) */
	for (int i = 0; i < CHUNKS; i++) {
		p[i] = malloc(CHUNK);
		assert_non_null(p[i]);
		memset(p[i], 0x5a, CHUNK);
	}
	for (int i = 0; i < CHUNKS - 1; i++)
		free(p[i]);
	before = heap_trim_private_pages();
	assert_true(before - at >= HEAP_TRIM_GROWTH / page);
	assert_int_equal(heap_trim_tick(&at), 1);
	after = heap_trim_private_pages();
	assert_true(before - after >= HEAP_TRIM_GROWTH / page);
	assert_true(at <= after + 16);
	/* and at rest again, no further trim */
	assert_int_equal(heap_trim_tick(&at), 0);
	free(p[CHUNKS - 1]);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trims_after_growth_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
