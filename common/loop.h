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
 * blocks them in the calling thread so that only signalfd sees them. Register
 * them before starting other threads, which inherit the mask (a thread that
 * leaves a signal unblocked would take it instead of the signalfd). The
 * signals stay blocked after loop_free, so one arriving during shutdown stays
 * pending instead of killing the process half way through its clean-up.
 *
 * Bounded work: each iteration takes at most LOOP_MAX_EVENTS ready fds from one
 * epoll_wait and then runs the due timers, so a busy fd cannot starve timers
 * or the fds behind it (epoll hands out ready fds round-robin).
 *
 * Poll changes are batched (as in HAProxy): loop_fd_modify only records the new
 * event set, and the loop applies the changes that are still different from
 * what the kernel has in one pass before the next epoll_wait, so turning
 * EPOLLOUT on and off again within an iteration costs no syscall. Events
 * already fetched are filtered by the current set: after loop_fd_modify(fd, 0)
 * the fd's handler is not called again in this iteration (except for
 * EPOLLERR/EPOLLHUP, which epoll always reports). loop_fd_add and
 * loop_fd_remove take effect at once (the owner closes the fd right after a
 * remove; errors of an add are the caller's to see).
 * Not thread-safe: a loop is used by the thread that runs it.
 */
#ifndef SBC_LOOP_H
#define SBC_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

#include "timer.h"

struct loop;

/** The most ready fds that one iteration dispatches. */
#define LOOP_MAX_EVENTS 64

/** @param events the epoll event bits that are ready (EPOLLIN, EPOLLOUT, EPOLLERR, ...). */
typedef void(fd_h)(int fd, uint32_t events, void *arg);
typedef void(signal_h)(int signo, void *arg);

int loop_alloc(struct loop **lp);
/** Closes the loop's own descriptors; registered fds stay open (their owners close them). */
void loop_free(struct loop *l);

/**
 * Registers @p fd for @p events (level-triggered unless EPOLLET is given).
 * @return 0, -EEXIST if @p fd is registered, -EBADF if @p fd < 0, -EINVAL if
 *         @p h is NULL, -ENOMEM, or a negative errno from epoll_ctl.
 */
int loop_fd_add(struct loop *l, int fd, uint32_t events, fd_h *h, void *arg);
/**
 * Changes the events @p fd waits for; applied before the next epoll_wait (see
 * above; a failure then is logged). @return 0, or -ENOENT if @p fd is not registered.
 */
int loop_fd_modify(struct loop *l, int fd, uint32_t events);
/** Unregisters @p fd (call before close); pending events for it are dropped. */
void loop_fd_remove(struct loop *l, int fd);

/**
 * Routes @p signo to @p h through the loop; adding a signal again replaces its
 * handler. @return 0, -EINVAL for a signal that cannot be caught (SIGKILL,
 * SIGSTOP, out of range, reserved by libc), or a negative errno.
 */
int loop_signal_add(struct loop *l, int signo, signal_h *h, void *arg);

/** The loop's timers; their clock is loop_now_ms(). */
struct timers *loop_timers(struct loop *l);

/** CLOCK_MONOTONIC in milliseconds, as sampled at the start of this iteration. */
uint64_t loop_now_ms(const struct loop *l);

/**
 * Runs until loop_stop(). Each iteration: apply batched fd changes, wait
 * (bounded by the next timer), sample the clock, dispatch ready fds and
 * signals, fire due timers.
 * @return 0 after loop_stop, or a negative errno if epoll_wait failed.
 */
int loop_run(struct loop *l);

/**
 * Makes loop_run return after the current iteration (the fds already fetched
 * and the due timers are still handled). Called while loop_run is not
 * running, the next loop_run does one iteration without blocking and returns.
 */
void loop_stop(struct loop *l);

/** Current CLOCK_MONOTONIC time in milliseconds. */
uint64_t clock_monotonic_ms(void);

#endif
