/* SPDX-License-Identifier: BSD-2-Clause */
#include "relay_dpdk.h"

#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "common/log.h"
#include "dataplane/dpdk/dp_dpdk.h"

static bool eal_started;

static int eal_start(const struct rtpengine_dpdk_conf *dc)
{
	char *argv[RTPENGINE_DPDK_EAL_MAX + 2];
	int argc = 0;

	argv[argc++] = (char *)"rtpengine";
	for (unsigned i = 0; i < dc->n_eal_args; i++)
		argv[argc++] = (char *)dc->eal_args[i]; /* rte_eal_init permutes, never writes */
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		log_err("dpdk: EAL init failed: %s", rte_strerror(rte_errno));
		return -(rte_errno ? rte_errno : EINVAL);
	}
	eal_started = true;
	return 0;
}

static int port_by_name(const char *name, uint16_t *id)
{
	if (rte_eth_dev_get_port_by_name(name, id) != 0) {
		log_err("dpdk: no ethdev \"%s\" (a --vdev or PCI device in eal_args?)", name);
		return -ENODEV;
	}
	return 0;
}

/* Widens @p a's port range (min above max: empty) to take in @p lo .. @p hi. */
static void range_add(struct dp_dpdk_addr *a, uint16_t lo, uint16_t hi)
{
	bool empty = a->port_min > a->port_max;

	a->port_min = empty ? lo : RTE_MIN(a->port_min, lo);
	a->port_max = empty ? hi : RTE_MAX(a->port_max, hi);
}

/*
 * The ports of relay address @p a that flows use: the ranges of the interfaces on it and its
 * STUN ports (stun.listen), as one range (the flow table has a slot per port of it: a STUN port
 * far from the media ports costs a slot per port between them), none when nothing uses it.
 */
static void addr_port_range(struct dp_dpdk_addr *a, const struct rtpengine_conf *cfg)
{
	a->port_min = 1;
	a->port_max = 0;
	for (unsigned i = 0; i < cfg->nifaces; i++)
		if (sa_equal_addr(&cfg->ifaces[i].local, &a->addr))
			range_add(a, cfg->ifaces[i].port_min, cfg->ifaces[i].port_max);
	for (unsigned i = 0; i < cfg->stun.n; i++)
		if (sa_equal_addr(&cfg->stun.listen[i], &a->addr))
			range_add(a, sa_port(&cfg->stun.listen[i]), sa_port(&cfg->stun.listen[i]));
}

static int iface_conf(struct dp_dpdk_iface_conf *ic, const struct rtpengine_dpdk_port *p,
		      const struct rtpengine_conf *cfg)
{
	int rc = port_by_name(p->device, &ic->port_id);

	if (rc == 0 && p->exception) {
		rc = port_by_name(p->exception, &ic->exc_port_id);
		ic->has_exc_port = rc == 0;
	}
	ic->vlan = p->vlan;
	ic->mtu = p->mtu;
	ic->n_addrs = p->n_addrs;
	for (unsigned k = 0; k < p->n_addrs; k++) {
		ic->addrs[k].addr = p->addrs[k];
		ic->addrs[k].prefix_len = p->prefix_len[k];
		addr_port_range(&ic->addrs[k], cfg);
	}
	ic->gateway4 = p->gateway4;
	ic->gateway6 = p->gateway6;
	return rc;
}

int relay_dpdk_alloc(struct dataplane **dp, const struct rtpengine_conf *cfg)
{
	const struct rtpengine_dpdk_conf *dc = &cfg->dpdk;
	struct dp_dpdk_conf c = {
		.n_ifaces = dc->n_ports,
		.n_workers = cfg->workers,
		.start = true,
		.n_mbufs = dc->mbufs,
		.rx_desc = dc->rx_desc,
		.tx_desc = dc->tx_desc,
		.neigh_size = dc->neighbours,
	};
	int rc = eal_start(dc);

	for (unsigned i = 0; rc == 0 && i < dc->n_ports; i++)
		rc = iface_conf(&c.ifaces[i], &dc->ports[i], cfg);
	if (rc == 0 && rte_lcore_count() < cfg->workers + 1) {
		log_err("dpdk: %u workers need %u lcores (eal_args -l), the EAL has %u",
			cfg->workers, cfg->workers + 1, rte_lcore_count());
		rc = -EINVAL;
	}
	if (rc == 0) {
		rc = dp_dpdk_alloc(dp, &c);
		if (rc)
			log_err("dpdk dataplane: %s", strerror(-rc));
	}
	if (rc == 0)
		log_notice("dpdk dataplane: %u ports, %u workers", dc->n_ports, cfg->workers);
	return rc;
}

void relay_dpdk_status(struct ctl_reply *r, struct dataplane *dp)
{
	struct dp_dpdk_port_info pi;

	for (unsigned i = 0; dp_dpdk_port_info(dp, i, &pi) != -ENOENT; i++) {
		ctl_printf(
		    r,
		    "dpdk-port: %s%s link=%s speed_mbps=%u mtu=%u rx=%llu tx=%llu rx_bytes=%llu "
		    "tx_bytes=%llu rx_missed=%llu rx_errors=%llu tx_errors=%llu "
		    "rx_nombuf=%llu\n",
		    pi.name, pi.is_exc ? " (kernel path)" : "", pi.link_up ? "up" : "down",
		    pi.speed_mbps, pi.mtu, (unsigned long long)pi.ipackets,
		    (unsigned long long)pi.opackets, (unsigned long long)pi.ibytes,
		    (unsigned long long)pi.obytes, (unsigned long long)pi.imissed,
		    (unsigned long long)pi.ierrors, (unsigned long long)pi.oerrors,
		    (unsigned long long)pi.rx_nombuf);
	}
	for (unsigned i = 0;; i++) {
		struct dp_dpdk_worker *w = dp_dpdk_worker_get(dp, i);
		struct dp_dpdk_worker_stats s;

		if (!w)
			break;
		dp_dpdk_worker_stats(w, &s);
		ctl_printf(r,
			   "dpdk-worker: %u rx=%llu tx=%llu exceptions=%llu malformed=%llu "
			   "no_flow=%llu refused=%llu no_dest=%llu no_neigh=%llu icmp_echo=%llu "
			   "stun=%llu exc_dropped=%llu exc_vlan_drop=%llu neigh_requests=%llu "
			   "neigh_lost=%llu neigh_removed=%llu fragmented=%llu frag_failed=%llu\n",
			   i, (unsigned long long)s.rx, (unsigned long long)s.tx,
			   (unsigned long long)s.exceptions, (unsigned long long)s.malformed,
			   (unsigned long long)s.no_flow, (unsigned long long)s.refused,
			   (unsigned long long)s.no_dest, (unsigned long long)s.no_neigh,
			   (unsigned long long)s.icmp_echo, (unsigned long long)s.stun,
			   (unsigned long long)s.exc_ring_full, (unsigned long long)s.exc_vlan_drop,
			   (unsigned long long)s.neigh_requests, (unsigned long long)s.neigh_lost,
			   (unsigned long long)s.neigh_removed, (unsigned long long)s.fragmented,
			   (unsigned long long)s.frag_failed);
	}
}

void relay_dpdk_cleanup(void)
{
	if (eal_started)
		rte_eal_cleanup();
	eal_started = false;
}
