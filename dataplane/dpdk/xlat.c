/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 <-> IPv6 between the two flows of a link (a caller on IPv4, a callee on IPv6, as the
 * sockets backend relays them): the UDP datagram is kept, the IP header in front of it is
 * replaced by one of the other family (RFC 7915's rules for what carries over: TOS <-> traffic
 * class; no DF, no fragment header, no flow label). The Ethernet header (and its tag) moves with
 * the header's new length. The new header leaves with zero addresses and both checksums computed
 * over them, so that the usual rewrite (fwd.c) patches the relay's addresses and ports in
 * incrementally: a datagram that arrived without a UDP checksum (IPv4) leaves with one, which
 * IPv6 requires. The full way only; the tx template is IPv4 to IPv4.
 */
#include <errno.h>

#include "fastpath.h"

/* The DSCP/ECN byte of the header at @p l3 (IPv4 TOS or IPv6 traffic class). */
static uint8_t tos_of(const uint8_t *l3, int family)
{
	if (family == AF_INET)
		return ((const struct rte_ipv4_hdr *)l3)->type_of_service;
	return (uint8_t)(rte_be_to_cpu_32(((const struct rte_ipv6_hdr *)l3)->vtc_flow) >> 20);
}

/* Moves the Ethernet header so that the IP header grows or shrinks to @p new_len bytes. */
static uint8_t *resize_l3(struct rte_mbuf *m, const struct dpdk_pkt *p, uint16_t new_len)
{
	uint16_t old_len = p->l4_off - p->l3_off;
	uint8_t *d;

	if (new_len > old_len) {
		d = (uint8_t *)rte_pktmbuf_prepend(m, new_len - old_len);
		if (d)
			memmove(d, d + (new_len - old_len), p->l3_off);
	} else {
		d = rte_pktmbuf_mtod(m, uint8_t *);
		memmove(d + (old_len - new_len), d, p->l3_off);
		d = (uint8_t *)rte_pktmbuf_adj(m, old_len - new_len);
	}
	return d;
}

static void put_ipv4(struct rte_ipv4_hdr *ip, uint8_t tos, uint16_t l4_len)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->time_to_live = DPDK_TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void put_ipv6(struct rte_ipv6_hdr *ip, uint8_t tos, uint16_t l4_len)
{
	memset(ip, 0, sizeof(*ip));
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20);
	ip->payload_len = rte_cpu_to_be_16(l4_len);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = DPDK_TTL;
}

int dpdk_xlat(struct rte_mbuf *m, struct dpdk_pkt *p, int family)
{
	uint16_t len =
	    family == AF_INET ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint8_t tos = tos_of(dpdk_l3(m, p), p->family);
	uint8_t *d = resize_l3(m, p, len);

	if (!d)
		return -ENOBUFS; /* no headroom: mbufs from our pools always have it */
	/* the EtherType right before the IP header, tagged or not */
	uint16_t type =
	    rte_cpu_to_be_16(family == AF_INET ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);

	memcpy(d + p->l3_off - sizeof(type), &type, sizeof(type));
	p->family = (uint8_t)family;
	p->l4_off = p->l3_off + len;
	p->l3_len = len + p->l4_len;

	void *ip = dpdk_l3(m, p);
	struct rte_udp_hdr *u = dpdk_l4(m, p);

	u->dgram_cksum = 0;
	if (family == AF_INET) {
		put_ipv4(ip, tos, p->l4_len);
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u); /* never 0: 0xffff instead */
	} else {
		put_ipv6(ip, tos, p->l4_len);
		u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	}
	return 0;
}
