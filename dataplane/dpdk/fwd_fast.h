/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fast lane of forwarding (l3fwd style): an IPv4 RTP/RTCP packet from the latched source of
 * a flow whose settings have not changed, leaving through a linked flow with a usable tx
 * template. Every condition of that case is checked before anything is written; any other
 * packet takes dpdk_fwd() (fwd.c) from the start, which decides the same for these.
 */
#ifndef SBC_DATAPLANE_DPDK_FWD_FAST_H
#define SBC_DATAPLANE_DPDK_FWD_FAST_H

#include "tx_tmpl.h"

/* RTP (not RTCP, RFC 5761 4) carries the SSRC that is evidence for re-latching. */
static inline bool dpdk_rtp_ssrc(const uint8_t *pl, uint16_t len, bool is_rtcp, uint32_t *ssrc)
{
	if (is_rtcp || len < 12 || (pl[0] >> 6) != 2 || (pl[1] >= 192 && pl[1] <= 223))
		return false;
	rte_be32_t v;

	memcpy(&v, pl + 8, sizeof(v)); /* RTP after IPv4/UDP sits at 2 mod 4 */
	*ssrc = ntohl(v);
	return true;
}

/** Forwards UDP packet @p m of flow @p f (owned by @p w) when it is the common case. */
static __rte_always_inline bool dpdk_fwd_fast(struct dp_dpdk_worker *w, struct rte_mbuf *m,
					      const struct dpdk_pkt *p, struct dpdk_flow *f,
					      uint64_t now_ms)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const void *)(d + p->l3_off);
	const struct rte_udp_hdr *u = (const void *)(d + p->l4_off);
	const uint8_t *pl = (const uint8_t *)(u + 1);
	uint16_t plen = p->l4_len - sizeof(*u);
	struct dpdk_flow *o;
	uint32_t ssrc, out;

	if (p->family != AF_INET ||
	    atomic_load_explicit(&f->cfg_gen, memory_order_acquire) != f->seen_gen)
		return false;
	if (plen > 0 && pl[0] <= 3) /* maybe STUN (RFC 7983) */
		return false;
	if (!latch_key_is_v4(&f->latched.key, ip->src_addr, u->src_port))
		return false;
	if (dpdk_rtp_ssrc(pl, plen, f->is_rtcp, &ssrc) &&
	    (!f->latched.has_ssrc || f->latched.ssrc != ssrc))
		return false; /* a new SSRC to note */
	out = atomic_load_explicit(&f->out, memory_order_acquire);
	o = out ? dpdk_flow_get(w->dp, out) : NULL;
	if (!o || o->owner != w->id ||
	    atomic_load_explicit(&o->cfg_gen, memory_order_acquire) != o->seen_gen ||
	    !dpdk_tx_tmpl_usable(w, o, p))
		return false;
	__atomic_store_n(&f->ctr.last_ms, now_ms, __ATOMIC_RELAXED);
	dpdk_trim_padding(m, p);
	dpdk_tx_tmpl_apply(m, p, &o->tx);
	dpdk_ctr_add(&f->ctr.packets, 1);
	dpdk_ctr_add(&f->ctr.bytes, plen);
	return true;
}

#endif
