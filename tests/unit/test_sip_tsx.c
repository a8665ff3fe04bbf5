/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SIP transactions on a fake clock: the test drives timers_run() with the
 * times it expects timers to fire at, a fake send callback records what the
 * layer sends, and fake TU handlers record what the layer reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timer.h"
#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/tsx.h"

#define T0 1000000 /* fake clock at timers_alloc; tests speak in ms after it */

#define MAX_SENT 256
#define MAX_EV	 256

struct dest {
	int id;
};

struct sent {
	char *buf;
	size_t len;
	int dest;
	uint64_t at;
};

enum ev_kind { EV_REQ = 1, EV_RESP, EV_ERR, EV_TERM, EV_ACK };

struct ev {
	enum ev_kind kind;
	struct sip_tsx *t;
	unsigned status;
	int err;
	enum sip_method method;
	uint64_t at;
};

struct env;
typedef void(on_req_h)(struct sip_tsx *st, const struct sip_msg *req);

static struct env {
	struct timers *ts;
	struct sip_tsx_layer *l;
	bool record; /* keep copies of what is sent and the events */
	struct sent sent[MAX_SENT];
	unsigned nsent;
	unsigned long total_sent;
	int send_err;	    /* the next sends fail with this ... */
	unsigned send_errs; /* ... this many times */
	struct ev ev[MAX_EV];
	unsigned nev;
	unsigned long total_term;
	struct sip_tsx *last_st; /* last server transaction created */
	struct sip_tsx *cancel_target;
	on_req_h *on_req;
	bool terminate_in_resp;
	bool terminate_in_err;
} E;

static const struct sip_tsx_handlers tu_h;

/* --- fakes --------------------------------------------------------------- */

static uint64_t now(void)
{
	return timers_now(E.ts) - T0;
}

static int fake_send(void *arg, const void *dest, const char *buf, size_t len)
{
	const struct dest *d = dest;

	assert_ptr_equal(arg, &E);
	E.total_sent++;
	if (E.send_errs) {
		E.send_errs--;
		return E.send_err;
	}
	if (E.record) {
		assert_true(E.nsent < MAX_SENT);
		E.sent[E.nsent].buf = malloc(len + 1);
		assert_non_null(E.sent[E.nsent].buf);
		memcpy(E.sent[E.nsent].buf, buf, len);
		E.sent[E.nsent].buf[len] = 0;
		E.sent[E.nsent].len = len;
		E.sent[E.nsent].dest = d ? d->id : -1;
		E.sent[E.nsent].at = now();
		E.nsent++;
	}
	return 0;
}

static void add_ev(enum ev_kind kind, struct sip_tsx *t, unsigned status, int err,
		   enum sip_method method)
{
	if (!E.record)
		return;
	assert_true(E.nev < MAX_EV);
	E.ev[E.nev++] = (struct ev){
		.kind = kind, .t = t, .status = status, .err = err, .method = method, .at = now()
	};
}

static void tu_request(void *arg, struct sip_tsx *st, const struct sip_msg *req)
{
	assert_ptr_equal(arg, &E);
	assert_false(sip_tsx_is_client(st));
	assert_int_equal(sip_tsx_method(st), req->method);
	E.last_st = st;
	sip_tsx_set_handlers(st, &tu_h, &E);
	add_ev(EV_REQ, st, 0, 0, req->method);
	if (req->method == SIP_METHOD_CANCEL)
		E.cancel_target = sip_tsx_cancel_target(E.l, req);
	if (E.on_req)
		E.on_req(st, req);
}

static void tu_ack(void *arg, const struct sip_msg *ack, const void *dest, bool reliable)
{
	assert_ptr_equal(arg, &E);
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	add_ev(EV_ACK, NULL, 0, 0, ack->method);
}

static void tu_resp(void *arg, struct sip_tsx *t, const struct sip_msg *resp)
{
	assert_ptr_equal(arg, &E);
	assert_true(sip_tsx_is_client(t));
	add_ev(EV_RESP, t, resp->status, 0, resp->cseq_method);
	if (E.terminate_in_resp)
		sip_tsx_terminate(t);
}

static void tu_err(void *arg, struct sip_tsx *t, int err)
{
	add_ev(EV_ERR, t, 0, err, sip_tsx_method(t));
	if (E.terminate_in_err)
		sip_tsx_terminate(t); /* ends it without term_h */
}

static void tu_term(void *arg, struct sip_tsx *t)
{
	assert_int_equal(sip_tsx_state(t), SIP_TSX_TERMINATED);
	E.total_term++;
	add_ev(EV_TERM, t, 0, 0, sip_tsx_method(t));
}

static const struct sip_tsx_handlers tu_h = {
	.resp_h = tu_resp,
	.err_h = tu_err,
	.term_h = tu_term,
};

static void env_up(const struct sip_tsx_conf *over)
{
	struct sip_tsx_conf c = { 0 };

	memset(&E, 0, sizeof(E));
	E.record = true;
	if (over)
		c = *over;
	c.dest_size = sizeof(struct dest);
	c.send_h = fake_send;
	c.send_arg = &E;
	c.request_h = tu_request;
	c.ack_h = tu_ack;
	c.tu_arg = &E;
	assert_int_equal(timers_alloc(&E.ts, T0), 0);
	assert_int_equal(sip_tsx_layer_alloc(&E.l, E.ts, &c), 0);
}

static void env_down(void)
{
	sip_tsx_layer_free(E.l); /* frees live transactions: ASan checks it */
	assert_int_equal(timers_count(E.ts), 0);
	timers_free(E.ts);
	for (unsigned i = 0; i < E.nsent; i++)
		free(E.sent[i].buf);
	memset(&E, 0, sizeof(E));
}

/* Runs the clock to @p ms after T0. */
static void at(uint64_t ms)
{
	timers_run(E.ts, T0 + ms);
}

static struct sip_tsx_stats stats(void)
{
	struct sip_tsx_stats st;

	sip_tsx_layer_stats(E.l, &st);
	return st;
}

static unsigned count_ev(enum ev_kind kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < E.nev; i++)
		n += E.ev[i].kind == kind;
	return n;
}

static const struct ev *last_ev(void)
{
	assert_true(E.nev > 0);
	return &E.ev[E.nev - 1];
}

/* --- messages ------------------------------------------------------------ */

#define RING 32
static char ring[RING][4096];
static unsigned ring_i;

static char *next_buf(void)
{
	return ring[ring_i++ % RING];
}

#define DEF_HOST   "pc33.atlanta.example.com:5060"
#define DEF_CALLID "a84b4c76e66710@pc33.atlanta.example.com"
#define DEF_RURI   "sip:bob@biloxi.example.com"
#define DEF_FTAG   "1928301774"

struct rq {
	const char *method; /* default INVITE */
	const char *branch; /* NULL: no branch parameter (RFC 2543) */
	const char *host;
	const char *to_tag;
	const char *from_tag;
	const char *call_id;
	unsigned cseq; /* default 1 */
	const char *ruri;
	const char *extra; /* more header lines, each ending in CRLF */
};

static char *mk_req(const struct rq *r)
{
	char *b = next_buf();
	const char *method = r->method ? r->method : "INVITE";
	int n;

	n = snprintf(b, 4096,
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s%s%s\r\n"
		     "%s"
		     "Max-Forwards: 70\r\n"
		     "To: Bob <sip:bob@biloxi.example.com>%s%s\r\n"
		     "From: Alice <sip:alice@atlanta.example.com>;tag=%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
		     "Content-Length: 0\r\n\r\n",
		     method, r->ruri ? r->ruri : DEF_RURI, r->host ? r->host : DEF_HOST,
		     r->branch ? ";branch=" : "", r->branch ? r->branch : "",
		     r->extra ? r->extra : "", r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "",
		     r->from_tag ? r->from_tag : DEF_FTAG, r->call_id ? r->call_id : DEF_CALLID,
		     r->cseq ? r->cseq : 1, method);
	assert_true(n > 0 && n < 4096);
	return b;
}

