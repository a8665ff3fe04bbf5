/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reliable provisional responses (RFC 3262), terminated on each leg.
 *
 * Caller side (we are its UAS): when its INVITE has 100rel in Supported or
 * Require, every 18x it gets is reliable: Require: 100rel and our own RSeq,
 * retransmitted T1, 2*T1, ... T2 until the PRACK; none within 64*T1 refuses
 * the call with 500 (§3) and cancels the callee. One reliable 18x is
 * outstanding at a time; a later one waits (the newest, unless the waiting
 * one has a body and it has none) and goes when the PRACK comes. The PRACK is
 * answered 200 here; it does not cross.
 *
 * Callee side (we are its UAC): the B-leg INVITE offers Supported: 100rel
 * when the caller supports it; a reliable 18x is PRACKed on that fork's early
 * dialog at once (fire and forget: a non-INVITE client transaction), and its
 * retransmissions (RSeq not above the last) are dropped.
 *
 * Require: 100rel from a caller whose callee does not support it: the call
 * works, since the reliability the caller requires is ours to give: the
 * callee's plain 18x reach it reliably. Require: 100rel never crosses (the
 * header policy keeps only "timer").
 *
 * Late offer (the INVITE had no SDP, oa.h): a callee's reliable 18x with
 * the offer is PRACKed only when the caller's PRACK brings the answer; that
 * PRACK then crosses (our RAck), and the callee's 200 to it answers the
 * caller's. Other PRACKs are answered here and their bodies dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua_int.h"
#include "common/log.h"
#include "sip/hdr.h"

bool b2b_has_option(const struct sip_msg *m, enum sip_hdr_id id, struct strv tag)
{
	for (const struct sip_hdr *h = sip_msg_hdr(m, id); h; h = sip_msg_hdr_next(m, h))
		if (sip_option_tag_eq(h->value, tag))
			return true;
	return false;
}

void b2b_rel_init(struct b2bua_call *c, const struct sip_msg *invite)
{
	c->rel.supported = b2b_has_option(invite, SIP_HDR_SUPPORTED, STRV("100rel")) ||
			   b2b_has_option(invite, SIP_HDR_REQUIRE, STRV("100rel"));
}

void b2b_rel_stop(struct b2bua_call *c)
{
	struct b2b_rel *r = &c->rel;

	timer_cancel(c->b2b->ts, &r->rtx);
	free(r->msg);
	free(r->next);
	r->msg = r->next = NULL;
	r->len = r->next_len = 0;
}

static void rel_fire(void *arg);

/* @p msg with Require: 100rel and the next RSeq after its status line, sent. */
static int rel_send(struct b2bua_call *c, const char *msg, size_t len)
{
	struct b2b_rel *r = &c->rel;
	const char *eol = memchr(msg, '\n', len);
	char hdrs[64];
	size_t head;
	int n;

	if (!eol || !c->inv.st)
		return -EINVAL;
	head = (size_t)(eol + 1 - msg);
	n = snprintf(hdrs, sizeof(hdrs), "Require: 100rel\r\nRSeq: %u\r\n", r->rseq + 1);
	free(r->msg);
	r->msg = malloc(len + (size_t)n);
	if (!r->msg)
		return -ENOMEM;
	memcpy(r->msg, msg, head);
	memcpy(r->msg + head, hdrs, (size_t)n);
	memcpy(r->msg + head + n, msg + head, len - head);
	r->len = len + (size_t)n;
	r->rseq++;
	r->rtx_ms = c->b2b->conf.t1_ms;
	r->deadline = timers_now(c->b2b->ts) + 64ull * c->b2b->conf.t1_ms;
	timer_start(c->b2b->ts, &r->rtx, r->rtx_ms, rel_fire, c);
	return sip_tsx_respond(c->inv.st, r->msg, r->len);
}

static bool has_body(const char *msg, size_t len)
{
	struct sip_msg m;

	return sip_msg_parse(&m, msg, len, &b2b_req_limits, NULL) == 0 && m.body.len > 0;
}

bool b2b_rel_provisional(struct b2bua_call *c, const char *msg, size_t len)
{
	struct b2b_rel *r = &c->rel;
	char *copy;

	if (!r->supported)
		return false;
	if (!c->inv.st)
		return true; /* the caller's transaction is gone: nothing to make reliable */
	if (!r->msg) {
		if (rel_send(c, msg, len) < 0)
			b2b_call_destroy(c, B2BUA_END_FAILED);
		return true;
	}
	/* One outstanding: the newest waits, but never pushes out a body for none. */
	if (r->next && has_body(r->next, r->next_len) && !has_body(msg, len))
		return true;
	copy = malloc(len);
	if (!copy) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return true;
	}
	memcpy(copy, msg, len);
	free(r->next);
	r->next = copy;
	r->next_len = len;
	return true;
}

