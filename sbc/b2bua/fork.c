/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forks, steps, failover and forwarding: the B side of a call until the
 * answer (see b2bua_int.h for the call states; call.c for the legs).
 *
 * A step calls every target of one group in parallel, a fork each (own
 * Call-ID, tags, branch). What the caller sees, always in its one early
 * dialog (our To tag):
 *  - 18x from every fork of the current step; an 18x with SDP only from the
 *    first fork of the step that sent one (the others' cross without body), so
 *    that the caller never gets two early answers from one step. A 2xx from
 *    another fork may then carry a different answer: the caller takes the
 *    2xx's (what phones do with forked early media).
 *  - the first 2xx, which ends the other forks: CANCEL, or ACK and BYE when
 *    they answer 2xx as well.
 *  - once every fork failed, the best final (RFC 3261 §16.7: a 6xx, which
 *    cancels the others at once; else the lowest class, the first of a class;
 *    no response counts as 408, a transport error as 503). If
 *    routes_should_failover() accepts it the next step runs, fresh
 *    identifiers again, and the caller sees its 18x after the last step's;
 *    if every fork of the step was busy (486, 600), forward_h may give new
 *    targets (once per call); else the caller gets it (b2b_map_final).
 * The caller's offer crosses the media hook once and serves every fork.
 * Forks are not in the dialog table: requests from a callee before its 2xx
 * get 481, and those of the caller before the answer 491.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua_int.h"
#include "common/log.h"
#include "sip/print.h"
#include "routing/routes.h"

static const struct sip_tsx_handlers fork_ct_handlers;
static void no_answer_fire(void *arg);
static void step_check(struct b2bua_call *c, const struct sip_msg *last,
		       const struct b2b_fork *lastf);

bool b2b_leg_is_fork(const struct b2b_leg *leg)
{
	return leg != &leg->call->leg[0] && leg != &leg->call->leg[1];
}

/* Requests bridged into or out of a fork's early dialog follow it (@p to), or lose it (NULL). */
static void forks_unlink_fwds(struct b2bua_call *c, const struct b2b_leg *from, struct b2b_leg *to)
{
	for (struct b2b_fwd *w = c->fwds; w; w = w->next) {
		for (unsigned i = 0; i < c->nforks; i++) {
			struct b2b_leg *fl = &c->forks[i].leg;

			if (w->to == fl && (!from || fl == from))
				w->to = to;
			if (w->src == fl && (!from || fl == from))
				w->src = to;
		}
	}
}

/* --- reapers: 2xx that no call takes any more ------------------------------ */

#define B2B_REAP_TAGS 4

/*
 * A cancelled or lost fork's INVITE (or the winner's, once the call is gone)
 * may still get 2xx: a 200 crossing our CANCEL, or another branch of a
 * forking proxy. Each is a dialog the callee thinks is up: it gets ACK and
 * BYE, or the phone stays off-hook for 64*T1 (RFC 3261 §13.2.2.4, §15).
 */
struct b2b_reaper {
	struct b2b_reaper *next, **pprev;
	struct b2bua *b2b;
	struct sip_tsx *ct;
	struct b2b_leg leg;		      /* the INVITE's dialog: identifiers, URIs, flow */
	char bye[B2B_REAP_TAGS][B2B_TAG_MAX]; /* To tags that had their BYE */
	unsigned nbye;
};

static struct strv to_tag(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_TO);
	struct sip_addr a;

	if (!h || sip_addr_parse(&a, h->value) < 0)
		return STRV_NULL;
	return a.tag;
}

bool b2b_other_dialog(const struct b2b_leg *leg, const struct sip_msg *resp)
{
	struct strv tag = to_tag(resp);

	return tag.len && !strv_eq(tag, strv_cstr(leg->dlg.remote_tag));
}

