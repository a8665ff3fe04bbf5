/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RTCP multiplexed on one side only (RFC 5761) through the DPDK backend, on packets built in
 * memory (one worker driven by hand, a net_ring port for the MAC, no huge pages): the same
 * semantics as the sockets backend's test_rtcp_mux_demux (test_dp_sockets.c).
 *
 * A multiplexes RTCP on its RTP port (flow fa); B sends and receives RTCP apart (flows fb, fbc).
 * fa's RTCP link is fbc: A's RTCP leaves from fbc's port to B's RTCP port, A's RTP from fb's
 * port; B's RTCP reaches A's one port through the plain link fbc -> fa.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"
#include "dataplane/dpdk/dpdk_priv.h" /* the fast lane's settings word */

#define RELAY  "192.0.2.1"
#define A_RTP  "192.0.2.10:4000"
#define B_RTP  "192.0.2.20:5000"
#define B_RTCP "192.0.2.20:5001"
#define FA     RELAY ":30000"
#define FB     RELAY ":30002"
#define FBC    RELAY ":30003"

static struct dataplane *dp;
static struct dp_dpdk_worker *w;
static struct rte_mempool *pool;
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr a_mac = { { 0x02, 0, 0, 0, 0, 0x10 } };
static const struct rte_ether_addr b_mac = { { 0x02, 0, 0, 0, 0, 0x20 } };

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

/* RTP: PT 0, SSRC 0xcafebabe (+ @p ssrc_lsb). RTCP: a receiver report (PT 201), or @p pt. */
static uint16_t rtp_payload(uint8_t *pl, uint8_t ssrc_lsb)
{
	static const uint8_t rtp[172] = { 0x80, 0x00, 0x12, 0x34, 0,	0,    0,   160,
					  0xca, 0xfe, 0xba, 0xbe, 0x55, 0x55, 0x55 };

	memcpy(pl, rtp, sizeof(rtp));
	pl[11] ^= ssrc_lsb;
	return sizeof(rtp);
}

static uint16_t rtcp_payload(uint8_t *pl, uint8_t pt)
{
	static const uint8_t rr[8] = { 0x80, 201, 0, 1, 0xca, 0xfe, 0xba, 0xbe };

	memcpy(pl, rr, sizeof(rr));
	pl[1] = pt;
	return sizeof(rr);
}

static struct rte_mbuf *udp4(const struct rte_ether_addr *smac, const char *src, const char *dst,
			     const uint8_t *pl, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct sa s = mksa(src), d = mksa(dst);
	size_t l3 = sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + len;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	eh = (void *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + l3));
	assert_non_null(eh);
	m->port = 0;
	eh->dst_addr = port_mac;
	eh->src_addr = *smac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (void *)(eh + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)l3);
	ip->time_to_live = 57;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = s.u.in.sin_addr.s_addr;
	ip->dst_addr = d.u.in.sin_addr.s_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (void *)(ip + 1);
	u->src_port = s.u.in.sin_port;
	u->dst_port = d.u.in.sin_port;
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + len));
	memcpy(u + 1, pl, len);
	u->dgram_cksum = 0;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static struct rte_mbuf *rtp_pkt(const struct rte_ether_addr *smac, const char *src, const char *dst)
{
	uint8_t pl[256];

	return udp4(smac, src, dst, pl, rtp_payload(pl, 0));
}

static struct rte_mbuf *rtcp_pkt(const struct rte_ether_addr *smac, const char *src,
				 const char *dst, uint8_t pt)
{
	uint8_t pl[16];

	return udp4(smac, src, dst, pl, rtcp_payload(pl, pt));
}

/*
 * Checks that @p m leaves from @p src to @p dst (MAC @p dmac) with its payload's second byte
 * @p b1 and both checksums right.
 */
