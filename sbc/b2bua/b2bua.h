/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file b2bua.h  The B2BUA: every call is two dialogs (A-leg toward the
 * caller, B-leg toward the callee) bridged by a call object.
 *
 * The module sits on the transaction layer as its TU. The server hands it
 * out-of-dialog INVITEs, every request with a To tag, CANCELs and 2xx ACKs
 * (b2bua_request, b2bua_ack). For a new call it asks the routing callback
 * where to send the B-leg, builds the B-leg with fresh identifiers (Call-ID,
 * From tag, Via branch, Contact, CSeq space: see dialog.h for their form) and
 * bridges what crosses: the start line, From/To user and display name (hosts
 * replaced: the caller's host never reaches the callee), the headers the
 * header policy lets through (hdr_policy.h) and the body through the media
 * hook. Via, Contact, Record-Route, Route, Call-ID, tags and branches of one
 * side never reach the other (topology hiding; SDP addresses are the media
 * hook's job).
 *
 * Extensions, each leg its own: 100rel (RFC 3262) is terminated per leg,
 * see prack.c; UPDATE, INFO, OPTIONS and other in-dialog requests cross with
 * their bodies (SDP through the media hook), also in the early dialog of the
 * fork whose early media the caller has (RFC 3311).
 *
 * Hooks, all optional but routing:
 *  - routing: b2bua_route_h picks the targets of a new call. Targets with the
 *    same group form one step and are called in parallel (forking); the steps
 *    are tried one after another in increasing group order (serial failover)
 *    while a step fails with a status routes_should_failover() accepts (no
 *    response, 408, 5xx). See call.c for how forks and steps show to the caller.
 *  - forwarding: b2bua_forward_h, at most once per call, gives new targets
 *    when every callee of the last step was busy (486, 600) or the call rang
 *    longer than no_answer_timeout_ms, or the shortest ring_timeout_ms of its
 *    targets (the ringing forks are cancelled).
 *  - redirects: b2bua_redirect_h. When the final answer of a step is 300, 301
 *    or 302 (routes_should_redirect), its Contact URIs, best q first, that
 *    are new in the call's redirect chain (routes_redirect_*: at most
 *    B2BUA_MAX_REDIRECTS hops, no target twice) go to the hook one by one;
 *    those it accepts form the next step (equal q in parallel). None: the
 *    caller gets 480. The 3xx's Contact never reaches the caller.
 *  - media: every SDP that crosses goes to b2bua_media_h, as an offer or
 *    an answer by the call's offer/answer state (oa.h: late offers in the
 *    2xx or a reliable 18x, answered in the ACK or PRACK), which answers
 *    asynchronously with b2bua_media_done(); the message waits, and later
 *    messages of the same call wait behind it, so order is kept. A failure
 *    ends the call. b2bua_media_cancel_h withdraws a pending operation (the
 *    call is ending), b2bua_media_end_h says the call is gone (delete).
 *  - CDR: b2bua_cdr_h once per call when it is freed.
 *
 * Not thread-safe: one module per shard (thread), on that shard's transaction
 * layer and timers.
 */
#ifndef SBC_B2BUA_B2BUA_H
#define SBC_B2BUA_B2BUA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sa.h"
#include "common/str.h"
#include "../sip/msg.h"
#include "../sip/transport.h"

struct timers;
struct sip_tsx;
struct sip_tsx_layer;
struct b2bua;
struct b2bua_call;
struct b2bua_media_op;

enum b2bua_side { B2BUA_SIDE_A = 0, B2BUA_SIDE_B = 1 };

#define B2BUA_RURI_MAX 256

/** Most targets a call is routed (or forwarded) to. */
#define B2BUA_MAX_TARGETS 16

/** Where a B-leg goes. */
struct b2bua_target {
	uint8_t group;		   /**< step: equal groups in parallel, lower groups first */
	unsigned listener;	   /**< listener index to send through (picks the transport) */
	struct sa dst;		   /**< next hop */
	char ruri[B2BUA_RURI_MAX]; /**< Request-URI; "" = sip:<A's R-URI user>@dst */
	/**
	 * A registered contact behind NAT is reached over the flow it registered
	 * by (the same UDP socket and source port, or the same TCP/TLS
	 * connection), not by a new connection to an address it cannot accept on.
	 */
	bool use_flow;
	struct sip_flow flow; /**< with use_flow: listener and dst are taken from it */
	/** ringing longer: CANCEL, then forward_h (no answer); 0: no_answer_timeout_ms */
	uint32_t ring_timeout_ms;
	/** name of the routing trunk (for the CDR), valid for the b2bua's life; NULL: none */
	const char *trunk;
};

