/* SPDX-License-Identifier: BSD-2-Clause */
/* Timers on a fake clock: the test passes the time to timers_run itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/timer.h"

#define T0 1000 /* fake clock at timers_alloc */

/* Fire log shared by the small tests: which timer fired, in order. */
struct fire_log {
	int id[64];
	uint64_t at[64];
	unsigned n;
};

struct tt {
	struct timer t;
	int id;
	struct fire_log *log;
	struct timers *ts;
	/* what the handler does */
	struct tt *other;
	uint64_t restart_ms; /* restart self with this delay, 0 = no */
	int restarts_left;
	bool cancel_other;
	bool cancel_self;
	bool start_other; /* (re)start other with other_delay */
	uint64_t other_delay;
};

static void tt_h(void *arg)
{
	struct tt *x = arg;
	struct fire_log *lg = x->log;

	assert_false(timer_pending(&x->t));
	assert_true(x->t.expires_ms <= timers_now(x->ts));
	if (lg->n < 64) {
		lg->id[lg->n] = x->id;
		lg->at[lg->n] = timers_now(x->ts);
	}
	if (++lg->n > 1000)
		fail_msg("runaway: a handler's timers fire within the same run");
	if (x->cancel_self)
		timer_cancel(x->ts, &x->t);
	if (x->cancel_other)
		timer_cancel(x->ts, &x->other->t);
	if (x->start_other)
		assert_int_equal(timer_start(x->ts, &x->other->t, x->other_delay, tt_h, x->other),
				 0);
	if (x->restart_ms && x->restarts_left > 0) {
		x->restarts_left--;
		assert_int_equal(timer_start(x->ts, &x->t, x->restart_ms, tt_h, x), 0);
	}
}

struct fixture {
	struct timers *ts;
	struct fire_log log;
	struct tt x[8];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || timers_alloc(&f->ts, T0))
		return -1;
	for (int i = 0; i < 8; i++) {
		f->x[i].id = i;
		f->x[i].log = &f->log;
		f->x[i].ts = f->ts;
		timer_init(&f->x[i].t);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	timers_free(f->ts);
	free(f);
	return 0;
}

static void start(struct fixture *f, int i, uint64_t delay)
{
	assert_int_equal(timer_start(f->ts, &f->x[i].t, delay, tt_h, &f->x[i]), 0);
}

static void assert_log(const struct fire_log *lg, const int *ids, unsigned n)
{
	assert_int_equal(lg->n, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(lg->id[i], ids[i]);
}

static void test_order(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 1, 2, 0, 3 };

	start(f, 0, 30);
	start(f, 1, 10);
	start(f, 2, 20);
	start(f, 3, 40);
	assert_int_equal(timers_count(f->ts), 4);
	assert_int_equal(f->x[1].t.expires_ms, T0 + 10);
	assert_int_equal(timers_run(f->ts, T0 + 9), 0);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_int_equal(f->log.at[0], T0 + 10);
	assert_int_equal(timers_run(f->ts, T0 + 100), 3);
	assert_log(&f->log, want, 4);
	assert_int_equal(timers_count(f->ts), 0);
	assert_int_equal(timers_now(f->ts), T0 + 100);
}

static void test_equal_expiry_fifo(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 3, 0, 5, 1, 4, 2 };

	/* same expiry fires in start order, whatever the heap shape */
	for (int i = 0; i < 6; i++)
		start(f, want[i], 50);
	assert_int_equal(timers_run(f->ts, T0 + 50), 6);
	assert_log(&f->log, want, 6);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 0, 2 };
	struct timer zeroed;

	/* never started: zeroed and initialised timers */
	memset(&zeroed, 0, sizeof(zeroed));
	timer_cancel(f->ts, &zeroed);
	timer_cancel(f->ts, &f->x[5].t);
	assert_false(timer_pending(&f->x[5].t));

	start(f, 0, 10);
	start(f, 1, 20);
	start(f, 2, 30);
	assert_true(timer_pending(&f->x[1].t));
	timer_cancel(f->ts, &f->x[1].t);
	assert_false(timer_pending(&f->x[1].t));
	assert_int_equal(timers_count(f->ts), 2);
	timer_cancel(f->ts, &f->x[1].t); /* twice */
	assert_int_equal(timers_count(f->ts), 2);

	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	timer_cancel(f->ts, &f->x[0].t); /* already fired */
	assert_int_equal(timers_count(f->ts), 1);
	assert_int_equal(timers_run(f->ts, T0 + 100), 1);
	assert_log(&f->log, want, 2);
}

