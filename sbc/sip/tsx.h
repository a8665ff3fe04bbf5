/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file tsx.h  SIP transactions (RFC 3261 §17, with the RFC 6026 corrections).
 *
 * The layer runs the four state machines (client/server x INVITE/non-INVITE),
 * matches incoming messages to them, retransmits over unreliable transports
 * and times transactions out. Above it sits the transaction user (TU): the
 * B2BUA's dialogs. Below it, the layer only knows a send callback and an
 * opaque destination; it never calls the transport itself.
 *
 * Threading. A layer belongs to one thread (one shard of the SBC), like the
 * `struct timers` it runs on: no lock anywhere, and every callback runs on
 * that thread, from sip_tsx_recv(), timers_run() or a sip_tsx_* call of the
 * TU. Messages must reach the shard that owns their transaction (the SBC
 * encodes the shard in the branches it generates).
 *
 * Destinations. Each transaction keeps a copy of `conf.dest_size` bytes given
 * at its creation (a copy of the transport flow, an address, or a pointer to
 * a refcounted flow: the layer never looks inside) and passes a pointer to
 * that copy to the send callback. Responses of a server transaction go to the
 * destination of the request that created it; picking the address from the
 * Via (RFC 3261 §18.2.2) is the transport's job. `reliable` (TCP, TLS, SCTP)
 * is given per transaction: on reliable transports nothing is retransmitted
 * and timers D, I, J, K are zero (the transaction ends at once).
 *
 * Buffers. A transaction keeps an owned copy of what it may have to send
 * again: the request (client), then the ACK it generated; the last response
 * (server). One allocation per transaction and per distinct response size,
 * never per retransmission. Messages passed to callbacks (`struct sip_msg`)
 * are valid only during the callback.
 *
 * Lifetime. The layer owns transactions. A transaction lives until it enters
 * Terminated; then its `term_h` is called once (unless the TU ended it with
 * sip_tsx_terminate() or freed the layer) and the pointer is invalid when that
 * callback returns. Handlers may call any function of this API, including
 * sip_tsx_terminate() on the transaction being reported: memory is released
 * only when the outermost call that reports on a transaction returns. They
 * must not call sip_tsx_layer_free().
 *
 * 2xx to INVITE (RFC 6026). The ACK to a 2xx is not part of the INVITE
 * transaction: the client TU (dialog) builds and sends it, through
 * sip_tsx_send(), to the destination it saved from sip_tsx_dest(); every 2xx
 * (retransmissions and other forks included) that reaches the client
 * transaction in Accepted is passed to resp_h so that the TU can re-send its
 * ACK. On the server side, the TU retransmits its 2xx itself (T1 doubling up
 * to T2, until the ACK or 64*T1): by sip_tsx_respond() while the transaction
 * is in Accepted (Timer L = 64*T1), then by sip_tsx_send(). ACKs that match no
 * transaction, or an INVITE transaction in Accepted, go to conf.ack_h.
 *
 * 100 Trying. A server INVITE transaction sends `100 Trying` on its own when
 * the TU has not answered by the time request_h returns (conf.trying_delay_ms
 * = 0, the default), or trying_delay_ms after the INVITE (RFC 3261 §17.2.1
 * allows up to 200 ms). The first form never sends a 100 when the TU answers
 * at once (a 401 challenge, a 3xx redirect, a rejection) and otherwise stops the
 * client's retransmissions as early as possible.
 *
 * CANCEL (RFC 3261 §9). A received CANCEL is its own non-INVITE server
 * transaction, given to request_h; sip_tsx_cancel_target() finds the server
 * transaction it cancels, so that the TU answers 487 to the INVITE (if still
 * Proceeding) and 200 to the CANCEL, or 481 when there is none. To cancel its
 * own INVITE, the TU calls sip_tsx_cancel().
 *
 * Timeouts the TU must own: a server transaction stays until the TU answers
 * it; a client INVITE stays in Proceeding until a final response (RFC 3261
 * Timer B covers Calling only) unless the TU cancels it, after which the
 * transaction gives up 64*T1 after sending the CANCEL (§9.1).
 */
#ifndef SBC_SIP_TSX_H
#define SBC_SIP_TSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/str.h"
#include "msg.h"

struct timers;
struct sip_tsx_layer;
struct sip_tsx;

enum sip_tsx_state {
	SIP_TSX_CALLING,    /**< client INVITE: request sent, no response yet */
	SIP_TSX_TRYING,	    /**< non-INVITE: no response yet */
	SIP_TSX_PROCEEDING, /**< provisional response received/sent (server INVITE: at start) */
	SIP_TSX_COMPLETED,  /**< final response (non-2xx for INVITE) received/sent */
	SIP_TSX_CONFIRMED,  /**< server INVITE: ACK to the non-2xx received */
	SIP_TSX_ACCEPTED,   /**< INVITE, RFC 6026: 2xx received/sent */
	SIP_TSX_TERMINATED,
};

