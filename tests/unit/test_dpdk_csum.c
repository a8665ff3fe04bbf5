/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataplane/dpdk/csum.h: incremental checksum updates against a checksum recomputed from
 * scratch, on random headers, with edge values (all ones, all zeros) mixed in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dataplane/dpdk/csum.h"

/* RFC 1071 over raw 16-bit words: the checksum field's value as stored */
static uint16_t csum_full(const uint16_t *w, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += w[i];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t rnd32(void)
{
	static const uint32_t edge[] = { 0, 0xffffffff, 0xffff0000, 0x0000ffff, 1 };
	uint32_t r = (uint32_t)rand() << 16 ^ (uint32_t)rand();

	return (rand() % 4 == 0) ? edge[rand() % 5] : r;
}

/* 12 words: word 0 the checksum, words 2-5 two 32-bit fields, word 6 a 16-bit field */
static void test_update_matches_full(void **state)
{
	srand(1);
	for (int k = 0; k < 200000; k++) {
		uint16_t h[12];
		uint32_t a_new = rnd32(), b_new = rnd32(), a_old, b_old;
		uint16_t w_new = (uint16_t)rnd32(), w_old;

		for (int i = 1; i < 12; i++)
			h[i] = (uint16_t)rnd32();
		h[0] = 0;
		h[0] = csum_full(h, 12);
		memcpy(&a_old, &h[2], 4);
		memcpy(&b_old, &h[4], 4);
		w_old = h[6];

		uint64_t acc = csum_delta32(csum_delta32(0, a_old, a_new), b_old, b_new);
		uint16_t ck = csum_update(h[0], acc + (uint16_t)~w_old + w_new);

		memcpy(&h[2], &a_new, 4);
		memcpy(&h[4], &b_new, 4);
		h[6] = w_new;
		h[0] = 0;
		/* one's complement has two zeros: compare as sums, 0 and 0xffff alike */
		uint16_t want = csum_full(h, 12);

		if (ck != want)
			assert_true((ck == 0 || ck == 0xffff) && (want == 0 || want == 0xffff));
	}
}

/*
 * The fast lane's form (tx_tmpl.h): the 32-bit changes folded once ahead (csum_fold()), then the
 * checksum and a 16-bit change per packet (csum_update16()): exactly csum_update()'s result.
 */
static void test_folded_matches_update(void **state)
{
	srand(2);
	for (int k = 0; k < 500000; k++) {
		uint64_t acc = csum_delta32(csum_delta32(0, rnd32(), rnd32()), rnd32(), rnd32());
		uint16_t ck = (uint16_t)rnd32(), w_old = (uint16_t)rnd32(),
			 w_new = (uint16_t)rnd32();

		if (rand() % 8 == 0)
			acc = 0; /* no change at all: all terms zero */
		assert_int_equal(
		    csum_update16(ck, (uint32_t)csum_fold(acc) + (uint16_t)~w_old + w_new),
		    csum_update(ck, acc + (uint16_t)~w_old + w_new));
		assert_int_equal(csum_update16(ck, csum_fold(acc)), csum_update(ck, acc));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_matches_full),
		cmocka_unit_test(test_folded_matches_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
