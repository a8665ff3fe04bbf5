/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DPDK fast path on packets built in memory: one worker driven by hand through
 * dp_dpdk_process_burst(), with a net_ring port for the MAC and no huge pages.
 *
 * Topology: iface 0 = port 0 untagged, 192.0.2.1/24 and 2001:db8::1/64, gateway 192.0.2.254
 * (the access side; phones are behind it). iface 1 = port 0 VLAN 100, 198.51.100.1/24 (core).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"
#include "dataplane/dpdk/dpdk_priv.h" /* to pretend the port offloads checksums */
#include "dataplane/dpdk/fastpath.h"  /* dpdk_neigh_sync(): a worker applies what others learned */
#include "dataplane/stun.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static struct dataplane *dp;
static struct dp_dpdk_worker *w;
static struct rte_mempool *pool;
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };
static const struct rte_ether_addr callee_mac = { { 0x02, 0, 0, 0, 0, 0x20 } };
static const struct rte_ether_addr v6peer_mac = { { 0x02, 0, 0, 0, 0, 0x66 } };

#define ACCESS_IP "192.0.2.1"
#define CORE_IP	  "198.51.100.1"
#define CALLER_IP "203.0.113.10"
#define CALLEE_IP "198.51.100.20"
#define ATTACK_IP "198.51.100.66"
#define CORE_VLAN 100

/* the neighbour entries of setup()'s worker: the ageing tests fill more than half of them */
#define TEST_NEIGH_SIZE 1024

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

/* ---- packet building ---- */

struct pkt_spec {
	uint16_t vlan; /* 0: untagged */
	struct rte_ether_addr src_mac;
	struct sa src, dst;
	const void *payload;
	uint16_t len;
};

static uint8_t *put_l2(struct rte_mbuf *m, const struct pkt_spec *s, uint16_t type, size_t l3)
{
	size_t l2 = sizeof(struct rte_ether_hdr) + (s->vlan ? 4 : 0);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(l2 + l3));
	struct rte_ether_hdr *eh = (void *)d;

	assert_non_null(d);
	eh->dst_addr = port_mac;
	eh->src_addr = s->src_mac;
	if (s->vlan) {
		struct rte_vlan_hdr *vh = (void *)(eh + 1);

		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
		vh->vlan_tci = rte_cpu_to_be_16(s->vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
	} else {
		eh->ether_type = rte_cpu_to_be_16(type);
	}
	return d + l2;
}

static struct rte_mbuf *udp_pkt(const struct pkt_spec *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_udp_hdr *u;

	assert_non_null(m);
	m->port = 0;
	if (sa_family(&s->src) == AF_INET) {
		struct rte_ipv4_hdr *ip =
		    (void *)put_l2(m, s, RTE_ETHER_TYPE_IPV4, sizeof(*ip) + sizeof(*u) + s->len);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*u) + s->len);
		ip->time_to_live = 57;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = s->src.u.in.sin_addr.s_addr;
		ip->dst_addr = s->dst.u.in.sin_addr.s_addr;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		u = (void *)(ip + 1);
		u->src_port = s->src.u.in.sin_port;
		u->dst_port = s->dst.u.in.sin_port;
		u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + s->len);
		memcpy(u + 1, s->payload, s->len);
		u->dgram_cksum = 0;
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	} else {
		struct rte_ipv6_hdr *ip =
		    (void *)put_l2(m, s, RTE_ETHER_TYPE_IPV6, sizeof(*ip) + sizeof(*u) + s->len);

		memset(ip, 0, sizeof(*ip));
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*u) + s->len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 57;
		memcpy(ip->src_addr, &s->src.u.in6.sin6_addr, 16);
		memcpy(ip->dst_addr, &s->dst.u.in6.sin6_addr, 16);
		u = (void *)(ip + 1);
		u->src_port = s->src.u.in6.sin6_port;
		u->dst_port = s->dst.u.in6.sin6_port;
		u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + s->len);
		memcpy(u + 1, s->payload, s->len);
		u->dgram_cksum = 0;
		u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	}
	return m;
}

static const uint8_t rtp[172] = { 0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 0xca, 0xfe, 0xba, 0xbe };

static struct rte_mbuf *rtp_pkt(uint16_t vlan, const struct rte_ether_addr *mac, const char *src,
				const char *dst)
{
	struct pkt_spec s = { .vlan = vlan,
			      .src_mac = *mac,
			      .src = mksa(src),
			      .dst = mksa(dst),
			      .payload = rtp,
			      .len = sizeof(rtp) };

	return udp_pkt(&s);
}

/*
 * The worker's clock in run1(): the neighbour ageing tests (the last ones) move it forward by
 * tens of seconds; it never goes back.
 */
static uint64_t clock_skew;

static uint64_t test_now(void)
{
	return dp_dpdk_now_ms() + clock_skew;
}

/* Runs one packet through the worker; @return the array it landed in: 't', 'e' or 'd'. */
static char run1(struct rte_mbuf *m, struct rte_mbuf **out)
{
	struct dp_dpdk_burst r;

	dp_dpdk_process_burst(w, &m, 1, test_now(), &r);
	assert_int_equal(r.n_tx + r.n_exc + r.n_drop, 1);
	*out = r.n_tx ? r.tx[0] : r.n_exc ? r.exc[0] : r.drop[0];
	return r.n_tx ? 't' : r.n_exc ? 'e' : 'd';
}

/* ---- packet checking ---- */

struct seen {
	uint16_t vlan;
	uint16_t l3_off;
	struct rte_ether_hdr eh;
	uint8_t *l3;
	struct rte_udp_hdr *u;
};

static void look(struct rte_mbuf *m, struct seen *s)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(&s->eh, d, sizeof(s->eh));
	s->vlan = 0;
	s->l3_off = sizeof(s->eh);
	if (s->eh.ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		s->vlan = rte_be_to_cpu_16(*(uint16_t *)(d + 14)) & 0xfff;
		s->l3_off += 4;
	}
	s->l3 = d + s->l3_off;
	s->u = (void *)(s->l3 + (((s->l3[0] >> 4) == 4) ? (s->l3[0] & 0xf) * 4 : 40));
}

/* Recomputes both checksums from scratch and compares them with what the fast path left. */
static void assert_csums_ok(struct seen *s)
{
	uint16_t got = s->u->dgram_cksum, want;

	s->u->dgram_cksum = 0;
	if ((s->l3[0] >> 4) == 4) {
		struct rte_ipv4_hdr *ip = (void *)s->l3;
		uint16_t ipck = ip->hdr_checksum;

		ip->hdr_checksum = 0;
		assert_int_equal(rte_ipv4_cksum(ip), ipck);
		ip->hdr_checksum = ipck;
		want = rte_ipv4_udptcp_cksum(ip, s->u);
	} else {
		want = rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)s->l3, s->u);
	}
	s->u->dgram_cksum = got;
	assert_int_equal(got, want);
}

/* What every forwarded frame carries: our MAC to @p dmac, on VLAN @p vlan (0: untagged). */
static void assert_l2(const struct seen *s, const struct rte_ether_addr *dmac, uint16_t vlan)
{
	assert_memory_equal(&s->eh.dst_addr, dmac, 6);
	assert_memory_equal(&s->eh.src_addr, &port_mac, 6);
	assert_int_equal(s->vlan, vlan);
}

static void assert_udp4(struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t vlan,
			const char *src, const char *dst)
{
	struct sa a = mksa(src), b = mksa(dst);
	struct seen s;
	struct rte_ipv4_hdr *ip;

	look(m, &s);
	ip = (void *)s.l3;
	assert_l2(&s, dmac, vlan);
	assert_int_equal(ip->src_addr, a.u.in.sin_addr.s_addr);
	assert_int_equal(ip->dst_addr, b.u.in.sin_addr.s_addr);
	assert_int_equal(s.u->src_port, a.u.in.sin_port);
	assert_int_equal(s.u->dst_port, b.u.in.sin_port);
	assert_int_equal(rte_pktmbuf_pkt_len(m), s.l3_off + rte_be_to_cpu_16(ip->total_length));
	assert_memory_equal(s.u + 1, rtp, sizeof(rtp));
	assert_csums_ok(&s);
}

/* ---- flows ---- */

/* every flow a test made: a failing test must not leave its ports taken for the next one */
static dp_flow_t made[64];
static unsigned int n_made;

static dp_flow_t flow(const char *local, const char *expected, const char *received_from)
{
	struct dp_flow_params p;
	dp_flow_t f = 0;

	memset(&p, 0, sizeof(p));
	p.local = mksa(local);
	if (expected)
		p.latch.expected = mksa(expected);
	if (received_from)
		p.latch.received_from = mksa(received_from);
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_add(dp, &p, &f), 0);
	assert_int_not_equal(f, 0);
	if (n_made < sizeof(made) / sizeof(made[0]))
		made[n_made++] = f;
	return f;
}

static int flows_cleanup(void **state)
{
	struct dp_dpdk_burst r;

	for (unsigned int i = 0; i < n_made; i++)
		dp_flow_link(dp, made[i], 0); /* -ENOENT for those the test deleted */
	for (unsigned int i = 0; i < n_made; i++)
		dp_flow_del(dp, made[i]);
	n_made = 0;
	/* the worker passes by, as a running one would: the next test binds the same ports
	 * without waiting for a grace period (flow_table.c) */
	dp_dpdk_process_burst(w, NULL, 0, test_now(), &r);
	return 0;
}

struct call {
	dp_flow_t a, b;
};

static struct call call_new(void)
{
	struct call c;

	c.a = flow(ACCESS_IP ":30000", "10.0.0.5:4000", CALLER_IP);
	c.b = flow(CORE_IP ":40000", CALLEE_IP ":5000", NULL);
	assert_int_equal(dp_flow_link(dp, c.a, c.b), 0);
	assert_int_equal(dp_flow_link(dp, c.b, c.a), 0);
	return c;
}

/*
 * Deletes flow @p f; then the worker passes by (an empty burst), as a running one would, so that
 * its port can be bound again without waiting for a grace period (flow_table.c).
 */
static void flow_del(dp_flow_t f)
{
	struct dp_dpdk_burst r;

	assert_int_equal(dp_flow_del(dp, f), 0);
	dp_dpdk_process_burst(w, NULL, 0, test_now(), &r);
}

static void call_del(struct call *c)
{
	assert_int_equal(dp_flow_link(dp, c->a, 0), 0);
	assert_int_equal(dp_flow_link(dp, c->b, 0), 0);
	flow_del(c->a);
	flow_del(c->b);
}

static struct dp_dpdk_worker_stats wstats(void)
{
	struct dp_dpdk_worker_stats st;

	dp_dpdk_worker_stats(w, &st);
	return st;
}

/* ---- tests ---- */

/*
 * RTCP muxed with the marker bit clear (second byte 64..95, RFC 5761 4) is no SSRC evidence,
 * the same rule as the sockets backend's (rtcp_mux.h): the flow keeps its RTP SSRC, whether
 * the fast lane or the full way takes the packet.
 */
static void test_rtcp_without_marker_keeps_ssrc(void **state)
{
	struct call c = call_new();
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	uint8_t pl[sizeof(rtp)];

	(void)state;
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	rte_pktmbuf_free(m);
	for (unsigned pt = 64; pt <= 95; pt += 31) {
		struct pkt_spec s = { .src_mac = gw_mac,
				      .src = mksa(CALLER_IP ":4002"),
				      .dst = mksa(ACCESS_IP ":30000"),
				      .payload = pl,
				      .len = sizeof(pl) };

		memcpy(pl, rtp, sizeof(pl));
		pl[1] = (uint8_t)pt; /* RTCP packet type 192 + (pt - 64) without its top bit */
		pl[8] ^= 0x11;	     /* where RTP keeps the SSRC */
		assert_int_equal(run1(udp_pkt(&s), &m), 't');
		rte_pktmbuf_free(m);
	}
	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.ssrc, 0xcafebabe);
	call_del(&c);
}

static void test_rtp_both_ways(void **state)
{
	struct call c = call_new();
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	char buf[SA_STRLEN];

	/* caller (NATed: SDP says 10.0.0.5) -> access flow -> callee on the core VLAN */
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	assert_int_equal(m->port, 0);
	assert_udp4(m, &callee_mac, CORE_VLAN, CORE_IP ":40000", CALLEE_IP ":5000");
	rte_pktmbuf_free(m);

	/* callee -> core flow -> the caller's latched address, through the gateway, untagged */
	assert_int_equal(
	    run1(rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40000"), &m), 't');
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":30000", CALLER_IP ":4002");
	rte_pktmbuf_free(m);

	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(st.bytes, sizeof(rtp));
	assert_int_equal(st.ssrc, 0xcafebabe);
	assert_string_equal(sa_print(&st.latched, buf, sizeof(buf)), CALLER_IP ":4002");
	assert_true(st.last_packet_ms > 0);
	assert_int_equal(dp_flow_stats(dp, c.b, &st), 0);
	assert_int_equal(st.packets, 1);
	call_del(&c);
}

static void test_latch_refuses_stranger(void **state)
{
	struct call c = call_new();
	struct dp_dpdk_worker_stats before = wstats();
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	char buf[SA_STRLEN];

	/* the caller's SIP came from CALLER_IP: a stranger spraying the port learns nothing */
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, ATTACK_IP ":6666", ACCESS_IP ":30000"), &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	rte_pktmbuf_free(m);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, ATTACK_IP ":6666", ACCESS_IP ":30000"), &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.packets, 1);
	assert_string_equal(sa_print(&st.latched, buf, sizeof(buf)), CALLER_IP ":4002");
	assert_int_equal(wstats().refused - before.refused, 2);
	call_del(&c);
}

static void test_ipv6(void **state)
{
	dp_flow_t a = flow("[2001:db8::1]:30002", "[2001:db8::10]:7000", NULL);
	dp_flow_t b = flow("[2001:db8::1]:30004", "[2001:db8::20]:7002", NULL);
	struct rte_mbuf *m;
	struct seen s;
	struct rte_ipv6_hdr *ip;
	struct sa want_src = mksa("2001:db8::1"), want_dst = mksa("2001:db8::20");

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30002"), &m), 't');
	look(m, &s);
	ip = (void *)s.l3;
	assert_int_equal(s.vlan, 0);
	assert_memory_equal(&s.eh.dst_addr, &v6peer_mac, 6);
	assert_memory_equal(ip->src_addr, &want_src.u.in6.sin6_addr, 16);
	assert_memory_equal(ip->dst_addr, &want_dst.u.in6.sin6_addr, 16);
	assert_int_equal(rte_be_to_cpu_16(s.u->src_port), 30004);
	assert_int_equal(rte_be_to_cpu_16(s.u->dst_port), 7002);
	assert_csums_ok(&s);
	rte_pktmbuf_free(m);
	flow_del(a);
	flow_del(b);
}

/* The IP header of a frame built by udp_pkt() (untagged or one tag). */
static uint8_t *l3_of(struct rte_mbuf *m)
{
	struct seen s;

	look(m, &s);
	return s.l3;
}

/* An IPv4 RTP packet with TOS @p tos and no UDP checksum (0: allowed for IPv4, not for IPv6). */
static struct rte_mbuf *rtp4_tos_nocsum(uint16_t vlan, const struct rte_ether_addr *mac,
					const char *src, const char *dst, uint8_t tos)
{
	struct rte_mbuf *m = rtp_pkt(vlan, mac, src, dst);
	struct rte_ipv4_hdr *ip = (void *)l3_of(m);

	ip->type_of_service = tos;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	((struct rte_udp_hdr *)(ip + 1))->dgram_cksum = 0;
	return m;
}

static void assert_udp6(struct rte_mbuf *m, const struct rte_ether_addr *dmac, uint16_t vlan,
			const char *src, const char *dst, uint8_t tclass)
{
	struct sa a = mksa(src), b = mksa(dst);
	struct seen s;
	struct rte_ipv6_hdr *ip;

	look(m, &s);
	ip = (void *)s.l3;
	assert_l2(&s, dmac, vlan);
	assert_int_equal(s.l3[0] >> 4, 6);
	assert_int_equal((rte_be_to_cpu_32(ip->vtc_flow) >> 20) & 0xff, tclass);
	assert_int_equal(ip->proto, IPPROTO_UDP);
	assert_int_equal(ip->hop_limits, 64);
	assert_memory_equal(ip->src_addr, &a.u.in6.sin6_addr, 16);
	assert_memory_equal(ip->dst_addr, &b.u.in6.sin6_addr, 16);
	assert_int_equal(s.u->src_port, a.u.in6.sin6_port);
	assert_int_equal(s.u->dst_port, b.u.in6.sin6_port);
	assert_int_equal(rte_be_to_cpu_16(ip->payload_len), sizeof(*s.u) + sizeof(rtp));
	assert_int_equal(rte_be_to_cpu_16(s.u->dgram_len), sizeof(*s.u) + sizeof(rtp));
	assert_int_equal(rte_pktmbuf_pkt_len(m),
			 s.l3_off + sizeof(*ip) + sizeof(*s.u) + sizeof(rtp));
	assert_memory_equal(s.u + 1, rtp, sizeof(rtp));
	assert_int_not_equal(s.u->dgram_cksum, 0); /* IPv6 requires one */
	assert_csums_ok(&s);
}

