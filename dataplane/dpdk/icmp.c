/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Echo requests (ICMP and ICMPv6) to relay addresses, answered in place; neighbour discovery
 * goes to ndp.c; other ICMP to the kernel path.
 */
#include <rte_icmp.h>

#include "csum.h"
#include "fastpath.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129

/* Swaps the addresses (the checksums do not change) and turns the type into a reply. */
static bool echo_turn(struct rte_mbuf *m, struct dpdk_pkt *p)
{
	struct rte_icmp_hdr *ic = dpdk_l4(m, p);
	uint8_t old[2] = { ic->icmp_type, ic->icmp_code }, new[2] = { 0, 0 };

	if (p->family == AF_INET) {
		struct rte_ipv4_hdr *ip = dpdk_l3(m, p);
		uint32_t a = ip->src_addr;

		if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0)
			return false;
		new[0] = RTE_IP_ICMP_ECHO_REPLY;
		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->time_to_live = DPDK_TTL;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	} else {
		struct rte_ipv6_hdr *ip = dpdk_l3(m, p);
		uint8_t a[16];

		if (ic->icmp_type != ICMP6_ECHO_REQUEST || ic->icmp_code != 0)
			return false;
		new[0] = ICMP6_ECHO_REPLY;
		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = DPDK_TTL;
	}
	ic->icmp_type = new[0];
	ic->icmp_cksum = csum_apply(ic->icmp_cksum, csum_delta(0, old, new, 2));
	return true;
}

static enum dpdk_act echo_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p)
{
	const uint8_t *l3 = dpdk_l3(m, p);
	const void *dst = p->family == AF_INET ? l3 + 16 : l3 + 24;
	int ifc = dpdk_iface_of_addr(w->dp, p->family, dst);
	struct rte_ether_addr asker = rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;

	if (ifc < 0 || !echo_turn(m, p))
		return DPDK_EXC;
	dpdk_trim_padding(m, p);
	if (dpdk_l2_output(m, p, &w->dp->ifaces[ifc], &asker) != 0)
		return DPDK_DROP;
	dpdk_ctr_add(&w->st.icmp_echo, 1);
	return DPDK_TX;
}

enum dpdk_act dpdk_icmp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p)
{
	if (dpdk_ndp_is_nd(m, p))
		return dpdk_ndp_input(w, m, p);
	return echo_input(w, m, p);
}
