/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The epoll loop on real fds, signals and the real clock. Timing is never
 * asserted beyond order and occurrence; a watchdog timer turns a hang into a
 * failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/loop.h"

#define WATCHDOG_MS 5000

struct fixture {
	struct loop *l;
	struct timer watchdog;
};

static void watchdog_h(void *arg)
{
	(void)arg;
	fail_msg("watchdog: loop_run did not return within %d ms", WATCHDOG_MS);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || loop_alloc(&f->l))
		return -1;
	timer_init(&f->watchdog);
	if (timer_start(loop_timers(f->l), &f->watchdog, WATCHDOG_MS, watchdog_h, NULL))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	loop_free(f->l);
	free(f);
	return 0;
}

static int new_eventfd(uint64_t value)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	if (value)
		assert_int_equal(eventfd_write(fd, value), 0);
	return fd;
}

static void stop_h(void *arg)
{
	loop_stop(arg);
}

/* ---- readiness ------------------------------------------------------------ */

struct rd {
	struct loop *l;
	unsigned calls;
	uint32_t events;
	char buf[16];
	ssize_t len;
	uint64_t value;
	bool stop;
};

static void pipe_h(int fd, uint32_t events, void *arg)
{
	struct rd *r = arg;

	r->calls++;
	r->events = events;
	r->len = read(fd, r->buf, sizeof(r->buf));
	if (r->stop)
		loop_stop(r->l);
}

static void test_pipe_readable(void **state)
{
	struct fixture *f = *state;
	struct rd r = { .l = f->l, .stop = true };
	int p[2];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(loop_fd_add(f->l, p[0], EPOLLIN, pipe_h, &r), 0);
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.events & EPOLLIN);
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, "hi", 2);

	/* peer closes: EPOLLHUP is reported even though only EPOLLIN was asked */
	close(p[1]);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 2);
	assert_true(r.events & EPOLLHUP);
	assert_int_equal(r.len, 0);
	loop_fd_remove(f->l, p[0]);
	close(p[0]);
}

static void eventfd_h(int fd, uint32_t events, void *arg)
{
	struct rd *r = arg;

	r->calls++;
	r->events = events;
	if (events & EPOLLIN)
		assert_int_equal(eventfd_read(fd, &r->value), 0);
	if (r->stop)
		loop_stop(r->l);
}

static void test_eventfd_readable_writable(void **state)
{
	struct fixture *f = *state;
	struct rd r = { .l = f->l, .stop = true };
	int fd = new_eventfd(3);

	assert_int_equal(loop_fd_add(f->l, fd, EPOLLIN, eventfd_h, &r), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.events, EPOLLIN);
	assert_int_equal(r.value, 3);

	/* drained: now only writable, once asked for */
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLOUT), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.events, EPOLLOUT);
	loop_fd_remove(f->l, fd);
	close(fd);
}

static void never_h(int fd, uint32_t events, void *arg)
{
	(void)arg;
	fail_msg("handler of fd %d called (events %#x)", fd, events);
}

static void test_fd_errors(void **state)
{
	struct fixture *f = *state;
	int fd = new_eventfd(0), nul, big;

	assert_int_equal(loop_fd_add(f->l, -1, EPOLLIN, never_h, NULL), -EBADF);
	assert_int_equal(loop_fd_add(f->l, fd, EPOLLIN, NULL, NULL), -EINVAL);
	assert_int_equal(loop_fd_add(f->l, fd, EPOLLIN, never_h, NULL), 0);
	assert_int_equal(loop_fd_add(f->l, fd, EPOLLIN, never_h, NULL), -EEXIST);
	assert_int_equal(loop_fd_modify(f->l, fd + 100, EPOLLIN), -ENOENT);
	assert_int_equal(loop_fd_modify(f->l, -1, EPOLLIN), -ENOENT);
	loop_fd_remove(f->l, fd);
	loop_fd_remove(f->l, fd); /* twice: harmless */
	loop_fd_remove(f->l, 100000);
	loop_fd_remove(f->l, -1);
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLIN), -ENOENT);

	/* epoll refuses regular files: the errno comes back, nothing is registered */
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(nul >= 0);
	assert_int_equal(loop_fd_add(f->l, nul, EPOLLIN, never_h, NULL), -EPERM);
	assert_int_equal(loop_fd_modify(f->l, nul, EPOLLIN), -ENOENT);
	close(nul);

	/* a high fd number grows the table */
	big = dup2(fd, 900);
	assert_int_equal(big, 900);
	assert_int_equal(loop_fd_add(f->l, big, EPOLLIN, never_h, NULL), 0);
	loop_fd_remove(f->l, big);
	close(big);
	close(fd);
}

