/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench_timer: nanoseconds per timer operation with N timers pending.
 *
 * For each N: fill N timers with random delays (0..64 s, the span of SIP
 * transaction timers), then time, over OPS operations each:
 *   start    start OPS more timers          (pending N -> N+OPS)
 *   cancel   cancel those, in random order  (N+OPS -> N)
 *   restart  move random pending timers     (N)
 *   fire     fire due timers whose handler restarts them, clock in 1 ms steps (N)
 *   drain    fire everything                (N -> 0)
 * Build with optimisation (--buildtype=release) for meaningful numbers.
 * Usage: bench_timer [N ...]   (default: 100000 1000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/timer.h"

#define OPS	   100000u
#define DELAY_SPAN 64000u
#define RND_N	   (1u << 20) /* pre-drawn random numbers, so the RNG stays out of the timing */

static uint32_t rnd[RND_N];
static uint32_t rnd_i;

static inline uint32_t next_rnd(void)
{
	return rnd[rnd_i++ & (RND_N - 1)];
}

static void rnd_fill(void)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (uint32_t i = 0; i < RND_N; i++) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		rnd[i] = (uint32_t)((s * 0x2545f4914f6cdd1dULL) >> 32);
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct timers *ts;
static uint64_t fired;
static int draining;

static void drain_h(void *arg)
{
	(void)arg;
	fired++;
}

static void restart_h(void *arg)
{
	struct timer *t = arg;

	fired++;
	if (!draining)
		timer_start(ts, t, 1 + next_rnd() % DELAY_SPAN, restart_h, t);
}

static int bench(uint32_t n)
{
	struct timer *t = calloc((size_t)n + OPS, sizeof(*t));
	uint32_t *perm = malloc(OPS * sizeof(*perm));
	double t0, ns_start, ns_cancel, ns_restart, ns_fire, ns_drain;
	uint64_t now = 0;
	int err = 1;

	ts = NULL;
	if (!t || !perm || timers_alloc(&ts, now))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (timer_start(ts, &t[i], next_rnd() % DELAY_SPAN, restart_h, &t[i]))
			goto out;
	}

	t0 = now_ns();
	for (uint32_t i = n; i < n + OPS; i++)
		timer_start(ts, &t[i], next_rnd() % DELAY_SPAN, drain_h, NULL);
	ns_start = (now_ns() - t0) / OPS;

	for (uint32_t i = 0; i < OPS; i++)
		perm[i] = n + i;
	for (uint32_t i = OPS - 1; i > 0; i--) {
		uint32_t j = next_rnd() % (i + 1), x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	t0 = now_ns();
	for (uint32_t i = 0; i < OPS; i++)
		timer_cancel(ts, &t[perm[i]]);
	ns_cancel = (now_ns() - t0) / OPS;

	for (uint32_t i = 0; i < OPS; i++)
		perm[i] = next_rnd() % n;
	t0 = now_ns();
	for (uint32_t i = 0; i < OPS; i++)
		timer_start(ts, &t[perm[i]], next_rnd() % DELAY_SPAN, restart_h, &t[perm[i]]);
	ns_restart = (now_ns() - t0) / OPS;

	fired = 0;
	t0 = now_ns();
	while (fired < OPS)
		timers_run(ts, ++now);
	ns_fire = (now_ns() - t0) / (double)fired;

	draining = 1;
	fired = 0;
	t0 = now_ns();
	timers_run(ts, UINT64_MAX);
	ns_drain = (now_ns() - t0) / (double)fired;
	draining = 0;

	printf("%9u %9.1f %9.1f %9.1f %13.1f %9.1f\n", n, ns_start, ns_cancel, ns_restart, ns_fire,
	       ns_drain);
	err = 0;
out:
	if (err)
		fprintf(stderr, "bench_timer: out of memory\n");
	timers_free(ts);
	free(perm);
	free(t);
	return err;
}

int main(int argc, char **argv)
{
	static const uint32_t def[] = { 100000, 1000000 };

	rnd_fill();
	printf("ns per operation, %u operations each, delays uniform in 0..%u ms\n", OPS,
	       DELAY_SPAN);
	printf("%9s %9s %9s %9s %13s %9s\n", "pending", "start", "cancel", "restart",
	       "fire+restart", "drain");
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			unsigned long n = strtoul(argv[i], NULL, 10);

			if (n < 1 || n > 100000000) {
				fprintf(stderr, "usage: bench_timer [N (1..100000000) ...]\n");
				return 2;
			}
			if (bench((uint32_t)n))
				return 1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		if (bench(def[i]))
			return 1;
	}
	return 0;
}
