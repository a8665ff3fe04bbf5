/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Calls: two legs and the state machine that bridges them (see b2bua_int.h
 * for the states). Every entry point holds the call (busy count) so that a
 * call destroyed in the middle of a handler is freed only when the outermost
 * handler returns.
 *
 * Final responses of the B-leg's INVITE (the best of the last step's forks,
 * after failover and forwarding: see fork.c), as the caller sees them
 * (RFC 3261 §16.7 hints):
 *   2xx              -> the same 2xx (our Contact, the caller's Record-Route)
 *   300, 301, 302    -> followed when redirect_h accepts a Contact (fork.c), else 480
 *   other 3xx        -> 480 (the Contact would leak the callee)
 *   408, Timer B     -> 408
 *   503              -> 500 (§16.7 step 6: a 503 is about the next hop only)
 *   transport error  -> 500 (§16.9: as a 503)
 *   other 4xx/5xx/6xx-> the same code, standard reason phrase
 *   no_answer_timeout-> 408 to the caller, CANCEL to the callee (unless forwarded)
 * In-dialog requests map the same way; 481, 408 or a timeout there ends the
 * call on both legs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b2bua_int.h"
#include "common/log.h"
#include "sip/hdr.h"
#include "sip/print.h"
#include "sip/reply.h"
#include "routing/routes.h"

const struct sip_limits b2b_req_limits = { .max_msg_size = 1048576 };

static void call_free(struct b2bua_call *c);
static void out_pump(struct b2bua_call *c);

static inline struct b2b_leg *other(struct b2b_leg *leg)
{
	return &leg->call->leg[!leg->side];
}

void b2b_call_hold(struct b2bua_call *c)
{
	c->busy++;
}

void b2b_call_release(struct b2bua_call *c)
{
	if (--c->busy == 0 && c->ended)
		call_free(c);
}

uint64_t b2b_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- saved requests ------------------------------------------------------ */

static int req_save(struct b2b_req *r, const struct sip_msg *m, const struct sip_flow *flow)
{
	r->buf = malloc(m->len);
	if (!r->buf)
		return -ENOMEM;
	memcpy(r->buf, m->buf, m->len);
	r->len = m->len;
	r->flow = *flow;
	return 0;
}

static void req_free(struct b2b_req *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* --- building messages --------------------------------------------------- */

/* A request on @p leg, up to (not including) the body. */
void b2b_print_request(struct b2bua *b, struct sip_pbuf *pb, struct b2b_leg *leg,
		       struct strv method, uint32_t cseq, const struct sip_msg *src, unsigned mf,
		       bool contact)
{
	struct b2b_dialog *d = &leg->dlg;
	char branch[8 + B2B_ID_LEN + 1] = "z9hG4bK";

	b2b_new_id(b, branch + 7);
	sip_print_init(pb, b->out, sizeof(b->out));
	sip_print_request_line(pb, method, strv_cstr(d->remote_target));
	sip_print_hdrf(pb, SIP_HDR_VIA, "%s;branch=%s;rport", d->sent_by, branch);
	sip_print_hdr_uint(pb, SIP_HDR_MAX_FORWARDS, mf);
	if (d->route_set[0])
		sip_print_hdr(pb, SIP_HDR_ROUTE, strv_cstr(d->route_set));
	sip_print_hdrf(pb, SIP_HDR_FROM, "%s;tag=%s", d->local_uri, d->local_tag);
	if (d->remote_tag[0])
		sip_print_hdrf(pb, SIP_HDR_TO, "%s;tag=%s", d->remote_uri, d->remote_tag);
	else
		sip_print_hdr(pb, SIP_HDR_TO, strv_cstr(d->remote_uri));
	sip_print_hdr(pb, SIP_HDR_CALL_ID, strv_cstr(d->call_id));
	sip_print_hdrf(pb, SIP_HDR_CSEQ, "%u %.*s", cseq, (int)method.len, method.p);
	if (contact)
		sip_print_hdr(pb, SIP_HDR_CONTACT, strv_cstr(d->contact));
	if (src)
		b2b_hdr_policy_copy(&b->policy, pb, src);
}

/*
 * A response to the saved request @p r that came on @p leg, up to the body.
 * @p dlg_hdrs: our Contact and the request's Record-Route (dialog-creating or
 * target-refreshing responses). @p src: the response whose allowed headers cross.
 */
static int print_reply(struct b2bua *b, struct sip_pbuf *pb, const struct b2b_req *r,
		       struct b2b_leg *leg, unsigned code, bool dlg_hdrs, const struct sip_msg *src)
{
	struct sip_msg m;

	if (sip_msg_parse(&m, r->buf, r->len, &b2b_req_limits, NULL) < 0)
		return -EINVAL;
	sip_print_init(pb, b->out, sizeof(b->out));
	if (sip_reply_begin(pb, &m, &r->flow, code, STRV_NULL, strv_cstr(leg->dlg.local_tag)) < 0)
		return -EINVAL;
	if (dlg_hdrs) {
		if (m.method == SIP_METHOD_INVITE && leg->side == B2BUA_SIDE_A &&
		    !leg->call->leg[0].confirmed)
			sip_print_copy_all(pb, &m, SIP_HDR_RECORD_ROUTE, SIP_PRINT_NAME_CANONICAL);
		sip_print_hdr(pb, SIP_HDR_CONTACT, strv_cstr(leg->dlg.contact));
	}
	if (src)
		b2b_hdr_policy_copy(&b->policy, pb, src);
	return 0;
}

static unsigned status_of(const char *msg)
{
	return (unsigned)(msg[8] - '0') * 100 + (unsigned)(msg[9] - '0') * 10 +
	       (unsigned)(msg[10] - '0');
}

/* Answers the saved request @p r on @p st at once, no body. */
void b2b_reply_now(struct b2bua *b, struct sip_tsx *st, const struct b2b_req *r,
		   struct b2b_leg *leg, unsigned code)
{
	struct sip_pbuf pb;
	long len;

	if (print_reply(b, &pb, r, leg, code, false, NULL) < 0)
		return;
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0)
		sip_tsx_respond(st, b->out, (size_t)len);
}

/* @p code at once, no body; @p retry_after (seconds) unless negative. */
static void respond(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req, unsigned code,
		    int retry_after)
{
	char tag[B2B_ID_LEN + 1];
	struct sip_pbuf pb;
	long len;

	b2b_new_id(b, tag);
	sip_print_init(&pb, b->out, sizeof(b->out));
	if (sip_reply_begin(&pb, req, sip_tsx_dest(st), code, STRV_NULL, strv_cstr(tag)) < 0)
		goto fail;
	if (retry_after >= 0)
		sip_print_hdrf_name(&pb, "Retry-After", "%d", retry_after);
	if (code == 420) /* the Require values we refused (RFC 3261 §8.2.2.3) */
		for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REQUIRE); h;
		     h = sip_msg_hdr_next(req, h))
			sip_print_hdr(&pb, SIP_HDR_UNSUPPORTED, h->value);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0 && sip_tsx_respond(st, b->out, (size_t)len) == 0)
		return;
