/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The registrar on a fake clock, with REGISTER requests built as text and
 * parsed by the SIP parser, following the RFC 3665 §2 flows: challenge then
 * 200, update, query, unregister, failed authentication, 423, expiry, nc
 * replay, stale nonce, SHA-256 and MD5. One test runs through a real
 * transaction layer with a fake send callback.
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
#include "sbc/registrar/digest.h"
#include "sbc/registrar/registrar.h"
#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/tsx.h"

#define T0 1000000

static const struct registrar_user users[] = {
	{ .username = "alice", .domain = "example.com", .password = "wonderland" },
	/* HA1s given: MD5/SHA-256("bob:example.com:builder") */
	{ .username = "bob", .domain = "Example.COM", .ha1_md5 = NULL, .ha1_sha256 = NULL },
	{ .username = "carol", .password = "c4r0l" }, /* any domain */
};

struct fx {
	struct timers *ts;
	struct registrar *r;
	struct sip_flow flow;
	struct registrar_user u[3];
	char ha1s[2][SIP_DIGEST_HEX_MAX];
	char out[8192];
	char req[4096];
	struct sip_msg msg;  /* the last request */
	struct sip_msg resp; /* the last response */
	unsigned branch;
	uint32_t cseq;
	/* from the last 401 */
	char nonce[128];
	char realm[128];
	unsigned nchallenges;
	char challenge_alg[2][16];
	bool stale;
};

static struct fx F;

static void env_up(const struct registrar_conf *over)
{
	struct registrar_conf conf = { .realm = "example.com" };

	memset(&F, 0, sizeof(F));
	memcpy(F.u, users, sizeof(users));
	assert_int_equal(sip_digest_ha1(SIP_DIGEST_MD5, STRV("bob"), STRV("example.com"),
					STRV("builder"), F.ha1s[0]),
			 0);
	assert_int_equal(sip_digest_ha1(SIP_DIGEST_SHA256, STRV("bob"), STRV("example.com"),
					STRV("builder"), F.ha1s[1]),
			 0);
	for (char *p = F.ha1s[0]; *p; p++) /* upper case is fine in the configuration */
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	F.u[1].ha1_md5 = F.ha1s[0];
	F.u[1].ha1_sha256 = F.ha1s[1];
	if (over)
		conf = *over;
	conf.users = F.u;
	conf.nusers = 3;
	assert_int_equal(timers_alloc(&F.ts, T0), 0);
	assert_int_equal(registrar_alloc(&F.r, F.ts, &conf), 0);
	assert_int_equal(sa_parse_cstr(&F.flow.remote, "198.51.100.7:40312", 0), 0);
	assert_int_equal(sa_parse_cstr(&F.flow.local, "192.0.2.1:5060", 0), 0);
	F.flow.proto = SIP_PROTO_UDP;
	F.cseq = 1;
}