/* A response to request @p r (its Via, From, Call-ID, CSeq) with To tag @p tag. */
static char *mk_resp(unsigned status, const struct rq *r, const char *tag)
{
	char *b = next_buf();
	const char *method = r->method ? r->method : "INVITE";
	int n;

	n = snprintf(b, 4096,
		     "SIP/2.0 %u Whatever\r\n"
		     "Via: SIP/2.0/UDP %s%s%s\r\n"
		     "To: Bob <sip:bob@biloxi.example.com>%s%s\r\n"
		     "From: Alice <sip:alice@atlanta.example.com>;tag=%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u %s\r\n"
		     "Content-Length: 0\r\n\r\n",
		     status, r->host ? r->host : DEF_HOST, r->branch ? ";branch=" : "",
		     r->branch ? r->branch : "", tag ? ";tag=" : "", tag ? tag : "",
		     r->from_tag ? r->from_tag : DEF_FTAG, r->call_id ? r->call_id : DEF_CALLID,
		     r->cseq ? r->cseq : 1, method);
	assert_true(n > 0 && n < 4096);
	return b;
}

#define REQ(...)	     mk_req(&(struct rq){ __VA_ARGS__ })
#define RESP(status, r, tag) mk_resp((status), (r), (tag))

static void parse(struct sip_msg *m, const char *text, size_t len)
{
	struct sip_parse_error pe = { 0 };
	int err = sip_msg_parse(m, text, len, NULL, &pe);

	if (err)
		fail_msg("cannot parse (%s): %s", pe.reason ? pe.reason : "?", text);
}

/* Hands @p text to the layer as received from @p dest_id. */
static int feed(const char *text, int dest_id, bool reliable)
{
	struct dest d = { dest_id };
	struct sip_msg m;

	parse(&m, text, strlen(text));
	return sip_tsx_recv(E.l, &m, &d, reliable);
}

static struct sip_tsx *request(const char *text, int dest_id, bool reliable)
{
	struct dest d = { dest_id };
	struct sip_tsx *t = NULL;

	assert_int_equal(sip_tsx_request(E.l, &t, text, strlen(text), &d, reliable, &tu_h, &E), 0);
	assert_non_null(t);
	return t;
}

static int respond(struct sip_tsx *st, unsigned status, const struct rq *r, const char *tag)
{
	const char *text = RESP(status, r, tag);

	return sip_tsx_respond(st, text, strlen(text));
}

static void sent_msg(unsigned i, struct sip_msg *m)
{
	assert_true(i < E.nsent);
	parse(m, E.sent[i].buf, E.sent[i].len);
}

static unsigned sent_status(unsigned i)
{
	struct sip_msg m;

	sent_msg(i, &m);
	assert_false(m.is_request);
	return m.status;
}

static enum sip_method sent_method(unsigned i)
{
	struct sip_msg m;

	sent_msg(i, &m);
	assert_true(m.is_request);
	return m.method;
}

static void assert_sent_same(unsigned i, unsigned j)
{
	assert_true(i < E.nsent && j < E.nsent);
	assert_int_equal(E.sent[i].len, E.sent[j].len);
	assert_memory_equal(E.sent[i].buf, E.sent[j].buf, E.sent[i].len);
}

static struct strv hdr_val(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	assert_non_null(h);
	return h->value;
}

static void assert_strv(struct strv a, struct strv b)
{
	if (!strv_eq(a, b))
		fail_msg("'%.*s' != '%.*s'", (int)a.len, a.p, (int)b.len, b.p);
}

/*
 * Checks that the message sent first (index @p first) is sent again at each
 * of @p times (ms) and at no other time before: steps the clock 1 ms short of
 * each time, then to it.
 */
static void expect_resends(unsigned first, const uint64_t *times, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned before = E.nsent;

		at(times[i] - 1);
		assert_int_equal(E.nsent, before);
		at(times[i]);
		assert_int_equal(E.nsent, before + 1);
		assert_int_equal(E.sent[before].at, times[i]);
		assert_sent_same(first, before);
	}
}

/* --- client INVITE ------------------------------------------------------- */

static const struct rq INV = { .branch = "z9hG4bKinv1",
			       .extra = "Route: <sip:p1.example.com;lr>\r\n"
					"Route: <sip:p2.example.com;lr>\r\n" };

static void test_cinv_timer_a_b(void **state)
{
	static const uint64_t a[] = { 500, 1500, 3500, 7500, 15500, 31500 };
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 7, false);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(E.sent[0].dest, 7);
	assert_int_equal(sent_method(0), SIP_METHOD_INVITE);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CALLING);
	assert_true(sip_tsx_is_client(t));
	assert_true(strv_eq_cstr(sip_tsx_branch(t), "z9hG4bKinv1"));
	expect_resends(0, a, 6); /* Timer A doubles from T1 */
	at(31999);
	assert_int_equal(E.nev, 0);
	at(32000); /* Timer B = 64*T1 */
	assert_int_equal(E.nev, 2);
	assert_int_equal(E.ev[0].kind, EV_ERR);
	assert_int_equal(E.ev[0].err, -ETIMEDOUT);
	assert_int_equal(E.ev[1].kind, EV_TERM);
	assert_int_equal(E.nsent, 7);
	assert_int_equal(stats().timeouts, 1);
	assert_int_equal(stats().active, 0);
	assert_int_equal(stats().retransmitted, 6);
	at(100000);
	assert_int_equal(E.nsent, 7);
	env_down();
}

static void test_cinv_reliable(void **state)
{
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 1, true);
	assert_true(sip_tsx_reliable(t));
	at(500);
	at(1500);
	at(31999);
	assert_int_equal(E.nsent, 1); /* no Timer A on a reliable transport */
	at(32000);
	assert_int_equal(count_ev(EV_ERR), 1);
	assert_int_equal(E.ev[0].err, -ETIMEDOUT);
	assert_int_equal(count_ev(EV_TERM), 1);
	env_down();
}

static void test_cinv_proceeding_accepted(void **state)
{
	char ack[] = "ACK sip:bob@192.0.2.4 SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKack2xx\r\n"
		     "Max-Forwards: 70\r\n"
		     "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
		     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		     "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
		     "CSeq: 1 ACK\r\n"
		     "Content-Length: 0\r\n\r\n";
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 3, false);
	at(100);
	assert_int_equal(feed(RESP(180, &INV, "a6c85cf"), 3, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_PROCEEDING);
	assert_int_equal(last_ev()->kind, EV_RESP);
	assert_int_equal(last_ev()->status, 180);
	/* Proceeding: no more Timer A, and Timer B does not apply */
	at(500);
	at(1500);
	at(32000);
	at(40000);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_PROCEEDING);

	assert_int_equal(feed(RESP(200, &INV, "a6c85cf"), 3, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_ACCEPTED);
	assert_int_equal(last_ev()->status, 200);
	assert_int_equal(E.nsent, 1); /* the transaction never ACKs a 2xx */
	/* the TU does, outside the transaction */
	assert_int_equal(sip_tsx_send(E.l, sip_tsx_dest(t), ack, strlen(ack)), 0);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(E.sent[1].dest, 3);

	/* RFC 6026: 2xx retransmissions and other forks reach the TU */
	at(41000);
	assert_int_equal(feed(RESP(200, &INV, "a6c85cf"), 3, false), 0);
	assert_int_equal(feed(RESP(200, &INV, "fork2"), 3, false), 0);
	assert_int_equal(count_ev(EV_RESP), 4);
	assert_int_equal(feed(RESP(486, &INV, "fork3"), 3, false), 0); /* dropped */
	assert_int_equal(feed(RESP(180, &INV, "fork3"), 3, false), 0); /* dropped */
	assert_int_equal(count_ev(EV_RESP), 4);
	assert_int_equal(E.nsent, 2);

	at(40000 + 31999);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(40000 + 32000); /* Timer M */
	assert_int_equal(count_ev(EV_TERM), 1);
	assert_int_equal(count_ev(EV_ERR), 0);
	/* now a stray: dropped */
	assert_int_equal(feed(RESP(200, &INV, "a6c85cf"), 3, false), -ENOENT);
	assert_int_equal(stats().stray, 1);
	env_down();
}