static void assert_out(struct rte_mbuf *m, const struct rte_ether_addr *dmac, const char *src,
		       const char *dst, uint8_t b1)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (void *)(eh + 1);
	struct rte_udp_hdr *u = (void *)(ip + 1);
	struct sa s = mksa(src), d = mksa(dst);
	uint16_t ck = ip->hdr_checksum, uck = u->dgram_cksum;

	assert_memory_equal(&eh->dst_addr, dmac, 6);
	assert_memory_equal(&eh->src_addr, &port_mac, 6);
	assert_int_equal(ip->src_addr, s.u.in.sin_addr.s_addr);
	assert_int_equal(ip->dst_addr, d.u.in.sin_addr.s_addr);
	assert_int_equal(u->src_port, s.u.in.sin_port);
	assert_int_equal(u->dst_port, d.u.in.sin_port);
	assert_int_equal(((uint8_t *)(u + 1))[1], b1);
	ip->hdr_checksum = 0;
	assert_int_equal(rte_ipv4_cksum(ip), ck);
	ip->hdr_checksum = ck;
	u->dgram_cksum = 0;
	assert_int_equal(rte_ipv4_udptcp_cksum(ip, u), uck);
	u->dgram_cksum = uck;
}

/* One packet through the worker: it must be sent, from @p src to @p dst. */
static void expect_tx(struct rte_mbuf *m, const struct rte_ether_addr *dmac, const char *src,
		      const char *dst, uint8_t b1)
{
	struct dp_dpdk_burst r;

	dp_dpdk_process_burst(w, &m, 1, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_tx, 1);
	assert_out(r.tx[0], dmac, src, dst, b1);
	rte_pktmbuf_free(r.tx[0]);
}

static void expect_drop(struct rte_mbuf *m)
{
	struct dp_dpdk_burst r;

	dp_dpdk_process_burst(w, &m, 1, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_drop, 1);
	rte_pktmbuf_free(r.drop[0]);
}

/* ---- the call ---- */

struct call {
	dp_flow_t fa, fb, fbc;
};

/* every flow a test made: a failing test must not leave its ports taken for the next one */
static dp_flow_t made[8];
static unsigned int n_made;

static dp_flow_t flow(const char *local, const char *expected, uint32_t group, bool is_rtcp)
{
	struct dp_flow_params p;
	dp_flow_t f = 0;

	memset(&p, 0, sizeof(p));
	p.local = mksa(local);
	p.latch.expected = mksa(expected);
	p.latch.window_ms = 10000;
	p.group = group;
	p.is_rtcp = is_rtcp;
	assert_int_equal(dp_flow_add(dp, &p, &f), 0);
	if (n_made < sizeof(made) / sizeof(made[0]))
		made[n_made++] = f;
	return f;
}

static struct call call_new(void)
{
	struct call c = { flow(FA, A_RTP, 1, false), flow(FB, B_RTP, 1, false),
			  flow(FBC, B_RTCP, 1, true) };

	assert_int_equal(dp_flow_link(dp, c.fa, c.fb), 0);
	assert_int_equal(dp_flow_link(dp, c.fb, c.fa), 0);
	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, c.fbc), 0);
	assert_int_equal(dp_flow_link(dp, c.fbc, c.fa), 0);
	return c;
}

static int flows_cleanup(void **state)
{
	struct dp_dpdk_burst r;

	(void)state;
	for (unsigned int i = 0; i < n_made; i++) {
		dp_flow_link(dp, made[i], 0); /* -ENOENT for those the test deleted */
		dp_flow_link_rtcp(dp, made[i], 0);
	}
	for (unsigned int i = 0; i < n_made; i++)
		dp_flow_del(dp, made[i]);
	n_made = 0;
	/* the worker passes by, as a running one would: the next test binds the same ports
	 * without waiting for a grace period (flow_table.c) */
	dp_dpdk_process_burst(w, NULL, 0, dp_dpdk_now_ms(), &r);
	return 0;
}

