/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * RFC 4475 (SIP torture test messages): one test per message, with the RFC's
 * verdict. The messages are in ../corpus/rfc4475/<name>.sip, byte-exact: the
 * 13 valid ones (§3.1.1) hash-match the members of the RFC's Appendix A
 * archive; the others are decoded from the RFC text (CRLF line ends).
 *
 * Valid messages must parse, and their tricky fields read back right (with
 * the value parsers of hdr.h/uri.h for structured fields). Invalid ones must be
 * refused with a fitting status - or, where the RFC lets a liberal element
 * accept, accepted, with a comment citing the section. Some verdicts belong to
 * the value parsers (an addr-spec with blanks, an unknown scheme): those tests
 * check that the message index is built and that the value parser refuses.
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

#include "sbc/sip/hdr.h"
#include "sbc/sip/msg.h"
#include "sbc/sip/uri.h"

#define CORPUS "../corpus/rfc4475/"

static struct sip_msg m;
static char *buf;
static size_t buflen;

/* Reads a corpus file into an exactly-sized heap buffer (ASan catches over-reads). */
static void load(const char *name)
{
	char path[256];
	FILE *f;
	long n;

	free(buf);
	snprintf(path, sizeof(path), CORPUS "%s.sip", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n > 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buflen = (size_t)n;
}

static void expect_ok(const char *name)
{
	struct sip_parse_error err;
	int rc;

	load(name);
	rc = sip_msg_parse(&m, buf, buflen, NULL, &err);
	if (rc)
		fail_msg("%s: refused: %d %u %s at %zu", name, rc, err.status, err.reason,
			 err.offset);
}

static void expect_refused(const char *name, int want_rc, unsigned want_status,
			   const char *want_reason)
{
	struct sip_parse_error err;
	int rc;

	load(name);
	rc = sip_msg_parse(&m, buf, buflen, NULL, &err);
	if (rc != want_rc)
		fail_msg("%s: rc %d, want %d (%u %s)", name, rc, want_rc, err.status,
			 err.reason ? err.reason : "accepted");
	assert_int_equal(err.status, want_status);
	if (strcmp(err.reason, want_reason) != 0)
		fail_msg("%s: reason \"%s\", want \"%s\"", name, err.reason, want_reason);
}

#define assert_strv(v, s)                                                                     \
	do {                                                                                  \
		struct strv v_ = (v);                                                         \
		const char *s_ = (s);                                                         \
		if (!strv_eq(v_, strv_make(s_, strlen(s_))))                                  \
			fail_msg("line %d: got \"%.*s\", want \"%s\"", __LINE__, (int)v_.len, \
				 v_.p ? v_.p : "", s_);                                       \
	} while (0)

#define assert_strv_n(v, s, n)                                                          \
	do {                                                                            \
		struct strv v_ = (v);                                                   \
		if (!strv_eq(v_, strv_make((s), (n))))                                  \
			fail_msg("line %d: got \"%.*s\"", __LINE__, (int)v_.len, v_.p); \
	} while (0)

static char *repeat(char *out, const char *pre, const char *rep, int n, const char *post)
{
	strcpy(out, pre);
	for (int i = 0; i < n; i++)
		strcat(out, rep);
	strcat(out, post);
	return out;
}

static const struct sip_hdr *nth(enum sip_hdr_id id, unsigned n)
{
	const struct sip_hdr *h = sip_msg_hdr(&m, id);

	while (h && n--)
		h = sip_msg_hdr_next(&m, h);
	assert_non_null(h);
	return h;
}

static void via(struct sip_via *v, unsigned n)
{
	int rc = sip_via_parse(v, nth(SIP_HDR_VIA, n)->value);

	if (rc)
		fail_msg("Via #%u does not parse: %d", n, rc);
}

static void addr(struct sip_addr *a, enum sip_hdr_id id, unsigned n)
{
	int rc = sip_addr_parse(a, nth(id, n)->value);

	if (rc)
		fail_msg("%s #%u does not parse: %d", sip_hdr_name(id), n, rc);
}

static void ruri(struct sip_uri *u)
{
	int rc = sip_uri_parse(u, m.ruri);

	if (rc)
		fail_msg("Request-URI does not parse: %d", rc);
}

/* Shared SDP body of many messages: 150 bytes. */
static void expect_sdp150(void)
{
	assert_int_equal(m.body.len, 150);
	assert_true(m.body.len >= 4 && memcmp(m.body.p, "v=0\r\n", 5) == 0);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value, "application/sdp");
}

