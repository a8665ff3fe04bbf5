/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The relay's lcore loop next to testpmd's io forwarding, same harness, same port, same packets:
 *
 *   io:    rte_eth_rx_burst() then rte_eth_tx_burst() of what came in (testpmd's io forward)
 *   relay: dp_dpdk_worker_poll(), the workers' own loop body: RX, dp_dpdk_process_burst()
 *          (parse, bulk lookup, latching on, rewrite, neighbour), TX, handoff ring, kernel path
 *
 * on three kinds of port, preloaded with RTP-sized packets that keep circulating:
 *
 *   net_ring: RX and TX are one ring; the PMD moves pointers only.
 *   net_null: RX allocates mbufs, TX frees them, as a NIC's driver does (no data touched).
 *   memif:    a memif pair in this process (copy mode): RX copies each packet out of the shared
 *             ring into an mbuf, TX copies it back in, as a NIC's DMA moves the data. The port
 *             under test is the client; a reflector on the server end sends everything back
 *             (untimed: only the polls of the port under test are counted).
 *
 * The packets The packets stay valid for the relay forever: flow x's peer is
 * the relay address of flow pi(x), pi an involution, so forwarding a packet from flow y out of
 * its linked flow y^1 sends it to the relay address of pi(y^1), coming from that flow's peer.
 * Every pass visits random flows: the whole table is the working set. Flows are latched and
 * warmed first (latch_all()).
 *
 * Both loops are timed the same way: TSC / packets over windows of BURSTS_PER_WINDOW polls,
 * best window (a shared machine preempts), on this one lcore; on memif the TSC of the polls of
 * the port under test only.
 *
 *   build-rel/tests/bench/bench_dpdk_loop [--huge DIR] [flows ...]   (default: 1k 100k 1M)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dataplane/dpdk/dp_dpdk.h"

#define BURST		  DP_DPDK_BURST_MAX /* both loops, as the workers poll */
#define POOL_SIZE	  4095
#define RING_PKTS	  2048 /* circulating on net_ring */
#define RING_SLOTS	  4096
#define WINDOWS		  200 /* BENCH_WINDOWS overrides (fewer for callgrind) */
#define BURSTS_PER_WINDOW 512
#define PORTS_PER_IP	  60000u
#define HDR_LEN		  (14 + 20 + 8)
#define RTP_LEN		  172 /* G.711 20 ms: 12 + 160 */
#define MEMIF_PKTS	  512 /* circulating through the memif pair (rings of 1024) */

enum vdev { VDEV_RING, VDEV_NULL, VDEV_MEMIF };

static const char *const vdev_name[] = { "net_ring", "net_null", "memif" };

static struct rte_mempool *pool;
static char memif_sock[64]; /* the server's socket file */
static const struct rte_ether_addr nh_mac = { { 0x02, 0, 0, 0, 0, 0xfe } };

static uint32_t relay_ip(uint32_t i)
{
	return htonl(0x0a010001u | ((i / PORTS_PER_IP) << 8));
}

static uint16_t relay_port(uint32_t i)
{
	return (uint16_t)(1024 + i % PORTS_PER_IP);
}

static void set_sa4(struct sa *sa, uint32_t ip_be, uint16_t port)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip_be, buf, sizeof(buf));
	sa_parse_cstr(sa, buf, port);
}

/* A random fixed-point-free involution: a shuffled list paired off. */
static uint32_t *involution(uint32_t n)
{
	uint32_t *s = malloc(n * sizeof(*s)), *pi = malloc(n * sizeof(*pi));

	for (uint32_t i = 0; i < n; i++)
		s[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % (i + 1));
		uint32_t t = s[i];

		s[i] = s[j];
		s[j] = t;
	}
	for (uint32_t i = 0; i + 1 < n; i += 2) {
		pi[s[i]] = s[i + 1];
		pi[s[i + 1]] = s[i];
	}
	free(s);
	return pi;
}

