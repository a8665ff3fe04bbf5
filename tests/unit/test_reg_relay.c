/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registrar's relay mode on a fake clock: the cache decision and the
 * expiry arithmetic as tables, then whole flows through a real transaction
 * layer whose send callback records what goes to the UA and what goes
 * upstream (challenge relayed, credentials passed through, cached refreshes,
 * the refresh forwarded at the margin, the phone gone, timeouts, errors).
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

#include "common/conf.h"
#include "common/timer.h"
#include "sbc/sbc_conf.h"
#include "sbc/registrar/registrar.h"
#include "sbc/registrar/relay.h"
#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/tsx.h"

#define T0 1000000
#define S  1000 /* ms */

/* --- decisions ----------------------------------------------------------- */

static struct registrar_relay_view cached_view(void)
{
	return (struct registrar_relay_view){
		.bound = true,
		.now_ms = T0,
		.up_expires_ms = T0 + 3600 * S,
		.grant_s = 60,
		.margin_s = 120,
		.same_call_id = true,
		.same_flow = true,
		.same_contacts = true,
	};
}

static void test_decide(void **state)
{
	struct registrar_relay_view v = cached_view();

	(void)state;
	assert_int_equal(registrar_relay_decide(&v), RELAY_CACHED);
	v.pending = true;
	assert_int_equal(registrar_relay_decide(&v), RELAY_BUSY);
	v = cached_view();
	v.leaves_none = true;
	assert_int_equal(registrar_relay_decide(&v), RELAY_UNREGISTER);
	v = cached_view();
	v.bound = false;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	v = cached_view();
	v.same_call_id = false;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	v = cached_view();
	v.same_flow = false; /* a NAT rebinding, or someone else: authenticated upstream */
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	v = cached_view();
	v.same_contacts = false;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	/* the margin: exactly grant + margin left is enough, 1 ms less is not */
	v = cached_view();
	v.up_expires_ms = T0 + 180 * S;
	assert_int_equal(registrar_relay_decide(&v), RELAY_CACHED);
	v.up_expires_ms--;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	/* an upstream registration already over */
	v.up_expires_ms = T0 - 1;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
	/* no overflow with huge values */
	v = cached_view();
	v.grant_s = UINT32_MAX;
	v.margin_s = UINT32_MAX;
	assert_int_equal(registrar_relay_decide(&v), RELAY_FORWARD);
}

static void test_local_expires(void **state)
{
	(void)state;
	assert_int_equal(registrar_relay_local_expires(3600, 60, 3600), 60);
	assert_int_equal(registrar_relay_local_expires(30, 60, 3600), 30); /* the UA asked less */
	assert_int_equal(registrar_relay_local_expires(3600, 60, 45), 45); /* upstream gave less */
	assert_int_equal(registrar_relay_local_expires(0, 60, 3600), 0);   /* a removal stays */
	assert_int_equal(registrar_relay_local_expires(UINT32_MAX, 60, UINT32_MAX), 60);
}

static void test_pacer(void **state)
{
	struct registrar_relay_pacer p = { .rate = 2 };

	(void)state;
	assert_true(registrar_relay_pace(&p, T0));
	assert_true(registrar_relay_pace(&p, T0 + 10));
	assert_false(registrar_relay_pace(&p, T0 + 999));
	assert_true(registrar_relay_pace(&p, T0 + 1000)); /* a new second */
	assert_true(registrar_relay_pace(&p, T0 + 1001));
	assert_false(registrar_relay_pace(&p, T0 + 1002));
}

/* --- flows through a transaction layer ------------------------------------ */

#define MAXMSG 8192

static struct {
	struct timers *ts;
	struct registrar *r;
	struct sip_tsx_layer *l;
	struct sip_flow ua, up;
	char ua_msg[MAXMSG], up_msg[MAXMSG]; /* the last message sent each way */
	size_t ua_len, up_len;
	unsigned nua, nup;
	unsigned branch;
	uint64_t now;
	char req[MAXMSG];
} F;

static int fake_send(void *arg, const void *dest, const char *buf, size_t len)
{
	const struct sip_flow *fl = dest;
	bool up = sa_equal(&fl->remote, &F.up.remote);

	(void)arg;
	assert_true(len < MAXMSG);
	/* everything else goes to the UA (its flow, or the one it moved to) */
	memcpy(up ? F.up_msg : F.ua_msg, buf, len);
	(up ? F.up_msg : F.ua_msg)[len] = 0;
	if (up) {
		F.up_len = len;
		F.nup++;
	} else {
		F.ua_len = len;
		F.nua++;
	}
	return 0;
}

