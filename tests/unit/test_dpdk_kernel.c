/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel path (dataplane/dpdk/kernel.c) on frames built in memory: four ring ports, two
 * "wires" and their "TAPs", started by the test; the worker's loop (dp_dpdk_worker_poll()) run
 * by hand on this thread. What the worker sent to a port is read from that port's TX ring.
 *
 *   wire0 untagged, 192.0.2.1/24 and 2001:db8::1/64, kernel path tap0
 *   wire1 VLAN 100, 198.51.100.1/24, kernel path tap1
 *
 * Checked: IPv6 neighbour discovery for the kernel's own addresses (solicited-node multicast,
 * link-local, DAD) and ICMPv6 to them reach the TAP as they came, while DPDK answers for the
 * relay address; the kernel's frames leave through the wire. On the VLAN port the TAP gets the
 * frames of VLAN 100 untagged and the kernel's untagged frames leave tagged 100; other VLANs pass
 * as they are; untagged frames there are dropped and counted.
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

enum { WIRE0, TAP0, WIRE1, TAP1, NPORTS };

#define VLAN	  100
#define KERNEL6	  "2001:db8::5" /* on the TAP only: the relay does not know it */
#define KERNEL_LL "fe80::1:2ff:fe00:1"
#define NEIGH6	  "2001:db8::77"
#define ICMPV6	  58
#define ND_NS	  135
#define ND_NA	  136
#define ECHO6	  128
#define FRAME_MAX 256

static struct dataplane *dp;
static struct dp_dpdk_worker *w;
static struct rte_mempool *pool;
static struct rte_ring *rx[NPORTS], *tx[NPORTS];
static uint16_t port[NPORTS];
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr neigh_mac = { { 0x02, 0, 0, 0, 0, 0x77 } };

static struct sa mksa(const char *s)
{
	struct sa a;

	assert_int_equal(sa_parse_cstr(&a, s, 0), 0);
	return a;
}

static void addr6(uint8_t *dst, const char *s)
{
	struct sa a = mksa(s);

	memcpy(dst, &a.u.in6.sin6_addr, 16);
}

/* ---- frames ---- */

/* Ethernet (+ 802.1Q when @p vlan) to @p dst from the neighbour; @return where L3 goes. */
static uint8_t *frame(struct rte_mbuf *m, const struct rte_ether_addr *dst, uint16_t vlan,
		      uint16_t type, uint16_t l3)
{
	uint16_t l2 = sizeof(struct rte_ether_hdr) + (vlan ? sizeof(struct rte_vlan_hdr) : 0);
	struct rte_ether_hdr *eh = (void *)rte_pktmbuf_append(m, (uint16_t)(l2 + l3));

	assert_non_null(eh);
	memset(eh, 0, l2 + l3);
	eh->dst_addr = *dst;
	eh->src_addr = neigh_mac;
	eh->ether_type = rte_cpu_to_be_16(vlan ? RTE_ETHER_TYPE_VLAN : type);
	if (vlan) {
		struct rte_vlan_hdr *vh = (void *)(eh + 1);

		vh->vlan_tci = rte_cpu_to_be_16(vlan);
		vh->eth_proto = rte_cpu_to_be_16(type);
	}
	return (uint8_t *)eh + l2;
}

/* ICMPv6 of @p type with a 24-byte body (ND: flags, target) and one link-layer option. */
static struct rte_mbuf *icmp6(const struct rte_ether_addr *dmac, uint16_t vlan, uint8_t type,
			      const char *src, const char *dst, const char *target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ipv6_hdr *ip;
	uint8_t *nd;

	assert_non_null(m);
	ip = (void *)frame(m, dmac, vlan, RTE_ETHER_TYPE_IPV6, sizeof(*ip) + 32);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(32);
	ip->proto = ICMPV6;
	ip->hop_limits = 255;
	addr6(ip->src_addr, src);
	addr6(ip->dst_addr, dst);
	nd = (uint8_t *)(ip + 1);
	nd[0] = type;
	addr6(nd + 8, target);
	nd[24] = type == ND_NA ? 2 : 1;
	nd[25] = 1;
	memcpy(nd + 26, &neigh_mac, 6);
	*(uint16_t *)(nd + 2) = rte_ipv6_udptcp_cksum(ip, nd);
	return m;
}

/* Solicited-node multicast of @p target (RFC 4291 2.7.1), IPv6 and MAC. */
static struct rte_mbuf *ns_multicast(uint16_t vlan, const char *src, const char *target)
{
	uint8_t t[16];
	char dst[64];

	addr6(t, target);
	snprintf(dst, sizeof(dst), "ff02::1:ff%02x:%02x%02x", t[13], t[14], t[15]);
	const struct rte_ether_addr mac = { { 0x33, 0x33, 0xff, t[13], t[14], t[15] } };

	return icmp6(&mac, vlan, ND_NS, src, dst, target);
}

