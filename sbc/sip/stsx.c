/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Server transactions (RFC 3261 §17.2, RFC 6026 §8.5-8.7).
 *
 * Server INVITE. "UDP" stands for any unreliable transport.
 *   state        event             action                                  next
 *   -            INVITE            request_h; 100 Trying if unanswered     Proceeding
 *                                  when it returns (or after the delay)
 *   Proceeding   INVITE            resend the last provisional              Proceeding
 *   Proceeding   1xx from TU       store, send                              Proceeding
 *   Proceeding   2xx from TU       send; L = 64*T1                          Accepted
 *   Proceeding   300-699 from TU   store, send; G = T1 (UDP); H = 64*T1     Completed
 *   Completed    INVITE            resend the final response                Completed
 *   Completed    Timer G           resend; G = min(2*G, T2)                 Completed
 *   Completed    Timer H           err_h(-ETIMEDOUT)                        Terminated
 *   Completed    ACK               stop G, H; I = T4 (UDP) / 0              Confirmed
 *   Confirmed    INVITE, ACK       absorb                                   Confirmed
 *   Confirmed    Timer I           -                                        Terminated
 *   Accepted     INVITE            absorb (the TU resends its 2xx itself)   Accepted
 *   Accepted     ACK               ack_h: the 2xx ACK belongs to the TU     Accepted
 *   Accepted     2xx from TU       send                                     Accepted
 *   Accepted     Timer L           -                                        Terminated
 *   any          transport error   err_h(err), or returned to the TU       Terminated
 *
 * Server non-INVITE.
 *   -            request           request_h                                Trying
 *   Trying       request           absorb                                   Trying
 *   Trying,Proc. 1xx from TU       store, send                              Proceeding
 *   Proceeding   request           resend the last provisional              Proceeding
 *   Trying,Proc. 200-699 from TU   store, send; J = 64*T1 (UDP) / 0         Completed
 *   Completed    request           resend the final response                Completed
 *   Completed    Timer J           -                                        Terminated
 *
 * The buffer holds the last response sent (or the 100 Trying about to be
 * sent, trying_pending); a 2xx to an INVITE is not kept: the transaction never
 * resends it.
 */
#include "tsx_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* --- 100 Trying (RFC 3261 §8.2.6) ---------------------------------------- */

struct trying_ctx {
	const struct sip_msg *m;
	const struct sip_tsx *t;
};

/* The top Via gets received/rport like any response (RFC 3581), via conf.via_h. */
static void print_trying_via(struct tsx_out *o, const struct sip_tsx *t, struct strv via)
{
	char buf[1024];
	long n = t->l->conf.via_h ? t->l->conf.via_h(tsx_dest_of(t), via, buf, sizeof(buf)) : -1;

	out_hdr(o, "Via", n >= 0 ? strv_make(buf, (size_t)n) : via);
}

static void print_trying(struct tsx_out *o, const void *ctx)
{
	const struct trying_ctx *tc = ctx;
	const struct sip_msg *m = tc->m;
	const struct sip_hdr *h;

	out_str(o, "SIP/2.0 100 Trying\r\n");
	for (h = sip_msg_hdr(m, SIP_HDR_VIA); h; h = sip_msg_hdr_next(m, h)) {
		if (h == sip_msg_hdr(m, SIP_HDR_VIA))
			print_trying_via(o, tc->t, h->value);
		else
			out_hdr(o, "Via", h->value);
	}
	out_hdr(o, "From", sip_msg_hdr(m, SIP_HDR_FROM)->value);
	out_hdr(o, "To", sip_msg_hdr(m, SIP_HDR_TO)->value);
	out_hdr(o, "Call-ID", m->call_id);
	out_str(o, "CSeq: ");
	out_u32(o, m->cseq);
	out_mem(o, " ", 1);
	out_strv(o, m->cseq_method_name);
	out_mem(o, "\r\n", 2);
	h = sip_msg_hdr_by_name(m, STRV("Timestamp"));
	if (h)
		out_hdr(o, "Timestamp", h->value);
	out_str(o, "Content-Length: 0\r\n\r\n");
}