static void on_request(void *arg, struct sip_tsx *st, const struct sip_msg *req)
{
	(void)arg;
	registrar_handle(F.r, st, req);
}

static int setup(void **state)
{
	struct registrar_conf rc = { 0 };
	struct registrar_relay_conf conf = { .endpoint_expires = 60,
					     .upstream_expires = 3600,
					     .refresh_margin = 120,
					     .max_per_sec = 100 };
	struct sip_tsx_conf tc = { .dest_size = sizeof(struct sip_flow),
				   .send_h = fake_send,
				   .request_h = on_request };

	(void)state;
	memset(&F, 0, sizeof(F));
	F.now = T0;
	assert_int_equal(timers_alloc(&F.ts, T0), 0);
	assert_int_equal(registrar_alloc(&F.r, F.ts, &rc), 0);
	assert_int_equal(sip_tsx_layer_alloc(&F.l, F.ts, &tc), 0);
	assert_int_equal(sa_parse_cstr(&F.ua.remote, "198.51.100.7:40312", 0), 0);
	assert_int_equal(sa_parse_cstr(&F.ua.local, "192.0.2.1:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&F.up.remote, "203.0.113.5:5060", 0), 0);
	assert_int_equal(sa_parse_cstr(&F.up.local, "192.0.2.2:5060", 0), 0);
	F.up.listener = 1;
	assert_int_equal(registrar_relay_start_flow(F.r, F.l, &F.up, &conf), 0);
	assert_int_equal(registrar_relay_start_flow(F.r, F.l, &F.up, &conf), -EINVAL); /* once */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	registrar_free(F.r); /* before the layer: it terminates its transactions */
	sip_tsx_layer_free(F.l);
	timers_free(F.ts);
	return 0;
}

static void advance(uint64_t ms)
{
	F.now += ms;
	timers_run(F.ts, F.now);
}

static struct registrar_relay_stats rstats(void)
{
	struct registrar_relay_stats st;

	registrar_relay_stats(F.r, &st);
	return st;
}

/*
 * A UA REGISTER from @p flow (NULL: the UA's) with @p contact (a Contact
 * line or "") and @p extra lines. @return the number of messages sent to
 * the UA by it.
 */
static unsigned ua_register_from(const struct sip_flow *flow, uint32_t cseq, const char *contact,
				 const char *extra)
{
	struct sip_msg m;
	unsigned before = F.nua;

	snprintf(F.req, sizeof(F.req),
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKua%u;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:alice@example.com>;tag=uatag77\r\n"
		 "To: <sip:alice@example.com>\r\n"
		 "Call-ID: ua-call-1@10.0.0.2\r\n"
		 "CSeq: %u REGISTER\r\n"
		 "%s%s"
		 "User-Agent: secret-phone\r\n"
		 "Content-Length: 0\r\n\r\n",
		 ++F.branch, cseq, contact, extra ? extra : "");
	assert_int_equal(sip_msg_parse(&m, F.req, strlen(F.req), NULL, NULL), 0);
	assert_int_equal(sip_tsx_recv(F.l, &m, flow ? flow : &F.ua, false), 0);
	return F.nua - before;
}

#define CONTACT "Contact: <sip:alice@10.0.0.2:5060>;expires=3600\r\n"
#define AUTH                                                                     \
	"Authorization: Digest username=\"alice\", realm=\"up\", nonce=\"n1\", " \
	"uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\"\r\n"

static unsigned ua_register(uint32_t cseq, const char *contact, const char *extra)
{
	return ua_register_from(NULL, cseq, contact, extra);
}

/* The status of the last message to the UA, parsed into @p m. */
static unsigned ua_status(struct sip_msg *m)
{
	assert_int_equal(sip_msg_parse(m, F.ua_msg, F.ua_len, NULL, NULL), 0);
	return m->status;
}

/* Answers the last upstream REGISTER with @p code and @p extra header lines. */
static void up_answer(unsigned code, const char *extra)
{
	char resp[MAXMSG];
	struct sip_msg req, m;

	assert_int_equal(sip_msg_parse(&req, F.up_msg, F.up_len, NULL, NULL), 0);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 %u X\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s;tag=up1\r\n"
		 "Call-ID: %.*s\r\nCSeq: %u REGISTER\r\n%sContent-Length: 0\r\n\r\n",
		 code, (int)sip_msg_hdr(&req, SIP_HDR_VIA)->value.len,
		 sip_msg_hdr(&req, SIP_HDR_VIA)->value.p,
		 (int)sip_msg_hdr(&req, SIP_HDR_FROM)->value.len,
		 sip_msg_hdr(&req, SIP_HDR_FROM)->value.p,
		 (int)sip_msg_hdr(&req, SIP_HDR_TO)->value.len,
		 sip_msg_hdr(&req, SIP_HDR_TO)->value.p, (int)req.call_id.len, req.call_id.p,
		 req.cseq, extra ? extra : "");
	assert_int_equal(sip_msg_parse(&m, resp, strlen(resp), NULL, NULL), 0);
	assert_int_equal(sip_tsx_recv(F.l, &m, &F.up, false), 0);
}

/* up_answer without expectations (the request may be any mutation). */
static void up_answer_lax(unsigned code, const char *extra)
{
	char resp[MAXMSG];
	struct sip_msg req, m;
	const struct sip_hdr *via, *from, *to;

	if (sip_msg_parse(&req, F.up_msg, F.up_len, NULL, NULL) < 0)
		return;
	via = sip_msg_hdr(&req, SIP_HDR_VIA);
	from = sip_msg_hdr(&req, SIP_HDR_FROM);
	to = sip_msg_hdr(&req, SIP_HDR_TO);
	if (!via || !from || !to)
		return;
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 %u X\r\nVia: %.*s\r\nFrom: %.*s\r\nTo: %.*s;tag=up1\r\n"
		 "Call-ID: %.*s\r\nCSeq: %u REGISTER\r\n%sContent-Length: 0\r\n\r\n",
		 code, (int)via->value.len, via->value.p, (int)from->value.len, from->value.p,
		 (int)to->value.len, to->value.p, (int)req.call_id.len, req.call_id.p, req.cseq,
		 extra);
	if (sip_msg_parse(&m, resp, strlen(resp), NULL, NULL) == 0)
		sip_tsx_recv(F.l, &m, &F.up, false);
}