/* ---- modify --------------------------------------------------------------- */

static void test_modify_batched(void **state)
{
	struct fixture *f = *state;
	struct rd r = { .l = f->l };
	struct timer t;
	int fd = new_eventfd(1);

	/* registered for nothing: a readable fd stays silent */
	assert_int_equal(loop_fd_add(f->l, fd, 0, eventfd_h, &r), 0);
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 0);

	/* on, off, on again before the loop runs: the last one counts */
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLIN), 0);
	assert_int_equal(loop_fd_modify(f->l, fd, 0), 0);
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLIN), 0);
	r.stop = true;
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.value, 1);

	/* on then off: the fd stays silent */
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLIN | EPOLLOUT), 0);
	assert_int_equal(loop_fd_modify(f->l, fd, 0), 0);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 1);

	/* removed with a modify queued, then re-added: the queue entry is stale */
	assert_int_equal(loop_fd_modify(f->l, fd, EPOLLIN), 0);
	loop_fd_remove(f->l, fd);
	assert_int_equal(loop_fd_add(f->l, fd, 0, eventfd_h, &r), 0);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(r.calls, 1);
	loop_fd_remove(f->l, fd);
	close(fd);
}

/* Two fds ready in the same batch; whichever handler runs first acts on the other. */
struct peer {
	struct loop *l;
	struct peer *other;
	int fd;
	unsigned *calls;
	int action;
	int *reused_fd;
};

enum { ACT_MODIFY_OFF, ACT_REMOVE_FREE, ACT_REMOVE_REUSE };

static unsigned reuse_calls;

static void reuse_h(int fd, uint32_t events, void *arg)
{
	(void)arg;
	assert_true(events & EPOLLIN);
	reuse_calls++;
}

static void peer_h(int fd, uint32_t events, void *arg)
{
	struct peer *p = arg, *o = p->other;
	uint64_t v;

	assert_int_equal(fd, p->fd);
	assert_int_equal(eventfd_read(fd, &v), 0);
	(*p->calls)++;
	loop_stop(p->l);
	if (!o)
		return;
	switch (p->action) {
	case ACT_MODIFY_OFF:
		assert_int_equal(loop_fd_modify(p->l, o->fd, 0), 0);
		break;
	case ACT_REMOVE_FREE:
	case ACT_REMOVE_REUSE:
		loop_fd_remove(p->l, o->fd);
		close(o->fd);
		if (p->action == ACT_REMOVE_REUSE) {
			int nfd = new_eventfd(0);

			/* lowest free number: the one just closed */
			assert_int_equal(nfd, o->fd);
			assert_int_equal(loop_fd_add(p->l, nfd, EPOLLIN, reuse_h, NULL), 0);
			*p->reused_fd = nfd;
		}
		free(o); /* a stale event for it would now be a use after free */
		p->other = NULL;
		break;
	}
}