/* ---- §3.1.1 valid messages ---------------------------------------------- */

/* §3.1.1.1 A short tortuous INVITE: folding, odd whitespace, mixed case and forms. */
static void test_wsinv(void **state)
{
	struct sip_via v;
	struct sip_addr a;
	struct sip_uri u;
	const struct sip_hdr *h;

	(void)state;
	expect_ok("wsinv");
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_strv(m.ruri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_TO)->name, "TO");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_TO)->value,
		    "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n");
	h = sip_msg_hdr(&m, SIP_HDR_FROM);
	assert_strv(h->name, "from");
	assert_strv(h->value, "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n"
			      "  tag = 98asjd8");
	h = sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS);
	assert_strv(h->name, "MaX-fOrWaRdS");
	assert_strv(h->value, "0068");
	assert_strv(m.call_id, "wsinv.ndaksdj@192.0.2.1");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH)->name, "Content-Length");
	assert_int_equal(m.cseq, 9);
	assert_int_equal(m.cseq_method, SIP_METHOD_INVITE);
	expect_sdp150();
	assert_int_equal(m.len, buflen);

	/* "Via  :" folded over three lines, then "v:" with two comma-separated values */
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 3);
	assert_strv(nth(SIP_HDR_VIA, 0)->value,
		    "SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw");
	assert_strv(nth(SIP_HDR_VIA, 1)->name, "v");
	assert_strv(nth(SIP_HDR_VIA, 1)->value,
		    "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8");
	assert_strv(nth(SIP_HDR_VIA, 2)->value,
		    "SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239");
	assert_int_equal(nth(SIP_HDR_VIA, 1)->line, nth(SIP_HDR_VIA, 2)->line);

	/* the empty Subject, unknown headers (one folded, one that is not a list) */
	h = sip_msg_hdr(&m, SIP_HDR_SUBJECT);
	assert_strv(h->name, "s");
	assert_int_equal(h->value.len, 0);
	assert_strv(sip_msg_hdr_by_name(&m, STRV("NewFangledHeader"))->value,
		    "newfangled value\r\n continued newfangled value");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("unknownheaderwithunusualvalue"))->value,
		    ";;,,;;,;");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 2);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ROUTE), 1);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_ROUTE)->value,
		    "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTACT), 1);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTACT)->name, "m");

	/* structured values */
	via(&v, 0);
	assert_strv(v.transport, "UDP");
	assert_strv(v.host, "192.0.2.2");
	assert_strv(v.branch, "390skdjuw");
	via(&v, 1);
	assert_strv(v.transport, "TCP");
	assert_strv(v.host, "spindle.example.com");
	assert_strv(v.branch, "z9hG4bK9ikj8");
	via(&v, 2);
	assert_strv(v.transport, "UDP");
	assert_strv(v.host, "192.168.255.111");
	assert_strv(v.branch, "z9hG4bK30239");
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.uri.user, "vivekg");
	assert_strv(a.uri.host, "chair-dnrc.example.com");
	assert_strv(a.tag, "1918181833n");
	addr(&a, SIP_HDR_FROM, 0);
	assert_strv(a.display, "J Rosenberg \\\\\\\"");
	assert_strv(a.uri.user, "jdrosen");
	assert_strv(a.tag, "98asjd8");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.display, "Quoted string \\\"\\\"");
	assert_strv(a.q, "0.33");
	ruri(&u);
	assert_strv(u.user, "vivekg");
	assert_strv(u.host, "chair-dnrc.example.com");
	assert_strv(u.params, ";unknownparam");
}