/* The key in the last upstream REGISTER's Contact, into @p key. */
static void up_key(char *key, size_t size)
{
	const char *p = strstr(F.up_msg, "Contact: <sip:");
	const char *at = p ? strchr(p, '@') : NULL;

	assert_non_null(at);
	p += strlen("Contact: <sip:");
	assert_true((size_t)(at - p) < size);
	memcpy(key, p, (size_t)(at - p));
	key[at - p] = 0;
}

/* Registers alice: 401 relayed, credentials passed, 200 granting @p granted. */
static void register_alice(const char *granted_contact_param)
{
	struct sip_msg m;
	char ok[256], key[64];

	assert_int_equal(ua_register(1, CONTACT, NULL), 0); /* nothing for the UA yet */
	assert_int_equal(F.nup, 1);
	up_answer(401, "WWW-Authenticate: Digest realm=\"up\", nonce=\"n1\", algorithm=MD5\r\n");
	assert_int_equal(ua_status(&m), 401);
	assert_non_null(strstr(F.ua_msg, "WWW-Authenticate: Digest realm=\"up\", nonce=\"n1\""));
	assert_int_equal(ua_register(2, CONTACT, AUTH), 0);
	assert_int_equal(F.nup, 2);
	assert_non_null(strstr(F.up_msg, AUTH));
	up_key(key, sizeof(key));
	snprintf(ok, sizeof(ok), "Contact: <sip:%s@192.0.2.2:5060>%s\r\n", key,
		 granted_contact_param);
	up_answer(200, ok);
	assert_int_equal(ua_status(&m), 200);
}

/* alice's bindings in the location service (relay mode looks up keys only). */
static unsigned aor_contacts(const struct location_contact **c)
{
	return location_lookup(registrar_location(F.r), STRV("alice@example.com"), c, 4);
}