static void make_peers(struct loop *l, int action, unsigned *calls, int *reused_fd, struct peer **a,
		       struct peer **b)
{
	*a = calloc(1, sizeof(**a));
	*b = calloc(1, sizeof(**b));
	assert_non_null(*a);
	assert_non_null(*b);
	(*a)->other = *b;
	(*b)->other = *a;
	for (struct peer *p = *a;; p = *b) {
		p->l = l;
		p->calls = calls;
		p->action = action;
		p->reused_fd = reused_fd;
		p->fd = new_eventfd(1);
		assert_int_equal(loop_fd_add(l, p->fd, EPOLLIN, peer_h, p), 0);
		if (p == *b)
			break;
	}
}

static struct peer *survivor(struct peer *a, struct peer *b)
{
	return a->other ? b : a; /* the one whose handler ran lost its peer */
}

static void test_remove_in_other_handler(void **state)
{
	struct fixture *f = *state;
	struct peer *a, *b, *s;
	unsigned calls = 0;

	make_peers(f->l, ACT_REMOVE_FREE, &calls, NULL, &a, &b);
	assert_int_equal(loop_run(f->l), 0); /* one iteration: loop_stop */
	assert_int_equal(calls, 1);
	s = survivor(a, b);
	assert_null(s->other);
	loop_fd_remove(f->l, s->fd);
	close(s->fd);
	free(s);
}

static void test_fd_reuse_generation(void **state)
{
	struct fixture *f = *state;
	struct peer *a, *b, *s;
	unsigned calls = 0;
	struct timer t;
	int nfd = -1;

	reuse_calls = 0;
	make_peers(f->l, ACT_REMOVE_REUSE, &calls, &nfd, &a, &b);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(calls, 1);
	assert_true(nfd >= 0);
	/* the old fd's event was fetched with the old generation: not delivered */
	assert_int_equal(reuse_calls, 0);
	s = survivor(a, b);

	/* the new registration works */
	timer_init(&t);
	assert_int_equal(eventfd_write(nfd, 1), 0);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_true(reuse_calls >= 1);
	loop_fd_remove(f->l, nfd);
	close(nfd);
	loop_fd_remove(f->l, s->fd);
	close(s->fd);
	free(s);
}

static void test_modify_off_in_other_handler(void **state)
{
	struct fixture *f = *state;
	struct peer *a, *b;
	unsigned calls = 0;
	struct timer t;

	make_peers(f->l, ACT_MODIFY_OFF, &calls, NULL, &a, &b);
	assert_int_equal(loop_run(f->l), 0);
	/* the other's event was already fetched, but it no longer asks for EPOLLIN */
	assert_int_equal(calls, 1);

	/* still silent in later iterations, though readable */
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(calls, 1);

	/* back on: it fires (and its handler turns the first one off, harmlessly) */
	a->other = b->other = NULL;
	assert_int_equal(loop_fd_modify(f->l, a->fd, EPOLLIN), 0);
	assert_int_equal(loop_fd_modify(f->l, b->fd, EPOLLIN), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(calls, 2);
	for (struct peer *p = a;; p = b) {
		loop_fd_remove(f->l, p->fd);
		close(p->fd);
		if (p == b)
			break;
	}
	free(a);
	free(b);
}

/* ---- bounded work per iteration ------------------------------------------- */

#define MANY_FDS 200

struct many {
	struct loop *l;
	unsigned served;
	unsigned served_at_first_timer;
	bool timer_fired;
};

static struct many many;

static void many_h(int fd, uint32_t events, void *arg)
{
	uint64_t v;

	(void)arg;
	assert_int_equal(eventfd_read(fd, &v), 0);
	loop_fd_remove(many.l, fd);
	close(fd);
	if (++many.served == MANY_FDS)
		loop_stop(many.l);
}

static void many_timer_h(void *arg)
{
	(void)arg;
	many.timer_fired = true;
	many.served_at_first_timer = many.served;
}

static void test_bounded_batch(void **state)
{
	struct fixture *f = *state;
	struct timer t;

	memset(&many, 0, sizeof(many));
	many.l = f->l;
	for (int i = 0; i < MANY_FDS; i++)
		assert_int_equal(loop_fd_add(f->l, new_eventfd(1), EPOLLIN, many_h, NULL), 0);
	/* due now: fires in the first iteration, after its batch of fds */
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 0, many_timer_h, NULL), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(many.served, MANY_FDS);
	assert_true(many.timer_fired);
	assert_int_equal(many.served_at_first_timer, LOOP_MAX_EVENTS);
}