fail:
	sip_tsx_terminate(st);
}

void b2b_respond_plain(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req,
		       unsigned code)
{
	respond(b, st, req, code, -1);
}

/*
 * Refuses an offer that crosses a pending one (b2b_oa_glare): 491, or 500 with
 * a random Retry-After of 0-10 s (RFC 3311 §5.2). @return whether it did.
 */
static bool refuse_glare(struct b2bua_call *c, enum b2bua_side from, struct sip_tsx *st,
			 const struct sip_msg *req)
{
	unsigned code = b2b_oa_glare(&c->oa, from);

	if (!code)
		return false;
	respond(c->b2b, st, req, code, code == 500 ? (int)(b2b_random(c->b2b) % 11) : -1);
	return true;
}

unsigned b2b_map_final(unsigned code)
{
	if (code >= 300 && code < 400)
		return 480;
	if (code == 503)
		return 500;
	return code;
}

static unsigned map_error(int err)
{
	return err == -ETIMEDOUT ? 408 : 500;
}

/* --- the outgoing queue: bodies through the media hook, order kept ------- */

static struct strv content_type(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);

	return h ? h->value : STRV_NULL;
}

static void op_free(struct b2bua_media_op *op)
{
	free(op->hdrs);
	free(op->body);
	free(op);
}

static void op_finish(struct b2bua_call *c, struct b2bua_media_op *op)
{
	struct b2bua *b = c->b2b;
	struct sip_pbuf pb;
	long len;

	if (op->body_finish) {
		op->body_finish(c, strv_cstr(op->ctype), strv_make(op->body, op->body_len));
		return;
	}
	sip_print_init(&pb, b->out, sizeof(b->out));
	sip_print_raw(&pb, strv_make(op->hdrs, op->hdrs_len));
	sip_print_body(&pb, strv_cstr(op->ctype), strv_make(op->body, op->body_len));
	len = sip_print_finish(&pb);
	if (len < 0) {
		log_warn("b2bua: call %llu: message too large", (unsigned long long)c->id);
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	op->finish(c, op->ctx, b->out, (size_t)len);
}

/*
 * Sends the message in @p pb (headers only) with @p src's body: now when
 * nothing waits and no media hook applies, else in turn after the media hook.
 * Without @p pb, only the body waits its turn and goes to @p body_finish.
 */
void b2b_out_queue(struct b2bua_call *c, struct sip_pbuf *pb, const struct sip_msg *src,
		   enum b2bua_side from, enum b2bua_sdp_kind kind, b2b_finish_h *finish,
		   b2b_body_h *body_finish, void *ctx)
{
	struct strv body = src ? src->body : STRV_NULL;
	struct strv ctype = src ? content_type(src) : STRV_NULL;
	struct b2bua_media_op *op;

	if (c->ended)
		return;
	if (!c->outq && (!body.len || !c->b2b->conf.media_h)) {
		long len;

		if (!pb) {
			body_finish(c, ctype, body);
			return;
		}
		sip_print_body(pb, ctype, body);
		len = sip_print_finish(pb);
		if (len < 0) {
			b2b_call_destroy(c, B2BUA_END_FAILED);
			return;
		}
		finish(c, ctx, pb->p, (size_t)len);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op || (pb && pb->overflow) || !(op->hdrs = malloc(pb ? pb->len + 1 : 1)) ||
	    (body.len && !(op->body = malloc(body.len))) ||
	    b2b_copy(op->ctype, sizeof(op->ctype), ctype) < 0) {
		if (op)
			op_free(op);
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	if (pb)
		memcpy(op->hdrs, pb->p, pb->len);
	op->hdrs_len = pb ? pb->len : 0;
	if (body.len)
		memcpy(op->body, body.p, body.len);
	op->body_len = body.len;
	op->call = c;
	op->finish = finish;
	op->body_finish = body_finish;
	op->ctx = ctx;
	op->from = from;
	op->kind = kind;
	*c->outq_tail = op;
	c->outq_tail = &op->next;
	out_pump(c);
}

static void out_submit(struct b2bua_call *c, struct sip_pbuf *pb, const struct sip_msg *src,
		       enum b2bua_side from, enum b2bua_sdp_kind kind, b2b_finish_h *finish,
		       void *ctx)
{
	b2b_out_queue(c, pb, src, from, kind, finish, NULL, ctx);
}

/* Set while the hook runs: a synchronous b2bua_media_done() must not pump again. */
static _Thread_local bool pumping;

static void out_pump(struct b2bua_call *c)
{
	struct b2bua *b = c->b2b;
	struct b2bua_media_op *op;

	while (!c->ended && (op = c->outq) != NULL) {
		if (op->body_len && b->conf.media_h && !op->done) {
			if (!op->started) {
				int rc;

				op->started = true;
				pumping = true;
				rc = b->conf.media_h(b->conf.media_arg, c, op->from, op->kind,
						     strv_make(op->body, op->body_len), op);
				pumping = false;
				if (rc < 0) {
					op->started = false;
					b2b_call_destroy(c, B2BUA_END_FAILED);
					return;
				}
			}
			if (!op->done)
				return; /* the hook answers later */
		}
		c->outq = op->next;
		if (!c->outq)
			c->outq_tail = &c->outq;
		op_finish(c, op);
		op_free(op);
	}
}

void b2bua_media_done(struct b2bua_media_op *op, int err, struct strv sdp)
{
	struct b2bua_call *c = op->call;
	char *body = NULL;

	b2b_call_hold(c);
	if (err < 0 || (sdp.len && !(body = malloc(sdp.len)))) {
		op->started = false; /* nothing to cancel any more */
		/*
		 * Media that cannot be anchored refuses the call with 503 even when the
		 * callee has already answered: the caller has not, and never will.
		 */
		if (err < 0 && c->state != B2B_CONFIRMED && c->inv.from == B2BUA_SIDE_A &&
		    c->inv.st && !c->inv.final_sent) {
			c->cdr.status = 503;
			c->cdr.answer_ms = 0;
		}
		b2b_call_destroy(c, B2BUA_END_FAILED);
		goto out;
	}
	if (sdp.len)
		memcpy(body, sdp.p, sdp.len);
	free(op->body);
	op->body = body;
	op->body_len = sdp.len;
	op->done = true;
	if (!pumping)
		out_pump(c);
out:
	b2b_call_release(c);
}

/* --- transaction handlers ------------------------------------------------ */

static void inv_st_term(void *arg, struct sip_tsx *t)
{
	struct b2bua_call *c = arg;

	if (c->inv.st == t)
		c->inv.st = NULL;
}

static void inv_st_err(void *arg, struct sip_tsx *t, int err)
{
	(void)err;
	inv_st_term(arg, t);
}

static const struct sip_tsx_handlers inv_st_handlers = {
	.err_h = inv_st_err,
	.term_h = inv_st_term,
};

static void inv_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp);
static void inv_ct_err(void *arg, struct sip_tsx *t, int err);
static void inv_ct_term(void *arg, struct sip_tsx *t);

const struct sip_tsx_handlers b2b_inv_ct_handlers = {
	.resp_h = inv_ct_resp,
	.err_h = inv_ct_err,
	.term_h = inv_ct_term,
};

static void fwd_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp);
static void fwd_ct_err(void *arg, struct sip_tsx *t, int err);
static void fwd_tsx_term(void *arg, struct sip_tsx *t);

