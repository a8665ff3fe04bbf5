/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The started DPDK backend: a worker on lcore 1 polls two ring-backed ports (rte_eth_from_rings)
 * while this thread, the control thread, programs flows, feeds the RX rings, reads the TX rings
 * and the exception queue. Bounded: every wait gives up after a second.
 *
 *   dpt0: 192.0.2.1/24, gateway .254, DPDK's default MTU (1500)
 *   dpt1: 198.51.100.1/24, gateway .254, MTU 9000 (jumbo frames)
 *
 * Before that backend, backends of their own (one at a time) check the port MTU at start-up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define RELAY_IP  "192.0.2.1"
#define JUMBO_IP  "198.51.100.1" /* on dpt1, MTU 9000 */
#define CALLER_IP "203.0.113.10"
#define CALLEE_IP "203.0.113.20"
#define JUMBO_MTU 9000

static struct dataplane *dp;
static struct dataplane *own; /* a start-up test's backend of its own */
static struct rte_ring *rx, *tx, *jrx, *jtx;
static struct rte_mempool *pool, *jumbo_pool;
static struct rte_ether_addr port_mac;
static const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };
static uint16_t port, jport;

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

/* UDP from @p src to @p dst with @p len bytes of RTP-like payload, in an mbuf of @p mp. */
static struct rte_mbuf *udp4_in(struct rte_mempool *mp, const char *src, const char *dst,
				uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
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

static struct rte_mbuf *udp4(const char *src, const char *dst, uint16_t len)
{
	return udp4_in(pool, src, dst, len);
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

static void inject_on(uint16_t p, struct rte_ring *r, struct rte_mbuf *m)
{
	m->port = p;
	assert_int_equal(rte_ring_enqueue(r, m), 0);
}

static void inject(struct rte_mbuf *m)
{
	inject_on(port, rx, m);
}

/* The next frame the worker sent to TX ring @p r, or NULL after a second. */
static struct rte_mbuf *sent_on(struct rte_ring *r)
{
	struct timespec pause = { 0, 1000000 };
	void *m;

	for (int i = 0; i < 1000; i++) {
		if (rte_ring_dequeue(r, &m) == 0)
			return m;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static struct rte_mbuf *sent(void)
{
	return sent_on(tx);
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

/*
 * Each port runs at the MTU its interfaces asked for: dpt1 at 9000 (net_ring has no MTU hook:
 * the MTU of its rte_eth_conf is all it takes, and its -ENOTSUP did not stop the start), dpt0 at
 * DPDK's default; the backend's mbufs hold a frame of 9000 bytes, tagged, in one segment.
 */
static void test_port_mtu(void **state)
{
	struct rte_mempool *mp = rte_mempool_lookup("dp_dpdk_pool");
	uint16_t mtu = 0;

	assert_int_equal(rte_eth_dev_get_mtu(jport, &mtu), 0);
	assert_int_equal(mtu, JUMBO_MTU);
	assert_int_equal(rte_eth_dev_get_mtu(port, &mtu), 0);
	assert_int_equal(mtu, RTE_ETHER_MTU);
	assert_non_null(mp);
	assert_true(rte_pktmbuf_data_room_size(mp) >=
		    RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + JUMBO_MTU);
}

/* The ARP request of @p gw for relay address @p ip on a port, and the answer: its MAC learned. */
static void gateway_learned(uint16_t p, struct rte_ring *in, struct rte_ring *out, const char *gw,
			    const char *ip)
{
	struct rte_mbuf *m;

	inject_on(p, in, arp_request(gw, ip));
	m = sent_on(out);
	assert_non_null(m);
	rte_pktmbuf_free(m);
}

/*
 * A 4000-byte datagram between two flows on the 9000-byte port leaves whole; the same datagram
 * from that port to a flow on the 1500-byte one leaves in three fragments.
 */
static void test_jumbo_through_lcore(void **state)
{
	dp_flow_t a = flow(JUMBO_IP ":30020", CALLER_IP ":4000");
	dp_flow_t b = flow(JUMBO_IP ":30022", CALLEE_IP ":4000");
	dp_flow_t c = flow(JUMBO_IP ":30024", CALLER_IP ":4002");
	dp_flow_t e = flow(RELAY_IP ":30026", CALLEE_IP ":4002");
	struct dp_dpdk_worker *w = dp_dpdk_worker_get(dp, 0);
	struct dp_dpdk_worker_stats st0, st;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	/* 3980 bytes after the IPv4 header: 1480 + 1480 + 1020 */
	uint16_t want[3][2] = { { 1500, RTE_IPV4_HDR_MF_FLAG },
				{ 1500, RTE_IPV4_HDR_MF_FLAG | 1480 / 8 },
				{ 20 + 1020, 2960 / 8 } };

	assert_int_equal(dp_flow_link(dp, a, b), 0);
	assert_int_equal(dp_flow_link(dp, b, a), 0);
	assert_int_equal(dp_flow_link(dp, c, e), 0);
	assert_int_equal(dp_flow_link(dp, e, c), 0);
	gateway_learned(jport, jrx, jtx, "198.51.100.254", JUMBO_IP);
	gateway_learned(port, rx, tx, "192.0.2.254", RELAY_IP);
	dp_dpdk_worker_stats(w, &st0);

	inject_on(jport, jrx, udp4_in(jumbo_pool, CALLER_IP ":4000", JUMBO_IP ":30020", 4000 - 28));
	m = sent_on(jtx);
	assert_non_null(m);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 4000);
	assert_int_equal(ip->fragment_offset, 0);
	assert_int_equal(ip->dst_addr, mksa(CALLEE_IP).u.in.sin_addr.s_addr);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 4000);
	rte_pktmbuf_free(m);
	dp_dpdk_worker_stats(w, &st);
	assert_int_equal(st.fragmented, st0.fragmented);

	inject_on(jport, jrx, udp4_in(jumbo_pool, CALLER_IP ":4002", JUMBO_IP ":30024", 4000 - 28));
	for (int i = 0; i < 3; i++) {
		m = sent();
		assert_non_null(m);
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length), want[i][0]);
		assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), want[i][1]);
		assert_int_equal(ip->dst_addr, mksa(CALLEE_IP).u.in.sin_addr.s_addr);
		rte_pktmbuf_free(m);
	}
	dp_dpdk_worker_stats(w, &st);
	assert_int_equal(st.fragmented, st0.fragmented + 1);
	assert_int_equal(st.frag_failed, st0.frag_failed);
	assert_int_equal(dp_flow_link(dp, a, 0), 0);
	assert_int_equal(dp_flow_link(dp, b, 0), 0);
	assert_int_equal(dp_flow_link(dp, c, 0), 0);
	assert_int_equal(dp_flow_link(dp, e, 0), 0);
	assert_int_equal(dp_flow_del(dp, a), 0);
	assert_int_equal(dp_flow_del(dp, b), 0);
	assert_int_equal(dp_flow_del(dp, c), 0);
	assert_int_equal(dp_flow_del(dp, e), 0);
}