static int setup(void **state)
{
	(void)state;
	env_up(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	registrar_free(F.r);
	timers_free(F.ts);
	return 0;
}

/* --- requests ------------------------------------------------------------ */

struct rq {
	const char *user;     /* To/From user, default alice */
	const char *to_uri;   /* the whole To URI instead of user@domain */
	const char *domain;   /* default example.com */
	const char *call_id;  /* default "reg-1@10.0.0.2" */
	uint32_t cseq;	      /* 0: the next one */
	const char *contacts; /* Contact lines (CRLF-terminated); NULL: none */
	int expires;	      /* Expires header; -1: none */
	const char *extra;    /* more header lines */
	/* credentials */
	bool auth;
	enum sip_digest_alg alg;
	const char *auth_user; /* default: user */
	const char *password;  /* default: the user's */
	const char *realm;     /* default: from the last challenge */
	const char *uri;       /* digest-uri, default the Request-URI */
	const char *nonce;     /* default: from the last challenge */
	uint32_t nc;	       /* default 1 */
	const char *auth_extra;
};

static const char *password_of(const char *user)
{
	if (!strcmp(user, "alice"))
		return "wonderland";
	if (!strcmp(user, "bob"))
		return "builder";
	return "c4r0l";
}

static void build(const struct rq *q, char *buf, size_t size)
{
	const char *user = q->user ? q->user : "alice";
	const char *domain = q->domain ? q->domain : "example.com";
	char ruri[128], to[160], auth[1024] = "", expires[32] = "";
	int n;

	snprintf(ruri, sizeof(ruri), "sip:%s", domain);
	if (q->to_uri)
		snprintf(to, sizeof(to), "%s", q->to_uri);
	else
		snprintf(to, sizeof(to), "sip:%s@%s", user, domain);
	if (q->expires >= 0)
		snprintf(expires, sizeof(expires), "Expires: %d\r\n", q->expires);
	if (q->auth) {
		const char *au = q->auth_user ? q->auth_user : user;
		const char *realm = q->realm ? q->realm : F.realm;
		const char *uri = q->uri ? q->uri : ruri;
		const char *nonce = q->nonce ? q->nonce : F.nonce;
		char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX], nc[16];

		snprintf(nc, sizeof(nc), "%08x", q->nc ? q->nc : 1);
		assert_int_equal(
		    sip_digest_ha1(q->alg, strv_cstr(au), strv_cstr(realm),
				   strv_cstr(q->password ? q->password : password_of(au)), ha1),
		    0);
		assert_int_equal(sip_digest_response(q->alg, strv_cstr(ha1), STRV("REGISTER"),
						     strv_cstr(uri), strv_cstr(nonce),
						     strv_cstr(nc), STRV("0a4f113b"), STRV("auth"),
						     resp),
				 0);
		snprintf(
		    auth, sizeof(auth),
		    "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		    "uri=\"%s\", response=\"%s\", algorithm=%s, cnonce=\"0a4f113b\", qop=auth, "
		    "nc=%s%s\r\n",
		    au, realm, nonce, uri, resp, sip_digest_alg_name(q->alg), nc,
		    q->auth_extra ? q->auth_extra : "");
	}
	n = snprintf(buf, size,
		     "REGISTER %s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKreg%u;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "To: <%s>\r\n"
		     "From: <sip:%s@%s>;tag=f1\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "%s%s%s%s"
		     "Content-Length: 0\r\n\r\n",
		     ruri, ++F.branch, to, user, domain, q->call_id ? q->call_id : "reg-1@10.0.0.2",
		     q->cseq ? q->cseq : F.cseq++, q->contacts ? q->contacts : "", expires, auth,
		     q->extra ? q->extra : "");
	assert_true(n > 0 && (size_t)n < size);
}

/* Sends @p q, parses the response and remembers a challenge. @return the status. */
static unsigned send_rq(const struct rq *q)
{
	long len;

	build(q, F.req, sizeof(F.req));
	assert_int_equal(sip_msg_parse(&F.msg, F.req, strlen(F.req), NULL, NULL), 0);
	len = registrar_handle_message(F.r, &F.msg, &F.flow, F.out, sizeof(F.out));
	assert_true(len > 0);
	assert_int_equal(sip_msg_parse(&F.resp, F.out, (size_t)len, NULL, NULL), 0);
	assert_false(F.resp.is_request);
	if (F.resp.status == 401) {
		F.nchallenges = 0;
		F.stale = false;
		for (const struct sip_hdr *h = sip_msg_hdr(&F.resp, SIP_HDR_WWW_AUTHENTICATE); h;
		     h = sip_msg_hdr_next(&F.resp, h)) {
			struct sip_auth a;

			assert_int_equal(sip_auth_parse(&a, h->value), 0);
			assert_true(strv_eq_cstr(a.scheme, "Digest"));
			assert_true(strv_eq_cstr(a.qop, "auth"));
			assert_true(F.nchallenges < 2);
			strv_copy(a.algorithm, F.challenge_alg[F.nchallenges],
				  sizeof(F.challenge_alg[0]));
			if (F.nchallenges)
				assert_true(strv_eq_cstr(a.nonce, F.nonce)); /* one nonce */
			strv_copy(a.nonce, F.nonce, sizeof(F.nonce));
			strv_copy(a.realm, F.realm, sizeof(F.realm));
			F.stale = strv_caseeq(a.stale, STRV("true"));
			F.nchallenges++;
		}
		assert_true(F.nchallenges > 0);
	}
	return F.resp.status;
}

static struct rq RQ(void) {
	return (struct rq){ .expires = -1 };
}

