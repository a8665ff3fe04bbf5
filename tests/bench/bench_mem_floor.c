/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a packet's flow lookup costs at the least on this machine: the memory alone, no packet,
 * no PMD. Bursts of 64 random entries of a 1M-entry table (as bench_dpdk_loop's 1M flows), every
 * entry prefetched before any is read (the best the burst function could overlap its misses),
 * then each read and written once (counters):
 *
 *   chunk:        one 128-byte chunk (two lines) per packet, as struct dpdk_flow
 *   line:         one 64-byte line per packet (a flow in one line)
 *   map + chunk:  a 4-byte port map entry first (17 relay addresses x 65536 ports), then the
 *                 chunk it names (two dependent misses: the lookup before the slot was
 *                 computed from the address and port, ce29699)
 *
 * with 4 KiB pages and with transparent huge pages asked for (madvise). TSC cycles per packet,
 * best of REPS passes of 16M packets. bench_dpdk_loop's 1M-flow figures minus its 1k-flow ones
 * can be set against these: what is above the floor is the loop's, what is below is memory.
 *
 *   build-rel/tests/bench/bench_mem_floor
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

#define ENTRIES	 (1u << 20)
#define MAP_LEN	 (17u * 65536u)
#define PACKETS	 (1u << 24)
#define BURST	 64
#define REPS	 3
#define CHUNK_LW 16 /* 64-bit words per 128-byte chunk */

enum shape { CHUNK, LINE, MAP_CHUNK };

static const char *const shape_name[] = { "chunk", "line", "map + chunk" };

static uint64_t *table_new(size_t len, int huge)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (huge)
		madvise(p, len, MADV_HUGEPAGE);
	memset(p, 1, len);
	return p;
}

static uint32_t rnd(void)
{
	return (uint32_t)((uint64_t)rand() << 31 ^ (uint64_t)rand());
}

/* One pass: cycles per packet. @p idx holds PACKETS random entries (map slots for MAP_CHUNK). */
static double pass(enum shape s, uint64_t *t, const uint32_t *map, const uint32_t *idx,
		   uint64_t *sink)
{
	uint64_t t0 = __rdtsc(), sum = 0;

	for (uint32_t b = 0; b < PACKETS; b += BURST) {
		uint64_t *e[BURST];

		if (s == MAP_CHUNK)
			for (int i = 0; i < BURST; i++)
				__builtin_prefetch(&map[idx[b + i]]);
		for (int i = 0; i < BURST; i++) {
			uint32_t n = s == MAP_CHUNK ? map[idx[b + i]] : idx[b + i];

			e[i] = &t[(size_t)n * CHUNK_LW];
			__builtin_prefetch(e[i]);
			if (s != LINE)
				__builtin_prefetch(e[i] + 8);
		}
		for (int i = 0; i < BURST; i++) {
			e[i][0]++;
			sum += e[i][1] + (s != LINE ? e[i][9] : 0);
		}
	}
	*sink += sum;
	return (double)(__rdtsc() - t0) / PACKETS;
}

int main(void)
{
	size_t len = (size_t)ENTRIES * CHUNK_LW * sizeof(uint64_t);
	uint32_t *map = malloc(MAP_LEN * sizeof(*map));
	uint32_t *idx = malloc(PACKETS * sizeof(*idx)), *slot = malloc(PACKETS * sizeof(*slot));
	uint64_t sink = 0;

	if (!map || !idx || !slot)
		return 1;
	for (uint32_t i = 0; i < MAP_LEN; i++)
		map[i] = rnd() % ENTRIES;
	for (uint32_t i = 0; i < PACKETS; i++) {
		idx[i] = rnd() % ENTRIES;
		slot[i] = rnd() % MAP_LEN;
	}
	printf("1M entries of 128 B, bursts of %d, TSC cycles per packet, best of %d\n", BURST,
	       REPS);
	for (int huge = 0; huge <= 1; huge++) {
		uint64_t *t = table_new(len, huge);

		if (!t)
			return 1;
		for (enum shape s = CHUNK; s <= MAP_CHUNK; s++) {
			double best = 1e9;

			for (int r = 0; r < REPS; r++) {
				double c = pass(s, t, map, s == MAP_CHUNK ? slot : idx, &sink);

				best = c < best ? c : best;
			}
			printf("%-11s %-12s %6.1f\n", huge ? "THP" : "4 KiB pages", shape_name[s],
			       best);
		}
		munmap(t, len);
	}
	return sink == 42 ? 2 : 0; /* keeps the reads */
}
