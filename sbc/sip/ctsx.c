/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Client transactions (RFC 3261 §17.1, RFC 6026 §8.4).
 *
 * Client INVITE. "UDP" stands for any unreliable transport.
 *   state        event             action                                  next
 *   -            TU request        send; A = T1 (UDP); B = 64*T1           Calling
 *   Calling      Timer A           resend; A = 2*A                          Calling
 *   Calling      Timer B           err_h(-ETIMEDOUT)                        Terminated
 *   Calling      1xx               stop A, B; resp_h; pending CANCEL sent,  Proceeding
 *                                  with its guard (64*T1)
 *   Proceeding   1xx               resp_h                                   Proceeding
 *   Proceeding   CANCEL guard      err_h(-ETIMEDOUT)                        Terminated
 *   Calling,     2xx               stop A, B; M = 64*T1; resp_h             Accepted
 *   Proceeding
 *   Calling,     300-699           stop A, B; send ACK; resp_h;             Completed
 *   Proceeding                     D = timer_d (UDP) / 0
 *   Completed    300-699           resend ACK                               Completed
 *   Completed    Timer D           -                                        Terminated
 *   Accepted     2xx               resp_h (the TU ACKs each 2xx itself)     Accepted
 *   Accepted     Timer M           -                                        Terminated
 *   any          transport error   err_h(err)                               Terminated
 * Responses not listed (1xx after a final, non-2xx in Accepted) are dropped.
 * The buffer holds the INVITE until a non-2xx arrives, then the ACK; it is
 * freed in Accepted, where nothing is ever resent.
 *
 * Client non-INVITE.
 *   -            TU request        send; E = T1 (UDP); F = 64*T1           Trying
 *   Trying       Timer E           resend; E = min(2*E, T2)                 Trying
 *   Proceeding   Timer E           resend; E = T2                           Proceeding
 *   Trying,Proc. Timer F           err_h(-ETIMEDOUT)                        Terminated
 *   Trying,Proc. 1xx               resp_h                                   Proceeding
 *   Trying,Proc. 200-699           stop E, F; resp_h; K = T4 (UDP) / 0      Completed
 *   Completed    any response      absorb                                   Completed
 *   Completed    Timer K           -                                        Terminated
 *   any          transport error   err_h(err)                               Terminated
 */
#include "tsx_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"

/* --- ACK and CANCEL, built from the INVITE (RFC 3261 §17.1.1.3, §9.1) ---- */

struct hop_req {
	const struct sip_msg *inv;
	const char *method;
	struct strv to;
};

