/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file sockets.h  The `sockets` dataplane backend: UDP sockets, io_uring or epoll.
 *
 * Each flow is one UDP socket bound to its local address. Worker threads each run their own
 * loop over the sockets of their flows (io_uring, or epoll where io_uring is missing: see
 * @ref dp_sockets_engine); a flow belongs to worker (group % workers), so linked
 * flows (one call) share a worker and forwarding never crosses threads. The control thread
 * sends flow changes to a worker over a single-producer/single-consumer ring plus an eventfd;
 * only dp_flow_del waits for the worker (the port is free again when it returns).
 *
 * Per packet: no lock, no allocation, no system call of its own (io_uring: one io_uring_enter
 * per round for all sockets; epoll: batches of @ref dp_sockets_conf.batch datagrams per
 * recvmmsg, one sendmmsg per batch and output socket).
 * Datagrams longer than DP_SOCKETS_PKT_MAX are dropped and counted as errors.
 */
#ifndef SBC_DATAPLANE_SOCKETS_H
#define SBC_DATAPLANE_SOCKETS_H

#include "dataplane/dataplane.h"

/** Largest datagram forwarded (RTP over a 1500-byte MTU fits with room to spare). */
#define DP_SOCKETS_PKT_MAX 2048

/** How workers wait for and move datagrams. */
enum dp_sockets_engine {
	/** io_uring when the kernel offers it, else epoll; SBC_DP_SOCKETS_ENGINE=epoll|uring
	 *  in the environment overrides (benchmarks and tests of either path) */
	DP_SOCKETS_ENGINE_AUTO = 0,
	DP_SOCKETS_ENGINE_EPOLL, /**< epoll + recvmmsg/sendmmsg per socket */
	/** io_uring: a multishot recvmsg per socket into a provided-buffer ring, sends queued as
	 *  SQEs, one io_uring_enter per loop across all sockets (falls back to epoll if absent) */
	DP_SOCKETS_ENGINE_URING,
	/** AF_XDP beside epoll (dataplane/README.md): an XDP program on the netdevs of
	 *  dp_sockets_conf.xdp_addrs hands datagrams for relay ports to AF_XDP sockets; one
	 *  worker. Runs as epoll/io_uring with a warning when XDP cannot be attached. */
	DP_SOCKETS_ENGINE_XDP,
};

struct dp_sockets_conf {
	unsigned workers; /**< forwarding threads; 0: 1 */
	unsigned batch;	  /**< datagrams per recvmmsg/sendmmsg (io_uring: STUN answers in
			       flight per round); 0: 32, at most 1024 */
	enum dp_sockets_engine engine;
	/** DP_SOCKETS_ENGINE_XDP: the relay addresses whose netdevs get the XDP program */
	const struct sa *xdp_addrs;
	unsigned n_xdp_addrs;
	/** DP_SOCKETS_ENGINE_XDP: frames (2 KiB each) per AF_XDP socket, one socket per RX queue
	 *  of each netdev; its RX ring holds half. 0: 65536 (128 MiB); a power of two from 4096
	 *  to 262144 (others are rounded down) */
	unsigned xdp_frames;
};

/** What the xdp engine did (all 0 under the other engines). */
struct dp_sockets_xdp_stats {
	bool active;	  /**< the XDP program is attached and the AF_XDP sockets run */
	unsigned sockets; /**< AF_XDP sockets (one per netdev queue) */
	uint64_t rx;	  /**< frames received on the AF_XDP sockets */
	uint64_t tx;	  /**< frames sent on the AF_XDP sockets (forwards and STUN answers) */
	uint64_t slow;	  /**< frames received there but sent through the flow's UDP socket */
	uint64_t dropped; /**< frames received there and dropped (no flow, latch, no parse) */
	/** frames the kernel dropped on the AF_XDP sockets (XDP_STATISTICS: rx_dropped, which
	 *  includes FILL ring empty, + RX ring full + invalid TX descriptors) */
	uint64_t kernel_dropped;
	uint64_t rx_ring_full; /**< of those: the RX ring was full (the worker fell behind) */
	uint64_t fill_empty;   /**< times the FILL ring was empty (frames all in flight) */
};

/**
 * Starts the backend and its worker threads. @p conf may be NULL (defaults).
 * @return 0, -ENOMEM, or the negative errno of a failed thread/epoll/eventfd creation.
 */
int dp_sockets_alloc(struct dataplane **dp, const struct dp_sockets_conf *conf);

/** The xdp engine's counters; -EINVAL when @p dp is not the sockets backend. */
int dp_sockets_xdp_stats(struct dataplane *dp, struct dp_sockets_xdp_stats *st);

#endif
