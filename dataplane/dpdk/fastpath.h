/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-packet handlers of the burst function; each decides where its mbuf goes. */
#ifndef SBC_DATAPLANE_DPDK_FASTPATH_H
#define SBC_DATAPLANE_DPDK_FASTPATH_H

#include <arpa/inet.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dpdk_priv.h"
#include "parse.h"

enum dpdk_act {
	DPDK_TX,
	DPDK_EXC,
	DPDK_DROP,
	DPDK_HANDOFF, /**< another worker owns the flow */
};

#define DPDK_TTL 64 /* the relay originates what it sends */

/* l2.c: Ethernet header (and the egress interface's VLAN tag) for a frame leaving on @p ifc */
int dpdk_l2_output(struct rte_mbuf *m, struct dpdk_pkt *p, const struct dpdk_iface *ifc,
		   const struct rte_ether_addr *dst);

/* xlat.c: @p m's IP header replaced by one of @p family's, UDP checksum computed (0 addresses) */
int dpdk_xlat(struct rte_mbuf *m, struct dpdk_pkt *p, int family);

/*
 * frag.c: @p m (rewritten, with its Ethernet header; IP longer than @p mtu) cut into fragments
 * that wait in the worker (w->frag) to be sent; @p m is spent either way. 0, or -ENOBUFS
 * (counted: frag_failed).
 */
int dpdk_frag_out(struct dp_dpdk_worker *w, struct rte_mbuf *m, const struct dpdk_pkt *p,
		  uint16_t mtu);
/* the waiting fragments out of TX queue @p q of their ports (the worker loop), or freed */
void dpdk_frag_send(struct dp_dpdk_worker *w, uint16_t q);
void dpdk_frag_drop(struct dp_dpdk_worker *w);

/* neigh.c */
void dpdk_neigh_learn(struct dp_dpdk_worker *w, int family, const uint8_t *addr,
		      const struct rte_ether_addr *mac, bool create);
int dpdk_neigh_resolve(struct dp_dpdk_worker *w, struct rte_mbuf *m, const struct dpdk_iface *ifc,
		       int family, const uint8_t *nh, uint64_t now_ms, struct rte_ether_addr *mac);
void dpdk_neigh_sync(struct dp_dpdk_worker *w);
int dpdk_neigh_ring_create(struct dp_dpdk_worker *w);

/* arp.c: input, and @p m rewritten into a request for @p tip */
enum dpdk_act dpdk_arp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p);
int dpdk_arp_request(struct rte_mbuf *m, const struct dpdk_iface *ifc, const uint8_t *tip);

/* ndp.c: ICMPv6 neighbour solicitation/advertisement, and @p m rewritten into a solicitation */
bool dpdk_ndp_is_nd(const struct rte_mbuf *m, const struct dpdk_pkt *p);
enum dpdk_act dpdk_ndp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p);
int dpdk_ndp_solicit(struct rte_mbuf *m, const struct dpdk_iface *ifc, const uint8_t *target);

/* icmp.c */
enum dpdk_act dpdk_icmp_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p);

/* stun_fp.c */
enum dpdk_act dpdk_stun_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			      struct dpdk_flow *f, const struct dpdk_flow_cfg *c);

/* fwd.c */
enum dpdk_act dpdk_fwd(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
		       struct dpdk_flow *f, uint64_t now_ms);

static inline void *dpdk_l3(struct rte_mbuf *m, const struct dpdk_pkt *p)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off);
}

static inline void *dpdk_l4(struct rte_mbuf *m, const struct dpdk_pkt *p)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, p->l4_off);
}

/** The packet's source IP:port as a struct sa (UDP). */
static inline void dpdk_pkt_src(struct rte_mbuf *m, const struct dpdk_pkt *p, struct sa *sa)
{
	const struct rte_udp_hdr *u = dpdk_l4(m, p);

	if (p->family == AF_INET) {
		const struct rte_ipv4_hdr *ip = dpdk_l3(m, p);

		memset(&sa->u.in, 0, sizeof(sa->u.in));
		sa->u.in.sin_family = AF_INET;
		sa->u.in.sin_port = u->src_port;
		sa->u.in.sin_addr.s_addr = ip->src_addr;
		sa->len = sizeof(sa->u.in);
	} else {
		const struct rte_ipv6_hdr *ip = dpdk_l3(m, p);

		memset(&sa->u.in6, 0, sizeof(sa->u.in6));
		sa->u.in6.sin6_family = AF_INET6;
		sa->u.in6.sin6_port = u->src_port;
		memcpy(&sa->u.in6.sin6_addr, ip->src_addr, 16);
		sa->len = sizeof(sa->u.in6);
	}
}

/** The packet's source in the latch's compact form (scope 0, as dpdk_pkt_src() gives). */
static inline void dpdk_pkt_src_key(struct rte_mbuf *m, const struct dpdk_pkt *p,
				    struct latch_addr *k)
{
	const struct rte_udp_hdr *u = dpdk_l4(m, p);

	k->port = u->src_port;
	k->scope = 0;
	if (p->family == AF_INET) {
		const struct rte_ipv4_hdr *ip = dpdk_l3(m, p);

		k->family = AF_INET;
		k->addr[0] = ip->src_addr;
		k->addr[1] = k->addr[2] = k->addr[3] = 0;
	} else {
		const struct rte_ipv6_hdr *ip = dpdk_l3(m, p);

		k->family = AF_INET6;
		memcpy(k->addr, ip->src_addr, 16);
	}
}

/** Ends a frame at its IP datagram: Ethernet padding must not travel on. */
static inline void dpdk_trim_padding(struct rte_mbuf *m, const struct dpdk_pkt *p)
{
	uint32_t end = (uint32_t)p->l3_off + p->l3_len;

	if (rte_pktmbuf_data_len(m) > end)
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - end);
}

#endif
