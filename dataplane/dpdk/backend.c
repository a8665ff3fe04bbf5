/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DPDK backend's life cycle: EAL, interfaces, flow table, workers, and the lcore loop.
 * The flow ops run on the control thread while workers forward (see dpdk_priv.h).
 *
 * One TX queue per worker per port, and one RX queue per worker as far as the port has them,
 * spread by RSS where the port hashes (else as the PMD spreads them: af_packet's fanout; a NIC
 * without RSS fills queue 0); packets of a flow another worker owns are handed to that
 * worker's ring. Exceptions go to the port's kernel path (kernel.c) when it
 * has one, else they wait in a ring per worker (dp_dpdk_exception_dequeue()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "common/log.h"
#include "fastpath.h"

#define RING_SIZE      1024
#define DESC_PER_QUEUE 1024

/* A frame's bytes besides its IP datagram as NICs count them: Ethernet header, two tags, CRC */
#define FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN)
/* The largest MTU whose frame fits one mbuf (a uint16_t buffer, the headroom in front) */
#define MTU_MAX (UINT16_MAX - RTE_PKTMBUF_HEADROOM - FRAME_OVERHEAD)

uint64_t dp_dpdk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct dp_dpdk *dpdk_of(struct dataplane *dp)
{
	return (struct dp_dpdk *)dp;
}

static int op_add(struct dataplane *dp, const struct dp_flow_params *p, dp_flow_t *out)
{
	return dpdk_flow_add(dpdk_of(dp), p, out);
}

static int op_update(struct dataplane *dp, dp_flow_t f, const struct dp_flow_params *p)
{
	return dpdk_flow_update(dpdk_of(dp), f, p);
}

static int op_link(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return dpdk_flow_link(dpdk_of(dp), in, out);
}

static int op_link_rtcp(struct dataplane *dp, dp_flow_t in, dp_flow_t out)
{
	return dpdk_flow_link_rtcp(dpdk_of(dp), in, out);
}

static int op_del(struct dataplane *dp, dp_flow_t f)
{
	return dpdk_flow_del(dpdk_of(dp), f);
}

static int op_stats(struct dataplane *dp, dp_flow_t f, struct dp_flow_stats *out)
{
	return dpdk_flow_stats(dpdk_of(dp), f, out);
}

static void op_free(struct dataplane *dp);

static const struct dataplane_ops dpdk_ops = {
	.name = "dpdk",
	.flow_add = op_add,
	.flow_update = op_update,
	.flow_link = op_link,
	.flow_link_rtcp = op_link_rtcp,
	.flow_del = op_del,
	.flow_stats = op_stats,
	.free = op_free,
};

/* The EAL lives as long as the process: initialised once, by whoever comes first. */
static int eal_init(const struct dp_dpdk_conf *c)
{
	char *argv[64];
	int argc = c->eal_argc < 63 ? c->eal_argc : 63;

	if (rte_lcore_count() > 0) /* 0 only before rte_eal_init() */
		return 0;
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)c->eal_argv[i]; /* rte_eal_init permutes, never writes, strings */
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0 && rte_errno != EALREADY)
		return -rte_errno ? -rte_errno : -EINVAL;
	return 0;
}

/* Each port once; its interfaces must agree on the kernel-path port and the MTU. */
static int ports_add(struct dp_dpdk *d, const struct dp_dpdk_iface_conf *c)
{
	int32_t exc = c->has_exc_port ? c->exc_port_id : -1;

	if (exc >= 0 && (!rte_eth_dev_is_valid_port((uint16_t)exc) || exc == c->port_id))
		return -ENODEV;
	for (unsigned int i = 0; i < d->n_ports; i++) {
		if (d->ports[i] == c->port_id && d->port_mtu[i] != c->mtu) {
			char name[RTE_ETH_NAME_MAX_LEN];

			log_err("dpdk: interfaces on %s ask for MTU %u and %u: a port has one",
				dpdk_port_name(c->port_id, name), d->port_mtu[i], c->mtu);
			return -EINVAL;
		}
		if (d->ports[i] == c->port_id)
			return d->exc_port[i] == exc ? 0 : -EINVAL;
		if (exc >= 0 && (d->exc_port[i] == exc || d->ports[i] == exc))
			return -EINVAL;
	}
	d->exc_port[d->n_ports] = exc;
	d->port_mtu[d->n_ports] = c->mtu;
	/* a queue per worker until port_init() knows better (or a caller started the ports) */
	d->n_rxq[d->n_ports] = d->exc_n_rxq[d->n_ports] = (uint16_t)d->n_workers;
	d->ports[d->n_ports++] = c->port_id;
	return 0;
}

