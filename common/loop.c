/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The epoll loop.
 *
 * Fd table: fds[fd] for every fd number below nfds, grown (doubling) when an
 * fd at or above nfds is added, never on an event. An entry is free
 * (used == false) or registered; gen counts the registrations of that fd number
 * and is the high half of the epoll data (fd in the low half). An event is
 * dispatched only if its fd is registered with the generation it was fetched
 * for, so once a handler removes (and maybe closes and reuses) another fd,
 * the events still in this iteration's batch for the old registration are
 * dropped. A handler's owner may be freed by then: nothing is read from an
 * entry that is free or of another generation.
 *
 *   entry state     events         kevents (what epoll_ctl last set)
 *   free            -              -
 *   registered      owner's set    == events, or != and queued in upd[]
 *
 * Modify queue: upd[] lists fd numbers whose entry has queued set (each at most
 * once, so nfds bounds it). The queued flag survives remove and re-add of the
 * fd number, keeping "queued <=> in upd[]" true; apply_updates() skips entries
 * that were removed or whose kernel set already matches.
 *
 * Handlers may add, modify and remove any fd, start and cancel timers, and
 * call loop_stop(), but must not free the loop nor run it again from inside
 * (that would overwrite the batch being dispatched). fds[] may move when a handler
 * adds an fd: no entry pointer is kept across a handler call.
 */
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOOP_MIN_FDS 64
#define SIG_READ_MAX 8 /* siginfos read per readiness; more wait for the next iteration */

struct fd_entry {
	fd_h *h;
	void *arg;
	uint32_t gen;
	uint32_t events;  /* what the owner asked for */
	uint32_t kevents; /* what the kernel has */
	bool used;
	bool queued; /* in upd[] */
};

struct sig_entry {
	signal_h *h;
	void *arg;
};

struct loop {
	int epfd;
	int sigfd; /* -1 until the first loop_signal_add */
	bool stop;
	uint64_t now_ms;
	struct timers *timers;
	struct fd_entry *fds;
	uint32_t nfds; /* entries in fds[], capacity of upd[] */
	uint32_t nupd;
	int *upd;
	sigset_t sigmask; /* signals routed to sigfd */
	struct sig_entry sig[NSIG];
	struct epoll_event ev[LOOP_MAX_EVENTS];
};

static inline uint64_t ev_data(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

uint64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_alloc(struct loop **lp)
{
	struct loop *l;
	int err;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		err = -errno;
		goto out;
	}
	l->now_ms = clock_monotonic_ms();
	err = timers_alloc(&l->timers, l->now_ms);
	if (err)
		goto out;
	*lp = l;
	return 0;
out:
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
	return err;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	timers_free(l->timers);
	free(l->fds);
	free(l->upd);
	free(l);
}