static void print_hop_req(struct tsx_out *o, const void *ctx)
{
	const struct hop_req *r = ctx;
	const struct sip_msg *inv = r->inv;
	const struct sip_hdr *h;

	out_str(o, r->method);
	out_mem(o, " ", 1);
	out_strv(o, inv->ruri);
	out_str(o, " SIP/2.0\r\n");
	out_hdr(o, "Via", sip_msg_hdr(inv, SIP_HDR_VIA)->value); /* the top one only */
	for (h = sip_msg_hdr(inv, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(inv, h))
		out_hdr(o, "Route", h->value);
	out_str(o, "Max-Forwards: 70\r\n");
	out_hdr(o, "From", sip_msg_hdr(inv, SIP_HDR_FROM)->value);
	out_hdr(o, "To", r->to);
	out_hdr(o, "Call-ID", inv->call_id);
	out_str(o, "CSeq: ");
	out_u32(o, inv->cseq);
	out_mem(o, " ", 1);
	out_str(o, r->method);
	out_str(o, "\r\nContent-Length: 0\r\n\r\n");
}

/*
 * @p method to the INVITE in t->buf; To from @p to (the response being
 * ACKed) or, when NULL, from the INVITE (CANCEL).
 */
static int build_hop_req(const struct sip_tsx *t, const char *method, const struct sip_hdr *to,
			 char **bufp, size_t *lenp)
{
	struct sip_limits lim = { 0 };
	struct sip_parse_error perr;
	struct sip_msg inv;
	struct hop_req r = { .inv = &inv, .method = method };

	if (!t->buf || sip_msg_parse(&inv, t->buf, t->len, &lim, &perr) ||
	    !sip_msg_hdr(&inv, SIP_HDR_VIA) || !sip_msg_hdr(&inv, SIP_HDR_FROM) ||
	    !sip_msg_hdr(&inv, SIP_HDR_TO))
		return -EINVAL;
	r.to = to ? to->value : sip_msg_hdr(&inv, SIP_HDR_TO)->value;
	return tsx_print(bufp, lenp, print_hop_req, &r);
}

/* Replaces the INVITE in t->buf with the ACK for @p resp (once). */
static int cinv_make_ack(struct sip_tsx *t, const struct sip_msg *resp)
{
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	char *buf;
	size_t len;
	int err;

	if (t->ack_ready)
		return 0;
	if (!to)
		return -EINVAL;
	err = build_hop_req(t, "ACK", to, &buf, &len);
	if (err)
		return err;
	free(t->buf);
	t->buf = buf;
	t->len = len;
	t->cap = len;
	t->ack_ready = true;
	return 0;
}

/* --- timers -------------------------------------------------------------- */

/* Timer A (INVITE, Calling) and E (non-INVITE, Trying and Proceeding). */
static void ctsx_retransmit_h(void *arg)
{
	struct sip_tsx *t = arg;
	uint64_t t2 = t->l->conf.t2_ms;
	uint64_t next = 2 * (uint64_t)t->rt_ms;

	tsx_hold(t);
	tsx_resend(t);
	if (t->key.method == SIP_METHOD_INVITE)
		t->rt_ms = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
	else if (t->state == SIP_TSX_TRYING)
		t->rt_ms = (uint32_t)(next < t2 ? next : t2);
	else
		t->rt_ms = (uint32_t)t2;
	tsx_start(t, &t->tr, t->rt_ms, ctsx_retransmit_h);
	tsx_release(t);
}

/* Timer B, Timer F, and the guard of a cancelled INVITE. */
static void ctsx_timeout_h(void *arg)
{
	tsx_fail(arg, -ETIMEDOUT);
}

/* --- creation ------------------------------------------------------------ */

/*
 * Starts a client transaction on the request in @p buf (malloc'd, @p m parsed
 * over it), which it takes in every case.
 */
static int ctsx_start(struct sip_tsx_layer *l, struct sip_tsx **tp, char *buf, size_t len,
		      const struct sip_msg *m, const void *dest, bool reliable,
		      const struct sip_tsx_handlers *h, void *arg)
{
	const struct sip_hdr *vh = sip_msg_hdr(m, SIP_HDR_VIA);
	struct tsx_key k = { 0 };
	struct sip_tsx *t = NULL;
	struct sip_via via;
	int err = -EINVAL;

	if (!m->is_request || m->method == SIP_METHOD_ACK || m->method != m->cseq_method ||
	    (m->method == SIP_METHOD_OTHER && !strv_eq(m->method_name, m->cseq_method_name)))
		goto out;
	if (!vh || sip_via_parse(&via, vh->value) || strv_empty(via.branch))
		goto out;
	k.branch = via.branch;
	k.method = m->method;
	if (m->method == SIP_METHOD_OTHER)
		k.method_name = m->method_name;
	if (tsx_find_client(l, k.branch, k.method, k.method_name)) {
		err = -EEXIST;
		goto out;
	}
	err = tsx_alloc(l, &t, &k, dest, reliable, true);
	if (err)
		goto out;
	t->buf = buf;
	t->len = len;
	t->cap = len;
	buf = NULL;
	t->h = h;
	t->arg = arg;
	t->rt_ms = l->conf.t1_ms;
	t->state = m->method == SIP_METHOD_INVITE ? SIP_TSX_CALLING : SIP_TSX_TRYING;
	tsx_link(t);
	err = timer_start(l->ts, &t->tm, tsx_64t1(t), ctsx_timeout_h, t); /* B, F */
	if (!err && !reliable)
		err = timer_start(l->ts, &t->tr, t->rt_ms, ctsx_retransmit_h, t); /* A, E */
	if (!err)
		err = tsx_send(t, t->buf, t->len);
	if (err) {
		tsx_destroy(t);
		goto out;
	}
	l->stats.client_created++;
	if (tp)
		*tp = t;
out:
	free(buf);
	return err;
}

int sip_tsx_request(struct sip_tsx_layer *l, struct sip_tsx **tp, const char *buf, size_t len,
		    const void *dest, bool reliable, const struct sip_tsx_handlers *h, void *arg)
{
	struct sip_limits lim = { 0 };
	struct sip_parse_error perr;
	struct sip_msg m;
	char *copy;

	if (!buf || !len)
		return -EINVAL;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	if (sip_msg_parse(&m, copy, len, &lim, &perr)) {
		free(copy);
		return -EINVAL;
	}
	return ctsx_start(l, tp, copy, len, &m, dest, reliable, h, arg);
}

/* --- CANCEL -------------------------------------------------------------- */

/* Sends the CANCEL of INVITE @p t (Proceeding) as a handler-less transaction. */
static int cinv_send_cancel(struct sip_tsx *t)
{
	struct sip_limits lim = { 0 };
	struct sip_parse_error perr;
	struct sip_msg m;
	char *buf;
	size_t len;
	int err;

	t->cancel_pending = false;
	err = build_hop_req(t, "CANCEL", NULL, &buf, &len);
	if (err)
		return err;
	if (sip_msg_parse(&m, buf, len, &lim, &perr)) {
		free(buf);
		return -EINVAL;
	}
	err = ctsx_start(t->l, NULL, buf, len, &m, tsx_dest_of(t), t->reliable, NULL, NULL);
	if (err)
		return err;
	t->cancelled = true;
	return tsx_start(t, &t->tm, tsx_64t1(t), ctsx_timeout_h); /* §9.1 guard */
}

int sip_tsx_cancel(struct sip_tsx *t)
{
	int err;

	if (!t->client || t->key.method != SIP_METHOD_INVITE)
		return -EINVAL;
	if (t->cancelled || t->cancel_pending)
		return -EALREADY;
	switch (t->state) {
	case SIP_TSX_CALLING:
		t->cancel_pending = true; /* §9.1: not before a provisional response */
		return 0;
	case SIP_TSX_PROCEEDING:
		tsx_hold(t);
		err = cinv_send_cancel(t);
		tsx_release(t);
		return err;
	default:
		return -EALREADY;
	}
}

/* --- responses ----------------------------------------------------------- */

static void deliver(struct sip_tsx *t, const struct sip_msg *m)
{
	if (t->state != SIP_TSX_TERMINATED && t->h && t->h->resp_h)
		t->h->resp_h(t->arg, t, m);
}

static void cinv_final(struct sip_tsx *t, const struct sip_msg *m)
{
	int send_err = 0;
	int err;

	tsx_stop_timers(t);
	t->state = SIP_TSX_COMPLETED;
	t->cancel_pending = false;
	err = cinv_make_ack(t, m); /* on failure, tried again on each retransmission */
	if (err)
		log_warn("sip tsx: cannot build the ACK for a %u: %s", m->status, strerror(-err));
	else
		send_err = tsx_send(t, t->buf, t->len);
	deliver(t, m);
	if (send_err)
		tsx_fail(t, send_err);
	else
		tsx_linger(t, t->reliable ? 0 : t->l->conf.timer_d_ms); /* Timer D */
}

static void cinv_recv(struct sip_tsx *t, const struct sip_msg *m)
{
	unsigned cls = m->status / 100;
	int err;

	switch (t->state) {
	case SIP_TSX_CALLING:
	case SIP_TSX_PROCEEDING:
		if (cls == 1) {
			if (t->state == SIP_TSX_CALLING) {
				tsx_stop_timers(t); /* A and B belong to Calling */
				t->state = SIP_TSX_PROCEEDING;
			}
			deliver(t, m);
			if (t->cancel_pending && t->state == SIP_TSX_PROCEEDING) {
				err = cinv_send_cancel(t);
				if (err)
					tsx_fail(t, err);
			}
		} else if (cls == 2) {
			tsx_stop_timers(t);
			t->state = SIP_TSX_ACCEPTED;
			t->cancel_pending = false;
			tsx_drop_buf(t);
			tsx_linger(t, tsx_64t1(t)); /* Timer M */
			deliver(t, m);
		} else {
			cinv_final(t, m);
		}
		break;
	case SIP_TSX_COMPLETED:
		if (cls >= 3) {
			t->l->stats.absorbed++;
			if (cinv_make_ack(t, m) == 0)
				tsx_resend(t);
		}
		break;
	case SIP_TSX_ACCEPTED:
		if (cls == 2)
			deliver(t, m);
		break;
	default:
		break;
	}
}

static void cnict_recv(struct sip_tsx *t, const struct sip_msg *m)
{
	switch (t->state) {
	case SIP_TSX_TRYING:
	case SIP_TSX_PROCEEDING:
		if (m->status < 200) {
			t->state = SIP_TSX_PROCEEDING;
			deliver(t, m);
			break;
		}
		tsx_stop_timers(t);
		t->state = SIP_TSX_COMPLETED;
		tsx_drop_buf(t);
		deliver(t, m);
		tsx_linger(t, t->reliable ? 0 : t->l->conf.t4_ms); /* Timer K */
		break;
	case SIP_TSX_COMPLETED:
		t->l->stats.absorbed++;
		break;
	default:
		break;
	}
}

void ctsx_recv(struct sip_tsx *t, const struct sip_msg *m)
{
	tsx_hold(t);
	if (t->key.method == SIP_METHOD_INVITE)
		cinv_recv(t, m);
	else
		cnict_recv(t, m);
	tsx_release(t);
}
