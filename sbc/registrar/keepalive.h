/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file keepalive.h  NAT keep-alives toward registered contacts (RFC 3581, 5626, 6314).
 *
 * Every binding of the registrar gets a keep-alive from the SBC over the flow
 * it registered by, so that the NAT in front of the UA keeps its mapping open
 * and a UA that is gone loses its binding before it expires:
 *  - UDP, method OPTIONS: an OPTIONS to the Contact URI, as a client
 *    transaction (retransmissions, Timer F). Any response, 404/405/501
 *    included, proves the path alive and resets the failure count; a timeout
 *    or a transport error is a failure. max_failures failures in a row drop
 *    the binding (location_remove).
 *  - UDP, method CRLF: a CRLFCRLF datagram. Nothing answers it: it only keeps
 *    the pinhole open; only send errors count as failures.
 *  - TCP/TLS: a CRLFCRLF ping (RFC 5626 §3.5.1) on the binding's connection,
 *    which also keeps the transport's idle timer from reaping it. A connection
 *    already gone (-ENOTCONN) drops the binding at once; a closed one reaches
 *    registrar_flow_closed.
 *  - Pongs: the transport reports every keep-alive from a UA and the server
 *    hands it to keepalive_flow_alive(): any of them resets the failures. A
 *    UA that has once answered a ping (the lone CRLF after ours on a stream;
 *    on UDP a CRLF datagram while our ping waits) is held to it: each round
 *    that finds the previous ping unanswered is a failure, and max_failures
 *    in a row drop the binding (a UA gone silent behind a connection that
 *    stays up, or behind a NAT that still takes datagrams). UAs that never
 *    answer are judged by send errors only, as above.
 *
 * Timing: each binding has its own timer (struct timers, O(log n) per
 * operation; nothing is ever scanned). The first keep-alive goes out after a
 * random 50..100% of the interval (a burst of REGISTERs after a restart is
 * spread over half an interval), the next ones after 80..100% (RFC 5626
 * §4.4.1), so bindings drift apart. On top, a pacer bounds the sends to
 * max_per_sec: a timer that finds the current millisecond's budget spent is
 * moved, once, to the first millisecond with room. While an OPTIONS is still
 * in flight (Timer F may outlast the interval) the next round is skipped.
 *
 * A refreshing REGISTER replaces the binding (location.h): its keep-alive
 * starts over, failures forgotten. A removed binding cancels its keep-alive
 * and terminates its OPTIONS transaction.
 *
 * Entries come from a free list: after the peak number of bindings is
 * reached nothing more is allocated. Not thread-safe: one per shard, on the
 * thread of its timers, transaction layer and registrar.
 */
#ifndef SBC_REGISTRAR_KEEPALIVE_H
#define SBC_REGISTRAR_KEEPALIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbc/sip/transport.h"

struct timers;
struct sip_tsx_layer;
struct registrar;
struct keepalive;

enum keepalive_method {
	KEEPALIVE_OPTIONS = 0, /**< OPTIONS over UDP (CRLF pings on streams) */
	KEEPALIVE_CRLF,	       /**< CRLFCRLF everywhere: keeps pinholes, detects nothing on UDP */
};

/**
 * Sends raw bytes over @p flow (the CRLF keep-alives). Defaults to
 * sip_transport_send(); tests give a fake.
 */
typedef int(keepalive_send_h)(void *arg, const struct sip_flow *flow, const void *buf, size_t len);

/** Settings; zero fields take the defaults. */
struct keepalive_conf {
	enum keepalive_method method;
	uint32_t interval_s;  /**< default 30 */
	uint8_t max_failures; /**< failures in a row that drop a binding; default 3 */
	uint32_t max_per_sec; /**< keep-alives sent per second at most; default 20000 */
	const char *user;     /**< From user of the OPTIONS; default "keepalive" */
	/**
	 * host[:port] for Via, From and Contact of the OPTIONS (an advertised
	 * address); NULL: the flow's local address (the listener the UA sent to).
	 */
	const char *host;
	keepalive_send_h *send_h; /**< NULL: sip_transport_send on the transport */
	void *send_arg;
};

struct keepalive_stats {
	uint32_t bindings; /**< bindings with a keep-alive now */
	uint64_t sent;	   /**< OPTIONS requests and CRLF pings sent */
	uint64_t answered; /**< OPTIONS that got a response */
	uint64_t failed;   /**< OPTIONS timed out, sends that failed */
	uint64_t dropped;  /**< bindings removed after failures */
	uint64_t skipped;  /**< rounds skipped: the previous OPTIONS still in flight */
	uint64_t pongs;	   /**< keep-alives received from bindings' flows */
};

/**
 * Starts keep-alives for the bindings of @p r (it sets the location's hook:
 * create it before the first REGISTER). @p tsx must send to destinations that
 * are struct sip_flow (sip_tsx_conf.dest_size = sizeof(struct sip_flow)).
 * @p tp may be NULL when conf->send_h is given. Every object must outlive the
 * keepalive: free it first.
 * @return 0, -EINVAL (missing object, an interval of 0 after defaults, a bad
 *         user/host) or -ENOMEM.
 */
int keepalive_alloc(struct keepalive **kp, struct timers *ts, struct sip_tsx_layer *tsx,
		    struct sip_transport *tp, struct registrar *r,
		    const struct keepalive_conf *conf);

/** Cancels every keep-alive and transaction (nothing sent), unhooks the registrar. NULL is fine. */
void keepalive_free(struct keepalive *k);

void keepalive_stats(const struct keepalive *k, struct keepalive_stats *st);

/**
 * A keep-alive came from @p flow (sip_transport_keepalive_h): the bindings
 * over it are alive; after a @p pong (on UDP: while a ping of ours waited),
 * they are expected to answer every ping from now on. NULL is fine.
 */
void keepalive_flow_alive(struct keepalive *k, const struct sip_flow *flow, bool pong);

#endif