static const struct sip_tsx_handlers fwd_ct_handlers = {
	.resp_h = fwd_ct_resp,
	.err_h = fwd_ct_err,
	.term_h = fwd_tsx_term,
};

static const struct sip_tsx_handlers fwd_st_handlers = {
	.term_h = fwd_tsx_term,
};

/* --- finishing: what each queued message does once complete -------------- */

static void inv_clear(struct b2bua_call *c)
{
	struct b2b_inv *inv = &c->inv;

	if (inv->st)
		sip_tsx_set_handlers(inv->st, NULL, NULL);
	timer_cancel(c->b2b->ts, &inv->rtx);
	req_free(&inv->req);
	free(inv->ok);
	/*
	 * inv->ct stays referenced by the leg (ack_ct) when a 2xx was ACKed; a
	 * refused one lingers (Timer D) and must not report to a freed call.
	 */
	if (inv->ct && inv->ct != c->leg[0].ack_ct && inv->ct != c->leg[1].ack_ct)
		sip_tsx_set_handlers(inv->ct, NULL, NULL);
	memset(inv, 0, sizeof(*inv));
	b2b_oa_inv_end(&c->oa);
}

static void fin_inv_request(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2bua *b = c->b2b;
	struct b2b_leg *to = &c->leg[!c->inv.from];
	int rc;

	(void)ctx;
	rc = sip_tsx_request(b->tsx, &c->inv.ct, msg, len, &to->dlg.flow,
			     sip_proto_is_stream(to->dlg.flow.proto), &b2b_inv_ct_handlers, c);
	if (rc < 0) {
		c->inv.ct = NULL;
		inv_ct_err(c, NULL, rc);
	}
}

static void rtx_fire(void *arg);

static void fin_inv_response(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2b_inv *inv = &c->inv;
	unsigned code = status_of(msg);

	(void)ctx;
	if (!inv->active || inv->final_sent)
		return;
	if (code >= 200) {
		inv->final_sent = true;
		b2b_rel_stop(c);
	} else if (inv->from == B2BUA_SIDE_A && c->state != B2B_CONFIRMED &&
		   b2b_rel_provisional(c, msg, len)) {
		return;
	}
	if (inv->st)
		sip_tsx_respond(inv->st, msg, len);
	if (code >= 300) {
		if (c->state == B2B_CONFIRMED)
			inv_clear(c); /* a re-INVITE refused: the call goes on */
		return;
	}
	if (code < 200)
		return;
	/* RFC 6026: the 2xx is ours to retransmit until the ACK comes. */
	inv->ok = malloc(len);
	if (!inv->ok) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	memcpy(inv->ok, msg, len);
	inv->ok_len = len;
	c->leg[inv->from].confirmed = true;
	if (!sip_proto_is_stream(inv->req.flow.proto)) {
		inv->rtx_ms = c->b2b->conf.t1_ms;
		timer_start(c->b2b->ts, &inv->rtx, inv->rtx_ms, rtx_fire, c);
	} else {
		timer_start(c->b2b->ts, &inv->rtx, 64ull * c->b2b->conf.t1_ms, rtx_fire, c);
	}
	inv->rtx_deadline = timers_now(c->b2b->ts) + 64ull * c->b2b->conf.t1_ms;
}

static void fin_ack(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2b_leg *leg = ctx;
	char *copy = malloc(len);

	if (copy) {
		memcpy(copy, msg, len);
		free(leg->ack);
		leg->ack = copy;
		leg->ack_len = len;
	}
	sip_tsx_send(c->b2b->tsx, &leg->dlg.flow, msg, len);
}

static void fwd_free(struct b2b_fwd *f)
{
	if (f->st)
		sip_tsx_set_handlers(f->st, NULL, NULL);
	if (f->ct)
		sip_tsx_set_handlers(f->ct, NULL, NULL);
	if (f->next)
		f->next->pprev = f->pprev;
	*f->pprev = f->next;
	req_free(&f->req);
	free(f);
}

static void fin_fwd_request(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2b_fwd *f = ctx;
	struct b2b_leg *to = f->to;
	int rc;

	if (!to) { /* the early dialog it was for ended meanwhile */
		fwd_ct_err(f, NULL, -ENOENT);
		return;
	}
	rc = sip_tsx_request(c->b2b->tsx, &f->ct, msg, len, &to->dlg.flow,
			     sip_proto_is_stream(to->dlg.flow.proto), &fwd_ct_handlers, f);
	if (rc < 0) {
		f->ct = NULL;
		fwd_ct_err(f, NULL, rc);
	}
}

static void fin_fwd_response(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2b_fwd *f = ctx;
	unsigned code = status_of(msg);

	(void)c;
	if (f->st)
		sip_tsx_respond(f->st, msg, len);
	if (code >= 200)
		fwd_free(f);
}

static void fin_send_request(struct b2bua_call *c, void *ctx, const char *msg, size_t len)
{
	struct b2b_leg *leg = ctx;

	/* Fire and forget (BYE): the layer ends the transaction on its own. */
	sip_tsx_request(c->b2b->tsx, NULL, msg, len, &leg->dlg.flow,
			sip_proto_is_stream(leg->dlg.flow.proto), NULL, NULL);
}

/* --- ACK and BYE toward a leg -------------------------------------------- */

/* The ACK for the 2xx of our INVITE c->inv.ct_cseq on @p leg. */
static void send_ack(struct b2bua_call *c, struct b2b_leg *leg, const struct sip_msg *src)
{
	enum b2bua_sdp_kind kind = B2BUA_SDP_ANSWER;
	struct sip_pbuf pb;
	bool sdp;

	b2b_print_request(c->b2b, &pb, leg, STRV("ACK"), c->inv.ct_cseq, NULL, 70, false);
	if (src)
		b2b_hdr_policy_copy(&c->b2b->policy, &pb, src);
	/* An ACK's SDP crosses only as the answer to a late offer (in the 2xx). */
	sdp = src && b2b_oa_msg(&c->oa, (enum b2bua_side) !leg->side, B2B_OA_ACK, src->body.len > 0,
				&kind);
	out_submit(c, &pb, sdp ? src : NULL, !leg->side, kind, fin_ack, leg);
}

void b2b_send_bye(struct b2bua_call *c, struct b2b_leg *leg)
{
	struct sip_pbuf pb;
	long len;

	b2b_print_request(c->b2b, &pb, leg, STRV("BYE"), ++leg->dlg.local_cseq, NULL, 70, false);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0)
		fin_send_request(c, leg, pb.p, (size_t)len);
}

/* --- the INVITE client transaction --------------------------------------- */

