/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A forwarding thread of the sockets backend: its own epoll over its flows' sockets and over
 * the eventfd that announces commands from the control thread.
 *
 * Commands are applied first in each wake-up, so a change posted before a packet arrived applies
 * to that packet (a re-offer's new window, a link). A deleted flow leaves the epoll set at once
 * but its deletion is acknowledged only after the wake-up's events: the event array may still
 * point to it, and the control thread frees the flow as soon as it sees the acknowledgement.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sockets_int.h"

#define SK_EPOLL_EVENTS 64
#define SK_POST_TRIES	20000 /* x 100 us: how long control waits for room in a full ring */

uint64_t sk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	/* EAGAIN only when the counter is saturated: it is readable then anyway */
	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

void sk_efd_drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
}

int sk_worker_post(struct sk_worker *w, const struct sk_cmd *cmd)
{
	for (int tries = 0; !spsc_ring_push(&w->ring, cmd); tries++) {
		struct timespec pause = { 0, 100000 };

		if (tries == SK_POST_TRIES)
			return -EAGAIN;
		efd_signal(w->cmd_efd);
		nanosleep(&pause, NULL);
	}
	efd_signal(w->cmd_efd);
	return 0;
}

static void flow_publish_latch(struct sk_flow *f)
{
	pub_addr_store(&f->ctr.latched, &f->latch.learned);
	atomic_store_explicit(&f->ctr.ssrc, f->latch.ssrc, memory_order_relaxed);
}

void sk_epoll_attach(struct sk_worker *w, struct sk_flow *f)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };

	/* fails only without memory: the flow then stays silent, its counters at 0 */
	(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, f->fd, &ev);
}

void sk_epoll_detach(struct sk_worker *w, struct sk_flow *f)
{
	(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, f->fd, NULL);
}

static const struct sk_engine epoll_engine = { .attach = sk_epoll_attach,
					       .detach = sk_epoll_detach };

static void cmd_add(struct sk_worker *w, struct sk_flow *f, const struct sk_signalled *sig)
{
	f->sig = *sig;
	memset(&f->latch, 0, sizeof(f->latch));
	sa_init(&f->latch.learned);
	latch_restart(&f->latch, &f->sig.latch, w->now_ms);
	memset(f->link, 0, sizeof(f->link));
	memset(f->linked_from, 0, sizeof(f->linked_from));
	f->prev = NULL;
	f->next = w->flows;
	if (w->flows)
		w->flows->prev = f;
	w->flows = f;
	w->engine->attach(w, f);
}

static void cmd_update(struct sk_worker *w, struct sk_flow *f, const struct sk_signalled *sig)
{
	f->sig = *sig;
	latch_restart(&f->latch, &f->sig.latch, w->now_ms);
	flow_publish_latch(f);
}

/* @p f stops sending into its link of kind @p k (and leaves that flow's list of flows linked
 * into it). */
static void link_remove(struct sk_flow *f, enum sk_link_kind k)
{
	struct sk_link *l = &f->link[k];

	if (!l->to)
		return;
	if (l->prev)
		l->prev->link[k].next = l->next;
	else
		l->to->linked_from[k] = l->next;
	if (l->next)
		l->next->link[k].prev = l->prev;
	*l = (struct sk_link){ 0 };
}

static void cmd_link(struct sk_flow *f, struct sk_flow *out, enum sk_link_kind k)
{
	struct sk_link *l = &f->link[k];

	link_remove(f, k);
	if (!out)
		return;
	l->to = out;
	l->next = out->linked_from[k];
	if (out->linked_from[k])
		out->linked_from[k]->link[k].prev = f;
	out->linked_from[k] = f;
}

static void cmd_del(struct sk_worker *w, struct sk_flow *f)
{
	w->engine->detach(w, f);
	/* no flow of this worker may keep sending into the one going away */
	for (unsigned k = 0; k < SK_LINKS; k++) {
		link_remove(f, (enum sk_link_kind)k);
		while (f->linked_from[k])
			link_remove(f->linked_from[k], (enum sk_link_kind)k);
	}
	if (f->prev)
		f->prev->next = f->next;
	else
		w->flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->detached = true;
	f->next = w->detached;
	w->detached = f;
}

/*
 * The wake-up's events are done: nothing refers to the detached flows any more, except under
 * io_uring a receive not finished yet (io_pending): those wait for a later wake-up.
 */
void sk_worker_ack_deleted(struct sk_worker *w)
{
	struct sk_flow **pp = &w->detached;
	bool acked = false;

	while (*pp) {
		struct sk_flow *f = *pp;

		if (f->io_pending) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		acked = true;
		/* the control thread may free f from here on */
		atomic_store_explicit(&f->deleted, true, memory_order_release);
	}
	if (acked)
		efd_signal(w->ack_efd);
}

void sk_worker_apply_commands(struct sk_worker *w)
{
	struct sk_cmd cmd;

	while (spsc_ring_pop(&w->ring, &cmd)) {
		switch (cmd.op) {
		case SK_CMD_ADD:
			cmd_add(w, cmd.flow, &cmd.sig);
			break;
		case SK_CMD_UPDATE:
			cmd_update(w, cmd.flow, &cmd.sig);
			break;
		case SK_CMD_LINK:
			cmd_link(cmd.flow, cmd.out, cmd.kind);
			break;
		case SK_CMD_DEL:
			cmd_del(w, cmd.flow);
			break;
		case SK_CMD_STOP:
			w->stopping = true;
			break;
		}
	}
}

static bool events_include_commands(const struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		if (!ev[i].data.ptr)
			return true;
	}
	return false;
}

