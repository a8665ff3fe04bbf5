/* SPDX-License-Identifier: BSD-2-Clause */
#include "digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sbc/sip/hdr.h"

#define NONCE_RAW   32 /* time_ms[8] seq[8] mac[16] */
#define NONCE_MAC   16
#define SECRET_LEN  32
#define REPLAY_WAYS 4
#define NC_WINDOW   64

struct replay_entry {
	uint64_t time_ms; /* nonce time; 0 = empty (no nonce is issued at 0, see nonce_time) */
	uint64_t seq;
	uint64_t window; /* bit i: nc_max - i was seen */
	uint32_t nc_max;
};

struct sip_digest {
	uint32_t ttl_ms;
	uint32_t mask; /* buckets - 1 */
	uint64_t seq;
	uint64_t watermark; /* nonces at or below this time that have no entry may be replays */
	uint8_t secret[SECRET_LEN];
	size_t secret_len;
	struct replay_entry *tab; /* (mask + 1) * REPLAY_WAYS */
};

static const char hexdig[] = "0123456789abcdef";

/* --- hashing ------------------------------------------------------------- */

const char *sip_digest_alg_name(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_SHA256 ? "SHA-256" : "MD5";
}

int sip_digest_alg_parse(struct strv name, enum sip_digest_alg *alg)
{
	if (name.len == 0 || strv_caseeq(name, STRV("MD5")))
		*alg = SIP_DIGEST_MD5;
	else if (strv_caseeq(name, STRV("SHA-256")))
		*alg = SIP_DIGEST_SHA256;
	else
		return -ENOTSUP;
	return 0;
}

size_t sip_digest_hex_len(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_SHA256 ? 64 : 32;
}

