/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataplane/dpdk/parse.h: the parser's fast case (IPv4/UDP, untagged or one tag) must decide
 * exactly as the full parser does. Valid frames and random mutations of their header bytes,
 * lengths and mbuf flags go through both; class and, for UDP, every offset and length must
 * agree. No EAL: the mbuf is a plain struct over a local buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dataplane/dpdk/parse.h"

#define HEADROOM 128

struct frame {
	struct rte_mbuf m;
	uint8_t buf[HEADROOM + 256];
};

/* A G.711-sized RTP frame, with one 802.1Q tag when @p tagged. @return its length. */
static uint16_t build(uint8_t *d, bool tagged)
{
	struct rte_ether_hdr *eh = (void *)d;
	uint16_t l3 = sizeof(*eh) + (tagged ? sizeof(struct rte_vlan_hdr) : 0);
	struct rte_ipv4_hdr *ip = (void *)(d + l3);
	struct rte_udp_hdr *u = (void *)(ip + 1);
	uint16_t plen = 172;

	memset(d, 0, l3 + sizeof(*ip) + sizeof(*u) + plen);
	if (tagged) {
		struct rte_vlan_hdr *vh = (void *)(eh + 1);

		eh->ether_type = htons(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = htons(0x2064);
		vh->eth_proto = htons(RTE_ETHER_TYPE_IPV4);
	} else {
		eh->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	}
	ip->version_ihl = 0x45;
	ip->total_length = htons(sizeof(*ip) + sizeof(*u) + plen);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	u->dgram_len = htons(sizeof(*u) + plen);
	u->dgram_cksum = 0x1234;
	return l3 + sizeof(*ip) + sizeof(*u) + plen;
}

static void frame_init(struct frame *f, uint16_t len, uint64_t ol_flags, uint16_t nb_segs)
{
	memset(&f->m, 0, sizeof(f->m));
	f->m.buf_addr = f->buf;
	f->m.data_off = HEADROOM;
	f->m.data_len = len;
	f->m.pkt_len = len;
	f->m.nb_segs = nb_segs;
	f->m.ol_flags = ol_flags;
}

static void assert_same(const struct rte_mbuf *m)
{
	struct dpdk_pkt a, b;
	enum dpkt_class ca, cb;

	memset(&a, 0xaa, sizeof(a));
	memset(&b, 0xaa, sizeof(b));
	ca = dpdk_parse(m, &a);
	cb = dpdk_parse_all(m, &b);
	assert_int_equal(ca, cb);
	if (ca != DPKT_UDP)
		return;
	assert_int_equal(a.l3_off, b.l3_off);
	assert_int_equal(a.l4_off, b.l4_off);
	assert_int_equal(a.l3_len, b.l3_len);
	assert_int_equal(a.l4_len, b.l4_len);
	assert_int_equal(a.has_vlan, b.has_vlan);
	assert_int_equal(a.vlan, b.vlan);
	assert_int_equal(a.family, b.family);
}

static void test_valid_frames(void **state)
{
	static struct frame f;
	struct dpdk_pkt p;

	for (int tagged = 0; tagged < 2; tagged++) {
		uint16_t len = build(f.buf + HEADROOM, tagged);

		frame_init(&f, len, 0, 1);
		assert_int_equal(dpdk_parse(&f.m, &p), DPKT_UDP);
		assert_int_equal(p.l3_off, tagged ? 18 : 14);
		assert_int_equal(p.vlan, tagged ? 0x064 : 0);
		assert_same(&f.m);
		frame_init(&f, len + 6, 0, 1); /* Ethernet padding */
		assert_same(&f.m);
	}
}

static void test_mutations_agree(void **state)
{
	static const uint64_t flags[] = {
		0,
		RTE_MBUF_F_RX_IP_CKSUM_BAD,
		RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_IP_CKSUM_NONE,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD,
	};
	static struct frame f;

	srand(7);
	for (int k = 0; k < 300000; k++) {
		bool tagged = rand() & 1;
		uint16_t len = build(f.buf + HEADROOM, tagged);
		uint8_t *d = f.buf + HEADROOM;
		int n = 1 + rand() % 3;

		/* flip bytes of the headers (first 50 bytes), sometimes to edge values */
		for (int i = 0; i < n; i++) {
			int at = rand() % 50;
			static const uint8_t edge[] = {
				0, 0xff, 0x45, 0x46, 0x08, 0x81, 0x11, 0x40
			};

			d[at] = (rand() & 1) ? (uint8_t)rand() : edge[rand() % sizeof(edge)];
		}
		if (rand() % 4 == 0)
			len = (uint16_t)(rand() % (len + 8));
		frame_init(&f, len, flags[rand() % 5], rand() % 16 ? 1 : 2);
		assert_same(&f.m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_frames),
		cmocka_unit_test(test_mutations_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