/* ---- start-up: backends of their own, one at a time, before the shared one ---- */

static struct dp_dpdk_iface_conf iface(uint16_t p, uint16_t vlan, uint16_t mtu, const char *addr)
{
	struct dp_dpdk_iface_conf c;

	memset(&c, 0, sizeof(c));
	c.port_id = p;
	c.vlan = vlan;
	c.mtu = mtu;
	c.addrs[0] = (struct dp_dpdk_addr){ .addr = mksa(addr), .prefix_len = 24 };
	c.n_addrs = 1;
	return c;
}

/* Starts @p own on @p n interfaces (the EAL is up: its arguments are not needed). */
static int start_own(const struct dp_dpdk_iface_conf *ifc, unsigned int n)
{
	struct dp_dpdk_conf c;

	memset(&c, 0, sizeof(c));
	memcpy(c.ifaces, ifc, n * sizeof(*ifc));
	c.n_ifaces = n;
	c.n_workers = 1;
	c.start = true;
	c.n_mbufs = 2048;
	return dp_dpdk_alloc(&own, &c);
}

/* A start-up test's backend goes, whether the test passed or not: the next may start one. */
static int own_down(void **state)
{
	if (own)
		dataplane_free(own); /* closes its ports */
	own = NULL;
	return 0;
}

/* A ring port of its own, named @p name (its rings: @p r[0], @p r[1]). */
static uint16_t ring_port(const char *name, struct rte_ring **r)
{
	char rn[RTE_RING_NAMESIZE];
	int p;

	snprintf(rn, sizeof(rn), "%s_rx", name);
	r[0] = rte_ring_create(rn, 64, SOCKET_ID_ANY, 0);
	snprintf(rn, sizeof(rn), "%s_tx", name);
	r[1] = rte_ring_create(rn, 64, SOCKET_ID_ANY, 0);
	assert_non_null(r[0]);
	assert_non_null(r[1]);
	p = rte_eth_from_rings(name, &r[0], 1, &r[1], 1, SOCKET_ID_ANY);
	assert_true(p >= 0);
	return (uint16_t)p;
}

