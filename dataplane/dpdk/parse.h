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

#include <rte_mbuf.h>

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

enum dpkt_class dpdk_parse(const struct rte_mbuf *m, struct dpdk_pkt *p);

#endif