static void test_register_and_cache(void **state)
{
	const struct location_contact *c[4];
	struct sip_msg m, first;
	char key[64], call_id[128];

	(void)state;
	assert_int_equal(ua_register(1, CONTACT, NULL), 0);
	/* topology hiding: nothing of the UA's request crosses */
	assert_null(strstr(F.up_msg, "10.0.0.2"));
	assert_null(strstr(F.up_msg, "uatag77"));
	assert_null(strstr(F.up_msg, "ua-call-1"));
	assert_null(strstr(F.up_msg, "z9hG4bKua"));
	assert_null(strstr(F.up_msg, "secret-phone"));
	assert_null(strstr(F.up_msg, "198.51.100.7"));
	assert_non_null(strstr(F.up_msg, "Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK"));
	assert_non_null(strstr(F.up_msg, "Expires: 3600\r\n"));
	assert_non_null(strstr(F.up_msg, "CSeq: 1 REGISTER\r\n"));
	assert_null(strstr(F.up_msg, "Authorization")); /* the UA sent none */
	up_key(key, sizeof(key));
	assert_int_equal(strlen(key), 26);
	assert_int_equal(sip_msg_parse(&first, F.up_msg, F.up_len, NULL, NULL), 0);
	snprintf(call_id, sizeof(call_id), "%.*s", (int)first.call_id.len, first.call_id.p);

	up_answer(401, "WWW-Authenticate: Digest realm=\"up\", nonce=\"n1\"\r\n");
	assert_int_equal(ua_status(&m), 401);
	assert_int_equal(ua_register(2, CONTACT, AUTH), 0);
	/* the retry: same Call-ID and key, the next CSeq, the UA's credentials */
	assert_int_equal(sip_msg_parse(&m, F.up_msg, F.up_len, NULL, NULL), 0);
	assert_true(strv_eq_cstr(m.call_id, call_id));
	assert_int_equal(m.cseq, 2);
	assert_non_null(strstr(F.up_msg, AUTH));
	assert_non_null(strstr(F.up_msg, key));
	{
		char ok[128];

		snprintf(ok, sizeof(ok), "Contact: <sip:%s@192.0.2.2:5060>;expires=3600\r\n", key);
		up_answer(200, ok);
	}
	assert_int_equal(ua_status(&m), 200);
	assert_non_null(strstr(F.ua_msg, "Contact: <sip:alice@10.0.0.2:5060>;expires=60\r\n"));

	/* calls from upstream name the key; it resolves to the UA's contact and flow */
	assert_int_equal(registrar_lookup(F.r, strv_cstr(key), STRV("192.0.2.2"), c, 4), 1);
	assert_true(sa_equal(&c[0]->flow.remote, &F.ua.remote));
	assert_int_equal(
	    registrar_lookup(F.r, STRV("00000000000000000000000000"), STRV("192.0.2.2"), c, 4), 0);
	assert_true(registrar_relay_is_key(F.r, strv_cstr(key)));
	assert_false(registrar_relay_is_key(F.r, STRV("00000000000000000000000000")));
	assert_false(registrar_relay_is_key(F.r, STRV("alice")));

	/* refreshes within the upstream lifetime: answered here, nothing upstream */
	for (uint32_t cseq = 3; cseq < 8; cseq++) {
		advance(30 * S);
		assert_int_equal(ua_register(cseq, CONTACT, AUTH), 1);
		assert_int_equal(ua_status(&m), 200);
		assert_non_null(strstr(F.ua_msg, ";expires=60\r\n"));
	}
	assert_int_equal(F.nup, 2);
	assert_int_equal(rstats().cached, 5);

	/* the same refresh from another source port goes upstream */
	{
		struct sip_flow moved = F.ua;

		sa_set_port(&moved.remote, 40999);
		assert_int_equal(ua_register_from(&moved, 8, CONTACT, AUTH), 0);
		assert_int_equal(F.nup, 3);
	}
}

static void test_refresh_at_margin(void **state)
{
	struct sip_msg m;
	uint32_t cseq = 3;

	(void)state;
	/* upstream grants 300 s: the cache holds while 60 + 120 s are left */
	register_alice(";expires=300");
	for (int i = 1; i <= 4; i++) { /* 270, 240, 210, 180 s left */
		advance(30 * S);
		assert_int_equal(ua_register(cseq++, CONTACT, AUTH), 1);
	}
	assert_int_equal(F.nup, 2);
	advance(30 * S); /* 150 s left: forwarded */
	assert_int_equal(ua_register(cseq++, CONTACT, AUTH), 0);
	assert_int_equal(F.nup, 3);
	assert_non_null(strstr(F.up_msg, "CSeq: 3 REGISTER\r\n"));
	up_answer(200, "Expires: 3600\r\n");
	assert_int_equal(ua_status(&m), 200);
	assert_non_null(strstr(F.ua_msg, ";expires=60\r\n"));
}

