/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/msg.h"

static struct sip_msg m;

#define HDRS_REQ(method)                                        \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776\r\n" \
	"Max-Forwards: 70\r\n"                                  \
	"To: <sip:bob@example.com>\r\n"                         \
	"From: \"Alice\" <sip:alice@example.com>;tag=1928\r\n"  \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"          \
	"CSeq: 314159 " method "\r\n"

#define HDRS_RESP                                               \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776\r\n" \
	"To: <sip:bob@example.com>;tag=a6c85cf\r\n"             \
	"From: \"Alice\" <sip:alice@example.com>;tag=1928\r\n"  \
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n"          \
	"CSeq: 314159 INVITE\r\n"

static bool is(struct strv v, const char *s)
{
	return strv_eq_cstr(v, s);
}

#define assert_strv(v, s)                                                                          \
	do {                                                                                       \
		struct strv v_ = (v);                                                              \
		if (!is(v_, (s)))                                                                  \
			fail_msg("got \"%.*s\", want \"%s\"", (int)v_.len, v_.p ? v_.p : "", (s)); \
	} while (0)

/* Parses a copy in an exactly-sized heap buffer, so ASan sees any read past len. */
static char *dup_buf(const char *s, size_t len)
{
	char *b = malloc(len ? len : 1);

	assert_non_null(b);
	memcpy(b, s, len);
	return b;
}

static char *last_buf;
static size_t last_len;

static void release(void)
{
	free(last_buf);
	last_buf = NULL;
}

static void parse_ok_n(const char *s, size_t len)
{
	struct sip_parse_error err;
	int rc;

	release();
	last_buf = dup_buf(s, len);
	last_len = len;
	rc = sip_msg_parse(&m, last_buf, len, NULL, &err);
	if (rc)
		fail_msg("parse failed: %d %u %s at %zu", rc, err.status, err.reason, err.offset);
}

static void parse_ok(const char *s)
{
	parse_ok_n(s, strlen(s));
}

static void parse_fail_lim(const char *s, const struct sip_limits *lim, int want_rc,
			   unsigned want_status, const char *want_reason)
{
	struct sip_parse_error err;
	size_t len = strlen(s);
	int rc;

	release();
	last_buf = dup_buf(s, len);
	rc = sip_msg_parse(&m, last_buf, len, lim, &err);
	if (rc != want_rc)
		fail_msg("rc %d, want %d (%u %s)", rc, want_rc, err.status,
			 err.reason ? err.reason : "-");
	assert_int_equal(err.status, want_status);
	assert_non_null(err.reason);
	if (want_reason && strcmp(err.reason, want_reason) != 0)
		fail_msg("reason \"%s\", want \"%s\"", err.reason, want_reason);
	assert_true(err.offset <= len);
}

static void parse_fail(const char *s, int want_rc, unsigned want_status, const char *want_reason)
{
	parse_fail_lim(s, NULL, want_rc, want_status, want_reason);
}

/* ---- start lines ---- */

