/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Neighbours (next hop IP -> MAC) and ARP, per worker: only the worker writes its table, so it
 * needs no lock. Open addressing with linear probing; entries never age yet.
 *
 * ARP requests for relay addresses are answered in place. A sender is learned when it asks for
 * a relay address or when it is already in the table (RFC 826 merge); replies also go on to the
 * kernel path, which may share the address.
 *
 * Unresolved next hop: the packet is dropped and counted (no_neigh, and the flow's errors), and
 * its mbuf becomes the ARP request, at most one per neighbour per second. Holding packets would
 * need a queue per neighbour; RTP resends every 20 ms and resolution takes one round trip, so
 * dropping costs a packet or two per new next hop. IPv6 has only static neighbours for now.
 */
#include <errno.h>

#include <rte_arp.h>
#include <rte_jhash.h>

#include "fastpath.h"

#define ARP_RETRY_MS 1000

static size_t fam_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static inline bool addr_eq(const uint8_t *a, const uint8_t *b, int family)
{
	uint64_t x[2], y[2];

	if (family == AF_INET) {
		uint32_t u, v;

		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		return u == v;
	}
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* The entry for (@p family, @p addr); with @p create a free one when there is none. */
static struct dpdk_neigh *neigh_find(struct dp_dpdk_worker *w, int family, const uint8_t *addr,
				     bool create)
{
	uint32_t h = rte_jhash(addr, fam_len(family), (uint32_t)family);

	for (unsigned int i = 0; i < DPDK_NEIGH_SIZE; i++) {
		struct dpdk_neigh *n = &w->neigh[(h + i) & (DPDK_NEIGH_SIZE - 1)];

		if (n->family == 0) {
			if (!create)
				return NULL;
			n->family = (uint8_t)family;
			memcpy(n->addr, addr, fam_len(family));
			return n;
		}
		if (n->family == family && addr_eq(n->addr, addr, family))
			return n;
	}
	return NULL;
}

int dp_dpdk_neigh_add(struct dp_dpdk_worker *w, const struct sa *ip,
		      const struct rte_ether_addr *mac)
{
	struct sa a = *ip;
	struct dpdk_flow_key k;
	struct dpdk_neigh *n;

	sa_set_port(&a, 1); /* the key wants a port; neighbours have none */
	if (dpdk_key_from_sa(&k, &a) != 0)
		return -EINVAL;
	n = neigh_find(w, k.family, k.addr, true);
	if (!n)
		return -ENOSPC;
	n->mac = *mac;
	n->resolved = 1;
	return 0;
}

static void arp_learn(struct dp_dpdk_worker *w, const struct rte_arp_ipv4 *a, bool ours)
{
	struct dpdk_neigh *n;

	if (a->arp_sip == 0 || !rte_is_unicast_ether_addr(&a->arp_sha))
		return;
	n = neigh_find(w, AF_INET, (const uint8_t *)&a->arp_sip, ours);
	if (n) {
		n->mac = a->arp_sha;
		n->resolved = 1;
	}
}

/* Turns the request in @p m into the reply from @p ifc. */
static enum dpdk_act arp_reply(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			       const struct dpdk_iface *ifc, struct rte_arp_hdr *ah)
{
	struct rte_arp_ipv4 *a = &ah->arp_data;
	struct rte_ether_addr asker = a->arp_sha;
	uint32_t tip = a->arp_tip;

	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_tha = asker;
	a->arp_tip = a->arp_sip;
	a->arp_sha = ifc->mac;
	a->arp_sip = tip;
	if (dpdk_l2_output(m, p, ifc, &rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr) != 0)
		return DPDK_DROP;
	dpdk_ctr_add(&w->st.arp_replies, 1);
	return DPDK_TX;
}

enum dpdk_act dpdk_arp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p)
{
	struct rte_arp_hdr *ah = dpdk_l3(m, p);
	int ifc = dpdk_iface_of_rx(w->dp, m->port, p->vlan);
	bool ours;

	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
	    ah->arp_plen != 4 || ifc < 0)
		return DPDK_EXC;
	ours = dpdk_iface_of_addr(w->dp, AF_INET, &ah->arp_data.arp_tip) == ifc;
	arp_learn(w, &ah->arp_data, ours);
	if (ours && ah->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST))
		return arp_reply(w, m, p, &w->dp->ifaces[ifc], ah);
	return DPDK_EXC;
}

/* Rewrites @p m into a broadcast ARP request for @p tip from @p ifc. */
static int arp_request(struct rte_mbuf *m, const struct dpdk_iface *ifc, const uint8_t *tip)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
								     0xff } };
	struct dpdk_pkt p = { .l3_off = sizeof(struct rte_ether_hdr) };
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (ifc->ip4_be == 0)
		return -EADDRNOTAVAIL;
	rte_pktmbuf_reset(m);
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (!eh)
		return -ENOBUFS;
	memset(eh, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = ifc->mac;
	ah->arp_data.arp_sip = ifc->ip4_be;
	memcpy(&ah->arp_data.arp_tip, tip, 4);
	return dpdk_l2_output(m, &p, ifc, &bcast);
}

int dpdk_neigh_resolve(struct dp_dpdk_worker *w, struct rte_mbuf *m, const struct dpdk_iface *ifc,
		       int family, const uint8_t *nh, uint64_t now_ms, struct rte_ether_addr *mac)
{
	struct dpdk_neigh *n = neigh_find(w, family, nh, family == AF_INET);

	if (likely(n && n->resolved)) {
		*mac = n->mac;
		return 0;
	}
	dpdk_ctr_add(&w->st.no_neigh, 1);
	if (!n || (n->req_ms && now_ms - n->req_ms < ARP_RETRY_MS))
		return -1;
	if (arp_request(m, ifc, nh) != 0)
		return -1;
	n->req_ms = now_ms ? now_ms : 1;
	dpdk_ctr_add(&w->st.arp_requests, 1);
	return 1;
}
