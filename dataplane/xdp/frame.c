/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parse and in-place rewrite of the xdp engine's frames. The UDP checksum is always computed in
 * full: on lo and veth a received frame may carry only the pseudo-header sum (checksum offload
 * never done), so updating it incrementally would be wrong there; for RTP-sized payloads a full
 * sum costs little.
 */
#include "frame.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86dd
#define ETH_P_VLAN   0x8100
#define ETH_P_QINQ   0x88a8
#define IP4_HLEN     20
#define IP6_HLEN     40
#define UDP_HLEN     8
#define IPPROTO_UDP_ 17
#define XF_TTL	     64

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The one's complement sum is the same in either byte order up to a swap of the result
 * (RFC 1071, 2.(B)): words are added as they lie in memory, one load each, and the folded
 * sum is swapped to network order once.
 */
uint32_t xf_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = 0; /* 32-bit words into 64 bits: no carry lost below 2^32 words */
	uint32_t w32;
	uint16_t w16;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, 4);
		s += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		s += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		const uint8_t last[2] = { p[0], 0 }; /* padded as the high byte of a word */

		memcpy(&w16, last, 2);
		s += w16;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return sum + ntohs((uint16_t)s);
}

uint16_t xf_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static int parse_ip4(const uint8_t *frame, size_t len, struct xf_info *fi)
{
	const uint8_t *ip = frame + fi->l3;
	unsigned ihl, tot;

	if (len < (size_t)fi->l3 + IP4_HLEN)
		return -EINVAL;
	ihl = (ip[0] & 0x0f) * 4u;
	tot = rd16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IP4_HLEN || tot < ihl || len < fi->l3 + tot)
		return -EINVAL;
	if (rd16(ip + 6) & 0x3fff) /* MF or a fragment offset */
		return -EPROTONOSUPPORT;
	if (ip[9] != IPPROTO_UDP_)
		return -EPROTONOSUPPORT;
	fi->family = AF_INET;
	fi->l4 = (uint16_t)(fi->l3 + ihl);
	fi->src.len = fi->dst.len = sizeof(struct sockaddr_in);
	fi->src.u.in.sin_family = fi->dst.u.in.sin_family = AF_INET;
	memcpy(&fi->src.u.in.sin_addr, ip + 12, 4);
	memcpy(&fi->dst.u.in.sin_addr, ip + 16, 4);
	return (int)(fi->l3 + tot); /* where the IP packet ends (Ethernet may pad) */
}

static int parse_ip6(const uint8_t *frame, size_t len, struct xf_info *fi)
{
	const uint8_t *ip = frame + fi->l3;
	unsigned plen;

	if (len < (size_t)fi->l3 + IP6_HLEN)
		return -EINVAL;
	plen = rd16(ip + 4);
	if ((ip[0] >> 4) != 6 || len < fi->l3 + IP6_HLEN + plen)
		return -EINVAL;
	if (ip[6] != IPPROTO_UDP_)
		return -EPROTONOSUPPORT; /* extension headers (fragments among them) */
	fi->family = AF_INET6;
	fi->l4 = (uint16_t)(fi->l3 + IP6_HLEN);
	fi->src.len = fi->dst.len = sizeof(struct sockaddr_in6);
	fi->src.u.in6.sin6_family = fi->dst.u.in6.sin6_family = AF_INET6;
	memcpy(&fi->src.u.in6.sin6_addr, ip + 8, 16);
	memcpy(&fi->dst.u.in6.sin6_addr, ip + 24, 16);
	return (int)(fi->l3 + IP6_HLEN + plen);
}

static int parse_udp(const uint8_t *frame, size_t ip_end, struct xf_info *fi)
{
	const uint8_t *udp = frame + fi->l4;
	unsigned ulen;

	if (ip_end < (size_t)fi->l4 + UDP_HLEN)
		return -EINVAL;
	ulen = rd16(udp + 4);
	if (ulen < UDP_HLEN || fi->l4 + ulen > ip_end)
		return -EINVAL;
	fi->payload = (uint16_t)(fi->l4 + UDP_HLEN);
	fi->payload_len = (uint16_t)(ulen - UDP_HLEN);
	/* sin_port and sin6_port share their offset */
	memcpy(&fi->src.u.in.sin_port, udp, 2);
	memcpy(&fi->dst.u.in.sin_port, udp + 2, 2);
	return 0;
}

