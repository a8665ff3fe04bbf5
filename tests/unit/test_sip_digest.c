/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HTTP digest: RFC 2617 §3.5 and RFC 7616 §3.9.1 vectors, nonces, challenges,
 * and verification (wrong, stale, forged, replayed, malformed credentials).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sbc/registrar/digest.h"
#include "sbc/sip/hdr.h"

#define T0 1000000

/* --- vectors ------------------------------------------------------------- */

static void test_rfc2617_vector(void **state)
{
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];

	(void)state;
	assert_int_equal(sip_digest_ha1(SIP_DIGEST_MD5, STRV("Mufasa"), STRV("testrealm@host.com"),
					STRV("Circle Of Life"), ha1),
			 0);
	assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
	assert_int_equal(
	    sip_digest_response(SIP_DIGEST_MD5, strv_cstr(ha1), STRV("GET"),
				STRV("/dir/index.html"), STRV("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
				STRV("00000001"), STRV("0a4f113b"), STRV("auth"), resp),
	    0);
	assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}

static void rfc7616(enum sip_digest_alg alg, const char *expect)
{
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX];

	assert_int_equal(sip_digest_ha1(alg, STRV("Mufasa"), STRV("http-auth@example.org"),
					STRV("Circle of Life"), ha1),
			 0);
	assert_int_equal(strlen(ha1), sip_digest_hex_len(alg));
	assert_int_equal(sip_digest_response(
			     alg, strv_cstr(ha1), STRV("GET"), STRV("/dir/index.html"),
			     STRV("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"), STRV("00000001"),
			     STRV("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"), STRV("auth"),
			     resp),
			 0);
	assert_string_equal(resp, expect);
}

static void test_rfc7616_md5(void **state)
{
	(void)state;
	rfc7616(SIP_DIGEST_MD5, "8ca523f5e9506fed4657c9700eebdbec");
}

