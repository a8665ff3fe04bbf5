/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The xdp engine of the sockets backend: the epoll engine plus AF_XDP sockets.
 *
 * Every flow keeps its bound UDP socket (port ownership, no ICMP port unreachable, the slow
 * path). Attaching a flow also enters its (address, port) in the XDP program's map and in the
 * worker's flow table, so from then on its datagrams arrive as frames on the AF_XDP socket of
 * the receiving queue; whatever still reaches the socket (before the map entry, fragments) is
 * forwarded by the epoll path as before.
 *
 * A frame goes through sk_datagram() like any datagram (STUN, latch, RTP Bleed, counters),
 * then is rewritten in place and sent back out on the same AF_XDP socket when the next hop's
 * MAC is known: the destination is the out flow's latched peer and that peer's own frames came
 * in on this netdev (their source MAC is the next hop). Otherwise (not latched yet, another
 * netdev, IPv4 <-> IPv6) the payload goes out through the out flow's UDP socket.
 */
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "dataplane/xdp/frame.h"
#include "dataplane/xdp/ftab.h"
#include "dataplane/xdp/xdp_prog.h"
#include "dataplane/xdp/xsk.h"
#include "sockets_int.h"

#define SK_XSKS_MAX	64
#define SK_XDP_BURST	64
#define SK_XDP_ROUNDS	4  /* bursts taken from one socket per wake-up */
#define SK_XDP_IDLE_MS	10 /* wake-up while frames wait for their TX completion */
#define SK_EPOLL_EVENTS 64
/*
 * Pacing, as in the io_uring loop (uring.c): every frame that arrives would wake the worker, and
 * a wake-up (plus its TX kick) costs more than forwarding a frame. A wake-up that found fewer
 * than SK_XDP_ROUND_FULL frames sends them, naps (arrivals queue on the RX ring meanwhile), then
 * collects what came; the nap adapts to the rate, between 20 and 500 us of added delay.
 */
#define SK_XDP_ROUND_FULL 32
#define SK_XDP_NAP_MIN_NS 20000
#define SK_XDP_NAP_MAX_NS 500000

struct sk_xq {
	struct xsk x;
	uint8_t mac[XF_MAC_LEN]; /* the netdev's: source of what we send */
	uint32_t in_flight;	 /* frames on TX not completed yet */
};

struct sk_xdp {
	struct xdp_prog prog;
	struct xft ftab;
	unsigned nxq;
	struct sk_xq xq[SK_XSKS_MAX];
	/* written by the worker only */
	_Atomic uint64_t rx, tx, slow, dropped;
};

/* A single-writer counter: plain load and store, readers see whole values. */
static inline void ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	if (n)
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
				      memory_order_relaxed);
}

/* ---- set-up (control thread) ---- */

static bool in_subnet(const struct sockaddr *a, const struct sockaddr *net,
		      const struct sockaddr *mask)
{
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *n = (const void *)net,
					 *m = (const void *)mask;

		return ((x->sin_addr.s_addr ^ n->sin_addr.s_addr) & m->sin_addr.s_addr) == 0;
	}
	return false;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16);
	return false;
}

/*
 * The netdev that carries @p addr: the one with that address, else a loopback device whose
 * subnet holds it (127.0.0.2 is lo's without being listed). 0 when none.
 */
static int netdev_of(const struct ifaddrs *ifa, const struct sa *addr)
{
	const struct ifaddrs *lo = NULL;

	for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (same_addr(i->ifa_addr, &addr->u.sa))
			return (int)if_nametoindex(i->ifa_name);
		if ((i->ifa_flags & IFF_LOOPBACK) && i->ifa_netmask &&
		    in_subnet(&addr->u.sa, i->ifa_addr, i->ifa_netmask))
			lo = i;
	}
	return lo ? (int)if_nametoindex(lo->ifa_name) : 0;
}

static void netdev_mac(const struct ifaddrs *ifa, int ifindex, uint8_t mac[XF_MAC_LEN])
{
	memset(mac, 0, XF_MAC_LEN);
	for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_ll *ll = (const void *)i->ifa_addr;

		if (ll && ll->sll_family == AF_PACKET && ll->sll_ifindex == ifindex &&
		    ll->sll_halen == XF_MAC_LEN) {
			memcpy(mac, ll->sll_addr, XF_MAC_LEN);
			return;
		}
	}
}

/* RX queues of the netdev (sysfs), 1 when that cannot be read. */
static unsigned netdev_queues(int ifindex)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if (!if_indextoname((unsigned)ifindex, name))
		return 1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n ? n : 1;
}