void b2b_learn_remote(struct b2b_leg *leg, const struct sip_msg *resp, bool routes)
{
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct sip_addr a;

	if (to && sip_addr_parse(&a, to->value) == 0 && a.tag.len)
		b2b_copy(leg->dlg.remote_tag, sizeof(leg->dlg.remote_tag), a.tag);
	b2b_dialog_set_target(&leg->dlg, resp);
	if (routes)
		b2b_dialog_set_routes(&leg->dlg, resp, true);
}

void b2b_relay_to_inv_from(struct b2bua_call *c, unsigned code, const struct sip_msg *resp,
			   bool dlg_hdrs, bool body)
{
	struct b2b_inv *inv = &c->inv;
	enum b2bua_sdp_kind kind = B2BUA_SDP_ANSWER;
	enum b2b_oa_msg msg = B2B_OA_2XX;
	struct sip_pbuf pb;

	if (print_reply(c->b2b, &pb, &inv->req, &c->leg[inv->from], code, dlg_hdrs, resp) < 0) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	if (code >= 300)
		b2b_oa_rejected(&c->oa);
	if (code < 200)
		msg = b2b_rel_is_reliable(resp) ? B2B_OA_1XX_REL : B2B_OA_1XX;
	/*
	 * An unreliable 18x's late offer would reach a 100rel caller reliably, to be
	 * answered in a PRACK the callee never gets: the offer waits for the 2xx.
	 */
	if (msg == B2B_OA_1XX && c->rel.supported && inv->from == B2BUA_SIDE_A &&
	    b2b_oa_late_offer(&c->oa, B2BUA_SIDE_B))
		body = false;
	/* Offer (late offer) or answer, by the call's state; dropped if neither. */
	body = body && resp && code < 300 &&
	       b2b_oa_msg(&c->oa, (enum b2bua_side) !inv->from, msg, resp->body.len > 0, &kind);
	out_submit(c, &pb, body ? resp : NULL, !inv->from, kind, fin_inv_response, NULL);
}

static void inv_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct b2bua_call *c = arg;
	struct b2b_inv *inv = &c->inv;
	struct b2b_leg *to = &c->leg[!inv->from];
	unsigned code = resp->status;

	b2b_call_hold(c);
	if (c->ended)
		goto out;
	if (code >= 200 && code < 300 && to->ack_ct == t && b2b_other_dialog(to, resp)) {
		/* Another branch of a forking proxy answered too (RFC 3261 §13.2.2.4). */
		b2b_release_2xx(c->b2b, to, resp, true);
		goto out;
	}
	if (code >= 200 && code < 300 && to->ack_ct == t) {
		/* A retransmitted 2xx: our ACK got lost. */
		if (to->ack)
			sip_tsx_send(c->b2b->tsx, &to->dlg.flow, to->ack, to->ack_len);
		goto out;
	}
	if (!inv->active || inv->ct != t)
		goto out;
	if (code < 200) {
		if (code == 100 || c->state == B2B_CONFIRMED || c->state == B2B_CANCELLING)
			goto out;
		b2b_learn_remote(to, resp, true);
		if (!c->cdr.ringing_ms)
			c->cdr.ringing_ms = b2b_realtime_ms();
		c->state = B2B_EARLY;
		b2b_relay_to_inv_from(c, code, resp, true, true);
		goto out;
	}
	inv->ct_final = true;
	if (code >= 300) {
		if (c->state == B2B_CANCELLING || !inv->st) {
			b2b_call_destroy(c, c->cdr.end);
			goto out;
		}
		code = b2b_map_final(code);
		/* A refused re-INVITE (491, 488) leaves an answered call's status. */
		if (!c->answered)
			c->cdr.status = code;
		b2b_relay_to_inv_from(c, code, resp, false, false);
		if (c->state != B2B_CONFIRMED)
			b2b_call_destroy(c, B2BUA_END_REJECTED);
		goto out;
	}
	/* 2xx */
	b2b_learn_remote(to, resp, c->state != B2B_CONFIRMED);
	to->confirmed = true;
	if (to->ack_ct && to->ack_ct != t)
		sip_tsx_set_handlers(to->ack_ct, NULL, NULL); /* an older INVITE's 2xx: done */
	to->ack_ct = t;
	free(to->ack);
	to->ack = NULL;
	if (c->state == B2B_CANCELLING) {
		/* Answered while we were cancelling: destroy ACKs and BYEs it (RFC 3261 §15). */
		b2b_call_destroy(c, c->cdr.end);
		goto out;
	}
	if (c->state != B2B_CONFIRMED) {
		c->state = B2B_ANSWERED;
		c->answered = true;
		c->cdr.status = code;
		c->cdr.answer_ms = b2b_realtime_ms();
		c->b2b->stats.calls_answered++;
		timer_cancel(c->b2b->ts, &c->no_answer);
	}
	b2b_relay_to_inv_from(c, code, resp, true, true);
out:
	b2b_call_release(c);
}

static void inv_ct_err(void *arg, struct sip_tsx *t, int err)
{
	struct b2bua_call *c = arg;

	(void)t;
	b2b_call_hold(c);
	if (c->ended)
		goto out;
	c->inv.ct_final = true;
	if (c->state == B2B_CANCELLING || c->state == B2B_CONFIRMED || !c->inv.st) {
		/* A re-INVITE that failed on the transport or timed out: the leg is gone. */
		if (c->state == B2B_CONFIRMED && c->inv.st)
			b2b_reply_now(c->b2b, c->inv.st, &c->inv.req, &c->leg[c->inv.from],
				      map_error(err));
		c->inv.final_sent = true;
		b2b_call_destroy(c, c->state == B2B_CANCELLING ? c->cdr.end : B2BUA_END_FAILED);
		goto out;
	}
	c->cdr.status = map_error(err);
	b2b_relay_to_inv_from(c, c->cdr.status, NULL, false, false);
	b2b_call_destroy(c, err == -ETIMEDOUT ? B2BUA_END_NO_ANSWER : B2BUA_END_FAILED);
out:
	b2b_call_release(c);
}

static void inv_ct_term(void *arg, struct sip_tsx *t)
{
	struct b2bua_call *c = arg;

	if (c->inv.ct == t)
		c->inv.ct = NULL;
	for (int i = 0; i < 2; i++)
		if (c->leg[i].ack_ct == t)
			c->leg[i].ack_ct = NULL;
}

/* --- timers -------------------------------------------------------------- */

static void rtx_fire(void *arg)
{
	struct b2bua_call *c = arg;
	struct b2b_inv *inv = &c->inv;

	b2b_call_hold(c);
	if (timers_now(c->b2b->ts) >= inv->rtx_deadline) {
		log_info("b2bua: call %llu: no ACK for the 2xx, ending the call",
			 (unsigned long long)c->id);
		b2b_call_destroy(c, B2BUA_END_FAILED);
	} else {
		sip_tsx_send(c->b2b->tsx, &inv->req.flow, inv->ok, inv->ok_len);
		inv->rtx_ms =
		    inv->rtx_ms * 2 < c->b2b->conf.t2_ms ? inv->rtx_ms * 2 : c->b2b->conf.t2_ms;
		timer_start(c->b2b->ts, &inv->rtx, inv->rtx_ms, rtx_fire, c);
	}
	b2b_call_release(c);
}

