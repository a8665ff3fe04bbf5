/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file transport.h  The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS.
 *
 * One `struct sip_transport` lives on one event loop and owns its listeners
 * (the access and core interfaces, IPv4 and IPv6, each UDP, TCP or TLS) and
 * every TCP/TLS connection, accepted or opened by us.
 *
 * Flows. Every received message is delivered to one handler together with its
 * flow: the transport, the listener it came through, the local address it was
 * sent to (the real one for wildcard binds), the remote address and, for
 * TCP/TLS, the id of the connection. Replies go back by flow
 * (sip_transport_send): over the same UDP socket, so that a NATed phone sees
 * the address and port it sent to, or over the same connection. A connection
 * that is gone is an error (-ENOTCONN), never a silent reconnect toward an
 * address that is usually a NAT binding. Connection ids are never reused, so
 * a stale flow never reaches another connection. Requests toward a
 * destination go with sip_transport_send_to, which reuses an open connection
 * to that address or opens one.
 *
 * Buffers. Received messages are views into the layer's buffers, valid during
 * the handler call only. Sends copy what they cannot write at once; the
 * caller's buffer may be reused when the call returns. UDP sends made while
 * received messages are being handled are batched (sendmmsg) and flushed when
 * the receive burst ends; other sends (e.g. timer-driven retransmissions) go
 * out at once.
 *
 * Streams (RFC 3261 §18.3, RFC 5626 §3.5.1). Messages are framed by
 * Content-Length; CRLFs between messages are skipped, a double CRLF ("ping")
 * is answered with one CRLF ("pong"). A message without a valid
 * Content-Length, or larger than max_msg_size, closes the connection (the
 * framing is lost, so nothing after it could be trusted); a request whose
 * headers are complete gets 400 (513: too large) first; a framed message
 * that fails to parse is the receiver's to answer. A peer that does not read
 * is disconnected when its output queue would exceed max_outq.
 *
 * Addresses. An IPv6 listener takes IPv6 only (IPV6_V6ONLY): listen on
 * 0.0.0.0 and :: for both. On a wildcard address the flow carries the
 * address each datagram or connection came to, and replies leave from it.
 *
 * UDP keep-alives: datagrams made of CR and LF only are dropped, STUN Binding
 * requests (RFC 5389, RFC 5626 §4.4.2) are answered with XOR-MAPPED-ADDRESS;
 * both count as keepalives.
 *
 * Connections are reaped when idle for idle_timeout_ms (no byte read or
 * written), or when a TCP connect or TLS handshake does not finish within
 * connect_timeout_ms. Accepted connections are limited per source address and
 * globally; refusals are counted per listener and logged at most once per
 * source per interval.
 *
 * Not thread-safe: a layer is used by the thread that runs its loop.
 * Handlers may send, close flows and read counters, but must not free the layer.
 */
#ifndef SBC_SIP_TRANSPORT_H
#define SBC_SIP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "common/sa.h"
#include "common/str.h"

enum sip_proto {
	SIP_PROTO_UDP = 0,
	SIP_PROTO_TCP,
	SIP_PROTO_TLS,
};

/** "UDP", "TCP", "TLS" (the Via transport token), "?" otherwise. */
const char *sip_proto_name(enum sip_proto p);
/** From a Via transport or URI transport= value, any case. @return 0 or -EINVAL. */
int sip_proto_from_name(struct strv name, enum sip_proto *p);
/** TCP and TLS: reliable and connection-oriented. */
static inline bool sip_proto_is_stream(enum sip_proto p)
{
	return p != SIP_PROTO_UDP;
}

/** The path a message came by, and the one to send a reply back by. Copy it freely. */
struct sip_flow {
	struct sa remote;
	struct sa local;   /**< the address the peer sent to / we send from */
	uint64_t conn_id;  /**< TCP/TLS connection; 0 for UDP */
	uint16_t listener; /**< index from sip_transport_listen */
	uint8_t proto;	   /**< enum sip_proto */
};

/** Longest sip_flow_print() text, NUL included. */
#define SIP_FLOW_STRLEN 176

/** "tcp:192.0.2.1:5060->198.51.100.7:40312#12" into @p buf, truncated to fit. @return @p buf. */
char *sip_flow_print(const struct sip_flow *f, char *buf, size_t size);