static void test_request_line(void **state)
{
	(void)state;
	parse_ok("INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n");
	assert_true(m.is_request);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_strv(m.method_name, "INVITE");
	assert_strv(m.ruri, "sip:bob@example.com");
	assert_strv(m.version, "SIP/2.0");
	assert_int_equal(m.status, 0);
	assert_strv(m.call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(m.cseq, 314159);
	assert_int_equal(m.cseq_method, SIP_METHOD_INVITE);
	assert_strv(m.cseq_method_name, "INVITE");
	assert_int_equal(m.body.len, 0);
	assert_ptr_equal(m.buf, last_buf);
	assert_int_equal(m.len, last_len);

	/* extension method, tel: URI, lower-case version */
	parse_ok("FOO-BAR tel:+1-201-555-0123 sip/2.0\r\n" HDRS_REQ("FOO-BAR") "\r\n");
	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_strv(m.method_name, "FOO-BAR");
	assert_strv(m.ruri, "tel:+1-201-555-0123");
	assert_int_equal(m.cseq_method, SIP_METHOD_OTHER);

	/* methods are case-sensitive: "invite" is an extension method */
	parse_ok("invite sip:b@example.com SIP/2.0\r\n" HDRS_REQ("invite") "\r\n");
	assert_int_equal(m.method, SIP_METHOD_OTHER);

	/* tolerated: several SP between elements, SP/HT before the CRLF */
	parse_ok("OPTIONS   sip:b@example.com   SIP/2.0 \t \r\n" HDRS_REQ("OPTIONS") "\r\n");
	assert_strv(m.ruri, "sip:b@example.com");
	assert_strv(m.version, "SIP/2.0");
	assert_int_equal(m.method, SIP_METHOD_OPTIONS);
}

static void test_status_line(void **state)
{
	(void)state;
	parse_ok("SIP/2.0 200 OK\r\n" HDRS_RESP "\r\n");
	assert_false(m.is_request);
	assert_int_equal(m.status, 200);
	assert_strv(m.reason, "OK");
	assert_strv(m.version, "SIP/2.0");
	assert_int_equal(m.method, SIP_METHOD_OTHER);
	assert_int_equal(m.cseq_method, SIP_METHOD_INVITE);

	parse_ok("SIP/2.0 183 Session  Progress \r\n" HDRS_RESP "\r\n");
	assert_int_equal(m.status, 183);
	assert_strv(m.reason, "Session  Progress");

	parse_ok("SIP/2.0 100 \r\n" HDRS_RESP "\r\n");
	assert_int_equal(m.status, 100);
	assert_int_equal(m.reason.len, 0);

	parse_ok("SIP/2.0 699\r\n" HDRS_RESP "\r\n"); /* no SP before an empty reason: tolerated */
	assert_int_equal(m.status, 699);
	assert_int_equal(m.reason.len, 0);

	/* a response's CSeq method need not match anything */
	parse_ok(
	    "SIP/2.0 481 Call/Transaction Does Not Exist\r\n"
	    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=1\r\nFrom: <sip:c@d>;tag=2\r\n"
	    "Call-ID: x\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(m.cseq_method, SIP_METHOD_BYE);
	assert_strv(m.reason, "Call/Transaction Does Not Exist");
}

static void test_start_line_refusals(void **state)
{
	(void)state;
	parse_fail("INVITE sip:b@example.com SIP/3.0\r\n" HDRS_REQ("INVITE") "\r\n",
		   -EPROTONOSUPPORT, 505, "SIP Version Not Supported");
	parse_fail("INVITE sip:b@example.com HTTP/1.1\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed SIP-Version");
	parse_fail("INVITE sip:b@example.com\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-Line");
	parse_fail("INVITE SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-Line");
	parse_fail("INVITE\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400, "Malformed Request-Line");
	parse_fail("INV@TE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-Line");
	parse_fail("INVITE\tsip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-Line");
	parse_fail("INVITE <sip:b@example.com> SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-URI");
	parse_fail("INVITE sip:b@example.com; lr SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL,
		   400, "Malformed Request-URI");
	parse_fail("INVITE b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-URI");
	parse_fail("INVITE 1sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-URI");
	parse_fail("INVITE sip:b\"@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Malformed Request-URI");
	parse_fail("INVITE sip:b\xc3\xa9@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n",
		   -EINVAL, 400, "Malformed Request-URI");

	/* responses are never answered: status 0 */
	parse_fail("SIP/2.0 20 OK\r\n" HDRS_RESP "\r\n", -EINVAL, 0, "Malformed Status-Code");
	parse_fail("SIP/2.0 2000 OK\r\n" HDRS_RESP "\r\n", -EINVAL, 0, "Malformed Status-Code");
	parse_fail("SIP/2.0 099 Low\r\n" HDRS_RESP "\r\n", -EINVAL, 0, "Malformed Status-Code");
	parse_fail("SIP/2.0 700 High\r\n" HDRS_RESP "\r\n", -EINVAL, 0, "Malformed Status-Code");
	parse_fail("SIP/2.0 2x0 OK\r\n" HDRS_RESP "\r\n", -EINVAL, 0, "Malformed Status-Code");
	parse_fail("SIP/1.0 200 OK\r\n" HDRS_RESP "\r\n", -EPROTONOSUPPORT, 0,
		   "SIP Version Not Supported");
	parse_fail("SIP/2.0 200 OK\r\n" HDRS_RESP, -EINVAL, 0,
		   "Message ends before the empty line");

	parse_fail("", -EINVAL, 0, "Empty message");
	parse_fail("\r\n\r\n", -EINVAL, 0, "Empty message");
	parse_fail("INVITE sip:b@example.com SIP/2.0", -EINVAL, 400,
		   "Message ends in the start line");
	parse_fail("INVITE sip:b@example.com SIP/2.0\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Bare CR or LF in the start line");
	parse_fail("INVITE sip:b@exa\rmple.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "Bare CR or LF in the start line");
}

static void test_leading_crlf(void **state)
{
	(void)state;
	parse_ok("\r\n\r\nOPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "\r\n");
	assert_ptr_equal(m.buf, last_buf + 4);
	assert_int_equal(m.len, last_len - 4);
	assert_int_equal(m.method, SIP_METHOD_OPTIONS);
}

/* ---- header names ---- */

static void test_hdr_names(void **state)
{
	static const struct {
		const char *name;
		enum sip_hdr_id id;
	} names[] = {
		{ "Accept", SIP_HDR_ACCEPT },
		{ "Allow", SIP_HDR_ALLOW },
		{ "Authorization", SIP_HDR_AUTHORIZATION },
		{ "Call-ID", SIP_HDR_CALL_ID },
		{ "Contact", SIP_HDR_CONTACT },
		{ "Content-Disposition", SIP_HDR_CONTENT_DISPOSITION },
		{ "Content-Encoding", SIP_HDR_CONTENT_ENCODING },
		{ "Content-Length", SIP_HDR_CONTENT_LENGTH },
		{ "Content-Type", SIP_HDR_CONTENT_TYPE },
		{ "CSeq", SIP_HDR_CSEQ },
		{ "Event", SIP_HDR_EVENT },
		{ "Expires", SIP_HDR_EXPIRES },
		{ "From", SIP_HDR_FROM },
		{ "Max-Forwards", SIP_HDR_MAX_FORWARDS },
		{ "Min-Expires", SIP_HDR_MIN_EXPIRES },
		{ "Proxy-Authenticate", SIP_HDR_PROXY_AUTHENTICATE },
		{ "Proxy-Authorization", SIP_HDR_PROXY_AUTHORIZATION },
		{ "Proxy-Require", SIP_HDR_PROXY_REQUIRE },
		{ "RAck", SIP_HDR_RACK },
		{ "Record-Route", SIP_HDR_RECORD_ROUTE },
		{ "Refer-To", SIP_HDR_REFER_TO },
		{ "Referred-By", SIP_HDR_REFERRED_BY },
		{ "Require", SIP_HDR_REQUIRE },
		{ "Route", SIP_HDR_ROUTE },
		{ "RSeq", SIP_HDR_RSEQ },
		{ "Server", SIP_HDR_SERVER },
		{ "Session-Expires", SIP_HDR_SESSION_EXPIRES },
		{ "Subject", SIP_HDR_SUBJECT },
		{ "Supported", SIP_HDR_SUPPORTED },
		{ "To", SIP_HDR_TO },
		{ "Unsupported", SIP_HDR_UNSUPPORTED },
		{ "User-Agent", SIP_HDR_USER_AGENT },
		{ "Via", SIP_HDR_VIA },
		{ "WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE },
	};
	static const char compact[] = "imelcofrbxsktv";
	static const enum sip_hdr_id compact_ids[] = {
		SIP_HDR_CALL_ID,
		SIP_HDR_CONTACT,
		SIP_HDR_CONTENT_ENCODING,
		SIP_HDR_CONTENT_LENGTH,
		SIP_HDR_CONTENT_TYPE,
		SIP_HDR_EVENT,
		SIP_HDR_FROM,
		SIP_HDR_REFER_TO,
		SIP_HDR_REFERRED_BY,
		SIP_HDR_SESSION_EXPIRES,
		SIP_HDR_SUBJECT,
		SIP_HDR_SUPPORTED,
		SIP_HDR_TO,
		SIP_HDR_VIA,
	};
	char buf[32];

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), SIP_HDR_COUNT - 1);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);

		assert_int_equal(sip_hdr_id_from_name(strv_cstr(names[i].name)), names[i].id);
		assert_string_equal(sip_hdr_name(names[i].id), names[i].name);
		for (size_t j = 0; j < n; j++)
			buf[j] = (char)(names[i].name[j] ^
					(j % 2 ? 0x20 : 0) * (names[i].name[j] >= 'A'));
		assert_int_equal(sip_hdr_id_from_name(strv_make(buf, n)), names[i].id);
		/* one letter off, one longer, one shorter: unknown */
		memcpy(buf, names[i].name, n);
		buf[n - 1] = '0';
		assert_int_equal(sip_hdr_id_from_name(strv_make(buf, n)), SIP_HDR_OTHER);
		memcpy(buf, names[i].name, n);
		buf[n] = 's';
		assert_int_equal(sip_hdr_id_from_name(strv_make(buf, n + 1)), SIP_HDR_OTHER);
		assert_int_equal(sip_hdr_id_from_name(strv_make(names[i].name, n - 1)),
				 n - 1 == 1 ? sip_hdr_id_from_name(strv_make(names[i].name, 1))
					    : SIP_HDR_OTHER);
	}
	for (size_t i = 0; i < sizeof(compact) - 1; i++) {
		char up = (char)(compact[i] - 32);

		assert_int_equal(sip_hdr_id_from_name(strv_make(&compact[i], 1)), compact_ids[i]);
		assert_int_equal(sip_hdr_id_from_name(strv_make(&up, 1)), compact_ids[i]);
		assert_int_equal(sip_hdr_compact(compact_ids[i]), compact[i]);
	}
	assert_int_equal(sip_hdr_compact(SIP_HDR_CSEQ), 0);
	assert_int_equal(sip_hdr_id_from_name(STRV("a")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV("u")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV("X-Foo")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV("")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV_NULL), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV("Call_ID")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name(STRV("Content-Length-Extra")), SIP_HDR_OTHER);
	assert_null(sip_hdr_name(SIP_HDR_OTHER));
	assert_null(sip_hdr_name(SIP_HDR_COUNT));
	assert_true(sip_hdr_is_list(SIP_HDR_VIA));
	assert_true(sip_hdr_is_list(SIP_HDR_CONTENT_ENCODING));
	assert_false(sip_hdr_is_list(SIP_HDR_AUTHORIZATION));
	assert_false(sip_hdr_is_list(SIP_HDR_OTHER));
}

static void test_methods(void **state)
{
	(void)state;
	for (int i = SIP_METHOD_INVITE; i <= SIP_METHOD_PUBLISH; i++) {
		const char *n = sip_method_name((enum sip_method)i);

		assert_true(strlen(n) > 0);
		assert_int_equal(sip_method_from_name(strv_cstr(n)), i);
	}
	assert_string_equal(sip_method_name(SIP_METHOD_OTHER), "");
	assert_string_equal(sip_method_name((enum sip_method)99), "");
	assert_int_equal(sip_method_from_name(STRV("invite")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from_name(STRV("INVITES")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from_name(STRV("INVIT")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from_name(STRV("")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from_name(STRV_NULL), SIP_METHOD_OTHER);
}

static void test_compact_and_case(void **state)
{
	const struct sip_hdr *h;

	(void)state;
	parse_ok("MESSAGE sip:b@example.com SIP/2.0\r\n"
		 "v: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		 "VIA: SIP/2.0/TCP h2;branch=z9hG4bK2\r\n"
		 "t: <sip:b@example.com>\r\n"
		 "f: <sip:a@example.com>;tag=9\r\n"
		 "i: cid-1\r\n"
		 "cSeQ: 1 MESSAGE\r\n"
		 "c: text/plain\r\n"
		 "l: 5\r\n"
		 "k: 100rel\r\n"
		 "m: <sip:a@192.0.2.1>\r\n"
		 "s: hi\r\n"
		 "o: presence\r\n"
		 "e: gzip\r\n"
		 "x: 1800\r\n"
		 "r: <sip:c@example.com>\r\n"
		 "b: <sip:d@example.com>\r\n"
		 "MAX-FORWARDS: 10\r\n"
		 "\r\n"
		 "hello");
	assert_strv(m.call_id, "cid-1");
	assert_int_equal(m.cseq, 1);
	assert_strv(m.body, "hello");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 2);
	h = sip_msg_hdr(&m, SIP_HDR_VIA);
	assert_strv(h->name, "v");
	assert_strv(h->value, "SIP/2.0/UDP h1;branch=z9hG4bK1");
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->name, "VIA");
	assert_null(sip_msg_hdr_next(&m, h));
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_SUPPORTED)->value, "100rel");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTACT)->value, "<sip:a@192.0.2.1>");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_SUBJECT)->value, "hi");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_EVENT)->value, "presence");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_CONTENT_ENCODING)->value, "gzip");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_SESSION_EXPIRES)->value, "1800");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_REFER_TO)->value, "<sip:c@example.com>");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_REFERRED_BY)->value, "<sip:d@example.com>");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS)->value, "10");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_TO)->name, "t");
}

