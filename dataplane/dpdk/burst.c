/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One burst, l3fwd style, in two stages so that the cache misses of its packets overlap: the
 * first parses each packet (its data prefetched a few packets ahead) and computes its flow's
 * slot from the relay address and port (dpdk_priv.h: no memory read); the flow's two lines, all
 * the fast lane reads (the linked flow's template is copied into them), are prefetched
 * FLOW_AHEAD packets before the second stage reaches it, so that they arrive while the packets
 * before it are forwarded. (Prefetching every flow of the burst in the first stage left the
 * second nothing to overlap with: at 1M flows on 2 MiB pages 234 -> 186 cycles a packet on
 * memif, 145 -> 100 on net_null.) The worker reports quiescent once the burst is done: it holds
 * no flow pointer across bursts.
 *
 * The first stage also builds the burst's fast mask: IPv4/UDP at fixed offsets (one optional
 * tag) to a slot. The second goes through the burst in order: a packet in the mask
 * tries the fast lane (fwd_fast.h), anything else, or what the fast lane declines, takes the full
 * way (dispatch()) as before. In order, so that a packet the full way handles (a new latch, an
 * ARP reply) is seen by the packets after it exactly as without the fast lane.
 */
#include <rte_prefetch.h>

#include "fwd_fast.h"

#define PREFETCH_AHEAD 4
#define FLOW_AHEAD     16 /* 8-48 measured: 16 best at 1M (README) */

struct burst_ctx {
	struct dpdk_pkt pkt[DP_DPDK_BURST_MAX];
	uint8_t cls[DP_DPDK_BURST_MAX];
	struct dpdk_flow *flow[DP_DPDK_BURST_MAX]; /**< the slot; NULL: no slot */
	uint64_t fast; /**< bit i: packet i is IPv4/UDP (parse_udp4_fast()) to a slot */
};

_Static_assert(DP_DPDK_BURST_MAX <= 64, "one bit per packet in burst_ctx.fast");

/*
 * The last IPv4 relay address looked up in this burst: most packets share a few. It starts as
 * 0.0.0.0 with its lookup done, so that no flag says whether it holds one; an address that is no
 * relay address has no ports.
 */
struct amap_memo {
	uint32_t addr;
	struct dpdk_amap e;
};

static inline void memo_set(const struct dp_dpdk *d, struct amap_memo *memo, uint32_t a)
{
	const struct dpdk_amap *e = dpdk_amap_find(d, AF_INET, (const uint8_t *)&a);

	memo->addr = a;
	memo->e = e ? *e : (struct dpdk_amap){ .n_ports = 0 };
}

/* Slot @p i's flow; NULL for UINT32_MAX (dpdk_amap_slot(): no slot). */
static inline struct dpdk_flow *slot_flow(const struct dp_dpdk *d, uint32_t i)
{
	return i != UINT32_MAX ? &d->flows[i] : NULL;
}

/* The slot of IPv4 relay address @p a, port @p port_be (NULL: none). */
static inline struct dpdk_flow *slot4(const struct dp_dpdk *d, uint32_t a, uint16_t port_be,
				      struct amap_memo *memo)
{
	if (memo->addr != a) /* the map is read-only once started */
		memo_set(d, memo, a);
	return slot_flow(d, dpdk_amap_slot(&memo->e, ntohs(port_be)));
}

/* The slot of a UDP packet's destination (NULL: none). */
static inline struct dpdk_flow *slot_of(const struct dp_dpdk *d, struct rte_mbuf *m,
					const struct dpdk_pkt *p, struct amap_memo *memo)
{
	const uint8_t *l3 = dpdk_l3(m, p);
	const struct rte_udp_hdr *u = dpdk_l4(m, p);
	const struct dpdk_amap *e;

	if (p->family == AF_INET)
		return slot4(d, ((const struct rte_ipv4_hdr *)l3)->dst_addr, u->dst_port, memo);
	e = dpdk_amap_find(d, AF_INET6, l3 + offsetof(struct rte_ipv6_hdr, dst_addr));
	return e ? slot_flow(d, dpdk_amap_slot(e, ntohs(u->dst_port))) : NULL;
}

/*
 * The common case's parse and lookup: IPv4/UDP at a fixed layout (one optional tag), so the
 * relay address and port are read at known offsets. @return false when @p m is not that case.
 */
static __rte_always_inline bool classify_udp4(const struct dp_dpdk *d, struct rte_mbuf *m,
					      unsigned int i, struct burst_ctx *x,
					      struct amap_memo *memo)
{
	const struct rte_ipv4_hdr *ip = dpdk_parse_udp4(m, &x->pkt[i]);

	if (!ip)
		return false;
	x->cls[i] = DPKT_UDP;
	x->flow[i] = slot4(d, ip->dst_addr, ((const struct rte_udp_hdr *)(ip + 1))->dst_port, memo);
	return true;
}

/*
 * A packet reads its flow's two lines (dpdk_priv.h: line 1 holds the copy of the linked flow's
 * template); the rest of the flow is cold.
 */
