/* SPDX-License-Identifier: BSD-2-Clause */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc/sip/msg.h"
#include "sbc/sip/print.h"
#include "sbc/sip/reply.h"

static struct sip_msg m, m2;

#define assert_strv(v, s)                                                                     \
	do {                                                                                  \
		struct strv v_ = (v);                                                         \
		if (!strv_eq_cstr(v_, (s)))                                                   \
			fail_msg("line %d: got \"%.*s\", want \"%s\"", __LINE__, (int)v_.len, \
				 v_.p ? v_.p : "", (s));                                      \
	} while (0)

static void parse(struct sip_msg *msg, const char *s, size_t len)
{
	struct sip_parse_error err;
	int rc = sip_msg_parse(msg, s, len, NULL, &err);

	if (rc)
		fail_msg("parse: %d %u %s at %zu: %.*s", rc, err.status, err.reason, err.offset,
			 (int)len, s);
}

static void test_request(void **state)
{
	char out[1024];
	struct sip_pbuf b;
	long n;

	(void)state;
	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line_m(&b, SIP_METHOD_INVITE, STRV("sip:bob@example.com"));
	sip_print_hdr(&b, SIP_HDR_VIA, STRV("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc"));
	sip_print_hdr_uint(&b, SIP_HDR_MAX_FORWARDS, 70);
	sip_print_hdr(&b, SIP_HDR_FROM, STRV("<sip:alice@example.com>;tag=1"));
	sip_print_hdr(&b, SIP_HDR_TO, STRV("<sip:bob@example.com>"));
	sip_print_hdrf(&b, SIP_HDR_CALL_ID, "%s@%s", "abc", "host");
	sip_print_hdrf(&b, SIP_HDR_CSEQ, "%u %s", 42u, sip_method_name(SIP_METHOD_INVITE));
	sip_print_hdr_name(&b, STRV("X-Trace"), STRV("on"));
	sip_print_hdrf_name(&b, "P-Count", "%d", 7);
	sip_print_body(&b, STRV("application/sdp"), STRV("v=0\r\n"));
	n = sip_print_finish(&b);
	assert_true(n > 0);
	assert_int_equal((size_t)n, b.len);
	const char *want = "INVITE sip:bob@example.com SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\n"
			   "Max-Forwards: 70\r\n"
			   "From: <sip:alice@example.com>;tag=1\r\n"
			   "To: <sip:bob@example.com>\r\n"
			   "Call-ID: abc@host\r\n"
			   "CSeq: 42 INVITE\r\n"
			   "X-Trace: on\r\n"
			   "P-Count: 7\r\n"
			   "Content-Type: application/sdp\r\n"
			   "Content-Length: 5\r\n"
			   "\r\n"
			   "v=0\r\n";

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, (size_t)n);

	/* and it parses back to the same fields */
	parse(&m, out, (size_t)n);
	assert_int_equal(m.method, SIP_METHOD_INVITE);
	assert_strv(m.ruri, "sip:bob@example.com");
	assert_strv(m.call_id, "abc@host");
	assert_int_equal(m.cseq, 42);
	assert_strv(m.body, "v=0\r\n");
	assert_strv(sip_msg_hdr_by_name(&m, STRV("p-count"))->value, "7");
	assert_int_equal(m.len, (size_t)n);
}