static void rel_fire(void *arg)
{
	struct b2bua_call *c = arg;
	struct b2b_rel *r = &c->rel;

	b2b_call_hold(c);
	if (c->ended || !r->msg || !c->inv.st || c->inv.final_sent) {
		b2b_rel_stop(c); /* a final went out another way (CANCEL, failure) */
		goto out;
	}
	if (timers_now(c->b2b->ts) >= r->deadline) {
		log_info("b2bua: call %llu: no PRACK for RSeq %u, refusing the call",
			 (unsigned long long)c->id, r->rseq);
		b2b_rel_stop(c);
		b2b_cancel_b(c, 500, B2BUA_END_FAILED);
		goto out;
	}
	sip_tsx_respond(c->inv.st, r->msg, r->len);
	r->rtx_ms = r->rtx_ms * 2 < c->b2b->conf.t2_ms ? r->rtx_ms * 2 : c->b2b->conf.t2_ms;
	timer_start(c->b2b->ts, &r->rtx, r->rtx_ms, rel_fire, c);
out:
	b2b_call_release(c);
}

/* RAck: response-num CSeq-num Method (RFC 3262 §7.2). */
static int rack_parse(const struct sip_msg *m, uint32_t *rseq, uint32_t *cseq)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_RACK);
	char buf[64], method[16];

	if (!h || !strv_copy(h->value, buf, sizeof(buf)) ||
	    sscanf(buf, "%u %u %15s", rseq, cseq, method) != 3 || strcmp(method, "INVITE") != 0)
		return -EINVAL;
	return 0;
}

/* The fork whose reliable 18x's offer waits for the caller's PRACK, or NULL. */
static struct b2b_fork *fork_prack_waiting(struct b2bua_call *c)
{
	for (unsigned i = 0; i < c->nforks; i++)
		if (c->forks[i].prack_rseq && !c->forks[i].status && c->forks[i].ct)
			return &c->forks[i];
	return NULL;
}

void b2b_rel_prack(struct b2b_leg *leg, struct sip_tsx *st, const struct sip_msg *req)
{
	struct b2bua_call *c = leg->call;
	struct b2b_rel *r = &c->rel;
	struct b2b_fork *f;
	uint32_t rseq, cseq;
	bool offer;
	char *next;

	if (leg->side != B2BUA_SIDE_A || rack_parse(req, &rseq, &cseq) < 0 || !r->msg ||
	    rseq != r->rseq || cseq != c->inv.from_cseq || !c->inv.active ||
	    c->inv.from != B2BUA_SIDE_A) {
		b2b_respond_plain(c->b2b, st, req, 481); /* RFC 3262 §3: matches no 18x */
		return;
	}
	timer_cancel(c->b2b->ts, &r->rtx);
	offer = has_body(r->msg, r->len);
	free(r->msg);
	r->msg = NULL;
	f = offer ? fork_prack_waiting(c) : NULL;
	if (f) { /* the answer to the callee's late offer: the PRACK crosses */
		uint32_t frseq = f->prack_rseq;

		f->prack_rseq = 0;
		b2b_bridge_request(leg, &f->leg, st, req, frseq, f->inv_cseq);
	} else {
		if (req->body.len)
			log_info("b2bua: call %llu: PRACK body answers nothing here, dropped",
				 (unsigned long long)c->id);
		b2b_respond_plain(c->b2b, st, req, 200);
	}
	if (c->ended)
		return;
	next = r->next;
	if (!next)
		return;
	r->next = NULL;
	if (rel_send(c, next, r->next_len) < 0)
		b2b_call_destroy(c, B2BUA_END_FAILED);
	free(next);
}

bool b2b_rel_is_reliable(const struct sip_msg *resp)
{
	return sip_msg_hdr(resp, SIP_HDR_RSEQ) &&
	       b2b_has_option(resp, SIP_HDR_REQUIRE, STRV("100rel"));
}

/*
 * Whether the reliable 18x @p resp of fork @p f carries a late offer that
 * reaches the caller reliably: its PRACK then waits for the caller's answer.
 */
static bool fork_18x_offers(const struct b2bua_call *c, const struct b2b_fork *f,
			    const struct sip_msg *resp)
{
	int idx = (int)(f - c->forks);

	return resp->body.len && c->rel.supported && !f->cancelled && !c->fwd_pending &&
	       (c->sdp_fork < 0 || c->sdp_fork == idx) &&
	       (c->state == B2B_OUTGOING || c->state == B2B_EARLY) &&
	       b2b_oa_late_offer(&c->oa, B2BUA_SIDE_B);
}

bool b2b_rel_fork_18x(struct b2bua_call *c, struct b2b_fork *f, const struct sip_msg *resp)
{
	const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_RSEQ);
	struct b2bua *b = c->b2b;
	struct sip_pbuf pb;
	uint32_t rseq;
	long len;

	if (!h || !b2b_has_option(resp, SIP_HDR_REQUIRE, STRV("100rel")) ||
	    sip_uint_parse(h->value, UINT32_MAX, &rseq) < 0)
		return true; /* unreliable */
	if (f->rseq && rseq <= f->rseq)
		return false;
	f->rseq = rseq;
	b2b_learn_remote(&f->leg, resp, true);
	if (fork_18x_offers(c, f, resp)) {
		f->prack_rseq = rseq; /* PRACKed with the caller's answer */
		return true;
	}
	b2b_print_request(b, &pb, &f->leg, STRV("PRACK"), ++f->leg.dlg.local_cseq, NULL, 70, false);
	sip_print_hdrf(&pb, SIP_HDR_RACK, "%u %u INVITE", rseq, f->inv_cseq);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0)
		sip_tsx_request(b->tsx, NULL, b->out, (size_t)len, &f->leg.dlg.flow,
				sip_proto_is_stream(f->leg.dlg.flow.proto), NULL, NULL);
	return true;
}
