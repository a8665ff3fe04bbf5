/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * STUN on a relay port, answered in place: stun_answer() (shared with the sockets backend)
 * builds the response in the worker's scratch buffer; it replaces the UDP payload and the
 * packet goes back where it came from. Lengths change, so both checksums are computed afresh
 * (STUN is rare next to RTP). STUN never moves the latch.
 */
#include "dataplane/stun.h"
#include "fastpath.h"

static void reply_headers(struct rte_mbuf *m, struct dpdk_pkt *p, uint16_t ulen)
{
	struct rte_udp_hdr *u = dpdk_l4(m, p);
	uint16_t port = u->src_port;

	u->src_port = u->dst_port;
	u->dst_port = port;
	u->dgram_len = rte_cpu_to_be_16(ulen);
	u->dgram_cksum = 0;
	if (p->family == AF_INET) {
		struct rte_ipv4_hdr *ip = dpdk_l3(m, p);
		uint32_t a = ip->src_addr;

		ip->src_addr = ip->dst_addr;
		ip->dst_addr = a;
		ip->time_to_live = DPDK_TTL;
		ip->total_length = rte_cpu_to_be_16(p->l4_off - p->l3_off + ulen);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	} else {
		struct rte_ipv6_hdr *ip = dpdk_l3(m, p);
		uint8_t a[16];

		memcpy(a, ip->src_addr, 16);
		memcpy(ip->src_addr, ip->dst_addr, 16);
		memcpy(ip->dst_addr, a, 16);
		ip->hop_limits = DPDK_TTL;
		ip->payload_len = rte_cpu_to_be_16(ulen);
		u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	}
}

enum dpdk_act dpdk_stun_input(struct dp_dpdk_worker *w, struct rte_mbuf *m, struct dpdk_pkt *p,
			      struct dpdk_flow *f, const struct dpdk_flow_cfg *c)
{
	const uint8_t *req = (const uint8_t *)dpdk_l4(m, p) + sizeof(struct rte_udp_hdr);
	struct stun_creds cr = { c->ice ? c->ice->ufrag : NULL, c->ice ? c->ice->pwd : NULL };
	struct rte_ether_addr asker = rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr;
	uint32_t room = m->buf_len - m->data_off - p->l4_off - sizeof(struct rte_udp_hdr);
	size_t outlen = 0;
	struct sa src;
	enum stun_outcome o;

	dpdk_pkt_src(m, p, &src);
	if (room > sizeof(w->stun_buf))
		room = sizeof(w->stun_buf);
	o = stun_answer(req, p->l4_len - sizeof(struct rte_udp_hdr), &src, &cr, w->stun_buf, room,
			&outlen);
	struct dpdk_flow_ctr_rare *rare = &dpdk_flow_cold(w->dp, f)->rare;

	if (o == STUN_DROP) {
		dpdk_ctr_add(&rare->stun_refused, 1);
		return DPDK_DROP;
	}
	dpdk_ctr_add(o == STUN_ANSWERED ? &rare->stun_answered : &rare->stun_refused, 1);
	memcpy((uint8_t *)dpdk_l4(m, p) + sizeof(struct rte_udp_hdr), w->stun_buf, outlen);
	m->data_len = (uint16_t)(p->l4_off + sizeof(struct rte_udp_hdr) + outlen);
	m->pkt_len = m->data_len;
	reply_headers(m, p, (uint16_t)(sizeof(struct rte_udp_hdr) + outlen));
	if (dpdk_l2_output(m, p, &w->dp->ifaces[f->iface], &asker) != 0)
		return DPDK_DROP;
	dpdk_ctr_add(&w->st.stun, 1);
	return DPDK_TX;
}
