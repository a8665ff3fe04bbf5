/* SPDX-License-Identifier: BSD-2-Clause */
/* The port allocator: pairs, exhaustion, reuse order, bad puts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "rtpengine/ports.h"

static void test_pairs_unique_until_exhausted(void **state)
{
	static uint8_t seen[65536];
	struct ports *p;
	uint16_t port;

	(void)state;
	memset(seen, 0, sizeof(seen));
	assert_int_equal(ports_alloc(&p, 30001, 30100, 7), 0); /* odd bounds: 30002..30099 */
	assert_int_equal(ports_total(p), 49);
	for (unsigned i = 0; i < 49; i++) {
		assert_int_equal(ports_get(p, &port), 0);
		assert_true(port >= 30002 && port + 1 <= 30100 && port % 2 == 0);
		assert_false(seen[port]);
		seen[port] = 1;
	}
	assert_int_equal(ports_get(p, &port), -ENOSPC);
	assert_int_equal(ports_available(p), 0);
	ports_put(p, 30050);
	ports_put(p, 30050); /* twice: ignored */
	ports_put(p, 30051); /* odd: ignored */
	ports_put(p, 12);    /* out of range: ignored */
	assert_int_equal(ports_available(p), 1);
	assert_int_equal(ports_get(p, &port), 0);
	assert_int_equal(port, 30050);
	ports_free(p);
}

static void test_freed_pair_goes_last(void **state)
{
	struct ports *p;
	uint16_t a, b, c;

	(void)state;
	assert_int_equal(ports_alloc(&p, 40000, 40005, 1), 0);
	assert_int_equal(ports_get(p, &a), 0);
	ports_put(p, a);
	assert_int_equal(ports_get(p, &b), 0);
	assert_int_equal(ports_get(p, &c), 0);
	assert_int_not_equal(b, a);
	assert_int_not_equal(c, a);
	ports_free(p);
}

static void test_seed_shuffles(void **state)
{
	struct ports *p, *q;
	uint16_t a, b;
	unsigned same = 0;

	(void)state;
	assert_int_equal(ports_alloc(&p, 30000, 40000, 1), 0);
	assert_int_equal(ports_alloc(&q, 30000, 40000, 2), 0);
	for (unsigned i = 0; i < 16; i++) {
		ports_get(p, &a);
		ports_get(q, &b);
		same += a == b;
	}
	assert_true(same < 4);
	ports_free(p);
	ports_free(q);
}

static void test_bad_range(void **state)
{
	struct ports *p;

	(void)state;
	assert_int_equal(ports_alloc(&p, 30001, 30002, 1), -EINVAL);
	assert_int_equal(ports_alloc(&p, 30000, 30000, 1), -EINVAL);
	assert_int_equal(ports_alloc(&p, 65534, 65535, 1), 0);
	ports_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_unique_until_exhausted),
		cmocka_unit_test(test_freed_pair_goes_last),
		cmocka_unit_test(test_seed_shuffles),
		cmocka_unit_test(test_bad_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