static void test_rfc7616_sha256(void **state)
{
	(void)state;
	rfc7616(SIP_DIGEST_SHA256,
		"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void test_alg_parse(void **state)
{
	enum sip_digest_alg a = SIP_DIGEST_SHA256;

	(void)state;
	assert_int_equal(sip_digest_alg_parse(STRV_NULL, &a), 0);
	assert_int_equal(a, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_alg_parse(STRV("sha-256"), &a), 0);
	assert_int_equal(a, SIP_DIGEST_SHA256);
	assert_int_equal(sip_digest_alg_parse(STRV("md5"), &a), 0);
	assert_int_equal(a, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_alg_parse(STRV("MD5-sess"), &a), -ENOTSUP);
	assert_int_equal(sip_digest_alg_parse(STRV("SHA-512-256"), &a), -ENOTSUP);
	assert_string_equal(sip_digest_alg_name(SIP_DIGEST_SHA256), "SHA-256");
	assert_string_equal(sip_digest_alg_name(SIP_DIGEST_MD5), "MD5");
}

/* --- server side --------------------------------------------------------- */

struct cred {
	enum sip_digest_alg alg;
	const char *user, *realm, *password, *uri, *nonce, *cnonce, *qop;
	uint32_t nc;
	bool upper; /* send the response in upper case */
};

/* An Authorization value for @p c, parsed into @p a (views into @p buf). */
static void make_auth(const struct cred *c, char *buf, size_t size, struct sip_auth *a)
{
	char ha1[SIP_DIGEST_HEX_MAX], resp[SIP_DIGEST_HEX_MAX], nc[16];
	const char *qop = c->qop ? c->qop : "auth";

	snprintf(nc, sizeof(nc), "%08x", c->nc);
	assert_int_equal(sip_digest_ha1(c->alg, strv_cstr(c->user), strv_cstr(c->realm),
					strv_cstr(c->password), ha1),
			 0);
	assert_int_equal(
	    sip_digest_response(c->alg, strv_cstr(ha1), STRV("REGISTER"), strv_cstr(c->uri),
				strv_cstr(c->nonce), *qop ? strv_cstr(nc) : STRV_NULL,
				*qop ? strv_cstr(c->cnonce) : STRV_NULL, strv_cstr(qop), resp),
	    0);
	if (c->upper) {
		for (char *p = resp; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 32);
	}
	if (*qop)
		snprintf(buf, size,
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s, cnonce=\"%s\", qop=%s, nc=%s",
			 c->user, c->realm, c->nonce, c->uri, resp, sip_digest_alg_name(c->alg),
			 c->cnonce, qop, nc);
	else
		snprintf(buf, size,
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s",
			 c->user, c->realm, c->nonce, c->uri, resp, sip_digest_alg_name(c->alg));
	assert_int_equal(sip_auth_parse(a, strv_cstr(buf)), 0);
}

struct fx {
	struct sip_digest *d;
	char nonce[SIP_DIGEST_NONCE_LEN + 1];
	char ha1[SIP_DIGEST_ALG_COUNT][SIP_DIGEST_HEX_MAX];
};

static int setup(void **state)
{
	static struct fx f;
	struct sip_digest_conf conf = { .nonce_ttl_ms = 30000 };

	memset(&f, 0, sizeof(f));
	assert_int_equal(sip_digest_alloc(&f.d, &conf), 0);
	for (int a = 0; a < SIP_DIGEST_ALG_COUNT; a++)
		assert_int_equal(
		    sip_digest_ha1(a, STRV("alice"), STRV("example.com"), STRV("secret"), f.ha1[a]),
		    0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sip_digest_free(f->d);
	return 0;
}

static enum sip_digest_result verify(struct fx *f, uint64_t now, const struct cred *c)
{
	char buf[1024];
	struct sip_auth a;

	make_auth(c, buf, sizeof(buf), &a);
	return sip_digest_verify(f->d, now, &a, STRV("REGISTER"), STRV("example.com"),
				 strv_cstr(f->ha1[c->alg]));
}

static struct cred good(struct fx *f, enum sip_digest_alg alg, uint32_t nc)
{
	return (struct cred){ .alg = alg,
			      .user = "alice",
			      .realm = "example.com",
			      .password = "secret",
			      .uri = "sip:example.com",
			      .nonce = f->nonce,
			      .cnonce = "0a4f113b",
			      .nc = nc };
}

static void test_nonce_format(void **state)
{
	struct fx *f = *state;
	char other[SIP_DIGEST_NONCE_LEN + 1];

	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
	assert_int_equal(strlen(f->nonce), SIP_DIGEST_NONCE_LEN);
	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), other), 0);
	assert_string_not_equal(f->nonce, other); /* same instant, still unique */
}

static void test_challenge(void **state)
{
	char out[256];
	int n;

	(void)state;
	n = sip_digest_challenge(out, sizeof(out), STRV("example.com"), STRV("abc"),
				 SIP_DIGEST_SHA256, false);
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out, "Digest realm=\"example.com\", nonce=\"abc\", "
				 "algorithm=SHA-256, qop=\"auth\"");
	n = sip_digest_challenge(out, sizeof(out), STRV("example.com"), STRV("abc"), SIP_DIGEST_MD5,
				 true);
	assert_true(n > 0);
	assert_string_equal(out, "Digest realm=\"example.com\", nonce=\"abc\", "
				 "algorithm=MD5, qop=\"auth\", stale=true");
	assert_int_equal(sip_digest_challenge(out, sizeof(out), STRV("a\"b"), STRV("abc"),
					      SIP_DIGEST_MD5, false),
			 -EINVAL);
	assert_int_equal(
	    sip_digest_challenge(out, 10, STRV("example.com"), STRV("abc"), SIP_DIGEST_MD5, false),
	    -ENOBUFS);
}

static void test_verify_ok_and_wrong(void **state)
{
	struct fx *f = *state;
	struct cred c;

	for (int alg = 0; alg < SIP_DIGEST_ALG_COUNT; alg++) {
		assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
		c = good(f, alg, 1);
		c.password = "wrong";
		assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_WRONG);
		c = good(f, alg, 1);
		c.user = "mallory"; /* the HA1 is alice's */
		assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_WRONG);
		/* a wrong response does not burn the nc */
		c = good(f, alg, 1);
		assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_OK);
		c = good(f, alg, 2);
		c.upper = true; /* hex in any case */
		assert_int_equal(verify(f, T0 + 20, &c), SIP_DIGEST_OK);
	}
}

