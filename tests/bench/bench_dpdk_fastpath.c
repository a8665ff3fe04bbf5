/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dp_dpdk_process_burst() throughput over preloaded mbufs, latching on, for several flow table
 * sizes: Mpps and cycles per packet inside the burst function (rte_rdtsc; mean, and the best
 * pass over all mbufs, which a shared machine's preemptions do not inflate), flow setup rate,
 * and DPDK heap bytes per flow. No ports: one worker driven by this thread.
 *
 *   build-rel/tests/bench/bench_dpdk_fastpath [flows ...]     (default: 1000 100000 1000000)
 *
 * Each burst's packets get their original headers back between bursts (outside the timed
 * region), so the headers are cache-hot as after NIC DMA into LLC (DDIO); the flow table is not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define BURST	     32
#define N_MBUFS	     4096
#define PACKETS	     (4u * 1000 * 1000)
#define PORTS_PER_IP 60000u
#define HDR_LEN	     (14 + 20 + 8)
#define RTP_LEN	     172

static struct rte_mempool *pool;
static const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };

/* flow i: relay 10.1.(i / PORTS_PER_IP).1 : 1024 + i % PORTS_PER_IP; its peer 100.64.x.y:4000 */
static uint32_t relay_ip(uint32_t i)
{
	return htonl(0x0a010001u | ((i / PORTS_PER_IP) << 8));
}

static uint16_t relay_port(uint32_t i)
{
	return (uint16_t)(1024 + i % PORTS_PER_IP);
}

static uint32_t peer_ip(uint32_t i)
{
	return htonl(0xcb000000u + i + 1); /* 203.x.y.z: public, so strangers are refused */
}

static void set_sa4(struct sa *sa, uint32_t ip_be, uint16_t port)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip_be, buf, sizeof(buf));
	sa_parse_cstr(sa, buf, port);
}

static int add_flows(struct dataplane *dp, uint32_t n, dp_flow_t *ids)
{
	struct dp_flow_params p;

	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 3600 * 1000;
	for (uint32_t i = 0; i < n; i++) {
		set_sa4(&p.local, relay_ip(i), relay_port(i));
		set_sa4(&p.latch.expected, peer_ip(i), 4000);
		int err = dp_flow_add(dp, &p, &ids[i]);

		if (err != 0)
			return err;
	}
	for (uint32_t i = 0; i + 1 < n; i += 2) { /* a call: two flows linked both ways */
		dp_flow_link(dp, ids[i], ids[i + 1]);
		dp_flow_link(dp, ids[i + 1], ids[i]);
	}
	return 0;
}

/* An RTP packet from flow @p f's peer to flow f; its headers are kept in @p hdr. */
static struct rte_mbuf *make_pkt(uint32_t f, const struct rte_ether_addr *dmac, uint8_t *hdr)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, HDR_LEN + RTP_LEN);
	struct rte_ether_hdr *eh = (void *)d;
	struct rte_ipv4_hdr *ip = (void *)(eh + 1);
	struct rte_udp_hdr *u = (void *)(ip + 1);
	uint8_t *rtp = (uint8_t *)(u + 1);

	if (!d)
		abort();
	memset(d, 0, HDR_LEN + RTP_LEN);
	eh->dst_addr = *dmac;
	eh->src_addr = gw_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + RTP_LEN);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = peer_ip(f);
	ip->dst_addr = relay_ip(f);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = htons(4000);
	u->dst_port = htons(relay_port(f));
	u->dgram_len = htons(8 + RTP_LEN);
	rtp[0] = 0x80;
	rtp[11] = (uint8_t)f;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	memcpy(hdr, d, HDR_LEN);
	return m;
}

static void restore(struct rte_mbuf *m, const uint8_t *hdr)
{
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = m->pkt_len = HDR_LEN + RTP_LEN;
	m->port = 0;
	m->ol_flags = 0;
	memcpy(rte_pktmbuf_mtod(m, void *), hdr, HDR_LEN);
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;

	rte_malloc_get_socket_stats((int)rte_socket_id(), &st);
	return st.heap_allocsz_bytes;
}