static int add_flows(struct dataplane *dp, uint32_t n, const uint32_t *pi)
{
	dp_flow_t *ids = calloc(n, sizeof(*ids));
	struct dp_flow_params p;
	int err = 0;

	memset(&p, 0, sizeof(p));
	p.latch.window_ms = 3600 * 1000;
	for (uint32_t i = 0; i < n && err == 0; i++) {
		set_sa4(&p.local, relay_ip(i), relay_port(i));
		set_sa4(&p.latch.expected, relay_ip(pi[i]), relay_port(pi[i]));
		err = dp_flow_add(dp, &p, &ids[i]);
	}
	for (uint32_t i = 0; err == 0 && i + 1 < n; i += 2) {
		dp_flow_link(dp, ids[i], ids[i + 1]);
		dp_flow_link(dp, ids[i + 1], ids[i]);
	}
	free(ids);
	return err;
}

/* An RTP packet to flow @p f from its peer (the relay address of pi(f)). */
static void fill_pkt(struct rte_mbuf *m, uint32_t f, const uint32_t *pi)
{
	rte_pktmbuf_reset(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, HDR_LEN + RTP_LEN);
	struct rte_ether_hdr *eh = (void *)d;
	struct rte_ipv4_hdr *ip = (void *)(eh + 1);
	struct rte_udp_hdr *u = (void *)(ip + 1);
	uint8_t *rtp = (uint8_t *)(u + 1);

	memset(d, 0, HDR_LEN + RTP_LEN);
	eh->src_addr = nh_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + RTP_LEN);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = relay_ip(pi[f]);
	ip->dst_addr = relay_ip(f);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = htons(relay_port(pi[f]));
	u->dst_port = htons(relay_port(f));
	u->dgram_len = htons(8 + RTP_LEN);
	rtp[0] = 0x80;
	rtp[11] = 7; /* one SSRC: a packet carries it through every flow it visits */
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
}

/*
 * Every flow receives WARM_PASSES packets from its peer before the timed passes, so that these
 * measure a table in its steady state, as on a relay whose calls last: the first pass latches
 * each flow (the full way; a flow's latch change drops the template of its way out), the second
 * builds the templates again, the third makes each flow's copy of its linked flow's template
 * (dpdk_priv.h). With one pass, at 1M flows the timed passes (about six packets a flow) still
 * made copies to the end (in 166 of the last window's 32,768 packets, 32,474 of the first's):
 * that measured first packets, not forwarding.
 */
#define WARM_PASSES 3

static int latch_all(struct dp_dpdk_worker *w, uint32_t n, const uint32_t *pi)
{
	struct rte_mbuf *m[BURST];
	struct dp_dpdk_burst r;
	uint64_t total = (uint64_t)WARM_PASSES * n;

	if (rte_pktmbuf_alloc_bulk(pool, m, BURST) != 0)
		return -ENOMEM;
	for (uint64_t f = 0; f < total; f += BURST) {
		uint16_t k = (uint16_t)(total - f < BURST ? total - f : BURST);

		for (uint16_t i = 0; i < k; i++)
			fill_pkt(m[i], (uint32_t)((f + i) % n), pi);
		dp_dpdk_process_burst(w, m, k, dp_dpdk_now_ms(), &r);
		if (r.n_tx != k) {
			fprintf(stderr, "latching: %u tx, %u exc, %u drop of %u\n", r.n_tx, r.n_exc,
				r.n_drop, k);
			return -EPROTO;
		}
	}
	rte_pktmbuf_free_bulk(m, BURST);
	return 0;
}

static uint16_t io_poll(uint16_t port)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);
	uint16_t sent = rte_eth_tx_burst(port, 0, m, n);

	if (unlikely(sent < n))
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	return sent;
}

/* Packets sent: what io forward transmitted, what the relay's worker counted as tx. */
static uint64_t sent_by(struct dp_dpdk_worker *w, uint64_t io_sent)
{
	struct dp_dpdk_worker_stats st;

	if (!w)
		return io_sent;
	dp_dpdk_worker_stats(w, &st);
	return st.tx;
}