static void test_verify_stale(void **state)
{
	struct fx *f = *state;
	struct cred c;

	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
	c = good(f, SIP_DIGEST_SHA256, 1);
	/* expired (ttl 30 s) with the right password: stale; with a wrong one: wrong */
	assert_int_equal(verify(f, T0 + 30000, &c), SIP_DIGEST_STALE);
	c.password = "nope";
	assert_int_equal(verify(f, T0 + 30000, &c), SIP_DIGEST_WRONG);
	c = good(f, SIP_DIGEST_SHA256, 1);
	assert_int_equal(verify(f, T0 + 29999, &c), SIP_DIGEST_OK);

	/* a nonce that is not ours (forged, or from before a restart) */
	strcpy(f->nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
	c = good(f, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_STALE);
	/* one of ours with a flipped bit */
	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
	f->nonce[10] = f->nonce[10] == '0' ? '1' : '0';
	c = good(f, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_STALE);
	/* a nonce of another realm */
	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("other.org"), f->nonce), 0);
	c = good(f, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(f, T0 + 10, &c), SIP_DIGEST_STALE);
}

static void test_verify_replay(void **state)
{
	struct fx *f = *state;
	struct cred c;

	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
	c = good(f, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(f, T0 + 1, &c), SIP_DIGEST_OK);
	assert_int_equal(verify(f, T0 + 2, &c), SIP_DIGEST_REPLAY);
	/* nc 5, then 3 and 4 overtaken: each once */
	c = good(f, SIP_DIGEST_MD5, 5);
	assert_int_equal(verify(f, T0 + 3, &c), SIP_DIGEST_OK);
	c = good(f, SIP_DIGEST_MD5, 3);
	assert_int_equal(verify(f, T0 + 4, &c), SIP_DIGEST_OK);
	assert_int_equal(verify(f, T0 + 4, &c), SIP_DIGEST_REPLAY);
	c = good(f, SIP_DIGEST_MD5, 4);
	assert_int_equal(verify(f, T0 + 4, &c), SIP_DIGEST_OK);
	c = good(f, SIP_DIGEST_MD5, 5);
	assert_int_equal(verify(f, T0 + 4, &c), SIP_DIGEST_REPLAY);
	/* far ahead, then the window no longer covers nc 2 */
	c = good(f, SIP_DIGEST_MD5, 200);
	assert_int_equal(verify(f, T0 + 5, &c), SIP_DIGEST_OK);
	c = good(f, SIP_DIGEST_MD5, 2);
	assert_int_equal(verify(f, T0 + 5, &c), SIP_DIGEST_REPLAY);
	/* the same nc with the other algorithm is the same nonce+nc */
	c = good(f, SIP_DIGEST_SHA256, 200);
	assert_int_equal(verify(f, T0 + 5, &c), SIP_DIGEST_REPLAY);
	c = good(f, SIP_DIGEST_SHA256, 201);
	assert_int_equal(verify(f, T0 + 5, &c), SIP_DIGEST_OK);

	/* RFC 2069 form (no qop, no nc): once per nonce */
	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);
	c = good(f, SIP_DIGEST_MD5, 0);
	c.qop = "";
	assert_int_equal(verify(f, T0 + 6, &c), SIP_DIGEST_OK);
	assert_int_equal(verify(f, T0 + 7, &c), SIP_DIGEST_REPLAY);
}

