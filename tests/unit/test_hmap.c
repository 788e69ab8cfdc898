/* Unit tests of common/hmap.c: lookups, replacement, growth, sweeping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hmap.h"

static void
test_put_get_del(void **state)
{
	struct hmap *m = hmap_new();
	int a = 1, b = 2;

	(void)state;
	assert_null(hmap_get(m, "x"));
	assert_null(hmap_put(m, "x", &a));
	assert_ptr_equal(hmap_get(m, "x"), &a);
	assert_ptr_equal(hmap_put(m, "x", &b), &a);	/* replace returns old */
	assert_int_equal(hmap_count(m), 1);
	assert_ptr_equal(hmap_del(m, "x"), &b);
	assert_null(hmap_del(m, "x"));
	assert_int_equal(hmap_count(m), 0);
	hmap_free(m);
	hmap_free(NULL);
}

static void
test_growth_keeps_every_entry(void **state)
{
	struct hmap *m = hmap_new();
	static int vals[20000];
	char key[32];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "node-%d", i);
		vals[i] = i;
		hmap_put(m, key, &vals[i]);
	}
	assert_int_equal(hmap_count(m), 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "node-%d", i);
		int *v = hmap_get(m, key);
		assert_non_null(v);
		assert_int_equal(*v, i);
	}
	hmap_free(m);
}

static int
drop_odd(const char *key, void *value, void *arg)
{
	(void)key;
	(*(int *)arg)++;
	return (*(int *)value) % 2;
}

static void
test_sweep_removes_selected(void **state)
{
	struct hmap *m = hmap_new();
	int vals[100], visited = 0;
	char key[16];

	(void)state;
	for (int i = 0; i < 100; i++) {
		vals[i] = i;
		snprintf(key, sizeof(key), "k%d", i);
		hmap_put(m, key, &vals[i]);
	}
	hmap_sweep(m, drop_odd, &visited);
	assert_int_equal(visited, 100);
	assert_int_equal(hmap_count(m), 50);
	assert_non_null(hmap_get(m, "k42"));
	assert_null(hmap_get(m, "k43"));
	hmap_free(m);
}

static int freed;

static void
count_free(void *v)
{
	freed += *(int *)v;
}

/* Every value goes to the free function once, then the map. */
static void
test_free_with(void **state)
{
	struct hmap *m = hmap_new();
	int one = 1, ten = 10, hundred = 100;

	(void)state;
	hmap_put(m, "a", &one);
	hmap_put(m, "b", &ten);
	hmap_put(m, "c", &hundred);
	freed = 0;
	hmap_free_with(m, count_free);
	assert_int_equal(freed, 111);
	hmap_free_with(NULL, count_free);
	assert_int_equal(freed, 111);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_del),
		cmocka_unit_test(test_free_with),
		cmocka_unit_test(test_growth_keeps_every_entry),
		cmocka_unit_test(test_sweep_removes_selected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