static int ifaces_init(struct dp_dpdk *d, const struct dp_dpdk_conf *c)
{
	if (c->n_ifaces == 0 || c->n_ifaces > DP_DPDK_IFACES_MAX)
		return -EINVAL;
	d->n_ifaces = c->n_ifaces;
	for (unsigned int i = 0; i < c->n_ifaces; i++) {
		struct dpdk_iface *ifc = &d->ifaces[i];

		ifc->conf = c->ifaces[i];
		if (ifc->conf.n_addrs > DP_DPDK_IFACE_ADDRS_MAX ||
		    !rte_eth_dev_is_valid_port(ifc->conf.port_id))
			return -ENODEV;
		if (rte_eth_macaddr_get(ifc->conf.port_id, &ifc->mac) != 0)
			return -ENODEV;
		int err = ports_add(d, &ifc->conf);

		if (err != 0)
			return err;
		dpdk_iface_prepare(ifc);
	}
	return 0;
}

static int workers_init(struct dp_dpdk *d, uint32_t neigh_size)
{
	d->workers =
	    rte_zmalloc("dp_dpdk_workers", sizeof(*d->workers) * d->n_workers, RTE_CACHE_LINE_SIZE);
	if (!d->workers)
		return -ENOMEM;
	for (unsigned int i = 0; i < d->n_workers; i++) {
		struct dp_dpdk_worker *w = &d->workers[i];
		char name[RTE_RING_NAMESIZE];

		w->dp = d;
		w->id = i;
		w->neigh_gen = 1;
		w->loop_ms = dp_dpdk_now_ms();
		w->fast_lane = true;
		w->neigh_size = neigh_size;
		w->neigh_mask = neigh_size - 1;
		w->neigh = rte_zmalloc_socket("dp_dpdk_neigh", sizeof(*w->neigh) * neigh_size,
					      RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
		snprintf(name, sizeof(name), "dpx%p_%u", (void *)d, i);
		w->exc_ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "dph%p_%u", (void *)d, i);
		w->handoff_ring = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
						  RING_F_SC_DEQ); /* any worker enqueues */
		if (!w->neigh || !w->exc_ring || !w->handoff_ring || dpdk_neigh_ring_create(w) != 0)
			return -ENOMEM;
		rte_rcu_qsbr_thread_register(d->rcu, i);
		rte_rcu_qsbr_thread_online(d->rcu, i);
	}
	return 0;
}

/*
 * RX queues: one per worker as far as the port has them (workers past the last one get packets
 * by handoff only); with @p rss and more than one, RSS on the IP addresses and UDP ports where
 * the port can hash them. @return how many.
 */
static uint16_t rxq_conf(const struct dp_dpdk *d, const struct rte_eth_dev_info *info, bool rss,
			 struct rte_eth_conf *pc)
{
	uint16_t n = (uint16_t)RTE_MIN(d->n_workers, (unsigned int)info->max_rx_queues);
	uint64_t hf = info->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);

	if (n == 0)
		n = 1;
	if (rss && n > 1 && hf != 0) {
		pc->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc->rx_adv_conf.rss_conf.rss_hf = hf; /* the PMD's default key */
	}
	return n;
}

/*
 * The MTUs a port takes, as rte_eth_dev_configure() and rte_eth_dev_set_mtu() check them: from
 * its min_mtu to its max_mtu, and no longer than its longest frame (max_rx_pktlen) less the
 * overhead ethdev assumes (max_rx_pktlen - max_mtu where the PMD reports both, else Ethernet
 * header and CRC). In DPDK 22.11 net_af_packet and net_memif take 1518-byte frames (MTU 1500),
 * net_tap 1522 (1504); net_ring and net_null any.
 */
void dpdk_port_mtu_range(const struct rte_eth_dev_info *info, uint16_t *min, uint16_t *max)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
	uint32_t hi = info->max_mtu;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	if (info->max_rx_pktlen <= overhead)
		hi = 0;
	else if (info->max_rx_pktlen - overhead < hi)
		hi = info->max_rx_pktlen - overhead;
	*min = info->min_mtu;
	*max = (uint16_t)hi;
}

/*
 * A TX queue per worker (no locks on TX), RX queues as rxq_conf() says, MTU @p mtu (0: DPDK's
 * default, 1500); starts the port. The MTU goes into the rte_eth_conf, where ethdev checks and
 * keeps it and a NIC's PMD programs it from; and, when it is not the one ethdev reported for
 * the port before, to the PMD's MTU hook before the start: PMDs over a kernel interface
 * (net_tap, net_af_packet) set that interface's MTU there only, with an ioctl that needs
 * CAP_NET_ADMIN (not made when the MTU stays: a default set-up asks for no new privilege). A
 * PMD without the hook (-ENOTSUP: net_ring, net_memif) carries what the rte_eth_conf gave it.
 */