/*
 * A caller on IPv4 and a callee on IPv6 (and back), as the sockets backend relays them: the
 * packet leaves with the other family's header, its TOS / traffic class kept, the UDP
 * checksum computed where IPv4 sent none; into and out of the tagged core interface as well.
 */
static void test_ipv4_ipv6_link(void **state)
{
	dp_flow_t a = flow(ACCESS_IP ":30020", "10.0.0.5:4000", CALLER_IP);
	dp_flow_t b = flow("[2001:db8::1]:30022", "[2001:db8::20]:7002", NULL);
	dp_flow_t c = flow(CORE_IP ":40020", CALLEE_IP ":5000", NULL);
	struct dp_dpdk_worker_stats before = wstats(), after;
	struct dp_flow_stats st;
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	for (int i = 0; i < 2; i++) { /* twice: no template may catch the second packet */
		assert_int_equal(
		    run1(rtp4_tos_nocsum(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", 0xb8),
			 &m),
		    't');
		assert_udp6(m, &v6peer_mac, 0, "[2001:db8::1]:30022", "[2001:db8::20]:7002", 0xb8);
		rte_pktmbuf_free(m);

		struct rte_mbuf *q =
		    rtp_pkt(0, &v6peer_mac, "[2001:db8::20]:7002", "[2001:db8::1]:30022");
		struct rte_ipv6_hdr *ip6 = (void *)l3_of(q);

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28 | 0x88u << 20 | 0x12345); /* flow label */
		assert_int_equal(run1(q, &m), 't');
		assert_udp4(m, &gw_mac, 0, ACCESS_IP ":30020", CALLER_IP ":4002");
		assert_int_equal(((struct rte_ipv4_hdr *)l3_of(m))->type_of_service, 0x88);
		assert_int_equal(((struct rte_ipv4_hdr *)l3_of(m))->time_to_live, 64);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.bytes, 2 * sizeof(rtp));
	assert_int_equal(st.errors, 0);
	assert_int_equal(dp_flow_stats(dp, b, &st), 0);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.errors, 0);

	/* b now talks to the core flow: IPv6 in untagged, IPv4 out on the core VLAN, and back */
	assert_int_equal(dp_flow_link(dp, b, c), 0);
	assert_int_equal(dp_flow_link(dp, c, b), 0);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::20]:7002", "[2001:db8::1]:30022"), &m), 't');
	assert_udp4(m, &callee_mac, CORE_VLAN, CORE_IP ":40020", CALLEE_IP ":5000");
	rte_pktmbuf_free(m);
	assert_int_equal(
	    run1(rtp4_tos_nocsum(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40020", 0),
		 &m),
	    't');
	assert_udp6(m, &v6peer_mac, 0, "[2001:db8::1]:30022", "[2001:db8::20]:7002", 0);
	rte_pktmbuf_free(m);
	after = wstats();
	assert_int_equal(after.no_dest, before.no_dest);
	assert_int_equal(after.tx - before.tx, 6);
}

/*
 * Translation keeps what the UDP checksum says: a valid IPv4 checksum leaves IPv6 valid and a
 * wrong one leaves wrong (adjusted, not recomputed: the receiver still sees the damage); IPv4
 * leaves with DF (an atomic datagram); bytes after the UDP datagram inside the IPv4 payload do
 * not go along.
 */
static void test_xlat_checksums(void **state)
{
	dp_flow_t a = flow(ACCESS_IP ":30024", "10.0.0.5:4000", CALLER_IP);
	dp_flow_t b = flow("[2001:db8::1]:30026", "[2001:db8::20]:7002", NULL);
	struct rte_mbuf *m, *q;
	struct rte_udp_hdr *u;
	struct seen s;
	uint16_t got;

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30024"), &m), 't');
	assert_udp6(m, &v6peer_mac, 0, "[2001:db8::1]:30026", "[2001:db8::20]:7002", 0);
	rte_pktmbuf_free(m);

	q = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30024");
	u = (void *)(l3_of(q) + sizeof(struct rte_ipv4_hdr));
	u->dgram_cksum ^= rte_cpu_to_be_16(0x0101); /* damaged on the way (still not 0) */
	assert_int_equal(run1(q, &m), 't');
	look(m, &s);
	got = s.u->dgram_cksum;
	s.u->dgram_cksum = 0;
	assert_int_not_equal(got, rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)s.l3, s.u));
	rte_pktmbuf_free(m);

	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::20]:7002", "[2001:db8::1]:30026"), &m), 't');
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":30024", CALLER_IP ":4002");
	assert_int_equal(((struct rte_ipv4_hdr *)l3_of(m))->fragment_offset,
			 rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
	rte_pktmbuf_free(m);

	/* a UDP datagram 4 bytes shorter than the IPv4 payload, sent without checksum */
	q = rtp4_tos_nocsum(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30024", 0);
	u = (void *)(l3_of(q) + sizeof(struct rte_ipv4_hdr));
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + sizeof(rtp) - 4);
	assert_int_equal(run1(q, &m), 't');
	look(m, &s);
	assert_int_equal(rte_be_to_cpu_16(((struct rte_ipv6_hdr *)s.l3)->payload_len),
			 sizeof(*u) + sizeof(rtp) - 4);
	assert_int_equal(rte_pktmbuf_pkt_len(m),
			 s.l3_off + sizeof(struct rte_ipv6_hdr) + sizeof(*u) + sizeof(rtp) - 4);
	assert_csums_ok(&s);
	rte_pktmbuf_free(m);
}

/*
 * A flow linked to a flow that was deleted is not linked (as in the sockets backend): its
 * packets are accepted, not forwarded, and count no error, whether the fast lane had a copy of
 * the deleted flow's template or not.
 */
static void test_link_to_deleted_flow(void **state)
{
	struct call c = call_new();
	struct dp_dpdk_worker_stats before, after;
	struct dp_flow_stats st;
	struct rte_mbuf *m;

	(void)state;
	for (int i = 0; i < 3; i++) { /* the third through the fast lane */
		assert_int_equal(
		    run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
		rte_pktmbuf_free(m);
	}
	flow_del(c.b);
	before = wstats();
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 'd');
		rte_pktmbuf_free(m);
	}
	after = wstats();
	assert_int_equal(after.no_dest, before.no_dest);
	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.errors, 0);
	assert_true(st.last_packet_ms > 0);
	assert_int_equal(dp_flow_link(dp, c.a, 0), 0);
	flow_del(c.a);
}

/* Cuts the frame down / breaks one field; every variant must be dropped and counted. */
static void test_malformed(void **state)
{
	struct call c = call_new();
	struct dp_dpdk_worker_stats before = wstats();
	struct rte_mbuf *pk[16], *m;
	struct dp_dpdk_burst r;
	unsigned int n = 0;

	for (uint16_t cut = 0; cut < 6; cut++) { /* 10, 14+10, 14+20+4 bytes, ... */
		static const uint16_t keep[] = { 10, 24, 38, 17, 41, 0 };

		m = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
		if (keep[cut])
			rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - keep[cut]);
		else
			rte_pktmbuf_trim(m, 100); /* IPv4 total length beyond the frame */
		pk[n++] = m;
	}
	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
	rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14)->version_ihl = 0x44; /* IHL < 5 */
	pk[n++] = m;
	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
	rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 34)->dgram_len = rte_cpu_to_be_16(4000);
	pk[n++] = m;
	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
	rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 34)->dgram_len = rte_cpu_to_be_16(3);
	pk[n++] = m;
	m = rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30002");
	rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14)->payload_len = rte_cpu_to_be_16(999);
	pk[n++] = m;
	m = rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40000");
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - 16); /* VLAN tag cut */
	pk[n++] = m;
	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD; /* the NIC says so */
	pk[n++] = m;

	dp_dpdk_process_burst(w, pk, (uint16_t)n, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_drop, n);
	assert_int_equal(wstats().malformed - before.malformed, n);
	rte_pktmbuf_free_bulk(r.drop, r.n_drop);
	call_del(&c);
}

/* Random bytes behind plausible headers: whatever happens, every mbuf comes back once. */
static void test_garbage(void **state)
{
	struct call c = call_new();
	struct rte_mbuf *pk[DP_DPDK_BURST_MAX];
	struct dp_dpdk_burst r;

	srand(42);
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < DP_DPDK_BURST_MAX; i++) {
			struct rte_mbuf *m = rtp_pkt(i & 1 ? CORE_VLAN : 0, &gw_mac,
						     CALLER_IP ":4002", ACCESS_IP ":30000");
			uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
			uint16_t len = rte_pktmbuf_data_len(m);

			for (int k = 0; k < 1 + rand() % 6; k++)
				d[12 + rand() % (len - 12)] = (uint8_t)rand();
			rte_pktmbuf_trim(m, (uint16_t)(rand() % len));
			m->port = (uint16_t)(rand() % 2);
			pk[i] = m;
		}
		dp_dpdk_process_burst(w, pk, DP_DPDK_BURST_MAX, dp_dpdk_now_ms(), &r);
		assert_int_equal(r.n_tx + r.n_exc + r.n_drop, DP_DPDK_BURST_MAX);
		rte_pktmbuf_free_bulk(r.tx, r.n_tx);
		rte_pktmbuf_free_bulk(r.exc, r.n_exc);
		rte_pktmbuf_free_bulk(r.drop, r.n_drop);
	}
	call_del(&c);
}

static const uint8_t *stun_attr(const uint8_t *msg, size_t len, uint16_t type, uint16_t *alen)
{
	for (size_t off = STUN_HEADER_LEN; off + 4 <= len;) {
		uint16_t t = (uint16_t)(msg[off] << 8 | msg[off + 1]);
		uint16_t l = (uint16_t)(msg[off + 2] << 8 | msg[off + 3]);

		if (t == type) {
			*alen = l;
			return msg + off + 4;
		}
		off += 4 + ((l + 3u) & ~3u);
	}
	return NULL;
}

static void test_stun_binding(void **state)
{
	struct call c = call_new();
	uint8_t req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,	2,
			    3,	  4,	5,    6,    7,	  8,	9,    10,   11, 12 };
	struct pkt_spec s = { .src_mac = gw_mac,
			      .src = mksa(CALLER_IP ":4002"),
			      .dst = mksa(ACCESS_IP ":30000"),
			      .payload = req,
			      .len = sizeof(req) };
	struct sa caller = mksa(CALLER_IP);
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	struct seen v;
	const uint8_t *x;
	uint16_t alen = 0, ulen;
	uint32_t xaddr;

	assert_int_equal(run1(udp_pkt(&s), &m), 't');
	look(m, &v);
	assert_memory_equal(&v.eh.dst_addr, &gw_mac, 6);
	assert_int_equal(rte_be_to_cpu_16(v.u->src_port), 30000);
	assert_int_equal(rte_be_to_cpu_16(v.u->dst_port), 4002);
	assert_int_equal(((struct rte_ipv4_hdr *)v.l3)->dst_addr, caller.u.in.sin_addr.s_addr);
	assert_csums_ok(&v);
	ulen = rte_be_to_cpu_16(v.u->dgram_len) - 8;
	const uint8_t *resp = (const uint8_t *)(v.u + 1);

	assert_int_equal(resp[0] << 8 | resp[1], 0x0101); /* binding success */
	assert_memory_equal(resp + 8, req + 8, 12);	  /* same transaction */
	x = stun_attr(resp, ulen, 0x0020, &alen);
	assert_non_null(x);
	assert_int_equal(alen, 8);
	assert_int_equal(x[1], 0x01);
	assert_int_equal((x[2] << 8 | x[3]) ^ 0x2112, 4002);
	memcpy(&xaddr, x + 4, 4);
	assert_int_equal(xaddr ^ htonl(STUN_MAGIC_COOKIE), caller.u.in.sin_addr.s_addr);
	rte_pktmbuf_free(m);

	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.stun_answered, 1);
	assert_int_equal(st.packets, 0);
	assert_false(sa_isset(&st.latched)); /* STUN does not latch */
	call_del(&c);
}

/* A binding request with USERNAME "<ufrag>:peer" and MESSAGE-INTEGRITY keyed with @p pwd. */
static size_t ice_request(uint8_t *req, const char *ufrag, const char *pwd)
{
	char user[64];
	size_t ulen = (size_t)snprintf(user, sizeof(user), "%s:peer", ufrag);
	size_t upad = (ulen + 3) & ~(size_t)3, mi = STUN_HEADER_LEN + 4 + upad;
	unsigned int maclen = 0;

	memset(req, 0, mi + 24);
	req[1] = 0x01; /* binding request */
	req[2] = (uint8_t)((4 + upad + 24) >> 8);
	req[3] = (uint8_t)(4 + upad + 24);
	memcpy(req + 4,
	       "\x21\x12\xa4\x42"
	       "abcdefghijkl",
	       16);
	req[STUN_HEADER_LEN + 1] = 0x06; /* USERNAME */
	req[STUN_HEADER_LEN + 3] = (uint8_t)ulen;
	memcpy(req + STUN_HEADER_LEN + 4, user, ulen);
	req[mi + 1] = 0x08; /* MESSAGE-INTEGRITY over everything before it */
	req[mi + 3] = 20;
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), req, mi, req + mi + 4, &maclen);
	return mi + 24;
}

static void test_stun_ice(void **state)
{
	struct dp_flow_params p;
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	struct seen v;
	uint8_t req[128];
	struct pkt_spec s = { .src_mac = gw_mac,
			      .src = mksa(CALLER_IP ":4002"),
			      .dst = mksa(ACCESS_IP ":30040"),
			      .payload = req };
	const uint8_t *resp;
	uint16_t alen;
	dp_flow_t f;

	memset(&p, 0, sizeof(p));
	p.local = mksa(ACCESS_IP ":30040");
	p.latch.window_ms = 10000;
	snprintf(p.ice_local_ufrag, sizeof(p.ice_local_ufrag), "relayufrag");
	snprintf(p.ice_local_pwd, sizeof(p.ice_local_pwd), "relaypassword0123456789");
	assert_int_equal(dp_flow_add(dp, &p, &f), 0);
	made[n_made++] = f;

	s.len = (uint16_t)ice_request(req, "relayufrag", "relaypassword0123456789");
	assert_int_equal(run1(udp_pkt(&s), &m), 't');
	look(m, &v);
	resp = (const uint8_t *)(v.u + 1);
	assert_int_equal(resp[0] << 8 | resp[1], 0x0101);
	assert_non_null(stun_attr(resp, rte_be_to_cpu_16(v.u->dgram_len) - 8, 0x0008, &alen));
	assert_csums_ok(&v);
	rte_pktmbuf_free(m);

	s.len = (uint16_t)ice_request(req, "relayufrag", "not-the-password");
	assert_int_equal(run1(udp_pkt(&s), &m), 't');
	look(m, &v);
	resp = (const uint8_t *)(v.u + 1);
	assert_int_equal(resp[0] << 8 | resp[1], 0x0111); /* binding error: 401 */
	rte_pktmbuf_free(m);

	assert_int_equal(dp_flow_stats(dp, f, &st), 0);
	assert_int_equal(st.stun_answered, 1);
	assert_int_equal(st.stun_refused, 1);
	flow_del(f);
}

static struct rte_mbuf *arp_pkt(uint16_t op, const struct rte_ether_addr *sha, const char *sip,
				const char *tip)
{
	struct pkt_spec s = { .src_mac = *sha };
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_arp_hdr *ah;
	struct sa a = mksa(sip), b = mksa(tip);

	assert_non_null(m);
	m->port = 0;
	ah = (void *)put_l2(m, &s, RTE_ETHER_TYPE_ARP, sizeof(*ah));
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = a.u.in.sin_addr.s_addr;
	memset(&ah->arp_data.arp_tha, 0, 6);
	ah->arp_data.arp_tip = b.u.in.sin_addr.s_addr;
	return m;
}