/* A table of one bucket: eviction must never let a used nonce+nc through. */
static void test_replay_eviction(void **state)
{
	struct sip_digest_conf conf = { .nonce_ttl_ms = 60000, .replay_slots = 4 };
	struct fx f2 = { 0 };
	char nonces[6][SIP_DIGEST_NONCE_LEN + 1];
	struct cred c;

	(void)state;
	assert_int_equal(sip_digest_alloc(&f2.d, &conf), 0);
	for (int a = 0; a < SIP_DIGEST_ALG_COUNT; a++)
		assert_int_equal(sip_digest_ha1(a, STRV("alice"), STRV("example.com"),
						STRV("secret"), f2.ha1[a]),
				 0);
	/* an unused nonce issued early (before anything is evicted) */
	assert_int_equal(sip_digest_nonce(f2.d, T0, STRV("example.com"), nonces[5]), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(
		    sip_digest_nonce(f2.d, T0 + 100 + (uint64_t)i, STRV("example.com"), nonces[i]),
		    0);
		strcpy(f2.nonce, nonces[i]);
		c = good(&f2, SIP_DIGEST_MD5, 1);
		assert_int_equal(verify(&f2, T0 + 200, &c), SIP_DIGEST_OK);
	}
	/* nonces[0] was evicted by the fifth: any nc of it is refused now */
	strcpy(f2.nonce, nonces[0]);
	c = good(&f2, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(&f2, T0 + 300, &c), SIP_DIGEST_REPLAY);
	c = good(&f2, SIP_DIGEST_MD5, 2);
	assert_int_equal(verify(&f2, T0 + 300, &c), SIP_DIGEST_REPLAY);
	/* an unused nonce older than the evicted one: cannot be told apart, refused */
	strcpy(f2.nonce, nonces[5]);
	c = good(&f2, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(&f2, T0 + 300, &c), SIP_DIGEST_REPLAY);
	/* the others still work with a higher nc */
	strcpy(f2.nonce, nonces[4]);
	c = good(&f2, SIP_DIGEST_MD5, 2);
	assert_int_equal(verify(&f2, T0 + 300, &c), SIP_DIGEST_OK);
	/* a fresh nonce works */
	assert_int_equal(sip_digest_nonce(f2.d, T0 + 400, STRV("example.com"), f2.nonce), 0);
	c = good(&f2, SIP_DIGEST_MD5, 1);
	assert_int_equal(verify(&f2, T0 + 401, &c), SIP_DIGEST_OK);
	/* expired entries are reused before live ones: the first of these stays */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sip_digest_nonce(f2.d, T0 + 100000 + (uint64_t)i,
						  STRV("example.com"), nonces[i]),
				 0);
		strcpy(f2.nonce, nonces[i]);
		c = good(&f2, SIP_DIGEST_MD5, 1);
		assert_int_equal(verify(&f2, T0 + 100010, &c), SIP_DIGEST_OK);
	}
	strcpy(f2.nonce, nonces[0]);
	c = good(&f2, SIP_DIGEST_MD5, 2);
	assert_int_equal(verify(&f2, T0 + 100011, &c), SIP_DIGEST_OK);
	assert_int_equal(verify(&f2, T0 + 100011, &c), SIP_DIGEST_REPLAY);
	sip_digest_free(f2.d);
}

static void test_shared_secret(void **state)
{
	static const uint8_t key[] = "cluster-secret";
	struct sip_digest_conf conf = { .secret = key, .secret_len = sizeof(key) - 1 };
	struct fx a = { 0 }, b = { 0 }, c3 = { 0 };
	struct cred c;

	(void)state;
	assert_int_equal(sip_digest_alloc(&a.d, &conf), 0);
	assert_int_equal(sip_digest_alloc(&b.d, &conf), 0);
	assert_int_equal(sip_digest_alloc(&c3.d, NULL), 0);
	for (int i = 0; i < SIP_DIGEST_ALG_COUNT; i++) {
		assert_int_equal(
		    sip_digest_ha1(i, STRV("alice"), STRV("example.com"), STRV("secret"), a.ha1[i]),
		    0);
		memcpy(b.ha1[i], a.ha1[i], sizeof(a.ha1[i]));
		memcpy(c3.ha1[i], a.ha1[i], sizeof(a.ha1[i]));
	}
	assert_int_equal(sip_digest_nonce(a.d, T0, STRV("example.com"), a.nonce), 0);
	strcpy(b.nonce, a.nonce);
	strcpy(c3.nonce, a.nonce);
	c = good(&b, SIP_DIGEST_SHA256, 1);
	assert_int_equal(verify(&b, T0 + 5, &c), SIP_DIGEST_OK);
	c = good(&c3, SIP_DIGEST_SHA256, 1);
	assert_int_equal(verify(&c3, T0 + 5, &c), SIP_DIGEST_STALE);
	sip_digest_free(a.d);
	sip_digest_free(b.d);
	sip_digest_free(c3.d);
	conf.secret_len = 0;
	assert_int_equal(sip_digest_alloc(&a.d, &conf), -EINVAL);
}