static void test_folding_and_whitespace(void **state)
{
	const struct sip_hdr *h;

	(void)state;
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\n"
		 "Via  :  SIP/2.0/UDP h1\r\n ;branch=z9hG4bK1  \r\n"
		 "To\t:\r\n\t<sip:b@example.com>\r\n"
		 "From:<sip:a@example.com>;tag=9\r\n"
		 "Call-ID:   cid-2   \r\n"
		 "CSeq: 0009\r\n  OPTIONS\r\n"
		 "Subject:\r\n"
		 "X-Long: one\r\n two\r\n\tthree\r\n"
		 "X-Empty-Folded:   \r\n   \r\n"
		 "\r\n");
	h = sip_msg_hdr(&m, SIP_HDR_VIA);
	assert_strv(h->name, "Via");
	assert_strv(h->value, "SIP/2.0/UDP h1\r\n ;branch=z9hG4bK1");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_TO)->value, "<sip:b@example.com>");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_FROM)->value, "<sip:a@example.com>;tag=9");
	assert_strv(m.call_id, "cid-2");
	assert_int_equal(m.cseq, 9);
	assert_strv(m.cseq_method_name, "OPTIONS");
	h = sip_msg_hdr(&m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	h = sip_msg_hdr_by_name(&m, STRV("x-long"));
	assert_non_null(h);
	assert_strv(h->value, "one\r\n two\r\n\tthree");
	h = sip_msg_hdr_by_name(&m, STRV("X-Empty-Folded"));
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);

	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n"
		   " Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n" HDRS_REQ("OPTIONS") "\r\n",
		   -EINVAL, 400, "Folded line without a header");
	parse_fail(
	    "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "Bad Name: x\r\n\r\n",
	    -EINVAL, 400, "Malformed header (no colon)");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") ": x\r\n\r\n",
		   -EINVAL, 400, "Malformed header name");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "NoColon\r\n\r\n",
		   -EINVAL, 400, "Malformed header (no colon)");
	parse_fail(
	    "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "X-A: b\nX-C: d\r\n\r\n",
	    -EINVAL, 400, "Bare CR or LF in header");
	parse_fail(
	    "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "X-A: b\rX-C: d\r\n\r\n",
	    -EINVAL, 400, "Bare CR or LF in header");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "\n", -EINVAL, 400,
		   "Bare CR or LF in header");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "\r", -EINVAL, 400,
		   "Message ends before the empty line");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "\rX", -EINVAL, 400,
		   "Bare CR or LF in header");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "X-A: b", -EINVAL,
		   400, "Message ends before the empty line");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "X-A: b\r", -EINVAL,
		   400, "Message ends before the empty line");

	/* controls inside a value are left to the value parsers (quoted-pair allows them) */
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
	    "OPTIONS") "X-Ctl: \"a\\\x01\\\x7f\"\t\r\n\r\n");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("X-Ctl"))->value, "\"a\\\x01\\\x7f\"");
}