void b2b_release_2xx(struct b2bua *b, const struct b2b_leg *tmpl, const struct sip_msg *resp,
		     bool bye)
{
	struct b2b_leg l = *tmpl; /* a throw-away dialog from the 2xx */
	struct sip_pbuf pb;
	long len;

	l.dlg.remote_tag[0] = '\0';
	b2b_learn_remote(&l, resp, true);
	b2b_print_request(b, &pb, &l, STRV("ACK"), resp->cseq, NULL, 70, false);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0)
		sip_tsx_send(b->tsx, &l.dlg.flow, b->out, (size_t)len);
	if (!bye)
		return;
	if (l.dlg.local_cseq < resp->cseq)
		l.dlg.local_cseq = resp->cseq;
	b2b_print_request(b, &pb, &l, STRV("BYE"), l.dlg.local_cseq + 1, NULL, 70, false);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len > 0) /* fire and forget */
		sip_tsx_request(b->tsx, NULL, b->out, (size_t)len, &l.dlg.flow,
				sip_proto_is_stream(l.dlg.flow.proto), NULL, NULL);
}

/* Whether the dialog of @p resp had its BYE; remembers it if not (and room). */
static bool reaper_seen(struct b2b_reaper *r, const struct sip_msg *resp)
{
	struct strv tag = to_tag(resp);

	for (unsigned i = 0; i < r->nbye; i++)
		if (strv_eq(tag, strv_cstr(r->bye[i])))
			return true;
	if (r->nbye < B2B_REAP_TAGS && b2b_copy(r->bye[r->nbye], B2B_TAG_MAX, tag) == 0)
		r->nbye++;
	return false;
}

static void reaper_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct b2b_reaper *r = arg;

	(void)t;
	if (resp->status >= 200 && resp->status < 300)
		b2b_release_2xx(r->b2b, &r->leg, resp, !reaper_seen(r, resp));
}

static void reaper_free(struct b2b_reaper *r)
{
	if (r->next)
		r->next->pprev = r->pprev;
	*r->pprev = r->next;
	free(r);
}

static void reaper_term(void *arg, struct sip_tsx *t)
{
	(void)t;
	reaper_free(arg);
}

static const struct sip_tsx_handlers reaper_handlers = {
	.resp_h = reaper_resp,
	.term_h = reaper_term,
};

void b2b_reap(struct b2bua *b, struct sip_tsx *t, const struct b2b_leg *leg, const char *tag)
{
	struct b2b_reaper *r;

	/* Already ended (reported from its term_h): no term_h would free a reaper. */
	if (sip_tsx_state(t) == SIP_TSX_TERMINATED || !(r = malloc(sizeof(*r)))) {
		sip_tsx_set_handlers(t, NULL, NULL);
		return;
	}
	r->b2b = b;
	r->ct = t;
	r->leg = *leg;
	memset(&r->leg.dlg.node, 0, sizeof(r->leg.dlg.node));
	r->leg.call = NULL;
	r->leg.ack = NULL;
	r->leg.ack_ct = NULL;
	r->nbye = 0;
	if (tag && tag[0] && b2b_copy(r->bye[0], B2B_TAG_MAX, strv_cstr(tag)) == 0)
		r->nbye = 1;
	r->next = b->reapers;
	if (r->next)
		r->next->pprev = &r->next;
	r->pprev = &b->reapers;
	b->reapers = r;
	sip_tsx_set_handlers(t, &reaper_handlers, r);
}

void b2b_reapers_free(struct b2bua *b)
{
	while (b->reapers) {
		sip_tsx_set_handlers(b->reapers->ct, NULL, NULL);
		reaper_free(b->reapers);
	}
}

void b2b_fork_reap(struct b2bua_call *c, struct b2b_fork *f)
{
	bool released = f->status >= 200 && f->status < 300; /* had ACK and BYE */

	b2b_reap(c->b2b, f->ct, &f->leg, released ? f->leg.dlg.remote_tag : NULL);
	f->ct = NULL;
}

void b2b_forks_free(struct b2bua_call *c, bool reap)
{
	forks_unlink_fwds(c, NULL, NULL);
	for (unsigned i = 0; i < c->nforks; i++) {
		b2b_dtab_remove(&c->b2b->dlgs, &c->forks[i].leg.dlg.node);
		if (c->forks[i].ct && reap)
			b2b_fork_reap(c, &c->forks[i]);
		else if (c->forks[i].ct)
			sip_tsx_set_handlers(c->forks[i].ct, NULL, NULL);
		free(c->forks[i].leg.ack);
		free(c->forks[i].redir);
	}
	free(c->forks);
	c->forks = NULL;
	c->nforks = 0;
}

