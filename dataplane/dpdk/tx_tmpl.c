/* SPDX-License-Identifier: BSD-2-Clause */
#include "tx_tmpl.h"

/*
 * A new template serial, never 0. When the 32-bit count wraps, the checksum sums of this
 * worker's flows are dropped first (0: not computed), so that none carries a serial that a new
 * build repeats. Clearing is always safe: the fast lane computes them again.
 */
static uint32_t next_serial(struct dp_dpdk_worker *w)
{
	if (unlikely(++w->tmpl_serial == 0)) {
		for (uint32_t i = 0; i < w->dp->max_flows; i++)
			if (w->dp->flows[i].owner == w->id)
				w->dp->flows[i].sums.serial = 0;
		w->tmpl_serial = 1;
	}
	return w->tmpl_serial;
}

void dpdk_tx_tmpl_build(struct dp_dpdk_worker *w, struct dpdk_flow *o, const struct dpdk_iface *ifc,
			const struct latch_addr *dst, const struct rte_ether_addr *mac)
{
	struct dpdk_tx_tmpl *t = &o->tx;
	const struct dpdk_flow_key *k = &dpdk_flow_cold(w->dp, o)->key;

	/* only the owner uses it; IPv6 and checksum offload take the general way */
	if (o->owner != w->id || ifc->tx_csum_offload || dst->family != AF_INET ||
	    k->family != AF_INET) {
		t->neigh_gen = 0;
		return;
	}
	t->dst_mac = *mac;
	t->src_mac = ifc->mac;
	t->port_id = ifc->conf.port_id;
	t->vlan = ifc->conf.vlan;
	memcpy(&t->ip[0], k->addr, 4);
	t->ip[1] = dst->addr[0];
	t->udp[0] = k->port_be;
	t->udp[1] = dst->port;
	t->neigh_gen = w->neigh_gen;
	t->serial = next_serial(w);
}