static void test_response(void **state)
{
	char out[512];
	struct sip_pbuf b;
	long n;

	(void)state;
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 486, STRV(""));
	sip_print_hdr(&b, SIP_HDR_VIA, STRV("SIP/2.0/UDP h;branch=z9hG4bK1"));
	sip_print_hdr(&b, SIP_HDR_FROM, STRV("<sip:a@h>;tag=1"));
	sip_print_hdr(&b, SIP_HDR_TO, STRV("<sip:b@h>;tag=2"));
	sip_print_hdr(&b, SIP_HDR_CALL_ID, STRV("c"));
	sip_print_hdr(&b, SIP_HDR_CSEQ, STRV("1 INVITE"));
	sip_print_body(&b, STRV(""), STRV(""));
	n = sip_print_finish(&b);
	assert_true(n > 0);
	assert_true(memcmp(out, "SIP/2.0 486 Busy Here\r\n", 23) == 0);
	assert_true(memcmp(out + n - 21, "Content-Length: 0\r\n\r\n", 21) == 0);
	parse(&m, out, (size_t)n);
	assert_int_equal(m.status, 486);
	assert_strv(m.reason, "Busy Here");

	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 299, STRV("Custom Reason"));
	sip_print_body(&b, STRV("text/plain"), STRV("")); /* no body: no Content-Type */
	n = sip_print_finish(&b);
	assert_int_equal(n, strlen("SIP/2.0 299 Custom Reason\r\nContent-Length: 0\r\n\r\n"));
	assert_memory_equal(out, "SIP/2.0 299 Custom Reason\r\nContent-Length: 0\r\n\r\n",
			    (size_t)n);

	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 299, STRV(""));
	sip_print_body(&b, STRV(""), STRV(""));
	assert_int_equal(sip_print_finish(&b), strlen("SIP/2.0 299 \r\nContent-Length: 0\r\n\r\n"));

	assert_string_equal(sip_status_reason(100), "Trying");
	assert_string_equal(sip_status_reason(200), "OK");
	assert_string_equal(sip_status_reason(513), "Message Too Large");
	assert_string_equal(sip_status_reason(608), "Rejected");
	assert_string_equal(sip_status_reason(299), "");
}

static void test_copy(void **state)
{
	static const char in[] =
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "v: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2;branch=z9hG4bK2\r\n"
	    "VIA: SIP/2.0/UDP h3;branch=z9hG4bK3\r\n"
	    "t: <sip:a@example.com>\r\n"
	    "f: <sip:a@example.com>;tag=1\r\n"
	    "i: cid\r\n"
	    "CSEQ: 3 REGISTER\r\n"
	    "m: <sip:a@h1>;expires=60\r\n"
	    "x-custom: folded\r\n value\r\n"
	    "l: 0\r\n\r\n";
	char out[1024];
	struct sip_pbuf b;
	long n;

	(void)state;
	parse(&m, in, sizeof(in) - 1);

	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line(&b, m.method_name, m.ruri);
	sip_print_copy_all(&b, &m, SIP_HDR_VIA, SIP_PRINT_NAME_ASIS);
	sip_print_copy(&b, sip_msg_hdr(&m, SIP_HDR_TO), SIP_PRINT_NAME_CANONICAL);
	sip_print_copy(&b, sip_msg_hdr(&m, SIP_HDR_FROM), SIP_PRINT_NAME_COMPACT);
	sip_print_copy(&b, sip_msg_hdr(&m, SIP_HDR_CALL_ID), SIP_PRINT_NAME_CANONICAL);
	sip_print_copy(&b, sip_msg_hdr(&m, SIP_HDR_CSEQ), SIP_PRINT_NAME_COMPACT); /* none: long */
	sip_print_copy_all(&b, &m, SIP_HDR_CONTACT, SIP_PRINT_NAME_CANONICAL);
	sip_print_copy(&b, sip_msg_hdr_by_name(&m, STRV("X-Custom")), SIP_PRINT_NAME_CANONICAL);
	sip_print_body(&b, STRV(""), STRV(""));
	n = sip_print_finish(&b);
	const char *want = "REGISTER sip:example.com SIP/2.0\r\n"
			   "v: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
			   "v: SIP/2.0/UDP h2;branch=z9hG4bK2\r\n"
			   "VIA: SIP/2.0/UDP h3;branch=z9hG4bK3\r\n"
			   "To: <sip:a@example.com>\r\n"
			   "f: <sip:a@example.com>;tag=1\r\n"
			   "Call-ID: cid\r\n"
			   "CSeq: 3 REGISTER\r\n"
			   "Contact: <sip:a@h1>;expires=60\r\n"
			   "x-custom: folded\r\n value\r\n"
			   "Content-Length: 0\r\n\r\n";

	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, (size_t)n);
	parse(&m2, out, (size_t)n);
	assert_int_equal(sip_msg_hdr_count(&m2, SIP_HDR_VIA), 3);
	assert_strv(m2.call_id, "cid");

	/* a copy into another message keeps the order the caller prints in */
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 200, STRV("OK"));
	sip_print_copy_all(&b, &m, SIP_HDR_VIA, SIP_PRINT_NAME_CANONICAL);
	sip_print_copy_all(&b, &m, SIP_HDR_ROUTE, SIP_PRINT_NAME_CANONICAL); /* none */
	sip_print_body(&b, STRV(""), STRV(""));
	n = sip_print_finish(&b);
	assert_int_equal(
	    n, strlen("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\n"
		      "Via: SIP/2.0/UDP h2;branch=z9hG4bK2\r\n"
		      "Via: SIP/2.0/UDP h3;branch=z9hG4bK3\r\nContent-Length: 0\r\n\r\n"));
}