static inline void flow_prefetch(const struct dpdk_flow *f)
{
	rte_prefetch0(f);
	rte_prefetch0(&f->link_gen);
}

/* Any other frame: the full parser. Out of line: the common case's loop keeps its registers. */
static __rte_noinline void classify_other(const struct dp_dpdk *d, struct rte_mbuf *m,
					  unsigned int i, struct burst_ctx *x,
					  struct amap_memo *memo)
{
	x->cls[i] = dpdk_parse_all(m, &x->pkt[i]);
	x->flow[i] = x->cls[i] == DPKT_UDP ? slot_of(d, m, &x->pkt[i], memo) : NULL;
}

/* Parses the burst, prefetching the first slots; the common case joins the mask. */
static void parse_lookup(struct dp_dpdk *d, struct rte_mbuf **pkts, unsigned int n,
			 struct burst_ctx *x)
{
	struct amap_memo memo;
	uint64_t fast = 0;

	memo_set(d, &memo, 0);
	for (unsigned int i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned int i = 0; i < n; i++) {
		bool udp4;

		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		udp4 = likely(classify_udp4(d, pkts[i], i, x, &memo));
		if (!udp4)
			classify_other(d, pkts[i], i, x, &memo);
		if (x->flow[i]) {
			if (i < FLOW_AHEAD)
				flow_prefetch(x->flow[i]);
			fast |= (uint64_t)udp4 << i;
		}
	}
	x->fast = fast;
}

static enum dpdk_act udp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			       struct dpdk_flow *f, uint64_t now_ms)
{
	/* a flow deleted after the lookup is still readable (RCU) but takes no packets */
	if (unlikely(!f || atomic_load_explicit(&f->id, memory_order_acquire) == 0)) {
		dpdk_ctr_add(&w->st.no_flow, 1);
		return DPDK_EXC; /* SIP and anything else the kernel listens to */
	}
	/* one writer per latch: RSS may bring a flow's packets to any worker */
	if (unlikely(f->owner != w->id)) {
		m->hash.usr = f->owner;
		dpdk_ctr_add(&w->st.handoffs, 1);
		return DPDK_HANDOFF;
	}
	return dpdk_fwd(w, m, p, f, now_ms); /* the fast lane did not take it */
}

/* Everything the fast lane does not take; out of line for the same reason as classify_other(). */
static __rte_noinline enum dpdk_act dispatch(struct dp_dpdk_worker *w, struct rte_mbuf *m,
					     struct burst_ctx *x, unsigned int i, uint64_t now_ms)
{
	switch (x->cls[i]) {
	case DPKT_UDP:
		return udp_input(w, m, &x->pkt[i], x->flow[i], now_ms);
	case DPKT_ARP:
		return dpdk_arp_input(w, m, &x->pkt[i]);
	case DPKT_ICMP:
		return dpdk_icmp_input(w, m, &x->pkt[i]);
	case DPKT_OTHER:
		return DPDK_EXC;
	default:
		dpdk_ctr_add(&w->st.malformed, 1);
		return DPDK_DROP;
	}
}

void dp_dpdk_process_burst(struct dp_dpdk_worker *w, struct rte_mbuf **pkts, uint16_t n,
			   uint64_t now_ms, struct dp_dpdk_burst *res)
{
	struct burst_ctx x;

	res->n_tx = res->n_exc = res->n_drop = res->n_handoff = 0;
	w->loop_ms = now_ms;
	if (n > DP_DPDK_BURST_MAX)
		n = DP_DPDK_BURST_MAX;
	parse_lookup(w->dp, pkts, n, &x);
	if (unlikely(!w->fast_lane))
		x.fast = 0;
	struct dpdk_fast_env e = dpdk_fast_env(w);
	unsigned int n_tx = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + FLOW_AHEAD < n && x.flow[i + FLOW_AHEAD])
			flow_prefetch(x.flow[i + FLOW_AHEAD]);
		if (((x.fast >> i) & 1) &&
		    likely(dpdk_fwd_fast(e, m, &x.pkt[i], x.flow[i], now_ms))) {
			res->tx[n_tx++] = m;
			continue;
		}
		switch (dispatch(w, m, &x, i, now_ms)) {
		case DPDK_TX:
			res->tx[n_tx++] = m;
			break;
		case DPDK_EXC:
			res->exc[res->n_exc++] = m;
			break;
		case DPDK_HANDOFF:
			res->handoff[res->n_handoff++] = m;
			break;
		default:
			res->drop[res->n_drop++] = m;
			break;
		}
		e.neigh_gen = w->neigh_gen; /* ARP, or a packet's way out, may have changed it */
	}
	res->n_tx = n_tx;
	dpdk_ctr_add(&w->st.rx, n);
	dpdk_ctr_add(&w->st.tx, res->n_tx);
	dpdk_ctr_add(&w->st.exceptions, res->n_exc);
	rte_rcu_qsbr_quiescent(w->dp->rcu, w->id);
}