/* The 200's Contact for @p uri: its expires (-1 if absent from the 200). */
static long
contact_expires(const char *uri, struct sip_addr *out)
{
	for (const struct sip_hdr *h = sip_msg_hdr(&F.resp, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(&F.resp, h)) {
		struct sip_addr a;
		uint32_t e;

		assert_int_equal(sip_addr_parse(&a, h->value), 0);
		if (!strv_eq_cstr(a.uri_text, uri))
			continue;
		assert_int_equal(sip_uint_parse(a.expires, UINT32_MAX, &e), 0);
		if (out)
			*out = a;
		return e;
	}
	return -1;
}

static const struct sip_hdr *resp_hdr(const char *name)
{
	return sip_msg_hdr_by_name(&F.resp, strv_cstr(name));
}

static struct registrar_stats stats(void)
{
	struct registrar_stats st;

	registrar_stats(F.r, &st);
	return st;
}

static unsigned lookup(const char *user, const struct location_contact **c)
{
	return registrar_lookup(F.r, strv_cstr(user), STRV("example.com"), c, 16);
}

/* Challenge, then answer it: the status of the second request. */
static unsigned register_auth(struct rq q)
{
	struct rq first = q;

	first.auth = false;
	assert_int_equal(send_rq(&first), 401);
	q.auth = true;
	return send_rq(&q);
}

#define C_ALICE "Contact: <sip:alice@10.0.0.2:5062;transport=udp>\r\n"
#define U_ALICE "sip:alice@10.0.0.2:5062;transport=udp"

/* --- RFC 3665 §2.1: successful new registration --------------------------- */

static void new_registration(enum sip_digest_alg alg)
{
	const struct location_contact *c[16];
	struct rq q = RQ();
	struct sip_addr to;

	q.contacts = C_ALICE;
	q.expires = 7200; /* longer than max_expires: shortened */
	q.alg = alg;
	assert_int_equal(send_rq(&q), 401);
	/* both algorithms, SHA-256 first (RFC 8760) */
	assert_int_equal(F.nchallenges, 2);
	assert_string_equal(F.challenge_alg[0], "SHA-256");
	assert_string_equal(F.challenge_alg[1], "MD5");
	assert_string_equal(F.realm, "example.com");
	assert_false(F.stale);
	assert_int_equal(strlen(F.nonce), SIP_DIGEST_NONCE_LEN);
	assert_int_equal(sip_addr_parse(&to, sip_msg_hdr(&F.resp, SIP_HDR_TO)->value), 0);
	assert_true(to.tag.len > 0);
	assert_int_equal(lookup("alice", c), 0);

	q.auth = true;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(contact_expires(U_ALICE, NULL), 3600);
	assert_non_null(resp_hdr("Date"));
	assert_true(strv_eq(F.resp.call_id, F.msg.call_id));
	assert_int_equal(F.resp.cseq, F.msg.cseq);
	/* RFC 3581: received and rport in the top Via */
	assert_non_null(strstr(sip_msg_hdr(&F.resp, SIP_HDR_VIA)->value.p,
			       "rport=40312;received=198.51.100.7"));

	assert_int_equal(lookup("alice", c), 1);
	assert_string_equal(c[0]->uri, U_ALICE);
	assert_int_equal(c[0]->expires_ms, T0 + 3600000);
	assert_true(sa_equal(&c[0]->flow.remote, &F.flow.remote));
	assert_string_equal(c[0]->call_id, "reg-1@10.0.0.2");
	assert_int_equal(stats().ok, 1);
	assert_int_equal(stats().challenged, 1);
	assert_int_equal(stats().bindings, 1);
	assert_int_equal(stats().aors, 1);
	assert_int_equal(stats().auth_failures, 0);
}

static void test_new_registration_sha256(void **state)
{
	(void)state;
	new_registration(SIP_DIGEST_SHA256);
}

static void test_new_registration_md5(void **state)
{
	(void)state;
	new_registration(SIP_DIGEST_MD5);
}

/* HA1s from the configuration (bob), and a user of any domain (carol). */
static void test_ha1_users(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.user = "bob";
	q.contacts = "Contact: <sip:bob@10.0.0.3>\r\n";
	for (int alg = 0; alg < 2; alg++) {
		q.alg = alg;
		assert_int_equal(register_auth(q), 200);
	}
	assert_int_equal(lookup("bob", c), 1);

	q.user = "carol";
	q.domain = "192.0.2.1";
	q.contacts = "Contact: <sip:carol@10.0.0.4>\r\n";
	assert_int_equal(register_auth(q), 200);
	assert_int_equal(registrar_lookup(F.r, STRV("carol"), STRV("192.0.2.1"), c, 16), 1);
	/* bob is in example.com only */
	q.user = "bob";
	assert_int_equal(register_auth(q), 401);
	assert_int_equal(stats().auth_failures, 1);
}

/* --- RFC 3665 §2.2: update of contact list -------------------------------- */

static void test_update_contacts(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();
	struct sip_addr a;

	(void)state;
	q.contacts = C_ALICE;
	assert_int_equal(register_auth(q), 200);
	/* the same nonce with the next nc: no new challenge needed */
	q.auth = true;
	q.nc = 2;
	q.contacts = "Contact: <sip:alice@192.0.2.55>;q=0.5;expires=120,"
		     " <mailto:alice@example.com>;q=0.125\r\n";
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(contact_expires(U_ALICE, NULL), 3600);
	assert_int_equal(contact_expires("sip:alice@192.0.2.55", &a), 120);
	assert_true(strv_eq_cstr(a.q, "0.5"));
	assert_int_equal(contact_expires("mailto:alice@example.com", &a), 3600);
	assert_true(strv_eq_cstr(a.q, "0.125"));
	assert_int_equal(lookup("alice", c), 3);
	assert_string_equal(c[0]->uri, U_ALICE);
	assert_string_equal(c[1]->uri, "sip:alice@192.0.2.55");
	assert_string_equal(c[2]->uri, "mailto:alice@example.com");

	/* refresh one with a new expiry, RFC 5626 parameters echoed */
	q.nc = 3;
	q.contacts =
	    "Contact: <sip:alice@192.0.2.55>;expires=600;"
	    "+sip.instance=\"<urn:uuid:0C67446E-F1A1-11D9-94D3-000A95A0E128>\";reg-id=1\r\n";
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(contact_expires("sip:alice@192.0.2.55", &a), 600);
	assert_false(a.q.len); /* no q this time */
	assert_true(sip_param_get(a.params, STRV("+sip.instance"), NULL));
	assert_non_null(strstr(F.out, ";+sip.instance=\"<urn:uuid:0C67446E-F1A1-11D9-94D3-"
				      "000A95A0E128>\";reg-id=1\r\n"));
	assert_int_equal(lookup("alice", c), 3);
	assert_int_equal(stats().bindings, 3);
}

/* --- RFC 3665 §2.3: request for current contact list ---------------------- */

static void test_query(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE "Contact: <sip:alice@10.0.0.9>;expires=300\r\n";
	assert_int_equal(register_auth(q), 200);
	timers_run(F.ts, T0 + 100500);
	q.contacts = NULL;
	q.auth = true;
	q.nc = 2;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(sip_msg_hdr_count(&F.resp, SIP_HDR_CONTACT), 2);
	assert_int_equal(contact_expires(U_ALICE, NULL), 3500);
	assert_int_equal(contact_expires("sip:alice@10.0.0.9", NULL), 200);
	assert_int_equal(lookup("alice", c), 2);
	/* a query needs credentials too */
	q.auth = false;
	assert_int_equal(send_rq(&q), 401);
	/* a query of an AOR with no bindings: 200 without Contact */
	q.user = "bob";
	assert_int_equal(register_auth(q), 200);
	assert_int_equal(sip_msg_hdr_count(&F.resp, SIP_HDR_CONTACT), 0);
	assert_int_equal(stats().aors, 1);
}

/* --- RFC 3665 §2.4: cancellation of registration -------------------------- */

static void test_unregister(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE "Contact: <sip:alice@10.0.0.9>\r\nContact: <sip:alice@10.0.0.10>\r\n";
	assert_int_equal(register_auth(q), 200);
	assert_int_equal(lookup("alice", c), 3);
	q.auth = true;
	/* contact expires=0 removes that binding */
	q.nc = 2;
	q.contacts = "Contact: <sip:alice@10.0.0.9>;expires=0\r\n";
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(lookup("alice", c), 2);
	assert_int_equal(sip_msg_hdr_count(&F.resp, SIP_HDR_CONTACT), 2);
	/* Expires: 0 for a contact without its own expires */
	q.nc = 3;
	q.contacts = "Contact: <sip:alice@10.0.0.10>\r\n";
	q.expires = 0;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(lookup("alice", c), 1);
	/* Contact: * with something else, or without Expires: 0: 400 */
	q.nc = 4;
	q.contacts = "Contact: *\r\n" C_ALICE;
	assert_int_equal(send_rq(&q), 400);
	q.nc = 5;
	q.contacts = "Contact: *\r\n";
	q.expires = 60;
	assert_int_equal(send_rq(&q), 400);
	q.nc = 6;
	q.expires = -1;
	assert_int_equal(send_rq(&q), 400);
	q.nc = 7;
	q.contacts = "Contact: *;expires=0\r\n";
	assert_int_equal(send_rq(&q), 400);
	assert_int_equal(lookup("alice", c), 1);
	/* Contact: * with Expires: 0 removes all */
	q.nc = 8;
	q.contacts = "Contact: *\r\n";
	q.expires = 0;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(sip_msg_hdr_count(&F.resp, SIP_HDR_CONTACT), 0);
	assert_int_equal(lookup("alice", c), 0);
	assert_int_equal(stats().aors, 0);
	assert_int_equal(stats().bindings, 0);
	assert_int_equal(timers_count(F.ts), 0);
}

/* --- RFC 3665 §2.5: unsuccessful registration ----------------------------- */

static void test_wrong_password(void **state)
{
	struct registrar_auth_fail list[4];
	const struct location_contact *c[16];
	struct rq q = RQ();
	struct sa src, other;

	(void)state;
	q.contacts = C_ALICE;
	q.password = "guess";
	assert_int_equal(register_auth(q), 401); /* a fresh challenge, not stale */
	assert_false(F.stale);
	assert_int_equal(F.nchallenges, 2);
	assert_int_equal(stats().auth_failures, 1);
	assert_int_equal(registrar_auth_failures(F.r, &F.flow.remote), 1);
	/* the same address from another port counts for the same source */
	assert_int_equal(sa_parse_cstr(&F.flow.remote, "198.51.100.7:5060", 0), 0);
	q.auth = true;
	assert_int_equal(send_rq(&q), 401);
	/* an unknown user: the same answer, counted too */
	q.user = "mallory";
	q.password = "x";
	assert_int_equal(send_rq(&q), 401);
	assert_false(F.stale);
	/* a known user of another domain is unknown here */
	q.user = "alice";
	q.domain = "example.org";
	q.password = NULL;
	assert_int_equal(register_auth(q), 401);
	assert_int_equal(registrar_auth_failures(F.r, &F.flow.remote), 4);
	/* another source */
	other = F.flow.remote;
	assert_int_equal(sa_parse_cstr(&F.flow.remote, "[2001:db8::7]:5060", 0), 0);
	q.domain = NULL;
	q.password = "guess";
	assert_int_equal(register_auth(q), 401);
	assert_int_equal(registrar_auth_failures(F.r, &F.flow.remote), 1);
	assert_int_equal(registrar_auth_failures(F.r, &other), 4);
	assert_int_equal(sa_parse_cstr(&src, "203.0.113.1", 0), 0);
	assert_int_equal(registrar_auth_failures(F.r, &src), 0);
	assert_int_equal(registrar_auth_fail_list(F.r, list, 4), 2);
	assert_int_equal(list[0].count, 4);
	assert_true(sa_equal_addr(&list[0].addr, &other));
	assert_int_equal(sa_port(&list[0].addr), 0);
	assert_int_equal(list[1].count, 1);
	assert_int_equal(registrar_auth_fail_list(F.r, list, 1), 1);
	assert_int_equal(stats().auth_failures, 5);
	assert_int_equal(lookup("alice", c), 0);
	/* the right password still works after failures (no bans here) */
	q.password = NULL;
	assert_int_equal(register_auth(q), 200);
}

/* Authenticated, but for another AOR: 403. */
static void test_forbidden(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.user = "bob";
	q.auth_user = "alice";
	q.contacts = C_ALICE;
	assert_int_equal(register_auth(q), 403);
	assert_int_equal(lookup("bob", c), 0);
	assert_int_equal(stats().auth_failures, 0);
}

/* --- 423 and expiry ------------------------------------------------------- */

static void test_interval_too_brief(void **state)
{
	const struct location_contact *c[16];
	const struct sip_hdr *h;
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE "Contact: <sip:alice@10.0.0.9>;expires=30\r\n";
	assert_int_equal(register_auth(q), 423);
	h = sip_msg_hdr(&F.resp, SIP_HDR_MIN_EXPIRES);
	assert_non_null(h);
	assert_true(strv_eq_cstr(h->value, "60"));
	assert_int_equal(lookup("alice", c), 0); /* nothing applied */
	/* Expires header too brief */
	q.auth = true;
	q.nc = 2;
	q.contacts = C_ALICE;
	q.expires = 59;
	assert_int_equal(send_rq(&q), 423);
	/* the minimum is fine, and 0 is not "too brief" */
	q.nc = 3;
	q.expires = 60;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(contact_expires(U_ALICE, NULL), 60);
	q.nc = 4;
	q.contacts = "Contact: <sip:alice@10.0.0.9>;expires=0\r\n";
	assert_int_equal(send_rq(&q), 200);
	/* a huge value is shortened to max_expires */
	q.nc = 5;
	q.contacts = "Contact: <sip:alice@10.0.0.9>;expires=99999999999\r\n";
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(contact_expires("sip:alice@10.0.0.9", NULL), 3600);
}

static void test_expiry(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE "Contact: <sip:alice@10.0.0.9>;expires=120\r\n";
	q.expires = 60;
	assert_int_equal(register_auth(q), 200);
	assert_int_equal(lookup("alice", c), 2);
	assert_int_equal(timers_run(F.ts, T0 + 60000), 1);
	assert_int_equal(lookup("alice", c), 1);
	assert_string_equal(c[0]->uri, "sip:alice@10.0.0.9");
	assert_int_equal(timers_run(F.ts, T0 + 120000), 1);
	assert_int_equal(lookup("alice", c), 0);
	assert_int_equal(stats().expired, 2);
	assert_int_equal(stats().aors, 0);
	assert_int_equal(timers_count(F.ts), 0);
}

/* --- nonces --------------------------------------------------------------- */

static void test_replay(void **state)
{
	const struct location_contact *c[16];
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE;
	q.cseq = 10;
	assert_int_equal(register_auth(q), 200);
	/* the same credentials again (a new transaction: a captured request replayed) */
	q.auth = true;
	q.cseq = 11;
	assert_int_equal(send_rq(&q), 401);
	assert_true(F.stale);
	assert_int_equal(stats().replays, 1);
	assert_int_equal(stats().auth_failures, 0);
	/* the fresh challenge answered */
	q.cseq = 12;
	assert_int_equal(send_rq(&q), 200);
	assert_int_equal(lookup("alice", c), 1);
	assert_int_equal(c[0]->cseq, 12);
}

static void test_stale_nonce(void **state)
{
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE;
	q.alg = SIP_DIGEST_SHA256;
	assert_int_equal(register_auth(q), 200);
	/* past nonce_ttl (300 s): stale=true with the right password ... */
	timers_run(F.ts, T0 + 300000);
	q.auth = true;
	q.nc = 2;
	assert_int_equal(send_rq(&q), 401);
	assert_true(F.stale);
	assert_int_equal(stats().stale, 1);
	/* ... a plain challenge with a wrong one */
	q.nc = 3;
	q.nonce = "a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6";
	q.password = "guess";
	assert_int_equal(send_rq(&q), 401);
	assert_false(F.stale);
	/* the fresh nonce works */
	q.nonce = NULL;
	q.password = NULL;
	q.nc = 1;
	assert_int_equal(send_rq(&q), 200);
	/* a nonce we never issued, right password: stale (e.g. after a restart) */
	q.nonce = "a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6";
	assert_int_equal(send_rq(&q), 401);
	assert_true(F.stale);
}

/* --- refusals ------------------------------------------------------------- */

static void test_bad_requests(void **state)
{
	const struct sip_hdr *h;
	struct rq q = RQ();

	(void)state;
	q.contacts = C_ALICE;
	assert_int_equal(send_rq(&q), 401);
	q.auth = true;
	/* digest-uri other than the Request-URI */
	q.uri = "sip:elsewhere.example.com";
	assert_int_equal(send_rq(&q), 400);
	/* the same URI written otherwise is fine */
	q.uri = "sip:EXAMPLE.com";
	assert_int_equal(send_rq(&q), 200);
	q.uri = NULL;
	/* an algorithm we did not offer */
	q.nc = 2;
	q.auth_extra = ", opaque=\"x\"";
	assert_int_equal(send_rq(&q), 200); /* unknown fields are fine */
	q.auth_extra = NULL;
	/* malformed credentials */
	q.nc = 3;
	q.auth = false;
	q.extra = "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"x\", "
		  "uri=\"sip:example.com\", response=\"00\", qop=auth-int, nc=00000001, "
		  "cnonce=\"c\"\r\n";
	assert_int_equal(send_rq(&q), 400);
	q.extra = "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"x\", "
		  "uri=\"sip:example.com\", response=\"00\", algorithm=SHA-512-256\r\n";
	assert_int_equal(send_rq(&q), 400);
	q.extra = "Authorization: Digest ,,,\r\n";
	assert_int_equal(send_rq(&q), 400);
	/* credentials for another realm only: a challenge */
	q.extra = "Authorization: Digest username=\"alice\", realm=\"upstream.net\", nonce=\"x\", "
		  "uri=\"sip:example.com\", response=\"00\"\r\n";
	assert_int_equal(send_rq(&q), 401);
	/* Require: an extension we do not support */
	q.extra = "Require: path, gruu\r\n";
	assert_int_equal(send_rq(&q), 420);
	h = sip_msg_hdr(&F.resp, SIP_HDR_UNSUPPORTED);
	assert_non_null(h);
	assert_int_equal(sip_msg_hdr_count(&F.resp, SIP_HDR_UNSUPPORTED), 2);
	/* To without a user, or not SIP */
	q.extra = NULL;
	q.to_uri = "sip:example.com";
	assert_int_equal(send_rq(&q), 404);
	q.to_uri = "tel:+15551234567";
	assert_int_equal(send_rq(&q), 404);
	/* a malformed Contact, after authentication */
	q.to_uri = NULL;
	q.auth = true;
	q.nc = 4;
	q.contacts = "Contact: <sip:alice@10.0.0.2>;expires=abc\r\n";
	assert_int_equal(send_rq(&q), 400);
	/* CSeq not higher for the same Call-ID and binding: 500 (RFC 3261 §10.3 step 7) */
	q.nc = 5;
	q.contacts = C_ALICE;
	q.cseq = 1000;
	assert_int_equal(send_rq(&q), 200);
	q.nc = 6;
	q.cseq = 999;
	assert_int_equal(send_rq(&q), 500);
	q.nc = 7;
	q.contacts = "Contact: *\r\n";
	q.expires = 0;
	q.cseq = 1000;
	assert_int_equal(send_rq(&q), 500);
	/* not a REGISTER */
	build(&q, F.req, sizeof(F.req));
	memcpy(F.req, "OPTIONS ", 8);
	memcpy(strstr(F.req, "REGISTER\r\n"), "OPTIONS \r\n", 10);
	assert_int_equal(sip_msg_parse(&F.msg, F.req, strlen(F.req), NULL, NULL), 0);
	assert_int_equal(F.msg.method, SIP_METHOD_OPTIONS);
	assert_int_equal(registrar_handle_message(F.r, &F.msg, &F.flow, F.out, sizeof(F.out)),
			 -EINVAL);
	assert_true(stats().rejected >= 9);
}

static void test_too_many_contacts(void **state)
{
	char contacts[4096] = "";
	struct rq q = RQ();
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 11; i++)
		n += (size_t)snprintf(contacts + n, sizeof(contacts) - n,
				      "Contact: <sip:alice@10.0.1.%d>\r\n", i);
	q.contacts = contacts;
	assert_int_equal(register_auth(q), 403);
	assert_int_equal(stats().bindings, 0);
}