/* One poll of the port under test: io forward, or the relay's worker loop. */
static uint16_t poll_once(uint16_t port, struct dp_dpdk_worker *w)
{
	if (!w)
		return io_poll(port);
	dp_dpdk_worker_poll(w, dp_dpdk_now_ms());
	return 0;
}

/*
 * TSC of one window: the whole window, or with a memif @p peer (>= 0) only the polls of the port
 * under test, the reflector's polls between them left out.
 */
static uint64_t window(uint16_t port, int peer, struct dp_dpdk_worker *w, uint64_t *io)
{
	uint64_t t = 0, t0;

	if (peer < 0) {
		t0 = rte_rdtsc();
		for (unsigned int i = 0; i < BURSTS_PER_WINDOW; i++)
			*io += poll_once(port, w);
		return rte_rdtsc() - t0;
	}
	for (unsigned int i = 0; i < BURSTS_PER_WINDOW; i++) {
		io_poll((uint16_t)peer);
		t0 = rte_rdtsc();
		*io += poll_once(port, w);
		t += rte_rdtsc() - t0;
	}
	return t;
}

/* Best window in cycles per packet; every poll must move a whole burst (nothing lost). */
static double measure(uint16_t port, int peer, struct dp_dpdk_worker *w)
{
	const char *env = getenv("BENCH_WINDOWS");
	unsigned int windows = env ? (unsigned int)strtoul(env, NULL, 10) : WINDOWS;
	double best = 1e9;

	for (unsigned int k = 0; k < windows; k++) {
		uint64_t io = 0, s0 = sent_by(w, 0);
		uint64_t t = window(port, peer, w, &io);
		uint64_t pk = sent_by(w, io) - s0;

		if (pk != (uint64_t)BURST * BURSTS_PER_WINDOW) {
			fprintf(stderr, "%s: %" PRIu64 " packets sent, %u expected\n",
				w ? "relay" : "io", pk, BURST * BURSTS_PER_WINDOW);
			return -1;
		} /* a packet was lost: the numbers would flatter */
		if ((double)t / (double)pk < best)
			best = (double)t / (double)pk;
	}
	return best;
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;

	rte_malloc_get_socket_stats((int)rte_socket_id(), &st);
	return st.heap_allocsz_bytes;
}

static int port_by_name(const char *name)
{
	uint16_t port;

	return rte_eth_dev_get_port_by_name(name, &port) == 0 ? port : -ENODEV;
}

/*
 * The port to forward on. net_ring: RX and TX are one ring, preloaded; the PMD moves pointers
 * only. net_null (size=214): RX allocates mbufs, TX frees them, as a NIC's driver does; the
 * mempool hands back the mbufs just freed, whose data is what was sent: still valid packets.
 * memif: the client end of the pair (@p peer: the server end, the reflector).
 */
static int port_open(enum vdev v, uint32_t n_flows, struct rte_ring **ring, int *peer)
{
	char name[32];

	*ring = NULL;
	*peer = -1;
	if (v == VDEV_NULL)
		return port_by_name("net_null0");
	if (v == VDEV_MEMIF) {
		*peer = port_by_name("net_memif0");
		return *peer < 0 ? *peer : port_by_name("net_memif1");
	}
	snprintf(name, sizeof(name), "bl%u", n_flows);
	*ring =
	    rte_ring_create(name, RING_SLOTS, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!*ring)
		return -ENOMEM;
	return rte_eth_from_rings(name, ring, 1, ring, 1, (unsigned int)rte_socket_id());
}

static int port_start(uint16_t port)
{
	struct rte_eth_conf pc = { 0 }; /* as the backend: no PMD here offers checksum offload */

	if (rte_eth_dev_configure(port, 1, 1, &pc) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL) != 0 || rte_eth_dev_start(port) != 0)
		return -EIO;
	return 0;
}

