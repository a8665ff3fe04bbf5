/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP: requests for relay addresses are answered in place. A sender is learned when it asks for
 * a relay address or when it is already a neighbour (RFC 826 merge); replies and requests for
 * other addresses go on to the kernel path, which may share the address.
 */
#include <errno.h>

#include <rte_arp.h>

#include "fastpath.h"

static void arp_learn(struct dp_dpdk_worker *w, const struct rte_arp_ipv4 *a, bool ours)
{
	if (a->arp_sip != 0)
		dpdk_neigh_learn(w, AF_INET, (const uint8_t *)&a->arp_sip, &a->arp_sha, ours);
}

/* Turns the request in @p m into the reply from @p ifc. */
static enum dpdk_act arp_reply(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			       const struct dpdk_iface *ifc, struct rte_arp_hdr *ah)
{
	struct rte_arp_ipv4 *a = &ah->arp_data;
	struct rte_ether_addr asker = a->arp_sha;
	uint32_t tip = a->arp_tip;

	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_tha = asker;
	a->arp_tip = a->arp_sip;
	a->arp_sha = ifc->mac;
	a->arp_sip = tip;
	if (dpdk_l2_output(m, p, ifc, &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr) != 0)
		return DPDK_DROP;
	dpdk_ctr_add(&w->st.neigh_replies, 1);
	return DPDK_TX;
}

enum dpdk_act dpdk_arp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p)
{
	struct rte_arp_hdr *ah = dpdk_l3(m, p);
	int ifc = dpdk_iface_of_rx(w->dp, m->port, p->vlan);
	bool ours;

	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
	    ah->arp_plen != 4 || ifc < 0)
		return DPDK_EXC;
	ours = dpdk_iface_of_addr(w->dp, AF_INET, &ah->arp_data.arp_tip) == ifc;
	arp_learn(w, &ah->arp_data, ours);
	if (ours && ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
		return arp_reply(w, m, p, &w->dp->ifaces[ifc], ah);
	return DPDK_EXC;
}

/* Rewrites @p m into a broadcast ARP request for @p tip from @p ifc. */
int dpdk_arp_request(struct rte_mbuf *m, const struct dpdk_iface *ifc, const uint8_t *tip)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
								     0xff } };
	struct dpdk_pkt p = { .l3_off = sizeof(struct rte_ether_hdr) };
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (ifc->ip4_be == 0)
		return -EADDRNOTAVAIL;
	rte_pktmbuf_reset(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (!eh)
		return -ENOBUFS;
	memset(eh, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = ifc->mac;
	ah->arp_data.arp_sip = ifc->ip4_be;
	memcpy(&ah->arp_data.arp_tip, tip, 4);
	return dpdk_l2_output(m, &p, ifc, &bcast);
}