static void test_conf(void **state)
{
	struct registrar_user u[2] = { { .username = "a", .domain = "x", .password = "p" },
				       { .username = "a", .domain = "X", .password = "q" } };
	struct registrar_conf conf = { .users = u, .nusers = 2 };
	struct timers *ts;
	struct registrar *r;

	(void)state;
	assert_int_equal(timers_alloc(&ts, T0), 0);
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL); /* twice (domain in any case) */
	conf.nusers = 1;
	assert_int_equal(registrar_alloc(&r, ts, &conf), 0);
	registrar_free(r);
	u[0].domain = NULL; /* no domain, no realm */
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	u[0].domain = "x";
	u[0].password = NULL; /* no credentials */
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	u[0].ha1_md5 = "0123"; /* not an MD5 */
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	u[0].ha1_md5 = "0123456789abcdef0123456789abcdeg";
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	u[0].ha1_md5 = "0123456789abcdef0123456789abcdef";
	assert_int_equal(registrar_alloc(&r, ts, &conf), 0);
	registrar_free(r);
	conf.no_md5 = true; /* the only HA1 is of a disabled algorithm */
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	conf.no_sha256 = true;
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	conf.no_md5 = conf.no_sha256 = false;
	conf.min_expires = 100;
	conf.max_expires = 50;
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	conf.max_expires = 0;
	conf.realm = "bad\"realm";
	assert_int_equal(registrar_alloc(&r, ts, &conf), -EINVAL);
	timers_free(ts);
}