static void test_cinv_non2xx_ack(void **state)
{
	struct sip_msg inv, ack, resp;
	const struct sip_hdr *r1, *r2, *a1, *a2;
	const char *resp_text;
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 5, false);
	at(50);
	assert_int_equal(feed(RESP(100, &INV, NULL), 5, false), 0);
	at(100);
	resp_text = RESP(486, &INV, "b0b");
	assert_int_equal(feed(resp_text, 5, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(E.sent[1].dest, 5);
	assert_int_equal(count_ev(EV_RESP), 2);
	assert_int_equal(last_ev()->status, 486);

	/* RFC 3261 §17.1.1.3 */
	sent_msg(0, &inv);
	sent_msg(1, &ack);
	parse(&resp, resp_text, strlen(resp_text));
	assert_true(ack.is_request);
	assert_int_equal(ack.method, SIP_METHOD_ACK);
	assert_strv(ack.ruri, inv.ruri);
	assert_int_equal(sip_msg_hdr_count(&ack, SIP_HDR_VIA), 1);
	assert_strv(hdr_val(&ack, SIP_HDR_VIA), hdr_val(&inv, SIP_HDR_VIA));
	assert_strv(hdr_val(&ack, SIP_HDR_TO), hdr_val(&resp, SIP_HDR_TO));
	assert_strv(hdr_val(&ack, SIP_HDR_FROM), hdr_val(&inv, SIP_HDR_FROM));
	assert_strv(ack.call_id, inv.call_id);
	assert_int_equal(ack.cseq, inv.cseq);
	assert_int_equal(ack.cseq_method, SIP_METHOD_ACK);
	assert_int_equal(sip_msg_hdr_count(&ack, SIP_HDR_ROUTE), 2);
	r1 = sip_msg_hdr(&inv, SIP_HDR_ROUTE);
	r2 = sip_msg_hdr_next(&inv, r1);
	a1 = sip_msg_hdr(&ack, SIP_HDR_ROUTE);
	a2 = sip_msg_hdr_next(&ack, a1);
	assert_strv(a1->value, r1->value);
	assert_strv(a2->value, r2->value);
	assert_int_equal(ack.body.len, 0);
	assert_strv(hdr_val(&ack, SIP_HDR_CONTENT_LENGTH), strv_cstr("0"));
	assert_null(sip_msg_hdr(&ack, SIP_HDR_CONTACT));

	/* the 486 again: the same ACK again, nothing to the TU */
	at(600);
	assert_int_equal(feed(resp_text, 5, false), 0);
	assert_int_equal(E.nsent, 3);
	assert_sent_same(1, 2);
	assert_int_equal(count_ev(EV_RESP), 2);
	assert_int_equal(stats().absorbed, 1);
	/* no Timer A any more */
	at(1500);
	at(3500);
	assert_int_equal(E.nsent, 3);
	at(100 + 31999);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(100 + 32000); /* Timer D */
	assert_int_equal(count_ev(EV_TERM), 1);
	assert_int_equal(count_ev(EV_ERR), 0);
	env_down();
}

static void test_cinv_non2xx_reliable(void **state)
{
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 5, true);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_CALLING);
	/* a final response straight from Calling; Timer D = 0 */
	assert_int_equal(feed(RESP(404, &INV, "x"), 5, true), 0);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(sent_method(1), SIP_METHOD_ACK);
	assert_int_equal(E.nev, 2);
	assert_int_equal(E.ev[0].kind, EV_RESP);
	assert_int_equal(E.ev[0].status, 404);
	assert_int_equal(E.ev[1].kind, EV_TERM);
	assert_int_equal(stats().active, 0);
	assert_int_equal(timers_count(E.ts), 0);
	env_down();
}

/* --- client non-INVITE --------------------------------------------------- */

static const struct rq OPT = { .method = "OPTIONS", .branch = "z9hG4bKopt1" };

static void test_cnict_timer_e_f(void **state)
{
	static const uint64_t e[] = { 500,   1500,  3500,  7500,  11500,
				      15500, 19500, 23500, 27500, 31500 };
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&OPT), 2, false);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_TRYING);
	expect_resends(0, e, 10); /* Timer E doubles, capped at T2 */
	at(31999);
	assert_int_equal(E.nev, 0);
	at(32000); /* Timer F */
	assert_int_equal(E.nev, 2);
	assert_int_equal(E.ev[0].kind, EV_ERR);
	assert_int_equal(E.ev[0].err, -ETIMEDOUT);
	assert_int_equal(E.ev[1].kind, EV_TERM);
	assert_int_equal(E.nsent, 11);
	env_down();
}