static unsigned forks_pending(const struct b2bua_call *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->nforks; i++)
		n += !c->forks[i].status;
	return n;
}

/* CANCELs every pending fork. @return how many still wait for their final. */
static unsigned forks_cancel(struct b2bua_call *c)
{
	for (unsigned i = 0; i < c->nforks; i++) {
		struct b2b_fork *f = &c->forks[i];
		int rc;

		if (f->status || f->cancelled)
			continue;
		f->cancelled = true;
		if (!f->ct) {
			f->status = 487; /* not sent yet (the offer waits for the media hook) */
			continue;
		}
		rc = sip_tsx_cancel(f->ct);
		if (rc < 0 && rc != -EALREADY) {
			sip_tsx_set_handlers(f->ct, NULL, NULL);
			f->ct = NULL;
			f->status = 503;
			f->err = true;
		}
	}
	return forks_pending(c);
}

/* Whether final @p a beats @p best (0: none yet), RFC 3261 §16.7 step 6. */
static bool better_final(unsigned a, unsigned best)
{
	if (!best)
		return true;
	if (best >= 600)
		return false;
	return a >= 600 || a / 100 < best / 100;
}

/* Keeps @p n targets sorted by group (stable: order within a group kept). */
int b2b_targets_set(struct b2bua_call *c, const struct b2bua_target *tg, unsigned n)
{
	struct b2bua_target *t = malloc(n * sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;

		for (; j > 0 && t[j - 1].group > tg[i].group; j--)
			t[j] = t[j - 1];
		t[j] = tg[i];
	}
	free(c->targets);
	c->targets = t;
	c->ntargets = n;
	c->tnext = 0;
	return 0;
}

/* The targets' shortest ring timeout (forwarding on no answer), else the module's. */
void b2b_no_answer_start(struct b2bua_call *c)
{
	struct b2bua *b = c->b2b;
	uint32_t ms = b->conf.no_answer_timeout_ms;

	for (unsigned i = 0; i < c->ntargets; i++)
		if (c->targets[i].ring_timeout_ms && (!ms || c->targets[i].ring_timeout_ms < ms))
			ms = c->targets[i].ring_timeout_ms;
	if (ms)
		timer_start(b->ts, &c->no_answer, ms, no_answer_fire, c);
}

/* Sends the INVITE of every fork of the step not sent yet. */
static void forks_send(struct b2bua_call *c)
{
	struct b2bua *b = c->b2b;
	struct sip_msg req;
	bool failed = false;

	if (sip_msg_parse(&req, c->inv.req.buf, c->inv.req.len, &b2b_req_limits, NULL) < 0) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	for (unsigned i = 0; i < c->nforks; i++) {
		struct b2b_fork *f = &c->forks[i];
		struct b2b_dialog *d = &f->leg.dlg;
		struct sip_pbuf pb;
		int rc = -EINVAL;
		long len;

		if (f->status || f->ct)
			continue;
		f->inv_cseq = d->local_cseq;
		b2b_print_request(b, &pb, &f->leg, STRV("INVITE"), d->local_cseq, &req,
				  b2b_max_forwards(&req) - 1, true);
		if (c->rel.supported) /* RFC 3262 per leg: see prack.c */
			sip_print_hdr(&pb, SIP_HDR_SUPPORTED, STRV("100rel"));
		sip_print_body(&pb, strv_cstr(c->offer_ctype), strv_make(c->offer, c->offer_len));
		len = sip_print_finish(&pb);
		if (len > 0)
			rc = sip_tsx_request(b->tsx, &f->ct, b->out, (size_t)len, &d->flow,
					     sip_proto_is_stream(d->flow.proto), &fork_ct_handlers,
					     f);
		if (rc < 0) {
			f->ct = NULL;
			f->status = 503;
			f->err = true;
			failed = true;
		}
	}
	if (failed)
		step_check(c, NULL, NULL);
}

/* The caller's offer, through the media hook once: kept for every fork and step. */
static void fin_offer(struct b2bua_call *c, struct strv ctype, struct strv body)
{
	if (b2b_copy(c->offer_ctype, sizeof(c->offer_ctype), ctype) < 0 ||
	    (body.len && !(c->offer = malloc(body.len)))) {
		b2b_call_destroy(c, B2BUA_END_FAILED);
		return;
	}
	if (body.len)
		memcpy(c->offer, body.p, body.len);
	c->offer_len = body.len;
	c->offer_ready = true;
	forks_send(c);
}