/* --- in-dialog non-INVITE requests --------------------------------------- */

static void fwd_tsx_term(void *arg, struct sip_tsx *t)
{
	struct b2b_fwd *f = arg;

	if (f->st == t)
		f->st = NULL;
	if (f->ct == t)
		f->ct = NULL;
}

/* Methods whose SDP follows offer/answer (oa.h); other bodies cross as before. */
static bool oa_method(enum sip_method m)
{
	return m == SIP_METHOD_UPDATE || m == SIP_METHOD_PRACK;
}

static void fwd_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct b2b_fwd *f = arg;
	struct b2bua_call *c = f->call;
	unsigned code = resp->status;
	enum b2bua_sdp_kind kind = B2BUA_SDP_ANSWER;
	struct sip_pbuf pb;
	bool refresh, body;

	if (code < 200)
		return;
	b2b_call_hold(c);
	refresh = code < 300 && sip_tsx_method(f->ct) == SIP_METHOD_UPDATE;
	if (refresh && f->to)
		b2b_dialog_set_target(&f->to->dlg, resp);
	if (print_reply(c->b2b, &pb, &f->req, f->src ? f->src : &c->leg[f->from],
			b2b_map_final(code), refresh, resp) < 0) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		goto out;
	}
	if (code >= 300 && b2b_oa_pending(&c->oa, f->from))
		b2b_oa_rejected(&c->oa); /* its offer, if it made one, is refused */
	body = code < 300;
	if (body && oa_method(sip_tsx_method(t)))
		body = b2b_oa_msg(&c->oa, (enum b2bua_side) !f->from, B2B_OA_RESPONSE,
				  resp->body.len > 0, &kind);
	out_submit(c, &pb, body ? resp : NULL, !f->from, kind, fin_fwd_response, f);
	if (code == 481 || code == 408)
		b2b_call_destroy(c, B2BUA_END_FAILED);
out:
	b2b_call_release(c);
}

static void fwd_ct_err(void *arg, struct sip_tsx *t, int err)
{
	struct b2b_fwd *f = arg;
	struct b2bua_call *c = f->call;

	(void)t;
	b2b_call_hold(c);
	if (f->st)
		b2b_reply_now(c->b2b, f->st, &f->req, f->src ? f->src : &c->leg[f->from],
			      err == -ENOENT ? 481 : map_error(err));
	if (err != -ENOENT)
		b2b_call_destroy(c, B2BUA_END_FAILED);
	else
		fwd_free(f);
	b2b_call_release(c);
}

unsigned b2b_max_forwards(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS);
	uint32_t mf = 70;

	if (h && sip_uint_parse(h->value, 255, &mf) < 0)
		mf = 70;
	return mf;
}

void b2b_bridge_request(struct b2b_leg *leg, struct b2b_leg *to, struct sip_tsx *st,
			const struct sip_msg *req, uint32_t rack_rseq, uint32_t rack_cseq)
{
	struct b2bua_call *c = leg->call;
	struct b2bua *b = c->b2b;
	enum b2bua_sdp_kind kind = B2BUA_SDP_OFFER;
	struct b2b_fwd *f;
	struct sip_pbuf pb;
	bool refresh = req->method == SIP_METHOD_UPDATE, body = true;

	/* An UPDATE's offer is never the answer to a pending one: refused here. */
	if (refresh && req->body.len && refuse_glare(c, leg->side, st, req))
		return;
	f = calloc(1, sizeof(*f));
	if (!f || req_save(&f->req, req, sip_tsx_dest(st)) < 0) {
		free(f);
		b2b_respond_plain(b, st, req, 500);
		return;
	}
	f->call = c;
	f->from = leg->side;
	f->src = leg;
	f->to = to;
	f->st = st;
	f->next = c->fwds;
	if (f->next)
		f->next->pprev = &f->next;
	f->pprev = &c->fwds;
	c->fwds = f;
	sip_tsx_set_handlers(st, &fwd_st_handlers, f);
	if (refresh)
		b2b_dialog_set_target(&leg->dlg, req);
	b2b_print_request(b, &pb, to, req->method_name, ++to->dlg.local_cseq, req,
			  b2b_max_forwards(req) - 1, refresh);
	if (rack_rseq) /* the callee's own numbers: its RSeq, its INVITE's CSeq */
		sip_print_hdrf(&pb, SIP_HDR_RACK, "%u %u INVITE", rack_rseq, rack_cseq);
	if (oa_method(req->method))
		body = b2b_oa_msg(&c->oa, leg->side, refresh ? B2B_OA_UPDATE : B2B_OA_REQUEST,
				  req->body.len > 0, &kind);
	out_submit(c, &pb, body ? req : NULL, leg->side, kind, fin_fwd_request, f);
}

static void reinvite(struct b2b_leg *leg, struct sip_tsx *st, const struct sip_msg *req)
{
	struct b2bua_call *c = leg->call;
	struct b2b_leg *to = other(leg);
	struct b2b_inv *inv = &c->inv;
	enum b2bua_sdp_kind kind = B2BUA_SDP_OFFER;
	struct sip_pbuf pb;

	if (inv->active || c->state != B2B_CONFIRMED) {
		b2b_respond_plain(c->b2b, st, req, 491); /* glare, RFC 3261 §14.2 */
		return;
	}
	/* An UPDATE's offer still waits for its answer (RFC 6337 §3.1). */
	if (refuse_glare(c, leg->side, st, req))
		return;
	if (req_save(&inv->req, req, sip_tsx_dest(st)) < 0) {
		b2b_respond_plain(c->b2b, st, req, 500);
		return;
	}
	inv->active = true;
	inv->from = leg->side;
	inv->st = st;
	inv->from_cseq = req->cseq;
	sip_tsx_set_handlers(st, &inv_st_handlers, c);
	b2b_dialog_set_target(&leg->dlg, req);
	inv->ct_cseq = ++to->dlg.local_cseq;
	b2b_print_request(c->b2b, &pb, to, STRV("INVITE"), inv->ct_cseq, req,
			  b2b_max_forwards(req) - 1, true);
	/* Without SDP: a late offer, which the other side makes in its 2xx. */
	b2b_oa_msg(&c->oa, leg->side, B2B_OA_INVITE, req->body.len > 0, &kind);
	out_submit(c, &pb, req, leg->side, kind, fin_inv_request, NULL);
}

/* The fork whose early dialog the caller's is bridged to: the one whose early media it has. */
static struct b2b_fork *early_fork(struct b2bua_call *c)
{
	struct b2b_fork *f;

	if (c->state != B2B_EARLY || c->sdp_fork < 0 || (unsigned)c->sdp_fork >= c->nforks)
		return NULL;
	f = &c->forks[c->sdp_fork];
	return f->status || f->cancelled || !f->ct || !f->leg.dlg.remote_tag[0] ? NULL : f;
}

/*
 * Where an in-dialog request of @p leg goes: the other leg once confirmed.
 * Before the answer (RFC 3311 §5.1), the caller's UPDATE, INFO, OPTIONS... go
 * to the early dialog of the fork whose early media it has, and that fork's
 * go to the caller; other forks' get 481 (the caller sees one early dialog).
 * NULL: nowhere (yet).
 */
