/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A datagram longer than its egress port's MTU leaves in fragments, as the kernel fragments at
 * the source what the sockets backend relays (IP_PMTUDISC_WANT; IPv6 source fragmentation): the
 * relay re-originates the packet (its own address and port), so IPv4 fragments leave without DF
 * (whatever the sender set) and with an identification of ours, IPv6 ones with a Fragment
 * header (RFC 8200 4.5) carrying ours. The UDP checksum is the whole datagram's, computed
 * before (never offloaded: the NIC sees fragments); each IPv4 fragment gets its header checksum.
 * librte_ip_frag cuts the datagram (each fragment a header mbuf plus indirect mbufs on the
 * packet); each fragment is made one segment again (the ports are not set up for chains) and
 * gets the packet's Ethernet header, tag included, in front.
 *
 * Where the fragments go. The burst function returns one action per packet into arrays of a
 * burst's size (struct dp_dpdk_burst) and does no I/O: what it makes, its caller sends. So the
 * fragments wait in the worker (frag[]: two per packet of a burst, what a 1500-byte packet
 * becomes after IPv4 -> IPv6) and the worker loop sends them right after the burst's own
 * packets (dpdk_frag_send()); the packet they were cut from is spent and goes to drop[]. Sending
 * them from here instead (rte_eth_tx_burst() per packet) would put I/O inside the burst, onto
 * TX queues a worker driven by hand (tests, benchmarks) does not have. What does not fit in
 * frag[] is not sent (frag_failed). Fragments leave after the burst's other packets: a flow with
 * a small packet right behind a big one in the same burst sees them swapped; RTP reorders.
 *
 * No allocation but mbufs, from the pool the packet came from (the backend's, for every port it
 * starts). A rare path: its cost per packet does not matter; the fast lane pays one compare
 * (fwd_fast.h).
 */
#include <errno.h>

#include <rte_ethdev.h>
#include <rte_ip_frag.h>

#include "fastpath.h"

/*
 * The identification of the next datagram fragmented: unique among this worker's, and apart
 * from other workers' (several may send from one relay address to one destination): worker id
 * plus workers times a count. IPv4 takes the low 16 bits.
 */
static uint32_t frag_id(struct dp_dpdk_worker *w)
{
	return w->id + w->dp->n_workers * w->frag_seq++;
}

/* Fragment @p f of a packet as it leaves: one segment, its checksum or id, the L2 header @p l2. */
static int frag_finish(struct rte_mbuf *f, const struct dpdk_pkt *p, const uint8_t *l2, uint32_t id,
		       uint16_t port)
{
	uint8_t *d;

	/* the header mbuf holds a fragment: shorter than the packet, from the same pool */
	if (rte_pktmbuf_linearize(f) != 0)
		return -ENOBUFS;
	d = rte_pktmbuf_mtod(f, uint8_t *);
	if (p->family == AF_INET) {
		struct rte_ipv4_hdr *ip = (void *)d;

		ip->hdr_checksum = rte_ipv4_cksum(ip); /* librte_ip_frag left it 0 */
	} else {
		struct rte_ipv6_fragment_ext *fh = (void *)(d + sizeof(struct rte_ipv6_hdr));

		fh->id = rte_cpu_to_be_32(id); /* librte_ip_frag left it 0 */
	}
	d = (uint8_t *)rte_pktmbuf_prepend(f, p->l3_off);
	if (!d)
		return -ENOBUFS;
	memcpy(d, l2, p->l3_off);
	f->port = port;
	return 0;
}

int dpdk_frag_out(struct dp_dpdk_worker *w, struct rte_mbuf *m, const struct dpdk_pkt *p,
		  uint16_t mtu)
{
	uint8_t l2[sizeof(struct rte_ether_hdr) + sizeof(struct rte_vlan_hdr)];
	struct rte_mbuf **out = &w->frag[w->n_frag];
	uint16_t room = (uint16_t)(DPDK_FRAG_PENDING - w->n_frag);
	uint32_t id = frag_id(w);
	int32_t n;

	/* librte_ip_frag takes the datagram alone (padding trimmed), one segment: the Ethernet
	 * header comes off here and goes onto each fragment */
	memcpy(l2, rte_pktmbuf_mtod(m, const uint8_t *), p->l3_off);
	rte_pktmbuf_adj(m, p->l3_off);
	if (p->family == AF_INET) {
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);

		ip->fragment_offset = 0; /* no DF: we fragment (the header checksums come after) */
		ip->packet_id = rte_cpu_to_be_16((uint16_t)id);
		n = rte_ipv4_fragment_packet(m, out, room, mtu, m->pool, m->pool);
	} else {
		n = rte_ipv6_fragment_packet(m, out, room, mtu, m->pool, m->pool);
	}
	if (n <= 0) /* -ENOMEM: no mbufs; -EINVAL: no room in frag[] (or an MTU below IPv6's) */
		goto fail;
	for (int32_t i = 0; i < n; i++) {
		if (frag_finish(out[i], p, l2, id, m->port) != 0) {
			rte_pktmbuf_free_bulk(out, (unsigned int)n);
			goto fail;
		}
	}
	w->n_frag = (uint16_t)(w->n_frag + n);
	dpdk_ctr_add(&w->st.fragmented, 1);
	dpdk_ctr_add(&w->st.tx, (uint64_t)n);
	return 0;
fail:
	dpdk_ctr_add(&w->st.frag_failed, 1);
	return -ENOBUFS;
}

void dpdk_frag_send(struct dp_dpdk_worker *w, uint16_t q)
{
	unsigned int i = 0, j;

	while (i < w->n_frag) { /* runs of one port */
		uint16_t port = w->frag[i]->port, sent;

		for (j = i + 1; j < w->n_frag && w->frag[j]->port == port; j++)
			;
		sent = rte_eth_tx_burst(port, q, &w->frag[i], (uint16_t)(j - i));
		if (sent < j - i) /* as worker_tx(): what the port did not take is freed */
			rte_pktmbuf_free_bulk(&w->frag[i + sent], j - i - sent);
		i = j;
	}
	w->n_frag = 0;
}

unsigned int dp_dpdk_frag_take(struct dp_dpdk_worker *w, struct rte_mbuf **m, unsigned int n)
{
	unsigned int k = n < w->n_frag ? n : w->n_frag;

	memcpy(m, w->frag, k * sizeof(*m));
	memmove(w->frag, w->frag + k, (w->n_frag - k) * sizeof(*m));
	w->n_frag = (uint16_t)(w->n_frag - k);
	return k;
}

void dpdk_frag_drop(struct dp_dpdk_worker *w)
{
	rte_pktmbuf_free_bulk(w->frag, w->n_frag);
	w->n_frag = 0;
}