static void test_grant_below_endpoint(void **state)
{
	(void)state;
	register_alice(";expires=45"); /* the UA gets min(60, 45) */
	assert_non_null(strstr(F.ua_msg, ";expires=45\r\n"));
	/* 45 s do not cover 45 + 120: every refresh goes upstream */
	advance(20 * S);
	assert_int_equal(ua_register(3, CONTACT, AUTH), 0);
	assert_int_equal(F.nup, 3);
}

static void test_phone_gone(void **state)
{
	struct registrar_relay_stats st;

	(void)state;
	register_alice(";expires=3600");
	advance(59 * S);
	assert_int_equal(F.nup, 2);
	advance(2 * S); /* the local binding expired: unregister upstream */
	advance(1);	/* (the watch the removal started runs on the next pass) */
	assert_int_equal(F.nup, 3);
	assert_non_null(strstr(F.up_msg, "Expires: 0\r\n"));
	assert_null(strstr(F.up_msg, "Authorization")); /* no replay of the UA's */
	up_answer(200, NULL);
	st = rstats();
	assert_int_equal(st.unregisters, 1);
	assert_int_equal(st.aors, 0);
}

/* Finding 8: a challenged background unregister is given up, counted, not retried. */
static void test_unregister_challenged(void **state)
{
	(void)state;
	register_alice(";expires=3600");
	advance(61 * S);
	advance(1);
	assert_int_equal(F.nup, 3);
	assert_null(strstr(F.up_msg, "Authorization"));
	up_answer(401, "WWW-Authenticate: Digest realm=\"up\", nonce=\"n2\"\r\n");
	assert_int_equal(rstats().unreg_failed, 1);
	advance(40 * S); /* the challenge keep runs out: no second try */
	assert_null(strstr(F.up_msg, "nonce=\"n2\""));
	assert_int_equal(F.nup, 3);
	assert_int_equal(rstats().aors, 0);
}

static void test_flow_closed(void **state)
{
	(void)state;
	F.ua.proto = SIP_PROTO_TCP; /* the phone's connection */
	F.ua.conn_id = 7;
	register_alice(";expires=3600");
	advance(5 * S);
	assert_int_equal(F.nup, 2);
	assert_int_equal(registrar_flow_closed(F.r, 7), 1);
	advance(1); /* at once, not at the binding's expiry */
	assert_int_equal(F.nup, 3);
	assert_non_null(strstr(F.up_msg, "Expires: 0\r\n"));
	up_answer(200, NULL);
	assert_int_equal(rstats().aors, 0);
}

static void test_unregister(void **state)
{
	const struct location_contact *c[4];
	struct sip_msg m;
	char key[64];

	(void)state;
	register_alice(";expires=3600");
	up_key(key, sizeof(key));
	assert_int_equal(ua_register(3, "Contact: <sip:alice@10.0.0.2:5060>;expires=0\r\n", AUTH),
			 0);
	assert_int_equal(F.nup, 3);
	assert_non_null(strstr(F.up_msg, "Expires: 0\r\n"));
	up_answer(200, NULL);
	assert_int_equal(ua_status(&m), 200);
	assert_null(sip_msg_hdr(&m, SIP_HDR_CONTACT));
	assert_int_equal(aor_contacts(c), 0);
	assert_int_equal(rstats().aors, 0);
	/* a late call to the key is refused, not routed elsewhere */
	assert_true(registrar_relay_is_key(F.r, strv_cstr(key)));
}

static void test_upstream_timeout(void **state)
{
	const struct location_contact *c[4];
	struct sip_msg m;

	(void)state;
	register_alice(";expires=3600");
	/* a change of contacts goes upstream, which does not answer */
	assert_int_equal(ua_register(3, "Contact: <sip:alice@10.0.0.2:5070>\r\n", AUTH), 0);
	advance(32 * S); /* Timer F */
	assert_int_equal(ua_status(&m), 504);
	/* no stale binding left to route calls to, and none left upstream */
	assert_int_equal(aor_contacts(c), 0);
	assert_int_equal(rstats().failures, 1);
	assert_int_equal(rstats().unregisters, 1);
	assert_non_null(strstr(F.up_msg, "Expires: 0\r\n"));
	up_answer(200, NULL);
	assert_int_equal(rstats().aors, 0);
}