static void test_list_split(void **state)
{
	const struct sip_hdr *h;

	(void)state;
	parse_ok(
	    "INVITE sip:b@example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h1;branch=z9hG4bK1 , SIP/2.0/TCP h2;branch=z9hG4bK2;x=\"a,b\"\r\n"
	    "Via: SIP/2.0/UDP h3;branch=z9hG4bK3,\r\n SIP/2.0/UDP h4;branch=z9hG4bK4\r\n"
	    "Max-Forwards: 70\r\n"
	    "To: \"Bob, Jr.\" <sip:b@example.com>\r\n"
	    "From: <sip:a@example.com;x=1,2>;tag=9\r\n"
	    "Call-ID: c\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Contact: \"Bell, \\\"Alexander\\\"\" <sip:a@h1;p=1,2>;q=0.7, <sip:a@h2>;q=0.1\r\n"
	    "Route: <sip:p1;lr>,<sip:p2;lr>\r\n"
	    "Record-Route: <sip:p3;lr>\r\n"
	    "Allow: INVITE, ACK,BYE\r\n"
	    "Supported:\r\n"
	    "Require: 100rel, timer\r\n"
	    "Proxy-Require: foo\r\n"
	    "Unsupported: bar, baz\r\n"
	    "Accept: application/sdp;level=1, text/plain;q=\"0,5\"\r\n"
	    "Content-Encoding: gzip, deflate\r\n"
	    "Authorization: Digest username=\"a\", realm=\"r\", nonce=\"n\"\r\n"
	    "X-Unknown: a, b, c\r\n"
	    "Warning: 399 h \"a, b\"\r\n"
	    "\r\n");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 4);
	h = sip_msg_hdr(&m, SIP_HDR_VIA);
	assert_strv(h->value, "SIP/2.0/UDP h1;branch=z9hG4bK1");
	assert_int_equal(h->line, 0);
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->value, "SIP/2.0/TCP h2;branch=z9hG4bK2;x=\"a,b\"");
	assert_int_equal(h->line, 0);
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->value, "SIP/2.0/UDP h3;branch=z9hG4bK3");
	assert_int_equal(h->line, 1);
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->value, "SIP/2.0/UDP h4;branch=z9hG4bK4");
	assert_int_equal(h->line, 1);
	assert_null(sip_msg_hdr_next(&m, h));

	assert_strv(sip_msg_hdr(&m, SIP_HDR_TO)->value, "\"Bob, Jr.\" <sip:b@example.com>");
	assert_strv(sip_msg_hdr(&m, SIP_HDR_FROM)->value, "<sip:a@example.com;x=1,2>;tag=9");

	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTACT), 2);
	h = sip_msg_hdr(&m, SIP_HDR_CONTACT);
	assert_strv(h->value, "\"Bell, \\\"Alexander\\\"\" <sip:a@h1;p=1,2>;q=0.7");
	assert_strv(sip_msg_hdr_next(&m, h)->value, "<sip:a@h2>;q=0.1");

	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ROUTE), 2);
	assert_strv(sip_msg_hdr(&m, SIP_HDR_ROUTE)->value, "<sip:p1;lr>");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_RECORD_ROUTE), 1);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ALLOW), 3);
	h = sip_msg_hdr(&m, SIP_HDR_ALLOW);
	assert_strv(h->value, "INVITE");
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->value, "ACK");
	h = sip_msg_hdr_next(&m, h);
	assert_strv(h->value, "BYE");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_SUPPORTED), 1);
	assert_int_equal(sip_msg_hdr(&m, SIP_HDR_SUPPORTED)->value.len, 0);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_REQUIRE), 2);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_PROXY_REQUIRE), 1);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_UNSUPPORTED), 2);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ACCEPT), 2);
	assert_strv(sip_msg_hdr_next(&m, sip_msg_hdr(&m, SIP_HDR_ACCEPT))->value,
		    "text/plain;q=\"0,5\"");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTENT_ENCODING), 2);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_AUTHORIZATION), 1);
	assert_strv(sip_msg_hdr_by_name(&m, STRV("x-unknown"))->value, "a, b, c");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("Warning"))->value, "399 h \"a, b\"");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 2);

	/* refusals */
	parse_fail("INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
		       "INVITE") "Contact: <sip:a@h1>,,<sip:a@h2>\r\n\r\n",
		   -EINVAL, 400, "Empty element in header list");
	parse_fail(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "Allow: INVITE,\r\n\r\n",
	    -EINVAL, 400, "Empty element in header list");
	parse_fail(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "Allow: , INVITE\r\n\r\n",
	    -EINVAL, 400, "Empty element in header list");
	parse_fail("INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
		       "INVITE") "Contact: \"Bob <sip:a@h1>\r\n\r\n",
		   -EINVAL, 400, "Unterminated quoted string in header value");
	parse_fail("INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
		       "INVITE") "Contact: \"Bob\\\" <sip:a@h1>\r\n\r\n",
		   -EINVAL, 400, "Unterminated quoted string in header value");
	parse_fail(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "Contact: <sip:a@h1\r\n\r\n",
	    -EINVAL, 400, "Unbalanced '<' in header value");
	parse_fail(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "Route: <sip:a@h1>>\r\n\r\n",
	    -EINVAL, 400, "Unbalanced '>' in header value");
	parse_fail(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "Route: <<sip:a@h1>\r\n\r\n",
	    -EINVAL, 400, "Unbalanced '<' in header value");
	parse_fail("INVITE sip:b@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776\r\n"
		   "To: \"Mr. J. User <sip:j.user@example.com>\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
		   -EINVAL, 400, "Unterminated quoted string in header value");
	/* unknown headers are opaque: nothing is checked */
	parse_ok(
	    "INVITE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "X-Odd: ;;,,\"<<\r\n\r\n");
}

