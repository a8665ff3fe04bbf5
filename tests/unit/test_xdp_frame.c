/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The xdp engine's pure parts on byte arrays: frame parse (IPv4, IPv6, VLAN, truncated frames,
 * fragments and other protocols left to the kernel), the in-place rewrite with its checksums
 * (checked against a plain RFC 1071 sum, whatever checksum the received frame had), and the
 * flow table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/xdp/frame.h"
#include "dataplane/xdp/ftab.h"

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa }, MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };

static struct sa addr(const char *s, uint16_t port)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, port), 0);
	sa_set_port(&a, port);
	return a;
}

/* RFC 1071, 16 bits at a time: the reference the fast sum is checked against. */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum verifies: pseudo header + UDP header + payload sum to 0xffff. */
static void assert_udp_csum_ok(const uint8_t *f, const struct xf_info *fi)
{
	const uint8_t *ip = f + fi->l3, *udp = f + fi->l4;
	unsigned ulen = (unsigned)(udp[4] << 8 | udp[5]);
	uint8_t pseudo[40] = { 0 };
	size_t plen;
	uint32_t s;

	if (fi->family == AF_INET) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = 17;
		pseudo[10] = (uint8_t)(ulen >> 8);
		pseudo[11] = (uint8_t)ulen;
		plen = 12;
	} else {
		memcpy(pseudo, ip + 8, 32);
		pseudo[34] = (uint8_t)(ulen >> 8);
		pseudo[35] = (uint8_t)ulen;
		pseudo[39] = 17;
		plen = 40;
	}
	s = ref_sum(pseudo, plen, 0);
	assert_int_equal(ref_sum(udp, ulen, s), 0xffff);
	assert_int_not_equal(udp[6] << 8 | udp[7], 0);
}

/* An Ethernet frame (optionally VLAN-tagged) with UDP over IPv4 or IPv6, @p plen bytes of
 * payload; the UDP checksum is left as garbage (lo/veth carry a partial one). */
static size_t build(uint8_t *f, bool v6, bool vlan, const char *src, uint16_t sport,
		    const char *dst, uint16_t dport, size_t plen)
{
	size_t o = 12, l4;

	memcpy(f, MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	if (vlan) {
		f[o++] = 0x81, f[o++] = 0x00, f[o++] = 0x00, f[o++] = 0x64;
	}
	f[o++] = v6 ? 0x86 : 0x08;
	f[o++] = v6 ? 0xdd : 0x00;
	if (!v6) {
		memset(f + o, 0, 20);
		f[o] = 0x45;
		f[o + 2] = (uint8_t)((20 + 8 + plen) >> 8);
		f[o + 3] = (uint8_t)(20 + 8 + plen);
		f[o + 8] = 5;
		f[o + 9] = 17;
		inet_pton(AF_INET, src, f + o + 12);
		inet_pton(AF_INET, dst, f + o + 16);
		l4 = o + 20;
	} else {
		memset(f + o, 0, 40);
		f[o] = 0x60;
		f[o + 4] = (uint8_t)((8 + plen) >> 8);
		f[o + 5] = (uint8_t)(8 + plen);
		f[o + 6] = 17;
		f[o + 7] = 5;
		inet_pton(AF_INET6, src, f + o + 8);
		inet_pton(AF_INET6, dst, f + o + 24);
		l4 = o + 40;
	}
	f[l4] = (uint8_t)(sport >> 8), f[l4 + 1] = (uint8_t)sport;
	f[l4 + 2] = (uint8_t)(dport >> 8), f[l4 + 3] = (uint8_t)dport;
	f[l4 + 4] = (uint8_t)((8 + plen) >> 8), f[l4 + 5] = (uint8_t)(8 + plen);
	f[l4 + 6] = 0x12, f[l4 + 7] = 0x34;
	for (size_t i = 0; i < plen; i++)
		f[l4 + 8 + i] = (uint8_t)(i * 7 + 3);
	return l4 + 8 + plen;
}

static void test_parse_ipv4(void **state)
{
	uint8_t f[256];
	size_t len = build(f, false, false, "192.0.2.1", 5004, "198.51.100.7", 30000, 172);
	struct xf_info fi;

	(void)state;
	assert_int_equal(xf_parse(f, len, &fi), 0);
	assert_int_equal(fi.family, AF_INET);
	assert_int_equal(fi.l3, 14);
	assert_int_equal(fi.l4, 34);
	assert_int_equal(fi.payload, 42);
	assert_int_equal(fi.payload_len, 172);
	assert_true(sa_equal(&fi.src, &(struct sa){ 0 }) == false);
	{
		struct sa s = addr("192.0.2.1", 5004), d = addr("198.51.100.7", 30000);

		assert_true(sa_equal(&fi.src, &s));
		assert_true(sa_equal(&fi.dst, &d));
	}
	/* Ethernet padding after the IP packet is not payload */
	assert_int_equal(xf_parse(f, len + 6, &fi), 0);
	assert_int_equal(fi.payload_len, 172);
}

static void test_parse_ipv6_vlan(void **state)
{
	uint8_t f[256];
	size_t len = build(f, true, true, "2001:db8::1", 5004, "2001:db8::7", 30002, 33);
	struct sa s = addr("2001:db8::1", 5004), d = addr("2001:db8::7", 30002);
	struct xf_info fi;

	(void)state;
	assert_int_equal(xf_parse(f, len, &fi), 0);
	assert_int_equal(fi.family, AF_INET6);
	assert_int_equal(fi.l3, 18);
	assert_int_equal(fi.l4, 58);
	assert_int_equal(fi.payload_len, 33);
	assert_true(sa_equal(&fi.src, &s));
	assert_true(sa_equal(&fi.dst, &d));
}

/* Every prefix of a valid frame is refused, none is read past. */
static void test_truncated(void **state)
{
	uint8_t f[256];
	struct xf_info fi;

	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (int vlan = 0; vlan < 2; vlan++) {
			size_t len = build(f, v6, vlan, v6 ? "::1" : "10.0.0.1", 1,
					   v6 ? "::2" : "10.0.0.2", 2, 20);

			for (size_t n = 0; n < len; n++)
				assert_int_equal(xf_parse(f, n, &fi), -EINVAL);
			assert_int_equal(xf_parse(f, len, &fi), 0);
		}
	}
	/* UDP length beyond the IP packet, or shorter than its header */
	size_t len = build(f, false, false, "10.0.0.1", 1, "10.0.0.2", 2, 20);
	f[34 + 5] = 29;
	assert_int_equal(xf_parse(f, len, &fi), -EINVAL);
	f[34 + 5] = 7;
	assert_int_equal(xf_parse(f, len, &fi), -EINVAL);
}