static int open_sockets(struct sk_xdp *x, const struct ifaddrs *ifa, int ifindex, int xsks_fd,
			unsigned frames)
{
	unsigned nq = netdev_queues(ifindex);

	for (unsigned q = 0; q < nq; q++) {
		struct sk_xq *xq = &x->xq[x->nxq];
		int err;

		if (x->nxq == SK_XSKS_MAX)
			return -ENOSPC;
		err = xsk_open(&xq->x, ifindex, q, xsks_fd, frames);
		if (err)
			return err;
		netdev_mac(ifa, ifindex, xq->mac);
		x->nxq++;
	}
	return 0;
}

/* The netdev of each address gets the program (once) and its sockets. */
static int open_netdevs(struct sk_xdp *x, const struct ifaddrs *ifa, const struct sa *addrs,
			unsigned n, unsigned frames)
{
	for (unsigned i = 0; i < n; i++) {
		char a[SA_STRLEN];
		int ifindex = netdev_of(ifa, &addrs[i]);
		unsigned before = x->prog.ndevs;
		int slot, err;

		if (!ifindex) {
			log_warn("xdp: no netdev carries %s: its flows use the sockets path",
				 sa_print_addr(&addrs[i], a, sizeof(a)));
			continue;
		}
		slot = xdp_prog_attach(&x->prog, ifindex);
		if (slot < 0)
			return slot;
		if (x->prog.ndevs != before) {
			err = open_sockets(x, ifa, ifindex, x->prog.devs[slot].xsks_fd, frames);
			if (err)
				return err;
		}
		err = xft_add_addr(&x->ftab, &addrs[i], ifindex);
		if (err)
			return err;
	}
	return x->nxq ? 0 : -ENODEV;
}

int sk_xdp_open(struct sk_xdp **xp, const struct sa *addrs, unsigned n, unsigned frames)
{
	struct ifaddrs *ifa = NULL;
	struct sk_xdp *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	xdp_prog_init(&x->prog);
	if (getifaddrs(&ifa) < 0) {
		err = -errno;
		free(x);
		return err;
	}
	err = open_netdevs(x, ifa, addrs, n, frames);
	freeifaddrs(ifa);
	if (err) {
		sk_xdp_close(x);
		return err;
	}
	*xp = x;
	return 0;
}

void sk_xdp_close(struct sk_xdp *x)
{
	if (!x)
		return;
	/* the program first: nothing is redirected to sockets about to close */
	xdp_prog_detach_all(&x->prog);
	for (unsigned i = 0; i < x->nxq; i++)
		xsk_close(&x->xq[i].x);
	xft_destroy(&x->ftab);
	free(x);
}

void sk_xdp_stats(const struct sk_xdp *x, struct dp_sockets_xdp_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!x)
		return;
	st->active = true;
	st->sockets = x->nxq;
	st->rx = atomic_load_explicit(&x->rx, memory_order_relaxed);
	st->tx = atomic_load_explicit(&x->tx, memory_order_relaxed);
	st->slow = atomic_load_explicit(&x->slow, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&x->dropped, memory_order_relaxed);
	for (unsigned i = 0; i < x->nxq; i++) {
		struct xdp_statistics k;

		if (xsk_kernel_stats(&x->xq[i].x, &k) != 0)
			continue;
		st->rx_ring_full += k.rx_ring_full;
		st->fill_empty += k.rx_fill_ring_empty_descs;
		st->kernel_dropped += k.rx_dropped + k.rx_ring_full + k.tx_invalid_descs;
	}
}

/* ---- the engine: flows in and out of the map (worker) ---- */

static void xdp_attach(struct sk_worker *w, struct sk_flow *f)
{
	struct xft_addr *home = xft_find_addr(&w->xdp->ftab, &f->local);

	memset(&f->xf, 0, sizeof(f->xf));
	sa_init(&f->xf.peer);
	sk_epoll_attach(w, f);
	if (!home)
		return; /* an address on no XDP netdev: the socket's path only */
	f->xf.ifindex = home->ifindex;
	home->ports[sa_port(&f->local)] = f;
	/* fails only without memory: the socket's path still forwards */
	f->xf.mapped = xdp_prog_flow_add(&w->xdp->prog, &f->local, home->ifindex) == 0;
}

static void xdp_detach(struct sk_worker *w, struct sk_flow *f)
{
	if (f->xf.mapped)
		(void)xdp_prog_flow_del(&w->xdp->prog, &f->local);
	f->xf.mapped = false;
	if (f->xf.ifindex)
		(void)xft_set(&w->xdp->ftab, &f->local, NULL);
	sk_epoll_detach(w, f);
}

static const struct sk_engine xdp_engine = { .attach = xdp_attach, .detach = xdp_detach };