#define EVIL_AUTH "Authorization: Digest username=\"mallory\", realm=\"up\", nonce=\"x\"\r\n"

/* Finding 1: a failed REGISTER from another source leaves alice's binding and state alone. */
static void test_foreign_failure_keeps_binding(void **state)
{
	const struct location_contact *c[4];
	struct sip_flow evil = F.ua;
	struct sip_msg m;

	(void)state;
	register_alice(";expires=3600");
	assert_int_equal(sa_parse_cstr(&evil.remote, "100.64.9.9:5555", 0), 0);
	assert_int_equal(
	    ua_register_from(&evil, 1, "Contact: <sip:evil@100.64.9.9>\r\n", EVIL_AUTH), 0);
	up_answer(403, NULL);
	assert_int_equal(ua_status(&m), 403);
	assert_int_equal(aor_contacts(c), 1);
	assert_int_equal(rstats().aors, 1);
	/* a query from there that times out changes nothing either */
	ua_register_from(&evil, 2, "", NULL);
	advance(32 * S);
	assert_int_equal(aor_contacts(c), 1);
	/* the phone goes: the unregister carries nothing of mallory's request */
	advance(60 * S);
	advance(1);
	assert_non_null(strstr(F.up_msg, "Expires: 0\r\n"));
	assert_null(strstr(F.up_msg, "mallory"));
	up_answer(200, NULL);
	assert_int_equal(rstats().aors, 0);
}

static void test_upstream_errors(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(ua_register(1, CONTACT, NULL), 0);
	up_answer(500, NULL);
	assert_int_equal(ua_status(&m), 503);
	assert_non_null(sip_msg_hdr_by_name(&m, STRV("Retry-After")));
	assert_int_equal(ua_register(2, CONTACT, NULL), 0);
	up_answer(403, NULL);
	assert_int_equal(ua_status(&m), 403);
	assert_int_equal(ua_register(3, CONTACT, NULL), 0);
	up_answer(423, "Min-Expires: 7200\r\n");
	assert_int_equal(ua_status(&m), 503);
	assert_int_equal(rstats().aors, 0);
}

static void test_busy_and_bad_input(void **state)
{
	struct sip_msg m;

	(void)state;
	assert_int_equal(ua_register(1, "Contact: <sip:alice@10.0.0.2>;expires=abc\r\n", NULL), 1);
	assert_int_equal(ua_status(&m), 400);
	assert_int_equal(ua_register(2, "Contact: <sip:alice@10.0.0.2>;expires=10\r\n", NULL), 1);
	assert_int_equal(ua_status(&m), 423);
	assert_int_equal(F.nup, 0);
	assert_int_equal(ua_register(3, CONTACT, NULL), 0);
	/* another REGISTER of the AOR while the first is upstream */
	assert_int_equal(ua_register(4, CONTACT, NULL), 1);
	assert_int_equal(ua_status(&m), 500);
	assert_non_null(sip_msg_hdr_by_name(&m, STRV("Retry-After")));
	assert_int_equal(F.nup, 1);
	assert_int_equal(rstats().busy, 1);
}

static void test_hostile_upstream(void **state)
{
	const struct location_contact *c[4];
	struct sip_msg m;

	(void)state;
	/* a 200 whose Contact and Expires make no sense: the asked value holds */
	assert_int_equal(ua_register(1, CONTACT, NULL), 0);
	up_answer(200, "Contact: <sip:other@192.0.2.99>;expires=abc\r\nContact: *\r\n"
		       "Expires: 99999999999\r\n");
	assert_int_equal(ua_status(&m), 200);
	assert_int_equal(aor_contacts(c), 1);
	/* a 200 granting 0 is no registration: 503, nothing left */
	advance(10 * S);
	assert_int_equal(ua_register(2, "Contact: <sip:alice@10.0.0.2:5070>\r\n", NULL), 0);
	up_answer(200, "Expires: 0\r\n");
	assert_int_equal(ua_status(&m), 503);
	assert_int_equal(aor_contacts(c), 0);
}

