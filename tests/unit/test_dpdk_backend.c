/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The started DPDK backend: a worker on lcore 1 polls a ring-backed port (rte_eth_from_rings)
 * while this thread, the control thread, programs flows, feeds the RX ring, reads the TX ring
 * and the exception queue. Bounded: every wait gives up after a second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define RELAY_IP  "192.0.2.1"
#define CALLER_IP "203.0.113.10"
#define CALLEE_IP "203.0.113.20"

static struct dataplane *dp;
static struct rte_ring *rx, *tx;
static struct rte_mempool *pool;
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };
static uint16_t port;

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

static uint8_t *frame(struct rte_mbuf *m, uint16_t type, uint16_t l3)
{
	struct rte_ether_hdr *eh = (void *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + l3));

	assert_non_null(eh);
	eh->dst_addr = port_mac;
	eh->src_addr = gw_mac;
	eh->ether_type = rte_cpu_to_be_16(type);
	return (uint8_t *)(eh + 1);
}

static struct rte_mbuf *udp4(const char *src, const char *dst, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct sa a = mksa(src), b = mksa(dst);
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	ip = (void *)frame(m, RTE_ETHER_TYPE_IPV4, (uint16_t)(sizeof(*ip) + sizeof(*u) + len));
	memset(ip, 0, sizeof(*ip) + sizeof(*u) + len);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*u) + len);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = a.u.in.sin_addr.s_addr;
	ip->dst_addr = b.u.in.sin_addr.s_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (void *)(ip + 1);
	u->src_port = a.u.in.sin_port;
	u->dst_port = b.u.in.sin_port;
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + len);
	((uint8_t *)(u + 1))[0] = 0x80; /* RTP version 2 */
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static struct rte_mbuf *arp_request(const char *sip, const char *tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_arp_hdr *ah;

	assert_non_null(m);
	ah = (void *)frame(m, RTE_ETHER_TYPE_ARP, sizeof(*ah));
	memset(ah, 0, sizeof(*ah));
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = gw_mac;
	ah->arp_data.arp_sip = mksa(sip).u.in.sin_addr.s_addr;
	ah->arp_data.arp_tip = mksa(tip).u.in.sin_addr.s_addr;
	return m;
}

static void inject(struct rte_mbuf *m)
{
	m->port = port;
	assert_int_equal(rte_ring_enqueue(rx, m), 0);
}

/* The next frame the worker sent, or NULL after a second. */
static struct rte_mbuf *sent(void)
{
	struct timespec pause = { 0, 1000000 };
	void *m;

	for (int i = 0; i < 1000; i++) {
		if (rte_ring_dequeue(tx, &m) == 0)
			return m;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static struct rte_mbuf *excepted(void)
{
	struct timespec pause = { 0, 1000000 };
	struct rte_mbuf *m;

	for (int i = 0; i < 1000; i++) {
		if (dp_dpdk_exception_dequeue(dp, 0, &m, 1) == 1)
			return m;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static dp_flow_t flow(const char *local, const char *expected)
{
	struct dp_flow_params p;
	dp_flow_t f = 0;

	memset(&p, 0, sizeof(p));
	p.local = mksa(local);
	p.latch.expected = mksa(expected);
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_add(dp, &p, &f), 0);
	return f;
}

static void test_forward_through_lcore(void **state)
{
	dp_flow_t a = flow(RELAY_IP ":30000", CALLER_IP ":4000");
	dp_flow_t b = flow(RELAY_IP ":30002", CALLEE_IP ":4000");
	struct dp_flow_stats st;
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);

	/* the gateway asks for the relay address: answered, and its MAC is learned */
	inject(arp_request("192.0.2.254", RELAY_IP));
	m = sent();
	assert_non_null(m);
	assert_int_equal(
	    rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14)->arp_opcode),
	    RTE_ARP_OP_REPLY);
	rte_pktmbuf_free(m);