static void test_order_and_chains(void **state)
{
	uint16_t seen[SIP_HDR_COUNT] = { 0 };

	(void)state;
	parse_ok("REGISTER sip:example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		 "X-A: 1\r\n"
		 "To: <sip:a@example.com>\r\n"
		 "Contact: <sip:a@h1>\r\n"
		 "x-a: 2\r\n"
		 "From: <sip:a@example.com>;tag=1\r\n"
		 "Contact: <sip:a@h2>, <sip:a@h3>\r\n"
		 "Call-ID: c\r\n"
		 "X-B: 3\r\n"
		 "CSeq: 2 REGISTER\r\n"
		 "m: <sip:a@h4>\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n");
	assert_int_equal(m.nhdrs, 13);
	/* first[] points at the first entry of each id, next chains are in message order */
	for (uint16_t i = 0; i < m.nhdrs; i++) {
		const struct sip_hdr *h = &m.hdrs[i];

		if (!seen[h->id])
			assert_int_equal(m.first[h->id], i + 1);
		seen[h->id] = i + 1;
		if (h->next)
			assert_true(h->next > i + 1 && m.hdrs[h->next - 1].id == h->id);
	}
	const char *want[] = { "<sip:a@h1>", "<sip:a@h2>", "<sip:a@h3>", "<sip:a@h4>" };
	size_t k = 0;

	for (const struct sip_hdr *h = sip_msg_hdr(&m, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(&m, h))
		assert_strv(h->value, want[k++]);
	assert_int_equal(k, 4);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTACT), 4);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_ROUTE), 0);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_COUNT), 0);
	assert_null(sip_msg_hdr(&m, SIP_HDR_ROUTE));

	/* by name: known names by id (compact too), unknown ones case-insensitively */
	assert_ptr_equal(sip_msg_hdr_by_name(&m, STRV("m")), sip_msg_hdr(&m, SIP_HDR_CONTACT));
	assert_ptr_equal(sip_msg_hdr_by_name(&m, STRV("CONTACT")),
			 sip_msg_hdr(&m, SIP_HDR_CONTACT));
	assert_strv(sip_msg_hdr_by_name(&m, STRV("X-A"))->value, "1");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("x-b"))->value, "3");
	assert_null(sip_msg_hdr_by_name(&m, STRV("X-C")));
	assert_null(sip_msg_hdr_by_name(&m, STRV("Route")));
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 3);
	assert_int_equal(m.hdrs[12].line, 11);
}

