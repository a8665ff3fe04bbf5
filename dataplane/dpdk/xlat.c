/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 <-> IPv6 between the two flows of a link (a caller on IPv4, a callee on IPv6, as the
 * sockets backend relays them): the UDP datagram is kept, the IP header in front of it is
 * replaced by one of the other family (RFC 7915's rules for what carries over: TOS <-> traffic
 * class; no fragment header, no flow label; IPv4 leaves with DF, an atomic datagram, RFC 6864).
 * The Ethernet header (and its tag) moves with the header's new length. The new header leaves
 * with zero addresses and both checksums valid for them, so that the usual rewrite (fwd.c)
 * patches the relay's addresses and ports in incrementally. The UDP checksum is adjusted, not
 * recomputed (the pseudo-headers differ only in the addresses; a datagram damaged on its way
 * stays detectably damaged), except for an IPv4 datagram sent without one: it is computed,
 * IPv6 requires one. The full way only; the tx template is IPv4 to IPv4.
 */
#include <errno.h>

#include "csum.h"
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
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
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

/*
 * The sum of the addresses of the header at @p l3 (family @p family) taken out of @p ck, the
 * UDP checksum: what it is over zero addresses. The rest of the pseudo-header (length,
 * protocol) sums the same in both families.
 */
static uint16_t csum_without_addrs(uint16_t ck, const uint8_t *l3, int family)
{
	static const uint8_t zero[32];
	size_t off = family == AF_INET ? offsetof(struct rte_ipv4_hdr, src_addr)
				       : offsetof(struct rte_ipv6_hdr, src_addr);
	uint16_t r = csum_apply(ck, csum_delta(0, l3 + off, zero, family == AF_INET ? 8 : 32));

	return r ? r : 0xffff;
}

int dpdk_xlat(struct rte_mbuf *m, struct dpdk_pkt *p, int family)
{
	uint16_t len =
	    family == AF_INET ? sizeof(struct rte_ipv4_hdr) : sizeof(struct rte_ipv6_hdr);
	uint8_t tos = tos_of(dpdk_l3(m, p), p->family);
	uint16_t ck = ((const struct rte_udp_hdr *)dpdk_l4(m, p))->dgram_cksum;

	if (ck != 0)
		ck = csum_without_addrs(ck, dpdk_l3(m, p), p->family);
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
	dpdk_trim_padding(m, p); /* bytes after the UDP datagram were IPv4 payload, not ours */

	void *ip = dpdk_l3(m, p);
	struct rte_udp_hdr *u = dpdk_l4(m, p);

	if (family == AF_INET)
		put_ipv4(ip, tos, p->l4_len);
	else
		put_ipv6(ip, tos, p->l4_len);
	u->dgram_cksum = ck;
	if (ck == 0) /* none sent (IPv4): computed, never 0 (0xffff instead) */
		u->dgram_cksum =
		    family == AF_INET ? rte_ipv4_udptcp_cksum(ip, u) : rte_ipv6_udptcp_cksum(ip, u);
	return 0;
}