struct busy {
	struct loop *l;
	unsigned calls[2];
	int fd[2];
};

static void busy_h(int fd, uint32_t events, void *arg)
{
	struct busy *b = arg;

	/* never drained: ready at every iteration */
	b->calls[fd == b->fd[1]]++;
}

static void test_timer_not_starved_by_busy_fds(void **state)
{
	struct fixture *f = *state;
	struct busy b = { .l = f->l };
	struct timer t;

	for (int i = 0; i < 2; i++) {
		b.fd[i] = new_eventfd(1);
		assert_int_equal(loop_fd_add(f->l, b.fd[i], EPOLLIN, busy_h, &b), 0);
	}
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 15, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_false(timer_pending(&t));
	assert_true(b.calls[0] > 1);
	assert_true(b.calls[1] > 1);
	for (int i = 0; i < 2; i++) {
		loop_fd_remove(f->l, b.fd[i]);
		close(b.fd[i]);
	}
}

/* ---- timers through the loop ---------------------------------------------- */

struct tl {
	struct loop *l;
	struct timer t[4];
	int order[8];
	unsigned n;
};

static struct tl tl;

static void tl_h(void *arg)
{
	int id = (int)(intptr_t)arg;

	/* the loop's clock and the timers' clock are the same cached value */
	assert_int_equal(loop_now_ms(tl.l), timers_now(loop_timers(tl.l)));
	assert_true(tl.t[id].expires_ms <= loop_now_ms(tl.l));
	tl.order[tl.n++] = id;
	if (id == 3)
		loop_stop(tl.l);
}

static void test_timers_fire_in_order(void **state)
{
	struct fixture *f = *state;
	static const uint64_t delay[] = { 20, 5, 10, 25 };
	struct timers *ts = loop_timers(f->l);
	uint64_t before = loop_now_ms(f->l);

	memset(&tl, 0, sizeof(tl));
	tl.l = f->l;
	for (int i = 0; i < 4; i++) {
		timer_init(&tl.t[i]);
		assert_int_equal(timer_start(ts, &tl.t[i], delay[i], tl_h, (void *)(intptr_t)i), 0);
	}
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(tl.n, 4);
	assert_int_equal(tl.order[0], 1);
	assert_int_equal(tl.order[1], 2);
	assert_int_equal(tl.order[2], 0);
	assert_int_equal(tl.order[3], 3);
	assert_true(loop_now_ms(f->l) >= before + 25);
	assert_int_equal(timers_count(ts), 1); /* the watchdog */
}

static void test_stop_from_timer_only_timers(void **state)
{
	struct fixture *f = *state;
	struct timer t;

	/* no fds at all: epoll_wait must wake for the timer */
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 5, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_false(timer_pending(&t));
}

struct fdtimer {
	struct loop *l;
	struct timer t;
	uint64_t now_in_fd;
	bool fired;
};

static void fdtimer_timer_h(void *arg)
{
	struct fdtimer *x = arg;

	x->fired = true;
	loop_stop(x->l);
}

static void fdtimer_fd_h(int fd, uint32_t events, void *arg)
{
	struct fdtimer *x = arg;
	uint64_t v;

	assert_int_equal(eventfd_read(fd, &v), 0);
	x->now_in_fd = loop_now_ms(x->l);
	/* the delay counts from this iteration's clock, not from an older one */
	assert_int_equal(timer_start(loop_timers(x->l), &x->t, 10, fdtimer_timer_h, x), 0);
	assert_int_equal(x->t.expires_ms, x->now_in_fd + 10);
}