/* Fragments, extension headers, other protocols and stacked VLANs go to the kernel. */
static void test_not_ours(void **state)
{
	uint8_t f[256];
	struct xf_info fi;
	size_t len;

	(void)state;
	len = build(f, false, false, "10.0.0.1", 1, "10.0.0.2", 2, 20);
	f[14 + 6] = 0x20; /* MF */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x10; /* a fragment offset */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);
	f[14 + 6] = 0x40; /* DF alone is fine */
	f[14 + 7] = 0x00;
	assert_int_equal(xf_parse(f, len, &fi), 0);
	f[14 + 9] = 6; /* TCP */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);

	len = build(f, true, false, "::1", 1, "::2", 2, 20);
	f[14 + 6] = 44; /* IPv6 fragment header */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);

	len = build(f, false, true, "10.0.0.1", 1, "10.0.0.2", 2, 20);
	f[16] = 0x81, f[17] = 0x00; /* QinQ: a second tag */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);

	f[12] = 0x08, f[13] = 0x06; /* ARP */
	assert_int_equal(xf_parse(f, len, &fi), -EPROTONOSUPPORT);
}

static void test_csum_matches_reference(void **state)
{
	uint8_t buf[300];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xff - i * 13);
	for (size_t n = 0; n <= sizeof(buf); n++)
		assert_int_equal(xf_csum_fold(xf_csum_add(0, buf, n)), ref_sum(buf, n, 0));
	/* unaligned starts, all-ones words (the carries), and sums chained at even cuts */
	memset(buf + 100, 0xff, 100);
	for (size_t off = 1; off < 4; off++) {
		for (size_t n = 0; n + off <= sizeof(buf); n++) {
			uint32_t head = xf_csum_add(0x1fffe, buf + off, n & ~(size_t)7);

			assert_int_equal(
			    xf_csum_fold(xf_csum_add(head, buf + off + (n & ~(size_t)7), n & 7)),
			    ref_sum(buf + off, n, 0x1fffe));
		}
	}
}

static void rewrite_one(bool v6, bool vlan, size_t plen)
{
	uint8_t f[2048];
	const char *src = v6 ? "2001:db8::1" : "192.0.2.1",
		   *dst = v6 ? "2001:db8::7" : "198.51.100.7";
	size_t len = build(f, v6, vlan, src, 5004, dst, 30000, plen);
	struct sa out_src = addr(v6 ? "2001:db8::8" : "198.51.100.8", 30002);
	struct sa out_dst = addr(v6 ? "2001:db8::9" : "203.0.113.9", 6000);
	uint8_t payload[1500];
	struct xf_info fi, again;
	size_t n;

	assert_int_equal(xf_parse(f, len, &fi), 0);
	memcpy(payload, f + fi.payload, plen);
	n = xf_rewrite(f, &fi, MAC_B, (const uint8_t[6]){ 0x02, 1, 2, 3, 4, 5 }, &out_src, &out_dst,
		       (uint16_t)plen);
	assert_int_equal(n, len);
	assert_memory_equal(f, ((const uint8_t[6]){ 0x02, 1, 2, 3, 4, 5 }), 6);
	assert_memory_equal(f + 6, MAC_B, 6);
	assert_int_equal(xf_parse(f, n, &again), 0);
	assert_true(sa_equal(&again.src, &out_src));
	assert_true(sa_equal(&again.dst, &out_dst));
	assert_int_equal(again.payload_len, plen);
	assert_memory_equal(f + again.payload, payload, plen);
	if (!v6) {
		assert_int_equal(ref_sum(f + fi.l3, 20, 0), 0xffff); /* IP header checksum */
		assert_int_equal(f[fi.l3 + 8], 64);
	} else {
		assert_int_equal(f[fi.l3 + 7], 64);
	}
	if (vlan)
		assert_int_equal(f[15], 0x64);
	assert_udp_csum_ok(f, &again);
}

