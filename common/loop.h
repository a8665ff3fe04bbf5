/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file loop.h  The event loop: one per thread, on epoll.
 *
 * A loop waits for file descriptors, signals (through signalfd) and timers (a
 * `struct timers` driven by CLOCK_MONOTONIC milliseconds) and calls their
 * handlers. Each registered fd carries a generation number in its epoll data,
 * so an event that was already fetched for an fd that a handler then closed and
 * reused in the same iteration is dropped instead of reaching the new owner.
 *
 * Signals: SIGTERM and SIGINT ask for a graceful stop, SIGHUP for a reload;
 * the daemon registers handlers for the signals it cares about, and the loop
 * blocks them in the calling thread so that only signalfd sees them.
 * Not thread-safe: a loop is used by the thread that runs it.
 */
#ifndef SBC_LOOP_H
#define SBC_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "timer.h"

struct loop;

/** @param events the epoll event bits that are ready (EPOLLIN, EPOLLOUT, EPOLLERR, ...). */
typedef void(fd_h)(int fd, uint32_t events, void *arg);
typedef void(signal_h)(int signo, void *arg);

int loop_alloc(struct loop **lp);
/** Closes the loop's own descriptors; registered fds stay open (their owners close them). */
void loop_free(struct loop *l);

/** @return 0, -EEXIST if @p fd is registered, or a negative errno from epoll_ctl. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, fd_h *h, void *arg);
int loop_fd_modify(struct loop *l, int fd, uint32_t events);
/** Unregisters @p fd (call before close); pending events for it are dropped. */
void loop_fd_remove(struct loop *l, int fd);

/** Routes @p signo to @p h through the loop. @return 0 or a negative errno. */
int loop_signal_add(struct loop *l, int signo, signal_h *h, void *arg);

/** The loop's timers; their clock is loop_now_ms(). */
struct timers *loop_timers(struct loop *l);

/** CLOCK_MONOTONIC in milliseconds, as sampled at the start of this iteration. */
uint64_t loop_now_ms(const struct loop *l);

/**
 * Runs until loop_stop(). Each iteration: wait (bounded by the next timer),
 * dispatch ready fds and signals, fire due timers.
 * @return 0 after loop_stop, or a negative errno if epoll_wait failed.
 */
int loop_run(struct loop *l);

/** Makes loop_run return after the current iteration. */
void loop_stop(struct loop *l);

/** Current CLOCK_MONOTONIC time in milliseconds. */
uint64_t clock_monotonic_ms(void);

#endif