/* Builds a reference message into a buffer of capacity cap. */
static long build(char *out, size_t cap, struct sip_pbuf *b)
{
	sip_print_init(b, out, cap);
	sip_print_request_line(b, STRV("MESSAGE"), STRV("sip:bob@example.com"));
	sip_print_hdr(b, SIP_HDR_VIA, STRV("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"));
	sip_print_hdrf(b, SIP_HDR_CALL_ID, "%s-%d", "call", 12345);
	sip_print_hdr_uint(b, SIP_HDR_MAX_FORWARDS, 70);
	sip_print_hdr(b, SIP_HDR_FROM, STRV("<sip:a@example.com>;tag=1"));
	sip_print_hdr(b, SIP_HDR_TO, STRV("<sip:bob@example.com>"));
	sip_print_hdr(b, SIP_HDR_CSEQ, STRV("1 MESSAGE"));
	sip_print_body(b, STRV("text/plain"), STRV("hello world"));
	return sip_print_finish(b);
}

static void test_overflow(void **state)
{
	char full[1024], out[1024];
	struct sip_pbuf b;
	long n = build(full, sizeof(full), &b);

	(void)state;
	assert_true(n > 0);
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		memset(out, '#', sizeof(out));
		assert_int_equal(build(out, cap, &b), -ENOBUFS);
		assert_true(b.overflow);
		assert_true(b.len <= cap);
		/* nothing torn: what was written is a prefix of whole lines */
		assert_memory_equal(out, full, b.len);
		assert_true(b.len == 0 || (out[b.len - 2] == '\r' && out[b.len - 1] == '\n'));
		assert_int_equal(out[cap], '#'); /* never a byte past cap */
	}
	assert_int_equal(build(out, (size_t)n, &b), n);
	assert_memory_equal(out, full, (size_t)n);
	parse(&m, out, (size_t)n);
	assert_strv(m.body, "hello world");
	assert_strv(m.call_id, "call-12345");
}

