/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parsing a received frame: Ethernet, one 802.1Q tag, IPv4 (options allowed) or IPv6 (no
 * extension headers), then UDP, ICMP or ICMPv6. Every length is checked against the segment
 * before a header is read, so a truncated or inconsistent frame classifies as DPKT_BAD and never
 * leads to a read past the data.
 */
#ifndef SBC_DATAPLANE_DPDK_PARSE_H
#define SBC_DATAPLANE_DPDK_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include <arpa/inet.h> /* ntohs(): a builtin, where rte_bswap16() is an asm block */
#include <netinet/in.h>
#include <sys/socket.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

enum dpkt_class {
	DPKT_BAD = 0, /**< drop and count */
	DPKT_OTHER,   /**< well-formed but not ours to parse: exception */
	DPKT_UDP,
	DPKT_ARP,
	DPKT_ICMP, /**< ICMP or ICMPv6 */
};

/** Offsets into the first segment; lengths as the headers state them, already checked. */
struct dpdk_pkt {
	uint16_t l3_off; /**< Ethernet (+ VLAN) length */
	uint16_t l4_off;
	uint16_t l4_len; /**< UDP length field / ICMP bytes */
	uint16_t l3_len; /**< IPv4 total length or IPv6 40 + payload length */
	uint16_t vlan;	 /**< VLAN id, 0 when untagged */
	bool has_vlan;
	uint8_t family; /**< AF_INET or AF_INET6 for IP */
};

#define IPPROTO_ICMPV6_ 58

static inline enum dpkt_class parse_l4(struct dpdk_pkt *p, uint8_t proto, uint16_t l4_avail)
{
	if (proto == IPPROTO_UDP) {
		if (l4_avail < sizeof(struct rte_udp_hdr))
			return DPKT_BAD;
		p->l4_len = l4_avail; /* checked against the UDP length by the caller */
		return DPKT_UDP;
	}
	if ((proto == IPPROTO_ICMP && p->family == AF_INET) ||
	    (proto == IPPROTO_ICMPV6_ && p->family == AF_INET6)) {
		if (l4_avail < sizeof(struct rte_icmp_hdr))
			return DPKT_BAD;
		p->l4_len = l4_avail;
		return DPKT_ICMP;
	}
	return DPKT_OTHER;
}

static inline enum dpkt_class parse_ipv4(const uint8_t *d, uint16_t avail, struct dpdk_pkt *p)
{
	const struct rte_ipv4_hdr *ip = (const void *)d;
	uint16_t hl, tot;

	if (avail < sizeof(*ip) || (ip->version_ihl >> 4) != 4)
		return DPKT_BAD;
	hl = (ip->version_ihl & 0xf) * 4;
	tot = ntohs(ip->total_length);
	if (hl < sizeof(*ip) || tot < hl || tot > avail)
		return DPKT_BAD;
	p->family = AF_INET;
	p->l4_off = p->l3_off + hl;
	p->l3_len = tot;
	/* fragments are the kernel's to reassemble */
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return DPKT_OTHER;
	return parse_l4(p, ip->next_proto_id, tot - hl);
}

static inline enum dpkt_class parse_ipv6(const uint8_t *d, uint16_t avail, struct dpdk_pkt *p)
{
	const struct rte_ipv6_hdr *ip = (const void *)d;
	uint32_t plen;

	if (avail < sizeof(*ip) || (ntohl(ip->vtc_flow) >> 28) != 6)
		return DPKT_BAD;
	plen = ntohs(ip->payload_len);
	if (sizeof(*ip) + plen > avail)
		return DPKT_BAD;
	p->family = AF_INET6;
	p->l4_off = p->l3_off + sizeof(*ip);
	p->l3_len = sizeof(*ip) + plen;
	return parse_l4(p, ip->proto, plen);
}

static inline enum dpkt_class check_udp(const uint8_t *d, struct dpdk_pkt *p)
{
	const struct rte_udp_hdr *u = (const void *)(d + p->l4_off);
	uint16_t ulen = ntohs(u->dgram_len);

	if (ulen < sizeof(*u) || ulen > p->l4_len)
		return DPKT_BAD;
	/* IPv6 forbids a zero UDP checksum (RFC 8200 8.1) */
	if (p->family == AF_INET6 && u->dgram_cksum == 0)
		return DPKT_BAD;
	p->l4_len = ulen;
	return DPKT_UDP;
}

/*
 * IPv4 without options or fragmentation carrying UDP, at @p l3 (a constant where it is inlined:
 * the offsets and their stores fold). Lengths in two unsigned compares (a difference below 0
 * wraps above any bound): the IPv4 total length in [28, the frame after l3], then the UDP
 * length in [8, the IPv4 payload].
 */
static __rte_always_inline const struct rte_ipv4_hdr *parse_udp4_at(const uint8_t *d, uint16_t len,
								    uint16_t l3, uint16_t tci,
								    struct dpdk_pkt *p)
{
	const struct rte_ipv4_hdr *ip = (const void *)(d + l3);
	const struct rte_udp_hdr *u = (const void *)(ip + 1);
	uint32_t tot = ntohs(ip->total_length), ulen = ntohs(u->dgram_len);
	const uint32_t hdrs = sizeof(*ip) + sizeof(*u);

