/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * STUN binding requests (stun.h): RFC 5769 vectors, the error answers, and malformed input.
 * The responses are checked with an independent HMAC (OpenSSL) and a bitwise CRC-32 here,
 * themselves checked against the RFC 5769 responses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dataplane/stun.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char rfc_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 section 2.1: request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME evtj:h6vY */
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
	0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
	0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
	0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 section 2.2: IPv4 response, 192.0.2.1:32853 */
static const uint8_t rfc_response4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
	0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
	0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3: IPv6 response, [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
static const uint8_t rfc_response6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02,
	0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6,
	0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* ---- independent helpers: parse and verify a message ---- */

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)g16(p) << 16 | g16(p + 2);
}

static void p16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0xedb88320 : 0);
	}
	return ~crc;
}

/* Offset of the first attribute @p type (its header), or 0. Asserts the message is well formed. */
static size_t find_attr(const uint8_t *m, size_t len, uint16_t type)
{
	size_t off = 20;

	assert_true(len >= 20);
	assert_int_equal(g16(m + 2) + 20, len);
	while (off < len) {
		uint16_t t = g16(m + off), l = g16(m + off + 2);

		assert_true(off + 4 + ((l + 3u) & ~3u) <= len);
		if (t == type)
			return off;
		off += 4 + ((l + 3u) & ~3u);
	}
	return 0;
}

static bool fingerprint_ok(const uint8_t *m, size_t len)
{
	size_t off = find_attr(m, len, 0x8028);

	return off && off + 8 == len && g32(m + off + 4) == (crc32_bitwise(m, off) ^ 0x5354554e);
}

static bool integrity_ok(const uint8_t *m, size_t len, const char *pwd)
{
	size_t off = find_attr(m, len, 0x0008);
	uint8_t copy[1024], mac[20];
	unsigned int maclen;

	if (!off || off > sizeof(copy))
		return false;
	memcpy(copy, m, off);
	p16(copy + 2, (uint16_t)(off - 20 + 24));
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), copy, off, mac, &maclen);
	return memcmp(mac, m + off + 4, 20) == 0;
}

