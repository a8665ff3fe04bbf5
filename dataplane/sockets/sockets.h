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
};

struct dp_sockets_conf {
	unsigned workers; /**< forwarding threads; 0: 1 */
	unsigned batch;	  /**< datagrams per recvmmsg/sendmmsg (io_uring: STUN answers in
			       flight per round); 0: 32, at most 1024 */
	enum dp_sockets_engine engine;
};

/**
 * Starts the backend and its worker threads. @p conf may be NULL (defaults).
 * @return 0, -ENOMEM, or the negative errno of a failed thread/epoll/eventfd creation.
 */
int dp_sockets_alloc(struct dataplane **dp, const struct dp_sockets_conf *conf);

#endif
