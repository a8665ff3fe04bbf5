/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file latch.h  Latching: learning where an endpoint really is from the packets it sends.
 *
 * The SDP usually carries a private address, so the relay learns each endpoint's public
 * address:port from its packets. Done naively ("latch onto the first source") anyone who sprays
 * the relay's ports receives the media: RTP Bleed. The rules here:
 *
 * - A source is ranked against what signalling told us: 2 = the SDP address:port exactly,
 *   1 = the same IP as the SDP address or as the SIP source (`received-from`), 0 = anything else.
 * - Rank 0 is learnable only when nothing better can be expected: no `received-from` and an SDP
 *   address that is private or unset. Otherwise a stranger is never learned.
 * - Learning happens within the window after offer/answer; inside it a better-ranked source
 *   replaces a worse one. After the window only a better rank, or (media handover) evidence,
 *   moves the latch: the latched SSRC, or the signalled address.
 * - Modes after latching: DEFAULT forwards packets from other sources without moving the latch,
 *   STRICT drops them, HANDOVER re-latches on evidence.
 * - Sources that may not be learned (rank 0 when something better is expected) are refused in
 *   every mode: they neither receive media nor inject it.
 * - Nothing learned and the window closed: a ranked source (1 or 2, vouched for by signalling)
 *   is still learned, a stranger never: the window protects against strangers only.
 * - Signalled "nothing" (0.0.0.0 / :: or port 0, e.g. hold) counts as unset.
 *
 * Pure functions over plain state: the same code runs in every backend and in unit tests.
 */
#ifndef SBC_DATAPLANE_LATCH_H
#define SBC_DATAPLANE_LATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/sa.h"

enum latch_mode {
	LATCH_DEFAULT = 0,
	LATCH_STRICT,	  /**< "strict source" */
	LATCH_HANDOVER,	  /**< "media handover" */
	LATCH_ASYMMETRIC, /**< "asymmetric": never latch, send to the signalled address */
};

struct latch_params {
	struct sa expected;	 /**< address:port from the SDP; unset or port 0 if unknown */
	struct sa received_from; /**< IP the signalling came from (port ignored); may be unset */
	enum latch_mode mode;
	uint32_t window_ms; /**< how long after signalling a stranger may be learned; 0: never */
};

enum latch_verdict {
	LATCH_FORWARD, /**< forward; the latch did not move */
	LATCH_LEARNED, /**< forward; the latch moved to this source */
	LATCH_REFUSED, /**< drop and count */
};

/**
 * An address:port in a compact form for the per-packet compare: two are equal exactly when
 * sa_equal() says so (IPv6 scope id included). Unused fields are 0.
 */
struct latch_addr {
	uint32_t addr[4]; /**< IPv4 in addr[0] (network order) */
	uint32_t scope;	  /**< IPv6 scope id */
	uint16_t port;	  /**< network order */
	uint16_t family;  /**< AF_INET, AF_INET6; 0: unset */
};

/**
 * The latch of one flow. Owned by the worker that forwards the flow. What every packet reads
 * comes first (32 bytes), so that a fast path can keep it in one cache line.
 */
struct latch {
	struct latch_addr learned_key; /**< @ref learned, compact; family 0 while unset */
	uint32_t ssrc; /**< RTP SSRC seen from @ref learned (evidence for handover) */
	bool has_ssrc;
	uint8_t rank;	  /**< rank of @ref learned, see above */
	bool window_open; /**< false: restarted with window_ms 0 */
	bool relearn;	  /**< re-signalled: an equal rank may replace it once, in the window */
	uint64_t window_end_ms; /**< learning allowed until then */
	struct sa learned;	/**< the source packets are forwarded to; unset until learned */
};

/**
 * (Re)starts learning after signalling at @p now_ms. Keeps an existing latch, re-ranked against
 * the new signalling; a latch that is a stranger (rank 0) under the new signalling is dropped,
 * even where strangers may be learned: it was learned before signalling described the endpoint.
 * Within the new window a source of at least the latch's rank may replace it once (a re-INVITE
 * after the phone re-opened its socket: same NAT IP, new port).
 */
void latch_restart(struct latch *l, const struct latch_params *p, uint64_t now_ms);

/**
 * Decides what to do with a packet from @p src (@p ssrc when @p has_ssrc: it is RTP), and
 * moves the latch when the rules allow.
 */
enum latch_verdict latch_check(struct latch *l, const struct latch_params *p, const struct sa *src,
			       uint32_t ssrc, bool has_ssrc, uint64_t now_ms);

/** The compact form of @p sa (family 0 when it is neither IPv4 nor IPv6). */
void latch_addr_from_sa(struct latch_addr *k, const struct sa *sa);

/**
 * Whether @p src (compact) is the latched source: then latch_check() would forward without
 * moving the latch, only noting the packet's SSRC. The hot path's shortcut: exact while only
 * latch.c changes the latch (after zeroing it).
 */
static inline bool latch_is_learned(const struct latch *l, const struct latch_addr *src)
{
	const struct latch_addr *k = &l->learned_key;

	return k->family != 0 && k->family == src->family && k->port == src->port &&
	       k->addr[0] == src->addr[0] && k->addr[1] == src->addr[1] &&
	       k->addr[2] == src->addr[2] && k->addr[3] == src->addr[3] && k->scope == src->scope;
}

/** Whether compact key @p k is IPv4 source @p addr:@p port (network order): no struct to fill. */
static inline bool latch_key_is_v4(const struct latch_addr *k, uint32_t addr, uint16_t port)
{
	return ((k->addr[0] ^ addr) | k->addr[1] | k->addr[2] | k->addr[3] | k->scope |
		(uint32_t)(k->port ^ port) | (uint32_t)(k->family ^ AF_INET)) == 0;
}

#endif