static void test_cnict_proceeding_t2(void **state)
{
	static const uint64_t e[] = { 500, 1500, 5500, 9500 };
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&OPT), 2, false);
	expect_resends(0, e, 1);
	at(600);
	assert_int_equal(feed(RESP(100, &OPT, NULL), 2, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_PROCEEDING);
	assert_int_equal(last_ev()->status, 100);
	/* the pending E fires at 1500, then every T2 in Proceeding */
	expect_resends(0, e + 1, 3);
	at(10000);
	assert_int_equal(feed(RESP(200, &OPT, "t"), 2, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	assert_int_equal(last_ev()->status, 200);
	assert_int_equal(feed(RESP(200, &OPT, "t"), 2, false), 0); /* absorbed */
	assert_int_equal(count_ev(EV_RESP), 2);
	at(13500);
	assert_int_equal(E.nsent, 5); /* Timer E stopped */
	at(14999);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(15000); /* Timer K = T4 */
	assert_int_equal(count_ev(EV_TERM), 1);
	env_down();
}

static void test_cnict_reliable(void **state)
{
	struct rq reg = { .method = "REGISTER",
			  .branch = "z9hG4bKreg1",
			  .ruri = "sip:example.com" };

	env_up(NULL);
	request(mk_req(&reg), 2, true);
	at(500);
	at(4000);
	assert_int_equal(E.nsent, 1); /* no Timer E */
	assert_int_equal(feed(RESP(200, &reg, "t"), 2, true), 0);
	assert_int_equal(E.nev, 2); /* Timer K = 0 */
	assert_int_equal(E.ev[0].kind, EV_RESP);
	assert_int_equal(E.ev[1].kind, EV_TERM);

	reg.branch = "z9hG4bKreg2";
	request(mk_req(&reg), 2, true);
	at(4000 + 31999);
	assert_int_equal(E.nev, 2);
	at(4000 + 32000); /* Timer F */
	assert_int_equal(E.ev[2].kind, EV_ERR);
	assert_int_equal(E.ev[2].err, -ETIMEDOUT);
	assert_int_equal(E.ev[3].kind, EV_TERM);
	assert_int_equal(E.nsent, 2);
	env_down();
}

static void test_conf_timers(void **state)
{
	/* T1 = 100, T2 = 400: E at 100, 300, 700, 1100, ...; F at 6400 */
	static const uint64_t e[] = { 100, 300, 700, 1100, 1500 };
	static const uint64_t a[] = { 100, 300, 700, 1500, 3100 };
	struct sip_tsx_conf c = { .t1_ms = 100, .t2_ms = 400, .t4_ms = 1000 };
	struct sip_tsx_conf bad = {
		.t1_ms = 1000, .t2_ms = 400, .send_h = fake_send, .request_h = tu_request
	};
	struct sip_tsx_layer *l;
	struct timers *ts;

	env_up(&c);
	request(mk_req(&OPT), 1, false);
	expect_resends(0, e, 5);
	at(6399);
	assert_int_equal(count_ev(EV_ERR), 0);
	at(6400);
	assert_int_equal(count_ev(EV_ERR), 1);
	env_down();

	env_up(&c);
	request(mk_req(&INV), 1, false);
	expect_resends(0, a, 5);
	at(6400);
	assert_int_equal(count_ev(EV_ERR), 1);
	env_down();

	assert_int_equal(timers_alloc(&ts, 0), 0);
	assert_int_equal(sip_tsx_layer_alloc(&l, ts, &bad), -EINVAL);
	bad.t2_ms = 0;
	bad.request_h = NULL;
	assert_int_equal(sip_tsx_layer_alloc(&l, ts, &bad), -EINVAL);
	timers_free(ts);
}

/* --- server INVITE ------------------------------------------------------- */

static const struct rq SINV = {
	.branch = "z9hG4bKsrv1",
	.host = "client.example.com:5070",
	.extra = "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKprx1;received=192.0.2.9\r\n"
		 "Timestamp: 54.2\r\n",
};

static void answer_401(struct sip_tsx *st, const struct sip_msg *req)
{
	assert_int_equal(respond(st, 401, &SINV, "s1"), 0);
}

static void test_sinv_trying_immediate(void **state)
{
	struct sip_msg req, tr;
	const struct sip_hdr *v1, *v2;
	const char *inv = mk_req(&SINV);
	struct sip_tsx *st;

	env_up(NULL);
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 1);
	st = E.last_st;
	assert_int_equal(sip_tsx_state(st), SIP_TSX_PROCEEDING);
	/* the TU did not answer in request_h: 100 Trying at once */
	assert_int_equal(E.nsent, 1);
	assert_int_equal(E.sent[0].dest, 9);
	assert_int_equal(sent_status(0), 100);
	parse(&req, inv, strlen(inv));
	sent_msg(0, &tr);
	assert_int_equal(sip_msg_hdr_count(&tr, SIP_HDR_VIA), 2);
	v1 = sip_msg_hdr(&tr, SIP_HDR_VIA);
	v2 = sip_msg_hdr_next(&tr, v1);
	assert_strv(v1->value, sip_msg_hdr(&req, SIP_HDR_VIA)->value);
	assert_strv(v2->value, sip_msg_hdr_next(&req, sip_msg_hdr(&req, SIP_HDR_VIA))->value);
	assert_strv(hdr_val(&tr, SIP_HDR_FROM), hdr_val(&req, SIP_HDR_FROM));
	assert_strv(hdr_val(&tr, SIP_HDR_TO), hdr_val(&req, SIP_HDR_TO));
	assert_strv(tr.call_id, req.call_id);
	assert_int_equal(tr.cseq, 1);
	assert_int_equal(tr.cseq_method, SIP_METHOD_INVITE);
	assert_strv(sip_msg_hdr_by_name(&tr, STRV("Timestamp"))->value, STRV("54.2"));

	/* a retransmission: the 100 again, not a new request */
	at(500);
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 1);
	assert_int_equal(E.nsent, 2);
	assert_sent_same(0, 1);
	/* the TU's 180 replaces it */
	assert_int_equal(respond(st, 180, &SINV, "s1"), 0);
	assert_int_equal(E.nsent, 3);
	assert_int_equal(sent_status(2), 180);
	at(1500);
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(E.nsent, 4);
	assert_sent_same(2, 3);
	assert_int_equal(stats().absorbed, 2);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_PROCEEDING);
	/* no timer in Proceeding: it waits for the TU */
	at(100000);
	assert_int_equal(E.nsent, 4);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_PROCEEDING);
	env_down();
}

/* The top Via as a response addresses it: "<via>;received=d<dest id>". */
static long fake_via(const void *dest, struct strv via, char *buf, size_t size)
{
	const struct dest *d = dest;
	int n = snprintf(buf, size, "%.*s;received=d%d", (int)via.len, via.p, d->id);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* RFC 3581: the 100 Trying's top Via gets received/rport through conf.via_h, like any response. */
static void test_sinv_trying_via(void **state)
{
	struct sip_tsx_conf c = { .via_h = fake_via };
	const char *inv = mk_req(&SINV);
	struct sip_msg req, tr;
	const struct sip_hdr *v1, *v2;
	char want[512];

	(void)state;
	env_up(&c);
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(sent_status(0), 100);
	parse(&req, inv, strlen(inv));
	sent_msg(0, &tr);
	v1 = sip_msg_hdr(&tr, SIP_HDR_VIA);
	v2 = sip_msg_hdr_next(&tr, v1);
	snprintf(want, sizeof(want), "%.*s;received=d9",
		 (int)sip_msg_hdr(&req, SIP_HDR_VIA)->value.len,
		 sip_msg_hdr(&req, SIP_HDR_VIA)->value.p);
	assert_strv(v1->value, strv_cstr(want));
	/* only the top one: the others are the upstream hops' */
	assert_strv(v2->value, sip_msg_hdr_next(&req, sip_msg_hdr(&req, SIP_HDR_VIA))->value);
	env_down();
}

static void test_sinv_no_trying_when_answered(void **state)
{
	env_up(NULL);
	E.on_req = answer_401;
	assert_int_equal(feed(mk_req(&SINV), 9, false), 0);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(sent_status(0), 401);
	assert_int_equal(sip_tsx_state(E.last_st), SIP_TSX_COMPLETED);
	env_down();
}

static void test_sinv_trying_delay(void **state)
{
	struct sip_tsx_conf c = { .trying_delay_ms = 200 };
	struct rq other = SINV;
	struct sip_tsx *st;

	env_up(&c);
	assert_int_equal(feed(mk_req(&SINV), 9, false), 0);
	assert_int_equal(E.nsent, 0);
	at(199);
	assert_int_equal(E.nsent, 0);
	at(200);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(sent_status(0), 100);

	/* answered within the delay: no 100 at all */
	other.branch = "z9hG4bKsrv2";
	at(300);
	assert_int_equal(feed(mk_req(&other), 9, false), 0);
	st = E.last_st;
	at(350);
	assert_int_equal(respond(st, 180, &other, "s2"), 0);
	at(500);
	at(1000);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(sent_status(1), 180);
	env_down();
}

static void test_sinv_non2xx_timer_g_h(void **state)
{
	static const uint64_t g[] = { 500, 1500, 3500, 7500, 11500, 15500, 19500 };
	const char *inv = mk_req(&SINV);
	struct sip_tsx *st;

	env_up(NULL);
	E.on_req = answer_401;
	assert_int_equal(feed(inv, 9, false), 0);
	st = E.last_st;
	assert_int_equal(sip_tsx_state(st), SIP_TSX_COMPLETED);
	assert_int_equal(E.nsent, 1);
	/* Timer G doubles, capped at T2 */
	expect_resends(0, g, 3);
	at(5000); /* an INVITE retransmission: the final response again */
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(E.nsent, 5);
	assert_sent_same(0, 4);
	assert_int_equal(count_ev(EV_REQ), 1);
	expect_resends(0, g + 3, 4);
	assert_int_equal(respond(st, 500, &SINV, "s1"), -EALREADY);
	assert_int_equal(respond(st, 180, &SINV, "s1"), -EALREADY);
	at(31500);
	at(31999);
	assert_int_equal(count_ev(EV_ERR), 0);
	at(32000); /* Timer H: the ACK never came */
	assert_int_equal(count_ev(EV_ERR), 1);
	assert_int_equal(E.ev[1].err, -ETIMEDOUT);
	assert_int_equal(last_ev()->kind, EV_TERM);
	assert_int_equal(stats().timeouts, 1);
	env_down();
}

static void test_sinv_ack_confirmed(void **state)
{
	struct rq ack = SINV;
	const char *inv = mk_req(&SINV);
	struct sip_tsx *st;

	ack.method = "ACK";
	ack.to_tag = "s1";
	env_up(NULL);
	E.on_req = answer_401;
	assert_int_equal(feed(inv, 9, false), 0);
	st = E.last_st;
	at(100);
	assert_int_equal(feed(mk_req(&ack), 9, false), 0);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_CONFIRMED);
	assert_int_equal(count_ev(EV_ACK), 0); /* absorbed, not the TU's */
	at(500);
	at(1500);
	assert_int_equal(E.nsent, 1); /* Timer G stopped */
	assert_int_equal(feed(mk_req(&ack), 9, false), 0);
	assert_int_equal(feed(inv, 9, false), 0);
	assert_int_equal(E.nsent, 1);
	assert_int_equal(count_ev(EV_REQ), 1);
	assert_int_equal(count_ev(EV_ACK), 0);
	at(5099);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(5100); /* Timer I = T4 after the ACK */
	assert_int_equal(count_ev(EV_TERM), 1);
	assert_int_equal(count_ev(EV_ERR), 0);
	at(32000);
	assert_int_equal(count_ev(EV_ERR), 0); /* Timer H was stopped */
	env_down();
}

