/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DPDK backend's frame parser (dataplane/dpdk/parse.h) on arbitrary bytes. Byte 0 picks the
 * mbuf's RX flags and segment count, the rest is the frame. The fast case and the full parser
 * must agree, and what classifies as UDP must lie within the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dpdk/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADROOM 128

static void check(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_dpdk_parse: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t flags[] = {
		0,
		RTE_MBUF_F_RX_IP_CKSUM_BAD,
		RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_IP_CKSUM_NONE,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
	};
	static uint8_t buf[HEADROOM + 2048];
	struct rte_mbuf m;
	struct dpdk_pkt a, b;
	enum dpkt_class ca, cb;

	if (size < 1 || size - 1 > sizeof(buf) - HEADROOM)
		return 0;
	memset(&m, 0, sizeof(m));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memcpy(buf + HEADROOM, data + 1, size - 1);
	m.buf_addr = buf;
	m.data_off = HEADROOM;
	m.data_len = (uint16_t)(size - 1);
	m.pkt_len = m.data_len;
	m.nb_segs = (data[0] & 0x80) ? 2 : 1;
	m.ol_flags = flags[(data[0] & 0x7f) % 5];

	ca = dpdk_parse(&m, &a);
	cb = dpdk_parse_all(&m, &b);
	check(ca == cb, "the fast case classifies differently");
	if (ca != DPKT_UDP)
		return 0;
	check(a.l3_off == b.l3_off && a.l4_off == b.l4_off && a.l3_len == b.l3_len &&
		  a.l4_len == b.l4_len && a.has_vlan == b.has_vlan && a.vlan == b.vlan &&
		  a.family == b.family,
	      "the fast case parses differently");
	check((uint32_t)a.l3_off + a.l3_len <= m.data_len, "IP datagram beyond the frame");
	check((uint32_t)a.l4_off + a.l4_len <= (uint32_t)a.l3_off + a.l3_len,
	      "UDP datagram beyond the IP datagram");
	return 0;
}
