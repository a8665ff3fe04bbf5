/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file timer.h  One-shot timers on a caller-driven clock.
 *
 * A `struct timers` holds the pending timers of one thread. Timers are
 * intrusive: the caller embeds a `struct timer` in its own object, so starting
 * or cancelling a timer never allocates (the container's index may grow,
 * amortised, when the number of pending timers reaches a new maximum).
 * The clock is whatever the caller passes to timers_run(): the event loop passes
 * CLOCK_MONOTONIC milliseconds, unit tests pass a fake clock.
 *
 * Cost: start, cancel and expiry are O(log n) or better with n pending timers;
 * 100k+ pending timers are the normal case for a SIP transaction layer.
 * Not thread-safe: one `struct timers` per thread.
 *
 * Order: timers fire by expiry time; timers with the same expiry fire in the
 * order they were (re)started. The clock never goes back: a clock value older
 * than timers_now() is taken as timers_now().
 */
#ifndef SBC_TIMER_H
#define SBC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timers;

typedef void(timer_h)(void *arg);

/** Embed in the owning object; zero it (or call timer_init) before first use. */
struct timer {
	uint64_t expires_ms; /**< absolute time on the timers' clock */
	uint32_t slot;	     /**< container position + 1; 0 when not pending */
	timer_h *h;
	void *arg;
};

int timers_alloc(struct timers **tsp, uint64_t now_ms);
/**
 * Frees the container; pending timers are dropped without firing and are not
 * touched (their owners may already be gone), so timer_pending() stays true on
 * them: timer_init() one before using it again.
 */
void timers_free(struct timers *ts);

/** The clock value last given to timers_alloc, timers_advance or timers_run. */
uint64_t timers_now(const struct timers *ts);

/** Number of pending timers. */
uint32_t timers_count(const struct timers *ts);

static inline void timer_init(struct timer *t)
{
	t->expires_ms = 0;
	t->slot = 0;
	t->h = 0;
	t->arg = 0;
}

/**
 * (Re)starts @p t to fire @p delay_ms after timers_now() (saturating at
 * UINT64_MAX). Restarting a pending timer moves it. A timer is pending in at
 * most one container.
 * @return 0, -EINVAL if @p h is NULL, or -ENOMEM if the index could not grow
 *         (then @p t is left as it was).
 */
int timer_start(struct timers *ts, struct timer *t, uint64_t delay_ms, timer_h *h, void *arg);

/** Stops @p t if pending; harmless otherwise (fired, cancelled, never started). */
void timer_cancel(struct timers *ts, struct timer *t);

static inline bool timer_pending(const struct timer *t)
{
	return t->slot != 0;
}

/**
 * Advances the clock to @p now_ms and fires every timer due by then, earliest
 * first. A handler may start or cancel any timer, itself included; a timer
 * started by a handler with delay 0 fires in the next call, not this one, so a
 * handler cannot make this loop unbounded.
 * @return the number of timers fired.
 */
unsigned timers_run(struct timers *ts, uint64_t now_ms);

/**
 * Advances the clock to @p now_ms without firing anything: timers started
 * from now on count their delay from @p now_ms, timers due by then fire at the
 * next timers_run(). The event loop calls it before dispatching fds.
 */
void timers_advance(struct timers *ts, uint64_t now_ms);

/** Milliseconds from timers_now() until the next expiry, 0 if due, -1 if none. */
int64_t timers_next_ms(const struct timers *ts);

#endif