int dpdk_port_setup(struct dp_dpdk *d, uint16_t port, uint64_t tx_offloads, bool rss, uint16_t mtu,
		    uint16_t *n_rxq)
{
	struct rte_eth_conf pc = { .txmode.offloads = tx_offloads, .rxmode.mtu = mtu };
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t had = 0;
	int err = rte_eth_dev_info_get(port, &info);

	if (err != 0)
		return err;
	*n_rxq = rxq_conf(d, &info, rss, &pc);
	rte_eth_dev_get_mtu(port, &had); /* before the configure records @p mtu */
	err = rte_eth_dev_configure(port, *n_rxq, d->n_workers, &pc);
	if (err == 0 && mtu != 0 && mtu != had) {
		err = rte_eth_dev_set_mtu(port, mtu);
		if (err == -ENOTSUP)
			err = 0;
		else if (err != 0)
			log_err("dpdk: %s refused MTU %u: %s", dpdk_port_name(port, name), mtu,
				strerror(-err));
	}
	for (uint16_t q = 0; err == 0 && q < *n_rxq; q++)
		err = rte_eth_rx_queue_setup(port, q, d->rx_desc, rte_eth_dev_socket_id(port), NULL,
					     d->pool);
	for (uint16_t q = 0; err == 0 && q < d->n_workers; q++)
		err =
		    rte_eth_tx_queue_setup(port, q, d->tx_desc, rte_eth_dev_socket_id(port), NULL);
	return err == 0 ? rte_eth_dev_start(port) : err;
}

static int port_init(struct dp_dpdk *d, unsigned int pi)
{
	uint16_t port = d->ports[pi];
	struct rte_eth_dev_info info;
	const uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint64_t offloads = 0;
	int err;

	err = rte_eth_dev_info_get(port, &info);
	if (err != 0)
		return err;
	if ((info.tx_offload_capa & csum) == csum)
		offloads = csum;
	for (unsigned int i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].conf.port_id == port)
			d->ifaces[i].tx_csum_offload = offloads != 0;
	err = dpdk_port_setup(d, port, offloads, true, d->port_mtu[pi], &d->n_rxq[pi]);
	for (unsigned int i = 0; err == 0 && i < d->n_ifaces; i++)
		if (d->ifaces[i].conf.port_id == port)
			dpdk_iface_mtu_read(&d->ifaces[i]); /* as configured */
	if (err == 0) {
		/* not every PMD can; a failure is harmless */
		rte_eth_promiscuous_enable(port);
		/* where promiscuous mode is refused (VFs): the solicited-node groups of the
		 * kernel path's own IPv6 addresses (link-local, SLAAC) must still get in */
		rte_eth_allmulticast_enable(port);
	}
	return err;
}

/* Sends what the burst produced, port by port; frees what the ports did not take. */
static void worker_tx(struct dp_dpdk_worker *w, uint16_t q, struct dp_dpdk_burst *r)
{
	struct rte_mbuf *by_port[DP_DPDK_BURST_MAX];

	/* one port: everything leaves there (mbuf->port is always one of ports[]) */
	if (w->dp->n_ports == 1 && r->n_tx > 0) {
		uint16_t sent = rte_eth_tx_burst(w->dp->ports[0], q, r->tx, r->n_tx);

		if (sent < r->n_tx)
			rte_pktmbuf_free_bulk(r->tx + sent, r->n_tx - sent);
	}
	for (unsigned int i = 0; w->dp->n_ports > 1 && i < w->dp->n_ports; i++) {
		uint16_t port = w->dp->ports[i], n = 0, sent;

		for (uint16_t j = 0; j < r->n_tx; j++)
			if (r->tx[j]->port == port)
				by_port[n++] = r->tx[j];
		sent = n ? rte_eth_tx_burst(port, q, by_port, n) : 0;
		if (sent < n)
			rte_pktmbuf_free_bulk(by_port + sent, n - sent);
	}
	if (unlikely(w->n_frag > 0)) /* packets longer than their port's MTU (frag.c) */
		dpdk_frag_send(w, q);
	unsigned int lost = dpdk_kernel_send(w, r->exc, r->n_exc);

	if (lost > 0) {
		dpdk_ctr_add(&w->st.exc_ring_full, lost);
		rte_pktmbuf_free_bulk(r->exc, lost);
	}
	rte_pktmbuf_free_bulk(r->drop, r->n_drop);
	for (uint16_t j = 0; j < r->n_handoff; j++) {
		struct rte_mbuf *m = r->handoff[j];

		if (rte_ring_enqueue(w->dp->workers[m->hash.usr].handoff_ring, m) != 0) {
			dpdk_ctr_add(&w->st.handoff_full, 1);
			rte_pktmbuf_free(m);
		}
	}
}