/*
 * Starts the next step: a fork per target of the next group. The forks may
 * all have failed (and the call moved on) when this returns.
 * @return 0, -ENOENT (no target left) or -ENOMEM.
 */
int b2b_step_start(struct b2bua_call *c)
{
	unsigned first = c->tnext, n = 0;
	struct sip_addr from, to;
	struct sip_msg req;

	if (first >= c->ntargets)
		return -ENOENT;
	while (first + n < c->ntargets && c->targets[first + n].group == c->targets[first].group)
		n++;
	c->tnext = first + n;
	b2b_forks_free(c, true);
	if (sip_msg_parse(&req, c->inv.req.buf, c->inv.req.len, &b2b_req_limits, NULL) < 0 ||
	    sip_addr_parse(&from, sip_msg_hdr(&req, SIP_HDR_FROM)->value) < 0 ||
	    sip_addr_parse(&to, sip_msg_hdr(&req, SIP_HDR_TO)->value) < 0)
		return -EINVAL;
	c->forks = calloc(n, sizeof(*c->forks));
	if (!c->forks)
		return -ENOMEM;
	c->nforks = n;
	c->sdp_fork = -1;
	for (unsigned i = 0; i < n; i++) {
		struct b2b_fork *f = &c->forks[i];

		f->leg.call = c;
		f->leg.side = B2BUA_SIDE_B;
		if (b2b_setup_leg_b(c, &f->leg.dlg, &req, &c->targets[first + i], &from, &to) < 0) {
			f->status = 503;
			f->err = true;
		}
		f->leg.dlg.local_cseq = 1;
	}
	/* CDR and hooks name the step's first fork until one answers. */
	c->cdr.trunk = c->targets[first].trunk;
	memcpy(c->leg[1].dlg.call_id, c->forks[0].leg.dlg.call_id, sizeof(c->leg[1].dlg.call_id));
	c->leg[1].dlg.flow = c->forks[0].leg.dlg.flow;
	if (!forks_pending(c))
		step_check(c, NULL, NULL);
	else if (c->offer_ready)
		forks_send(c);
	else if (!c->offer_queued) {
		c->offer_queued = true;
		b2b_out_queue(c, NULL, &req, B2BUA_SIDE_A, B2BUA_SDP_OFFER, NULL, fin_offer, NULL);
	}
	return 0;
}

/* forward_h, once per call. @return 0 with new targets, else -ENOENT. */
static int forward(struct b2bua_call *c, enum b2bua_forward_reason why)
{
	struct b2bua *b = c->b2b;
	struct b2bua_target tg[B2BUA_MAX_TARGETS];
	struct sip_msg req;
	int n;

	if (!b->conf.forward_h || c->forwarded ||
	    sip_msg_parse(&req, c->inv.req.buf, c->inv.req.len, &b2b_req_limits, NULL) < 0)
		return -ENOENT;
	c->forwarded = true;
	memset(tg, 0, sizeof(tg));
	n = b->conf.forward_h(b->conf.forward_arg, &req, why, tg, B2BUA_MAX_TARGETS);
	if (n <= 0 ||
	    b2b_targets_set(c, tg, n < B2BUA_MAX_TARGETS ? (unsigned)n : B2BUA_MAX_TARGETS))
		return -ENOENT;
	log_info("b2bua: call %llu: forwarded (%s) to %d target(s)", (unsigned long long)c->id,
		 why == B2BUA_FWD_BUSY ? "busy" : "no answer", n);
	return 0;
}

/* A Contact q-value in thousandths; absent or malformed: 1000 (RFC 3261 §20.10). */
static unsigned qvalue(struct strv q)
{
	unsigned v = 0, scale = 1000;

	if (!q.len || (q.p[0] != '0' && q.p[0] != '1'))
		return 1000;
	v = (unsigned)(q.p[0] - '0') * 1000;
	if (q.len > 1 && q.p[1] == '.') {
		for (size_t i = 2; i < q.len && i < 5; i++) {
			if (q.p[i] < '0' || q.p[i] > '9')
				return 1000;
			scale /= 10;
			v += (unsigned)(q.p[i] - '0') * scale;
		}
	}
	return v > 1000 ? 1000 : v;
}