static void test_mandatory(void **state)
{
	static const struct {
		const char *drop;
		const char *reason;
	} cases[] = {
		{ "To:", "Missing To header" },		  { "From:", "Missing From header" },
		{ "Call-ID:", "Missing Call-ID header" }, { "CSeq:", "Missing CSeq header" },
		{ "Via:", "Missing Via header" },
	};
	static const char *lines[] = {
		"Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n",
		"To: <sip:b@example.com>\r\n",
		"From: <sip:a@example.com>;tag=1\r\n",
		"Call-ID: c\r\n",
		"CSeq: 1 OPTIONS\r\n",
	};
	char msg[512];

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int req = 0; req < 2; req++) {
			strcpy(msg, req ? "OPTIONS sip:b@example.com SIP/2.0\r\n"
					: "SIP/2.0 200 OK\r\n");
			for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
				if (strncmp(lines[i], cases[c].drop, strlen(cases[c].drop)) != 0)
					strcat(msg, lines[i]);
			strcat(msg, "\r\n");
			parse_fail(msg, -EINVAL, req ? 400 : 0, cases[c].reason);
			/* the entries read before the refusal stay indexed (to build a 400) */
			assert_int_equal(m.nhdrs, 4);
		}
	}
	/* Max-Forwards may be missing (RFC 3261 §16.3, RFC 4475 §3.4.1), not out of range */
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		 "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n");
	assert_null(sip_msg_hdr(&m, SIP_HDR_MAX_FORWARDS));
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
	    "OPTIONS") "Max-Forwards: 70\r\n\r\n"); /* the same value twice: kept once */
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_MAX_FORWARDS), 1);
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		 "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
		 "Max-Forwards: 0255\r\n\r\n");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
		   "Max-Forwards: 256\r\n\r\n",
		   -EINVAL, 400, "Malformed Max-Forwards");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
		   "Max-Forwards: seventy\r\n\r\n",
		   -EINVAL, 400, "Malformed Max-Forwards");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nCall-ID: c d\r\nCSeq: 1 OPTIONS\r\n\r\n",
		   -EINVAL, 400, "Malformed Call-ID");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nTo: <sip:b@example.com>\r\n"
		   "From: <sip:a@example.com>;tag=1\r\nCall-ID:\r\nCSeq: 1 OPTIONS\r\n\r\n",
		   -EINVAL, 400, "Empty Call-ID");
}

static void test_cseq(void **state)
{
	static const char *bad[] = {
		"CSeq: OPTIONS",
		"CSeq: 1",
		"CSeq: 1OPTIONS",
		"CSeq: -1 OPTIONS",
		"CSeq: 4294967296 OPTIONS",
		"CSeq: 1 OPTIONS x",
		"CSeq: 1 OPT/IONS",
		"CSeq:",
		"CSeq: 36893488147419103232 OPTIONS",
	};
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(
		    msg, sizeof(msg),
		    "OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		    "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\n"
		    "%s\r\n\r\n",
		    bad[i]);
		parse_fail(msg, -EINVAL, 400, "Malformed CSeq");
	}
	parse_ok("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		 "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c\r\n"
		 "CSeq: 4294967295 \t OPTIONS\r\n\r\n");
	assert_int_equal(m.cseq, 4294967295u);
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "CSeq method does not match the request method");
	parse_fail("OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("options") "\r\n", -EINVAL, 400,
		   "CSeq method does not match the request method");
	parse_fail(
	    "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS") "CSeq: 2 OPTIONS\r\n\r\n",
	    -EINVAL, 400, "Conflicting CSeq headers");
}