/*
 * Interfaces (VLANs) of one port asking for different MTUs: the backend refuses them (-EINVAL);
 * asking for the same one, the port runs at it.
 */
static void test_mtu_one_per_port(void **state)
{
	struct rte_ring *r[2];
	uint16_t p = ring_port("dpt_vlans", r), mtu = 0;
	struct dp_dpdk_iface_conf ifc[2] = { iface(p, 0, 1500, "192.0.2.1"),
					     iface(p, 10, JUMBO_MTU, "198.51.100.1") };

	assert_int_equal(start_own(ifc, 2), -EINVAL);
	ifc[0].mtu = JUMBO_MTU;
	assert_int_equal(start_own(ifc, 2), 0);
	assert_int_equal(rte_eth_dev_get_mtu(p, &mtu), 0);
	assert_int_equal(mtu, JUMBO_MTU);
}

/* start_own() with what it logs (stderr) in @p log. */
static int start_own_logged(const struct dp_dpdk_iface_conf *ifc, unsigned int n, char *log,
			    size_t size)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t len;

	assert_non_null(f);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	rc = start_own(ifc, n);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	len = fread(log, 1, size - 1, f);
	log[len] = '\0';
	fclose(f);
	return rc;
}

/*
 * An MTU outside what the port takes refuses the start (-EINVAL) with a log line naming the
 * port and its limits: net_memif takes frames of 1518 bytes in DPDK 22.11, MTU 1500. Within
 * them, the port runs at it: 1400 (net_memif has no MTU hook either).
 */
