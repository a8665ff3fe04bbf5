/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A flow's tx template (struct dpdk_tx_tmpl in dpdk_priv.h): built on the slow way out, then
 * applied to every packet that leaves through the flow: the Ethernet addresses, the VLAN id,
 * the IPv4 addresses and UDP ports are stores, the checksums one incremental update each.
 */
#ifndef SBC_DATAPLANE_DPDK_TX_TMPL_H
#define SBC_DATAPLANE_DPDK_TX_TMPL_H

#include "csum.h"
#include "fastpath.h"

/** Whether @p p can leave through @p o by its template (the caller owns @p o): unfragmented. */
static inline bool dpdk_tx_tmpl_usable(const struct dp_dpdk_worker *w, const struct dpdk_flow *o,
				       const struct dpdk_pkt *p)
{
	const struct dpdk_tx_tmpl *t = &dpdk_flow_cold(w->dp, o)->tx;

	return t->neigh_gen == w->neigh_gen && p->family == AF_INET &&
	       p->has_vlan == (t->vlan != 0) && p->l3_len <= t->l3_max;
}

/* The Ethernet addresses, the VLAN id (the priority kept) and the port of @p t. */
static inline void tmpl_apply_l2(struct rte_mbuf *m, uint8_t *d, const struct dpdk_tx_tmpl *t)
{
	memcpy(d, &t->dst_mac, 2 * RTE_ETHER_ADDR_LEN);
	if (t->vlan) {
		struct rte_vlan_hdr *vh = (void *)(d + sizeof(struct rte_ether_hdr));
		uint16_t tci = ntohs(vh->vlan_tci);

		vh->vlan_tci = htons((tci & 0xf000) | t->vlan);
	}
	m->port = t->port_id;
}

/* The TTL and protocol word of @p ip, as it is and with our TTL. */
static inline void tmpl_ttl_words(const struct rte_ipv4_hdr *ip, uint16_t *old, uint16_t *new)
{
	uint8_t b[2];

	memcpy(old, &ip->time_to_live, 2);
	memcpy(b, old, 2);
	b[0] = DPDK_TTL;
	memcpy(new, b, 2);
}

/* The addresses and ports of @p t, our TTL: the stores after the checksums. */
static inline void tmpl_apply_l3(struct rte_ipv4_hdr *ip, struct rte_udp_hdr *u,
				 const struct dpdk_tx_tmpl *t)
{
	memcpy(&ip->src_addr, t->ip, 8); /* src_addr, dst_addr */
	ip->time_to_live = DPDK_TTL;
	memcpy(&u->src_port, t->udp, 4); /* src_port, dst_port */
}

/** Rewrites @p m (IPv4, padding trimmed, tagged as the template) to leave by @p t. */
static inline void dpdk_tx_tmpl_apply(struct rte_mbuf *m, const struct dpdk_pkt *p,
				      const struct dpdk_tx_tmpl *t)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (void *)(d + p->l3_off);
	struct rte_udp_hdr *u = (void *)(d + p->l4_off);
	uint64_t addrs, acc;
	uint32_t ports;
	uint16_t ttl_w, ttl_new;

	tmpl_apply_l2(m, d, t);
	/* both addresses in one word; the checksums' common part: old addresses out, new in */
	memcpy(&addrs, &ip->src_addr, 8);
	acc = csum_delta32(0, (uint32_t)addrs, t->ip[0]);
	acc = csum_delta32(acc, (uint32_t)(addrs >> 32), t->ip[1]);
	tmpl_ttl_words(ip, &ttl_w, &ttl_new);
	ip->hdr_checksum = csum_update(ip->hdr_checksum, acc + (uint16_t)~ttl_w + ttl_new);
	if (u->dgram_cksum != 0) { /* 0: sender sent no UDP checksum, keep it so */
		uint32_t ports_new;

		memcpy(&ports, &u->src_port, 4);
		memcpy(&ports_new, t->udp, 4);
		u->dgram_cksum = csum_update(u->dgram_cksum, csum_delta32(acc, ports, ports_new));
		if (u->dgram_cksum == 0)
			u->dgram_cksum = 0xffff;
	}
	tmpl_apply_l3(ip, u, t);
}

/**
 * The checksum changes, TTL aside, of IPv4/UDP packet @p m leaving by @p t: its addresses and
 * ports out, the template's in (struct dpdk_fwd_sums).
 */
static inline void dpdk_tx_tmpl_sums(const struct rte_mbuf *m, const struct dpdk_pkt *p,
				     const struct dpdk_tx_tmpl *t, struct dpdk_fwd_sums *s)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t addrs, acc;
	uint32_t ports, ports_new;

	memcpy(&addrs, d + p->l3_off + offsetof(struct rte_ipv4_hdr, src_addr), 8);
	memcpy(&ports, d + p->l4_off, 4);
	memcpy(&ports_new, t->udp, 4);
	acc = csum_delta32(0, (uint32_t)addrs, t->ip[0]);
	acc = csum_delta32(acc, (uint32_t)(addrs >> 32), t->ip[1]);
	s->ip = csum_fold(acc);
	s->udp = csum_fold(csum_delta32(acc, ports, ports_new));
	s->serial = t->serial;
}

/**
 * dpdk_tx_tmpl_apply() with the changes of the addresses and ports already summed in @p s
 * (dpdk_tx_tmpl_sums() of a packet with the same addresses and ports): the same bytes.
 */
static inline void dpdk_tx_tmpl_apply_sums(struct rte_mbuf *m, const struct dpdk_pkt *p,
					   const struct dpdk_tx_tmpl *t,
					   const struct dpdk_fwd_sums *s)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (void *)(d + p->l3_off);
	struct rte_udp_hdr *u = (void *)(d + p->l4_off);
	uint16_t ttl_w, ttl_new;

	tmpl_apply_l2(m, d, t);
	tmpl_ttl_words(ip, &ttl_w, &ttl_new);
	ip->hdr_checksum =
	    csum_update16(ip->hdr_checksum, (uint32_t)s->ip + (uint16_t)~ttl_w + ttl_new);
	if (u->dgram_cksum != 0) { /* 0: sender sent no UDP checksum, keep it so */
		u->dgram_cksum = csum_update16(u->dgram_cksum, s->udp);
		if (u->dgram_cksum == 0)
			u->dgram_cksum = 0xffff;
	}
	tmpl_apply_l3(ip, u, t);
}

/*
 * Records in @p o's template how a packet just left through it to @p dst via neighbour @p mac,
 * or marks it unusable when the way out is not one a template covers.
 */
void dpdk_tx_tmpl_build(struct dp_dpdk_worker *w, struct dpdk_flow *o, const struct dpdk_iface *ifc,
			const struct latch_addr *dst, const struct rte_ether_addr *mac);

#endif