static void test_restart_moves(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 2, 1, 0 };

	start(f, 0, 10);
	start(f, 1, 20);
	start(f, 2, 30);
	start(f, 0, 40); /* later */
	start(f, 2, 5);	 /* earlier */
	assert_int_equal(timers_count(f->ts), 3);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_int_equal(timers_run(f->ts, T0 + 39), 1);
	assert_int_equal(timers_run(f->ts, T0 + 40), 1);
	assert_log(&f->log, want, 3);
}

static void test_restart_same_expiry_goes_last(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 1, 2, 0 };

	start(f, 0, 10);
	start(f, 1, 10);
	start(f, 2, 10);
	start(f, 0, 10); /* restarted: now the latest of the three */
	assert_int_equal(timers_run(f->ts, T0 + 10), 3);
	assert_log(&f->log, want, 3);
}

static void test_handler_restarts_self(void **state)
{
	struct fixture *f = *state;

	f->x[0].restart_ms = 10;
	f->x[0].restarts_left = 2;
	start(f, 0, 10);
	/* a late run fires a periodic timer once, not once per missed period */
	assert_int_equal(timers_run(f->ts, T0 + 100), 1);
	assert_true(timer_pending(&f->x[0].t));
	assert_int_equal(f->x[0].t.expires_ms, T0 + 110);
	assert_int_equal(timers_run(f->ts, T0 + 110), 1);
	assert_int_equal(timers_run(f->ts, T0 + 120), 1);
	assert_false(timer_pending(&f->x[0].t));
	assert_int_equal(f->log.n, 3);
	assert_int_equal(f->log.at[2], T0 + 120);
}

static void test_handler_cancels_self_and_other(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 0, 3 };

	/* 0 and 1 due in the same run: 0 cancels 1 before it fires */
	f->x[0].cancel_self = true; /* not pending any more: harmless */
	f->x[0].other = &f->x[1];
	f->x[0].cancel_other = true;
	start(f, 0, 10);
	start(f, 1, 10);
	start(f, 3, 15);
	assert_int_equal(timers_run(f->ts, T0 + 20), 2);
	assert_log(&f->log, want, 2);
	assert_int_equal(timers_count(f->ts), 0);
}

static void test_handler_restarts_other(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 0, 2, 1 };

	/* 0 and 1 due in the same run: 0 moves 1 to 30 ms later */
	f->x[0].other = &f->x[1];
	f->x[0].start_other = true;
	f->x[0].other_delay = 30;
	start(f, 0, 10);
	start(f, 1, 10);
	start(f, 2, 20);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_int_equal(f->x[1].t.expires_ms, T0 + 40);
	assert_int_equal(timers_run(f->ts, T0 + 39), 1);
	assert_int_equal(timers_run(f->ts, T0 + 40), 1);
	assert_log(&f->log, want, 3);
}

static void test_delay0_from_handler_waits_next_run(void **state)
{
	struct fixture *f = *state;
	static const int want[] = { 0, 1, 2 };

	f->x[0].other = &f->x[1];
	f->x[0].start_other = true; /* 0 starts 1 with delay 0 */
	f->x[1].other = &f->x[2];
	f->x[1].start_other = true; /* 1 starts 2 with delay 0 */
	start(f, 0, 10);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_true(timer_pending(&f->x[1].t));
	assert_int_equal(timers_next_ms(f->ts), 0);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_int_equal(timers_run(f->ts, T0 + 10), 1);
	assert_int_equal(timers_run(f->ts, T0 + 10), 0);
	assert_log(&f->log, want, 3);
	assert_int_equal(timers_next_ms(f->ts), -1);
}