/* RTP from A, twice: latched, SSRC noted, fb's tx template built (the fast lane's case). */
static void a_rtp_warm(void)
{
	for (int i = 0; i < 2; i++)
		expect_tx(rtp_pkt(&a_mac, A_RTP, FA), &b_mac, FB, B_RTP, 0);
}

/* ---- tests ---- */

static void test_demux_both_ways(void **state)
{
	struct call c = call_new();
	struct dp_flow_stats st;

	(void)state;
	assert_true(dp_can_link_rtcp(dp));
	a_rtp_warm();
	/* A's RTCP, also after fbc's template exists: to B's RTCP port, from fbc's */
	for (int i = 0; i < 2; i++)
		expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FBC, B_RTCP, 201);
	/* every RTCP type of RFC 5761's range, with or without the bit RTP calls the marker */
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 200), &b_mac, FBC, B_RTCP, 200);
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 223), &b_mac, FBC, B_RTCP, 223);
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 72), &b_mac, FBC, B_RTCP, 72);
	/* RTP keeps its way (payload types next to the range included) */
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 224), &b_mac, FB, B_RTP, 224);
	expect_tx(rtp_pkt(&a_mac, A_RTP, FA), &b_mac, FB, B_RTP, 0);
	/* B's RTCP from its own port and B's RTP reach A's one port, from A's relay port */
	expect_tx(rtcp_pkt(&b_mac, B_RTCP, FBC, 201), &a_mac, FA, A_RTP, 201);
	expect_tx(rtp_pkt(&b_mac, B_RTP, FB), &a_mac, FA, A_RTP, 0);

	/* muxed RTCP counts on the flow it arrived on, like RTP, and is no SSRC evidence */
	assert_int_equal(dp_flow_stats(dp, c.fa, &st), 0);
	assert_int_equal(st.packets, 9);
	assert_int_equal(st.bytes, 3 * 172 + 6 * 8);
	assert_int_equal(st.ssrc, 0xcafebabe);
	assert_int_equal(st.errors, 0);
	assert_int_equal(dp_flow_stats(dp, c.fbc, &st), 0);
	assert_int_equal(st.packets, 1);
	assert_int_equal(dp_flow_stats(dp, c.fb, &st), 0);
	assert_int_equal(st.packets, 1);
}

/* In one burst, RTP and RTCP of the mux side, each the way it must go, in order. */
static void test_demux_in_a_burst(void **state)
{
	struct rte_mbuf *pk[6];
	struct dp_dpdk_burst r;

	(void)state;
	call_new();
	a_rtp_warm();
	for (int i = 0; i < 6; i++)
		pk[i] = i % 2 ? rtcp_pkt(&a_mac, A_RTP, FA, 201) : rtp_pkt(&a_mac, A_RTP, FA);
	dp_dpdk_process_burst(w, pk, 6, dp_dpdk_now_ms(), &r);
	assert_int_equal(r.n_tx, 6);
	for (int i = 0; i < 6; i++) {
		assert_ptr_equal(r.tx[i], pk[i]);
		if (i % 2)
			assert_out(pk[i], &b_mac, FBC, B_RTCP, 201);
		else
			assert_out(pk[i], &b_mac, FB, B_RTP, 0);
	}
	rte_pktmbuf_free_bulk(r.tx, r.n_tx);
}

/*
 * Unlinked, muxed RTCP goes with the RTP again and the fast lane takes the flow back; so it does
 * once the RTCP flow is deleted. On hold (no link), the RTCP link still carries RTCP.
 */
