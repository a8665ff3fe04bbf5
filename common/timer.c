/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Timers: a 4-ary min-heap with a back-index.
 *
 * Why a heap and not a hierarchical timer wheel:
 *  - exact order: timers fire by (expiry, start order), to the millisecond,
 *    whatever their range (a 100 ms retransmission and a 2 h session timer
 *    live in the same structure, with no cascading or resolution loss);
 *  - the next expiry is key[0], O(1), which is what bounds epoll_wait; a wheel
 *    has to scan slots (or keep a second structure) to answer that;
 *  - no work for the clock itself: a wheel advances tick by tick (or keeps
 *    occupancy bitmaps to skip empty slots) and re-files whole slots of the
 *    upper levels as time passes; a heap only touches the timers that fire;
 *  - `struct timer` carries a 32-bit position instead of two list pointers.
 * Costs: start, restart, cancel and fire are O(log4 n) where a wheel is O(1):
 * about 10 levels at 1M pending timers, each a line of keys plus a write of
 * the moved timer's back-index (`slot`), a random access. In practice a start
 * with a random delay and a cancel of a random timer move few entries (3/4 of
 * the nodes are leaves); popping the earliest walks the full depth.
 * tests/bench/bench_timer, min of 7 runs on a loaded 2-vCPU AMD EPYC VM, ns:
 *      pending   start  cancel  restart  fire+restart  drain
 *         100k      55      40       50           160  125
 *           1M     140      45      145           450  310
 * Most SIP timers are cancelled before they fire (Timer B/F end with the
 * response), and a transaction layer at 10k calls/s asks for well under a
 * million timer operations per second, so this is a few percent of a core.
 * Should it ever matter, a wheel in front of this heap for short delays is
 * the next step.
 *
 * Layout. key[i] = (expires_ms, seq) orders the heap, tmr[i] is the timer at
 * position i, and tmr[i]->slot == i + 1 (0 = not pending). Keys and timer
 * pointers live in two arrays so that comparisons touch only keys: the 4
 * children of node i are key[4i+1 .. 4i+4], 64 bytes, and the key array is
 * offset by 3 entries from a 64-byte aligned block so that each sibling group
 * is exactly one cache line.
 *
 * Ties and re-entrancy. seq counts timer_start calls; the order (expires, seq)
 * makes equal expiries fire first-started-first. timers_run() fires only keys
 * below (now, seq at entry): a timer that a handler starts with delay 0 gets
 * expires == now but a later seq, so it waits for the next run. Handlers may
 * start and cancel anything, since each pop re-reads key[0].
 */
#include "timer.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_ARITY   4
#define HEAP_PAD     3 /* keys before key[0]: puts key[4i+1] on a 64-byte boundary */
#define HEAP_ALIGN   64
#define HEAP_MIN_CAP 64
#define HEAP_MAX_CAP (UINT32_MAX / 2) /* slot = position + 1 must fit in 32 bits */

struct heap_key {
	uint64_t expires_ms;
	uint64_t seq;
};

struct timers {
	struct heap_key *key; /* key[0 .. n-1], into key_mem */
	struct timer **tmr;   /* tmr[i] is ordered by key[i] */
	void *key_mem;
	uint32_t n;
	uint32_t cap;
	uint64_t now_ms;
	uint64_t seq; /* next start's sequence number */
};

static inline bool key_lt(struct heap_key a, struct heap_key b)
{
	return a.expires_ms < b.expires_ms || (a.expires_ms == b.expires_ms && a.seq < b.seq);
}

static inline void heap_put(struct timers *ts, uint32_t i, struct heap_key k, struct timer *t)
{
	ts->key[i] = k;
	ts->tmr[i] = t;
	t->slot = i + 1;
}

/* Places (k, t) at hole i or above it. */
static void sift_up(struct timers *ts, uint32_t i, struct heap_key k, struct timer *t)
{
	while (i > 0) {
		uint32_t p = (i - 1) / HEAP_ARITY;

		if (!key_lt(k, ts->key[p]))
			break;
		heap_put(ts, i, ts->key[p], ts->tmr[p]);
		i = p;
	}
	heap_put(ts, i, k, t);
}

/*
 * The smallest child of i, or 0 if i is a leaf. Prefetches the children
 * groups of all four children (4 lines): whichever wins, the next level is
 * already in flight instead of one dependent cache miss per level.
 */
static inline uint32_t min_child(const struct timers *ts, uint32_t i)
{
	const uint64_t c = (uint64_t)i * HEAP_ARITY + 1;
	const uint32_t n = ts->n;
	uint32_t m, end;

	if (c >= n)
		return 0;
	for (uint64_t g = c * HEAP_ARITY + 1; g < n && g <= (c + 3) * HEAP_ARITY + 1;
	     g += HEAP_ARITY)
		__builtin_prefetch(&ts->key[g]);
	end = c + HEAP_ARITY < n ? (uint32_t)c + HEAP_ARITY : n;
	m = (uint32_t)c;
	for (uint32_t j = m + 1; j < end; j++) {
		if (key_lt(ts->key[j], ts->key[m]))
			m = j;
	}
	return m;
}