/* §3.1.1.2 Wide range of valid characters: token method, odd URI, NUL in a quoted-pair. */
static void test_intmeth(void **state)
{
	static const char method[] = "!interesting-Method0123456789_*+`.%indeed'~";
	static const char to[] =
	    "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7F\" "
	    "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>";
	struct sip_via v;
	struct sip_addr a;
	struct sip_uri u;
	const struct sip_hdr *h;

	(void)state;
	expect_ok("intmeth");
	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_strv(m.method_name, method);
	assert_strv(m.cseq_method_name, method);
	assert_int_equal(m.cseq, 139122385);
	assert_strv(m.call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS)->value, "255");
	assert_strv_n(sip_msg_hdr(&m, SIP_HDR_TO)->value, to, sizeof(to) - 1);
	h = sip_msg_hdr_by_name(&m, STRV("extensionHeader-!.%*+_`'~"));
	assert_non_null(h);
	assert_strv(h->value, "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
	assert_int_equal(m.body.len, 0);

	via(&v, 0);
	assert_strv(v.branch, "z9hG4bK-.!%66*_+`'~");
	ruri(&u);
	assert_strv(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_strv(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_strv(u.host, "example.com");
	addr(&a, SIP_HDR_FROM, 0);
	assert_strv(a.display, "token1~` token2'+_ token3*%!.-");
	assert_strv(a.uri.user, "mundane");
	assert_strv(a.tag, "_token~1'+`*%!-.");
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
}

/* §3.1.1.3 Valid use of the % escaping mechanism. */
static void test_esc01(void **state)
{
	struct sip_addr a;
	struct sip_uri u;

	(void)state;
	expect_ok("esc01");
	assert_strv(m.ruri, "sip:sips%3Auser%40example.com@example.net");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CALL_ID)->name, "i");
	assert_strv(m.call_id, "esc01.239409asdfakjkn23onasd0-3234");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->name, "C");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value,
		    "<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>");
	expect_sdp150();

	ruri(&u);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_strv(u.user, "sips%3Auser%40example.com");
	assert_strv(u.host, "example.net");
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.uri.user, "%75se%72");
	addr(&a, SIP_HDR_FROM, 0);
	assert_strv(a.uri.user, "I%20have%20spaces");
	assert_strv(a.tag, "938");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.user, "cal%6Cer");
	assert_strv(a.uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
	assert_true(a.uri.lr); /* %6C%72 is lr once unescaped */
}

/* §3.1.1.4 Escaped NULs in URIs. */
static void test_escnull(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("escnull");
	assert_int_equal(m.method, SIP_METHOD_REGISTER);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTACT), 2);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH)->name, "L");
	assert_int_equal(m.body.len, 0);
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.uri.user, "null-%00-null");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.user, "%00");
	addr(&a, SIP_HDR_CONTACT, 1);
	assert_strv(a.uri.user, "%00%00");
}

/* §3.1.1.5 Use of % when it is not an escape. */
static void test_esc02(void **state)
{
	struct sip_addr a;
	struct sip_via v;

	(void)state;
	expect_ok("esc02");
	/* RE%47IST%45R is not REGISTER: % is no escape in a method */
	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_strv(m.method_name, "RE%47IST%45R");
	assert_strv(m.cseq_method_name, "RE%47IST%45R");
	/* C%6Fntact is an unknown header, not a Contact */
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTACT), 2);
	assert_strv(nth(SIP_HDR_CONTACT, 1)->value, "<sip:alias3@host3.example.com>");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("C%6Fntact"))->value,
		    "<sip:alias2@host2.example.com>");
	via(&v, 0);
	assert_strv(v.branch, "z9hG4bK209%fzsnel234");
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.display, "%Z%45");
}

/* §3.1.1.6 Message with no LWS between display name and <. */
static void test_lwsdisp(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("lwsdisp");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_FROM)->value, "caller<sip:caller@example.com>;tag=323");
	addr(&a, SIP_HDR_FROM, 0);
	assert_strv(a.display, "caller");
	assert_strv(a.uri.user, "caller");
	assert_strv(a.tag, "323");
}

