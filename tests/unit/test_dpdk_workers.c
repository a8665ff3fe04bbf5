/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Two workers on one port, driven by hand (dp_dpdk_worker_poll() on this thread): a ring port
 * with an RX and a TX ring per worker, started by the test. What one worker learns about a
 * neighbour the other uses: the answer to worker 0's ARP request reaches worker 1 (RSS and
 * fanout put ARP where they like), and a neighbour that asked worker 1 for the relay address
 * is known to worker 0 too, so media of the flows worker 0 owns goes out (neigh.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define RELAY_IP "192.0.2.1"
#define CALLER	 "192.0.2.10"
#define CALLEE	 "192.0.2.20"
#define ASKER	 "192.0.2.30"

static struct dataplane *dp;
static struct dp_dpdk_worker *w[2];
static struct rte_mempool *pool;
static struct rte_ring *rx[2], *tx[2];
static uint16_t port;
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr caller_mac = { { 0x02, 0, 0, 0, 0, 0x10 } };
static const struct rte_ether_addr callee_mac = { { 0x02, 0, 0, 0, 0, 0x20 } };
static const struct rte_ether_addr asker_mac = { { 0x02, 0, 0, 0, 0, 0x30 } };

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

static uint8_t *frame(struct rte_mbuf *m, const struct rte_ether_addr *src, uint16_t type,
		      uint16_t l3)
{
	uint16_t len = (uint16_t)(sizeof(struct rte_ether_hdr) + l3);
	struct rte_ether_hdr *eh;

	/* through mtod: gcc -O3 sees the appended area as 0 bytes (-Warray-bounds) */
	assert_non_null(rte_pktmbuf_append(m, len));
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memset(eh, 0, len);
	eh->dst_addr = port_mac;
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(type);
	return (uint8_t *)(eh + 1);
}

static struct rte_mbuf *rtp(const char *src, const char *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct sa a = mksa(src), b = mksa(dst);
	uint16_t len = sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + 160;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	ip = (void *)frame(m, &caller_mac, RTE_ETHER_TYPE_IPV4, len);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = a.u.in.sin_addr.s_addr;
	ip->dst_addr = b.u.in.sin_addr.s_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (void *)(ip + 1);
	u->src_port = a.u.in.sin_port;
	u->dst_port = b.u.in.sin_port;
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + 160);
	((uint8_t *)(u + 1))[0] = 0x80; /* RTP version 2 */
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static struct rte_mbuf *arp(uint16_t op, const struct rte_ether_addr *sha, const char *sip,
			    const char *tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_arp_hdr *ah;

	assert_non_null(m);
	ah = (void *)frame(m, sha, RTE_ETHER_TYPE_ARP, sizeof(*ah));
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = mksa(sip).u.in.sin_addr.s_addr;
	if (op == RTE_ARP_OP_REPLY)
		ah->arp_data.arp_tha = port_mac;
	ah->arp_data.arp_tip = mksa(tip).u.in.sin_addr.s_addr;
	return m;
}

/* Frame @p m arrives at worker @p i's RX queue; both workers run one round, @p i first. */
static void arrive(unsigned int i, struct rte_mbuf *m)
{
	m->port = port;
	assert_int_equal(rte_ring_enqueue(rx[i], m), 0);
	dp_dpdk_worker_poll(w[i], dp_dpdk_now_ms());
	dp_dpdk_worker_poll(w[1 - i], dp_dpdk_now_ms());
}

/* What worker @p i sent (its TX queue), or NULL. */
static struct rte_mbuf *sent(unsigned int i)
{
	void *m = NULL;

	return rte_ring_dequeue(tx[i], &m) == 0 ? m : NULL;
}

static uint16_t arp_op(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	assert_int_equal(rte_be_to_cpu_16(eh->ether_type), RTE_ETHER_TYPE_ARP);
	return rte_be_to_cpu_16(((const struct rte_arp_hdr *)(eh + 1))->arp_opcode);
}

/* A flow of group 0 (worker 0's) on the relay's @p local_port, signalled at @p peer:4000. */
static dp_flow_t flow(int local_port, const char *peer)
{
	struct dp_flow_params p;
	char local[32], exp[32];
	dp_flow_t f = 0;

	snprintf(local, sizeof(local), RELAY_IP ":%d", local_port);
	snprintf(exp, sizeof(exp), "%s:4000", peer);
	memset(&p, 0, sizeof(p));
	p.local = mksa(local);
	p.latch.expected = mksa(exp);
	p.latch.window_ms = 10000;
	assert_int_equal(dp_flow_add(dp, &p, &f), 0);
	return f;
}

/* Media from the caller to the relay's @p in_port at worker 0: @return what worker 0 sent. */
static struct rte_mbuf *media(int in_port)
{
	char dst[32];

	snprintf(dst, sizeof(dst), RELAY_IP ":%d", in_port);
	arrive(0, rtp(CALLER ":4000", dst));
	return sent(0);
}

static void test_learned_by_the_other_worker(void **state)
{
	dp_flow_t a = flow(30000, CALLER), b = flow(30002, CALLEE), c = flow(30004, CALLER),
		  e = flow(30006, ASKER);
	struct rte_mbuf *m;

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, c, e), 0);

	/* worker 0 asks for the callee; the answer reaches worker 1 */
	m = media(30000);
	assert_non_null(m);
	assert_int_equal(arp_op(m), RTE_ARP_OP_REQUEST);
	rte_pktmbuf_free(m);
	arrive(1, arp(RTE_ARP_OP_REPLY, &callee_mac, CALLEE, RELAY_IP));
	assert_null(sent(1));
	m = media(30000);
	assert_non_null(m);
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &callee_mac, 6);
	rte_pktmbuf_free(m);

	/* a neighbour asks worker 1 for the relay address: worker 0 knows it from then on */
	arrive(1, arp(RTE_ARP_OP_REQUEST, &asker_mac, ASKER, RELAY_IP));
	m = sent(1);
	assert_non_null(m);
	assert_int_equal(arp_op(m), RTE_ARP_OP_REPLY);
	rte_pktmbuf_free(m);
	m = media(30004);
	assert_non_null(m);
	assert_memory_equal(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr, &asker_mac, 6);
	rte_pktmbuf_free(m);
	assert_null(sent(0));
	assert_null(sent(1));
}