/*
 * Follows the 3xx kept by @p bf: its Contact URIs, best q first, that are new
 * in the call's chain and that redirect_h accepts become the targets (one
 * group per q value). The URIs the step tried count as seen (a 302 to itself
 * is a loop). @return 0 with new targets, else -ENOENT (or -EINVAL).
 */
static int redirect(struct b2bua_call *c, const struct b2b_fork *bf)
{
	struct b2bua *b = c->b2b;
	struct b2bua_target tg[B2BUA_MAX_TARGETS];
	struct strv uri[B2BUA_MAX_TARGETS];
	unsigned q[B2BUA_MAX_TARGETS], nc = 0, n = 0;
	struct sip_msg req, resp;

	if (!bf->redir || !b->conf.redirect_h)
		return -ENOENT;
	if (routes_redirect_hop(&c->redir) < 0) {
		log_info("b2bua: call %llu: too many redirects", (unsigned long long)c->id);
		return -ENOENT;
	}
	if (sip_msg_parse(&req, c->inv.req.buf, c->inv.req.len, &b2b_req_limits, NULL) < 0 ||
	    sip_msg_parse(&resp, bf->redir, bf->redir_len, &b2b_req_limits, NULL) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < c->nforks; i++)
		routes_redirect_target(&c->redir, strv_cstr(c->forks[i].leg.dlg.remote_target));
	for (const struct sip_hdr *h = sip_msg_hdr(&resp, SIP_HDR_CONTACT);
	     h && nc < B2BUA_MAX_TARGETS; h = sip_msg_hdr_next(&resp, h)) {
		struct sip_addr a;
		unsigned j, qa;

		if (sip_addr_parse(&a, h->value) < 0 || a.star)
			continue;
		qa = qvalue(a.q);
		for (j = nc; j > 0 && q[j - 1] < qa; j--) { /* stable, best q first */
			uri[j] = uri[j - 1];
			q[j] = q[j - 1];
		}
		uri[j] = a.uri_text;
		q[j] = qa;
		nc++;
	}
	for (unsigned i = 0, group = 0; i < nc; i++) {
		if (i > 0 && q[i] != q[i - 1] && n > 0 && tg[n - 1].group == group)
			group++;
		if (routes_redirect_target(&c->redir, uri[i]) < 0)
			continue;
		memset(&tg[n], 0, sizeof(tg[n]));
		if (b->conf.redirect_h(b->conf.redirect_arg, &req, uri[i], &tg[n]) != 1)
			continue;
		tg[n++].group = (uint8_t)group;
	}
	log_info("b2bua: call %llu: %u redirect target(s) of %u", (unsigned long long)c->id, n, nc);
	if (!n || b2b_targets_set(c, tg, n) < 0)
		return -ENOENT;
	return 0;
}

/* The caller gets final @p code (@p resp's headers, if any); the call ends. */
static void call_fail(struct b2bua_call *c, unsigned code, const struct sip_msg *resp,
		      enum b2bua_end why)
{
	c->cdr.status = code;
	b2b_relay_to_inv_from(c, code, resp, false, false);
	b2b_call_destroy(c, why);
}

/*
 * A fork ended (@p lastf with final @p last, or NULL): once the whole step
 * has, the next step, forwarding, or the best final to the caller.
 */