static void test_sinv_reliable(void **state)
{
	struct rq ack = SINV;
	struct rq other = SINV;

	ack.method = "ACK";
	ack.to_tag = "s1";
	env_up(NULL);
	E.on_req = answer_401;
	assert_int_equal(feed(mk_req(&SINV), 9, true), 0);
	at(500);
	at(1500);
	assert_int_equal(E.nsent, 1); /* no Timer G */
	assert_int_equal(feed(mk_req(&ack), 9, true), 0);
	assert_int_equal(count_ev(EV_TERM), 1); /* Timer I = 0 */

	/* Timer H runs whatever the transport */
	other.branch = "z9hG4bKsrv3";
	assert_int_equal(feed(mk_req(&other), 9, true), 0);
	at(1500 + 31999);
	assert_int_equal(count_ev(EV_ERR), 0);
	at(1500 + 32000);
	assert_int_equal(count_ev(EV_ERR), 1);
	assert_int_equal(count_ev(EV_TERM), 2);
	env_down();
}

static void test_sinv_accepted(void **state)
{
	struct rq ack2xx = SINV;
	struct rq ack_same = SINV;
	const char *inv = mk_req(&SINV);
	struct sip_tsx *st;

	ack2xx.method = "ACK";
	ack2xx.branch = "z9hG4bKack2xx";
	ack2xx.to_tag = "s1";
	ack_same.method = "ACK";
	ack_same.to_tag = "s1";
	env_up(NULL);
	assert_int_equal(feed(inv, 9, false), 0);
	st = E.last_st;
	assert_int_equal(E.nsent, 1); /* 100 */
	assert_int_equal(respond(st, 200, &SINV, "s1"), 0);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_ACCEPTED);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(sent_status(1), 200);
	/* RFC 6026: INVITE retransmissions absorbed, 2xx resent by the TU only */
	at(300);
	assert_int_equal(feed(inv, 9, false), 0);
	at(500);
	at(1500);
	assert_int_equal(E.nsent, 2);
	assert_int_equal(count_ev(EV_REQ), 1);
	assert_int_equal(respond(st, 200, &SINV, "s1"), 0); /* the TU's retransmission */
	assert_int_equal(E.nsent, 3);
	assert_sent_same(1, 2);
	assert_int_equal(respond(st, 486, &SINV, "s1"), -EALREADY);
	assert_int_equal(respond(st, 180, &SINV, "s1"), -EALREADY);
	/* the ACK for the 2xx goes to the TU, whether it matches or not */
	assert_int_equal(feed(mk_req(&ack2xx), 9, false), 0);
	assert_int_equal(count_ev(EV_ACK), 1);
	assert_int_equal(feed(mk_req(&ack_same), 9, false), 0);
	assert_int_equal(count_ev(EV_ACK), 2);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_ACCEPTED);
	at(31999);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(32000); /* Timer L */
	assert_int_equal(count_ev(EV_TERM), 1);
	assert_int_equal(feed(mk_req(&ack2xx), 9, false), 0);
	assert_int_equal(count_ev(EV_ACK), 3);
	/* a late INVITE retransmission would now be a new transaction */
	env_down();
}

/* --- server non-INVITE --------------------------------------------------- */

static void test_snict(void **state)
{
	struct rq bye = { .method = "BYE", .branch = "z9hG4bKbye1", .to_tag = "s1" };
	const char *req = mk_req(&bye);
	struct sip_tsx *st;

	env_up(NULL);
	assert_int_equal(feed(req, 4, false), 0);
	st = E.last_st;
	assert_int_equal(sip_tsx_state(st), SIP_TSX_TRYING);
	assert_int_equal(E.nsent, 0); /* no 100 for non-INVITE */
	assert_int_equal(feed(req, 4, false), 0);
	assert_int_equal(E.nsent, 0); /* Trying: absorbed silently */
	assert_int_equal(count_ev(EV_REQ), 1);
	assert_int_equal(respond(st, 100, &bye, "s1"), 0);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_PROCEEDING);
	assert_int_equal(feed(req, 4, false), 0);
	assert_int_equal(E.nsent, 2);
	assert_sent_same(0, 1);
	at(1000);
	assert_int_equal(respond(st, 200, &bye, "s1"), 0);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_COMPLETED);
	assert_int_equal(E.sent[2].dest, 4);
	assert_int_equal(feed(req, 4, false), 0);
	assert_int_equal(E.nsent, 4);
	assert_int_equal(sent_status(3), 200);
	assert_int_equal(respond(st, 200, &bye, "s1"), -EALREADY);
	at(1000 + 31999);
	assert_int_equal(count_ev(EV_TERM), 0);
	at(1000 + 32000); /* Timer J */
	assert_int_equal(count_ev(EV_TERM), 1);

	/* reliable: Timer J = 0 */
	bye.branch = "z9hG4bKbye2";
	assert_int_equal(feed(mk_req(&bye), 4, true), 0);
	assert_int_equal(respond(E.last_st, 200, &bye, "s1"), 0);
	assert_int_equal(count_ev(EV_TERM), 2);
	assert_int_equal(stats().active, 0);
	env_down();
}

/* --- CANCEL -------------------------------------------------------------- */