static void test_arp_answered(void **state)
{
	static const struct rte_ether_addr asker = { { 0x02, 0, 0, 0, 0, 0x77 } };
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;
	struct sa relay = mksa(ACCESS_IP), me = mksa("192.0.2.77");

	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REQUEST, &asker, "192.0.2.77", ACCESS_IP), &m),
			 't');
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &asker, 6);
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &port_mac, 6);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	assert_int_equal(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(&ah->arp_data.arp_sha, &port_mac, 6);
	assert_int_equal(ah->arp_data.arp_sip, relay.u.in.sin_addr.s_addr);
	assert_memory_equal(&ah->arp_data.arp_tha, &asker, 6);
	assert_int_equal(ah->arp_data.arp_tip, me.u.in.sin_addr.s_addr);
	rte_pktmbuf_free(m);

	/* not a relay address: the kernel's business */
	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REQUEST, &asker, "192.0.2.77", "192.0.2.9"), &m),
			 'e');
	rte_pktmbuf_free(m);
}

/* A next hop without MAC: the packet turns into an ARP request, the reply teaches the MAC. */
static void test_arp_resolve(void **state)
{
	static const struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 0x33 } };
	dp_flow_t a = flow(ACCESS_IP ":30010", "192.0.2.33:9000", NULL);
	dp_flow_t b = flow(ACCESS_IP ":30012", "192.0.2.44:9002", NULL);
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	struct rte_arp_hdr *ah;
	struct sa nh = mksa("192.0.2.44");

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(run1(rtp_pkt(0, &peer, "192.0.2.33:9000", ACCESS_IP ":30010"), &m), 't');
	assert_true(
	    rte_is_broadcast_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr));
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	assert_int_equal(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_int_equal(ah->arp_data.arp_tip, nh.u.in.sin_addr.s_addr);
	rte_pktmbuf_free(m);
	/* no second request within the retry interval */
	assert_int_equal(run1(rtp_pkt(0, &peer, "192.0.2.33:9000", ACCESS_IP ":30010"), &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REPLY, &peer, "192.0.2.44", ACCESS_IP), &m), 'e');
	rte_pktmbuf_free(m);
	assert_int_equal(run1(rtp_pkt(0, &peer, "192.0.2.33:9000", ACCESS_IP ":30010"), &m), 't');
	assert_udp4(m, &peer, 0, ACCESS_IP ":30012", "192.0.2.44:9002");
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.packets, 1);
	flow_del(a);
	flow_del(b);
}

static struct rte_mbuf *ping_pkt(const char *src, const char *dst, uint8_t type)
{
	static const uint8_t data[32] = "abcdefghijklmnopqrstuvwabcdefghi";
	struct pkt_spec s = { .src_mac = gw_mac, .src = mksa(src), .dst = mksa(dst) };
	bool v4 = sa_family(&s.src) == AF_INET;
	size_t ihl = v4 ? 20 : 40, len = ihl + 8 + sizeof(data);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *l3;
	struct rte_icmp_hdr *ic;

	assert_non_null(m);
	m->port = 0;
	l3 = put_l2(m, &s, v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6, len);
	memset(l3, 0, ihl);
	ic = (void *)(l3 + ihl);
	ic->icmp_type = type;
	ic->icmp_code = 0;
	ic->icmp_ident = 7;
	ic->icmp_seq_nb = 9;
	ic->icmp_cksum = 0;
	memcpy(ic + 1, data, sizeof(data));
	if (v4) {
		struct rte_ipv4_hdr *ip = (void *)l3;

		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16(len);
		ip->time_to_live = 50;
		ip->next_proto_id = IPPROTO_ICMP;
		ip->src_addr = s.src.u.in.sin_addr.s_addr;
		ip->dst_addr = s.dst.u.in.sin_addr.s_addr;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, len - ihl);
	} else {
		struct rte_ipv6_hdr *ip = (void *)l3;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(len - ihl);
		ip->proto = 58;
		ip->hop_limits = 50;
		memcpy(ip->src_addr, &s.src.u.in6.sin6_addr, 16);
		memcpy(ip->dst_addr, &s.dst.u.in6.sin6_addr, 16);
		ic->icmp_cksum = rte_ipv6_udptcp_cksum(ip, ic); /* same pseudo-header sum */
	}
	return m;
}

static void test_icmp_echo(void **state)
{
	struct rte_mbuf *m;
	struct seen s;
	struct rte_icmp_hdr *ic;
	struct rte_ipv4_hdr *ip;
	struct sa relay = mksa(ACCESS_IP);

	assert_int_equal(run1(ping_pkt(CALLER_IP, ACCESS_IP, 8), &m), 't');
	look(m, &s);
	ip = (void *)s.l3;
	ic = (void *)(s.l3 + 20);
	assert_int_equal(ic->icmp_type, 0);
	assert_int_equal(ip->src_addr, relay.u.in.sin_addr.s_addr);
	assert_memory_equal(&s.eh.dst_addr, &gw_mac, 6);
	assert_int_equal(rte_raw_cksum(ic, 40), 0xffff);
	assert_int_equal(rte_raw_cksum(ip, 20), 0xffff);
	rte_pktmbuf_free(m);

	/* ICMPv6 echo: the checksum (with pseudo-header) must still verify */
	assert_int_equal(run1(ping_pkt("2001:db8::10", "2001:db8::1", 128), &m), 't');
	look(m, &s);
	ic = (void *)(s.l3 + 40);
	assert_int_equal(ic->icmp_type, 129);
	{
		uint16_t ck = ic->icmp_cksum;

		ic->icmp_cksum = 0;
		assert_int_equal(rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)s.l3, ic), ck);
	}
	rte_pktmbuf_free(m);

	assert_int_equal(run1(ping_pkt(CALLER_IP, "192.0.2.99", 8), &m), 'e');
	rte_pktmbuf_free(m);
	assert_int_equal(run1(ping_pkt(CALLER_IP, ACCESS_IP, 13), &m), 'e'); /* timestamp */
	rte_pktmbuf_free(m);
}

static void test_sip_is_exception(void **state)
{
	static const char invite[] = "INVITE sip:bob@198.51.100.1 SIP/2.0\r\n\r\n";
	struct pkt_spec s = { .src_mac = gw_mac,
			      .src = mksa(CALLER_IP ":5060"),
			      .dst = mksa(ACCESS_IP ":5060"),
			      .payload = invite,
			      .len = sizeof(invite) - 1 };
	struct dp_dpdk_worker_stats before = wstats();
	struct rte_mbuf *m;

	assert_int_equal(run1(udp_pkt(&s), &m), 'e');
	rte_pktmbuf_free(m);
	assert_int_equal(wstats().no_flow - before.no_flow, 1);
	assert_int_equal(wstats().exceptions - before.exceptions, 1);
}

/* An empty burst reports the worker quiescent; then everything deferred can go. */
static void quiesce(void)
{
	struct dp_dpdk_burst r;
	unsigned int pending = 1;

	dp_dpdk_process_burst(w, NULL, 0, dp_dpdk_now_ms(), &r);
	dp_dpdk_reclaim(dp, &pending);
	assert_int_equal(pending, 0);
}

/*
 * A thread of @p fn that may run on any online CPU but this one: the EAL pinned this thread to
 * its lcore, and a thread created plainly inherits that, so the two would only take turns (a
 * spin in rte_rcu_qsbr_synchronize() would then wait for the scheduler's preemption, and the
 * other thread would run only while this one waits). One CPU only: the same one.
 */
static void thread_elsewhere(pthread_t *th, void *(*fn)(void *))
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int here = sched_getcpu();
	pthread_attr_t at;
	cpu_set_t set;

	CPU_ZERO(&set);
	for (long c = 0; c < n && c < CPU_SETSIZE; c++)
		if (c != here || n == 1)
			CPU_SET(c, &set);
	assert_int_equal(pthread_attr_init(&at), 0);
	assert_int_equal(pthread_attr_setaffinity_np(&at, sizeof(set), &set), 0);
	assert_int_equal(pthread_create(th, &at, fn, NULL), 0);
	pthread_attr_destroy(&at);
}

/* A worker that reports quiescent after a while, noting that it has. */
static atomic_bool late_passed;

static void *late_worker(void *arg)
{
	struct dp_dpdk_burst r;

	(void)arg;
	usleep(50 * 1000);
	atomic_store(&late_passed, true);
	dp_dpdk_process_burst(w, NULL, 0, test_now(), &r);
	return NULL;
}

/*
 * Call @p c's flow a is deleted and its port bound again at once, while the worker is still on
 * its burst: the new flow may not be set up in the slot the worker may be reading before the
 * worker has passed by.
 */
static void readd_wait(struct call *c)
{
	pthread_t th;

	assert_int_equal(dp_flow_link(dp, c->b, 0), 0);
	assert_int_equal(dp_flow_del(dp, c->a), 0);
	atomic_store(&late_passed, false);
	thread_elsewhere(&th, late_worker);
	c->a = flow(ACCESS_IP ":30000", "10.0.0.5:4000", CALLER_IP);
	assert_true(atomic_load(&late_passed));
	pthread_join(th, NULL);
	assert_int_equal(dp_flow_link(dp, c->a, c->b), 0);
	assert_int_equal(dp_flow_link(dp, c->b, c->a), 0);
}

/*
 * Delete frees nothing until the worker was quiescent; the port is free again at once, and a
 * flow bound to it before then waits for the worker.
 */
static void test_del_rcu_readd(void **state)
{
	struct call c = call_new();
	struct dp_flow_params p;
	struct dp_flow_stats st;
	struct dp_dpdk_burst r;
	struct rte_mbuf *m;
	unsigned int pending = 0;
	dp_flow_t old = c.a;

	quiesce();
	assert_int_equal(dp_flow_link(dp, c.b, 0), 0);
	assert_int_equal(dp_flow_del(dp, c.a), 0);
	assert_int_equal(dp_flow_stats(dp, old, &st), -ENOENT);
	assert_int_equal(dp_dpdk_reclaim(dp, &pending), 0); /* the worker has not passed by */
	assert_int_equal(pending, 1);
	dp_dpdk_process_burst(w, NULL, 0, dp_dpdk_now_ms(), &r); /* reports quiescent */
	assert_int_equal(dp_dpdk_reclaim(dp, &pending), 1);
	assert_int_equal(pending, 0);

	/* gone: the port is SIP-like traffic for the kernel now */
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 'e');
	rte_pktmbuf_free(m);

	c.a = flow(ACCESS_IP ":30000", "10.0.0.5:4000", CALLER_IP);
	assert_int_not_equal(c.a, old);
	assert_int_equal(dp_flow_link(dp, c.a, c.b), 0);
	assert_int_equal(dp_flow_link(dp, c.b, c.a), 0);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	assert_udp4(m, &callee_mac, CORE_VLAN, CORE_IP ":40000", CALLEE_IP ":5000");
	rte_pktmbuf_free(m);

	/* bound again before the worker passed by: the add waits for it (the slot is the port's) */
	readd_wait(&c);

	/* same port twice, and a non-relay address, are refused */
	memset(&p, 0, sizeof(p));
	p.local = mksa(ACCESS_IP ":30000");
	assert_int_equal(dp_flow_add(dp, &p, &old), -EADDRINUSE);
	p.local = mksa("192.0.2.200:30000");
	assert_int_equal(dp_flow_add(dp, &p, &old), -EADDRNOTAVAIL);
	call_del(&c);
}

/*
 * New signalling on a live flow: the next packet towards it goes to the new address even
 * before the moved endpoint sends; the old settings wait for the worker's quiescent state.
 */
static void test_flow_update(void **state)
{
	struct call c = call_new();
	struct dp_flow_params p;
	struct rte_mbuf *m;
	unsigned int pending = 0;
	struct sa other = mksa("198.51.100.21");
	static const struct rte_ether_addr other_mac = { { 0x02, 0, 0, 0, 0, 0x21 } };

	dp_dpdk_neigh_add(w, &other, &other_mac);
	/* the callee's media latched the core flow before the re-INVITE moved it */
	assert_int_equal(
	    run1(rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40000"), &m), 't');
	rte_pktmbuf_free(m);
	quiesce();
	memset(&p, 0, sizeof(p));
	p.local = mksa(CORE_IP ":40000");
	p.latch.expected = mksa("198.51.100.21:5002");
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_update(dp, c.b, &p), 0);
	assert_int_equal(dp_dpdk_reclaim(dp, &pending), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	assert_udp4(m, &other_mac, CORE_VLAN, CORE_IP ":40000", "198.51.100.21:5002");
	rte_pktmbuf_free(m);
	assert_int_equal(dp_dpdk_reclaim(dp, &pending), 1);
	p.local = mksa(CORE_IP ":40001"); /* the local address must not change */
	assert_int_equal(dp_flow_update(dp, c.b, &p), -EINVAL);
	call_del(&c);
}

/*
 * A worker thread forwards while this thread adds, links, updates, unlinks and deletes flows.
 * Every packet must come back once, and every forwarded one must carry the headers of the
 * flow it was linked to: a torn or recycled flow would show up as wrong ports.
 */
#define CHURN_PAIRS 16

static atomic_bool churn_stop;
static atomic_uint churn_bad, churn_fwd;

static uint16_t churn_bursts(void)
{
	struct rte_mbuf *pk[CHURN_PAIRS];
	struct dp_dpdk_burst r;
	char dst[32];

	for (unsigned int i = 0; i < CHURN_PAIRS; i++) {
		snprintf(dst, sizeof(dst), ACCESS_IP ":%u", 32000 + i);
		pk[i] = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", dst);
	}
	dp_dpdk_process_burst(w, pk, CHURN_PAIRS, dp_dpdk_now_ms(), &r);
	if (r.n_tx + r.n_exc + r.n_drop != CHURN_PAIRS)
		atomic_fetch_add(&churn_bad, 1);
	for (unsigned int i = 0; i < r.n_tx; i++) {
		struct seen s;
		struct rte_ipv4_hdr *ip;
		uint16_t sport;

		look(r.tx[i], &s);
		ip = (void *)s.l3;
		sport = rte_be_to_cpu_16(s.u->src_port);
		/* the worker's own checks (cmocka asserts are not thread-safe) */
		if (s.vlan != CORE_VLAN || sport < 33000 || sport >= 33000 + CHURN_PAIRS ||
		    rte_be_to_cpu_16(s.u->dst_port) != 5000 ||
		    ip->dst_addr != mksa(CALLEE_IP).u.in.sin_addr.s_addr)
			atomic_fetch_add(&churn_bad, 1);
	}
	atomic_fetch_add(&churn_fwd, r.n_tx);
	rte_pktmbuf_free_bulk(r.tx, r.n_tx);
	rte_pktmbuf_free_bulk(r.exc, r.n_exc);
	rte_pktmbuf_free_bulk(r.drop, r.n_drop);
	return r.n_tx;
}

static void *churn_worker(void *arg)
{
	while (!atomic_load(&churn_stop))
		churn_bursts();
	return NULL;
}

static void test_churn_while_forwarding(void **state)
{
	dp_flow_t a[CHURN_PAIRS] = { 0 }, b[CHURN_PAIRS] = { 0 };
	struct dp_flow_params p;
	pthread_t th;
	char buf[32];

	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 10000;
	thread_elsewhere(&th, churn_worker);
	for (unsigned int round = 0; round < 3000; round++) {
		unsigned int i = round % CHURN_PAIRS;

		if (a[i]) {
			dp_flow_link(dp, b[i], 0);
			assert_int_equal(dp_flow_del(dp, a[i]), 0);
			assert_int_equal(dp_flow_del(dp, b[i]), 0);
			a[i] = b[i] = 0;
			continue;
		}
		snprintf(buf, sizeof(buf), ACCESS_IP ":%u", 32000 + i);
		p.local = mksa(buf);
		p.latch.expected = mksa("10.0.0.5:4000");
		p.latch.received_from = mksa(CALLER_IP);
		assert_int_equal(dp_flow_add(dp, &p, &a[i]), 0);
		snprintf(buf, sizeof(buf), CORE_IP ":%u", 33000 + i);
		p.local = mksa(buf);
		p.latch.expected = mksa(CALLEE_IP ":5000");
		sa_init(&p.latch.received_from);
		assert_int_equal(dp_flow_add(dp, &p, &b[i]), 0);
		assert_int_equal(dp_flow_update(dp, b[i], &p), 0);
		assert_int_equal(dp_flow_link(dp, a[i], b[i]), 0);
		assert_int_equal(dp_flow_link(dp, b[i], a[i]), 0);
	}
	atomic_store(&churn_stop, true);
	pthread_join(th, NULL);
	for (unsigned int i = 0; i < CHURN_PAIRS; i++) {
		if (a[i]) {
			assert_int_equal(dp_flow_del(dp, a[i]), 0);
			assert_int_equal(dp_flow_del(dp, b[i]), 0);
		}
	}
	assert_int_equal(atomic_load(&churn_bad), 0);
	print_message("churn: %u packets forwarded during 3000 table changes\n",
		      atomic_load(&churn_fwd));
}

/* Linked flows share a group (a worker); an unlinked flow (hold) accepts without forwarding. */
static void test_link_rules_and_hold(void **state)
{
	struct call c = call_new();
	struct dp_flow_params p;
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	dp_flow_t other;

	memset(&p, 0, sizeof(p));
	p.local = mksa(ACCESS_IP ":30050");
	p.group = 5;
	assert_int_equal(dp_flow_add(dp, &p, &other), 0);
	made[n_made++] = other;
	assert_int_equal(dp_flow_link(dp, c.a, other), -EXDEV);
	assert_int_equal(dp_flow_link(dp, c.a, 0x7fffff), -ENOENT);

	assert_int_equal(dp_flow_link(dp, c.a, 0), 0); /* hold */
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_stats(dp, c.a, &st), 0);
	assert_int_equal(st.packets, 0);
	assert_int_equal(st.errors, 0);
	assert_true(st.last_packet_ms > 0); /* the endpoint is alive: no timeout */
	assert_true(sa_isset(&st.latched));
	call_del(&c);
}

/*
 * The tx template (the second packet of a flow on): every packet through a flow must look as the
 * first one did, untagged and tagged, and follow a neighbour's new MAC and new signalling.
 */
static void send_twice(uint16_t vlan, const struct rte_ether_addr *smac, const char *src,
		       const char *dst, const struct rte_ether_addr *dmac, const char *out_src,
		       const char *out_dst)
{
	struct rte_mbuf *m;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(run1(rtp_pkt(vlan, smac, src, dst), &m), 't');
		assert_udp4(m, dmac, vlan, out_src, out_dst);
		rte_pktmbuf_free(m);
	}
}