static void step_check(struct b2bua_call *c, const struct sip_msg *last,
		       const struct b2b_fork *lastf)
{
	unsigned best = 0, bi = 0;
	bool busy = c->nforks > 0, err, from_last;

	if (c->ended || c->answered || forks_pending(c))
		return;
	if (c->state == B2B_CANCELLING || !c->inv.st) {
		b2b_call_destroy(c, c->state == B2B_CANCELLING ? c->cdr.end : B2BUA_END_FAILED);
		return;
	}
	if (c->fwd_pending) {
		c->fwd_pending = false;
		if (b2b_step_start(c) == 0)
			b2b_no_answer_start(c);
		else
			call_fail(c, 408, NULL, B2BUA_END_NO_ANSWER);
		return;
	}
	for (unsigned i = 0; i < c->nforks; i++) {
		unsigned s = c->forks[i].status;

		if (better_final(s, best)) {
			best = s;
			bi = i;
		}
		busy = busy && (s == 486 || s == 600);
	}
	err = c->nforks && c->forks[bi].err;
	from_last = c->nforks && lastf == &c->forks[bi];
	if (!best)
		best = 500;
	if (routes_should_redirect((int)best) && redirect(c, &c->forks[bi]) == 0 &&
	    b2b_step_start(c) == 0)
		return;
	if (routes_should_failover((int)best) && b2b_step_start(c) == 0)
		return;
	if (busy && forward(c, B2BUA_FWD_BUSY) == 0 && b2b_step_start(c) == 0) {
		b2b_no_answer_start(c);
		return;
	}
	call_fail(c, b2b_map_final(best), from_last ? last : NULL,
		  !err		? B2BUA_END_REJECTED
		  : best == 408 ? B2BUA_END_NO_ANSWER
				: B2BUA_END_FAILED);
}

/* ACK and BYE for a fork that answered after another one (or a CANCEL). */
static void fork_release(struct b2bua_call *c, struct b2b_fork *f)
{
	struct b2bua *b = c->b2b;
	struct sip_pbuf pb;
	long len;

	b2b_print_request(b, &pb, &f->leg, STRV("ACK"), f->inv_cseq, NULL, 70, false);
	sip_print_body(&pb, STRV_NULL, STRV_NULL);
	len = sip_print_finish(&pb);
	if (len < 0)
		return;
	free(f->leg.ack);
	f->leg.ack = malloc((size_t)len);
	if (f->leg.ack) {
		memcpy(f->leg.ack, b->out, (size_t)len);
		f->leg.ack_len = (size_t)len;
	}
	sip_tsx_send(b->tsx, &f->leg.dlg.flow, b->out, (size_t)len);
	b2b_send_bye(c, &f->leg);
}

/* The first 2xx: @p f becomes the B-leg, the other forks are cancelled. */
static void fork_win(struct b2bua_call *c, struct b2b_fork *f, struct sip_tsx *t,
		     const struct sip_msg *resp)
{
	struct b2bua *b = c->b2b;
	struct b2b_leg *to = &c->leg[B2BUA_SIDE_B];

	b2b_dtab_remove(&b->dlgs, &f->leg.dlg.node);
	*to = f->leg;
	forks_unlink_fwds(c, &f->leg, to);
	memset(&to->dlg.node, 0, sizeof(to->dlg.node));
	to->confirmed = true;
	to->ack = NULL;
	to->ack_ct = t;
	f->ct = NULL;
	sip_tsx_set_handlers(t, &b2b_inv_ct_handlers, c); /* 2xx retransmissions: our ACK again */
	b2b_dtab_insert(&b->dlgs, &to->dlg.node, strv_cstr(to->dlg.call_id),
			strv_cstr(to->dlg.local_tag), to);
	c->inv.ct = t;
	c->inv.ct_final = true;
	c->inv.ct_cseq = f->inv_cseq;
	c->fwd_pending = false;
	forks_cancel(c);
	c->state = B2B_ANSWERED;
	c->answered = true;
	c->cdr.status = resp->status;
	c->cdr.answer_ms = b2b_realtime_ms();
	b->stats.calls_answered++;
	timer_cancel(b->ts, &c->no_answer);
	b2b_relay_to_inv_from(c, resp->status, resp, true, true);
}

static void fork_provisional(struct b2bua_call *c, struct b2b_fork *f, const struct sip_msg *resp)
{
	int idx = (int)(f - c->forks);
	bool sdp;

	if (resp->status == 100 || f->status || !b2b_rel_fork_18x(c, f, resp) || f->cancelled ||
	    c->fwd_pending || (c->state != B2B_OUTGOING && c->state != B2B_EARLY))
		return;
	b2b_learn_remote(&f->leg, resp, true);
	if (!f->leg.dlg.node.linked && f->leg.dlg.remote_tag[0])
		b2b_dtab_insert(&c->b2b->dlgs, &f->leg.dlg.node, strv_cstr(f->leg.dlg.call_id),
				strv_cstr(f->leg.dlg.local_tag), &f->leg);
	if (!c->cdr.ringing_ms)
		c->cdr.ringing_ms = b2b_realtime_ms();
	c->state = B2B_EARLY;
	sdp = resp->body.len && (c->sdp_fork < 0 || c->sdp_fork == idx);
	if (sdp)
		c->sdp_fork = idx;
	b2b_relay_to_inv_from(c, resp->status, resp, true, sdp);
}