static void test_timer_started_from_fd_handler(void **state)
{
	struct fixture *f = *state;
	struct fdtimer x = { .l = f->l };
	int fd = new_eventfd(0);
	uint64_t fresh;

	timer_init(&x.t);
	assert_int_equal(loop_fd_add(f->l, fd, EPOLLIN, fdtimer_fd_h, &x), 0);
	usleep(30 * 1000); /* let the loop's cached clock go stale */
	fresh = clock_monotonic_ms();
	assert_true(fresh > loop_now_ms(f->l));
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_true(x.fired);
	assert_true(x.now_in_fd >= fresh);
	loop_fd_remove(f->l, fd);
	close(fd);
}

static void test_stop_before_run(void **state)
{
	struct fixture *f = *state;
	struct timer t;

	/* only the watchdog is pending: without the stop flag this would wait for it */
	loop_stop(f->l);
	assert_int_equal(loop_run(f->l), 0);
	assert_true(timer_pending(&f->watchdog));

	/* the flag was consumed: the next run goes on until stopped again */
	timer_init(&t);
	assert_int_equal(timer_start(loop_timers(f->l), &t, 10, stop_h, f->l), 0);
	assert_int_equal(loop_run(f->l), 0);
	assert_false(timer_pending(&t));
}

/* ---- signals -------------------------------------------------------------- */

struct sig {
	struct loop *l;
	int signo[4];
	unsigned n;
};

static void sig_h(int signo, void *arg)
{
	struct sig *s = arg;

	s->signo[s->n++] = signo;
	loop_stop(s->l);
}

static void sig_wrong_h(int signo, void *arg)
{
	(void)arg;
	fail_msg("replaced handler called for signal %d", signo);
}

static void test_signal_raise_sigusr1(void **state)
{
	struct fixture *f = *state;
	struct sig s = { .l = f->l };

	assert_int_equal(loop_signal_add(f->l, SIGUSR1, sig_h, &s), 0);
	assert_int_equal(raise(SIGUSR1), 0); /* blocked: pending until signalfd reads it */
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.signo[0], SIGUSR1);
}

static void test_signal_kill_sigterm(void **state)
{
	struct fixture *f = *state;
	struct sig s = { .l = f->l };

	assert_int_equal(loop_signal_add(f->l, SIGHUP, sig_wrong_h, &s), 0);
	assert_int_equal(loop_signal_add(f->l, SIGTERM, sig_wrong_h, &s), 0);
	assert_int_equal(loop_signal_add(f->l, SIGTERM, sig_h, &s), 0); /* replaces */
	assert_int_equal(kill(getpid(), SIGTERM), 0);			/* process-directed */
	assert_int_equal(loop_run(f->l), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.signo[0], SIGTERM);
}

static void test_signal_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(loop_signal_add(f->l, 0, sig_h, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(f->l, -1, sig_h, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(f->l, NSIG, sig_h, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(f->l, SIGKILL, sig_h, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(f->l, SIGSTOP, sig_h, NULL), -EINVAL);
	assert_int_equal(loop_signal_add(f->l, SIGUSR2, NULL, NULL), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pipe_readable),
		T(test_eventfd_readable_writable),
		T(test_fd_errors),
		T(test_modify_batched),
		T(test_remove_in_other_handler),
		T(test_fd_reuse_generation),
		T(test_modify_off_in_other_handler),
		T(test_bounded_batch),
		T(test_timer_not_starved_by_busy_fds),
		T(test_timers_fire_in_order),
		T(test_stop_from_timer_only_timers),
		T(test_timer_started_from_fd_handler),
		T(test_stop_before_run),
		T(test_signal_raise_sigusr1),
		T(test_signal_kill_sigterm),
		T(test_signal_errors),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