/*
 * The copy of the linked flow's tx template in a flow's own line (dpdk_priv.h): in use from the
 * third packet of a pair on, and void whenever what it copies may have changed. Each case below
 * would send the packet the old way if the copy survived.
 */
static bool copy_valid(dp_flow_t id)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct dpdk_flow *f = dpdk_flow_get(d, id);

	return f && f->copy.neigh_gen != 0 &&
	       f->copy_link_gen == atomic_load_explicit(&f->link_gen, memory_order_relaxed);
}

/* A pair: a (the caller's, latched from its first packet) <-> b (toward @p b_dst). */
static struct call copy_pair(const char *b_dst)
{
	struct call c;

	c.a = flow(ACCESS_IP ":30020", NULL, CALLER_IP);
	c.b = flow(ACCESS_IP ":30022", b_dst, NULL);
	assert_int_equal(dp_flow_link(dp, c.a, c.b), 0);
	assert_int_equal(dp_flow_link(dp, c.b, c.a), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30022",
		   b_dst);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30022",
		   b_dst);
	assert_true(copy_valid(c.a)); /* the cases below start from a copy in use */
	return c;
}

static void test_tx_copy_invalidated(void **state)
{
	static const struct rte_ether_addr new_gw = { { 0x02, 0, 0, 0, 0, 0xfd } };
	struct sa gw = mksa("192.0.2.254");
	struct dp_flow_params p;
	struct rte_mbuf *m;
	struct call c;
	dp_flow_t x;

	/* a links to another flow */
	c = copy_pair("203.0.113.11:6000");
	x = flow(ACCESS_IP ":30024", "203.0.113.14:6004", NULL);
	assert_int_equal(dp_flow_link(dp, x, c.a), 0);
	assert_int_equal(dp_flow_link(dp, c.a, x), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30024",
		   "203.0.113.14:6004");
	flow_del(x);
	call_del(&c);

	/* the linked flow's latch moves (its far end sends from elsewhere, in its window) */
	c = copy_pair("203.0.113.11:6000");
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, "203.0.113.11:6010", ACCESS_IP ":30022"), &m),
			 't');
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":30020", CALLER_IP ":4002");
	rte_pktmbuf_free(m);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30022",
		   "203.0.113.11:6010");
	call_del(&c);

	/* the linked flow is re-linked elsewhere, then its latch moves: a still sends to it */
	c = copy_pair("203.0.113.11:6000");
	x = flow(ACCESS_IP ":30024", "203.0.113.14:6004", NULL);
	assert_int_equal(dp_flow_link(dp, c.b, x), 0);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, "203.0.113.11:6012", ACCESS_IP ":30022"), &m),
			 't');
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":30024", "203.0.113.14:6004");
	rte_pktmbuf_free(m);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30022",
		   "203.0.113.11:6012");
	assert_int_equal(dp_flow_link(dp, c.b, 0), 0);
	flow_del(x);
	call_del(&c);

	/* the linked flow's settings change (re-INVITE) */
	c = copy_pair("203.0.113.11:6000");
	memset(&p, 0, sizeof(p));
	p.local = mksa(ACCESS_IP ":30022");
	p.latch.expected = mksa("203.0.113.12:6002");
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_update(dp, c.b, &p), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &gw_mac, ACCESS_IP ":30022",
		   "203.0.113.12:6002");
	call_del(&c);

	/* the neighbour's MAC changes */
	c = copy_pair("203.0.113.11:6000");
	dp_dpdk_neigh_add(w, &gw, &new_gw);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020", &new_gw, ACCESS_IP ":30022",
		   "203.0.113.11:6000");
	dp_dpdk_neigh_add(w, &gw, &gw_mac);
	call_del(&c);

	/* the linked flow is deleted while a still links to it: nothing leaves */
	c = copy_pair("203.0.113.11:6000");
	flow_del(c.b);
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30020"), &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_link(dp, c.a, 0), 0);
	flow_del(c.a);
	quiesce();
}

static void test_tx_template(void **state)
{
	static const struct rte_ether_addr new_gw = { { 0x02, 0, 0, 0, 0, 0xfd } };
	struct sa gw = mksa("192.0.2.254");
	dp_flow_t a = flow(ACCESS_IP ":30010", NULL, CALLER_IP);
	dp_flow_t b = flow(ACCESS_IP ":30012", "203.0.113.11:6000", NULL);
	dp_flow_t c = flow(CORE_IP ":40010", NULL, CALLEE_IP);
	dp_flow_t d = flow(CORE_IP ":40012", CALLEE_IP ":5004", NULL);
	struct dp_flow_params p;
	struct dp_flow_stats st;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, c, d), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30010", &gw_mac, ACCESS_IP ":30012",
		   "203.0.113.11:6000");
	send_twice(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40010", &callee_mac,
		   CORE_IP ":40012", CALLEE_IP ":5004");

	dp_dpdk_neigh_add(w, &gw, &new_gw); /* the gateway was replaced */
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30010", &new_gw, ACCESS_IP ":30012",
		   "203.0.113.11:6000");
	dp_dpdk_neigh_add(w, &gw, &gw_mac);

	memset(&p, 0, sizeof(p)); /* re-INVITE: b's far end moved */
	p.local = mksa(ACCESS_IP ":30012");
	p.latch.expected = mksa("203.0.113.12:6002");
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_update(dp, b, &p), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30010", &gw_mac, ACCESS_IP ":30012",
		   "203.0.113.12:6002");

	/* b's far end sends from elsewhere (in its window): the latch moves, so does the way out */
	struct rte_mbuf *m;

	assert_int_equal(run1(rtp_pkt(0, &gw_mac, "203.0.113.12:6010", ACCESS_IP ":30012"), &m),
			 'd'); /* b is not linked: accepted, not forwarded */
	rte_pktmbuf_free(m);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30010", &gw_mac, ACCESS_IP ":30012",
		   "203.0.113.12:6010");
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 8);
	assert_int_equal(dp_flow_stats(dp, c, &st), 0);
	assert_int_equal(st.packets, 2);
}

/* With TX checksum offload the fast path leaves the pseudo-header sum and the flags. */
static void test_tx_offload(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct call c = call_new();
	struct rte_mbuf *m;
	struct seen s;
	struct rte_ipv4_hdr *ip;

	d->ifaces[1].tx_csum_offload = true;
	assert_int_equal(run1(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"), &m), 't');
	d->ifaces[1].tx_csum_offload = false;
	look(m, &s);
	ip = (void *)s.l3;
	assert_true(m->ol_flags & RTE_MBUF_F_TX_IPV4);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
	assert_int_equal(m->l2_len, 18);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(ip->hdr_checksum, 0);
	assert_int_equal(s.u->dgram_cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
	rte_pktmbuf_free(m);
	call_del(&c);
}

/* An ICMPv6 neighbour solicitation (135) or advertisement (136) with one link-layer option. */
static struct rte_mbuf *nd_pkt(uint8_t type, const struct rte_ether_addr *mac, const char *src,
			       const char *dst, const char *target)
{
	struct pkt_spec s = { .src_mac = *mac, .src = mksa(src), .dst = mksa(dst) };
	struct sa t = mksa(target);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv6_hdr *ip;
	uint8_t *nd;

	assert_non_null(m);
	m->port = 0;
	ip = (void *)put_l2(m, &s, RTE_ETHER_TYPE_IPV6, sizeof(*ip) + 32);
	memset(ip, 0, sizeof(*ip) + 32);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(32);
	ip->proto = 58;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, &s.src.u.in6.sin6_addr, 16);
	memcpy(ip->dst_addr, &s.dst.u.in6.sin6_addr, 16);
	nd = (uint8_t *)(ip + 1);
	nd[0] = type;
	if (type == 136)
		nd[4] = 0x60; /* solicited, override */
	memcpy(nd + 8, &t.u.in6.sin6_addr, 16);
	nd[24] = type == 135 ? 1 : 2;
	nd[25] = 1;
	memcpy(nd + 26, mac, 6);
	*(uint16_t *)(nd + 2) = rte_ipv6_udptcp_cksum(ip, nd);
	return m;
}

static void assert_nd(struct rte_mbuf *m, uint8_t type, const char *src, const char *dst,
		      const char *target)
{
	struct sa a = mksa(src), b = mksa(dst), t = mksa(target);
	struct seen s;
	struct rte_ipv6_hdr *ip;
	uint8_t *nd;
	uint16_t ck;

	look(m, &s);
	ip = (void *)s.l3;
	nd = (uint8_t *)(ip + 1);
	assert_int_equal(ip->hop_limits, 255);
	assert_int_equal(rte_be_to_cpu_16(ip->payload_len), 32);
	assert_int_equal(rte_pktmbuf_pkt_len(m), s.l3_off + 40 + 32);
	assert_memory_equal(ip->src_addr, &a.u.in6.sin6_addr, 16);
	assert_memory_equal(ip->dst_addr, &b.u.in6.sin6_addr, 16);
	assert_int_equal(nd[0], type);
	assert_memory_equal(nd + 8, &t.u.in6.sin6_addr, 16);
	assert_int_equal(nd[24], type == 135 ? 1 : 2);
	assert_memory_equal(nd + 26, &port_mac, 6);
	memcpy(&ck, nd + 2, 2);
	memset(nd + 2, 0, 2);
	assert_int_equal(rte_ipv6_udptcp_cksum(ip, nd), ck);
}

static void test_ndp_answered(void **state)
{
	static const struct rte_ether_addr asker = { { 0x02, 0, 0, 0, 0, 0x77 } };
	dp_flow_t a = flow("[2001:db8::1]:30030", "[2001:db8::10]:7000", NULL);
	dp_flow_t b = flow("[2001:db8::1]:30032", "[2001:db8::77]:7002", NULL);
	struct rte_mbuf *m;

	assert_int_equal(
	    run1(nd_pkt(135, &asker, "2001:db8::77", "ff02::1:ff00:1", "2001:db8::1"), &m), 't');
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &asker, 6);
	assert_nd(m, 136, "2001:db8::1", "2001:db8::77", "2001:db8::1");
	rte_pktmbuf_free(m);
	/* not a relay address: the kernel's */
	assert_int_equal(
	    run1(nd_pkt(135, &asker, "2001:db8::77", "ff02::1:ff00:2", "2001:db8::2"), &m), 'e');
	rte_pktmbuf_free(m);

	/* the solicitor was learned: media to it needs no resolution */
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30030"), &m), 't');
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &asker, 6);
	rte_pktmbuf_free(m);
	flow_del(a);
	flow_del(b);
}

static void test_ndp_resolve(void **state)
{
	static const struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 0x99 } };
	dp_flow_t a = flow("[2001:db8::1]:30020", "[2001:db8::10]:7000", NULL);
	dp_flow_t b = flow("[2001:db8::1]:30022", "[2001:db8::99]:7002", NULL);
	static const struct rte_ether_addr snm = { { 0x33, 0x33, 0xff, 0, 0, 0x99 } };
	struct rte_mbuf *m;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30020"), &m), 't');
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &snm, 6);
	assert_nd(m, 135, "2001:db8::1", "ff02::1:ff00:99", "2001:db8::99");
	rte_pktmbuf_free(m);
	assert_int_equal(
	    run1(nd_pkt(136, &peer, "2001:db8::99", "2001:db8::1", "2001:db8::99"), &m), 'e');
	rte_pktmbuf_free(m);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30020"), &m), 't');
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &peer, 6);
	rte_pktmbuf_free(m);
	flow_del(a);
	flow_del(b);
}

/*
 * Two workers: a flow belongs to the worker of its group, whichever worker RSS handed the packet
 * to; and a delete waits for both workers' quiescent states.
 */
static void test_two_workers(void **state)
{
	struct dp_dpdk_conf c;
	struct dataplane *dp2;
	struct dp_dpdk_worker *w0, *w1;
	struct dp_flow_params p;
	struct dp_dpdk_burst r;
	struct rte_mbuf *m;
	dp_flow_t a, b;
	unsigned int pending = 0;
	struct sa gw = mksa("192.0.2.254");

	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(ACCESS_IP), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	c.ifaces[0].gateway4 = gw;
	c.n_workers = 2;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), 0);
	w0 = dp_dpdk_worker_get(dp2, 0);
	w1 = dp_dpdk_worker_get(dp2, 1);
	assert_non_null(w1);
	assert_null(dp_dpdk_worker_get(dp2, 2));
	dp_dpdk_neigh_add(w1, &gw, &gw_mac);

	memset(&p, 0, sizeof(p));
	p.group = 7; /* odd: worker 1 */
	p.latch.window_ms = 10000;
	p.local = mksa(ACCESS_IP ":31000");
	p.latch.expected = mksa(CALLER_IP ":4000");
	assert_int_equal(dp_flow_add(dp2, &p, &a), 0);
	p.local = mksa(ACCESS_IP ":31002");
	p.latch.expected = mksa("203.0.113.20:4000");
	assert_int_equal(dp_flow_add(dp2, &p, &b), 0);
	assert_int_equal(dp_flow_link(dp2, a, b), 0);

	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4000", ACCESS_IP ":31000");
	dp_dpdk_process_burst(w0, &m, 1, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_handoff, 1);
	assert_int_equal(m->hash.usr, 1);
	dp_dpdk_process_burst(w1, &m, 1, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_tx, 1);
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":31002", "203.0.113.20:4000");
	rte_pktmbuf_free(m);

	dp_dpdk_process_burst(w0, NULL, 0, dp_dpdk_now_ms(), &r);
	dp_dpdk_process_burst(w1, NULL, 0, dp_dpdk_now_ms(), &r);
	dp_dpdk_reclaim(dp2, NULL);
	assert_int_equal(dp_flow_del(dp2, a), 0);
	dp_dpdk_process_burst(w0, NULL, 0, dp_dpdk_now_ms(), &r);
	assert_int_equal(dp_dpdk_reclaim(dp2, &pending), 0); /* worker 1 may still hold it */
	assert_int_equal(pending, 1);
	dp_dpdk_process_burst(w1, NULL, 0, dp_dpdk_now_ms(), &r);
	assert_int_equal(dp_dpdk_reclaim(dp2, &pending), 1);
	assert_int_equal(dp_flow_del(dp2, b), 0);
	dataplane_free(dp2);
}