static void test_cancel_matching(void **state)
{
	struct rq cancel = SINV;
	struct rq ack = SINV;
	struct rq stranger = SINV;
	const char *cancel_text;
	struct sip_tsx *inv_st, *cancel_st;

	cancel.method = "CANCEL";
	ack.method = "ACK";
	ack.to_tag = "s1";
	env_up(NULL);
	assert_int_equal(feed(mk_req(&SINV), 9, false), 0);
	inv_st = E.last_st;
	assert_int_equal(E.nsent, 1); /* 100 */

	cancel_text = mk_req(&cancel);
	assert_int_equal(feed(cancel_text, 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 2); /* its own transaction */
	cancel_st = E.last_st;
	assert_ptr_not_equal(cancel_st, inv_st);
	assert_int_equal(sip_tsx_method(cancel_st), SIP_METHOD_CANCEL);
	assert_ptr_equal(E.cancel_target, inv_st);
	assert_int_equal(sip_tsx_state(E.cancel_target), SIP_TSX_PROCEEDING);
	assert_int_equal(E.nsent, 1); /* no 100 to a CANCEL */
	assert_int_equal(respond(cancel_st, 200, &cancel, "s1"), 0);
	assert_int_equal(respond(inv_st, 487, &SINV, "s1"), 0);
	assert_int_equal(sent_status(1), 200);
	assert_int_equal(sent_status(2), 487);

	/* the CANCEL retransmitted: its 200 again */
	assert_int_equal(feed(cancel_text, 9, false), 0);
	assert_int_equal(E.nsent, 4);
	assert_sent_same(1, 3);
	/* the ACK of the 487 goes to the INVITE transaction */
	assert_int_equal(feed(mk_req(&ack), 9, false), 0);
	assert_int_equal(sip_tsx_state(inv_st), SIP_TSX_CONFIRMED);
	assert_int_equal(sip_tsx_state(cancel_st), SIP_TSX_COMPLETED);

	/* CANCELs that cancel nothing */
	stranger.method = "CANCEL";
	stranger.branch = "z9hG4bKnone";
	assert_int_equal(feed(mk_req(&stranger), 9, false), 0);
	assert_null(E.cancel_target);
	stranger.branch = SINV.branch;
	stranger.host = "elsewhere.example.com:5070"; /* same branch, other sent-by */
	assert_int_equal(feed(mk_req(&stranger), 9, false), 0);
	assert_null(E.cancel_target);
	env_down();
}

static void test_client_cancel(void **state)
{
	struct rq cancel = INV;
	struct sip_msg inv, c;
	struct sip_tsx *t;

	cancel.method = "CANCEL";
	env_up(NULL);
	t = request(mk_req(&INV), 6, false);
	assert_int_equal(sip_tsx_cancel(t), 0); /* Calling: waits for a 1xx */
	assert_int_equal(sip_tsx_cancel(t), -EALREADY);
	assert_int_equal(E.nsent, 1);
	at(500); /* Timer A still runs */
	assert_int_equal(E.nsent, 2);
	at(600);
	assert_int_equal(feed(RESP(180, &INV, "b"), 6, false), 0);
	assert_int_equal(E.nsent, 3);
	assert_int_equal(E.sent[2].dest, 6);

	/* RFC 3261 §9.1 */
	sent_msg(0, &inv);
	sent_msg(2, &c);
	assert_int_equal(c.method, SIP_METHOD_CANCEL);
	assert_strv(c.ruri, inv.ruri);
	assert_int_equal(sip_msg_hdr_count(&c, SIP_HDR_VIA), 1);
	assert_strv(hdr_val(&c, SIP_HDR_VIA), hdr_val(&inv, SIP_HDR_VIA));
	assert_strv(hdr_val(&c, SIP_HDR_TO), hdr_val(&inv, SIP_HDR_TO));
	assert_strv(hdr_val(&c, SIP_HDR_FROM), hdr_val(&inv, SIP_HDR_FROM));
	assert_strv(c.call_id, inv.call_id);
	assert_int_equal(c.cseq, inv.cseq);
	assert_int_equal(c.cseq_method, SIP_METHOD_CANCEL);
	assert_int_equal(sip_msg_hdr_count(&c, SIP_HDR_ROUTE), 2);

	/* the CANCEL's 200 matches the CANCEL transaction (CSeq method) */
	assert_int_equal(feed(RESP(200, &cancel, "b"), 6, false), 0);
	assert_int_equal(count_ev(EV_RESP), 1);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_PROCEEDING);
	/* a response for a method with no transaction on that branch */
	cancel.method = "OPTIONS";
	assert_int_equal(feed(RESP(200, &cancel, "b"), 6, false), -ENOENT);
	assert_int_equal(feed(RESP(487, &INV, "b"), 6, false), 0);
	assert_int_equal(sip_tsx_state(t), SIP_TSX_COMPLETED);
	assert_int_equal(last_ev()->status, 487);
	assert_int_equal(sent_method(E.nsent - 1), SIP_METHOD_ACK);
	assert_int_equal(sip_tsx_cancel(t), -EALREADY);
	env_down();
}

static void test_client_cancel_guard(void **state)
{
	struct sip_tsx *t;

	env_up(NULL);
	t = request(mk_req(&INV), 6, true);
	assert_int_equal(feed(RESP(180, &INV, "b"), 6, true), 0);
	at(1000);
	assert_int_equal(sip_tsx_cancel(t), 0); /* Proceeding: sent now */
	assert_int_equal(E.nsent, 2);
	assert_int_equal(sent_method(1), SIP_METHOD_CANCEL);
	at(1000 + 31999);
	assert_int_equal(E.nev, 1); /* the 180 */
	at(1000 + 32000);
	/* no final response within 64*T1 of the CANCEL: the INVITE gives up (the
	 * CANCEL's own Timer F fires too, but that transaction has no handlers) */
	assert_int_equal(E.nev, 3);
	assert_int_equal(E.ev[1].kind, EV_ERR);
	assert_int_equal(E.ev[1].err, -ETIMEDOUT);
	assert_ptr_equal(E.ev[1].t, t);
	assert_int_equal(E.ev[2].kind, EV_TERM);
	assert_int_equal(stats().active, 0);
	env_down();
}

/* --- RFC 2543 ------------------------------------------------------------ */

