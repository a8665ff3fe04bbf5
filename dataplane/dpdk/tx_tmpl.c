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
		for (uint32_t i = 0; i < w->dp->n_slots; i++)
			if (w->dp->flows[i].owner == w->id)
				w->dp->flows[i].sums.serial = 0;
		w->tmpl_serial = 1;
	}
	return w->tmpl_serial;
}

void dpdk_tx_tmpl_build(struct dp_dpdk_worker *w, struct dpdk_flow *o, const struct dpdk_iface *ifc,
			const struct latch_addr *dst, const struct rte_ether_addr *mac)
{
	struct dpdk_flow_cold *oc = dpdk_flow_cold(w->dp, o);
	struct dpdk_tx_tmpl *t = &oc->tx;
	const struct dpdk_flow_key *k = &oc->key;

	if (o->owner == w->id) /* the copy of the template this build replaces */
		dpdk_copy_drop_at(w->dp, o);

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
	t->l3_max = ifc->mtu;
	t->neigh_gen = w->neigh_gen;
	t->serial = next_serial(w);
}

/*
 * The template a packet of @p f (owned by worker @p wid, settings and latch checked) leaves by,
 * when the copy in its line 1 is not valid: the linked flow's own, read from its cold part; a
 * copy of it is made when the linked flow links back to @p f (struct dpdk_flow). NULL: none
 * usable (not linked, another owner, settings not yet seen, no valid template): the full way.
 */
const struct dpdk_tx_tmpl *dpdk_tx_copy_refresh(struct dp_dpdk *d, uint32_t wid, uint32_t neigh_gen,
						struct dpdk_flow *f)
{
	/* before anything of the linked flow: a change the control thread makes after it shows */
	uint32_t lg = atomic_load_explicit(&f->link_gen, memory_order_acquire);
	struct dpdk_flow *o = dpdk_flow_get(d, atomic_load_explicit(&f->out, memory_order_acquire));
	const struct dpdk_tx_tmpl *t;

	if (!o || o->owner != wid ||
	    (atomic_load_explicit(&o->cfg_gen, memory_order_acquire) & DPDK_CFG_GEN_MASK) !=
		o->seen_gen)
		return NULL;
	t = &dpdk_flow_cold(d, o)->tx;
	if (t->neigh_gen != neigh_gen)
		return NULL;
	if (atomic_load_explicit(&o->out, memory_order_acquire) !=
	    atomic_load_explicit(&f->id, memory_order_relaxed))
		return t; /* not a pair: whoever changes o would not find a copy */
	f->copy = *t;
	f->copy_link_gen = lg;
	f->sums.serial = 0; /* its serial may repeat one of an older copy (next_serial()) */
	return &f->copy;
}