static void test_unlink_gone_hold(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct call c = call_new();
	struct dpdk_flow *fa = &d->flows[(c.fa & DPDK_ID_IDX_MASK) - 1];

	(void)state;
	a_rtp_warm();
	assert_true(atomic_load(&fa->cfg_gen) & DPDK_CFG_DEMUX); /* the fast lane declines */
	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, 0), 0);
	assert_int_equal(atomic_load(&fa->cfg_gen), fa->seen_gen); /* ... and takes it back */
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FB, B_RTP, 201);

	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, c.fbc), 0);
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FBC, B_RTCP, 201);
	assert_int_equal(dp_flow_link(dp, c.fa, 0), 0); /* hold: RTP accepted, not sent */
	expect_drop(rtp_pkt(&a_mac, A_RTP, FA));
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FBC, B_RTCP, 201);
	assert_int_equal(dp_flow_link(dp, c.fa, c.fb), 0);

	assert_int_equal(dp_flow_link(dp, c.fbc, 0), 0);
	assert_int_equal(dp_flow_del(dp, c.fbc), 0);
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FB, B_RTP, 201);
}

/* New signalling keeps the RTCP link; the link is no new signalling (the latch stays). */
static void test_update_keeps_link(void **state)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct call c = call_new();
	struct dpdk_flow *fa = &d->flows[(c.fa & DPDK_ID_IDX_MASK) - 1];
	struct dp_flow_params p;
	uint32_t seen;

	(void)state;
	a_rtp_warm();
	seen = fa->seen_gen;
	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, c.fbc), 0); /* again: same link */
	expect_tx(rtp_pkt(&a_mac, A_RTP, FA), &b_mac, FB, B_RTP, 0);
	assert_int_equal(fa->seen_gen, seen);

	memset(&p, 0, sizeof(p));
	p.local = mksa(FA);
	p.latch.expected = mksa(A_RTP);
	p.latch.window_ms = 10000;
	p.group = 1;
	assert_int_equal(dp_flow_update(dp, c.fa, &p), 0);
	expect_tx(rtcp_pkt(&a_mac, A_RTP, FA, 201), &b_mac, FBC, B_RTCP, 201);
	assert_int_equal(fa->seen_gen, seen + 1);
	assert_true(atomic_load(&fa->cfg_gen) & DPDK_CFG_DEMUX);
	expect_tx(rtp_pkt(&a_mac, A_RTP, FA), &b_mac, FB, B_RTP, 0);
}

static void test_link_rules(void **state)
{
	struct call c = call_new();
	dp_flow_t other = flow(RELAY ":30010", B_RTCP, 2, true);

	(void)state;
	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, other), -EXDEV);
	assert_int_equal(dp_flow_link_rtcp(dp, c.fa, 12345), -ENOENT);
	assert_int_equal(dp_flow_link_rtcp(dp, 12345, c.fbc), -ENOENT);
	assert_int_equal(dp_flow_del(dp, other), 0);
}

/* ---- setup ---- */

static int setup(void **state)
{
	static const char *const argv[] = { "test_dpdk_rtcp_mux", "--no-huge", "--no-shconf",
					    "--no-pci",		  "-m",	       "256",
					    "--vdev=net_ring0",	  "-l",	       "0",
					    "--log-level=*:error" };
	struct dp_dpdk_conf c;
	struct sa a = mksa("192.0.2.10"), b = mksa("192.0.2.20");

	(void)state;
	memset(&c, 0, sizeof(c));
	c.eal_argv = argv;
	c.eal_argc = (int)(sizeof(argv) / sizeof(argv[0]));
	c.n_ifaces = 1;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(RELAY), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	if (dp_dpdk_alloc(&dp, &c) != 0)
		return -1;
	w = dp_dpdk_worker_get(dp, 0);
	pool = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!w || !pool || rte_eth_macaddr_get(0, &port_mac) != 0)
		return -1;
	dp_dpdk_neigh_add(w, &a, &a_mac);
	dp_dpdk_neigh_add(w, &b, &b_mac);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dataplane_free(dp);
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_demux_both_ways, flows_cleanup),
		cmocka_unit_test_teardown(test_demux_in_a_burst, flows_cleanup),
		cmocka_unit_test_teardown(test_unlink_gone_hold, flows_cleanup),
		cmocka_unit_test_teardown(test_update_keeps_link, flows_cleanup),
		cmocka_unit_test_teardown(test_link_rules, flows_cleanup),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, setup, teardown);
}