/* Byte flips of a REGISTER and of the upstream's answers: nothing crashes or leaks. */
static void test_mutations(void **state)
{
	static const char *const answers[] = {
		"Contact: <sip:k@192.0.2.2:5060>;expires=3600\r\n",
		"WWW-Authenticate: Digest realm=\"up\", nonce=\"n1\"\r\n",
		"",
	};
	static const unsigned codes[] = { 200, 401, 503 };
	uint64_t rnd = 0x9E3779B97F4A7C15ULL;

	(void)state;
	for (unsigned i = 0; i < 600; i++) {
		struct sip_msg m;
		size_t len;

		snprintf(F.req, sizeof(F.req),
			 "REGISTER sip:example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKmut%u;rport\r\n"
			 "From: <sip:u%u@example.com>;tag=t\r\nTo: <sip:u%u@example.com>\r\n"
			 "Call-ID: mut-%u\r\nCSeq: %u REGISTER\r\n"
			 "Contact: <sip:u@10.0.0.2:5060>;expires=3600;q=0.5\r\n"
			 "Expires: 120\r\n" AUTH "Content-Length: 0\r\n\r\n",
			 i, i % 7, i % 7, i % 3, i + 1);
		len = strlen(F.req);
		for (unsigned k = 0; k < 1 + i % 4; k++) {
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			F.req[40 + rnd % (len - 44)] = (char)(rnd >> 32);
		}
		if (sip_msg_parse(&m, F.req, len, NULL, NULL) == 0)
			sip_tsx_recv(F.l, &m, &F.ua, false);
		if (i % 3 == 0 && F.nup) {
			unsigned a = (unsigned)(rnd >> 40) % 3;

			up_answer_lax(codes[a], answers[a]);
		}
		advance(700);
	}
	assert_true(rstats().forwarded > 50); /* most mutations still reach the relay */
	advance(120 * S); /* every binding expires: unregisters go up, unanswered */
	advance(120 * S);
}

/* --- configuration ------------------------------------------------------ */

/* sbc_conf_read on @p text. @return its result; @p cfg cleared by the caller on 0. */
/* Finding 2: a request of another source in flight does not hold off the owner's refresh. */
static void test_foreign_slot(void **state)
{
	struct sip_flow evil = F.ua;
	struct sip_msg m, up;
	char evil_callid[64];

	(void)state;
	register_alice(";expires=3600");
	assert_int_equal(sa_parse_cstr(&evil.remote, "100.64.9.9:5555", 0), 0);
	assert_int_equal(ua_register_from(&evil, 1, "Contact: <sip:evil@100.64.9.9>\r\n", NULL), 0);
	assert_int_equal(F.nup, 3);
	assert_int_equal(sip_msg_parse(&up, F.up_msg, F.up_len, NULL, NULL), 0);
	snprintf(evil_callid, sizeof(evil_callid), "%.*s", (int)up.call_id.len, up.call_id.p);
	/* alice's change of contacts still goes upstream, on her own Call-ID */
	assert_int_equal(ua_register(3, "Contact: <sip:alice@10.0.0.2:5070>\r\n", AUTH), 0);
	assert_int_equal(F.nup, 4);
	assert_int_equal(sip_msg_parse(&up, F.up_msg, F.up_len, NULL, NULL), 0);
	assert_false(strv_eq_cstr(up.call_id, evil_callid));
	up_answer(200, NULL);
	assert_int_equal(ua_status(&m), 200);
	/* a second foreign request while the first is upstream: busy, alice untouched */
	assert_int_equal(ua_register_from(&evil, 2, "Contact: <sip:evil@100.64.9.9>\r\n", NULL), 1);
	assert_int_equal(ua_status(&m), 500);
	assert_int_equal(F.nup, 4);
}

/* A REGISTER for user @p user from @p flow with a Contact. */
static void register_user(const struct sip_flow *flow, unsigned user)
{
	struct sip_msg m;

	snprintf(F.req, sizeof(F.req),
		 "REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKu%u;rport\r\n"
		 "From: <sip:u%u@example.com>;tag=t\r\nTo: <sip:u%u@example.com>\r\n"
		 "Call-ID: u%u\r\nCSeq: 1 REGISTER\r\n"
		 "Contact: <sip:u@10.0.0.9:5060>\r\nContent-Length: 0\r\n\r\n",
		 ++F.branch, user, user, user);
	assert_int_equal(sip_msg_parse(&m, F.req, strlen(F.req), NULL, NULL), 0);
	assert_int_equal(sip_tsx_recv(F.l, &m, flow, false), 0);
}