/** Largest conf.dest_size. */
#define SIP_TSX_DEST_MAX 1024

/**
 * Sends @p len bytes to @p dest (a copy of what the TU gave at creation).
 * @return 0, or a negative errno. On an unreliable transport -EAGAIN,
 *         -EWOULDBLOCK, -ENOBUFS and -EINTR count as a lost datagram
 *         (retransmissions recover); every other error is a transport error
 *         that ends the transaction (RFC 3261 §17.1.4, §17.2.4).
 */
typedef int(sip_tsx_send_h)(void *arg, const void *dest, const char *buf, size_t len);

/**
 * A request that matched no transaction created server transaction @p st
 * (every method but ACK; CANCEL included). The TU answers with
 * sip_tsx_respond(), now or later, and sets its handlers with
 * sip_tsx_set_handlers() if it wants to hear of timeouts, errors and the end.
 */
typedef void(sip_tsx_request_h)(void *arg, struct sip_tsx *st, const struct sip_msg *req);

/** An ACK for a 2xx: it matched no transaction, or an INVITE server transaction in Accepted. */
typedef void(sip_tsx_ack_h)(void *arg, const struct sip_msg *ack, const void *dest, bool reliable);

/**
 * Client: a response for @p t: 1xx and the final response once; in Accepted,
 * every 2xx (retransmissions, other forks). Non-2xx final responses have
 * already been ACKed when this is called.
 */
typedef void(sip_tsx_resp_h)(void *arg, struct sip_tsx *t, const struct sip_msg *resp);

/**
 * @p t failed and is about to terminate: -ETIMEDOUT when Timer B or F fired
 * (client; act as on a 408), when Timer H fired (server INVITE: the ACK never
 * came) or when a cancelled INVITE got no final response (RFC 3261 §9.1);
 * otherwise the send callback's error. term_h follows.
 */
typedef void(sip_tsx_err_h)(void *arg, struct sip_tsx *t, int err);

/** @p t entered Terminated; the pointer is invalid once this returns. */
typedef void(sip_tsx_term_h)(void *arg, struct sip_tsx *t);

/**
 * A transaction's handlers; any may be NULL. Referenced, not copied: usually a
 * static const table.
 */
struct sip_tsx_handlers {
	sip_tsx_resp_h *resp_h;
	sip_tsx_err_h *err_h;
	sip_tsx_term_h *term_h;
};

/**
 * The top Via of a response to a request that came from @p dest (RFC 3581:
 * received=, rport=) written into @p buf from the request's @p via value.
 * @return its length, or < 0 to copy the Via unchanged.
 */
typedef long(sip_tsx_via_h)(const void *dest, struct strv via, char *buf, size_t size);

/** Layer settings; zero fields take the defaults. */
struct sip_tsx_conf {
	uint32_t t1_ms;		  /**< RTT estimate, default 500 */
	uint32_t t2_ms;		  /**< retransmission cap, default 4000 */
	uint32_t t4_ms;		  /**< max time in the network, default 5000 (Timers I, K) */
	uint32_t timer_d_ms;	  /**< client INVITE Completed over UDP, default 32000 */
	uint32_t trying_delay_ms; /**< 0: 100 Trying when request_h returns unanswered */
	uint32_t buckets;	  /**< initial hash table size (grows), default 4096 */
	uint16_t dest_size;	  /**< bytes copied from each dest, at most SIP_TSX_DEST_MAX */

	sip_tsx_send_h *send_h; /**< required */
	void *send_arg;
	sip_tsx_request_h *request_h; /**< required */
	sip_tsx_ack_h *ack_h;	      /**< optional: 2xx ACKs are dropped without it */
	void *tu_arg;		      /**< for request_h and ack_h */
	sip_tsx_via_h *via_h;	      /**< optional: the 100 Trying's top Via (else copied) */
};

/** Counters since the layer was created. */
struct sip_tsx_stats {
	uint64_t client_created;
	uint64_t server_created;
	uint64_t retransmitted;	   /**< messages re-sent (timers and absorbed retransmissions) */
	uint64_t absorbed;	   /**< received retransmissions handled inside the layer */
	uint64_t stray;		   /**< responses that matched no transaction, dropped */
	uint64_t timeouts;	   /**< Timers B, F, H and the §9.1 CANCEL guard */
	uint64_t transport_errors; /**< send failures that ended a transaction */
	uint64_t refused;	   /**< requests refused with -EBUSY by sip_tsx_recv() */
	uint32_t active;	   /**< transactions not yet terminated */
};

/**
 * Creates a layer whose timers run on @p ts (same thread; free the layer before
 * @p ts). @return 0, -EINVAL (missing callback, dest_size too large, T2 < T1)
 * or -ENOMEM.
 */
int sip_tsx_layer_alloc(struct sip_tsx_layer **lp, struct timers *ts,
			const struct sip_tsx_conf *conf);

/** Frees every transaction (no handler is called, nothing is sent) and the layer. */
void sip_tsx_layer_free(struct sip_tsx_layer *l);