/* The requests that refresh neighbours in use (dp_dpdk_neigh_age()), out of their ports. */
static void neigh_probes_send(struct dp_dpdk_worker *w, uint64_t now_ms)
{
	struct rte_mbuf *m[DPDK_NEIGH_AGE_STEP];
	unsigned int n = dp_dpdk_neigh_age(w, now_ms, w->dp->pool, m, RTE_DIM(m));

	for (unsigned int i = 0; i < n; i++)
		if (rte_eth_tx_burst(m[i]->port, (uint16_t)w->id, &m[i], 1) == 0)
			rte_pktmbuf_free(m[i]);
}

void dp_dpdk_worker_poll(struct dp_dpdk_worker *w, uint64_t now_ms)
{
	struct dp_dpdk *d = w->dp;
	struct rte_mbuf *pkts[DP_DPDK_BURST_MAX];
	struct dp_dpdk_burst r;

	w->loop_ms = now_ms;
	dpdk_neigh_sync(w);
	for (unsigned int i = 0; i < d->n_ports; i++) {
		uint16_t n = w->id < d->n_rxq[i] ? rte_eth_rx_burst(d->ports[i], (uint16_t)w->id,
								    pkts, DP_DPDK_BURST_MAX)
						 : 0;

		if (n == 0)
			continue;
		dp_dpdk_process_burst(w, pkts, n, now_ms, &r);
		worker_tx(w, (uint16_t)w->id, &r);
	}
	unsigned int h =
	    rte_ring_dequeue_burst(w->handoff_ring, (void **)pkts, DP_DPDK_BURST_MAX, NULL);

	if (h > 0) {
		dp_dpdk_process_burst(w, pkts, (uint16_t)h, now_ms, &r);
		worker_tx(w, (uint16_t)w->id, &r);
	}
	dpdk_kernel_poll(w);
	neigh_probes_send(w, now_ms);
	rte_rcu_qsbr_quiescent(d->rcu, w->id);
}

static int worker_main(void *arg)
{
	struct dp_dpdk_worker *w = arg;

	while (!w->dp->stop)
		dp_dpdk_worker_poll(w, dp_dpdk_now_ms());
	return 0;
}

/* Each port's MTU within what the port takes (dpdk_port_mtu_range()) and one mbuf holds. */
static int ports_mtu_check(const struct dp_dpdk *d)
{
	for (unsigned int i = 0; i < d->n_ports; i++) {
		struct rte_eth_dev_info info;
		char name[RTE_ETH_NAME_MAX_LEN];
		uint16_t lo, hi, mtu = d->port_mtu[i];
		int err;

		if (mtu == 0)
			continue;
		err = rte_eth_dev_info_get(d->ports[i], &info);
		if (err != 0)
			return err;
		dpdk_port_mtu_range(&info, &lo, &hi);
		hi = RTE_MIN(hi, (uint16_t)MTU_MAX);
		if (mtu >= lo && mtu <= hi)
			continue;
		log_err("dpdk: %s: MTU %u is outside what the port takes, %u to %u",
			dpdk_port_name(d->ports[i], name), mtu, lo, hi);
		return -EINVAL;
	}
	return 0;
}

/*
 * The mbufs' data room: a frame of the largest port MTU in one segment (no port is set up for
 * chains, and the burst reads the first segment only), at least DPDK's default (2048). A
 * kernel-path port's MTU is at most its port's. A 9000-byte MTU makes each mbuf about 4 times
 * the default's.
 */
static uint16_t pool_data_room(const struct dp_dpdk *d)
{
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;

	for (unsigned int i = 0; i < d->n_ports; i++)
		room = RTE_MAX(room, (uint32_t)d->port_mtu[i] + FRAME_OVERHEAD);
	return (uint16_t)(RTE_PKTMBUF_HEADROOM + room);
}

