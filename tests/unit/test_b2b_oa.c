/* SPDX-License-Identifier: BSD-2-Clause */
/* B2BUA offer/answer state (sbc/b2bua/oa.h): which SDP is an ng offer, which an answer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sbc/b2bua/oa.h"

#define A B2BUA_SIDE_A
#define B B2BUA_SIDE_B
enum { DROP = -1, OFFER = B2BUA_SDP_OFFER, ANSWER = B2BUA_SDP_ANSWER };

/* One message: @return its SDP's kind, or DROP when it does not cross (or has none). */
static int sdp(struct b2b_oa *oa, int from, enum b2b_oa_msg msg, bool body)
{
	enum b2bua_sdp_kind kind = (enum b2bua_sdp_kind)42;
	int rc = b2b_oa_msg(oa, (enum b2bua_side)from, msg, body, &kind);

	assert_true(rc == 0 || rc == 1);
	return rc ? (int)kind : DROP;
}

static void test_early_offer(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	assert_int_equal(sdp(&oa, A, B2B_OA_INVITE, true), OFFER);
	assert_true(b2b_oa_pending(&oa, A));
	assert_false(b2b_oa_late_offer(&oa, B));
	/* An unreliable 18x previews the answer; the 2xx completes it. */
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX, true), ANSWER);
	assert_true(b2b_oa_pending(&oa, A));
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), ANSWER);
	assert_false(b2b_oa_pending(&oa, A));
	/* An ACK's SDP answers nothing here. */
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, true), DROP);
	b2b_oa_inv_end(&oa);
}

static void test_early_offer_reliable(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	assert_int_equal(sdp(&oa, A, B2B_OA_INVITE, true), OFFER);
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX_REL, true), ANSWER);
	assert_false(b2b_oa_pending(&oa, A));
	/* UPDATEs both ways in the early dialog. */
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, true), OFFER);
	assert_int_equal(sdp(&oa, B, B2B_OA_RESPONSE, true), ANSWER);
	assert_int_equal(sdp(&oa, B, B2B_OA_REQUEST, true), OFFER);
	assert_int_equal(sdp(&oa, A, B2B_OA_RESPONSE, true), ANSWER);
	/* RFC 3262 §5: the 2xx may repeat the answer; it still crosses as one. */
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), ANSWER);
	/* A new offer in the PRACK of a later 18x, answered in the PRACK's 2xx. */
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, true), OFFER);
	assert_int_equal(sdp(&oa, B, B2B_OA_RESPONSE, true), ANSWER);
	assert_int_equal(sdp(&oa, B, B2B_OA_RESPONSE, true), DROP);
}

static void test_late_offer_2xx_ack(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	assert_int_equal(sdp(&oa, A, B2B_OA_INVITE, false), DROP);
	assert_true(b2b_oa_late_offer(&oa, B));
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX, false), DROP);
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), OFFER);
	assert_true(b2b_oa_pending(&oa, B));
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, true), ANSWER);
	assert_false(b2b_oa_pending(&oa, B));
	b2b_oa_inv_end(&oa);
}

static void test_late_offer_unanswered(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	sdp(&oa, A, B2B_OA_INVITE, false);
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), OFFER);
	/* An ACK without SDP leaves it pending: the B2BUA ends the call. */
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, false), DROP);
	assert_true(b2b_oa_pending(&oa, B));
}

static void test_late_offer_prack(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	sdp(&oa, A, B2B_OA_INVITE, false);
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX_REL, true), OFFER);
	assert_false(b2b_oa_late_offer(&oa, A));		     /* A answers it */
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, true), ANSWER); /* the PRACK */
	assert_false(b2b_oa_pending(&oa, B));
	assert_int_equal(sdp(&oa, A, B2B_OA_RESPONSE, true), DROP);
	/* The 2xx repeating the offer that PRACK answered: not a new offer. */
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), DROP);
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, true), DROP);
	b2b_oa_inv_end(&oa);
}