/*
 * The flow table has a slot per port of each address's range: a flow outside it is refused, a
 * packet to a port outside it goes to the kernel, and an address may carry no flows.
 */
static void test_port_range(void **state)
{
	struct dp_dpdk_conf c;
	struct dataplane *dp2;
	struct dp_dpdk_worker *w2;
	struct dp_flow_params p;
	struct dp_dpdk_burst r;
	struct dp_dpdk_worker_stats st;
	struct rte_mbuf *m;
	struct sa gw = mksa("192.0.2.254");
	dp_flow_t a, b;

	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){
		.addr = mksa(ACCESS_IP), .prefix_len = 24, .port_min = 31000, .port_max = 31009
	};
	c.ifaces[0].addrs[1] = (struct dp_dpdk_addr){
		.addr = mksa("192.0.2.2"), .prefix_len = 24, .port_min = 1, .port_max = 0
	};
	c.ifaces[0].n_addrs = 2;
	c.ifaces[0].gateway4 = gw;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), 0);
	w2 = dp_dpdk_worker_get(dp2, 0);
	dp_dpdk_neigh_add(w2, &gw, &gw_mac);

	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 10000;
	p.local = mksa(ACCESS_IP ":30999");
	assert_int_equal(dp_flow_add(dp2, &p, &a), -EADDRNOTAVAIL);
	p.local = mksa(ACCESS_IP ":31010");
	assert_int_equal(dp_flow_add(dp2, &p, &a), -EADDRNOTAVAIL);
	p.local = mksa("192.0.2.2:31000");
	assert_int_equal(dp_flow_add(dp2, &p, &a), -EADDRNOTAVAIL);
	p.local = mksa(ACCESS_IP ":31000");
	p.latch.expected = mksa(CALLER_IP ":4000");
	assert_int_equal(dp_flow_add(dp2, &p, &a), 0);
	p.local = mksa(ACCESS_IP ":31009");
	p.latch.expected = mksa(CALLER_IP ":4002");
	assert_int_equal(dp_flow_add(dp2, &p, &b), 0);
	assert_int_equal(dp_flow_link(dp2, a, b), 0);

	m = rtp_pkt(0, &gw_mac, CALLER_IP ":4000", ACCESS_IP ":31000");
	dp_dpdk_process_burst(w2, &m, 1, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_tx, 1);
	assert_udp4(m, &gw_mac, 0, ACCESS_IP ":31009", CALLER_IP ":4002");
	rte_pktmbuf_free(m);
	/* the ports just outside, and an address without flows: the kernel's */
	const char *outside[] = { ACCESS_IP ":30999", ACCESS_IP ":31010", "192.0.2.2:31000" };

	for (unsigned int i = 0; i < 3; i++) {
		m = rtp_pkt(0, &gw_mac, CALLER_IP ":4000", outside[i]);
		dp_dpdk_process_burst(w2, &m, 1, dp_dpdk_now_ms(), &r);
		assert_int_equal(r.n_exc, 1);
		rte_pktmbuf_free(m);
	}
	dp_dpdk_worker_stats(w2, &st);
	assert_int_equal(st.no_flow, 3);
	assert_int_equal(dp_flow_del(dp2, a), 0);
	assert_int_equal(dp_flow_del(dp2, b), 0);
	dataplane_free(dp2);
}

/* ---- setup ---- */

/* ---- neighbour ageing (last: these move the worker's clock forward) ---- */

/* An ARP request for @p tip, broadcast from the access interface. */
static void assert_arp_request(struct rte_mbuf *m, const char *tip)
{
	struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	struct sa t = mksa(tip);

	assert_true(
	    rte_is_broadcast_ether_addr(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr));
	assert_int_equal(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_int_equal(ah->arp_data.arp_tip, t.u.in.sin_addr.s_addr);
	assert_int_equal(m->port, 0);
}

/* Whether @p m is an ARP request for @p tip. */
static bool is_arp_request(struct rte_mbuf *m, const char *tip)
{
	struct rte_arp_hdr *ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
	struct sa t = mksa(tip);

	return rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type ==
		   rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) &&
	       ah->arp_data.arp_tip == t.u.in.sin_addr.s_addr;
}

/*
 * The clock moved on by @p ms, then the whole neighbour table aged (earlier tests' neighbours
 * age too). @return the refresh requests for @p tip (each checked; NULL: all of them). All are
 * freed.
 */
static unsigned int age_all(uint64_t ms, const char *tip)
{
	unsigned int n = 0;

	clock_skew += ms;
	/* at most DPDK_NEIGH_AGE_STEP entries a call, fewer when it has that many requests or
	 * removed one: four times round */
	for (unsigned int i = 0; i < 4 * w->neigh_size; i += DPDK_NEIGH_AGE_STEP) {
		struct rte_mbuf *m[DPDK_NEIGH_AGE_STEP];
		unsigned int k = dp_dpdk_neigh_age(w, test_now(), pool, m, DPDK_NEIGH_AGE_STEP);

		for (unsigned int j = 0; j < k; j++) {
			if (!tip || is_arp_request(m[j], tip)) {
				if (tip)
					assert_arp_request(m[j], tip);
				n++;
			}
			rte_pktmbuf_free(m[j]);
		}
	}
	return n;
}

/* A packet from 192.0.2.33 to @p local (linked to a flow whose far end needs @p nh): @return it. */
static struct rte_mbuf *send_via(const char *local, const struct rte_ether_addr *mac, char want)
{
	struct rte_mbuf *m;

	assert_int_equal(run1(rtp_pkt(0, mac, "192.0.2.33:9000", local), &m), want);
	return m;
}

/*
 * A neighbour in use is asked again once its confirmation is 30 s old, once a second, its MAC
 * still used meanwhile; three requests unanswered and it is given up: the next packet asks as
 * for a new next hop, and an answer with another MAC (a replaced router that sent no gratuitous
 * ARP) is what the packets then leave with.
 */
static void test_neigh_refresh(void **state)
{
	static const struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 0x55 } };
	static const struct rte_ether_addr peer2 = { { 0x02, 0, 0, 0, 0, 0x56 } };
	dp_flow_t a = flow(ACCESS_IP ":30040", "192.0.2.33:9000", NULL);
	dp_flow_t b = flow(ACCESS_IP ":30042", "192.0.2.55:9002", NULL);
	struct dp_dpdk_worker_stats before = wstats();
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	m = send_via(ACCESS_IP ":30040", &peer, 't');
	assert_arp_request(m, "192.0.2.55");
	rte_pktmbuf_free(m);
	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REPLY, &peer, "192.0.2.55", ACCESS_IP), &m), 'e');
	rte_pktmbuf_free(m);
	m = send_via(ACCESS_IP ":30040", &peer, 't');
	assert_udp4(m, &peer, 0, ACCESS_IP ":30042", "192.0.2.55:9002");
	rte_pktmbuf_free(m);

	assert_int_equal(age_all(1000, "192.0.2.55"), 0); /* fresh */
	assert_int_equal(age_all(30000, "192.0.2.55"), 1);
	assert_int_equal(age_all(500, "192.0.2.55"), 0); /* one a second */
	m = send_via(ACCESS_IP ":30040", &peer, 't');
	assert_udp4(m, &peer, 0, ACCESS_IP ":30042", "192.0.2.55:9002"); /* still in use */
	rte_pktmbuf_free(m);
	assert_int_equal(age_all(600, "192.0.2.55"), 1);
	assert_int_equal(age_all(1100, "192.0.2.55"), 1);
	assert_int_equal(wstats().neigh_lost, before.neigh_lost);
	assert_int_equal(age_all(1100, "192.0.2.55"), 0); /* given up (with earlier tests' ones) */
	assert_true(wstats().neigh_lost >= before.neigh_lost + 1);

	m = send_via(ACCESS_IP ":30040", &peer, 't');
	assert_arp_request(m, "192.0.2.55");
	rte_pktmbuf_free(m);
	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REPLY, &peer2, "192.0.2.55", ACCESS_IP), &m), 'e');
	rte_pktmbuf_free(m);
	for (int i = 0; i < 2; i++) {
		m = send_via(ACCESS_IP ":30040", &peer, 't');
		assert_udp4(m, &peer2, 0, ACCESS_IP ":30042", "192.0.2.55:9002");
		rte_pktmbuf_free(m);
	}
	flow_del(a);
	flow_del(b);
}

/* One packet through worker @p wk at @p now; @return the array it landed in: 't', 'e' or 'd'. */
static char run_on(struct dp_dpdk_worker *wk, struct rte_mbuf *m, uint64_t now,
		   struct rte_mbuf **out)
{
	struct dp_dpdk_burst r;

	dp_dpdk_process_burst(wk, &m, 1, now, &r);
	*out = m;
	return r.n_tx ? 't' : r.n_exc ? 'e' : 'd';
}

/* Ages worker @p wk's whole table at @p now: @return its requests for @p tip (all freed). */
static unsigned int age_worker(struct dp_dpdk_worker *wk, uint64_t now, const char *tip)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < wk->neigh_size; i += DPDK_NEIGH_AGE_STEP) {
		struct rte_mbuf *m[DPDK_NEIGH_AGE_STEP];
		unsigned int k = dp_dpdk_neigh_age(wk, now, pool, m, DPDK_NEIGH_AGE_STEP);

		for (unsigned int j = 0; j < k; j++) {
			n += is_arp_request(m[j], tip);
			rte_pktmbuf_free(m[j]);
		}
	}
	return n;
}

/* An ARP reply from 192.0.2.66 to worker @p wk, which tells the other (its neighbour ring). */
static void answer_66(struct dp_dpdk_worker *wk, struct dp_dpdk_worker *other, uint64_t now)
{
	static const struct rte_ether_addr mac66 = { { 0x02, 0, 0, 0, 0, 0x66 } };
	struct rte_mbuf *m;

	assert_int_equal(
	    run_on(wk, arp_pkt(RTE_ARP_OP_REPLY, &mac66, "192.0.2.66", ACCESS_IP), now, &m), 'e');
	rte_pktmbuf_free(m);
	dpdk_neigh_sync(other);
}

/*
 * Two workers need the same neighbour, and every answer reaches both: when it is due for a
 * refresh, one of them asks; the other asks only when that request has gone unanswered for a
 * retry interval.
 */
static void test_neigh_one_asker(void **state)
{
	struct dp_dpdk_conf c;
	struct dataplane *dp2;
	struct dp_dpdk_worker *wk[2];
	struct dp_flow_params p;
	struct rte_mbuf *m;
	dp_flow_t f[4];
	uint64_t t0 = test_now();

	(void)state;
	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(ACCESS_IP), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	c.n_workers = 2;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), 0);
	wk[0] = dp_dpdk_worker_get(dp2, 0);
	wk[1] = dp_dpdk_worker_get(dp2, 1);

	/* a call per worker (groups 0 and 1), both toward 192.0.2.66 */
	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 10000;
	for (unsigned int i = 0; i < 4; i++) {
		char local[32];

		snprintf(local, sizeof(local), ACCESS_IP ":%u", 31100 + 2 * i);
		p.local = mksa(local);
		p.latch.expected = mksa(i % 2 ? "192.0.2.66:9002" : "192.0.2.33:9000");
		p.group = i / 2;
		assert_int_equal(dp_flow_add(dp2, &p, &f[i]), 0);
	}
	assert_int_equal(dp_flow_link(dp2, f[0], f[1]), 0);
	assert_int_equal(dp_flow_link(dp2, f[2], f[3]), 0);
	for (unsigned int i = 0; i < 2; i++) { /* each worker asks for it once */
		const char *local = i ? ACCESS_IP ":31104" : ACCESS_IP ":31100";

		assert_int_equal(
		    run_on(wk[i], rtp_pkt(0, &gw_mac, "192.0.2.33:9000", local), t0, &m), 't');
		assert_arp_request(m, "192.0.2.66");
		rte_pktmbuf_free(m);
	}
	answer_66(wk[0], wk[1], t0);
	assert_int_equal(
	    run_on(wk[1], rtp_pkt(0, &gw_mac, "192.0.2.33:9000", ACCESS_IP ":31104"), t0, &m), 't');
	assert_udp4(m, &(struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x66 } }, 0,
		    ACCESS_IP ":31106", "192.0.2.66:9002"); /* learned through worker 0 */
	rte_pktmbuf_free(m);

	/* due: one request between the two, answered to either: both confirmed */
	assert_int_equal(age_worker(wk[0], t0 + 30500, "192.0.2.66") +
			     age_worker(wk[1], t0 + 30500, "192.0.2.66"),
			 1);
	answer_66(wk[1], wk[0], t0 + 30600);
	assert_int_equal(age_worker(wk[0], t0 + 31700, "192.0.2.66") +
			     age_worker(wk[1], t0 + 31700, "192.0.2.66"),
			 0);
	/* due again and unanswered: a second later both ask */
	assert_int_equal(age_worker(wk[0], t0 + 61100, "192.0.2.66") +
			     age_worker(wk[1], t0 + 61100, "192.0.2.66"),
			 1);
	assert_int_equal(age_worker(wk[0], t0 + 62200, "192.0.2.66") +
			     age_worker(wk[1], t0 + 62200, "192.0.2.66"),
			 2);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(dp_flow_del(dp2, f[i]), 0);
	dataplane_free(dp2);
}

/* Resolves @p ip (answered from @p mac) for the flow at @p local, and sends by its template. */
static void resolve_and_use(const char *local, const char *ip, const struct rte_ether_addr *mac)
{
	struct rte_mbuf *m = send_via(local, mac, 't');

	assert_arp_request(m, ip);
	rte_pktmbuf_free(m);
	assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REPLY, mac, ip, ACCESS_IP), &m), 'e');
	rte_pktmbuf_free(m);
	for (int i = 0; i < 2; i++) /* the second by the template */
		rte_pktmbuf_free(send_via(local, mac, 't'));
}

/* Earlier tests' neighbours gone: asked for in vain, given up, then removed as unused. */
static void neigh_clear(void)
{
	age_all(200000, NULL);
	for (int i = 0; i < 4; i++)
		age_all(1100, NULL);
	age_all(61000, NULL);
}

/*
 * With the table far from full, a neighbour no packet needs any more but that still answers is
 * kept (asked again every 30 s), and the templates are never voided to find out what is in use.
 */
static void test_neigh_idle_kept(void **state)
{
	static const struct rte_ether_addr idle = { { 0x02, 0, 0, 0, 0, 0x77 } };
	dp_flow_t a = flow(ACCESS_IP ":30044", "192.0.2.33:9000", NULL);
	dp_flow_t b = flow(ACCESS_IP ":30046", "192.0.2.77:9002", NULL);
	struct rte_mbuf *m;
	uint32_t gen;

	(void)state;
	neigh_clear();
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	resolve_and_use(ACCESS_IP ":30044", "192.0.2.77", &idle);
	gen = w->neigh_gen;
	for (int round = 0; round < 3; round++) { /* 93 s without a packet for it */
		assert_int_equal(age_all(31000, "192.0.2.77"), 1);
		assert_int_equal(w->neigh_gen, gen); /* no template voided */
		assert_int_equal(
		    run1(arp_pkt(RTE_ARP_OP_REPLY, &idle, "192.0.2.77", ACCESS_IP), &m), 'e');
		rte_pktmbuf_free(m);
	}
	m = send_via(ACCESS_IP ":30044", &idle, 't');
	assert_udp4(m, &idle, 0, ACCESS_IP ":30046", "192.0.2.77:9002"); /* still there */
	rte_pktmbuf_free(m);
	flow_del(a);
	flow_del(b);
}

#define CROWD_MAX (TEST_NEIGH_SIZE / 2 + 8)

/*
 * With the table more than half full (a crowd of half its size and 8, answered, and 2 more), a
 * neighbour no packet needed for a minute is removed, not
 * asked again, while one that packets keep needing stays, although they leave by templates that
 * never look at the table: the worker voids its templates every 30 s to see which neighbours
 * are in use.
 */