/** Settings of the layer; zero fields take the defaults. */
struct sip_transport_opts {
	/** largest stream message (datagrams are the parser's to limit); default 65535 */
	uint32_t max_msg_size;
	uint32_t max_conns; /**< all connections; default 4096 */
	/** accepted from one source address (a NAT hides a site: size for it); default 256 */
	uint32_t max_conns_per_ip;
	uint32_t idle_timeout_ms;    /**< default 300000 */
	uint32_t connect_timeout_ms; /**< TCP connect and TLS handshake; default 10000 */
	uint32_t max_outq;	     /**< bytes queued per connection; default 1 MiB */
	uint32_t log_interval_ms;    /**< rate limit of peer-triggered logs; default 10000 */
};

/** TLS settings of a listener (server side for accepted, client side for opened connections). */
struct sip_tls_opts {
	const char *cert_file; /**< PEM certificate chain; required */
	const char *key_file;  /**< PEM private key; required */
	const char *ca_file;   /**< PEM CAs for verifying peers; NULL: the system's default store */
	bool verify_client;    /**< server side: require a client certificate signed by a CA */
	bool no_verify_server; /**< client side: do not verify the server (tests, lab use only) */
	bool anonymous_client; /**< client side: do not present cert_file to servers */
};

/** One listening socket. */
struct sip_listen_opts {
	enum sip_proto proto;
	struct sa addr;	       /**< IPv4 or IPv6, specific or wildcard; port 0 picks one */
	const char *interface; /**< interface name for logs ("access", "core"); copied */
	struct sip_tls_opts tls;
	/** public address (1:1 NAT) for sip_transport_sent_by; port 0: addr's; unset: none */
	struct sa advertise;
};

/** Counters of one listener; connections opened through it count here too. */
struct sip_transport_stats {
	uint64_t rx_msgs;  /**< messages delivered to the handler */
	uint64_t rx_bytes; /**< bytes received (datagrams, stream payload) */
	uint64_t tx_msgs;  /**< messages handed to the kernel or to a connection */
	uint64_t tx_bytes;
	uint64_t rx_errors;	 /**< framing errors, bad datagrams, read errors */
	uint64_t rx_rejected;	 /**< unframeable stream requests answered 400/513 before closing */
	uint64_t tx_errors;	 /**< sends that failed, output queues that overflowed */
	uint64_t keepalives;	 /**< CRLF pings, CRLF and STUN keep-alives received */
	uint64_t conns_open;	 /**< connections open now (including half-open) */
	uint64_t conns_accepted; /**< accepted since start */
	uint64_t conns_connected; /**< opened by us since start */
	uint64_t conns_refused;	  /**< accepts refused by the connection limits */
	uint64_t conns_reaped;	  /**< closed for idleness or a connect/handshake timeout */
	uint64_t tls_failures;	  /**< TLS handshakes that failed */
};

struct sip_transport;

/**
 * A received message: @p buf is one datagram, or one framed stream message, of
 * @p len bytes, valid during the call only. Not NUL-terminated.
 */
typedef void(sip_transport_recv_h)(const struct sip_flow *flow, const char *buf, size_t len,
				   void *arg);
/**
 * A connection closed, accepted or ours, open or still connecting (not at
 * sip_transport_free). Called from the loop, never from inside a send or
 * close call of the user. @p reason: 0 closed by the peer or by
 * sip_transport_flow_close; -ETIMEDOUT idle, or connect/handshake too slow;
 * -ECONNREFUSED (or another connect or socket errno) for a connect or a write
 * that failed; -EPROTO TLS failure; -EMSGSIZE message over max_msg_size;
 * -EBADMSG no usable Content-Length; -ENOBUFS output queue overflow.
 */
typedef void(sip_transport_close_h)(const struct sip_flow *flow, int reason, void *arg);

/**
 * A keep-alive came from the peer of @p flow. @p pong: it may answer one of
 * ours: on a stream the single CRLF after a CRLFCRLF we sent (RFC 5626
 * §3.5.1), on UDP a datagram of CRs and LFs (the STUN-less pong). Not a pong:
 * the peer's own double CRLF ping on a stream, a STUN Binding request. Either
 * way the peer is there; whoever keeps its binding alive (keepalive.h) learns
 * it without parsing anything.
 */
typedef void(sip_transport_keepalive_h)(const struct sip_flow *flow, bool pong, void *arg);

/** @param opts NULL for the defaults. @return 0, -EINVAL or -ENOMEM. */
int sip_transport_alloc(struct sip_transport **tpp, struct loop *l,
			const struct sip_transport_opts *opts);