static void test_content_length(void **state)
{
	const char *head = "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("MESSAGE");
	char msg[1024];

	(void)state;
	snprintf(msg, sizeof(msg), "%sContent-Length: 5\r\n\r\nhello", head);
	parse_ok(msg);
	assert_strv(m.body, "hello");
	assert_int_equal(m.len, strlen(msg));

	/* smaller: the body is truncated, the rest of the datagram ignored (RFC 3261 §18.3) */
	snprintf(msg, sizeof(msg), "%sl: 3\r\n\r\nhello world", head);
	parse_ok(msg);
	assert_strv(m.body, "hel");
	assert_int_equal(m.len, strlen(msg) - 8);

	/* absent: the rest of the datagram */
	snprintf(msg, sizeof(msg), "%s\r\nhello\r\n", head);
	parse_ok(msg);
	assert_strv(m.body, "hello\r\n");
	assert_int_equal(m.len, strlen(msg));

	/* zero, with leading zeros, folded */
	snprintf(msg, sizeof(msg), "%sContent-Length:\r\n 0000\r\n\r\nextra", head);
	parse_ok(msg);
	assert_int_equal(m.body.len, 0);
	assert_ptr_equal(m.body.p, m.buf + m.len);

	/* the same value twice is accepted */
	snprintf(msg, sizeof(msg), "%sContent-Length: 2\r\nl: 2\r\n\r\nhi", head);
	parse_ok(msg);
	assert_strv(m.body, "hi");
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_CONTENT_LENGTH), 1);

	snprintf(msg, sizeof(msg), "%sContent-Length: 6\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Content-Length exceeds the datagram");
	snprintf(msg, sizeof(msg), "%sContent-Length: -1\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Malformed Content-Length");
	snprintf(msg, sizeof(msg), "%sContent-Length: 5 5\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Malformed Content-Length");
	snprintf(msg, sizeof(msg), "%sContent-Length: 99999999999\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Malformed Content-Length");
	snprintf(msg, sizeof(msg), "%sContent-Length:\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Malformed Content-Length");
	snprintf(msg, sizeof(msg), "%sContent-Length: 5\r\nl: 4\r\n\r\nhello", head);
	parse_fail(msg, -EINVAL, 400, "Conflicting Content-Length headers");
}

static void test_duplicates(void **state)
{
	const char *start = "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS");
	char msg[1024];

	(void)state;
	snprintf(msg, sizeof(msg), "%sCall-ID: other\r\n\r\n", start);
	parse_fail(msg, -EINVAL, 400, "Conflicting Call-ID headers");
	snprintf(msg, sizeof(msg), "%si: a84b4c76e66710@pc33.example.com\r\n\r\n", start);
	parse_ok(msg);
	snprintf(msg, sizeof(msg), "%sFrom: <sip:x@example.com>;tag=2\r\n\r\n", start);
	parse_fail(msg, -EINVAL, 400, "Conflicting From headers");
	snprintf(msg, sizeof(msg), "%st: <sip:x@example.com>\r\n\r\n", start);
	parse_fail(msg, -EINVAL, 400, "Conflicting To headers");
	snprintf(msg, sizeof(msg), "%sMax-Forwards: 69\r\n\r\n", start);
	parse_fail(msg, -EINVAL, 400, "Conflicting Max-Forwards headers");
	snprintf(msg, sizeof(msg), "%sc: text/plain\r\nContent-Type: text/html\r\n\r\n", start);
	parse_fail(msg, -EINVAL, 400, "Conflicting Content-Type headers");
	/* multi-instance headers stay */
	snprintf(msg, sizeof(msg),
		 "%sX-A: 1\r\nX-A: 1\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK9\r\n\r\n", start);
	parse_ok(msg);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_OTHER), 2);
	assert_int_equal(sip_msg_hdr_count(&m, SIP_HDR_VIA), 2);
}

static void test_limits_real(void **state)
{
	struct sip_limits lim = { 0 };
	char msg[16384];
	size_t n, hlen;

	(void)state;
	snprintf(msg, sizeof(msg),
		 "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
		     "MESSAGE") "Content-Length: 100\r\n\r\n%0100d",
		 0);
	n = strlen(msg);
	hlen = n - 100;

	lim.max_msg_size = (uint32_t)n;
	release();
	last_buf = dup_buf(msg, n);
	assert_int_equal(sip_msg_parse(&m, last_buf, n, &lim, NULL), 0);

	/* the headers fit, the body does not: 413; the headers do not fit: 513 */
	lim.max_msg_size = (uint32_t)n - 1;
	parse_fail_lim(msg, &lim, -EMSGSIZE, 413, "Request Entity Too Large");
	lim.max_msg_size = (uint32_t)hlen - 1;
	parse_fail_lim(msg, &lim, -EMSGSIZE, 513, "Message Too Large");

	/* more entries than max_headers: 513 */
	lim.max_msg_size = 0;
	lim.max_headers = 6;
	parse_fail_lim(msg, &lim, -EMSGSIZE, 513, "Too many headers");
	lim.max_headers = 7;
	release();
	last_buf = dup_buf(msg, n);
	assert_int_equal(sip_msg_parse(&m, last_buf, n, &lim, NULL), 0);
	assert_int_equal(m.nhdrs, 7);

	/* one line longer than max_hdr_len: 513; a start line: 414 */
	lim.max_headers = 0;
	lim.max_hdr_len = 40;
	parse_fail_lim(msg, &lim, -EMSGSIZE, 513, "Header field too long");
	lim.max_hdr_len = 20;
	parse_fail_lim(msg, &lim, -EMSGSIZE, 414, "Request-URI Too Long");

	/* the hard cap of SIP_MAX_HDRS entries */
	strcpy(msg, "OPTIONS sip:b@example.com SIP/2.0\r\n" HDRS_REQ("OPTIONS"));
	for (int i = 0; i < SIP_MAX_HDRS; i++)
		strcat(msg, "X: y\r\n");
	strcat(msg, "\r\n");
	parse_fail(msg, -EMSGSIZE, 513, "Too many headers");
	assert_int_equal(m.nhdrs, SIP_MAX_HDRS);

	/* a response over the limits is refused but not answered */
	lim = (struct sip_limits){ .max_msg_size = 10 };
	parse_fail_lim("SIP/2.0 200 OK\r\n" HDRS_RESP "\r\n", &lim, -EMSGSIZE, 0,
		       "Message Too Large");
}