	if (ip->version_ihl != 0x45 || ip->next_proto_id != IPPROTO_UDP ||
	    (ip->fragment_offset & htons(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) ||
	    tot - hdrs > (uint32_t)(len - l3 - hdrs) || ulen - sizeof(*u) > tot - hdrs)
		return NULL;
	/* one struct store: with -fno-strict-aliasing each store of a field may alias the packet
	 * and the mbuf, which the compiler then read again */
	*p = (struct dpdk_pkt){ .l3_off = l3,
				.l4_off = l3 + sizeof(*ip),
				.l4_len = (uint16_t)ulen,
				.l3_len = (uint16_t)tot,
				.vlan = ntohs(tci) & 0xfff,
				.has_vlan = l3 != sizeof(struct rte_ether_hdr),
				.family = AF_INET };
	return ip;
}

/*
 * The common case first: IPv4 without options or fragmentation carrying UDP, untagged or with
 * one tag. The same checks as below with fewer branches; what it does not take goes through them
 * all. @return its IPv4 header, NULL when it is not that case.
 */
static __rte_always_inline const struct rte_ipv4_hdr *parse_udp4_fast(const uint8_t *d,
								      uint16_t len,
								      struct dpdk_pkt *p)
{
	const struct rte_ether_hdr *eh = (const void *)d;
	const struct rte_vlan_hdr *vh = (const void *)(eh + 1);

	if (len <
	    sizeof(*eh) + sizeof(*vh) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
		return NULL;
	if (likely(eh->ether_type == htons(RTE_ETHER_TYPE_IPV4)))
		return parse_udp4_at(d, len, sizeof(*eh), 0, p);
	if (eh->ether_type == htons(RTE_ETHER_TYPE_VLAN) &&
	    vh->eth_proto == htons(RTE_ETHER_TYPE_IPV4))
		return parse_udp4_at(d, len, sizeof(*eh) + sizeof(*vh), vh->vlan_tci, p);
	return NULL;
}

/* Every frame, every check: what dpdk_parse() decides when its fast case does not apply. */
static inline enum dpkt_class dpdk_parse_all(const struct rte_mbuf *m, struct dpdk_pkt *p)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t len = rte_pktmbuf_data_len(m);
	const struct rte_ether_hdr *eh = (const void *)d;
	uint16_t type;
	enum dpkt_class c;

	p->has_vlan = false;
	p->vlan = 0;
	p->family = 0;
	if (len < sizeof(*eh))
		return DPKT_BAD;
	/* the NIC already found a bad checksum (most report "unknown" and we do not verify) */
	if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return DPKT_BAD;
	/* headers must sit in the first segment; chained mbufs go to the kernel */
	if (m->nb_segs != 1)
		return DPKT_OTHER;
	type = ntohs(eh->ether_type);
	p->l3_off = sizeof(*eh);
	if (type == RTE_ETHER_TYPE_VLAN) {
		const struct rte_vlan_hdr *vh = (const void *)(d + sizeof(*eh));

		if (len < sizeof(*eh) + sizeof(*vh))
			return DPKT_BAD;
		p->has_vlan = true;
		p->vlan = ntohs(vh->vlan_tci) & 0xfff;
		type = ntohs(vh->eth_proto);
		p->l3_off += sizeof(*vh);
	}
	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		return (size_t)(len - p->l3_off) >= sizeof(struct rte_arp_hdr) ? DPKT_ARP
									       : DPKT_BAD;
	case RTE_ETHER_TYPE_IPV4:
		c = parse_ipv4(d + p->l3_off, len - p->l3_off, p);
		break;
	case RTE_ETHER_TYPE_IPV6:
		c = parse_ipv6(d + p->l3_off, len - p->l3_off, p);
		break;
	default:
		return DPKT_OTHER;
	}
	return c == DPKT_UDP ? check_udp(d, p) : c;
}

/**
 * The common case of dpdk_parse(): @p m is IPv4/UDP as parse_udp4_fast() takes it.
 * @return its IPv4 header, NULL when it is not.
 */
static __rte_always_inline const struct rte_ipv4_hdr *dpdk_parse_udp4(const struct rte_mbuf *m,
								      struct dpdk_pkt *p)
{
	/* neither checksum flagged bad ("unknown" flags both bits: the long way) */
	if ((m->ol_flags & (RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_BAD)) ||
	    m->nb_segs != 1)
		return NULL;
	return parse_udp4_fast(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), p);
}

/* Inline: the first stage of the burst, per packet. */
static __rte_always_inline enum dpkt_class dpdk_parse(const struct rte_mbuf *m, struct dpdk_pkt *p)
{
	if (likely(dpdk_parse_udp4(m, p)))
		return DPKT_UDP;
	return dpdk_parse_all(m, p);
}

#endif