static int fds_grow(struct loop *l, int fd)
{
	uint32_t cap = l->nfds ? l->nfds : LOOP_MIN_FDS;
	struct fd_entry *fds;
	int *upd;

	while (cap <= (uint32_t)fd) {
		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	fds = realloc(l->fds, (size_t)cap * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	l->fds = fds; /* only the first nfds entries count until upd[] grows too */
	upd = realloc(l->upd, (size_t)cap * sizeof(*upd));
	if (!upd)
		return -ENOMEM;
	l->upd = upd;
	memset(fds + l->nfds, 0, (size_t)(cap - l->nfds) * sizeof(*fds));
	l->nfds = cap;
	return 0;
}

int loop_fd_add(struct loop *l, int fd, uint32_t events, fd_h *h, void *arg)
{
	struct epoll_event ev = { 0 };
	struct fd_entry *e;
	uint32_t gen;

	if (fd < 0)
		return -EBADF;
	if (!h)
		return -EINVAL;
	if ((uint32_t)fd >= l->nfds) {
		int err = fds_grow(l, fd);

		if (err)
			return err;
	}
	e = &l->fds[fd];
	if (e->used)
		return -EEXIST;
	gen = e->gen + 1;
	ev.events = events;
	ev.data.u64 = ev_data(fd, gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	e->h = h;
	e->arg = arg;
	e->gen = gen;
	e->events = events;
	e->kevents = events;
	e->used = true;
	return 0;
}

int loop_fd_modify(struct loop *l, int fd, uint32_t events)
{
	struct fd_entry *e;

	if (fd < 0 || (uint32_t)fd >= l->nfds || !l->fds[fd].used)
		return -ENOENT;
	e = &l->fds[fd];
	e->events = events;
	if (!e->queued) {
		e->queued = true;
		l->upd[l->nupd++] = fd;
	}
	return 0;
}

void loop_fd_remove(struct loop *l, int fd)
{
	struct fd_entry *e;

	if (fd < 0 || (uint32_t)fd >= l->nfds || !l->fds[fd].used)
		return;
	e = &l->fds[fd];
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		log_debug("loop: epoll_ctl(DEL, %d): %s", fd, strerror(errno));
	e->used = false;
	e->h = NULL;
	e->arg = NULL;
}

static void apply_updates(struct loop *l)
{
	for (uint32_t i = 0; i < l->nupd; i++) {
		int fd = l->upd[i];
		struct fd_entry *e = &l->fds[fd];
		struct epoll_event ev = { 0 };

		e->queued = false;
		/* EPOLLONESHOT disarms in the kernel behind our back: re-arm on every modify */
		if (!e->used || (e->events == e->kevents && !(e->events & EPOLLONESHOT)))
			continue;
		ev.events = e->events;
		ev.data.u64 = ev_data(fd, e->gen);
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
			log_err("loop: epoll_ctl(MOD, %d, %#x): %s", fd, e->events,
				strerror(errno));
			continue;
		}
		e->kevents = e->events;
	}
	l->nupd = 0;
}

static void dispatch(struct loop *l, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t d = l->ev[i].data.u64;
		int fd = (int)(uint32_t)d;
		struct fd_entry *e;
		uint32_t events;

		if ((uint32_t)fd >= l->nfds)
			continue;
		e = &l->fds[fd];
		if (!e->used || e->gen != (uint32_t)(d >> 32))
			continue; /* removed, or reused, by an earlier handler of this batch */
		events = l->ev[i].events & (e->events | EPOLLERR | EPOLLHUP);
		if (events)
			e->h(fd, events, e->arg);
	}
}

/* epoll_wait timeout: until the next timer, measured on a fresh clock. */
static int wait_timeout(struct loop *l)
{
	int64_t next = timers_next_ms(l->timers);
	uint64_t deadline, now;

	if (next <= 0)
		return (int)next; /* -1: no timer, 0: due */
	deadline = timers_now(l->timers) + (uint64_t)next;
	now = clock_monotonic_ms();
	if (now >= deadline)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

int loop_run(struct loop *l)
{
	int err = 0;

	do {
		int n;

		apply_updates(l);
		n = epoll_wait(l->epfd, l->ev, LOOP_MAX_EVENTS, l->stop ? 0 : wait_timeout(l));
		if (n < 0) {
			if (errno != EINTR) {
				err = -errno;
				log_err("loop: epoll_wait: %s", strerror(errno));
				break;
			}
			n = 0;
		}
		l->now_ms = clock_monotonic_ms();
		timers_advance(l->timers, l->now_ms);
		dispatch(l, n);
		timers_run(l->timers, l->now_ms);
	} while (!l->stop);
	l->stop = false;
	return err;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

struct timers *loop_timers(struct loop *l)
{
	return l->timers;
}

uint64_t loop_now_ms(const struct loop *l)
{
	return l->now_ms;
}

static void signal_dispatch(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si[SIG_READ_MAX];
	struct loop *l = arg;
	ssize_t r;

	do {
		r = read(fd, si, sizeof(si));
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno != EAGAIN)
			log_err("loop: read(signalfd): %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < (size_t)r / sizeof(si[0]); i++) {
		uint32_t signo = si[i].ssi_signo;

		if (signo < NSIG && l->sig[signo].h)
			l->sig[signo].h((int)signo, l->sig[signo].arg);
	}
}

int loop_signal_add(struct loop *l, int signo, signal_h *h, void *arg)
{
	sigset_t one, mask = l->sigmask;
	int err, fd;

	if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP || !h)
		return -EINVAL;
	sigemptyset(&one);
	if (sigaddset(&one, signo) < 0 || sigaddset(&mask, signo) < 0)
		return -EINVAL; /* glibc refuses the signals it reserves for itself */
	err = pthread_sigmask(SIG_BLOCK, &one, NULL);
	if (err)
		return -err;
	fd = signalfd(l->sigfd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		err = loop_fd_add(l, fd, EPOLLIN, signal_dispatch, l);
		if (err) {
			close(fd);
			return err;
		}
		l->sigfd = fd;
	}
	l->sigmask = mask;
	l->sig[signo].h = h;
	l->sig[signo].arg = arg;
	return 0;
}