/**
 * Routing: fills up to @p max targets for @p invite received over @p from
 * (any order: the B2BUA sorts them by group, keeping the order within one).
 * @return the number filled (0: no route, the caller gets 404), or a negative
 *         errno (500).
 */
typedef int(b2bua_route_h)(void *arg, const struct sip_msg *invite, const struct sip_flow *from,
			   struct b2bua_target *out, unsigned max);

enum b2bua_forward_reason {
	B2BUA_FWD_BUSY,	     /**< every callee of the last step answered 486 or 600 */
	B2BUA_FWD_NO_ANSWER, /**< no_answer_timeout_ms passed (the forks are cancelled) */
};

/**
 * Forwarding: fills up to @p max targets (grouped as for routing) to call
 * instead, for @p invite (the caller's). Asked at most once per call.
 * @return the number filled; 0 or a negative errno: no forwarding (the caller
 *         gets the busy status, or 408).
 */
typedef int(b2bua_forward_h)(void *arg, const struct sip_msg *invite,
			     enum b2bua_forward_reason reason, struct b2bua_target *out,
			     unsigned max);

/** Most 3xx responses one call follows. */
#define B2BUA_MAX_REDIRECTS 3

/**
 * Redirect policy: whether @p contact_uri, a Contact URI of a 3xx answering
 * the call of @p invite (the caller's), may be called, and how (@p out, zeroed;
 * its group is set by the B2BUA). The daemon must refuse what the caller could
 * not have dialled directly (toll fraud).
 * @return 1 with @p out filled, 0 refused.
 */
typedef int(b2bua_redirect_h)(void *arg, const struct sip_msg *invite, struct strv contact_uri,
			      struct b2bua_target *out);

enum b2bua_sdp_kind { B2BUA_SDP_OFFER, B2BUA_SDP_ANSWER };

/**
 * An SDP from side @p from crosses. Return 0 and call b2bua_media_done(@p op)
 * exactly once, now or later (unless cancelled first), or a negative errno.
 */
typedef int(b2bua_media_h)(void *arg, struct b2bua_call *call, enum b2bua_side from,
			   enum b2bua_sdp_kind kind, struct strv sdp, struct b2bua_media_op *op);
/** @p op will not be completed: forget it (b2bua_media_done must not be called after this). */
typedef void(b2bua_media_cancel_h)(void *arg, struct b2bua_media_op *op);
/** The call is over: release its media (rtpengine delete). */
typedef void(b2bua_media_end_h)(void *arg, struct b2bua_call *call);

/**
 * Completes @p op: @p sdp (copied) replaces the body; @p err < 0 fails the call.
 */
void b2bua_media_done(struct b2bua_media_op *op, int err, struct strv sdp);

enum b2bua_end {
	B2BUA_END_CALLER_BYE = 0,
	B2BUA_END_CALLEE_BYE,
	B2BUA_END_CANCELLED, /**< the caller cancelled */
	B2BUA_END_REJECTED,  /**< the callee (or routing) refused: status */
	B2BUA_END_NO_ANSWER, /**< no_answer_timeout, or the B-leg timed out */
	B2BUA_END_FAILED,    /**< ACK never came, a leg failed, media failed */
	B2BUA_END_SHUTDOWN,
	B2BUA_END_MEDIA_TIMEOUT, /**< the media node saw no media (b2bua_call_end) */
};

const char *b2bua_end_name(enum b2bua_end e);

/** What a CDR writer gets when a call is freed; views valid during the call only. */
struct b2bua_cdr {
	uint64_t id;	       /**< the call's number in this module */
	struct strv a_call_id; /**< caller's Call-ID */
	struct strv b_call_id; /**< ours, "" if no B-leg was made */
	struct strv from_uri;  /**< caller's From URI (A-leg) */
	struct strv to_uri;    /**< To URI (A-leg) */
	struct sa a_src;       /**< where the caller's INVITE came from */
	struct sa b_src;       /**< the callee's next hop (unset if no B-leg was made) */
	uint64_t start_ms;     /**< CLOCK_REALTIME ms: INVITE received */
	uint64_t ringing_ms;   /**< first 18x from the callee; 0 if none */
	uint64_t answer_ms;    /**< 0 if not answered */
	uint64_t end_ms;       /**< call freed */
	unsigned status;       /**< final status sent to the caller (0 if none) */
	const char *trunk;     /**< routing trunk of the B-leg's target; NULL: none */
	enum b2bua_end end;
};
typedef void(b2bua_cdr_h)(void *arg, const struct b2bua_cdr *cdr);