static struct b2b_leg *bridge_target(struct b2b_leg *leg, const struct sip_msg *req)
{
	struct b2bua_call *c = leg->call;
	struct b2b_fork *f = early_fork(c);

	if (b2b_leg_is_fork(leg))
		return f && &f->leg == leg ? &c->leg[0] : NULL;
	if (other(leg)->dlg.remote_tag[0])
		return other(leg);
	if (leg->side != B2BUA_SIDE_A || req->method == SIP_METHOD_INVITE)
		return NULL;
	return f ? &f->leg : NULL;
}

void b2b_call_in_dialog(struct b2b_leg *leg, struct sip_tsx *st, const struct sip_msg *req)
{
	struct b2bua_call *c = leg->call;
	struct b2bua *b = c->b2b;

	b2b_call_hold(c);
	if (c->ended) {
		b2b_respond_plain(b, st, req, 481);
		goto out;
	}
	if (leg->dlg.remote_cseq && req->cseq <= leg->dlg.remote_cseq) {
		b2b_respond_plain(b, st, req, 500); /* RFC 3261 §12.2.2: out of order */
		goto out;
	}
	leg->dlg.remote_cseq = req->cseq;
	if (req->method != SIP_METHOD_BYE && b2b_max_forwards(req) == 0) {
		b2b_respond_plain(b, st, req, 483);
		goto out;
	}
	/* A callee's early dialog: requests cross to the caller, never BYE or glare. */
	if (b2b_leg_is_fork(leg) &&
	    (req->method == SIP_METHOD_BYE || req->method == SIP_METHOD_INVITE ||
	     req->method == SIP_METHOD_PRACK || !bridge_target(leg, req))) {
		b2b_respond_plain(b, st, req, 481);
		goto out;
	}
	switch (req->method) {
	case SIP_METHOD_BYE:
		b2b_respond_plain(b, st, req, 200);
		leg->confirmed = false; /* no BYE back to it */
		b2b_call_destroy(c, leg->side == B2BUA_SIDE_A ? B2BUA_END_CALLER_BYE
							      : B2BUA_END_CALLEE_BYE);
		break;
	case SIP_METHOD_INVITE:
		reinvite(leg, st, req);
		break;
	case SIP_METHOD_PRACK:
		b2b_rel_prack(leg, st, req);
		break;
	default: {
		struct b2b_leg *to = bridge_target(leg, req);

		if (!to) {
			b2b_respond_plain(b, st, req, 491);
			break;
		}
		b2b_bridge_request(leg, to, st, req, 0, 0);
		break;
	}
	}
out:
	b2b_call_release(c);
}

/* --- ACK, CANCEL --------------------------------------------------------- */

void b2b_call_ack(struct b2b_leg *leg, const struct sip_msg *ack)
{
	struct b2bua_call *c = leg->call;
	struct b2b_inv *inv = &c->inv;

	b2b_call_hold(c);
	if (c->ended || !inv->active || inv->from != leg->side || !inv->ok ||
	    ack->cseq != inv->from_cseq)
		goto out; /* a retransmitted or stray ACK */
	send_ack(c, other(leg), ack);
	if (c->state == B2B_ANSWERED)
		c->state = B2B_CONFIRMED;
	if (b2b_oa_pending(&c->oa, other(leg)->side)) {
		/* A late offer the ACK left unanswered: no media, the call ends (§13.2.2.4). */
		log_info("b2bua: call %llu: ACK without the answer to the 2xx's offer",
			 (unsigned long long)c->id);
		b2b_call_destroy(c, B2BUA_END_FAILED);
		goto out;
	}
	inv_clear(c);
out:
	b2b_call_release(c);
}

void b2b_call_cancel(struct b2bua_call *c, struct sip_tsx *st, const struct sip_msg *req)
{
	b2b_call_hold(c);
	b2b_respond_plain(c->b2b, st, req, 200);
	if (!c->ended && (c->state == B2B_OUTGOING || c->state == B2B_EARLY))
		b2b_cancel_b(c, 487, B2BUA_END_CANCELLED);
	b2b_call_release(c);
}

/* --- a new call ---------------------------------------------------------- */

/* "display" <uri> for a leg, keeping the user part and putting @p hostport as host. */
static int make_name_addr(char *buf, size_t size, const struct sip_addr *a, const char *hostport,
			  bool keep_host)
{
	const struct sip_uri *u = &a->uri;
	char uri[B2B_URI_MAX];
	int n;

	if (keep_host || u->scheme == SIP_URI_TEL || u->scheme == SIP_URI_OTHER)
		n = snprintf(uri, sizeof(uri), "%.*s", (int)a->uri_text.len, a->uri_text.p);
	else if (u->user.len)
		n = snprintf(uri, sizeof(uri), "%s:%.*s@%s",
			     u->scheme == SIP_URI_SIPS ? "sips" : "sip", (int)u->user.len,
			     u->user.p, hostport);
	else
		n = snprintf(uri, sizeof(uri), "%s:%s", u->scheme == SIP_URI_SIPS ? "sips" : "sip",
			     hostport);
	if (n < 0 || (size_t)n >= sizeof(uri))
		return -ENAMETOOLONG;
	if (a->display.len)
		n = snprintf(buf, size, "\"%.*s\" <%s>", (int)a->display.len, a->display.p, uri);
	else
		n = snprintf(buf, size, "<%s>", uri);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void hostport(const struct sa *sa, char *buf, size_t size)
{
	sa_print(sa, buf, size);
}

/*
 * Our Via sent-by and Contact on a leg over @p d's flow: the listener's
 * advertised address, or the real one it leaves from (sip_transport_sent_by).
 */
static int set_local(struct b2bua *b, struct b2b_dialog *d, enum sip_proto proto, char *hp,
		     size_t hplen)
{
	struct sa ours;

	if (sip_transport_sent_by(b->tp, &d->flow, &ours) < 0)
		return -EINVAL;
	hostport(&ours, hp, hplen);
	snprintf(d->sent_by, sizeof(d->sent_by), "SIP/2.0/%s %s", sip_proto_name(proto), hp);
	if (proto == SIP_PROTO_UDP)
		snprintf(d->contact, sizeof(d->contact), "<sip:%s>", hp);
	else
		snprintf(d->contact, sizeof(d->contact), "<sip:%s;transport=%s>", hp,
			 proto == SIP_PROTO_TLS ? "tls" : "tcp");
	d->secure = proto == SIP_PROTO_TLS;
	return 0;
}

static bool is_loop(struct b2bua *b, const struct sip_msg *req)
{
	if (b2b_id_ours(req->call_id, b->inst))
		return true;
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(req, h)) {
		struct sip_via v;

		if (sip_via_parse(&v, h->value) == 0 && b2b_id_ours(v.branch, b->inst))
			return true;
	}
	return false;
}

