/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast lane of forwarding (l3fwd style): an IPv4 RTP/RTCP packet from the latched source of
 * a flow whose settings have not changed, leaving through a linked flow with a usable tx
 * template, unfragmented (within the template's MTU). Every condition of that case is checked
 * before anything is written; any other packet takes dpdk_fwd() (fwd.c) from the start, which
 * decides the same for these. burst.c tries it only on packets that parse_udp4_fast() took and
 * whose flow the lookup found.
 */
#ifndef SBC_DATAPLANE_DPDK_FWD_FAST_H
#define SBC_DATAPLANE_DPDK_FWD_FAST_H

#include "tx_tmpl.h"

/* RTP (not RTCP, RFC 5761 4) carries the SSRC that is evidence for re-latching. */
static inline bool dpdk_rtp_ssrc(const uint8_t *pl, uint16_t len, bool is_rtcp, uint32_t *ssrc)
{
	/* muxed RTCP (rtcp_mux.h: 64..95 in the low seven bits) carries no RTP SSRC */
	if (is_rtcp || len < 12 || (pl[0] >> 6) != 2 || (uint8_t)((pl[1] & 0x7f) - 64) <= 95 - 64)
		return false;
	rte_be32_t v;

	memcpy(&v, pl + 8, sizeof(v)); /* RTP after IPv4/UDP sits at 2 mod 4 */
	*ssrc = ntohl(v);
	return true;
}

/*
 * What the fast lane reads of the worker, copied into locals for a burst: the packet stores
 * (byte stores alias everything) would otherwise make the compiler reload it per packet.
 * neigh_gen is taken again after anything but the fast lane ran (neighbours may have changed).
 */
struct dpdk_fast_env {
	struct dp_dpdk *d;
	uint32_t neigh_gen;
	uint32_t wid;
};

static inline struct dpdk_fast_env dpdk_fast_env(const struct dp_dpdk_worker *w)
{
	return (struct dpdk_fast_env){ w->dp, w->neigh_gen, w->id };
}

/*
 * Whether the payload after UDP (@p plen bytes at @p pl) lets a packet of @p f take the fast lane:
 * not maybe STUN (RFC 7983: first byte 0..3), and RTP only with the SSRC already noted.
 */
static __rte_always_inline bool fast_payload(const struct dpdk_flow *f, const uint8_t *pl,
					     uint16_t plen)
{
	uint32_t ssrc;

	if (unlikely(plen < 12)) /* not RTP; maybe STUN unless empty */
		return plen == 0 || pl[0] > 3;
	if (unlikely((pl[0] >> 6) != 2)) /* not RTP or RTCP version 2 (128..191: not STUN) */
		return pl[0] > 3;
	/* dpdk_rtp_ssrc(), with the SSRC kept in network order */
	if ((uint8_t)((pl[1] & 0x7f) - 64) <= 95 - 64 || f->is_rtcp)
		return true;
	memcpy(&ssrc, pl + 8, sizeof(ssrc));
	return (f->latched_key4 & DPDK_KEY4_SSRC) && ssrc == f->latched_ssrc;
}

/*
 * Forwards packet @p m of flow @p f when it is the common case: IPv4/UDP as parse_udp4_fast()
 * found it (@p p), a flow this worker owns with unchanged settings, from its latched source,
 * linked to a flow of this worker with unchanged settings and a usable tx template. Nothing is
 * written unless every condition holds; otherwise dpdk_fwd() decides the same packet from the
 * start. The flow's conditions are folded into one test; all of it, the copy of the linked
 * flow's template included, sits in the flow's two lines (dpdk_priv.h).
 */
static __rte_always_inline bool dpdk_fwd_fast(const struct dpdk_fast_env e, struct rte_mbuf *m,
					      const struct dpdk_pkt *p, struct dpdk_flow *f,
					      uint64_t now_ms)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l3_off);
	const uint8_t *pl = ip + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr);
	uint16_t plen = p->l4_len - sizeof(struct rte_udp_hdr);
	const struct dpdk_tx_tmpl *t = &f->copy;
	uint32_t src;
	uint16_t sport;

	/* a flow deleted after the lookup is still readable (RCU) but takes no packets */
	if (unlikely(atomic_load_explicit(&f->id, memory_order_acquire) == 0))
		return false;
	memcpy(&src, ip + offsetof(struct rte_ipv4_hdr, src_addr), sizeof(src));
	memcpy(&sport, ip + sizeof(struct rte_ipv4_hdr), sizeof(sport));
	if (unlikely((((dpdk_key4(src, sport) ^ f->latched_key4) & ~DPDK_KEY4_SSRC) |
		      (atomic_load_explicit(&f->cfg_gen, memory_order_acquire) ^ f->seen_gen) |
		      (f->owner ^ e.wid)) != 0 ||
		     !fast_payload(f, pl, plen)))
		return false;
	/* the copy in line 1, while nothing it depends on changed (struct dpdk_flow) */
	if (unlikely(
		((atomic_load_explicit(&f->link_gen, memory_order_acquire) ^ f->copy_link_gen) |
		 (t->neigh_gen ^ e.neigh_gen)) != 0)) {
		t = dpdk_tx_copy_refresh(e.d, e.wid, e.neigh_gen, f);
		if (!t)
			return false;
	}
	/* tagged as the template, and no fragments (frag.c: the full way) */
	if (unlikely(p->has_vlan != (t->vlan != 0) || p->l3_len > t->l3_max))
		return false;
	__atomic_store_n(&f->ctr.last_ms, now_ms, __ATOMIC_RELAXED);
	dpdk_trim_padding(m, p);
	if (unlikely(f->sums.serial != t->serial))
		dpdk_tx_tmpl_sums(m, p, t, &f->sums); /* once per template */
	dpdk_tx_tmpl_apply_sums(m, p, t, &f->sums);
	dpdk_ctr_add(&f->ctr.packets, 1);
	dpdk_ctr_add(&f->ctr.bytes, plen);
	return true;
}

#endif