	inject(udp4(CALLER_IP ":4000", RELAY_IP ":30000", 160));
	m = sent();
	assert_non_null(m);
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &gw_mac, 6);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	u = (void *)(ip + 1);
	assert_int_equal(ip->dst_addr, mksa(CALLEE_IP).u.in.sin_addr.s_addr);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), 30002);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 4000);
	rte_pktmbuf_free(m);
	assert_int_equal(dp_flow_stats(dp, a, &st), 0);
	assert_int_equal(st.packets, 1);

	/* SIP to the relay address: for the kernel */
	inject(udp4(CALLER_IP ":5060", RELAY_IP ":5060", 100));
	m = excepted();
	assert_non_null(m);
	rte_pktmbuf_free(m);

	/* delete while the worker polls: the port is gone at once, then SIP-like */
	assert_int_equal(dp_flow_link(dp, b, 0), 0);
	assert_int_equal(dp_flow_del(dp, a), 0);
	assert_int_equal(dp_flow_del(dp, b), 0);
	inject(udp4(CALLER_IP ":4000", RELAY_IP ":30000", 160));
	m = excepted();
	assert_non_null(m);
	rte_pktmbuf_free(m);
}

/*
 * A datagram longer than the port's MTU (1500, as configured) leaves in fragments through the
 * worker loop: right after the burst's own packets, out of the same port.
 */
static void test_fragments_through_lcore(void **state)
{
	dp_flow_t a = flow(RELAY_IP ":30010", CALLER_IP ":4000");
	dp_flow_t b = flow(RELAY_IP ":30012", CALLEE_IP ":4000");
	struct dp_dpdk_worker_stats st;
	struct rte_mbuf *m[2];
	uint16_t want[2][2] = { { 1500, RTE_IPV4_HDR_MF_FLAG }, { 20 + 100, 1480 / 8 } };

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	inject(arp_request("192.0.2.254", RELAY_IP)); /* the gateway's MAC */
	m[0] = sent();
	assert_non_null(m[0]);
	rte_pktmbuf_free(m[0]);

	inject(udp4(CALLER_IP ":4000", RELAY_IP ":30010", 1600 - 28));
	for (int i = 0; i < 2; i++) {
		struct rte_ipv4_hdr *ip;

		m[i] = sent();
		assert_non_null(m[i]);
		assert_memory_equal(&rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *)->dst_addr,
				    &gw_mac, 6);
		ip = rte_pktmbuf_mtod_offset(m[i], struct rte_ipv4_hdr *, 14);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), want[i][0]);
		assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), want[i][1]);
		assert_int_equal(ip->dst_addr, mksa(CALLEE_IP).u.in.sin_addr.s_addr);
		assert_int_equal(rte_pktmbuf_pkt_len(m[i]), 14 + want[i][0]);
	}
	assert_int_equal(rte_pktmbuf_mtod_offset(m[0], struct rte_ipv4_hdr *, 14)->packet_id,
			 rte_pktmbuf_mtod_offset(m[1], struct rte_ipv4_hdr *, 14)->packet_id);
	rte_pktmbuf_free_bulk(m, 2);
	dp_dpdk_worker_stats(dp_dpdk_worker_get(dp, 0), &st);
	assert_int_equal(st.fragmented, 1);
	assert_int_equal(st.frag_failed, 0);
	assert_int_equal(dp_flow_link(dp, a, 0), 0);
	assert_int_equal(dp_flow_link(dp, b, 0), 0);
	assert_int_equal(dp_flow_del(dp, a), 0);
	assert_int_equal(dp_flow_del(dp, b), 0);
}

static int setup(void **state)
{
	static const char *const argv[] = { "test_dpdk_backend",
					    "--no-huge",
					    "--no-shconf",
					    "--no-pci",
					    "-m",
					    "256",
					    "-l",
					    "0-1",
					    "--log-level=*:error" };
	char *args[sizeof(argv) / sizeof(argv[0])];
	struct dp_dpdk_conf c;
	int p;

	memcpy(args, argv, sizeof(args));
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return -1;
	rx = rte_ring_create("test_rx", 1024, SOCKET_ID_ANY, 0);
	tx = rte_ring_create("test_tx", 1024, SOCKET_ID_ANY, 0);
	pool = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!rx || !tx || !pool)
		return -1;
	p = rte_eth_from_rings("dpt0", &rx, 1, &tx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	rte_eth_macaddr_get(port, &port_mac);

	memset(&c, 0, sizeof(c));
	c.eal_argv = argv;
	c.eal_argc = (int)(sizeof(argv) / sizeof(argv[0]));
	c.n_ifaces = 1;
	c.ifaces[0].port_id = port;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(RELAY_IP), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	c.ifaces[0].gateway4 = mksa("192.0.2.254");
	c.n_workers = 1;
	c.start = true;
	return dp_dpdk_alloc(&dp, &c) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	dataplane_free(dp); /* stops the worker and the port */
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_through_lcore),
		cmocka_unit_test(test_fragments_through_lcore),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
