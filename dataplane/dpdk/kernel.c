/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel path: a relay port's exceptions (SIP, UDP without a flow, TCP, other ICMP, ARP
 * replies) are written to its TAP port (net_tap, or virtio-user on vhost-net), whose kernel
 * interface carries the same addresses, so that ordinary sockets (the sbc's SIP) work there.
 * What the kernel sends on that interface goes out of the relay port unchanged.
 *
 * The TAP gets the relay port's MAC: the kernel's ARP replies and frames then name the address
 * the neighbours know. Each worker serves its own queue of each TAP: no locks.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpdk_priv.h"

static int kernel_port_start(struct dp_dpdk *d, unsigned int i)
{
	uint16_t tap = (uint16_t)d->exc_port[i];
	struct rte_ether_addr mac;
	int err;

	err = rte_eth_macaddr_get(d->ports[i], &mac);
	if (err == 0)
		err = dpdk_port_setup(d, tap, 0);
	if (err == 0)
		err = rte_eth_dev_default_mac_addr_set(tap, &mac);
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
		uint16_t nb = 0, sent;

		if (d->exc_port[p] < 0)
			continue;
		for (unsigned int j = 0; j < n; j++) {
			if (m[j]->port == d->ports[p])
				batch[nb++] = m[j];
			else
				rest[n_rest++] = m[j];
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

		if (d->exc_port[p] < 0)
			continue;
		n = rte_eth_rx_burst((uint16_t)d->exc_port[p], (uint16_t)w->id, pkts,
				     DP_DPDK_BURST_MAX);
		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(d->ports[p], (uint16_t)w->id, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
}