static void test_delay0_self_restart_is_bounded(void **state)
{
	struct fixture *f = *state;

	/* a handler that restarts itself with delay 0 fires once per run */
	f->x[0].other = &f->x[0];
	f->x[0].start_other = true;
	start(f, 0, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(timers_run(f->ts, T0), 1);
	assert_true(timer_pending(&f->x[0].t));
}

static void test_started_outside_run_delay0(void **state)
{
	struct fixture *f = *state;

	/* delay 0 started outside a handler fires at the next run */
	start(f, 0, 0);
	assert_int_equal(timers_next_ms(f->ts), 0);
	assert_int_equal(timers_run(f->ts, T0), 1);
}

static void test_next_ms(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(timers_next_ms(f->ts), -1);
	start(f, 0, 50);
	start(f, 1, 70);
	assert_int_equal(timers_next_ms(f->ts), 50);
	timers_advance(f->ts, T0 + 20);
	assert_int_equal(timers_now(f->ts), T0 + 20);
	assert_int_equal(timers_next_ms(f->ts), 30);
	timers_advance(f->ts, T0 + 60); /* due, not fired by advance */
	assert_int_equal(timers_next_ms(f->ts), 0);
	assert_int_equal(f->log.n, 0);
	assert_int_equal(timers_run(f->ts, T0 + 60), 1);
	assert_int_equal(timers_next_ms(f->ts), 10);
	timer_cancel(f->ts, &f->x[1].t);
	assert_int_equal(timers_next_ms(f->ts), -1);
}

static void test_advance_sets_start_base(void **state)
{
	struct fixture *f = *state;

	timers_advance(f->ts, T0 + 500);
	start(f, 0, 10);
	assert_int_equal(f->x[0].t.expires_ms, T0 + 510);
	assert_int_equal(timers_run(f->ts, T0 + 509), 0);
	assert_int_equal(timers_run(f->ts, T0 + 510), 1);
}

static void test_clock_never_goes_back(void **state)
{
	struct fixture *f = *state;

	start(f, 0, 10);
	assert_int_equal(timers_run(f->ts, T0 + 100), 1);
	assert_int_equal(timers_run(f->ts, T0 + 50), 0);
	assert_int_equal(timers_now(f->ts), T0 + 100);
	timers_advance(f->ts, 0);
	assert_int_equal(timers_now(f->ts), T0 + 100);
}

static void test_huge_delay_saturates(void **state)
{
	struct fixture *f = *state;

	start(f, 0, UINT64_MAX);
	assert_int_equal(f->x[0].t.expires_ms, UINT64_MAX);
	assert_true(timers_next_ms(f->ts) == INT64_MAX);
	start(f, 1, UINT64_MAX - T0);
	assert_int_equal(f->x[1].t.expires_ms, UINT64_MAX);
	assert_int_equal(timers_run(f->ts, UINT64_MAX - 1), 0);
	assert_int_equal(timers_run(f->ts, UINT64_MAX), 2);
	assert_int_equal(f->log.id[0], 0); /* equal expiry: start order */
}

static void test_null_handler(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(timer_start(f->ts, &f->x[0].t, 10, NULL, NULL), -EINVAL);
	assert_false(timer_pending(&f->x[0].t));
	assert_int_equal(timers_count(f->ts), 0);
}

static void test_free_with_pending(void **state)
{
	struct timers *ts;
	struct timer t[100];

	(void)state;
	assert_int_equal(timers_alloc(&ts, 0), 0);
	for (int i = 0; i < 100; i++) {
		timer_init(&t[i]);
		assert_int_equal(timer_start(ts, &t[i], (uint64_t)i, tt_h, NULL), 0);
	}
	timers_free(ts); /* drops them: ASan checks nothing leaks */
	timers_free(NULL);
}

/* ---- 200k timers, random order, half cancelled at random ------------------ */

#define BIG_N 200000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

struct big_timer {
	struct timer t;
	uint64_t seq; /* start order, for the tie check */
	bool cancelled;
	uint8_t fired;
};

struct big_ctx {
	struct timers *ts;
	uint64_t last_expires;
	uint64_t last_seq;
	unsigned fired;
};

static struct big_ctx big;

static void big_h(void *arg)
{
	struct big_timer *b = arg;

	assert_false(b->cancelled);
	assert_int_equal(b->fired, 0);
	b->fired++;
	assert_true(b->t.expires_ms <= timers_now(big.ts));
	assert_true(b->t.expires_ms >= big.last_expires);
	if (b->t.expires_ms == big.last_expires)
		assert_true(b->seq > big.last_seq);
	big.last_expires = b->t.expires_ms;
	big.last_seq = b->seq;
	big.fired++;
}

static void test_200k_random(void **state)
{
	struct big_timer *b = calloc(BIG_N, sizeof(*b));
	uint32_t *perm = malloc(BIG_N * sizeof(*perm));
	uint64_t now = T0, seq = 0;
	unsigned runs = 0;

	(void)state;
	assert_non_null(b);
	assert_non_null(perm);
	memset(&big, 0, sizeof(big));
	assert_int_equal(timers_alloc(&big.ts, now), 0);

	for (uint32_t i = 0; i < BIG_N; i++)
		perm[i] = i;
	for (uint32_t i = BIG_N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng() % (i + 1));
		uint32_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}

	/* start in random order; delays up to 64 s, so many equal expiries */
	for (uint32_t k = 0; k < BIG_N; k++) {
		struct big_timer *x = &b[perm[k]];

		timer_init(&x->t);
		x->seq = seq++;
		assert_int_equal(timer_start(big.ts, &x->t, rng() % 64000, big_h, x), 0);
		assert_int_equal(timers_count(big.ts), k + 1);
	}
	/* restart a tenth to a new random delay, which moves them both ways */
	for (uint32_t k = 0; k < BIG_N / 10; k++) {
		struct big_timer *x = &b[rng() % BIG_N];

		x->seq = seq++;
		assert_int_equal(timer_start(big.ts, &x->t, rng() % 64000, big_h, x), 0);
	}
	assert_int_equal(timers_count(big.ts), BIG_N);

	/* cancel half, chosen at random (a new shuffle) */
	for (uint32_t i = BIG_N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng() % (i + 1));
		uint32_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (uint32_t k = 0; k < BIG_N / 2; k++) {
		struct big_timer *x = &b[perm[k]];

		timer_cancel(big.ts, &x->t);
		x->cancelled = true;
		assert_false(timer_pending(&x->t));
		assert_int_equal(timers_count(big.ts), BIG_N - k - 1);
	}

	/* run the clock forward in random steps until everything fired */
	while (timers_count(big.ts)) {
		unsigned before = timers_count(big.ts);
		unsigned n;

		now += rng() % 700;
		n = timers_run(big.ts, now);
		assert_int_equal(timers_count(big.ts), before - n);
		runs++;
	}
	assert_int_equal(big.fired, BIG_N / 2);
	for (uint32_t i = 0; i < BIG_N; i++)
		assert_int_equal(b[i].fired, b[i].cancelled ? 0 : 1);
	assert_int_equal(timers_next_ms(big.ts), -1);
	assert_true(runs > 100);

	timers_free(big.ts);
	free(perm);
	free(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_order),
		T(test_equal_expiry_fifo),
		T(test_cancel),
		T(test_restart_moves),
		T(test_restart_same_expiry_goes_last),
		T(test_handler_restarts_self),
		T(test_handler_cancels_self_and_other),
		T(test_handler_restarts_other),
		T(test_delay0_from_handler_waits_next_run),
		T(test_delay0_self_restart_is_bounded),
		T(test_started_outside_run_delay0),
		T(test_next_ms),
		T(test_advance_sets_start_base),
		T(test_clock_never_goes_back),
		T(test_huge_delay_saturates),
		T(test_null_handler),
		cmocka_unit_test(test_free_with_pending),
		cmocka_unit_test(test_200k_random),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