int xf_parse(const uint8_t *frame, size_t len, struct xf_info *fi)
{
	uint16_t type;
	int end;

	memset(fi, 0, sizeof(*fi));
	if (len < XF_ETH_HLEN)
		return -EINVAL;
	type = rd16(frame + 12);
	fi->l3 = XF_ETH_HLEN;
	if (type == ETH_P_VLAN || type == ETH_P_QINQ) {
		if (len < XF_ETH_HLEN + XF_VLAN_HLEN)
			return -EINVAL;
		type = rd16(frame + 16);
		fi->l3 += XF_VLAN_HLEN;
		if (type == ETH_P_VLAN || type == ETH_P_QINQ)
			return -EPROTONOSUPPORT;
	}
	if (type == ETH_P_IPV4)
		end = parse_ip4(frame, len, fi);
	else if (type == ETH_P_IPV6)
		end = parse_ip6(frame, len, fi);
	else
		return -EPROTONOSUPPORT;
	if (end < 0)
		return end;
	return parse_udp(frame, (size_t)end, fi);
}

/* The header keeps its length (options) and TOS (DSCP of the media); the rest is ours. */
static void rewrite_ip4(uint8_t *ip, unsigned ihl, const struct sa *src, const struct sa *dst,
			uint16_t l4len)
{
	wr16(ip + 2, (uint16_t)(ihl + l4len));
	wr16(ip + 4, 0);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = XF_TTL;
	ip[9] = IPPROTO_UDP_;
	wr16(ip + 10, 0);
	memcpy(ip + 12, &src->u.in.sin_addr, 4);
	memcpy(ip + 16, &dst->u.in.sin_addr, 4);
	wr16(ip + 10, (uint16_t)~xf_csum_fold(xf_csum_add(0, ip, ihl)));
}

static void rewrite_ip6(uint8_t *ip, const struct sa *src, const struct sa *dst, uint16_t l4len)
{
	wr16(ip + 4, l4len);
	ip[6] = IPPROTO_UDP_;
	ip[7] = XF_TTL;
	memcpy(ip + 8, &src->u.in6.sin6_addr, 16);
	memcpy(ip + 24, &dst->u.in6.sin6_addr, 16);
}

/* The UDP checksum over the pseudo header, the UDP header and the payload (RFC 768/8200). */
static uint16_t udp_csum(const uint8_t *ip, const uint8_t *udp, uint16_t l4len, int family)
{
	uint8_t tail[4] = { 0, IPPROTO_UDP_, (uint8_t)(l4len >> 8), (uint8_t)l4len };
	uint32_t sum;
	uint16_t c;

	if (family == AF_INET)
		sum = xf_csum_add(0, ip + 12, 8);
	else
		sum = xf_csum_add(0, ip + 8, 32);
	sum = xf_csum_add(sum, tail, sizeof(tail));
	sum = xf_csum_add(sum, udp, l4len);
	c = (uint16_t)~xf_csum_fold(sum);
	return c ? c : 0xffff; /* 0 means "no checksum" (IPv4) or is invalid (IPv6) */
}

size_t xf_rewrite(uint8_t *frame, const struct xf_info *fi, const uint8_t src_mac[XF_MAC_LEN],
		  const uint8_t dst_mac[XF_MAC_LEN], const struct sa *src, const struct sa *dst,
		  uint16_t payload_len)
{
	uint16_t l4len = (uint16_t)(UDP_HLEN + payload_len);
	uint8_t *ip = frame + fi->l3, *udp = frame + fi->l4;
	uint8_t macs[2 * XF_MAC_LEN];

	if (src->u.sa.sa_family != fi->family || dst->u.sa.sa_family != fi->family)
		return 0;
	/* through a copy: the caller may pass the frame's own MACs (a reply swaps them) */
	memcpy(macs, dst_mac, XF_MAC_LEN);
	memcpy(macs + XF_MAC_LEN, src_mac, XF_MAC_LEN);
	memcpy(frame, macs, sizeof(macs));
	if (fi->family == AF_INET)
		rewrite_ip4(ip, (unsigned)(fi->l4 - fi->l3), src, dst, l4len);
	else
		rewrite_ip6(ip, src, dst, l4len);
	memcpy(udp, &src->u.in.sin_port, 2);
	memcpy(udp + 2, &dst->u.in.sin_port, 2);
	wr16(udp + 4, l4len);
	wr16(udp + 6, 0);
	wr16(udp + 6, udp_csum(ip, udp, l4len, fi->family));
	return (size_t)(fi->payload + payload_len);
}