/* SHA-256 only: one challenge; MD5 credentials refused. */
static void test_sha256_only(void **state)
{
	struct registrar_conf conf = { .realm = "example.com", .no_md5 = true, .nonce_ttl = 30 };
	struct rq q = RQ();

	(void)state;
	teardown(NULL);
	env_up(&conf);
	q.contacts = C_ALICE;
	assert_int_equal(send_rq(&q), 401);
	assert_int_equal(F.nchallenges, 1);
	assert_string_equal(F.challenge_alg[0], "SHA-256");
	q.auth = true;
	q.alg = SIP_DIGEST_MD5;
	assert_int_equal(send_rq(&q), 400);
	q.alg = SIP_DIGEST_SHA256;
	assert_int_equal(send_rq(&q), 200);
	/* nonce_ttl 30 s */
	timers_run(F.ts, T0 + 30000);
	q.nc = 2;
	assert_int_equal(send_rq(&q), 401);
	assert_true(F.stale);
}

/* No realm configured: each domain is its own realm. */
static void test_realm_per_domain(void **state)
{
	struct registrar_user u[1] = {
		{ .username = "dave", .domain = "Tenant.example", .password = "pw" }
	};
	struct registrar_conf conf = { .users = u, .nusers = 1 };
	const struct location_contact *c[4];
	struct rq q = RQ();
	struct timers *ts = NULL;

	(void)state;
	registrar_free(F.r);
	F.r = NULL;
	ts = F.ts;
	assert_int_equal(registrar_alloc(&F.r, ts, &conf), 0);
	q.user = "dave";
	q.domain = "tenant.EXAMPLE";
	q.contacts = "Contact: <sip:dave@10.0.0.5>\r\n";
	q.password = "pw";
	assert_int_equal(register_auth(q), 200);
	assert_string_equal(F.realm, "tenant.example");
	assert_int_equal(registrar_lookup(F.r, STRV("dave"), STRV("TENANT.example"), c, 4), 1);
}