static void test_neigh_crowded(void **state)
{
	static const struct rte_ether_addr idle = { { 0x02, 0, 0, 0, 0, 0x77 } };
	static const struct rte_ether_addr busy = { { 0x02, 0, 0, 0, 0, 0x78 } };
	dp_flow_t a = flow(ACCESS_IP ":30044", "192.0.2.33:9000", NULL);
	dp_flow_t b = flow(ACCESS_IP ":30046", "192.0.2.77:9002", NULL);
	dp_flow_t c = flow(ACCESS_IP ":30052", "192.0.2.33:9000", NULL);
	dp_flow_t d = flow(ACCESS_IP ":30054", "192.0.2.78:9002", NULL);
	dp_flow_t e = flow("[2001:db8::1]:30062", "[2001:db8::10]:7000", NULL);
	static dp_flow_t crowd[CROWD_MAX];
	unsigned int n_crowd = w->neigh_size / 2 + 8;
	struct dp_dpdk_worker_stats before;
	struct rte_mbuf *m;
	char ip[48], far[64];
	uint32_t gen;

	(void)state;
	assert_true(n_crowd <= CROWD_MAX);
	neigh_clear();
	for (unsigned int i = 0; i < n_crowd; i++) { /* on-link IPv6 next hops, answered */
		struct dp_flow_params p;
		struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 2, (uint8_t)i } };

		snprintf(ip, sizeof(ip), "2001:db8::6:%x", i + 1);
		snprintf(far, sizeof(far), "[%s]:7002", ip);
		memset(&p, 0, sizeof(p));
		p.local = mksa("[2001:db8::1]:0");
		sa_set_port(&p.local, (uint16_t)(32000 + 2 * i));
		p.latch.expected = mksa(far);
		p.latch.window_ms = 10000;
		assert_int_equal(dp_flow_add(dp, &p, &crowd[i]), 0);
		assert_int_equal(dp_flow_link(dp, e, crowd[i]), 0);
		assert_int_equal(
		    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30062"), &m),
		    't');
		rte_pktmbuf_free(m);
		assert_int_equal(run1(nd_pkt(136, &mac, ip, "2001:db8::1", ip), &m), 'e');
		rte_pktmbuf_free(m);
	}
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, c, d), 0);
	resolve_and_use(ACCESS_IP ":30044", "192.0.2.77", &idle);
	resolve_and_use(ACCESS_IP ":30052", "192.0.2.78", &busy);
	before = wstats();
	gen = w->neigh_gen;
	for (int round = 0; round < 2; round++) { /* voided each round; only .78 used again */
		age_all(round == 0 ? 31000 : 30000, NULL);
		assert_int_not_equal(w->neigh_gen, gen);
		gen = w->neigh_gen;
		rte_pktmbuf_free(send_via(ACCESS_IP ":30052", &busy, 't'));
	}
	/* .78 asked again; .77 and the crowd, needed by no packet for a minute: removed */
	assert_int_equal(age_all(30000, "192.0.2.78"), 1);
	assert_true(wstats().neigh_removed >= before.neigh_removed + n_crowd);
	m = send_via(ACCESS_IP ":30044", &idle, 't');
	assert_arp_request(m, "192.0.2.77"); /* asked anew */
	rte_pktmbuf_free(m);
	m = send_via(ACCESS_IP ":30052", &busy, 't');
	assert_udp4(m, &busy, 0, ACCESS_IP ":30054", "192.0.2.78:9002"); /* kept */
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_link(dp, e, 0), 0);
	for (unsigned int i = 0; i < n_crowd; i++)
		flow_del(crowd[i]);
	flow_del(a);
	flow_del(b);
	flow_del(c);
	flow_del(d);
	flow_del(e);
}

#define NB_N 150

/* Next hop @p i of test_neigh_removal(): spread over 16 bits, so that their entries collide. */
static void nb_addr(unsigned int i, char *ip, size_t len)
{
	snprintf(ip, len, "2001:db8::5:%x", (i * 40503u) & 0xffff);
}

/* Whether @p m is a neighbour solicitation (an IPv6 frame to a solicited-node MAC). */
static bool is_solicitation(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	return eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6) &&
	       eh->dst_addr.addr_bytes[0] == 0x33 && eh->dst_addr.addr_bytes[2] == 0xff;
}

/* A packet of test_neigh_removal()'s caller that leaves through b (next hop @p i). */
static struct rte_mbuf *nb_send(dp_flow_t a, dp_flow_t b)
{
	struct rte_mbuf *m;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(
	    run1(rtp_pkt(0, &v6peer_mac, "[2001:db8::10]:7000", "[2001:db8::1]:30060"), &m), 't');
	return m;
}

/*
 * Of 150 on-link IPv6 next hops, the half that never answered (and that no packet needed for a
 * minute) is removed, and every other one is still found afterwards: the entries that had probed
 * past a removed one were moved back, not lost (packets to them leave with their MAC, no new
 * solicitation). These 150 addresses put some answered entries past unanswered ones in a table
 * of TEST_NEIGH_SIZE entries: the test fails with entries cleared instead of moved.
 */
static void test_neigh_removal(void **state)
{
	dp_flow_t a = flow("[2001:db8::1]:30060", "[2001:db8::10]:7000", NULL);
	dp_flow_t b[NB_N];
	struct dp_dpdk_worker_stats before = wstats();
	struct rte_mbuf *m;
	char local[64], far[64], ip[48];

	(void)state;
	/* which addresses collide depends on the table's size */
	assert_int_equal(w->neigh_size, TEST_NEIGH_SIZE);
	for (unsigned int i = 0; i < NB_N; i++) {
		struct dp_flow_params p;
		struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 1, (uint8_t)i } };

		nb_addr(i, ip, sizeof(ip));
		snprintf(local, sizeof(local), "[2001:db8::1]:%u", 31000 + 2 * i);
		snprintf(far, sizeof(far), "[%s]:7002", ip);
		memset(&p, 0, sizeof(p));
		p.local = mksa(local);
		p.latch.expected = mksa(far);
		p.latch.window_ms = 10000;
		assert_int_equal(dp_flow_add(dp, &p, &b[i]), 0);
		m = nb_send(a, b[i]);
		assert_true(is_solicitation(m));
		rte_pktmbuf_free(m);
		if (i % 2 == 0) {
			assert_int_equal(run1(nd_pkt(136, &mac, ip, "2001:db8::1", ip), &m), 'e');
			rte_pktmbuf_free(m);
		}
	}
	age_all(31000, NULL); /* the templates go; nothing is a minute unused yet */
	for (unsigned int i = 0; i < NB_N; i += 2) /* the answered ones are used again */
		rte_pktmbuf_free(nb_send(a, b[i]));
	age_all(30000, NULL);
	assert_true(wstats().neigh_removed >= before.neigh_removed + NB_N / 2);
	/* the answered ones first, so that no new entry refills a hole before they are looked up */
	for (unsigned int k = 0; k < NB_N; k++) {
		unsigned int i = k < NB_N / 2 ? 2 * k : 2 * (k - NB_N / 2) + 1;
		struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 1, (uint8_t)i } };

		m = nb_send(a, b[i]);
		if (i % 2 == 0)
			assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr,
					    &mac, 6);
		else
			assert_true(is_solicitation(m)); /* a new entry: asked for at once */
		rte_pktmbuf_free(m);
	}
	assert_int_equal(dp_flow_link(dp, a, 0), 0);
	for (unsigned int i = 0; i < NB_N; i++)
		flow_del(b[i]);
	flow_del(a);
}

/*
 * A full table (hosts that asked for a relay address from an eighth more sender addresses than it
 * holds) leaves a new next hop without an entry; ageing empties it (the removal's scan must end
 * without an empty slot to stop at), and the next packet can ask for its next hop again.
 */
static void test_neigh_table_full(void **state)
{
	static const struct rte_ether_addr asker = { { 0x02, 0, 0, 0, 0, 0x42 } };
	dp_flow_t a = flow(ACCESS_IP ":30048", "192.0.2.33:9000", NULL);
	dp_flow_t b = flow(ACCESS_IP ":30050", "192.0.2.88:9002", NULL);
	struct dp_dpdk_worker_stats before = wstats();
	unsigned int n_askers = w->neigh_size + w->neigh_size / 8;
	struct rte_mbuf *m;
	char ip[32];

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	for (unsigned int i = 0; i < n_askers; i++) {
		snprintf(ip, sizeof(ip), "10.9.%u.%u", i / 200, 1 + i % 200);
		assert_int_equal(run1(arp_pkt(RTE_ARP_OP_REQUEST, &asker, ip, ACCESS_IP), &m), 't');
		rte_pktmbuf_free(m);
	}
	rte_pktmbuf_free(send_via(ACCESS_IP ":30048", &asker, 'd')); /* no room for 192.0.2.88 */
	assert_int_equal(wstats().no_neigh, before.no_neigh + 1);
	age_all(31000, NULL);
	assert_true(wstats().neigh_removed >= before.neigh_removed + w->neigh_size * 3 / 4);
	m = send_via(ACCESS_IP ":30048", &asker, 't');
	assert_arp_request(m, "192.0.2.88");
	rte_pktmbuf_free(m);
	flow_del(a);
	flow_del(b);
}

/* Where IPv6 address @p a's entry starts in a table of @p mask + 1 (neigh.c: neigh_home()). */
static uint32_t home6(const struct sa *a, uint32_t mask)
{
	uint32_t v[4];

	memcpy(v, &a->u.in6.sin6_addr, 16);
	return rte_hash_crc(v, 16, AF_INET6) & mask;
}

/*
 * An entry sits at most 64 slots past its home, so that a lookup on a full table stops there:
 * 64 neighbours sharing a home all get an entry, a 65th does not, while one whose home is
 * elsewhere in the table still does.
 */
static void test_neigh_probe_bound(void **state)
{
	static const struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0x20, 1 } };
	struct dp_dpdk_conf c;
	struct dataplane *dp2;
	struct dp_dpdk_worker *w2;
	struct sa same[65], other;
	unsigned int n = 0;
	uint32_t h0 = 0;
	char ip[48];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] =
	    (struct dp_dpdk_addr){ .addr = mksa("2001:db8::1"), .prefix_len = 64 };
	c.ifaces[0].n_addrs = 1;
	c.neigh_size = 256;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), 0);
	w2 = dp_dpdk_worker_get(dp2, 0);
	for (unsigned int x = 2; n < 65; x++) {
		snprintf(ip, sizeof(ip), "2001:db8::7:%x", x);
		struct sa a = mksa(ip);

		if (n == 0)
			h0 = home6(&a, 255);
		if (home6(&a, 255) == h0)
			same[n++] = a;
	}
	for (unsigned int x = 2;; x++) {
		snprintf(ip, sizeof(ip), "2001:db8::8:%x", x);
		other = mksa(ip);
		if (home6(&other, 255) == ((h0 + 128) & 255))
			break;
	}
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(dp_dpdk_neigh_add(w2, &same[i], &mac), 0);
	assert_int_equal(dp_dpdk_neigh_add(w2, &same[64], &mac), -ENOSPC);
	assert_int_equal(dp_dpdk_neigh_add(w2, &other, &mac), 0);
	dataplane_free(dp2);
}

#define MANY_N 1500

/* On-link next hop @p i of test_neigh_size_configured(), and its MAC. */
static void many_addr(unsigned int i, char *ip, size_t len, struct rte_ether_addr *mac)
{
	snprintf(ip, len, "10.0.%u.%u", 1 + i / 250, 1 + i % 250);
	*mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0x10, (uint8_t)(i >> 8), (uint8_t)i } };
}

/*
 * A backend configured with 2048 neighbour entries holds 1500 on-link next hops in use at once
 * (a campus subnet full of phones): each resolved, and then each still resolved, none dropped
 * for want of an entry (the old fixed table of 1024 gave the 1025th no entry). A size that is
 * not a power of two, or above the largest, is refused.
 */
static void test_neigh_size_configured(void **state)
{
	static dp_flow_t far[MANY_N];
	struct dp_dpdk_conf c;
	struct dataplane *dp2;
	struct dp_dpdk_worker *w2;
	struct dp_flow_params p;
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	uint64_t no_neigh, now = test_now();
	dp_flow_t near;
	char ip[32], addr[48];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){
		.addr = mksa("10.0.0.1"), .prefix_len = 20, .port_min = 30000, .port_max = 34000
	};
	c.ifaces[0].n_addrs = 1;
	c.neigh_size = 3000;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), -EINVAL);
	c.neigh_size = 2 * DP_DPDK_NEIGH_MAX;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), -EINVAL);
	c.neigh_size = 2048;
	assert_int_equal(dp_dpdk_alloc(&dp2, &c), 0);
	w2 = dp_dpdk_worker_get(dp2, 0);
	assert_int_equal(w2->neigh_size, 2048);

	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 10000;
	p.local = mksa("10.0.0.1:30000");
	p.latch.expected = mksa("10.0.0.2:7000");
	assert_int_equal(dp_flow_add(dp2, &p, &near), 0);
	for (unsigned int i = 0; i < MANY_N; i++) { /* each asked for, answered, then used */
		many_addr(i, ip, sizeof(ip), &mac);
		snprintf(addr, sizeof(addr), "10.0.0.1:%u", 30002 + 2 * i);
		p.local = mksa(addr);
		snprintf(addr, sizeof(addr), "%s:7002", ip);
		p.latch.expected = mksa(addr);
		assert_int_equal(dp_flow_add(dp2, &p, &far[i]), 0);
		assert_int_equal(dp_flow_link(dp2, near, far[i]), 0);
		assert_int_equal(
		    run_on(w2, rtp_pkt(0, &gw_mac, "10.0.0.2:7000", "10.0.0.1:30000"), now, &m),
		    't');
		assert_arp_request(m, ip);
		rte_pktmbuf_free(m);
		assert_int_equal(
		    run_on(w2, arp_pkt(RTE_ARP_OP_REPLY, &mac, ip, "10.0.0.1"), now, &m), 'e');
		rte_pktmbuf_free(m);
	}
	assert_true(w2->neigh_count >= MANY_N);
	no_neigh = w2->st.no_neigh;
	for (unsigned int i = 0; i < MANY_N; i++) { /* all still there */
		many_addr(i, ip, sizeof(ip), &mac);
		snprintf(addr, sizeof(addr), "%s:7002", ip);
		assert_int_equal(dp_flow_link(dp2, near, far[i]), 0);
		assert_int_equal(
		    run_on(w2, rtp_pkt(0, &gw_mac, "10.0.0.2:7000", "10.0.0.1:30000"), now, &m),
		    't');
		assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &mac,
				    6);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(w2->st.no_neigh, no_neigh);
	assert_int_equal(dp_flow_link(dp2, near, 0), 0);
	for (unsigned int i = 0; i < MANY_N; i++)
		assert_int_equal(dp_flow_del(dp2, far[i]), 0);
	assert_int_equal(dp_flow_del(dp2, near), 0);
	dataplane_free(dp2);
}

static int setup(void **state)
{
	static const char *const argv[] = { "test_dpdk_fastpath", "--no-huge", "--no-shconf",
					    "--no-pci",		  "-m",	       "256",
					    "--vdev=net_ring0",	  "-l",	       "0",
					    "--log-level=*:error" };
	struct dp_dpdk_conf c;
	struct dp_dpdk_iface_conf *a = &c.ifaces[0], *k = &c.ifaces[1];
	struct sa gw = mksa("192.0.2.254"), callee = mksa(CALLEE_IP), v6 = mksa("2001:db8::20");
	struct sa v6b = mksa("2001:db8::10");

	memset(&c, 0, sizeof(c));
	c.eal_argv = argv;
	c.eal_argc = (int)(sizeof(argv) / sizeof(argv[0]));
	c.neigh_size = TEST_NEIGH_SIZE;
	c.n_ifaces = 2;
	a->addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(ACCESS_IP), .prefix_len = 24 };
	a->addrs[1] = (struct dp_dpdk_addr){ .addr = mksa("2001:db8::1"), .prefix_len = 64 };
	a->n_addrs = 2;
	a->gateway4 = gw;
	k->vlan = CORE_VLAN;
	k->addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(CORE_IP), .prefix_len = 24 };
	k->n_addrs = 1;
	if (dp_dpdk_alloc(&dp, &c) != 0)
		return -1;
	w = dp_dpdk_worker_get(dp, 0);
	pool = rte_pktmbuf_pool_create("test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!w || !pool || rte_eth_macaddr_get(0, &port_mac) != 0)
		return -1;
	dp_dpdk_neigh_add(w, &gw, &gw_mac);
	dp_dpdk_neigh_add(w, &callee, &callee_mac);
	dp_dpdk_neigh_add(w, &v6, &v6peer_mac);
	dp_dpdk_neigh_add(w, &v6b, &v6peer_mac);
	return 0;
}

static int teardown(void **state)
{
	dataplane_free(dp);
	rte_mempool_free(pool);
	return 0;
}

