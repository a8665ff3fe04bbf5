/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private state of the DPDK backend.
 *
 * Concurrency, in one paragraph. The control thread is the only writer of the flow slots' ids
 * (a slot per relay address and port: struct dpdk_amap), settings (cfg) and links. Workers only
 * read those, and own each flow's latch and counters (a flow's packets reach one worker). A flow's
 * cfg is immutable once published: an update publishes a new cfg and the old one, like a deleted
 * flow's slot, goes to the RCU defer queue; it is freed only when every worker has reported
 * quiescent (end of a burst) since. The control thread reads counters with relaxed atomics and the
 * latch under a sequence count.
 */
#ifndef SBC_DATAPLANE_DPDK_PRIV_H
#define SBC_DATAPLANE_DPDK_PRIV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/dataplane.h"
#include "dataplane/latch.h"
#include "dp_dpdk.h"

/** Hash key: (relay IP, relay UDP port), IPv4 in the first 4 bytes of addr. */
struct dpdk_flow_key {
	uint8_t family; /**< AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port_be;
	uint8_t addr[16];
} __rte_aligned(8); /* rte_hash_crc reads 8 bytes at a time */

#define DPDK_FLOW_KEY_LEN (offsetof(struct dpdk_flow_key, addr) + 16) /* no tail padding */

/*
 * The flow lookup. A flow's local address is always one of the interfaces' relay addresses and
 * its port one of that address's range, so the flow table is an array of slots, one per (relay
 * address, port of its range): a small open-addressing map filled at start-up (read-only
 * afterwards, cache-hot) gives the address's first slot, the port adds its offset. A packet's
 * flow is found without reading anything but that map: its own lines are the only cache misses
 * (a port map or a hash table costs one more). The price: a slot per port of each range, used or
 * not (struct dpdk_flow and dpdk_flow_cold, about 0.4 KiB per port).
 */
#define DPDK_AMAP_SIZE 256 /* power of two, above twice every interface's addresses */

struct dpdk_amap {
	uint8_t family; /**< 0: free */
	uint8_t addr[16];
	uint16_t port_min; /**< the port of slot base */
	uint32_t n_ports;  /**< slots base .. base + n_ports - 1; 0: no flows */
	uint32_t base;
};

/** The slot of port @p port (host order) of relay address @p e, or UINT32_MAX when none. */
static inline uint32_t dpdk_amap_slot(const struct dpdk_amap *e, uint16_t port)
{
	uint32_t i = (uint32_t)port - e->port_min; /* below the range: wraps above it */

	return i < e->n_ports ? e->base + i : UINT32_MAX;
}

struct dpdk_ice {
	char ufrag[DP_ICE_UFRAG_MAX];
	char pwd[DP_ICE_PWD_MAX];
};

/*
 * A flow's cfg_gen is its settings generation (cfg->gen, below DPDK_CFG_DEMUX) plus
 * DPDK_CFG_DEMUX while it has an RTCP link (dpdk_flow_link_rtcp()). The worker's seen_gen never
 * has that bit, so the fast lane's settings check declines every packet of such a flow: only the
 * full way (fwd.c) demultiplexes RTCP, and the fast lane needs no test of its own for it.
 */
#define DPDK_CFG_DEMUX	  (1u << 31)
#define DPDK_CFG_GEN_MASK (DPDK_CFG_DEMUX - 1)

/** Settings of a flow as signalled; immutable once published. Read first: gen, then latch. */
struct dpdk_flow_cfg {
	uint32_t gen; /**< bumped per update (below DPDK_CFG_DEMUX); restarts the latch */
	bool is_rtcp;
	/** latch.expected in compact form when media can be sent there, else family 0 */
	struct latch_addr dest;
	uint64_t restart_ms; /**< when the signalling arrived: the latch window starts there */
	const struct dpdk_ice *ice; /**< NULL when the flow has no ICE credentials */
	struct latch_params latch;
};

/* Counters every forwarded packet writes. */
struct dpdk_flow_ctr {
	uint64_t packets, bytes, last_ms;
};

/* Counters of the exceptions. */
struct dpdk_flow_ctr_rare {
	uint64_t errors, refused, stun_answered, stun_refused;
};

/*
 * How packets leave through a flow, precomputed: Ethernet addresses, VLAN, port, the rewritten
 * IPv4 addresses and UDP ports, and the port's MTU, so that a forwarded packet costs a few stores
 * and one incremental checksum (a longer one takes the full way: fragments, frag.c). Built by
 * the flow's owner from its destination and that destination's neighbour (fwd.c), used only by
 * the owner, for IPv4 frames whose VLAN tagging already matches the egress interface and when
 * the interface does no checksum offload. Valid while neigh_gen equals the owner's: a changed
 * neighbour bumps the worker's generation, a changed destination (latch or settings,
 * latch_write_end()) sets neigh_gen 0.
 */
struct dpdk_tx_tmpl {
	struct rte_ether_addr dst_mac, src_mac; /**< in frame order: one 12-byte copy */
	uint16_t port_id;
	uint16_t vlan;	    /**< egress VLAN id, 0: untagged */
	uint32_t ip[2];	    /**< IPv4 source (the flow's relay address), destination */
	uint16_t udp[2];    /**< UDP source, destination port (network order) */
	uint32_t neigh_gen; /**< 0: invalid */
	uint32_t serial;    /**< this build, unique per worker (dp_dpdk_worker.tmpl_serial) */
	uint16_t l3_max;    /**< the egress interface's MTU: longer datagrams take the full way */
};

/*
 * The checksum changes of a packet from a flow's latched source leaving by the template of the
 * flow it is linked to, TTL aside (struct dpdk_tx_tmpl, tx_tmpl.h): the same for every such
 * packet, since the lookup fixes the destination and the latch the source. Valid while serial
 * is that template's; 0 (the latch changed, a new slot): not computed.
 */
struct dpdk_fwd_sums {
	uint32_t serial;
	uint16_t ip, udp; /**< folded one's complement sums */
};

/*
 * What the fast lane reads of a flow's latch, in compare-ready form (struct dpdk_flow:
 * latched_key4, latched_ssrc), refreshed whenever the latch changes (dpdk_latched_set()). The
 * full latch stays in the cold part.
 */
#define DPDK_KEY4_SET  (1ull << 48)
#define DPDK_KEY4_SSRC (1ull << 49) /**< in latched_key4: an SSRC is noted (latched_ssrc) */

/** An IPv4 source (address, port in network order) as one word. */
static inline uint64_t dpdk_key4(uint32_t addr_be, uint16_t port_be)
{
	return DPDK_KEY4_SET | (uint64_t)port_be << 32 | addr_be;
}

/*
 * A flow's hot part, two cache lines per slot in one dense array, all a packet arriving on the
 * flow reads and writes: line 0 its checks and counters, line 1 a copy of the tx template of the
 * flow it is linked to (how its packets leave). A packet costs one 128-byte chunk. The linked
 * flow's own template (the original, built by the owner on the slow way out) and the rest of the
 * flow (struct dpdk_flow_cold) sit in a parallel array: the hot array is a third of what the
 * whole flows would be (fewer cache and TLB misses at 100k-1M).
 *
 * The copy is valid while copy.neigh_gen is the owner's neighbour generation and copy_link_gen
 * is link_gen. It is made (dpdk_tx_copy_refresh()) only when the linked flow links back (a pair),
 * so that whoever changes that flow finds the copy through its out:
 * - the control thread bumps link_gen of a flow when its link changes, and of the flow another
 *   links to when that one's link changes, its settings change or it is deleted;
 * - the owner drops the copy held by the flow a changed flow links to when it drops or rebuilds
 *   the changed flow's template (a latch change, dpdk_tx_tmpl_build());
 * - a changed neighbour bumps the worker's generation.
 */
struct dpdk_flow {
	/* line 0; control thread: id, cfg_gen, out, owner, iface; worker: the rest */
	_Atomic uint32_t id;	  /**< dp_flow_t while in use, 0 when free or deleted */
	_Atomic uint32_t cfg_gen; /**< cfg->gen (| DPDK_CFG_DEMUX), stored after cfg: no cfg miss */
	uint32_t seen_gen;
	_Atomic uint32_t out;
	uint16_t owner; /**< the worker that forwards it: group % workers */
	uint8_t iface;
	bool is_rtcp;	       /**< cfg->is_rtcp as of seen_gen */
	uint32_t latched_ssrc; /**< latch.ssrc, network order, valid with DPDK_KEY4_SSRC */
	uint64_t latched_key4; /**< IPv4 source latched: dpdk_key4() of it; else 0 */
	struct dpdk_flow_ctr ctr;
	struct dpdk_fwd_sums sums; /**< toward copy (or the linked flow's template) */
	/* line 1; control thread: link_gen; worker: the rest */
	_Atomic uint32_t link_gen __rte_cache_aligned;
	uint32_t copy_link_gen;	  /**< link_gen when copy was made */
	struct dpdk_tx_tmpl copy; /**< the linked flow's template as of copy_link_gen */
} __rte_cache_aligned;

static inline void dpdk_latched_set(struct dpdk_flow *f, const struct latch *l)
{
	const struct latch_addr *k = &l->learned_key;

	f->latched_key4 = latch_key_is_v4(k, k->addr[0], k->port)
			      ? dpdk_key4(k->addr[0], k->port) | (l->has_ssrc ? DPDK_KEY4_SSRC : 0)
			      : 0;
	f->latched_ssrc = htonl(l->ssrc);
}

/** The settings generation the owner has seen. */
static inline void dpdk_flow_seen_gen(struct dpdk_flow *f, uint32_t gen)
{
	f->seen_gen = gen;
}

/* The rest of a flow: settings changes, exceptions, statistics, the control thread. */
struct dpdk_flow_cold {
	struct latch latch;	    /**< the worker's; read by flow_stats() under latch_seq */
	_Atomic uint32_t latch_seq; /**< odd while the latch changes */
	struct dpdk_tx_tmpl tx;	    /**< packets leaving through this flow (the original) */
	/** deleted, waiting in the RCU defer queue: the slot is not set up again before every
	 * worker has been quiescent (a worker may still be on it: flow_table.c) */
	bool deferred;
	struct dpdk_flow_key key;
	struct dpdk_flow_ctr_rare rare;
	struct dpdk_flow_cfg *_Atomic cfg;
	/** RTCP multiplexed on this flow leaves through this flow id instead of out (RFC 5761
	 * demux, dp_flow_link_rtcp()); 0: with the RTP. Control thread writes, owner reads. */
	_Atomic uint32_t rtcp_out;
	uint32_t group;
	uint8_t gen; /**< slot generation, part of id */
};

_Static_assert(offsetof(struct dpdk_flow, sums) + sizeof(struct dpdk_fwd_sums) <= 64,
	       "a packet's flow: line 0");
_Static_assert(offsetof(struct dpdk_flow, link_gen) == 64 &&
		   offsetof(struct dpdk_flow, copy) + sizeof(struct dpdk_tx_tmpl) <= 128,
	       "the copy of its linked flow's template: line 1");
_Static_assert(sizeof(struct dpdk_flow) == 128, "two lines per flow");

/* An address in wire form: what the fast path compares against (no struct sa calls). */
struct dpdk_prefix {
	uint8_t family; /**< 0: unset */
	uint8_t len;
	uint8_t addr[16];
};

struct dpdk_iface {
	struct dp_dpdk_iface_conf conf;
	struct dpdk_prefix pfx[DP_DPDK_IFACE_ADDRS_MAX]; /**< the relay addresses' subnets */
	struct dpdk_prefix gw4, gw6;
	uint32_t net4[DP_DPDK_IFACE_ADDRS_MAX]; /**< the IPv4 subnets, each once, network order */
	uint32_t mask4[DP_DPDK_IFACE_ADDRS_MAX];
	unsigned int n_net4;
	struct rte_ether_addr mac;
	uint32_t ip4_be; /**< first IPv4 relay address: source of our ARP requests; 0: none */
	uint8_t ip6[16]; /**< first IPv6 relay address: source of our solicitations */
	bool has_ip6;
	bool tx_csum_offload;
	/** the port's MTU (rte_eth_dev_get_mtu() once configured): the longest IP datagram it
	 * sends; a longer one leaves in fragments (frag.c) */
	uint16_t mtu;
};

#define DPDK_NEIGH_AGE_STEP 4 /* entries dp_dpdk_neigh_age() looks at per call */

#define DPDK_NEIGH_IFACE_NONE 0xff

/* Fragments a worker holds between a burst and its sending (frag.c): two per packet of a burst. */
#define DPDK_FRAG_PENDING (2 * DP_DPDK_BURST_MAX)

struct dpdk_neigh {
	uint8_t family; /**< 0: free */
	uint8_t resolved;
	uint8_t iface;	   /**< where it was last needed (probes go there); DPDK_NEIGH_IFACE_NONE */
	uint8_t probes;	   /**< refresh requests since the last confirmation (neigh.c) */
	uint8_t is_static; /**< dp_dpdk_neigh_add(): never ages */
	struct rte_ether_addr mac;
	uint8_t addr[16];
	uint64_t req_ms;       /**< last ARP request / solicitation sent */
	uint64_t confirmed_ms; /**< last heard from (its ARP or ND) */
	uint64_t used_ms;      /**< last needed on a way out (dpdk_neigh_resolve()); 0: never */
};

struct dp_dpdk_worker {
	struct dp_dpdk *dp;
	unsigned int id; /**< RCU thread id */
	unsigned int lcore;
	struct rte_ring *exc_ring;
	struct rte_ring *handoff_ring; /**< packets of flows this worker owns, from other workers */
	struct rte_ring *neigh_ring;   /**< what other workers learned about neighbours (neigh.c) */
	struct dp_dpdk_worker_stats st;
	uint32_t neigh_gen;   /**< bumped when a neighbour changes; never 0 (struct dpdk_tx_tmpl) */
	uint32_t tmpl_serial; /**< tx templates built (tx_tmpl.c: never 0) */
	bool fast_lane;	      /**< false: every packet the full way (tests compare the two) */
	uint32_t neigh_cursor;	       /**< the next entry dp_dpdk_neigh_age() looks at */
	uint32_t neigh_count;	       /**< entries in use in neigh[] */
	uint32_t neigh_size;	       /**< entries of neigh[]: a power of two (dp_dpdk_conf) */
	uint32_t neigh_mask;	       /**< neigh_size - 1 */
	uint64_t neigh_voided_ms;      /**< the templates last voided to see what is in use; 0 */
	uint64_t neigh_voided_prev_ms; /**< ... the time before that; 0: not twice yet */
	uint64_t loop_ms;	  /**< the worker loop's clock (the now_ms it was given last) */
	struct dpdk_neigh *neigh; /**< neigh_size entries (rte_zmalloc(), op_free() frees) */
	uint8_t stun_buf[1500];	  /**< a STUN answer is built here, then copied into the mbuf */