static int run(const char *const *argv, int argc, uint32_t n_flows)
{
	static uint8_t hdrs[N_MBUFS][HDR_LEN];
	static struct rte_mbuf *pkts[N_MBUFS];
	struct dp_dpdk_conf c;
	struct dataplane *dp;
	struct dp_dpdk_worker *w;
	struct dp_dpdk_burst r;
	struct rte_ether_addr mac;
	dp_flow_t *ids = calloc(n_flows, sizeof(*ids));
	uint64_t cycles = 0, done = 0, t0, win = 0, best = UINT64_MAX;
	size_t mem0;
	int err;

	memset(&c, 0, sizeof(c));
	c.eal_argv = argv;
	c.eal_argc = argc;
	c.n_ifaces = 1;
	c.ifaces[0].n_addrs = (n_flows + PORTS_PER_IP - 1) / PORTS_PER_IP;
	if (c.ifaces[0].n_addrs > DP_DPDK_IFACE_ADDRS_MAX)
		return -E2BIG;
	for (unsigned int a = 0; a < c.ifaces[0].n_addrs; a++) {
		set_sa4(&c.ifaces[0].addrs[a].addr, relay_ip(a * PORTS_PER_IP), 0);
		c.ifaces[0].addrs[a].prefix_len = 24;
		/* the ports the flows use (a slot per port: dpdk_priv.h) */
		c.ifaces[0].addrs[a].port_min = relay_port(a * PORTS_PER_IP);
		c.ifaces[0].addrs[a].port_max =
		    relay_port(RTE_MIN(n_flows, (a + 1) * PORTS_PER_IP) - 1);
	}
	sa_parse_cstr(&c.ifaces[0].gateway4, "10.1.0.254", 0);
	mem0 = heap_used();
	err = dp_dpdk_alloc(&dp, &c);
	if (err != 0)
		return err;
	w = dp_dpdk_worker_get(dp, 0);
	dp_dpdk_neigh_add(w, &c.ifaces[0].gateway4, &gw_mac);
	rte_eth_macaddr_get(0, &mac);

	size_t mem_empty = heap_used();
	t0 = rte_rdtsc();
	err = add_flows(dp, n_flows, ids);
	if (err != 0)
		return err;
	double add_s = (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz();
	size_t mem_flows = heap_used();

	srand(7);
	for (unsigned int i = 0; i < N_MBUFS; i++)
		pkts[i] = make_pkt((uint32_t)rand() % n_flows, &mac, hdrs[i]);
	for (uint32_t k = 0; done < PACKETS; k = (k + BURST) % N_MBUFS) {
		for (unsigned int i = 0; i < BURST; i++)
			restore(pkts[k + i], hdrs[k + i]);
		t0 = rte_rdtsc();
		dp_dpdk_process_burst(w, &pkts[k], BURST, dp_dpdk_now_ms(), &r);
		t0 = rte_rdtsc() - t0;
		cycles += t0;
		win += t0;
		if (k + BURST == N_MBUFS) { /* one pass over every mbuf: a window */
			if (win < best)
				best = win;
			win = 0;
		}
		if (r.n_tx != BURST) {
			fprintf(stderr, "burst: %u tx, %u exc, %u drop\n", r.n_tx, r.n_exc,
				r.n_drop);
			return -EPROTO;
		}
		done += BURST;
	}
	double secs = (double)cycles / (double)rte_get_tsc_hz();

	printf("%8u flows: %6.2f Mpps %6.1f cycles/pkt (best window %6.1f) | add %8.0f flows/s "
	       "| heap per flow: %zu B (%zu B table + %zu B settings)\n",
	       n_flows, (double)done / secs / 1e6, (double)cycles / (double)done,
	       (double)best / N_MBUFS, (double)n_flows / add_s, (mem_flows - mem0) / n_flows,
	       (mem_empty - mem0) / n_flows, (mem_flows - mem_empty) / n_flows);
	rte_pktmbuf_free_bulk(pkts, N_MBUFS);
	dataplane_free(dp);
	free(ids);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const eal[] = { "bench_dpdk_fastpath",
					   "--no-huge",
					   "--no-shconf",
					   "--no-pci",
					   "-m",
					   "2048",
					   "--vdev=net_null0",
					   "-l",
					   "0",
					   "--log-level=*:error" };
	static const uint32_t def[] = { 1000, 100000, 1000000 };
	int n = argc > 1 ? argc - 1 : 3;

	/* the EAL first, so that the heap can be measured around dp_dpdk_alloc() */
	char *args[sizeof(eal) / sizeof(eal[0])];

	memcpy(args, eal, sizeof(args)); /* rte_eal_init permutes the array */
	if (rte_eal_init((int)(sizeof(args) / sizeof(args[0])), args) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench_pool", N_MBUFS + 1023, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (!pool)
		return 1;

	for (int i = 0; i < n; i++) {
		uint32_t flows = argc > 1 ? (uint32_t)strtoul(argv[i + 1], NULL, 10) : def[i];
		int err = run(eal, (int)(sizeof(eal) / sizeof(eal[0])), flows);

		if (err != 0) {
			fprintf(stderr, "%u flows: %s\n", flows, strerror(-err));
			return 1;
		}
	}
	return 0;
}