static void sinv_prepare_trying(struct sip_tsx *t, const struct sip_msg *m)
{
	struct trying_ctx tc = { .m = m, .t = t };
	char *buf;
	size_t len;

	if (!sip_msg_hdr(m, SIP_HDR_FROM) || !sip_msg_hdr(m, SIP_HDR_TO) ||
	    tsx_print(&buf, &len, print_trying, &tc))
		return; /* no 100 then: the client keeps retransmitting, no harm */
	tsx_drop_buf(t);
	t->buf = buf;
	t->len = len;
	t->cap = len;
	t->trying_pending = true;
}

static void sinv_send_trying(struct sip_tsx *t)
{
	int err;

	if (!t->trying_pending)
		return;
	t->trying_pending = false;
	timer_cancel(t->l->ts, &t->tr);
	err = tsx_send(t, t->buf, t->len);
	if (err)
		tsx_fail(t, err);
}

static void sinv_trying_h(void *arg)
{
	struct sip_tsx *t = arg;

	tsx_hold(t);
	sinv_send_trying(t);
	tsx_release(t);
}

/* --- timers -------------------------------------------------------------- */

static void sinv_timer_g(void *arg)
{
	struct sip_tsx *t = arg;
	uint64_t t2 = t->l->conf.t2_ms;
	uint64_t next = 2 * (uint64_t)t->rt_ms;

	tsx_hold(t);
	tsx_resend(t);
	t->rt_ms = (uint32_t)(next < t2 ? next : t2);
	tsx_start(t, &t->tr, t->rt_ms, sinv_timer_g);
	tsx_release(t);
}

static void sinv_timer_h(void *arg)
{
	tsx_fail(arg, -ETIMEDOUT);
}

/* --- requests ------------------------------------------------------------ */

int stsx_create(struct sip_tsx_layer *l, const struct tsx_key *k, const struct sip_msg *m,
		const void *dest, bool reliable)
{
	bool invite = m->method == SIP_METHOD_INVITE;
	uint32_t delay = l->conf.trying_delay_ms;
	struct sip_tsx *t;
	int err;

	err = tsx_alloc(l, &t, k, dest, reliable, false);
	if (err)
		return err;
	t->state = invite ? SIP_TSX_PROCEEDING : SIP_TSX_TRYING;
	t->rt_ms = l->conf.t1_ms;
	tsx_link(t);
	l->stats.server_created++;
	tsx_hold(t);
	if (invite && delay) {
		sinv_prepare_trying(t, m);
		if (t->trying_pending && tsx_start(t, &t->tr, delay, sinv_trying_h)) {
			err = -ENOMEM; /* the transaction failed and terminated */
			goto out;
		}
	}
	l->conf.request_h(l->conf.tu_arg, t, m);
	if (invite && !delay && t->state == SIP_TSX_PROCEEDING && !t->buf) {
		sinv_prepare_trying(t, m); /* the TU did not answer yet */
		sinv_send_trying(t);
	}
out:
	tsx_release(t);
	return err;
}

static void sinv_ack(struct sip_tsx *t, const struct sip_msg *m, const void *dest, bool reliable)
{
	const struct sip_tsx_conf *c = &t->l->conf;

	switch (t->state) {
	case SIP_TSX_COMPLETED:
		tsx_stop_timers(t);
		t->state = SIP_TSX_CONFIRMED;
		tsx_linger(t, t->reliable ? 0 : c->t4_ms); /* Timer I */
		break;
	case SIP_TSX_ACCEPTED:
		if (c->ack_h)
			c->ack_h(c->tu_arg, m, dest, reliable);
		break;
	default: /* Confirmed: a retransmission; Proceeding: no final yet, ignored */
		t->l->stats.absorbed++;
		break;
	}
}

static void stsx_retransmission(struct sip_tsx *t)
{
	t->l->stats.absorbed++;
	switch (t->state) {
	case SIP_TSX_PROCEEDING:
		if (t->trying_pending)
			sinv_send_trying(t);
		else
			tsx_resend(t); /* the last provisional, if any */
		break;
	case SIP_TSX_COMPLETED:
		tsx_resend(t);
		break;
	default: /* Trying, Confirmed, Accepted */
		break;
	}
}