/* ---- the packet path (worker) ---- */

/* Same family, address and port; inline: it runs several times per frame (sa_equal does not,
 * and also matches IPv4-mapped addresses, which never occur here). */
static inline bool same_sa(const struct sa *a, const struct sa *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port &&
		       a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
	return false;
}

/*
 * The next hop towards @p f's latched peer is the source MAC of that peer's media frames:
 * called only for media the latch accepted and forwards, sent to our MAC (not a STUN request,
 * which anyone may send from the peer's address, nor a frame the latch refused).
 */
static void remember_peer(struct sk_flow *f, const struct sk_xq *xq, const uint8_t *frame,
			  const struct xf_info *fi)
{
	int ifindex = xq->x.ifindex;

	if (!same_sa(&fi->src, &f->latch.learned))
		return; /* not latched (unset never matches), or another allowed source */
	if (memcmp(frame, xq->mac, XF_MAC_LEN) != 0)
		return;
	if (f->xf.peer_ifindex == ifindex && !memcmp(f->xf.peer_mac, frame + XF_MAC_LEN, 6) &&
	    same_sa(&f->xf.peer, &fi->src))
		return;
	memcpy(f->xf.peer_mac, frame + XF_MAC_LEN, XF_MAC_LEN);
	f->xf.peer_ifindex = ifindex;
	f->xf.peer = fi->src;
}

/* The forward of @p s can leave on @p xq: its destination's next hop is known there. */
static bool fast_forward_ok(const struct sk_xq *xq, const struct sk_send *s)
{
	const struct sk_flow *out = s->via;

	return s->dst == &out->latch.learned && out->xf.ifindex == xq->x.ifindex &&
	       out->xf.peer_ifindex == xq->x.ifindex && same_sa(&out->xf.peer, s->dst);
}

/* What the sockets path does with it: the payload through the UDP socket. */
static void send_slow(struct sk_xdp *x, const struct sk_send *s, struct sk_tally *t)
{
	ctr_add(&x->slow, 1);
	if (sendto(s->via->fd, s->buf, s->len, MSG_DONTWAIT, &s->dst->u.sa, s->dst->len) >= 0)
		return;
	t->errors++;
	if (!s->reply) {
		t->packets--;
		t->bytes -= s->len;
	}
}

/* Rewrites the frame for @p s and queues it on TX. @return false: the caller sends it slowly. */
static bool send_fast(struct sk_xq *xq, uint64_t addr, uint8_t *frame, struct xf_info *fi,
		      const struct sk_send *s)
{
	const uint8_t *dst_mac = s->reply ? frame + XF_MAC_LEN : s->via->xf.peer_mac;
	size_t len;

	if (s->reply) {
		/* the answer is in the scratch buffer: it must fit in what is left of the chunk
		 * (received data starts after the kernel's headroom, not at the chunk) */
		if (addr % XSK_FRAME_SIZE + fi->payload + s->len > XSK_FRAME_SIZE)
			return false;
		memcpy(frame + fi->payload, s->buf, s->len);
	}
	len = xf_rewrite(frame, fi, xq->mac, dst_mac, &s->via->local, s->dst, (uint16_t)s->len);
	if (!len || !xsk_tx_put(&xq->x, addr, (uint32_t)len))
		return false;
	xq->in_flight++;
	return true;
}

/* What became of a frame: only XDP_SENT keeps it (the kernel's until its completion). */
enum xdp_fate { XDP_SENT, XDP_SLOW, XDP_DROPPED };

static enum xdp_fate xdp_frame(struct sk_worker *w, struct sk_xq *xq, const struct xdp_desc *d,
			       struct sk_flow **cur, struct sk_tally *t)
{
	uint8_t *frame = xsk_frame(&xq->x, d->addr);
	struct xf_info fi;
	struct sk_send s;
	struct sk_flow *f;

	if (xf_parse(frame, d->len, &fi) != 0)
		return XDP_DROPPED;
	f = xft_get(&w->xdp->ftab, &fi.dst);
	if (!f || f->detached)
		return XDP_DROPPED;
	if (f != *cur) {
		if (*cur)
			sk_tally_publish(*cur, t, w->now_ms);
		memset(t, 0, sizeof(*t));
		*cur = f;
	}
	if (!sk_datagram(w, f, frame + fi.payload, fi.payload_len, &fi.src, w->reply_buf, t, &s))
		return XDP_DROPPED;
	if (!s.reply)
		remember_peer(f, xq, frame, &fi);
	if ((s.reply || fast_forward_ok(xq, &s)) && send_fast(xq, d->addr, frame, &fi, &s))
		return XDP_SENT;
	send_slow(w->xdp, &s, t);
	return XDP_SLOW;
}

