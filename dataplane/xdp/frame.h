/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file frame.h  Ethernet/IP/UDP frames of the xdp engine: parse one, rewrite it in place.
 *
 * Pure functions on byte arrays (no sockets): Ethernet with at most one 802.1Q tag, IPv4
 * without options' fragments, IPv6 without extension headers, UDP. Anything else does not parse
 * and goes the kernel's way.
 */
#ifndef SBC_DATAPLANE_XDP_FRAME_H
#define SBC_DATAPLANE_XDP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/sa.h"

#define XF_ETH_HLEN  14
#define XF_VLAN_HLEN 4
#define XF_MAC_LEN   6

/** Where the headers of a parsed frame are, and its addresses. */
struct xf_info {
	uint16_t l3;	      /**< offset of the IP header */
	uint16_t l4;	      /**< offset of the UDP header */
	uint16_t payload;     /**< offset of the UDP payload */
	uint16_t payload_len; /**< UDP length minus its header */
	uint8_t family;	      /**< AF_INET or AF_INET6 */
	struct sa src, dst;   /**< IP source and destination with the UDP ports */
};

/**
 * Parses @p len bytes of @p frame. @return 0, -EINVAL (truncated or malformed: lengths that
 * disagree), -EPROTONOSUPPORT (not UDP over IPv4/IPv6, a fragment, IPv6 extension headers,
 * more than one VLAN tag).
 */
int xf_parse(const uint8_t *frame, size_t len, struct xf_info *fi);

/**
 * Rewrites the headers of a parsed frame in place for @p payload_len bytes of payload at
 * fi->payload (the L2 layout, VLAN tag included, is kept): MACs, addresses and ports from
 * @p src and @p dst (both of fi->family), TTL/hop limit 64, lengths, the IPv4 header checksum
 * and a full UDP checksum. @return the new frame length, or 0 when the families differ.
 */
size_t xf_rewrite(uint8_t *frame, const struct xf_info *fi, const uint8_t src_mac[XF_MAC_LEN],
		  const uint8_t dst_mac[XF_MAC_LEN], const struct sa *src, const struct sa *dst,
		  uint16_t payload_len);

/** The one's complement sum of @p len bytes folded to 16 bits, not inverted; @p sum carried. */
uint32_t xf_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t xf_csum_fold(uint32_t sum);

#endif