/* The corpus REGISTER (Zoiper) with credentials for a nonce we never issued. */
static void test_corpus(void **state)
{
	struct registrar_user u[1] = {
		{ .username = "1001", .domain = "pbx.example.com", .password = "x" }
	};
	struct registrar_conf conf = { .users = u, .nusers = 1, .realm = "pbx.example.com" };
	FILE *f = fopen("../corpus/real/register_digest.sip", "rb");
	char buf[4096];
	size_t n;
	long len;

	(void)state;
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	registrar_free(F.r);
	assert_int_equal(registrar_alloc(&F.r, F.ts, &conf), 0);
	assert_int_equal(sip_msg_parse(&F.msg, buf, n, NULL, NULL), 0);
	len = registrar_handle_message(F.r, &F.msg, &F.flow, F.out, sizeof(F.out));
	assert_true(len > 0);
	assert_int_equal(sip_msg_parse(&F.resp, F.out, (size_t)len, NULL, NULL), 0);
	assert_int_equal(F.resp.status, 401);
	assert_int_equal(stats().auth_failures, 1);
	/* too small an output buffer */
	assert_int_equal(registrar_handle_message(F.r, &F.msg, &F.flow, F.out, 100), -ENOBUFS);
}

/* --- through a transaction layer ------------------------------------------ */