static int start(struct dp_dpdk *d)
{
	unsigned int lcore, i = 0;
	int err;

	if (rte_lcore_count() < d->n_workers + 1) /* the control thread keeps the main lcore */
		return -EINVAL;
	/* every queue full, every ring full, and what the workers hold */
	unsigned int need = (d->n_ports * 2) * d->n_workers * (d->rx_desc + d->tx_desc) +
			    d->n_workers * (2 * RING_SIZE + 2 * DP_DPDK_BURST_MAX) + 512;

	if (d->n_mbufs == 0)
		d->n_mbufs = need;
	err = ports_mtu_check(d);
	if (err != 0)
		return err;
	d->pool = rte_pktmbuf_pool_create("dp_dpdk_pool", d->n_mbufs, 256, 0, pool_data_room(d),
					  (int)rte_socket_id());
	if (!d->pool)
		return -rte_errno;
	for (unsigned int p = 0; p < d->n_ports; p++) {
		err = port_init(d, p);
		if (err != 0)
			return err;
		d->ports_started++;
	}
	err = dpdk_kernel_start(d);
	if (err != 0)
		return err;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (i == d->n_workers)
			break;
		d->workers[i].lcore = lcore;
		err = rte_eal_remote_launch(worker_main, &d->workers[i], lcore);
		if (err != 0)
			return err;
		d->launched = ++i;
	}
	return 0;
}

int dp_dpdk_alloc(struct dataplane **dpp, const struct dp_dpdk_conf *c)
{
	struct dp_dpdk *d;
	uint32_t neigh_size;
	int err;

	err = eal_init(c);
	if (err != 0)
		return err;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dp.ops = &dpdk_ops;
	d->n_workers = c->n_workers ? c->n_workers : 1;
	d->n_mbufs = c->n_mbufs;
	d->rx_desc = c->rx_desc ? c->rx_desc : DESC_PER_QUEUE;
	d->tx_desc = c->tx_desc ? c->tx_desc : DESC_PER_QUEUE;
	neigh_size = c->neigh_size ? c->neigh_size : DP_DPDK_NEIGH_DEFAULT;
	err = rte_is_power_of_2(neigh_size) && neigh_size <= DP_DPDK_NEIGH_MAX ? 0 : -EINVAL;
	if (err == 0)
		err = ifaces_init(d, c);
	if (err == 0)
		err = dpdk_flows_init(d);
	if (err == 0)
		err = workers_init(d, neigh_size);
	if (err == 0 && c->start)
		err = start(d);
	if (err != 0) {
		op_free(&d->dp);
		return err;
	}
	*dpp = &d->dp;
	return 0;
}

static void op_free(struct dataplane *dp)
{
	struct dp_dpdk *d = dpdk_of(dp);

	d->stop = true;
	for (unsigned int i = 0; i < d->launched; i++)
		rte_eal_wait_lcore(d->workers[i].lcore);
	dpdk_kernel_stop(d);
	for (unsigned int p = 0; p < d->ports_started; p++) {
		rte_eth_dev_stop(d->ports[p]);
		rte_eth_dev_close(d->ports[p]);
	}
	for (unsigned int i = 0; d->workers && i < d->n_workers; i++) {
		struct rte_mbuf *m;

		rte_rcu_qsbr_thread_offline(d->rcu, i);
		rte_rcu_qsbr_thread_unregister(d->rcu, i);
		dpdk_frag_drop(&d->workers[i]); /* a worker driven by hand may have left some */
		while (d->workers[i].exc_ring &&
		       rte_ring_dequeue(d->workers[i].exc_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (d->workers[i].handoff_ring &&
		       rte_ring_dequeue(d->workers[i].handoff_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(d->workers[i].exc_ring);
		rte_ring_free(d->workers[i].handoff_ring);
		rte_ring_free(d->workers[i].neigh_ring);
		rte_free(d->workers[i].neigh);
	}
	dpdk_flows_fini(d);
	rte_free(d->workers);
	rte_mempool_free(d->pool);
	free(d);
}

struct dp_dpdk_worker *dp_dpdk_worker_get(struct dataplane *dp, unsigned int i)
{
	struct dp_dpdk *d = dpdk_of(dp);

	return i < d->n_workers ? &d->workers[i] : NULL;
}

void dp_dpdk_worker_stats(const struct dp_dpdk_worker *w, struct dp_dpdk_worker_stats *out)
{
	const uint64_t *src = (const uint64_t *)&w->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = dpdk_ctr_get(&src[i]);
}

unsigned int dp_dpdk_exception_dequeue(struct dataplane *dp, unsigned int i, struct rte_mbuf **m,
				       unsigned int n)
{
	struct dp_dpdk *d = dpdk_of(dp);

	if (i >= d->n_workers)
		return 0;
	return rte_ring_dequeue_burst(d->workers[i].exc_ring, (void **)m, n, NULL);
}
