/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file dp_dpdk.h  The DPDK dataplane backend: poll-mode lcores over a lock-free flow table.
 *
 * dp_dpdk_alloc() returns a struct dataplane whose ops program the flow table from the control
 * thread while the workers forward. Each worker runs dp_dpdk_process_burst() on what it receives:
 * relay media is latched, rewritten and sent; STUN binding requests, ARP requests for relay
 * addresses and ICMP echo requests to them are answered in place; everything else (SIP, unknown
 * traffic) is an exception for the kernel path; malformed frames are dropped and counted.
 *
 * The burst function is public so that tests and benchmarks drive a worker without ports: with
 * dp_dpdk_conf.start false nothing is started and the caller owns the worker's thread.
 */
#ifndef SBC_DATAPLANE_DP_DPDK_H
#define SBC_DATAPLANE_DP_DPDK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "common/sa.h"
#include "dataplane/dataplane.h"

#define DP_DPDK_BURST_MAX	64 /**< at most this many mbufs per dp_dpdk_process_burst() */
#define DP_DPDK_IFACE_ADDRS_MAX 32
#define DP_DPDK_IFACES_MAX	4
#define DP_DPDK_NEIGH_DEFAULT	4096	/**< neighbour entries per worker when not configured */
#define DP_DPDK_NEIGH_MAX	1048576 /**< ... at most (56 MiB per worker) */

/**
 * One relay address, the prefix of the subnet it is on (on-link next hops) and the UDP ports its
 * flows use: the flow table holds one slot per port of that range (dpdk_priv.h).
 */
struct dp_dpdk_addr {
	struct sa addr;
	uint8_t prefix_len;
	uint16_t port_min, port_max; /**< 0, 0: every port (1-65535); min above max: none */
};

/** A DPDK port (and VLAN) carrying relay addresses. */
struct dp_dpdk_iface_conf {
	uint16_t port_id;
	uint16_t vlan; /**< 802.1Q VLAN id; 0: untagged */
	struct dp_dpdk_addr addrs[DP_DPDK_IFACE_ADDRS_MAX];
	unsigned int n_addrs;
	struct sa gateway4; /**< next hop for off-link IPv4 destinations; may be unset */
	struct sa gateway6;
	/** The kernel path of this port: a TAP (net_tap) or virtio-user port carrying the same
	 * addresses. Exceptions go there, what the kernel sends there goes out of port_id.
	 * Interfaces on one port must agree. */
	bool has_exc_port;
	uint16_t exc_port_id;
	/** The port's MTU (jumbo frames: up to what the port takes, its rte_eth_dev_info; more
	 * refuses the start with -EINVAL); 0: DPDK's default, 1500. Its kernel-path port gets it
	 * too, where that port's PMD takes it. Interfaces on one port must agree. */
	uint16_t mtu;
};

struct dp_dpdk_conf {
	/** EAL arguments, argv[0] first; ignored when the EAL is already initialised. */
	const char *const *eal_argv;
	int eal_argc;
	struct dp_dpdk_iface_conf ifaces[DP_DPDK_IFACES_MAX];
	unsigned int n_ifaces;
	unsigned int n_workers; /**< 0: 1 */
	bool start;		/**< configure the ports and launch the workers on lcores */
	unsigned int n_mbufs;	/**< mbuf pool size; 0: what the ports and rings need */
	uint16_t rx_desc;	/**< RX descriptors per queue; 0: 1024 */
	uint16_t tx_desc;	/**< TX descriptors per queue; 0: 1024 */
	/** Neighbour entries (next hop IP -> MAC) of each worker's table: a power of two up to
	 * DP_DPDK_NEIGH_MAX, else dp_dpdk_alloc() fails with -EINVAL; 0: DP_DPDK_NEIGH_DEFAULT.
	 * When the table is full, a new next hop gets no entry: its packets drop (no_neigh,
	 * neigh.c). */
	uint32_t neigh_size;
};

/** Where dp_dpdk_process_burst() put each mbuf; each array holds at most the burst size. */
struct dp_dpdk_burst {
	struct rte_mbuf *tx[DP_DPDK_BURST_MAX];	  /**< mbuf->port is the port to send it on */
	struct rte_mbuf *exc[DP_DPDK_BURST_MAX];  /**< for the kernel path */
	struct rte_mbuf *drop[DP_DPDK_BURST_MAX]; /**< the caller frees these */
	struct rte_mbuf
	    *handoff[DP_DPDK_BURST_MAX]; /**< for worker mbuf->hash.usr: it owns the flow */
	uint16_t n_tx, n_exc, n_drop, n_handoff;
};