void stsx_recv(struct sip_tsx *t, const struct sip_msg *m, const void *dest, bool reliable)
{
	tsx_hold(t);
	if (m->method == SIP_METHOD_ACK)
		sinv_ack(t, m, dest, reliable);
	else
		stsx_retransmission(t);
	tsx_release(t);
}

/* --- responses ----------------------------------------------------------- */

/* The status code of a status line "SIP/2.0 NNN ...", or -EINVAL. */
static int status_of(const char *buf, size_t len)
{
	int status = 0;

	if (!buf || len < 12 || memcmp(buf, "SIP/2.0 ", 8) != 0 || buf[11] != ' ')
		return -EINVAL;
	for (unsigned i = 8; i < 11; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		status = status * 10 + (buf[i] - '0');
	}
	return status >= 100 && status <= 699 ? status : -EINVAL;
}

/* A send failure on the TU's behalf: the transaction ends, the TU gets the error. */
static int respond_send(struct sip_tsx *t, const char *buf, size_t len)
{
	int err = tsx_send(t, buf, len);

	if (err) {
		t->l->stats.transport_errors++;
		tsx_terminate(t);
	}
	return err;
}

static int sinv_respond(struct sip_tsx *t, int status, const char *buf, size_t len)
{
	int err;

	switch (t->state) {
	case SIP_TSX_PROCEEDING:
		if (status / 100 == 2) {
			tsx_stop_timers(t);
			t->trying_pending = false;
			tsx_drop_buf(t);
			t->state = SIP_TSX_ACCEPTED;
			err = respond_send(t, buf, len);
			if (!err)
				tsx_linger(t, tsx_64t1(t)); /* Timer L */
			return err;
		}
		err = tsx_store(t, buf, len);
		if (err)
			return err;
		t->trying_pending = false;
		timer_cancel(t->l->ts, &t->tr);
		if (status >= 300) {
			t->state = SIP_TSX_COMPLETED;
			t->rt_ms = t->l->conf.t1_ms;
			if (!t->reliable && tsx_start(t, &t->tr, t->rt_ms, sinv_timer_g))
				return -ENOMEM;
			if (tsx_start(t, &t->tm, tsx_64t1(t), sinv_timer_h))
				return -ENOMEM;
		}
		return respond_send(t, t->buf, t->len);
	case SIP_TSX_ACCEPTED:
		return status / 100 == 2 ? respond_send(t, buf, len) : -EALREADY;
	default:
		return -EALREADY;
	}
}

static int snict_respond(struct sip_tsx *t, int status, const char *buf, size_t len)
{
	int err;

	if (t->state != SIP_TSX_TRYING && t->state != SIP_TSX_PROCEEDING)
		return -EALREADY;
	if (status >= 200 && t->reliable) {
		/* Timer J is 0: nothing will be resent, nothing to keep. */
		t->state = SIP_TSX_COMPLETED;
		err = respond_send(t, buf, len);
		tsx_terminate(t);
		return err;
	}
	err = tsx_store(t, buf, len);
	if (err)
		return err;
	t->state = status < 200 ? SIP_TSX_PROCEEDING : SIP_TSX_COMPLETED;
	err = respond_send(t, t->buf, t->len);
	if (!err && status >= 200)
		tsx_linger(t, tsx_64t1(t)); /* Timer J */
	return err;
}

int sip_tsx_respond(struct sip_tsx *t, const char *buf, size_t len)
{
	int status = status_of(buf, len);
	int err;

	if (t->client || status < 0)
		return -EINVAL;
	if (t->state == SIP_TSX_TERMINATED)
		return -EALREADY;
	tsx_hold(t);
	if (t->key.method == SIP_METHOD_INVITE)
		err = sinv_respond(t, status, buf, len);
	else
		err = snict_respond(t, status, buf, len);
	tsx_release(t);
	return err;
}
