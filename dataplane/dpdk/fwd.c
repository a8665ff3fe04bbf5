/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Relay forwarding of one UDP packet that hit flow @p f: latch check, then the packet leaves
 * from the linked flow's relay address:port to that flow's destination (latched, else
 * signalled); RTCP muxed on @p f from its RTCP link's, when it has one (RFC 5761 demux).
 * Checksums are patched incrementally (RFC 1624) or left to the NIC when the egress port offers
 * checksum offload. A packet between an IPv4 and an IPv6 flow gets the other family's header
 * first (xlat.c). A datagram longer than the egress port's MTU (IPv4 -> IPv6 adds 20 bytes; a
 * jumbo port forwards to a 1500-byte one) leaves in fragments (frag.c), checksums in software.
 */
#include "dataplane/rtcp_mux.h"
#include "dataplane/stun.h"
#include "fwd_fast.h"

/* The latch is written under a sequence count so that flow_stats() reads it whole. */
static inline void latch_write_begin(struct dpdk_flow_cold *fc)
{
	uint32_t s = atomic_load_explicit(&fc->latch_seq, memory_order_relaxed);

	atomic_store_explicit(&fc->latch_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

/*
 * Also refreshes the compare-ready latch in line 0, and drops the template of packets leaving
 * through this flow and its copy (dpdk_priv.h): the destination may have moved.
 */
static inline void latch_write_end(struct dp_dpdk *d, struct dpdk_flow *f, const struct latch *l)
{
	struct dpdk_flow_cold *fc = dpdk_flow_cold(d, f);
	uint32_t s = atomic_load_explicit(&fc->latch_seq, memory_order_relaxed);

	dpdk_latched_set(f, l);
	f->sums.serial = 0;
	fc->tx.neigh_gen = 0;
	dpdk_copy_drop_at(d, f);
	atomic_store_explicit(&fc->latch_seq, s + 1, memory_order_release);
}

/*
 * New signalling for the flow: restart the latch window from when it arrived. cfg_gen is
 * stored after cfg, so a changed cfg_gen guarantees the new cfg is visible. Its
 * DPDK_CFG_DEMUX bit is no new signalling.
 */
static inline void cfg_sync(struct dp_dpdk *d, struct dpdk_flow *f)
{
	uint32_t gen = atomic_load_explicit(&f->cfg_gen, memory_order_acquire);

	if (likely((gen & DPDK_CFG_GEN_MASK) == f->seen_gen))
		return;
	struct dpdk_flow_cold *fc = dpdk_flow_cold(d, f);
	const struct dpdk_flow_cfg *c = atomic_load_explicit(&fc->cfg, memory_order_acquire);

	latch_write_begin(fc);
	latch_restart(&fc->latch, &c->latch, c->restart_ms);
	latch_write_end(d, f, &fc->latch);
	f->is_rtcp = c->is_rtcp;
	dpdk_flow_seen_gen(f, c->gen);
}

/*
 * The flow id a packet accepted on @p f leaves through: the RTCP link for RTCP muxed on @p f
 * when it has one (RFC 5761 demux), else its link (0: none). As in the sockets backend, an RTCP
 * link to a deleted flow is no link: the RTCP goes with the RTP again.
 */
static inline uint32_t flow_out(struct dp_dpdk *d, const struct dpdk_flow *f, const uint8_t *pl,
				uint16_t plen)
{
	if (unlikely(atomic_load_explicit(&f->cfg_gen, memory_order_acquire) & DPDK_CFG_DEMUX)) {
		uint32_t rtcp =
		    atomic_load_explicit(&dpdk_flow_cold(d, f)->rtcp_out, memory_order_acquire);

		if (rtcp != 0 && rtcp_mux_is_rtcp(pl, plen) && dpdk_flow_get(d, rtcp))
			return rtcp;
	}
	return atomic_load_explicit(&f->out, memory_order_acquire);
}

/*
 * Where flow @p o sends: its latched source, else the address from the SDP. New signalling for
 * @p o applies here too, not only when @p o receives: a re-INVITE that moved the far end must
 * redirect media at once. The worker owns @p o as well when the pair shares its group.
 * Latched, it is in @p o's latch; else the signalled address is in its settings (both cold: the
 * way out that misses the template).
 */
static inline const struct latch_addr *flow_dest(struct dp_dpdk *d, struct dpdk_flow *o,
						 unsigned int worker)
{
	const struct dpdk_flow_cfg *c;

	if (likely(o->owner == worker)) /* else the owner syncs it; we only read */
		cfg_sync(d, o);
	const struct dpdk_flow_cold *oc = dpdk_flow_cold(d, o);

	if (likely(oc->latch.learned_key.family != 0))
		return &oc->latch.learned_key;
	c = atomic_load_explicit(&oc->cfg, memory_order_acquire);
	return c->dest.family != 0 ? &c->dest : NULL;
}

static void rewrite_ipv4(struct rte_mbuf *m, struct dpdk_pkt *p, const struct dpdk_flow_key *k,
			 const struct latch_addr *dst, bool offload)
{
	struct rte_ipv4_hdr *ip = dpdk_l3(m, p);
	struct rte_udp_hdr *u = dpdk_l4(m, p);
	uint8_t ttl[2] = { DPDK_TTL, ip->next_proto_id };
	uint16_t ports[2] = { k->port_be, dst->port };
	uint32_t acc;

	acc = csum_delta(0, &ip->src_addr, k->addr, 4);
	acc = csum_delta(acc, &ip->dst_addr, dst->addr, 4);
	uint32_t acc_ip = csum_delta(acc, &ip->time_to_live, ttl, 2);
	uint32_t acc_udp = csum_delta(acc, &u->src_port, ports, 4);

	memcpy(&ip->src_addr, k->addr, 4);
	memcpy(&ip->dst_addr, dst->addr, 4);
	ip->time_to_live = DPDK_TTL;
	u->src_port = ports[0];
	u->dst_port = ports[1];
	if (offload) {
		m->l2_len = p->l3_off;
		m->l3_len = p->l4_off - p->l3_off;
		m->ol_flags |=
		    RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
		ip->hdr_checksum = 0;
		u->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		return;
	}
	ip->hdr_checksum = csum_apply(ip->hdr_checksum, acc_ip);
	if (u->dgram_cksum != 0) { /* 0: sender sent no UDP checksum, keep it so */
		u->dgram_cksum = csum_apply(u->dgram_cksum, acc_udp);
		if (u->dgram_cksum == 0)
			u->dgram_cksum = 0xffff;
	}
}

static void rewrite_ipv6(struct rte_mbuf *m, struct dpdk_pkt *p, const struct dpdk_flow_key *k,
			 const struct latch_addr *dst, bool offload)
{
	struct rte_ipv6_hdr *ip = dpdk_l3(m, p);
	struct rte_udp_hdr *u = dpdk_l4(m, p);
	uint16_t ports[2] = { k->port_be, dst->port };
	uint32_t acc;

	acc = csum_delta(0, ip->src_addr, k->addr, 16);
	acc = csum_delta(acc, ip->dst_addr, dst->addr, 16);
	acc = csum_delta(acc, &u->src_port, ports, 4);
	memcpy(ip->src_addr, k->addr, 16);
	memcpy(ip->dst_addr, dst->addr, 16);
	ip->hop_limits = DPDK_TTL;
	u->src_port = ports[0];
	u->dst_port = ports[1];
	if (offload) {
		m->l2_len = p->l3_off;
		m->l3_len = p->l4_off - p->l3_off;
		m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		u->dgram_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
		return;
	}
	u->dgram_cksum = csum_apply(u->dgram_cksum, acc);
	if (u->dgram_cksum == 0)
		u->dgram_cksum = 0xffff;
}

/* What fwd_out() did with its packet. */
enum fwd_out_res {
	OUT_NONE = -1,	    /**< nowhere to send it (or no mbufs for its fragments) */
	OUT_SENT = 0,	    /**< rewritten for sending */
	OUT_NEIGH_REQ = 1,  /**< it became an ARP request / solicitation for the next hop */
	OUT_FRAGMENTED = 2, /**< its fragments wait in the worker (frag.c); it is spent */
};

/* Sends @p m out of flow @p o. */
static enum fwd_out_res fwd_out(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
				struct dpdk_flow *o, uint64_t now_ms)
{
	const struct latch_addr *dst = flow_dest(w->dp, o, w->id);
	const struct dpdk_flow_key *k = &dpdk_flow_cold(w->dp, o)->key;
	const struct dpdk_iface *ifc = &w->dp->ifaces[o->iface];
	struct rte_ether_addr mac;
	uint8_t nh[16];
	int r;

	if (unlikely(!dst || dst->family != k->family ||
		     dpdk_iface_next_hop(ifc, k->family, (const uint8_t *)dst->addr, nh) != 0)) {
		dpdk_ctr_add(&w->st.no_dest, 1);
		return OUT_NONE;
	}
	r = dpdk_neigh_resolve(w, m, ifc, k->family, nh, now_ms, &mac);
	if (unlikely(r != 0))
		return r > 0 ? OUT_NEIGH_REQ : OUT_NONE;
	dpdk_trim_padding(m, p);
	bool xlat = p->family != k->family;

	if (unlikely(xlat && dpdk_xlat(m, p, k->family) != 0))
		return OUT_NONE;
	if (unlikely(dpdk_l2_output(m, p, ifc, &mac) != 0))
		return OUT_NONE;
	/* fragments: the UDP checksum over the whole datagram here, no offload */
	bool big = p->l3_len > ifc->mtu;

	if (p->family == AF_INET)
		rewrite_ipv4(m, p, k, dst, ifc->tx_csum_offload && !big);
	else
		rewrite_ipv6(m, p, k, dst, ifc->tx_csum_offload && !big);
	if (likely(!xlat)) /* the template is for packets of o's family */
		dpdk_tx_tmpl_build(w, o, ifc, dst, &mac);
	if (unlikely(big))
		return dpdk_frag_out(w, m, p, ifc->mtu) == 0 ? OUT_FRAGMENTED : OUT_NONE;
	return OUT_SENT;
}

enum dpdk_act dpdk_fwd(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
		       struct dpdk_flow *f, uint64_t now_ms)
{
	const struct dpdk_flow_cfg *c;
	const uint8_t *pl = (const uint8_t *)dpdk_l4(m, p) + sizeof(struct rte_udp_hdr);
	uint16_t plen = p->l4_len - sizeof(struct rte_udp_hdr);
	struct dpdk_flow *o;
	enum latch_verdict v;
	uint32_t ssrc = 0, out;
	enum fwd_out_res res = OUT_SENT;
	bool has_ssrc;
	struct latch_addr key;
	struct sa src;
	struct dpdk_flow_cold *fc = dpdk_flow_cold(w->dp, f);
	struct latch *l = &fc->latch;

	cfg_sync(w->dp, f);
	/* RFC 7983: STUN's first byte is 0..3, RTP's 128..191; no call for media */
	if (unlikely(plen > 0 && pl[0] <= 3 && stun_is_stun(pl, plen)))
		return dpdk_stun_input(w, m, p, f,
				       atomic_load_explicit(&fc->cfg, memory_order_acquire));
	has_ssrc = dpdk_rtp_ssrc(pl, plen, f->is_rtcp, &ssrc);
	dpdk_pkt_src_key(m, p, &key);
	if (likely(latch_is_learned(l, &key))) {
		/* latch_check()'s verdict for the latched source, without its struct sa compares */
		v = LATCH_FORWARD;
		if (has_ssrc && (!l->has_ssrc || l->ssrc != ssrc)) {
			latch_write_begin(fc);
			l->ssrc = ssrc;
			l->has_ssrc = true;
			latch_write_end(w->dp, f, l);
		}
	} else {
		c = atomic_load_explicit(&fc->cfg, memory_order_acquire);
		dpdk_pkt_src(m, p, &src);
		latch_write_begin(fc);
		v = latch_check(l, &c->latch, &src, ssrc, has_ssrc, now_ms);
		latch_write_end(w->dp, f, l);
	}
	if (unlikely(v == LATCH_REFUSED)) {
		dpdk_ctr_add(&fc->rare.refused, 1);
		dpdk_ctr_add(&w->st.refused, 1);
		return DPDK_DROP;
	}
	__atomic_store_n(&f->ctr.last_ms, now_ms, __ATOMIC_RELAXED); /* accepted */
	out = flow_out(w->dp, f, pl, plen);
	if (unlikely(out == 0))
		return DPDK_DROP; /* not linked (on hold): accepted, not forwarded, no error */
	o = dpdk_flow_get(w->dp, out);
	if (likely(o && o->owner == w->id)) {
		cfg_sync(w->dp, o); /* new signalling for o redirects at once */
		if (likely(dpdk_tx_tmpl_usable(w, o, p))) {
			dpdk_trim_padding(m, p);
			dpdk_tx_tmpl_apply(m, p, &dpdk_flow_cold(w->dp, o)->tx);
			goto sent;
		}
	}
	if (unlikely(!o))
		return DPDK_DROP; /* linked to a deleted flow: not linked (sockets: the same) */
	res = fwd_out(w, m, p, o, now_ms);
	if (unlikely(res == OUT_NONE || res == OUT_NEIGH_REQ)) {
		dpdk_ctr_add(&fc->rare.errors, 1);
		return res == OUT_NEIGH_REQ ? DPDK_TX : DPDK_DROP; /* m is the ARP request now */
	}
sent:
	dpdk_ctr_add(&f->ctr.packets, 1);
	dpdk_ctr_add(&f->ctr.bytes, plen);
	/* fragmented: m is spent (its fragments wait in the worker), the caller frees it */
	return likely(res == OUT_SENT) ? DPDK_TX : DPDK_DROP;
}
