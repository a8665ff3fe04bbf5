/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Offer/answer classification (see oa.h). The state is one pending offer
 * (its side) plus, within an INVITE transaction, whether its exchange
 * completed and who answered; an SDP is:
 *
 *   from the side the pending offer waits on   -> answer (completes it, but
 *                                                 in an unreliable 18x: a preview)
 *   from the side whose offer is pending        -> offer again (refreshes it)
 *   nothing pending, message may offer          -> offer
 *   nothing pending, INVITE exchange completed  -> a repeat: the answerer's
 *                                                 answer again, else dropped
 *   an ACK or a 2xx to PRACK/UPDATE otherwise   -> dropped (answers nothing)
 */
#include "oa.h"

void b2b_oa_init(struct b2b_oa *oa)
{
	oa->pending = -1;
	oa->answerer = -1;
	oa->inv = false;
	oa->inv_done = false;
}

static int offer(struct b2b_oa *oa, enum b2bua_side from, enum b2bua_sdp_kind *kind)
{
	oa->pending = (int8_t)from;
	*kind = B2BUA_SDP_OFFER;
	return 1;
}

/*
 * @p final: the answer completes the exchange (not an unreliable 18x's
 * preview); @p of_inv: it is the INVITE's exchange (not an UPDATE's).
 */
static int answer(struct b2b_oa *oa, enum b2bua_side from, bool final, bool of_inv,
		  enum b2bua_sdp_kind *kind)
{
	if (final) {
		oa->pending = -1;
		if (oa->inv && of_inv) {
			oa->inv_done = true;
			oa->answerer = (int8_t)from;
		}
	}
	*kind = B2BUA_SDP_ANSWER;
	return 1;
}

/* An SDP in a response to the INVITE. */
static int inv_response(struct b2b_oa *oa, enum b2bua_side from, enum b2b_oa_msg msg,
			enum b2bua_sdp_kind *kind)
{
	if (!oa->inv)
		return 0;
	if (oa->pending == (int8_t)!from)
		return answer(oa, from, msg != B2B_OA_1XX, true, kind);
	if (oa->pending == (int8_t)from || !oa->inv_done)
		return offer(oa, from, kind); /* a late offer, or its repeat */
	if (oa->answerer == (int8_t)from) {
		*kind = B2BUA_SDP_ANSWER; /* the same answer again (RFC 3262 §5) */
		return 1;
	}
	return 0; /* an offer answered by PRACK, repeated in the 2xx */
}

int b2b_oa_msg(struct b2b_oa *oa, enum b2bua_side from, enum b2b_oa_msg msg, bool sdp,
	       enum b2bua_sdp_kind *kind)
{
	if (msg == B2B_OA_INVITE) {
		oa->inv = true;
		oa->inv_done = false;
		oa->answerer = -1;
		oa->pending = -1;
	}
	if (!sdp)
		return 0;
	switch (msg) {
	case B2B_OA_INVITE:
		return offer(oa, from, kind);
	case B2B_OA_1XX:
	case B2B_OA_1XX_REL:
	case B2B_OA_2XX:
		return inv_response(oa, from, msg, kind);
	case B2B_OA_REQUEST:
		if (oa->pending == (int8_t)!from)
			return answer(oa, from, true, true,
				      kind); /* PRACK answering a reliable 18x */
		return offer(oa, from, kind);
	case B2B_OA_UPDATE:
		if (oa->pending >= 0) /* refused by the caller (b2b_oa_glare): drop */
			return 0;
		return offer(oa, from, kind);
	case B2B_OA_ACK:
	case B2B_OA_RESPONSE:
		if (oa->pending != (int8_t)!from)
			return 0;
		return answer(oa, from, true, msg == B2B_OA_ACK, kind);
	}
	return 0;
}

void b2b_oa_rejected(struct b2b_oa *oa)
{
	oa->pending = -1;
}

void b2b_oa_inv_end(struct b2b_oa *oa)
{
	oa->pending = -1;
	oa->answerer = -1;
	oa->inv = false;
	oa->inv_done = false;
}

unsigned b2b_oa_glare(const struct b2b_oa *oa, enum b2bua_side from)
{
	if (oa->pending == (int8_t)!from)
		return 491;
	if (oa->pending == (int8_t)from)
		return 500;
	return 0;
}

bool b2b_oa_pending(const struct b2b_oa *oa, enum b2bua_side side)
{
	return oa->pending == (int8_t)side;
}

bool b2b_oa_late_offer(const struct b2b_oa *oa, enum b2bua_side from)
{
	return oa->inv && !oa->inv_done && oa->pending != (int8_t)!from;
}