static void fork_ct_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	struct b2b_fork *f = arg;
	struct b2bua_call *c = f->leg.call;
	unsigned code = resp->status;

	b2b_call_hold(c);
	if (c->ended)
		goto out;
	if (code < 200) {
		fork_provisional(c, f, resp);
	} else if (code < 300) {
		if (f->status >= 300 || (f->status && b2b_other_dialog(&f->leg, resp))) {
			/* Another branch of a forking proxy answered too. */
			b2b_release_2xx(c->b2b, &f->leg, resp, true);
			goto out;
		}
		if (f->status) { /* retransmitted: our ACK got lost */
			if (f->leg.ack)
				sip_tsx_send(c->b2b->tsx, &f->leg.dlg.flow, f->leg.ack,
					     f->leg.ack_len);
			goto out;
		}
		f->status = code;
		b2b_learn_remote(&f->leg, resp, true);
		if (c->answered || (c->state != B2B_OUTGOING && c->state != B2B_EARLY)) {
			fork_release(c, f);
			step_check(c, NULL, NULL); /* CANCELLING: the last final ends the call */
		} else {
			fork_win(c, f, t, resp);
		}
	} else if (!f->status) {
		f->status = code;
		if (routes_should_redirect((int)code) && c->b2b->conf.redirect_h &&
		    (f->redir = malloc(resp->len)) != NULL) {
			memcpy(f->redir, resp->buf, resp->len);
			f->redir_len = resp->len;
		}
		if (code >= 600)
			forks_cancel(c); /* RFC 3261 §16.7 step 5 */
		step_check(c, resp, f);
	}
out:
	b2b_call_release(c);
}

static void fork_ct_err(void *arg, struct sip_tsx *t, int err)
{
	struct b2b_fork *f = arg;
	struct b2bua_call *c = f->leg.call;

	(void)t;
	b2b_call_hold(c);
	if (!c->ended && !f->status) {
		f->status = err == -ETIMEDOUT ? 408 : 503;
		f->err = true;
		step_check(c, NULL, NULL);
	}
	b2b_call_release(c);
}

static void fork_ct_term(void *arg, struct sip_tsx *t)
{
	struct b2b_fork *f = arg;

	if (f->ct == t)
		f->ct = NULL;
}

static const struct sip_tsx_handlers fork_ct_handlers = {
	.resp_h = fork_ct_resp,
	.err_h = fork_ct_err,
	.term_h = fork_ct_term,
};

void b2b_cancel_b(struct b2bua_call *c, unsigned code, enum b2bua_end why)
{
	struct b2b_inv *inv = &c->inv;

	c->cdr.status = code;
	c->cdr.end = why;
	c->fwd_pending = false;
	b2b_rel_stop(c);
	if (inv->st && !inv->final_sent) {
		inv->final_sent = true;
		b2b_reply_now(c->b2b, inv->st, &inv->req, &c->leg[B2BUA_SIDE_A], code);
	}
	timer_cancel(c->b2b->ts, &c->no_answer);
	if (!forks_cancel(c)) {
		b2b_call_destroy(c, why);
		return;
	}
	c->state = B2B_CANCELLING;
}

/* Ringing too long: the forward targets if forward_h gives some, else 408. */
static void no_answer_fire(void *arg)
{
	struct b2bua_call *c = arg;

	b2b_call_hold(c);
	if (c->state == B2B_OUTGOING || c->state == B2B_EARLY) {
		if (!c->fwd_pending && forward(c, B2BUA_FWD_NO_ANSWER) == 0) {
			c->fwd_pending = true; /* the step ends, then the targets are called */
			if (!forks_cancel(c))
				step_check(c, NULL, NULL);
		} else {
			b2b_cancel_b(c, 408, B2BUA_END_NO_ANSWER);
		}
	}
	b2b_call_release(c);
}