static void test_refusals(void **state)
{
	char out[512];
	struct sip_pbuf b;

	(void)state;
	/* header injection: CR/LF only as folds */
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 200, STRV("OK"));
	sip_print_hdr(&b, SIP_HDR_SUBJECT, STRV("hi\r\nVia: evil"));
	assert_true(b.invalid);
	assert_int_equal(b.len, strlen("SIP/2.0 200 OK\r\n"));
	sip_print_body(&b, STRV(""), STRV(""));
	assert_int_equal(sip_print_finish(&b), -EINVAL);

	static const char *bad_values[] = { "a\nb", "a\rb", "a\r\n", "a\r\nb", "a\r\n\r\n b" };

	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		sip_print_init(&b, out, sizeof(out));
		sip_print_hdr_name(&b, STRV("X"), strv_cstr(bad_values[i]));
		assert_true(b.invalid);
		assert_int_equal(b.len, 0);
	}
	sip_print_init(&b, out, sizeof(out));
	sip_print_hdr_name(&b, STRV("X"), STRV("a\r\n b\r\n\tc")); /* folds are fine */
	assert_false(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_hdrf(&b, SIP_HDR_SUBJECT, "%s", "x\r\nTo: y");
	assert_true(b.invalid);
	assert_int_equal(b.len, 0);

	/* names, methods, URIs, status codes */
	static const char *bad_names[] = { "", "Bad Name", "X:", "X\r\n", "\xc3\xa9" };

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		sip_print_init(&b, out, sizeof(out));
		sip_print_hdr_name(&b, strv_cstr(bad_names[i]), STRV("v"));
		assert_true(b.invalid);
	}
	sip_print_init(&b, out, sizeof(out));
	sip_print_hdr(&b, SIP_HDR_OTHER, STRV("v"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_hdrf_name(&b, "Bad Name", "%d", 1);
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line(&b, STRV("INV ITE"), STRV("sip:a"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line(&b, STRV("INVITE"), STRV("sip:a b"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line(&b, STRV("INVITE"), STRV(""));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_request_line_m(&b, SIP_METHOD_OTHER, STRV("sip:a"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 99, STRV("x"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 700, STRV("x"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 200, STRV("O\nK"));
	assert_true(b.invalid);
	sip_print_init(&b, out, sizeof(out));
	sip_print_copy_all(&b, &m, SIP_HDR_COUNT, SIP_PRINT_NAME_ASIS);
	assert_true(b.invalid);

	/* the body ends the message: exactly once, nothing after it */
	sip_print_init(&b, out, sizeof(out));
	sip_print_status_line(&b, 200, STRV("OK"));
	assert_int_equal(sip_print_finish(&b), -EINVAL);
	sip_print_body(&b, STRV(""), STRV(""));
	assert_true(sip_print_finish(&b) > 0);
	sip_print_hdr(&b, SIP_HDR_SUBJECT, STRV("late"));
	assert_int_equal(sip_print_finish(&b), -EINVAL);
	sip_print_init(&b, out, sizeof(out));
	sip_print_body(&b, STRV(""), STRV(""));
	sip_print_body(&b, STRV(""), STRV(""));
	assert_int_equal(sip_print_finish(&b), -EINVAL);

	/* overflow wins over invalid in finish, and both are sticky */
	sip_print_init(&b, out, 4);
	sip_print_status_line(&b, 200, STRV("OK"));
	sip_print_raw(&b, STRV("xy"));
	assert_int_equal(b.len, 0);
	assert_int_equal(sip_print_finish(&b), -ENOBUFS);
}

static void test_raw_and_uint(void **state)
{
	char out[256];
	struct sip_pbuf b;
	long n;

	(void)state;
	sip_print_init(&b, out, sizeof(out));
	sip_print_raw(&b, STRV("SIP/2.0 200 OK\r\n"));
	sip_print_hdr_uint(&b, SIP_HDR_EXPIRES, 0);
	sip_print_hdr_uint(&b, SIP_HDR_RSEQ, 18446744073709551615ull);
	sip_print_body(&b, STRV(""), STRV(""));
	n = sip_print_finish(&b);
	assert_int_equal(n, strlen("SIP/2.0 200 OK\r\nExpires: 0\r\nRSeq: 18446744073709551615\r\n"
				   "Content-Length: 0\r\n\r\n"));
	assert_memory_equal(out,
			    "SIP/2.0 200 OK\r\nExpires: 0\r\nRSeq: 18446744073709551615\r\n"
			    "Content-Length: 0\r\n\r\n",
			    (size_t)n);
}

/*
 * Round trip over the whole corpus: parse, print the start line and every
 * entry (each list element on its own line, names as written), the body; parse
 * again: the same entries, values, shortcuts and body.
 */
static void roundtrip_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	static char in[70000], out[140000];

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[512];
		struct sip_pbuf b;
		FILE *f;
		size_t len;
		long n;

		if (!strstr(e->d_name, ".sip"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(in, 1, sizeof(in), f);
		fclose(f);
		if (sip_msg_parse(&m, in, len, NULL, NULL) != 0)
			continue; /* the refused torture messages */
		sip_print_init(&b, out, sizeof(out));
		if (m.is_request)
			sip_print_request_line(&b, m.method_name, m.ruri);
		else
			sip_print_status_line(&b, m.status, m.reason.len ? m.reason : STRV(" "));
		for (uint16_t i = 0; i < m.nhdrs; i++)
			if (m.hdrs[i].id != SIP_HDR_CONTENT_LENGTH)
				sip_print_copy(&b, &m.hdrs[i], SIP_PRINT_NAME_ASIS);
		sip_print_body(&b, STRV(""), m.body);
		n = sip_print_finish(&b);
		if (n < 0)
			fail_msg("%s: print %ld", path, n);
		parse(&m2, out, (size_t)n);
		assert_int_equal(m2.is_request, m.is_request);
		assert_int_equal(m2.method, m.method);
		assert_true(strv_eq(m2.method_name, m.method_name));
		assert_true(strv_eq(m2.ruri, m.ruri));
		assert_int_equal(m2.status, m.status);
		assert_true(strv_eq(m2.call_id, m.call_id));
		assert_int_equal(m2.cseq, m.cseq);
		assert_true(strv_eq(m2.cseq_method_name, m.cseq_method_name));
		assert_true(strv_eq(m2.body, m.body));
		uint16_t j = 0;

		for (uint16_t i = 0; i < m.nhdrs; i++) {
			if (m.hdrs[i].id == SIP_HDR_CONTENT_LENGTH)
				continue;
			assert_int_equal(m2.hdrs[j].id, m.hdrs[i].id);
			assert_true(strv_eq(m2.hdrs[j].name, m.hdrs[i].name));
			assert_true(strv_eq(m2.hdrs[j].value, m.hdrs[i].value));
			j++;
		}
		assert_int_equal(m2.hdrs[j].id, SIP_HDR_CONTENT_LENGTH);
		assert_int_equal(m2.nhdrs, j + 1);
		(*count)++;
	}
	closedir(d);
}

/* RFC 3581 on the top Via of a response (also the 100 Trying's, via sip_tsx_via_h). */
static void test_reply_via(void **state)
{
	struct sip_flow fl = { .proto = SIP_PROTO_UDP };
	char buf[256];
	long n;

	(void)state;
	assert_int_equal(sa_parse_cstr(&fl.remote, "192.0.2.7:40000", 5060), 0);
	/* rport asked: filled, and received= even when the sent-by matches */
	n = sip_reply_via(&fl, STRV("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport"), buf,
			  sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport=40000;"
					   "received=192.0.2.7"));
	assert_memory_equal(buf,
			    "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport=40000;"
			    "received=192.0.2.7",
			    (size_t)n);
	/* no rport, sent-by is the source: unchanged */
	n = sip_reply_via(&fl, STRV("SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bKb"), buf,
			  sizeof(buf));
	assert_int_equal((size_t)n, strlen("SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bKb"));
	/* an old received= is replaced */
	n = sip_reply_via(&fl, STRV("SIP/2.0/UDP h;received=1.2.3.4;branch=z9hG4bKc"), buf,
			  sizeof(buf));
	assert_memory_equal(buf, "SIP/2.0/UDP h;branch=z9hG4bKc;received=192.0.2.7", (size_t)n);
	/* no room, or no Via to speak of: the caller copies it */
	assert_true(sip_reply_via(&fl, STRV("SIP/2.0/UDP h;branch=z9hG4bKd;rport"), buf, 8) < 0);
	assert_true(sip_reply_via(&fl, STRV("garbage"), buf, sizeof(buf)) < 0);
}

static void test_roundtrip_corpus(void **state)
{
	unsigned count = 0;

	(void)state;
	roundtrip_dir("../corpus/rfc4475", &count);
	roundtrip_dir("../corpus/real", &count);
	assert_true(count >= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_raw_and_uint),
		cmocka_unit_test(test_roundtrip_corpus),
		cmocka_unit_test(test_reply_via),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
