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

/** Whether @p p can leave through @p o by its template (the caller owns @p o). */
static inline bool dpdk_tx_tmpl_usable(const struct dp_dpdk_worker *w, const struct dpdk_flow *o,
				       const struct dpdk_pkt *p)
{
	return o->tx.neigh_gen == w->neigh_gen && p->family == AF_INET &&
	       p->has_vlan == (o->tx.vlan != 0);
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
	uint8_t b[2];

	memcpy(d, &t->dst_mac, 2 * RTE_ETHER_ADDR_LEN);
	if (t->vlan) {
		struct rte_vlan_hdr *vh = (void *)(d + sizeof(struct rte_ether_hdr));
		uint16_t tci = ntohs(vh->vlan_tci);

		vh->vlan_tci = htons((tci & 0xf000) | t->vlan); /* keeps the priority */
	}
	m->port = t->port_id;
	/* both addresses in one word; the checksums' common part: old addresses out, new in */
	memcpy(&addrs, &ip->src_addr, 8);
	acc = csum_delta32(0, (uint32_t)addrs, t->ip[0]);
	acc = csum_delta32(acc, (uint32_t)(addrs >> 32), t->ip[1]);
	memcpy(&ttl_w, &ip->time_to_live, 2); /* TTL and protocol: one 16-bit word */
	memcpy(b, &ttl_w, 2);
	b[0] = DPDK_TTL;
	memcpy(&ttl_new, b, 2);
	ip->hdr_checksum = csum_update(ip->hdr_checksum, acc + (uint16_t)~ttl_w + ttl_new);
	if (u->dgram_cksum != 0) { /* 0: sender sent no UDP checksum, keep it so */
		uint32_t ports_new;

		memcpy(&ports, &u->src_port, 4);
		memcpy(&ports_new, t->udp, 4);
		u->dgram_cksum = csum_update(u->dgram_cksum, csum_delta32(acc, ports, ports_new));
		if (u->dgram_cksum == 0)
			u->dgram_cksum = 0xffff;
	}
	memcpy(&ip->src_addr, t->ip, 8); /* src_addr, dst_addr */
	ip->time_to_live = DPDK_TTL;
	memcpy(&u->src_port, t->udp, 4); /* src_port, dst_port */
}

/*
 * Records in @p o's template how a packet just left through it to @p dst via neighbour @p mac,
 * or marks it unusable when the way out is not one a template covers.
 */
void dpdk_tx_tmpl_build(struct dp_dpdk_worker *w, struct dpdk_flow *o, const struct dpdk_iface *ifc,
			const struct latch_addr *dst, const struct rte_ether_addr *mac);

#endif