static void test_late_offer_preview(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	sdp(&oa, A, B2B_OA_INVITE, false);
	/* An unreliable 18x offers early; the 2xx offers again, the ACK answers. */
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX, true), OFFER);
	assert_int_equal(sdp(&oa, B, B2B_OA_2XX, true), OFFER);
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, true), ANSWER);
}

static void test_reinvite_without_sdp(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	sdp(&oa, A, B2B_OA_INVITE, true);
	sdp(&oa, B, B2B_OA_2XX, true);
	b2b_oa_inv_end(&oa);
	/* The callee re-INVITEs without SDP: the caller offers in its 2xx. */
	assert_int_equal(sdp(&oa, B, B2B_OA_INVITE, false), DROP);
	assert_true(b2b_oa_late_offer(&oa, A));
	assert_int_equal(sdp(&oa, A, B2B_OA_2XX, true), OFFER);
	assert_int_equal(sdp(&oa, B, B2B_OA_ACK, true), ANSWER);
	b2b_oa_inv_end(&oa);
	/* A re-INVITE with SDP from the callee, refused: nothing stays pending. */
	assert_int_equal(sdp(&oa, B, B2B_OA_INVITE, true), OFFER);
	b2b_oa_rejected(&oa);
	b2b_oa_inv_end(&oa);
	assert_false(b2b_oa_pending(&oa, B));
	assert_int_equal(sdp(&oa, A, B2B_OA_ACK, true), DROP);
}

static void test_update(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	assert_int_equal(sdp(&oa, B, B2B_OA_REQUEST, true), OFFER);
	assert_int_equal(sdp(&oa, A, B2B_OA_RESPONSE, true), ANSWER);
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, true), OFFER);
	b2b_oa_rejected(&oa);
	assert_int_equal(sdp(&oa, B, B2B_OA_RESPONSE, true), DROP);
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, false), DROP);
}

/* RFC 3311 §5.2: an UPDATE offer while one is pending is refused, not the answer. */
static void test_update_glare(void **state)
{
	struct b2b_oa oa;

	(void)state;
	b2b_oa_init(&oa);
	assert_int_equal(b2b_oa_glare(&oa, A), 0);
	assert_int_equal(sdp(&oa, A, B2B_OA_UPDATE, true), OFFER);
	assert_int_equal(b2b_oa_glare(&oa, B), 491); /* crossing UPDATEs */
	assert_int_equal(b2b_oa_glare(&oa, A), 500); /* A's own offer unanswered */
	assert_int_equal(sdp(&oa, B, B2B_OA_UPDATE, true), DROP);
	assert_true(b2b_oa_pending(&oa, A));
	/* The real answer, in B's 2xx, still crosses. */
	assert_int_equal(sdp(&oa, B, B2B_OA_RESPONSE, true), ANSWER);
	assert_int_equal(b2b_oa_glare(&oa, B), 0);
	/* A re-INVITE offer pending: B's UPDATE offer is refused too. */
	assert_int_equal(sdp(&oa, A, B2B_OA_INVITE, true), OFFER);
	assert_int_equal(b2b_oa_glare(&oa, B), 491);
	/* A PRACK still answers a reliable 18x's offer. */
	b2b_oa_init(&oa);
	assert_int_equal(sdp(&oa, A, B2B_OA_INVITE, false), DROP);
	assert_int_equal(sdp(&oa, B, B2B_OA_1XX_REL, true), OFFER);
	assert_int_equal(sdp(&oa, A, B2B_OA_REQUEST, true), ANSWER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_offer),
		cmocka_unit_test(test_early_offer_reliable),
		cmocka_unit_test(test_late_offer_2xx_ack),
		cmocka_unit_test(test_late_offer_unanswered),
		cmocka_unit_test(test_late_offer_prack),
		cmocka_unit_test(test_late_offer_preview),
		cmocka_unit_test(test_reinvite_without_sdp),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_update_glare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
