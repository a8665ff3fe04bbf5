/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The io_uring loop of a sockets worker: the same flows, sockets, commands and per-datagram
 * logic (sk_datagram) as the epoll loop, fewer system calls. Each flow's socket has one
 * multishot recvmsg that takes buffers from a ring the worker provides; forwarded packets and
 * STUN answers leave as send SQEs straight from those buffers. One io_uring_enter per loop
 * submits the sends of the previous round and collects what arrived on every socket: no
 * epoll_wait, no recvmmsg/sendmmsg per socket.
 *
 * Buffer lifetime: a received buffer goes back to the kernel only after the submit that sent
 * from it. The sockets are O_NONBLOCK, so a send is issued inline during that submit or fails
 * with -EAGAIN (counted): it never waits holding the buffer.
 *
 * Deletion: CMD_DEL cancels the flow's receive, and the flow is acknowledged (then freed by the
 * control thread) only after that receive's last CQE (no IORING_CQE_F_MORE): no completion can
 * name freed memory. Sends naming the flow were submitted, and their failures reaped, before.
 *
 * Sockets are registered files of the ring (a slot per flow while it is attached) so that no
 * operation looks the descriptor up; a slot is emptied before the flow is acknowledged, so the
 * socket is closed, and its port free, when flow_del returns.
 *
 * user_data: a flow pointer (its receive), or a tag in the low bits: 1 a failed send (flow | 1,
 * length in the top 16 bits; successful sends post nothing), 2 a cancel, 0 the command eventfd.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "sockets_int.h"

#define SKU_SQ	     1024
#define SKU_CQ	     8192
#define SKU_BUFS     2048 /* provided receive buffers (a power of two) */
#define SKU_BGID     1
#define SKU_FILES    65536 /* registered-file slots, at most RLIMIT_NOFILE */
#define SKU_NAME_LEN ((socklen_t)sizeof(struct sockaddr_in6))
/* recvmsg_out header + source address + the largest datagram forwarded, cache-line rounded */
#define SKU_BUF_SIZE \
	((sizeof(struct io_uring_recvmsg_out) + SKU_NAME_LEN + DP_SOCKETS_PKT_MAX + 63) & ~63u)
/*
 * Pacing. Every datagram that arrives for a multishot receive wakes a thread waiting in
 * io_uring_enter, so waiting for completions costs a wake-up per packet at low rates (and a
 * wake-up costs more than forwarding a packet). A round that found fewer than SKU_ROUND_FULL
 * datagrams therefore sends its output, sleeps (arrivals meanwhile queue on the sockets and wake
 * nobody), then collects what came. The nap adapts to the rate so that a round finds about
 * SKU_ROUND_FULL datagrams, between SKU_NAP_MIN_NS and SKU_NAP_MAX_NS: at most 0.5 ms added
 * delay (jitter buffers hold tens of ms). Idle, a round blocks.
 */
#define SKU_ROUND_FULL 32
#define SKU_NAP_MIN_NS 20000
#define SKU_NAP_MAX_NS 500000
#define SKU_TAG_SEND   1u
#define SKU_TAG_CANCEL 2u
#define SKU_TAG_MASK   3u
#define SKU_LEN_SHIFT  48

struct sk_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;		 /* SKU_BUFS x SKU_BUF_SIZE */
	struct msghdr rx_tmpl;	 /* what every multishot recvmsg asks for: the source address */
	uint16_t done[SKU_BUFS]; /* buffers to give back after the next submit */
	unsigned ndone;
	struct sockaddr_in6 names[SKU_SQ]; /* destinations of the sends queued since then */
	unsigned nsend;
	unsigned nreply;     /* w->reply_buf slots used since then */
	unsigned nrecv;	     /* datagrams received in this round */
	long nap_ns;	     /* the next nap, see SKU_ROUND_FULL */
	uint32_t *file_free; /* free registered-file slots, a stack */
	unsigned nfree;
	bool cmd_armed;
};

static struct io_uring_sqe *sqe_get(struct sk_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		/* full: submit what is queued (nothing waits) and take the freed slot */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void arm_commands(struct sk_worker *w, struct sk_uring *u)
{
	struct io_uring_sqe *sqe = sqe_get(u);

	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, w->cmd_efd, POLLIN);
	io_uring_sqe_set_data64(sqe, 0);
	u->cmd_armed = true;
}