static bool requires_unsupported(const struct sip_msg *req)
{
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REQUIRE); h;
	     h = sip_msg_hdr_next(req, h))
		if (!sip_option_tag_eq(h->value, STRV("timer")) &&
		    !sip_option_tag_eq(h->value, STRV("100rel")))
			return true;
	return false;
}

/* Checks a new INVITE. @return 0, or the status to refuse it with. */
static unsigned invite_check(struct b2bua *b, const struct sip_msg *req, struct sip_addr *from,
			     struct sip_addr *to)
{
	const struct sip_hdr *f = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *t = sip_msg_hdr(req, SIP_HDR_TO);

	if (b2b_max_forwards(req) == 0)
		return 483;
	if (is_loop(b, req)) {
		b->stats.loops++;
		return 482;
	}
	if (sip_addr_parse(from, f->value) < 0 || sip_addr_parse(to, t->value) < 0 ||
	    !from->tag.len)
		return 400;
	if (b2b_dtab_find(&b->early, req->call_id, from->tag))
		return 482; /* merged request, RFC 3261 §8.2.2.2 */
	if (requires_unsupported(req))
		return 420;
	if (b->conf.max_calls && b->stats.calls_active >= b->conf.max_calls)
		return 503;
	return 0;
}

static int setup_leg_a(struct b2bua_call *c, const struct sip_msg *req, const struct sip_flow *fl,
		       const struct sip_addr *from, const struct sip_addr *to)
{
	struct b2b_leg *a = &c->leg[B2BUA_SIDE_A];
	struct b2b_dialog *d = &a->dlg;
	char hp[SA_STRLEN];

	if (b2b_copy(d->call_id, sizeof(d->call_id), req->call_id) < 0 ||
	    b2b_copy(d->remote_tag, sizeof(d->remote_tag), from->tag) < 0 ||
	    make_name_addr(d->local_uri, sizeof(d->local_uri), to, NULL, true) < 0 ||
	    make_name_addr(d->remote_uri, sizeof(d->remote_uri), from, NULL, true) < 0 ||
	    b2b_dialog_set_target(d, req) < 0 || b2b_dialog_set_routes(d, req, false) < 0)
		return -EINVAL;
	if (!d->remote_target[0])
		return -EINVAL; /* an INVITE must carry a Contact */
	b2b_new_id(c->b2b, d->local_tag);
	d->remote_cseq = req->cseq;
	d->flow = *fl;
	if (set_local(c->b2b, d, (enum sip_proto)fl->proto, hp, sizeof(hp)) < 0)
		return -EINVAL;
	b2b_copy(c->from_uri, sizeof(c->from_uri), from->uri_text);
	b2b_copy(c->to_uri, sizeof(c->to_uri), to->uri_text);
	return 0;
}

/* The dialog of a fork toward @p tg: fresh identifiers. */
int b2b_setup_leg_b(struct b2bua_call *c, struct b2b_dialog *d, const struct sip_msg *req,
		    const struct b2bua_target *tg, const struct sip_addr *from,
		    const struct sip_addr *to)
{
	struct b2bua *b = c->b2b;
	char ours[SA_STRLEN], dst[SA_STRLEN];
	struct sip_uri ruri;
	struct sa local;
	int proto = sip_transport_listener_proto(b->tp, tg->listener);

	if (tg->use_flow) {
		local = tg->flow.local;
		proto = tg->flow.proto;
	} else if (proto < 0 || sip_transport_listener_addr(b->tp, tg->listener, &local) < 0) {
		return -EINVAL;
	}
	if (tg->use_flow)
		d->flow = tg->flow;
	else
		d->flow = (struct sip_flow){ .remote = tg->dst,
					     .local = local,
					     .listener = (uint16_t)tg->listener,
					     .proto = (uint8_t)proto };
	if (set_local(b, d, (enum sip_proto)proto, ours, sizeof(ours)) < 0)
		return -EINVAL;
	hostport(&tg->dst, dst, sizeof(dst));
	b2b_new_id(b, d->call_id);
	b2b_new_id(b, d->local_tag);
	if (make_name_addr(d->local_uri, sizeof(d->local_uri), from, ours, false) < 0 ||
	    /* a registered phone sees its own AoR in To; others see their own address */
	    make_name_addr(d->remote_uri, sizeof(d->remote_uri), to, dst, tg->use_flow) < 0)
		return -EINVAL;
	if (tg->ruri[0]) {
		snprintf(d->remote_target, sizeof(d->remote_target), "%s", tg->ruri);
	} else {
		if (sip_uri_parse(&ruri, req->ruri) < 0)
			memset(&ruri, 0, sizeof(ruri));
		snprintf(d->remote_target, sizeof(d->remote_target), "sip:%.*s%s%s%s",
			 (int)ruri.user.len, ruri.user.p, ruri.user.len ? "@" : "", dst,
			 proto == SIP_PROTO_UDP	  ? ""
			 : proto == SIP_PROTO_TLS ? ";transport=tls"
						  : ";transport=tcp");
	}
	return 0;
}

void b2b_call_invite(struct b2bua *b, struct sip_tsx *st, const struct sip_msg *req)
{
	const struct sip_flow *fl = sip_tsx_dest(st);
	struct b2bua_target tg[B2BUA_MAX_TARGETS];
	enum b2bua_sdp_kind kind;
	struct sip_addr from, to;
	struct b2bua_call *c;
	unsigned code;
	int n;

	code = invite_check(b, req, &from, &to);
	if (code) {
		b2b_respond_plain(b, st, req, code);
		return;
	}
	memset(tg, 0, sizeof(tg));
	n = b->conf.route_h(b->conf.route_arg, req, fl, tg, B2BUA_MAX_TARGETS);
	if (n <= 0) {
		b2b_respond_plain(b, st, req, n == 0 ? 404 : 500);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		b2b_respond_plain(b, st, req, 500);
		return;
	}
	c->b2b = b;
	c->id = ++b->next_id;
	c->outq_tail = &c->outq;
	c->sdp_fork = -1;
	b2b_oa_init(&c->oa);
	c->cdr.start_ms = b2b_realtime_ms();
	c->cdr.end = B2BUA_END_FAILED;
	routes_redirect_init(&c->redir, B2BUA_MAX_REDIRECTS, req->ruri); /* else starts empty */
	for (int i = 0; i < 2; i++) {
		c->leg[i].call = c;
		c->leg[i].side = (enum b2bua_side)i;
	}
	c->next = b->calls;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &b->calls;
	b->calls = c;
	b->stats.calls_created++;
	b->stats.calls_active++;
	b2b_call_hold(c);
	if (setup_leg_a(c, req, fl, &from, &to) < 0) {
		b2b_respond_plain(b, st, req, 400);
		b2b_call_destroy(c, B2BUA_END_FAILED);
		goto out;
	}
	if (b2b_targets_set(c, tg, n < B2BUA_MAX_TARGETS ? (unsigned)n : B2BUA_MAX_TARGETS) < 0 ||
	    req_save(&c->inv.req, req, fl) < 0) {
		b2b_respond_plain(b, st, req, 500);
		b2b_call_destroy(c, B2BUA_END_FAILED);
		goto out;
	}
	/* The B-leg joins the table when a fork answers (fork_win). */
	b2b_dtab_insert(&b->dlgs, &c->leg[0].dlg.node, strv_cstr(c->leg[0].dlg.call_id),
			strv_cstr(c->leg[0].dlg.local_tag), &c->leg[0]);
	b2b_dtab_insert(&b->early, &c->a_early, strv_cstr(c->leg[0].dlg.call_id),
			strv_cstr(c->leg[0].dlg.remote_tag), c);
	c->state = B2B_OUTGOING;
	c->inv.active = true;
	c->inv.from = B2BUA_SIDE_A;
	c->inv.st = st;
	c->inv.from_cseq = req->cseq;
	b2b_oa_msg(&c->oa, B2BUA_SIDE_A, B2B_OA_INVITE, req->body.len > 0, &kind);
	b2b_rel_init(c, req);
	sip_tsx_set_handlers(st, &inv_st_handlers, c);
	b2b_no_answer_start(c);
	if (b2b_step_start(c) < 0)
		b2b_call_destroy(c, B2BUA_END_FAILED); /* 500 to the caller */
out:
	b2b_call_release(c);
}