static void test_rfc2543(void **state)
{
	struct rq old = { .host = "old.example.com:5060" }; /* no branch */
	struct rq cookieless = { .branch = "abc123", .host = "old2.example.com" };
	struct rq cancel, ack, wrong_ack, cseq2, other_to;
	const char *inv = mk_req(&old);
	struct sip_tsx *st;

	env_up(NULL);
	assert_int_equal(feed(inv, 9, false), 0);
	st = E.last_st;
	assert_int_equal(E.nsent, 1);
	assert_true(strv_empty(sip_tsx_branch(st)));
	assert_int_equal(feed(inv, 9, false), 0); /* retransmission */
	assert_int_equal(count_ev(EV_REQ), 1);
	assert_int_equal(E.nsent, 2);

	cseq2 = old;
	cseq2.cseq = 2;
	assert_int_equal(feed(mk_req(&cseq2), 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 2);
	other_to = old;
	other_to.to_tag = "zz";
	assert_int_equal(feed(mk_req(&other_to), 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 3);

	cancel = old;
	cancel.method = "CANCEL";
	assert_int_equal(feed(mk_req(&cancel), 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 4);
	assert_ptr_equal(E.cancel_target, st);
	assert_int_equal(respond(st, 487, &old, "s9"), 0);

	wrong_ack = old;
	wrong_ack.method = "ACK";
	wrong_ack.to_tag = "nottheone";
	assert_int_equal(feed(mk_req(&wrong_ack), 9, false), 0);
	assert_int_equal(count_ev(EV_ACK), 1);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_COMPLETED);
	ack = old;
	ack.method = "ACK";
	ack.to_tag = "s9";
	assert_int_equal(feed(mk_req(&ack), 9, false), 0);
	assert_int_equal(count_ev(EV_ACK), 1);
	assert_int_equal(sip_tsx_state(st), SIP_TSX_CONFIRMED);

	/* a branch without the magic cookie is RFC 2543 too */
	assert_int_equal(feed(mk_req(&cookieless), 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 5);
	assert_int_equal(feed(mk_req(&cookieless), 9, false), 0);
	assert_int_equal(count_ev(EV_REQ), 5);
	env_down();
}

/* --- matching ------------------------------------------------------------ */

static void test_server_matching(void **state)
{
	struct rq a = { .branch = "z9hG4bKm1", .host = "h1.example.com" };
	struct rq other_host = a, other_method = a, case_host = a;

	other_host.host = "h2.example.com";
	other_method.method = "OPTIONS";
	case_host.host = "H1.EXAMPLE.COM";
	env_up(NULL);
	assert_int_equal(feed(mk_req(&a), 1, false), 0);
	assert_int_equal(feed(mk_req(&other_host), 1, false), 0);
	assert_int_equal(feed(mk_req(&other_method), 1, false), 0);
	assert_int_equal(count_ev(EV_REQ), 3);
	assert_int_equal(feed(mk_req(&case_host), 1, false), 0); /* host: any case */
	assert_int_equal(count_ev(EV_REQ), 3);
	assert_int_equal(stats().server_created, 3);
	assert_int_equal(stats().active, 3);
	env_down();
}

static void test_client_errors(void **state)
{
	struct rq ack = INV;
	struct dest d = { 1 };
	const char *text;

	ack.method = "ACK";
	env_up(NULL);
	request(mk_req(&INV), 1, false);
	text = mk_req(&INV);
	assert_int_equal(sip_tsx_request(E.l, NULL, text, strlen(text), &d, false, NULL, NULL),
			 -EEXIST);
	text = mk_req(&ack);
	assert_int_equal(sip_tsx_request(E.l, NULL, text, strlen(text), &d, false, NULL, NULL),
			 -EINVAL);
	text = mk_req(&(struct rq){ .method = "OPTIONS" }); /* no branch */
	assert_int_equal(sip_tsx_request(E.l, NULL, text, strlen(text), &d, false, NULL, NULL),
			 -EINVAL);
	text = RESP(200, &INV, "x");
	assert_int_equal(sip_tsx_request(E.l, NULL, text, strlen(text), &d, false, NULL, NULL),
			 -EINVAL);
	assert_int_equal(sip_tsx_request(E.l, NULL, "garbage", 7, &d, false, NULL, NULL), -EINVAL);
	assert_int_equal(stats().client_created, 1);
	assert_int_equal(stats().active, 1);
	env_down();
}

/* --- transport errors ---------------------------------------------------- */

static void test_transport_errors(void **state)
{
	struct rq o2 = OPT, bye = { .method = "BYE", .branch = "z9hG4bKbye9", .to_tag = "x" };
	const char *text = mk_req(&INV);
	struct dest d = { 1 };
	struct sip_tsx *t;

	env_up(NULL);
	/* the first send fails: nothing created */
	E.send_err = -ECONNREFUSED;
	E.send_errs = 1;
	t = NULL;
	assert_int_equal(sip_tsx_request(E.l, &t, text, strlen(text), &d, true, &tu_h, &E),
			 -ECONNREFUSED);
	assert_null(t);
	assert_int_equal(stats().active, 0);
	assert_int_equal(timers_count(E.ts), 0);
	assert_int_equal(E.nev, 0);

	/* a transient error on UDP is a lost datagram */
	t = request(text, 1, false);
	E.send_err = -EAGAIN;
	E.send_errs = 1;
	at(500);
	assert_int_equal(E.nev, 0);
	assert_int_equal(E.nsent, 1);
	at(1500);
	assert_int_equal(E.nsent, 2);
	/* a hard error on a retransmission ends the transaction */
	E.send_err = -EHOSTUNREACH;
	E.send_errs = 1;
	at(3500);
	assert_int_equal(E.nev, 2);
	assert_int_equal(E.ev[0].kind, EV_ERR);
	assert_int_equal(E.ev[0].err, -EHOSTUNREACH);
	assert_int_equal(E.ev[1].kind, EV_TERM);
	assert_int_equal(stats().transport_errors, 1);

	/* reported from outside the send callback */
	o2.branch = "z9hG4bKopt9";
	t = request(mk_req(&o2), 1, true);
	sip_tsx_transport_error(t, -ECONNRESET);
	assert_int_equal(E.ev[2].kind, EV_ERR);
	assert_int_equal(E.ev[2].err, -ECONNRESET);
	assert_int_equal(E.ev[3].kind, EV_TERM);

	/* a response the transport cannot send: returned, then Terminated */
	assert_int_equal(feed(mk_req(&bye), 1, true), 0);
	E.send_err = -EPIPE;
	E.send_errs = 1;
	assert_int_equal(respond(E.last_st, 200, &bye, "x"), -EPIPE);
	assert_int_equal(E.ev[5].kind, EV_TERM);
	assert_int_equal(E.nev, 6); /* no err_h for a synchronous failure */

	/* the 100 Trying fails: err_h, Terminated */
	E.send_err = -EPIPE;
	E.send_errs = 1;
	assert_int_equal(feed(mk_req(&SINV), 1, true), 0);
	assert_int_equal(E.ev[7].kind, EV_ERR);
	assert_int_equal(E.ev[8].kind, EV_TERM);
	assert_int_equal(stats().active, 0);
	env_down();
}

/* --- strays, ACKs, re-entrancy ------------------------------------------- */

static void test_strays(void **state)
{
	struct rq ack = { .method = "ACK", .branch = "z9hG4bKnobody", .to_tag = "t" };

	env_up(NULL);
	assert_int_equal(feed(RESP(200, &INV, "x"), 1, false), -ENOENT);
	assert_int_equal(feed(RESP(200, &(struct rq){ 0 }, "x"), 1, false), -ENOENT);
	assert_int_equal(stats().stray, 2);
	assert_int_equal(feed(mk_req(&ack), 1, false), 0);
	assert_int_equal(count_ev(EV_ACK), 1);
	assert_int_equal(stats().active, 0);
	env_down();
}

static void test_reentrancy(void **state)
{
	struct sip_tsx *t;

	env_up(NULL);
	/* the TU ends the transaction from inside resp_h: no term_h */
	E.terminate_in_resp = true;
	t = request(mk_req(&INV), 1, false);
	assert_int_equal(feed(RESP(486, &INV, "x"), 1, false), 0);
	assert_int_equal(E.nev, 1);
	assert_int_equal(stats().active, 0);
	assert_int_equal(timers_count(E.ts), 0);
	assert_int_equal(E.nsent, 2); /* the ACK went out first */

	/* ... and from err_h */
	E.terminate_in_resp = false;
	E.terminate_in_err = true;
	request(mk_req(&OPT), 1, true);
	at(32000);
	assert_int_equal(E.nev, 2);
	assert_int_equal(last_ev()->kind, EV_ERR);
	assert_int_equal(stats().active, 0);

	/* handlers removed: silence */
	E.terminate_in_err = false;
	t = request(mk_req(&(struct rq){ .method = "OPTIONS", .branch = "z9hG4bKq" }), 1, true);
	sip_tsx_set_handlers(t, NULL, NULL);
	at(64000);
	assert_int_equal(E.nev, 2);
	assert_int_equal(stats().active, 0);
	env_down();
}

static void test_layer_free_live(void **state)
{
	struct rq r = SINV;

	env_up(NULL);
	request(mk_req(&INV), 1, false);
	request(mk_req(&OPT), 1, false);
	assert_int_equal(feed(mk_req(&r), 1, false), 0);
	r.method = "OPTIONS";
	assert_int_equal(feed(mk_req(&r), 1, false), 0);
	assert_int_equal(respond(E.last_st, 200, &r, "x"), 0);
	assert_int_equal(stats().active, 4);
	assert_true(timers_count(E.ts) > 0);
	env_down(); /* frees them all, cancels their timers; no handler called */
	assert_int_equal(E.nev, 0);
}

/* One branch reused with ever new methods, one RFC 2543 key with ever new To
 * tags: after 16 live transactions on one key, new ones are refused. */
static void test_same_key_flood(void **state)
{
	struct rq r = { .branch = "z9hG4bKflood", .to_tag = "t" };
	struct rq old = { .host = "old.example.com" };
	char method[16], tag[16];
	unsigned created = 0;

	env_up(NULL);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(method, sizeof(method), "FOO%u", i);
		r.method = method;
		if (feed(mk_req(&r), 1, false) == 0)
			created++;
	}
	assert_int_equal(created, 16);
	assert_int_equal(stats().refused, 24);
	created = 0;
	for (unsigned i = 0; i < 40; i++) {
		snprintf(tag, sizeof(tag), "x%u", i);
		old.method = "OPTIONS";
		old.to_tag = tag;
		if (feed(mk_req(&old), 1, false) == 0)
			created++;
	}
	assert_int_equal(created, 16);
	/* legitimate RFC 2543 traffic of one dialog: every CSeq is its own key */
	old.to_tag = "x0";
	for (unsigned i = 2; i < 100; i++) {
		old.cseq = i;
		assert_int_equal(feed(mk_req(&old), 1, false), 0);
	}
	assert_int_equal(stats().refused, 48);
	assert_int_equal(stats().active, 16 + 16 + 98);
	env_down();
}

/* A table of 64 buckets growing to 8192 while every insertion is followed by
 * lookups of older transactions (some still in buckets not yet moved). */
static void test_table_growth(void **state)
{
	static const char fmt[] = "INVITE sip:b@x SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKg%u\r\n"
				  "To: <sip:b@x>\r\nFrom: <sip:a@x>;tag=f\r\n"
				  "Call-ID: g%u@x\r\nCSeq: 1 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct sip_tsx_conf c = { .buckets = 1 };
	char b[512];
	unsigned n = 16000;

	env_up(&c);
	E.record = false;
	for (unsigned i = 0; i < n; i++) {
		snprintf(b, sizeof(b), fmt, i, i);
		assert_int_equal(feed(b, 1, false), 0);
		snprintf(b, sizeof(b), fmt, i / 2, i / 2);
		assert_int_equal(feed(b, 1, false), 0); /* a retransmission */
		snprintf(b, sizeof(b), fmt, (i * 7919u) % (i + 1), (i * 7919u) % (i + 1));
		assert_int_equal(feed(b, 1, false), 0);
	}
	assert_int_equal(stats().server_created, n);
	assert_int_equal(stats().absorbed, 2 * n);
	assert_int_equal(stats().active, n);
	env_down();
}

/* --- scale --------------------------------------------------------------- */

#define N_SCALE 100000

static void answer_200(struct sip_tsx *st, const struct sip_msg *req)
{
	char b[1024];
	int n =
	    snprintf(b, sizeof(b),
		     "SIP/2.0 200 OK\r\nVia: %.*s\r\nTo: <sip:b@x>;tag=s\r\n"
		     "From: <sip:a@x>;tag=f\r\nCall-ID: %.*s\r\nCSeq: 1 INVITE\r\n"
		     "Content-Length: 0\r\n\r\n",
		     (int)sip_msg_hdr(req, SIP_HDR_VIA)->value.len,
		     sip_msg_hdr(req, SIP_HDR_VIA)->value.p, (int)req->call_id.len, req->call_id.p);

	assert_int_equal(sip_tsx_respond(st, b, (size_t)n), 0);
}

static void test_100k(void **state)
{
	static const char req_fmt[] = "%s sip:b@x SIP/2.0\r\n"
				      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%c%u\r\n"
				      "To: <sip:b@x>\r\nFrom: <sip:a@x>;tag=f\r\n"
				      "Call-ID: c%u@x\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n"
				      "Content-Length: 0\r\n\r\n";
	static const char resp_fmt[] = "SIP/2.0 200 OK\r\n"
				       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc%u\r\n"
				       "To: <sip:b@x>;tag=s\r\nFrom: <sip:a@x>;tag=f\r\n"
				       "Call-ID: c%u@x\r\nCSeq: 1 OPTIONS\r\n"
				       "Content-Length: 0\r\n\r\n";
	struct sip_tsx_stats st;
	char b[1024];
	int n;

	env_up(NULL);
	E.record = false;
	/* 100k client transactions, each answered, lingering in Completed */
	for (unsigned i = 0; i < N_SCALE; i++) {
		struct dest d = { 1 };

		n = snprintf(b, sizeof(b), req_fmt, "OPTIONS", 'c', i, i, "OPTIONS");
		assert_int_equal(sip_tsx_request(E.l, NULL, b, (size_t)n, &d, false, &tu_h, &E), 0);
	}
	assert_int_equal(stats().active, N_SCALE);
	at(100);
	for (unsigned i = 0; i < N_SCALE; i++) {
		n = snprintf(b, sizeof(b), resp_fmt, i, i);
		assert_int_equal(feed(b, 1, false), 0);
	}
	/* 100k server INVITEs answered with a 2xx, on top: 200k live */
	E.on_req = answer_200;
	for (unsigned i = 0; i < N_SCALE; i++) {
		n = snprintf(b, sizeof(b), req_fmt, "INVITE", 's', i, i, "INVITE");
		assert_int_equal(feed(b, 1, false), 0);
	}
	st = stats();
	assert_int_equal(st.active, 2 * N_SCALE);
	assert_int_equal(st.client_created, N_SCALE);
	assert_int_equal(st.server_created, N_SCALE);
	assert_int_equal(st.stray, 0);
	assert_int_equal(E.total_sent, 2 * N_SCALE); /* requests, 200s; no 100s */
	at(100 + 5000);				     /* Timer K */
	assert_int_equal(stats().active, N_SCALE);
	at(100 + 32000); /* Timer L */
	assert_int_equal(stats().active, 0);
	assert_int_equal(E.total_term, 2 * N_SCALE);
	assert_int_equal(timers_count(E.ts), 0);
	env_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cinv_timer_a_b),
		cmocka_unit_test(test_cinv_reliable),
		cmocka_unit_test(test_cinv_proceeding_accepted),
		cmocka_unit_test(test_cinv_non2xx_ack),
		cmocka_unit_test(test_cinv_non2xx_reliable),
		cmocka_unit_test(test_cnict_timer_e_f),
		cmocka_unit_test(test_cnict_proceeding_t2),
		cmocka_unit_test(test_cnict_reliable),
		cmocka_unit_test(test_conf_timers),
		cmocka_unit_test(test_sinv_trying_immediate),
		cmocka_unit_test(test_sinv_no_trying_when_answered),
		cmocka_unit_test(test_sinv_trying_via),
		cmocka_unit_test(test_sinv_trying_delay),
		cmocka_unit_test(test_sinv_non2xx_timer_g_h),
		cmocka_unit_test(test_sinv_ack_confirmed),
		cmocka_unit_test(test_sinv_reliable),
		cmocka_unit_test(test_sinv_accepted),
		cmocka_unit_test(test_snict),
		cmocka_unit_test(test_cancel_matching),
		cmocka_unit_test(test_client_cancel),
		cmocka_unit_test(test_client_cancel_guard),
		cmocka_unit_test(test_rfc2543),
		cmocka_unit_test(test_server_matching),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_strays),
		cmocka_unit_test(test_reentrancy),
		cmocka_unit_test(test_layer_free_live),
		cmocka_unit_test(test_same_key_flood),
		cmocka_unit_test(test_table_growth),
		cmocka_unit_test(test_100k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