static int setup(void **state)
{
	static const char *const argv[] = { "test_dpdk_workers",
					    "--no-huge",
					    "--no-shconf",
					    "--no-pci",
					    "-m",
					    "256",
					    "-l",
					    "0",
					    "--log-level=*:error" };
	char *args[sizeof(argv) / sizeof(argv[0])];
	struct rte_eth_conf pc;
	struct dp_dpdk_conf c;
	int p;

	memcpy(args, argv, sizeof(args));
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return -1;
	pool =
	    rte_pktmbuf_pool_create("tw_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	rx[0] = rte_ring_create("tw_rx0", 64, SOCKET_ID_ANY, 0);
	rx[1] = rte_ring_create("tw_rx1", 64, SOCKET_ID_ANY, 0);
	tx[0] = rte_ring_create("tw_tx0", 64, SOCKET_ID_ANY, 0);
	tx[1] = rte_ring_create("tw_tx1", 64, SOCKET_ID_ANY, 0);
	if (!pool || !rx[0] || !rx[1] || !tx[0] || !tx[1])
		return -1;
	p = rte_eth_from_rings("tw0", rx, 2, tx, 2, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	memset(&pc, 0, sizeof(pc));
	if (rte_eth_dev_configure(port, 2, 2, &pc) != 0)
		return -1;
	for (uint16_t q = 0; q < 2; q++)
		if (rte_eth_rx_queue_setup(port, q, 64, SOCKET_ID_ANY, NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(port, q, 64, SOCKET_ID_ANY, NULL) != 0)
			return -1;
	if (rte_eth_dev_start(port) != 0 || rte_eth_macaddr_get(port, &port_mac) != 0)
		return -1;

	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].port_id = port;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(RELAY_IP), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	c.n_workers = 2;
	if (dp_dpdk_alloc(&dp, &c) != 0)
		return -1;
	w[0] = dp_dpdk_worker_get(dp, 0);
	w[1] = dp_dpdk_worker_get(dp, 1);
	if (!w[0] || !w[1])
		return -1;
	return 0;
}

static int teardown(void **state)
{
	dataplane_free(dp);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learned_by_the_other_worker),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