static void test_mtu_outside_port_refused(void **state)
{
	char args[96], log[1024];
	struct dp_dpdk_iface_conf ifc;
	uint16_t p, mtu = 0;

	/* an abstract socket of this process's: no file, no other test's */
	snprintf(args, sizeof(args), "role=server,socket-abstract=yes,socket=/sbc-test-mtu-%d",
		 (int)getpid());
	assert_int_equal(rte_eal_hotplug_add("vdev", "net_memif_mtu", args), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_memif_mtu", &p), 0);
	ifc = iface(p, 0, JUMBO_MTU, "192.0.2.1");
	assert_int_equal(start_own_logged(&ifc, 1, log, sizeof(log)), -EINVAL);
	assert_non_null(strstr(log, "net_memif_mtu: MTU 9000 is outside what the port takes, "));
	assert_non_null(strstr(log, " to 1500\n"));
	ifc.mtu = 1400;
	assert_int_equal(start_own(&ifc, 1), 0);
	assert_int_equal(rte_eth_dev_get_mtu(p, &mtu), 0);
	assert_int_equal(mtu, 1400);
}

/* A net_tap port named @p vdev (kernel interface @p ifname), or skips the test without root. */
static uint16_t tap_port(const char *vdev, const char *ifname)
{
	char args[64];
	uint16_t p;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		skip();
	snprintf(args, sizeof(args), "iface=%s", ifname);
	assert_int_equal(rte_eal_hotplug_add("vdev", vdev, args), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name(vdev, &p), 0);
	return p;
}

/* The MTU of kernel interface @p ifname, from sysfs. */
static unsigned int kernel_if_mtu(const char *ifname)
{
	char path[96];
	unsigned int mtu = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%u", &mtu), 1);
	fclose(f);
	return mtu;
}

/*
 * A port of its own that receives nothing, for a kernel path: net_null (no-rx) has the MAC the
 * TAP gets (a ring port has none, and takes none).
 */
static uint16_t quiet_port(const char *vdev)
{
	uint16_t p;

	assert_int_equal(rte_eal_hotplug_add("vdev", vdev, "no-rx=1"), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name(vdev, &p), 0);
	return p;
}

/*
 * The kernel path (a net_tap, root only) gets its port's MTU on its kernel interface: 1400.
 * Where net_tap takes no such MTU (9000: DPDK 22.11's takes up to 1504) the start goes on, the
 * TAP keeps its 1500 and a warning says so.
 */
static void test_kernel_path_mtu(void **state)
{
	char ifname[2][16], log[1024];
	uint16_t tap, mtu = 0;
	struct dp_dpdk_iface_conf ifc;

	snprintf(ifname[0], sizeof(ifname[0]), "sbcmtu%d", (int)getpid() % 1000000);
	snprintf(ifname[1], sizeof(ifname[1]), "sbcmtv%d", (int)getpid() % 1000000);
	tap = tap_port("net_tap_mtu0", ifname[0]);
	ifc = iface(quiet_port("net_null_k0"), 0, 1400, "192.0.2.1");
	ifc.has_exc_port = true;
	ifc.exc_port_id = tap;
	assert_int_equal(start_own(&ifc, 1), 0);
	assert_int_equal(rte_eth_dev_get_mtu(tap, &mtu), 0);
	assert_int_equal(mtu, 1400);
	assert_int_equal(kernel_if_mtu(ifname[0]), 1400);
	own_down(state); /* closes the TAP: its kernel interface goes */

	tap = tap_port("net_tap_mtu1", ifname[1]);
	ifc = iface(quiet_port("net_null_k1"), 0, JUMBO_MTU, "192.0.2.1");
	ifc.has_exc_port = true;
	ifc.exc_port_id = tap;
	assert_int_equal(start_own_logged(&ifc, 1, log, sizeof(log)), 0);
	assert_non_null(strstr(log, "dpdk: kernel path net_tap_mtu1 keeps its MTU: it takes "));
	assert_int_equal(rte_eth_dev_get_mtu(tap, &mtu), 0);
	assert_int_equal(mtu, RTE_ETHER_MTU);
	assert_int_equal(kernel_if_mtu(ifname[1]), RTE_ETHER_MTU);
}

/* The shared backend: dpt0 (default MTU) and dpt1 (9000), up for the tests that use it. */
static int backend_up(void **state)
{
	struct dp_dpdk_conf c;

	if (dp)
		return 0;
	memset(&c, 0, sizeof(c));
	c.n_ifaces = 2;
	c.ifaces[0] = iface(port, 0, 0, RELAY_IP);
	c.ifaces[0].gateway4 = mksa("192.0.2.254");
	c.ifaces[1] = iface(jport, 0, JUMBO_MTU, JUMBO_IP);
	c.ifaces[1].gateway4 = mksa("198.51.100.254");
	c.n_workers = 1;
	c.start = true;
	c.n_mbufs = 4096;
	return dp_dpdk_alloc(&dp, &c);
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
	int p;

	memcpy(args, argv, sizeof(args));
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return -1;
	rx = rte_ring_create("test_rx", 1024, SOCKET_ID_ANY, 0);
	tx = rte_ring_create("test_tx", 1024, SOCKET_ID_ANY, 0);
	jrx = rte_ring_create("test_jrx", 1024, SOCKET_ID_ANY, 0);
	jtx = rte_ring_create("test_jtx", 1024, SOCKET_ID_ANY, 0);
	pool = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	/* jumbo datagrams in one segment, as a port of MTU 9000 receives them */
	jumbo_pool = rte_pktmbuf_pool_create("test_jumbo_pool", 63, 0, 0,
					     RTE_PKTMBUF_HEADROOM + 9018, SOCKET_ID_ANY);
	if (!rx || !tx || !jrx || !jtx || !pool || !jumbo_pool)
		return -1;
	p = rte_eth_from_rings("dpt0", &rx, 1, &tx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	port = (uint16_t)p;
	rte_eth_macaddr_get(port, &port_mac);
	p = rte_eth_from_rings("dpt1", &jrx, 1, &jtx, 1, SOCKET_ID_ANY);
	if (p < 0)
		return -1;
	jport = (uint16_t)p;
	return 0;
}

static int teardown(void **state)
{
	if (dp)
		dataplane_free(dp); /* stops the worker and the ports */
	rte_mempool_free(jumbo_pool);
	rte_mempool_free(pool);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mtu_one_per_port, own_down),
		cmocka_unit_test_teardown(test_mtu_outside_port_refused, own_down),
		cmocka_unit_test_teardown(test_kernel_path_mtu, own_down),
		cmocka_unit_test_setup(test_forward_through_lcore, backend_up),
		cmocka_unit_test_setup(test_fragments_through_lcore, backend_up),
		cmocka_unit_test_setup(test_port_mtu, backend_up),
		cmocka_unit_test_setup(test_jumbo_through_lcore, backend_up),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