/* Points @p sqe at @p f's socket: its registered slot when it has one. */
static void sqe_file(struct io_uring_sqe *sqe, const struct sk_flow *f)
{
	if (f->fidx >= 0) {
		sqe->fd = f->fidx;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

/* Without a free slot (or if the kernel refuses) the flow works through its descriptor. */
static void file_register(struct sk_uring *u, struct sk_flow *f)
{
	f->fidx = -1;
	if (!u->nfree)
		return;
	if (io_uring_register_files_update(&u->ring, u->file_free[u->nfree - 1], &f->fd, 1) == 1)
		f->fidx = (int)u->file_free[--u->nfree];
}

/* Nothing submitted or queued uses the slot any more: empty it, which drops the socket. */
static void file_release(struct sk_uring *u, struct sk_flow *f)
{
	int none = -1;

	if (f->fidx < 0)
		return;
	(void)io_uring_register_files_update(&u->ring, (unsigned)f->fidx, &none, 1);
	u->file_free[u->nfree++] = (uint32_t)f->fidx;
	f->fidx = -1;
}

static void arm_recv(struct sk_uring *u, struct sk_flow *f)
{
	struct io_uring_sqe *sqe = sqe_get(u);

	if (!sqe)
		return; /* cannot happen after a submit; the flow would stay silent */
	io_uring_prep_recvmsg_multishot(sqe, f->fd, &u->rx_tmpl, 0);
	sqe_file(sqe, f);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = SKU_BGID;
	io_uring_sqe_set_data(sqe, f);
	f->io_pending = true;
}

static struct sk_uring *uring_of(struct sk_worker *w)
{
	return w->uring;
}

static void uring_attach(struct sk_worker *w, struct sk_flow *f)
{
	file_register(uring_of(w), f);
	arm_recv(uring_of(w), f);
}

static void uring_detach(struct sk_worker *w, struct sk_flow *f)
{
	struct sk_uring *u = uring_of(w);
	struct io_uring_sqe *sqe;

	/* sends through it were submitted in earlier rounds; none can be queued from now on */
	if (!f->io_pending) {
		file_release(u, f);
		return;
	}
	sqe = sqe_get(u);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)f, 0);
	io_uring_sqe_set_data64(sqe, SKU_TAG_CANCEL);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

static const struct sk_engine uring_engine = { .attach = uring_attach, .detach = uring_detach };

static uint8_t *buf_addr(struct sk_uring *u, unsigned bid)
{
	return u->bufs + (size_t)bid * SKU_BUF_SIZE;
}

/*
 * The sends queued so far were issued: their buffers go back to the kernel. Unless a submit left
 * some in the SQ (the kernel short of memory): then everything waits for the next one.
 */
static void recycle(struct sk_uring *u)
{
	int mask = io_uring_buf_ring_mask(SKU_BUFS);

	if (io_uring_sq_ready(&u->ring))
		return;
	for (unsigned i = 0; i < u->ndone; i++)
		io_uring_buf_ring_add(u->br, buf_addr(u, u->done[i]), SKU_BUF_SIZE, u->done[i],
				      mask, (int)i);
	io_uring_buf_ring_advance(u->br, (int)u->ndone);
	u->ndone = 0;
	u->nsend = 0;
	u->nreply = 0;
}

/* Mid-round: sends out now, so their buffers, names and answer slots can be reused. */
static void flush(struct sk_uring *u)
{
	io_uring_submit(&u->ring);
	recycle(u);
}

/* @return false when there is no room (only if the kernel keeps refusing submissions). */
static bool queue_send(struct sk_uring *u, struct sk_flow *in, const struct sk_send *s)
{
	struct io_uring_sqe *sqe;
	uint64_t ud;

	if (u->nsend == SKU_SQ || io_uring_sq_space_left(&u->ring) == 0)
		flush(u);
	if (u->nsend == SKU_SQ || !(sqe = io_uring_get_sqe(&u->ring)))
		return false;
	/* a copy: the latch may move before the submit */
	memcpy(&u->names[u->nsend], &s->dst->u, s->dst->len);
	io_uring_prep_send(sqe, s->via->fd, s->buf, s->len, MSG_DONTWAIT);
	sqe_file(sqe, s->via);
	io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)&u->names[u->nsend],
				    (uint16_t)s->dst->len);
	u->nsend++;
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	ud = (uint64_t)(uintptr_t)in | SKU_TAG_SEND;
	if (!s->reply)
		ud |= (uint64_t)s->len << SKU_LEN_SHIFT;
	io_uring_sqe_set_data64(sqe, ud);
	if (s->reply)
		u->nreply++;
	return true;
}