static struct {
	struct sip_tsx_layer *l;
	char sent[4][4096];
	size_t sent_len[4];
	unsigned nsent;
} T;

static int fake_send(void *arg, const void *dest, const char *buf, size_t len)
{
	const struct sip_flow *fl = dest;

	assert_true(sa_equal(&fl->remote, &F.flow.remote));
	assert_true(T.nsent < 4 && len < sizeof(T.sent[0]));
	memcpy(T.sent[T.nsent], buf, len);
	T.sent_len[T.nsent++] = len;
	return 0;
}

static void on_request(void *arg, struct sip_tsx *st, const struct sip_msg *req)
{
	assert_int_equal(registrar_handle(F.r, st, req), 0);
}

static unsigned tsx_send_rq(const struct rq *q)
{
	struct sip_msg m;

	build(q, F.req, sizeof(F.req));
	assert_int_equal(sip_msg_parse(&m, F.req, strlen(F.req), NULL, NULL), 0);
	assert_int_equal(sip_tsx_recv(T.l, &m, &F.flow, false), 0);
	assert_true(T.nsent > 0);
	assert_int_equal(
	    sip_msg_parse(&F.resp, T.sent[T.nsent - 1], T.sent_len[T.nsent - 1], NULL, NULL), 0);
	return F.resp.status;
}