/** Counters of one worker (relaxed atomics, readable from any thread). */
struct dp_dpdk_worker_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t exceptions;
	uint64_t malformed; /**< truncated or inconsistent headers */
	uint64_t no_flow;   /**< relay-address UDP without a flow (sent as exception too) */
	uint64_t refused;   /**< latching refused */
	uint64_t no_dest;   /**< no destination (or not of the linked flow's family), no route */
	uint64_t no_neigh;  /**< next hop MAC unknown: dropped (see neigh.c) */
	uint64_t neigh_requests; /**< ARP requests / IPv6 solicitations sent */
	uint64_t neigh_replies;	 /**< ARP replies / IPv6 advertisements for relay addresses */
	uint64_t icmp_echo;	 /**< echo requests to relay addresses answered */
	uint64_t stun;		 /**< STUN answers (success or error) sent */
	uint64_t exc_ring_full;	 /**< exceptions dropped because the kernel path was full */
	uint64_t handoffs;	 /**< packets passed to the worker that owns their flow */
	uint64_t handoff_full;	 /**< ... dropped because that worker's ring was full */
	/** frames dropped between the wire and the kernel path for their VLAN (kernel.c): untagged
	 * on a port whose TAP carries a tagged VLAN, or no room for the kernel's tag */
	uint64_t exc_vlan_drop;
	uint64_t neigh_lost;	/**< neighbours given up: refresh requests unanswered (neigh.c) */
	uint64_t neigh_removed; /**< neighbour entries aged out: unneeded, or unresolved and idle */
	/** packets longer than their egress port's MTU, sent in fragments as the kernel would
	 * (frag.c); the fragments count in tx */
	uint64_t fragmented;
	/** ... that could not be: no mbufs for the fragments (or no room until they are sent):
	 * dropped, an error of their flow */
	uint64_t frag_failed;
};

struct dp_dpdk_worker;

/** Link state and counters of one port of a started backend (see dp_dpdk_port_info()). */
struct dp_dpdk_port_info {
	char name[64]; /**< the ethdev name, e.g. "net_af_packet0" */
	uint16_t port_id;
	bool is_exc; /**< the kernel path (TAP) of another port */
	bool link_up;
	uint32_t speed_mbps;
	uint16_t mtu; /**< as the port runs (rte_eth_dev_get_mtu()); 0: unknown */
	uint64_t ipackets, opackets, ibytes, obytes;
	uint64_t imissed, ierrors, oerrors, rx_nombuf;
};

/** Allocates the backend; initialises the EAL when nobody did. @return 0 or -errno. */
int dp_dpdk_alloc(struct dataplane **dp, const struct dp_dpdk_conf *c);

/** Worker @p i (< n_workers), or NULL. */
struct dp_dpdk_worker *dp_dpdk_worker_get(struct dataplane *dp, unsigned int i);

/**
 * Processes @p n (<= DP_DPDK_BURST_MAX; mbufs beyond are left untouched) received mbufs at
 * monotonic time @p now_ms into @p res, then reports the worker quiescent for RCU. Every mbuf
 * processed ends in exactly one array of @p res; one sent in fragments (longer than its port's
 * MTU) in drop, its fragments in the worker (dp_dpdk_frag_take()). Call only from the worker's
 * own thread.
 */
void dp_dpdk_process_burst(struct dp_dpdk_worker *w, struct rte_mbuf **pkts, uint16_t n,
			   uint64_t now_ms, struct dp_dpdk_burst *res);

/**
 * Takes up to @p n fragments that the worker's bursts made since it was last asked (packets
 * longer than their egress port's MTU: the packet itself goes to res->drop, its fragments wait
 * in the worker, mbuf->port set). dp_dpdk_worker_poll() sends them after each burst; a caller
 * driving dp_dpdk_process_burst() itself takes them here and owns them. @return how many.
 */
unsigned int dp_dpdk_frag_take(struct dp_dpdk_worker *w, struct rte_mbuf **m, unsigned int n);

/**
 * One iteration of a worker's loop: every port's RX queue @p w->id through
 * dp_dpdk_process_burst() and out, the handoff ring, the kernel path. The workers of a started
 * backend run it; a benchmark may drive a backend whose ports it started itself.
 */
void dp_dpdk_worker_poll(struct dp_dpdk_worker *w, uint64_t now_ms);

void dp_dpdk_worker_stats(const struct dp_dpdk_worker *w, struct dp_dpdk_worker_stats *out);

/**
 * Takes up to @p n exceptions that worker @p i queued for the kernel path (started backend
 * only; one consumer thread). The caller owns the mbufs. @return how many.
 */
unsigned int dp_dpdk_exception_dequeue(struct dataplane *dp, unsigned int i, struct rte_mbuf **m,
				       unsigned int n);

/**
 * Ages the neighbour table a few entries further (neigh.c): the worker loop calls it each time
 * round; tests call it with the clock they want. Up to @p max ARP requests / neighbour
 * solicitations that refresh neighbours in use, built in mbufs of @p mp, land in @p probes to be
 * sent (mbuf->port). @return how many.
 */
unsigned int dp_dpdk_neigh_age(struct dp_dpdk_worker *w, uint64_t now_ms, struct rte_mempool *mp,
			       struct rte_mbuf **probes, unsigned int max);

/** A static neighbour (IPv4 or IPv6 next hop -> MAC). Before the worker runs, or from it. */
int dp_dpdk_neigh_add(struct dp_dpdk_worker *w, const struct sa *ip,
		      const struct rte_ether_addr *mac);

/**
 * Frees what deleted flows and replaced flow settings held, as far as every worker has been
 * quiescent since. @return how many were freed; *@p pending (may be NULL) how many still wait.
 */
unsigned int dp_dpdk_reclaim(struct dataplane *dp, unsigned int *pending);

/**
 * Port @p i (0 .. n-1: the relay ports, then their kernel-path ports) of a started backend.
 * @return 0, -ENOENT past the last port, or a negative errno from the driver.
 */
int dp_dpdk_port_info(struct dataplane *dp, unsigned int i, struct dp_dpdk_port_info *out);

/** CLOCK_MONOTONIC in ms: the clock of now_ms and of dp_flow_stats.last_packet_ms. */
uint64_t dp_dpdk_now_ms(void);

#endif