/* The memif pair connects in the interrupt thread after both ends started: up to 5 s. */
static int link_wait(uint16_t port)
{
	struct rte_eth_link l;

	for (unsigned int i = 0; i < 500; i++) {
		if (rte_eth_link_get_nowait(port, &l) == 0 && l.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_ms(10);
	}
	return -ETIMEDOUT;
}

/* Gives back what circulates in the memif pair: a flow count's packets are its own. */
static void memif_drain(uint16_t port, uint16_t peer)
{
	struct rte_mbuf *m[BURST];

	for (unsigned int i = 0; i < 1000; i++) {
		uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);
		uint16_t k = rte_eth_rx_burst(peer, 0, m + n, (uint16_t)(BURST - n));

		if (n + k == 0)
			break;
		rte_pktmbuf_free_bulk(m, n + k);
	}
}

/* Both ends of the memif pair, started the first time (they stay up for every flow count). */
static int memif_start(uint16_t port, uint16_t peer)
{
	static bool started;
	int err;

	if (started)
		return 0;
	err = port_start(peer);
	if (err == 0)
		err = port_start(port);
	if (err == 0)
		err = link_wait(port);
	if (err == 0)
		err = link_wait(peer);
	started = err == 0;
	memif_drain(port, peer); /* the receiving end offers its buffers when it polls */
	return err;
}

/*
 * Removes the server's socket file. The pair is left up until the process ends: stopping or
 * closing it makes the PMD of DPDK 22.11 free memory it did not take from the heap.
 */
static void memif_close(void)
{
	unlink(memif_sock);
}

/*
 * Packets to random flows: into the ring, into every mbuf of the pool for net_null, or sent by
 * the memif reflector toward the port under test.
 */