/** Closes every listener and connection (no close handler calls). NULL is fine. */
void sip_transport_free(struct sip_transport *tp);

/** Sets the handlers (either may be NULL: messages are then counted and dropped). */
void sip_transport_set_handlers(struct sip_transport *tp, sip_transport_recv_h *recv_h,
				sip_transport_close_h *close_h, void *arg);

/**
 * Opens a listener. @param idx set to its index (the flow's listener).
 * @return 0, -EINVAL (bad options, TLS files unusable: logged), or a negative
 *         errno from socket/bind/listen.
 */
/** Sets the keep-alive handler (NULL: keep-alives are only counted); called with set_handlers' arg.
 */
void sip_transport_set_keepalive_h(struct sip_transport *tp, sip_transport_keepalive_h *h);

int sip_transport_listen(struct sip_transport *tp, const struct sip_listen_opts *o, unsigned *idx);

unsigned sip_transport_listener_count(const struct sip_transport *tp);
/** The bound address (with the port picked for port 0). @return 0 or -ENOENT. */
int sip_transport_listener_addr(const struct sip_transport *tp, unsigned idx, struct sa *addr);
/** enum sip_proto of the listener, or -ENOENT. */
int sip_transport_listener_proto(const struct sip_transport *tp, unsigned idx);
/** The interface name given at sip_transport_listen, NULL for a bad index. */
const char *sip_transport_listener_name(const struct sip_transport *tp, unsigned idx);
/** Copies the counters of a listener. @return 0 or -ENOENT. */
int sip_transport_stats(const struct sip_transport *tp, unsigned idx,
			struct sip_transport_stats *out);

/**
 * Sends @p buf back over @p flow: the same UDP socket and addresses, or the
 * same connection (queued while it is connecting or the kernel is full).
 * Never opens a connection.
 * @return 0 (sent, queued, or batched until the end of the receive burst),
 *         -ENOTCONN (the connection is gone or closing), -EINVAL (not a flow
 *         of this layer), -EMSGSIZE (over 65535 bytes for UDP, over max_outq
 *         for a stream), -ENOBUFS (output queue full: the connection is being
 *         closed), or a negative errno from the kernel (the UDP send, or a
 *         failed write that closes the connection).
 */
int sip_transport_send(struct sip_transport *tp, const struct sip_flow *flow, const void *buf,
		       size_t len);

/**
 * Sends @p buf to @p dst through listener @p listener (which picks the
 * interface and the transport). UDP: from the listener's socket (on a
 * wildcard listener the kernel picks the source address, and the flow's
 * local address is the wildcard). TCP/TLS: over an open connection with
 * @p dst through this listener, accepted or ours (for TLS with @p tls_name,
 * only one of ours opened for that name), else over a new one, bound to the
 * listener's address with an ephemeral port (non-blocking connect; the
 * message is queued until the connection is up; a failure later is reported
 * to the close handler with the flow returned here).
 * @param tls_name the name to verify the server certificate against (and to
 *        send as SNI), or an IP address to match an IP SAN; NULL to check the
 *        chain only. Ignored for UDP and TCP.
 * @param flow set to the flow used, if not NULL.
 * @return 0, -EINVAL (bad listener, address family or port 0), -EMFILE
 *         (connection limit), or a negative errno (socket, bind, connect).
 */
int sip_transport_send_to(struct sip_transport *tp, unsigned listener, const struct sa *dst,
			  const char *tls_name, const void *buf, size_t len, struct sip_flow *flow);

/**
 * The address to write as ours (Via sent-by, Contact, our URIs) in a message
 * over @p flow: the listener's advertised address if it has one; else the
 * flow's local address; on a wildcard listener, for a flow that has none yet
 * (a request we start), the one the kernel picks toward the flow's remote
 * (the wildcard itself is never returned). With the listener's port unless
 * the advertised address has its own.
 * @return 0, -EINVAL (not a flow of this layer), or a negative errno (no route).
 */
int sip_transport_sent_by(const struct sip_transport *tp, const struct sip_flow *flow,
			  struct sa *out);

/** Whether the flow's connection is still open (always true for UDP flows of this layer). */
bool sip_transport_flow_alive(const struct sip_transport *tp, const struct sip_flow *flow);

/**
 * Closes the flow's connection (after trying to write what is queued, without
 * waiting). The close handler is called. @return 0, -ENOTCONN, or -EINVAL for UDP.
 */
int sip_transport_flow_close(struct sip_transport *tp, const struct sip_flow *flow);

#endif
