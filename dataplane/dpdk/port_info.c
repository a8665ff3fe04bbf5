/* SPDX-License-Identifier: BSD-2-Clause */
/* Link state and counters of the backend's ports, for `status` and metrics. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpdk_priv.h"

int dp_dpdk_port_info(struct dataplane *dp, unsigned int i, struct dp_dpdk_port_info *out)
{
	struct dp_dpdk *d = (struct dp_dpdk *)dp;
	struct rte_eth_link link;
	struct rte_eth_stats st;
	int err;

	memset(out, 0, sizeof(*out));
	if (i < d->ports_started) {
		out->port_id = d->ports[i];
	} else {
		unsigned int k = i - d->ports_started, p;

		for (p = 0; p < d->exc_started; p++)
			if (d->exc_port[p] >= 0 && k-- == 0)
				break;
		if (p == d->exc_started)
			return -ENOENT;
		out->port_id = (uint16_t)d->exc_port[p];
		out->is_exc = true;
	}
	dpdk_port_name(out->port_id, out->name);
	if (rte_eth_dev_get_mtu(out->port_id, &out->mtu) != 0)
		out->mtu = 0;
	err = rte_eth_link_get_nowait(out->port_id, &link);
	if (err == 0) {
		out->link_up = link.link_status == RTE_ETH_LINK_UP;
		out->speed_mbps =
		    link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
		err = rte_eth_stats_get(out->port_id, &st);
	}
	if (err != 0)
		return err;
	out->ipackets = st.ipackets;
	out->opackets = st.opackets;
	out->ibytes = st.ibytes;
	out->obytes = st.obytes;
	out->imissed = st.imissed;
	out->ierrors = st.ierrors;
	out->oerrors = st.oerrors;
	out->rx_nombuf = st.rx_nombuf;
	return 0;
}