/* --- the end ------------------------------------------------------------- */

/* The call's CDR, once, as it ends (or as the SBC shuts down under it). */
static void emit_cdr(struct b2bua_call *c)
{
	struct b2bua *b = c->b2b;

	if (!b->conf.cdr_h || c->cdr_written)
		return;
	c->cdr_written = true;
	c->cdr.id = c->id;
	c->cdr.a_call_id = strv_cstr(c->leg[0].dlg.call_id);
	c->cdr.b_call_id = strv_cstr(c->leg[1].dlg.call_id);
	c->cdr.from_uri = strv_cstr(c->from_uri);
	c->cdr.to_uri = strv_cstr(c->to_uri);
	c->cdr.a_src = c->leg[0].dlg.flow.remote;
	c->cdr.b_src = c->leg[1].dlg.flow.remote;
	c->cdr.end_ms = b2b_realtime_ms();
	b->conf.cdr_h(b->conf.cdr_arg, &c->cdr);
}

void b2b_call_destroy(struct b2bua_call *c, enum b2bua_end why)
{
	struct b2bua *b = c->b2b;
	struct b2b_inv *inv = &c->inv;
	struct b2bua_media_op *op;

	if (c->ended)
		return;
	b2b_call_hold(c);
	timer_cancel(b->ts, &c->no_answer);
	timer_cancel(b->ts, &inv->rtx);
	b2b_rel_stop(c);
	/* Messages still waiting for the media hook are dropped. */
	while ((op = c->outq) != NULL) {
		c->outq = op->next;
		if (op->started && !op->done && b->conf.media_cancel_h)
			b->conf.media_cancel_h(b->conf.media_arg, op);
		op_free(op);
	}
	c->outq_tail = &c->outq;
	/* A B-leg answered but not yet ACKed (ANSWERED, or a 2xx racing a CANCEL). */
	if (c->leg[1].confirmed && !c->leg[1].ack && inv->active && inv->from == B2BUA_SIDE_A)
		send_ack(c, &c->leg[1], NULL);
	c->ended = true;
	c->cdr.end = why;
	for (int i = 0; i < 2; i++)
		if (c->leg[i].confirmed)
			b2b_send_bye(c, &c->leg[i]);
	if (inv->st) {
		struct sip_tsx *st = inv->st;

		sip_tsx_set_handlers(st, NULL, NULL);
		inv->st = NULL;
		if (!inv->final_sent) {
			unsigned code = c->cdr.status >= 300 ? c->cdr.status : 500;

			if (inv->from == B2BUA_SIDE_A && !c->answered)
				c->cdr.status = code;
			b2b_reply_now(b, st, &inv->req, &c->leg[inv->from], code);
		}
	}
	if (inv->ct) {
		sip_tsx_set_handlers(inv->ct, NULL, NULL);
		if (!inv->ct_final)
			sip_tsx_cancel(inv->ct);
		inv->ct = NULL;
	}
	/* A 200 may cross our CANCEL, other branches may answer: reapers end them. */
	for (unsigned i = 0; i < c->nforks; i++) {
		struct b2b_fork *f = &c->forks[i];

		if (!f->ct)
			continue;
		if (!f->status)
			sip_tsx_cancel(f->ct);
		b2b_fork_reap(c, f);
	}
	for (int i = 0; i < 2; i++) {
		if (c->leg[i].ack_ct)
			b2b_reap(b, c->leg[i].ack_ct, &c->leg[i], c->leg[i].dlg.remote_tag);
		c->leg[i].ack_ct = NULL;
	}
	while (c->fwds) {
		struct b2b_fwd *f = c->fwds;

		if (f->st && sip_tsx_state(f->st) < SIP_TSX_COMPLETED) {
			struct sip_tsx *st = f->st;

			sip_tsx_set_handlers(st, NULL, NULL);
			f->st = NULL;
			b2b_reply_now(b, st, &f->req, f->src ? f->src : &c->leg[f->from], 481);
		}
		fwd_free(f);
	}
	for (int i = 0; i < 2; i++)
		b2b_dtab_remove(&b->dlgs, &c->leg[i].dlg.node);
	for (unsigned i = 0; i < c->nforks; i++)
		b2b_dtab_remove(&b->dlgs, &c->forks[i].leg.dlg.node);
	b2b_dtab_remove(&b->early, &c->a_early);
	b->stats.calls_active--;
	if (!c->answered)
		b->stats.calls_failed++;
	if (b->conf.media_end_h)
		b->conf.media_end_h(b->conf.media_arg, c);
	emit_cdr(c);
	b2b_call_release(c);
}

static void call_free(struct b2bua_call *c)
{
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	req_free(&c->inv.req);
	free(c->inv.ok);
	for (int i = 0; i < 2; i++)
		free(c->leg[i].ack);
	b2b_forks_free(c, false); /* destroyed (no INVITE left) or shutdown */
	free(c->targets);
	free(c->offer);
	free(c);
}

/* Shutdown: no message is sent, no handler will run. */
void b2b_call_drop(struct b2bua_call *c)
{
	struct b2bua *b = c->b2b;

	timer_cancel(b->ts, &c->no_answer);
	timer_cancel(b->ts, &c->inv.rtx);
	b2b_rel_stop(c);
	c->cdr.end = B2BUA_END_SHUTDOWN;
	emit_cdr(c);
	while (c->outq) {
		struct b2bua_media_op *op = c->outq;

		c->outq = op->next;
		if (op->started && !op->done && b->conf.media_cancel_h)
			b->conf.media_cancel_h(b->conf.media_arg, op);
		op_free(op);
	}
	while (c->fwds) {
		c->fwds->st = c->fwds->ct = NULL;
		fwd_free(c->fwds);
	}
	call_free(c);
}

uint64_t b2bua_call_number(const struct b2bua_call *c)
{
	return c->id;
}

struct strv b2bua_call_callid(const struct b2bua_call *c, enum b2bua_side side)
{
	return strv_cstr(c->leg[side].dlg.call_id);
}
