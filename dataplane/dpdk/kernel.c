/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel path: a relay port's exceptions (SIP, UDP without a flow, TCP, other ICMP, ARP
 * replies) are written to its TAP port (net_tap, or virtio-user on vhost-net), whose kernel
 * interface carries the same addresses, so that ordinary sockets (the sbc's SIP) work there.
 * What the kernel sends on that interface goes out of the relay port unchanged.
 *
 * The TAP gets the relay port's MAC: the kernel's ARP replies and frames then name the address
 * the neighbours know. Each worker serves its own queue of each TAP: no locks.
 *
 * VLANs: the TAP carries the VLAN of the port's first interface untagged, as a kernel interface
 * on an access port would see it: that tag comes off toward the kernel and goes onto the
 * kernel's untagged frames toward the wire (as l2.c does for relay traffic). Frames of other
 * VLANs pass as they are (VLAN devices on the TAP can take them); untagged frames on a port
 * whose TAP carries a tagged VLAN have no place there and are dropped (exc_vlan_drop).
 *
 * MTU: the TAP gets its port's, so that the kernel's frames (SIP) are as long as the wire's,
 * where the TAP's PMD takes it (DPDK 22.11's net_tap: up to 1504). Else it keeps its own, with
 * a warning: the kernel then sends shorter frames (fragments, a smaller TCP MSS), and longer
 * frames from the wire still reach it (a TAP takes frames past its MTU).
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>

#include "common/log.h"
#include "dpdk_priv.h"

/* The MTU for the kernel path of ports[@p i]: the port's where the TAP takes it, else 0. */
static uint16_t kernel_mtu(const struct dp_dpdk *d, unsigned int i)
{
	uint16_t tap = (uint16_t)d->exc_port[i], mtu = d->port_mtu[i], lo, hi;
	char name[RTE_ETH_NAME_MAX_LEN], pname[RTE_ETH_NAME_MAX_LEN];
	struct rte_eth_dev_info info;

	if (mtu == 0 || rte_eth_dev_info_get(tap, &info) != 0)
		return 0;
	dpdk_port_mtu_range(&info, &lo, &hi);
	if (mtu >= lo && mtu <= hi)
		return mtu;
	log_warn("dpdk: kernel path %s keeps its MTU: it takes %u to %u, not %s's %u",
		 dpdk_port_name(tap, name), lo, hi, dpdk_port_name(d->ports[i], pname), mtu);
	return 0;
}

static int kernel_port_start(struct dp_dpdk *d, unsigned int i)
{
	uint16_t tap = (uint16_t)d->exc_port[i];
	struct rte_ether_addr mac;
	int err;

	err = rte_eth_macaddr_get(d->ports[i], &mac);
	/* before the start brings the interface up: the kernel's IPv6 link-local address and
	 * its first frames (DAD, router solicitation) are then of the port's MAC */
	if (err == 0)
		err = rte_eth_dev_default_mac_addr_set(tap, &mac);
	if (err == 0)
		err = dpdk_port_setup(d, tap, 0, false, kernel_mtu(d, i), &d->exc_n_rxq[i]);
	return err;
}

/* Starts every kernel-path port; dpdk_kernel_stop() undoes what succeeded. */
int dpdk_kernel_start(struct dp_dpdk *d)
{
	for (unsigned int i = 0; i < d->n_ports; i++) {
		int err;

		if (d->exc_port[i] < 0)
			continue;
		err = kernel_port_start(d, i);
		d->exc_started = i + 1; /* stop and close even a half-started port */
		if (err != 0)
			return err;
	}
	return 0;
}

void dpdk_kernel_stop(struct dp_dpdk *d)
{
	for (unsigned int i = 0; i < d->exc_started; i++) {
		if (d->exc_port[i] < 0)
			continue;
		rte_eth_dev_stop((uint16_t)d->exc_port[i]);
		rte_eth_dev_close((uint16_t)d->exc_port[i]); /* removes the kernel interface */
	}
	d->exc_started = 0;
}

/* The VLAN the kernel path of @p port carries untagged: its first interface's (0: untagged). */
static uint16_t kernel_vlan(const struct dp_dpdk *d, uint16_t port)
{
	for (unsigned int i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].conf.port_id == port)
			return d->ifaces[i].conf.vlan;
	return 0;
}

static bool is_tagged(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	return rte_pktmbuf_data_len(m) >= sizeof(*eh) + sizeof(struct rte_vlan_hdr) &&
	       eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
}