/* Finding 2: one source cannot spend the global pacer (max_per_source, default 20). */
static void test_source_pacer(void **state)
{
	struct sip_flow evil = F.ua;
	struct sip_msg m;

	(void)state;
	assert_int_equal(sa_parse_cstr(&evil.remote, "100.64.9.9:5555", 0), 0);
	for (unsigned i = 0; i < 20; i++)
		register_user(&evil, i);
	assert_int_equal(F.nup, 20);
	evil.remote.u.in.sin_port = htons(5556); /* another port: the same source */
	register_user(&evil, 20);
	assert_int_equal(ua_status(&m), 503);
	assert_int_equal(F.nup, 20);
	assert_int_equal(rstats().src_paced, 1);
	/* everyone else still gets through */
	assert_int_equal(ua_register(1, CONTACT, NULL), 0);
	assert_int_equal(F.nup, 21);
	/* and the source again a second later */
	advance(S);
	register_user(&evil, 21);
	assert_int_equal(rstats().src_paced, 1);
}

static int read_conf(const char *text, struct sbc_conf *cfg, char *err, size_t errlen)
{
	struct conf *c;
	int rc;

	assert_int_equal(conf_load_string(&c, &sbc_conf_schema, "r.conf", text, err, errlen), 0);
	rc = sbc_conf_read(cfg, c, err, errlen);
	if (rc == 0)
		sbc_conf_clear(cfg);
	conf_free(c);
	return rc;
}

static void test_conf(void **state)
{
	struct sbc_conf cfg;
	char err[512];

	(void)state;
	assert_int_equal(
	    read_conf(
		"registrar: { mode = \"relay\";\n"
		" upstream = \"tcp:192.0.2.10:5070\";\n"
		" relay: { endpoint_expires = 30; max_per_sec = 7; max_per_source = 3; }; };\n",
		&cfg, err, sizeof(err)),
	    0);
	assert_true(cfg.registrar.enabled && cfg.registrar.relay);
	assert_int_equal(cfg.registrar.relay_conf.proto, SIP_PROTO_TCP);
	assert_int_equal(sa_port(&cfg.registrar.relay_conf.upstream), 5070);
	assert_int_equal(cfg.registrar.relay_conf.endpoint_expires, 30);
	assert_int_equal(cfg.registrar.relay_conf.upstream_expires, 3600);
	assert_int_equal(cfg.registrar.relay_conf.refresh_margin, 120);
	assert_int_equal(cfg.registrar.relay_conf.max_per_sec, 7);
	assert_int_equal(cfg.registrar.relay_conf.max_per_source, 3);

	/* a trunk of routing (its table exists when routes are set) */
	assert_int_equal(read_conf("routing: { trunks = ( { name = \"carrier\"; address = "
				   "\"192.0.2.20:5080\"; transport = \"tls\"; } );\n"
				   " routes = ( { trunks = [ \"carrier\" ]; } ); };\n"
				   "registrar: { mode = \"relay\"; upstream = \"carrier\"; };\n",
				   &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg.registrar.relay_conf.proto, SIP_PROTO_TLS);
	assert_int_equal(sa_port(&cfg.registrar.relay_conf.upstream), 5080);

	assert_int_equal(read_conf("registrar: {\n mode = \"relay\"; };\n", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "r.conf:2: setting 'registrar.mode': relay mode needs "
				 "registrar.upstream");
	assert_int_equal(
	    read_conf("registrar: { mode = \"relay\";\n upstream = \"192.0.2.1\"; };\n", &cfg, err,
		      sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "r.conf:2: setting 'registrar.upstream'"));
	assert_int_equal(
	    read_conf("registrar: { mode = \"relay\"; upstream = \"udp:192.0.2.1\";\n"
		      " relay: {\n endpoint_expires = 600; upstream_expires = 300; };\n"
		      "};\n",
		      &cfg, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "r.conf:3: setting 'registrar.relay.endpoint_expires'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_local_expires),
		cmocka_unit_test(test_pacer),
		cmocka_unit_test(test_conf),
		cmocka_unit_test_setup_teardown(test_register_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_at_margin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grant_below_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phone_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister_challenged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upstream_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_failure_keeps_binding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_pacer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upstream_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