struct b2bua_conf {
	uint8_t shard;		       /**< encoded in generated identifiers */
	uint32_t t1_ms, t2_ms;	       /**< 2xx retransmissions (RFC 6026); 0: 500, 4000 */
	uint32_t no_answer_timeout_ms; /**< ringing longer than this: CANCEL, 408; 0: never */
	uint32_t max_calls;	       /**< 0: no limit; beyond it new calls get 503 */
	/** header policy lists (hdr_policy.h); NULL = default lists */
	const char *const *headers_allow;
	unsigned nheaders_allow;
	const char *const *headers_deny;
	unsigned nheaders_deny;

	b2bua_route_h *route_h; /**< required */
	void *route_arg;
	b2bua_forward_h *forward_h; /**< NULL: no forwarding */
	void *forward_arg;
	b2bua_redirect_h *redirect_h; /**< NULL: a 3xx gives the caller 480 */
	void *redirect_arg;
	b2bua_media_h *media_h; /**< NULL: bodies cross unchanged */
	b2bua_media_cancel_h *media_cancel_h;
	b2bua_media_end_h *media_end_h;
	void *media_arg;
	b2bua_cdr_h *cdr_h;
	void *cdr_arg;
};

struct b2bua_stats {
	uint64_t calls_created;
	uint64_t calls_answered;
	uint64_t calls_failed; /**< ended without being answered (rejected, cancelled, ...) */
	uint64_t loops;	       /**< INVITEs refused with 482 */
	uint32_t calls_active;
	uint32_t dialogs_active; /**< legs in the dialog table */
};

/** @return 0, -EINVAL (no route_h, bad header names) or -ENOMEM. */
int b2bua_alloc(struct b2bua **bp, struct sip_tsx_layer *tsx, struct sip_transport *tp,
		struct timers *ts, const struct b2bua_conf *conf);
/** Frees every call (nothing is sent; server transactions are left to the layer). */
void b2bua_free(struct b2bua *b);

/**
 * A request on new server transaction @p st. Takes INVITEs without To tag,
 * requests with a To tag and CANCELs of our calls.
 * @return 0 (taken: the B2BUA answers @p st), or -ENOENT (not for the
 *         B2BUA: the caller answers).
 */
int b2bua_request(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req);

/** An ACK for a 2xx (the transaction layer's ack_h) that came over @p flow. */
void b2bua_ack(struct b2bua *b, const struct sip_msg *ack, const struct sip_flow *flow);

void b2bua_stats(const struct b2bua *b, struct b2bua_stats *st);

/**
 * The call's number, and its Call-ID on one side (for hooks). Side B before
 * an answer: the first fork of the step being tried; after: the answered one.
 */
uint64_t b2bua_call_number(const struct b2bua_call *c);
struct strv b2bua_call_callid(const struct b2bua_call *c, enum b2bua_side side);
/** Where the side's SIP messages come from (the caller's source; the callee's next hop). */
const struct sa *b2bua_call_peer(const struct b2bua_call *c, enum b2bua_side side);
/** The name of the SIP interface (sip.listen.[].interface) the side's leg uses, or NULL. */
const char *b2bua_call_interface(const struct b2bua_call *c, enum b2bua_side side);
/**
 * The final status the caller gets if the call fails before it is answered
 * (default 500): e.g. 503 from a media hook that cannot anchor the call.
 */
void b2bua_call_set_fail_status(struct b2bua_call *c, unsigned code);

/**
 * Ends @p c from outside its legs (e.g. the media node timed it out): BYE on
 * each leg with a dialog, the caller's pending INVITE answered (500), forks
 * cancelled; the CDR says @p why. Not from inside a hook of the same call's
 * pending media operation: from the event loop.
 */
void b2bua_call_end(struct b2bua_call *c, enum b2bua_end why);

#endif
