/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file ng_tcp.h  The ng control protocol over TCP (Sipwise rtpengine's `listen-tcp-ng`).
 *
 * Each command on a connection is "<cookie> <bencode dict>" with nothing around it (see
 * ng_frame.h), answered on the same connection by "<cookie> <reply dict>" in order. The
 * commands are those of the UDP server and share its sessions and reply cache (ng.h), the
 * cache keyed on the peer's address so that a client that reconnects and retransmits gets
 * the same reply.
 *
 * Bounded: at most @ref ng_tcp_limits.max_conns connections (more are closed at once), a
 * command of at most max_msg bytes, and replies queued up to a high-water mark (beyond it
 * the connection is not read until the client reads). A connection idle for idle_ms is
 * closed. Bytes that cannot start a command get `result: error` when they carry a cookie,
 * then the connection is closed: a stream cannot be resynchronised.
 *
 * Teardown notifications (ng.h) of a call whose last command came over TCP are queued on that
 * connection, framed as a command; if it closed, on the newest connection from the client's
 * IP. The listener must outlive the calls' timeouts (it is freed at shutdown only).
 */
#ifndef SBC_RTPENGINE_NG_TCP_H
#define SBC_RTPENGINE_NG_TCP_H

#include <stdint.h>

#include "common/sa.h"

struct loop;
struct ng_server;
struct ng_tcp;

struct ng_tcp_limits {
	unsigned max_conns; /**< default 64 */
	uint32_t max_msg;   /**< bytes of one command, default 65536 (as a datagram) */
	uint32_t idle_ms;   /**< default 600 s */
};

struct ng_tcp_stats {
	uint64_t accepted; /**< connections accepted */
	uint64_t refused;  /**< closed at once: too many connections */
	uint64_t idle;	   /**< closed for idleness */
	uint64_t garbage;  /**< closed for bytes that are not a command */
	uint64_t commands; /**< commands answered */
	uint64_t stalls;   /**< reading paused: the client does not read its replies */
};

/**
 * Listens on @p addr; commands are answered by @p ng (which outlives this listener).
 * @p lim NULL or members 0: the defaults. @return 0 or a negative errno.
 */
int ng_tcp_alloc(struct ng_tcp **tp, struct loop *l, const struct sa *addr, struct ng_server *ng,
		 const struct ng_tcp_limits *lim);
/** Closes the listener and every connection. */
void ng_tcp_free(struct ng_tcp *t);
/** The bound address (with the port the kernel chose when the given one was 0). */
const struct sa *ng_tcp_addr(const struct ng_tcp *t);
const struct ng_tcp_stats *ng_tcp_stats(const struct ng_tcp *t);
/** Connections open now. */
unsigned ng_tcp_conns(const struct ng_tcp *t);

#endif
