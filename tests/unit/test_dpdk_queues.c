/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Queues of a started backend with two workers (backend.c): a TX queue per worker, an RX queue
 * per worker with RSS where the port hashes (net_null reports RSS), and a port with a single RX
 * queue (a ring port) served by worker 0 alone while worker 1 still runs. Three lcores over the
 * machine's CPUs; every wait gives up after a second.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define RELAY_IP "192.0.2.1"

static struct rte_mempool *pool;

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

static struct dataplane *start(uint16_t port)
{
	struct dp_dpdk_conf c;
	struct dataplane *dp = NULL;

	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].port_id = port;
	c.ifaces[0].addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(RELAY_IP), .prefix_len = 24 };
	c.ifaces[0].n_addrs = 1;
	c.n_workers = 2;
	c.rx_desc = c.tx_desc = 64;
	c.start = true;
	assert_int_equal(dp_dpdk_alloc(&dp, &c), 0);
	return dp;
}

static void pause_ms(long ms)
{
	struct timespec t = { 0, ms * 1000000 };

	nanosleep(&t, NULL);
}

static uint64_t worker_rx(struct dataplane *dp, unsigned int i)
{
	struct dp_dpdk_worker_stats st;

	dp_dpdk_worker_stats(dp_dpdk_worker_get(dp, i), &st);
	return st.rx;
}

static void test_rss_per_worker(void **state)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rss_conf rss = { .rss_key = NULL };
	struct dataplane *dp;
	uint16_t port;
	int i;

	assert_int_equal(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	dp = start(port);
	assert_int_equal(rte_eth_dev_info_get(port, &info), 0);
	assert_int_equal(info.nb_rx_queues, 2);
	assert_int_equal(info.nb_tx_queues, 2);
	assert_int_equal(rte_eth_dev_conf_get(port, &conf), 0);
	assert_int_equal(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
	assert_int_equal(rte_eth_dev_rss_hash_conf_get(port, &rss), 0);
	assert_true(rss.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP);
	assert_int_equal(rss.rss_hf & ~(uint64_t)(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP), 0);
	/* net_null makes frames on every queue: each worker polls its own */
	for (i = 0; i < 1000 && (worker_rx(dp, 0) == 0 || worker_rx(dp, 1) == 0); i++)
		pause_ms(1);
	assert_true(worker_rx(dp, 0) > 0);
	assert_true(worker_rx(dp, 1) > 0);
	dataplane_free(dp);
}

/* SIP-like UDP to the relay address: an exception, queued by the worker that received it. */
static struct rte_mbuf *sip4(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t len = sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + 20;
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	eh = (void *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*eh) + len));
	assert_non_null(eh);
	memset(eh, 0, sizeof(*eh) + len);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (void *)(eh + 1);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = mksa("192.0.2.9").u.in.sin_addr.s_addr;
	ip->dst_addr = mksa(RELAY_IP).u.in.sin_addr.s_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (void *)(ip + 1);
	u->src_port = u->dst_port = rte_cpu_to_be_16(5060);
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + 20);
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static void test_one_rx_queue(void **state)
{
	struct rte_ring *rx = rte_ring_create("q_rx", 64, SOCKET_ID_ANY, 0);
	struct rte_ring *tx[2] = { rte_ring_create("q_tx0", 64, SOCKET_ID_ANY, 0),
				   rte_ring_create("q_tx1", 64, SOCKET_ID_ANY, 0) };
	struct rte_eth_dev_info info;
	struct dataplane *dp;
	struct rte_mbuf *m = NULL, *in;
	int p, i;

	assert_non_null(rx);
	p = rte_eth_from_rings("q1", &rx, 1, tx, 2, SOCKET_ID_ANY);
	assert_true(p >= 0);
	dp = start((uint16_t)p);
	assert_int_equal(rte_eth_dev_info_get((uint16_t)p, &info), 0);
	assert_int_equal(info.nb_rx_queues, 1);
	assert_int_equal(info.nb_tx_queues, 2);
	in = sip4();
	in->port = (uint16_t)p;
	assert_int_equal(rte_ring_enqueue(rx, in), 0);
	for (i = 0; i < 1000 && dp_dpdk_exception_dequeue(dp, 0, &m, 1) == 0; i++)
		pause_ms(1);
	assert_ptr_equal(m, in);
	rte_pktmbuf_free(m);
	assert_int_equal(worker_rx(dp, 1), 0);
	dataplane_free(dp);
	rte_ring_free(rx);
	rte_ring_free(tx[0]);
	rte_ring_free(tx[1]);
}

static int setup(void **state)
{
	static const char *const argv[] = {
		"test_dpdk_queues",
		"--no-huge",
		"--no-shconf",
		"--no-pci",
		"-m",
		"256",
		"--lcores",
		"(0-2)@(0-1)",
		"--vdev=net_null0",
		"--log-level=*:error",
	};
	char *args[sizeof(argv) / sizeof(argv[0])];

	memcpy(args, argv, sizeof(args));
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return -1;
	pool =
	    rte_pktmbuf_pool_create("q_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return pool ? 0 : -1;
}

static int teardown(void **state)
{
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_per_worker),
		cmocka_unit_test(test_one_rx_queue),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