static void test_rewrite(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		for (int vlan = 0; vlan < 2; vlan++) {
			rewrite_one(v6, vlan, 172);
			rewrite_one(v6, vlan, 33); /* odd: the last byte is padded */
			rewrite_one(v6, vlan, 0);
			rewrite_one(v6, vlan, 1400);
		}
	}
}

/* A reply: the frame's own MACs swapped, a payload of another length (a STUN answer). */
static void test_rewrite_reply(void **state)
{
	uint8_t f[512];
	size_t len = build(f, false, false, "192.0.2.1", 5004, "198.51.100.7", 30000, 20);
	struct sa me = addr("198.51.100.7", 30000), peer = addr("192.0.2.1", 5004);
	struct xf_info fi, again;
	size_t n;

	(void)state;
	(void)len;
	assert_int_equal(xf_parse(f, len, &fi), 0);
	memset(f + fi.payload, 0x5a, 80);
	n = xf_rewrite(f, &fi, f, f + 6, &me, &peer, 80);
	assert_int_equal(n, fi.payload + 80u);
	assert_memory_equal(f, MAC_A, 6);
	assert_memory_equal(f + 6, MAC_B, 6);
	assert_int_equal(xf_parse(f, n, &again), 0);
	assert_int_equal(again.payload_len, 80);
	assert_udp_csum_ok(f, &again);
}

static void test_rewrite_family_mismatch(void **state)
{
	uint8_t f[256];
	size_t len = build(f, false, false, "192.0.2.1", 5004, "198.51.100.7", 30000, 20);
	struct sa s6 = addr("2001:db8::1", 1), d4 = addr("192.0.2.9", 2);
	uint8_t copy[256];
	struct xf_info fi;

	(void)state;
	assert_int_equal(xf_parse(f, len, &fi), 0);
	memcpy(copy, f, len);
	assert_int_equal(xf_rewrite(f, &fi, MAC_A, MAC_B, &s6, &d4, 20), 0);
	assert_memory_equal(f, copy, len); /* untouched: the caller sends it another way */
}

static void test_ftab(void **state)
{
	struct xft t = { 0 };
	struct sa a4 = addr("192.0.2.1", 30000), a6 = addr("2001:db8::1", 30000);
	struct sa other = addr("192.0.2.2", 30000), a4b = addr("192.0.2.1", 30002);
	struct sk_flow *f1 = (struct sk_flow *)(uintptr_t)0x1000;
	struct sk_flow *f2 = (struct sk_flow *)(uintptr_t)0x2000;

	(void)state;
	assert_int_equal(xft_add_addr(&t, &a4, 3), 0);
	assert_int_equal(xft_add_addr(&t, &a4b, 3), 0); /* same address: once */
	assert_int_equal(t.n, 1);
	assert_int_equal(xft_add_addr(&t, &a6, 4), 0);
	assert_int_equal(xft_find_addr(&t, &a6)->ifindex, 4);
	assert_null(xft_find_addr(&t, &other));
	assert_int_equal(xft_set(&t, &other, f1), -ENOENT);
	assert_null(xft_get(&t, &a4));
	assert_int_equal(xft_set(&t, &a4, f1), 0);
	assert_int_equal(xft_set(&t, &a6, f2), 0);
	assert_ptr_equal(xft_get(&t, &a4), f1);
	assert_ptr_equal(xft_get(&t, &a6), f2);
	assert_null(xft_get(&t, &a4b)); /* another port */
	assert_null(xft_get(&t, &other));
	assert_int_equal(xft_set(&t, &a4, NULL), 0);
	assert_null(xft_get(&t, &a4));
	for (unsigned i = t.n; i < XFT_ADDRS_MAX; i++) {
		char s[32];
		struct sa x;

		snprintf(s, sizeof(s), "10.0.0.%u", i);
		x = addr(s, 1);
		assert_int_equal(xft_add_addr(&t, &x, 1), 0);
	}
	assert_int_equal(xft_add_addr(&t, &other, 1), -ENOSPC);
	xft_destroy(&t);
	assert_int_equal(t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6_vlan),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_csum_matches_reference),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_reply),
		cmocka_unit_test(test_rewrite_family_mismatch),
		cmocka_unit_test(test_ftab),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