void sip_tsx_layer_stats(const struct sip_tsx_layer *l, struct sip_tsx_stats *st);

/**
 * Hands a received message to the layer (RFC 3261 §17.1.3, §17.2.3): a
 * response goes to its client transaction; a request to its server
 * transaction (a retransmission, or the ACK of a non-2xx) or creates one
 * (request_h); an unmatched ACK goes to ack_h. Branches with the magic cookie
 * z9hG4bK match on branch, sent-by and method; others fall back to RFC 2543
 * matching (Request-URI, To and From tags, Call-ID, CSeq, top Via).
 * @return 0, -ENOENT for a response that matched no transaction (dropped,
 *         RFC 6026 §8.4), -EINVAL for a message without a usable top Via,
 *         -EBUSY when 16 live server transactions already share the request's
 *         key (one branch reused with other methods or sent-bys, one RFC 2543
 *         Call-ID/CSeq with other To tags: a flood, refused so that lookups
 *         stay short), or -ENOMEM.
 */
int sip_tsx_recv(struct sip_tsx_layer *l, const struct sip_msg *m, const void *dest, bool reliable);

/**
 * Starts a client transaction: copies the request in @p buf (which it parses
 * to learn its method and branch), sends it and starts the timers. The top Via
 * must carry a branch unique to this request (with the magic cookie).
 * @param tp set to the transaction, valid until its term_h returns; may be NULL.
 * @return 0, -EINVAL (not a request, an ACK, no branch, CSeq method differing
 *         from the method), -EEXIST (a client transaction with this branch and
 *         method exists), -ENOMEM, or the send error (nothing was created).
 */
int sip_tsx_request(struct sip_tsx_layer *l, struct sip_tsx **tp, const char *buf, size_t len,
		    const void *dest, bool reliable, const struct sip_tsx_handlers *h, void *arg);

/**
 * Cancels client INVITE @p t (RFC 3261 §9.1): builds the CANCEL from the
 * INVITE and sends it as a new client transaction of the layer's own, now if a
 * provisional response came, else on the first one. The 487 (or other final
 * response) arrives on @p t as usual; if none arrives within 64*T1 of the
 * CANCEL, @p t fails with -ETIMEDOUT.
 * @return 0, -EINVAL (not a client INVITE), -EALREADY (final response
 *         received, or already cancelled), -ENOMEM or the send error.
 */
int sip_tsx_cancel(struct sip_tsx *t);

/**
 * Sends a response on server transaction @p st (status from its status line).
 * Copies it when it may have to be sent again. Provisional responses are
 * allowed until the final one; after a 2xx to an INVITE, only 2xx (the TU's
 * retransmissions). On a transport error the transaction terminates (term_h is
 * called before this returns) and the error is returned; err_h is not called.
 * @return 0, -EINVAL (not a server transaction, not a status line),
 *         -EALREADY (not allowed in this state), -ENOMEM or the send error.
 */
int sip_tsx_respond(struct sip_tsx *st, const char *buf, size_t len);

/**
 * The server transaction that CANCEL @p cancel cancels (RFC 3261 §9.2: same
 * matching with any method but CANCEL and ACK), or NULL.
 */
struct sip_tsx *sip_tsx_cancel_target(struct sip_tsx_layer *l, const struct sip_msg *cancel);

/**
 * Sends outside any transaction, through the layer's send callback: the ACK
 * to a 2xx, 2xx retransmissions after the server transaction ended, stateless
 * answers. @return the send callback's result.
 */
int sip_tsx_send(struct sip_tsx_layer *l, const void *dest, const char *buf, size_t len);

/** Sets the handlers of @p t (NULL: no more callbacks), e.g. when the TU object goes away. */
void sip_tsx_set_handlers(struct sip_tsx *t, const struct sip_tsx_handlers *h, void *arg);

/**
 * Ends @p t now: timers stopped, nothing more sent or matched, no handler
 * called. Harmless on a transaction already in Terminated.
 */
void sip_tsx_terminate(struct sip_tsx *t);

/**
 * Reports a transport failure found outside the send callback (a TCP
 * connection that closed, an ICMP error): err_h(@p err), then Terminated.
 */
void sip_tsx_transport_error(struct sip_tsx *t, int err);

enum sip_tsx_state sip_tsx_state(const struct sip_tsx *t);
const char *sip_tsx_state_name(enum sip_tsx_state s);
bool sip_tsx_is_client(const struct sip_tsx *t);
/** The method of the request (SIP_METHOD_OTHER for extensions). */
enum sip_method sip_tsx_method(const struct sip_tsx *t);
/** The transaction's copy of its destination (conf.dest_size bytes). */
const void *sip_tsx_dest(const struct sip_tsx *t);
bool sip_tsx_reliable(const struct sip_tsx *t);
/** Top Via branch of the request; empty for an RFC 2543 server transaction. */
struct strv sip_tsx_branch(const struct sip_tsx *t);

#endif
