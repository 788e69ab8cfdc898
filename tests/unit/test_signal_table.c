/* Unit tests of signal/signal_table.c and signal/nonce_cache.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "nonce_cache.h"
#include "signal_table.h"

static char tok_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static char tok_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static char tok_c[] = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

static void
reg(struct signal_table *t, const char *id, const char *addr, const char *token,
    uint64_t now, int expect)
{
	json_t *addrs = json_pack("[s]", addr), *labels = json_object();
	/* The node id doubles as a recognizable certificate serial. */
	struct signal_reg r = { id, addrs, labels, "0.1.0", "127.0.0.1",
	    "sha256:00", (const unsigned char *)id, strlen(id) };

	assert_int_equal(signal_table_register(t, &r, token, now), expect);
	json_decref(addrs);
	json_decref(labels);
}

static void
test_register_lookup_leave(void **state)
{
	struct signal_table *t = signal_table_new(10);
	uint64_t g0 = signal_table_generation(t);

	(void)state;
	reg(t, "alpha", "10.0.0.1:1", tok_a, 1000, 0);
	assert_int_equal(signal_table_count(t), 1);
	assert_true(signal_table_generation(t) > g0);
	assert_string_equal(signal_table_lookup_token(t, tok_a, 1000, 0), "alpha");
	assert_null(signal_table_lookup_token(t, tok_b, 1000, 0));
	assert_int_equal(signal_table_leave(t, tok_a), 0);
	assert_int_equal(signal_table_leave(t, tok_a), -1);
	assert_int_equal(signal_table_count(t), 0);
	signal_table_free(t);
}

static void
test_reregister_replaces_token_and_bumps_on_change_only(void **state)
{
	struct signal_table *t = signal_table_new(10);
	uint64_t g;

	(void)state;
	reg(t, "alpha", "10.0.0.1:1", tok_a, 1000, 0);
	g = signal_table_generation(t);
	reg(t, "alpha", "10.0.0.1:1", tok_b, 2000, 0);	/* same data */
	assert_int_equal(signal_table_generation(t), g);
	assert_null(signal_table_lookup_token(t, tok_a, 2000, 0));
	assert_string_equal(signal_table_lookup_token(t, tok_b, 2000, 0), "alpha");
	reg(t, "alpha", "10.0.0.2:1", tok_c, 3000, 0);	/* moved */
	assert_true(signal_table_generation(t) > g);
	assert_int_equal(signal_table_count(t), 1);
	signal_table_free(t);
}

static void
test_full_table_refuses_new_but_not_known(void **state)
{
	struct signal_table *t = signal_table_new(2);

	(void)state;
	reg(t, "a", "10.0.0.1:1", tok_a, 0, 0);
	reg(t, "b", "10.0.0.2:1", tok_b, 0, 0);
	reg(t, "c", "10.0.0.3:1", tok_c, 0, -1);
	assert_int_equal(signal_table_count(t), 2);
	reg(t, "a", "10.0.0.1:1", tok_c, 0, 0);		/* re-register ok */
	signal_table_free(t);
}

static int evicted_count;
static void
on_evict(const char *id, void *arg)
{
	(void)arg;
	assert_string_equal(id, "a");
	evicted_count++;
}

static void
test_eviction_by_last_seen(void **state)
{
	struct signal_table *t = signal_table_new(10);
	uint64_t g;

	(void)state;
	reg(t, "a", "10.0.0.1:1", tok_a, 0, 0);
	reg(t, "b", "10.0.0.2:1", tok_b, 0, 0);
	/* b heartbeats at 20 s; a does not. */
	assert_non_null(signal_table_lookup_token(t, tok_b, 20000, 1));
	g = signal_table_generation(t);
	assert_int_equal(signal_table_evict(t, 29999, 30000, on_evict, NULL), 0);
	assert_int_equal(signal_table_evict(t, 30000, 30000, on_evict, NULL), 1);
	assert_int_equal(evicted_count, 1);
	assert_true(signal_table_generation(t) > g);
	assert_null(signal_table_lookup_token(t, tok_a, 30000, 0));
	assert_non_null(signal_table_lookup_token(t, tok_b, 30000, 0));

	struct evbuffer *buf = evbuffer_new();
	signal_table_peers_render(t, buf);
	json_t *peers = json_loadb((const char *)evbuffer_pullup(buf, -1),
	    evbuffer_get_length(buf), 0, NULL);
	evbuffer_free(buf);
	assert_non_null(peers);
	assert_int_equal(json_array_size(peers), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(peers, 0), "node_id")), "b");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(peers, 0), "last_seen")), 20000);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(peers, 0), "version")), "0.1.0");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_array_get(peers, 0), "addresses"), 0)), "10.0.0.2:1");
	json_decref(peers);
	signal_table_free(t);
}

static int
revoked_b(const unsigned char *serial, size_t len, void *arg)
{
	(void)arg;
	return len == 1 && serial[0] == 'b';
}

static void
on_revoked(const char *id, void *arg)
{
	assert_string_equal(id, "b");
	(*(int *)arg)++;
}

static void
test_revoked_entries_are_evicted(void **state)
{
	struct signal_table *t = signal_table_new(10);
	int n = 0;
	uint64_t g;

	(void)state;
	reg(t, "a", "10.0.0.1:1", tok_a, 0, 0);
	reg(t, "b", "10.0.0.2:1", tok_b, 0, 0);
	g = signal_table_generation(t);
	assert_int_equal(signal_table_evict_revoked(t, revoked_b, on_revoked, &n), 1);
	assert_int_equal(n, 1);
	assert_null(signal_table_lookup_token(t, tok_b, 0, 0));
	assert_non_null(signal_table_lookup_token(t, tok_a, 0, 0));
	assert_true(signal_table_generation(t) > g);
	signal_table_free(t);
}

static void
test_nonce_replay_and_expiry(void **state)
{
	struct nonce_cache *c = nonce_cache_new(3);

	(void)state;
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n1", 100), 0);
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n1", 100), 1);
	/* The same nonce from another node is not a replay. */
	assert_int_equal(nonce_cache_check_and_add(c, "b", "n1", 100), 0);
	nonce_cache_expire(c, 101);
	assert_int_equal(nonce_cache_count(c), 0);
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n1", 200), 0);
	/* Bounded: the oldest go first. */
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n2", 201), 0);
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n3", 202), 0);
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n4", 203), 0);
	assert_int_equal(nonce_cache_count(c), 3);
	assert_int_equal(nonce_cache_check_and_add(c, "a", "n4", 203), 1);
	nonce_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_lookup_leave),
		cmocka_unit_test(test_reregister_replaces_token_and_bumps_on_change_only),
		cmocka_unit_test(test_full_table_refuses_new_but_not_known),
		cmocka_unit_test(test_eviction_by_last_seen),
		cmocka_unit_test(test_revoked_entries_are_evicted),
		cmocka_unit_test(test_nonce_replay_and_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