/* §3.1.1.7 Long values in header fields. */
static void test_longreq(void **state)
{
	char want[1024], tmp[1024];
	struct sip_addr a;
	struct sip_via v;
	const struct sip_hdr *h;

	(void)state;
	expect_ok("longreq");
	assert_strv(m.call_id, repeat(want, "longreq.one", "really", 20, "longcallid"));
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 34);
	/* "V :  ", "v  : ", "Via  : " ... all Via, in order */
	for (unsigned i = 0; i < 33; i++) {
		snprintf(want, sizeof(want), "SIP/2.0/TCP sip%u.example.com", 33 - i);
		assert_strv(nth(SIP_HDR_VIA, i)->value, want);
	}
	assert_strv(nth(SIP_HDR_VIA, 11)->name, "V");
	assert_strv(nth(SIP_HDR_VIA, 16)->name, "Via");
	h = sip_msg_hdr_by_name(&m, strv_cstr(repeat(want, "Unknown-", "Long", 20, "-Name")));
	assert_non_null(h);
	snprintf(want, sizeof(want), "%s; %s = %s", repeat(tmp, "unknown-", "long", 20, "-value"),
		 repeat(tmp + 200, "unknown-", "long", 20, "-parameter-name"),
		 repeat(tmp + 400, "unknown-", "long", 20, "-parameter-value"));
	assert_strv(h->value, want);
	expect_sdp150();
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH)->name, "l");

	via(&v, 33);
	assert_strv(v.received, "192.0.2.5");
	assert_strv(v.branch, repeat(want, "very", "long", 50, "branchvalue"));
	addr(&a, SIP_HDR_TO, 0);
	assert_strv(a.display,
		    repeat(want, "I have a user name of ", "extreme", 10, " proportion"));
	assert_int_equal(a.uri.port, 6000);
	addr(&a, SIP_HDR_FROM, 0);
	assert_strv(a.uri.user, repeat(want, "", "amazinglylongcallername", 5, ""));
	assert_strv(a.tag, repeat(want, "12", "982", 50, "424"));
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.host, "host5.example.net");
}

/* §3.1.1.8 Extra trailing octets in a UDP datagram: ignored (RFC 3261 §18.3). */
static void test_dblreq(void **state)
{
	(void)state;
	expect_ok("dblreq");
	assert_int_equal(m.method, SIP_METHOD_REGISTER);
	assert_int_equal(m.body.len, 0);
	assert_true(m.len < buflen);
	assert_true(memcmp(buf + m.len - 4, "\r\n\r\n", 4) == 0);
	assert_true(memcmp(buf + m.len, "\r\nINVITE ", 9) == 0);
	assert_strv(m.call_id, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CALL_ID)->name, "I");
}

/* §3.1.1.9 Semicolon-separated parameters in the URI user part. */
static void test_semiuri(void **state)
{
	static const char *accept[] = { "application/sdp", "application/pkcs7-mime",
					"multipart/mixed", "multipart/signed",
					"message/sip",	   "message/sipfrag" };
	struct sip_uri u;

	(void)state;
	expect_ok("semiuri");
	assert_strv(m.ruri, "sip:user;par=u%40example.net@example.com");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ACCEPT), 6);
	for (unsigned i = 0; i < 6; i++)
		assert_strv(nth(SIP_HDR_ACCEPT, i)->value, accept[i]);
	ruri(&u);
	assert_strv(u.user, "user;par=u%40example.net");
	assert_strv(u.host, "example.com");
	assert_int_equal(u.params.len, 0);
}

/* §3.1.1.10 Varied and unknown transport types. */
static void test_transports(void **state)
{
	static const char *tr[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
	struct sip_via v;
	char host[32];

	(void)state;
	expect_ok("transports");
	assert_strv(m.call_id, "transports.kijh4akdnaqjkwendsasfdj");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 5);
	for (unsigned i = 0; i < 5; i++) {
		via(&v, i);
		assert_strv(v.transport, tr[i]);
		snprintf(host, sizeof(host), "t%u.example.com", i + 1);
		assert_strv(v.host, host);
	}
}

/* §3.1.1.11 Multipart MIME message with a binary part (bare LFs in the body). */
static void test_mpart01(void **state)
{
	struct sip_via v;

	(void)state;
	expect_ok("mpart01");
	assert_int_equal(m.method, SIP_METHOD_MESSAGE);
	assert_int_equal(m.body.len, 553);
	assert_int_equal(m.len, buflen);
	assert_true(memcmp(m.body.p, "--7a9cbec02ceef655\r\n", 20) == 0);
	assert_true(memcmp(m.body.p + 553 - 22, "--7a9cbec02ceef655--\r\n", 22) == 0);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value,
		    "multipart/mixed;boundary=7a9cbec02ceef655");
	assert_strv(m.call_id, "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("Date"))->value, "Sat, 15 Oct 2005 04:44:56 GMT");
	via(&v, 0);
	assert_true(v.rport);
	assert_int_equal(v.port, 5070);
	assert_strv(v.branch, "z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-");
}