/* SIP-like UDP to @p dst port 5060. */
static struct rte_mbuf *udp4(uint16_t vlan, const char *src, const char *dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint16_t len = sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr) + 40;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	ip = (void *)frame(m, &port_mac, vlan, RTE_ETHER_TYPE_IPV4, len);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = mksa(src).u.in.sin_addr.s_addr;
	ip->dst_addr = mksa(dst).u.in.sin_addr.s_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (void *)(ip + 1);
	u->src_port = rte_cpu_to_be_16(5060);
	u->dst_port = rte_cpu_to_be_16(5060);
	u->dgram_len = rte_cpu_to_be_16(sizeof(*u) + 40);
	memset(u + 1, 'S', 40);
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

/* ---- the worker and the rings ---- */

struct copy {
	uint8_t b[FRAME_MAX];
	uint16_t len;
};

static void save(const struct rte_mbuf *m, struct copy *c)
{
	c->len = rte_pktmbuf_data_len(m);
	assert_true(c->len <= FRAME_MAX);
	memcpy(c->b, rte_pktmbuf_mtod(m, const uint8_t *), c->len);
}

/* Puts @p m on port @p i's wire (or the kernel's side of a TAP); one round of the worker. */
static void inject(int i, struct rte_mbuf *m, struct copy *c)
{
	if (c)
		save(m, c);
	m->port = port[i];
	assert_int_equal(rte_ring_enqueue(rx[i], m), 0);
	dp_dpdk_worker_poll(w, dp_dpdk_now_ms());
}

/* What the worker sent on port @p i, or NULL. */
static struct rte_mbuf *sent(int i)
{
	void *m = NULL;

	return rte_ring_dequeue(tx[i], &m) == 0 ? m : NULL;
}

static void assert_none_sent(void)
{
	for (int i = 0; i < NPORTS; i++)
		assert_null(sent(i));
}

/* Frame @p m is @p c as it was: the kernel path passed it on unchanged. */
static void assert_same(struct rte_mbuf *m, const struct copy *c)
{
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_data_len(m), c->len);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), c->b, c->len);
	rte_pktmbuf_free(m);
}

/* Frame @p m is @p c with its 802.1Q tag taken out. */
static void assert_untagged(struct rte_mbuf *m, const struct copy *c)
{
	const uint8_t *d;

	assert_non_null(m);
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), c->len - 4);
	assert_memory_equal(d, c->b, 12);
	assert_memory_equal(d + 12, c->b + 16, c->len - 16u);
	rte_pktmbuf_free(m);
}

/* Frame @p m is @p c (untagged) with the tag of VLAN @p vlan put in. */
static void assert_tagged(struct rte_mbuf *m, const struct copy *c, uint16_t vlan)
{
	const uint8_t *d;

	assert_non_null(m);
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), c->len + 4);
	assert_memory_equal(d, c->b, 12);
	assert_int_equal(d[12] << 8 | d[13], RTE_ETHER_TYPE_VLAN);
	assert_int_equal((d[14] << 8 | d[15]) & 0xfff, vlan);
	assert_memory_equal(d + 16, c->b + 12, c->len - 12u);
	rte_pktmbuf_free(m);
}

static uint64_t vlan_drops(void)
{
	struct dp_dpdk_worker_stats st;

	dp_dpdk_worker_stats(w, &st);
	return st.exc_vlan_drop;
}

/* ---- tests ---- */

static void test_nd_for_the_kernel(void **state)
{
	struct copy c;
	struct rte_mbuf *m;

	/* solicitations for the kernel's own addresses, to their solicited-node groups */
	inject(WIRE0, ns_multicast(0, NEIGH6, KERNEL6), &c);
	assert_same(sent(TAP0), &c);
	inject(WIRE0, ns_multicast(0, "fe80::77", KERNEL_LL), &c);
	assert_same(sent(TAP0), &c);
	/* duplicate address detection, even of a relay address: the kernel's business */
	inject(WIRE0, ns_multicast(0, "::", "2001:db8::1"), &c);
	assert_same(sent(TAP0), &c);
	/* an advertisement and an echo request to the kernel's link-local address */
	inject(WIRE0, icmp6(&port_mac, 0, ND_NA, "fe80::77", KERNEL_LL, "fe80::77"), &c);
	assert_same(sent(TAP0), &c);
	inject(WIRE0, icmp6(&port_mac, 0, ECHO6, NEIGH6, KERNEL6, "::"), &c);
	assert_same(sent(TAP0), &c);
	assert_none_sent();

	/* the relay address: DPDK answers, the kernel sees nothing */
	inject(WIRE0, ns_multicast(0, NEIGH6, "2001:db8::1"), NULL);
	m = sent(WIRE0);
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 54)[0], ND_NA);
	rte_pktmbuf_free(m);
	assert_none_sent();

	/* the kernel's advertisement leaves through the wire as it is */
	inject(TAP0, icmp6(&neigh_mac, 0, ND_NA, KERNEL6, NEIGH6, KERNEL6), &c);
	assert_same(sent(WIRE0), &c);
	assert_none_sent();
	assert_int_equal(vlan_drops(), 0);
}