/* A send the kernel refused: forwarded packets become errors (STUN answers have len 0). */
static void send_failed(struct sk_flow *in, uint64_t ud)
{
	uint64_t len = ud >> SKU_LEN_SHIFT;
	struct sk_tally t = { .errors = 1 };

	if (len) {
		atomic_store_explicit(&in->ctr.packets,
				      atomic_load_explicit(&in->ctr.packets, memory_order_relaxed) -
					  1,
				      memory_order_relaxed);
		atomic_store_explicit(&in->ctr.bytes,
				      atomic_load_explicit(&in->ctr.bytes, memory_order_relaxed) -
					  len,
				      memory_order_relaxed);
	}
	sk_tally_publish(in, &t, 0);
}

static void datagram(struct sk_worker *w, struct sk_uring *u, struct sk_flow *f,
		     const struct io_uring_cqe *cqe, uint8_t *buf)
{
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, cqe->res, &u->rx_tmpl);
	struct sk_tally t = { 0 };
	struct sk_send s;
	struct sa src;
	uint8_t *payload;
	size_t len;

	if (!o || (o->flags & MSG_TRUNC) ||
	    sa_set_sockaddr(&src, io_uring_recvmsg_name(o), o->namelen) != 0) {
		t.errors++;
		goto out;
	}
	payload = io_uring_recvmsg_payload(o, &u->rx_tmpl);
	len = io_uring_recvmsg_payload_length(o, cqe->res, &u->rx_tmpl);
	if (len > DP_SOCKETS_PKT_MAX) {
		t.errors++;
		goto out;
	}
	if (u->nreply == w->batch)
		flush(u);
	if (u->nreply == w->batch) {
		t.errors++; /* no room for a STUN answer: the kernel keeps refusing submissions */
		goto out;
	}
	if (sk_datagram(w, f, payload, len, &src,
			w->reply_buf + (size_t)u->nreply * DP_SOCKETS_PKT_MAX, &t, &s) &&
	    !queue_send(u, f, &s)) {
		t.errors++;
		if (!s.reply) {
			t.packets--;
			t.bytes -= len;
		}
	}
out:
	sk_tally_publish(f, &t, w->now_ms);
}

static void recv_done(struct sk_worker *w, struct sk_uring *u, struct sk_flow *f,
		      const struct io_uring_cqe *cqe)
{
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

		if (cqe->res > 0 && !f->detached)
			datagram(w, u, f, cqe, buf_addr(u, bid));
		u->nrecv++;
		u->done[u->ndone++] = (uint16_t)bid;
		if (u->ndone > SKU_BUFS / 2)
			flush(u); /* keep the kernel supplied */
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	/* the receive ended: cancelled, out of buffers (they come back at the next submit),
	 * or the CQ overflowed. Re-armed unless it is going away or cannot work at all. */
	f->io_pending = false;
	if (f->detached)
		file_release(u, f);
	else if (!w->stopping && cqe->res != -EINVAL && cqe->res != -EOPNOTSUPP)
		arm_recv(u, f);
}

static void completion(struct sk_worker *w, struct sk_uring *u, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	uint64_t ptr = ud & (((uint64_t)1 << SKU_LEN_SHIFT) - 1) & ~(uint64_t)SKU_TAG_MASK;

	if (ud == 0) {
		sk_efd_drain(w->cmd_efd);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			u->cmd_armed = false;
		return;
	}
	switch (ud & SKU_TAG_MASK) {
	case SKU_TAG_SEND:
		send_failed((struct sk_flow *)(uintptr_t)ptr, ud);
		return;
	case SKU_TAG_CANCEL:
		return;
	default:
		recv_done(w, u, (struct sk_flow *)(uintptr_t)ud, cqe);
		return;
	}
}

static void reap(struct sk_worker *w, struct sk_uring *u)
{
	struct io_uring_cqe *cqes[64];
	unsigned n;

	while ((n = io_uring_peek_batch_cqe(&u->ring, cqes, 64)) > 0) {
		for (unsigned i = 0; i < n; i++)
			completion(w, u, cqes[i]);
		io_uring_cq_advance(&u->ring, n);
	}
}