/* §3.1.1.12 Reason phrase in UTF-8. */
static void test_unreason(void **state)
{
	(void)state;
	expect_ok("unreason");
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_strv(m.reason,
		    "= 2**3 * 5**2 \xD0\xBD\xD0\xBE \xD1\x81\xD1\x82\xD0\xBE "
		    "\xD0\xB4\xD0\xB5\xD0\xB2\xD1\x8F\xD0\xBD\xD0\xBE\xD1\x81\xD1\x82\xD0\xBE "
		    "\xD0\xB4\xD0\xB5\xD0\xB2\xD1\x8F\xD1\x82\xD1\x8C - "
		    "\xD0\xBF\xD1\x80\xD0\xBE\xD1\x81\xD1\x82\xD0\xBE\xD0\xB5");
	assert_int_equal(m.body.len, 154);
	assert_int_equal(m.cseq_method, SIP_METHOD_INVITE);
}

/* §3.1.1.13 Empty reason phrase. */
static void test_noreason(void **state)
{
	(void)state;
	expect_ok("noreason");
	assert_int_equal(m.status, 100);
	assert_int_equal(m.reason.len, 0);
	assert_strv(m.version, "SIP/2.0");
	assert_int_equal(m.cseq, 35);
}

/* ---- §3.1.2 invalid messages -------------------------------------------- */

/* §3.1.2.1 Extraneous header field separators (";;,;,," in Via): 400. */
static void test_badinv01(void **state)
{
	(void)state;
	expect_refused("badinv01", -EINVAL, 400, "Empty element in header list");
}

/* §3.1.2.2 Content-Length larger than the message: 400. */
static void test_clerr(void **state)
{
	(void)state;
	expect_refused("clerr", -EINVAL, 400, "Content-Length exceeds the datagram");
}

/* §3.1.2.3 Negative Content-Length: 400. */
static void test_ncl(void **state)
{
	(void)state;
	expect_refused("ncl", -EINVAL, 400, "Malformed Content-Length");
}

/* §3.1.2.4 Request scalar fields with overlarge values (CSeq, Max-Forwards...): 400. */
static void test_scalar02(void **state)
{
	(void)state;
	expect_refused("scalar02", -EINVAL, 400, "Malformed CSeq");
}

/* §3.1.2.5 Response scalar fields with overlarge values: dropped (never answered). */
static void test_scalarlg(void **state)
{
	(void)state;
	expect_refused("scalarlg", -EINVAL, 0, "Malformed CSeq");
}

/* §3.1.2.6 Unterminated quoted string in a display name: 400. */
static void test_quotbal(void **state)
{
	(void)state;
	expect_refused("quotbal", -EINVAL, 400, "Unterminated quoted string in header value");
}

/* §3.1.2.7 <> enclosing the Request-URI: 400. */
static void test_ltgtruri(void **state)
{
	(void)state;
	expect_refused("ltgtruri", -EINVAL, 400, "Malformed Request-URI");
}

/* §3.1.2.8 Malformed SIP Request-URI (embedded LWS): 400. */
static void test_lwsruri(void **state)
{
	(void)state;
	expect_refused("lwsruri", -EINVAL, 400, "Malformed Request-URI");
}

/*
 * §3.1.2.9 Multiple SP separating Request-Line elements. "It is acceptable to
 * reject this request as malformed. An element that is liberal in what it
 * accepts may ignore these extra SP characters": we do (a B2BUA regenerates
 * the start line, so the extra SP never reach the next hop).
 */
static void test_lwsstart(void **state)
{
	(void)state;
	expect_ok("lwsstart");
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_strv(m.ruri, "sip:user@example.com");
	assert_strv(m.version, "SIP/2.0");
	expect_sdp150();
}

/* §3.1.2.10 SP characters at the end of the Request-Line: accepted as in §3.1.2.9. */
static void test_trws(void **state)
{
	(void)state;
	expect_ok("trws");
	assert_strv(m.ruri, "sip:remote-target@example.com");
	assert_strv(m.version, "SIP/2.0");
}