static void test_vlan(void **state)
{
	struct copy c;

	/* the port's VLAN reaches the TAP untagged: SIP, ND of the kernel's address, ARP */
	inject(WIRE1, udp4(VLAN, "198.51.100.20", "198.51.100.1"), &c);
	assert_untagged(sent(TAP1), &c);
	inject(WIRE1, ns_multicast(VLAN, "fe80::77", KERNEL_LL), &c);
	assert_untagged(sent(TAP1), &c);
	assert_none_sent();

	/* the kernel's untagged frames leave tagged */
	inject(TAP1, udp4(0, "198.51.100.1", "198.51.100.20"), &c);
	assert_tagged(sent(WIRE1), &c, VLAN);
	inject(TAP1, icmp6(&neigh_mac, 0, ND_NA, KERNEL_LL, "fe80::77", KERNEL_LL), &c);
	assert_tagged(sent(WIRE1), &c, VLAN);
	assert_none_sent();

	/* another VLAN passes as it is, both ways (a VLAN device on the TAP may take it) */
	inject(WIRE1, udp4(200, "192.168.200.2", "192.168.200.1"), &c);
	assert_same(sent(TAP1), &c);
	inject(TAP1, udp4(200, "192.168.200.1", "192.168.200.2"), &c);
	assert_same(sent(WIRE1), &c);
	/* and on the untagged port too */
	inject(WIRE0, udp4(300, "192.168.30.2", "192.168.30.1"), &c);
	assert_same(sent(TAP0), &c);
	assert_none_sent();
	assert_int_equal(vlan_drops(), 0);

	/* untagged on the VLAN port: no place on its TAP */
	inject(WIRE1, udp4(0, "198.51.100.20", "198.51.100.1"), NULL);
	assert_none_sent();
	assert_int_equal(vlan_drops(), 1);
}

/* ---- setup ---- */

static int port_start(int i)
{
	char name[16];
	struct rte_eth_conf pc;
	int p;

	snprintf(name, sizeof(name), "tk_rx%d", i);
	rx[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tk_tx%d", i);
	tx[i] = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tk%d", i);
	if (!rx[i] || !tx[i])
		return -1;
	p = rte_eth_from_rings(name, &rx[i], 1, &tx[i], 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	port[i] = (uint16_t)p;
	memset(&pc, 0, sizeof(pc));
	if (rte_eth_dev_configure(port[i], 1, 1, &pc) != 0 ||
	    rte_eth_rx_queue_setup(port[i], 0, 64, SOCKET_ID_ANY, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port[i], 0, 64, SOCKET_ID_ANY, NULL) != 0)
		return -1;
	return rte_eth_dev_start(port[i]);
}

static int setup(void **state)
{
	static const char *const argv[] = { "test_dpdk_kernel",
					    "--no-huge",
					    "--no-shconf",
					    "--no-pci",
					    "-m",
					    "256",
					    "-l",
					    "0",
					    "--log-level=*:error" };
	char *args[sizeof(argv) / sizeof(argv[0])];
	struct dp_dpdk_conf c;
	struct dp_dpdk_iface_conf *i0 = &c.ifaces[0], *i1 = &c.ifaces[1];

	memcpy(args, argv, sizeof(args));
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("tk_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!pool)
		return -1;
	for (int i = 0; i < NPORTS; i++)
		if (port_start(i) != 0)
			return -1;
	rte_eth_macaddr_get(port[WIRE0], &port_mac);

	memset(&c, 0, sizeof(c));
	c.n_ifaces = 2;
	i0->port_id = port[WIRE0];
	i0->addrs[0] = (struct dp_dpdk_addr){ .addr = mksa("192.0.2.1"), .prefix_len = 24 };
	i0->addrs[1] = (struct dp_dpdk_addr){ .addr = mksa("2001:db8::1"), .prefix_len = 64 };
	i0->n_addrs = 2;
	i0->has_exc_port = true;
	i0->exc_port_id = port[TAP0];
	i1->port_id = port[WIRE1];
	i1->vlan = VLAN;
	i1->addrs[0] = (struct dp_dpdk_addr){ .addr = mksa("198.51.100.1"), .prefix_len = 24 };
	i1->n_addrs = 1;
	i1->has_exc_port = true;
	i1->exc_port_id = port[TAP1];
	if (dp_dpdk_alloc(&dp, &c) != 0)
		return -1;
	w = dp_dpdk_worker_get(dp, 0);
	return w ? 0 : -1;
}

static int teardown(void **state)
{
	dataplane_free(dp);
	for (int i = 0; i < NPORTS; i++) {
		rte_eth_dev_stop(port[i]);
		rte_eth_dev_close(port[i]);
	}
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nd_for_the_kernel),
		cmocka_unit_test(test_vlan),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