	/* packets longer than their port's MTU (frag.c) */
	uint32_t frag_seq; /**< datagrams fragmented: their identification */
	uint16_t n_frag;   /**< fragments waiting in frag[] for the worker loop to send */
	struct rte_mbuf *frag[DPDK_FRAG_PENDING];
} __rte_cache_aligned;

struct dp_dpdk {
	struct dataplane dp;
	struct dpdk_iface ifaces[DP_DPDK_IFACES_MAX];
	unsigned int n_ifaces;
	uint16_t ports[DP_DPDK_IFACES_MAX]; /**< each port once (interfaces may share one) */
	unsigned int n_ports;
	int32_t exc_port[DP_DPDK_IFACES_MAX];  /**< ports[i]'s kernel path (TAP), -1: none */
	uint16_t port_mtu[DP_DPDK_IFACES_MAX]; /**< ports[i]'s MTU as configured; 0: DPDK's */
	unsigned int exc_started;	       /**< kernel-path ports started, in ports[] order */

	/* RX queues of ports[i] and of its kernel path: workers 0 .. n-1 poll one each */
	uint16_t n_rxq[DP_DPDK_IFACES_MAX], exc_n_rxq[DP_DPDK_IFACES_MAX];
	struct dpdk_amap amap[DPDK_AMAP_SIZE];
	struct dpdk_flow *flows;     /**< one slot per relay address and port (struct dpdk_amap) */
	struct dpdk_flow_cold *cold; /**< cold[i] is the rest of flows[i] */
	uint32_t n_slots;
	struct rte_rcu_qsbr *rcu;
	struct rte_rcu_qsbr_dq *dq;
	struct dp_dpdk_worker *workers;
	unsigned int n_workers;
	struct rte_mempool *pool;
	unsigned int n_mbufs;
	uint16_t rx_desc, tx_desc;
	volatile bool stop;
	unsigned int ports_started; /**< what op_free() must undo, also after a failed start */
	unsigned int launched;
};

/* relaxed single-writer counter increment */
static inline void dpdk_ctr_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t dpdk_ctr_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#define DPDK_ID_IDX_BITS 24
#define DPDK_ID_IDX_MASK ((1u << DPDK_ID_IDX_BITS) - 1)

/** The flow with id @p id, or NULL when there is none (deleted, slot reused). Inline: per packet.
 */
static inline struct dpdk_flow *dpdk_flow_get(struct dp_dpdk *d, dp_flow_t id)
{
	uint32_t idx = (id & DPDK_ID_IDX_MASK) - 1;
	struct dpdk_flow *f;

	if ((id & DPDK_ID_IDX_MASK) == 0 || idx >= d->n_slots)
		return NULL;
	f = &d->flows[idx];
	return atomic_load_explicit(&f->id, memory_order_acquire) == id ? f : NULL;
}

static inline struct dpdk_flow_cold *dpdk_flow_cold(const struct dp_dpdk *d,
						    const struct dpdk_flow *f)
{
	return &d->cold[f - d->flows];
}

/*
 * The owner, changing or dropping @p o's template: drops the copy of it that the flow @p o links
 * to may hold (only a flow @p o links to makes one: struct dpdk_flow).
 */
static inline void dpdk_copy_drop_at(struct dp_dpdk *d, const struct dpdk_flow *o)
{
	struct dpdk_flow *f = dpdk_flow_get(d, atomic_load_explicit(&o->out, memory_order_acquire));

	if (f && f->owner == o->owner)
		f->copy.neigh_gen = 0;
}

static inline uint32_t dpdk_amap_hash(int family, const uint8_t *addr)
{
	uint32_t a[4];

	if (family == AF_INET) {
		memcpy(a, addr, 4);
		return rte_hash_crc_4byte(a[0], AF_INET);
	}
	memcpy(a, addr, 16);
	return rte_hash_crc(a, 16, AF_INET6);
}

static inline bool dpdk_amap_eq(const struct dpdk_amap *e, int family, const uint8_t *addr)
{
	uint64_t x[2], y[2];

	if (e->family != family)
		return false;
	if (family == AF_INET) {
		uint32_t u, v;

		memcpy(&u, e->addr, 4);
		memcpy(&v, addr, 4);
		return u == v;
	}
	memcpy(x, e->addr, 16);
	memcpy(y, addr, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/** The map entry of relay address @p addr, or NULL when it is not one. */
static inline const struct dpdk_amap *dpdk_amap_find(const struct dp_dpdk *d, int family,
						     const uint8_t *addr)
{
	uint32_t h = dpdk_amap_hash(family, addr);

	for (unsigned int i = 0; i < DPDK_AMAP_SIZE; i++) {
		const struct dpdk_amap *e = &d->amap[(h + i) & (DPDK_AMAP_SIZE - 1)];

		if (e->family == 0)
			return NULL;
		if (dpdk_amap_eq(e, family, addr))
			return e;
	}
	return NULL;
}

/** For log lines and status: the ethdev name of @p port, else "port N", in @p buf. */
static inline const char *dpdk_port_name(uint16_t port, char buf[RTE_ETH_NAME_MAX_LEN])
{
	if (rte_eth_dev_get_name_by_port(port, buf) != 0)
		snprintf(buf, RTE_ETH_NAME_MAX_LEN, "port %u", port);
	return buf;
}

/* flow_table.c */
int dpdk_flows_init(struct dp_dpdk *d);
void dpdk_flows_fini(struct dp_dpdk *d);
int dpdk_flow_add(struct dp_dpdk *d, const struct dp_flow_params *p, dp_flow_t *out);
int dpdk_flow_update(struct dp_dpdk *d, dp_flow_t f, const struct dp_flow_params *p);
int dpdk_flow_link(struct dp_dpdk *d, dp_flow_t in, dp_flow_t out);
int dpdk_flow_link_rtcp(struct dp_dpdk *d, dp_flow_t in, dp_flow_t out);
int dpdk_flow_del(struct dp_dpdk *d, dp_flow_t f);
int dpdk_flow_stats(struct dp_dpdk *d, dp_flow_t f, struct dp_flow_stats *out);
int dpdk_key_from_sa(struct dpdk_flow_key *k, const struct sa *sa);

/* tx_tmpl.c */
const struct dpdk_tx_tmpl *dpdk_tx_copy_refresh(struct dp_dpdk *d, uint32_t wid, uint32_t neigh_gen,
						struct dpdk_flow *f);

/* kernel.c: the exception (TAP) ports */
int dpdk_kernel_start(struct dp_dpdk *d);
void dpdk_kernel_stop(struct dp_dpdk *d);
unsigned int dpdk_kernel_send(struct dp_dpdk_worker *w, struct rte_mbuf **m, unsigned int n);
void dpdk_kernel_poll(struct dp_dpdk_worker *w);

/* backend.c: a port's set-up, shared with the kernel path */
struct rte_eth_dev_info;
int dpdk_port_setup(struct dp_dpdk *d, uint16_t port, uint64_t tx_offloads, bool rss, uint16_t mtu,
		    uint16_t *n_rxq);
void dpdk_port_mtu_range(const struct rte_eth_dev_info *info, uint16_t *min, uint16_t *max);

/* iface.c */
void dpdk_iface_prepare(struct dpdk_iface *ifc);
void dpdk_iface_mtu_read(struct dpdk_iface *ifc);
int dpdk_iface_of_addr(const struct dp_dpdk *d, int family, const void *addr);
int dpdk_iface_of_rx(const struct dp_dpdk *d, uint16_t port, uint16_t vlan);
int dpdk_iface_next_hop(const struct dpdk_iface *ifc, int family, const uint8_t *dst, uint8_t *nh);

#endif