static void xor_mapped(const uint8_t *m, size_t len, struct sa *out)
{
	size_t off = find_attr(m, len, 0x0020);
	const uint8_t *v = m + off + 4;
	uint16_t port;

	assert_true(off != 0);
	port = g16(v + 2) ^ 0x2112;
	sa_init(out);
	if (v[1] == 0x01) {
		struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
		uint8_t *a = (uint8_t *)&in.sin_addr;

		for (int i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ m[4 + i];
		assert_int_equal(sa_set_sockaddr(out, (struct sockaddr *)&in, sizeof(in)), 0);
	} else {
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

		assert_int_equal(v[1], 0x02);
		for (int i = 0; i < 16; i++)
			in6.sin6_addr.s6_addr[i] = v[4 + i] ^ m[4 + i];
		assert_int_equal(sa_set_sockaddr(out, (struct sockaddr *)&in6, sizeof(in6)), 0);
	}
}

static unsigned error_code(const uint8_t *m, size_t len)
{
	size_t off = find_attr(m, len, 0x0009);

	assert_true(off != 0);
	return m[off + 6] * 100u + m[off + 7];
}

static struct sa addr(const char *text)
{
	struct sa sa;

	assert_int_equal(sa_parse_cstr(&sa, text, 0), 0);
	return sa;
}

/* ---- the helpers against the RFC ---- */

static void test_rfc_responses_verify(void **state)
{
	struct sa got, want;

	(void)state;
	assert_true(fingerprint_ok(rfc_request, sizeof(rfc_request)));
	assert_true(integrity_ok(rfc_request, sizeof(rfc_request), rfc_pwd));
	assert_true(fingerprint_ok(rfc_response4, sizeof(rfc_response4)));
	assert_true(integrity_ok(rfc_response4, sizeof(rfc_response4), rfc_pwd));
	assert_true(fingerprint_ok(rfc_response6, sizeof(rfc_response6)));
	assert_true(integrity_ok(rfc_response6, sizeof(rfc_response6), rfc_pwd));
	xor_mapped(rfc_response4, sizeof(rfc_response4), &got);
	want = addr("192.0.2.1:32853");
	assert_true(sa_equal(&got, &want));
	xor_mapped(rfc_response6, sizeof(rfc_response6), &got);
	want = addr("[2001:db8:1234:5678:11:2233:4455:6677]:32853");
	assert_true(sa_equal(&got, &want));
}

/* ---- stun_is_stun ---- */

static void test_is_stun(void **state)
{
	static const uint8_t rtp[20] = { 0x80, 0x00, 0x00, 0x01, 0x21, 0x12, 0xa4, 0x42 };
	static const uint8_t dtls[20] = { 0x16, 0xfe, 0xfd, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	static const uint8_t nocookie[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x43 };

	(void)state;
	assert_true(stun_is_stun(rfc_request, sizeof(rfc_request)));
	assert_true(stun_is_stun(rfc_response4, sizeof(rfc_response4)));
	assert_false(stun_is_stun(rfc_request, 19));
	assert_false(stun_is_stun(rfc_request, 0));
	assert_false(stun_is_stun(rtp, sizeof(rtp)));
	assert_false(stun_is_stun(dtls, sizeof(dtls)));
	assert_false(stun_is_stun(nocookie, sizeof(nocookie)));
}

/* ---- answering ---- */

struct answer {
	enum stun_outcome outcome;
	uint8_t buf[512];
	size_t len;
};

static void answer(struct answer *a, const uint8_t *req, size_t len, const char *src,
		   const char *ufrag, const char *pwd)
{
	struct stun_creds creds = { ufrag, pwd };
	struct sa from = addr(src);

	memset(a->buf, 0xee, sizeof(a->buf));
	a->outcome = stun_answer(req, len, &from, &creds, a->buf, sizeof(a->buf), &a->len);
	if (a->outcome != STUN_DROP) {
		assert_true(a->len >= 20 && a->len <= STUN_RESPONSE_MAX);
		assert_memory_equal(a->buf + 4, req + 4, 16); /* cookie + transaction id */
		find_attr(a->buf, a->len, 0);		      /* well formed */
	}
}

static void assert_success_for(const struct answer *a, const char *src, const char *pwd)
{
	struct sa got, want = addr(src);

	assert_int_equal(a->outcome, STUN_ANSWERED);
	assert_int_equal(g16(a->buf), 0x0101);
	xor_mapped(a->buf, a->len, &got);
	assert_true(sa_equal(&got, &want));
	if (pwd)
		assert_true(integrity_ok(a->buf, a->len, pwd));
	else
		assert_int_equal(find_attr(a->buf, a->len, 0x0008), 0);
}

static void test_rfc_request_with_creds(void **state)
{
	static const char *const srcs[] = { "192.0.2.1:32853",
					    "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
					    "10.1.2.3:1", "[::1]:65535" };
	struct answer a;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(srcs); i++) {
		answer(&a, rfc_request, sizeof(rfc_request), srcs[i], "evtj", rfc_pwd);
		assert_success_for(&a, srcs[i], rfc_pwd);
		assert_true(fingerprint_ok(a.buf, a.len));
		/* MESSAGE-INTEGRITY then FINGERPRINT, nothing after */
		assert_int_equal(find_attr(a.buf, a.len, 0x0008) + 24 + 8, a.len);
	}
}

static void test_rfc_request_without_creds(void **state)
{
	struct answer a;

	(void)state;
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:32853", "", NULL);
	assert_success_for(&a, "192.0.2.1:32853", NULL);
	assert_true(fingerprint_ok(a.buf, a.len)); /* the request had one */
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:32853", NULL, NULL);
	assert_success_for(&a, "192.0.2.1:32853", NULL);
}

static void test_rfc_request_wrong_creds(void **state)
{
	struct answer a;

	(void)state;
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:1", "evtj", "wrong password");
	assert_int_equal(a.outcome, STUN_ERROR_ANSWER);
	assert_int_equal(g16(a.buf), 0x0111);
	assert_int_equal(error_code(a.buf, a.len), 401);
	assert_int_equal(find_attr(a.buf, a.len, 0x0008), 0);
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:1", "h6vY", rfc_pwd);
	assert_int_equal(error_code(a.buf, a.len), 401);
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:1", "evt", rfc_pwd);
	assert_int_equal(error_code(a.buf, a.len), 401);
	answer(&a, rfc_request, sizeof(rfc_request), "192.0.2.1:1", "evtj:h6vY", rfc_pwd);
	assert_int_equal(error_code(a.buf, a.len), 401);
}

/* A bit flipped where MESSAGE-INTEGRITY sits: 401. In FINGERPRINT or covered data: dropped. */
static void test_rfc_request_tampered(void **state)
{
	uint8_t req[sizeof(rfc_request)];
	struct answer a;

	(void)state;
	memcpy(req, rfc_request, sizeof(req));
	req[84] ^= 1; /* inside the HMAC value */
	/* keep the fingerprint right, so only the integrity is wrong */
	{
		uint32_t fp = crc32_bitwise(req, 100) ^ 0x5354554e;

		req[104] = (uint8_t)(fp >> 24);
		req[105] = (uint8_t)(fp >> 16);
		req[106] = (uint8_t)(fp >> 8);
		req[107] = (uint8_t)fp;
	}
	answer(&a, req, sizeof(req), "192.0.2.1:1", "evtj", rfc_pwd);
	assert_int_equal(a.outcome, STUN_ERROR_ANSWER);
	assert_int_equal(error_code(a.buf, a.len), 401);

	memcpy(req, rfc_request, sizeof(req));
	req[107] ^= 1;
	answer(&a, req, sizeof(req), "192.0.2.1:1", "evtj", rfc_pwd);
	assert_int_equal(a.outcome, STUN_DROP);
	answer(&a, req, sizeof(req), "192.0.2.1:1", "", "");
	assert_int_equal(a.outcome, STUN_DROP);

	memcpy(req, rfc_request, sizeof(req));
	req[30] ^= 1; /* SOFTWARE text */
	answer(&a, req, sizeof(req), "192.0.2.1:1", "evtj", rfc_pwd);
	assert_int_equal(a.outcome, STUN_DROP);
}

/* ---- handmade requests ---- */

struct builder {
	uint8_t b[256];
	size_t len;
};

static void build_start(struct builder *m, uint16_t type)
{
	static const uint8_t hdr[20] = { 0, 0, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1,	 2,
					 3, 4, 5, 6, 7,	   8,	 9,    10,   11, 12 };

	memcpy(m->b, hdr, 20);
	p16(m->b, type);
	m->len = 20;
}

static void build_attr(struct builder *m, uint16_t type, const void *v, size_t len)
{
	p16(m->b + m->len, type);
	p16(m->b + m->len + 2, (uint16_t)len);
	memset(m->b + m->len + 4, 0, (len + 3) & ~3u);
	memcpy(m->b + m->len + 4, v, len);
	m->len += 4 + ((len + 3) & ~3u);
	p16(m->b + 2, (uint16_t)(m->len - 20));
}

static void build_integrity(struct builder *m, const char *pwd)
{
	uint8_t mac[20];
	unsigned int maclen;

	p16(m->b + 2, (uint16_t)(m->len - 20 + 24));
	HMAC(EVP_sha1(), pwd, (int)strlen(pwd), m->b, m->len, mac, &maclen);
	build_attr(m, 0x0008, mac, 20);
}

static void build_fingerprint(struct builder *m)
{
	uint8_t v[4];
	uint32_t fp;

	p16(m->b + 2, (uint16_t)(m->len - 20 + 8));
	fp = crc32_bitwise(m->b, m->len) ^ 0x5354554e;
	v[0] = (uint8_t)(fp >> 24);
	v[1] = (uint8_t)(fp >> 16);
	v[2] = (uint8_t)(fp >> 8);
	v[3] = (uint8_t)fp;
	build_attr(m, 0x8028, v, 4);
}

static void test_minimal_request(void **state)
{
	struct builder m;
	struct answer a;

	(void)state;
	build_start(&m, 0x0001);
	answer(&a, m.b, m.len, "198.51.100.7:4000", "", "");
	assert_success_for(&a, "198.51.100.7:4000", NULL);
	assert_int_equal(a.len, 20 + 12); /* XOR-MAPPED-ADDRESS only */
	/* with credentials the request must authenticate itself */
	answer(&a, m.b, m.len, "198.51.100.7:4000", "abcd", "secret");
	assert_int_equal(a.outcome, STUN_ERROR_ANSWER);
	assert_int_equal(error_code(a.buf, a.len), 400);
}

static void test_ice_request(void **state)
{
	uint8_t prio[4] = { 0x6e, 0, 1, 0xff };
	struct builder m;
	struct answer a;

	(void)state;
	build_start(&m, 0x0001);
	build_attr(&m, 0x0006, "abcd:wxyz", 9);
	build_attr(&m, 0x0024, prio, 4);
	build_attr(&m, 0x0025, "", 0);
	build_integrity(&m, "secret");
	build_fingerprint(&m);
	answer(&a, m.b, m.len, "[2001:db8::1]:5000", "abcd", "secret");
	assert_success_for(&a, "[2001:db8::1]:5000", "secret");
	assert_true(fingerprint_ok(a.buf, a.len));
	/* USERNAME without MESSAGE-INTEGRITY */
	build_start(&m, 0x0001);
	build_attr(&m, 0x0006, "abcd:wxyz", 9);
	answer(&a, m.b, m.len, "192.0.2.1:1", "abcd", "secret");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* MESSAGE-INTEGRITY without USERNAME */
	build_start(&m, 0x0001);
	build_integrity(&m, "secret");
	answer(&a, m.b, m.len, "192.0.2.1:1", "abcd", "secret");
	assert_int_equal(error_code(a.buf, a.len), 400);
}

static void test_unknown_attributes(void **state)
{
	uint8_t v[4] = { 0 };
	struct builder m;
	struct answer a;
	size_t off;

	(void)state;
	build_start(&m, 0x0001);
	build_attr(&m, 0x0003, v, 4); /* CHANGE-REQUEST: required, unknown here */
	build_attr(&m, 0x8077, v, 3); /* optional: ignored */
	build_attr(&m, 0x7fff, v, 0); /* required */
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(a.outcome, STUN_ERROR_ANSWER);
	assert_int_equal(error_code(a.buf, a.len), 420);
	off = find_attr(a.buf, a.len, 0x000a);
	assert_true(off != 0);
	assert_int_equal(g16(a.buf + off + 2), 4);
	assert_int_equal(g16(a.buf + off + 4), 0x0003);
	assert_int_equal(g16(a.buf + off + 6), 0x7fff);

	/* authenticated: the 420 is signed */
	build_start(&m, 0x0001);
	build_attr(&m, 0x0006, "abcd:x", 6);
	build_attr(&m, 0x0003, v, 4);
	build_integrity(&m, "pw");
	build_fingerprint(&m);
	answer(&a, m.b, m.len, "192.0.2.1:9", "abcd", "pw");
	assert_int_equal(error_code(a.buf, a.len), 420);
	assert_true(integrity_ok(a.buf, a.len, "pw"));
	assert_true(fingerprint_ok(a.buf, a.len));

	/* only comprehension-optional ones: answered */
	build_start(&m, 0x0001);
	build_attr(&m, 0x8077, v, 3);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_success_for(&a, "192.0.2.1:9", NULL);
}

/* Header sane enough to answer, the rest broken: 400. */
static void test_malformed(void **state)
{
	struct builder m;
	struct answer a;

	(void)state;
	/* attribute longer than the message */
	build_start(&m, 0x0001);
	build_attr(&m, 0x8022, "abcd", 4);
	p16(m.b + 22, 5);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* message length not a multiple of 4 */
	build_start(&m, 0x0001);
	build_attr(&m, 0x8022, "abcd", 4);
	p16(m.b + 2, 7);
	answer(&a, m.b, 27, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* message length beyond the datagram */
	build_start(&m, 0x0001);
	p16(m.b + 2, 8);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* trailing bytes after the message */
	build_start(&m, 0x0001);
	answer(&a, m.b, m.len + 4, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* a dangling attribute header fragment */
	build_start(&m, 0x0001);
	build_attr(&m, 0x8022, "abcd", 4);
	p16(m.b + 2, 4);
	answer(&a, m.b, 24, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* MESSAGE-INTEGRITY of the wrong size */
	build_start(&m, 0x0001);
	build_attr(&m, 0x0008, "short", 5);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* an attribute after FINGERPRINT */
	build_start(&m, 0x0001);
	build_fingerprint(&m);
	build_attr(&m, 0x8022, "abcd", 4);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	/* unknown method (Allocate): 400, as an Allocate error response */
	build_start(&m, 0x0003);
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(error_code(a.buf, a.len), 400);
	assert_int_equal(g16(a.buf), 0x0113);
}

static void test_dropped(void **state)
{
	struct builder m;
	struct answer a;
	uint8_t small[39]; /* the answer needs 40 */
	size_t len = 99;
	struct sa from = addr("192.0.2.1:9");
	struct sa unset;

	(void)state;
	build_start(&m, 0x0011); /* binding indication */
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(a.outcome, STUN_DROP);
	answer(&a, rfc_response4, sizeof(rfc_response4), "192.0.2.1:9", "", "");
	assert_int_equal(a.outcome, STUN_DROP);
	build_start(&m, 0x0111); /* error response */
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(a.outcome, STUN_DROP);
	build_start(&m, 0x0001);
	m.b[0] = 0x80; /* RTP */
	answer(&a, m.b, m.len, "192.0.2.1:9", "", "");
	assert_int_equal(a.outcome, STUN_DROP);
	/* no room for the answer */
	assert_int_equal(
	    stun_answer(rfc_request, sizeof(rfc_request), &from, NULL, small, sizeof(small), &len),
	    STUN_DROP);
	assert_int_equal(len, 0);
	/* no room to check integrity */
	{
		struct stun_creds c = { "evtj", rfc_pwd };
		uint8_t out[70]; /* the answer needs 64, the request is hashed up to 76 */

		assert_int_equal(stun_answer(rfc_request, sizeof(rfc_request), &from, &c, out,
					     sizeof(out), &len),
				 STUN_DROP);
	}
	/* no address to map */
	sa_init(&unset);
	assert_int_equal(
	    stun_answer(rfc_request, sizeof(rfc_request), &unset, NULL, a.buf, sizeof(a.buf), &len),
	    STUN_DROP);
}

/* Every truncation and every single-byte corruption: an answer or a drop, never a crash. */
static void test_mutations_are_safe(void **state)
{
	uint8_t req[sizeof(rfc_request)];
	struct answer a;

	(void)state;
	for (size_t len = 0; len <= sizeof(rfc_request); len++) {
		answer(&a, rfc_request, len, "192.0.2.1:9", "evtj", rfc_pwd);
		if (len < sizeof(rfc_request))
			assert_int_not_equal(a.outcome, STUN_ANSWERED);
	}
	for (size_t i = 0; i < sizeof(req); i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(req, rfc_request, sizeof(req));
			req[i] ^= (uint8_t)(1u << bit);
			answer(&a, req, sizeof(req), "192.0.2.1:9", "evtj", rfc_pwd);
			/*
			 * Everything is covered by integrity or fingerprint, except the
			 * FINGERPRINT type itself (bytes 100-101): changed, it is just an
			 * attribute after MESSAGE-INTEGRITY, which is ignored.
			 */
			if (i != 100 && i != 101)
				assert_int_not_equal(a.outcome, STUN_ANSWERED);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_responses_verify),
		cmocka_unit_test(test_is_stun),
		cmocka_unit_test(test_rfc_request_with_creds),
		cmocka_unit_test(test_rfc_request_without_creds),
		cmocka_unit_test(test_rfc_request_wrong_creds),
		cmocka_unit_test(test_rfc_request_tampered),
		cmocka_unit_test(test_minimal_request),
		cmocka_unit_test(test_ice_request),
		cmocka_unit_test(test_unknown_attributes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_mutations_are_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