/* The nap that would have brought SKU_ROUND_FULL datagrams at the rate of the last one. */
static long nap_adapt(long nap_ns, unsigned n)
{
	long next = nap_ns * SKU_ROUND_FULL / (long)n;

	return next < SKU_NAP_MIN_NS   ? SKU_NAP_MIN_NS
	       : next > SKU_NAP_MAX_NS ? SKU_NAP_MAX_NS
				       : next;
}

/* Submits the round's sends and collects the next round (see SKU_ROUND_FULL). */
static int submit_and_wait(struct sk_uring *u)
{
	struct timespec nap = { 0, 0 };
	unsigned n = u->nrecv;

	u->nrecv = 0;
	if (n == 0)
		return io_uring_submit_and_wait(&u->ring, 1);
	if (n >= SKU_ROUND_FULL)
		return io_uring_submit_and_get_events(&u->ring);
	io_uring_submit(&u->ring);
	u->nap_ns = nap_adapt(u->nap_ns, n);
	nap.tv_nsec = u->nap_ns;
	nanosleep(&nap, NULL);
	return io_uring_get_events(&u->ring);
}

static void loop(struct sk_worker *w, struct sk_uring *u)
{
	while (!w->stopping) {
		int r = submit_and_wait(u);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY && r != -ETIME)
			break; /* the ring itself is broken */
		recycle(u);
		w->now_ms = sk_now_ms();
		/* first, as in the epoll loop: a change posted before a packet applies to it */
		sk_worker_apply_commands(w);
		reap(w, u);
		if (!u->cmd_armed)
			arm_commands(w, u);
		sk_worker_ack_deleted(w);
	}
}

static void files_setup(struct sk_uring *u)
{
	struct rlimit rl;
	unsigned n = SKU_FILES;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
		n = (unsigned)rl.rlim_cur;
	u->file_free = calloc(n, sizeof(*u->file_free));
	if (!u->file_free || io_uring_register_files_sparse(&u->ring, n) != 0)
		return; /* descriptors then, as with epoll */
	for (unsigned i = 0; i < n; i++)
		u->file_free[i] = n - 1 - i;
	u->nfree = n;
}

static int buffers_setup(struct sk_uring *u)
{
	struct io_uring_buf_reg reg = { .ring_entries = SKU_BUFS, .bgid = SKU_BGID };
	size_t ring_len = SKU_BUFS * sizeof(struct io_uring_buf);
	void *br = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	int err;

	if (br == MAP_FAILED)
		return -ENOMEM;
	u->br = br;
	u->bufs = malloc((size_t)SKU_BUFS * SKU_BUF_SIZE);
	if (!u->bufs)
		return -ENOMEM;
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	err = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (err)
		return err;
	io_uring_buf_ring_init(u->br);
	for (unsigned i = 0; i < SKU_BUFS; i++)
		u->done[u->ndone++] = (uint16_t)i;
	recycle(u);
	return 0;
}

static void uring_free(struct sk_uring *u, bool ring_up)
{
	if (ring_up)
		io_uring_queue_exit(&u->ring); /* cancels and waits for what is still armed */
	if (u->br)
		munmap(u->br, SKU_BUFS * sizeof(struct io_uring_buf));
	free(u->bufs);
	free(u->file_free);
	free(u);
}

/*
 * Single issuer with deferred task work: the receive work of arrived datagrams runs in this
 * thread inside its io_uring_enter, batched, never interrupting it. The ring is created here,
 * in the thread that submits (a single-issuer ring belongs to its creator).
 */
int sk_uring_run(struct sk_worker *w)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
					      IORING_SETUP_SUBMIT_ALL,
				     .cq_entries = SKU_CQ };
	struct sk_uring *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	err = io_uring_queue_init_params(SKU_SQ, &u->ring, &p);
	if (err) {
		free(u);
		return err; /* no io_uring (or too old a kernel): the epoll loop runs */
	}
	err = buffers_setup(u);
	if (err) {
		uring_free(u, true);
		return err;
	}
	files_setup(u);
	u->nap_ns = SKU_NAP_MIN_NS;
	u->rx_tmpl.msg_namelen = SKU_NAME_LEN;
	w->uring = u;
	w->engine = &uring_engine;
	arm_commands(w, u);
	loop(w, u);
	uring_free(u, true);
	w->uring = NULL;
	/* every receive is gone with the ring: what was detached can be acknowledged */
	for (struct sk_flow *f = w->detached; f; f = f->next)
		f->io_pending = false;
	sk_worker_ack_deleted(w);
	return 0;
}