/*
 * §3.1.2.11 Escaped headers in the SIP Request-URI. "It is acceptable for an
 * element to reject this request with a 400 ... An element could choose to be
 * liberal in what it accepts and ignore the escaped headers." The message
 * index accepts it; the URI parser exposes the headers so that the routing
 * layer drops them (it never copies Request-URI headers into a request).
 */
static void test_escruri(void **state)
{
	struct sip_uri u;

	(void)state;
	expect_ok("escruri");
	assert_strv(m.ruri, "sip:user@example.com?Route=%3Csip:example.com%3E");
	ruri(&u);
	assert_strv(u.host, "example.com");
	assert_strv(u.headers, "?Route=%3Csip:example.com%3E");
}

/*
 * §3.1.2.12 Invalid time zone in the Date header field. "This message is
 * malformed ... A proxy or an endpoint that does not use Date may ignore it"
 * (the RFC lets an element accept it; nothing in the SBC reads Date).
 */
static void test_baddate(void **state)
{
	(void)state;
	expect_ok("baddate");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("Date"))->value, "Fri, 01 Jan 2010 16:00:00 EST");
}

/*
 * §3.1.2.13 Failure to enclose a name-addr URI in <>: a registrar should
 * answer 400. The index is built; the addr-spec parser refuses the Contact
 * (a URI with '?' must be in <>, RFC 3261 §20.10).
 */
static void test_regbadct(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("regbadct");
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_CONTACT)->value), -EINVAL);
}

/*
 * §3.1.2.14 Spaces within addr-spec ("< sip:t.watson@example.org >"). "It is
 * reasonable to reject this request with a 400 ... Elements attempting to be
 * liberal ... may choose to ignore the spaces." Either verdict of the To
 * parser is right; if it accepts, the spaces must not be part of the URI.
 */
static void test_badaspec(void **state)
{
	struct sip_addr a;
	int rc;

	(void)state;
	expect_ok("badaspec");
	rc = sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_TO)->value);
	if (rc == 0) {
		assert_strv(a.uri.user, "t.watson");
		assert_strv(a.uri.host, "example.org");
	} else {
		assert_int_equal(rc, -EINVAL);
	}
}

/*
 * §3.1.2.15 Non-token characters in an unquoted display name ("Bell, Alexander"):
 * "reasonable to always reject this kind of error with a 400". From and To are
 * not lists, so the index holds them whole; the addr parser refuses them.
 */
static void test_baddn(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("baddn");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_FROM)->value,
		    "Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_FROM)->value), -EINVAL);
	assert_int_equal(sip_addr_parse(&a, sip_msg_hdr(&m, SIP_HDR_TO)->value), -EINVAL);
}

/* §3.1.2.16 Unknown protocol version (SIP/7.0): 505. */
static void test_badvers(void **state)
{
	(void)state;
	expect_refused("badvers", -EPROTONOSUPPORT, 505, "SIP Version Not Supported");
}

/* §3.1.2.17 Start line and CSeq method mismatch: 400. */
static void test_mismatch01(void **state)
{
	(void)state;
	expect_refused("mismatch01", -EINVAL, 400, "CSeq method does not match the request method");
}

/* §3.1.2.18 Unknown method with CSeq method mismatch: 400 (the RFC prefers 400 to 501). */
static void test_mismatch02(void **state)
{
	(void)state;
	expect_refused("mismatch02", -EINVAL, 400, "CSeq method does not match the request method");
}

/* §3.1.2.19 Overlarge response code (4294967301): dropped. */
static void test_bigcode(void **state)
{
	(void)state;
	expect_refused("bigcode", -EINVAL, 0, "Malformed Status-Code");
}

/* ---- §3.2 transaction layer --------------------------------------------- */

/*
 * §3.2.1 Missing transaction identifier (branch=z9hG4bK and nothing more):
 * "A parser must not break ... could reject with 400 ... or fall back to the
 * RFC 2543-style transaction identifier": the transaction layer's choice.
 */
static void test_badbranch(void **state)
{
	struct sip_via v;

	(void)state;
	expect_ok("badbranch");
	via(&v, 0);
	assert_strv(v.branch, "z9hG4bK");
}

