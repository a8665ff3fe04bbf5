/* SPDX-License-Identifier: BSD-2-Clause */
/* The ng reply cache: hits, expiry, eviction of the oldest. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "rtpengine/ng_cache.h"

static void test_hit_and_expiry(void **state)
{
	struct ng_cache *c;
	struct strv r;

	(void)state;
	assert_int_equal(ng_cache_alloc(&c, 4, 1 << 20, 30000), 0);
	assert_int_equal(ng_cache_get(c, STRV("k1"), 0).len, 0);
	assert_int_equal(ng_cache_put(c, STRV("k1"), STRV("k1 d6:result4:ponge"), 1000), 0);
	r = ng_cache_get(c, STRV("k1"), 2000);
	assert_true(strv_eq_cstr(r, "k1 d6:result4:ponge"));
	assert_int_equal(ng_cache_get(c, STRV("k"), 2000).len, 0);
	assert_int_equal(ng_cache_get(c, STRV("k12"), 2000).len, 0);
	assert_int_equal(ng_cache_get(c, STRV("k1"), 31001).len, 0);
	ng_cache_free(c);
}

static void test_oldest_evicted(void **state)
{
	struct ng_cache *c;
	char key[16];

	(void)state;
	assert_int_equal(ng_cache_alloc(&c, 4, 1 << 20, 30000), 0);
	for (unsigned i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(ng_cache_put(c, strv_cstr(key), strv_cstr(key), 0), 0);
	}
	for (unsigned i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		assert_int_equal(ng_cache_get(c, strv_cstr(key), 0).len, i < 6 ? 0 : 2);
	}
	ng_cache_free(c);
}

static void test_byte_budget(void **state)
{
	struct ng_cache *c;

	(void)state;
	/* 3 entries fit by count, but only two of 10 bytes by size */
	assert_int_equal(ng_cache_alloc(&c, 3, 20, 30000), 0);
	assert_int_equal(ng_cache_put(c, STRV("a"), STRV("a 3456789"), 0), 0);
	assert_int_equal(ng_cache_put(c, STRV("b"), STRV("b 3456789"), 0), 0);
	assert_int_equal(ng_cache_put(c, STRV("c"), STRV("c 3456789"), 0), 0);
	assert_int_equal(ng_cache_get(c, STRV("a"), 0).len, 0);
	assert_int_equal(ng_cache_get(c, STRV("b"), 0).len, 9);
	assert_int_equal(ng_cache_get(c, STRV("c"), 0).len, 9);
	/* bigger than the budget: everything older goes, the new one stays */
	assert_int_equal(ng_cache_put(c, STRV("d"), STRV("d 34567890123456789012345"), 0), 0);
	assert_int_equal(ng_cache_get(c, STRV("b"), 0).len, 0);
	assert_int_equal(ng_cache_get(c, STRV("c"), 0).len, 0);
	assert_int_equal(ng_cache_get(c, STRV("d"), 0).len, 25);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(ng_cache_put(c, STRV("e"), STRV("e 3456789"), 0), 0);
	assert_int_equal(ng_cache_get(c, STRV("e"), 0).len, 9);
	ng_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_expiry),
		cmocka_unit_test(test_oldest_evicted),
		cmocka_unit_test(test_byte_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