static void to_hex(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly @p n bytes from 2n hex digits. */
static bool from_hex(struct strv s, uint8_t *out, size_t n)
{
	if (s.len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_val(s.p[2 * i]), lo = hex_val(s.p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* H(parts[0] ":" parts[1] ":" ...) in lowercase hex. */
static int hash_hex(enum sip_digest_alg alg, const struct strv *parts, unsigned n, char *out)
{
	const EVP_MD *md = alg == SIP_DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned hlen = 0;
	int rc = -ENOTSUP;

	if (!ctx)
		return -ENOMEM;
	if (!md || !EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	for (unsigned i = 0; i < n; i++) {
		if ((i && !EVP_DigestUpdate(ctx, ":", 1)) ||
		    (parts[i].len && !EVP_DigestUpdate(ctx, parts[i].p, parts[i].len)))
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, h, &hlen) || 2 * hlen != sip_digest_hex_len(alg))
		goto out;
	to_hex(h, hlen, out);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int sip_digest_ha1(enum sip_digest_alg alg, struct strv username, struct strv realm,
		   struct strv password, char *out)
{
	const struct strv parts[] = { username, realm, password };

	return hash_hex(alg, parts, 3, out);
}

int sip_digest_response(enum sip_digest_alg alg, struct strv ha1, struct strv method,
			struct strv uri, struct strv nonce, struct strv nc, struct strv cnonce,
			struct strv qop, char *out)
{
	char ha2[SIP_DIGEST_HEX_MAX];
	const struct strv a2[] = { method, uri };
	int rc = hash_hex(alg, a2, 2, ha2);

	if (rc)
		return rc;
	if (qop.len) {
		const struct strv kd[] = { ha1, nonce, nc, cnonce, qop, strv_cstr(ha2) };

		return hash_hex(alg, kd, 6, out);
	}
	const struct strv kd[] = { ha1, nonce, strv_cstr(ha2) };

	return hash_hex(alg, kd, 3, out);
}

/* --- nonces -------------------------------------------------------------- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int nonce_mac(const struct sip_digest *d, const uint8_t *head, struct strv realm,
		     uint8_t *mac)
{
	uint8_t buf[16 + 1024];
	uint8_t full[EVP_MAX_MD_SIZE];
	unsigned flen = 0;

	/* Realms are short (a domain name); a longer one is bound by its first 1 KiB. */
	size_t rlen = realm.len < 1024 ? realm.len : 1024;

	memcpy(buf, head, 16);
	if (rlen)
		memcpy(buf + 16, realm.p, rlen);
	if (!HMAC(EVP_sha256(), d->secret, (int)d->secret_len, buf, 16 + rlen, full, &flen) ||
	    flen < NONCE_MAC)
		return -ENOMEM;
	memcpy(mac, full, NONCE_MAC);
	return 0;
}

/* The clock may start at 0 (a fake clock); 0 marks an empty replay entry, so issue at >= 1. */
static uint64_t nonce_time(uint64_t now_ms)
{
	return now_ms ? now_ms : 1;
}

int sip_digest_nonce(struct sip_digest *d, uint64_t now_ms, struct strv realm, char *out)
{
	uint8_t raw[NONCE_RAW];
	int rc;

	put_be64(raw, nonce_time(now_ms));
	put_be64(raw + 8, ++d->seq);
	rc = nonce_mac(d, raw, realm, raw + 16);
	if (rc)
		return rc;
	to_hex(raw, NONCE_RAW, out);
	return 0;
}

/* Whether @p s may sit between quotes as it is. */
static bool quotable(struct strv s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

int sip_digest_challenge(char *out, size_t size, struct strv realm, struct strv nonce,
			 enum sip_digest_alg alg, bool stale)
{
	int n;

	if (!quotable(realm) || !quotable(nonce) || realm.len > 4096 || nonce.len > 4096)
		return -EINVAL;
	n = snprintf(out, size,
		     "Digest realm=\"%.*s\", nonce=\"%.*s\", algorithm=%s, qop=\"auth\"%s",
		     (int)realm.len, realm.p, (int)nonce.len, nonce.p, sip_digest_alg_name(alg),
		     stale ? ", stale=true" : "");
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}

/* --- replay table -------------------------------------------------------- */

static uint32_t replay_bucket(const struct sip_digest *d, uint64_t time_ms, uint64_t seq)
{
	uint64_t h = (time_ms * 0x9E3779B97F4A7C15ULL) ^ (seq * 0xC2B2AE3D27D4EB4FULL);

	h ^= h >> 29;
	return (uint32_t)(h & d->mask);
}

/* Accepts @p nc for an entry: true if it was not seen, and records it. */
static bool replay_window(struct replay_entry *e, uint32_t nc)
{
	if (nc > e->nc_max) {
		uint32_t shift = nc - e->nc_max;

		e->window = shift >= NC_WINDOW ? 1 : (e->window << shift) | 1;
		e->nc_max = nc;
		return true;
	}
	uint32_t back = e->nc_max - nc;

	if (back >= NC_WINDOW || (e->window >> back) & 1)
		return false;
	e->window |= 1ULL << back;
	return true;
}

/* Records nonce (time_ms, seq) used with @p nc. @return false for a replay. */
static bool replay_check(struct sip_digest *d, uint64_t now_ms, uint64_t time_ms, uint64_t seq,
			 uint32_t nc)
{
	struct replay_entry *b = &d->tab[(size_t)replay_bucket(d, time_ms, seq) * REPLAY_WAYS];
	struct replay_entry *victim = NULL;

	for (unsigned i = 0; i < REPLAY_WAYS; i++) {
		if (b[i].time_ms == time_ms && b[i].seq == seq)
			return replay_window(&b[i], nc);
	}
	/* Not seen, or seen and evicted: only the watermark can tell. */
	if (time_ms <= d->watermark)
		return false;
	for (unsigned i = 0; i < REPLAY_WAYS; i++) {
		struct replay_entry *e = &b[i];

		if (!e->time_ms || e->time_ms + d->ttl_ms <= now_ms) {
			victim = e; /* empty or expired: evicting it forgets nothing usable */
			break;
		}
		if (!victim || e->time_ms < victim->time_ms)
			victim = e;
	}
	if (victim->time_ms > d->watermark)
		d->watermark = victim->time_ms;
	*victim =
	    (struct replay_entry){ .time_ms = time_ms, .seq = seq, .window = 1, .nc_max = nc };
	return true;
}

/* --- verification -------------------------------------------------------- */

/* nc-value = 8LHEX, not zero. */
static bool parse_nc(struct strv s, uint32_t *nc)
{
	uint32_t v = 0;

	if (s.len != 8)
		return false;
	for (size_t i = 0; i < 8; i++) {
		int x = hex_val(s.p[i]);

		if (x < 0)
			return false;
		v = v << 4 | (uint32_t)x;
	}
	*nc = v;
	return v != 0;
}

/* Constant-time comparison of the client's hex response (any case) with ours (lowercase). */
static bool response_equal(struct strv theirs, const char *ours, size_t len)
{
	char low[SIP_DIGEST_HEX_MAX];

	if (theirs.len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = theirs.p[i];

		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return CRYPTO_memcmp(low, ours, len) == 0;
}

/* Whether the nonce is one of ours for @p realm; fills its time and sequence. */
static bool nonce_valid(const struct sip_digest *d, struct strv nonce, struct strv realm,
			uint64_t *time_ms, uint64_t *seq)
{
	uint8_t raw[NONCE_RAW], mac[NONCE_MAC];

	if (!from_hex(nonce, raw, NONCE_RAW) || nonce_mac(d, raw, realm, mac) ||
	    CRYPTO_memcmp(mac, raw + 16, NONCE_MAC) != 0)
		return false;
	*time_ms = get_be64(raw);
	*seq = get_be64(raw + 8);
	return true;
}

enum sip_digest_result sip_digest_verify(struct sip_digest *d, uint64_t now_ms,
					 const struct sip_auth *a, struct strv method,
					 struct strv realm, struct strv ha1)
{
	char expect[SIP_DIGEST_HEX_MAX];
	enum sip_digest_alg alg;
	uint64_t time_ms, seq;
	uint32_t nc = 1;

	if (!strv_caseeq(a->scheme, STRV("Digest")) || !a->username.len || !a->nonce.len ||
	    !a->uri.len || !a->response.len || !strv_eq(a->realm, realm) || a->userhash ||
	    sip_digest_alg_parse(a->algorithm, &alg) < 0 || ha1.len != sip_digest_hex_len(alg))
		return SIP_DIGEST_MALFORMED;
	if (a->qop.len) {
		if (!strv_caseeq(a->qop, STRV("auth")) || !parse_nc(a->nc, &nc) || !a->cnonce.len)
			return SIP_DIGEST_MALFORMED;
	}
	/* qop as the client sent it: that is what it hashed (RFC 7616 §3.4.1). */
	if (sip_digest_response(alg, ha1, method, a->uri, a->nonce, a->nc, a->cnonce, a->qop,
				expect) < 0)
		return SIP_DIGEST_MALFORMED;
	if (!response_equal(a->response, expect, sip_digest_hex_len(alg)))
		return SIP_DIGEST_WRONG;
	/* The credentials are right; now the nonce. */
	if (!nonce_valid(d, a->nonce, realm, &time_ms, &seq) || time_ms > now_ms ||
	    now_ms - time_ms >= d->ttl_ms)
		return SIP_DIGEST_STALE;
	if (!replay_check(d, now_ms, time_ms, seq, nc))
		return SIP_DIGEST_REPLAY;
	return SIP_DIGEST_OK;
}

/* --- life cycle ---------------------------------------------------------- */

int sip_digest_alloc(struct sip_digest **dp, const struct sip_digest_conf *conf)
{
	static const struct sip_digest_conf defaults = { 0 };
	struct sip_digest *d;
	uint32_t slots;
	size_t buckets = 1;

	if (!conf)
		conf = &defaults;
	if (conf->secret && !conf->secret_len)
		return -EINVAL;
	slots = conf->replay_slots ? conf->replay_slots : 4096;
	if (slots > (1u << 24))
		slots = 1u << 24;
	while (buckets * REPLAY_WAYS < slots)
		buckets <<= 1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->tab = calloc(buckets * REPLAY_WAYS, sizeof(*d->tab));
	if (!d->tab) {
		free(d);
		return -ENOMEM;
	}
	d->mask = (uint32_t)(buckets - 1);
	d->ttl_ms = conf->nonce_ttl_ms ? conf->nonce_ttl_ms : 300000;
	if (conf->secret) {
		/* A longer key is reduced to its SHA-256. */
		if (conf->secret_len > SECRET_LEN) {
			unsigned n = 0;

			if (!EVP_Digest(conf->secret, conf->secret_len, d->secret, &n, EVP_sha256(),
					NULL))
				goto fail;
			d->secret_len = n;
		} else {
			memcpy(d->secret, conf->secret, conf->secret_len);
			d->secret_len = conf->secret_len;
		}
	} else {
		if (RAND_bytes(d->secret, SECRET_LEN) != 1)
			goto fail;
		d->secret_len = SECRET_LEN;
	}
	/* A random start: nonces do not tell how many challenges were issued. */
	if (RAND_bytes((unsigned char *)&d->seq, sizeof(d->seq)) != 1)
		goto fail;
	*dp = d;
	return 0;
fail:
	sip_digest_free(d);
	return -ENOMEM;
}

void sip_digest_free(struct sip_digest *d)
{
	if (!d)
		return;
	OPENSSL_cleanse(d->secret, sizeof(d->secret));
	free(d->tab);
	free(d);
}