static void test_verify_malformed(void **state)
{
	struct fx *f = *state;
	char buf[1024];
	struct sip_auth a;
	struct cred c;

	assert_int_equal(sip_digest_nonce(f->d, T0, STRV("example.com"), f->nonce), 0);

	c = good(f, SIP_DIGEST_MD5, 1);
	c.qop = "auth-int";
	assert_int_equal(verify(f, T0 + 1, &c), SIP_DIGEST_MALFORMED);
	c = good(f, SIP_DIGEST_MD5, 1);
	c.realm = "other.org";
	assert_int_equal(verify(f, T0 + 1, &c), SIP_DIGEST_MALFORMED);
	c = good(f, SIP_DIGEST_MD5, 0); /* nc=00000000 */
	assert_int_equal(verify(f, T0 + 1, &c), SIP_DIGEST_MALFORMED);

	/* fields missing or malformed */
	static const char *const bad[] = {
		"Digest realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", response=\"00\"",
		"Digest username=\"alice\", nonce=\"n\", uri=\"sip:x\", response=\"00\"",
		"Digest username=\"alice\", realm=\"example.com\", uri=\"sip:x\", response=\"0\"",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", response=\"0\"",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\"",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\", algorithm=MD5-sess",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\", qop=auth, nc=1, cnonce=\"c\"",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\", qop=auth, nc=00000001",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\", qop=auth, nc=0000000g, cnonce=\"c\"",
		"Digest username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\", userhash=true",
		"Basic username=\"alice\", realm=\"example.com\", nonce=\"n\", uri=\"sip:x\", "
		"response=\"00\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sip_auth_parse(&a, strv_cstr(bad[i])), 0);
		assert_int_equal(sip_digest_verify(f->d, T0 + 1, &a, STRV("REGISTER"),
						   STRV("example.com"),
						   strv_cstr(f->ha1[SIP_DIGEST_MD5])),
				 SIP_DIGEST_MALFORMED);
	}
	/* an HA1 of the other algorithm's length */
	c = good(f, SIP_DIGEST_SHA256, 1);
	make_auth(&c, buf, sizeof(buf), &a);
	assert_int_equal(sip_digest_verify(f->d, T0 + 1, &a, STRV("REGISTER"), STRV("example.com"),
					   strv_cstr(f->ha1[SIP_DIGEST_MD5])),
			 SIP_DIGEST_MALFORMED);
	/* the response truncated */
	a.response.len--;
	assert_int_equal(sip_digest_verify(f->d, T0 + 1, &a, STRV("REGISTER"), STRV("example.com"),
					   strv_cstr(f->ha1[SIP_DIGEST_SHA256])),
			 SIP_DIGEST_WRONG);
	/* another method than the one hashed */
	a.response.len++;
	assert_int_equal(sip_digest_verify(f->d, T0 + 1, &a, STRV("INVITE"), STRV("example.com"),
					   strv_cstr(f->ha1[SIP_DIGEST_SHA256])),
			 SIP_DIGEST_WRONG);
	assert_int_equal(sip_digest_verify(f->d, T0 + 1, &a, STRV("REGISTER"), STRV("example.com"),
					   strv_cstr(f->ha1[SIP_DIGEST_SHA256])),
			 SIP_DIGEST_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2617_vector),
		cmocka_unit_test(test_rfc7616_md5),
		cmocka_unit_test(test_rfc7616_sha256),
		cmocka_unit_test(test_alg_parse),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test_setup_teardown(test_nonce_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_ok_and_wrong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_malformed, setup, teardown),
		cmocka_unit_test(test_replay_eviction),
		cmocka_unit_test(test_shared_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