/* Places (k, t) at hole i or below it. */
static void sift_down(struct timers *ts, uint32_t i, struct heap_key k, struct timer *t)
{
	uint32_t m;

	while ((m = min_child(ts, i)) && key_lt(ts->key[m], k)) {
		heap_put(ts, i, ts->key[m], ts->tmr[m]);
		i = m;
	}
	heap_put(ts, i, k, t);
}

/*
 * Removes position i; the caller clears the removed timer's slot. The last
 * entry, which fills the hole, comes from the bottom and almost always goes
 * back there, so the hole first sinks to a leaf along the smallest children
 * without comparing against it (Floyd), then the last entry rises from there:
 * a quarter fewer comparisons than a plain sift-down.
 */
static void heap_remove(struct timers *ts, uint32_t i)
{
	const uint32_t last = --ts->n;
	uint32_t m;

	if (i == last)
		return;
	while ((m = min_child(ts, i))) {
		heap_put(ts, i, ts->key[m], ts->tmr[m]);
		i = m;
	}
	sift_up(ts, i, ts->key[last], ts->tmr[last]);
}

static int heap_grow(struct timers *ts)
{
	struct timer **tmr;
	uint32_t cap;
	void *mem;

	if (ts->cap >= HEAP_MAX_CAP)
		return -ENOMEM;
	cap = ts->cap ? ts->cap * 2 : HEAP_MIN_CAP;
	if (posix_memalign(&mem, HEAP_ALIGN, ((size_t)cap + HEAP_PAD) * sizeof(struct heap_key)))
		return -ENOMEM;
	tmr = realloc(ts->tmr, (size_t)cap * sizeof(*tmr));
	if (!tmr) {
		free(mem);
		return -ENOMEM;
	}
	if (ts->n)
		memcpy((struct heap_key *)mem + HEAP_PAD, ts->key, ts->n * sizeof(struct heap_key));
	free(ts->key_mem);
	ts->key_mem = mem;
	ts->key = (struct heap_key *)mem + HEAP_PAD;
	ts->tmr = tmr;
	ts->cap = cap;
	return 0;
}

int timers_alloc(struct timers **tsp, uint64_t now_ms)
{
	struct timers *ts;
	int err;

	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->now_ms = now_ms;
	err = heap_grow(ts);
	if (err) {
		free(ts);
		return err;
	}
	*tsp = ts;
	return 0;
}

void timers_free(struct timers *ts)
{
	if (!ts)
		return;
	free(ts->key_mem);
	free(ts->tmr);
	free(ts);
}

uint64_t timers_now(const struct timers *ts)
{
	return ts->now_ms;
}

uint32_t timers_count(const struct timers *ts)
{
	return ts->n;
}

int timer_start(struct timers *ts, struct timer *t, uint64_t delay_ms, timer_h *h, void *arg)
{
	struct heap_key k;

	if (!h)
		return -EINVAL;
	if (!t->slot && ts->n == ts->cap) {
		int err = heap_grow(ts);

		if (err)
			return err;
	}
	k.expires_ms = delay_ms > UINT64_MAX - ts->now_ms ? UINT64_MAX : ts->now_ms + delay_ms;
	k.seq = ts->seq++;
	t->expires_ms = k.expires_ms;
	t->h = h;
	t->arg = arg;
	if (t->slot) {
		uint32_t i = t->slot - 1;

		assert(i < ts->n && ts->tmr[i] == t);
		/* seq only grows, so the new key is above the old one unless it expires earlier */
		if (k.expires_ms < ts->key[i].expires_ms)
			sift_up(ts, i, k, t);
		else
			sift_down(ts, i, k, t);
	} else {
		sift_up(ts, ts->n++, k, t);
	}
	return 0;
}

void timer_cancel(struct timers *ts, struct timer *t)
{
	uint32_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	assert(i < ts->n && ts->tmr[i] == t);
	heap_remove(ts, i);
	t->slot = 0;
}

void timers_advance(struct timers *ts, uint64_t now_ms)
{
	if (now_ms > ts->now_ms)
		ts->now_ms = now_ms;
}

unsigned timers_run(struct timers *ts, uint64_t now_ms)
{
	const uint64_t run_seq = ts->seq;
	unsigned fired = 0;

	timers_advance(ts, now_ms);
	now_ms = ts->now_ms;
	/*
	 * Every timer started during this run has expires >= now and seq >= run_seq,
	 * so the first key not below (now, run_seq) ends the run.
	 */
	while (ts->n && ts->key[0].expires_ms <= now_ms && ts->key[0].seq < run_seq) {
		struct timer *t = ts->tmr[0];

		heap_remove(ts, 0);
		t->slot = 0;
		fired++;
		t->h(t->arg); /* may free t's owner: t is not touched after this */
	}
	return fired;
}

int64_t timers_next_ms(const struct timers *ts)
{
	uint64_t e;

	if (!ts->n)
		return -1;
	e = ts->key[0].expires_ms;
	if (e <= ts->now_ms)
		return 0;
	e -= ts->now_ms;
	return e > INT64_MAX ? INT64_MAX : (int64_t)e;
}