/*
 * The template serial wraps: the flows' checksum sums are dropped, no serial is 0, and packets
 * still leave with the right addresses and checksums (the far end of b moves across the wrap).
 */
static void test_tmpl_serial_wrap(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	dp_flow_t a = flow(ACCESS_IP ":30030", NULL, CALLER_IP);
	dp_flow_t b = flow(ACCESS_IP ":30032", "203.0.113.11:6000", NULL);
	struct dpdk_flow *fa = &d->flows[(a & DPDK_ID_IDX_MASK) - 1];
	struct dp_flow_params p;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	w->tmpl_serial = UINT32_MAX - 2;
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30030", &gw_mac, ACCESS_IP ":30032",
		   "203.0.113.11:6000");
	assert_int_equal(fa->sums.serial, UINT32_MAX - 1);
	send_twice(0, &gw_mac, "203.0.113.11:6000", ACCESS_IP ":30032", &gw_mac, ACCESS_IP ":30030",
		   CALLER_IP ":4002");
	assert_int_equal(w->tmpl_serial, UINT32_MAX);
	/* re-INVITE: b's far end moved; b's template goes, its next build wraps the count */
	memset(&p, 0, sizeof(p));
	p.local = mksa(ACCESS_IP ":30032");
	p.latch.expected = mksa("203.0.113.12:6002");
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_update(dp, b, &p), 0);
	send_twice(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30030", &gw_mac, ACCESS_IP ":30032",
		   "203.0.113.12:6002");
	assert_int_equal(w->tmpl_serial, 1);
	assert_int_equal(fa->sums.serial, 1);
}

/* ---- the fast lane against the full way ---- */

#define MIX_N	  13
#define MIX_FLOWS 5

struct mix_out {
	char where[MIX_N];    /* 't', 'e', 'd' per packet of the burst */
	uint16_t pos[MIX_N];  /* its place in that array */
	uint16_t port[MIX_N]; /* m->port */
	uint16_t len[MIX_N];  /* data_len */
	uint8_t data[MIX_N][256];
	uint64_t wst[sizeof(struct dp_dpdk_worker_stats) / 8];
	struct dp_flow_stats fst[MIX_FLOWS];
};

static struct rte_mbuf *rtp_ssrc_pkt(const char *src, const char *dst, uint8_t ssrc_lsb,
				     bool no_udp_csum, uint16_t pad)
{
	uint8_t pl[sizeof(rtp)];
	struct pkt_spec s = { .src_mac = gw_mac,
			      .src = mksa(src),
			      .dst = mksa(dst),
			      .payload = pl,
			      .len = sizeof(pl) };
	struct rte_mbuf *m;

	memcpy(pl, rtp, sizeof(pl));
	pl[11] ^= ssrc_lsb;
	m = udp_pkt(&s);
	if (no_udp_csum)
		rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 34)->dgram_cksum = 0;
	if (pad)
		memset(rte_pktmbuf_append(m, pad), 0xee, pad); /* Ethernet padding */
	return m;
}

/* Two flows of one side linked both ways (the template keeps the tagging), @p lp and @p lp + 2. */
static void pair(const char *ip, unsigned int lp, const char *far_a, const char *far_b,
		 dp_flow_t *a, dp_flow_t *b)
{
	char la[64], lb[64];

	snprintf(la, sizeof(la), "%s:%u", ip, lp);
	snprintf(lb, sizeof(lb), "%s:%u", ip, lp + 2);
	*a = flow(la, far_a, NULL);
	*b = flow(lb, far_b, NULL);
	assert_int_equal(dp_flow_link(dp, *a, *b), 0);
	assert_int_equal(dp_flow_link(dp, *b, *a), 0);
}

static void send_t(struct rte_mbuf *m)
{
	assert_int_equal(run1(m, &m), 't');
	rte_pktmbuf_free(m);
}

/*
 * Calls latched both ways (a <-> b untagged, c <-> e on the core VLAN), a flow d not latched
 * yet that leaves by b, then a burst of the fast case mixed with everything that must leave it:
 * STUN, d's first packets (the second one finds d latched by the first), a stranger, ARP, a new
 * SSRC and the next packet with it, no UDP checksum, Ethernet padding, SIP.
 */
static void mix_run(bool fast_lane, struct mix_out *o)
{
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
					  3,	4,    5,    6,	  7,	8,    9,    10,	  11, 12 };
	static const struct rte_ether_addr asker = { { 0x02, 0, 0, 0, 0, 0x77 } };
	struct pkt_spec st = { .src_mac = gw_mac,
			       .src = mksa(CALLER_IP ":4002"),
			       .dst = mksa(ACCESS_IP ":30000"),
			       .payload = stun,
			       .len = sizeof(stun) };
	struct pkt_spec sip = { .src_mac = gw_mac,
				.src = mksa(CALLER_IP ":5060"),
				.dst = mksa(ACCESS_IP ":5060"),
				.payload = rtp,
				.len = 40 };
	dp_flow_t a, b, c, e, d;
	struct rte_mbuf *pk[MIX_N];
	struct dp_dpdk_burst r;
	struct dp_dpdk_worker_stats before, after;
	uint64_t now = dp_dpdk_now_ms();

	pair(ACCESS_IP, 30000, CALLER_IP ":4002", "203.0.113.11:6000", &a, &b);
	pair(CORE_IP, 40000, CALLEE_IP ":5000", CALLEE_IP ":5002", &c, &e);
	d = flow(ACCESS_IP ":30020", NULL, CALLER_IP);
	assert_int_equal(dp_flow_link(dp, d, b), 0);
	w->fast_lane = fast_lane;
	for (int k = 0; k < 2; k++) { /* latch both ways; the second round builds the templates */
		send_t(rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000"));
		send_t(rtp_pkt(0, &gw_mac, "203.0.113.11:6000", ACCESS_IP ":30002"));
		send_t(rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40000"));
		send_t(rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5002", CORE_IP ":40002"));
	}
	pk[0] = rtp_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30000");
	pk[1] = udp_pkt(&st);
	pk[2] = rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5000", CORE_IP ":40000");
	pk[3] = rtp_pkt(0, &gw_mac, CALLER_IP ":4010", ACCESS_IP ":30020");
	pk[4] = rtp_pkt(0, &gw_mac, CALLER_IP ":4010", ACCESS_IP ":30020");
	pk[5] = rtp_pkt(0, &gw_mac, ATTACK_IP ":7000", ACCESS_IP ":30000");
	pk[6] = arp_pkt(RTE_ARP_OP_REQUEST, &asker, "192.0.2.77", ACCESS_IP);
	pk[7] = rtp_ssrc_pkt(CALLER_IP ":4002", ACCESS_IP ":30000", 0x5a, false, 0);
	pk[8] = rtp_ssrc_pkt(CALLER_IP ":4002", ACCESS_IP ":30000", 0x5a, false, 0);
	pk[9] = rtp_ssrc_pkt(CALLER_IP ":4002", ACCESS_IP ":30000", 0x5a, true, 0);
	pk[10] = rtp_ssrc_pkt("203.0.113.11:6000", ACCESS_IP ":30002", 0, false, 6);
	pk[11] = udp_pkt(&sip);
	pk[12] = rtp_pkt(CORE_VLAN, &callee_mac, CALLEE_IP ":5002", CORE_IP ":40002");
	before = wstats();
	dp_dpdk_process_burst(w, pk, MIX_N, now, &r);
	after = wstats();
	w->fast_lane = true;
	assert_int_equal(r.n_tx + r.n_exc + r.n_drop + r.n_handoff, MIX_N);
	for (int i = 0; i < MIX_N; i++) {
		const struct {
			char c;
			struct rte_mbuf **a;
			uint16_t n;
		} arr[] = { { 't', r.tx, r.n_tx },
			    { 'e', r.exc, r.n_exc },
			    { 'd', r.drop, r.n_drop } };

		o->where[i] = '?';
		for (size_t k = 0; k < 3; k++)
			for (uint16_t j = 0; j < arr[k].n; j++)
				if (arr[k].a[j] == pk[i]) {
					o->where[i] = arr[k].c;
					o->pos[i] = j;
				}
		o->port[i] = pk[i]->port;
		o->len[i] = rte_pktmbuf_data_len(pk[i]);
		assert_true(o->len[i] <= sizeof(o->data[i]));
		memcpy(o->data[i], rte_pktmbuf_mtod(pk[i], void *), o->len[i]);
		rte_pktmbuf_free(pk[i]);
	}
	for (size_t k = 0; k < sizeof(o->wst) / 8; k++)
		o->wst[k] = ((uint64_t *)&after)[k] - ((uint64_t *)&before)[k];
	const dp_flow_t ids[MIX_FLOWS] = { a, b, c, e, d };

	for (int k = 0; k < MIX_FLOWS; k++) {
		assert_int_equal(dp_flow_stats(dp, ids[k], &o->fst[k]), 0);
		/* this run's time, or none */
		assert_true(o->fst[k].last_packet_ms == 0 || o->fst[k].last_packet_ms <= now);
		o->fst[k].last_packet_ms = o->fst[k].last_packet_ms == now;
	}
	flows_cleanup(NULL);
}

static void test_fast_lane_same_as_full(void **state)
{
	static struct mix_out fast, full;

	memset(&fast, 0, sizeof(fast));
	memset(&full, 0, sizeof(full));
	mix_run(true, &fast);
	mix_run(false, &full);
	assert_memory_equal(fast.where, "tttttdtttttet", MIX_N);
	for (int i = 0; i < MIX_N; i++) {
		assert_int_equal(fast.where[i], full.where[i]);
		assert_int_equal(fast.pos[i], full.pos[i]);
		assert_int_equal(fast.port[i], full.port[i]);
		assert_int_equal(fast.len[i], full.len[i]);
		assert_memory_equal(fast.data[i], full.data[i], fast.len[i]);
	}
	for (size_t k = 0; k < sizeof(fast.wst) / 8; k++)
		assert_int_equal(fast.wst[k], full.wst[k]);
	for (int k = 0; k < MIX_FLOWS; k++) {
		struct dp_flow_stats *a = &fast.fst[k], *b = &full.fst[k];

		assert_int_equal(a->packets, b->packets);
		assert_int_equal(a->bytes, b->bytes);
		assert_int_equal(a->errors, b->errors);
		assert_int_equal(a->refused, b->refused);
		assert_int_equal(a->stun_answered, b->stun_answered);
		assert_int_equal(a->stun_refused, b->stun_refused);
		assert_int_equal(a->last_packet_ms, b->last_packet_ms);
		assert_int_equal(a->ssrc, b->ssrc);
		assert_int_equal(sa_isset(&a->latched), sa_isset(&b->latched));
		assert_true(!sa_isset(&a->latched) || sa_equal(&a->latched, &b->latched));
	}
	assert_int_equal(fast.fst[0].ssrc, 0xcafebabe ^ 0x5a);
	assert_int_equal(fast.fst[4].packets, 2); /* d: latched by its first packet */
	assert_int_equal(fast.fst[1].packets, 3);
	assert_int_equal(fast.fst[3].packets, 3);
}

/* ---- the egress port's MTU: fragments ---- */

/* After each of these tests, even a failed one: the interfaces as set up, no fragment left. */
static int mtu_cleanup(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct rte_mbuf *f[DPDK_FRAG_PENDING];

	for (unsigned int i = 0; i < d->n_ifaces; i++) {
		d->ifaces[i].mtu = 1500;
		d->ifaces[i].tx_csum_offload = false;
	}
	rte_pktmbuf_free_bulk(f, dp_dpdk_frag_take(w, f, RTE_DIM(f)));
	return flows_cleanup(state);
}

/* A UDP payload of @p len bytes: an RTP header, then a pattern the reassembly is checked with. */
static uint8_t *big_payload(uint16_t len)
{
	static uint8_t pl[2048];

	memcpy(pl, rtp, 12);
	for (unsigned int i = 12; i < len; i++)
		pl[i] = (uint8_t)(i * 7 + 1);
	return pl;
}

/* An RTP packet of @p l3 bytes of IP (IPv4 with DF set, or IPv6, as @p src is). */
static struct rte_mbuf *big_pkt(uint16_t vlan, const struct rte_ether_addr *mac, const char *src,
				const char *dst, uint16_t l3)
{
	struct pkt_spec s = { .vlan = vlan, .src_mac = *mac, .src = mksa(src), .dst = mksa(dst) };
	uint16_t ip_len = sa_family(&s.src) == AF_INET ? 20 : 40;
	struct rte_mbuf *m;

	s.len = (uint16_t)(l3 - ip_len - sizeof(struct rte_udp_hdr));
	s.payload = big_payload(s.len);
	m = udp_pkt(&s);
	if (sa_family(&s.src) == AF_INET) { /* as a sender doing path MTU discovery sends */
		struct rte_ipv4_hdr *ip = (void *)l3_of(m);

		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return m;
}

/*
 * Runs one packet that must leave in fragments: it lands in drop (spent), nothing else in the
 * burst. @return how many fragments the worker holds for it (taken into @p f).
 */
static unsigned int run_frag(struct rte_mbuf *m, struct rte_mbuf **f, unsigned int max)
{
	struct dp_dpdk_burst r;

	dp_dpdk_process_burst(w, &m, 1, test_now(), &r);
	assert_int_equal(r.n_tx + r.n_exc + r.n_handoff, 0);
	assert_int_equal(r.n_drop, 1);
	assert_ptr_equal(r.drop[0], m);
	rte_pktmbuf_free(m);
	return dp_dpdk_frag_take(w, f, max);
}

/* What a frame's fragments must agree on, and what they add up to. */
struct frags {
	const struct rte_ether_addr *dmac;
	uint16_t vlan;
	uint16_t mtu;
	struct sa src, dst; /* addresses (the ports are checked on the reassembled datagram) */
	uint8_t dgram[2048];
	uint16_t len;
	uint32_t id;	 /* identification, the same in every fragment */
	uint8_t hdr[40]; /* the first fragment's IP header, lengths as for the whole datagram */
};

/*
 * Checks IPv6 fragments @p f (RFC 8200 4.5: a Fragment header after the IPv6 header, offsets in
 * 8-byte units, M on all but the last, one identification) and puts their data together.
 */
static void reassemble6(struct rte_mbuf **f, unsigned int n, struct frags *g)
{
	g->len = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct seen s;
		struct rte_ipv6_hdr *ip;
		struct rte_ipv6_fragment_ext *fh;
		uint16_t plen, fd;

		assert_int_equal(f[i]->nb_segs, 1);
		look(f[i], &s);
		assert_l2(&s, g->dmac, g->vlan);
		ip = (void *)s.l3;
		fh = (void *)(ip + 1);
		plen = rte_be_to_cpu_16(ip->payload_len);
		assert_int_equal(s.l3[0] >> 4, 6);
		assert_int_equal(ip->proto, IPPROTO_FRAGMENT);
		assert_int_equal(ip->hop_limits, 64);
		assert_memory_equal(ip->src_addr, &g->src.u.in6.sin6_addr, 16);
		assert_memory_equal(ip->dst_addr, &g->dst.u.in6.sin6_addr, 16);
		assert_int_equal(rte_pktmbuf_pkt_len(f[i]), s.l3_off + sizeof(*ip) + plen);
		assert_true(sizeof(*ip) + plen <= g->mtu);
		assert_int_equal(fh->next_header, IPPROTO_UDP);
		assert_int_equal(fh->reserved, 0);
		fd = rte_be_to_cpu_16(fh->frag_data);
		assert_int_equal(fd & 0xfff8, g->len); /* the offset, in bytes */
		assert_int_equal(fd & 1, i + 1 < n);   /* M: more fragments */
		assert_int_equal(fd & 6, 0);	       /* reserved */
		if (i == 0)
			g->id = rte_be_to_cpu_32(fh->id);
		assert_int_equal(rte_be_to_cpu_32(fh->id), g->id);
		plen -= sizeof(*fh);
		assert_true(i + 1 == n || plen % 8 == 0);
		assert_true(g->len + plen <= sizeof(g->dgram));
		memcpy(g->dgram + g->len, fh + 1, plen);
		g->len = (uint16_t)(g->len + plen);
		if (i == 0) {
			struct rte_ipv6_hdr *h = (void *)g->hdr;

			memcpy(h, ip, sizeof(*h));
			h->proto = IPPROTO_UDP;
		}
	}
	((struct rte_ipv6_hdr *)g->hdr)->payload_len = rte_cpu_to_be_16(g->len);
}

/*
 * Checks IPv4 fragments @p f (no DF: the relay fragments; offsets in 8-byte units, MF on all but
 * the last, one identification, each header's checksum valid) and puts their data together.
 */
static void reassemble4(struct rte_mbuf **f, unsigned int n, struct frags *g)
{
	g->len = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct seen s;
		struct rte_ipv4_hdr *ip, h;
		uint16_t tot, fo, plen;

		assert_int_equal(f[i]->nb_segs, 1);
		look(f[i], &s);
		assert_l2(&s, g->dmac, g->vlan);
		ip = (void *)s.l3;
		assert_int_equal(ip->version_ihl, 0x45);
		assert_int_equal(ip->next_proto_id, IPPROTO_UDP);
		assert_int_equal(ip->time_to_live, 64);
		assert_int_equal(ip->src_addr, g->src.u.in.sin_addr.s_addr);
		assert_int_equal(ip->dst_addr, g->dst.u.in.sin_addr.s_addr);
		h = *ip;
		h.hdr_checksum = 0;
		assert_int_equal(rte_ipv4_cksum(&h), ip->hdr_checksum);
		tot = rte_be_to_cpu_16(ip->total_length);
		assert_int_equal(rte_pktmbuf_pkt_len(f[i]), s.l3_off + tot);
		assert_true(tot <= g->mtu);
		fo = rte_be_to_cpu_16(ip->fragment_offset);
		assert_int_equal(fo & RTE_IPV4_HDR_DF_FLAG, 0);
		assert_int_equal(!!(fo & RTE_IPV4_HDR_MF_FLAG), i + 1 < n);
		assert_int_equal((fo & RTE_IPV4_HDR_OFFSET_MASK) * 8, g->len);
		if (i == 0)
			g->id = rte_be_to_cpu_16(ip->packet_id);
		assert_int_equal(rte_be_to_cpu_16(ip->packet_id), g->id);
		plen = (uint16_t)(tot - sizeof(*ip));
		assert_true(i + 1 == n || plen % 8 == 0);
		assert_true(g->len + plen <= sizeof(g->dgram));
		memcpy(g->dgram + g->len, ip + 1, plen);
		g->len = (uint16_t)(g->len + plen);
		if (i == 0)
			memcpy(g->hdr, ip, sizeof(*ip));
	}
	struct rte_ipv4_hdr *h = (void *)g->hdr;

	h->total_length = rte_cpu_to_be_16(sizeof(*h) + g->len);
	h->fragment_offset = 0;
}

/*
 * The reassembled datagram is the UDP datagram of @p udp_len bytes sent with @p payload, from
 * @p sport to @p dport, with a valid checksum over the whole of it.
 */
static void assert_dgram(struct frags *g, int family, uint16_t sport, uint16_t dport,
			 uint16_t udp_len)
{
	struct rte_udp_hdr *u = (void *)g->dgram;

	assert_int_equal(g->len, udp_len);
	assert_int_equal(rte_be_to_cpu_16(u->dgram_len), udp_len);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), sport);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), dport);
	assert_memory_equal(u + 1, big_payload((uint16_t)(udp_len - sizeof(*u))),
			    udp_len - sizeof(*u));
	assert_int_not_equal(u->dgram_cksum, 0);
	if (family == AF_INET)
		assert_int_equal(rte_ipv4_udptcp_cksum_verify((void *)g->hdr, u), 0);
	else
		assert_int_equal(rte_ipv6_udptcp_cksum_verify((void *)g->hdr, u), 0);
}

