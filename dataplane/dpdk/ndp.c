/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv6 neighbour discovery (RFC 4861) as far as a relay needs it: solicitations for relay
 * addresses are answered with an advertisement in place, the solicitor's link-layer address is
 * learned; advertisements update known neighbours; unknown next hops are solicited. Everything
 * else about ND (router advertisements, DAD, redirects) is the kernel path's.
 */
#include <errno.h>

#include <rte_icmp.h>

#include "fastpath.h"

#define ND_NS		  135
#define ND_NA		  136
#define ND_OPT_SRC_LLADDR 1
#define ND_OPT_TGT_LLADDR 2
#define ND_HOP_LIMIT	  255 /* off-link senders cannot forge it (RFC 4861 7.1.1) */
#define ND_LEN		  32  /* ICMPv6 header, reserved/flags, target, one link-layer option */
#define NA_SOLICITED	  0x40000000u
#define NA_OVERRIDE	  0x20000000u

struct nd_msg {
	uint8_t type, code;
	rte_be16_t cksum;
	rte_be32_t flags;
	uint8_t target[16];
	uint8_t opts[];
} __rte_packed; /* follows the 40-byte IPv6 header: 2 mod 4 after Ethernet */

bool dpdk_ndp_is_nd(const struct rte_mbuf *m, const struct dpdk_pkt *p)
{
	const uint8_t *t = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->l4_off);

	return p->family == AF_INET6 && (*t == ND_NS || *t == ND_NA);
}

/* The link-layer address option of @p type, or NULL (options are in units of 8 bytes). */
static const struct rte_ether_addr *nd_lladdr(const struct nd_msg *nd, uint16_t len, uint8_t type)
{
	for (uint16_t off = sizeof(*nd); off + 8 <= len;) {
		const uint8_t *o = (const uint8_t *)nd + off;

		if (o[1] == 0)
			return NULL; /* malformed: length 0 */
		if (o[0] == type && o[1] == 1)
			return (const struct rte_ether_addr *)(o + 2);
		off += o[1] * 8;
	}
	return NULL;
}

static void nd_fill(struct rte_ipv6_hdr *ip, struct nd_msg *nd, uint8_t type, uint32_t flags,
		    uint8_t opt, const struct rte_ether_addr *mac)
{
	ip->payload_len = rte_cpu_to_be_16(ND_LEN);
	ip->hop_limits = ND_HOP_LIMIT;
	nd->type = type;
	nd->code = 0;
	nd->flags = rte_cpu_to_be_32(flags);
	nd->opts[0] = opt;
	nd->opts[1] = 1;
	memcpy(nd->opts + 2, mac, RTE_ETHER_ADDR_LEN);
	nd->cksum = 0;
	nd->cksum = rte_ipv6_udptcp_cksum(ip, nd); /* same pseudo-header sum as UDP */
}

/* Turns the solicitation in @p m into our advertisement of its target. */
static enum dpdk_act na_reply(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			      const struct dpdk_iface *ifc)
{
	struct rte_ipv6_hdr *ip = dpdk_l3(m, p);
	struct nd_msg *nd = dpdk_l4(m, p);
	struct rte_ether_addr asker = rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;
	uint32_t len = (uint32_t)p->l4_off + ND_LEN;

	if (len > (uint32_t)(m->buf_len - m->data_off))
		return DPDK_DROP;
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	memcpy(ip->dst_addr, ip->src_addr, 16);
	memcpy(ip->src_addr, nd->target, 16);
	nd_fill(ip, nd, ND_NA, NA_SOLICITED | NA_OVERRIDE, ND_OPT_TGT_LLADDR, &ifc->mac);
	if (dpdk_l2_output(m, p, ifc, &asker) != 0)
		return DPDK_DROP;
	dpdk_ctr_add(&w->st.neigh_replies, 1);
	return DPDK_TX;
}

static bool is_unspecified(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

enum dpdk_act dpdk_ndp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p)
{
	struct rte_ipv6_hdr *ip = dpdk_l3(m, p);
	struct nd_msg *nd = dpdk_l4(m, p);
	int ifc = dpdk_iface_of_rx(w->dp, m->port, p->vlan);
	const struct rte_ether_addr *ll;
	bool ours;

	if (ifc < 0 || p->l4_len < sizeof(*nd) || ip->hop_limits != ND_HOP_LIMIT || nd->code != 0)
		return DPDK_EXC;
	ours = dpdk_iface_of_addr(w->dp, AF_INET6, nd->target) == ifc;
	if (nd->type == ND_NA) {
		ll = nd_lladdr(nd, p->l4_len, ND_OPT_TGT_LLADDR);
		if (ll)
			dpdk_neigh_learn(w, AF_INET6, nd->target, ll, false);
		return DPDK_EXC;
	}
	if (is_unspecified(ip->src_addr)) /* duplicate address detection: not ours to answer */
		return DPDK_EXC;
	ll = nd_lladdr(nd, p->l4_len, ND_OPT_SRC_LLADDR);
	if (ll)
		dpdk_neigh_learn(w, AF_INET6, ip->src_addr, ll, ours);
	return ours ? na_reply(w, m, p, &w->dp->ifaces[ifc]) : DPDK_EXC;
}

/* Rewrites @p m into a solicitation for @p target to its solicited-node multicast group. */
int dpdk_ndp_solicit(struct rte_mbuf *m, const struct dpdk_iface *ifc, const uint8_t *target)
{
	struct dpdk_pkt p = { .l3_off = sizeof(struct rte_ether_hdr),
			      .l4_off =
				  sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv6_hdr) };
	struct rte_ether_addr dst = { { 0x33, 0x33, 0xff, target[13], target[14], target[15] } };
	static const uint8_t snm[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };
	struct rte_ether_hdr *eh;
	struct rte_ipv6_hdr *ip;
	struct nd_msg *nd;

	if (!ifc->has_ip6)
		return -EADDRNOTAVAIL;
	rte_pktmbuf_reset(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, p.l4_off + ND_LEN);
	if (!eh)
		return -ENOBUFS;
	memset(eh, 0, p.l4_off + ND_LEN);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip = (struct rte_ipv6_hdr *)(eh + 1);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->proto = IPPROTO_ICMPV6;
	memcpy(ip->src_addr, ifc->ip6, 16);
	memcpy(ip->dst_addr, snm, sizeof(snm));
	memcpy(ip->dst_addr + 13, target + 13, 3);
	nd = (struct nd_msg *)(ip + 1);
	memcpy(nd->target, target, 16);
	nd_fill(ip, nd, ND_NS, 0, ND_OPT_SRC_LLADDR, &ifc->mac);
	return dpdk_l2_output(m, &p, ifc, &dst);
}
