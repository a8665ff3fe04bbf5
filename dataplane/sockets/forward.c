/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The per-packet path of the sockets backend: one readable socket at a time, a batch of
 * datagrams per recvmmsg, each one either a STUN request (answered from the same socket) or
 * media (latched, then queued for the linked flow's socket), one sendmmsg per queue.
 * Forwarded datagrams are sent straight from the receive buffers: nothing is copied.
 * Counters are tallied per batch and published once.
 */
#include <errno.h>
#include <string.h>

#include "dataplane/rtcp_mux.h"
#include "dataplane/stun.h"
#include "sockets_int.h"

/* Batches taken from one socket before the others get their turn (epoll is level-triggered). */
#define SK_ROUNDS_PER_EVENT 4

static inline void ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	/* single writer: no read-modify-write needed, readers see whole values */
	if (n)
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

void sk_tally_publish(struct sk_flow *f, const struct sk_tally *t, uint64_t now_ms)
{
	ctr_add(&f->ctr.packets, t->packets);
	ctr_add(&f->ctr.bytes, t->bytes);
	ctr_add(&f->ctr.errors, t->errors);
	ctr_add(&f->ctr.refused, t->refused);
	ctr_add(&f->ctr.stun_answered, t->stun_answered);
	ctr_add(&f->ctr.stun_refused, t->stun_refused);
	if (t->accepted) {
		atomic_store_explicit(&f->ctr.last_packet_ms, now_ms, memory_order_relaxed);
		atomic_store_explicit(&f->ctr.ssrc, f->latch.ssrc, memory_order_relaxed);
	}
}

/* The SSRC of an RTP packet; RTCP multiplexed on the port (RFC 5761: PT 64..95) has none. */
static inline bool rtp_ssrc(const uint8_t *p, size_t len, uint32_t *ssrc)
{
	uint8_t pt;

	if (len < 12 || (p[0] >> 6) != 2)
		return false;
	pt = p[1] & 0x7f;
	if (pt >= 64 && pt <= 95)
		return false;
	*ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	return true;
}

/* The flow a packet accepted on @p f leaves through: its RTCP link for muxed RTCP, if any. */
static inline struct sk_flow *flow_out(const struct sk_flow *f, const uint8_t *buf, size_t len)
{
	struct sk_flow *rtcp = f->link[SK_LINK_RTCP].to;

	if (rtcp && rtcp_mux_is_rtcp(buf, len))
		return rtcp;
	return f->link[SK_LINK_MEDIA].to;
}

/* Where a flow's endpoint is: its latched source, else the signalled address, else nowhere. */
static inline const struct sa *flow_destination(const struct sk_flow *f)
{
	const struct sa *e = &f->sig.latch.expected;

	if (sa_isset(&f->latch.learned))
		return &f->latch.learned;
	if (sa_isset(e) && sa_port(e) != 0 && !sa_is_any(e))
		return e;
	return NULL;
}

static inline void txq_add(struct sk_txq *q, const struct sa *dst, void *buf, size_t len)
{
	unsigned i = q->n++;

	memcpy(&q->names[i], &dst->u, dst->len);
	q->iov[i].iov_base = buf;
	q->iov[i].iov_len = len;
	memset(&q->msgs[i].msg_hdr, 0, sizeof(q->msgs[i].msg_hdr));
	q->msgs[i].msg_hdr.msg_name = &q->names[i];
	q->msgs[i].msg_hdr.msg_namelen = dst->len;
	q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
	q->msgs[i].msg_hdr.msg_iovlen = 1;
}

/* The socket's buffer is full (or the kernel short of memory): every message would fail alike. */
static inline bool send_error_is_socket_wide(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM;
}

/*
 * Sends the queue from @p fd. What the kernel refuses is counted in *@p failed (lengths in
 * *@p failed_bytes): the rest of the queue when the socket is full, so that a full buffer costs
 * one failing call and not one per message; else the one message, so that one bad destination
 * (EHOSTUNREACH, EINVAL...) cannot stall the others.
 */
static void txq_flush(struct sk_txq *q, int fd, uint64_t *failed, uint64_t *failed_bytes)
{
	unsigned done = 0;

	while (done < q->n) {
		int r = sendmmsg(fd, q->msgs + done, q->n - done, MSG_DONTWAIT);
		unsigned skip;

		if (r > 0) {
			done += (unsigned)r;
			continue;
		}
		skip = r < 0 && send_error_is_socket_wide(errno) ? q->n - done : 1;
		for (unsigned i = 0; i < skip; i++)
			*failed_bytes += q->iov[done + i].iov_len;
		*failed += skip;
		done += skip;
	}
	q->n = 0;
}

static bool answer_stun(struct sk_flow *f, const uint8_t *buf, size_t len, const struct sa *src,
			uint8_t *scratch, struct sk_tally *t, struct sk_send *s)
{
	struct stun_creds creds = { f->sig.ice_ufrag, f->sig.ice_pwd };
	size_t outlen = 0;

	switch (stun_answer(buf, len, src, &creds, scratch, DP_SOCKETS_PKT_MAX, &outlen)) {
	case STUN_ANSWERED:
		t->stun_answered++;
		break;
	case STUN_ERROR_ANSWER:
		t->stun_refused++;
		break;
	case STUN_DROP:
	default:
		t->stun_refused++;
		return false;
	}
	*s = (struct sk_send){ .via = f, .dst = src, .buf = scratch, .len = outlen, .reply = true };
	return true;
}

static bool forward_media(struct sk_worker *w, struct sk_flow *f, uint8_t *buf, size_t len,
			  const struct sa *src, struct sk_tally *t, struct sk_send *s)
{
	uint32_t ssrc = 0;
	bool has_ssrc = rtp_ssrc(buf, len, &ssrc);
	struct sk_flow *out;
	const struct sa *dst;

	switch (latch_check(&f->latch, &f->sig.latch, src, ssrc, has_ssrc, w->now_ms)) {
	case LATCH_REFUSED:
		t->refused++;
		return false;
	case LATCH_LEARNED:
		pub_addr_store(&f->ctr.latched, &f->latch.learned);
		break;
	case LATCH_FORWARD:
	default:
		break;
	}
	t->accepted = true;
	out = flow_out(f, buf, len);
	if (!out)
		return false; /* not linked (e.g. on hold): accepted, not forwarded */
	dst = flow_destination(out);
	if (!dst) {
		t->errors++;
		return false;
	}
	t->packets++;
	t->bytes += len;
	*s = (struct sk_send){ .via = out, .dst = dst, .buf = buf, .len = len };
	return true;
}

bool sk_datagram(struct sk_worker *w, struct sk_flow *f, uint8_t *buf, size_t len,
		 const struct sa *src, uint8_t *scratch, struct sk_tally *t, struct sk_send *s)
{
	if (stun_is_stun(buf, len))
		return answer_stun(f, buf, len, src, scratch, t, s);
	return forward_media(w, f, buf, len, src, t, s);
}

static void process_datagram(struct sk_worker *w, struct sk_flow *f, unsigned i, struct sk_tally *t)
{
	struct msghdr *h = &w->rx[i].msg_hdr;
	uint8_t *buf = w->rx_buf + (size_t)i * DP_SOCKETS_PKT_MAX;
	uint8_t *scratch = w->reply_buf + (size_t)w->reply.n * DP_SOCKETS_PKT_MAX;
	struct sk_send s;
	struct sa src;

	if ((h->msg_flags & MSG_TRUNC) ||
	    sa_set_sockaddr(&src, (const struct sockaddr *)h->msg_name, h->msg_namelen) != 0) {
		t->errors++;
		return;
	}
	if (!sk_datagram(w, f, buf, w->rx[i].msg_len, &src, scratch, t, &s))
		return;
	if (s.reply)
		txq_add(&w->reply, s.dst, s.buf, s.len);
	else
		txq_add(s.via == f->link[SK_LINK_MEDIA].to ? &w->fwd : &w->fwd_rtcp, s.dst, s.buf,
			s.len);
}

static void rx_rearm(struct sk_worker *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		w->rx[i].msg_hdr.msg_namelen = sizeof(w->rx_names[i]);
		w->rx[i].msg_hdr.msg_flags = 0;
	}
}

