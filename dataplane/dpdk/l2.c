/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet output: the egress interface's MAC as source, @p dst as destination, and its VLAN:
 * a tag is rewritten, inserted (4 bytes of headroom) or removed to match the interface.
 */
#include <errno.h>

#include "fastpath.h"

static int vlan_insert(struct rte_mbuf *m, struct dpdk_pkt *p)
{
	uint8_t *d = (uint8_t *)rte_pktmbuf_prepend(m, sizeof(struct rte_vlan_hdr));

	if (!d)
		return -ENOBUFS;
	memmove(d, d + sizeof(struct rte_vlan_hdr), 2 * RTE_ETHER_ADDR_LEN);
	struct rte_ether_hdr *eh = (void *)d;
	struct rte_vlan_hdr *vh = (void *)(eh + 1);

	/* the inner type already sits where vh->eth_proto is: only the tag is new */
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	vh->vlan_tci = 0;
	p->l3_off += sizeof(*vh);
	p->l4_off += sizeof(*vh);
	p->has_vlan = true;
	return 0;
}

static void vlan_remove(struct rte_mbuf *m, struct dpdk_pkt *p)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	memmove(d + sizeof(struct rte_vlan_hdr), d, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr));
	p->l3_off -= sizeof(struct rte_vlan_hdr);
	p->l4_off -= sizeof(struct rte_vlan_hdr);
	p->has_vlan = false;
}

int dpdk_l2_output(struct rte_mbuf *m, struct dpdk_pkt *p, const struct dpdk_iface *ifc,
		   const struct rte_ether_addr *dst)
{
	uint16_t vlan = ifc->conf.vlan;
	struct rte_ether_hdr *eh;

	if (vlan && !p->has_vlan) {
		if (vlan_insert(m, p) != 0)
			return -ENOBUFS;
	} else if (!vlan && p->has_vlan) {
		vlan_remove(m, p);
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (vlan) {
		struct rte_vlan_hdr *vh = (void *)(eh + 1);
		uint16_t tci = rte_be_to_cpu_16(vh->vlan_tci);

		vh->vlan_tci = rte_cpu_to_be_16((tci & 0xf000) | vlan); /* keeps the priority */
		p->vlan = vlan;
	}
	eh->dst_addr = *dst;
	eh->src_addr = ifc->mac;
	m->port = ifc->conf.port_id;
	return 0;
}
