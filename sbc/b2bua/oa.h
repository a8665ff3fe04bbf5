/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file oa.h  SDP offer/answer state of a call (RFC 3264, RFC 3261 §13.2.1,
 * RFC 3262 §5, RFC 3311, RFC 6337), private to the B2BUA.
 *
 * Both legs mirror one state: the B2BUA relays every offer to the other leg
 * and every answer back, so "side X has an offer pending" holds on both
 * dialogs at once. Each SDP that crosses is classified here, in the order the
 * messages arrive, as an offer (ng `offer`, from-tag the offerer's) or an
 * answer (ng `answer`), or dropped when it is neither (an SDP in an ACK that
 * answers nothing, a 2xx repeating an offer already answered by PRACK).
 *
 * Where an offer may come from, per INVITE transaction (initial or re-INVITE):
 * the INVITE itself; else (late offer, the INVITE has no SDP) the first
 * 18x/2xx with SDP of the other side, answered in the PRACK (reliable 18x)
 * or the ACK (2xx). An unreliable 18x may preview the offer: the 2xx repeats
 * it and is an offer again. PRACK and UPDATE may carry an offer of their own
 * once no offer is pending; their 2xx the answer. An offer while one is
 * pending is refused (b2b_oa_glare), never taken for the answer.
 */
#ifndef SBC_B2BUA_OA_H
#define SBC_B2BUA_OA_H

#include <stdbool.h>
#include <stdint.h>

#include "b2bua.h"

/** What carries an SDP. */
enum b2b_oa_msg {
	B2B_OA_INVITE,	/**< an INVITE (initial or re-INVITE) */
	B2B_OA_1XX,	/**< an unreliable 18x to the INVITE */
	B2B_OA_1XX_REL, /**< a reliable 18x (RFC 3262) to the INVITE */
	B2B_OA_2XX,	/**< a 2xx to the INVITE */
	B2B_OA_ACK,	/**< the ACK of that 2xx */
	B2B_OA_REQUEST, /**< a PRACK: the answer to a reliable 18x's offer, or an offer */
	B2B_OA_UPDATE,	/**< an UPDATE: an offer, never an answer (RFC 3311 §5.2) */
	B2B_OA_RESPONSE /**< a 2xx to a PRACK or UPDATE */
};

struct b2b_oa {
	int8_t pending;	 /**< side whose offer waits for its answer; -1: none */
	int8_t answerer; /**< side that answered last in this INVITE; -1: none */
	bool inv;	 /**< an INVITE transaction runs */
	bool inv_done;	 /**< ... and its offer/answer exchange completed */
};

void b2b_oa_init(struct b2b_oa *oa);

/**
 * Side @p from sends @p msg, with SDP when @p sdp. An INVITE (with or without
 * SDP) starts a transaction.
 * @return 1: the SDP crosses as @p *kind; 0: no SDP, or one to drop.
 */
int b2b_oa_msg(struct b2b_oa *oa, enum b2bua_side from, enum b2b_oa_msg msg, bool sdp,
	       enum b2bua_sdp_kind *kind);

/** The request carrying the pending offer was refused (non-2xx): no offer pending. */
void b2b_oa_rejected(struct b2b_oa *oa);

/** The INVITE transaction ended (ACK, or refused). */
void b2b_oa_inv_end(struct b2b_oa *oa);

/**
 * The status that refuses a new offer (UPDATE, re-INVITE) from @p from now
 * (RFC 3311 §5.2, RFC 6337 §3.1): 491 while an offer toward it waits for its
 * answer, 500 (with Retry-After) while its own offer waits for one; 0: none.
 */
unsigned b2b_oa_glare(const struct b2b_oa *oa, enum b2bua_side from);

/** Whether side @p side made an offer that waits for its answer. */
bool b2b_oa_pending(const struct b2b_oa *oa, enum b2bua_side side);

/** Whether an SDP of @p from in a reliable 18x or 2xx now would be a (late) offer. */
bool b2b_oa_late_offer(const struct b2b_oa *oa, enum b2bua_side from);

#endif