static void test_partial_index_after_error(void **state)
{
	(void)state;
	parse_fail("BYE sip:b@example.com SIP/2.0\r\n" HDRS_REQ("INVITE") "\r\n", -EINVAL, 400,
		   "CSeq method does not match the request method");
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_VIA));
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_CSEQ));
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_CALL_ID));
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_FROM));
	assert_non_null(sip_msg_hdr(&m, SIP_HDR_TO));
}

static void test_null_err(void **state)
{
	const char *s = "garbage\r\n\r\n";

	(void)state;
	assert_int_equal(sip_msg_parse(&m, s, strlen(s), NULL, NULL), -EINVAL);
	assert_int_equal(sip_msg_parse(&m, NULL, 0, NULL, NULL), -EINVAL);
}

/* ---- stream framing ---- */

static long frame(const char *s, size_t max)
{
	char *b = dup_buf(s, strlen(s));
	long r = sip_msg_frame(b, strlen(s), max);

	free(b);
	return r;
}

static void test_frame(void **state)
{
	const char *msg = "MESSAGE sip:b@example.com SIP/2.0\r\n" HDRS_REQ(
	    "MESSAGE") "Content-Length: 5\r\n\r\nhello";
	size_t len = strlen(msg);
	char buf[4096];

	(void)state;
	assert_int_equal(frame(msg, 65535), (long)len);
	/* every strict prefix needs more bytes */
	for (size_t i = 1; i < len; i++) {
		char *b = dup_buf(msg, i);

		assert_int_equal(sip_msg_frame(b, i, 65535), 0);
		free(b);
	}
	assert_int_equal(sip_msg_frame(msg, 0, 65535), 0);

	/* pipelined: the first frame, then the second */
	snprintf(buf, sizeof(buf), "%s%s", msg, msg);
	assert_int_equal(frame(buf, 65535), (long)len);
	assert_int_equal(sip_msg_frame(buf + len, len, 65535), (long)len);

	/* keep-alives before a message are frames of their own */
	snprintf(buf, sizeof(buf), "\r\n\r\n%s", msg);
	assert_int_equal(frame(buf, 65535), 4);
	assert_true(sip_msg_frame_is_keepalive(buf, 4));
	assert_false(sip_msg_frame_is_keepalive(buf + 4, (long)len));
	assert_int_equal(frame("\r\n", 65535), 2);
	assert_int_equal(frame("\r\n\r", 65535), 2);
	assert_int_equal(frame("\r", 65535), 0);
	assert_int_equal(frame("\n\n", 65535), 2);

	/* compact l, any case, blanks before the colon, a folded value */
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nL : 2\r\n\r\nab", 65535), 34);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\ncontent-LENGTH:\r\n 2\r\n\r\nabc", 65535),
			 48);
	/* a header that merely starts like Content-Length does not count */
	assert_int_equal(
	    frame("OPTIONS sip:b SIP/2.0\r\nContent-Lengthy: 2\r\nl: 0\r\n\r\n", 65535), 51);

	/* missing on a stream, conflicting, malformed */
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nVia: x\r\n\r\n", 65535), -EINVAL);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", 65535), -EINVAL);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nl: 1\r\nl: 1\r\n\r\nab", 65535), 38);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nl: x\r\n\r\n", 65535), -EINVAL);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nl: -1\r\n\r\n", 65535), -EINVAL);

	/* oversize: the headers alone, or with the declared body */
	assert_int_equal(frame(msg, 50), -EMSGSIZE);
	assert_int_equal(frame(msg, len - 1), -EMSGSIZE);
	assert_int_equal(frame(msg, len), (long)len);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nl: 4000000000\r\n\r\n", 65535), -EMSGSIZE);
	assert_int_equal(frame("OPTIONS sip:b SIP/2.0\r\nX: 12345", 10), -EMSGSIZE);

	/* a frame parses */
	long n = frame(msg, 65535);

	parse_ok_n(msg, (size_t)n);
	assert_strv(m.body, "hello");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_status_line),
		cmocka_unit_test(test_start_line_refusals),
		cmocka_unit_test(test_leading_crlf),
		cmocka_unit_test(test_hdr_names),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_compact_and_case),
		cmocka_unit_test(test_folding_and_whitespace),
		cmocka_unit_test(test_list_split),
		cmocka_unit_test(test_order_and_chains),
		cmocka_unit_test(test_mandatory),
		cmocka_unit_test(test_cseq),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_limits_real),
		cmocka_unit_test(test_partial_index_after_error),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_frame),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	release();
	return rc;
}
