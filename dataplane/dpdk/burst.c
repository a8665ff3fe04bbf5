/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One burst, l3fwd style: parse every frame (prefetching a few ahead), look all UDP
 * destinations up in one rte_hash_lookup_bulk_data(), prefetch the flows hit, then hand each
 * frame to its handler. The worker reports quiescent once the burst is done: it holds no flow
 * pointer across bursts.
 */
#include <rte_prefetch.h>

#include "fastpath.h"

#define PREFETCH_AHEAD 4

struct burst_ctx {
	struct dpdk_pkt pkt[DP_DPDK_BURST_MAX];
	uint8_t cls[DP_DPDK_BURST_MAX];
	struct dpdk_flow_hkey key[DP_DPDK_BURST_MAX];
	const void *keyp[DP_DPDK_BURST_MAX];
	void *data[DP_DPDK_BURST_MAX];
	uint8_t udp_idx[DP_DPDK_BURST_MAX]; /**< packet index of each looked-up key */
	struct dpdk_flow *flow[DP_DPDK_BURST_MAX];
};

static void key_of(struct rte_mbuf *m, const struct dpdk_pkt *p, struct dpdk_flow_hkey *h)
{
	const uint8_t *l3 = dpdk_l3(m, p);
	const struct rte_udp_hdr *u = dpdk_l4(m, p);
	struct dpdk_flow_key *k = &h->k;

	memset(h, 0, sizeof(*h));
	k->family = p->family;
	k->port_be = u->dst_port;
	if (p->family == AF_INET)
		memcpy(k->addr, l3 + offsetof(struct rte_ipv4_hdr, dst_addr), 4);
	else
		memcpy(k->addr, l3 + offsetof(struct rte_ipv6_hdr, dst_addr), 16);
}

/* Parses the burst and collects the keys of its UDP packets. @return how many keys. */
static unsigned int parse_all(struct rte_mbuf **pkts, uint16_t n, struct burst_ctx *x)
{
	unsigned int nk = 0;

	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		x->cls[i] = dpdk_parse(pkts[i], &x->pkt[i]);
		x->flow[i] = NULL;
		if (x->cls[i] != DPKT_UDP)
			continue;
		key_of(pkts[i], &x->pkt[i], &x->key[nk]);
		x->keyp[nk] = &x->key[nk];
		x->udp_idx[nk++] = (uint8_t)i;
	}
	return nk;
}

/* A packet reads lines 0 and 1 of its flow (dpdk_priv.h); the rest of the flow is cold. */
static inline void flow_prefetch(const struct dpdk_flow *f)
{
	rte_prefetch0(f);
	rte_prefetch0((const uint8_t *)f + RTE_CACHE_LINE_SIZE);
}

static void lookup_all(struct dp_dpdk *d, unsigned int nk, struct burst_ctx *x)
{
	uint64_t hits = 0;

	if (nk == 0)
		return;
	rte_hash_lookup_bulk_data(d->hash, x->keyp, nk, &hits, x->data);
	for (unsigned int j = 0; j < nk; j++) {
		if (!(hits & (1ULL << j)))
			continue;
		struct dpdk_flow *f = &d->flows[(uintptr_t)x->data[j]];

		flow_prefetch(f);
		x->flow[x->udp_idx[j]] = f;
	}
}

/*
 * Second prefetch stage: line 0 of the linked flow, all a packet reads there. The flows were
 * prefetched by lookup_all(), so their links are mostly in cache by now. Settings are not
 * prefetched: only signalling changes, STUN and unlatched sources read them.
 */
static void prefetch_linked(struct dp_dpdk *d, uint16_t n, struct burst_ctx *x)
{
	for (uint16_t i = 0; i < n; i++) {
		struct dpdk_flow *f = x->flow[i];

		if (!f)
			continue;
		uint32_t out = atomic_load_explicit(&f->out, memory_order_relaxed);
		uint32_t idx = (out & 0xffffff) - 1; /* see flow_table.c: garbage is only a hint */

		if (out && idx < d->max_flows)
			rte_prefetch0(&d->flows[idx]);
	}
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
	return dpdk_fwd(w, m, p, f, now_ms);
}

static enum dpdk_act dispatch(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct burst_ctx *x,
			      uint16_t i, uint64_t now_ms)
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
	unsigned int nk;

	res->n_tx = res->n_exc = res->n_drop = res->n_handoff = 0;
	if (n > DP_DPDK_BURST_MAX)
		n = DP_DPDK_BURST_MAX;
	nk = parse_all(pkts, n, &x);
	lookup_all(w->dp, nk, &x);
	prefetch_linked(w->dp, n, &x);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		switch (dispatch(w, m, &x, i, now_ms)) {
		case DPDK_TX:
			res->tx[res->n_tx++] = m;
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
	}
	dpdk_ctr_add(&w->st.rx, n);
	dpdk_ctr_add(&w->st.tx, res->n_tx);
	dpdk_ctr_add(&w->st.exceptions, res->n_exc);
	rte_rcu_qsbr_quiescent(w->dp->rcu, w->id);
}