/* One burst from @p xq. @return frames taken. */
static unsigned xdp_burst(struct sk_worker *w, struct sk_xq *xq)
{
	struct xdp_desc d[SK_XDP_BURST];
	struct sk_flow *cur = NULL;
	struct sk_tally t = { 0 };
	unsigned n, sent = 0, dropped = 0;

	xq->in_flight -= xsk_recycle(&xq->x);
	n = xsk_rx_burst(&xq->x, d, SK_XDP_BURST);
	if (!n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		enum xdp_fate fate = xdp_frame(w, xq, &d[i], &cur, &t);

		if (fate == XDP_SENT) {
			sent++;
			continue;
		}
		xsk_fill_put(&xq->x, d[i].addr);
		dropped += fate == XDP_DROPPED;
	}
	if (cur)
		sk_tally_publish(cur, &t, w->now_ms);
	if (sent)
		xsk_tx_kick(&xq->x);
	ctr_add(&w->xdp->rx, n);
	ctr_add(&w->xdp->tx, sent);
	ctr_add(&w->xdp->dropped, dropped);
	return n;
}

/* @return the frames taken */
static unsigned xdp_readable(struct sk_worker *w, struct sk_xq *xq)
{
	unsigned total = 0;

	for (int r = 0; r < SK_XDP_ROUNDS; r++) {
		unsigned n = xdp_burst(w, xq);

		total += n;
		if (n < SK_XDP_BURST)
			break;
	}
	return total;
}

static struct sk_xq *event_xq(struct sk_xdp *x, void *ptr)
{
	struct sk_xq *q = ptr;

	return q >= x->xq && q < x->xq + x->nxq ? q : NULL;
}

/* The nap that would have brought SK_XDP_ROUND_FULL frames at the rate of the last one. */
static long nap_adapt(long nap_ns, unsigned n)
{
	long next = nap_ns * SK_XDP_ROUND_FULL / (long)n;

	return next < SK_XDP_NAP_MIN_NS	  ? SK_XDP_NAP_MIN_NS
	       : next > SK_XDP_NAP_MAX_NS ? SK_XDP_NAP_MAX_NS
					  : next;
}

/* Frames waiting for TX completion are recycled at the next wake-up: make there be one. */
static int idle_timeout(const struct sk_xdp *x)
{
	for (unsigned i = 0; i < x->nxq; i++) {
		if (x->xq[i].in_flight)
			return SK_XDP_IDLE_MS;
	}
	return -1;
}

/*
 * Takes the AF_XDP sockets' events out of @p ev (into @p ready); @return the events left, the
 * flows' and the commands', for the epoll engine.
 */
static int split_events(struct sk_xdp *x, struct epoll_event *ev, int n, struct sk_xq **ready,
			unsigned *nready)
{
	int left = 0;

	*nready = 0;
	for (int i = 0; i < n; i++) {
		struct sk_xq *xq = event_xq(x, ev[i].data.ptr);

		if (xq)
			ready[(*nready)++] = xq;
		else
			ev[left++] = ev[i];
	}
	return left;
}

void sk_xdp_run(struct sk_worker *w)
{
	struct epoll_event ev[SK_EPOLL_EVENTS];
	struct sk_xdp *x = w->xdp;
	long nap_ns = SK_XDP_NAP_MIN_NS;
	unsigned got = 0; /* frames of the last wake-up */

	w->engine = &xdp_engine;
	for (unsigned i = 0; i < x->nxq; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &x->xq[i] };

		(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, x->xq[i].x.fd, &e);
	}
	while (!w->stopping) {
		struct sk_xq *ready[SK_EPOLL_EVENTS];
		int timeout = got ? 0 : idle_timeout(x), n;
		unsigned nready;

		if (got && got < SK_XDP_ROUND_FULL) {
			struct timespec nap = { 0, nap_ns = nap_adapt(nap_ns, got) };

			nanosleep(&nap, NULL);
		}
		n = epoll_wait(w->epfd, ev, SK_EPOLL_EVENTS, timeout);
		got = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		n = split_events(x, ev, n, ready, &nready);
		/* commands and flow sockets first: a flow added before its frames is known */
		sk_epoll_events(w, ev, n);
		for (unsigned i = 0; i < nready; i++)
			got += xdp_readable(w, ready[i]);
		for (unsigned i = 0; i < x->nxq; i++) {
			x->xq[i].in_flight -= xsk_recycle(&x->xq[i].x);
			xsk_wake(&x->xq[i].x);
		}
		sk_worker_ack_deleted(w);
	}
	sk_worker_ack_deleted(w);
}