/* ---- §3.3 application layer semantics ----------------------------------- */

/* §3.3.1 Missing required header fields (To, From, Call-ID, Max-Forwards): 400. */
static void test_insuf(void **state)
{
	(void)state;
	expect_refused("insuf", -EINVAL, 400, "Missing To header");
}

/* §3.3.2 Request-URI with unknown scheme: valid syntax; 416 is the application's. */
static void test_unkscm(void **state)
{
	struct sip_uri u;

	(void)state;
	expect_ok("unkscm");
	assert_strv(m.ruri, "nobodyKnowsThisScheme:totallyopaquecontent");
	assert_int_equal(sip_uri_parse(&u, m.ruri), -EPROTONOSUPPORT);
}

/* §3.3.3 Request-URI with a known but atypical scheme (soap.beep): as §3.3.2. */
static void test_novelsc(void **state)
{
	struct sip_uri u;

	(void)state;
	expect_ok("novelsc");
	assert_strv(m.ruri, "soap.beep://192.0.2.103:3002");
	assert_int_equal(sip_uri_parse(&u, m.ruri), -EPROTONOSUPPORT);
}

/* §3.3.4 Unknown URI schemes in header fields: "Parsers must not fail". */
static void test_unksm2(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("unksm2");
	addr(&a, SIP_HDR_TO, 0);
	assert_int_equal(a.uri.scheme, SIP_URI_OTHER);
	assert_strv(a.uri_text, "isbn:2983792873");
	addr(&a, SIP_HDR_FROM, 0);
	assert_int_equal(a.uri.scheme, SIP_URI_OTHER);
	assert_strv(a.tag, "3234233");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_int_equal(a.uri.scheme, SIP_URI_OTHER);
}

/* §3.3.5 Proxy-Require and Require with unknown tags: valid; 420 is the application's. */
static void test_bext01(void **state)
{
	(void)state;
	expect_ok("bext01");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_REQUIRE), 2);
	assert_strv(nth(SIP_HDR_REQUIRE, 1)->value, "nothingSupportsThisEither");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_PROXY_REQUIRE), 2);
	assert_strv(nth(SIP_HDR_PROXY_REQUIRE, 0)->value, "noProxiesSupportThis");
	assert_true(sip_option_tag_eq(nth(SIP_HDR_PROXY_REQUIRE, 1)->value,
				      STRV("norDoAnyProxiesSupportThis")));
}

/* §3.3.6 Unknown Content-Type: valid; 415 is the application's. */
static void test_invut(void **state)
{
	(void)state;
	expect_ok("invut");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value, "application/unknownformat");
	assert_int_equal(m.body.len, 40);
}

/* §3.3.7 Unknown authorization scheme: well formed; the registrar answers 401. */
static void test_regaut01(void **state)
{
	struct sip_auth au;

	(void)state;
	expect_ok("regaut01");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_AUTHORIZATION), 1);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_AUTHORIZATION)->value,
		    "NoOneKnowsThisScheme opaque-data=here");
	assert_int_equal(sip_auth_parse(&au, sip_msg_hdr(&m, SIP_HDR_AUTHORIZATION)->value), 0);
	assert_strv(au.scheme, "NoOneKnowsThisScheme");
}

/* §3.3.8 Multiple values in single-value required fields: 400. */
static void test_multi01(void **state)
{
	(void)state;
	expect_refused("multi01", -EINVAL, 400, "Conflicting CSeq headers");
}

/* §3.3.9 Multiple Content-Length values: 400. */
static void test_mcl01(void **state)
{
	(void)state;
	expect_refused("mcl01", -EINVAL, 400, "Conflicting Content-Length headers");
}

/* §3.3.10 200 OK with a broadcast Via: valid syntax; never sent there (transport's job). */
static void test_bcast(void **state)
{
	struct sip_via v;

	(void)state;
	expect_ok("bcast");
	assert_int_equal(m.status, 200);
	via(&v, 1);
	assert_strv(v.host, "255.255.255.255");
}

/* §3.3.11 Max-Forwards of zero: valid; 483 or an OPTIONS answer is the application's. */
static void test_zeromf(void **state)
{
	(void)state;
	expect_ok("zeromf");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS)->value, "0");
}