/*
 * A 1500-byte IPv4 packet translated to IPv6 is 1520 bytes: on a 1500-byte port it leaves as two
 * IPv6 fragments (1448 bytes of the datagram, then 32), as the kernel would send the sockets
 * backend's datagram; each datagram gets its own identification. With checksum offload too: the
 * NIC sees fragments, the UDP checksum must be complete before.
 */
static void test_mtu_ipv4_to_ipv6_fragments(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	dp_flow_t a = flow(ACCESS_IP ":30050", "10.0.0.5:4000", CALLER_IP);
	dp_flow_t b = flow("[2001:db8::1]:30052", "[2001:db8::20]:7002", NULL);
	struct dp_dpdk_worker_stats before = wstats(), after;
	static struct frags g;
	struct dp_flow_stats st;
	struct rte_mbuf *f[8];
	uint32_t first_id = 0;

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	for (int i = 0; i < 2; i++) {
		g = (struct frags){ .dmac = &v6peer_mac,
				    .mtu = 1500,
				    .src = mksa("2001:db8::1"),
				    .dst = mksa("2001:db8::20") };
		d->ifaces[0].tx_csum_offload = i == 1;
		assert_int_equal(
		    run_frag(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30050", 1500), f,
			     8),
		    2);
		reassemble6(f, 2, &g);
		assert_int_equal(f[0]->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0);
		assert_int_equal(f[1]->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0);
		assert_int_equal(rte_pktmbuf_pkt_len(f[0]), 14 + 40 + 8 + 1448);
		assert_int_equal(rte_pktmbuf_pkt_len(f[1]), 14 + 40 + 8 + 32);
		assert_dgram(&g, AF_INET6, 30052, 7002, 1480);
		if (i == 0)
			first_id = g.id;
		else
			assert_int_not_equal(g.id, first_id);
		rte_pktmbuf_free_bulk(f, 2);
	}
	d->ifaces[0].tx_csum_offload = false;
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.bytes, 2 * (1500 - 28));
	assert_int_equal(st.errors, 0);
	after = wstats();
	assert_int_equal(after.fragmented - before.fragmented, 2);
	assert_int_equal(after.tx - before.tx, 4);
	assert_int_equal(after.frag_failed, before.frag_failed);

	/* the other way, 1500 bytes of IPv6 are 1480 of IPv4: one packet, as it is */
	struct rte_mbuf *m;
	struct seen s;

	assert_int_equal(
	    run1(big_pkt(0, &v6peer_mac, "[2001:db8::20]:7002", "[2001:db8::1]:30052", 1500), &m),
	    't');
	look(m, &s);
	assert_int_equal(rte_be_to_cpu_16(((struct rte_ipv4_hdr *)s.l3)->total_length), 1480);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1480);
	assert_csums_ok(&s);
	rte_pktmbuf_free(m);
	assert_int_equal(w->n_frag, 0); /* nothing left behind */
}

/*
 * From a jumbo-frame port to a 1500-byte one (VLAN 100), IPv4: fragments without DF (the
 * sender's DF set: we re-originate), offsets and MF as RFC 791 wants, valid header checksums,
 * one identification per datagram, the tag on each.
 */
static void test_mtu_jumbo_to_1500_ipv4_fragments(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	dp_flow_t a = flow(ACCESS_IP ":30054", NULL, CALLER_IP);
	dp_flow_t c = flow(CORE_IP ":40054", CALLEE_IP ":5000", NULL);
	struct dp_dpdk_worker_stats before = wstats(), after;
	static struct frags g;
	struct dp_flow_stats st;
	struct rte_mbuf *f[8];
	uint32_t ids[3];

	(void)state;
	d->ifaces[0].mtu = 9000; /* the access side: jumbo frames */
	assert_int_equal(dp_flow_link(dp, a, c), 0);
	assert_int_equal(dp_flow_link(dp, c, a), 0);
	for (int i = 0; i < 3; i++) {
		g = (struct frags){ .dmac = &callee_mac,
				    .vlan = CORE_VLAN,
				    .mtu = 1500,
				    .src = mksa(CORE_IP),
				    .dst = mksa(CALLEE_IP) };
		assert_int_equal(
		    run_frag(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30054", 1800), f,
			     8),
		    2);
		reassemble4(f, 2, &g);
		assert_int_equal(rte_pktmbuf_pkt_len(f[0]), 18 + 20 + 1480);
		assert_int_equal(rte_pktmbuf_pkt_len(f[1]), 18 + 20 + 300);
		assert_dgram(&g, AF_INET, 40054, 5000, 1780);
		ids[i] = g.id;
		rte_pktmbuf_free_bulk(f, 2);
	}
	assert_int_not_equal(ids[0], ids[1]);
	assert_int_not_equal(ids[1], ids[2]);
	assert_int_not_equal(ids[0], ids[2]);
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.errors, 0);
	after = wstats();
	assert_int_equal(after.fragmented - before.fragmented, 3);
	assert_int_equal(after.tx - before.tx, 6);
}

/*
 * A packet the port takes leaves whole and as it came (DF kept), by the fast lane once the pair
 * has its template copy; one byte more and the fast lane declines, the template of the full way
 * too: fragments. Then the fast lane again.
 */
static void test_mtu_fits_fast_lane(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	dp_flow_t a = flow(ACCESS_IP ":30056", NULL, CALLER_IP);
	dp_flow_t b = flow(ACCESS_IP ":30058", "203.0.113.11:6000", NULL);
	struct dpdk_flow *fa = &d->flows[(a & DPDK_ID_IDX_MASK) - 1];
	static struct frags g;
	struct rte_mbuf *m, *f[8];
	struct seen s;

	(void)state;
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    run1(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30056", 1500), &m),
		    't');
		look(m, &s);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1500);
		assert_int_equal(rte_be_to_cpu_16(((struct rte_ipv4_hdr *)s.l3)->total_length),
				 1500);
		assert_int_equal(((struct rte_ipv4_hdr *)s.l3)->fragment_offset,
				 rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
		assert_int_equal(rte_be_to_cpu_16(s.u->dst_port), 6000);
		assert_memory_equal(s.u + 1, big_payload(1472), 1472);
		assert_csums_ok(&s);
		rte_pktmbuf_free(m);
	}
	/* the fast lane took the last one: only it computes the checksum sums of its copy */
	assert_true(copy_valid(a));
	assert_int_not_equal(fa->sums.serial, 0);
	assert_int_equal(fa->sums.serial, fa->copy.serial);
	assert_int_equal(fa->copy.l3_max, 1500);
	assert_int_equal(w->n_frag, 0);

	g = (struct frags){
		.dmac = &gw_mac, .mtu = 1500, .src = mksa(ACCESS_IP), .dst = mksa("203.0.113.11")
	};
	assert_int_equal(
	    run_frag(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30056", 1501), f, 8), 2);
	reassemble4(f, 2, &g);
	assert_int_equal(rte_pktmbuf_pkt_len(f[1]), 14 + 20 + 1);
	assert_dgram(&g, AF_INET, 30058, 6000, 1481);
	rte_pktmbuf_free_bulk(f, 2);

	for (int i = 0; i < 2; i++) { /* the copy is made again, then used */
		assert_int_equal(
		    run1(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30056", 1500), &m),
		    't');
		assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 1500);
		rte_pktmbuf_free(m);
	}
	assert_true(copy_valid(a));
	assert_int_equal(fa->sums.serial, fa->copy.serial);
}

/*
 * The counters: a packet whose fragments get no mbufs (a pool with one to spare: IPv4 -> IPv6
 * needs four) is dropped, counted (frag_failed, the flow's errors) and leaves nothing behind; so
 * is one for which the worker has no room left (its fragments not yet sent).
 */
static void test_mtu_frag_counters(void **state)
{
	dp_flow_t a = flow(ACCESS_IP ":30060", "10.0.0.5:4000", CALLER_IP);
	dp_flow_t b = flow("[2001:db8::1]:30062", "[2001:db8::20]:7002", NULL);
	struct rte_mempool *tiny =
	    rte_pktmbuf_pool_create("mtu_tiny", 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	struct rte_mempool *saved = pool;
	struct dp_dpdk_worker_stats before = wstats(), after;
	struct dp_flow_stats st;
	struct rte_mbuf *m, *f[DPDK_FRAG_PENDING];
	unsigned int n;

	(void)state;
	assert_non_null(tiny);
	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	pool = tiny; /* the fragments come from the packet's pool */
	m = big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30060", 1500);
	pool = saved;
	assert_int_equal(run1(m, &m), 'd');
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(tiny), 2);
	rte_mempool_free(tiny);
	after = wstats();
	assert_int_equal(after.frag_failed - before.frag_failed, 1);
	assert_int_equal(after.fragmented, before.fragmented);
	assert_int_equal(after.tx, before.tx);
	assert_int_equal(w->n_frag, 0);
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 0);
	assert_int_equal(st.errors, 1);

	/* a burst's worth of packets, two fragments each, fills the worker's room; one more */
	before = after;
	for (int i = 0; i < DPDK_FRAG_PENDING / 2; i++) {
		assert_int_equal(
		    run1(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30060", 1500), &m),
		    'd');
		rte_pktmbuf_free(m);
	}
	assert_int_equal(w->n_frag, DPDK_FRAG_PENDING);
	assert_int_equal(run1(big_pkt(0, &gw_mac, CALLER_IP ":4002", ACCESS_IP ":30060", 1500), &m),
			 'd');
	rte_pktmbuf_free(m);
	after = wstats();
	assert_int_equal(after.fragmented - before.fragmented, DPDK_FRAG_PENDING / 2);
	assert_int_equal(after.frag_failed - before.frag_failed, 1);
	assert_int_equal(after.tx - before.tx, DPDK_FRAG_PENDING);
	n = dp_dpdk_frag_take(w, f, RTE_DIM(f));
	assert_int_equal(n, DPDK_FRAG_PENDING);
	rte_pktmbuf_free_bulk(f, n);
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, DPDK_FRAG_PENDING / 2);
	assert_int_equal(st.errors, 2);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rtp_both_ways, flows_cleanup),
		cmocka_unit_test_teardown(test_rtcp_without_marker_keeps_ssrc, flows_cleanup),
		cmocka_unit_test_teardown(test_latch_refuses_stranger, flows_cleanup),
		cmocka_unit_test_teardown(test_ipv6, flows_cleanup),
		cmocka_unit_test_teardown(test_ipv4_ipv6_link, flows_cleanup),
		cmocka_unit_test_teardown(test_xlat_checksums, flows_cleanup),
		cmocka_unit_test_teardown(test_link_to_deleted_flow, flows_cleanup),
		cmocka_unit_test_teardown(test_malformed, flows_cleanup),
		cmocka_unit_test_teardown(test_garbage, flows_cleanup),
		cmocka_unit_test_teardown(test_stun_binding, flows_cleanup),
		cmocka_unit_test_teardown(test_stun_ice, flows_cleanup),
		cmocka_unit_test_teardown(test_arp_answered, flows_cleanup),
		cmocka_unit_test_teardown(test_arp_resolve, flows_cleanup),
		cmocka_unit_test_teardown(test_icmp_echo, flows_cleanup),
		cmocka_unit_test_teardown(test_ndp_answered, flows_cleanup),
		cmocka_unit_test_teardown(test_ndp_resolve, flows_cleanup),
		cmocka_unit_test_teardown(test_sip_is_exception, flows_cleanup),
		cmocka_unit_test_teardown(test_del_rcu_readd, flows_cleanup),
		cmocka_unit_test_teardown(test_flow_update, flows_cleanup),
		cmocka_unit_test_teardown(test_tx_offload, flows_cleanup),
		cmocka_unit_test_teardown(test_tx_template, flows_cleanup),
		cmocka_unit_test_teardown(test_tx_copy_invalidated, flows_cleanup),
		cmocka_unit_test_teardown(test_link_rules_and_hold, flows_cleanup),
		cmocka_unit_test_teardown(test_churn_while_forwarding, flows_cleanup),
		cmocka_unit_test_teardown(test_two_workers, flows_cleanup),
		cmocka_unit_test_teardown(test_port_range, flows_cleanup),
		cmocka_unit_test_teardown(test_fast_lane_same_as_full, flows_cleanup),
		cmocka_unit_test_teardown(test_tmpl_serial_wrap, flows_cleanup),
		cmocka_unit_test_teardown(test_mtu_ipv4_to_ipv6_fragments, mtu_cleanup),
		cmocka_unit_test_teardown(test_mtu_jumbo_to_1500_ipv4_fragments, mtu_cleanup),
		cmocka_unit_test_teardown(test_mtu_fits_fast_lane, mtu_cleanup),
		cmocka_unit_test_teardown(test_mtu_frag_counters, mtu_cleanup),
		/* last: they move the worker's clock forward */
		cmocka_unit_test_teardown(test_neigh_refresh, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_one_asker, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_idle_kept, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_crowded, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_removal, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_table_full, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_size_configured, flows_cleanup),
		cmocka_unit_test_teardown(test_neigh_probe_bound, flows_cleanup),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, setup, teardown);
}