/* One batch from @p f. @return the number of datagrams received. */
static unsigned forward_batch(struct sk_worker *w, struct sk_flow *f)
{
	struct sk_tally t = { 0 };
	uint64_t failed = 0, failed_bytes = 0;
	int n = recvmmsg(f->fd, w->rx, w->batch, MSG_DONTWAIT, NULL);

	if (n <= 0)
		return 0;
	w->now_ms = sk_now_ms(); /* coarse clock, vDSO: no system call */
	for (unsigned i = 0; i < (unsigned)n; i++)
		process_datagram(w, f, i, &t);
	if (w->fwd.n)
		txq_flush(&w->fwd, f->link[SK_LINK_MEDIA].to->fd, &failed, &failed_bytes);
	if (w->fwd_rtcp.n)
		txq_flush(&w->fwd_rtcp, f->link[SK_LINK_RTCP].to->fd, &failed, &failed_bytes);
	t.packets -= failed;
	t.bytes -= failed_bytes;
	t.errors += failed;
	failed = 0;
	if (w->reply.n)
		txq_flush(&w->reply, f->fd, &failed, &failed_bytes);
	t.errors += failed;
	rx_rearm(w, (unsigned)n);
	sk_tally_publish(f, &t, w->now_ms);
	return (unsigned)n;
}

void sk_forward_readable(struct sk_worker *w, struct sk_flow *f)
{
	for (int round = 0; round < SK_ROUNDS_PER_EVENT; round++) {
		if (forward_batch(w, f) < w->batch)
			return;
	}
}