static void test_via_transactions(void **state)
{
	struct sip_tsx_conf tc = { .dest_size = sizeof(struct sip_flow),
				   .send_h = fake_send,
				   .request_h = on_request };
	const struct location_contact *c[4];
	struct sip_auth a;
	struct rq q = RQ();

	(void)state;
	memset(&T, 0, sizeof(T));
	assert_int_equal(sip_tsx_layer_alloc(&T.l, F.ts, &tc), 0);
	q.contacts = C_ALICE;
	assert_int_equal(tsx_send_rq(&q), 401);
	assert_int_equal(sip_auth_parse(&a, sip_msg_hdr(&F.resp, SIP_HDR_WWW_AUTHENTICATE)->value),
			 0);
	strv_copy(a.nonce, F.nonce, sizeof(F.nonce));
	strv_copy(a.realm, F.realm, sizeof(F.realm));
	/* a retransmission is absorbed by the transaction: the 401 again, no new nonce */
	assert_int_equal(sip_msg_parse(&F.msg, F.req, strlen(F.req), NULL, NULL), 0);
	assert_int_equal(sip_tsx_recv(T.l, &F.msg, &F.flow, false), 0);
	assert_int_equal(T.nsent, 2);
	assert_int_equal(T.sent_len[0], T.sent_len[1]);
	assert_memory_equal(T.sent[0], T.sent[1], T.sent_len[0]);
	q.auth = true;
	assert_int_equal(tsx_send_rq(&q), 200);
	assert_int_equal(lookup("alice", c), 1);
	assert_int_equal(stats().requests, 2);
	/* transactions end on their timers (Timer J: 64*T1 over UDP) */
	timers_run(F.ts, T0 + 64 * 500);
	sip_tsx_layer_free(T.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_registration_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_registration_md5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ha1_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_contacts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_too_brief, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_contacts, setup, teardown),
		cmocka_unit_test(test_conf),
		cmocka_unit_test_setup_teardown(test_sha256_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_realm_per_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_via_transactions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