void sk_epoll_events(struct sk_worker *w, const struct epoll_event *ev, int n)
{
	w->now_ms = sk_now_ms();
	if (events_include_commands(ev, n))
		sk_efd_drain(w->cmd_efd); /* before popping: a later push re-arms it */
	sk_worker_apply_commands(w);
	for (int i = 0; i < n; i++) {
		struct sk_flow *f = ev[i].data.ptr;

		if (f && !f->detached)
			sk_forward_readable(w, f);
	}
}

static void epoll_loop(struct sk_worker *w)
{
	struct epoll_event ev[SK_EPOLL_EVENTS];

	while (!w->stopping) {
		int n = epoll_wait(w->epfd, ev, SK_EPOLL_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* EBADF/EINVAL: the worker's own state is broken */
		sk_epoll_events(w, ev, n);
		sk_worker_ack_deleted(w);
	}
	sk_worker_ack_deleted(w);
}

#ifndef SBC_HAVE_LIBURING
int sk_uring_run(struct sk_worker *w)
{
	(void)w;
	return -ENOSYS; /* built without liburing */
}
#endif

static void *worker_main(void *arg)
{
	struct sk_worker *w = arg;

#ifdef SBC_HAVE_XDP
	if (w->xdp) {
		sk_xdp_run(w);
		return NULL;
	}
#endif
	if (w->want != DP_SOCKETS_ENGINE_EPOLL && w->want != DP_SOCKETS_ENGINE_XDP &&
	    sk_uring_run(w) == 0)
		return NULL;
	w->engine = &epoll_engine;
	epoll_loop(w);
	return NULL;
}

static int txq_init(struct sk_txq *q, unsigned batch)
{
	q->msgs = calloc(batch, sizeof(*q->msgs));
	q->iov = calloc(batch, sizeof(*q->iov));
	q->names = calloc(batch, sizeof(*q->names));
	q->n = 0;
	return q->msgs && q->iov && q->names ? 0 : -ENOMEM;
}

static void txq_destroy(struct sk_txq *q)
{
	free(q->msgs);
	free(q->iov);
	free(q->names);
}

static int worker_alloc_buffers(struct sk_worker *w, unsigned batch)
{
	w->rx = calloc(batch, sizeof(*w->rx));
	w->rx_iov = calloc(batch, sizeof(*w->rx_iov));
	w->rx_names = calloc(batch, sizeof(*w->rx_names));
	w->rx_buf = malloc((size_t)batch * DP_SOCKETS_PKT_MAX);
	w->reply_buf = malloc((size_t)batch * DP_SOCKETS_PKT_MAX);
	w->ring_slots = calloc(SK_RING_SLOTS, sizeof(*w->ring_slots));
	if (!w->rx || !w->rx_iov || !w->rx_names || !w->rx_buf || !w->reply_buf || !w->ring_slots)
		return -ENOMEM;
	if (txq_init(&w->fwd, batch) || txq_init(&w->fwd_rtcp, batch) || txq_init(&w->reply, batch))
		return -ENOMEM;
	for (unsigned i = 0; i < batch; i++) {
		w->rx_iov[i].iov_base = w->rx_buf + (size_t)i * DP_SOCKETS_PKT_MAX;
		w->rx_iov[i].iov_len = DP_SOCKETS_PKT_MAX;
		w->rx[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx[i].msg_hdr.msg_iovlen = 1;
		w->rx[i].msg_hdr.msg_name = &w->rx_names[i];
		w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_names[i]);
	}
	return 0;
}

int sk_worker_init(struct sk_worker *w, unsigned batch, enum dp_sockets_engine engine)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int err;

	memset(w, 0, sizeof(*w));
	w->epfd = w->cmd_efd = w->ack_efd = -1;
	w->batch = batch;
	w->want = engine;
	w->engine = &epoll_engine;
	err = worker_alloc_buffers(w, batch);
	if (err)
		return err;
	spsc_ring_init(&w->ring, w->ring_slots, SK_RING_SLOTS, sizeof(struct sk_cmd));
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->cmd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->ack_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->cmd_efd < 0 || w->ack_efd < 0)
		return -errno;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_efd, &ev) < 0)
		return -errno;
	w->now_ms = sk_now_ms();
	return 0;
}

int sk_worker_start(struct sk_worker *w)
{
	int err = pthread_create(&w->thread, NULL, worker_main, w);

	if (err)
		return -err;
	w->started = true;
	return 0;
}

void sk_worker_stop(struct sk_worker *w)
{
	struct sk_cmd stop = { .op = SK_CMD_STOP };

	if (!w->started)
		return;
	/* fails only if the thread already left its loop: the join returns at once then */
	(void)sk_worker_post(w, &stop);
	pthread_join(w->thread, NULL);
	w->started = false;
}

void sk_worker_destroy(struct sk_worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->cmd_efd >= 0)
		close(w->cmd_efd);
	if (w->ack_efd >= 0)
		close(w->ack_efd);
	free(w->rx);
	free(w->rx_iov);
	free(w->rx_names);
	free(w->rx_buf);
	free(w->reply_buf);
	free(w->ring_slots);
	txq_destroy(&w->fwd);
	txq_destroy(&w->fwd_rtcp);
	txq_destroy(&w->reply);
}

int sk_worker_wait_deleted(struct sk_worker *w, struct sk_flow *f, uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = w->ack_efd, .events = POLLIN };
		uint64_t now = sk_now_ms();

		if (atomic_load_explicit(&f->deleted, memory_order_acquire))
			return 0;
		if (now >= deadline_ms)
			return -ETIMEDOUT;
		/* any acknowledgement wakes us: it may cover @p f (one covers a whole wake-up) */
		if (poll(&pfd, 1, deadline_ms - now > 100 ? 100 : (int)(deadline_ms - now)) > 0)
			sk_efd_drain(w->ack_efd);
	}
}