static int preload(enum vdev v, struct rte_ring *ring, int peer, uint32_t n_flows,
		   const uint32_t *pi)
{
	static struct rte_mbuf *pkts[POOL_SIZE];
	unsigned int n = v == VDEV_RING	   ? RING_PKTS
			 : v == VDEV_MEMIF ? MEMIF_PKTS
					   : rte_mempool_avail_count(pool);
	unsigned int sent = 0;

	if (n > POOL_SIZE || rte_pktmbuf_alloc_bulk(pool, pkts, n) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		fill_pkt(pkts[i], (uint32_t)(((uint64_t)rand() << 31 ^ (uint64_t)rand()) % n_flows),
			 pi);
	if (v == VDEV_RING) {
		rte_ring_enqueue_bulk(ring, (void **)pkts, n, NULL);
		return 0;
	}
	for (unsigned int i = 0; v == VDEV_MEMIF && i < 1000 && sent < n; i++)
		sent += rte_eth_tx_burst((uint16_t)peer, 0, pkts + sent,
					 (uint16_t)RTE_MIN(n - sent, (unsigned int)BURST));
	if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	return v == VDEV_MEMIF && sent < n ? -EIO : 0;
}

static int run(uint32_t n_flows, enum vdev v)
{
	struct dp_dpdk_conf c;
	struct dataplane *dp;
	struct dp_dpdk_worker *w;
	struct rte_ring *ring;
	int port, peer, err;

	port = port_open(v, n_flows, &ring, &peer);
	if (port < 0)
		return port;
	memset(&c, 0, sizeof(c));
	c.n_ifaces = 1;
	c.ifaces[0].port_id = (uint16_t)port;
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
	size_t mem0 = heap_used();

	err = dp_dpdk_alloc(&dp, &c);
	if (err != 0)
		return err;
	w = dp_dpdk_worker_get(dp, 0);
	for (unsigned int a = 0; a < c.ifaces[0].n_addrs; a++) /* the peers are relay addresses */
		dp_dpdk_neigh_add(w, &c.ifaces[0].addrs[a].addr, &nh_mac);

	size_t mem_empty = heap_used();
	uint32_t *pi = involution(n_flows);

	err = add_flows(dp, n_flows, pi);
	if (err != 0)
		return err;
	size_t mem_flows = heap_used();

	err = latch_all(w, n_flows, pi);
	if (err == 0)
		err = v == VDEV_MEMIF ? memif_start((uint16_t)port, (uint16_t)peer)
				      : port_start((uint16_t)port);
	if (err == 0)
		err = preload(v, ring, peer, n_flows, pi);
	if (err != 0)
		return err;

	double io = measure((uint16_t)port, peer, NULL);
	double relay = measure((uint16_t)port, peer, w);
	double hz = (double)rte_get_tsc_hz();

	if (io < 0 || relay < 0)
		return -EPROTO;
	printf("%8u flows %-8s| relay %6.1f cycles/pkt %6.2f Mpps | io fwd %5.1f cycles/pkt "
	       "%7.2f Mpps | relay/io %4.2f | heap per flow %zu B (%zu table + %zu settings)\n",
	       n_flows, vdev_name[v], relay, hz / relay / 1e6, io, hz / io / 1e6, io / relay,
	       (mem_flows - mem0) / n_flows, (mem_empty - mem0) / n_flows,
	       (mem_flows - mem_empty) / n_flows);
	fflush(stdout);

	if (v == VDEV_MEMIF)
		memif_drain((uint16_t)port, (uint16_t)peer);
	else
		rte_eth_dev_stop((uint16_t)port);
	if (ring) {
		void *m;

		while (rte_ring_dequeue(ring, &m) == 0)
			rte_pktmbuf_free(m);
		rte_eth_dev_close((uint16_t)port);
		rte_ring_free(ring);
	}
	dataplane_free(dp);
	free(pi);
	return 0;
}

int main(int argc, char **argv)
{
	const char *eal[16] = { "bench_dpdk_loop",
				"--no-shconf",
				"--no-pci",
				"-l",
				"0",
				"--log-level=*:error",
				"--vdev=net_null0,size=214,copy=0" };
	int ne = 7, a = 1;
	char huge_dir[300], sock[2][160];

	/*
	 * The memif pair, both ends here (copy mode, the default). One process may not be both
	 * ends of a socket (the PMD keys its sockets by name and a listener takes no client): the
	 * client names the same file another way.
	 */
	snprintf(memif_sock, sizeof(memif_sock), "/tmp/bench_dpdk_memif.%d.sock", (int)getpid());
	snprintf(sock[0], sizeof(sock[0]),
		 "--vdev=net_memif0,role=server,socket-abstract=no,socket=%s", memif_sock);
	snprintf(sock[1], sizeof(sock[1]),
		 "--vdev=net_memif1,role=client,socket-abstract=no,socket=/tmp/.%s",
		 memif_sock + strlen("/tmp"));
	eal[ne++] = sock[0];
	eal[ne++] = sock[1];
	if (getenv("BENCH_DEBUG"))
		eal[ne++] = "--log-level=*:debug";
	if (argc > 2 && strcmp(argv[1], "--huge") == 0) { /* hugepages the caller reserved */
		snprintf(huge_dir, sizeof(huge_dir), "--huge-dir=%s", argv[2]);
		eal[ne++] = huge_dir;
		eal[ne++] = "--in-memory";
		a = 3;
	} else {
		eal[ne++] = "--no-huge";
		eal[ne++] = "-m";
		eal[ne++] = "1536";
	}

	static const uint32_t def[] = { 1000, 100000, 1000000 };
	int n = argc > a ? argc - a : 3;

	if (rte_eal_init(ne, (char **)eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench_pool", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!pool)
		return 1;
	printf("%s pages, TSC %.2f GHz, %u-byte frames (G.711 RTP)\n",
	       a == 3 ? "2 MiB huge" : "4 KiB", (double)rte_get_tsc_hz() / 1e9, HDR_LEN + RTP_LEN);
	for (int i = 0; i < n; i++) {
		uint32_t flows = argc > a ? (uint32_t)strtoul(argv[i + a], NULL, 10) : def[i];

		for (enum vdev v = VDEV_RING; v <= VDEV_MEMIF; v++) {
			int err = run(flows, v);

			if (err != 0) {
				fprintf(stderr, "%u flows, %s: %s\n", flows, vdev_name[v],
					strerror(-err));
				memif_close();
				return 1;
			}
		}
	}
	memif_close();
	return 0;
}