/* A frame from the wire as the TAP carries it. @return false: it has no place there. */
static bool kernel_from_wire(struct rte_mbuf *m, uint16_t vlan)
{
	const struct rte_vlan_hdr *vh =
	    rte_pktmbuf_mtod_offset(m, const struct rte_vlan_hdr *, sizeof(struct rte_ether_hdr));

	if (!is_tagged(m))
		return vlan == 0;
	if (vlan != 0 && (rte_be_to_cpu_16(vh->vlan_tci) & 0xfff) == vlan)
		rte_vlan_strip(m);
	return true;
}

/* A frame of the kernel's as the wire carries it: untagged ones get the port's VLAN. */
static int kernel_to_wire(struct rte_mbuf **m, uint16_t vlan)
{
	if (rte_pktmbuf_data_len(*m) < sizeof(struct rte_ether_hdr))
		return -EINVAL;
	if (vlan == 0 || is_tagged(*m))
		return 0;
	(*m)->vlan_tci = vlan;
	return rte_vlan_insert(m); /* the mbuf's headroom takes the 4 bytes */
}

/* Keeps the frames of @p m[0 .. n-1] that kernel_to_wire() could shape. @return how many. */
static uint16_t kernel_to_wire_burst(struct dp_dpdk_worker *w, struct rte_mbuf **m, uint16_t n,
				     uint16_t vlan)
{
	uint16_t kept = 0;

	for (uint16_t j = 0; j < n; j++) {
		if (kernel_to_wire(&m[j], vlan) == 0) {
			m[kept++] = m[j];
		} else {
			dpdk_ctr_add(&w->st.exc_vlan_drop, 1);
			rte_pktmbuf_free(m[j]);
		}
	}
	return kept;
}

/*
 * Sends each exception to the kernel path of the port it arrived on, or queues it in the
 * worker's exception ring when that port has none. @return how many could not be taken (TAP
 * or ring full): they are left in m[0 .. ret-1] for the caller to free.
 */
unsigned int dpdk_kernel_send(struct dp_dpdk_worker *w, struct rte_mbuf **m, unsigned int n)
{
	struct dp_dpdk *d = w->dp;
	struct rte_mbuf *rest[DP_DPDK_BURST_MAX], *failed[DP_DPDK_BURST_MAX];
	unsigned int n_failed = 0, queued;

	for (unsigned int p = 0; p < d->n_ports && n > 0; p++) {
		struct rte_mbuf *batch[DP_DPDK_BURST_MAX];
		unsigned int n_rest = 0;
		uint16_t nb = 0, sent, vlan;

		if (d->exc_port[p] < 0)
			continue;
		vlan = kernel_vlan(d, d->ports[p]);
		for (unsigned int j = 0; j < n; j++) {
			if (m[j]->port != d->ports[p]) {
				rest[n_rest++] = m[j];
			} else if (kernel_from_wire(m[j], vlan)) {
				batch[nb++] = m[j];
			} else {
				dpdk_ctr_add(&w->st.exc_vlan_drop, 1);
				rte_pktmbuf_free(m[j]);
			}
		}
		sent =
		    nb ? rte_eth_tx_burst((uint16_t)d->exc_port[p], (uint16_t)w->id, batch, nb) : 0;
		for (uint16_t j = sent; j < nb; j++)
			failed[n_failed++] = batch[j];
		memcpy(m, rest, n_rest * sizeof(*m));
		n = n_rest;
	}
	queued = rte_ring_enqueue_burst(w->exc_ring, (void **)m, n, NULL);
	for (unsigned int j = queued; j < n; j++)
		failed[n_failed++] = m[j];
	memcpy(m, failed, n_failed * sizeof(*m));
	return n_failed;
}

/* The kernel's frames, from each TAP queue of this worker, out of the relay port. */
void dpdk_kernel_poll(struct dp_dpdk_worker *w)
{
	struct dp_dpdk *d = w->dp;
	struct rte_mbuf *pkts[DP_DPDK_BURST_MAX];

	for (unsigned int p = 0; p < d->n_ports; p++) {
		uint16_t n, sent;

		if (d->exc_port[p] < 0 || w->id >= d->exc_n_rxq[p])
			continue;
		n = rte_eth_rx_burst((uint16_t)d->exc_port[p], (uint16_t)w->id, pkts,
				     DP_DPDK_BURST_MAX);
		if (n == 0)
			continue;
		n = kernel_to_wire_burst(w, pkts, n, kernel_vlan(d, d->ports[p]));
		sent = rte_eth_tx_burst(d->ports[p], (uint16_t)w->id, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}