/* §3.3.12 REGISTER with a contact parameter: the parameter belongs to the header. */
static void test_cparam01(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("cparam01");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.user, "+19725552222");
	assert_strv(a.params, ";unknownparam");
	assert_int_equal(a.uri.params.len, 0);
}

/* §3.3.13 REGISTER with a url-parameter: inside <> it belongs to the URI. */
static void test_cparam02(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("cparam02");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.params, ";unknownparam");
	assert_int_equal(a.params.len, 0);
}

/* §3.3.14 REGISTER with a URL escaped header in the Contact: valid syntax. */
static void test_regescrt(void **state)
{
	struct sip_addr a;

	(void)state;
	expect_ok("regescrt");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTACT)->name, "M");
	addr(&a, SIP_HDR_CONTACT, 0);
	assert_strv(a.uri.headers, "?Route=%3Csip:sip.example.com%3E");
}

/* §3.3.15 Unacceptable Accept offering: valid; 406 is the application's. */
static void test_sdp01(void **state)
{
	(void)state;
	expect_ok("sdp01");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_ACCEPT)->value, "text/nobodyKnowsThis");
	expect_sdp150();
}

/* ---- §3.4 backward compatibility ---------------------------------------- */

/*
 * §3.4.1 INVITE with RFC 2543 syntax: no Max-Forwards, no branch, no
 * Content-Length; "should be accepted by RFC 3261 elements that want to
 * maintain backwards compatibility". The body is the rest of the datagram.
 */
static void test_inv2543(void **state)
{
	struct sip_via v;

	(void)state;
	expect_ok("inv2543");
	assert_null(sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS));
	assert_null(sip_msg_hdr(&m, SIP_HDR_CONTENT_LENGTH));
	assert_int_equal(m.body.len, 105);
	assert_int_equal(m.len, buflen);
	via(&v, 0);
	assert_int_equal(v.branch.len, 0);
	assert_strv(v.host, "iftgw.example.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wsinv),	   cmocka_unit_test(test_intmeth),
		cmocka_unit_test(test_esc01),	   cmocka_unit_test(test_escnull),
		cmocka_unit_test(test_esc02),	   cmocka_unit_test(test_lwsdisp),
		cmocka_unit_test(test_longreq),	   cmocka_unit_test(test_dblreq),
		cmocka_unit_test(test_semiuri),	   cmocka_unit_test(test_transports),
		cmocka_unit_test(test_mpart01),	   cmocka_unit_test(test_unreason),
		cmocka_unit_test(test_noreason),   cmocka_unit_test(test_badinv01),
		cmocka_unit_test(test_clerr),	   cmocka_unit_test(test_ncl),
		cmocka_unit_test(test_scalar02),   cmocka_unit_test(test_scalarlg),
		cmocka_unit_test(test_quotbal),	   cmocka_unit_test(test_ltgtruri),
		cmocka_unit_test(test_lwsruri),	   cmocka_unit_test(test_lwsstart),
		cmocka_unit_test(test_trws),	   cmocka_unit_test(test_escruri),
		cmocka_unit_test(test_baddate),	   cmocka_unit_test(test_regbadct),
		cmocka_unit_test(test_badaspec),   cmocka_unit_test(test_baddn),
		cmocka_unit_test(test_badvers),	   cmocka_unit_test(test_mismatch01),
		cmocka_unit_test(test_mismatch02), cmocka_unit_test(test_bigcode),
		cmocka_unit_test(test_badbranch),  cmocka_unit_test(test_insuf),
		cmocka_unit_test(test_unkscm),	   cmocka_unit_test(test_novelsc),
		cmocka_unit_test(test_unksm2),	   cmocka_unit_test(test_bext01),
		cmocka_unit_test(test_invut),	   cmocka_unit_test(test_regaut01),
		cmocka_unit_test(test_multi01),	   cmocka_unit_test(test_mcl01),
		cmocka_unit_test(test_bcast),	   cmocka_unit_test(test_zeromf),
		cmocka_unit_test(test_cparam01),   cmocka_unit_test(test_cparam02),
		cmocka_unit_test(test_regescrt),   cmocka_unit_test(test_sdp01),
		cmocka_unit_test(test_inv2543),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(buf);
	return rc;
}
